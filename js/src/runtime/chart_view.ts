/**
 * The base of the widgets drawn by one wasm chart that selects rows (ProcessTree, GeoMap): the
 * parts every such view has (title, toolbar, status, legend, plot with canvas and tooltip), their
 * styles and theme colours, and the plumbing between chart and model: building a chart from the
 * spec, running a chart action and repainting (a throw shows as the widget's error), fitting the
 * chart's buffer to the plot, publishing the chart's selection (debounced) and applying Python's,
 * following the theme, and disposing. A widget adds its own parts, toolbar, data loading, paint
 * and pointer handling.
 */

import { debounce } from "./debounce.js";
import { el, setText, style } from "./dom.js";
import { showWidgetError } from "./errors.js";
import { ChartCanvas, type RasterChart } from "./raster.js";
import type { AnyModel, DataProgress } from "./types.js";
import { localPoint, paintControl, parseWasmJson, progressText, ROOT_STYLE, specObject, TITLE_STYLE, toolButton, tooltipStyle, ViewLifecycle, type BasePalette } from "./view.js";
import type { HgWasm } from "./wasm.js";

/** Delay before a selection is sent to Python (CONTRACT: 250 ms). */
export const SYNC_DEBOUNCE_MS = 250;
/** Pointer travel (CSS px) under which a press is a click, not a drag. */
export const CLICK_SLOP_PX = 3;

/** What the base calls on the chart (besides its raster methods). */
export interface SelectionChart extends RasterChart {
  set_theme(dark: boolean): void;
  /** JSON `{dataset: [row, ...]}` of the selected rows. */
  selection(): string;
  free(): void;
}

/** The parts that differ between the widgets. */
export interface ChartViewParts {
  /** `data-hg-widget` of the root. */
  widget: string;
  /** `data-hg-role` of the canvas. */
  canvasRole: string;
  /** Widest the tooltip grows (CSS). */
  tooltipWidth: string;
}

/** One view of a wasm-chart widget; `dispose` releases all of it (the wasm chart included). */
export abstract class WasmChartView<C extends SelectionChart> {
  protected readonly model: AnyModel;
  protected readonly life: ViewLifecycle;
  protected readonly doc: Document;
  /** Asks for one repaint at the next animation frame. */
  protected readonly schedule: () => void;
  protected readonly root: HTMLDivElement;
  protected readonly titleEl: HTMLDivElement;
  protected readonly toolbar: HTMLDivElement;
  protected readonly status: HTMLDivElement;
  protected readonly legend: HTMLDivElement;
  protected readonly plot: HTMLDivElement;
  protected readonly canvas: HTMLCanvasElement;
  protected readonly surface: ChartCanvas;
  protected readonly tooltip: HTMLDivElement;
  protected readonly buttons: HTMLButtonElement[] = [];
  protected wasm: HgWasm | null = null;
  protected data: Uint8Array | null = null;
  protected chart: C | null = null;
  protected dark = false;
  /** When the data arrived: the first paint is measured from here. */
  protected dataAt = 0;
  protected readonly onProgress = (p: DataProgress): void => {
    if (!this.chart) setText(this.status, progressText(p));
  };
  protected readonly syncSelection = debounce((selection: string) => {
    this.model.set("selection", JSON.parse(selection));
    this.model.save_changes();
  }, SYNC_DEBOUNCE_MS);

  constructor(model: AnyModel, host: HTMLElement, parts: ChartViewParts) {
    this.model = model;
    this.life = new ViewLifecycle(model, host);
    this.schedule = this.life.frames(() => this.paint());
    const d = (this.doc = this.life.doc);
    this.root = el("div", { "data-hg-widget": parts.widget, "data-hg-state": "loading" }, undefined, d);
    this.titleEl = el("div", { "data-hg-role": "title" }, undefined, d);
    this.toolbar = el("div", { "data-hg-role": "toolbar", role: "toolbar" }, undefined, d);
    this.status = el("div", { "data-hg-role": "status", "aria-live": "polite" }, "Waiting for data…", d);
    this.legend = el("div", { "data-hg-role": "legend" }, undefined, d);
    this.plot = el("div", { "data-hg-role": "plot" }, undefined, d);
    this.canvas = el("canvas", { "data-hg-role": parts.canvasRole, tabindex: "0" }, undefined, d);
    this.tooltip = el("div", { "data-hg-role": "tooltip", role: "tooltip" }, undefined, d);
    this.surface = new ChartCanvas(this.canvas, this.root, model);
    style(this.root, ROOT_STYLE);
    style(this.titleEl, TITLE_STYLE);
    style(this.toolbar, { display: "flex", gap: "4px", "flex-wrap": "wrap", "align-items": "center", margin: "0 0 4px 0" });
    style(this.status, { margin: "2px 0", "min-height": "16px", "white-space": "pre-wrap" });
    style(this.legend, { display: "flex", gap: "10px", "flex-wrap": "wrap", margin: "0 0 4px 0" });
    style(this.tooltip, tooltipStyle(parts.tooltipWidth));
  }

