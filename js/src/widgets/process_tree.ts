/**
 * The ProcessTree widget: a collapsible process tree drawn by the wasm `ProcessTreeChart`
 * (hg_render tree layout). Wasm rasterizes row bands, connectors and colour markers for the lines
 * on screen into an RGBA buffer blitted with one `putImageData`; names, ids and command lines are
 * drawn with `fillText`; every log field shown in the DOM (hover details, side table, legend,
 * errors) goes through `textContent`.
 *
 * Interaction: wheel scrolls (Ctrl/⌘ + wheel zooms), drag pans, a click on ▸/▾ (or a double
 * click on a line) expands or collapses it, a click selects (Shift/Ctrl adds), the search box marks
 * matches in names, ids and command lines and expands their ancestors (Enter / ↓ ↑ go through
 * them). The selection goes back to Python as `selection` (`{"Processes": [row, ...]}`, debounced).
 *
 * Test hooks on the root (`data-hg-widget="process_tree"`): `data-hg-state`, `data-hg-n-rows`,
 * `data-hg-visible`, `data-hg-matches`, `data-hg-selected-count`, `data-hg-render-count`,
 * `data-hg-last-render-ms`, `data-hg-first-paint-ms` (data received to first paint), `data-hg-theme`.
 */

import { ProcessTreeChart } from "../../pkg/hg_wasm.js";
import { CLICK_SLOP_PX, WasmChartView } from "../runtime/chart_view.js";
import { debounce } from "../runtime/debounce.js";
import { el, setText, style } from "../runtime/dom.js";
import type { AnyModel } from "../runtime/types.js";
import { loadKernel } from "../runtime/kernel.js";
import { BASE_DARK, BASE_LIGHT, clearModelError, fieldLines, legendItem, mountView, paintControl, parseWasmJson as parse } from "../runtime/view.js";
import { loadWasm } from "../runtime/wasm.js";

const DATASET = "Processes";
const DEFAULT_HEIGHT = 520;

interface TreeInfo {
  n_rows: number;
  n_roots: number;
  max_depth: number;
  visible: number;
  legend: { label: string; color: string }[];
  color_title: string;
  color_scale: boolean;
}

interface TreeText {
  x: number;
  y: number;
  text: string;
  color: string;
  font: string;
  kind: "toggle" | "name" | "cmd";
}

interface TreeFrame {
  texts: TreeText[];
  lines: { row: number; y: number; depth: number }[];
  content_height: number;
  scroll_y: number;
  line_height: number;
}

const LIGHT = { ...BASE_LIGHT, tip: "rgba(255,255,255,0.97)" };
const DARK = { ...BASE_DARK, tip: "rgba(35,36,40,0.97)" };

class ProcessTreeView extends WasmChartView<ProcessTreeChart> {
  private readonly search: HTMLInputElement;
  private readonly matchLabel: HTMLSpanElement;
  private readonly body: HTMLDivElement;
  private readonly side: HTMLDivElement;
  private info: TreeInfo | null = null;
  private showTable = false;
  private hoverRow = -1;

  constructor(model: AnyModel, host: HTMLElement) {
    super(model, host, { widget: "process_tree", canvasRole: "tree-canvas", tooltipWidth: "520px" });
    const d = this.doc;
    this.search = el("input", { type: "search", placeholder: "Search name, id or command line", "data-hg-role": "search", "aria-label": "Search processes" }, undefined, d);
    this.matchLabel = el("span", { "data-hg-role": "match-count" }, "", d);
    this.body = el("div", { "data-hg-role": "body" }, undefined, d);
    this.side = el("div", { "data-hg-role": "side-table" }, undefined, d);
    this.layout();
    host.appendChild(this.root);
    this.bind();
    this.follow();
  }

