/**
 * The Timeline widget's DOM, interaction and protocol code in real Chromium (playwright-core,
 * Debian's /usr/bin/chromium), over a fake TimelineChart (tests/browser/fake_chart.ts) fed through
 * the standalone host. Rendering by the real wasm is covered by the Rust tests and the e2e tests.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const HOSTILE = "<img src=x onerror=alert(1)>";
const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

let browser: Browser;
let bundle: string;

before(async () => {
  const entry = fileURLToPath(new URL("../../tests/browser/page.ts", import.meta.url));
  const result = await build({ entryPoints: [entry], bundle: true, format: "esm", target: "es2020", write: false, logLevel: "warning" });
  bundle = result.outputFiles[0]?.text ?? "";
  browser = await chromium.launch({ executablePath: process.env.HG_CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
});

interface MountOptions {
  spec?: Record<string, unknown>;
  padBytes?: number;
  theme?: string;
}

/** Opens a page, mounts the widget with two data sets (Processes: 5 events, Alerts: 1) and waits for the first paint. */
async function mount(options: MountOptions = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  (page as unknown as { hgErrors: string[] }).hgErrors = errors;
  await page.setContent('<!doctype html><html><body><div id="host" style="width:800px"></div></body></html>');
  await page.addScriptTag({ content: bundle, type: "module" });
  await page.waitForFunction(() => "__hgTest" in window);
  const spec = options.spec ?? {
    mode: "events",
    title: "Events",
    datasets: [
      { name: "Processes", time_column: "TimeGenerated" },
      { name: "Alerts", time_column: "TimeGenerated" },
    ],
  };
  await page.evaluate(
    async ({ spec, t0, hour, hostile, padBytes, theme }) => {
      const w = window as unknown as Record<string, any>;
      w.__alerts = 0;
      w.alert = () => (w.__alerts += 1);
      w.__statusTexts = [];
      const host = document.getElementById("host") as HTMLElement;
      new MutationObserver(() => {
        const status = host.querySelector('[data-hg-role="status"], [data-hg-role="error"]');
        const text = status?.textContent ?? "";
        if (text && w.__statusTexts[w.__statusTexts.length - 1] !== text) w.__statusTexts.push(text);
      }).observe(host, { subtree: true, childList: true, characterData: true, attributes: true });
      const encode = (value: unknown, pad = 0) => new TextEncoder().encode(JSON.stringify(value) + " ".repeat(pad));
      const processes = {
        times: [0, 1, 2, 3, 4].map((i) => t0 + i * hour),
        fields: [0, 1, 2, 3, 4].map((i) => [
          ["CommandLine", i === 2 ? hostile : `cmd ${i}`],
          ["Row", String(i)],
        ]),
      };
      const alerts = { times: [t0 + 2.5 * hour], fields: [[["AlertName", "Suspicious"]]] };
      const mounted = await w.__hgTest.mountStandalone(host, {
        state: { _kind: "timeline", spec, theme },
        wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]),
        datasets: { Processes: encode(processes, padBytes), Alerts: encode(alerts) },
      });
      w.__model = mounted.model;
      w.__cleanup = mounted.cleanup;
    },
    { spec, t0: T0, hour: HOUR, hostile: HOSTILE, padBytes: options.padBytes ?? 0, theme: options.theme ?? "auto" },
  );
  return page;
}

async function waitRendered(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as any).__model.get("rendered") === 1);
}

async function viewOf(page: Page): Promise<[number, number]> {
  const root = page.locator('[data-hg-widget="timeline"]');
  return [Number(await root.getAttribute("data-hg-view-start")), Number(await root.getAttribute("data-hg-view-end"))];
}

/** Page coordinates of CSS point (x, y) of the main canvas. */
async function canvasPoint(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const box = await page.locator('[data-hg-role="timeline-canvas"]').boundingBox();
  assert.ok(box);
  return { x: box.x + x, y: box.y + y };
}

