/**
 * The GeoMap widget: an offline world map drawn by the wasm `GeoMapChart` (hg_render geo).
 * Country outlines come from the basemap asset (runtime/basemap.ts, asked for once per page);
 * nothing is fetched from a tile server. Wasm fills and outlines the countries, draws the
 * source-to-destination arcs and the located points (sized by count, coloured by a column) into
 * an RGBA buffer blitted with one `putImageData`; every log field shown (hover details, legend,
 * status) goes through `textContent`.
 *
 * Interaction: wheel zooms at the pointer, drag pans, double click zooms in, a click selects the
 * point under the pointer (Shift/Ctrl/⌘ adds or removes), Shift + drag selects the points in a
 * box, the toolbar zooms, resets the view and clears the selection. The selection goes back to
 * Python as `selection` (`{<dataset>: [row, ...]}`, debounced), so `GeoMap.selected` is the rows
 * of the chosen points; rows set in Python select the marks that hold them.
 *
 * Test hooks on the root (`data-hg-widget="geo_map"`): `data-hg-state`, `data-hg-n-rows`,
 * `data-hg-placed`, `data-hg-n-marks`, `data-hg-n-lines`, `data-hg-countries`,
 * `data-hg-selected-count`, `data-hg-render-count`, `data-hg-view` (JSON `{lon, lat, scale,
 * zoom}`), `data-hg-marks` (JSON `[[x, y, radius, rows], ...]` in CSS px, at most 200, after each
 * render), `data-hg-basemap` (`ready` or the error), `data-hg-lookup` (`pending`, `done` or the
 * error of an address look-up), `data-hg-last-render-ms`, `data-hg-first-paint-ms` (data and
 * basemap received to first paint: chart build, placement and the first raster), `data-hg-theme`.
 */

import { GeoMapChart } from "../../pkg/hg_wasm.js";
import { loadBasemap, type DecodedBasemap } from "../runtime/basemap.js";
import { CLICK_SLOP_PX, SYNC_DEBOUNCE_MS, WasmChartView } from "../runtime/chart_view.js";
import { debounce } from "../runtime/debounce.js";
import { el, setText, style } from "../runtime/dom.js";
import type { AnyModel } from "../runtime/types.js";
import { BASE_DARK, BASE_LIGHT, clearModelError, fieldLines, legendItem, mountView, parseWasmJson } from "../runtime/view.js";
import { loadWasm } from "../runtime/wasm.js";

const DEFAULT_HEIGHT = 420;
const MAX_MARK_HOOKS = 200;

interface GeoInfo {
  n_rows: number;
  placed_rows: number;
  unplaced_rows: number;
  centroid_ends: number;
  one_end_rows: number;
  unknown_countries: string[];
  n_marks: number;
  n_lines: number;
  n_countries: number;
  legend: { label: string; color: string }[];
  legend_more: number;
  color_title: string;
}

interface GeoTooltip {
  kind: "mark" | "country";
  title: string;
  fields: [string, string][];
  rows: number;
}

const LIGHT = { ...BASE_LIGHT, tip: "rgba(255,255,255,0.97)", box: "rgba(255,127,14,0.18)" };
const DARK = { ...BASE_DARK, tip: "rgba(35,36,40,0.97)", box: "rgba(255,176,0,0.2)" };

function parse<T>(text: string, what: string): T {
  return parseWasmJson<T>(text, what, "huntglass GeoMap");
}

class GeoMapView extends WasmChartView<GeoMapChart> {
  private readonly summary: HTMLDivElement;
  private readonly box: HTMLDivElement;
  private readonly attribution: HTMLDivElement;
  private basemap: DecodedBasemap | null = null;
  private basemapError = "";
  private info: GeoInfo | null = null;
  private hoverMark = -1;
  private hoverCountry = -1;
  private readonly syncView = debounce(() => {
    const chart = this.chart;
    if (!chart) return;
    const view = parse<{ lon: number; lat: number; zoom: number }>(chart.view(), "view()");
    this.model.set("view_range", [view.lon, view.lat, view.zoom]);
    this.model.save_changes();
  }, SYNC_DEBOUNCE_MS);

