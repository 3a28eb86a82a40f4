/**
 * The SessionRarity widget: every session plotted by its start time against the likelihood of
 * its rarest window (log scale, rarest at the bottom), coloured by user; a threshold slider marks
 * the sessions below it (listed, rarest first); clicking a session (in the chart or the list)
 * shows its ordered actions with the rarest window highlighted and each action's parameters.
 * The chosen sessions go to Python as the `selection` traitlet `{sessions: [session, ...]}`
 * (`widget.selected` returns those rows of `hg.sessions.build`'s output).
 *
 * The sessions are made and scored here, in the browser, by the engines' own module
 * (`runOp("sessions.score_events", ...)` of hg_kernel.wasm, runtime/kernel.ts: the very code
 * `hg.sessions.build` / `score` run in the Python kernel) on the events Python (or the page)
 * sent; its flat per-event output is read with the visualization module's `ArrowTable`. The
 * chart is drawn with the canvas 2D API (one arc per session: hundreds of thousands of points
 * draw in well under a second; text with `fillText`), the lists with `textContent` only: log
 * fields are hostile and never become HTML.
 *
 * Test hooks on the root (`data-hg-widget="session_rarity"`): `data-hg-state`
 * (loading/ready/error), `data-hg-n-events`, `data-hg-n-sessions`, `data-hg-n-scored`,
 * `data-hg-n-below`, `data-hg-threshold`, `data-hg-rarest-session`, `data-hg-rarest-xy` (CSS px
 * inside the canvas), `data-hg-selected-count`, `data-hg-detail-session`, `data-hg-theme`;
 * parts carry `data-hg-role` (chart, threshold, below-list, below-item, detail, action, legend,
 * tooltip, status, error).
 */

import { debounce } from "../runtime/debounce.js";
import { el, setText, style } from "../runtime/dom.js";
import { showWidgetError } from "../runtime/errors.js";
import { BASE_DARK, BASE_LIGHT, mountView, progressText, ROOT_STYLE, showReady, TITLE_STYLE, ViewLifecycle, type BasePalette } from "../runtime/view.js";
import type { AnyModel, DataProgress } from "../runtime/types.js";
import { loadOpInputs, specDataset, type OpInputs } from "../runtime/op_view.js";
import type { ArrowTableApi } from "../runtime/wasm_api.js";

const SYNC_DEBOUNCE_MS = 250;
const DEFAULT_HEIGHT = 360;
/** Radius of a session's mark (CSS px) and the distance within which a click hits it. */
const MARK_RADIUS = 3.5;
const HIT_PX = 7;
/** Plot margins (CSS px): room for the axis labels. */
const MARGIN = { left: 58, right: 12, top: 10, bottom: 28 };
/** Longest parameter text shown for one action (characters). */
const MAX_PARAMS_CHARS = 600;
/** Sessions listed below the threshold at most (the rest are counted). */
const MAX_LISTED = 200;
/** Users named in the legend at most. */
const MAX_LEGEND = 12;

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

interface Palette extends BasePalette {
  grid: string;
  window: string;
  selected: string;
  threshold: string;
}
const LIGHT: Palette = { ...BASE_LIGHT, grid: "#eceef1", window: "#ffe3a3", selected: "#fff1c2", threshold: "#d93025" };
const DARK: Palette = { ...BASE_DARK, grid: "#2c2e33", window: "#6b4d12", selected: "#4b4326", threshold: "#ff6b5e" };

/** The SessionRarity spec (traitlet `spec`), validated. */
export interface SessionRaritySpec {
  dataset: string;
  user_identifier_cols: string[];
  time_col: string;
  event_col: string;
  params_col: string | null;
  color_by: string;
  max_session_time_mins: number;
  max_event_separation_mins: number;
  window_length: number;
  use_start_end_tokens: boolean;
  use_geo_mean: boolean;
  threshold: number | null;
  title: string;
  height: number;
}

function positiveNumber(value: unknown, key: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new Error(`huntglass SessionRarity: spec.${key} must be a number >= 0`);
  }
  return value;
}

function columnName(value: unknown, key: string): string {
  if (typeof value !== "string" || value === "") throw new Error(`huntglass SessionRarity: spec.${key} must be a column name`);
  return value;
}

