// agents.js — data/ua-agents.tsv "kind" rows whose source says
// "node-device-detector 2.2.7 regexes/client/FILE names it (e.g. UA)" are
// checked: node-device-detector 2.2.7 (detect, default options) names a
// client for UA, of type "library" when FILE is libraries.js.
//   node agents.js PACKAGE_DIR ua-agents.tsv     prints "devdet-agents: N passed, N failed"
'use strict';
const fs = require('fs');
const [pkg, tsv] = process.argv.slice(2);
let DeviceDetector;
try { DeviceDetector = require(pkg); } catch (e) {
  console.log(`devdet-agents: ${pkg}: ${e.message.split('\n')[0]}`);
  console.log('devdet-agents: 0 passed, 1 failed');
  process.exit(1);
}
const detector = new DeviceDetector();
let n = 0, bad = 0;
for (const line of fs.readFileSync(tsv, 'utf8').split('\n')) {
  if (!line || line[0] === '#') continue;
  const f = line.split('\t');
  const m = /regexes\/client\/(\w+)\.js names it \(e\.g\. (.*)\)$/.exec(f[3] || '');
  if (f[0] !== 'kind' || !m) continue;
  n++;
  const c = detector.detect(m[2]).client || {};
  const ok = !!c.name && (m[1] !== 'libraries' || c.type === 'library');
  if (!ok) { bad++; console.log(`  ${f[2]}: ${JSON.stringify(m[2])} gives ${JSON.stringify([c.type, c.name])}`); }
}
console.log(`ua-agents.tsv: ${n} kind rows checked against node-device-detector's client lists`);
const ok = n > 0 && bad === 0;
console.log(`devdet-agents: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
process.exit(ok ? 0 : 1);
