// The TIBrowser widget in Debian's chromium, mounted through mountStandalone with the real
// widget.js and browser wasm (widgets/src/huntglass/static, built by scripts/build.sh) on the
// results data set Python's hg.TIBrowser sends: rows of several providers and severities, with
// hostile text in an observable, in details and in a raw result. Groups by observable with the
// worst severity first; the default filter shows high and warning; severity and provider filters
// change the groups; clicking a group lists each provider's answer as text (no element made, no
// dialog) and sends the group's rows as the selection.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { OUT_DIR, ROOT, launchBrowser, requireFile, runPython, watchPage } from "./lib.mjs";

// HUNTGLASS_STATIC_DIR: another folder of built assets, as for the Python package.
const STATIC = process.env.HUNTGLASS_STATIC_DIR ?? path.join(ROOT, "widgets/src/huntglass/static");
const HOSTILE = "<img src=x onerror=alert(1)>";

function prepare(dir) {
  runPython(
    `
import base64, json, sys
import pandas as pd
from huntglass.ti_browser import TIBrowser
from huntglass._html import STATE_KEYS

out, hostile = sys.argv[1], sys.argv[2]
rows = [
    ("203.0.113.77", "ipv4", "LocalFeed", True, "high", {"Description": "Password spray " + hostile}, {"x": hostile}, "feed:ti_feed.csv", 0),
    ("203.0.113.77", "ipv4", "Tor", False, "information", "Not found.", None, "file:tor", 4),
    ("telemetry-sync.example.net", "dns", "LocalFeed", True, "high", {"Description": "C2"}, {}, "feed:ti_feed.csv", 0),
    ("login-micros0ft-secure.example.com", "dns", "LocalFeed", True, "warning", {"Description": "Phish"}, {}, "feed:ti_feed.csv", 0),
    ("8.8.8.8", "ipv4", "LocalFeed", False, "information", "Not found.", None, "feed:ti_feed.csv", 4),
    ("8.8.8.8", "ipv4", "Tor", False, "information", "Not found.", None, "file:tor", 4),
    (hostile, "unknown", "LocalFeed", False, "unknown", "Not a recognised indicator.", None, "", 2),
    ("192.0.2.62", "ipv4", "Tor", True, "warning", {"NodeID": "1F2E", "LastStatus": "2026-11-02 00:00:00"}, {}, "file:tor", 0),
]
df = pd.DataFrame(rows, columns=["Ioc", "IocType", "Provider", "Result", "Severity", "Details", "RawResult", "Reference", "Status"])
widget = TIBrowser(df)
data = widget._hg_data["results"]
state = {key: getattr(widget, key) for key in STATE_KEYS}
with open(f"{out}/page.json", "w") as f:
    json.dump({"state": state, "data": base64.b64encode(b"".join(bytes(c) for c in data.chunks)).decode(), "rows": len(df)}, f)
`,
    [dir, HOSTILE],
  );
  return JSON.parse(readFileSync(path.join(dir, "page.json"), "utf8"));
}

const ROOT_SEL = '[data-hg-widget="ti_browser"]';

