/**
 * A TimelineChart double for the widget's browser tests: it follows the contract's API and its
 * pixel-buffer protocol (RGBA in a WebAssembly.Memory that grows, so stale views would break), but
 * reads its "data sets" as JSON `{times: [ms...], fields: [[name, value]...][]}` instead of Arrow.
 * The real chart is tested by the Rust crates and the e2e tests; this one lets the widget's DOM,
 * interaction and protocol code be tested on their own.
 */
import type { TimelineChartApi } from "../../src/runtime/wasm_api.js";

interface FakeEvent {
  dataset: string;
  row: number;
  lane: number;
  t: number;
  fields: [string, string][];
}

export const memory = new WebAssembly.Memory({ initial: 1, maximum: 2048 });
let heapTop = 0;
/** Bump allocator over `memory`: every allocation moves on, so memory grows over time. */
function alloc(bytes: number): number {
  const ptr = heapTop;
  heapTop += bytes;
  const needed = Math.ceil(heapTop / 65536) - memory.buffer.byteLength / 65536;
  if (needed > 0) memory.grow(needed);
  return ptr;
}

export const stats = { created: 0, freed: 0, renders: 0, overviews: 0 };

const PLOT_LEFT = 60;
const PLOT_RIGHT_PAD = 10;
const PLOT_TOP = 10;
const PLOT_BOTTOM_PAD = 30;

export class FakeTimelineChart implements TimelineChartApi {
  private events: FakeEvent[] = [];
  private names: string[] = [];
  private selected = new Set<number>();
  private view_: [number, number] = [0, 1];
  private extent: [number, number] = [0, 1];
  private width = 0;
  private height = 0;
  private dpr = 1;
  private ptr = 0;
  private len = 0;
  private oPtr = 0;
  private oLen = 0;
  private oWidth = 0;
  private oHeight = 0;
  private oCss = 0;
  private dark = false;
  private freed = false;

