// The demo page's geolocation section (`huntglass serve`, examples/pages) in Debian's chromium:
// the proxy log (CommonSecurityLog) on a GeoMap whose addresses the page locates through the
// proxy's offline /api/geo. Every row has the office end (private addresses, drawn at the page's
// assumed site); public destinations sit at their country's centroid, as the API places them
// (checked against the API for the hovered destination); the attacker's documentation-range
// servers that the alerts name (C2, payload host) stand where the alerts' ip entities place them,
// the others have no place, so their rows have no arc. A click selects a destination's rows. The
// TI section's map puts the scenario's addresses where the alerts place them.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { OUT_DIR, openDemoPage, waitForWidgetReady } from "./lib.mjs";

const SEL = '#geo-widget [data-hg-widget="geo_map"]';
const TI_MAP = '#ti-map-widget [data-hg-widget="geo_map"]';
/** Where hg_demo's alerts place the attacker's servers (org.rs: *_LOCATION). */
const ALERT_PLACES = {
  "203.0.113.77": /Amsterdam, Netherlands.*location from the alert/,
  "198.51.100.23": /Singapore, Singapore.*location from the alert/,
  "198.51.100.41": /Frankfurt am Main, Germany.*location from the alert/,
};

/** Waits until the map in `sel` is drawn and its addresses looked up. */
async function waitForPlaces(page, sel) {
  await waitForWidgetReady(page, sel);
  await page.waitForFunction(
    (s) => {
      const state = document.querySelector(s)?.getAttribute("data-hg-lookup");
      if (state && state !== "pending" && state !== "done") throw new Error(`look-up failed: ${state}`);
      return state === "done";
    },
    sel,
    { timeout: 120_000, polling: 200 },
  );
  await page.locator(sel).scrollIntoViewIfNeeded();
}

/** Hovers every mark of the map in `sel` and returns the tooltips' texts. */
async function hoverEveryMark(page, sel) {
  await page.locator(sel).scrollIntoViewIfNeeded();
  const box = await page.$eval(`${sel} canvas`, (c) => {
    const r = c.getBoundingClientRect();
    return { left: r.left, top: r.top };
  });
  const texts = [];
  for (const [x, y] of JSON.parse(await page.getAttribute(sel, "data-hg-marks"))) {
    await page.mouse.move(box.left + x, box.top + y);
    await page.waitForFunction((s) => document.querySelector(`${s} [data-hg-role="tooltip"]`)?.style.display === "block", sel, { timeout: 10_000 });
    texts.push(await page.$eval(`${sel} [data-hg-role="tooltip"]`, (n) => n.textContent));
  }
  return texts;
}

