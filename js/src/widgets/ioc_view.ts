/**
 * The IocView widget: records' text with every indicator (IoC) highlighted by type, a legend with
 * counts per type that doubles as a type filter, and the list of unique observables (canonical
 * value, type, count); clicking an observable (in the list or in the text) selects the records
 * that hold it (`selection` traitlet `{dataset: [rows]}` -> `widget.selected` in Python).
 *
 * Extraction runs here, in the browser, in the engines' own module (`runOp("ioc.extract", ...)`
 * of hg_kernel.wasm, runtime/kernel.ts: the very module `hg.ioc.extract` runs in the Python
 * kernel) on the Arrow data Python sent, so the results are the kernel's and the CLI's. Only this
 * widget asks for that module (its model has a `_kernel_hash`); the Timeline never loads it. The
 * texts stay in the visualization module's memory (`ArrowTable` of hg_wasm); only
 * the visible rows are read and put into the DOM (virtualized lists with fixed row heights), so
 * 100,000 records scroll smoothly. Log text is hostile: highlights are text nodes and spans made
 * with `createTextNode` / `textContent`, never HTML.
 *
 * Test hooks on the root (`data-hg-widget="ioc_view"`): `data-hg-state` (loading/ready/error),
 * `data-hg-n-records`, `data-hg-n-iocs`, `data-hg-n-lines` (lines in the records list after the
 * filter), `data-hg-selected-count`, `data-hg-theme`; parts carry `data-hg-role` (legend,
 * legend-item, records, record-line, ioc, observables, observable, status, error).
 */

import { debounce } from "../runtime/debounce.js";
import { el, setText, style } from "../runtime/dom.js";
import { showWidgetError } from "../runtime/errors.js";
import { BASE_DARK, BASE_LIGHT, mountView, progressText, ROOT_STYLE, showReady, TITLE_STYLE, ViewLifecycle, type BasePalette } from "../runtime/view.js";
import type { AnyModel, DataProgress } from "../runtime/types.js";
import { loadOpInputs, specDataset, type OpInputs } from "../runtime/op_view.js";
import type { ArrowTableApi, Selection } from "../runtime/wasm_api.js";

/** Delay before the selection is sent to Python (CONTRACT: 250 ms). */
const SYNC_DEBOUNCE_MS = 250;
/** Height of one line of the records and observables lists (CSS px): fixed, for virtualization. */
export const LINE_PX = 20;
/** Lines rendered above and below the visible window. */
const OVERSCAN_LINES = 8;
/** Default widget height (CSS px) when the spec gives none. */
const DEFAULT_HEIGHT = 420;
/** Longest text put into one record line (characters); the rest is cut with an ellipsis. */
const MAX_LINE_CHARS = 4000;

/** The extractor's type names, in the order the legend lists them. */
export const IOC_TYPE_ORDER = [
  "ipv4",
  "ipv6",
  "dns",
  "url",
  "email",
  "windows_path",
  "linux_path",
  "md5_hash",
  "sha1_hash",
  "sha256_hash",
  "sha512_hash",
  "cve",
  "registry_key",
];

const LIGHT_TYPE_COLOURS: Record<string, string> = {
  ipv4: "#c6dbff",
  ipv6: "#b9e4f7",
  dns: "#c8f0c0",
  url: "#ffe0a8",
  email: "#f6c8e8",
  windows_path: "#e2d6ff",
  linux_path: "#d9d2c5",
  md5_hash: "#ffd0c8",
  sha1_hash: "#ffc2b0",
  sha256_hash: "#ffb3a0",
  sha512_hash: "#ffa48e",
  cve: "#fff3a0",
  registry_key: "#d4eee8",
};

const DARK_TYPE_COLOURS: Record<string, string> = {
  ipv4: "#2c4a7e",
  ipv6: "#24566b",
  dns: "#2f5e2a",
  url: "#6b4d12",
  email: "#672f58",
  windows_path: "#4a3a7a",
  linux_path: "#51493a",
  md5_hash: "#6e332a",
  sha1_hash: "#74361f",
  sha256_hash: "#7a2f1a",
  sha512_hash: "#802a14",
  cve: "#645c12",
  registry_key: "#2b5a50",
};

interface Palette extends BasePalette {
  selected: string;
  hover: string;
}

const LIGHT: Palette = { ...BASE_LIGHT, selected: "#fff1c2", hover: "#eef3fb" };
const DARK: Palette = { ...BASE_DARK, selected: "#4b4326", hover: "#2a2f38" };