/** Reads the spec traitlet; throws naming the key that is wrong. */
export function parseSpec(value: unknown): SessionRaritySpec {
  const spec = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const users = spec.user_identifier_cols;
  if (!Array.isArray(users) || users.length === 0 || !users.every((c) => typeof c === "string" && c !== "")) {
    throw new Error("huntglass SessionRarity: spec.user_identifier_cols must be a non-empty list of column names");
  }
  const window = spec.window_length ?? 3;
  if (typeof window !== "number" || !Number.isInteger(window) || window < 1 || window > 64) {
    throw new Error("huntglass SessionRarity: spec.window_length must be an integer from 1 to 64");
  }
  const threshold = spec.threshold;
  if (threshold !== null && threshold !== undefined && (typeof threshold !== "number" || !(threshold > 0))) {
    throw new Error("huntglass SessionRarity: spec.threshold must be null or a likelihood > 0");
  }
  const params = spec.params_col;
  const userCols = users as string[];
  return {
    dataset: typeof spec.dataset === "string" && spec.dataset !== "" ? spec.dataset : "events",
    user_identifier_cols: userCols,
    time_col: columnName(spec.time_col ?? "TimeGenerated", "time_col"),
    event_col: columnName(spec.event_col, "event_col"),
    params_col: params === null || params === undefined ? null : columnName(params, "params_col"),
    color_by: spec.color_by === undefined || spec.color_by === null ? (userCols[0] as string) : columnName(spec.color_by, "color_by"),
    max_session_time_mins: positiveNumber(spec.max_session_time_mins, "max_session_time_mins"),
    max_event_separation_mins: positiveNumber(spec.max_event_separation_mins, "max_event_separation_mins"),
    window_length: window,
    use_start_end_tokens: spec.use_start_end_tokens !== false,
    use_geo_mean: spec.use_geo_mean === true,
    threshold: typeof threshold === "number" ? threshold : null,
    title: typeof spec.title === "string" ? spec.title : "Session rarity",
    height: typeof spec.height === "number" && Number.isFinite(spec.height) && spec.height >= 160 ? spec.height : DEFAULT_HEIGHT,
  };
}

/** The JSON options of `sessions.score_events` for a spec (the keys hg_ops documents). */
export function scoreOptions(spec: SessionRaritySpec): Record<string, unknown> {
  const columns = [spec.params_col, spec.color_by].filter((c): c is string => c !== null && !spec.user_identifier_cols.includes(c) && c !== spec.event_col);
  return {
    user_identifier_cols: spec.user_identifier_cols,
    time_col: spec.time_col,
    max_session_time_mins: spec.max_session_time_mins,
    max_event_separation_mins: spec.max_event_separation_mins,
    event_col: spec.event_col,
    window_length: spec.window_length,
    use_start_end_tokens: spec.use_start_end_tokens,
    use_geo_mean: spec.use_geo_mean,
    columns: [...new Set(columns)],
  };
}

/** Sessions of `sessions.score_events`' flat output, as plain arrays indexed by session. */
export interface SessionIndex {
  /** First output row of each session, plus one past the last row (length sessions + 1). */
  offsets: Uint32Array;
  /** Start time (ms) of each session: its first event's time. */
  start: Float64Array;
  /** End time (ms): its last event's time. */
  end: Float64Array;
  likelihood: Float64Array;
  /** Index of the rarest window's first action in the session (-1: no window fits). */
  windowStart: Int32Array;
  /** Number of the session's actions inside that window. */
  windowCommands: Int32Array;
  /** Colour category (index into `colorLabels`) of each session: its first event's. */
  color: Uint32Array;
  colorLabels: string[];
}

/** Groups the per-event columns into sessions (rows of one session are contiguous). */
export function indexSessions(columns: {
  session: Float64Array;
  time: Float64Array;
  likelihood: Float64Array;
  windowStart: Float64Array;
  windowCommands: Float64Array;
  colorCodes: Uint32Array;
  colorLabels: string[];
}): SessionIndex {
  const n = columns.session.length;
  const nSessions = n === 0 ? 0 : (columns.session[n - 1] as number) + 1;
  const offsets = new Uint32Array(nSessions + 1);
  const start = new Float64Array(nSessions);
  const end = new Float64Array(nSessions);
  const likelihood = new Float64Array(nSessions);
  const windowStart = new Int32Array(nSessions);
  const windowCommands = new Int32Array(nSessions);
  const color = new Uint32Array(nSessions);
  let expected = 0;
  for (let r = 0; r < n; r++) {
    const s = columns.session[r] as number;
    if (s === expected) {
      offsets[s] = r;
      start[s] = columns.time[r] as number;
      likelihood[s] = columns.likelihood[r] as number;
      const w = columns.windowStart[r] as number;
      windowStart[s] = Number.isFinite(w) ? w : -1;
      windowCommands[s] = columns.windowCommands[r] as number;
      color[s] = columns.colorCodes[r] as number;
      expected += 1;
    } else if (s !== expected - 1) {
      throw new Error(`huntglass SessionRarity: sessions.score_events returned session ${s} at row ${r} (expected ${expected - 1} or ${expected})`);
    }
    end[s] = columns.time[r] as number;
  }
  offsets[nSessions] = n;
  return { offsets, start, end, likelihood, windowStart, windowCommands, color, colorLabels: columns.colorLabels };
}

