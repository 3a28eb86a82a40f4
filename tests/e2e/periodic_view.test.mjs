// The PeriodicConnections widget in Debian's chromium, mounted through mountStandalone with the
// real widget.js and browser wasm (widgets/src/huntglass/static, built by scripts/build.sh) on
// what Python's hg.PeriodicConnections sends: (1) the built-in scenario's proxy log, where the C2
// beacon (198.51.100.23, every 300 s) must be ranked first with its period, every pair must have
// a drawn timeline, and clicking another pair must select it and send its events back as the
// selection; (2) key values that look like HTML, which must stay text.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { OUT_DIR, ROOT, launchBrowser, requireFile, runPython, watchPage } from "./lib.mjs";

const STATIC = path.join(ROOT, "widgets/src/huntglass/static");
const ROOT_SEL = '[data-hg-widget="periodic"]';

function prepare(dir) {
  runPython(
    `
import base64, json, sys
import pandas as pd
import huntglass as hg
from huntglass._html import STATE_KEYS

out = sys.argv[1]
proxy = hg.demo.load("CommonSecurityLog")
demo = hg.PeriodicConnections(proxy, "TimeGenerated", ["SourceIP", "DestinationIP"], top=8)
times = pd.date_range("2026-01-01", periods=40, freq="60s", tz="UTC")
hostile = pd.DataFrame({
    "TimeGenerated": times,
    "Src": "<img src=x onerror=alert(1)>",
    "Dst": "<b>bold</b>",
})
evil = hg.PeriodicConnections(hostile, groupby=["Src", "Dst"])
def page(w):
    data = w._hg_data["events"]
    return {"state": {key: getattr(w, key) for key in STATE_KEYS},
            "data": base64.b64encode(b"".join(bytes(c) for c in data.chunks)).decode(),
            "pairs": json.loads(w.pairs.to_json(orient="records")),
            "ranks": w.events["rank"].tolist()}
with open(f"{out}/page.json", "w") as f:
    json.dump({"demo": page(demo), "evil": page(evil)}, f)
`,
    [dir],
  );
  return JSON.parse(readFileSync(path.join(dir, "page.json"), "utf8"));
}

async function mount(page, bundle, wasm, one) {
  await page.setContent('<!doctype html><html><body><div id="host" style="width:1100px"></div></body></html>');
  await page.evaluate(
    async ({ bundle, wasm, data, state }) => {
      const url = URL.createObjectURL(new Blob([bundle], { type: "text/javascript" }));
      const module = await import(url);
      const { model } = await module.mountStandalone(document.getElementById("host"), { state, wasm, datasets: { events: data } });
      window.__model = model;
    },
    { bundle, wasm, data: one.data, state: one.state },
  );
  await page.waitForFunction(
    (sel) => {
      const root = document.querySelector(sel);
      const state = root?.getAttribute("data-hg-state");
      if (state === "error") throw new Error(root.querySelector('[data-hg-role="error"]')?.textContent ?? "error");
      return state === "ready";
    },
    ROOT_SEL,
    { timeout: 120_000, polling: 200 },
  );
}

/** Coloured (non-background) pixels of each canvas of a role. */
const inkOf = (page, role) =>
  page.$$eval(`[data-hg-role="${role}"]`, (canvases) =>
    canvases.map((c) => {
      const img = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let i = 0; i < img.length; i += 4) if (Math.abs(img[i] - img[i + 2]) > 60) ink++;
      return ink;
    }),
  );

describe("PeriodicConnections in chromium", { timeout: 600_000 }, () => {
  let browser;
  let page;
  let seen;
  let expected;
  let bundle;
  let wasm;
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-periodic-"));

  before(async () => {
    for (const file of ["widget.js", "hg_wasm_bg.wasm"]) requireFile(path.join(STATIC, file), `static/${file}`);
    expected = prepare(dir);
    bundle = readFileSync(path.join(STATIC, "widget.js"), "utf8");
    wasm = readFileSync(path.join(STATIC, "hg_wasm_bg.wasm")).toString("base64");
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    seen = watchPage(page);
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the beacon ranks first with its period; a click selects a pair", async () => {
    await mount(page, bundle, wasm, expected.demo);
    const root = await page.$(ROOT_SEL);
    assert.equal(await root.getAttribute("data-hg-n-pairs"), "8");
    const pairs = await page.$$eval('[data-hg-role="pair"]', (els) =>
      els.map((e) => ({ rank: Number(e.getAttribute("data-hg-rank")), interval: Number(e.getAttribute("data-hg-interval")), text: e.textContent })),
    );
    assert.equal(pairs.length, 8);
    assert.deepEqual(
      pairs.map((p) => p.rank),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.match(pairs[0].text, /^1\. 10\.20\.1\.104 → 198\.51\.100\.23 {2}every 300\.0 s/);
    assert.ok(Math.abs(pairs[0].interval - 300) < 5, `${pairs[0].interval}`);
    pairs.forEach((p, i) => {
      assert.ok(p.text.includes(expected.demo.pairs[i].DestinationIP), p.text);
      assert.ok(p.text.includes(`${expected.demo.pairs[i].events} events`), p.text);
    });
    // Every timeline and the detail of the first (selected) pair have ink.
    const ink = await inkOf(page, "timeline");
    assert.equal(ink.length, 8);
    assert.ok(ink.every((n) => n > 0), `${ink}`);
    assert.equal(await root.getAttribute("data-hg-selected-rank"), "0");
    const [detail] = await inkOf(page, "detail");
    assert.ok(detail > 100, `${detail}`);
    // Clicking the third pair selects it and sends its events (data set rows) to Python.
    await page.click('[data-hg-role="pair"] >> nth=2');
    assert.equal(await root.getAttribute("data-hg-selected-rank"), "2");
    await page.waitForFunction(() => (window.__model.get("selection")?.events ?? []).length > 0, null, { timeout: 10_000 });
    const selection = await page.evaluate(() => window.__model.get("selection").events);
    const want = expected.demo.ranks.map((r, i) => [r, i]).filter(([r]) => r === 2).map(([, i]) => i);
    assert.deepEqual(selection, want);
    // Dark theme redraws.
    await page.evaluate(() => {
      window.__model.set("theme", "dark");
      window.__model.save_changes();
    });
    await page.waitForFunction((sel) => document.querySelector(sel).getAttribute("data-hg-theme") === "dark", ROOT_SEL);
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUT_DIR, "periodic_view_demo.png") });
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.dialogs, []);
  });

  test("key values that look like HTML stay text", async () => {
    await mount(page, bundle, wasm, expected.evil);
    const text = await page.$eval('[data-hg-role="pair"]', (e) => e.textContent);
    assert.ok(text.includes("<img src=x onerror=alert(1)> → <b>bold</b>"), text);
    assert.equal(await page.$$eval(`${ROOT_SEL} img, ${ROOT_SEL} b`, (els) => els.length), 0);
    assert.match(text, /every 60\.0 s/);
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.dialogs, []);
  });
});
