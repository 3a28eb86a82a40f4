// The IocView in Debian's chromium, mounted through mountStandalone with the real widget.js and
// browser wasm and the engines' module hg_kernel.wasm (widgets/src/huntglass/static, built by
// scripts/build.sh) on the data set Python's hg.IocView sends: 100,000 generated records plus
// hostile ones. Extraction runs in the page through the kernel module's runOp("ioc.extract"); the counts per type must equal the kernel-side hg.ioc.extract
// on the same records, hostile markup must show as text (no element, no dialog), clicking an
// observable must select exactly its records (traitlet `selection`), and scrolling to the end
// must keep the DOM small.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT, launchBrowser, requireFile, runPython, watchPage } from "./lib.mjs";

const STATIC = path.join(ROOT, "widgets/src/huntglass/static");
const RECORDS = 100_000;
const SCRIPT = "<script>alert(1)</script> beacon to 203.0.113.7";
const IMG = "<img src=x onerror=alert(2)> fetch hxxp://evil-cdn[.]net/a.ps1";

/** Builds the records with Python, the IocView's data set and state, and the kernel's answer. */
function prepare(dir) {
  runPython(
    `
import base64, json, sys
import pandas as pd
import huntglass as hg
from huntglass._html import STATE_KEYS

out, n, script, img = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
texts = [script, img]
for i in range(2, n):
    texts.append(
        f"cmd.exe /c ping 10.{i % 256}.{(i // 256) % 256}.1 && curl http://host{i % 500}.example.com/p{i}"
        if i % 3 else f"powershell -c iwr https://cdn{i % 50}.contoso.net/x?id={i} 198.51.100.{i % 200}"
    )
df = pd.DataFrame({"CommandLine": texts, "Host": [f"ws{i % 7}" for i in range(n)]})
widget = hg.IocView(df, columns=["CommandLine"], height=400)
data = widget._hg_data["records"]
state = {key: getattr(widget, key) for key in STATE_KEYS}
found = hg.ioc.extract(df, columns=["CommandLine"], input_text=False)
counts = found["IoCType"].value_counts().to_dict()
groups = found.groupby(["IoCType", "Canonical"])["SourceIndex"]
rows = {f"{t}\\t{c}": sorted(set(v.tolist())) for (t, c), v in groups if len(v) >= 50}
with open(f"{out}/page.json", "w") as f:
    json.dump({
        "state": state,
        "data": base64.b64encode(b"".join(bytes(c) for c in data.chunks)).decode(),
        "counts": {k: int(v) for k, v in counts.items()},
        "rows": rows,
    }, f)
`,
    [dir, String(RECORDS), SCRIPT, IMG],
  );
  return JSON.parse(readFileSync(path.join(dir, "page.json"), "utf8"));
}