/** The sessions whose likelihood is at most `threshold`, rarest first. */
export function sessionsBelow(likelihood: Float64Array, threshold: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < likelihood.length; s++) if ((likelihood[s] as number) <= threshold) out.push(s);
  return out.sort((a, b) => (likelihood[a] as number) - (likelihood[b] as number) || a - b);
}

/** Default threshold: the likelihood of the rarest 1% of scored sessions (at least the rarest one). */
export function defaultThreshold(likelihood: Float64Array): number | null {
  const finite = Array.from(likelihood).filter((v) => Number.isFinite(v) && v > 0).sort((a, b) => a - b);
  if (finite.length === 0) return null;
  return finite[Math.max(0, Math.ceil(finite.length * 0.01) - 1)] as number;
}

/** Ticks of a log axis between two positive values: powers of ten (every k-th when many). */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const step = Math.max(1, Math.ceil((hi - lo) / 8));
  const out: number[] = [];
  for (let e = lo; e <= hi; e += step) out.push(e);
  return out;
}

const TIME_STEPS_MS = [1e3, 5e3, 15e3, 60e3, 300e3, 900e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 2 * 86400e3, 7 * 86400e3, 30 * 86400e3, 365 * 86400e3];

/** Time ticks (ms, UTC) for a range and a number of ticks that fit. */
export function timeTicks(startMs: number, endMs: number, maxTicks: number): number[] {
  const span = Math.max(1, endMs - startMs);
  const step = TIME_STEPS_MS.find((s) => span / s <= Math.max(2, maxTicks)) ?? (TIME_STEPS_MS[TIME_STEPS_MS.length - 1] as number);
  const out: number[] = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) out.push(t);
  return out;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** UTC text of a time: the date, plus the time of day when the step is below a day. */
export function formatTime(ms: number, withDate = true, withTime = true): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return withDate && withTime ? `${date} ${time}` : withDate ? date : time;
}

/** Likelihood text: 3 significant digits in exponent form. */
export function formatLikelihood(v: number): string {
  return Number.isFinite(v) ? v.toExponential(2) : "n/a";
}


/** Everything one view owns; `dispose` releases it all (the wasm table included). */
class SessionRarity {
  private readonly doc: Document;
  private readonly life: ViewLifecycle;
  private readonly root: HTMLDivElement;
  private readonly titleEl: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly toolbar: HTMLDivElement;
  private readonly slider: HTMLInputElement;
  private readonly thresholdText: HTMLSpanElement;
  private readonly selectBelow: HTMLButtonElement;
  private readonly clearButton: HTMLButtonElement;
  private readonly legend: HTMLDivElement;
  private readonly body: HTMLDivElement;
  private readonly chartBox: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly tooltip: HTMLDivElement;
  private readonly side: HTMLDivElement;
  private readonly belowList: HTMLDivElement;
  private readonly detail: HTMLDivElement;

  private spec: SessionRaritySpec | null = null;
  private inputs: OpInputs | null = null;
  private table: ArrowTableApi | null = null;
  private index: SessionIndex | null = null;
  /** Scored sessions (finite likelihood > 0): the ones plotted. */
  private plotted: number[] = [];
  private px = new Float64Array(0);
  private py = new Float64Array(0);
  private logRange: [number, number] = [0, 1];
  private timeRange: [number, number] = [0, 1];
  private threshold = 0;
  private selected = new Set<number>();
  private detailSession = -1;
  private dark = false;
  private readonly onProgress = (p: DataProgress): void => {
    if (!this.index && !this.disposed) setText(this.status, progressText(p));
  };
  private readonly syncSelection = debounce((sessions: number[]) => {
    this.model.set("selection", { sessions });
    this.model.save_changes();
  }, SYNC_DEBOUNCE_MS);

