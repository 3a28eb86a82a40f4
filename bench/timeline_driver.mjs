// Browser side of the timeline benchmark (bench/timeline_bench.py writes the job file and runs
// this with node): serves the files of a job from 127.0.0.1, drives Debian's chromium through
// playwright-core and prints one JSON object with the measurements.
//
// huntglass runs: a page fetches widget.js, the wasm and the Arrow stream(s), calls
// `mountStandalone` and waits for the widget's first paint (data-hg-render-count, set at the end of
// a paint). Times are page clock readings (performance.now(), from navigation start). Optional
// interactions: wheel zooms and drags with the real mouse (render time = data-hg-last-render-ms,
// the widget's own paint duration) and hovers (time of the pointermove handlers: hit-test plus
// tooltip, measured between a capturing and a bubbling listener on window).
// reference runs: open MSTICPy's Bokeh HTML and wait until its canvas shows coloured marks.
//
// Usage: node bench/timeline_driver.mjs JOB.json

import { createReadStream, readFileSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { chromium } from "playwright-core";

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

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const files = new Map(); // url path -> file on disk (only these are served)
const pages = new Map(); // url path -> HTML text

function serveFile(file) {
  const key = `/f/${files.size}/${path.basename(file)}`;
  files.set(key, file);
  return key;
}

const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html", ".json": "application/json" };

const server = http.createServer((request, response) => {
  const url = new URL(request.url, "http://127.0.0.1");
  if (pages.has(url.pathname)) {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    response.end(pages.get(url.pathname));
    return;
  }
  const file = files.get(url.pathname);
  if (!file) {
    response.writeHead(404);
    response.end("not found");
    return;
  }
  response.writeHead(200, {
    "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
    "content-length": statSync(file).size,
    "cache-control": "no-store",
  });
  createReadStream(file).pipe(response);
});

/** The standalone page of one huntglass run: fetch everything, mount, wait for the first paint. */
function huntglassPage(run, bundleUrl, wasmUrl, stateUrl, dataUrls) {
  const config = JSON.stringify({ bundleUrl, wasmUrl, stateUrl, dataUrls, timeoutMs: run.timeout_ms });
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>huntglass bench</title>
<style>body{margin:0;font-family:sans-serif} .slot{width:1200px}</style></head>
<body><div class="slot" id="slot"></div>
<script type="module">
const config = ${config};
const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
const firstPaint = (el, timeoutMs) => new Promise((resolve, reject) => {
  const started = performance.now();
  const check = () => {
    const root = el.querySelector('[data-hg-widget]');
    const error = el.querySelector('[data-hg-role="error"]');
    if (root && root.getAttribute('data-hg-state') === 'error') return reject(new Error('widget error: ' + (error ? error.textContent : '?')));
    if (root && Number(root.getAttribute('data-hg-render-count') || 0) >= 1) return resolve(performance.now());
    if (performance.now() - started > timeoutMs) return reject(new Error('no first paint within ' + timeoutMs + ' ms'));
    setTimeout(check, 2);
  };
  check();
});
async function mount(bundle, state, wasm, datasets, id) {
  const el = document.createElement('div');
  el.id = id;
  document.getElementById('slot').replaceChildren(el);
  const t0 = performance.now();
  const mounted = await bundle.mountStandalone(el, { state, wasm, datasets });
  const painted = await firstPaint(el, config.timeoutMs);
  return { mounted, t0, painted };
}
window.__hg = (async () => {
  const started = performance.now();
  const bundle = await import(config.bundleUrl);
  const state = await (await fetch(config.stateUrl)).json();
  const wasm = await bytes(config.wasmUrl);
  const datasets = {};
  for (const [name, url] of Object.entries(config.dataUrls)) datasets[name] = await bytes(url);
  const arrived = performance.now();
  const cold = await mount(bundle, state, wasm, datasets, 'cold');
  window.__hgMounted = cold.mounted;
  window.__hgRemount = async () => {
    cold.mounted.cleanup();
    const warm = await mount(bundle, state, wasm, datasets, 'warm');
    window.__hgMounted = warm.mounted;
    return warm.painted - warm.t0;
  };
  window.__hgCompileMs = async () => {
    const t0 = performance.now();
    await WebAssembly.compile(wasm);
    return performance.now() - t0;
  };
  return { started, arrived, coldFirstPaintMs: cold.painted - arrived, dataToPaintMs: cold.painted };
})().catch((error) => ({ error: String(error && error.message || error) }));
</script></body></html>`;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function canvasInk(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('[data-hg-role="timeline-canvas"]');
    if (!canvas) return { ink: 0, total: 0 };
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const bg = [data[0], data[1], data[2], data[3]];
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] !== bg[0] || data[i + 1] !== bg[1] || data[i + 2] !== bg[2] || data[i + 3] !== bg[3]) ink += 1;
    }
    return { ink, total: canvas.width * canvas.height };
  });
}

/** Waits until the widget has painted again after `before` paints; returns its paint duration. */
async function nextPaint(page, before) {
  await page.waitForFunction(
    (count) => Number(document.querySelector("[data-hg-widget]").getAttribute("data-hg-render-count")) > count,
    before,
    { timeout: 30_000, polling: "raf" },
  );
  return page.evaluate(() => {
    const root = document.querySelector("[data-hg-widget]");
    return { count: Number(root.getAttribute("data-hg-render-count")), ms: Number(root.getAttribute("data-hg-last-render-ms")) };
  });
}

async function interactions(page, count) {
  const canvas = page.locator('[data-hg-role="timeline-canvas"]');
  const box = await canvas.boundingBox();
  const y = box.y + box.height / 2;
  let paints = await page.evaluate(() => Number(document.querySelector("[data-hg-widget]").getAttribute("data-hg-render-count")));
  const zoom = [];
  const pan = [];
  for (let i = 0; i < count; i += 1) {
    await page.mouse.move(box.x + box.width * (0.3 + 0.4 * (i / count)), y);
    await page.mouse.wheel(0, i % 2 === 0 ? -240 : 200);
    const painted = await nextPaint(page, paints);
    paints = painted.count;
    zoom.push(painted.ms);
  }
  for (let i = 0; i < count; i += 1) {
    const x0 = box.x + box.width * 0.5;
    await page.mouse.move(x0, y);
    await page.mouse.down();
    await page.mouse.move(x0 + (i % 2 === 0 ? 60 : -60), y, { steps: 1 });
    const painted = await nextPaint(page, paints);
    paints = painted.count;
    pan.push(painted.ms);
    await page.mouse.up();
    await page.waitForTimeout(20);
    paints = await page.evaluate(() => Number(document.querySelector("[data-hg-widget]").getAttribute("data-hg-render-count")));
  }
  // Hover: time the pointermove handlers (hit-test + tooltip) between window listeners that run
  // before (capture) and after (bubble) the canvas's own.
  await page.evaluate(() => {
    window.__hover = [];
    window.addEventListener("pointermove", () => (window.__hoverStart = performance.now()), { capture: true });
    window.addEventListener("pointermove", () => window.__hover.push(performance.now() - window.__hoverStart));
  });
  // Hover points: coloured (mark) pixels spread over the canvas, so most hovers hit a mark.
  const marks = await canvas.evaluate((node) => {
    const { data, width, height } = node.getContext("2d").getImageData(0, 0, node.width, node.height);
    const scale = node.width / node.clientWidth || 1;
    const found = [];
    for (let y = 0; y < height; y += 3) {
      for (let x = 0; x < width; x += 7) {
        const i = (y * width + x) * 4;
        if (Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 60) found.push([x / scale, y / scale]);
      }
    }
    return found;
  });
  await page.mouse.move(box.x + 2, box.y + 2);
  const hoverPoints = Math.max(count, 60);
  const samples = [];
  for (let i = 0; i < hoverPoints; i += 1) {
    const [mx, my] = marks.length
      ? marks[Math.floor(((i * 0.618034) % 1) * marks.length)]
      : [box.width * (0.1 + 0.8 * ((i * 0.618) % 1)), box.height * 0.5];
    await page.evaluate(() => (window.__hover = []));
    await page.mouse.move(box.x + mx, box.y + my);
    const sample = await page.evaluate(() => {
      const tip = document.querySelector('[data-hg-role="tooltip"]');
      return { ms: window.__hover[window.__hover.length - 1], shown: Boolean(tip && tip.style.display !== "none" && tip.textContent) };
    });
    if (typeof sample.ms === "number") samples.push(sample);
  }
  const hover = samples.map((s) => s.ms);
  const hits = samples.filter((s) => s.shown).map((s) => s.ms);
  return {
    zoomRenderMedianMs: median(zoom),
    zoomRenderMaxMs: Math.max(...zoom),
    panRenderMedianMs: median(pan),
    panRenderMaxMs: Math.max(...pan),
    hoverMedianMs: median(hover),
    hoverMaxMs: Math.max(...hover),
    hoverSamples: hover.length,
    hoverHitMedianMs: hits.length ? median(hits) : null,
    hoverTooltipsShown: hits.length,
  };
}

async function runHuntglass(browser, base, run) {
  const bundleUrl = serveFile(path.join(job.static_dir, "widget.js"));
  const wasmUrl = serveFile(path.join(job.static_dir, "hg_wasm_bg.wasm"));
  const stateUrl = serveFile(run.state_path);
  const dataUrls = Object.fromEntries(run.datasets.map((d) => [d.name, serveFile(d.path)]));
  const pagePath = `/hg-${run.label}.html`;
  pages.set(pagePath, huntglassPage(run, bundleUrl, wasmUrl, stateUrl, dataUrls));
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  const page = await context.newPage();
  let crashed = false;
  page.on("crash", () => (crashed = true));
  const result = { label: run.label, rows: run.rows };
  try {
    await page.goto(base + pagePath, { waitUntil: "load", timeout: run.timeout_ms });
    const outcome = await page.evaluate(() => window.__hg);
    if (outcome.error) throw new Error(outcome.error);
    Object.assign(result, outcome);
    const ink = await canvasInk(page);
    result.inkPixels = ink.ink;
    result.canvasPixels = ink.total;
    if (run.interactions) Object.assign(result, await interactions(page, run.interactions));
    if (run.warm) {
      const warm = [];
      for (let i = 0; i < 3; i += 1) warm.push(await page.evaluate(() => window.__hgRemount()));
      result.warmFirstPaintRunsMs = warm;
      result.warmFirstPaintMs = median(warm);
      result.wasmCompileMs = await page.evaluate(() => window.__hgCompileMs());
    }
    result.ok = ink.ink > ink.total * 0.01;
  } catch (error) {
    result.ok = false;
    result.error = crashed ? `the tab crashed (${error.message})` : String(error.message ?? error);
  }
  result.crashed = crashed;
  await context.close().catch(() => {});
  return result;
}

/** Polls (in the page) every canvas, also inside shadow roots, until one shows over 5,000 coloured pixels (the lanes of marks; legend swatches alone stay far below). */
async function runReference(browser, base, run) {
  const url = serveFile(run.html_path);
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  const page = await context.newPage();
  let crashed = false;
  page.on("crash", () => (crashed = true));
  const result = { label: run.label, rows: run.rows };
  try {
    await page.goto(base + url, { waitUntil: "commit", timeout: run.timeout_ms });
    const handle = await page.waitForFunction(
      () => {
        const canvases = [];
        const walk = (node) => {
          for (const child of node.querySelectorAll("*")) {
            if (child.tagName === "CANVAS") canvases.push(child);
            if (child.shadowRoot) walk(child.shadowRoot);
          }
        };
        walk(document);
        for (const canvas of canvases) {
          if (canvas.width < 50 || canvas.height < 50) continue;
          const ctx = canvas.getContext("2d");
          if (!ctx) continue;
          const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
          let coloured = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3] === 0) continue;
            const hi = Math.max(data[i], data[i + 1], data[i + 2]);
            const lo = Math.min(data[i], data[i + 1], data[i + 2]);
            if (hi - lo > 60) coloured += 1;
          }
          if (coloured > 5000) return performance.now();
        }
        return null;
      },
      undefined,
      { timeout: run.timeout_ms, polling: 100 },
    );
    result.renderedMs = await handle.jsonValue();
    result.ok = true;
  } catch (error) {
    result.ok = false;
    result.error = crashed ? `the tab crashed (${error.message})` : String(error.message ?? error);
  }
  result.crashed = crashed;
  await context.close().catch(() => {});
  return result;
}

async function main() {
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  const output = { chromium: browser.version(), huntglass: [], reference: [] };
  try {
    for (const run of job.huntglass ?? []) {
      process.stderr.write(`driver: huntglass ${run.label}\n`);
      const result = await runHuntglass(browser, base, run);
      // Extra fresh tabs for the cold first paint (the machine is shared: take the median).
      const cold = [result.coldFirstPaintMs];
      for (let i = 1; i < (run.cold_repeats ?? 1) && result.ok; i += 1) {
        const again = await runHuntglass(browser, base, { ...run, label: `${run.label}-${i}`, interactions: 0, warm: false });
        if (again.ok) cold.push(again.coldFirstPaintMs);
      }
      if (cold.length > 1) {
        result.coldFirstPaintRunsMs = cold;
        result.coldFirstPaintMs = median(cold);
      }
      output.huntglass.push(result);
    }
    for (const run of job.reference ?? []) {
      process.stderr.write(`driver: reference ${run.label}\n`);
      output.reference.push(await runReference(browser, base, run));
    }
  } finally {
    await browser.close().catch(() => {});
    server.close();
  }
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

const watchdog = setTimeout(() => {
  process.stderr.write("driver: overall timeout\n");
  process.exit(2);
}, job.overall_timeout_ms ?? 3_600_000);
watchdog.unref();

main().catch((error) => {
  process.stderr.write(`driver: ${error.stack ?? error}\n`);
  process.exit(1);
});
