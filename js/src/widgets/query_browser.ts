/**
 * The QueryBrowser widget: the query library of one provider of the huntglass proxy, grouped by
 * family, with a search box; the chosen query's description, data source and parameters (inputs
 * pre-filled with the defaults) and a Run button; after a run, the row count, notes and a preview
 * of the first rows.
 *
 * The spec (Python `QueryBrowser`, or a page's mount) is `{provider, raw_language, families:
 * {Family: [{name, description, data_source, parameters: [{name, type, description, default,
 * required}]}]}, api?: "same-origin", height?}`. Running a query:
 * - in a notebook (no `api`): a typed message `{type: "hg:run_query", id, query, parameters}`
 *   goes to Python, which runs it through its `QueryProvider` (the DataFrame is kept as
 *   `browser.result`) and answers `{type: "hg:query_result", id, rows, columns, preview, notes,
 *   error}`;
 * - on a page served by `huntglass serve` (`api: "same-origin"`): the widget calls
 *   `POST /api/query` itself with the page's cookie (`credentials: "same-origin"`) and
 *   `format: "json"`, which returns display texts of the first rows.
 * The chosen query and the typed parameter values are synced as traitlets `query` and
 * `parameters`, so `browser.run()` in Python runs what the analyst set up.
 *
 * Query descriptions and results are text: everything reaches the DOM through `textContent`.
 *
 * Test hooks on the root (`data-hg-widget="query_browser"`): `data-hg-state`
 * (ready/running/done/error), `data-hg-n-queries` (visible after the search),
 * `data-hg-selected` (Family.name), `data-hg-result-rows`; parts carry `data-hg-role` (search,
 * family, query, details, param, run, status, result, notes).
 */

import { clear, el, setText, style } from "../runtime/dom.js";
import type { AnyModel } from "../runtime/types.js";
import { ViewLifecycle } from "../runtime/view.js";

/** Rows shown in the result preview. */
export const PREVIEW_ROWS = 50;
/** Longest cell text shown in the preview (characters). */
const MAX_CELL_CHARS = 300;
/** Default widget height (CSS px). */
const DEFAULT_HEIGHT = 460;

export interface QueryParam {
  name: string;
  type: string;
  description: string;
  default: unknown;
  required: boolean;
}

export interface QueryInfo {
  name: string;
  family: string;
  description: string;
  data_source: string | null;
  parameters: QueryParam[];
}

export interface QueryResultMessage {
  rows: number;
  columns: string[];
  preview: string[][];
  notes: string[];
  error: string | null;
  truncated?: boolean;
}

function asString(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

/** The queries of a spec's `families`, validated (untrusted shape). */
export function parseFamilies(spec: unknown): QueryInfo[] {
  const families = (spec as { families?: unknown } | null)?.families;
  if (!families || typeof families !== "object") return [];
  const out: QueryInfo[] = [];
  for (const [family, list] of Object.entries(families as Record<string, unknown>)) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (!item || typeof item !== "object") continue;
      const q = item as Record<string, unknown>;
      const params = Array.isArray(q.parameters) ? q.parameters : [];
      out.push({
        name: asString(q.name),
        family,
        description: asString(q.description),
        data_source: typeof q.data_source === "string" ? q.data_source : null,
        parameters: params
          .filter((p): p is Record<string, unknown> => !!p && typeof p === "object")
          .map((p) => ({
            name: asString(p.name),
            type: asString(p.type, "str"),
            description: asString(p.description),
            default: p.default ?? null,
            required: p.required === true,
          })),
      });
    }
  }
  out.sort((a, b) => (a.family === b.family ? a.name.localeCompare(b.name) : a.family.localeCompare(b.family)));
  return out;
}

/** Whether a query matches the search text (family, name, description, data source, parameters). */
export function matchesSearch(query: QueryInfo, search: string): boolean {
  const needle = search.trim().toLowerCase();
  if (!needle) return true;
  const fields = [query.family, query.name, `${query.family}.${query.name}`, query.description, query.data_source ?? ""];
  for (const p of query.parameters) fields.push(p.name);
  return fields.some((f) => f.toLowerCase().includes(needle));
}