  /** Loads what the chart needs, then builds it (errors show in the view). */
  abstract start(): Promise<void>;
  /** (Re)builds the chart from the spec and the data. */
  protected abstract build(): void;
  /** Draws the chart (one animation frame). */
  protected abstract paint(): void;
  /** Colours the widget's parts for `this.dark`. */
  protected abstract chrome(): void;
  /** Selects in the chart the rows of the model's `selection`. */
  protected abstract applySelectionFromModel(): void;

  protected get disposed(): boolean {
    return this.life.disposed;
  }

  protected spec(): Record<string, unknown> {
    return specObject(this.model);
  }

  /**
   * Model listeners (spec, selection), the theme and the plot's size; the widget calls it last
   * in its constructor. `onTheme` runs after a theme change has been applied.
   */
  protected follow(onTheme?: () => void): void {
    this.life.listen({
      "change:spec": () => this.build(),
      // Rows chosen in Python; a bad selection shows as the widget's error.
      "change:selection": () => this.act(() => this.applySelectionFromModel()),
    });
    this.dark = this.life.followTheme((dark) => {
      this.dark = dark;
      this.chrome();
      this.act((c) => c.set_theme(dark));
      onTheme?.();
    });
    this.life.observeSize([this.plot], this.schedule);
  }

  /** A toolbar button (appended to the toolbar, coloured with the theme). */
  protected addTool(key: string, label: string, title: string, onClick: () => void): void {
    const button = toolButton(this.doc, key, label, title, onClick, this.life.signal);
    this.buttons.push(button);
    this.toolbar.appendChild(button);
  }

  /** The colours every part of the base takes from the palette. */
  protected paintParts(p: BasePalette & { tip: string }): void {
    this.root.setAttribute("data-hg-theme", this.dark ? "dark" : "light");
    style(this.root, { background: p.background, color: p.foreground });
    style(this.status, { color: p.muted });
    paintControl(this.tooltip, p, p.tip);
    for (const b of this.buttons) paintControl(b, p);
  }

  /** Shows the spec's title (or none), labels the canvas and sets the root's width from the spec. */
  protected showTitle(title: string, canvasLabel: string): void {
    setText(this.titleEl, title);
    this.titleEl.style.display = title ? "block" : "none";
    this.canvas.setAttribute("aria-label", canvasLabel);
    const width = this.spec().width;
    this.root.style.width = typeof width === "number" && width > 0 ? `${width}px` : "100%";
  }

  /**
   * Replaces the chart with `make()`, themed, `setup` run on it and the model's selection
   * applied; false (the error shown, no chart) when any of it throws.
   */
  protected newChart(make: () => C, setup: (chart: C) => void): boolean {
    this.chart?.free();
    this.chart = null;
    try {
      const chart = make();
      this.chart = chart;
      chart.set_theme(this.dark);
      setup(chart);
      this.applySelectionFromModel();
      return true;
    } catch (error) {
      this.chart?.free();
      this.chart = null;
      this.fail(error);
      return false;
    }
  }

  /** Shows `error` in the widget (and in Python's `error`). */
  protected fail(error: unknown): void {
    if (this.disposed) return;
    showWidgetError(this.model, this.root, this.status, error);
    style(this.status, { color: "#d93025" });
  }

  /** Runs a chart action and repaints; a throw is shown in the widget. False when it did not run. */
  protected act(fn: (chart: C) => void): boolean {
    if (!this.chart || this.disposed) return false;
    try {
      fn(this.chart);
    } catch (error) {
      this.fail(error);
      return false;
    }
    this.schedule();
    return true;
  }

  /**
   * Sizes the chart's buffer to the plot (width from the layout, else the spec's, else 900;
   * height the spec's, else `defaultHeight`); returns the device pixel ratio.
   */
  protected fitChart(chart: C, defaultHeight: number): number {
    const spec = this.spec();
    const width = Math.max(1, Math.floor(this.plot.clientWidth || (typeof spec.width === "number" ? spec.width : 900)));
    const height = typeof spec.height === "number" && spec.height > 0 ? Math.floor(spec.height) : defaultHeight;
    const dpr = this.doc.defaultView?.devicePixelRatio || 1;
    this.surface.fit(chart, width, height, dpr);
    return dpr;
  }

  /** Sends the chart's selection to Python (debounced) and counts the rows of `dataset` in it. */
  protected publishSelection(dataset: string): void {
    const chart = this.chart;
    if (!chart) return;
    const selection = chart.selection();
    const rows = (parseWasmJson<Record<string, number[]>>(selection, "selection()")[dataset] ?? []).length;
    this.root.setAttribute("data-hg-selected-count", String(rows));
    this.syncSelection(selection);
  }

  /** Rows of `dataset` in the model's `selection` (numbers only). */
  protected modelRows(dataset: string): number[] {
    const selection = this.model.get("selection") as Record<string, unknown> | null;
    const wanted = selection?.[dataset];
    return Array.isArray(wanted) ? wanted.filter((r): r is number => typeof r === "number") : [];
  }

  /** The point of a mouse event in canvas CSS pixels. */
  protected point(event: MouseEvent): { x: number; y: number } {
    return localPoint(event, this.canvas);
  }

  dispose(): void {
    if (this.disposed) return;
    this.syncSelection.flush();
    this.life.dispose();
    this.chart?.free();
    this.chart = null;
    this.root.remove();
  }
}
