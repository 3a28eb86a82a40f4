// The TimeSeriesAnomalies widget in Debian's chromium, mounted through mountStandalone with the
// real widget.js and browser wasm (widgets/src/huntglass/static, built by scripts/build.sh) on
// what Python's hg.TimeSeriesAnomalies sends: (1) the built-in scenario's NetworkBytes of the
// compromised host, where the two exfiltration hours must be listed and circled, clicking one
// must centre every panel on it and hovering must show its values; (2) a 1,000,000-point series
// decomposed in the kernel, which must draw and then pan and zoom (wheel, drag) with all four
// panels in step (one shared view), the anomaly count equal to the kernel's.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { OUT_DIR, ROOT, launchBrowser, requireFile, runPython, watchPage } from "./lib.mjs";

const STATIC = path.join(ROOT, "widgets/src/huntglass/static");
const ROOT_SEL = '[data-hg-widget="ts_anomalies"]';

function prepare(dir) {
  runPython(
    `
import base64, json, sys
import numpy as np
import pandas as pd
import huntglass as hg
from huntglass._html import STATE_KEYS

out = sys.argv[1]
bytes_ = hg.demo.load("NetworkBytes")
demo = hg.TimeSeriesAnomalies(bytes_, "TimeGenerated", "TotalBytesSent", group_by="Computer", group="LRK-WS104")
n = 1_000_000
t = np.arange(n)
rng = np.random.default_rng(5)
y = 1000 + 200 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 20, n)
y[::9973] += 600
big_frame = pd.DataFrame({"TimeGenerated": pd.date_range("2020-01-01", periods=n, freq="h", tz="UTC"), "Bytes": y})
big = hg.TimeSeriesAnomalies(big_frame, "TimeGenerated", "Bytes")
def page(w):
    data = w._hg_data["series"]
    return {"state": {key: getattr(w, key) for key in STATE_KEYS},
            "data": base64.b64encode(b"".join(bytes(c) for c in data.chunks)).decode(),
            "n": len(w.result), "flagged": int((w.result["anomalies"] != 0).sum())}
with open(f"{out}/page.json", "w") as f:
    json.dump({"demo": page(demo), "big": page(big)}, f)
`,
    [dir],
  );
  return JSON.parse(readFileSync(path.join(dir, "page.json"), "utf8"));
}

async function mount(page, bundle, wasm, one) {
  await page.setContent('<!doctype html><html><body><div id="host" style="width:1150px"></div></body></html>');
  await page.evaluate(
    async ({ bundle, wasm, data, state }) => {
      const url = URL.createObjectURL(new Blob([bundle], { type: "text/javascript" }));
      const module = await import(url);
      const { model } = await module.mountStandalone(document.getElementById("host"), { state, wasm, datasets: { series: data } });
      window.__model = model;
    },
    { bundle, wasm, data: one.data, state: one.state },
  );
  await page.waitForFunction(
    (sel) => {
      const root = document.querySelector(sel);
      const state = root?.getAttribute("data-hg-state");
      if (state === "error") throw new Error(root.querySelector('[data-hg-role="error"]')?.textContent ?? "error");
      return state === "ready" && root.getAttribute("data-hg-view");
    },
    ROOT_SEL,
    { timeout: 300_000, polling: 200 },
  );
}

const view = (page) => page.$eval(ROOT_SEL, (r) => r.getAttribute("data-hg-view").split(",").map(Number));