/** The text an input starts with: the default (lists comma-separated), or empty. */
export function defaultText(param: QueryParam): string {
  const value = param.default;
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => String(v)).join(", ");
  return String(value);
}

/** Parameters to send: typed inputs; empty optional inputs are left out (the default applies). */
export function collectParameters(query: QueryInfo, values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of query.parameters) {
    const text = (values[p.name] ?? "").trim();
    if (text === "" && !p.required) continue;
    out[p.name] = text;
  }
  return out;
}

/** Parses a `format: "json"` answer of `/api/query` (untrusted shape). */
export function parseJsonResult(body: unknown): QueryResultMessage {
  const b = (body ?? {}) as Record<string, unknown>;
  const columns = Array.isArray(b.columns) ? b.columns.map((c) => String(c)) : [];
  const rows = Array.isArray(b.rows) ? b.rows : [];
  const preview = rows
    .slice(0, PREVIEW_ROWS)
    .map((r) => (Array.isArray(r) ? r.map((c) => (c === null || c === undefined ? "" : String(c))) : []));
  const trailer = (b.trailer ?? {}) as Record<string, unknown>;
  return {
    rows: typeof trailer.rows === "number" ? trailer.rows : rows.length,
    columns,
    preview,
    notes: Array.isArray(trailer.notes) ? trailer.notes.map((n) => String(n)) : [],
    error: typeof trailer.error === "string" ? trailer.error : null,
    truncated: trailer.truncated === true,
  };
}

function clip(text: string): string {
  return text.length > MAX_CELL_CHARS ? `${text.slice(0, MAX_CELL_CHARS)}…` : text;
}

function palette(dark: boolean): Record<string, string> {
  return dark
    ? { bg: "#1e1e1e", fg: "#e0e0e0", muted: "#9a9a9a", line: "#3a3a3a", hover: "#2c3e55", accent: "#6ea8fe", error: "#ff8a80" }
    : { bg: "#ffffff", fg: "#1f1f1f", muted: "#666666", line: "#dddddd", hover: "#e8f0fe", accent: "#1a5fd0", error: "#b00020" };
}