  constructor(
    private readonly model: AnyModel,
    host: HTMLElement,
  ) {
    this.life = new ViewLifecycle(model, host);
    this.doc = this.life.doc;
    const d = this.doc;
    const signal = this.life.signal;
    this.root = el("div", { "data-hg-widget": "session_rarity", "data-hg-state": "loading" }, undefined, d);
    this.titleEl = el("div", { "data-hg-role": "title" }, undefined, d);
    this.status = el("div", { "data-hg-role": "status", "aria-live": "polite" }, "Waiting for data…", d);
    this.toolbar = el("div", { "data-hg-role": "toolbar" }, undefined, d);
    const label = el("label", { "data-hg-role": "threshold-label" }, "Threshold ", d);
    this.slider = el("input", { type: "range", "data-hg-role": "threshold", "aria-label": "Likelihood threshold (log scale)" }, undefined, d);
    label.appendChild(this.slider);
    this.thresholdText = el("span", { "data-hg-role": "threshold-text" }, undefined, d);
    this.selectBelow = el("button", { type: "button", "data-hg-tool": "select-below" }, "Select all below", d);
    this.clearButton = el("button", { type: "button", "data-hg-tool": "clear" }, "Clear selection", d);
    this.legend = el("div", { "data-hg-role": "legend" }, undefined, d);
    this.body = el("div", { "data-hg-role": "body" }, undefined, d);
    this.chartBox = el("div", { "data-hg-role": "chart-box" }, undefined, d);
    this.canvas = el("canvas", { "data-hg-role": "chart", tabindex: "0" }, undefined, d);
    this.tooltip = el("div", { "data-hg-role": "tooltip" }, undefined, d);
    this.side = el("div", { "data-hg-role": "side" }, undefined, d);
    this.belowList = el("div", { "data-hg-role": "below-list" }, undefined, d);
    this.detail = el("div", { "data-hg-role": "detail" }, "Click a session to list its actions.", d);

    style(this.root, ROOT_STYLE);
    style(this.titleEl, TITLE_STYLE);
    style(this.status, { margin: "2px 0", "white-space": "pre-wrap" });
    style(this.toolbar, { display: "none", "flex-wrap": "wrap", gap: "6px 12px", "align-items": "center", margin: "0 0 6px 0" });
    style(this.slider, { width: "200px", "vertical-align": "middle" });
    for (const b of [this.selectBelow, this.clearButton]) style(b, { font: "inherit", padding: "1px 8px", "border-radius": "3px", cursor: "pointer" });
    style(this.legend, { display: "flex", "flex-wrap": "wrap", gap: "2px 10px", margin: "0 0 4px 0" });
    style(this.body, { display: "none", gap: "8px", "align-items": "stretch" });
    style(this.chartBox, { flex: "3 1 0", "min-width": "0", position: "relative" });
    style(this.canvas, { display: "block", width: "100%", cursor: "crosshair" });
    style(this.tooltip, { position: "absolute", display: "none", "pointer-events": "none", padding: "3px 6px", "border-radius": "3px", "white-space": "pre", "font-size": "11px", "z-index": "2" });
    style(this.side, { flex: "2 1 0", "min-width": "0", display: "flex", "flex-direction": "column", gap: "6px" });
    style(this.belowList, { overflow: "auto", flex: "0 0 auto", "max-height": "35%" });
    style(this.detail, { overflow: "auto", flex: "1 1 auto" });
    this.toolbar.append(label, this.thresholdText, this.selectBelow, this.clearButton);
    this.chartBox.append(this.canvas, this.tooltip);
    this.side.append(this.belowList, this.detail);
    this.body.append(this.chartBox, this.side);
    this.root.append(this.titleEl, this.status, this.toolbar, this.legend, this.body);
    host.appendChild(this.root);

    this.slider.addEventListener("input", () => this.setThreshold(10 ** Number(this.slider.value)), { signal });
    this.selectBelow.addEventListener("click", () => this.setSelection(this.below(), -2), { signal });
    this.clearButton.addEventListener("click", () => this.setSelection([], -1), { signal });
    this.canvas.addEventListener("click", (event) => this.onChartClick(event), { signal });
    this.canvas.addEventListener("mousemove", (event) => this.onHover(event), { signal });
    this.canvas.addEventListener("mouseleave", () => (this.tooltip.style.display = "none"), { signal });
    this.belowList.addEventListener("click", (event) => {
      const hit = (event.target as Element | null)?.closest?.("[data-hg-session]");
      const s = Number(hit?.getAttribute("data-hg-session"));
      if (hit && Number.isInteger(s)) this.choose(s, event.shiftKey || event.ctrlKey || event.metaKey);
    }, { signal });
    this.life.listen({ "change:spec": () => this.build() });
    this.life.observeSize([this.chartBox], () => this.draw());
    this.dark = this.life.followTheme((dark) => this.setDark(dark));
    this.applyChrome();
  }

  private get disposed(): boolean {
    return this.life.disposed;
  }

  start(): Promise<void> {
    const ready = (inputs: OpInputs): void => {
      this.inputs = inputs;
      this.build();
    };
    return this.life.load(loadOpInputs(this.life, this.onProgress, "SessionRarity"), ready, (error) => this.showError(error));
  }

