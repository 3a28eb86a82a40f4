// The demo page of `huntglass serve` in Debian's chromium: the Timeline of the built-in scenario
// paints, wheel zoom changes the visible range, and hovering the scenario's event whose CommandLine
// holds `<img src=x onerror=alert(1)>` shows that markup as tooltip text without running it.
// Also saves a picture of the widget: tests/e2e/out/timeline.png, or the README picture
// (docs/img/timeline.png) when HG_UPDATE_README_IMG=1, so a test run leaves tracked files alone.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  HUNTGLASS_BIN,
  ROOT,
  calibrateTimeAxis,
  canvasStats,
  describeInk,
  hoverUntil,
  launchBrowser,
  requireFile,
  runPython,
  startServe,
  viewRange,
  waitForTimeline,
  watchPage,
  wheelAt,
} from "./lib.mjs";
import { spawnSync } from "node:child_process";

const HOSTILE = "<img src=x onerror=alert(1)>";
const SCREENSHOT = path.join(
  ROOT,
  process.env.HG_UPDATE_README_IMG === "1" ? "docs/img/timeline.png" : "tests/e2e/out/timeline.png",
);

/**
 * Where the built-in scenario holds the hostile command line: generates the scenario with the same
 * binary (same default seed and scale as `serve`) and reads its Arrow files with pyarrow.
 * @returns {{table: string, column: string, time_ms: number, row: number}[]}
 */
