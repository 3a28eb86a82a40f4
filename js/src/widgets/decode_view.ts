/**
 * The DecodeView widget: for each record of a string column (or one string), its decode tree
 * layer by layer: the chain of encodings, size, hashes, a text or hex preview and the
 * indicators (IoCs) found in that layer highlighted, with expand/collapse per node and for all,
 * copy buttons for decoded text and hashes, and records selected by clicking (`selection`
 * traitlet `{dataset: [rows]}` -> `widget.selected` in Python).
 *
 * Decoding runs here, in the browser, in the engines' own module (`runOp("decode.unpack")` of
 * hg_kernel.wasm, runtime/kernel.ts: the module `hg.decode.unpack` runs in the Python kernel),
 * and the IoCs of every layer come from `runOp("ioc.extract", {columns: ["decoded_string"]})`
 * on that output (the same indicators as the operation's `iocs` option; hg_ops tests that).
 * Both tables stay in the visualization module's memory (`ArrowTable`); a page of records is
 * built at a time (records with decoded layers only, [`PAGE_RECORDS`] per page), so 10,000
 * records stay responsive. Decoded content is hostile: text goes in with `textContent` and
 * text nodes only, binary layers show as hex (`printable_bytes`), never as HTML.
 *
 * Test hooks on the root (`data-hg-widget="decode_view"`): `data-hg-state`
 * (loading/ready/error), `data-hg-n-records` (input rows), `data-hg-n-decoded` (records with
 * layers), `data-hg-n-layers`, `data-hg-n-iocs`, `data-hg-page`, `data-hg-pages`,
 * `data-hg-selected-count`, `data-hg-theme`; parts carry `data-hg-role` (record, record-header,
 * layer, layer-header, toggle, chain, limit, layer-error, preview, hash, copy, ioc, ...).
 */

import { debounce } from "../runtime/debounce.js";
import { el, setText, style } from "../runtime/dom.js";
import { showWidgetError } from "../runtime/errors.js";
import { BASE_DARK, BASE_LIGHT, mountView, progressText, ROOT_STYLE, showReady, TITLE_STYLE, ViewLifecycle, type BasePalette } from "../runtime/view.js";
import type { AnyModel, DataProgress } from "../runtime/types.js";
import { loadOpInputs, specDataset, type OpInputs } from "../runtime/op_view.js";
import type { ArrowTableApi, Selection } from "../runtime/wasm_api.js";
import { segmentText, typeColour, type CellMatch } from "./ioc_view.js";

/** Delay before the selection is sent to Python (CONTRACT: 250 ms). */
const SYNC_DEBOUNCE_MS = 250;
/** Records shown per page. */
export const PAGE_RECORDS = 25;
/** Default height of the records pane (CSS px). */
const DEFAULT_HEIGHT = 480;
/** Longest decoded text shown in one preview (characters). */
export const MAX_PREVIEW_CHARS = 8000;
/** Longest hex preview (characters of `printable_bytes`: 3 per byte). */
export const MAX_HEX_CHARS = 3 * 1024;
/** Longest source text shown in a record header (characters). */
const MAX_SOURCE_CHARS = 400;

/** Operation options the spec may pass to `decode.unpack` (others are refused). */
export const DECODE_OPTION_KEYS = [
  "reference_mode",
  "utf16",
  "min_base64_len",
  "disable",
  "max_depth",
  "max_total_output_bytes",
  "max_expansion_ratio",
  "expansion_floor_bytes",
  "max_archive_members",
  "max_member_size",
  "max_records",
  "max_preview_bytes",
];

interface Palette extends BasePalette {
  selected: string;
  panel: string;
  limit: string;
  error: string;
}

const LIGHT: Palette = { ...BASE_LIGHT, selected: "#fff1c2", panel: "#f5f7fa", limit: "#b3261e", error: "#b3261e" };
const DARK: Palette = { ...BASE_DARK, selected: "#4b4326", panel: "#26282c", limit: "#f2b8b5", error: "#f2b8b5" };

