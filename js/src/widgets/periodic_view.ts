/**
 * The PeriodicConnections widget: the pairs (or any keys) whose events repeat with a period,
 * ranked most periodic first (the periodogram and Fisher's g test of `timeseries.periodic`), each
 * with its event timeline on one shared time axis and its dominant interval; clicking a pair
 * selects it (its events go back to Python as the selection) and shows its detail: every event
 * as a tick and the gap before each event over time, with the dominant interval as a guide line,
 * so a beacon's steady rhythm (and its jitter) is visible at a glance.
 *
 * Data: one Arrow data set in the shape of `timeseries.periodic` with `output: "events"` (rows
 * ordered by rank then time: `rank`, the key columns, `row`, `t_ms`, `events`, `p_value`,
 * `dominant_interval`, `strength`), prepared by Python. Without a kernel (standalone pages)
 * `spec.run` holds `timeseries.periodic` options (`time_column`, `group_by`, ...): the raw events
 * are ranked in the page by the engines' module (`runOp` of hg_kernel.wasm). Text is set as
 * `textContent` or drawn with `fillText`, never as HTML.
 *
 * Test hooks on the root (`data-hg-widget="periodic"`): `data-hg-state` (loading, ready, error),
 * `data-hg-n-pairs`, `data-hg-selected-rank`, `data-hg-theme`; parts carry `data-hg-role`
 * (pairs, pair with `data-hg-rank` and `data-hg-interval`, timeline, detail, status).
 */

import { debounce } from "../runtime/debounce.js";
import { el, setText, style } from "../runtime/dom.js";
import { showWidgetError } from "../runtime/errors.js";
import { loadKernel } from "../runtime/kernel.js";
import { fitCanvas, paintPlotRoot, panelFrame, PLOT_DARK, PLOT_LIGHT, plotChrome, receivingText, type PlotPalette } from "../runtime/plot.js";
import type { AnyModel, DataProgress } from "../runtime/types.js";
import { mountView, ViewLifecycle } from "../runtime/view.js";
import { loadTables } from "../runtime/wasm.js";
import type { ArrowTableApi } from "../runtime/wasm_api.js";

const DEFAULT_HEIGHT = 460;
const DEFAULT_TOP = 20;
const ROW_PX = 30;
const DETAIL_PX = 170;
const SELECTION_SYNC_MS = 250;

/** The widget's options (the `spec` traitlet). */
export interface PeriodicSpec {
  dataset: string;
  keys: string[];
  run: Record<string, unknown> | null;
  top: number;
  title: string;
  height: number;
}

/** Reads the spec traitlet with defaults; a bad field is an error naming it. */
export function parseSpec(value: unknown): PeriodicSpec {
  const spec = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const run = spec.run;
  if (run !== null && run !== undefined && (typeof run !== "object" || Array.isArray(run))) {
    throw new Error("huntglass PeriodicConnections: spec.run must be an object of timeseries.periodic options");
  }
  const runOptions = (run ?? null) as Record<string, unknown> | null;
  const keys = runOptions ? runOptions.group_by : spec.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === "string" && k !== "")) {
    throw new Error(`huntglass PeriodicConnections: ${runOptions ? "spec.run.group_by" : "spec.keys"} must list the key columns`);
  }
  const top = spec.top;
  const height = spec.height;
  return {
    dataset: typeof spec.dataset === "string" && spec.dataset !== "" ? spec.dataset : "events",
    keys: keys as string[],
    run: runOptions,
    top: typeof top === "number" && Number.isInteger(top) && top >= 1 ? top : DEFAULT_TOP,
    title: typeof spec.title === "string" ? spec.title : "Periodic connections",
    height: typeof height === "number" && Number.isFinite(height) && height >= 200 ? height : DEFAULT_HEIGHT,
  };
}

/** One ranked key and the range of its events in the data set. */
export interface Pair {
  rank: number;
  labels: string[];
  events: number;
  pValue: number;
  interval: number;
  strength: number;
  /** First and one-past-last data set row of its events. */
  start: number;
  end: number;
}

/**
 * The pairs of an events table: consecutive rows of one rank form one pair (the operation writes
 * them ordered by rank, then time). Ranks must not go back.
 */