describe("IocView in chromium", { timeout: 600_000 }, () => {
  let browser;
  let page;
  let seen;
  let expected;
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-iocview-"));

  before(async () => {
    for (const file of ["widget.js", "hg_wasm_bg.wasm", "hg_kernel.wasm"]) requireFile(path.join(STATIC, file), `static/${file}`);
    expected = prepare(dir);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    seen = watchPage(page);
    await page.setContent('<!doctype html><html><body><div id="host" style="width:1100px"></div></body></html>');
    const bundle = readFileSync(path.join(STATIC, "widget.js"), "utf8");
    const wasm = readFileSync(path.join(STATIC, "hg_wasm_bg.wasm")).toString("base64");
    const kernel = readFileSync(path.join(STATIC, "hg_kernel.wasm")).toString("base64");
    await page.evaluate(
      async ({ bundle, wasm, kernel, data, state }) => {
        window.__alerts = 0;
        window.alert = () => (window.__alerts += 1);
        const url = URL.createObjectURL(new Blob([bundle], { type: "text/javascript" }));
        const module = await import(url);
        const { model, cleanup } = await module.mountStandalone(document.getElementById("host"), { state, wasm, kernel, datasets: { records: data } });
        window.__model = model;
        window.__cleanup = cleanup;
      },
      { bundle, wasm, kernel, data: expected.data, state: expected.state },
    );
    await page.waitForFunction(
      () => {
        const root = document.querySelector('[data-hg-widget="ioc_view"]');
        const state = root?.getAttribute("data-hg-state");
        if (state === "error") throw new Error(root.querySelector('[data-hg-role="error"]')?.textContent ?? "error");
        return state === "ready";
      },
      null,
      { timeout: 300_000, polling: 200 },
    );
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("counts per type equal the kernel-side hg.ioc.extract on the same records", async () => {
    const legend = await page.$$eval('[data-hg-role="legend-item"]', (items) =>
      Object.fromEntries(items.map((i) => [i.getAttribute("data-hg-ioc-type"), Number(i.getAttribute("data-hg-count"))])),
    );
    assert.deepEqual(legend, expected.counts);
    const total = Object.values(expected.counts).reduce((a, b) => a + b, 0);
    assert.equal(await page.getAttribute('[data-hg-widget="ioc_view"]', "data-hg-n-iocs"), String(total));
    assert.equal(await page.getAttribute('[data-hg-widget="ioc_view"]', "data-hg-n-records"), String(RECORDS));
    assert.ok((await page.$$('[data-hg-role="ioc"]')).length > 10, "highlights are in the visible text");
    const kinds = await page.$$eval('[data-hg-role="ioc"]', (spans) => [...new Set(spans.map((s) => s.getAttribute("data-hg-ioc-type")))].sort());
    assert.ok(kinds.includes("ipv4") && kinds.includes("url"), `highlight types shown: ${kinds}`);
  });

  test("hostile records show their markup as text: no element made, no dialog", async () => {
    const lines = await page.$$eval('[data-hg-role="record-line"]', (nodes) => nodes.slice(0, 2).map((n) => n.textContent));
    assert.ok(lines[0].includes(SCRIPT), lines[0]);
    assert.ok(lines[1].includes(IMG), lines[1]);
    const made = await page.$$eval('[data-hg-widget="ioc_view"] script, [data-hg-widget="ioc_view"] img', (nodes) => nodes.length);
    assert.equal(made, 0);
    assert.equal(await page.evaluate(() => window.__alerts), 0);
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.pageErrors, []);
    // The defanged URL is highlighted and listed refanged.
    const defanged = await page.$$eval('[data-hg-role="record-line"][data-hg-row="1"] [data-hg-role="ioc"]', (s) => s.map((x) => [x.getAttribute("data-hg-ioc-type"), x.textContent]));
    assert.deepEqual(defanged, [["url", "hxxp://evil-cdn[.]net/a.ps1"]]);
  });

  test("clicking an observable selects exactly its records, in the traitlet too", async () => {
    const first = page.locator('[data-hg-role="observable"]').first();
    const type = await first.getAttribute("data-hg-ioc-type");
    const value = await first.locator('[data-hg-role="observable-value"]').textContent();
    const rows = expected.rows[`${type}\t${value}`];
    assert.ok(rows, `the kernel lists ${type} ${value} among frequent observables`);
    await first.click();
    await page.waitForFunction(() => Object.keys(window.__model.get("selection") ?? {}).length > 0, null, { timeout: 10_000 });
    const selection = await page.evaluate(() => window.__model.get("selection"));
    assert.deepEqual(selection, { records: rows });
    assert.equal(await page.getAttribute('[data-hg-widget="ioc_view"]', "data-hg-selected-count"), String(rows.length));
    const shownRows = await page.$$eval('[data-hg-role="record-line"]', (n) => n.map((x) => Number(x.getAttribute("data-hg-row"))));
    assert.ok(shownRows.length > 0 && shownRows.every((r) => rows.includes(r)), "the list shows the selected records");
    await page.click('[data-hg-tool="clear"]');
    await page.waitForFunction(() => (window.__model.get("selection")?.records ?? [1]).length === 0, null, { timeout: 10_000 });
  });

  test("type filter hides a type's highlights and observables", async () => {
    await page.click('[data-hg-role="legend-item"][data-hg-ioc-type="ipv4"]');
    assert.equal(await page.$$eval('[data-hg-role="ioc"][data-hg-ioc-type="ipv4"]', (s) => s.length), 0);
    assert.equal(await page.$$eval('[data-hg-role="observable"][data-hg-ioc-type="ipv4"]', (s) => s.length), 0);
    await page.click('[data-hg-role="legend-item"][data-hg-ioc-type="ipv4"]');
    assert.ok((await page.$$eval('[data-hg-role="ioc"][data-hg-ioc-type="ipv4"]', (s) => s.length)) > 0);
  });

  test("scrolling 100,000 records keeps the DOM row count small", async () => {
    const result = await page.evaluate(async () => {
      const box = document.querySelector('[data-hg-role="records"]');
      const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
      const counts = [];
      for (const fraction of [0.25, 0.5, 0.75, 1]) {
        box.scrollTop = box.scrollHeight * fraction;
        await frame();
        await frame();
        counts.push(box.querySelectorAll('[data-hg-role="record-line"]').length);
      }
      const rows = [...box.querySelectorAll('[data-hg-role="record-line"]')].map((n) => Number(n.getAttribute("data-hg-row")));
      return { counts, last: Math.max(...rows), lines: Number(document.querySelector('[data-hg-widget="ioc_view"]').getAttribute("data-hg-n-lines")) };
    });
    assert.equal(result.lines, RECORDS, "every record holds an indicator");
    assert.equal(result.last, RECORDS - 1, "the last record is reachable");
    for (const count of result.counts) assert.ok(count > 0 && count < 80, `DOM lines after scrolling: ${result.counts}`);
  });

  test("theme follows the traitlet; cleanup removes the widget", async () => {
    await page.evaluate(() => window.__model.set("theme", "dark"));
    assert.equal(await page.getAttribute('[data-hg-widget="ioc_view"]', "data-hg-theme"), "dark");
    await page.evaluate(() => window.__cleanup());
    assert.equal(await page.$$eval('[data-hg-widget="ioc_view"]', (n) => n.length), 0);
  });
});