  /** (Re)runs sessionizing and scoring for the current spec and rebuilds the view. */
  private build(): void {
    const inputs = this.inputs;
    if (!inputs || this.disposed) return;
    const { tables, kernel } = inputs;
    this.table?.free();
    this.table = null;
    this.index = null;
    let spec: SessionRaritySpec;
    let table: ArrowTableApi | null = null;
    const started = performance.now();
    try {
      spec = parseSpec(this.model.get("spec"));
      const bytes = specDataset(inputs, spec.dataset, "SessionRarity");
      // The output is read straight out of the kernel's memory (ArrowTable copies what it keeps).
      table = kernel.runOpWith("sessions.score_events", scoreOptions(spec), bytes, (output) => new tables.ArrowTable(output));
      const [colorLabels, colorCodes] = table.categorize(spec.color_by) as [string[], Uint32Array, number];
      this.index = indexSessions({
        session: table.numbers("session"),
        time: table.numbers("time_ms"),
        likelihood: table.numbers("rarest_window_likelihood"),
        windowStart: table.numbers("rarest_window_start"),
        windowCommands: table.numbers("rarest_window_commands"),
        colorCodes,
        colorLabels,
      });
    } catch (error) {
      table?.free();
      this.showError(error);
      return;
    }
    this.spec = spec;
    this.table = table;
    const index = this.index;
    const nSessions = index.likelihood.length;
    this.plotted = [];
    let lo = Infinity;
    let hi = -Infinity;
    let t0 = Infinity;
    let t1 = -Infinity;
    for (let s = 0; s < nSessions; s++) {
      const v = index.likelihood[s] as number;
      if (!(Number.isFinite(v) && v > 0)) continue;
      this.plotted.push(s);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      t0 = Math.min(t0, index.start[s] as number);
      t1 = Math.max(t1, index.start[s] as number);
    }
    if (this.plotted.length === 0) {
      lo = 1e-3;
      hi = 1;
      t0 = 0;
      t1 = 1;
    }
    const logLo = Math.floor(Math.log10(lo) * 4) / 4 - 0.25;
    const logHi = Math.min(0, Math.ceil(Math.log10(hi) * 4) / 4 + 0.25);
    this.logRange = [logLo, Math.max(logHi, logLo + 0.5)];
    const pad = Math.max((t1 - t0) * 0.03, 60_000);
    this.timeRange = [t0 - pad, t1 + pad];
    this.slider.min = String(this.logRange[0]);
    this.slider.max = String(this.logRange[1]);
    this.slider.step = "0.01";
    const initial = spec.threshold ?? defaultThreshold(index.likelihood) ?? 10 ** this.logRange[0];
    this.slider.value = String(Math.log10(initial));
    this.root.setAttribute("data-hg-score-ms", (performance.now() - started).toFixed(1));
    this.root.setAttribute("data-hg-n-events", String(table.num_rows()));
    this.root.setAttribute("data-hg-n-sessions", String(nSessions));
    this.root.setAttribute("data-hg-n-scored", String(this.plotted.length));
    let rarest = -1;
    for (const s of this.plotted) if (rarest < 0 || (index.likelihood[s] as number) < (index.likelihood[rarest] as number)) rarest = s;
    this.root.setAttribute("data-hg-rarest-session", String(rarest));
    setText(this.titleEl, spec.title);
    this.titleEl.style.display = spec.title === "" ? "none" : "block";
    this.canvas.style.height = `${spec.height}px`;
    this.side.style.height = `${spec.height}px`;
    this.toolbar.style.display = "flex";
    this.body.style.display = "flex";
    showReady(this.model, this.root, this.status);
    this.selected = new Set();
    this.detailSession = -1;
    this.root.setAttribute("data-hg-selected-count", "0");
    this.buildLegend();
    this.setThreshold(initial);
    this.showDetail(-1);
    this.life.firstPaint();
  }

  private colour(code: number): string {
    return PALETTE[code % PALETTE.length] as string;
  }

  private buildLegend(): void {
    const index = this.index;
    if (!index) return;
    const counts = new Array<number>(index.colorLabels.length).fill(0);
    for (const s of this.plotted) counts[index.color[s] as number] = (counts[index.color[s] as number] ?? 0) + 1;
    const order = counts.map((_, i) => i).filter((i) => (counts[i] as number) > 0).sort((a, b) => (counts[b] as number) - (counts[a] as number) || a - b);
    const items = order.slice(0, MAX_LEGEND).map((code) => {
      const item = el("span", { "data-hg-role": "legend-item" }, undefined, this.doc);
      const swatch = el("span", undefined, undefined, this.doc);
      style(swatch, { display: "inline-block", width: "9px", height: "9px", "border-radius": "50%", "margin-right": "4px", background: this.colour(code) });
      item.append(swatch, this.doc.createTextNode(`${index.colorLabels[code] ?? ""} (${counts[code]})`));
      return item;
    });
    if (order.length > MAX_LEGEND) items.push(el("span", { "data-hg-role": "legend-more" }, `+${order.length - MAX_LEGEND} more`, this.doc));
    this.legend.replaceChildren(...items);
  }