/** Renders the widget into `host`; returns the cleanup function. */
export function renderQueryBrowser(model: AnyModel, host: HTMLElement): () => void {
  const doc = host.ownerDocument;
  const spec = (model.get("spec") ?? {}) as Record<string, unknown>;
  const queries = parseFamilies(spec);
  const provider = asString(spec.provider, "local");
  const api = spec.api === "same-origin";
  const height = typeof spec.height === "number" && spec.height > 100 ? spec.height : DEFAULT_HEIGHT;

  const root = el("div", { "data-hg-widget": "query_browser", "data-hg-state": "ready" }, undefined, doc);
  const header = el("div", {}, undefined, doc);
  const title = el("strong", {}, `Queries · ${provider}`, doc);
  const search = el("input", { type: "search", placeholder: "Search queries", "data-hg-role": "search", "aria-label": "Search queries" }, undefined, doc);
  header.append(title, search);
  const body = el("div", {}, undefined, doc);
  const list = el("div", { "data-hg-role": "query-list" }, undefined, doc);
  const details = el("div", { "data-hg-role": "details" }, undefined, doc);
  body.append(list, details);
  root.append(header, body);
  host.appendChild(root);

  const life = new ViewLifecycle(model, host);
  let colours = palette(
    life.followTheme((dark) => {
      colours = palette(dark);
      applyStyles();
      drawList();
    }),
  );
  const applyStyles = (): void => {
    style(root, {
      "font-family": "system-ui, sans-serif",
      "font-size": "13px",
      color: colours.fg,
      background: colours.bg,
      border: `1px solid ${colours.line}`,
      "border-radius": "4px",
      height: `${height}px`,
      display: "flex",
      "flex-direction": "column",
      overflow: "hidden",
    });
    style(header, { display: "flex", gap: "12px", "align-items": "center", padding: "6px 8px", "border-bottom": `1px solid ${colours.line}` });
    style(search, { flex: "1", padding: "3px 6px", background: colours.bg, color: colours.fg, border: `1px solid ${colours.line}` });
    style(body, { display: "flex", flex: "1", "min-height": "0" });
    style(list, { width: "34%", "overflow-y": "auto", "border-right": `1px solid ${colours.line}` });
    style(details, { flex: "1", "overflow-y": "auto", padding: "8px" });
    root.setAttribute("data-hg-theme", colours.bg === "#ffffff" ? "light" : "dark");
  };
  applyStyles();

  let selected: QueryInfo | null = null;
  const inputs = new Map<string, HTMLInputElement>();
  let runCounter = 0;
  let pending = 0;

  const drawList = (): void => {
    clear(list);
    let family = "";
    let visible = 0;
    for (const q of queries) {
      if (!matchesSearch(q, search.value)) continue;
      if (q.family !== family) {
        family = q.family;
        const heading = el("div", { "data-hg-role": "family" }, family, doc);
        style(heading, { padding: "6px 8px 2px", "font-weight": "600", color: colours.muted });
        list.appendChild(heading);
      }
      const key = `${q.family}.${q.name}`;
      const item = el("div", { "data-hg-role": "query", "data-hg-query": key, title: q.description, tabindex: "0" }, q.name, doc);
      style(item, {
        padding: "2px 8px 2px 18px",
        cursor: "pointer",
        background: selected && `${selected.family}.${selected.name}` === key ? colours.hover : "transparent",
      });
      item.addEventListener("click", () => choose(q));
      item.addEventListener("keydown", (event) => {
        if (event.key === "Enter") choose(q);
      });
      list.appendChild(item);
      visible += 1;
    }
    root.setAttribute("data-hg-n-queries", String(visible));
  };

  const status = el("div", { "data-hg-role": "status" }, undefined, doc);
  const notes = el("div", { "data-hg-role": "notes" }, undefined, doc);
  const result = el("div", { "data-hg-role": "result" }, undefined, doc);

  const syncParameters = (): void => {
    const values: Record<string, string> = {};
    for (const [name, input] of inputs) values[name] = input.value;
    model.set("parameters", values);
    model.save_changes();
  };

  const choose = (q: QueryInfo): void => {
    selected = q;
    const key = `${q.family}.${q.name}`;
    root.setAttribute("data-hg-selected", key);
    root.setAttribute("data-hg-state", "ready");
    root.removeAttribute("data-hg-result-rows");
    model.set("query", key);
    clear(details);
    inputs.clear();
    const heading = el("div", {}, key, doc);
    style(heading, { "font-weight": "600", "font-size": "14px", "margin-bottom": "4px" });
    details.appendChild(heading);
    details.appendChild(el("div", {}, q.description, doc));
    if (q.data_source) {
      const source = el("div", {}, `Data source: ${q.data_source}`, doc);
      style(source, { color: colours.muted, margin: "2px 0 6px" });
      details.appendChild(source);
    }
    const form = el("div", {}, undefined, doc);
    style(form, { display: "grid", "grid-template-columns": "max-content 1fr", gap: "4px 8px", margin: "6px 0" });
    for (const p of q.parameters) {
      const label = el("label", { "data-hg-role": "param-label" }, `${p.name}${p.required ? " *" : ""} (${p.type})`, doc);
      const input = el("input", { type: "text", "data-hg-role": "param", "data-hg-param": p.name, title: p.description, placeholder: p.description }, undefined, doc);
      input.value = defaultText(p);
      style(input, { padding: "2px 4px", background: colours.bg, color: colours.fg, border: `1px solid ${colours.line}` });
      input.addEventListener("change", syncParameters);
      inputs.set(p.name, input);
      form.append(label, input);
    }
    if (q.parameters.length === 0) form.appendChild(el("div", {}, "No parameters.", doc));
    details.appendChild(form);
    const run = el("button", { type: "button", "data-hg-role": "run" }, "Run query", doc);
    run.addEventListener("click", () => void runSelected());
    details.append(run, status, notes, result);
    setText(status, "");
    setText(notes, "");
    clear(result);
    syncParameters();
    drawList();
  };

  const showResult = (message: QueryResultMessage): void => {
    clear(result);
    setText(notes, message.notes.join("\n"));
    if (message.error) {
      root.setAttribute("data-hg-state", "error");
      setText(status, `Error: ${message.error}`);
      status.style.color = colours.error;
      if (message.rows === 0) return;
    } else {
      root.setAttribute("data-hg-state", "done");
      status.style.color = colours.fg;
      const more = message.truncated ? "+" : "";
      setText(status, `${message.rows}${more} rows, ${message.columns.length} columns${api ? "" : " (the DataFrame is browser.result)"}`);
    }
    root.setAttribute("data-hg-result-rows", String(message.rows));
    const table = el("table", {}, undefined, doc);
    style(table, { "border-collapse": "collapse", "margin-top": "6px", "font-size": "12px" });
    const headRow = el("tr", {}, undefined, doc);
    for (const c of message.columns) {
      const th = el("th", {}, c, doc);
      style(th, { "text-align": "left", padding: "2px 6px", "border-bottom": `1px solid ${colours.line}`, "white-space": "nowrap" });
      headRow.appendChild(th);
    }
    table.appendChild(headRow);
    for (const row of message.preview.slice(0, PREVIEW_ROWS)) {
      const tr = el("tr", {}, undefined, doc);
      for (const cell of row) {
        const td = el("td", {}, clip(cell), doc);
        style(td, { padding: "1px 6px", "border-bottom": `1px solid ${colours.line}`, "white-space": "nowrap", "max-width": "420px", overflow: "hidden", "text-overflow": "ellipsis" });
        tr.appendChild(td);
      }
      table.appendChild(tr);
    }
    const scroller = el("div", {}, undefined, doc);
    style(scroller, { "overflow-x": "auto" });
    scroller.appendChild(table);
    result.appendChild(scroller);
  };

  const fail = (text: string): void => showResult({ rows: 0, columns: [], preview: [], notes: [], error: text });

  const runSelected = async (): Promise<void> => {
    if (!selected) return;
    const query = `${selected.family}.${selected.name}`;
    const values: Record<string, string> = {};
    for (const [name, input] of inputs) values[name] = input.value;
    const parameters = collectParameters(selected, values);
    const missing = selected.parameters.filter((p) => p.required && !parameters[p.name]).map((p) => p.name);
    if (missing.length > 0) {
      fail(`fill in ${missing.join(", ")}`);
      return;
    }
    runCounter += 1;
    pending = runCounter;
    root.setAttribute("data-hg-state", "running");
    setText(status, "Running…");
    status.style.color = colours.muted;
    if (!api) {
      model.send({ type: "hg:run_query", id: pending, query, parameters });
      return;
    }
    const id = pending;
    try {
      const response = await fetch("/api/query", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ provider, query, parameters, format: "json", max_rows: PREVIEW_ROWS }),
      });
      const body: unknown = await response.json().catch(() => ({}));
      if (id !== pending) return;
      if (!response.ok) {
        const error = asString((body as Record<string, unknown>)?.error, `HTTP ${response.status}`);
        fail(response.status === 401 ? `${error}` : error);
        return;
      }
      showResult(parseJsonResult(body));
    } catch (error) {
      if (id === pending) fail(`the proxy could not be reached: ${String(error)}`);
    }
  };

  const onMessage = (content: unknown): void => {
    const m = content as Record<string, unknown> | null;
    if (!m || m.type !== "hg:query_result" || m.id !== pending) return;
    showResult({
      rows: typeof m.rows === "number" ? m.rows : 0,
      columns: Array.isArray(m.columns) ? m.columns.map((c) => String(c)) : [],
      preview: Array.isArray(m.preview) ? m.preview.map((r) => (Array.isArray(r) ? r.map((c) => String(c)) : [])) : [],
      notes: Array.isArray(m.notes) ? m.notes.map((n) => String(n)) : [],
      error: typeof m.error === "string" && m.error ? m.error : null,
      truncated: m.truncated === true,
    });
  };

  search.addEventListener("input", drawList, { signal: life.signal });
  life.listen({ "msg:custom": onMessage });
  drawList();
  const initial = model.get("query");
  const first = queries.find((q) => `${q.family}.${q.name}` === initial) ?? queries[0];
  if (first) choose(first);
  life.firstPaint();

  return () => {
    life.dispose();
    root.remove();
  };
}
