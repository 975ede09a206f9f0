// browser.js — the real-browser check of a netintel report (tests/report/run).
// Loads report.html in headless Chromium through the DevTools protocol
// (playwright-core, the system's /usr/bin/chromium, a fresh profile) at a
// phone width (390 px) and a desktop width (1280 px), with JavaScript on and
// off and in print media, and asserts: no console errors or page errors, no
// request but the document itself, every figure id present and visible with
// a non-zero size, no sideways scrolling of the page, chart text large enough
// to read, and full-page screenshots that are not blank.  Then it compares
// the page's sections, captions and tables (read from the DOM) with
// report.md, and a few figures with report.json.
// Prints one "ok - ..." or "FAIL - ..." line per check.
//   node browser.js REPORT.html REPORT.md REPORT.json SHOT_DIR
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");

const here = path.resolve(__dirname, "../..");
const { chromium } = require(path.join(here, "data/ext/node_modules/playwright-core"));

const FIGURES = ["fig-hour", "fig-weekday", "fig-heatmap", "fig-categories", "fig-services", "fig-makers",
  "fig-form-factor", "fig-models", "fig-os", "fig-windows", "fig-browsers", "fig-outdated", "fig-vpn", "fig-sslvpn",
  "fig-sites", "fig-regions", "fig-hosts", "fig-dns-tunnels", "fig-host-providers"];
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let failed = 0;
function check(ok, name, why) {
  if (ok) console.log("ok - " + name);
  else { failed++; console.log("FAIL - " + name + (why ? ": " + why : "")); }
}

// ---- PNG: distinct colours and share of non-white pixels (8-bit RGB/RGBA, non-interlaced)
function pngStats(file) {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG");
  let off = 8, w = 0, h = 0, depth = 0, type = 0, inter = 0;
  const idat = [];
  while (off < b.length) {
    const len = b.readUInt32BE(off), kind = b.toString("ascii", off + 4, off + 8), data = b.subarray(off + 8, off + 8 + len);
    if (kind === "IHDR") { w = data.readUInt32BE(0); h = data.readUInt32BE(4); depth = data[8]; type = data[9]; inter = data[12]; }
    else if (kind === "IDAT") idat.push(data);
    else if (kind === "IEND") break;
    off += 12 + len;
  }
  if (depth !== 8 || (type !== 2 && type !== 6) || inter) throw new Error(`unsupported PNG (depth ${depth}, type ${type})`);
  const bpp = type === 6 ? 4 : 3, stride = w * bpp, raw = zlib.inflateSync(Buffer.concat(idat));
  const cur = Buffer.alloc(stride), prev = Buffer.alloc(stride);
  const colours = new Set();
  let nonWhite = 0;
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {   // PNG filters (ISO/IEC 15948 section 9)
      const a = i >= bpp ? cur[i - bpp] : 0, up = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      let v = line[i];
      if (f === 1) v += a; else if (f === 2) v += up; else if (f === 3) v += (a + up) >> 1;
      else if (f === 4) { const p = a + up - c, pa = Math.abs(p - a), pb = Math.abs(p - up), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? up : c; }
      cur[i] = v & 255;
    }
    for (let x = 0; x < w; x++) {
      const r = cur[x * bpp], g = cur[x * bpp + 1], bl = cur[x * bpp + 2];
      colours.add((r << 16) | (g << 8) | bl);
      if (r < 245 || g < 245 || bl < 245) nonWhite++;
    }
    cur.copy(prev);
  }
  return { width: w, height: h, colours: colours.size, nonWhite: nonWhite / (w * h) };
}

// ---- Markdown: sections, captions, tables, findings
function unescapeMd(s) { return s.replace(/\\(.)/g, "$1").trim(); }
function splitRow(line) {
  const cells = []; let cur = "";
  for (let i = 1; i < line.length; i++) {   // skip the leading "|"
    if (line[i] === "\\" && i + 1 < line.length) { cur += line[i] + line[i + 1]; i++; continue; }
    if (line[i] === "|") { cells.push(unescapeMd(cur)); cur = ""; continue; }
    cur += line[i];
  }
  return cells;
}
function parseMarkdown(md) {
  const lines = md.split("\n"), out = { h2: [], captions: [], tables: [], findings: 0 };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith("## ")) out.h2.push(unescapeMd(l.slice(3)));
    else if (/^\*Figure \d+\./.test(l)) out.captions.push(unescapeMd(l.slice(1, -1)));
    else if (/^\d+\. \*\*/.test(l)) out.findings++;
    else if (l.startsWith("|") && (lines[i + 1] || "").startsWith("|---")) {
      const t = { head: splitRow(l), rows: [] };
      for (i += 2; i < lines.length && lines[i].startsWith("|"); i++) t.rows.push(splitRow(lines[i]));
      i--;
      out.tables.push(t);
    }
  }
  return out;
}

