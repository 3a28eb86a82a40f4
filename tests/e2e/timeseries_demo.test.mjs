// The demo page's timeseries section (`huntglass serve`, examples/pages) in Debian's chromium:
// the scenario's NetworkBytes decomposed in the page (timeseries.stl in hg_kernel.wasm, one
// series per Computer), LRK-WS104 shown: exactly the two exfiltration hours are listed, as the
// kernel-side hg.timeseries.anomalies finds, and clicking one centres the view on it, without
// page error or dialog.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openDemoPage, runPython, waitForWidgetReady } from "./lib.mjs";

const ROOT_SEL = '#timeseries-widget [data-hg-widget="ts_anomalies"]';

describe("demo page timeseries section", { timeout: 600_000 }, () => {
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

  test("the two exfiltration hours of LRK-WS104, as the kernel finds them", async () => {
    const expected = JSON.parse(
      runPython(`
import json
import huntglass as hg
frame = hg.demo.load("NetworkBytes")
ws104 = frame[frame["Computer"] == "LRK-WS104"]
out = hg.timeseries.anomalies(ws104, "TimeGenerated", "TotalBytesSent")
flagged = out[out["anomalies"] != 0]
print(json.dumps({"n": len(out), "times": [t.strftime("%Y-%m-%d %H:%M") for t in flagged["TimeGenerated"]]}))
`),
    );
    assert.deepEqual(expected.times, ["2026-11-05 02:00", "2026-11-06 03:00"]);
    assert.equal(await page.getAttribute(ROOT_SEL, "data-hg-n-points"), String(expected.n));
    const items = await page.$$eval(`${ROOT_SEL} [data-hg-role="anomaly"]`, (els) => els.map((e) => e.textContent));
    assert.deepEqual(
      items.map((t) => t.slice(0, 16)),
      expected.times,
    );
    const before = await page.getAttribute(ROOT_SEL, "data-hg-view");
    await page.click(`${ROOT_SEL} [data-hg-role="anomaly"] >> nth=1`);
    await page.waitForFunction(([sel, old]) => document.querySelector(sel).getAttribute("data-hg-view") !== old, [ROOT_SEL, before], { timeout: 10_000 });
    const [a, b] = (await page.getAttribute(ROOT_SEL, "data-hg-view")).split(",").map(Number);
    const t = Date.parse("2026-11-06T03:00:00Z");
    assert.ok(a < t && t < b, `${a}..${b}`);
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.pageErrors, []);
  });
});