describe("TimeSeriesAnomalies in chromium", { timeout: 900_000 }, () => {
  let browser;
  let page;
  let seen;
  let expected;
  let bundle;
  let wasm;
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-ts-"));

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

  test("the two exfiltration hours are listed, focusable and hoverable", async () => {
    await mount(page, bundle, wasm, expected.demo);
    const root = await page.$(ROOT_SEL);
    assert.equal(await root.getAttribute("data-hg-n-points"), String(expected.demo.n));
    assert.equal(await root.getAttribute("data-hg-n-anomalies"), "2");
    const items = await page.$$eval('[data-hg-role="anomaly"]', (els) => els.map((e) => e.textContent));
    assert.equal(items.length, 2);
    assert.match(items[0], /^2026-11-05 02:00/);
    assert.match(items[1], /^2026-11-06 03:00/);
    const full = await view(page);
    await page.click('[data-hg-role="anomaly"]');
    await page.waitForFunction((sel) => document.querySelector(sel).getAttribute("data-hg-view") !== null, ROOT_SEL);
    await page.waitForTimeout(100);
    const focused = await view(page);
    const t0 = Date.parse("2026-11-05T02:00:00Z");
    assert.ok(focused[0] < t0 && focused[1] > t0 && focused[1] - focused[0] < full[1] - full[0], `${focused}`);
    // Hover at the centre of the plot (the focused anomaly's time): its values as text.
    const box = await page.$eval('[data-hg-role="canvas"]', (c) => {
      const r = c.getBoundingClientRect();
      return { x: r.left, y: r.top, w: r.width, h: r.height };
    });
    await page.mouse.move(box.x + 64 + (box.w - 72) / 2, box.y + 60);
    const tip = await page.$eval('[data-hg-role="tooltip"]', (t) => ({ text: t.textContent, shown: t.style.display }));
    assert.equal(tip.shown, "block");
    assert.match(tip.text, /2026-11-05 02:00/);
    assert.match(tip.text, /anomaly: 1/);
    assert.match(tip.text, /residual: /);
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUT_DIR, "ts_anomalies_demo.png") });
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.dialogs, []);
  });

  test("a million points draw, zoom and pan in step", async () => {
    await mount(page, bundle, wasm, expected.big);
    const root = await page.$(ROOT_SEL);
    assert.equal(await root.getAttribute("data-hg-n-points"), "1000000");
    assert.equal(await root.getAttribute("data-hg-n-anomalies"), String(expected.big.flagged));
    assert.ok(expected.big.flagged >= 90, `${expected.big.flagged}`);
    const box = await page.$eval('[data-hg-role="canvas"]', (c) => {
      const r = c.getBoundingClientRect();
      return { x: r.left, y: r.top, w: r.width, h: r.height };
    });
    const before = await view(page);
    await page.mouse.move(box.x + box.w / 2, box.y + box.h / 2);
    for (let i = 0; i < 6; i++) await page.mouse.wheel(0, -200);
    await page.waitForTimeout(200);
    const zoomed = await view(page);
    assert.ok(zoomed[1] - zoomed[0] < (before[1] - before[0]) / 2, `${before} -> ${zoomed}`);
    await page.mouse.down();
    await page.mouse.move(box.x + box.w / 2 - 200, box.y + box.h / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForTimeout(200);
    const panned = await view(page);
    assert.ok(panned[0] > zoomed[0], `${zoomed} -> ${panned}`);
    assert.ok(Math.abs(panned[1] - panned[0] - (zoomed[1] - zoomed[0])) < 1000, "panning keeps the span");
    // The four panels share the view: every panel has ink across the plot width.
    const inked = await page.$eval('[data-hg-role="canvas"]', (c) => {
      const ctx = c.getContext("2d");
      const panels = 4;
      const h = (c.height - 22 * devicePixelRatio) / panels;
      const result = [];
      for (let k = 0; k < panels; k++) {
        const img = ctx.getImageData(0, Math.round(k * h), c.width, Math.round(h)).data;
        let dark = 0;
        for (let i = 0; i < img.length; i += 4) if (img[i] < 140 && img[i + 2] > 100) dark++;
        result.push(dark);
      }
      return result;
    });
    assert.ok(inked.every((n) => n > 200), `${inked}`);
    await page.mouse.dblclick(box.x + box.w / 2, box.y + box.h / 2);
    await page.waitForTimeout(200);
    assert.deepEqual(await view(page), before);
    const model = await page.evaluate(() => window.__model.get("view_range"));
    assert.equal(model.length, 2);
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.dialogs, []);
  });
});
