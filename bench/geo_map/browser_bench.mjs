// GeoMap in Debian's chromium: mounts the real widget.js, browser wasm and basemap on a points data
// set written by bench.py (Arrow IPC, the bytes Python's hg.GeoMap sends) and reports, per run,
// the time from data received to first paint (chart build from the Arrow table, placement and
// grouping into marks, the basemap's fill and outlines and every mark), the render time of wheel
// zoom steps, and the page's JS heap. Usage: node browser_bench.mjs STATE.json DATA.arrow RUNS
// (STATE.json: the widget state). Prints one JSON line.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "../../tests/e2e/lib.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const STATIC = process.env.HUNTGLASS_STATIC_DIR ?? path.join(ROOT, "widgets/src/huntglass/static");
const [stateFile, dataFile, runsText] = process.argv.slice(2);
const runs = Number(runsText ?? 3);
const state = JSON.parse(readFileSync(stateFile, "utf8"));
const data = readFileSync(dataFile).toString("base64");
const bundle = readFileSync(path.join(STATIC, "widget.js"), "utf8");
const wasm = readFileSync(path.join(STATIC, "hg_wasm_bg.wasm")).toString("base64");
const basemap = readFileSync(path.join(STATIC, "basemap.bin")).toString("base64");

const browser = await launchBrowser();
const firstPaint = [];
const zoomRender = [];
let heap = 0;
try {
  for (let run = 0; run < runs; run++) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.setContent('<!doctype html><html><body style="margin:0"><div id="host" style="width:1000px"></div></body></html>');
    await page.evaluate(
      async ({ bundle, wasm, basemap, data, state }) => {
        const url = URL.createObjectURL(new Blob([bundle], { type: "text/javascript" }));
        const module = await import(url);
        await module.mountStandalone(document.getElementById("host"), { state, wasm, basemap, datasets: { points: data } });
      },
      { bundle, wasm, basemap, data, state },
    );
    const sel = '[data-hg-widget="geo_map"]';
    await page.waitForFunction(
      (s) => {
        const root = document.querySelector(s);
        if (root?.getAttribute("data-hg-state") === "error") throw new Error(root.textContent ?? "error");
        return Number(root?.getAttribute("data-hg-render-count") ?? 0) >= 1;
      },
      sel,
      { timeout: 300_000, polling: 50 },
    );
    firstPaint.push(Number(await page.getAttribute(sel, "data-hg-first-paint-ms")));
    const box = await page.$eval(`${sel} canvas`, (c) => {
      const r = c.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    await page.mouse.move(box.x, box.y);
    for (let step = 0; step < 5; step++) {
      const before = Number(await page.getAttribute(sel, "data-hg-render-count"));
      await page.mouse.wheel(0, -200);
      await page.waitForFunction((args) => Number(document.querySelector(args.sel).getAttribute("data-hg-render-count")) > args.before, { sel, before }, { timeout: 60_000, polling: 20 });
      zoomRender.push(Number(await page.getAttribute(sel, "data-hg-last-render-ms")));
    }
    heap = Math.max(heap, await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0));
    await page.close();
  }
} finally {
  await browser.close();
}
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ first_paint_ms: { best: sorted(firstPaint)[0], median: median(firstPaint) }, zoom_render_ms: { best: sorted(zoomRender)[0], median: median(zoomRender) }, heap_bytes: heap }));