/** Highlight colour of a type (types outside the known set get a neutral colour). */
export function typeColour(type: string, dark: boolean): string {
  return (dark ? DARK_TYPE_COLOURS : LIGHT_TYPE_COLOURS)[type] ?? (dark ? "#4a4d52" : "#dddddd");
}

/** The IocView spec (traitlet `spec`), validated. */
export interface IocViewSpec {
  dataset: string;
  columns: string[];
  types: string[] | null;
  include_paths: boolean;
  defanged: boolean;
  ignore_tlds: boolean;
  title: string;
  height: number;
}

/** Reads the spec traitlet; throws naming the key that is wrong. */
export function parseSpec(value: unknown): IocViewSpec {
  const spec = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const columns = spec.columns;
  if (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => typeof c === "string")) {
    throw new Error("huntglass IocView: spec.columns must be a non-empty list of column names");
  }
  const types = spec.types;
  if (types !== null && types !== undefined && (!Array.isArray(types) || !types.every((t) => typeof t === "string"))) {
    throw new Error("huntglass IocView: spec.types must be null or a list of type names");
  }
  const height = typeof spec.height === "number" && Number.isFinite(spec.height) && spec.height >= 120 ? spec.height : DEFAULT_HEIGHT;
  return {
    dataset: typeof spec.dataset === "string" && spec.dataset !== "" ? spec.dataset : "records",
    columns: columns as string[],
    types: Array.isArray(types) ? (types as string[]) : null,
    include_paths: spec.include_paths !== false,
    defanged: spec.defanged !== false,
    ignore_tlds: spec.ignore_tlds === true,
    title: typeof spec.title === "string" ? spec.title : "Indicators",
    height,
  };
}

/** The JSON options of `ioc.extract` for a spec (the keys hg_ops documents). */
export function extractOptions(spec: IocViewSpec): Record<string, unknown> {
  const options: Record<string, unknown> = {
    columns: spec.columns,
    include_paths: spec.include_paths,
    defanged: spec.defanged,
    ignore_tlds: spec.ignore_tlds,
  };
  if (spec.types) options.types = spec.types;
  return options;
}

/** One unique observable: a type and a canonical value, with its occurrences and records. */
export interface Observable {
  type: number;
  canonical: string;
  count: number;
  rows: number[];
}

/** Everything the view needs from `ioc.extract`'s output, as plain arrays. */
export interface IocIndex {
  /** Type names by type code (sorted, as the registry's categorize returns them). */
  typeNames: string[];
  /** Per match: type code, source row, column index (into the spec's columns), byte span, observable id. */
  matchType: Uint32Array;
  matchRow: Uint32Array;
  matchColumn: Uint32Array;
  matchStart: Float64Array;
  matchEnd: Float64Array;
  matchObservable: Uint32Array;
  /** Matches of row r are `rowOrder[rowOffsets[r] .. rowOffsets[r + 1]]`. */
  rowOffsets: Uint32Array;
  rowOrder: Uint32Array;
  /** Occurrences per type code. */
  typeCounts: number[];
  /** Unique observables, most frequent first. */
  observables: Observable[];
}

/** Columns of `ioc.extract`'s output as the view reads them. */
export interface ExtractColumns {
  types: { labels: string[]; codes: Uint32Array };
  columns: { labels: string[]; codes: Uint32Array };
  canonicals: { labels: string[]; codes: Uint32Array };
  sourceIndex: Float64Array;
  start: Float64Array;
  end: Float64Array;
}

/** Reads `ioc.extract`'s output table. */
export function readExtractColumns(table: ArrowTableApi): ExtractColumns {
  const cat = (name: string): { labels: string[]; codes: Uint32Array } => {
    const [labels, codes] = table.categorize(name) as [string[], Uint32Array, number];
    return { labels, codes };
  };
  return {
    types: cat("IoCType"),
    columns: cat("Column"),
    canonicals: cat("Canonical"),
    sourceIndex: table.numbers("SourceIndex"),
    start: table.numbers("Start"),
    end: table.numbers("End"),
  };
}

