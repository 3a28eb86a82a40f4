/**
 * The TimeSeriesAnomalies widget: the observed series (with its baseline = trend + seasonal and
 * the anomalies marked), the trend, the seasonal component and the residual in four panels on one
 * shared time axis, the anomalies listed beside; wheel zooms and drag pans every panel in step,
 * double-click resets, hovering shows every component's value at that time, clicking a listed
 * anomaly centres the view on it.
 *
 * Data: one Arrow data set (`series`, float64 columns `t_ms`, `observed`, `trend`, `seasonal`,
 * `residual`, `baseline`, `score`, `anomalies`, sorted by time: what `hg.timeseries.anomalies`
 * returns, prepared by Python) read with the visualization module's `ArrowTable` (hg_wasm).
 * Without a kernel (standalone pages) `spec.run` holds `timeseries.stl` options (with
 * `time_column` and `data_column`): the raw data set is decomposed in the page by the engines'
 * module (`runOp` of hg_kernel.wasm, the code `hg.timeseries.anomalies` runs in the kernel), and
 * `spec.group` (`{column: value}`) picks one series of a `group_by` run.
 * Dense series are drawn as one min/max vertical run per pixel column over the points in it
 * (found by binary search on the sorted times), so a redraw touches each visible point once and
 * draws at most one line segment per pixel column and panel: a million points pan and zoom
 * smoothly. Text is drawn with the canvas text API or set as `textContent`, never as HTML.
 *
 * Test hooks on the root (`data-hg-widget="ts_anomalies"`): `data-hg-state` (loading, ready,
 * error), `data-hg-n-points`, `data-hg-n-anomalies`, `data-hg-view` (`start_ms,end_ms`),
 * `data-hg-theme`; parts carry `data-hg-role` (canvas, anomalies, anomaly, tooltip, status).
 */

import { debounce } from "../runtime/debounce.js";
import { el, setText, style } from "../runtime/dom.js";
import { showWidgetError } from "../runtime/errors.js";
import { fitCanvas, paintPlotRoot, panelFrame, PLOT_DARK, PLOT_LIGHT, plotChrome, receivingText, type PlotPalette } from "../runtime/plot.js";
import type { AnyModel, DataProgress } from "../runtime/types.js";
import { mountView, ViewLifecycle } from "../runtime/view.js";
import { loadKernel } from "../runtime/kernel.js";
import { loadTables } from "../runtime/wasm.js";
import type { ArrowTableApi } from "../runtime/wasm_api.js";

/** The component columns, in panel order (the observed panel also draws the baseline). */
export const PANELS = ["observed", "trend", "seasonal", "residual"] as const;
const COLUMNS = ["t_ms", "observed", "trend", "seasonal", "residual", "baseline", "score", "anomalies"] as const;
const DEFAULT_HEIGHT = 520;
const LIST_WIDTH = 250;
const AXIS_PX = 22;
const LEFT_PX = 64;
const VIEW_SYNC_MS = 250;

/** The widget's options (the `spec` traitlet). */
export interface TsSpec {
  dataset: string;
  run: Record<string, unknown> | null;
  group: Record<string, string>;
  title: string;
  value_label: string;
  height: number;
}

/** Reads the spec traitlet with defaults. */
export function parseSpec(value: unknown): TsSpec {
  const spec = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const height = spec.height;
  return {
    dataset: typeof spec.dataset === "string" && spec.dataset !== "" ? spec.dataset : "series",
    run: runOptions(spec.run),
    group: groupFilter(spec.group),
    title: typeof spec.title === "string" ? spec.title : "Time series anomalies",
    value_label: typeof spec.value_label === "string" ? spec.value_label : "observed",
    height: typeof height === "number" && Number.isFinite(height) && height >= 240 ? height : DEFAULT_HEIGHT,
  };
}