export function pairsOf(ranks: Float64Array, stats: { events: Float64Array; pValue: Float64Array; interval: Float64Array; strength: Float64Array }, labelOf: (row: number) => string[]): Pair[] {
  const pairs: Pair[] = [];
  let i = 0;
  while (i < ranks.length) {
    const rank = ranks[i] as number;
    let j = i + 1;
    while (j < ranks.length && ranks[j] === rank) j++;
    const last = pairs[pairs.length - 1];
    if (last && !(rank > last.rank)) throw new Error("huntglass PeriodicConnections: the events must be ordered by rank");
    pairs.push({
      rank,
      labels: labelOf(i),
      events: stats.events[i] as number,
      pValue: stats.pValue[i] as number,
      interval: stats.interval[i] as number,
      strength: stats.strength[i] as number,
      start: i,
      end: j,
    });
    i = j;
  }
  return pairs;
}

/** A period in words: `300.0 s`, `5.0 min`, `24.0 h`. */
export function formatInterval(seconds: number): string {
  if (!Number.isFinite(seconds)) return "untested";
  if (seconds >= 5400) return `${(seconds / 3600).toFixed(1)} h`;
  if (seconds >= 600) return `${(seconds / 60).toFixed(1)} min`;
  return `${seconds.toFixed(1)} s`;
}

