/**
 * The hg_wasm API the widgets call (docs/CONTRACT.md "Timeline wasm API"). Written by hand so the
 * widgets type-check on their own; index.ts assigns the generated glue (`js/pkg/hg_wasm.js`) to
 * these types, so a mismatch with the Rust side is a compile error there.
 */

/** The Timeline chart: data sets, view state, rasterized pixels and hit-testing, all in wasm. */
export interface TimelineChartApi {
  add_dataset(name: string, ipc: Uint8Array): void;
  /** JSON `PrepareInfo`. */
  prepare(): string;
  set_theme(dark: boolean): void;
  resize(css_width: number, css_height: number, dpr: number): void;
  set_view(start_ms: number, end_ms: number): void;
  view(): Float64Array;
  reset_view(): void;
  zoom_at(css_x: number, factor: number): void;
  pan_by(css_dx: number): void;
  /** Draws into the RGBA buffer; returns JSON `Frame`. */
  render(): string;
  pixels_ptr(): number;
  pixels_len(): number;
  pixel_width(): number;
  pixel_height(): number;
  render_overview(css_width: number, css_height: number, dpr: number): string;
  overview_ptr(): number;
  overview_len(): number;
  overview_width(): number;
  overview_height(): number;
  overview_x_to_ms(css_x: number): number;
  ms_to_overview_x(ms: number): number;
  x_to_ms(css_x: number): number;
  ms_to_x(ms: number): number;
  hit_test(css_x: number, css_y: number): number;
  /** JSON `TooltipInfo`. */
  tooltip(id: number): string;
  /** JSON selection `{dataset_name: [row, ...]}`. */
  select_at(css_x: number, css_y: number, additive: boolean): string;
  select_box(x0: number, y0: number, x1: number, y1: number, additive: boolean): string;
  clear_selection(): void;
  selection(): string;
  free(): void;
}

/** `prepare()` result. */
export interface PrepareInfo {
  n_events: number;
  t_min_ms: number | null;
  t_max_ms: number | null;
  lanes: { label: string; color: string }[];
  legend: { label: string; color: string }[];
  value_min: number | null;
  value_max: number | null;
  /** Suggested chart height in CSS px (the spec's, else automatic plus title and axis); hg_render adds it. */
  height?: number;
}

/** One text of a frame, drawn with `fillText`. */
export interface FrameText {
  x: number;
  y: number;
  text: string;
  align: CanvasTextAlign;
  baseline: CanvasTextBaseline;
  color: string;
  font: string;
  angle: number;
}

/** `render()` result: where the plot is and the texts to draw over the pixels. */
export interface Frame {
  plot: { x: number; y: number; w: number; h: number };
  texts: FrameText[];
  lanes: { label: string; y: number; h: number }[];
  ticks: { x: number; label: string }[];
}

/** `tooltip(id)` result. */
export interface TooltipInfo {
  dataset: string;
  row: number;
  lane: string;
  fields: [string, string][];
}

/** Selected rows per data set. */
export type Selection = Record<string, number[]>;

/** A decoded Arrow IPC stream read a whole column at a time (hg_wasm `ArrowTable`). */
export interface ArrowTableApi {
  num_rows(): number;
  column_names(): string[];
  /** Any numeric column as f64 (nulls NaN). */
  numbers(column: string): Float64Array;
  /** A string column: `[sorted distinct labels, per-row codes, code of null rows or -1]`. */
  categorize(column: string): unknown[];
  /** One cell of a string column (`undefined` for null). */
  text(column: string, row: number): string | undefined;
  /** Cells `start..end` of a string column (clamped), nulls `undefined`. */
  texts(column: string, start: number, end: number): unknown[];
  free(): void;
}

/**
 * Arrow tables in the visualization module (hg_wasm table.rs). The operations themselves run in
 * the engines' module (kernel.ts `runOp`), never here.
 */
export interface TablesApi {
  ArrowTable: new (ipc: Uint8Array) => ArrowTableApi;
}
