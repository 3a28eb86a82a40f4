// The IocView in a real JupyterLab (from .venv) driven by Debian's chromium: a notebook builds
// `hg.IocView` on a small frame of records with indicators (one of them hostile markup), all cells
// run, the widget extracts in the browser through the engines' module the kernel sends, and the
// test checks what an analyst sees: highlights by type, legend counts equal to the kernel-side
// `hg.ioc.extract`, the unique observables listed as text, the hostile record shown as text.
// Clicking an observable must make `widget.selected` in Python hold exactly the records that
// contain it (and `rendered` must have come back from the front end).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { labNotebook, notebookOf, runAllCells, runCellUntil } from "./lib.mjs";

/** The observable the test clicks: an address in several records, never inside a longer one. */
const ADDRESS = "203.0.113.7";
const HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>";

function notebook(expectedFile, resultFile) {
  return notebookOf([
    [
      "import json, pathlib",
      "import pandas as pd",
      "import huntglass as hg",
      "",
      "texts = []",
      "for i in range(40):",
      "    if i % 8 == 2:",
      `        texts.append(f"beacon from ws{i} to ${ADDRESS}:443 via hxxps://c2-{i}[.]example[.]com/p")`,
      "    elif i % 5 == 0:",
      '        texts.append(f"curl http://update{i}.contoso.com/a.ps1 from 198.51.100.{i}")',
      "    elif i % 7 == 0:",
      '        texts.append(f"certutil -hashfile x {i:032x} md5 for admin{i}@contoso.com")',
      "    else:",
      '        texts.append(f"ping -n 1 host{i} and nothing else")',
      `texts[33] = ${JSON.stringify(`${HOSTILE} then ${ADDRESS}`)}`,
      'frame = pd.DataFrame({"CommandLine": texts, "Host": [f"ws{i % 3}" for i in range(40)]})',
      'found = hg.ioc.extract(frame, columns=["CommandLine"])',
      `pathlib.Path(${JSON.stringify(expectedFile)}).write_text(json.dumps({`,
      `    "address_rows": [i for i, t in enumerate(texts) if ${JSON.stringify(ADDRESS)} in t],`,
      '    "counts": {k: int(v) for k, v in found["IoCType"].value_counts().items()},',
      '    "observables": sorted(set(found["Canonical"])),',
      "}))",
      'w = hg.IocView(frame, columns=["CommandLine"], title="Lab IoC test")',
      "w",
    ].join("\n"),
    [
      "sel = w.selected",
      `pathlib.Path(${JSON.stringify(resultFile)}).write_text(json.dumps({`,
      '    "rendered": w.rendered,',
      '    "rows": [int(i) for i in sel.index],',
      '    "commands": sel["CommandLine"].tolist(),',
      "}))",
      "len(sel)",
    ].join("\n"),
  ]);
}

