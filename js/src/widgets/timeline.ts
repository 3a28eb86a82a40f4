/**
 * The Timeline widget: events, grouped lanes, values and durations over time, drawn by the wasm
 * `TimelineChart` (docs/CONTRACT.md). Wasm rasterizes the marks into an RGBA buffer that is blitted
 * with one `putImageData`; texts of the frame are drawn with `fillText`; every log field shown in
 * the DOM (tooltip, legend, errors) goes through `textContent`. Interaction (pan, wheel zoom, box
 * zoom, box/click selection, the range selector) only changes the view or selection in wasm and
 * schedules one coalesced repaint per animation frame.
 *
 * Test hooks are data attributes on the root (`data-hg-widget="timeline"`): `data-hg-state`
 * (loading/ready/error), `data-hg-view-start` / `data-hg-view-end` (ms), `data-hg-last-render-ms`,
 * `data-hg-render-count`, `data-hg-n-events`, `data-hg-selected-count`, `data-hg-theme`; parts
 * carry `data-hg-role` (timeline-canvas, overview-canvas, range-window, tooltip, legend, status,
 * error, toolbar, box).
 */

import { debounce } from "../runtime/debounce.js";
import { el, setText, style } from "../runtime/dom.js";
import { showWidgetError } from "../runtime/errors.js";
import { blit, ChartCanvas } from "../runtime/raster.js";
import type { AnyModel, DataProgress } from "../runtime/types.js";
import { BASE_DARK, BASE_LIGHT, clearModelError, legendItem, localPoint, mountView, paintControl, parseWasmJson as parseJson, progressText, ROOT_STYLE, specObject, TITLE_STYLE, toolButton, tooltipStyle, ViewLifecycle, type BasePalette } from "../runtime/view.js";
import { loadWasm, type HgWasm } from "../runtime/wasm.js";
import type { Frame, PrepareInfo, Selection, TimelineChartApi, TooltipInfo } from "../runtime/wasm_api.js";

/** Delay before selection and view changes are sent to Python (CONTRACT: 250 ms). */
const SYNC_DEBOUNCE_MS = 250;
/** Pointer travel (CSS px) under which a press is a click, not a drag. */
const CLICK_SLOP_PX = 3;
/** Width of the range window's edge grips (CSS px). */
const GRIP_PX = 6;
/** Smallest range window (CSS px of the overview) an edge drag may leave. */
const MIN_WINDOW_PX = 4;
/** Wheel zoom: factor per pixel of wheel travel (exp keeps zoom in/out symmetric). */
const WHEEL_ZOOM_PER_PX = 0.002;

type Mode = "pan" | "zoom" | "select";

interface Palette extends BasePalette {
  buttonActive: string;
  window: string;
  windowBorder: string;
  tooltipBackground: string;
}

const LIGHT: Palette = {
  ...BASE_LIGHT,
  buttonActive: "#dbe6f6",
  window: "rgba(31, 73, 155, 0.18)",
  windowBorder: "rgba(31, 73, 155, 0.75)",
  tooltipBackground: "rgba(255, 255, 255, 0.97)",
};

const DARK: Palette = {
  ...BASE_DARK,
  buttonActive: "#31425e",
  window: "rgba(120, 160, 240, 0.22)",
  windowBorder: "rgba(150, 185, 255, 0.85)",
  tooltipBackground: "rgba(35, 36, 40, 0.97)",
};

/** Height the reference picks for `lanes` lanes: 40 px each (25 past 15 lanes), at least 300. */
export function autoHeight(lanes: number): number {
  const perLane = lanes > 15 ? 25 : 40;
  return Math.max(300, lanes * perLane);
}

/** Range selector height for a main chart of `height` px. */
export function overviewHeight(height: number): number {
  return Math.max(80, Math.round(height * 0.2));
}

/** True when `label` is among the frame's texts, whole or cut short with an ellipsis. */
function drawnInFrame(label: string, texts: Frame["texts"]): boolean {
  return texts.some((t) => {
    const text = String(t.text);
    return text === label || (text.endsWith("…") && text.length > 1 && label.startsWith(text.slice(0, -1)));
  });
}