/** Builds the per-row match lists, counts per type and the unique observables. */
export function buildIndex(found: ExtractColumns, specColumns: string[], nRows: number): IocIndex {
  const n = found.sourceIndex.length;
  const columnIndex = found.columns.labels.map((label) => specColumns.indexOf(label));
  const matchType = new Uint32Array(n);
  const matchRow = new Uint32Array(n);
  const matchColumn = new Uint32Array(n);
  const matchObservable = new Uint32Array(n);
  const typeCounts = new Array<number>(found.types.labels.length).fill(0);
  const rowOffsets = new Uint32Array(nRows + 1);
  const byKey = new Map<number, number>();
  const observables: Observable[] = [];
  const nCanonical = found.canonicals.labels.length;
  for (let i = 0; i < n; i++) {
    const row = found.sourceIndex[i] as number;
    if (!(row >= 0 && row < nRows)) throw new Error(`huntglass IocView: ioc.extract reported row ${row} of a ${nRows}-row table`);
    const type = found.types.codes[i] as number;
    const canonical = found.canonicals.codes[i] as number;
    matchType[i] = type;
    matchRow[i] = row;
    matchColumn[i] = Math.max(0, columnIndex[found.columns.codes[i] as number] ?? 0);
    typeCounts[type] = (typeCounts[type] ?? 0) + 1;
    rowOffsets[row + 1] = (rowOffsets[row + 1] as number) + 1;
    const key = type * nCanonical + canonical;
    let id = byKey.get(key);
    if (id === undefined) {
      id = observables.length;
      byKey.set(key, id);
      observables.push({ type, canonical: found.canonicals.labels[canonical] ?? "", count: 0, rows: [] });
    }
    matchObservable[i] = id;
    const observable = observables[id] as Observable;
    observable.count += 1;
    if (observable.rows[observable.rows.length - 1] !== row) observable.rows.push(row);
  }
  for (let r = 0; r < nRows; r++) rowOffsets[r + 1] = (rowOffsets[r + 1] as number) + (rowOffsets[r] as number);
  const fill = rowOffsets.slice(0, nRows);
  const rowOrder = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const row = matchRow[i] as number;
    rowOrder[fill[row] as number] = i;
    fill[row] = (fill[row] as number) + 1;
  }
  // Rows of one observable come in row order unless a later match is in an earlier row (never:
  // the registry reports matches in row order), but keep them sorted and distinct regardless.
  for (const o of observables) {
    for (let k = 1; k < o.rows.length; k++) {
      if ((o.rows[k] as number) <= (o.rows[k - 1] as number)) {
        o.rows = [...new Set(o.rows)].sort((a, b) => a - b);
        break;
      }
    }
  }
  const created = observables.slice();
  const order = new Map(IOC_TYPE_ORDER.map((t, i) => [t, i]));
  observables.sort(
    (a, b) =>
      b.count - a.count ||
      (order.get(found.types.labels[a.type] ?? "") ?? 99) - (order.get(found.types.labels[b.type] ?? "") ?? 99) ||
      (a.canonical < b.canonical ? -1 : a.canonical > b.canonical ? 1 : 0),
  );
  // Observable ids of the matches follow the sorted order.
  const position = new Map(observables.map((o, i) => [o, i]));
  const remap = Uint32Array.from(created, (o) => position.get(o) ?? 0);
  for (let i = 0; i < n; i++) matchObservable[i] = remap[matchObservable[i] as number] as number;
  return { typeNames: found.types.labels, matchType, matchRow, matchColumn, matchStart: found.start, matchEnd: found.end, matchObservable, rowOffsets, rowOrder, typeCounts, observables };
}

/** A piece of a record's text: plain, or one indicator (type name and observable id). */
export interface Segment {
  text: string;
  type?: string;
  observable?: number;
}

/** A match inside one cell: UTF-8 byte span, type name and observable id. */
export interface CellMatch {
  start: number;
  end: number;
  type: string;
  observable: number;
}

/**
 * Cuts `text` into plain and highlighted segments. Spans are UTF-8 byte offsets (as the engine
 * reports them) and are mapped to string positions here; a match that starts inside an earlier
 * one (a URL's host inside the URL) stays part of the outer highlight. Text past `maxChars` is
 * dropped (with an ellipsis) together with the matches there.
 */
