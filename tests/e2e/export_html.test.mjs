// `Timeline.save_html` writes one self-contained file: opened from file:// in Debian's chromium with
// every non-file request aborted, it paints a non-blank timeline and shows hostile text as text.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import {
  ROOT,
  canvasStats,
  colouredPoints,
  describeInk,
  hoverUntil,
  launchBrowser,
  requireFile,
  runPython,
  waitForTimeline,
  watchPage,
} from "./lib.mjs";

const HOSTILE = "<img src=x onerror=alert(1)>";

const BUILD_AND_SAVE = `
import sys
import numpy as np
import pandas as pd
import huntglass as hg

rows = 2000
rng = np.random.default_rng(7)
start = pd.Timestamp("2026-11-02", tz="UTC")
frame = pd.DataFrame(
    {
        "TimeGenerated": start + pd.to_timedelta(np.sort(rng.integers(0, 7 * 86400, rows)), unit="s"),
        "Computer": rng.choice(["LRK-WS101", "LRK-WS102", "LRK-DC01"], rows),
        "Account": rng.choice(["alice", "bob", "carol"], rows),
        "CommandLine": [sys.argv[2] if i % 10 == 0 else f"cmd.exe /c step {i}" for i in range(rows)],
    }
)
widget = hg.Timeline(frame, source_columns=["Computer", "Account", "CommandLine"], group_by="Computer", title="Exported")
print(widget.save_html(sys.argv[1]))
`;

const MAP_AND_SAVE = `
import sys
import pandas as pd
import huntglass as hg

frame = pd.DataFrame(
    {
        "Latitude": [48.86, 48.86, 40.71],
        "Longitude": [2.35, 2.35, -74.0],
        "Note": [sys.argv[2], "second", "third"],
    }
)
widget = hg.GeoMap(frame, lat="Latitude", lon="Longitude", tooltip=["Note"], title="Exported map")
print(widget.save_html(sys.argv[1]))
`;

/**
 * Opens an exported file from file:// in an offline context where every request that is not
 * file:, blob: or data: is aborted and recorded in `blocked`.
 */
async function openOffline(browser, file) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, offline: true });
  const page = await context.newPage();
  const blocked = [];
  await page.route("**", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:") || url.startsWith("blob:") || url.startsWith("data:")) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  const seen = watchPage(page);
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  return { context, page, blocked, seen };
}

describe("exported HTML (save_html)", { timeout: 300_000 }, () => {
  let dir;
  let file;
  let browser;

  before(async () => {
    requireFile(path.join(ROOT, "widgets/src/huntglass/static/widget.js"), "the JS bundle");
    requireFile(path.join(ROOT, "widgets/src/huntglass/static/hg_wasm_bg.wasm"), "the browser wasm");
    dir = mkdtempSync(path.join(os.tmpdir(), "hg-export-"));
    file = runPython(BUILD_AND_SAVE, [path.join(dir, "timeline.html"), HOSTILE]).trim();
    assert.ok(statSync(file).size > 1000, `save_html wrote ${file}`);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("renders offline from file:// with the network blocked", async () => {
    const { context, page, blocked, seen } = await openOffline(browser, file);
    await waitForTimeline(page);

    const root = page.locator('[data-hg-widget="timeline"]').first();
    const canvas = root.locator('[data-hg-role="timeline-canvas"]');
    const stats = await canvasStats(canvas);
    assert.ok(stats.ink > stats.total * 0.01, `too little drawn: ${describeInk(stats)}`);
    assert.ok(stats.saturated > 100, `too few coloured (mark) pixels: ${describeInk(stats)}`);
    assert.equal(Number(await root.getAttribute("data-hg-n-events")), 2000);

    // Every tenth event carries the hostile markup: hover coloured pixels until one shows it.
    const points = await colouredPoints(canvas, 3, 600);
    const found = await hoverUntil(page, root, canvas, points, (text) => text.includes("onerror"));
    assert.ok(found, `no hovered mark showed the hostile command line (${points.length} points tried)`);
    assert.ok(found.text.includes(HOSTILE), `tooltip should hold the literal markup: ${found.text}`);
    assert.equal(await page.locator("img").count(), 0, "no img element was created");
    await page.waitForTimeout(300);
    assert.deepEqual(seen.dialogs, [], "no dialog fired");
    assert.deepEqual(seen.pageErrors, [], "no uncaught page errors");
    assert.deepEqual(blocked, [], "the exported page requested nothing from the network");
    await context.close();
  });
});

describe("exported map (GeoMap.save_html)", { timeout: 300_000 }, () => {
  let dir;
  let file;
  let browser;

  before(async () => {
    requireFile(path.join(ROOT, "widgets/src/huntglass/static/basemap.bin"), "the GeoMap basemap");
    dir = mkdtempSync(path.join(os.tmpdir(), "hg-export-map-"));
    file = runPython(MAP_AND_SAVE, [path.join(dir, "map.html"), HOSTILE]).trim();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("draws the countries and the points from file:// with the network blocked", async () => {
    const { context, page, blocked, seen } = await openOffline(browser, file);
    const root = '[data-hg-widget="geo_map"]';
    await page.waitForFunction(
      (sel) => {
        const el = document.querySelector(sel);
        if (el?.getAttribute("data-hg-state") === "error") throw new Error(el.textContent ?? "error");
        return el?.getAttribute("data-hg-state") === "ready" && el.getAttribute("data-hg-basemap") === "ready";
      },
      root,
      { timeout: 120_000, polling: 200 },
    );
    assert.ok(Number(await page.getAttribute(root, "data-hg-countries")) > 200, "the countries are drawn");
    assert.equal(await page.getAttribute(root, "data-hg-placed"), "3");
    assert.equal(await page.locator("img").count(), 0, "no img element was created");
    assert.deepEqual(seen.dialogs, [], "no dialog fired");
    assert.deepEqual(seen.pageErrors, [], "no uncaught page errors");
    assert.deepEqual(blocked, [], "the exported page requested nothing from the network");
    await context.close();
  });
});