function formatP(p: number): string {
  if (!Number.isFinite(p)) return "p n/a";
  if (p === 0) return "p ≈ 0";
  return p < 1e-3 ? `p ${p.toExponential(1)}` : `p ${p.toFixed(3)}`;
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

interface Palette extends PlotPalette {
  tick: string;
  guide: string;
  selected: string;
  hover: string;
}

const LIGHT: Palette = { ...PLOT_LIGHT, tick: "#1f3b8f", guide: "#c62828", selected: "#fff1c2", hover: "#eef3fb" };
const DARK: Palette = { ...PLOT_DARK, tick: "#79a6ff", guide: "#ff6b6b", selected: "#4b4326", hover: "#2a2f38" };

class PeriodicConnections {
  private readonly doc: Document;
  private readonly life: ViewLifecycle;
  private readonly schedule: () => void;
  private readonly root: HTMLDivElement;
  private readonly list: HTMLDivElement;
  private readonly detail: HTMLCanvasElement;
  private readonly caption: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly spec: PeriodicSpec;
  private pairs: Pair[] = [];
  private times: Float64Array = new Float64Array(0);
  private span: [number, number] = [0, 1];
  private items: { pair: Pair; line: HTMLDivElement; canvas: HTMLCanvasElement }[] = [];
  private selected: Pair | null = null;
  private dark = false;
  private readonly syncSelection = debounce((rows: number[]) => {
    this.model.set("selection", { [this.spec.dataset]: rows });
    this.model.save_changes();
  }, SELECTION_SYNC_MS);
  private readonly onProgress = (p: DataProgress): void => {
    setText(this.status, receivingText(p));
  };

  constructor(
    private readonly model: AnyModel,
    host: HTMLElement,
  ) {
    this.life = new ViewLifecycle(model, host);
    this.schedule = this.life.frames(() => this.draw());
    this.doc = this.life.doc;
    const d = this.doc;
    let spec: PeriodicSpec | null = null;
    let specError: unknown = null;
    try {
      spec = parseSpec(model.get("spec"));
    } catch (error) {
      specError = error;
    }
    this.spec = spec ?? { dataset: "events", keys: [], run: null, top: DEFAULT_TOP, title: "Periodic connections", height: DEFAULT_HEIGHT };
    const { root, title, status } = plotChrome(d, "periodic", this.spec.title);
    this.root = root;
    this.status = status;
    this.list = el("div", { "data-hg-role": "pairs" }, undefined, d);
    this.caption = el("div", {}, undefined, d);
    this.detail = el("canvas", { "data-hg-role": "detail" }, undefined, d);
    style(this.list, { height: `${Math.max(80, this.spec.height - DETAIL_PX - 24)}px`, overflow: "auto" });
    style(this.caption, { margin: "6px 4px 2px", "font-family": "ui-monospace, monospace", "font-size": "11px" });
    style(this.detail, { width: "100%", height: `${DETAIL_PX}px`, display: "block" });
    this.root.append(title, this.status, this.list, this.caption, this.detail);
    host.appendChild(this.root);
    this.dark = this.life.followTheme((dark) => this.setDark(dark));
    this.applyChrome();
    if (specError) this.showError(specError);
  }

  async start(): Promise<void> {
    if (this.root.getAttribute("data-hg-state") === "error") return;
    try {
      const [tables, datasets] = await Promise.all([loadTables(this.model, "PeriodicConnections"), this.life.requestData(this.onProgress)]);
      if (this.life.disposed) return;
      let bytes = datasets.get(this.spec.dataset);
      if (!bytes) throw new Error(`huntglass PeriodicConnections: data set '${this.spec.dataset}' was not sent`);
      if (this.spec.run) {
        const kernel = await loadKernel(this.model);
        if (this.life.disposed) return;
        bytes = kernel.runOp("timeseries.periodic", { ...this.spec.run, output: "events", top: this.spec.top }, bytes);
      }
      const table = new tables.ArrowTable(bytes);
      try {
        this.read(table);
      } finally {
        table.free();
      }
      this.load();
    } catch (error) {
      this.showError(error);
    }
  }

  private read(table: ArrowTableApi): void {
    const names = table.column_names();
    for (const c of ["rank", "t_ms", "events", "p_value", "dominant_interval", "strength", ...this.spec.keys]) {
      if (!names.includes(c)) throw new Error(`huntglass PeriodicConnections: the events have no column '${c}' (columns: ${names.join(", ")})`);
    }
    const keyColumns = this.spec.keys.map((k) => table.categorize(k) as [string[], Uint32Array, number]);
    this.times = table.numbers("t_ms");
    this.pairs = pairsOf(
      table.numbers("rank"),
      { events: table.numbers("events"), pValue: table.numbers("p_value"), interval: table.numbers("dominant_interval"), strength: table.numbers("strength") },
      (row) => keyColumns.map(([labels, codes]) => labels[codes[row] as number] ?? ""),
    ).slice(0, this.spec.top);
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of this.pairs) {
      lo = Math.min(lo, this.times[p.start] as number);
      hi = Math.max(hi, this.times[p.end - 1] as number);
    }
    if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
    const pad = Math.max((hi - lo) * 0.01, 1000);
    this.span = [lo - pad, hi + pad];
  }

  private load(): void {
    const d = this.doc;
    this.status.style.display = "none";
    this.root.setAttribute("data-hg-n-pairs", String(this.pairs.length));
    if (this.pairs.length === 0) {
      this.list.appendChild(el("div", {}, "No key has enough events to test.", d));
    }
    for (const pair of this.pairs) {
      const line = el("div", { "data-hg-role": "pair", "data-hg-rank": String(pair.rank), "data-hg-interval": String(pair.interval) }, undefined, d);
      const text = el("div", {}, undefined, d);
      text.textContent = `${pair.rank + 1}. ${pair.labels.join(" → ")}  every ${formatInterval(pair.interval)}  ${formatP(pair.pValue)}  ${pair.events} events`;
      const canvas = el("canvas", { "data-hg-role": "timeline" }, undefined, d);
      style(line, { display: "grid", "grid-template-columns": "minmax(220px, 46%) 1fr", "align-items": "center", gap: "8px", height: `${ROW_PX}px`, padding: "0 4px", cursor: "pointer", "border-radius": "3px" });
      style(text, { "font-family": "ui-monospace, monospace", "font-size": "11px", overflow: "hidden", "text-overflow": "ellipsis", "white-space": "nowrap" });
      style(canvas, { width: "100%", height: `${ROW_PX - 8}px`, display: "block" });
      text.title = text.textContent;
      line.append(text, canvas);
      line.addEventListener("click", () => this.select(pair), { signal: this.life.signal });
      this.list.appendChild(line);
      this.items.push({ pair, line, canvas });
    }
    this.root.setAttribute("data-hg-state", "ready");
    this.life.observeSize([this.list, this.detail], this.schedule);
    if (this.pairs[0]) this.select(this.pairs[0], false);
    this.draw();
  }

  /** Selects a pair: highlighted, detailed below, its events sent to Python (when `sync`). */
  private select(pair: Pair, sync = true): void {
    this.selected = pair;
    this.root.setAttribute("data-hg-selected-rank", String(pair.rank));
    const rows: number[] = [];
    for (let r = pair.start; r < pair.end; r++) rows.push(r);
    if (sync) this.syncSelection(rows);
    this.caption.textContent = `${pair.labels.join(" → ")}: ${pair.events} events, ${formatTime(this.times[pair.start] as number)} to ${formatTime(this.times[pair.end - 1] as number)} UTC; dominant interval ${formatInterval(pair.interval)}, strength ${Number.isFinite(pair.strength) ? pair.strength.toPrecision(3) : "n/a"}, ${formatP(pair.pValue)}`;
    this.applyChrome();
    this.schedule();
  }

  private draw(): void {
    if (this.life.disposed) return;
    const p = this.dark ? DARK : LIGHT;
    const [a, b] = this.span;
    for (const { pair, canvas } of this.items) {
      const fitted = fitCanvas(canvas, 60, ROW_PX - 8);
      if (!fitted) continue;
      const { ctx, width: w } = fitted;
      const h = ROW_PX - 8;
      ctx.fillStyle = p.bg;
      ctx.fillRect(0, 0, w, h);
      ctx.strokeStyle = p.grid;
      ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
      // Events per pixel column, drawn as ticks whose opacity grows with the count.
      const counts = new Uint32Array(Math.ceil(w));
      for (let r = pair.start; r < pair.end; r++) {
        const x = Math.floor((((this.times[r] as number) - a) / (b - a)) * w);
        if (x >= 0 && x < counts.length) counts[x] = (counts[x] as number) + 1;
      }
      ctx.fillStyle = p.tick;
      for (let x = 0; x < counts.length; x++) {
        const c = counts[x] as number;
        if (!c) continue;
        ctx.globalAlpha = Math.min(1, 0.35 + 0.2 * c);
        ctx.fillRect(x, 3, 1, h - 6);
      }
      ctx.globalAlpha = 1;
    }
    this.drawDetail(p);
    this.life.firstPaint();
  }

  /** The selected pair: the gap before each event (seconds, y) at its time (x), the period dashed. */
  private drawDetail(p: Palette): void {
    const fitted = fitCanvas(this.detail, 60, DETAIL_PX);
    if (!fitted) return;
    const { ctx, width: w } = fitted;
    const h = DETAIL_PX;
    ctx.fillStyle = p.bg;
    ctx.fillRect(0, 0, w, h);
    const pair = this.selected;
    if (!pair) return;
    const left = 56;
    const top = 8;
    const bottom = h - 22;
    const plotW = w - left - 8;
    const [a, b] = this.span;
    const gaps: number[] = [];
    let hi = Number.isFinite(pair.interval) ? pair.interval * 1.5 : 0;
    for (let r = pair.start + 1; r < pair.end; r++) {
      const g = ((this.times[r] as number) - (this.times[r - 1] as number)) / 1000;
      gaps.push(g);
    }
    const sorted = [...gaps].sort((x, y) => x - y);
    // Scale to the 95th percentile so one long silence does not flatten the rhythm.
    hi = Math.max(hi, sorted[Math.floor(sorted.length * 0.95)] ?? 1, 1);
    const yOf = (g: number): number => bottom - (Math.min(g, hi) / hi) * (bottom - top);
    const xOf = (ms: number): number => left + ((ms - a) / (b - a)) * plotW;
    ctx.font = "11px system-ui, sans-serif";
    panelFrame(ctx, p, { left, top, width: plotW, height: bottom - top }, { high: formatInterval(hi), low: "0 s", name: "gap before each event" });
    if (Number.isFinite(pair.interval) && pair.interval <= hi) {
      ctx.strokeStyle = p.guide;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(left, yOf(pair.interval));
      ctx.lineTo(left + plotW, yOf(pair.interval));
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = p.guide;
      ctx.textAlign = "right";
      ctx.textBaseline = "bottom";
      ctx.fillText(`period ${formatInterval(pair.interval)}`, left + plotW - 4, yOf(pair.interval) - 2);
    }
    ctx.fillStyle = p.tick;
    for (let k = 0; k < gaps.length; k++) {
      const x = xOf(this.times[pair.start + k + 1] as number);
      ctx.fillRect(x - 1, yOf(gaps[k] as number) - 1, 2, 2);
    }
    // Every event as a tick under the plot.
    for (let r = pair.start; r < pair.end; r++) ctx.fillRect(xOf(this.times[r] as number), bottom + 2, 1, 5);
    ctx.fillStyle = p.muted;
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(formatTime(a), left, bottom + 8);
    ctx.textAlign = "right";
    ctx.fillText(formatTime(b), left + plotW, bottom + 8);
  }

  private setDark(dark: boolean): void {
    this.dark = dark;
    this.applyChrome();
    this.schedule();
  }

  private applyChrome(): void {
    const p = this.dark ? DARK : LIGHT;
    paintPlotRoot(this.root, p, this.dark);
    for (const { pair, line } of this.items) style(line, { background: pair === this.selected ? p.selected : "transparent" });
  }

  private showError(error: unknown): void {
    if (this.life.disposed) return;
    showWidgetError(this.model, this.root, this.status, error);
  }

  dispose(): void {
    if (this.life.disposed) return;
    this.syncSelection.flush();
    this.life.dispose();
    this.root.remove();
  }
}

/** anywidget `render` for `_kind == "periodic"`; returns the view's cleanup. */
export function renderPeriodicView(model: AnyModel, host: HTMLElement): () => void {
  return mountView(new PeriodicConnections(model, host));
}