  private below(): number[] {
    return this.index ? sessionsBelow(this.index.likelihood, this.threshold) : [];
  }

  private setThreshold(value: number): void {
    this.threshold = value;
    const below = this.below();
    this.root.setAttribute("data-hg-threshold", String(value));
    this.root.setAttribute("data-hg-n-below", String(below.length));
    setText(this.thresholdText, `${formatLikelihood(value)}: ${below.length.toLocaleString("en-US")} of ${this.plotted.length.toLocaleString("en-US")} sessions at or below`);
    this.renderBelowList(below);
    this.draw();
  }

  private renderBelowList(below: number[]): void {
    const index = this.index;
    const table = this.table;
    const spec = this.spec;
    if (!index || !table || !spec) return;
    const p = this.dark ? DARK : LIGHT;
    const header = el("div", { "data-hg-role": "below-header" }, `Rarest sessions (${below.length.toLocaleString("en-US")})`, this.doc);
    style(header, { "font-weight": "600", padding: "2px 4px" });
    const rows: HTMLElement[] = [header];
    for (const s of below.slice(0, MAX_LISTED)) {
      const first = index.offsets[s] as number;
      const keys = spec.user_identifier_cols.map((c) => table.text(c, first) ?? "(missing)").join(" · ");
      const item = el("div", { "data-hg-role": "below-item", "data-hg-session": String(s) }, undefined, this.doc);
      style(item, { padding: "1px 4px", cursor: "pointer", "white-space": "nowrap", overflow: "hidden", "text-overflow": "ellipsis", background: this.selected.has(s) ? p.selected : "transparent" });
      const swatch = el("span", undefined, undefined, this.doc);
      style(swatch, { display: "inline-block", width: "8px", height: "8px", "border-radius": "50%", "margin-right": "4px", background: this.colour(index.color[s] as number) });
      item.append(swatch, this.doc.createTextNode(`${formatLikelihood(index.likelihood[s] as number)}  ${formatTime(index.start[s] as number)}  ${keys}`));
      rows.push(item);
    }
    if (below.length > MAX_LISTED) rows.push(el("div", { "data-hg-role": "below-more" }, `… ${below.length - MAX_LISTED} more`, this.doc));
    this.belowList.replaceChildren(...rows);
  }

  private xOf(ms: number, w: number): number {
    const [t0, t1] = this.timeRange;
    return MARGIN.left + ((ms - t0) / (t1 - t0)) * (w - MARGIN.left - MARGIN.right);
  }

  private yOf(likelihood: number, h: number): number {
    const [lo, hi] = this.logRange;
    // Rarest at the bottom: the likelihood axis grows upwards.
    return MARGIN.top + ((hi - Math.log10(likelihood)) / (hi - lo)) * (h - MARGIN.top - MARGIN.bottom);
  }

