// The GeoMap widget in Debian's chromium, mounted through mountStandalone with the real widget.js,
// browser wasm and basemap (widgets/src/huntglass/static, built by scripts/build.sh) on the data
// set Python's hg.GeoMap sends: located points (Paris twice, New York), a row known only by its
// country (Brazil: drawn at the country's centroid), a row with no place, and a hostile value in a
// tooltip column. Checks the basemap is drawn (land and ocean colours where the world has them),
// the points are there, hover details are text only, the wheel zooms, dragging pans, and a click
// and a Shift+drag box send the chosen rows to the model, and rows set on the model select the
// marks that hold them.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { OUT_DIR, ROOT, launchBrowser, requireFile, runPython, watchPage } from "./lib.mjs";

const STATIC = process.env.HUNTGLASS_STATIC_DIR ?? path.join(ROOT, "widgets/src/huntglass/static");
const HOSTILE = "<img src=x onerror=alert(1)>";
const ROOT_SEL = '[data-hg-widget="geo_map"]';
const LAND = [242, 239, 233];
const OCEAN = [221, 233, 243];

function prepare(dir) {
  runPython(
    `
import base64, json, sys
import pandas as pd
import huntglass as hg
from huntglass._html import STATE_KEYS

out, hostile = sys.argv[1], sys.argv[2]
df = pd.DataFrame({
    "Latitude": [48.8566, 48.8566, 40.7128, None, None],
    "Longitude": [2.3522, 2.3522, -74.006, None, None],
    "Country": [None, None, None, "BR", None],
    "Kind": ["c2", "c2", "scan", "phish", "c2"],
    "Note": [hostile, "second", "nyc", "brazil", "nowhere"],
})
widget = hg.GeoMap(df, lat="Latitude", lon="Longitude", country="Country", color="Kind", tooltip=["Note"], title="Egress", height=400)
data = widget._hg_data["points"]
state = {key: getattr(widget, key) for key in STATE_KEYS}
with open(f"{out}/page.json", "w") as f:
    json.dump({"state": state, "data": base64.b64encode(b"".join(bytes(c) for c in data.chunks)).decode()}, f)
`,
    [dir, HOSTILE],
  );
  return JSON.parse(readFileSync(path.join(dir, "page.json"), "utf8"));
}

