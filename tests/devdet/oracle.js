// oracle.js — the node-device-detector side of the oracle suite: for each
// line "USER-AGENT\tBRAND\tMODEL\tTYPE" of the file netintel wrote
// (check.c), asks node-device-detector 2.2.7 itself
// (DeviceDetector#parseDevice, the device database's answer, default
// options) and compares brand, model and type.  Passes when at least
// MIN_AGREE (default 0.99) of the lines agree on all three.
//   node oracle.js PACKAGE_DIR NETINTEL.tsv     prints "devdet-oracle: N passed, N failed"
'use strict';
const fs = require('fs');
const [pkg, file] = process.argv.slice(2);
const min = Number(process.env.MIN_AGREE || '0.99');
let DeviceDetector;
try { DeviceDetector = require(pkg); } catch (e) {
  console.log(`devdet-oracle: ${pkg}: ${e.message.split('\n')[0]}`);
  console.log('devdet-oracle: 0 passed, 1 failed');
  process.exit(1);
}
const detector = new DeviceDetector();
const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length);
let agree = 0, shown = 0;
for (const line of lines) {
  const [ua, brand, model, type] = line.split('\t');
  const r = detector.parseDevice(ua, {});
  if (r.brand === brand && r.model === model && r.type === type) { agree++; continue; }
  if (shown++ < 5) {
    console.log(`  differs: ${ua}`);
    console.log(`      netintel ${JSON.stringify([brand, model, type])}, node-device-detector ${JSON.stringify([r.brand, r.model, r.type])}`);
  }
}
const share = lines.length ? agree / lines.length : 0;
console.log(`maker, model and type agree on ${agree} of ${lines.length} User-Agents (${(100 * share).toFixed(2)}%, needed ${(100 * min).toFixed(0)}%)`);
const ok = lines.length > 0 && share >= min;
console.log(`devdet-oracle: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
process.exit(ok ? 0 : 1);
