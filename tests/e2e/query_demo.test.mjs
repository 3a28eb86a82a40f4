// The demo page's queries section (`huntglass serve`, examples/pages) in Debian's chromium: the
// QueryBrowser lists the proxy's local library by family, filters it with the search box, runs
// queries against the built-in scenario through /api/query with the page's HttpOnly token cookie
// (set by opening the printed URL), and shows the row count the API itself reports for the same
// query. A page opened without the token gets a clear message instead of results, and hostile
// input typed into a parameter stays text.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openDemoPage, waitForWidgetReady } from "./lib.mjs";

/** The origin `huntglass serve` prints and the token of its `token: ...` line. */
/** Rows of a named query, asked directly from the API with the bearer token (Node's fetch). */
async function apiRows(origin, token, query, parameters) {
  const response = await fetch(`${origin}/api/query`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ provider: "local", query, parameters, format: "json", max_rows: 10000 }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  const body = await response.json();
  return body.trailer.rows;
}

describe("demo page queries section", { timeout: 600_000 }, () => {
  let server;
  let browser;
  let page;
  let seen;
  let origin;
  let token;

  before(async () => {
    ({ server, browser, page, seen } = await openDemoPage([], { withToken: true }));
    ({ origin, token } = server);
    // Clicks wait for the widget to settle; on a loaded shared machine that takes longer than
    // playwright's 30 s default.
    page.setDefaultTimeout(120_000);
    assert.equal(new URL(page.url()).search, "", "the token is dropped from the address after the redirect");
    await waitForWidgetReady(page, '#queries-widget [data-hg-widget="query_browser"]');
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  test("the library is listed by family and the search box filters it", async () => {
    const families = await page.$$eval('#queries-widget [data-hg-role="family"]', (f) => f.map((x) => x.textContent));
    for (const family of ["Dns", "Network", "Office365", "SecurityAlert", "WindowsSecurity"]) {
      assert.ok(families.includes(family), `family ${family} in ${families}`);
    }
    const all = Number(await page.getAttribute('#queries-widget [data-hg-widget="query_browser"]', "data-hg-n-queries"));
    assert.ok(all >= 25, `${all} queries`);
    await page.fill('#queries-widget [data-hg-role="search"]', "logon");
    const shown = await page.$$eval('#queries-widget [data-hg-role="query"]', (q) => q.map((x) => x.getAttribute("data-hg-query")));
    assert.ok(shown.length > 0 && shown.length < all, `${shown.length} of ${all}`);
    assert.ok(shown.every((name) => /logon/i.test(name)), shown.join(", "));
    await page.fill('#queries-widget [data-hg-role="search"]', "");
    // The chosen query's help and parameters are shown as text.
    assert.equal(await page.getAttribute('#queries-widget [data-hg-widget="query_browser"]', "data-hg-selected"), "WindowsSecurity.list_host_processes");
    const params = await page.$$eval('#queries-widget [data-hg-role="param"]', (p) => p.map((x) => [x.getAttribute("data-hg-param"), x.value]));
    assert.deepEqual(Object.fromEntries(params).start, "2026-11-02T00:00:00Z");
  });

  test("running a query shows the rows the API returns for it", async () => {
    await page.fill('#queries-widget [data-hg-param="host_name"]', "LRK-WS104");
    await page.click('#queries-widget [data-hg-role="run"]');
    await page.waitForFunction(
      () => ["done", "error"].includes(document.querySelector('#queries-widget [data-hg-widget="query_browser"]')?.getAttribute("data-hg-state") ?? ""),
      null,
      { timeout: 120_000, polling: 100 },
    );
    const status = await page.textContent('#queries-widget [data-hg-role="status"]');
    assert.equal(await page.getAttribute('#queries-widget [data-hg-widget="query_browser"]', "data-hg-state"), "done", status ?? "");
    const cells = await page.$$eval('#queries-widget [data-hg-role="result"] tr', (rows) =>
      rows.slice(1).map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent)),
    );
    assert.equal(cells.length, 50, "the preview shows the first 50 rows");
    const header = await page.$$eval('#queries-widget [data-hg-role="result"] th', (h) => h.map((x) => x.textContent));
    const computer = header.indexOf("Computer");
    assert.ok(computer >= 0, header.join(","));
    assert.ok(cells.every((row) => row[computer] === "LRK-WS104"));
    const expected = await apiRows(origin, token, "WindowsSecurity.list_host_processes", { host_name: "LRK-WS104" });
    assert.ok(expected > 50);
    assert.match(status ?? "", /^50\+ rows/, "the preview is cut at 50 and says there are more");

    // A small result: all rows, the count equal to the API's.
    await page.click('#queries-widget [data-hg-query="SecurityAlert.summarize_alerts"]');
    await page.click('#queries-widget [data-hg-role="run"]');
    await page.waitForFunction(
      () => document.querySelector('#queries-widget [data-hg-widget="query_browser"]')?.getAttribute("data-hg-selected") === "SecurityAlert.summarize_alerts" &&
        document.querySelector('#queries-widget [data-hg-widget="query_browser"]')?.getAttribute("data-hg-state") === "done",
      null,
      { timeout: 120_000, polling: 100 },
    );
    const rows = Number(await page.getAttribute('#queries-widget [data-hg-widget="query_browser"]', "data-hg-result-rows"));
    assert.equal(rows, await apiRows(origin, token, "SecurityAlert.summarize_alerts", {}));
  });

  test("hostile parameter values stay text and match nothing", async () => {
    await page.click('#queries-widget [data-hg-query="WindowsSecurity.list_host_processes"]');
    await page.fill('#queries-widget [data-hg-param="host_name"]', "<img src=x onerror=alert(1)>' OR '1'='1");
    await page.click('#queries-widget [data-hg-role="run"]');
    await page.waitForFunction(
      () => document.querySelector('#queries-widget [data-hg-widget="query_browser"]')?.getAttribute("data-hg-result-rows") === "0",
      null,
      { timeout: 120_000, polling: 100 },
    );
    assert.equal(await page.$$eval("#queries-widget img", (i) => i.length), 0);
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.pageErrors, []);
  });

  test("a page opened without the token explains how to get it", async () => {
    const context = await browser.newContext();
    const bare = await context.newPage();
    await bare.goto(`${origin}/`);
    await bare.waitForSelector('#queries-widget [data-hg-role="error"]', { timeout: 120_000 });
    const text = await bare.textContent('#queries-widget [data-hg-role="error"]');
    assert.match(text ?? "", /URL printed by huntglass serve/);
    await context.close();
  });
});