describe("GeoMap in chromium", { timeout: 300_000 }, () => {
  let browser;
  let page;
  let seen;
  let expected;
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-geo-"));

  before(async () => {
    for (const file of ["widget.js", "hg_wasm_bg.wasm", "basemap.bin"]) requireFile(path.join(STATIC, file), `static/${file}`);
    expected = prepare(dir);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    seen = watchPage(page);
    await page.setContent('<!doctype html><html><body style="margin:0"><div id="host" style="width:1000px"></div></body></html>');
    const bundle = readFileSync(path.join(STATIC, "widget.js"), "utf8");
    const wasm = readFileSync(path.join(STATIC, "hg_wasm_bg.wasm")).toString("base64");
    const basemap = readFileSync(path.join(STATIC, "basemap.bin")).toString("base64");
    await page.evaluate(
      async ({ bundle, wasm, basemap, data, state }) => {
        window.__alerts = 0;
        window.alert = () => (window.__alerts += 1);
        const url = URL.createObjectURL(new Blob([bundle], { type: "text/javascript" }));
        const module = await import(url);
        // The Python state carries the hash of the built basemap; the host answers the request.
        const { model, cleanup } = await module.mountStandalone(document.getElementById("host"), { state, wasm, basemap, datasets: { points: data } });
        window.__model = model;
        window.__cleanup = cleanup;
      },
      { bundle, wasm, basemap, data: expected.data, state: expected.state },
    );
    await page.waitForFunction(
      (sel) => {
        const root = document.querySelector(sel);
        const state = root?.getAttribute("data-hg-state");
        if (state === "error") throw new Error(root.querySelector('[data-hg-role="error"]')?.textContent ?? "error");
        return state === "ready" && Number(root.getAttribute("data-hg-render-count") ?? 0) >= 1;
      },
      ROOT_SEL,
      { timeout: 120_000, polling: 200 },
    );
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const attr = (name) => page.getAttribute(ROOT_SEL, name);
  const view = async () => JSON.parse(await attr("data-hg-view"));
  const marks = async () => JSON.parse(await attr("data-hg-marks"));
  const canvasBox = () => page.$eval(`${ROOT_SEL} canvas`, (c) => {
    const r = c.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  });
  /** CSS position of a place in the current view (equirectangular, as hg_render geo projects). */
  const project = async (lon, lat) => {
    const v = await view();
    const box = await canvasBox();
    return { x: box.width / 2 + (lon - v.lon) * v.scale, y: box.height / 2 + (v.lat - lat) * v.scale };
  };
  const pixel = (x, y) =>
    page.$eval(`${ROOT_SEL} canvas`, (c, [x, y]) => {
      const dpr = c.width / c.getBoundingClientRect().width;
      return Array.from(c.getContext("2d").getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data.slice(0, 3));
    }, [x, y]);

  test("the basemap is drawn: land where the world has land, ocean elsewhere", async () => {
    assert.equal(await attr("data-hg-basemap"), "ready");
    assert.ok(Number(await attr("data-hg-countries")) > 200, await attr("data-hg-countries"));
    const spots = [
      [2, 27, LAND], // Algeria
      [-100, 40, LAND], // Kansas
      [100, 62, LAND], // Siberia
      [134, -25, LAND], // Australia
      [-25, -20, OCEAN], // South Atlantic
      [-145, 10, OCEAN], // Pacific (graticule lines are every 30 degrees)
      [-120, -16.3, OCEAN], // no line across the world from Fiji's cut at the antimeridian
      [-40, 69.2, LAND], // Greenland, on the latitude of Russia's cut
    ];
    for (const [lon, lat, colour] of spots) {
      const { x, y } = await project(lon, lat);
      assert.deepEqual(await pixel(x, y), colour, `${lon}, ${lat}`);
    }
    const attribution = await page.$eval(`${ROOT_SEL} [data-hg-role="attribution"]`, (n) => n.textContent);
    assert.match(attribution, /Natural Earth/);
  });

  test("points: one mark per place and colour, the country-only row at its centroid", async () => {
    assert.equal(await attr("data-hg-n-rows"), "5");
    assert.equal(await attr("data-hg-placed"), "4");
    assert.equal(await attr("data-hg-n-marks"), "3");
    const all = await marks();
    const rows = all.map((m) => m[3]).sort();
    assert.deepEqual(rows, [1, 1, 2]);
    for (const [x, y] of all) {
      const colour = await pixel(x, y);
      assert.notDeepEqual(colour, LAND);
      assert.notDeepEqual(colour, OCEAN);
    }
    const summary = await page.$eval(`${ROOT_SEL} [data-hg-role="summary"]`, (n) => n.textContent);
    assert.match(summary, /1 placed at a country centroid/);
    assert.match(summary, /1 without a location/);
    const legend = await page.$$eval(`${ROOT_SEL} [data-hg-role="legend-label"]`, (n) => n.map((x) => x.textContent));
    assert.deepEqual(legend, ["c2", "phish", "scan"]);
  });

  test("hover details are text only; the centroid placement is stated", async () => {
    const box = await canvasBox();
    const paris = (await marks()).find((m) => m[3] === 2);
    await page.mouse.move(box.left + paris[0], box.top + paris[1]);
    await page.waitForFunction((sel) => document.querySelector(`${sel} [data-hg-role="tooltip"]`)?.style.display === "block", ROOT_SEL, { timeout: 10_000 });
    const tip = await page.$eval(`${ROOT_SEL} [data-hg-role="tooltip"]`, (n) => n.textContent);
    assert.ok(tip.includes(HOSTILE), tip);
    assert.match(tip, /Rows: 2/);
    assert.equal(await page.$$eval(`${ROOT_SEL} img, ${ROOT_SEL} script`, (n) => n.length), 0);
    const brazil = await project(-53, -10);
    const centroid = (await marks()).reduce((best, m) => (Math.hypot(m[0] - brazil.x, m[1] - brazil.y) < Math.hypot(best[0] - brazil.x, best[1] - brazil.y) ? m : best));
    await page.mouse.move(box.left + centroid[0], box.top + centroid[1]);
    await page.waitForFunction((sel) => /centroid of Brazil/.test(document.querySelector(`${sel} [data-hg-role="tooltip"]`)?.textContent ?? ""), ROOT_SEL, { timeout: 10_000 });
    // Over land without a point: the country's name.
    const canada = await project(-105, 58);
    await page.mouse.move(box.left + canada.x, box.top + canada.y);
    await page.waitForFunction((sel) => /Country: Canada/.test(document.querySelector(`${sel} [data-hg-role="tooltip"]`)?.textContent ?? ""), ROOT_SEL, { timeout: 10_000 });
    assert.equal(await page.evaluate(() => window.__alerts), 0);
    assert.deepEqual(seen.dialogs, []);
  });

  test("a click selects a point's rows; Shift+drag adds a box; the model hears it", async () => {
    const box = await canvasBox();
    const paris = (await marks()).find((m) => m[3] === 2);
    await page.mouse.click(box.left + paris[0], box.top + paris[1]);
    await page.waitForFunction(() => JSON.stringify(window.__model.get("selection")) === JSON.stringify({ points: [0, 1] }), null, { timeout: 10_000 });
    assert.equal(await attr("data-hg-selected-count"), "2");
    const nyc = await project(-74.006, 40.7128);
    await page.keyboard.down("Shift");
    await page.mouse.move(box.left + nyc.x - 15, box.top + nyc.y - 15);
    await page.mouse.down();
    await page.mouse.move(box.left + nyc.x + 5, box.top + nyc.y + 5, { steps: 4 });
    await page.mouse.move(box.left + nyc.x + 15, box.top + nyc.y + 15, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up("Shift");
    await page.waitForFunction(() => JSON.stringify(window.__model.get("selection")) === JSON.stringify({ points: [0, 1, 2] }), null, { timeout: 10_000 });
    await page.click(`${ROOT_SEL} [data-hg-tool="clear"]`);
    await page.waitForFunction(() => JSON.stringify(window.__model.get("selection")) === JSON.stringify({ points: [] }), null, { timeout: 10_000 });
    // Rows chosen in Python select the marks that hold them: row 1 is one of Paris's two rows.
    await page.evaluate(() => window.__model.set("selection", { points: [1] }));
    await page.waitForFunction((sel) => document.querySelector(sel).getAttribute("data-hg-selected-count") === "2", ROOT_SEL, { timeout: 10_000 });
    await page.evaluate(() => window.__model.set("selection", { points: [] }));
    await page.waitForFunction((sel) => document.querySelector(sel).getAttribute("data-hg-selected-count") === "0", ROOT_SEL, { timeout: 10_000 });
  });

  test("the wheel zooms at the pointer, dragging pans, Reset shows the world", async () => {
    const box = await canvasBox();
    const before = await view();
    const paris = await project(2.3522, 48.8566);
    await page.mouse.move(box.left + paris.x, box.top + paris.y);
    await page.mouse.wheel(0, -600);
    await page.waitForFunction((sel) => JSON.parse(document.querySelector(sel).getAttribute("data-hg-view")).zoom > 2, ROOT_SEL, { timeout: 10_000 });
    const zoomed = await view();
    assert.ok(zoomed.zoom > before.zoom * 2, JSON.stringify(zoomed));
    // The place under the pointer stays put.
    const still = await project(2.3522, 48.8566);
    assert.ok(Math.abs(still.x - paris.x) < 1.5 && Math.abs(still.y - paris.y) < 1.5, JSON.stringify(still));
    await page.mouse.move(box.left + 300, box.top + 200);
    await page.mouse.down();
    await page.mouse.move(box.left + 400, box.top + 200, { steps: 5 });
    await page.mouse.up();
    const panned = await view();
    assert.ok(panned.lon < zoomed.lon - 1e-6, `${panned.lon} vs ${zoomed.lon}`);
    await page.waitForFunction(() => (window.__model.get("view_range") ?? []).length === 3, null, { timeout: 10_000 });
    await page.click(`${ROOT_SEL} [data-hg-tool="reset"]`);
    await page.waitForFunction((sel) => Math.abs(JSON.parse(document.querySelector(sel).getAttribute("data-hg-view")).zoom - 1) < 1e-9, ROOT_SEL, { timeout: 10_000 });
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUT_DIR, "geo_map.png") });
    assert.deepEqual(seen.pageErrors, []);
  });

  test("theme follows the traitlet; cleanup removes the widget", async () => {
    await page.evaluate(() => window.__model.set("theme", "dark"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute("data-hg-theme") === "dark", ROOT_SEL, { timeout: 10_000 });
    const { x, y } = await project(-25, -20);
    const dark = await pixel(x, y);
    assert.ok(dark[0] < 60 && dark[2] < 80, `dark ocean ${dark}`);
    await page.evaluate(() => window.__cleanup());
    assert.equal(await page.$(ROOT_SEL), null);
  });
});