  private layout(): void {
    style(this.search, { font: "inherit", padding: "2px 6px", width: "260px" });
    style(this.body, { display: "flex", gap: "6px", width: "100%" });
    style(this.plot, { position: "relative", flex: "1 1 auto", "min-width": "0", overflow: "hidden", "touch-action": "none" });
    style(this.canvas, { display: "block", width: "100%", cursor: "default", outline: "none" });
    style(this.side, { flex: "0 0 40%", "max-width": "40%", overflow: "auto", display: "none", "font-size": "11px" });
    const add = this.addTool.bind(this);
    this.toolbar.append(this.search);
    add("prev", "↑", "Previous match", () => this.gotoMatch(false));
    add("next", "↓", "Next match", () => this.gotoMatch(true));
    this.toolbar.append(this.matchLabel);
    add("expand", "Expand all", "Expand every process", () => this.act((c) => c.expand_all()));
    add("collapse", "Collapse all", "Collapse to the roots", () => this.act((c) => c.collapse_all()));
    add("zoom-in", "+", "Zoom in", () => this.act((c) => c.zoom_at(0, 1.25)));
    add("zoom-out", "−", "Zoom out", () => this.act((c) => c.zoom_at(0, 0.8)));
    add("reset", "Reset", "Zoom 1, back to the top", () => this.act((c) => c.reset_view()));
    add("clear", "Clear selection", "Deselect every process", () => this.act((c) => { c.clear_selection(); this.publishSelection(DATASET); }));
    add("table", "Table", "Show or hide the table of the processes on screen", () => { this.showTable = !this.showTable; this.surface.invalidate(); this.schedule(); });
    this.plot.append(this.canvas, this.tooltip);
    this.body.append(this.plot, this.side);
    this.root.append(this.titleEl, this.toolbar, this.status, this.legend, this.body);
  }

  protected chrome(): void {
    const p = this.dark ? DARK : LIGHT;
    this.paintParts(p);
    paintControl(this.search, p);
  }

  async start(): Promise<void> {
    this.chrome();
    try {
      const data = this.life.requestData(this.onProgress);
      const [wasm, datasets] = await Promise.all([loadWasm(this.model), data]);
      if (this.disposed) return;
      let bytes = datasets.get(DATASET);
      if (!bytes) throw new Error(`huntglass: the data set "${DATASET}" did not arrive (received: ${[...datasets.keys()].join(", ") || "none"})`);
      const build = this.spec().build;
      if (build && typeof build === "object" && !Array.isArray(build)) {
        // Raw process events (a page without a kernel): build the tree here with the engines' module.
        setText(this.status, "Building the process tree…");
        const kernel = await loadKernel(this.model);
        if (this.disposed) return;
        bytes = kernel.runOp("proctree.build", build as Record<string, unknown>, bytes);
      }
      this.wasm = wasm;
      this.data = bytes;
      this.dataAt = performance.now();
      this.build();
    } catch (error) {
      this.fail(error);
    }
  }

  protected build(): void {
    const data = this.data;
    if (!this.wasm || !data) return;
    const spec = this.spec();
    const title = typeof spec.title === "string" ? spec.title : "Process tree";
    this.showTitle(title, `Process tree: ${title}`);
    this.showTable = spec.show_table === true;
    if (typeof spec.search === "string" && this.search.value === "") this.search.value = spec.search;
    const built = this.newChart(
      () => new ProcessTreeChart(JSON.stringify(spec), data),
      (chart) => (this.info = parse<TreeInfo>(chart.info(), "info()")),
    );
    if (!built || !this.info) return;
    this.status.style.display = "none";
    setText(this.status, "");
    clearModelError(this.model);
    this.root.setAttribute("data-hg-n-rows", String(this.info.n_rows));
    this.root.setAttribute("data-hg-state", "ready");
    this.buildLegend();
    if (this.search.value) this.runSearch();
    this.surface.invalidate();
    this.schedule();
  }

  private buildLegend(): void {
    this.legend.replaceChildren();
    const info = this.info;
    if (!info || info.legend.length === 0) return;
    const title = el("span", { "data-hg-role": "legend-title" }, info.color_scale ? `${info.color_title} (low → high):` : `${info.color_title}:`, this.doc);
    style(title, { "font-weight": "600" });
    this.legend.appendChild(title);
    for (const entry of info.legend) this.legend.appendChild(legendItem(this.doc, String(entry.label), String(entry.color)));
  }