function selectedCount(selection: Selection): number {
  let n = 0;
  for (const rows of Object.values(selection)) n += Array.isArray(rows) ? rows.length : 0;
  return n;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Draws a frame's texts (axis labels, lane names, marker labels) with the canvas text API. */
function drawTexts(ctx: CanvasRenderingContext2D, texts: Frame["texts"] | undefined, dpr: number): void {
  if (!Array.isArray(texts)) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  for (const text of texts) {
    ctx.save();
    ctx.font = text.font || "11px sans-serif";
    ctx.fillStyle = text.color || "#000";
    ctx.textAlign = text.align || "left";
    ctx.textBaseline = text.baseline || "alphabetic";
    if (text.angle) {
      ctx.translate(text.x, text.y);
      ctx.rotate(text.angle);
      ctx.fillText(String(text.text), 0, 0);
    } else {
      ctx.fillText(String(text.text), text.x, text.y);
    }
    ctx.restore();
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
}

/** Everything one view of the widget owns; `dispose` releases all of it. */
class TimelineView {
  private readonly model: AnyModel;
  private readonly doc: Document;
  private readonly life: ViewLifecycle;
  private readonly scheduleRender: () => void;
  private readonly root: HTMLDivElement;
  private readonly titleEl: HTMLDivElement;
  private readonly toolbar: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly plot: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly surface: ChartCanvas;
  private readonly box: HTMLDivElement;
  private readonly tooltip: HTMLDivElement;
  private readonly overview: HTMLDivElement;
  private readonly overviewCanvas: HTMLCanvasElement;
  private readonly rangeWindow: HTMLDivElement;
  private readonly caption: HTMLDivElement;
  private readonly legend: HTMLDivElement;
  private readonly buttons = new Map<string, HTMLButtonElement>();

  private wasm: HgWasm | null = null;
  private data: Map<string, Uint8Array> | null = null;
  private chart: TimelineChartApi | null = null;
  private info: PrepareInfo | null = null;
  private frame: Frame | null = null;
  private mode: Mode = "pan";
  private dark = false;
  private failed = false;
  private overviewDirty = true;
  private sized = { width: 0, height: 0, overviewHeight: 0, dpr: 0 };
  private hoverPoint: { x: number; y: number } | null = null;
  private hoverId = -1;
  private readonly onProgress = (p: DataProgress): void => this.showProgress(p);
  private readonly syncSelection = debounce((selection: Selection) => {
    this.model.set("selection", selection);
    this.model.save_changes();
  }, SYNC_DEBOUNCE_MS);
  private readonly syncView = debounce((start: number, end: number) => {
    this.model.set("view_range", [start, end]);
    this.model.save_changes();
  }, SYNC_DEBOUNCE_MS);

  constructor(model: AnyModel, host: HTMLElement) {
    this.model = model;
    this.life = new ViewLifecycle(model, host);
    this.scheduleRender = this.life.frames(() => this.paint());
    this.doc = this.life.doc;
    const d = this.doc;
    this.root = el("div", { "data-hg-widget": "timeline", "data-hg-state": "loading" }, undefined, d);
    this.titleEl = el("div", { "data-hg-role": "title" }, undefined, d);
    this.toolbar = el("div", { "data-hg-role": "toolbar", role: "toolbar" }, undefined, d);
    this.status = el("div", { "data-hg-role": "status", "aria-live": "polite" }, "Waiting for data…", d);
    this.plot = el("div", { "data-hg-role": "plot" }, undefined, d);
    this.canvas = el("canvas", { "data-hg-role": "timeline-canvas" }, undefined, d);
    this.box = el("div", { "data-hg-role": "box" }, undefined, d);
    this.tooltip = el("div", { "data-hg-role": "tooltip", role: "tooltip" }, undefined, d);
    this.overview = el("div", { "data-hg-role": "range-selector" }, undefined, d);
    this.overviewCanvas = el("canvas", { "data-hg-role": "overview-canvas" }, undefined, d);
    this.rangeWindow = el("div", { "data-hg-role": "range-window" }, undefined, d);
    this.caption = el(
      "div",
      { "data-hg-role": "range-caption" },
      "Range selector: drag the shaded window to move the view, drag its edges to resize it, click outside it to centre it there.",
      d,
    );
    this.legend = el("div", { "data-hg-role": "legend" }, undefined, d);
    this.surface = new ChartCanvas(this.canvas, this.root, model);
    this.buildLayout();
    this.buildToolbar();
    this.applyChrome();
    host.appendChild(this.root);
    this.bindEvents();
  }

  private get disposed(): boolean {
    return this.life.disposed;
  }

  // ---------------------------------------------------------------- layout

  private buildLayout(): void {
    style(this.root, ROOT_STYLE);
    style(this.titleEl, TITLE_STYLE);
    style(this.toolbar, { display: "flex", gap: "4px", "flex-wrap": "wrap", margin: "0 0 4px 0" });
    style(this.status, { margin: "2px 0", "min-height": "16px", "white-space": "pre-wrap" });
    style(this.plot, { position: "relative", width: "100%", overflow: "hidden", "touch-action": "none" });
    style(this.canvas, { display: "block", width: "100%", cursor: "grab" });
    style(this.box, { position: "absolute", display: "none", "pointer-events": "none", "box-sizing": "border-box" });
    style(this.tooltip, tooltipStyle("480px"));
    style(this.overview, { position: "relative", width: "100%", margin: "6px 0 0 0", "touch-action": "none" });
    style(this.overviewCanvas, { display: "block", width: "100%", cursor: "crosshair" });
    style(this.rangeWindow, { position: "absolute", top: "0", bottom: "0", cursor: "move", "box-sizing": "border-box" });
    style(this.caption, { "font-size": "11px", margin: "2px 0 0 0" });
    style(this.legend, { display: "flex", gap: "10px", "flex-wrap": "wrap", margin: "4px 0 0 0" });
    for (const side of ["left", "right"] as const) {
      const grip = el("div", { "data-hg-role": `range-grip-${side}` }, undefined, this.doc);
      style(grip, { position: "absolute", top: "0", bottom: "0", width: `${GRIP_PX}px`, [side]: `-${GRIP_PX / 2}px`, cursor: "ew-resize" });
      this.rangeWindow.appendChild(grip);
    }
    this.plot.append(this.canvas, this.box, this.tooltip);
    this.overview.append(this.overviewCanvas, this.rangeWindow);
    this.root.append(this.titleEl, this.toolbar, this.status, this.plot, this.overview, this.caption, this.legend);
    this.overview.style.display = "none";
    this.caption.style.display = "none";
  }

  private buildToolbar(): void {
    const add = (key: string, label: string, title: string, onClick: () => void): void => {
      const button = toolButton(this.doc, key, label, title, onClick, this.life.signal);
      this.buttons.set(key, button);
      this.toolbar.appendChild(button);
    };
    add("pan", "Pan", "Drag to pan the time axis", () => this.setMode("pan"));
    add("zoom", "Box zoom", "Drag across a time span to zoom into it", () => this.setMode("zoom"));
    add("select", "Box select", "Drag a box to select events (Shift adds to the selection)", () => this.setMode("select"));
    add("reset", "Reset", "Show all the data again", () => this.resetView());
    add("clear", "Clear selection", "Deselect every event", () => this.clearSelection());
    add("save", "Save PNG", "Download the chart as a PNG image", () => this.savePng());
    this.setMode("pan");
  }

  private setMode(mode: Mode): void {
    this.mode = mode;
    for (const key of ["pan", "zoom", "select"]) this.buttons.get(key)?.setAttribute("aria-pressed", String(key === mode));
    this.root.setAttribute("data-hg-mode", mode);
    this.canvas.style.cursor = mode === "pan" ? "grab" : "crosshair";
    this.applyChrome();
  }

  private applyChrome(): void {
    const p = this.dark ? DARK : LIGHT;
    this.root.setAttribute("data-hg-theme", this.dark ? "dark" : "light");
    style(this.root, { background: p.background, color: p.foreground });
    style(this.status, { color: this.failed ? "#d93025" : p.muted });
    style(this.caption, { color: p.muted });
    style(this.tooltip, { background: p.tooltipBackground, color: p.foreground, border: `1px solid ${p.border}` });
    style(this.rangeWindow, { background: p.window, border: `1px solid ${p.windowBorder}` });
    for (const [key, button] of this.buttons) paintControl(button, p, key === this.mode ? p.buttonActive : p.background);
    const boxColor = this.mode === "select" ? "rgba(230, 120, 20, 0.8)" : p.windowBorder;
    style(this.box, { border: `1px dashed ${boxColor}`, background: this.mode === "select" ? "rgba(230,120,20,0.12)" : p.window });
  }

  // ---------------------------------------------------------------- lifecycle

  /** Loads wasm and data (in parallel), then builds the chart and paints. */
  async start(): Promise<void> {
    this.applySpecChrome();
    this.applyChrome();
    try {
      // requestData first: it sends hg:hello (if initialize did not), which reserves the wasm loadWasm awaits.
      const data = this.life.requestData(this.onProgress);
      const [wasm, datasets] = await Promise.all([loadWasm(this.model), data]);
      if (this.disposed) return;
      this.wasm = wasm;
      this.data = datasets;
      this.buildChart();
    } catch (error) {
      this.showError(error);
    }
  }

  private applySpecChrome(): void {
    const spec = this.spec();
    const title = typeof spec.title === "string" ? spec.title : "Events";
    setText(this.titleEl, title);
    this.titleEl.style.display = title === "" ? "none" : "block";
    this.canvas.setAttribute("aria-label", title === "" ? "Timeline chart" : `Timeline chart: ${title}`);
    const width = spec.width;
    this.root.style.width = typeof width === "number" && width > 0 ? `${width}px` : "100%";
  }

  private spec(): Record<string, unknown> {
    return specObject(this.model);
  }

  /** (Re)creates the wasm chart from the spec and the data sets, keeping nothing of the old one. */
  private buildChart(): void {
    if (!this.wasm || !this.data) return;
    this.freeChart();
    const spec = this.spec();
    let chart: TimelineChartApi | null = null;
    try {
      chart = new this.wasm.TimelineChart(JSON.stringify(spec));
      const declared = Array.isArray(spec.datasets)
        ? (spec.datasets as { name?: unknown }[]).map((d) => String(d?.name ?? ""))
        : [...this.data.keys()];
      for (const name of declared) {
        const bytes = this.data.get(name);
        if (!bytes) {
          const available = [...this.data.keys()].join(", ") || "none";
          throw new Error(`huntglass: spec names data set "${name}" but none arrived (received: ${available})`);
        }
        chart.add_dataset(name, bytes);
      }
      this.info = parseJson<PrepareInfo>(chart.prepare(), "prepare()");
      this.chart = chart;
      chart.set_theme(this.dark);
    } catch (error) {
      chart?.free();
      this.chart = null;
      this.showError(error);
      return;
    }
    this.failed = false;
    clearModelError(this.model);
    this.root.setAttribute("data-hg-n-events", String(this.info.n_events));
    this.root.setAttribute("data-hg-selected-count", "0");
    this.status.removeAttribute("data-hg-error");
    this.status.setAttribute("data-hg-role", "status");
    // "No data to plot." comes drawn by wasm, like every other text of the chart.
    setText(this.status, "");
    this.status.style.display = "none";
    this.buildLegend();
    const rangeTool = spec.range_tool !== false;
    this.overview.style.display = rangeTool ? "block" : "none";
    this.caption.style.display = rangeTool ? "block" : "none";
    this.sized = { width: 0, height: 0, overviewHeight: 0, dpr: 0 };
    this.overviewDirty = true;
    this.applyChrome();
    this.root.setAttribute("data-hg-state", "ready");
    this.scheduleRender();
  }

  private freeChart(): void {
    this.hideTooltip();
    if (this.chart) {
      this.chart.free();
      this.chart = null;
    }
  }

  private buildLegend(): void {
    this.legend.replaceChildren();
    const info = this.info;
    if (!info) return;
    const entries = info.legend.length > 0 ? info.legend : info.lanes.length > 1 ? info.lanes : [];
    for (const entry of entries) this.legend.appendChild(legendItem(this.doc, String(entry.label), String(entry.color)));
    this.legend.style.display = entries.length > 0 ? "flex" : "none";
  }

  private showProgress(p: DataProgress): void {
    if (this.disposed || this.chart) return;
    setText(this.status, progressText(p));
  }

  private showError(error: unknown): void {
    if (this.disposed) return;
    showWidgetError(this.model, this.root, this.status, error);
    this.failed = true;
    this.applyChrome();
  }

  /** Runs a wasm call; a throw is shown in the widget instead of escaping into an event handler. */
  private guard<T>(fn: (chart: TimelineChartApi) => T): T | undefined {
    if (!this.chart || this.disposed) return undefined;
    try {
      return fn(this.chart);
    } catch (error) {
      this.showError(error);
      return undefined;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.syncSelection.flush();
    this.syncView.flush();
    this.life.dispose();
    this.freeChart();
    this.root.remove();
  }

  // ---------------------------------------------------------------- painting

  private targetSize(): { width: number; height: number; overviewHeight: number; dpr: number } {
    const spec = this.spec();
    const lanes = this.info?.lanes.length ?? 1;
    const width = Math.max(1, Math.floor(this.plot.clientWidth || numberOr(spec.width, 900)));
    // prepare() suggests a height (the spec's, else automatic plus title and axis); older
    // builds without it get the reference's automatic height.
    const height = Math.floor(numberOr(this.info?.height, numberOr(spec.height, autoHeight(lanes))));
    const dpr = numberOr(this.doc.defaultView?.devicePixelRatio, 1);
    return { width, height, overviewHeight: overviewHeight(height), dpr };
  }

  private paint(): void {
    const chart = this.chart;
    const wasm = this.wasm;
    if (!chart || !wasm || this.disposed) return;
    const size = this.targetSize();
    const started = performance.now();
    try {
      if (size.width !== this.sized.width || size.height !== this.sized.height || size.dpr !== this.sized.dpr) {
        chart.resize(size.width, size.height, size.dpr);
        this.canvas.style.height = `${size.height}px`;
        this.overviewDirty = true;
      }
      const frame = parseJson<Frame>(chart.render(), "render()");
      const ctx = this.surface.blit(chart, wasm.memory);
      drawTexts(ctx, frame.texts, size.dpr);
      this.frame = frame;
      this.hideWhatTheFrameDrew(frame);
      if (this.overview.style.display !== "none" && (this.overviewDirty || size.overviewHeight !== this.sized.overviewHeight)) {
        const overviewFrame = chart.render_overview(size.width, size.overviewHeight, size.dpr);
        const octx = blit(
          this.overviewCanvas,
          wasm.memory,
          chart.overview_ptr(),
          chart.overview_len(),
          chart.overview_width(),
          chart.overview_height(),
        );
        this.overviewCanvas.style.height = `${size.overviewHeight}px`;
        if (overviewFrame) drawTexts(octx, parseJson<Partial<Frame>>(overviewFrame, "render_overview()").texts, size.dpr);
        this.overviewDirty = false;
      }
      this.sized = size;
      this.placeRangeWindow();
      this.publishView();
    } catch (error) {
      this.showError(error);
      return;
    }
    this.surface.painted(started);
    if (this.hoverPoint) this.updateHover();
  }

  /**
   * The chart may draw the title and the legend itself (into the pixels and texts, so a saved PNG
   * has them). The DOM title and legend then stay hidden rather than show everything twice; the
   * DOM legend stays when the canvas had to cut its legend short ("… N more").
   */
  private hideWhatTheFrameDrew(frame: Frame): void {
    const texts = Array.isArray(frame.texts) ? frame.texts : [];
    const title = this.titleEl.textContent ?? "";
    this.titleEl.style.display = title === "" || drawnInFrame(title, texts) ? "none" : "block";
    const labels = Array.from(this.legend.querySelectorAll('[data-hg-role="legend-label"]'), (node) => node.textContent ?? "");
    const canvasHasAll = labels.every((label) => drawnInFrame(label, texts)) && !texts.some((t) => /^… \d+ more$/.test(String(t.text)));
    this.legend.style.display = labels.length > 0 && !canvasHasAll ? "flex" : "none";
  }

  private currentView(): [number, number] | null {
    const view = this.guard((chart) => chart.view());
    if (!view || view.length < 2) return null;
    return [view[0] as number, view[1] as number];
  }

  private publishView(): void {
    const view = this.currentView();
    if (!view) return;
    const [start, end] = view;
    const before = [this.root.getAttribute("data-hg-view-start"), this.root.getAttribute("data-hg-view-end")];
    this.root.setAttribute("data-hg-view-start", String(start));
    this.root.setAttribute("data-hg-view-end", String(end));
    if (before[0] !== String(start) || before[1] !== String(end)) this.syncView(start, end);
  }

  private placeRangeWindow(): void {
    const chart = this.chart;
    const view = this.currentView();
    if (!chart || !view) return;
    const width = this.sized.width;
    const left = Math.max(0, Math.min(width, chart.ms_to_overview_x(view[0])));
    const right = Math.max(0, Math.min(width, chart.ms_to_overview_x(view[1])));
    this.rangeWindow.style.left = `${left}px`;
    this.rangeWindow.style.width = `${Math.max(2, right - left)}px`;
  }

  // ---------------------------------------------------------------- interaction

  private bindEvents(): void {
    const signal = this.life.signal;
    // Only width comes from the container (height is the spec's or automatic), so a height
    // change caused by our own paint does not trigger another one.
    this.life.observeSize([this.plot], () => {
      if (Math.floor(this.plot.clientWidth) !== this.sized.width) this.scheduleRender();
    });
    // A devicePixelRatio change (browser zoom, moving to another screen) changes the buffer size.
    this.doc.defaultView?.addEventListener("resize", () => this.scheduleRender(), { signal });

    this.dark = this.life.followTheme((dark) => {
      this.dark = dark;
      this.applyChrome();
      this.guard((chart) => chart.set_theme(dark));
      this.overviewDirty = true;
      this.scheduleRender();
    });
    this.life.listen({
      "change:spec": () => {
        this.applySpecChrome();
        this.buildChart();
      },
    });

    this.bindPlotEvents(signal);
    this.bindOverviewEvents(signal);
  }

  private localPoint(event: MouseEvent, target: HTMLElement): { x: number; y: number } {
    return localPoint(event, target);
  }

  private bindPlotEvents(signal: AbortSignal): void {
    const canvas = this.canvas;
    let press: { x: number; y: number; lastX: number; moved: boolean; pointerId: number; additive: boolean } | null = null;

    canvas.addEventListener(
      "pointerdown",
      (event) => {
        if (event.button !== 0 || !this.chart) return;
        const p = this.localPoint(event, canvas);
        press = { x: p.x, y: p.y, lastX: p.x, moved: false, pointerId: event.pointerId, additive: event.shiftKey || event.ctrlKey || event.metaKey };
        canvas.setPointerCapture(event.pointerId);
        this.hideTooltip();
        if (this.mode === "pan") canvas.style.cursor = "grabbing";
        event.preventDefault();
      },
      { signal },
    );

    canvas.addEventListener(
      "pointermove",
      (event) => {
        const p = this.localPoint(event, canvas);
        if (!press) {
          this.hoverPoint = p;
          this.updateHover();
          return;
        }
        if (Math.abs(p.x - press.x) > CLICK_SLOP_PX || Math.abs(p.y - press.y) > CLICK_SLOP_PX) press.moved = true;
        if (!press.moved) return;
        if (this.mode === "pan") {
          const dx = p.x - press.lastX;
          press.lastX = p.x;
          if (dx !== 0) {
            this.guard((chart) => chart.pan_by(dx));
            this.scheduleRender();
          }
        } else {
          this.showBox(press.x, press.y, p.x, p.y);
        }
      },
      { signal },
    );

    const finish = (event: PointerEvent, cancelled: boolean): void => {
      const current = press;
      if (!current || event.pointerId !== current.pointerId) return;
      press = null;
      this.box.style.display = "none";
      canvas.style.cursor = this.mode === "pan" ? "grab" : "crosshair";
      if (canvas.hasPointerCapture(event.pointerId)) canvas.releasePointerCapture(event.pointerId);
      if (cancelled) return;
      const p = this.localPoint(event, canvas);
      if (!current.moved) {
        const selection = this.guard((chart) => chart.select_at(p.x, p.y, current.additive));
        if (selection !== undefined) this.onSelection(selection);
        return;
      }
      if (this.mode === "zoom") {
        const x0 = Math.min(current.x, p.x);
        const x1 = Math.max(current.x, p.x);
        if (x1 - x0 >= CLICK_SLOP_PX) {
          this.guard((chart) => chart.set_view(chart.x_to_ms(x0), chart.x_to_ms(x1)));
          this.scheduleRender();
        }
      } else if (this.mode === "select") {
        const selection = this.guard((chart) => chart.select_box(current.x, current.y, p.x, p.y, current.additive));
        if (selection !== undefined) this.onSelection(selection);
      }
    };
    canvas.addEventListener("pointerup", (event) => finish(event, false), { signal });
    canvas.addEventListener("pointercancel", (event) => finish(event, true), { signal });
    canvas.addEventListener(
      "pointerleave",
      () => {
        this.hoverPoint = null;
        this.hideTooltip();
      },
      { signal },
    );
    canvas.addEventListener(
      "wheel",
      (event) => {
        if (!this.chart) return;
        event.preventDefault();
        const unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? this.sized.height : 1;
        const factor = Math.exp(event.deltaY * unit * WHEEL_ZOOM_PER_PX);
        const { x } = this.localPoint(event, canvas);
        this.guard((chart) => chart.zoom_at(x, factor));
        this.scheduleRender();
      },
      { signal, passive: false },
    );
    canvas.addEventListener("dblclick", () => this.resetView(), { signal });
  }

  private showBox(x0: number, y0: number, x1: number, y1: number): void {
    const plotArea = this.frame?.plot;
    let top = Math.min(y0, y1);
    let height = Math.abs(y1 - y0);
    if (this.mode === "zoom" && plotArea) {
      // Box zoom is along time only: the box spans the plot's full height.
      top = plotArea.y;
      height = plotArea.h;
    }
    style(this.box, {
      display: "block",
      left: `${Math.min(x0, x1)}px`,
      top: `${top}px`,
      width: `${Math.abs(x1 - x0)}px`,
      height: `${height}px`,
    });
  }

  private onSelection(json: string): void {
    let selection: Selection;
    try {
      selection = parseJson<Selection>(json, "selection");
    } catch (error) {
      this.showError(error);
      return;
    }
    this.root.setAttribute("data-hg-selected-count", String(selectedCount(selection)));
    this.syncSelection(selection);
    this.scheduleRender();
  }

  private clearSelection(): void {
    this.guard((chart) => chart.clear_selection());
    const selection = this.guard((chart) => chart.selection());
    if (selection !== undefined) this.onSelection(selection);
  }

  private resetView(): void {
    this.guard((chart) => chart.reset_view());
    this.scheduleRender();
  }

  private updateHover(): void {
    const point = this.hoverPoint;
    if (!point || !this.chart) return;
    const id = this.guard((chart) => chart.hit_test(point.x, point.y));
    if (id === undefined || id < 0) {
      this.hideTooltip();
      return;
    }
    if (id !== this.hoverId) {
      const info = this.guard((chart) => parseJson<TooltipInfo>(chart.tooltip(id), "tooltip()"));
      if (!info) return;
      this.hoverId = id;
      this.fillTooltip(info);
    }
    this.placeTooltip(point);
  }

  private fillTooltip(info: TooltipInfo): void {
    const rows: HTMLElement[] = [];
    const heading = info.lane && info.lane !== info.dataset ? `${info.dataset} · ${info.lane}` : info.dataset;
    const head = el("div", { "data-hg-role": "tooltip-heading" }, String(heading ?? ""), this.doc);
    style(head, { "font-weight": "600", margin: "0 0 2px 0" });
    rows.push(head);
    for (const field of Array.isArray(info.fields) ? info.fields : []) {
      const row = el("div", { "data-hg-role": "tooltip-row" }, undefined, this.doc);
      const name = el("span", { "data-hg-role": "tooltip-name" }, `${String(field[0])}: `, this.doc);
      style(name, { opacity: "0.75" });
      const value = el("span", { "data-hg-role": "tooltip-value" }, String(field[1] ?? ""), this.doc);
      style(value, { "white-space": "pre-wrap" });
      row.append(name, value);
      rows.push(row);
    }
    this.tooltip.replaceChildren(...rows);
    this.tooltip.setAttribute("data-hg-row", String(info.row));
    this.tooltip.setAttribute("data-hg-dataset", String(info.dataset));
  }

  private placeTooltip(point: { x: number; y: number }): void {
    const tip = this.tooltip;
    tip.style.display = "block";
    const width = tip.offsetWidth;
    const height = tip.offsetHeight;
    const maxX = this.plot.clientWidth;
    const maxY = this.plot.clientHeight;
    let left = point.x + 12;
    let top = point.y + 12;
    if (left + width > maxX) left = Math.max(0, point.x - 12 - width);
    if (top + height > maxY) top = Math.max(0, point.y - 12 - height);
    tip.style.left = `${left}px`;
    tip.style.top = `${top}px`;
  }

  private hideTooltip(): void {
    this.hoverId = -1;
    this.tooltip.style.display = "none";
  }

  private bindOverviewEvents(signal: AbortSignal): void {
    const area = this.overview;
    type Drag = { kind: "move" | "left" | "right"; startX: number; view: [number, number]; pointerId: number };
    let drag: Drag | null = null;

    area.addEventListener(
      "pointerdown",
      (event) => {
        if (event.button !== 0 || !this.chart) return;
        const view = this.currentView();
        if (!view) return;
        const { x } = this.localPoint(event, area);
        const chart = this.chart;
        const left = chart.ms_to_overview_x(view[0]);
        const right = chart.ms_to_overview_x(view[1]);
        let kind: Drag["kind"];
        if (Math.abs(x - left) <= GRIP_PX) kind = "left";
        else if (Math.abs(x - right) <= GRIP_PX) kind = "right";
        else if (x > left && x < right) kind = "move";
        else {
          // Click outside the window: centre the window there, then keep dragging it.
          const span = view[1] - view[0];
          const centre = this.guard((c) => c.overview_x_to_ms(x));
          if (centre === undefined) return;
          this.guard((c) => c.set_view(centre - span / 2, centre + span / 2));
          view[0] = centre - span / 2;
          view[1] = centre + span / 2;
          kind = "move";
          this.scheduleRender();
        }
        drag = { kind, startX: x, view, pointerId: event.pointerId };
        area.setPointerCapture(event.pointerId);
        event.preventDefault();
      },
      { signal },
    );

    area.addEventListener(
      "pointermove",
      (event) => {
        if (!drag || !this.chart) return;
        const current = drag;
        const { x } = this.localPoint(event, area);
        this.guard((chart) => {
          const [start, end] = current.view;
          if (current.kind === "move") {
            const shift = chart.overview_x_to_ms(current.startX + (x - current.startX)) - chart.overview_x_to_ms(current.startX);
            chart.set_view(start + shift, end + shift);
          } else if (current.kind === "left") {
            const limit = chart.ms_to_overview_x(end) - MIN_WINDOW_PX;
            chart.set_view(chart.overview_x_to_ms(Math.min(x, limit)), end);
          } else {
            const limit = chart.ms_to_overview_x(start) + MIN_WINDOW_PX;
            chart.set_view(start, chart.overview_x_to_ms(Math.max(x, limit)));
          }
        });
        this.scheduleRender();
      },
      { signal },
    );

    const end = (event: PointerEvent): void => {
      if (!drag || event.pointerId !== drag.pointerId) return;
      drag = null;
      if (area.hasPointerCapture(event.pointerId)) area.releasePointerCapture(event.pointerId);
    };
    area.addEventListener("pointerup", end, { signal });
    area.addEventListener("pointercancel", end, { signal });
  }

  private savePng(): void {
    const canvas = this.canvas;
    if (!this.chart || canvas.width === 0) return;
    canvas.toBlob((blob) => {
      if (!blob) {
        this.showError(new Error("huntglass: the browser could not encode the chart as PNG"));
        return;
      }
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: "timeline.png" }, undefined, this.doc);
      link.style.display = "none";
      this.root.appendChild(link);
      link.click();
      link.remove();
      // Revoke after the click has been handled; the download keeps its own reference.
      setTimeout(() => URL.revokeObjectURL(url), 0);
    }, "image/png");
  }
}

/** anywidget `render` for `_kind == "timeline"`; returns the view's cleanup. */
export function renderTimeline(model: AnyModel, host: HTMLElement): () => void {
  return mountView(new TimelineView(model, host));
}