function hostileEvents() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-demo-data-"));
  try {
    const generated = spawnSync(HUNTGLASS_BIN, ["demo-data", "--out", dir], { encoding: "utf8", timeout: 300_000 });
    assert.equal(generated.status, 0, `huntglass demo-data failed: ${generated.stderr}${generated.stdout}`);
    const found = runPython(
      `
import json, pathlib, sys
import pyarrow as pa, pyarrow.compute as pc, pyarrow.ipc as ipc
needle = sys.argv[2]
hits = []
for file in sorted(pathlib.Path(sys.argv[1]).glob("*.arrow")):
    with ipc.open_stream(file.read_bytes()) as reader:
        table = reader.read_all()
    if "TimeGenerated" not in table.column_names:
        continue
    times = pc.cast(table["TimeGenerated"], pa.timestamp("ns", tz="UTC")).cast(pa.int64())
    for name in table.column_names:
        column = table[name]
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            continue
        mask = pc.fill_null(pc.match_substring(column, needle), False)
        for row in pc.indices_nonzero(mask).to_pylist():
            hits.append({"table": file.stem, "column": name, "row": row, "time_ms": times[row].as_py() / 1e6})
print(json.dumps(hits))
`,
      [dir, HOSTILE],
    );
    return JSON.parse(found);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("huntglass serve demo page", { timeout: 600_000 }, () => {
  let server;
  let browser;
  let page;
  let seen;

  before(async () => {
    requireFile(HUNTGLASS_BIN, "the huntglass binary");
    server = await startServe();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    seen = watchPage(page);
    const response = await page.goto(server.url, { waitUntil: "load", timeout: 60_000 });
    assert.ok(response && response.ok(), `GET ${server.url} answered ${response && response.status()}`);
    await waitForTimeline(page);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    server?.stop();
  });

  test("the timeline canvas of the scenario is painted", async () => {
    const root = page.locator('[data-hg-widget="timeline"]').first();
    const events = Number(await root.getAttribute("data-hg-n-events"));
    assert.ok(events > 1000, `the demo timeline should show the scenario's events, data-hg-n-events=${events}`);
    const stats = await canvasStats(root.locator('[data-hg-role="timeline-canvas"]'));
    assert.ok(stats.width > 100 && stats.height > 100, `canvas is ${stats.width}x${stats.height}`);
    assert.ok(stats.ink > stats.total * 0.01, `too little drawn: ${describeInk(stats)}`);
    assert.ok(stats.saturated > 200, `too few coloured (mark) pixels: ${describeInk(stats)}`);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await root.screenshot({ path: SCREENSHOT });
    assert.deepEqual(seen.pageErrors, [], "no uncaught page errors");
  });

  test("wheel zoom changes the visible range", async () => {
    const root = page.locator('[data-hg-widget="timeline"]').first();
    const canvas = root.locator('[data-hg-role="timeline-canvas"]');
    const box = await canvas.boundingBox();
    const zoomIn = await wheelAt(page, root, canvas, box.width * 0.6, -300);
    const spanBefore = zoomIn.before[1] - zoomIn.before[0];
    const spanAfter = zoomIn.after[1] - zoomIn.after[0];
    assert.ok(spanAfter < spanBefore * 0.9, `zoom in should narrow the view: ${zoomIn.before} -> ${zoomIn.after}`);
    const zoomOut = await wheelAt(page, root, canvas, box.width * 0.6, 300);
    const spanOut = zoomOut.after[1] - zoomOut.after[0];
    assert.ok(spanOut > spanAfter * 1.1, `zoom out should widen the view: ${zoomOut.before} -> ${zoomOut.after}`);
    const view = await viewRange(root);
    assert.ok(view[0] < view[1], `view ${view}`);
  });

  test("a hostile command line shows as tooltip text and runs nothing", async () => {
    const hits = hostileEvents().filter((hit) => hit.column === "CommandLine");
    assert.ok(hits.length > 0, `the built-in scenario has no CommandLine holding ${HOSTILE}`);
    const target = hits[0];
    const imagesBefore = await page.evaluate(() => document.querySelectorAll("img").length);

    const roots = page.locator('[data-hg-widget="timeline"]');
    let found = null;
    for (let index = 0; index < (await roots.count()) && !found; index += 1) {
      const root = roots.nth(index);
      const canvas = root.locator('[data-hg-role="timeline-canvas"]');
      await canvas.dblclick(); // reset view: data extent plus margins
      await page.waitForTimeout(200);
      const [start, end] = await viewRange(root);
      if (!(target.time_ms > start && target.time_ms < end)) continue;
      const { plotX, plotW } = await calibrateTimeAxis(page, root, canvas);
      const xOf = (view) => plotX + ((target.time_ms - view[0]) / (view[1] - view[0])) * plotW;
      // Zoom in around the event (anchored zoom keeps it under the pointer) until neighbours part.
      for (let step = 0; step < 40; step += 1) {
        const view = await viewRange(root);
        if (view[1] - view[0] < 20_000) break;
        const { after } = await wheelAt(page, root, canvas, xOf(view), -400);
        if (after[1] - after[0] >= view[1] - view[0]) break;
      }
      const view = await viewRange(root);
      const x = xOf(view);
      const box = await canvas.boundingBox();
      const points = [];
      for (const dx of [0, -2, 2, -4, 4]) {
        for (let y = 1; y < box.height; y += 2) points.push({ x: x + dx, y });
      }
      found = await hoverUntil(page, root, canvas, points, (text) => text.includes("onerror"));
      if (found) found.root = root;
    }
    assert.ok(found, `no timeline mark near ${new Date(target.time_ms).toISOString()} showed the hostile command line on hover`);

    const tooltip = found.root.locator('[data-hg-role="tooltip"]');
    const text = await tooltip.textContent();
    assert.ok(text.includes(HOSTILE), `tooltip text should hold the literal markup, got: ${text}`);
    assert.equal(await tooltip.locator("img").count(), 0, "no img element inside the tooltip");
    const imagesAfter = await page.evaluate(() => document.querySelectorAll("img").length);
    assert.equal(imagesAfter, imagesBefore, "hovering created no img element anywhere on the page");
    await page.waitForTimeout(500); // give a would-be onerror handler time to fire
    assert.deepEqual(seen.dialogs, [], "no alert or other dialog fired");
    assert.deepEqual(seen.pageErrors, [], "no uncaught page errors");
  });
});