describe("IocView in JupyterLab", { timeout: 600_000 }, () => {
  const session = labNotebook({
    name: "ioc.ipynb",
    assets: ["widget.js", "hg_wasm_bg.wasm", "hg_kernel.wasm"],
    make: (dir) => notebook(path.join(dir, "expected.json"), path.join(dir, "result.json")),
  });

  test("highlights and observables render; clicking one selects exactly its records in Python", async () => {
    const expectedFile = path.join(session.dir, "expected.json");
    const resultFile = path.join(session.dir, "result.json");
    const { page, seen } = await session.open();
    await page.evaluate(() => {
      window.__alerts = 0;
      window.alert = () => (window.__alerts += 1);
    });
    await runAllCells(page);

    const rootSelector = '.jp-OutputArea [data-hg-widget="ioc_view"]';
    await page.waitForSelector(rootSelector, { timeout: 120_000 }).catch(async (error) => {
      const outputs = await page.locator(".jp-OutputArea").allTextContents();
      throw new Error(`no IocView appeared in the output area (${error.message}); outputs: ${JSON.stringify(outputs)}`);
    });
    await page.waitForFunction(
      (selector) => {
        const root = document.querySelector(selector);
        const state = root?.getAttribute("data-hg-state");
        if (state === "error") throw new Error(root.querySelector('[data-hg-role="error"]')?.textContent ?? "error");
        return state === "ready";
      },
      rootSelector,
      { timeout: 180_000, polling: 250 },
    );
    const expected = JSON.parse(readFileSync(expectedFile, "utf8"));
    const root = page.locator(rootSelector).first();
    await root.scrollIntoViewIfNeeded();

    // The legend counts are the kernel-side extraction's, type by type.
    const legend = await root.locator('[data-hg-role="legend-item"]').evaluateAll((items) =>
      Object.fromEntries(items.map((i) => [i.getAttribute("data-hg-ioc-type"), Number(i.getAttribute("data-hg-count"))])),
    );
    assert.deepEqual(legend, expected.counts);
    for (const type of ["ipv4", "url", "dns", "email", "md5_hash"]) assert.ok(expected.counts[type] > 0, `the data holds ${type}`);

    // Highlights: spans by type in the record lines, the address among them as written.
    const highlights = await root.locator('[data-hg-role="ioc"]').evaluateAll((spans) =>
      spans.map((s) => [s.getAttribute("data-hg-ioc-type"), s.textContent]),
    );
    const kinds = [...new Set(highlights.map(([type]) => type))].sort();
    // (A URL's host and an address's domain are counted as dns but drawn inside their URL or address.)
    for (const type of ["ipv4", "url", "email", "md5_hash"]) assert.ok(kinds.includes(type), `highlight types shown: ${kinds}`);
    assert.ok(highlights.some(([type, text]) => type === "ipv4" && text === ADDRESS), `${ADDRESS} is highlighted`);
    assert.ok(highlights.some(([type, text]) => type === "url" && text === "hxxps://c2-2[.]example[.]com/p"), "the defanged URL is highlighted as written");

    // The observables list shows the canonical values as text: scrolled through (it is
    // virtualized), it holds exactly the unique values the kernel found.
    const listed = await root.locator('[data-hg-role="observables"]').evaluate(async (box) => {
      const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
      const values = new Set();
      for (let top = 0; ; top += Math.max(1, Math.floor(box.clientHeight / 2))) {
        box.scrollTop = top;
        await frame();
        await frame();
        for (const v of box.querySelectorAll('[data-hg-role="observable-value"]')) values.add(v.textContent);
        if (top >= box.scrollHeight) break;
      }
      box.scrollTop = 0;
      await frame();
      return [...values].sort();
    });
    assert.deepEqual(listed, expected.observables);
    assert.ok(listed.includes(ADDRESS), `${ADDRESS} is listed`);
    assert.ok(listed.includes("https://c2-2.example.com/p"), "the URL is listed refanged");

    // Hostile markup shows as text: no element made, no dialog.
    const hostileLine = await root.locator('[data-hg-role="record-line"][data-hg-row="33"]').textContent();
    assert.ok(hostileLine.includes(HOSTILE), hostileLine);
    assert.equal(await root.locator("script, img").count(), 0);

    // Click the address in the observables list: the widget selects its records ...
    const item = root.locator('[data-hg-role="observable"]').filter({ has: page.locator('[data-hg-role="observable-value"]', { hasText: ADDRESS }) });
    assert.equal(await item.count(), 1, `one list entry for ${ADDRESS}`);
    await item.click();
    await page.waitForFunction(
      ([selector, n]) => document.querySelector(selector)?.getAttribute("data-hg-selected-count") === String(n),
      [rootSelector, expected.address_rows.length],
      { timeout: 10_000 },
    );

    // ... and Python's widget.selected holds exactly those rows (synced asynchronously).
    const text = await runCellUntil(page, 1, resultFile, (t) => t !== "" && JSON.parse(t).rows.length > 0);
    assert.ok(text, "the second cell wrote its result");
    const result = JSON.parse(text);
    assert.deepEqual(result.rows, expected.address_rows);
    for (const command of result.commands) assert.ok(command.includes(ADDRESS), command);
    assert.ok(result.rendered >= 1, `rendered reached the kernel: ${result.rendered}`);

    assert.equal(await page.evaluate(() => window.__alerts), 0);
    assert.deepEqual(seen.dialogs, [], "no dialog appeared");
    await page.close();
  });
});