/** The DecodeView spec (traitlet `spec`), validated. */
export interface DecodeViewSpec {
  dataset: string;
  column: string;
  options: Record<string, unknown>;
  title: string;
  height: number;
}

/** Reads the spec traitlet; throws naming the key that is wrong. */
export function parseSpec(value: unknown): DecodeViewSpec {
  const spec = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  if (typeof spec.column !== "string" || spec.column === "") {
    throw new Error("huntglass DecodeView: spec.column must be the name of the text column");
  }
  const options = spec.options ?? {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new Error("huntglass DecodeView: spec.options must be an object of decode.unpack options");
  }
  for (const key of Object.keys(options)) {
    if (!DECODE_OPTION_KEYS.includes(key)) {
      throw new Error(`huntglass DecodeView: unknown option "${key}" in spec.options; valid: ${DECODE_OPTION_KEYS.join(", ")}`);
    }
  }
  const height = typeof spec.height === "number" && Number.isFinite(spec.height) && spec.height >= 120 ? spec.height : DEFAULT_HEIGHT;
  return {
    dataset: typeof spec.dataset === "string" && spec.dataset !== "" ? spec.dataset : "records",
    column: spec.column,
    options: options as Record<string, unknown>,
    title: typeof spec.title === "string" ? spec.title : "Decoded content",
    height,
  };
}

/** One layer of the decode output (its row in the output table). */
export interface Layer {
  row: number;
  layer: string;
  parent: string | null;
  depth: number;
  children: number[];
}

/** The decode tree of every record that has layers. */
export interface DecodeIndex {
  /** Input rows with layers, in order. */
  records: number[];
  /** Per input row with layers: its top-level layer rows (in output order). */
  roots: Map<number, number[]>;
  /** Per output row. */
  layers: Layer[];
  /** Per output row: its IoC matches (offsets in decoded_string). */
  iocs: CellMatch[][];
  nIocs: number;
}

/**
 * Builds the trees from `decode.unpack`'s `src_index`, `layer` and `parent_layer` columns and
 * the IoCs from `ioc.extract`'s `SourceIndex` (the output row), `IoCType`, `Start`, `End`.
 */
export function buildIndex(
  srcIndex: Float64Array,
  layerNames: (string | undefined)[],
  parents: (string | undefined)[],
  depth: Float64Array,
  ioc: { sourceIndex: Float64Array; types: { labels: string[]; codes: Uint32Array }; start: Float64Array; end: Float64Array },
): DecodeIndex {
  const n = srcIndex.length;
  const records: number[] = [];
  const roots = new Map<number, number[]>();
  const layers: Layer[] = [];
  // Layer names are unique within one input row; rows of one input are contiguous.
  let byName = new Map<string, number>();
  let current = -1;
  for (let i = 0; i < n; i++) {
    const src = srcIndex[i] as number;
    if (src !== current) {
      current = src;
      byName = new Map();
      records.push(src);
      roots.set(src, []);
    }
    const name = layerNames[i] ?? String(i);
    const parent = parents[i] ?? null;
    layers.push({ row: i, layer: name, parent, depth: depth[i] as number, children: [] });
    byName.set(name, i);
    const parentRow = parent === null ? undefined : byName.get(parent);
    if (parentRow === undefined) roots.get(src)?.push(i);
    else layers[parentRow]?.children.push(i);
  }
  const iocs: CellMatch[][] = Array.from({ length: n }, () => []);
  const m = ioc.sourceIndex.length;
  for (let k = 0; k < m; k++) {
    const row = ioc.sourceIndex[k] as number;
    if (!(row >= 0 && row < n)) throw new Error(`huntglass DecodeView: ioc.extract reported row ${row} of a ${n}-row decode output`);
    iocs[row]?.push({ start: ioc.start[k] as number, end: ioc.end[k] as number, type: ioc.types.labels[ioc.types.codes[k] as number] ?? "", observable: k });
  }
  return { records, roots, layers, iocs, nIocs: m };
}


