// The whole investigation story: examples/overview.ipynb run top to bottom in a real JupyterLab and
// in a real Notebook 7 (both from .venv, driven by Debian's chromium) on the built-in scenario
// written by `huntglass demo-data`. Every widget the notebook shows must paint (its `rendered`
// count reaches the kernel) without a front-end error, and no cell may fail.

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import {
  HUNTGLASS_BIN,
  OUT_DIR,
  ROOT,
  launchBrowser,
  openNotebook,
  requireFile,
  runAllCells,
  runCellUntil,
  startJupyterLab,
  watchPage,
} from "./lib.mjs";

const NOTEBOOK = path.join(ROOT, "examples/overview.ipynb");

/** The overview notebook plus one last cell reporting every huntglass widget's state to `resultFile`. */
function overviewWithReport(resultFile) {
  const notebook = JSON.parse(readFileSync(NOTEBOOK, "utf8"));
  const report = [
    "import json as _json, pathlib as _pathlib",
    "from ipywidgets.widgets.widget import _instances as _hg_instances",
    "_pathlib.Path(" + JSON.stringify(resultFile) + ").write_text(_json.dumps([",
    '    {"kind": w._kind, "rendered": w.rendered, "error": w.error}',
    "    for w in list(_hg_instances.values()) if isinstance(w, hg.HgWidget)",
    "]))",
  ].join("\n");
  notebook.cells.push({ cell_type: "code", execution_count: null, id: "hg-test-report", metadata: {}, outputs: [], source: report });
  return notebook;
}

for (const app of ["lab", "notebook"]) {
  describe(`overview.ipynb in ${app === "lab" ? "JupyterLab" : "Notebook 7"}`, { timeout: 900_000 }, () => {
    let dir;
    let server;
    let browser;
    let resultFile;
    let reportCell;

    before(async () => {
      requireFile(HUNTGLASS_BIN, "the native huntglass binary (make build)");
      for (const asset of ["widget.js", "hg_wasm_bg.wasm", "hg_kernel.wasm"]) {
        requireFile(path.join(ROOT, "widgets/src/huntglass/static", asset), `the built asset ${asset}`);
      }
      dir = mkdtempSync(path.join(os.tmpdir(), `hg-overview-${app}-`));
      const data = path.join(dir, "demo-data");
      mkdirSync(data);
      const written = spawnSync(HUNTGLASS_BIN, ["demo-data", "--out", data], { encoding: "utf8", timeout: 300_000 });
      assert.equal(written.status, 0, `huntglass demo-data failed: ${written.stderr}`);
      resultFile = path.join(dir, "widgets.json");
      const notebook = overviewWithReport(resultFile);
      reportCell = notebook.cells.length - 1;
      writeFileSync(path.join(dir, "overview.ipynb"), JSON.stringify(notebook, null, 1));
      server = await startJupyterLab(dir, {
        app,
        env: { HUNTGLASS_DEMO_DATA: data, HUNTGLASS_BIN, CI: process.env.CI ?? "" },
      });
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close().catch(() => {});
      server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test("every cell runs and every widget paints without an error", async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const seen = watchPage(page);
      await openNotebook(page, server.notebookUrl("overview.ipynb"));
      await runAllCells(page);

      // Wait until every code cell has run (an execution count on each, the kernel idle).
      await page.waitForFunction(
        () => {
          const panel = window.jupyterapp.shell.currentWidget;
          const cells = panel.content.widgets.filter((cell) => cell.model.type === "code");
          const done = cells.every((cell) => cell.model.executionCount !== null);
          return done && panel.sessionContext.session?.kernel?.status === "idle";
        },
        undefined,
        { timeout: 600_000, polling: 500 },
      );
      const failures = await page.evaluate(() =>
        window.jupyterapp.shell.currentWidget.content.widgets
          .filter((cell) => cell.model.type === "code")
          .flatMap((cell) => {
            const outputs = cell.model.outputs.toJSON();
            return outputs
              .filter((output) => output.output_type === "error")
              .map((output) => `${output.ename}: ${output.evalue}`);
          }),
      );
      assert.deepEqual(failures, [], "no cell raised");

      // Widget outputs in the notebook model (the DOM may window cells that are out of view).
      const shown = await page.evaluate(() =>
        window.jupyterapp.shell.currentWidget.content.widgets
          .filter((cell) => cell.model.type === "code")
          .flatMap((cell) => cell.model.outputs.toJSON())
          .filter((output) => output.data?.["application/vnd.jupyter.widget-view+json"]).length,
      );
      assert.ok(shown >= 5, `the story shows its widgets (found ${shown})`);

      // Widgets paint asynchronously; their `rendered` counts reach the kernel as comm messages.
      // Scroll each widget into view once so windowed notebooks attach and paint it.
      const roots = page.locator(".jp-OutputArea [data-hg-widget]");
      for (let i = 0; i < (await roots.count()); i += 1) await roots.nth(i).scrollIntoViewIfNeeded().catch(() => {});
      const report = await runCellUntil(page, reportCell, resultFile, (text) => {
        try {
          const widgets = JSON.parse(text);
          const painted = widgets.reduce((sum, w) => sum + Math.min(1, w.rendered), 0);
          return painted >= shown || widgets.some((w) => w.error);
        } catch {
          return false;
        }
      }, 60);
      const widgets = JSON.parse(report || "[]");
      const errors = widgets.filter((w) => w.error).map((w) => `${w.kind}: ${w.error}`);
      assert.deepEqual(errors, [], "no widget reported a front-end error");
      const painted = widgets.filter((w) => w.rendered > 0).map((w) => w.kind);
      assert.ok(painted.length >= shown, `every shown widget painted: ${painted.length} of ${shown} (${JSON.stringify(widgets)})`);

      mkdirSync(OUT_DIR, { recursive: true });
      await page.screenshot({ path: path.join(OUT_DIR, `overview-${app}.png`), fullPage: false });
      assert.deepEqual(seen.dialogs, [], "no dialog appeared");
      await page.close();
    });
  });
}