  /** Draws the chart: grid and axes, every scored session, the threshold line, selections. */
  private draw(): void {
    const index = this.index;
    const spec = this.spec;
    if (!index || !spec || this.disposed) return;
    const w = Math.max(200, this.canvas.clientWidth || this.chartBox.clientWidth || 600);
    const h = spec.height;
    const dpr = this.doc.defaultView?.devicePixelRatio ?? 1;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    const p = this.dark ? DARK : LIGHT;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = p.background;
    ctx.fillRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    // Likelihood axis (log): a grid line and label per power of ten.
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const e of logTicks(10 ** this.logRange[0], 10 ** this.logRange[1])) {
      if (e < this.logRange[0] || e > this.logRange[1]) continue;
      const y = this.yOf(10 ** e, h);
      ctx.strokeStyle = p.grid;
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, y);
      ctx.lineTo(w - MARGIN.right, y);
      ctx.stroke();
      ctx.fillStyle = p.muted;
      ctx.fillText(`1e${e}`, MARGIN.left - 4, y);
    }
    // Time axis.
    const ticks = timeTicks(this.timeRange[0], this.timeRange[1], Math.floor((w - MARGIN.left - MARGIN.right) / 110));
    const step = ticks.length > 1 ? (ticks[1] as number) - (ticks[0] as number) : 86400e3;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of ticks) {
      const x = this.xOf(t, w);
      ctx.strokeStyle = p.grid;
      ctx.beginPath();
      ctx.moveTo(x, MARGIN.top);
      ctx.lineTo(x, h - MARGIN.bottom);
      ctx.stroke();
      ctx.fillStyle = p.muted;
      const midnight = t % 86400e3 === 0;
      ctx.fillText(step >= 86400e3 || midnight ? formatTime(t, true, false) : formatTime(t, false, true).slice(0, 5), x, h - MARGIN.bottom + 4);
    }
    ctx.strokeStyle = p.border;
    ctx.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, w - MARGIN.left - MARGIN.right - 1, h - MARGIN.top - MARGIN.bottom - 1);
    ctx.save();
    ctx.translate(12, (MARGIN.top + h - MARGIN.bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillStyle = p.muted;
    ctx.fillText(`rarest window (${spec.window_length}) likelihood`, 0, 0);
    ctx.restore();
    // Sessions: above the threshold faded, at or below it solid.
    const n = this.plotted.length;
    this.px = new Float64Array(n);
    this.py = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const s = this.plotted[k] as number;
      this.px[k] = this.xOf(index.start[s] as number, w);
      this.py[k] = this.yOf(index.likelihood[s] as number, h);
    }
    for (const pass of [false, true]) {
      ctx.globalAlpha = pass ? 1 : 0.35;
      for (let k = 0; k < n; k++) {
        const s = this.plotted[k] as number;
        const below = (index.likelihood[s] as number) <= this.threshold;
        if (below !== pass) continue;
        ctx.fillStyle = this.colour(index.color[s] as number);
        ctx.beginPath();
        ctx.arc(this.px[k] as number, this.py[k] as number, below ? MARK_RADIUS + 0.5 : MARK_RADIUS, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    ctx.globalAlpha = 1;
    ctx.strokeStyle = p.foreground;
    ctx.lineWidth = 2;
    for (let k = 0; k < n; k++) {
      const s = this.plotted[k] as number;
      if (!this.selected.has(s) && s !== this.detailSession) continue;
      ctx.beginPath();
      ctx.arc(this.px[k] as number, this.py[k] as number, MARK_RADIUS + 3, 0, 2 * Math.PI);
      ctx.stroke();
    }
    // Threshold line.
    const ty = this.yOf(Math.max(this.threshold, 10 ** this.logRange[0]), h);
    ctx.strokeStyle = p.threshold;
    ctx.lineWidth = 1;
    ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.moveTo(MARGIN.left, ty);
    ctx.lineTo(w - MARGIN.right, ty);
    ctx.stroke();
    ctx.setLineDash([]);
    const rarest = Number(this.root.getAttribute("data-hg-rarest-session"));
    const k = this.plotted.indexOf(rarest);
    if (k >= 0) this.root.setAttribute("data-hg-rarest-xy", `${(this.px[k] as number).toFixed(1)},${(this.py[k] as number).toFixed(1)}`);
  }

  /** The plotted session nearest to a canvas point within HIT_PX, or -1. */
  private hit(event: MouseEvent): number {
    const rect = this.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    let best = -1;
    let bestD = HIT_PX * HIT_PX;
    for (let k = 0; k < this.plotted.length; k++) {
      const dx = (this.px[k] as number) - x;
      const dy = (this.py[k] as number) - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = this.plotted[k] as number;
      }
    }
    return best;
  }

  private onChartClick(event: MouseEvent): void {
    const s = this.hit(event);
    if (s < 0) return;
    this.choose(s, event.shiftKey || event.ctrlKey || event.metaKey);
  }

  private onHover(event: MouseEvent): void {
    const index = this.index;
    const table = this.table;
    const spec = this.spec;
    const s = this.hit(event);
    if (s < 0 || !index || !table || !spec) {
      this.tooltip.style.display = "none";
      return;
    }
    const first = index.offsets[s] as number;
    const keys = spec.user_identifier_cols.map((c) => `${c}: ${table.text(c, first) ?? "(missing)"}`).join("\n");
    const count = (index.offsets[s + 1] as number) - first;
    setText(this.tooltip, `${keys}\n${formatTime(index.start[s] as number)}, ${count} actions\nlikelihood ${formatLikelihood(index.likelihood[s] as number)}`);
    const rect = this.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    style(this.tooltip, { display: "block", left: `${Math.min(x + 12, Math.max(0, rect.width - 260))}px`, top: `${Math.max(0, y - 50)}px` });
  }

  /** Click on a session: it becomes the one listed; with a modifier it joins (or leaves) the selection. */
  private choose(s: number, additive: boolean): void {
    const next = new Set(additive ? this.selected : []);
    if (additive && next.has(s)) next.delete(s);
    else next.add(s);
    this.setSelection([...next], s);
  }

  /** Sets the chosen sessions; `detail` is the session to list (-1: none, -2: the rarest chosen). */
  private setSelection(sessions: number[], detail: number): void {
    this.selected = new Set(sessions);
    const sorted = [...this.selected].sort((a, b) => a - b);
    this.root.setAttribute("data-hg-selected-count", String(sorted.length));
    this.syncSelection(sorted);
    this.showDetail(detail === -2 ? (sessions[0] ?? -1) : detail);
    this.renderBelowList(this.below());
    this.draw();
  }

  /** Lists the actions of session `s` in order, its rarest window highlighted. */
  private showDetail(s: number): void {
    const index = this.index;
    const table = this.table;
    const spec = this.spec;
    this.detailSession = s;
    this.root.setAttribute("data-hg-detail-session", String(s));
    if (!index || !table || !spec || s < 0) {
      this.detail.replaceChildren(this.doc.createTextNode("Click a session to list its actions (shift-click adds it to the selection)."));
      return;
    }
    const p = this.dark ? DARK : LIGHT;
    const first = index.offsets[s] as number;
    const count = (index.offsets[s + 1] as number) - first;
    const keys = spec.user_identifier_cols.map((c) => `${c}: ${table.text(c, first) ?? "(missing)"}`).join("  ");
    const header = el("div", { "data-hg-role": "detail-header" }, undefined, this.doc);
    style(header, { "font-weight": "600", padding: "2px 4px", "white-space": "pre-wrap" });
    const wStart = index.windowStart[s] as number;
    const wEnd = wStart + (index.windowCommands[s] as number);
    header.textContent =
      `${keys}\n${formatTime(index.start[s] as number)} – ${formatTime(index.end[s] as number)}, ${count} actions\n` +
      `rarest window of ${spec.window_length}: likelihood ${formatLikelihood(index.likelihood[s] as number)}` +
      (wStart < 0 ? " (session too short for a window)" : wEnd === count && (index.windowCommands[s] as number) < spec.window_length ? " (ends the session)" : "");
    const rows: HTMLElement[] = [header];
    for (let i = 0; i < count; i++) {
      const row = first + i;
      const inWindow = wStart >= 0 && i >= wStart && i < wEnd;
      const line = el("div", { "data-hg-role": "action", "data-hg-position": String(i), "data-hg-in-window": String(inWindow) }, undefined, this.doc);
      style(line, { padding: "1px 4px", "border-left": `3px solid ${inWindow ? p.threshold : "transparent"}`, background: inWindow ? p.window : "transparent" });
      const name = el("span", { "data-hg-role": "action-name" }, `${i + 1}. ${table.text(spec.event_col, row) ?? "(missing)"}`, this.doc);
      style(name, { "font-weight": inWindow ? "600" : "400" });
      line.appendChild(name);
      if (spec.params_col) {
        const raw = table.text(spec.params_col, row);
        if (raw !== undefined && raw !== "") {
          const text = raw.length > MAX_PARAMS_CHARS ? `${raw.slice(0, MAX_PARAMS_CHARS)}…` : raw;
          const params = el("div", { "data-hg-role": "action-params" }, text, this.doc);
          style(params, { color: p.muted, "font-family": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", "font-size": "11px", "white-space": "pre-wrap", "word-break": "break-all", "padding-left": "1.5em" });
          line.appendChild(params);
        }
      }
      rows.push(line);
    }
    this.detail.replaceChildren(...rows);
  }

  private applyChrome(): void {
    const p = this.dark ? DARK : LIGHT;
    this.root.setAttribute("data-hg-theme", this.dark ? "dark" : "light");
    style(this.root, { background: p.background, color: p.foreground });
    style(this.status, { color: this.root.getAttribute("data-hg-state") === "error" ? "#d93025" : p.muted });
    style(this.tooltip, { background: p.background, color: p.foreground, border: `1px solid ${p.border}` });
    for (const box of [this.belowList, this.detail]) style(box, { border: `1px solid ${p.border}`, "border-radius": "3px" });
    for (const b of [this.selectBelow, this.clearButton]) style(b, { background: p.background, color: p.foreground, border: `1px solid ${p.border}` });
  }

  private setDark(dark: boolean): void {
    this.dark = dark;
    this.applyChrome();
    this.renderBelowList(this.below());
    this.showDetail(this.detailSession);
    this.draw();
  }

  private showError(error: unknown): void {
    if (this.disposed) return;
    showWidgetError(this.model, this.root, this.status, error);
    this.applyChrome();
  }

  dispose(): void {
    if (this.disposed) return;
    this.syncSelection.flush();
    this.life.dispose();
    this.table?.free();
    this.table = null;
    this.root.remove();
  }
}

/** anywidget `render` for `_kind == "session_rarity"`; returns the view's cleanup. */
export function renderSessionRarity(model: AnyModel, host: HTMLElement): () => void {
  return mountView(new SessionRarity(model, host));
}
