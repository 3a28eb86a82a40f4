// Helpers shared by the browser and JupyterLab tests: Debian's chromium through playwright-core,
// child processes that always die with the test (servers, JupyterLab), a real JupyterLab with a
// notebook run cell by cell, canvas pixel statistics and
// locating a Timeline mark on screen through the widget's own test hooks (docs/CONTRACT.md,
// js/src/widgets/timeline.ts: data-hg-* attributes).

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const OUT_DIR = path.join(ROOT, "tests/e2e/out");
export const PYTHON = process.env.HG_PYTHON ?? path.join(ROOT, ".venv/bin/python");
export const HUNTGLASS_BIN =
  process.env.HUNTGLASS_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target"), "release/huntglass");

/** The flags TEAM.md prescribes for Debian's chromium here. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchBrowser() {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/**
 * Fails the calling test with a message naming what is missing when a build output is absent.
 * @param {string} file
 * @param {string} what
 */
export function requireFile(file, what) {
  if (!existsSync(file)) throw new Error(`${what} is missing: ${file} does not exist (run scripts/build.sh)`);
}

const children = new Set();
function killAll() {
  for (const child of children) killTree(child);
}
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killAll();
    process.exit(1);
  });
}

/** Kills a child started by `startProcess` and everything it started (its own process group). */
function killTree(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

/**
 * Starts a long-running process in its own process group and waits until its output (stdout and
 * stderr together) matches `ready`. Returns the match, the output so far and `stop()`; the process
 * is also killed when the test process exits. Rejects with the output when it exits early or when
 * `timeoutMs` passes first.
 * @param {string} command
 * @param {string[]} args
 * @param {{ready: RegExp, timeoutMs: number, cwd?: string, env?: Record<string, string>, name: string}} opts
 */
export function startProcess(command, args, opts) {
  const child = spawn(command, args, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  children.add(child);
  let output = "";
  const stop = () => {
    killTree(child);
    children.delete(child);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${opts.name} did not become ready within ${opts.timeoutMs} ms; output:\n${output}`));
    }, opts.timeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(opts.ready);
      if (match) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        child.stderr.off("data", onData);
        // Keep draining so the child never blocks on a full pipe.
        child.stdout.resume();
        child.stderr.resume();
        resolve({ match, child, stop, output: () => output });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (error) => {
      clearTimeout(timer);
      stop();
      reject(new Error(`${opts.name} could not start (${command}): ${error.message}`));
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new Error(`${opts.name} exited (code ${code}, signal ${signal}) before it was ready; output:\n${output}`));
    });
  });
}

/**
 * Starts `huntglass serve --port 0` (plus `extraArgs`, plus `--assets $HUNTGLASS_STATIC_DIR` when
 * that names another folder of built assets, as for the Python package) and returns the URL and
 * the API token it prints (`origin`, `token`, and `tokenUrl`, the page address that hands the
 * page its API cookie).
 * @param {string[]} [extraArgs]
 */
export async function startServe(extraArgs = []) {
  requireFile(HUNTGLASS_BIN, "the huntglass binary");
  const assets = process.env.HUNTGLASS_STATIC_DIR && !extraArgs.includes("--assets") ? ["--assets", process.env.HUNTGLASS_STATIC_DIR] : [];
  const server = await startProcess(HUNTGLASS_BIN, ["serve", "--port", "0", ...assets, ...extraArgs], {
    name: "huntglass serve",
    ready: /http:\/\/127\.0\.0\.1:\d+[^\s"'<>]*/,
    timeoutMs: 120_000,
  });
  // The token line comes in the same write as the URL line; the pipe may deliver it a moment later.
  let token;
  for (let i = 0; i < 50 && !(token = server.output().match(/^token: ([0-9a-f]{64})$/m)?.[1]); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!token) {
    server.stop();
    throw new Error(`huntglass serve printed no token line:\n${server.output()}`);
  }
  const url = server.match[0];
  const origin = new URL(url).origin;
  return { url, origin, token, tokenUrl: `${origin}/?token=${token}`, stop: server.stop, output: server.output };
}

/**
 * Runs a Python script with the project venv and returns its stdout; throws with stderr on failure.
 * @param {string} code
 * @param {string[]} [args]
 */
export function runPython(code, args = []) {
  const result = spawnSync(PYTHON, ["-c", code, ...args], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(`python failed (status ${result.status}, ${result.error ?? ""}):\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

/** Collects page errors, console errors and dialogs so tests can assert none happened. */
export function watchPage(page) {
  const seen = { dialogs: [], pageErrors: [], consoleErrors: [] };
  page.on("dialog", async (dialog) => {
    seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") seen.consoleErrors.push(message.text());
  });
  return seen;
}

/**
 * Starts `huntglass serve` (plus `extraArgs`) and opens its demo page in Chromium, watching the
 * page for errors and dialogs: the set-up every demo-page test shares. `withToken` opens the page
 * through the token address, so the page may call the API (look-ups, queries).
 * @param {string[]} [extraArgs]
 * @param {{ withToken?: boolean, viewport?: { width: number, height: number } }} [options]
 */
export async function openDemoPage(extraArgs = [], { withToken = false, viewport = { width: 1280, height: 1000 } } = {}) {
  const server = await startServe(extraArgs);
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport });
  const seen = watchPage(page);
  await page.goto(withToken ? server.tokenUrl : server.url);
  return { server, browser, page, seen };
}

/**
 * Waits until the widget root matched by `selector` says it is ready (`data-hg-state`), failing
 * at once with the widget's own text when it shows an error.
 */
export async function waitForWidgetReady(page, selector, timeoutMs = 300_000) {
  await page.waitForFunction(
    (sel) => {
      const root = document.querySelector(sel);
      if (root?.getAttribute("data-hg-state") === "error") throw new Error(root.textContent ?? "error");
      return root?.getAttribute("data-hg-state") === "ready";
    },
    selector,
    { timeout: timeoutMs, polling: 200 },
  );
}

/**
 * Waits until the Timeline root matched by `rootSelector` has painted at least once and is ready,
 * failing with the widget's own error text when it shows one.
 */
export async function waitForTimeline(page, rootSelector = '[data-hg-widget="timeline"]', timeoutMs = 60_000) {
  const handle = await page.waitForFunction(
    (selector) => {
      for (const root of document.querySelectorAll(selector)) {
        const state = root.getAttribute("data-hg-state");
        if (state === "error") {
          const box = root.querySelector('[data-hg-role="error"]');
          return { error: box ? box.textContent : "data-hg-state=error" };
        }
        if (state === "ready" && Number(root.getAttribute("data-hg-render-count") ?? 0) >= 1) return { ok: true };
      }
      const anyError = document.querySelector('[data-hg-role="error"]');
      if (anyError && anyError.textContent) return { error: anyError.textContent };
      return null;
    },
    rootSelector,
    { timeout: timeoutMs, polling: 100 },
  );
  const result = await handle.jsonValue();
  if (result.error) throw new Error(`the Timeline shows an error: ${result.error}`);
}

/**
 * Pixel statistics of a 2D canvas: total pixels, the most common colour (the background) and how
 * many pixels differ from it ("ink"), how many of those are saturated (coloured marks, not grey
 * text) and how many distinct colours appear.
 * @param {import("playwright-core").Locator} canvas
 */
export async function canvasStats(canvas) {
  return canvas.evaluate((node) => {
    const ctx = node.getContext("2d");
    if (!ctx) throw new Error("the canvas has no 2D context");
    const { data } = ctx.getImageData(0, 0, node.width, node.height);
    const counts = new Map();
    for (let i = 0; i < data.length; i += 4) {
      const key = (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    let background = 0;
    let best = -1;
    for (const [key, count] of counts) {
      if (count > best) {
        best = count;
        background = key;
      }
    }
    let ink = 0;
    let saturated = 0;
    for (let i = 0; i < data.length; i += 4) {
      const key = (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
      if (key === background) continue;
      ink += 1;
      const hi = Math.max(data[i], data[i + 1], data[i + 2]);
      const lo = Math.min(data[i], data[i + 1], data[i + 2]);
      if (hi - lo > 60) saturated += 1;
    }
    return {
      width: node.width,
      height: node.height,
      total: node.width * node.height,
      ink,
      saturated,
      colours: counts.size,
      background: (background >>> 0).toString(16).padStart(8, "0"),
    };
  });
}

/** Asserts-style check used by the tests: a canvas with a meaningful amount of drawing on it. */
export function describeInk(stats) {
  return `${stats.ink} of ${stats.total} pixels differ from the background #${stats.background} (${stats.saturated} coloured, ${stats.colours} colours)`;
}

/** Reads the visible time window `[start_ms, end_ms]` from the Timeline root. */
export async function viewRange(root) {
  return root.evaluate((node) => [Number(node.getAttribute("data-hg-view-start")), Number(node.getAttribute("data-hg-view-end"))]);
}

/**
 * Turns the mouse wheel over the canvas at CSS x (canvas-relative) and waits until the widget has
 * repainted with a new view. Returns the views before and after.
 */
export async function wheelAt(page, root, canvas, x, deltaY) {
  const box = await canvas.boundingBox();
  if (!box) throw new Error("the timeline canvas is not visible");
  const before = await viewRange(root);
  await page.mouse.move(box.x + x, box.y + box.height / 2);
  await page.mouse.wheel(0, deltaY);
  await root.evaluate(
    (node, previous) =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const check = () => {
          const now = [Number(node.getAttribute("data-hg-view-start")), Number(node.getAttribute("data-hg-view-end"))];
          if (now[0] !== previous[0] || now[1] !== previous[1]) resolve(now);
          else if (performance.now() - started > 10_000) reject(new Error(`the view did not change after a wheel event (still ${now})`));
          else requestAnimationFrame(check);
        };
        check();
      }),
    before,
  );
  return { before, after: await viewRange(root) };
}

/**
 * Finds the linear map between canvas CSS x and time from two anchored wheel zooms (zoom_at keeps
 * the time under the pointer in place: a - s' = f (a - s) with f = span'/span), then undoes them.
 * Returns `{ plotX, plotW }` such that ms(x) = start + (x - plotX) / plotW * (end - start).
 */
export async function calibrateTimeAxis(page, root, canvas) {
  const box = await canvas.boundingBox();
  if (!box) throw new Error("the timeline canvas is not visible");
  const anchors = [];
  for (const fraction of [0.45, 0.85]) {
    const x = box.width * fraction;
    const zoomIn = await wheelAt(page, root, canvas, x, -100);
    const [s, e] = zoomIn.before;
    const [s2, e2] = zoomIn.after;
    const f = (e2 - s2) / (e - s);
    if (!(f > 0 && f < 1)) throw new Error(`wheel zoom-in did not narrow the view: ${zoomIn.before} -> ${zoomIn.after}`);
    const anchorMs = (s2 - f * s) / (1 - f);
    anchors.push({ x, t: (anchorMs - s) / (e - s) });
    await wheelAt(page, root, canvas, x, 100);
  }
  const plotW = (anchors[1].x - anchors[0].x) / (anchors[1].t - anchors[0].t);
  const plotX = anchors[0].x - anchors[0].t * plotW;
  if (!(plotW > 10 && plotW <= box.width + 1)) throw new Error(`time axis calibration gave an implausible plot width ${plotW}`);
  return { plotX, plotW };
}

/**
 * Moves the mouse over canvas-relative CSS points in order and returns the first point where the
 * tooltip is shown and `accept(tooltipText)` holds, or null.
 * @param {(text: string) => boolean} accept
 */
export async function hoverUntil(page, root, canvas, points, accept) {
  const box = await canvas.boundingBox();
  if (!box) throw new Error("the timeline canvas is not visible");
  const tooltip = root.locator('[data-hg-role="tooltip"]');
  for (const point of points) {
    await page.mouse.move(box.x + point.x, box.y + point.y);
    const text = await tooltip.evaluate((node) =>
      node.style.display !== "none" && getComputedStyle(node).display !== "none" ? node.textContent ?? "" : null,
    );
    if (text !== null && text !== "" && accept(text)) return { ...point, text };
  }
  return null;
}

/**
 * Canvas-relative CSS points worth hovering: centres of coloured (saturated) pixels, at most one per
 * `step` CSS pixels square, in reading order.
 */
export async function colouredPoints(canvas, step = 4, limit = 400) {
  return canvas.evaluate(
    (node, { step, limit }) => {
      const ctx = node.getContext("2d");
      const scale = node.width / node.clientWidth || 1;
      const { data, width, height } = ctx.getImageData(0, 0, node.width, node.height);
      const seen = new Set();
      const points = [];
      for (let y = 0; y < height; y += 1) {
        for (let x = 0; x < width; x += 1) {
          const i = (y * width + x) * 4;
          const hi = Math.max(data[i], data[i + 1], data[i + 2]);
          const lo = Math.min(data[i], data[i + 1], data[i + 2]);
          if (hi - lo <= 60) continue;
          const cx = x / scale;
          const cy = y / scale;
          const key = `${Math.floor(cx / step)},${Math.floor(cy / step)}`;
          if (seen.has(key)) continue;
          seen.add(key);
          points.push({ x: cx + 0.5, y: cy + 0.5 });
          if (points.length >= limit) return points;
        }
      }
      return points;
    },
    { step, limit },
  );
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released for the server). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a real JupyterLab (or, with `app: "notebook"`, Notebook 7) from `.venv` serving `dir`
 * (its own config, runtime, settings and workspace directories inside `dir`, token
 * authentication, 127.0.0.1 only, `env` added to the server's and so the kernels' environment).
 * Returns `stop()` and `notebookUrl(name)` for a notebook file in `dir`.
 * @param {string} dir
 * @param {{app?: "lab" | "notebook", env?: Record<string, string>}} [options]
 */
export async function startJupyterLab(dir, { app = "lab", env = {} } = {}) {
  const jupyter = path.join(ROOT, ".venv/bin/jupyter");
  requireFile(jupyter, "JupyterLab in .venv");
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const appClass = app === "lab" ? "LabApp" : "JupyterNotebookApp";
  const args = [
    app,
    "--no-browser",
    "--allow-root",
    "--ip=127.0.0.1",
    `--port=${port}`,
    "--ServerApp.port_retries=0",
    `--IdentityProvider.token=${token}`,
    `--ServerApp.root_dir=${dir}`,
    `--${appClass}.expose_app_in_browser=True`,
    `--${appClass}.workspaces_dir=${path.join(dir, ".workspaces")}`,
  ];
  const lab = await startProcess(jupyter, args, {
    name: `jupyter ${app}`,
    ready: /is running at|http:\/\/127\.0\.0\.1:\d+\/(lab|tree)/,
    timeoutMs: 120_000,
    cwd: dir,
    env: {
      JUPYTER_CONFIG_DIR: path.join(dir, ".jupyter-config"),
      JUPYTER_RUNTIME_DIR: path.join(dir, ".jupyter-runtime"),
      JUPYTERLAB_SETTINGS_DIR: path.join(dir, ".lab-settings"),
      JUPYTERLAB_WORKSPACES_DIR: path.join(dir, ".workspaces"),
      PATH: `${path.join(ROOT, ".venv/bin")}:${process.env.PATH}`,
      ...env,
    },
  });
  const route = app === "lab" ? "lab/tree" : "notebooks";
  return {
    stop: lab.stop,
    notebookUrl: (name) => `http://127.0.0.1:${port}/${route}/${encodeURIComponent(name)}?token=${token}`,
  };
}

/**
 * A notebook (nbformat 4) with one code cell per source string, no outputs.
 * @param {string[]} sources
 */
export function notebookOf(sources) {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "python3", display_name: "Python 3 (ipykernel)", language: "python" },
      language_info: { name: "python" },
    },
    cells: sources.map((source) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source })),
  };
}

