// The demo page's threat-intelligence section (`huntglass serve`, examples/pages) in Debian's
// chromium: the page asks /api/ti (with its HttpOnly token cookie) about the scenario's
// indicators against the proxy's key-less default providers (the scenario's local feed and Tor
// exit list) and shows the answer in a TIBrowser. The groups and their worst severities must be
// those the API itself returns for the same observables (asked with the bearer token), the
// attacker's address first; clicking it shows the feed's record as text.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { OUT_DIR, openDemoPage, waitForWidgetReady } from "./lib.mjs";

const SEL = '#ti-widget [data-hg-widget="ti_browser"]';
const RANK = { high: 0, warning: 1, information: 2, unknown: 3 };

describe("demo page threat-intelligence section", { timeout: 600_000 }, () => {
  let server;
  let browser;
  let page;
  let seen;
  let origin;
  let token;

  before(async () => {
    ({ server, browser, page, seen } = await openDemoPage([], { withToken: true }));
    ({ origin, token } = server);
    await waitForWidgetReady(page, SEL);
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  test("the groups are the API's answer, worst severity first", async () => {
    // The same look-up straight from the API (JSON), with the bearer token; the list is the
    // page's (examples/pages/overview.js TI_OBSERVABLES).
    const list = [
      "203.0.113.77", "198.51.100.23", "198.51.100.41", "telemetry-sync.example.net", "files.docsign-verify.example.com",
      "http://files.docsign-verify.example.com/dl/upd.bin", "login-micros0ft-secure.example.com",
      "9f2c4e81b7a05d3c6e19f0a8b24d7c53e1f9a06b8d2c4e7f13a5b9c0d6e8f247", "192.0.2.10",
    ];
    const response = await fetch(`${origin}/api/ti`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ observables: list }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const { results } = await response.json();
    const worst = new Map();
    for (const r of results) {
      const key = r.Ioc;
      if (!worst.has(key) || RANK[r.Severity] < RANK[worst.get(key)]) worst.set(key, r.Severity);
    }
    const expected = [...worst.entries()]
      .filter(([, s]) => s === "high" || s === "warning")
      .sort((a, b) => RANK[a[1]] - RANK[b[1]] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    assert.ok(expected.length >= 7, JSON.stringify(expected));
    const groups = await page.$$eval(`${SEL} [data-hg-role="group"]`, (g) => g.map((x) => [x.getAttribute("data-hg-ioc"), x.getAttribute("data-hg-severity")]));
    assert.deepEqual(groups, expected);
    assert.equal(await page.getAttribute(SEL, "data-hg-n-results"), String(results.length));
    assert.ok(!groups.some(([ioc]) => ioc === "192.0.2.10"), "the office egress address is in no feed");
  });

  test("clicking the attacker's address shows the feed's record as text", async () => {
    await page.click(`${SEL} [data-hg-role="group"][data-hg-ioc="203.0.113.77"]`);
    const answers = await page.$$eval(`${SEL} [data-hg-role="answer"]`, (a) =>
      a.map((x) => [x.getAttribute("data-hg-provider"), x.querySelector('[data-hg-role="details"]').textContent]),
    );
    const feed = answers.find(([p]) => p === "LocalFeed");
    assert.ok(feed && feed[1].includes("Password spray"), JSON.stringify(answers));
    assert.ok(answers.some(([p, d]) => p === "Tor" && d === "Not found."));
    // The Arrow answer's Result column is read by the page's Arrow reader (text True/False).
    const heads = await page.$$eval(`${SEL} [data-hg-role="answer"] > div:first-child`, (h) => h.map((x) => x.textContent));
    assert.ok(heads.some((t) => t.startsWith("LocalFeed: high · found: True")), JSON.stringify(heads));
    assert.ok(heads.some((t) => t.startsWith("Tor: information · found: False")), JSON.stringify(heads));
    assert.deepEqual(seen.pageErrors, []);
    mkdirSync(OUT_DIR, { recursive: true });
    await page.locator("#ti").screenshot({ path: path.join(OUT_DIR, "ti_demo.png") });
  });
});