describe("demo page geolocation section", { timeout: 600_000 }, () => {
  let server;
  let browser;
  let page;
  let seen;

  before(async () => {
    // The token in the URL gives the page its cookie for /api/geo.
    ({ server, browser, page, seen } = await openDemoPage([], { withToken: true }));
    await waitForPlaces(page, SEL);
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  const attr = (name) => page.getAttribute(SEL, name);
  const tooltip = () => page.$eval(`${SEL} [data-hg-role="tooltip"]`, (n) => (n.style.display === "block" ? n.textContent : ""));

  test("every connection of the proxy log is on the map by its office end", async () => {
    const manifest = await page.evaluate(() => fetch("/data/manifest.json").then((r) => r.json()));
    const rows = manifest.tables.find((t) => t.name === "CommonSecurityLog").rows;
    assert.equal(await attr("data-hg-n-rows"), String(rows));
    assert.equal(await attr("data-hg-placed"), String(rows), "the office end of every row is placed");
    assert.equal(await attr("data-hg-basemap"), "ready");
    assert.ok(Number(await attr("data-hg-n-lines")) >= 1, await attr("data-hg-n-lines"));
    const summary = await page.$eval(`${SEL} [data-hg-role="summary"]`, (n) => n.textContent);
    const oneEnd = summary.match(/(\d+) with only one end located/);
    assert.ok(oneEnd && Number(oneEnd[1]) >= 1, summary);
    assert.match(summary, /placed at a country centroid/);
  });

  test("destinations are where the API or the alerts place them; the office site is labelled as assumed", async () => {
    let checkedDestination = false;
    let sawOffice = false;
    const byAlert = new Set();
    for (const text of await hoverEveryMark(page, SEL)) {
      if (/End: source/.test(text)) {
        assert.match(text, /site is assumed by this page/);
        sawOffice = true;
        continue;
      }
      const ip = text.match(/DestinationIP: ([0-9.]+)/)?.[1];
      assert.ok(ip, text);
      if (/location from the alert/.test(text)) {
        // A documentation-range server: the offline data has no place, the alert's entity has.
        assert.match(text, ALERT_PLACES[ip] ?? /^$/, `${ip}: ${text}`);
        byAlert.add(ip);
        continue;
      }
      const record = await page.evaluate(async (address) => {
        const r = await fetch("/api/geo", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ips: [address] }) });
        return (await r.json()).results[0];
      }, ip);
      assert.equal(record.category, "public", ip);
      assert.ok(text.includes(`Place: ${record.country_name}`), `${ip}: ${text}`);
      assert.match(text, /approximate: centroid of/);
      checkedDestination = true;
    }
    assert.ok(sawOffice && checkedDestination, "hovered the office and a destination");
    // The beacon's and the payload download's server: arcs from the office, placed by the alerts.
    assert.deepEqual([...byAlert].sort(), ["198.51.100.23", "198.51.100.41"]);
  });

  test("the TI section's map shows the scenario's addresses where the alerts place them", async () => {
    await waitForPlaces(page, TI_MAP);
    const rows = await page.getAttribute(TI_MAP, "data-hg-n-rows");
    assert.ok(Number(rows) >= 4, rows);
    assert.equal(await page.getAttribute(TI_MAP, "data-hg-placed"), rows, "every address is placed");
    // One mark per address and severity (the local feed's verdict and the Tor list's "information"
    // may share a place): every hovered text names its address and where it stands.
    const placed = new Map();
    for (const text of await hoverEveryMark(page, TI_MAP)) {
      const ip = text.match(/Ioc: ([0-9.]+)/)?.[1];
      assert.ok(ip, text);
      placed.set(ip, [...(placed.get(ip) ?? []), text]);
    }
    for (const [ip, where] of Object.entries(ALERT_PLACES)) {
      assert.ok(placed.has(ip), `${ip} has a mark`);
      for (const text of placed.get(ip)) assert.match(text, where, ip);
    }
    for (const text of placed.get("192.0.2.10") ?? ["(no mark)"]) assert.match(text, /office's public egress address/);
    const legend = await page.$eval(`${TI_MAP} [data-hg-role="legend"]`, (n) => n.textContent);
    assert.match(legend, /high/);
    mkdirSync(OUT_DIR, { recursive: true });
    await page.locator(TI_MAP).screenshot({ path: path.join(OUT_DIR, "ti_map_demo.png") });
  });

  test("a click on a destination selects its connections", async () => {
    await page.locator(SEL).scrollIntoViewIfNeeded();
    const box = await page.$eval(`${SEL} canvas`, (c) => {
      const r = c.getBoundingClientRect();
      return { left: r.left, top: r.top };
    });
    const marks = JSON.parse(await attr("data-hg-marks"));
    // The largest destination: hover until one that is not the office.
    const sorted = [...marks].sort((a, b) => b[3] - a[3]);
    let target = null;
    for (const mark of sorted) {
      await page.mouse.move(box.left + mark[0], box.top + mark[1]);
      await page.waitForFunction((sel) => document.querySelector(`${sel} [data-hg-role="tooltip"]`)?.style.display === "block", SEL, { timeout: 10_000 });
      if (/End: destination/.test(await tooltip())) {
        target = mark;
        break;
      }
    }
    assert.ok(target, "a destination mark");
    const rows = Number((await tooltip()).match(/Rows: (\d+)/)[1]);
    await page.mouse.click(box.left + target[0], box.top + target[1]);
    await page.waitForFunction(
      (n) => (globalThis.__huntglassDemo?.mounted.get("geo")?.model.get("selection")?.points ?? []).length === n,
      rows,
      { timeout: 10_000 },
    );
    assert.equal(await attr("data-hg-selected-count"), String(rows));
    mkdirSync(OUT_DIR, { recursive: true });
    await page.locator(SEL).screenshot({ path: path.join(OUT_DIR, "geo_demo.png") });
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.dialogs, []);
  });
});
