// The ProcessTree in Debian's chromium, mounted through mountStandalone with the real widget.js and
// browser wasm (widgets/src/huntglass/static, built by scripts/build.sh) on the data set Python's
// hg.ProcessTree sends for 100,000 generated processes (built by the kernel's proctree.build),
// with a planted attack chain and hostile command lines. Checks: every process is laid out,
// collapse/expand all, search reveals a deep match, hover details are text only, a click selects
// the row in the `selection` traitlet, the side table lists the lines on screen, zoom and scroll
// repaint, and no page error or dialog happens.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { canvasStats, launchBrowser, requireFile, watchPage } from "./lib.mjs";
import { HOSTILE, STATIC, mountTree, prepareTree } from "./proctree_lib.mjs";

const PROCESSES = 100_000;

async function renders(page) {
  return Number(await page.getAttribute('[data-hg-widget="process_tree"]', "data-hg-render-count"));
}

async function waitRepaint(page, before) {
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-hg-widget="process_tree"]').getAttribute("data-hg-render-count")) > n,
    before,
    { timeout: 10_000 },
  );
}

describe("ProcessTree in chromium", { timeout: 900_000 }, () => {
  let browser;
  let page;
  let seen;
  let expected;
  const root = '[data-hg-widget="process_tree"]';
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-proctree-"));

  before(async () => {
    for (const file of ["widget.js", "hg_wasm_bg.wasm", "hg_kernel.wasm"]) requireFile(path.join(STATIC, file), `static/${file}`);
    expected = prepareTree(dir, PROCESSES);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    seen = watchPage(page);
    await mountTree(page, expected);
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("every process is laid out and the canvas is drawn", async () => {
    assert.equal(await page.getAttribute(root, "data-hg-n-rows"), String(expected.rows));
    assert.equal(await page.getAttribute(root, "data-hg-visible"), String(expected.rows));
    const stats = await canvasStats(page.locator('[data-hg-role="tree-canvas"]'));
    assert.ok(stats.ink > 1000 && stats.colours > 3, `canvas ink: ${JSON.stringify(stats)}`);
    const legend = await page.$$eval('[data-hg-role="legend-label"]', (n) => n.map((x) => x.textContent));
    assert.deepEqual(legend, ["SYSTEM", "alice", "bob", "mallory", "(missing)"]); // placeholders have no user
  });

  test("collapse all leaves the roots; expand all shows everything again", async () => {
    let before = await renders(page);
    await page.click('[data-hg-tool="collapse"]');
    await waitRepaint(page, before);
    assert.equal(await page.getAttribute(root, "data-hg-visible"), String(expected.roots));
    before = await renders(page);
    await page.click('[data-hg-tool="expand"]');
    await waitRepaint(page, before);
    assert.equal(await page.getAttribute(root, "data-hg-visible"), String(expected.rows));
  });

  test("search finds the deep match, expands its ancestors and scrolls to it", async () => {
    let before = await renders(page);
    await page.click('[data-hg-tool="collapse"]');
    await waitRepaint(page, before);
    before = await renders(page);
    await page.fill('[data-hg-role="search"]', "sekurlsa");
    await page.waitForFunction((r) => document.querySelector(r).getAttribute("data-hg-matches") === "1", root, { timeout: 10_000 });
    await waitRepaint(page, before);
    assert.equal(await page.textContent('[data-hg-role="match-count"]'), "1 match");
    const visible = Number(await page.getAttribute(root, "data-hg-visible"));
    assert.equal(visible, expected.search_visible, "the roots plus the children of the match's ancestors");
  });

  test("hover details are text: the hostile command line makes no element and no dialog", async () => {
    const canvas = page.locator('[data-hg-role="tree-canvas"]');
    const box = await canvas.boundingBox();
    let found = false;
    for (let y = 5; y < 500 && !found; y += 11) {
      await page.mouse.move(box.x + 200, box.y + y);
      const text = await page.textContent('[data-hg-role="tooltip"]');
      if (text?.includes("sekurlsa")) {
        found = true;
        assert.ok(text.includes(HOSTILE), text);
      }
    }
    assert.ok(found, "the searched process is on screen and hoverable");
    const made = await page.$$eval(`${root} img, ${root} script`, (n) => n.length);
    assert.equal(made, 0);
    assert.equal(await page.evaluate(() => window.__alerts), 0);
    assert.deepEqual(seen.dialogs, []);
  });

  test("a click selects the process under the pointer in the selection traitlet", async () => {
    const canvas = page.locator('[data-hg-role="tree-canvas"]');
    const box = await canvas.boundingBox();
    for (let y = 5; y < 500; y += 11) {
      await page.mouse.move(box.x + 200, box.y + y);
      const text = await page.textContent('[data-hg-role="tooltip"]');
      if (text?.includes("sekurlsa")) {
        await page.mouse.click(box.x + 200, box.y + y);
        break;
      }
    }
    await page.waitForFunction(() => (window.__model.get("selection")?.Processes ?? []).length > 0, null, { timeout: 10_000 });
    assert.deepEqual(await page.evaluate(() => window.__model.get("selection")), { Processes: [expected.mimikatz_row] });
    assert.equal(await page.getAttribute(root, "data-hg-selected-count"), "1");
  });

  test("the side table lists the processes on screen as text", async () => {
    const before = await renders(page);
    await page.click('[data-hg-tool="table"]');
    await waitRepaint(page, before);
    const rows = await page.$$eval('[data-hg-role="visible-table"] tr[data-hg-row]', (n) => n.map((r) => r.textContent));
    assert.ok(rows.length > 5, `table rows: ${rows.length}`);
    assert.ok(rows.some((r) => r.includes("sekurlsa")), "the match is in the table");
    const made = await page.$$eval(`${root} img, ${root} script`, (n) => n.length);
    assert.equal(made, 0);
  });

  test("zoom and scroll repaint; no page error", async () => {
    let before = await renders(page);
    await page.click('[data-hg-tool="zoom-in"]');
    await waitRepaint(page, before);
    before = await renders(page);
    await page.click('[data-hg-tool="expand"]');
    await waitRepaint(page, before);
    before = await renders(page);
    const canvas = page.locator('[data-hg-role="tree-canvas"]');
    const box = await canvas.boundingBox();
    await page.mouse.move(box.x + 300, box.y + 200);
    await page.mouse.wheel(0, 5000);
    await waitRepaint(page, before);
    const ms = Number(await page.getAttribute(root, "data-hg-last-render-ms"));
    assert.ok(Number.isFinite(ms));
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.dialogs, []);
  });
});
