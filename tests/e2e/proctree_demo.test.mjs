// The demo page's process-tree section (`huntglass serve`, examples/pages) in Debian's chromium:
// the page builds the scenario's SecurityEvent tree with hg_kernel.wasm (proctree.build), the row
// count equals the kernel-side hg.proctree.build on the same scenario, the initial "-enc" search
// finds the encoded PowerShell on LRK-WS104, and the lines on screen (side table) show its chain
// WINWORD.EXE -> powershell.exe as text, with no page error or dialog.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { HUNTGLASS_BIN, openDemoPage, runPython } from "./lib.mjs";

function kernelTree() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-demo-proctree-"));
  try {
    const generated = spawnSync(HUNTGLASS_BIN, ["demo-data", "--out", dir], { encoding: "utf8", timeout: 300_000 });
    assert.equal(generated.status, 0, `huntglass demo-data failed: ${generated.stderr}${generated.stdout}`);
    const out = runPython(
      `
import json, sys
import pyarrow.ipc as ipc
import huntglass as hg
with open(f"{sys.argv[1]}/SecurityEvent.arrow", "rb") as f:
    events = ipc.open_stream(f.read()).read_all()
tree = hg.proctree.build(events, "windows_4688").to_pandas()
enc = tree[tree["CommandLine"].astype(str).str.contains("-enc", regex=False)]
print(json.dumps({"rows": len(tree), "matches": int(len(enc))}))
`,
      [dir],
    );
    return JSON.parse(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("demo page process-tree section", { timeout: 600_000 }, () => {
  let server;
  let browser;
  let page;
  let seen;
  let expected;
  const root = '#proctree [data-hg-widget="process_tree"]';

  before(async () => {
    expected = kernelTree();
    ({ server, browser, page, seen } = await openDemoPage());
    await page.waitForFunction(
      (sel) => {
        const el = document.querySelector(sel);
        if (el?.getAttribute("data-hg-state") === "error") throw new Error(el.textContent ?? "error");
        return Number(el?.getAttribute("data-hg-render-count") ?? 0) >= 1 && el.hasAttribute("data-hg-matches");
      },
      root,
      { timeout: 300_000, polling: 200 },
    );
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the page builds the same tree as the kernel and finds the encoded PowerShell", async () => {
    assert.equal(await page.getAttribute(root, "data-hg-n-rows"), String(expected.rows));
    assert.equal(await page.getAttribute(root, "data-hg-matches"), String(expected.matches));
    assert.ok(expected.matches >= 1);
    assert.equal(await page.inputValue('#proctree [data-hg-role="search"]'), "-enc");
  });

  test("the lines on screen show the chain WINWORD.EXE -> powershell -enc as text", async () => {
    await page.click('#proctree [data-hg-tool="table"]');
    await page.waitForSelector('#proctree [data-hg-role="visible-table"] tr[data-hg-row]', { timeout: 10_000 });
    const onScreen = () => page.$$eval('#proctree [data-hg-role="visible-table"] tr[data-hg-row]', (n) => n.map((r) => r.textContent ?? ""));
    let rows = await onScreen();
    // Other processes may carry "-enc" too: step through the matches until the chain is on screen.
    for (let i = 0; i < expected.matches && !rows.some((r) => r.includes("WINWORD.EXE")); i += 1) {
      const before = Number(await page.getAttribute(root, "data-hg-render-count"));
      await page.click('#proctree [data-hg-tool="next"]');
      await page.waitForFunction(
        ([sel, n]) => Number(document.querySelector(sel).getAttribute("data-hg-render-count")) > n,
        [root, before],
        { timeout: 10_000 },
      );
      rows = await onScreen();
    }
    const word = rows.findIndex((r) => r.includes("WINWORD.EXE"));
    const ps = rows.findIndex((r) => r.includes("powershell.exe") && r.includes("-enc"));
    assert.ok(word >= 0, `WINWORD.EXE on screen: ${rows.slice(0, 5).join(" | ")}`);
    assert.ok(ps > word, "the encoded PowerShell is below WINWORD.EXE");
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.dialogs, []);
  });
});