  protected paint(): void {
    const chart = this.chart;
    const wasm = this.wasm;
    if (!chart || !wasm || this.disposed) return;
    const started = performance.now();
    this.side.style.display = this.showTable ? "block" : "none";
    try {
      const dpr = this.fitChart(chart, DEFAULT_HEIGHT);
      const frame = parse<TreeFrame>(chart.render(), "render()");
      const ctx = this.surface.blit(chart, wasm.memory);
      this.drawTexts(ctx, frame.texts, dpr);
      if (this.showTable) this.fillTable(frame);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.info = parse<TreeInfo>(chart.info(), "info()");
    this.root.setAttribute("data-hg-visible", String(this.info.visible));
    this.surface.painted(started, this.dataAt);
  }

  private drawTexts(ctx: CanvasRenderingContext2D, texts: TreeText[], dpr: number): void {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.textBaseline = "middle";
    ctx.textAlign = "left";
    let nameEnd = 0;
    for (const t of texts) {
      ctx.font = t.font;
      ctx.fillStyle = t.color;
      if (t.kind === "cmd") {
        ctx.fillText(String(t.text), nameEnd + 10, t.y);
      } else {
        ctx.fillText(String(t.text), t.x, t.y);
        if (t.kind === "name") nameEnd = t.x + ctx.measureText(String(t.text)).width;
      }
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }

  private fillTable(frame: TreeFrame): void {
    const chart = this.chart;
    if (!chart) return;
    const columns = parse<string[]>(chart.table_columns(), "table_columns()");
    const table = el("table", { "data-hg-role": "visible-table" }, undefined, this.doc);
    style(table, { "border-collapse": "collapse", width: "100%" });
    const head = el("tr", undefined, undefined, this.doc);
    for (const c of columns) {
      const th = el("th", undefined, c, this.doc);
      style(th, { "text-align": "left", padding: "1px 4px", position: "sticky", top: "0", background: this.dark ? DARK.background : LIGHT.background });
      head.appendChild(th);
    }
    table.appendChild(head);
    for (const line of frame.lines) {
      const tr = el("tr", { "data-hg-row": String(line.row) }, undefined, this.doc);
      style(tr, { cursor: "pointer" });
      for (const cell of parse<string[]>(chart.table_cells(line.row), "table_cells()")) {
        const td = el("td", undefined, cell.length > 200 ? `${cell.slice(0, 200)}…` : cell, this.doc);
        style(td, { padding: "1px 4px", "white-space": "nowrap", "border-top": `1px solid ${this.dark ? DARK.border : LIGHT.border}` });
        tr.appendChild(td);
      }
      tr.addEventListener("click", () => this.act((c) => { c.select_rows(new Float64Array([line.row])); this.publishSelection(DATASET); }), { signal: this.life.signal });
      table.appendChild(tr);
    }
    this.side.replaceChildren(table);
  }

  private runSearch(): void {
    this.act((c) => {
      const n = c.search(this.search.value);
      this.root.setAttribute("data-hg-matches", String(n));
      setText(this.matchLabel, this.search.value.trim() ? `${n} match${n === 1 ? "" : "es"}` : "");
      if (n > 0) c.next_match(true);
    });
  }

  private gotoMatch(forward: boolean): void {
    this.act((c) => {
      const row = c.next_match(forward);
      if (row >= 0) this.root.setAttribute("data-hg-current-match", String(row));
    });
  }

  protected applySelectionFromModel(): void {
    const chart = this.chart;
    if (!chart) return;
    const rows = this.modelRows(DATASET);
    chart.select_rows(new Float64Array(rows));
    this.root.setAttribute("data-hg-selected-count", String(rows.length));
  }

  private hover(event: PointerEvent): void {
    const chart = this.chart;
    if (!chart) return;
    const { x, y } = this.point(event);
    const row = chart.hit_test(x, y);
    this.canvas.style.cursor = chart.on_toggle(x, y) ? "pointer" : "default";
    if (row !== this.hoverRow) {
      this.hoverRow = row;
      chart.set_hover(row);
      this.schedule();
    }
    if (row < 0) {
      this.tooltip.style.display = "none";
      return;
    }
    let fields: [string, string][];
    try {
      fields = parse<[string, string][]>(chart.tooltip(row), "tooltip()");
    } catch (error) {
      this.fail(error);
      return;
    }
    this.tooltip.replaceChildren(...fieldLines(this.doc, fields, 600));
    this.tooltip.style.display = "block";
    const left = Math.min(x + 14, Math.max(0, this.plot.clientWidth - 360));
    this.tooltip.style.left = `${left}px`;
    this.tooltip.style.top = `${y + 16}px`;
  }

  private bind(): void {
    const signal = this.life.signal;
    this.search.addEventListener("input", debounce(() => this.runSearch(), 150), { signal });
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === "ArrowDown") {
        e.preventDefault();
        this.gotoMatch(!e.shiftKey);
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        this.gotoMatch(false);
      }
    }, { signal });
    this.canvas.addEventListener("wheel", (e) => {
      if (!this.chart) return;
      e.preventDefault();
      if (e.ctrlKey || e.metaKey) {
        const { y } = this.point(e);
        this.act((c) => c.zoom_at(y, Math.exp(-e.deltaY * 0.002)));
      } else {
        const unit = e.deltaMode === 1 ? 20 : e.deltaMode === 2 ? this.surface.sized.height : 1;
        this.act((c) => c.scroll_by(e.deltaX * unit, e.deltaY * unit));
      }
    }, { signal, passive: false });
    let press: { x: number; y: number; lastX: number; lastY: number; moved: boolean; id: number } | null = null;
    this.canvas.addEventListener("pointerdown", (e) => {
      const p = this.point(e);
      press = { x: p.x, y: p.y, lastX: p.x, lastY: p.y, moved: false, id: e.pointerId };
      this.canvas.setPointerCapture?.(e.pointerId);
    }, { signal });
    this.canvas.addEventListener("pointermove", (e) => {
      const p = this.point(e);
      if (press && press.id === e.pointerId) {
        if (Math.abs(p.x - press.x) + Math.abs(p.y - press.y) > CLICK_SLOP_PX) press.moved = true;
        if (press.moved) {
          const dx = press.lastX - p.x;
          const dy = press.lastY - p.y;
          press.lastX = p.x;
          press.lastY = p.y;
          this.tooltip.style.display = "none";
          this.act((c) => c.scroll_by(dx, dy));
          return;
        }
      }
      this.hover(e);
    }, { signal });
    const end = (e: PointerEvent): void => {
      const p = press;
      press = null;
      if (!p || p.moved || e.type === "pointercancel") return;
      const { x, y } = this.point(e);
      this.act((c) => {
        if (c.on_toggle(x, y)) {
          const row = c.hit_test(x, y);
          if (row >= 0) c.toggle(row);
        } else {
          c.select_at(y, e.shiftKey || e.ctrlKey || e.metaKey);
          this.publishSelection(DATASET);
        }
      });
    };
    this.canvas.addEventListener("pointerup", end, { signal });
    this.canvas.addEventListener("pointercancel", end, { signal });
    this.canvas.addEventListener("dblclick", (e) => {
      const { x, y } = this.point(e);
      this.act((c) => {
        const row = c.hit_test(x, y);
        if (row >= 0 && !c.on_toggle(x, y)) c.toggle(row);
      });
    }, { signal });
    this.canvas.addEventListener("pointerleave", () => {
      this.tooltip.style.display = "none";
      if (this.hoverRow >= 0) {
        this.hoverRow = -1;
        this.act((c) => c.set_hover(-1));
      }
    }, { signal });
  }
}

/** anywidget `render` for `_kind == "process_tree"`; returns the view's cleanup. */
export function renderProcessTree(model: AnyModel, host: HTMLElement): () => void {
  return mountView(new ProcessTreeView(model, host));
}