export function segmentText(text: string, matches: CellMatch[], maxChars = MAX_LINE_CHARS): Segment[] {
  const sorted = matches.slice().sort((a, b) => a.start - b.start || b.end - a.end);
  // Byte offset -> UTF-16 index, for the offsets we need only, in one pass over the text.
  const wanted = new Set<number>();
  for (const m of sorted) {
    wanted.add(m.start);
    wanted.add(m.end);
  }
  const at = new Map<number, number>();
  let bytes = 0;
  for (let i = 0; i <= text.length; ) {
    if (wanted.has(bytes)) at.set(bytes, i);
    if (i === text.length) break;
    const unit = text.charCodeAt(i);
    if (unit < 0x80) {
      bytes += 1;
      i += 1;
    } else if (unit < 0x800) {
      bytes += 2;
      i += 1;
    } else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i += 2;
    } else {
      bytes += 3;
      i += 1;
    }
  }
  const limit = Math.min(text.length, maxChars);
  const out: Segment[] = [];
  let cursor = 0;
  for (const m of sorted) {
    const s = at.get(m.start);
    const e = at.get(m.end);
    if (s === undefined || e === undefined || s < cursor || e <= s || e > limit) continue;
    if (s > cursor) out.push({ text: text.slice(cursor, s) });
    out.push({ text: text.slice(s, e), type: m.type, observable: m.observable });
    cursor = e;
  }
  if (cursor < limit) out.push({ text: text.slice(cursor, limit) });
  if (limit < text.length) out.push({ text: "…" });
  return out;
}


/** A scroll box that keeps only the visible fixed-height lines (plus a margin) in the DOM. */
class VirtualList {
  readonly box: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly window: HTMLDivElement;
  private count = 0;
  private shown: [number, number] = [-1, -1];
  private rafId: number | null = null;

  constructor(
    doc: Document,
    role: string,
    private readonly makeLine: (index: number) => HTMLElement,
    signal: AbortSignal,
  ) {
    this.box = el("div", { "data-hg-role": role, tabindex: "0" }, undefined, doc);
    this.spacer = el("div", { "data-hg-role": `${role}-spacer` }, undefined, doc);
    this.window = el("div", { "data-hg-role": `${role}-window` }, undefined, doc);
    style(this.box, { position: "relative", overflow: "auto", "box-sizing": "border-box" });
    style(this.spacer, { width: "1px" });
    style(this.window, { position: "absolute", top: "0", left: "0", "min-width": "100%" });
    this.box.append(this.spacer, this.window);
    this.box.addEventListener("scroll", () => this.schedule(), { signal, passive: true });
  }

  /** Sets the number of lines and redraws every visible line. */
  reset(count: number, scrollTop = false): void {
    this.count = count;
    this.spacer.style.height = `${count * LINE_PX}px`;
    if (scrollTop) this.box.scrollTop = 0;
    this.shown = [-1, -1];
    this.draw();
  }

  /** Redraws the visible lines (their content changed). */
  refresh(): void {
    this.shown = [-1, -1];
    this.draw();
  }

  scrollToLine(index: number): void {
    this.box.scrollTop = Math.max(0, index * LINE_PX - LINE_PX);
    this.draw();
  }

  private schedule(): void {
    if (this.rafId !== null) return;
    const view = this.box.ownerDocument.defaultView;
    if (!view) return;
    this.rafId = view.requestAnimationFrame(() => {
      this.rafId = null;
      this.draw();
    });
  }

  draw(): void {
    const height = this.box.clientHeight || LINE_PX * 20;
    const first = Math.max(0, Math.floor(this.box.scrollTop / LINE_PX) - OVERSCAN_LINES);
    const last = Math.min(this.count, Math.ceil((this.box.scrollTop + height) / LINE_PX) + OVERSCAN_LINES);
    if (first === this.shown[0] && last === this.shown[1]) return;
    this.shown = [first, last];
    const lines: HTMLElement[] = [];
    for (let i = first; i < last; i++) lines.push(this.makeLine(i));
    this.window.style.top = `${first * LINE_PX}px`;
    this.window.replaceChildren(...lines);
  }

  dispose(): void {
    if (this.rafId !== null) this.box.ownerDocument.defaultView?.cancelAnimationFrame(this.rafId);
    this.rafId = null;
    this.window.replaceChildren();
  }
}

/** Everything one view owns; `dispose` releases all of it (wasm tables included). */
class IocView {
  private readonly doc: Document;
  private readonly life: ViewLifecycle;
  private readonly root: HTMLDivElement;
  private readonly titleEl: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly toolbar: HTMLDivElement;
  private readonly legend: HTMLDivElement;
  private readonly summary: HTMLSpanElement;
  private readonly onlyIocs: HTMLInputElement;
  private readonly clearButton: HTMLButtonElement;
  private readonly body: HTMLDivElement;
  private readonly records: VirtualList;
  private readonly observablesHeader: HTMLDivElement;
  private readonly observablesList: VirtualList;

