// The demo page's periodic connections (`huntglass serve`, examples/pages, in the timeseries
// section) in Debian's chromium: the scenario's proxy log ranked in the page (timeseries.periodic
// in hg_kernel.wasm): the C2 beacon (10.20.1.104 -> 198.51.100.23, every 300 s) first, the same
// ranking as the kernel-side hg.timeseries.periodic, without page error or dialog.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openDemoPage, runPython, waitForWidgetReady } from "./lib.mjs";

const ROOT_SEL = '#periodic-widget [data-hg-widget="periodic"]';

describe("demo page periodic connections", { timeout: 600_000 }, () => {
  let server;
  let browser;
  let page;
  let seen;

  before(async () => {
    ({ server, browser, page, seen } = await openDemoPage());
    await waitForWidgetReady(page, ROOT_SEL);
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  test("the C2 beacon first, as the kernel ranks it", async () => {
    const expected = JSON.parse(
      runPython(`
import json
import huntglass as hg
proxy = hg.demo.load("CommonSecurityLog")
ranking = hg.timeseries.periodic(proxy, "TimeGenerated", ["SourceIP", "DestinationIP"]).head(12)
print(json.dumps([[s, d, int(n)] for s, d, n in zip(ranking["SourceIP"], ranking["DestinationIP"], ranking["events"])]))
`),
    );
    assert.deepEqual(expected[0].slice(0, 2), ["10.20.1.104", "198.51.100.23"]);
    assert.equal(await page.getAttribute(ROOT_SEL, "data-hg-n-pairs"), "12");
    const lines = await page.$$eval(`${ROOT_SEL} [data-hg-role="pair"]`, (els) => els.map((e) => e.textContent));
    assert.equal(lines.length, 12);
    lines.forEach((line, i) => {
      const [source, destination, events] = expected[i];
      assert.ok(line.startsWith(`${i + 1}. ${source} → ${destination}  every `), line);
      assert.ok(line.endsWith(`${events} events`), line);
    });
    assert.match(lines[0], /every 300\.0 s/);
    await page.click(`${ROOT_SEL} [data-hg-role="pair"] >> nth=1`);
    assert.equal(await page.getAttribute(ROOT_SEL, "data-hg-selected-rank"), "1");
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.pageErrors, []);
  });
});