async function main() {
  const [html, mdFile, jsonFile, shots] = process.argv.slice(2);
  const url = "file://" + path.resolve(html);
  const report = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ni-report-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args: FLAGS,
    viewport: { width: 1280, height: 900 } });
  try {
    for (const [label, width, js, media] of [["phone", 390, true, "screen"], ["desktop", 1280, true, "screen"],
                                              ["desktop-nojs", 1280, false, "screen"], ["print", 720, true, "print"]]) {
      let page = await ctx.newPage();
      let c = ctx;
      if (!js) {   // a separate context with JavaScript disabled (same fresh profile directory kind)
        c = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args: FLAGS });
        await page.close();
        page = await (await c.newContext({ javaScriptEnabled: false, viewport: { width, height: 900 } })).newPage();
      }
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ media });
      const errors = [], requests = [];
      page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });
      page.on("pageerror", e => errors.push(String(e)));
      page.on("request", r => { if (r.url() !== url) requests.push(r.url()); });
      const resp = await page.goto(url, { waitUntil: "load" });
      check(resp === null || resp.ok() || resp.status() === 0, `${label}: page loads`);
      check(errors.length === 0, `${label}: no console errors`, errors.join(" | "));
      check(requests.length === 0, `${label}: no network requests`, requests.join(" "));
      const figs = await page.evaluate(ids => ids.map(id => {
        const e = document.getElementById(id);
        if (!e) return { id, present: false };
        const r = e.getBoundingClientRect(), st = getComputedStyle(e);
        const svg = e.querySelector("svg"), tbl = e.querySelector("table");
        const sr = svg ? svg.getBoundingClientRect() : null, tr = tbl ? tbl.getBoundingClientRect() : null;
        return { id, present: true, w: r.width, h: r.height, vis: st.visibility, disp: st.display,
                 content: (sr && sr.width > 0 && sr.height > 0) || (tr && tr.width > 0 && tr.height > 0) };
      }), FIGURES);
      for (const f of figs)
        check(f.present && f.w > 0 && f.h > 0 && f.vis === "visible" && f.disp !== "none" && f.content,
              `${label}: ${f.id} present and visible`, JSON.stringify(f));
      const layout = await page.evaluate(() => {
        let minFont = 1e9, where = "";
        for (const t of document.querySelectorAll("svg.chart text")) {
          const h = t.getBoundingClientRect().height;
          const svg = t.ownerSVGElement, scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
          const px = parseFloat(t.getAttribute("font-size") || "12") * scale;
          if (h > 0 && px < minFont) { minFont = px; where = t.textContent; }
        }
        return { scrollW: document.documentElement.scrollWidth, innerW: window.innerWidth, minFont, where,
                 scripts: document.scripts.length };
      });
      check(layout.scrollW <= layout.innerW + 1, `${label}: page does not scroll sideways`,
            `${layout.scrollW} > ${layout.innerW}`);
      if (media === "screen")
        check(layout.minFont >= (width < 600 ? 8 : 10), `${label}: chart text at least ${width < 600 ? 8 : 10} px`,
              `${layout.minFont.toFixed(1)} px ("${layout.where}")`);
      if (label === "desktop") check(layout.scripts === 0, "no script elements");
      if (js && media === "screen") {
        const shot = path.join(shots, `report-${width}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        const st = pngStats(shot);
        check(st.width === width && st.height > 2000 && st.colours >= 40 && st.nonWhite > 0.03,
              `${label}: screenshot not blank`, JSON.stringify(st));
      }
      if (label === "desktop") {
        // the page against report.md: same sections, captions, tables, findings
        const dom = await page.evaluate(() => ({
          h2: [...document.querySelectorAll("h2")].map(e => e.textContent.trim()),
          captions: [...document.querySelectorAll("figcaption")].map(e => e.textContent.trim()),
          findings: document.querySelectorAll("ol.findings > li").length,
          tables: [...document.querySelectorAll("table")].map(t => ({
            head: [...t.querySelectorAll("thead th")].map(e => e.textContent.trim()),
            rows: [...t.querySelectorAll("tbody tr")].map(r => [...r.cells].map(e => e.textContent.trim())) })),
          figText: Object.fromEntries([...document.querySelectorAll("figure")].map(f => [f.id, {
            caption: f.querySelector("figcaption").textContent,
            rects: f.querySelectorAll("svg rect").length, lines: f.querySelectorAll("svg polyline").length,
            changes: f.querySelectorAll("svg line.change").length }])) }));
        const md = parseMarkdown(fs.readFileSync(mdFile, "utf8"));
        check(JSON.stringify(dom.h2) === JSON.stringify(md.h2) && dom.h2.length >= 9, "markdown: same sections",
              JSON.stringify([dom.h2, md.h2]));
        check(JSON.stringify(dom.captions) === JSON.stringify(md.captions) && dom.captions.length === FIGURES.length,
              "markdown: same figure captions", `${dom.captions.length} vs ${md.captions.length}`);
        check(dom.tables.length === md.tables.length && dom.tables.length > FIGURES.length,
              "markdown: same number of tables", `${dom.tables.length} vs ${md.tables.length}`);
        let diff = "";
        for (let i = 0; i < Math.min(dom.tables.length, md.tables.length) && !diff; i++)
          if (JSON.stringify(dom.tables[i]) !== JSON.stringify(md.tables[i]))
            diff = `table ${i + 1}: ${JSON.stringify(dom.tables[i]).slice(0, 200)} vs ${JSON.stringify(md.tables[i]).slice(0, 200)}`;
        check(!diff, "markdown: every table has the same headings and cells", diff);
        check(dom.findings === md.findings && dom.findings === report.findings.length, "markdown: same findings",
              `${dom.findings} / ${md.findings} / ${report.findings.length}`);
        // the page against report.json (counts taken from the JSON, not written here)
        const fmt = n => n.toLocaleString("en-US");
        const f = dom.figText, bars = a => Math.min(15, a.length);
        check(f["fig-hour"].caption.includes(`n = ${fmt(report.activity.sample)} sessions`), "json: hour figure's n");
        check(f["fig-hour"].rects === 24 && f["fig-weekday"].rects === 7, "json: 24 hour bars, 7 weekday bars");
        check(f["fig-heatmap"].rects === 7 * 24 + 5, "json: 168 heatmap cells (+5 legend swatches)");
        check(f["fig-services"].rects === bars(report.services) && f["fig-makers"].rects === bars(report.devices.makers) &&
              f["fig-os"].rects === bars(report.os) && f["fig-windows"].rects === bars(report.windows_versions) &&
              f["fig-vpn"].rects === bars(report.vpn.by_service) && f["fig-sites"].rects === bars(report.inbound.sites),
              "json: one bar per service, maker, OS, Windows version, provider, site");
        const regions = new Set(report.inbound.by_region_month.map(o => o.region));
        check(f["fig-regions"].lines === regions.size && f["fig-regions"].changes === report.inbound.changes.length,
              "json: one line per continent, one mark per detected change",
              `${f["fig-regions"].lines}/${regions.size}, ${f["fig-regions"].changes}/${report.inbound.changes.length}`);
        const overview = dom.tables[0].rows[0], ohead = dom.tables[0].head;
        check(overview[0] === fmt(report.totals.sessions) && overview[ohead.indexOf("target hosts")] === fmt(report.totals.hosts) &&
              overview[ohead.indexOf("transit")] === fmt(report.totals.transit),
              "json: overview sessions and hosts", overview.join(" "));
        const svcRows = dom.tables.find(t => t.head[0] === "service");
        check(svcRows && svcRows.rows.length === Math.min(50, report.services.length) &&
              svcRows.rows.every((r, i) => r[0] === report.services[i].service && r[2] === fmt(report.services[i].hosts)),
              "json: services table rows in order with hosts");
      }
      if (!js) await c.close(); else await page.close();
    }
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch(e => { failed++; console.log("FAIL - browser run: " + String(e.message || e).split("\n")[0]); })
  .finally(() => process.exit(failed ? 1 : 0));
