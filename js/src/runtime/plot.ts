/**
 * What the plain-canvas plot widgets share (PeriodicConnections and TimeSeriesAnomalies draw with
 * the 2D canvas API in JS, no wasm raster): their palette base, their root / title / status
 * chrome, the progress text, sizing a canvas to its CSS box at the device pixel ratio, and the
 * frame of one plot panel (border, the value range at the left edge, the panel's name). Every
 * text is drawn with `fillText` or set as `textContent`.
 */

import { el, style } from "./dom.js";
import type { DataProgress } from "./types.js";

/** The colours both plots start from. */
export interface PlotPalette {
  bg: string;
  fg: string;
  muted: string;
  grid: string;
}

/** Light plot colours (GitHub's light greys). */
export const PLOT_LIGHT: PlotPalette = { bg: "#ffffff", fg: "#1f2328", muted: "#656d76", grid: "#e6e8eb" };
/** Dark plot colours. */
export const PLOT_DARK: PlotPalette = { bg: "#1e1e1e", fg: "#e6edf3", muted: "#9198a1", grid: "#30363d" };

/** A plot widget's root (`data-hg-widget=widget`, state loading), its title line and its status line. */
export function plotChrome(doc: Document, widget: string, title: string): { root: HTMLDivElement; title: HTMLDivElement; status: HTMLDivElement } {
  const root = el("div", { "data-hg-widget": widget, "data-hg-state": "loading" }, undefined, doc);
  const titleEl = el("div", {}, title, doc);
  const status = el("div", { "data-hg-role": "status" }, "Loading…", doc);
  style(root, { position: "relative", "font-family": "system-ui, sans-serif", "font-size": "12px", padding: "6px" });
  style(titleEl, { "font-weight": "600", "font-size": "14px", margin: "0 0 4px 4px" });
  return { root, title: titleEl, status };
}

/** Colours the plot's root and marks its theme (`data-hg-theme`). */
export function paintPlotRoot(root: HTMLElement, p: PlotPalette, dark: boolean): void {
  root.setAttribute("data-hg-theme", dark ? "dark" : "light");
  style(root, { background: p.bg, color: p.fg });
}

/** The status line while data arrives (percent of the chunks). */
export function receivingText(p: DataProgress): string {
  return `Receiving ${p.name}: ${Math.round((100 * p.received) / Math.max(p.total, 1))}%`;
}

/**
 * Sizes `canvas` to its CSS width (at least `minWidth`) by `cssHeight` in device pixels; the
 * context comes back scaled so the caller draws in CSS pixels. Null without a 2D context.
 */
export function fitCanvas(canvas: HTMLCanvasElement, minWidth: number, cssHeight: number): { ctx: CanvasRenderingContext2D; width: number; dpr: number } | null {
  const dpr = canvas.ownerDocument.defaultView?.devicePixelRatio ?? 1;
  const width = Math.max(minWidth, canvas.clientWidth);
  const pw = Math.round(width * dpr);
  const ph = Math.round(cssHeight * dpr);
  if (canvas.width !== pw) canvas.width = pw;
  if (canvas.height !== ph) canvas.height = ph;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, width, dpr };
}

/**
 * One panel's frame: its border, the top and bottom of its value range written left of it
 * (right-aligned), and its name inside its top-left corner. Leaves the text left/top aligned.
 */
export function panelFrame(
  ctx: CanvasRenderingContext2D,
  p: PlotPalette,
  box: { left: number; top: number; width: number; height: number },
  labels: { high: string; low: string; name: string },
): void {
  const { left, top, width, height } = box;
  ctx.strokeStyle = p.grid;
  ctx.lineWidth = 1;
  ctx.strokeRect(left + 0.5, top + 0.5, width, height);
  ctx.fillStyle = p.muted;
  ctx.textAlign = "right";
  ctx.textBaseline = "top";
  ctx.fillText(labels.high, left - 4, top);
  ctx.textBaseline = "bottom";
  ctx.fillText(labels.low, left - 4, top + height);
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillStyle = p.fg;
  ctx.fillText(labels.name, left + 6, top + 2);
}
