// The demo page's decode section (`huntglass serve`, examples/pages) in Debian's chromium: the
// DecodeView of the scenario's SecurityEvent.CommandLine decodes in the page and shows the same
// layers and indicators as the kernel-side hg.decode.unpack(..., iocs=True) on the same table;
// every domain the decoded scripts name (the C2 domain among them) is highlighted; no page error
// or dialog.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { HUNTGLASS_BIN, openDemoPage, runPython, waitForWidgetReady } from "./lib.mjs";

/** Kernel-side decode of the scenario's command lines (same seed and scale as serve). */
function kernelSide() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-demo-decode-"));
  try {
    const generated = spawnSync(HUNTGLASS_BIN, ["demo-data", "--out", dir], { encoding: "utf8", timeout: 300_000 });
    assert.equal(generated.status, 0, `huntglass demo-data failed: ${generated.stderr}${generated.stdout}`);
    const out = runPython(
      `
import json, sys
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import huntglass as hg
with open(f"{sys.argv[1]}/SecurityEvent.arrow", "rb") as f:
    data = ipc.open_stream(f.read()).read_all()
layers, iocs = hg.decode.unpack(data, column="CommandLine", iocs=True)
dns = sorted(set(iocs.filter(pc.equal(iocs["IoCType"], "dns"))["Canonical"].to_pylist()))
print(json.dumps({
    "layers": layers.num_rows,
    "iocs": iocs.num_rows,
    "decoded": len(set(layers.column("src_index").to_pylist())),
    "chains": sorted(set(layers.column("chain").to_pylist())),
    "dns": dns,
}))
`,
      [dir],
    );
    return JSON.parse(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("demo page decode section", { timeout: 600_000 }, () => {
  let server;
  let browser;
  let page;
  let seen;
  const root = '#decode-widget [data-hg-widget="decode_view"]';

  before(async () => {
    ({ server, browser, page, seen } = await openDemoPage());
    await waitForWidgetReady(page, root);
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  test("layers and indicators equal the kernel-side decode of the scenario", async () => {
    const expected = kernelSide();
    assert.ok(expected.layers >= 4, `the scenario has encoded command lines: ${JSON.stringify(expected)}`);
    assert.equal(await page.getAttribute(root, "data-hg-n-layers"), String(expected.layers));
    assert.equal(await page.getAttribute(root, "data-hg-n-iocs"), String(expected.iocs));
    assert.equal(await page.getAttribute(root, "data-hg-n-decoded"), String(expected.decoded));
    // Every page of records: the chains shown and the domains highlighted in decoded text.
    const chains = new Set();
    const domains = new Set();
    const pages = Number(await page.getAttribute(root, "data-hg-pages"));
    for (let p = 0; p < pages; p++) {
      for (const c of await page.$$eval(`${root} [data-hg-role="chain"]`, (n) => n.map((x) => x.textContent))) chains.add(c);
      const found = await page.$$eval(`${root} [data-hg-role="ioc"]`, (n) => n.map((x) => x.textContent.toLowerCase()));
      for (const d of found) domains.add(d);
      if (p < pages - 1) await page.click('#decode-widget [data-hg-tool="next"]');
    }
    assert.deepEqual([...chains].sort(), expected.chains);
    assert.ok(chains.has("base64 > utf16le"), `the -enc command line is decoded: ${[...chains]}`);
    // A host is highlighted on its own or inside its URL's highlight.
    const highlighted = [...domains];
    for (const d of expected.dns) assert.ok(highlighted.some((h) => h.includes(d)), `${d} is highlighted in decoded text: ${highlighted}`);
    assert.ok(expected.dns.length > 0, "the decoded scripts name domains");
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.pageErrors, []);
  });
});
