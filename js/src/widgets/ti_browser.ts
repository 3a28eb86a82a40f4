/**
 * The TIBrowser widget: threat-intelligence results grouped by observable. Each group shows the
 * observable, its type, the worst severity any provider gave it (coloured) and its providers;
 * filters by severity and by provider; clicking a group shows every provider's answer (status,
 * details, reference, and the raw result behind a disclosure) and selects its rows
 * (`selection` traitlet `{results: [rows]}` -> `widget.selected` in Python).
 *
 * The results arrive as one Arrow data set (`results`: `Ioc`, `IocType`, `Provider`, `Result`,
 * `Severity`, `Details`, `RawResult`, `Reference`, `Status`, all text) read through the
 * visualization module's `ArrowTable`. Details and raw results come from providers and logs:
 * they are shown as text (`textContent` in `<pre>`), never as HTML, and links are not made live.
 *
 * Test hooks on the root (`data-hg-widget="ti_browser"`): `data-hg-state` (loading/ready/error),
 * `data-hg-n-results`, `data-hg-n-groups` (groups shown after the filters),
 * `data-hg-selected-count`, `data-hg-theme`; parts carry `data-hg-role` (severity-filter,
 * provider-filter, groups, group, detail, answer, details, raw, status) and groups
 * `data-hg-ioc` / `data-hg-severity`.
 */

import { debounce } from "../runtime/debounce.js";
import { clear, el, setText, style } from "../runtime/dom.js";
import type { AnyModel, DataProgress } from "../runtime/types.js";
import { mountView, ViewLifecycle } from "../runtime/view.js";
import { loadTables } from "../runtime/wasm.js";

/** Delay before the selection is sent to Python (CONTRACT: 250 ms). */
const SYNC_DEBOUNCE_MS = 250;
/** Groups drawn at most (the rest is counted in the status line). */
export const MAX_GROUPS_SHOWN = 2000;
/** Longest detail or raw text shown (characters). */
const MAX_TEXT_CHARS = 20000;

/** Severities from most to least severe. */
export const SEVERITY_ORDER = ["high", "warning", "information", "unknown"];

const LIGHT: Record<string, string> = {
  high: "#d62728",
  warning: "#ff7f0e",
  information: "#2ca02c",
  unknown: "#7f7f7f",
};
const DARK: Record<string, string> = {
  high: "#ff6b6b",
  warning: "#ffb347",
  information: "#6fcf6f",
  unknown: "#a0a0a0",
};

/** One row of the results. */
export interface TiRow {
  row: number;
  ioc: string;
  iocType: string;
  provider: string;
  result: string;
  severity: string;
  details: string;
  raw: string;
  reference: string;
  status: string;
}

/** One observable and its rows. */
export interface TiGroup {
  ioc: string;
  iocType: string;
  worst: string;
  rows: TiRow[];
}

function rank(severity: string): number {
  const i = SEVERITY_ORDER.indexOf(severity);
  return i < 0 ? SEVERITY_ORDER.length : i;
}

/**
 * Groups rows by (observable, type) over the chosen providers, keeping the groups that have an
 * answer of a chosen severity; a kept group holds every chosen provider's answer (a feed's
 * "high" beside Tor's "not found"), so the detail shows them all. Groups sorted by worst
 * severity, then observable.
 */
export function groupRows(rows: TiRow[], severities: Set<string>, providers: Set<string>): TiGroup[] {
  const groups = new Map<string, TiGroup>();
  for (const r of rows) {
    if (!providers.has(r.provider)) continue;
    const key = `${r.ioc}\u0000${r.iocType}`;
    let g = groups.get(key);
    if (!g) {
      g = { ioc: r.ioc, iocType: r.iocType, worst: r.severity, rows: [] };
      groups.set(key, g);
    }
    g.rows.push(r);
    if (rank(r.severity) < rank(g.worst)) g.worst = r.severity;
  }
  return [...groups.values()]
    .filter((g) => g.rows.some((r) => severities.has(r.severity)))
    .sort((a, b) => rank(a.worst) - rank(b.worst) || (a.ioc < b.ioc ? -1 : a.ioc > b.ioc ? 1 : 0));
}

