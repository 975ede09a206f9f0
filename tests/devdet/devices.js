// devices.js — data/devices.tsv rows whose "checked" column cites
// node-device-detector's device-info are checked again here: the code (a
// pattern's stem plus the first of a few common suffixes device-detector
// recognises) goes through node-device-detector 2.2.7 (parseDevice, then
// InfoDevice.info for that brand and code or model); the release it gives
// must be the one the row cites, and the row's retail date must agree with
// it (same year; when it gives a month, 0-3 months after it or the same
// year).  Rows citing a web page are counted, not fetched.
//   node devices.js PACKAGE_DIR devices.tsv     prints "devdet-devices: N passed, N failed"
'use strict';
const fs = require('fs');
const path = require('path');
const [pkg, tsv] = process.argv.slice(2);
let DeviceDetector, InfoDevice;
try {
  DeviceDetector = require(pkg);
  InfoDevice = require(path.join(pkg, 'parser/device/info-device'));
} catch (e) {
  console.log(`devdet-devices: ${pkg}: ${e.message.split('\n')[0]}`);
  console.log('devdet-devices: 0 passed, 1 failed');
  process.exit(1);
}
const detector = new DeviceDetector();
const info = new InfoDevice();
const suffixes = ['', 'F', 'B', 'U', 'N', '0', 'E', 'G', 'L29', 'LX9', 'AL00', 'NX9', 'L09', 'AN00', 'W', 'X', '1'];
let cols = null, rows = 0, cited = 0, pages = 0, bad = 0;
for (const line of fs.readFileSync(tsv, 'utf8').split('\n')) {
  if (!line || line[0] === '#') continue;
  const f = line.split('\t');
  if (!cols) { cols = f; continue; }
  const r = Object.fromEntries(cols.map((c, i) => [c, f[i] || '']));
  rows++;
  if (!r.checked.startsWith('node-device-detector')) { if (/https?:\/\//.test(r.checked)) pages++; else bad++; continue; }
  cited++;
  const want = (/RE=([0-9.]+)/.exec(r.checked) || [])[1];
  const stem = r.model.replace(/\*$/, '');
  let got = null;
  for (const suf of r.model.endsWith('*') ? suffixes : ['']) {
    const code = stem + suf;
    const ua = /^iP(hone|ad)/.test(code)
      ? `Mozilla/5.0 (${code.startsWith('iPad') ? 'iPad' : 'iPhone'}; CPU OS 16_0 like Mac OS X) model/${code}`
      : `Mozilla/5.0 (Linux; Android 12; ${code} Build/SP1A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.5481.153 Mobile Safari/537.36`;
    const d = detector.parseDevice(ua, {});
    if (!d.brand) continue;
    const i = info.info(d.brand, code) || info.info(d.brand, d.model);
    if (i && i.release) { got = String(i.release); break; }
  }
  let ok = got !== null && got === want;
  if (ok) {
    const [y, m] = got.split('.');
    const [ry, rm] = r.release.split('-');
    const diff = (Number(ry) * 12 + Number(rm)) - (Number(y) * 12 + Number(m || rm));
    ok = y === ry || (m !== undefined && diff >= 0 && diff <= 3);
  }
  if (!ok) { bad++; console.log(`  ${r.maker} ${r.model} ${r.release}: cites RE=${want}, device-info gives ${got}`); }
}
console.log(`devices.tsv: ${rows} rows, ${cited} checked against device-info (confirmed again), ${pages} against a page`);
console.log(`devdet-devices: ${bad ? 0 : 1} passed, ${bad ? 1 : 0} failed`);
process.exit(bad ? 1 : 0);