function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Everything one view owns; `dispose` releases all of it (wasm tables included). */
class DecodeView {
  private readonly doc: Document;
  private readonly life: ViewLifecycle;
  private readonly root: HTMLDivElement;
  private readonly titleEl: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly toolbar: HTMLDivElement;
  private readonly summary: HTMLSpanElement;
  private readonly pageLabel: HTMLSpanElement;
  private readonly prevButton: HTMLButtonElement;
  private readonly nextButton: HTMLButtonElement;
  private readonly expandAll: HTMLButtonElement;
  private readonly collapseAll: HTMLButtonElement;
  private readonly clearButton: HTMLButtonElement;
  private readonly list: HTMLDivElement;

  private spec: DecodeViewSpec | null = null;
  private inputs: OpInputs | null = null;
  private input: ArrowTableApi | null = null;
  private output: ArrowTableApi | null = null;
  private index: DecodeIndex | null = null;
  /** `size` of every output row. */
  private sizes: ArrayLike<number> = [];
  private page = 0;
  /** Output rows whose node is collapsed. */
  private collapsed = new Set<number>();
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
    this.root = el("div", { "data-hg-widget": "decode_view", "data-hg-state": "loading" }, undefined, d);
    this.titleEl = el("div", { "data-hg-role": "title" }, undefined, d);
    this.status = el("div", { "data-hg-role": "status", "aria-live": "polite" }, "Waiting for data…", d);
    this.toolbar = el("div", { "data-hg-role": "toolbar" }, undefined, d);
    const button = (tool: string, text: string): HTMLButtonElement => {
      const b = el("button", { type: "button", "data-hg-tool": tool }, text, d);
      style(b, { font: "inherit", padding: "1px 8px", "border-radius": "3px", cursor: "pointer" });
      return b;
    };
    this.prevButton = button("prev", "‹ Prev");
    this.nextButton = button("next", "Next ›");
    this.pageLabel = el("span", { "data-hg-role": "page" }, undefined, d);
    this.expandAll = button("expand-all", "Expand all");
    this.collapseAll = button("collapse-all", "Collapse all");
    this.clearButton = button("clear", "Clear selection");
    this.summary = el("span", { "data-hg-role": "summary" }, undefined, d);
    this.list = el("div", { "data-hg-role": "records", tabindex: "0" }, undefined, d);

    style(this.root, ROOT_STYLE);
    style(this.titleEl, TITLE_STYLE);
    style(this.status, { margin: "2px 0", "white-space": "pre-wrap" });
    style(this.toolbar, { display: "flex", "flex-wrap": "wrap", gap: "6px 10px", "align-items": "center", margin: "0 0 6px 0" });
    style(this.list, { overflow: "auto", "box-sizing": "border-box", "border-radius": "3px", padding: "4px" });
    this.toolbar.append(this.prevButton, this.pageLabel, this.nextButton, this.expandAll, this.collapseAll, this.clearButton, this.summary);
    this.root.append(this.titleEl, this.status, this.toolbar, this.list);
    this.toolbar.style.display = "none";
    this.list.style.display = "none";
    host.appendChild(this.root);