  constructor(model: AnyModel, host: HTMLElement) {
    super(model, host, { widget: "geo_map", canvasRole: "map-canvas", tooltipWidth: "420px" });
    const d = this.doc;
    this.summary = el("div", { "data-hg-role": "summary" }, undefined, d);
    this.box = el("div", { "data-hg-role": "select-box" }, undefined, d);
    this.attribution = el("div", { "data-hg-role": "attribution" }, undefined, d);
    this.life.onDispose(() => this.syncView.cancel());
    this.layout();
    host.appendChild(this.root);
    this.bind();
    this.follow(() => {
      if (!this.chart) return;
      this.info = parse<GeoInfo>(this.chart.info(), "info()");
      this.buildLegend();
    });
  }

  private layout(): void {
    style(this.summary, { margin: "2px 0", "white-space": "pre-wrap" });
    style(this.plot, { position: "relative", width: "100%", overflow: "hidden", "touch-action": "none" });
    style(this.canvas, { display: "block", width: "100%", cursor: "grab", outline: "none" });
    style(this.box, { position: "absolute", display: "none", "pointer-events": "none", border: "1px dashed #ff7f0e" });
    style(this.attribution, { "font-size": "10px", margin: "2px 0 0 0" });
    const add = this.addTool.bind(this);
    const centre = (): [number, number] => [this.surface.sized.width / 2, this.surface.sized.height / 2];
    add("zoom-in", "+", "Zoom in", () => this.actOnView((c) => c.zoom_at(...centre(), 1.6)));
    add("zoom-out", "−", "Zoom out", () => this.actOnView((c) => c.zoom_at(...centre(), 1 / 1.6)));
    add("reset", "Reset", "Show the whole world", () => this.actOnView((c) => c.reset_view()));
    add("clear", "Clear selection", "Deselect every point", () => this.act((c) => { c.clear_selection(); this.publishSelection(this.datasetName()); }));
    const hint = el("span", { "data-hg-role": "hint" }, "wheel: zoom · drag: pan · click: select (Shift adds) · Shift+drag: box", this.doc);
    style(hint, { "margin-left": "6px", opacity: "0.7" });
    this.toolbar.appendChild(hint);
    this.plot.append(this.canvas, this.tooltip, this.box);
    this.root.append(this.titleEl, this.toolbar, this.status, this.summary, this.legend, this.plot, this.attribution);
  }

  protected chrome(): void {
    const p = this.dark ? DARK : LIGHT;
    this.paintParts(p);
    style(this.summary, { color: p.muted });
    style(this.attribution, { color: p.muted });
    style(this.box, { background: p.box });
  }

  private datasetName(): string {
    const name = this.spec().dataset;
    return typeof name === "string" && name ? name : "points";
  }

