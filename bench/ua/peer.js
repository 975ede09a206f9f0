// peer.js — ua-parser-js (npm, installed by bench/ua/run into
// bench/work/ua) on the same User-Agents as bench_ua.c: every UA once
// (distinct), then a 1,000-UA working set parsed 2,000,000 times (repeated;
// ua-parser-js has no cache, so this is the same work again).
//   node peer.js UAS.txt MODULE_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const [, , file, moddir] = process.argv;
const UAParser = require(path.join(moddir, 'ua-parser-js'));
const uas = fs.readFileSync(file, 'utf8').split('\n').filter((s) => s.length);
let sink = 0;
const parser = new UAParser();
function parse(s) { parser.setUA(s); const r = parser.getResult(); return (r.browser.name || '').length; }
for (let i = 0; i < Math.min(uas.length, 2000); i++) sink += parse(uas[i]); // JIT warm-up
let t0 = process.hrtime.bigint();
for (const s of uas) sink += parse(s);
const td = Number(process.hrtime.bigint() - t0) / 1e9;
const ws = Math.min(uas.length, 1000), reps = 2000000;
t0 = process.hrtime.bigint();
for (let i = 0; i < reps; i++) sink += parse(uas[(i * 7919) % ws]);
const tr = Number(process.hrtime.bigint() - t0) / 1e9;
const v = require(path.join(moddir, 'ua-parser-js', 'package.json')).version;
console.log(`ua-parser-js ${v} (node ${process.version}):`);
console.log(`  distinct UAs                    ${String(uas.length).padStart(7)} UAs  ${(uas.length / td).toFixed(0).padStart(10)} UA/s`);
console.log(`  repeated UAs (1000)             ${String(reps).padStart(7)} UAs  ${(reps / tr).toFixed(0).padStart(10)} UA/s`);
process.stderr.write(`(checksum ${sink})\n`);