  constructor(spec_json: string) {
    JSON.parse(spec_json);
    stats.created += 1;
  }
  private live(): void {
    if (this.freed) throw new Error("null pointer passed to rust");
  }
  add_dataset(name: string, ipc: Uint8Array): void {
    this.live();
    const parsed = JSON.parse(new TextDecoder().decode(ipc)) as { times: number[]; fields: [string, string][][] };
    const lane = this.names.length;
    this.names.push(name);
    parsed.times.forEach((t, row) => this.events.push({ dataset: name, row, lane, t, fields: parsed.fields[row] ?? [] }));
  }
  prepare(): string {
    const times = this.events.map((e) => e.t);
    const min = Math.min(...times);
    const max = Math.max(...times);
    this.extent = [min, max];
    this.reset_view();
    return JSON.stringify({
      n_events: this.events.length,
      t_min_ms: min,
      t_max_ms: max,
      lanes: this.names.map((label, i) => ({ label, color: i === 0 ? "#1f77b4" : "#ff7f0e" })),
      legend: [],
      value_min: null,
      value_max: null,
    });
  }
  set_theme(dark: boolean): void {
    this.dark = dark;
  }
  resize(w: number, h: number, dpr: number): void {
    this.width = w;
    this.height = h;
    this.dpr = dpr;
  }
  set_view(s: number, e: number): void {
    if (!(e > s)) throw new Error(`view end ${e} must be after start ${s}`);
    this.view_ = [s, e];
  }
  view(): Float64Array {
    return new Float64Array(this.view_);
  }
  reset_view(): void {
    const span = Math.max(1, this.extent[1] - this.extent[0]);
    this.view_ = [this.extent[0] - span * 0.1, this.extent[1] + span * 0.1];
  }
  private plotW(): number {
    return this.width - PLOT_LEFT - PLOT_RIGHT_PAD;
  }
  x_to_ms(x: number): number {
    return this.view_[0] + ((x - PLOT_LEFT) / this.plotW()) * (this.view_[1] - this.view_[0]);
  }
  ms_to_x(ms: number): number {
    return PLOT_LEFT + ((ms - this.view_[0]) / (this.view_[1] - this.view_[0])) * this.plotW();
  }
  zoom_at(x: number, factor: number): void {
    const anchor = this.x_to_ms(x);
    this.view_ = [anchor - (anchor - this.view_[0]) * factor, anchor + (this.view_[1] - anchor) * factor];
  }
  pan_by(dx: number): void {
    const shift = (dx / this.plotW()) * (this.view_[1] - this.view_[0]);
    this.view_ = [this.view_[0] - shift, this.view_[1] - shift];
  }
  private laneY(lane: number): number {
    const h = (this.height - PLOT_TOP - PLOT_BOTTOM_PAD) / Math.max(1, this.names.length);
    return PLOT_TOP + h * (lane + 0.5);
  }
  render(): string {
    this.live();
    stats.renders += 1;
    const pw = Math.round(this.width * this.dpr);
    const ph = Math.round(this.height * this.dpr);
    this.len = pw * ph * 4;
    this.ptr = alloc(this.len);
    const px = new Uint8Array(memory.buffer, this.ptr, this.len);
    const bg = this.dark ? 30 : 255;
    for (let i = 0; i < px.length; i += 4) {
      px[i] = bg;
      px[i + 1] = bg;
      px[i + 2] = bg;
      px[i + 3] = 255;
    }
    for (let id = 0; id < this.events.length; id++) {
      const e = this.events[id] as FakeEvent;
      const cx = Math.round(this.ms_to_x(e.t) * this.dpr);
      const cy = Math.round(this.laneY(e.lane) * this.dpr);
      const color = this.selected.has(id) ? [220, 20, 20] : [20, 20, 200];
      for (let y = cy - 3; y <= cy + 3; y++) {
        for (let x = cx - 3; x <= cx + 3; x++) {
          if (x < 0 || y < 0 || x >= pw || y >= ph) continue;
          const o = (y * pw + x) * 4;
          px[o] = color[0] as number;
          px[o + 1] = color[1] as number;
          px[o + 2] = color[2] as number;
        }
      }
    }
    return JSON.stringify({
      plot: { x: PLOT_LEFT, y: PLOT_TOP, w: this.plotW(), h: this.height - PLOT_TOP - PLOT_BOTTOM_PAD },
      texts: this.names.map((label, lane) => ({ x: 4, y: this.laneY(lane), text: label, align: "left", baseline: "middle", color: "#333", font: "11px sans-serif", angle: 0 })),
      lanes: [],
      ticks: [],
    });
  }
  pixels_ptr(): number {
    return this.ptr;
  }
  pixels_len(): number {
    return this.len;
  }
  pixel_width(): number {
    return Math.round(this.width * this.dpr);
  }
  pixel_height(): number {
    return Math.round(this.height * this.dpr);
  }
  render_overview(w: number, h: number, dpr: number): string {
    stats.overviews += 1;
    this.oCss = w;
    this.oWidth = Math.round(w * dpr);
    this.oHeight = Math.round(h * dpr);
    this.oLen = this.oWidth * this.oHeight * 4;
    this.oPtr = alloc(this.oLen);
    new Uint8Array(memory.buffer, this.oPtr, this.oLen).fill(200);
    return JSON.stringify({ texts: [] });
  }
  overview_ptr(): number {
    return this.oPtr;
  }
  overview_len(): number {
    return this.oLen;
  }
  overview_width(): number {
    return this.oWidth;
  }
  overview_height(): number {
    return this.oHeight;
  }
  private overviewRange(): [number, number] {
    const span = Math.max(1, this.extent[1] - this.extent[0]);
    return [this.extent[0] - span * 0.15, this.extent[1] + span * 0.15];
  }
  overview_x_to_ms(x: number): number {
    const [a, b] = this.overviewRange();
    return a + (x / this.oCss) * (b - a);
  }
  ms_to_overview_x(ms: number): number {
    const [a, b] = this.overviewRange();
    return ((ms - a) / (b - a)) * this.oCss;
  }
  hit_test(x: number, y: number): number {
    let best = -1;
    let bestD = 6;
    this.events.forEach((e, id) => {
      const d = Math.hypot(this.ms_to_x(e.t) - x, this.laneY(e.lane) - y);
      if (d <= bestD) {
        best = id;
        bestD = d;
      }
    });
    return best;
  }
  tooltip(id: number): string {
    const e = this.events[id];
    if (!e) throw new Error(`no event ${id}`);
    return JSON.stringify({ dataset: e.dataset, row: e.row, lane: e.dataset, fields: e.fields });
  }
  select_at(x: number, y: number, additive: boolean): string {
    if (!additive) this.selected.clear();
    const id = this.hit_test(x, y);
    if (id >= 0) this.selected.add(id);
    return this.selection();
  }
  select_box(x0: number, y0: number, x1: number, y1: number, additive: boolean): string {
    if (!additive) this.selected.clear();
    this.events.forEach((e, id) => {
      const x = this.ms_to_x(e.t);
      const y = this.laneY(e.lane);
      if (x >= Math.min(x0, x1) && x <= Math.max(x0, x1) && y >= Math.min(y0, y1) && y <= Math.max(y0, y1)) this.selected.add(id);
    });
    return this.selection();
  }
  clear_selection(): void {
    this.selected.clear();
  }
  selection(): string {
    const out: Record<string, number[]> = {};
    for (const id of [...this.selected].sort((a, b) => a - b)) {
      const e = this.events[id] as FakeEvent;
      (out[e.dataset] ??= []).push(e.row);
    }
    return JSON.stringify(out);
  }
  free(): void {
    if (this.freed) throw new Error("double free");
    this.freed = true;
    stats.freed += 1;
  }
}