  async start(): Promise<void> {
    this.chrome();
    try {
      const data = this.life.requestData(this.onProgress);
      const basemap = loadBasemap(this.model).then(
        (b) => b,
        (error: unknown) => {
          this.basemapError = error instanceof Error ? error.message : String(error);
          return null;
        },
      );
      const [wasm, datasets, decoded] = await Promise.all([loadWasm(this.model), data, basemap]);
      if (this.disposed) return;
      const name = this.datasetName();
      const bytes = datasets.get(name);
      if (!bytes) throw new Error(`huntglass GeoMap: the data set "${name}" did not arrive (received: ${[...datasets.keys()].join(", ") || "none"})`);
      this.wasm = wasm;
      this.data = bytes;
      this.basemap = decoded;
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
    const title = typeof spec.title === "string" ? spec.title : "";
    this.showTitle(title, `World map${title ? `: ${title}` : ""}`);
    const built = this.newChart(
      () => new GeoMapChart(JSON.stringify(spec), data),
      (chart) => {
        const b = this.basemap;
        if (b) chart.set_basemap(b.coords, b.ringLengths, b.ringCountry, b.countriesJson);
        this.info = parse<GeoInfo>(chart.info(), "info()");
      },
    );
    if (!built || !this.chart || !this.info) return;
    void this.lookUpKeys(this.chart);
    if (this.basemapError) {
      setText(this.status, `Basemap unavailable (points with coordinates are still shown): ${this.basemapError}`);
      this.root.setAttribute("data-hg-basemap", this.basemapError);
    } else {
      this.status.style.display = "none";
      setText(this.status, "");
      this.root.setAttribute("data-hg-basemap", "ready");
    }
    clearModelError(this.model);
    const info = this.info;
    this.root.setAttribute("data-hg-n-rows", String(info.n_rows));
    this.root.setAttribute("data-hg-placed", String(info.placed_rows));
    this.root.setAttribute("data-hg-n-marks", String(info.n_marks));
    this.root.setAttribute("data-hg-n-lines", String(info.n_lines));
    this.root.setAttribute("data-hg-countries", String(info.n_countries));
    this.root.setAttribute("data-hg-state", "ready");
    this.buildSummary();
    this.buildLegend();
    setText(this.attribution, this.basemap ? `Basemap: ${this.basemap.source} (${this.basemap.license}); drawn locally, no tile server.` : "");
    this.surface.invalidate();
    this.schedule();
  }

  /**
   * Asks the host to place the key column values (IP addresses) no `places` entry names yet:
   * `{type: "hg:geo_lookup", keys}` answered by `{type: "hg:geo_places", places}` (the standalone
   * host's `geo` option, e.g. the proxy's /api/geo) or `{type: "hg:geo_error", message}`.
   */
  private async lookUpKeys(chart: GeoMapChart): Promise<void> {
    const keys = parse<string[]>(chart.unplaced_keys(), "unplaced_keys()");
    if (keys.length === 0) return;
    this.root.setAttribute("data-hg-lookup", "pending");
    const answer = await new Promise<{ places?: unknown; error?: string }>((resolve) => {
      const listener = (msg: unknown): void => {
        const content = (msg ?? {}) as Record<string, unknown>;
        if (content.type === "hg:geo_places") {
          this.model.off("msg:custom", listener);
          resolve({ places: content.places });
        } else if (content.type === "hg:geo_error") {
          this.model.off("msg:custom", listener);
          resolve({ error: typeof content.message === "string" ? content.message : "the look-up failed" });
        }
      };
      this.life.listen({ "msg:custom": listener });
      this.model.send({ type: "hg:geo_lookup", keys });
    });
    if (this.disposed || this.chart !== chart) return;
    if (answer.error !== undefined) {
      this.root.setAttribute("data-hg-lookup", answer.error);
      this.status.style.display = "block";
      setText(this.status, `${keys.length} address${keys.length === 1 ? "" : "es"} not located: ${answer.error}`);
      return;
    }
    try {
      chart.set_places(JSON.stringify(answer.places ?? {}));
      this.info = parse<GeoInfo>(chart.info(), "info()");
    } catch (error) {
      this.fail(error);
      return;
    }
    this.root.setAttribute("data-hg-lookup", "done");
    this.root.setAttribute("data-hg-placed", String(this.info.placed_rows));
    this.root.setAttribute("data-hg-n-marks", String(this.info.n_marks));
    this.root.setAttribute("data-hg-n-lines", String(this.info.n_lines));
    this.buildSummary();
    this.buildLegend();
    this.schedule();
  }

  private buildSummary(): void {
    const info = this.info;
    if (!info) return;
    const parts = [`${info.n_rows} row${info.n_rows === 1 ? "" : "s"}, ${info.placed_rows} on the map`];
    if (info.centroid_ends > 0) parts.push(`${info.centroid_ends} placed at a country centroid (country known, no coordinates; hollow marks)`);
    if (info.unplaced_rows > 0) parts.push(`${info.unplaced_rows} without a location`);
    if (info.one_end_rows > 0) parts.push(`${info.one_end_rows} with only one end located (no arc)`);
    if (info.unknown_countries.length > 0) {
      const shown = info.unknown_countries.slice(0, 12).join(", ");
      parts.push(`countries not on the map: ${shown}${info.unknown_countries.length > 12 ? ", …" : ""}`);
    }
    if (info.n_lines > 0) parts.push(`${info.n_lines} source → destination arc${info.n_lines === 1 ? "" : "s"}`);
    setText(this.summary, parts.join(" · "));
  }

  private buildLegend(): void {
    this.legend.replaceChildren();
    const info = this.info;
    if (!info || info.legend.length === 0) return;
    const title = el("span", { "data-hg-role": "legend-title" }, `${info.color_title}:`, this.doc);
    style(title, { "font-weight": "600" });
    this.legend.appendChild(title);
    for (const entry of info.legend) this.legend.appendChild(legendItem(this.doc, String(entry.label), String(entry.color), true));
    if (info.legend_more > 0) this.legend.appendChild(el("span", { "data-hg-role": "legend-more" }, `and ${info.legend_more} more`, this.doc));
  }

  /** A chart action that moves the view: repaints and tells Python the new view (debounced). */
  private actOnView(fn: (chart: GeoMapChart) => void): void {
    if (this.act(fn)) this.syncView();
  }

  protected paint(): void {
    const chart = this.chart;
    const wasm = this.wasm;
    if (!chart || !wasm || this.disposed) return;
    const started = performance.now();
    try {
      this.fitChart(chart, DEFAULT_HEIGHT);
      chart.render();
      this.surface.blit(chart, wasm.memory);
      this.root.setAttribute("data-hg-view", chart.view());
      const marks: number[][] = [];
      const n = Math.min(chart.mark_count(), MAX_MARK_HOOKS);
      for (let i = 0; i < n; i++) marks.push(Array.from(chart.mark_position(i), (v) => Math.round(v * 100) / 100));
      this.root.setAttribute("data-hg-marks", JSON.stringify(marks));
    } catch (error) {
      this.fail(error);
      return;
    }
    this.surface.painted(started, this.dataAt);
  }

  /** Shows the model's selection (rows chosen in Python select the marks that hold them). */
  protected applySelectionFromModel(): void {
    const chart = this.chart;
    if (!chart) return;
    const rows = this.modelRows(this.datasetName());
    // The echo of this view's own selection changes nothing: a row has two marks (its source and
    // its destination), so re-selecting by rows would widen a click on one end to the other.
    const current = parse<Record<string, number[]>>(chart.selection(), "selection()")[this.datasetName()] ?? [];
    const sorted = [...new Set(rows)].sort((a, b) => a - b);
    if (sorted.length === current.length && sorted.every((r, i) => r === current[i])) {
      this.root.setAttribute("data-hg-selected-count", String(current.length));
      return;
    }
    const shown = parse<Record<string, number[]>>(chart.select_rows(new Float64Array(rows)), "select_rows()");
    this.root.setAttribute("data-hg-selected-count", String((shown[this.datasetName()] ?? []).length));
  }

  private showTooltip(tip: GeoTooltip, x: number, y: number): void {
    this.tooltip.replaceChildren();
    const head = el("div", { "data-hg-role": "tooltip-title" }, tip.title, this.doc);
    style(head, { "font-weight": "600" });
    this.tooltip.append(head, ...fieldLines(this.doc, tip.fields, 400));
    this.tooltip.style.display = "block";
    const left = Math.min(x + 14, Math.max(0, this.plot.clientWidth - 320));
    const top = y + 16 + 160 > this.plot.clientHeight ? Math.max(0, y - 16 - this.tooltip.offsetHeight) : y + 16;
    this.tooltip.style.left = `${left}px`;
    this.tooltip.style.top = `${top}px`;
  }

  private hover(event: PointerEvent): void {
    const chart = this.chart;
    if (!chart) return;
    const { x, y } = this.point(event);
    const mark = chart.hit_test(x, y);
    const country = mark >= 0 ? -1 : chart.country_at(x, y);
    if (mark !== this.hoverMark || country !== this.hoverCountry) {
      this.hoverMark = mark;
      this.hoverCountry = country;
      chart.set_hover(mark);
      chart.set_hover_country(country);
      this.schedule();
    }
    this.canvas.style.cursor = mark >= 0 ? "pointer" : "grab";
    try {
      if (mark >= 0) this.showTooltip(parse<GeoTooltip>(chart.tooltip(mark), "tooltip()"), x, y);
      else if (country >= 0) this.showTooltip(parse<GeoTooltip>(chart.country_tooltip(country), "country_tooltip()"), x, y);
      else this.tooltip.style.display = "none";
    } catch (error) {
      this.fail(error);
    }
  }

  private bind(): void {
    const signal = this.life.signal;
    this.canvas.addEventListener("wheel", (e) => {
      if (!this.chart) return;
      e.preventDefault();
      const { x, y } = this.point(e);
      const unit = e.deltaMode === 1 ? 20 : e.deltaMode === 2 ? this.surface.sized.height : 1;
      this.actOnView((c) => c.zoom_at(x, y, Math.exp(-e.deltaY * unit * 0.002)));
    }, { signal, passive: false });
    this.canvas.addEventListener("dblclick", (e) => {
      const { x, y } = this.point(e);
      this.actOnView((c) => c.zoom_at(x, y, 2));
    }, { signal });
    let press: { x: number; y: number; lastX: number; lastY: number; moved: boolean; boxing: boolean; id: number } | null = null;
    this.canvas.addEventListener("pointerdown", (e) => {
      const p = this.point(e);
      press = { x: p.x, y: p.y, lastX: p.x, lastY: p.y, moved: false, boxing: e.shiftKey, id: e.pointerId };
      this.canvas.setPointerCapture?.(e.pointerId);
    }, { signal });
    this.canvas.addEventListener("pointermove", (e) => {
      const p = this.point(e);
      if (press && press.id === e.pointerId) {
        if (Math.abs(p.x - press.x) + Math.abs(p.y - press.y) > CLICK_SLOP_PX) press.moved = true;
        if (press.moved) {
          this.tooltip.style.display = "none";
          if (press.boxing) {
            style(this.box, { display: "block", left: `${Math.min(p.x, press.x)}px`, top: `${Math.min(p.y, press.y)}px`, width: `${Math.abs(p.x - press.x)}px`, height: `${Math.abs(p.y - press.y)}px` });
            return;
          }
          const dx = p.x - press.lastX;
          const dy = p.y - press.lastY;
          press.lastX = p.x;
          press.lastY = p.y;
          this.canvas.style.cursor = "grabbing";
          this.actOnView((c) => c.pan_by(dx, dy));
          return;
        }
      }
      this.hover(e);
    }, { signal });
    const end = (e: PointerEvent): void => {
      const p = press;
      press = null;
      this.box.style.display = "none";
      this.canvas.style.cursor = "grab";
      if (!p || e.type === "pointercancel") return;
      const { x, y } = this.point(e);
      if (p.moved && p.boxing) {
        this.act((c) => {
          c.select_box(p.x, p.y, x, y, true);
          this.publishSelection(this.datasetName());
        });
      } else if (!p.moved) {
        this.act((c) => {
          c.select_at(x, y, e.shiftKey || e.ctrlKey || e.metaKey);
          this.publishSelection(this.datasetName());
        });
      }
    };
    this.canvas.addEventListener("pointerup", end, { signal });
    this.canvas.addEventListener("pointercancel", end, { signal });
    this.canvas.addEventListener("pointerleave", () => {
      this.tooltip.style.display = "none";
      if (this.hoverMark >= 0 || this.hoverCountry >= 0) {
        this.hoverMark = -1;
        this.hoverCountry = -1;
        this.act((c) => {
          c.set_hover(-1);
          c.set_hover_country(-1);
        });
      }
    }, { signal });
  }
}

/** anywidget `render` for `_kind == "geo_map"`; returns the view's cleanup. */
export function renderGeoMap(model: AnyModel, host: HTMLElement): () => void {
  return mountView(new GeoMapView(model, host));
}