  private spec: IocViewSpec | null = null;
  private inputs: OpInputs | null = null;
  private table: ArrowTableApi | null = null;
  private index: IocIndex | null = null;
  private enabledTypes = new Set<number>();
  private onlyWithIocs = true;
  /** Record lines after the filters: `row * columns + column`. */
  private lines = new Uint32Array(0);
  /** Observable ids shown in the list after the type filter. */
  private shownObservables: number[] = [];
  private activeObservable = -1;
  private selectedRows = new Set<number>();
  private dark = false;
  private readonly onProgress = (p: DataProgress): void => {
    if (!this.index && !this.disposed) setText(this.status, progressText(p));
  };
  private readonly syncSelection = debounce((selection: Selection) => {
    this.model.set("selection", selection);
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
    this.root = el("div", { "data-hg-widget": "ioc_view", "data-hg-state": "loading" }, undefined, d);
    this.titleEl = el("div", { "data-hg-role": "title" }, undefined, d);
    this.status = el("div", { "data-hg-role": "status", "aria-live": "polite" }, "Waiting for data…", d);
    this.toolbar = el("div", { "data-hg-role": "toolbar" }, undefined, d);
    this.legend = el("div", { "data-hg-role": "legend", role: "group", "aria-label": "Indicator types (click to show or hide)" }, undefined, d);
    this.summary = el("span", { "data-hg-role": "summary" }, undefined, d);
    const onlyLabel = el("label", { "data-hg-role": "only-iocs" }, undefined, d);
    this.onlyIocs = el("input", { type: "checkbox" }, undefined, d);
    this.onlyIocs.checked = true;
    onlyLabel.append(this.onlyIocs, d.createTextNode(" Only records with indicators"));
    this.clearButton = el("button", { type: "button", "data-hg-tool": "clear" }, "Clear selection", d);
    this.body = el("div", { "data-hg-role": "body" }, undefined, d);
    this.records = new VirtualList(d, "records", (i) => this.recordLine(i), signal);
    const observablesPane = el("div", { "data-hg-role": "observables-pane" }, undefined, d);
    this.observablesHeader = el("div", { "data-hg-role": "observables-header" }, "Observables", d);
    this.observablesList = new VirtualList(d, "observables", (i) => this.observableLine(i), signal);
    observablesPane.append(this.observablesHeader, this.observablesList.box);

    style(this.root, ROOT_STYLE);
    style(this.titleEl, TITLE_STYLE);
    style(this.status, { margin: "2px 0", "white-space": "pre-wrap" });
    style(this.toolbar, { display: "flex", "flex-wrap": "wrap", gap: "6px 12px", "align-items": "center", margin: "0 0 6px 0" });
    style(this.legend, { display: "flex", "flex-wrap": "wrap", gap: "4px" });
    style(this.clearButton, { font: "inherit", padding: "1px 8px", "border-radius": "3px", cursor: "pointer" });
    style(this.body, { display: "flex", gap: "8px", "align-items": "stretch" });
    style(this.records.box, { flex: "3 1 0", "min-width": "0", "font-family": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" });
    style(observablesPane, { flex: "2 1 0", "min-width": "0", display: "flex", "flex-direction": "column" });
    style(this.observablesHeader, { "font-weight": "600", padding: "2px 4px" });
    style(this.observablesList.box, { flex: "1 1 auto" });
    this.toolbar.append(this.legend, onlyLabel, this.clearButton, this.summary);
    this.body.append(this.records.box, observablesPane);
    this.root.append(this.titleEl, this.status, this.toolbar, this.body);
    this.body.style.display = "none";
    this.toolbar.style.display = "none";
    host.appendChild(this.root);

    this.onlyIocs.addEventListener("change", () => {
      this.onlyWithIocs = this.onlyIocs.checked;
      this.applyFilter();
    }, { signal });
    this.clearButton.addEventListener("click", () => this.select(-1), { signal });
    // One listener per list: lines come and go as they scroll.
    this.records.box.addEventListener("click", (event) => this.onIocClick(event), { signal });
    this.observablesList.box.addEventListener("click", (event) => this.onIocClick(event), { signal });
    this.life.listen({ "change:spec": () => this.build() });
    this.life.observeSize([this.body], () => {
      this.records.draw();
      this.observablesList.draw();
    });
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
    return this.life.load(loadOpInputs(this.life, this.onProgress, "IocView"), ready, (error) => this.showError(error));
  }

  /** (Re)runs the extraction for the current spec and rebuilds every part of the view. */
  private build(): void {
    const inputs = this.inputs;
    if (!inputs || this.disposed) return;
    const { tables, kernel } = inputs;
    this.freeTables();
    let spec: IocViewSpec;
    let table: ArrowTableApi | null = null;
    let found: ArrowTableApi | null = null;
    const started = performance.now();
    try {
      spec = parseSpec(this.model.get("spec"));
      const bytes = specDataset(inputs, spec.dataset, "IocView");
      table = new tables.ArrowTable(bytes);
      // The output is read straight out of the kernel's memory (ArrowTable copies what it keeps).
      found = kernel.runOpWith("ioc.extract", extractOptions(spec), bytes, (output) => new tables.ArrowTable(output));
      this.index = buildIndex(readExtractColumns(found), spec.columns, table.num_rows());
    } catch (error) {
      table?.free();
      this.showError(error);
      return;
    } finally {
      found?.free();
    }
    this.spec = spec;
    this.table = table;
    const index = this.index;
    this.root.setAttribute("data-hg-extract-ms", (performance.now() - started).toFixed(1));
    this.root.setAttribute("data-hg-n-records", String(table.num_rows()));
    this.root.setAttribute("data-hg-n-iocs", String(index.matchType.length));
    setText(this.titleEl, spec.title);
    this.titleEl.style.display = spec.title === "" ? "none" : "block";
    this.records.box.style.height = `${spec.height}px`;
    this.observablesList.box.style.height = `${spec.height - LINE_PX}px`;
    this.enabledTypes = new Set(index.typeNames.map((_, i) => i));
    this.activeObservable = -1;
    this.selectedRows = new Set();
    this.toolbar.style.display = "flex";
    this.body.style.display = "flex";
    showReady(this.model, this.root, this.status);
    this.buildLegend();
    this.applyFilter();
    this.life.firstPaint();
  }

  private typeOrder(): number[] {
    const index = this.index;
    if (!index) return [];
    const order = new Map(IOC_TYPE_ORDER.map((t, i) => [t, i]));
    return index.typeNames.map((_, i) => i).sort((a, b) => (order.get(index.typeNames[a] ?? "") ?? 99) - (order.get(index.typeNames[b] ?? "") ?? 99));
  }

  private buildLegend(): void {
    const index = this.index;
    if (!index) return;
    const items: HTMLElement[] = [];
    for (const code of this.typeOrder()) {
      const name = index.typeNames[code] ?? "";
      const count = index.typeCounts[code] ?? 0;
      const item = el("button", { type: "button", "data-hg-role": "legend-item", "data-hg-ioc-type": name, "data-hg-count": String(count), "aria-pressed": "true", title: `Show or hide ${name}` }, undefined, this.doc);
      const swatch = el("span", { "data-hg-role": "legend-swatch" }, undefined, this.doc);
      style(swatch, { display: "inline-block", width: "10px", height: "10px", "border-radius": "2px", "margin-right": "4px", background: typeColour(name, this.dark) });
      item.append(swatch, this.doc.createTextNode(`${name} ${count.toLocaleString("en-US")}`));
      style(item, { font: "inherit", padding: "1px 6px", "border-radius": "3px", cursor: "pointer" });
      item.addEventListener("click", () => {
        if (this.enabledTypes.has(code)) this.enabledTypes.delete(code);
        else this.enabledTypes.add(code);
        item.setAttribute("aria-pressed", String(this.enabledTypes.has(code)));
        this.applyChrome();
        this.applyFilter();
      }, { signal: this.life.signal });
      items.push(item);
    }
    if (items.length === 0) items.push(el("span", { "data-hg-role": "legend-empty" }, "No indicators found.", this.doc));
    this.legend.replaceChildren(...items);
    this.applyChrome();
  }

  /** Recomputes the record lines and observables for the type filter and the selection. */
  private applyFilter(): void {
    const index = this.index;
    const table = this.table;
    const spec = this.spec;
    if (!index || !table || !spec) return;
    const nColumns = spec.columns.length;
    const nRows = table.num_rows();
    const lines: number[] = [];
    const selecting = this.selectedRows.size > 0;
    const rows = selecting ? [...this.selectedRows].sort((a, b) => a - b) : null;
    const visit = (row: number): void => {
      for (let c = 0; c < nColumns; c++) {
        if (this.onlyWithIocs && !this.rowHasShown(row, c)) continue;
        lines.push(row * nColumns + c);
      }
    };
    if (rows) for (const row of rows) visit(row);
    else for (let row = 0; row < nRows; row++) visit(row);
    this.lines = Uint32Array.from(lines);
    this.shownObservables = [];
    index.observables.forEach((o, id) => {
      if (this.enabledTypes.has(o.type)) this.shownObservables.push(id);
    });
    this.root.setAttribute("data-hg-n-lines", String(this.lines.length));
    setText(this.observablesHeader, `Observables (${this.shownObservables.length.toLocaleString("en-US")})`);
    const shownCount = index.typeCounts.reduce((sum, n, code) => sum + (this.enabledTypes.has(code) ? n : 0), 0);
    setText(
      this.summary,
      `${nRows.toLocaleString("en-US")} records, ${shownCount.toLocaleString("en-US")} indicators shown` +
        (selecting ? `, ${this.selectedRows.size.toLocaleString("en-US")} selected` : ""),
    );
    this.records.reset(this.lines.length, true);
    this.observablesList.reset(this.shownObservables.length);
  }

  private rowHasShown(row: number, column: number): boolean {
    const index = this.index;
    if (!index) return false;
    for (let k = index.rowOffsets[row] as number; k < (index.rowOffsets[row + 1] as number); k++) {
      const m = index.rowOrder[k] as number;
      if (index.matchColumn[m] === column && this.enabledTypes.has(index.matchType[m] as number)) return true;
    }
    return false;
  }

  private recordLine(i: number): HTMLElement {
    const index = this.index;
    const table = this.table;
    const spec = this.spec;
    const line = el("div", { "data-hg-role": "record-line" }, undefined, this.doc);
    if (!index || !table || !spec) return line;
    const nColumns = spec.columns.length;
    const code = this.lines[i] as number;
    const row = Math.floor(code / nColumns);
    const column = code % nColumns;
    const name = spec.columns[column] ?? "";
    line.setAttribute("data-hg-row", String(row));
    line.setAttribute("data-hg-column", name);
    const p = this.dark ? DARK : LIGHT;
    style(line, { height: `${LINE_PX}px`, "line-height": `${LINE_PX}px`, "white-space": "pre", padding: "0 4px" });
    if (this.selectedRows.has(row)) style(line, { background: p.selected });
    const label = el("span", { "data-hg-role": "record-label" }, nColumns > 1 ? `${row} ${name}` : `${row}`, this.doc);
    // Row numbers right-aligned in a column as wide as the largest one, so texts line up.
    const digits = String(Math.max(0, table.num_rows() - 1)).length;
    style(label, { color: p.muted, "user-select": "none", display: "inline-block", "min-width": `${digits + 1}ch`, "text-align": "right", "margin-right": "1ch" });
    line.appendChild(label);
    let text: string | undefined;
    try {
      text = table.text(name, row);
    } catch (error) {
      this.showError(error);
      return line;
    }
    if (text === undefined) {
      const missing = el("span", { "data-hg-role": "record-null" }, "(null)", this.doc);
      style(missing, { color: p.muted });
      line.appendChild(missing);
      return line;
    }
    const matches: CellMatch[] = [];
    for (let k = index.rowOffsets[row] as number; k < (index.rowOffsets[row + 1] as number); k++) {
      const m = index.rowOrder[k] as number;
      const type = index.matchType[m] as number;
      if (index.matchColumn[m] !== column || !this.enabledTypes.has(type)) continue;
      matches.push({ start: index.matchStart[m] as number, end: index.matchEnd[m] as number, type: index.typeNames[type] ?? "", observable: index.matchObservable[m] as number });
    }
    for (const segment of segmentText(text, matches)) {
      if (segment.type === undefined) {
        line.appendChild(this.doc.createTextNode(segment.text));
        continue;
      }
      const span = el("span", { "data-hg-role": "ioc", "data-hg-ioc-type": segment.type, "data-hg-observable": String(segment.observable), title: segment.type }, segment.text, this.doc);
      style(span, { background: typeColour(segment.type, this.dark), "border-radius": "2px", cursor: "pointer" });
      if (segment.observable === this.activeObservable) style(span, { outline: `1px solid ${p.foreground}` });
      line.appendChild(span);
    }
    return line;
  }

  private observableLine(i: number): HTMLElement {
    const index = this.index;
    const line = el("div", { "data-hg-role": "observable" }, undefined, this.doc);
    const id = this.shownObservables[i];
    if (!index || id === undefined) return line;
    const o = index.observables[id] as Observable;
    const type = index.typeNames[o.type] ?? "";
    const p = this.dark ? DARK : LIGHT;
    line.setAttribute("data-hg-observable", String(id));
    line.setAttribute("data-hg-ioc-type", type);
    line.setAttribute("data-hg-count", String(o.count));
    line.setAttribute("title", `${type}: ${o.canonical} (${o.count} occurrences in ${o.rows.length} records)`);
    style(line, {
      height: `${LINE_PX}px`,
      "line-height": `${LINE_PX}px`,
      "white-space": "pre",
      overflow: "hidden",
      "text-overflow": "ellipsis",
      padding: "0 4px",
      cursor: "pointer",
      background: id === this.activeObservable ? p.selected : "transparent",
    });
    const badge = el("span", { "data-hg-role": "observable-type" }, type, this.doc);
    style(badge, { background: typeColour(type, this.dark), "border-radius": "2px", padding: "0 4px", "margin-right": "6px" });
    const count = el("span", { "data-hg-role": "observable-count" }, `${o.count.toLocaleString("en-US")} `, this.doc);
    style(count, { color: p.muted, display: "inline-block", "min-width": "4em", "text-align": "right", "margin-right": "6px" });
    const value = el("span", { "data-hg-role": "observable-value" }, o.canonical, this.doc);
    line.append(count, badge, value);
    return line;
  }

  private onIocClick(event: MouseEvent): void {
    const target = event.target as Element | null;
    const hit = target?.closest?.("[data-hg-observable]");
    if (!hit) return;
    const id = Number(hit.getAttribute("data-hg-observable"));
    if (!Number.isInteger(id)) return;
    this.select(id === this.activeObservable ? -1 : id);
  }

  /** Selects the records of observable `id` (-1 clears the selection). */
  private select(id: number): void {
    const index = this.index;
    const spec = this.spec;
    if (!index || !spec) return;
    const observable = id >= 0 ? index.observables[id] : undefined;
    this.activeObservable = observable ? id : -1;
    this.selectedRows = new Set(observable ? observable.rows : []);
    this.root.setAttribute("data-hg-selected-count", String(this.selectedRows.size));
    this.root.setAttribute("data-hg-active-observable", String(this.activeObservable));
    this.syncSelection({ [spec.dataset]: observable ? observable.rows.slice() : [] });
    this.applyFilter();
    this.observablesList.refresh();
  }

  private applyChrome(): void {
    const p = this.dark ? DARK : LIGHT;
    this.root.setAttribute("data-hg-theme", this.dark ? "dark" : "light");
    style(this.root, { background: p.background, color: p.foreground });
    style(this.status, { color: this.root.getAttribute("data-hg-state") === "error" ? "#d93025" : p.muted });
    for (const box of [this.records.box, this.observablesList.box]) style(box, { border: `1px solid ${p.border}`, "border-radius": "3px" });
    style(this.clearButton, { background: p.background, color: p.foreground, border: `1px solid ${p.border}` });
    for (const item of this.legend.querySelectorAll<HTMLElement>('[data-hg-role="legend-item"]')) {
      const on = item.getAttribute("aria-pressed") === "true";
      style(item, { background: on ? p.hover : p.background, color: on ? p.foreground : p.muted, border: `1px solid ${p.border}`, opacity: on ? "1" : "0.6" });
      const swatch = item.querySelector<HTMLElement>('[data-hg-role="legend-swatch"]');
      if (swatch) swatch.style.background = typeColour(item.getAttribute("data-hg-ioc-type") ?? "", this.dark);
    }
  }

  private setDark(dark: boolean): void {
    this.dark = dark;
    this.applyChrome();
    this.records.refresh();
    this.observablesList.refresh();
  }

  private showError(error: unknown): void {
    if (this.disposed) return;
    showWidgetError(this.model, this.root, this.status, error);
    this.applyChrome();
  }

  private freeTables(): void {
    this.table?.free();
    this.table = null;
    this.index = null;
  }

  dispose(): void {
    if (this.disposed) return;
    this.syncSelection.flush();
    this.life.dispose();
    this.records.dispose();
    this.observablesList.dispose();
    this.freeTables();
    this.root.remove();
  }
}

/** anywidget `render` for `_kind == "ioc_view"`; returns the view's cleanup. */
export function renderIocView(model: AnyModel, host: HTMLElement): () => void {
  return mountView(new IocView(model, host));
}
