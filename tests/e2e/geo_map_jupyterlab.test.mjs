// The GeoMap in a real JupyterLab (from .venv) driven by Debian's chromium: a notebook builds
// `hg.GeoMap` on a few located rows; the widget asks the kernel for the basemap
// (`hg:need_basemap`, answered by Python with static/basemap.bin as a binary buffer), draws the
// countries and the points, and a click on Paris must make `widget.selected` in Python hold
// exactly Paris's rows (and `rendered` must have come back from the front end).

import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { labNotebook, notebookOf, runAllCells, runCellUntil } from "./lib.mjs";

function notebook(resultFile) {
  return notebookOf([
    [
      "import json, pathlib",
      "import pandas as pd",
      "import huntglass as hg",
      "frame = pd.DataFrame({",
      '    "Latitude": [48.8566, 40.7128, 48.8566, -33.87, 48.8566],',
      '    "Longitude": [2.3522, -74.006, 2.3522, 151.21, 2.3522],',
      '    "Host": ["<img src=x onerror=alert(1)>", "b", "c", "d", "e"],',
      "})",
      'w = hg.GeoMap(frame, lat="Latitude", lon="Longitude", tooltip=["Host"], title="Lab map")',
      "w",
    ].join("\n"),
    [
      "sel = w.selected",
      `pathlib.Path(${JSON.stringify(resultFile)}).write_text(json.dumps({"rendered": w.rendered, "rows": [int(i) for i in sel.index]}))`,
      "len(sel)",
    ].join("\n"),
  ]);
}

describe("GeoMap in JupyterLab", { timeout: 600_000 }, () => {
  const session = labNotebook({
    name: "geo.ipynb",
    assets: ["widget.js", "hg_wasm_bg.wasm", "basemap.bin"],
    make: (dir) => notebook(path.join(dir, "result.json")),
  });

  test("the kernel sends the basemap; a click selects Paris's rows in Python", async () => {
    const resultFile = path.join(session.dir, "result.json");
    const { page, seen } = await session.open();
    await runAllCells(page);
    const sel = '.jp-OutputArea [data-hg-widget="geo_map"]';
    await page.waitForSelector(sel, { timeout: 120_000 });
    await page.waitForFunction(
      (s) => {
        const root = document.querySelector(s);
        if (root?.getAttribute("data-hg-state") === "error") throw new Error(root.textContent ?? "error");
        return root?.getAttribute("data-hg-state") === "ready" && Number(root.getAttribute("data-hg-render-count") ?? 0) >= 1;
      },
      sel,
      { timeout: 180_000, polling: 250 },
    );
    const root = page.locator(sel).first();
    await root.scrollIntoViewIfNeeded();
    assert.equal(await root.getAttribute("data-hg-basemap"), "ready");
    assert.ok(Number(await root.getAttribute("data-hg-countries")) > 200);
    assert.equal(await root.getAttribute("data-hg-n-marks"), "3");
    const marks = JSON.parse(await root.getAttribute("data-hg-marks"));
    const paris = marks.find((m) => m[3] === 3);
    assert.ok(paris, JSON.stringify(marks));
    const box = await root.locator("canvas").boundingBox();
    await page.mouse.move(box.x + paris[0], box.y + paris[1]);
    await page.waitForFunction((s) => document.querySelector(`${s} [data-hg-role="tooltip"]`)?.textContent.includes("<img src=x onerror=alert(1)>"), sel, { timeout: 10_000 });
    await page.mouse.click(box.x + paris[0], box.y + paris[1]);
    await page.waitForFunction((s) => document.querySelector(s)?.getAttribute("data-hg-selected-count") === "3", sel, { timeout: 10_000 });
    const text = await runCellUntil(page, 1, resultFile, (t) => t !== "" && JSON.parse(t).rows.length > 0);
    const result = JSON.parse(text);
    assert.deepEqual(result.rows, [0, 2, 4]);
    assert.ok(result.rendered >= 1, `rendered reached the kernel: ${result.rendered}`);
    assert.equal(await root.locator("img, script").count(), 0);
    assert.deepEqual(seen.dialogs, []);
    await page.close();
  });
});