describe("TIBrowser in chromium", { timeout: 300_000 }, () => {
  let browser;
  let page;
  let seen;
  let expected;
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-ti-"));

  before(async () => {
    for (const file of ["widget.js", "hg_wasm_bg.wasm"]) requireFile(path.join(STATIC, file), `static/${file}`);
    expected = prepare(dir);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    seen = watchPage(page);
    await page.setContent('<!doctype html><html><body><div id="host" style="width:1100px"></div></body></html>');
    const bundle = readFileSync(path.join(STATIC, "widget.js"), "utf8");
    const wasm = readFileSync(path.join(STATIC, "hg_wasm_bg.wasm")).toString("base64");
    await page.evaluate(
      async ({ bundle, wasm, data, state }) => {
        window.__alerts = 0;
        window.alert = () => (window.__alerts += 1);
        const url = URL.createObjectURL(new Blob([bundle], { type: "text/javascript" }));
        const module = await import(url);
        const { model, cleanup } = await module.mountStandalone(document.getElementById("host"), { state, wasm, datasets: { results: data } });
        window.__model = model;
        window.__cleanup = cleanup;
      },
      { bundle, wasm, data: expected.data, state: expected.state },
    );
    await page.waitForFunction(
      (sel) => {
        const root = document.querySelector(sel);
        const state = root?.getAttribute("data-hg-state");
        if (state === "error") throw new Error(root.querySelector('[data-hg-role="error"]')?.textContent ?? "error");
        return state === "ready";
      },
      ROOT_SEL,
      { timeout: 120_000, polling: 200 },
    );
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const groups = () =>
    page.$$eval('[data-hg-role="group"]', (items) => items.map((g) => [g.getAttribute("data-hg-ioc"), g.getAttribute("data-hg-severity")]));

  test("groups by observable, worst severity first, high and warning by default", async () => {
    assert.equal(await page.getAttribute(ROOT_SEL, "data-hg-n-results"), String(expected.rows));
    assert.deepEqual(await groups(), [
      ["203.0.113.77", "high"],
      ["telemetry-sync.example.net", "high"],
      ["192.0.2.62", "warning"],
      ["login-micros0ft-secure.example.com", "warning"],
    ]);
    const badge = await page.$eval('[data-hg-role="group"] [data-hg-role="badge"]', (b) => getComputedStyle(b).backgroundColor);
    assert.equal(badge, "rgb(214, 39, 40)", "high is red");
  });

  test("severity and provider filters change the groups", async () => {
    await page.click('[data-hg-severity="information"] input');
    await page.click('[data-hg-severity="unknown"] input');
    assert.equal(await page.getAttribute(ROOT_SEL, "data-hg-n-groups"), "6");
    const all = await groups();
    assert.ok(all.some(([ioc, sev]) => ioc === "8.8.8.8" && sev === "information"));
    assert.ok(all.some(([ioc, sev]) => ioc === HOSTILE && sev === "unknown"), "hostile observable listed as text");
    await page.click('[data-hg-provider="LocalFeed"] input');
    assert.deepEqual(await groups(), [
      ["192.0.2.62", "warning"],
      ["203.0.113.77", "information"],
      ["8.8.8.8", "information"],
    ]);
    await page.click('[data-hg-provider="LocalFeed"] input');
    assert.equal(await page.getAttribute(ROOT_SEL, "data-hg-n-groups"), "6");
  });

  test("clicking a group shows every provider's answer as text and selects its rows", async () => {
    await page.click('[data-hg-role="group"][data-hg-ioc="203.0.113.77"]');
    const answers = await page.$$eval('[data-hg-role="answer"]', (items) =>
      items.map((a) => ({ provider: a.getAttribute("data-hg-provider"), details: a.querySelector('[data-hg-role="details"]').textContent })),
    );
    assert.deepEqual(answers.map((a) => a.provider), ["LocalFeed", "Tor"]);
    assert.ok(answers[0].details.includes(`Password spray ${HOSTILE}`), answers[0].details);
    assert.equal(answers[1].details, "Not found.");
    await page.click('[data-hg-role="raw"] summary');
    const raw = await page.$eval('[data-hg-role="raw"] pre', (p) => p.textContent);
    assert.ok(raw.includes(HOSTILE));
    await page.click(`[data-hg-role="group"][data-hg-ioc="${HOSTILE}"]`);
    const made = await page.$$eval(`${ROOT_SEL} script, ${ROOT_SEL} img`, (nodes) => nodes.length);
    assert.equal(made, 0);
    assert.equal(await page.evaluate(() => window.__alerts), 0);
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.pageErrors, []);
    await page.click('[data-hg-role="group"][data-hg-ioc="203.0.113.77"]');
    await page.waitForFunction(() => (window.__model.get("selection")?.results ?? []).length === 2, null, { timeout: 10_000 });
    assert.deepEqual(await page.evaluate(() => window.__model.get("selection")), { results: [0, 1] });
    assert.equal(await page.getAttribute(ROOT_SEL, "data-hg-selected-count"), "2");
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUT_DIR, "ti_browser.png") });
  });

  test("theme follows the traitlet; cleanup removes the widget", async () => {
    await page.evaluate(() => window.__model.set("theme", "dark"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute("data-hg-theme") === "dark", ROOT_SEL, { timeout: 10_000 });
    await page.evaluate(() => window.__cleanup());
    assert.equal(await page.$(ROOT_SEL), null);
  });
});
