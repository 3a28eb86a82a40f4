// The demo page's IoC section (`huntglass serve`, examples/pages) in Debian's chromium: both
// IocViews of the built-in scenario (SecurityEvent.CommandLine with paths, CommonSecurityLog
// .RequestURL) extract in the page and show per-type counts equal to the kernel-side
// hg.ioc.extract on the same scenario tables, with highlights and no page error or dialog.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { HUNTGLASS_BIN, openDemoPage, runPython } from "./lib.mjs";

/** Kernel-side counts per type of the scenario's two columns (same seed and scale as serve). */
function kernelCounts() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-demo-ioc-"));
  try {
    const generated = spawnSync(HUNTGLASS_BIN, ["demo-data", "--out", dir], { encoding: "utf8", timeout: 300_000 });
    assert.equal(generated.status, 0, `huntglass demo-data failed: ${generated.stderr}${generated.stdout}`);
    const out = runPython(
      `
import json, sys
import pyarrow.ipc as ipc
import huntglass as hg
counts = {}
for table, column, paths in (("SecurityEvent", "CommandLine", True), ("CommonSecurityLog", "RequestURL", False)):
    with open(f"{sys.argv[1]}/{table}.arrow", "rb") as f:
        data = ipc.open_stream(f.read()).read_all()
    found = hg.ioc.extract(data, columns=[column], include_paths=paths, input_text=False)
    tally = found.column("IoCType").value_counts().to_pylist()
    counts[table] = {d["values"]: int(d["counts"]) for d in tally}
print(json.dumps(counts))
`,
      [dir],
    );
    return JSON.parse(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("demo page IoC section", { timeout: 600_000 }, () => {
  let server;
  let browser;
  let page;
  let seen;

  before(async () => {
    ({ server, browser, page, seen } = await openDemoPage());
    await page.waitForFunction(
      () => {
        const roots = [...document.querySelectorAll('[data-hg-widget="ioc_view"]')];
        for (const root of roots) {
          if (root.getAttribute("data-hg-state") === "error") throw new Error(root.textContent ?? "error");
        }
        return roots.length === 2 && roots.every((r) => r.getAttribute("data-hg-state") === "ready");
      },
      null,
      { timeout: 300_000, polling: 200 },
    );
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  test("counts per type equal the kernel-side extraction of the scenario tables", async () => {
    const expected = kernelCounts();
    for (const [section, table] of [["ioc-commands", "SecurityEvent"], ["ioc-proxy", "CommonSecurityLog"]]) {
      const counts = await page.$$eval(`#${section}-widget [data-hg-role="legend-item"]`, (items) =>
        Object.fromEntries(items.map((i) => [i.getAttribute("data-hg-ioc-type"), Number(i.getAttribute("data-hg-count"))])),
      );
      assert.deepEqual(counts, expected[table], section);
      assert.ok(Object.keys(counts).length > 0, `${section} finds indicators in the scenario`);
      const highlights = await page.$$eval(`#${section}-widget [data-hg-role="ioc"]`, (s) => s.length);
      assert.ok(highlights > 0, `${section} highlights indicators`);
    }
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.pageErrors, []);
  });
});