/** Opens a notebook URL of `startJupyterLab` and waits until the notebook shows with an idle kernel. */
export async function openNotebook(page, url) {
  await page.goto(url, { waitUntil: "load", timeout: 120_000 });
  await page.waitForFunction(
    () => {
      const app = window.jupyterapp;
      const panel = app?.shell?.currentWidget;
      const context = panel?.sessionContext;
      return Boolean(panel?.content?.widgets?.length && context?.isReady && context.session?.kernel?.status === "idle");
    },
    undefined,
    { timeout: 120_000, polling: 250 },
  );
}

/** Runs every cell of the open notebook (JupyterLab's own command). */
export async function runAllCells(page) {
  await page.evaluate(() => window.jupyterapp.commands.execute("notebook:run-all-cells"));
}

/**
 * Runs cell `index` of the open notebook until it writes `resultFile` with content that
 * `accept(text)` takes (widget state reaches the kernel asynchronously), at most `attempts` times.
 * Returns the last content read ("" when the file never appeared).
 * @param {import("playwright-core").Page} page
 * @param {number} index
 * @param {string} resultFile
 * @param {(text: string) => boolean} accept
 */
export async function runCellUntil(page, index, resultFile, accept, attempts = 20) {
  let text = "";
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    await page.waitForTimeout(750);
    if (existsSync(resultFile)) rmSync(resultFile);
    await page.evaluate(async (cell) => {
      const app = window.jupyterapp;
      app.shell.currentWidget.content.activeCellIndex = cell;
      await app.commands.execute("notebook:run-cell");
    }, index);
    for (let wait = 0; wait < 40 && !existsSync(resultFile); wait += 1) await page.waitForTimeout(250);
    text = existsSync(resultFile) ? readFileSync(resultFile, "utf8").trim() : "";
    if (accept(text)) break;
  }
  return text;
}

