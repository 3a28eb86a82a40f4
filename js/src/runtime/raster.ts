/**
 * The canvas side of the wasm charts (Timeline, ProcessTree, GeoMap): each rasterizes into an
 * RGBA buffer in wasm memory (hg_wasm's `raster_api!`: `resize`, `pixels_ptr`, `pixels_len`,
 * `pixel_width`, `pixel_height`) that is blitted onto a canvas with one `putImageData`.
 * `ChartCanvas` keeps the chart's buffer the size of its canvas and counts paints on the widget
 * root (`data-hg-render-count`, `data-hg-last-render-ms`, `data-hg-first-paint-ms`) and in the
 * model's `rendered` traitlet (tests wait on it).
 */

import { countFirstPaint } from "./protocol.js";
import type { AnyModel } from "./types.js";

/** The raster methods every wasm chart has. */
export interface RasterChart {
  resize(css_width: number, css_height: number, dpr: number): void;
  pixels_ptr(): number;
  pixels_len(): number;
  pixel_width(): number;
  pixel_height(): number;
}

/** Blits wasm's RGBA buffer (device pixels) onto `canvas` with one `putImageData`. */
export function blit(
  canvas: HTMLCanvasElement,
  memory: WebAssembly.Memory,
  ptr: number,
  len: number,
  width: number,
  height: number,
): CanvasRenderingContext2D {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("huntglass: this browser gives no 2D canvas context");
  if (width === 0 || height === 0) return ctx;
  if (len !== width * height * 4) {
    throw new Error(`huntglass: wasm pixel buffer is ${len} bytes, expected ${width}x${height}x4`);
  }
  // A fresh view every time: wasm memory may have grown (and detached older views) during the call.
  const pixels = new Uint8ClampedArray(memory.buffer, ptr, len);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.putImageData(new ImageData(pixels, width, height), 0, 0);
  return ctx;
}

/** A chart's canvas: buffer size kept in step, paints blitted and counted. */
export class ChartCanvas {
  /** The size the chart's buffer was last given (zero: resize at the next paint). */
  sized = { width: 0, height: 0, dpr: 0 };
  private paints = 0;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly root: HTMLElement,
    private readonly model: AnyModel,
  ) {}

  /** Paints so far. */
  get count(): number {
    return this.paints;
  }

  /** The next paint resizes the chart's buffer (a new chart, or a layout change). */
  invalidate(): void {
    this.sized = { width: 0, height: 0, dpr: 0 };
  }

  /** Resizes the chart's buffer (and the canvas's CSS height) when the size changed. */
  fit(chart: RasterChart, width: number, height: number, dpr: number): void {
    const s = this.sized;
    if (width === s.width && height === s.height && dpr === s.dpr) return;
    chart.resize(width, height, dpr);
    this.canvas.style.height = `${height}px`;
    this.sized = { width, height, dpr };
  }

  /** Blits the chart's buffer onto the canvas; returns its 2D context. */
  blit(chart: RasterChart, memory: WebAssembly.Memory): CanvasRenderingContext2D {
    return blit(this.canvas, memory, chart.pixels_ptr(), chart.pixels_len(), chart.pixel_width(), chart.pixel_height());
  }

  /**
   * Records a finished paint that began at `started` (performance.now()); the first one counts
   * in the model's `rendered` and, given `dataAt` (when the data arrived), records the time since.
   */
  painted(started: number, dataAt?: number): void {
    this.paints += 1;
    this.root.setAttribute("data-hg-render-count", String(this.paints));
    this.root.setAttribute("data-hg-last-render-ms", (performance.now() - started).toFixed(2));
    if (this.paints === 1) {
      if (dataAt !== undefined) this.root.setAttribute("data-hg-first-paint-ms", (performance.now() - dataAt).toFixed(2));
      countFirstPaint(this.model);
    }
  }
}