/** CSS position of Processes event `row` in the fake chart's layout (2 lanes, plot left 60). */
async function eventPoint(page: Page, row: number): Promise<{ x: number; y: number }> {
  const [start, end] = await viewOf(page);
  const width = 800 - 12; // host width minus the widget's padding
  const plotW = width - 60 - 10;
  const x = 60 + ((T0 + row * HOUR - start) / (end - start)) * plotW;
  const height = 300;
  const laneH = (height - 10 - 30) / 2;
  return canvasPoint(page, x, 10 + laneH * 0.5);
}

describe("Timeline widget in Chromium (fake chart)", { timeout: 120_000 }, () => {
  it("paints once, sizes the canvas to the container and devicePixelRatio, and reports rendered", async () => {
    const page = await mount();
    await waitRendered(page);
    const canvas = page.locator('[data-hg-role="timeline-canvas"]');
    const size = await canvas.evaluate((c: HTMLCanvasElement) => ({ w: c.width, h: c.height, cssW: c.clientWidth, dpr: devicePixelRatio }));
    assert.equal(size.w, Math.round(size.cssW * size.dpr));
    assert.equal(size.h, Math.round(300 * size.dpr));
    const root = page.locator('[data-hg-widget="timeline"]');
    assert.equal(await root.getAttribute("data-hg-state"), "ready");
    assert.equal(await root.getAttribute("data-hg-n-events"), "6");
    assert.ok(Number(await root.getAttribute("data-hg-last-render-ms")) >= 0);
    const [start, end] = await viewOf(page);
    assert.ok(start < T0 && end > T0 + 4 * HOUR, "initial view covers the data with padding");
    // The fake chart's marks were blitted: the pixel under event 0 is its blue.
    const p = await eventPoint(page, 0);
    const box = await canvas.boundingBox();
    assert.ok(box);
    const rgba = await canvas.evaluate(
      (c: HTMLCanvasElement, at) => Array.from((c.getContext("2d") as CanvasRenderingContext2D).getImageData(Math.round(at.x * devicePixelRatio), Math.round(at.y * devicePixelRatio), 1, 1).data),
      { x: p.x - box.x, y: p.y - box.y },
    );
    assert.deepEqual(rgba.slice(0, 3), [20, 20, 200]);
    assert.equal(await page.locator('[data-hg-role="title"]').textContent(), "Events");
    assert.deepEqual(await page.locator('[data-hg-role="legend-item"]').allTextContents(), ["Processes", "Alerts"]);
    assert.deepEqual((page as unknown as { hgErrors: string[] }).hgErrors, []);
    await page.close();
  });

  it("follows the container's width", async () => {
    const page = await mount();
    await waitRendered(page);
    await page.evaluate(() => ((document.getElementById("host") as HTMLElement).style.width = "600px"));
    await page.waitForFunction(() => {
      const c = document.querySelector('[data-hg-role="timeline-canvas"]') as HTMLCanvasElement;
      return c.width === Math.round(c.clientWidth * devicePixelRatio) && c.clientWidth < 600;
    });
    await page.close();
  });

  it("shows chunk progress while a multi-chunk data set arrives", async () => {
    const page = await mount({ padBytes: 17 * 1024 * 1024 });
    await waitRendered(page);
    const texts: string[] = await page.evaluate(() => (window as any).__statusTexts);
    assert.ok(texts.includes("Loading Processes: 1/3 chunks"), texts.join(" | "));
    assert.ok(texts.includes("Loading Processes: 3/3 chunks"), texts.join(" | "));
    await page.close();
  });

  it("shows hostile field values in the tooltip as text only", async () => {
    const page = await mount();
    await waitRendered(page);
    const p = await eventPoint(page, 2);
    await page.mouse.move(p.x, p.y);
    const tooltip = page.locator('[data-hg-role="tooltip"]');
    await tooltip.waitFor({ state: "visible" });
    assert.ok((await tooltip.textContent())?.includes(`CommandLine: ${HOSTILE}`));
    assert.equal(await page.locator("#host img").count(), 0, "no element was parsed from the field");
    assert.equal(await page.evaluate(() => (window as any).__alerts), 0);
    assert.equal(await tooltip.getAttribute("data-hg-row"), "2");
    await page.mouse.move(p.x, p.y + 80);
    await tooltip.waitFor({ state: "hidden" });
    await page.close();
  });

  it("shows a hostile title and data set names as text only", async () => {
    const page = await mount({
      spec: {
        mode: "events",
        title: HOSTILE,
        datasets: [
          { name: "Processes", time_column: "TimeGenerated" },
          { name: "Alerts", time_column: "TimeGenerated" },
        ],
      },
    });
    await waitRendered(page);
    assert.equal(await page.locator('[data-hg-role="title"]').textContent(), HOSTILE);
    assert.equal(await page.locator("#host img").count(), 0);
    assert.equal(await page.evaluate(() => (window as any).__alerts), 0);
    await page.close();
  });

  it("pans by dragging, zooms with the wheel at the cursor and resets", async () => {
    const page = await mount();
    await waitRendered(page);
    const initial = await viewOf(page);
    const from = await canvasPoint(page, 400, 200);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + 100, from.y, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction((s) => Number(document.querySelector('[data-hg-widget="timeline"]')?.getAttribute("data-hg-view-start")) !== s, initial[0]);
    const panned = await viewOf(page);
    assert.ok(panned[0] < initial[0], "dragging right shows earlier times");
    assert.ok(Math.abs(panned[1] - panned[0] - (initial[1] - initial[0])) < 1, "panning keeps the span");

    await page.mouse.wheel(0, -200);
    await page.waitForFunction(
      (span) => {
        const root = document.querySelector('[data-hg-widget="timeline"]');
        return Number(root?.getAttribute("data-hg-view-end")) - Number(root?.getAttribute("data-hg-view-start")) < span - 1;
      },
      panned[1] - panned[0],
    );
    await page.locator('[data-hg-tool="reset"]').click();
    await page.waitForFunction((s) => Number(document.querySelector('[data-hg-widget="timeline"]')?.getAttribute("data-hg-view-start")) === s, initial[0]);
    // view_range reaches the model (debounced).
    await page.waitForFunction((s) => ((window as any).__model.get("view_range") ?? [])[0] === s, initial[0]);
    await page.close();
  });

  it("box zoom narrows the view to the dragged span", async () => {
    const page = await mount();
    await waitRendered(page);
    await page.locator('[data-hg-tool="zoom"]').click();
    const a = await canvasPoint(page, 200, 100);
    const b = await canvasPoint(page, 400, 150);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 4 });
    assert.equal(await page.locator('[data-hg-role="box"]').isVisible(), true);
    await page.mouse.up();
    await page.waitForFunction(() => {
      const root = document.querySelector('[data-hg-widget="timeline"]');
      const span = Number(root?.getAttribute("data-hg-view-end")) - Number(root?.getAttribute("data-hg-view-start"));
      return span < 4 * 3_600_000;
    });
    await page.close();
  });

  it("click and box selection reach the selection traitlet", async () => {
    const page = await mount();
    await waitRendered(page);
    const p = await eventPoint(page, 1);
    await page.mouse.click(p.x, p.y);
    await page.waitForFunction(() => JSON.stringify((window as any).__model.get("selection")) === JSON.stringify({ Processes: [1] }));
    await page.locator('[data-hg-tool="select"]').click();
    const a = await canvasPoint(page, 55, 5);
    const b = await canvasPoint(page, 785, 295);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction(
      () => JSON.stringify((window as any).__model.get("selection")) === JSON.stringify({ Processes: [0, 1, 2, 3, 4], Alerts: [0] }),
    );
    assert.equal(await page.locator('[data-hg-widget="timeline"]').getAttribute("data-hg-selected-count"), "6");
    await page.locator('[data-hg-tool="clear"]').click();
    await page.waitForFunction(() => JSON.stringify((window as any).__model.get("selection")) === "{}");
    await page.close();
  });

  it("the range window follows the view and moves it when dragged", async () => {
    const page = await mount();
    await waitRendered(page);
    const win = page.locator('[data-hg-role="range-window"]');
    const before = await win.boundingBox();
    assert.ok(before && before.width > 10);
    const initial = await viewOf(page);
    await page.mouse.move(before.x + before.width / 2, before.y + before.height / 2);
    await page.mouse.down();
    await page.mouse.move(before.x + before.width / 2 - 20, before.y + before.height / 2, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction((s) => Number(document.querySelector('[data-hg-widget="timeline"]')?.getAttribute("data-hg-view-start")) < s - 1, initial[0]);
    const moved = await viewOf(page);
    assert.ok(Math.abs(moved[1] - moved[0] - (initial[1] - initial[0])) < 1, "moving keeps the span");
    const after = await win.boundingBox();
    assert.ok(after && Math.abs(after.x - (before.x - 20)) < 2, `window moved with the pointer (${after?.x} vs ${before.x - 20})`);

    // Dragging the right edge narrows the window (and the view).
    await page.mouse.move(after.x + after.width, after.y + after.height / 2);
    await page.mouse.down();
    await page.mouse.move(after.x + after.width - 400, after.y + after.height / 2, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction(
      (span) => {
        const root = document.querySelector('[data-hg-widget="timeline"]');
        return Number(root?.getAttribute("data-hg-view-end")) - Number(root?.getAttribute("data-hg-view-start")) < span - 1;
      },
      initial[1] - initial[0],
    );

    // A click outside the window centres the window there.
    const narrowed = await win.boundingBox();
    const strip = await page.locator('[data-hg-role="overview-canvas"]').boundingBox();
    assert.ok(narrowed && strip);
    const target = strip.x + 560;
    await page.mouse.click(target, strip.y + strip.height / 2);
    await page.waitForFunction(
      (centre) => {
        const w = document.querySelector('[data-hg-role="range-window"]')?.getBoundingClientRect();
        return w !== undefined && Math.abs(w.left + w.width / 2 - centre) < 2;
      },
      target,
    );
    const centred = await win.boundingBox();
    assert.ok(centred && Math.abs(centred.width - narrowed.width) < 1, "recentring keeps the window's width");
    await page.close();
  });

  it("saves the chart as a PNG download", async () => {
    const page = await mount();
    await waitRendered(page);
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator('[data-hg-tool="save"]').click()]);
    assert.equal(download.suggestedFilename(), "timeline.png");
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const png = Buffer.concat(chunks);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG file");
    await page.close();
  });

  it("shows errors in the widget and on the error traitlet", async () => {
    const page = await mount({ spec: { mode: "events", datasets: [{ name: "Missing", time_column: "TimeGenerated" }] } });
    const error = page.locator('[data-hg-role="error"]');
    await error.waitFor();
    assert.equal(await error.textContent(), 'huntglass: spec names data set "Missing" but none arrived (received: Processes, Alerts)');
    assert.equal(await page.evaluate(() => (window as any).__model.get("error")), await error.textContent());
    assert.equal(await page.locator('[data-hg-widget="timeline"]').getAttribute("data-hg-state"), "error");
    await page.close();
  });

  it("follows the host theme and the theme traitlet", async () => {
    const page = await mount();
    await waitRendered(page);
    const root = page.locator('[data-hg-widget="timeline"]');
    assert.equal(await root.getAttribute("data-hg-theme"), "light");
    await page.evaluate(() => document.body.setAttribute("data-jp-theme-light", "false"));
    await page.waitForFunction(() => document.querySelector('[data-hg-widget="timeline"]')?.getAttribute("data-hg-theme") === "dark");
    await page.evaluate(() => (window as any).__model.set("theme", "light"));
    await page.waitForFunction(() => document.querySelector('[data-hg-widget="timeline"]')?.getAttribute("data-hg-theme") === "light");
    await page.close();
  });

  it("re-renders on a spec change and frees every chart on cleanup", async () => {
    const page = await mount();
    await waitRendered(page);
    await page.evaluate(() => {
      const model = (window as any).__model;
      model.set("spec", { ...model.get("spec"), title: "Changed" });
    });
    await page.waitForFunction(() => document.querySelector('[data-hg-role="title"]')?.textContent === "Changed");
    const stats = await page.evaluate(() => {
      (window as any).__cleanup();
      return { ...(window as any).__hgTest.stats, left: document.querySelectorAll('[data-hg-widget="timeline"]').length };
    });
    assert.equal(stats.created, 2);
    assert.equal(stats.freed, 2);
    assert.equal(stats.left, 0);
    assert.deepEqual((page as unknown as { hgErrors: string[] }).hgErrors, []);
    await page.close();
  });
});