/**
 * One notebook in a real JupyterLab, and a browser, for the tests of a `describe` block (call it
 * inside one: it registers the block's before and after hooks). Before: the built static assets
 * named in `assets` must exist, a temporary directory gets the notebook `make(dir)` returns as
 * `name` (its cells may write result files into `dir`), JupyterLab serves it and a browser starts.
 * After: the browser closes, JupyterLab stops, the directory goes. The returned session's `dir`
 * is set once the before hook ran; `open(viewport)` opens the notebook in a new page (kernel idle,
 * cells not yet run) and returns it with its `watchPage` record.
 * @param {{name: string, assets: string[], make: (dir: string) => object}} options
 */
export function labNotebook({ name, assets, make }) {
  const session = {
    dir: "",
    /** @type {Awaited<ReturnType<typeof startJupyterLab>> | null} */
    lab: null,
    /** @type {import("playwright-core").Browser | null} */
    browser: null,
    async open(viewport = { width: 1400, height: 1100 }) {
      const page = await session.browser.newPage({ viewport });
      const seen = watchPage(page);
      await openNotebook(page, session.lab.notebookUrl(name));
      return { page, seen };
    },
  };
  before(async () => {
    for (const file of assets) requireFile(path.join(ROOT, "widgets/src/huntglass/static", file), `static/${file}`);
    session.dir = mkdtempSync(path.join(os.tmpdir(), "hg-lab-"));
    writeFileSync(path.join(session.dir, name), JSON.stringify(make(session.dir), null, 1));
    session.lab = await startJupyterLab(session.dir);
    session.browser = await launchBrowser();
  });
  after(async () => {
    await session.browser?.close().catch(() => {});
    session.lab?.stop();
    if (session.dir) rmSync(session.dir, { recursive: true, force: true });
  });
  return session;
}
