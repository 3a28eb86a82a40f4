// The Timeline in a real JupyterLab (from .venv) driven by Debian's chromium: a notebook builds
// `hg.Timeline` on a small frame, all cells run, the widget's canvas paints, a click on a mark
// selects it, and the selection reaches the kernel (`len(w.selected) > 0`, written by a later cell).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ROOT,
  canvasStats,
  colouredPoints,
  describeInk,
  hoverUntil,
  launchBrowser,
  notebookOf,
  openNotebook,
  requireFile,
  runAllCells,
  runCellUntil,
  startJupyterLab,
  waitForTimeline,
  watchPage,
} from "./lib.mjs";

function notebook(resultFile) {
  return notebookOf([
    [
      "import pathlib",
      "import numpy as np",
      "import pandas as pd",
      "import huntglass as hg",
      "",
      "rng = np.random.default_rng(3)",
      "rows = 300",
      'start = pd.Timestamp("2026-11-04 09:00", tz="UTC")',
      "frame = pd.DataFrame({",
      '    "TimeGenerated": start + pd.to_timedelta(np.sort(rng.integers(0, 4 * 3600, rows)), unit="s"),',
      '    "Computer": rng.choice(["LRK-WS101", "LRK-WS104"], rows),',
      '    "CommandLine": [f"cmd.exe /c step {i}" for i in range(rows)],',
      "})",
      'w = hg.Timeline(frame, source_columns=["Computer", "CommandLine"], group_by="Computer", title="Lab test")',
      "w",
    ].join("\n"),
    `pathlib.Path(${JSON.stringify(resultFile)}).write_text(str(len(w.selected)))\nlen(w.selected)`,
  ]);
}

describe("Timeline in JupyterLab", { timeout: 600_000 }, () => {
  let dir;
  let lab;
  let browser;
  let url;
  let resultFile;

  before(async () => {
    requireFile(path.join(ROOT, "widgets/src/huntglass/static/widget.js"), "the JS bundle");
    requireFile(path.join(ROOT, "widgets/src/huntglass/static/hg_wasm_bg.wasm"), "the browser wasm");
    dir = mkdtempSync(path.join(os.tmpdir(), "hg-lab-"));
    resultFile = path.join(dir, "selected.txt");
    writeFileSync(path.join(dir, "x.ipynb"), JSON.stringify(notebook(resultFile), null, 1));
    lab = await startJupyterLab(dir);
    url = lab.notebookUrl("x.ipynb");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the widget paints and a click selection reaches Python", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const seen = watchPage(page);
    await openNotebook(page, url);
    await runAllCells(page);

    const outputRoot = '.jp-OutputArea [data-hg-widget="timeline"]';
    await page.waitForSelector(outputRoot, { timeout: 120_000 }).catch(async (error) => {
      const outputs = await page.locator(".jp-OutputArea").allTextContents();
      throw new Error(`no Timeline appeared in the output area (${error.message}); outputs: ${JSON.stringify(outputs)}`);
    });
    await waitForTimeline(page, outputRoot, 120_000);
    const root = page.locator(outputRoot).first();
    const canvas = root.locator('[data-hg-role="timeline-canvas"]');
    await canvas.scrollIntoViewIfNeeded();
    const stats = await canvasStats(canvas);
    assert.ok(stats.ink > stats.total * 0.01, `too little drawn: ${describeInk(stats)}`);
    assert.ok(stats.saturated > 50, `too few coloured (mark) pixels: ${describeInk(stats)}`);

    // Click on a mark: hover coloured pixels until the widget's hit-test shows a tooltip there.
    const points = await colouredPoints(canvas, 3, 600);
    const mark = await hoverUntil(page, root, canvas, points, () => true);
    assert.ok(mark, `no coloured pixel of the canvas hit a mark (${points.length} tried)`);
    const box = await canvas.boundingBox();
    await page.mouse.click(box.x + mark.x, box.y + mark.y);
    await page.waitForFunction(
      (selector) => Number(document.querySelector(selector)?.getAttribute("data-hg-selected-count") ?? 0) >= 1,
      outputRoot,
      { timeout: 10_000 },
    );

    // Run the second cell until the kernel reports the selection (it is synced debounced).
    const reported = await runCellUntil(page, 1, resultFile, (text) => Number(text) > 0);
    assert.ok(Number(reported) > 0, `len(w.selected) in the kernel should be > 0 after the click, got "${reported}"`);
    assert.deepEqual(seen.dialogs, [], "no dialog appeared");
    await page.close();
  });
});