function runOptions(value: unknown): Record<string, unknown> | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object" || Array.isArray(value)) throw new Error("huntglass TimeSeriesAnomalies: spec.run must be an object of timeseries.stl options");
  const run = value as Record<string, unknown>;
  for (const key of ["time_column", "data_column"]) {
    if (typeof run[key] !== "string" || run[key] === "") throw new Error(`huntglass TimeSeriesAnomalies: spec.run.${key} must name a column`);
  }
  return run;
}

function groupFilter(value: unknown): Record<string, string> {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw new Error("huntglass TimeSeriesAnomalies: spec.group must map key columns to values");
  }
  return value as Record<string, string>;
}

/** First index whose time is >= `t` in sorted `times`. */
export function lowerBound(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Min and max of `values` per pixel column for the points with times in [start, end): arrays of
 * `width` entries (NaN for empty columns), plus the extent of all of them.
 */
export function minMaxColumns(
  times: Float64Array,
  values: Float64Array,
  start: number,
  end: number,
  width: number,
): { min: Float64Array; max: Float64Array; lo: number; hi: number } {
  const min = new Float64Array(width).fill(NaN);
  const max = new Float64Array(width).fill(NaN);
  let lo = Infinity;
  let hi = -Infinity;
  const scale = width / (end - start);
  for (let i = lowerBound(times, start); i < times.length; i++) {
    const t = times[i] as number;
    if (t >= end) break;
    const v = values[i] as number;
    if (!Number.isFinite(v)) continue;
    const x = Math.min(width - 1, Math.floor((t - start) * scale));
    const a = min[x] as number;
    if (!(a <= v)) min[x] = v;
    const b = max[x] as number;
    if (!(b >= v)) max[x] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { min, max, lo, hi };
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(".000Z", "Z");
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}


interface Palette extends PlotPalette {
  line: string;
  baseline: string;
  anomaly: string;
  dip: string;
}

const LIGHT: Palette = { ...PLOT_LIGHT, line: "#1f3b8f", baseline: "#2e8b57", anomaly: "#c62828", dip: "#ef6c00" };
const DARK: Palette = { ...PLOT_DARK, line: "#79a6ff", baseline: "#56d364", anomaly: "#ff6b6b", dip: "#ffa657" };

class TimeSeriesAnomalies {
  private readonly doc: Document;
  private readonly life: ViewLifecycle;
  private readonly schedule: () => void;
  private readonly root: HTMLDivElement;
  private readonly title: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly list: HTMLDivElement;
  private readonly tooltip: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly spec: TsSpec;
  private cols: Record<string, Float64Array> = {};
  private anomalyRows: number[] = [];
  private view: [number, number] = [0, 1];
  private extent: [number, number] = [0, 1];
  private dark = false;
  private readonly syncView: ((a: number, b: number) => void) & { flush(): void; cancel(): void };
  private readonly onProgress = (p: DataProgress): void => {
    setText(this.status, receivingText(p));
  };

  constructor(
    private readonly model: AnyModel,
    host: HTMLElement,
  ) {
    this.spec = parseSpec(model.get("spec"));
    this.life = new ViewLifecycle(model, host);
    this.schedule = this.life.frames(() => this.draw());
    this.doc = this.life.doc;
    const d = this.doc;
    ({ root: this.root, title: this.title, status: this.status } = plotChrome(d, "ts_anomalies", this.spec.title));
    const body = el("div", {}, undefined, d);
    this.canvas = el("canvas", { "data-hg-role": "canvas" }, undefined, d);
    this.list = el("div", { "data-hg-role": "anomalies" }, undefined, d);
    this.tooltip = el("div", { "data-hg-role": "tooltip" }, undefined, d);
    style(body, { display: "flex", gap: "6px" });
    style(this.canvas, { flex: "1 1 auto", "min-width": "200px", height: `${this.spec.height}px`, cursor: "crosshair", "touch-action": "none" });
    style(this.list, { width: `${LIST_WIDTH}px`, height: `${this.spec.height}px`, overflow: "auto", "flex": "0 0 auto" });
    style(this.tooltip, { position: "absolute", display: "none", "pointer-events": "none", padding: "4px 6px", "border-radius": "4px", "white-space": "pre", "font-family": "ui-monospace, monospace", "font-size": "11px", "z-index": "5" });
    body.append(this.canvas, this.list);
    this.root.append(this.title, this.status, body, this.tooltip);
    host.appendChild(this.root);
    this.syncView = debounce((a: number, b: number) => {
      this.model.set("view_range", [a, b]);
      this.model.save_changes();
    }, VIEW_SYNC_MS);
    this.dark = this.life.followTheme((dark) => this.setDark(dark));
    this.applyChrome();
    this.bindInput();
  }

  async start(): Promise<void> {
    try {
      const [tables, datasets] = await Promise.all([loadTables(this.model, "TimeSeriesAnomalies"), this.life.requestData(this.onProgress)]);
      if (this.life.disposed) return;
      const bytes = datasets.get(this.spec.dataset);
      if (!bytes) throw new Error(`huntglass TimeSeriesAnomalies: data set '${this.spec.dataset}' was not sent`);
      if (this.spec.run) {
        const kernel = await loadKernel(this.model);
        if (this.life.disposed) return;
        const run = this.spec.run;
        const output = kernel.runOp("timeseries.stl", { ...run, epoch_ms: true }, bytes);
        const table = new tables.ArrowTable(output);
        try {
          this.readRun(table, run.time_column as string, run.data_column as string);
        } finally {
          table.free();
        }
      } else {
        const table = new tables.ArrowTable(bytes);
        try {
          for (const c of COLUMNS) this.cols[c] = table.numbers(c);
        } finally {
          table.free();
        }
      }
      this.load();
    } catch (error) {
      this.showError(error);
    }
  }

  /** The columns of a `timeseries.stl` output (epoch_ms times), rows of `spec.group` only. */
  private readRun(table: ArrowTableApi, timeColumn: string, dataColumn: string): void {
    const n = table.num_rows();
    let keep: Uint8Array | null = null;
    for (const [column, value] of Object.entries(this.spec.group)) {
      const [labels, codes] = table.categorize(column) as [string[], Uint32Array, number];
      const code = labels.indexOf(value);
      if (code < 0) throw new Error(`huntglass TimeSeriesAnomalies: no series ${column}=${value}; values: ${labels.slice(0, 20).join(", ")}`);
      const mask: Uint8Array = keep ?? new Uint8Array(n).fill(1);
      for (let i = 0; i < n; i++) if (codes[i] !== code) mask[i] = 0;
      keep = mask;
    }
    const names: Record<string, string> = { t_ms: timeColumn, observed: dataColumn };
    for (const c of COLUMNS) {
      const all = table.numbers(names[c] ?? c);
      if (!keep) {
        this.cols[c] = all;
        continue;
      }
      const mask = keep;
      this.cols[c] = all.filter((_, i) => mask[i] === 1);
    }
  }

  private load(): void {
    const t = this.cols.t_ms as Float64Array;
    const flags = this.cols.anomalies as Float64Array;
    for (let i = 1; i < t.length; i++) {
      if ((t[i] as number) < (t[i - 1] as number)) throw new Error("huntglass TimeSeriesAnomalies: t_ms must be sorted");
    }
    this.anomalyRows = [];
    for (let i = 0; i < flags.length; i++) if (flags[i] !== 0) this.anomalyRows.push(i);
    const first = t.length ? (t[0] as number) : 0;
    const last = t.length ? (t[t.length - 1] as number) : 1;
    const pad = Math.max((last - first) * 0.02, 1000);
    this.extent = [first - pad, last + pad];
    this.view = [...this.extent];
    this.root.setAttribute("data-hg-n-points", String(t.length));
    this.root.setAttribute("data-hg-n-anomalies", String(this.anomalyRows.length));
    this.status.style.display = "none";
    this.buildList();
    this.root.setAttribute("data-hg-state", "ready");
    this.life.observeSize([this.canvas], this.schedule);
    this.draw();
  }

  private buildList(): void {
    const d = this.doc;
    while (this.list.firstChild) this.list.removeChild(this.list.firstChild);
    const head = el("div", {}, `${this.anomalyRows.length} anomalies`, d);
    style(head, { "font-weight": "600", margin: "2px 0 4px" });
    this.list.appendChild(head);
    const t = this.cols.t_ms as Float64Array;
    const obs = this.cols.observed as Float64Array;
    const score = this.cols.score as Float64Array;
    const flags = this.cols.anomalies as Float64Array;
    for (const row of this.anomalyRows) {
      const item = el("div", { "data-hg-role": "anomaly", "data-hg-row": String(row) }, undefined, d);
      item.textContent = `${formatTime(t[row] as number)}  ${formatNumber(obs[row] as number)}  z=${(score[row] as number).toFixed(2)}  (${flags[row]})`;
      style(item, { cursor: "pointer", padding: "2px 4px", "border-radius": "3px", "font-family": "ui-monospace, monospace", "font-size": "11px" });
      item.addEventListener("click", () => this.focus(row), { signal: this.life.signal });
      this.list.appendChild(item);
    }
  }

  /** Centres the view on a row, keeping a window of about 10% of the data. */
  private focus(row: number): void {
    const t = (this.cols.t_ms as Float64Array)[row] as number;
    const span = Math.max((this.extent[1] - this.extent[0]) * 0.1, 60_000);
    this.setView(t - span / 2, t + span / 2);
  }

  private setView(a: number, b: number): void {
    const minSpan = 1000;
    if (b - a < minSpan) {
      const mid = (a + b) / 2;
      a = mid - minSpan / 2;
      b = mid + minSpan / 2;
    }
    this.view = [a, b];
    this.schedule();
    this.syncView(a, b);
  }

  private plotWidth(): number {
    return Math.max(10, this.canvas.clientWidth - LEFT_PX - 8);
  }

  private xToMs(cssX: number): number {
    const [a, b] = this.view;
    return a + ((cssX - LEFT_PX) / this.plotWidth()) * (b - a);
  }

  private bindInput(): void {
    let drag: { x: number; view: [number, number] } | null = null;
    const c = this.canvas;
    const onWheel = (e: WheelEvent): void => {
      e.preventDefault();
      const rect = c.getBoundingClientRect();
      const anchor = this.xToMs(e.clientX - rect.left);
      const factor = e.deltaY > 0 ? 1.25 : 0.8;
      const [a, b] = this.view;
      this.setView(anchor - (anchor - a) * factor, anchor + (b - anchor) * factor);
    };
    const onDown = (e: PointerEvent): void => {
      drag = { x: e.clientX, view: [...this.view] };
      c.setPointerCapture?.(e.pointerId);
    };
    const onMove = (e: PointerEvent): void => {
      const rect = c.getBoundingClientRect();
      if (drag) {
        const [a, b] = drag.view;
        const dt = ((e.clientX - drag.x) / this.plotWidth()) * (b - a);
        this.setView(a - dt, b - dt);
        return;
      }
      this.hover(e.clientX - rect.left, e.clientY - rect.top);
    };
    const onUp = (): void => {
      drag = null;
    };
    const onLeave = (): void => {
      this.tooltip.style.display = "none";
    };
    const onDouble = (): void => this.setView(this.extent[0], this.extent[1]);
    const signal = this.life.signal;
    c.addEventListener("wheel", onWheel, { passive: false, signal });
    c.addEventListener("pointerdown", onDown, { signal });
    c.addEventListener("pointermove", onMove, { signal });
    c.addEventListener("pointerup", onUp, { signal });
    c.addEventListener("pointerleave", onLeave, { signal });
    c.addEventListener("dblclick", onDouble, { signal });
  }

  /** Shows the values of the point nearest to the pointer's time. */
  private hover(x: number, y: number): void {
    const t = this.cols.t_ms;
    if (!t || t.length === 0 || x < LEFT_PX) {
      this.tooltip.style.display = "none";
      return;
    }
    const ms = this.xToMs(x);
    let i = lowerBound(t, ms);
    if (i >= t.length || (i > 0 && ms - (t[i - 1] as number) < (t[i] as number) - ms)) i -= 1;
    const value = (name: string): string => formatNumber((this.cols[name] as Float64Array)[i] as number);
    const lines = [
      formatTime(t[i] as number),
      `${this.spec.value_label}: ${value("observed")}`,
      `baseline: ${value("baseline")}`,
      `trend: ${value("trend")}`,
      `seasonal: ${value("seasonal")}`,
      `residual: ${value("residual")}`,
      `score: ${((this.cols.score as Float64Array)[i] as number).toFixed(3)}`,
    ];
    const flag = (this.cols.anomalies as Float64Array)[i] as number;
    if (flag !== 0) lines.push(`anomaly: ${flag}`);
    this.tooltip.textContent = lines.join("\n");
    this.tooltip.setAttribute("data-hg-row", String(i));
    this.tooltip.style.display = "block";
    const rect = this.canvas.getBoundingClientRect();
    const rootRect = this.root.getBoundingClientRect();
    this.tooltip.style.left = `${rect.left - rootRect.left + Math.min(x + 12, rect.width - 180)}px`;
    this.tooltip.style.top = `${rect.top - rootRect.top + Math.max(0, y - 40)}px`;
  }

  private draw(): void {
    if (this.life.disposed || !this.cols.t_ms) return;
    const cssH = this.spec.height;
    const fitted = fitCanvas(this.canvas, 200, cssH);
    if (!fitted) return;
    const { ctx, width: cssW, dpr } = fitted;
    const p = this.dark ? DARK : LIGHT;
    ctx.fillStyle = p.bg;
    ctx.fillRect(0, 0, cssW, cssH);
    const plotW = this.plotWidth();
    const panelH = (cssH - AXIS_PX) / PANELS.length;
    const [start, end] = this.view;
    const columns = Math.max(1, Math.round(plotW * dpr));
    const times = this.cols.t_ms as Float64Array;
    ctx.font = "11px system-ui, sans-serif";
    PANELS.forEach((name, k) => {
      const top = k * panelH + 4;
      const height = panelH - 10;
      const main = minMaxColumns(times, this.cols[name] as Float64Array, start, end, columns);
      let lo = main.lo;
      let hi = main.hi;
      const extra = name === "observed" ? minMaxColumns(times, this.cols.baseline as Float64Array, start, end, columns) : null;
      if (extra) {
        lo = Math.min(lo, extra.lo);
        hi = Math.max(hi, extra.hi);
      }
      if (!Number.isFinite(lo)) {
        lo = 0;
        hi = 1;
      }
      if (hi === lo) hi = lo + 1;
      const yOf = (v: number): number => top + height - ((v - lo) / (hi - lo)) * height;
      const label = name === "observed" ? `${this.spec.value_label} / baseline` : name;
      panelFrame(ctx, p, { left: LEFT_PX, top, width: plotW, height }, { high: formatNumber(hi), low: formatNumber(lo), name: label });
      ctx.save();
      ctx.beginPath();
      ctx.rect(LEFT_PX, top, plotW, height);
      ctx.clip();
      if (name === "residual" && lo < 0 && hi > 0) {
        ctx.strokeStyle = p.grid;
        ctx.beginPath();
        ctx.moveTo(LEFT_PX, yOf(0));
        ctx.lineTo(LEFT_PX + plotW, yOf(0));
        ctx.stroke();
      }
      this.strokeColumns(ctx, main.min, main.max, yOf, p.line, dpr);
      if (extra) this.strokeColumns(ctx, extra.min, extra.max, yOf, p.baseline, dpr);
      if (name === "observed") this.markAnomalies(ctx, yOf, p);
      ctx.restore();
    });
    this.drawAxis(ctx, cssH - AXIS_PX, plotW, p);
    this.root.setAttribute("data-hg-view", `${Math.round(start)},${Math.round(end)}`);
    this.life.firstPaint();
  }

  /** One polyline through the per-column ranges: vertical runs joined column to column. */
  private strokeColumns(
    ctx: CanvasRenderingContext2D,
    min: Float64Array,
    max: Float64Array,
    yOf: (v: number) => number,
    colour: string,
    dpr: number,
  ): void {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1;
    ctx.beginPath();
    let open = false;
    for (let i = 0; i < min.length; i++) {
      const a = min[i] as number;
      if (Number.isNaN(a)) continue;
      const x = LEFT_PX + (i + 0.5) / dpr;
      const y0 = yOf(a);
      const y1 = yOf(max[i] as number);
      if (!open) {
        ctx.moveTo(x, y0);
        open = true;
      } else {
        ctx.lineTo(x, y0);
      }
      if (y1 !== y0) ctx.lineTo(x, y1);
    }
    ctx.stroke();
  }

  private markAnomalies(ctx: CanvasRenderingContext2D, yOf: (v: number) => number, p: Palette): void {
    const t = this.cols.t_ms as Float64Array;
    const obs = this.cols.observed as Float64Array;
    const flags = this.cols.anomalies as Float64Array;
    const [start, end] = this.view;
    const plotW = this.plotWidth();
    for (const row of this.anomalyRows) {
      const ms = t[row] as number;
      if (ms < start || ms > end) continue;
      const x = LEFT_PX + ((ms - start) / (end - start)) * plotW;
      ctx.strokeStyle = (flags[row] as number) > 0 ? p.anomaly : p.dip;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, yOf(obs[row] as number), 5, 0, Math.PI * 2);
      ctx.stroke();
    }
  }

  private drawAxis(ctx: CanvasRenderingContext2D, y: number, plotW: number, p: Palette): void {
    const [start, end] = this.view;
    const steps = [1e3, 6e4, 3e5, 9e5, 36e5, 6 * 36e5, 864e5, 7 * 864e5, 30 * 864e5, 365 * 864e5];
    const target = (end - start) / Math.max(2, Math.floor(plotW / 110));
    const step = steps.find((s) => s >= target) ?? target;
    ctx.fillStyle = p.muted;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
      const x = LEFT_PX + ((t - start) / (end - start)) * plotW;
      const iso = new Date(t).toISOString();
      const label = step >= 864e5 ? iso.slice(0, 10) : step >= 6e4 ? iso.slice(5, 16).replace("T", " ") : iso.slice(11, 19);
      ctx.fillText(label, x, y + 4);
    }
  }

  private setDark(dark: boolean): void {
    this.dark = dark;
    this.applyChrome();
    this.schedule();
  }

  private applyChrome(): void {
    const p = this.dark ? DARK : LIGHT;
    paintPlotRoot(this.root, p, this.dark);
    style(this.tooltip, { background: this.dark ? "#2d333b" : "#fffbe6", color: p.fg, border: `1px solid ${p.grid}` });
  }

  private showError(error: unknown): void {
    if (this.life.disposed) return;
    showWidgetError(this.model, this.root, this.status, error);
  }

  dispose(): void {
    if (this.life.disposed) return;
    this.syncView.flush();
    this.life.dispose();
    this.root.remove();
  }
}

/** anywidget `render` for `_kind == "ts_anomalies"`; returns the view's cleanup. */
export function renderTsAnomalies(model: AnyModel, host: HTMLElement): () => void {
  return mountView(new TimeSeriesAnomalies(model, host));
}