function clip(text: string): string {
  return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}… (${text.length - MAX_TEXT_CHARS} more characters)` : text;
}

/** JSON text pretty-printed when it parses, else as it is. */
export function pretty(text: string): string {
  if (text === "") return "";
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  } catch {
    return text;
  }
}

class TiBrowserView {
  private readonly root: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly severityBar: HTMLDivElement;
  private readonly providerBar: HTMLDivElement;
  private readonly groupsEl: HTMLDivElement;
  private readonly detail: HTMLDivElement;
  private readonly life: ViewLifecycle;
  private readonly doc: Document;
  private rows: TiRow[] = [];
  private severities = new Set<string>();
  private providers = new Set<string>();
  private chosen: TiGroup | null = null;
  private dark = false;
  private readonly sync = debounce((rows: number[]) => {
    this.model.set("selection", { results: rows });
    this.model.save_changes();
  }, SYNC_DEBOUNCE_MS);

  constructor(
    private readonly model: AnyModel,
    host: HTMLElement,
  ) {
    this.life = new ViewLifecycle(model, host);
    const d = (this.doc = this.life.doc);
    this.root = el("div", { "data-hg-widget": "ti_browser", "data-hg-state": "loading" }, undefined, d);
    const spec = (model.get("spec") ?? {}) as Record<string, unknown>;
    const title = el("div", { "data-hg-role": "title" }, typeof spec.title === "string" ? spec.title : "Threat intelligence", d);
    this.status = el("div", { "data-hg-role": "status", "aria-live": "polite" }, "Waiting for data…", d);
    this.severityBar = el("div", { "data-hg-role": "severity-filter" }, undefined, d);
    this.providerBar = el("div", { "data-hg-role": "provider-filter" }, undefined, d);
    const body = el("div", { "data-hg-role": "body" }, undefined, d);
    this.groupsEl = el("div", { "data-hg-role": "groups", role: "listbox" }, undefined, d);
    this.detail = el("div", { "data-hg-role": "detail" }, "Click an observable to see every provider's answer.", d);
    const height = typeof spec.height === "number" ? spec.height : 420;
    style(this.root, { "font-family": "var(--jp-ui-font-family, system-ui, sans-serif)", "font-size": "13px" });
    style(title, { "font-weight": "600", margin: "4px 0" });
    style(body, { display: "flex", gap: "8px", height: `${height}px` });
    style(this.groupsEl, { flex: "1 1 50%", overflow: "auto", border: "1px solid #8884" });
    style(this.detail, { flex: "1 1 50%", overflow: "auto", border: "1px solid #8884", padding: "4px" });
    for (const bar of [this.severityBar, this.providerBar]) style(bar, { display: "flex", "flex-wrap": "wrap", gap: "8px", margin: "2px 0" });
    body.append(this.groupsEl, this.detail);
    this.root.append(title, this.severityBar, this.providerBar, this.status, body);
    host.appendChild(this.root);
    this.groupsEl.addEventListener("click", (event) => {
      const hit = (event.target as Element | null)?.closest?.("[data-hg-group]");
      if (!hit) return;
      const index = Number(hit.getAttribute("data-hg-group"));
      this.choose(this.visible[index] ?? null);
    }, { signal: this.life.signal });
    const onTheme = (dark: boolean): void => {
      this.dark = dark;
      this.root.setAttribute("data-hg-theme", this.dark ? "dark" : "light");
      if (this.rows.length) this.draw();
    };
    onTheme(this.life.followTheme(onTheme));
  }

  private visible: TiGroup[] = [];

  private readonly onProgress = (p: DataProgress): void => {
    setText(this.status, `Receiving ${p.name}: ${p.received} of ${p.total} parts…`);
  };

  async start(): Promise<void> {
    try {
      const [tables, datasets] = await Promise.all([loadTables(this.model, "TIBrowser"), this.life.requestData(this.onProgress)]);
      if (this.life.disposed) return;
      const spec = (this.model.get("spec") ?? {}) as Record<string, unknown>;
      const name = typeof spec.dataset === "string" ? spec.dataset : "results";
      const bytes = datasets.get(name);
      if (!bytes) throw new Error(`huntglass TIBrowser: no data set named ${JSON.stringify(name)}`);
      const table = new tables.ArrowTable(bytes);
      try {
        this.rows = readRows(table);
      } finally {
        table.free();
      }
      const allSeverities = new Set(this.rows.map((r) => r.severity));
      const wanted = Array.isArray(spec.severities) ? (spec.severities as unknown[]).map(String) : ["high", "warning"];
      this.severities = new Set(wanted.filter((s) => allSeverities.has(s)));
      // As the reference does: when nothing matches the default filter, show everything.
      if (this.severities.size === 0) this.severities = new Set(SEVERITY_ORDER);
      this.providers = new Set(this.rows.map((r) => r.provider));
      this.buildFilters();
      this.draw();
      this.root.setAttribute("data-hg-state", "ready");
      this.root.setAttribute("data-hg-n-results", String(this.rows.length));
      this.life.firstPaint();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.root.setAttribute("data-hg-state", "error");
    const box = el("div", { "data-hg-role": "error" }, message, this.doc);
    this.root.appendChild(box);
    this.model.set("error", message);
    this.model.save_changes();
  }

  private buildFilters(): void {
    const d = this.doc;
    clear(this.severityBar);
    clear(this.providerBar);
    this.severityBar.appendChild(el("span", {}, "Severity:", d));
    const present = new Set(this.rows.map((r) => r.severity));
    for (const severity of SEVERITY_ORDER.filter((s) => present.has(s))) {
      this.severityBar.appendChild(this.checkbox(severity, this.severities, "severity", d));
    }
    this.providerBar.appendChild(el("span", {}, "Provider:", d));
    for (const provider of [...new Set(this.rows.map((r) => r.provider))].sort()) {
      this.providerBar.appendChild(this.checkbox(provider, this.providers, "provider", d));
    }
  }

  private checkbox(value: string, set: Set<string>, kind: string, d: Document): HTMLLabelElement {
    const label = el("label", { [`data-hg-${kind}`]: value }, undefined, d);
    const box = el("input", { type: "checkbox" }, undefined, d);
    box.checked = set.has(value);
    box.addEventListener("change", () => {
      if (box.checked) set.add(value);
      else set.delete(value);
      this.draw();
    });
    label.append(box, d.createTextNode(` ${value}`));
    if (kind === "severity") {
      const swatch = el("span", { "data-hg-role": "swatch" }, undefined, d);
      style(swatch, { display: "inline-block", width: "10px", height: "10px", "margin-left": "4px", background: this.colour(value) });
      label.appendChild(swatch);
    }
    return label;
  }

  private colour(severity: string): string {
    return (this.dark ? DARK : LIGHT)[severity] ?? (this.dark ? DARK : LIGHT).unknown;
  }

  private draw(): void {
    const d = this.doc;
    this.visible = groupRows(this.rows, this.severities, this.providers);
    clear(this.groupsEl);
    const shown = this.visible.slice(0, MAX_GROUPS_SHOWN);
    shown.forEach((g, i) => {
      const item = el("div", { "data-hg-role": "group", "data-hg-group": String(i), "data-hg-ioc": g.ioc, "data-hg-severity": g.worst, role: "option", tabindex: "0" }, undefined, d);
      const badge = el("span", { "data-hg-role": "badge" }, g.worst, d);
      style(badge, { background: this.colour(g.worst), color: "#fff", padding: "0 4px", "border-radius": "3px", "margin-right": "6px" });
      const text = el("span", {}, `${g.ioc}`, d);
      style(text, { "font-family": "var(--jp-code-font-family, monospace)" });
      const meta = el("span", {}, `  ${g.iocType} · ${g.rows.map((r) => `${r.provider}: ${r.severity}`).join(", ")}`, d);
      style(meta, { opacity: "0.75" });
      item.append(badge, text, meta);
      style(item, { padding: "2px 4px", cursor: "pointer", "border-bottom": "1px solid #8882", "white-space": "nowrap" });
      if (this.chosen && this.chosen.ioc === g.ioc && this.chosen.iocType === g.iocType) {
        style(item, { outline: "2px solid #1f77b4" });
      }
      this.groupsEl.appendChild(item);
    });
    const hidden = this.visible.length - shown.length;
    this.root.setAttribute("data-hg-n-groups", String(this.visible.length));
    setText(
      this.status,
      `${this.visible.length} observables, ${this.visible.reduce((n, g) => n + g.rows.length, 0)} results${hidden > 0 ? ` (first ${MAX_GROUPS_SHOWN} shown)` : ""}`,
    );
    if (this.chosen) {
      const again = this.visible.find((g) => g.ioc === this.chosen?.ioc && g.iocType === this.chosen?.iocType) ?? null;
      this.choose(again, false);
    }
  }

  private choose(group: TiGroup | null, redraw = true): void {
    const d = this.doc;
    this.chosen = group;
    clear(this.detail);
    const rows = group ? group.rows.map((r) => r.row) : [];
    this.root.setAttribute("data-hg-selected-count", String(rows.length));
    this.sync(rows);
    if (!group) {
      this.detail.appendChild(el("div", {}, "Click an observable to see every provider's answer.", d));
      return;
    }
    const heading = el("div", { "data-hg-role": "detail-title" }, `${group.ioc} (${group.iocType})`, d);
    style(heading, { "font-weight": "600", "font-size": "14px", "word-break": "break-all" });
    this.detail.appendChild(heading);
    for (const r of group.rows) {
      const answer = el("div", { "data-hg-role": "answer", "data-hg-provider": r.provider }, undefined, d);
      style(answer, { margin: "6px 0", "border-left": `4px solid ${this.colour(r.severity)}`, "padding-left": "6px" });
      const found = r.result === "" ? "" : ` · found: ${r.result}`;
      const head = el("div", {}, `${r.provider}: ${r.severity}${found} · status ${r.status}`, d);
      style(head, { "font-weight": "600" });
      const details = el("pre", { "data-hg-role": "details" }, clip(pretty(r.details)), d);
      const reference = el("div", { "data-hg-role": "reference" }, r.reference ? `Reference: ${r.reference}` : "", d);
      const raw = el("details", { "data-hg-role": "raw" }, undefined, d);
      raw.append(el("summary", {}, "Raw result", d), el("pre", {}, clip(pretty(r.raw)), d));
      for (const pre of [details, raw]) style(pre, { "white-space": "pre-wrap", "word-break": "break-all", margin: "2px 0" });
      answer.append(head, details, reference, raw);
      this.detail.appendChild(answer);
    }
    if (redraw) this.draw();
  }

  dispose(): void {
    if (this.life.disposed) return;
    this.sync.flush();
    this.life.dispose();
    this.root.remove();
  }
}

interface ResultsTable {
  num_rows(): number;
  column_names(): string[];
  texts(column: string, start: number, end: number): unknown[];
  numbers(column: string): Float64Array;
}

/**
 * The rows of a results table. Python sends every column as text; the proxy's Arrow answer
 * (`/api/ti` with `format: "arrow"`, used by the demo page) has `Status` as an integer (read as
 * numbers) and `Result` as the text `True`/`False`, as Python sends it.
 */
function readRows(table: ResultsTable): TiRow[] {
  const n = table.num_rows();
  const names = new Set(table.column_names());
  const col = (name: string): string[] => {
    if (!names.has(name)) {
      if (name === "IocType" || name === "Ioc" || name === "Provider" || name === "Severity") {
        throw new Error(`huntglass TIBrowser: the results have no ${name} column (columns: ${[...names].join(", ")})`);
      }
      return new Array<string>(n).fill("");
    }
    try {
      return table.texts(name, 0, n).map((v) => (v === undefined || v === null ? "" : String(v)));
    } catch (textError) {
      let values: Float64Array;
      try {
        values = table.numbers(name);
      } catch {
        throw textError;
      }
      return Array.from(values, (v) => (Number.isNaN(v) ? "" : String(v)));
    }
  };
  const [ioc, iocType, provider, result, severity, details, raw, reference, status] = [
    "Ioc", "IocType", "Provider", "Result", "Severity", "Details", "RawResult", "Reference", "Status",
  ].map(col);
  const rows: TiRow[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      row: i,
      ioc: ioc[i],
      iocType: iocType[i],
      provider: provider[i],
      result: result[i],
      severity: SEVERITY_ORDER.includes(severity[i]) ? severity[i] : "unknown",
      details: details[i],
      raw: raw[i],
      reference: reference[i],
      status: status[i],
    });
  }
  return rows;
}

/** anywidget render entry for `_kind == "ti_browser"`. */
export function renderTiBrowser(model: AnyModel, host: HTMLElement): () => void {
  return mountView(new TiBrowserView(model, host));
}