    this.prevButton.addEventListener("click", () => this.showPage(this.page - 1), { signal });
    this.nextButton.addEventListener("click", () => this.showPage(this.page + 1), { signal });
    this.expandAll.addEventListener("click", () => {
      this.collapsed.clear();
      this.renderPage();
    }, { signal });
    this.collapseAll.addEventListener("click", () => {
      const index = this.index;
      if (!index) return;
      this.collapsed = new Set(index.layers.map((l) => l.row));
      this.renderPage();
    }, { signal });
    this.clearButton.addEventListener("click", () => this.setSelection(new Set()), { signal });
    this.list.addEventListener("click", (event) => this.onClick(event), { signal });
    this.life.listen({ "change:spec": () => this.build() });
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
    return this.life.load(loadOpInputs(this.life, this.onProgress, "DecodeView"), ready, (error) => this.showError(error));
  }

  /** (Re)runs the decoding for the current spec and shows the first page. */
  private build(): void {
    const inputs = this.inputs;
    if (!inputs || this.disposed) return;
    const { tables, kernel } = inputs;
    this.freeTables();
    const started = performance.now();
    let spec: DecodeViewSpec;
    let input: ArrowTableApi | null = null;
    let output: ArrowTableApi | null = null;
    let found: ArrowTableApi | null = null;
    try {
      spec = parseSpec(this.model.get("spec"));
      const bytes = specDataset(inputs, spec.dataset, "DecodeView");
      input = new tables.ArrowTable(bytes);
      const decoded = kernel.runOp("decode.unpack", { ...spec.options, column: spec.column }, bytes);
      output = new tables.ArrowTable(decoded);
      // The IoC rows are read straight out of the kernel's memory (ArrowTable copies what it keeps).
      found = kernel.runOpWith("ioc.extract", { columns: ["decoded_string"] }, decoded, (iocs) => new tables.ArrowTable(iocs));
      const n = output.num_rows();
      const [typeLabels, typeCodes] = found.categorize("IoCType") as [string[], Uint32Array, number];
      this.index = buildIndex(
        output.numbers("src_index"),
        output.texts("layer", 0, n) as (string | undefined)[],
        output.texts("parent_layer", 0, n) as (string | undefined)[],
        output.numbers("depth"),
        { sourceIndex: found.numbers("SourceIndex"), types: { labels: typeLabels, codes: typeCodes }, start: found.numbers("Start"), end: found.numbers("End") },
      );
    } catch (error) {
      input?.free();
      output?.free();
      this.showError(error);
      return;
    } finally {
      found?.free();
    }
    this.spec = spec;
    this.input = input;
    this.output = output;
    this.sizes = output.numbers("size");
    const index = this.index;
    this.root.setAttribute("data-hg-decode-ms", (performance.now() - started).toFixed(1));
    this.root.setAttribute("data-hg-n-records", String(input.num_rows()));
    this.root.setAttribute("data-hg-n-decoded", String(index.records.length));
    this.root.setAttribute("data-hg-n-layers", String(index.layers.length));
    this.root.setAttribute("data-hg-n-iocs", String(index.nIocs));
    setText(this.titleEl, spec.title);
    this.titleEl.style.display = spec.title === "" ? "none" : "block";
    this.list.style.height = `${spec.height}px`;
    this.collapsed = new Set();
    this.selectedRows = new Set();
    this.toolbar.style.display = "flex";
    this.list.style.display = "block";
    showReady(this.model, this.root, this.status);
    this.showPage(0);
    this.life.firstPaint();
  }

  private pages(): number {
    return Math.max(1, Math.ceil((this.index?.records.length ?? 0) / PAGE_RECORDS));
  }

  private showPage(page: number): void {
    const pages = this.pages();
    this.page = Math.min(Math.max(0, page), pages - 1);
    this.renderPage();
    this.list.scrollTop = 0;
  }

  private updateSummary(): void {
    const index = this.index;
    const input = this.input;
    if (!index || !input) return;
    const pages = this.pages();
    this.root.setAttribute("data-hg-page", String(this.page));
    this.root.setAttribute("data-hg-pages", String(pages));
    this.root.setAttribute("data-hg-selected-count", String(this.selectedRows.size));
    setText(this.pageLabel, `Page ${this.page + 1} of ${pages}`);
    this.prevButton.disabled = this.page === 0;
    this.nextButton.disabled = this.page >= pages - 1;
    const n = (v: number): string => v.toLocaleString("en-US");
    setText(
      this.summary,
      `${n(input.num_rows())} records, ${n(index.records.length)} with encoded content, ${n(index.layers.length)} layers, ${n(index.nIocs)} indicators` +
        (this.selectedRows.size ? `, ${n(this.selectedRows.size)} selected` : ""),
    );
  }

  /** Rebuilds the DOM of the current page. */
  private renderPage(): void {
    const index = this.index;
    if (!index) return;
    const first = this.page * PAGE_RECORDS;
    const nodes: HTMLElement[] = [];
    for (const src of index.records.slice(first, first + PAGE_RECORDS)) nodes.push(this.recordNode(src));
    if (nodes.length === 0) nodes.push(el("div", { "data-hg-role": "empty" }, "No encoded content found.", this.doc));
    this.list.replaceChildren(...nodes);
    this.updateSummary();
  }

  private recordNode(src: number): HTMLElement {
    const index = this.index as DecodeIndex;
    const spec = this.spec as DecodeViewSpec;
    const p = this.dark ? DARK : LIGHT;
    const node = el("div", { "data-hg-role": "record", "data-hg-row": String(src) }, undefined, this.doc);
    style(node, { border: `1px solid ${p.border}`, "border-radius": "3px", margin: "0 0 6px 0", padding: "3px 4px", background: this.selectedRows.has(src) ? p.selected : "transparent" });
    const header = el("div", { "data-hg-role": "record-header", "data-hg-row": String(src), title: "Click to select this record" }, undefined, this.doc);
    style(header, { cursor: "pointer", "white-space": "pre", overflow: "hidden", "text-overflow": "ellipsis", "font-family": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" });
    const label = el("span", { "data-hg-role": "record-label" }, `${src} `, this.doc);
    style(label, { color: p.muted, "user-select": "none" });
    const source = this.input?.text(spec.column, src) ?? "";
    const shown = source.length > MAX_SOURCE_CHARS ? `${source.slice(0, MAX_SOURCE_CHARS)}…` : source;
    header.append(label, el("span", { "data-hg-role": "record-source" }, shown, this.doc));
    node.appendChild(header);
    for (const row of index.roots.get(src) ?? []) node.appendChild(this.layerNode(row));
    return node;
  }

  private text(column: string, row: number): string | undefined {
    return this.output?.text(column, row);
  }

  private layerNode(row: number): HTMLElement {
    const index = this.index as DecodeIndex;
    const layer = index.layers[row] as Layer;
    const p = this.dark ? DARK : LIGHT;
    const d = this.doc;
    const open = !this.collapsed.has(row);
    const node = el("div", { "data-hg-role": "layer", "data-hg-layer": layer.layer, "data-hg-out-row": String(row), "data-hg-open": String(open) }, undefined, d);
    style(node, { margin: "3px 0 0 14px", "border-left": `2px solid ${p.border}`, "padding-left": "6px" });
    const header = el("div", { "data-hg-role": "layer-header" }, undefined, d);
    style(header, { display: "flex", "flex-wrap": "wrap", gap: "2px 8px", "align-items": "baseline" });
    const toggle = el("button", { type: "button", "data-hg-role": "toggle", "data-hg-out-row": String(row), "aria-expanded": String(open), title: open ? "Collapse" : "Expand" }, open ? "▾" : "▸", d);
    style(toggle, { font: "inherit", border: "none", background: "transparent", color: p.foreground, cursor: "pointer", padding: "0 2px" });
    const name = el("span", { "data-hg-role": "layer-name" }, `layer ${layer.layer}`, d);
    style(name, { "font-weight": "600" });
    const chain = el("span", { "data-hg-role": "chain" }, this.text("chain", row) ?? "", d);
    style(chain, { "font-family": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", background: p.panel, padding: "0 4px", "border-radius": "2px" });
    const size = this.sizes[row] ?? 0;
    const encoding = this.text("encoding_type", row) ?? "";
    const fileName = this.text("file_name", row) ?? "";
    const fileType = this.text("file_type", row);
    const facts = [formatBytes(size), encoding];
    if (fileName !== "unknown") facts.push(fileName);
    if (fileType) facts.push(fileType);
    const info = el("span", { "data-hg-role": "layer-info" }, facts.join(" · "), d);
    style(info, { color: p.muted });
    header.append(toggle, name, chain, info);
    const stopped = this.text("stopped_by", row);
    if (stopped) {
      const badge = el("span", { "data-hg-role": "limit", "data-hg-limit": stopped, title: "This layer was stopped by a limit" }, `stopped by ${stopped}`, d);
      style(badge, { color: p.limit, "font-weight": "600" });
      header.appendChild(badge);
    }
    const error = this.text("error", row);
    if (error) {
      const e = el("span", { "data-hg-role": "layer-error" }, error, d);
      style(e, { color: p.error });
      header.appendChild(e);
    }
    const nIocs = index.iocs[row]?.length ?? 0;
    if (nIocs) header.appendChild(el("span", { "data-hg-role": "layer-ioc-count" }, `${nIocs} indicator${nIocs === 1 ? "" : "s"}`, d));
    node.appendChild(header);
    if (!open) return node;
    node.appendChild(this.hashesNode(row));
    node.appendChild(this.previewNode(row));
    for (const child of layer.children) node.appendChild(this.layerNode(child));
    return node;
  }

  private copyButton(what: string, row: number): HTMLButtonElement {
    const p = this.dark ? DARK : LIGHT;
    const b = el("button", { type: "button", "data-hg-role": "copy", "data-hg-copy": what, "data-hg-out-row": String(row), title: `Copy ${what}` }, "copy", this.doc);
    style(b, { font: "inherit", "font-size": "11px", padding: "0 4px", "border-radius": "3px", cursor: "pointer", background: p.background, color: p.foreground, border: `1px solid ${p.border}` });
    return b;
  }

  private hashesNode(row: number): HTMLElement {
    const d = this.doc;
    const p = this.dark ? DARK : LIGHT;
    const box = el("div", { "data-hg-role": "hashes" }, undefined, d);
    style(box, { "font-family": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", color: p.muted, margin: "2px 0" });
    for (const kind of ["md5", "sha1", "sha256"]) {
      const line = el("div", { "data-hg-role": "hash", "data-hg-hash": kind }, undefined, d);
      line.append(d.createTextNode(`${kind.padEnd(6)} ${this.text(kind, row) ?? ""} `), this.copyButton(kind, row));
      box.appendChild(line);
    }
    return box;
  }

  private previewNode(row: number): HTMLElement {
    const d = this.doc;
    const p = this.dark ? DARK : LIGHT;
    const box = el("div", { "data-hg-role": "preview" }, undefined, d);
    style(box, { background: p.panel, "border-radius": "3px", padding: "3px 5px", margin: "2px 0", "font-family": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", "white-space": "pre-wrap", "word-break": "break-all", "max-height": "240px", overflow: "auto" });
    const decoded = this.text("decoded_string", row);
    if (decoded !== undefined) {
      box.setAttribute("data-hg-preview", "text");
      const head = el("div", { "data-hg-role": "preview-head" }, undefined, d);
      style(head, { color: p.muted, "font-family": "system-ui, sans-serif" });
      head.append(d.createTextNode(decoded.length > MAX_PREVIEW_CHARS ? `decoded text (first ${MAX_PREVIEW_CHARS.toLocaleString("en-US")} of ${decoded.length.toLocaleString("en-US")} characters) ` : "decoded text "), this.copyButton("text", row));
      const body = el("div", { "data-hg-role": "preview-text" }, undefined, d);
      for (const segment of segmentText(decoded, this.index?.iocs[row] ?? [], MAX_PREVIEW_CHARS)) {
        if (segment.type === undefined) {
          body.appendChild(d.createTextNode(segment.text));
          continue;
        }
        const span = el("span", { "data-hg-role": "ioc", "data-hg-ioc-type": segment.type, title: segment.type }, segment.text, d);
        style(span, { background: typeColour(segment.type, this.dark), "border-radius": "2px" });
        body.appendChild(span);
      }
      box.append(head, body);
      return box;
    }
    box.setAttribute("data-hg-preview", "hex");
    const hex = this.text("printable_bytes", row) ?? "";
    const head = el("div", { "data-hg-role": "preview-head" }, hex.length > MAX_HEX_CHARS ? `binary (hex, first ${Math.floor(MAX_HEX_CHARS / 3)} bytes)` : "binary (hex)", d);
    style(head, { color: p.muted, "font-family": "system-ui, sans-serif" });
    const body = el("div", { "data-hg-role": "preview-hex" }, hex.length > MAX_HEX_CHARS ? `${hex.slice(0, MAX_HEX_CHARS)}…` : hex, d);
    box.append(head, body);
    return box;
  }

  private onClick(event: MouseEvent): void {
    const target = event.target as Element | null;
    const copy = target?.closest?.('[data-hg-role="copy"]');
    if (copy) {
      this.copy(copy as HTMLElement);
      return;
    }
    const toggle = target?.closest?.('[data-hg-role="toggle"]');
    if (toggle) {
      const row = Number(toggle.getAttribute("data-hg-out-row"));
      if (this.collapsed.has(row)) this.collapsed.delete(row);
      else this.collapsed.add(row);
      const top = this.list.scrollTop;
      this.renderPage();
      this.list.scrollTop = top;
      return;
    }
    const header = target?.closest?.('[data-hg-role="record-header"]');
    if (header) {
      const src = Number(header.getAttribute("data-hg-row"));
      const next = new Set(this.selectedRows);
      if (next.has(src)) next.delete(src);
      else next.add(src);
      this.setSelection(next);
    }
  }

  private copy(button: HTMLElement): void {
    const row = Number(button.getAttribute("data-hg-out-row"));
    const what = button.getAttribute("data-hg-copy") ?? "";
    const column = what === "text" ? "decoded_string" : what;
    const value = this.text(column, row) ?? "";
    const done = (ok: boolean): void => {
      button.setAttribute("data-hg-copied", ok ? "true" : "false");
      setText(button, ok ? "copied" : "copy failed");
    };
    const clipboard = this.doc.defaultView?.navigator.clipboard;
    if (clipboard?.writeText) {
      clipboard.writeText(value).then(() => done(true), () => done(this.copyFallback(value)));
    } else {
      done(this.copyFallback(value));
    }
  }

  /** Copies through a hidden textarea (pages without the async clipboard API). */
  private copyFallback(value: string): boolean {
    const area = el("textarea", { "aria-hidden": "true" }, undefined, this.doc);
    area.value = value;
    style(area, { position: "fixed", left: "-9999px", top: "0" });
    this.root.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = this.doc.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }

  private setSelection(rows: Set<number>): void {
    const spec = this.spec;
    if (!spec) return;
    this.selectedRows = rows;
    this.syncSelection({ [spec.dataset]: [...rows].sort((a, b) => a - b) });
    const top = this.list.scrollTop;
    this.renderPage();
    this.list.scrollTop = top;
  }

  private applyChrome(): void {
    const p = this.dark ? DARK : LIGHT;
    this.root.setAttribute("data-hg-theme", this.dark ? "dark" : "light");
    style(this.root, { background: p.background, color: p.foreground });
    style(this.status, { color: this.root.getAttribute("data-hg-state") === "error" ? "#d93025" : p.muted });
    style(this.list, { border: `1px solid ${p.border}` });
    for (const b of [this.prevButton, this.nextButton, this.expandAll, this.collapseAll, this.clearButton]) {
      style(b, { background: p.background, color: p.foreground, border: `1px solid ${p.border}` });
    }
  }

  private setDark(dark: boolean): void {
    this.dark = dark;
    this.applyChrome();
    this.renderPage();
  }

  private showError(error: unknown): void {
    if (this.disposed) return;
    showWidgetError(this.model, this.root, this.status, error);
    this.applyChrome();
  }

  private freeTables(): void {
    this.input?.free();
    this.input = null;
    this.output?.free();
    this.output = null;
    this.index = null;
  }

  dispose(): void {
    if (this.disposed) return;
    this.syncSelection.flush();
    this.life.dispose();
    this.freeTables();
    this.root.remove();
  }
}

/** anywidget `render` for `_kind == "decode_view"`; returns the view's cleanup. */
export function renderDecodeView(model: AnyModel, host: HTMLElement): () => void {
  return mountView(new DecodeView(model, host));
}
