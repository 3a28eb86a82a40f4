/**
 * The lifetime of one widget view: what every widget sets up and must undo when its view goes.
 * A view owns one `ViewLifecycle`; it registers its model listeners (`listen`), follows the theme
 * (`followTheme`: the `theme` traitlet and the host page's own theme), watches its size
 * (`observeSize`), coalesces repaints into one per animation frame (`frames`), asks for its data
 * (`requestData`, with the progress listener removed at the end) and passes `signal` to every
 * `addEventListener`. `dispose()` undoes all of it once, in the order it was set up, after
 * marking the view disposed, so late callbacks (a data promise, a queued frame) see
 * `disposed` and do nothing. A widget's own cleanup is then only what it alone holds (wasm
 * objects, its root element), registered with `onDispose` or done in its `dispose`.
 *
 * Also here: the small pieces the chart widgets' chrome shares (the root and title styles, the
 * base light/dark palette, toolbar buttons, legend swatches, tooltip field lines, the data-progress
 * text) and `mountView`, the anywidget `render` return of every widget.
 */

import { el, style } from "./dom.js";
import { countFirstPaint, requestData, stopProgress } from "./protocol.js";
import { resolveDark, watchTheme } from "./theme.js";
import type { AnyModel, DataProgress, ModelCallback } from "./types.js";

/** Everything one view has set up; `dispose` undoes it. */
export class ViewLifecycle {
  /** The document of the widget's container (JupyterLab may render into another window's). */
  readonly doc: Document;
  /** Aborted at dispose: pass `{ signal }` to every `addEventListener` of the view. */
  readonly signal: AbortSignal;
  private readonly abort = new AbortController();
  private readonly stops: (() => void)[] = [];
  private ended = false;
  private painted = false;

  constructor(
    readonly model: AnyModel,
    readonly host: HTMLElement,
  ) {
    this.doc = host.ownerDocument;
    this.signal = this.abort.signal;
  }

  /** True once `dispose` ran: async work that finishes later must drop its result. */
  get disposed(): boolean {
    return this.ended;
  }

  /** Runs `stop` at dispose (right away when the view is already gone). */
  onDispose(stop: () => void): void {
    if (this.ended) stop();
    else this.stops.push(stop);
  }

  /** Model events (`change:<traitlet>`, `msg:custom`) to handlers, until dispose. */
  listen(handlers: Record<string, ModelCallback>): void {
    for (const [event, handler] of Object.entries(handlers)) {
      this.model.on(event, handler);
      this.onDispose(() => this.model.off(event, handler));
    }
  }

  /**
   * Follows the theme: the `theme` traitlet ("light"/"dark" force, else the host decides) and
   * the host page's theme (JupyterLab, VS Code, the OS). Calls `apply(dark)` each time the
   * result changes; returns the current one.
   */
  followTheme(apply: (dark: boolean) => void): boolean {
    let dark = resolveDark(this.model.get("theme"), this.host);
    const check = (): void => {
      const now = resolveDark(this.model.get("theme"), this.host);
      if (now === dark) return;
      dark = now;
      apply(now);
    };
    this.listen({ "change:theme": check });
    this.onDispose(watchTheme(this.host, check));
    return dark;
  }

  /** Calls `onResize` when any of `targets` changes size (where the browser has ResizeObserver). */
  observeSize(targets: Element[], onResize: () => void): void {
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => onResize());
    for (const target of targets) observer.observe(target);
    this.onDispose(() => observer.disconnect());
  }

  /**
   * A scheduler for `paint`: calls made before the next animation frame coalesce into one paint
   * at that frame; none run after dispose (a pending frame is cancelled).
   */
  frames(paint: () => void): () => void {
    const view = this.doc.defaultView ?? globalThis;
    let pending: number | null = null;
    this.onDispose(() => {
      if (pending !== null) view.cancelAnimationFrame(pending);
      pending = null;
    });
    return () => {
      if (pending !== null || this.ended) return;
      pending = view.requestAnimationFrame(() => {
        pending = null;
        if (!this.ended) paint();
      });
    };
  }

  /** The model's data sets (runtime/protocol.ts); `onProgress` hears of chunks until they are in or the view goes. */
  requestData(onProgress: (p: DataProgress) => void): Promise<Map<string, Uint8Array>> {
    this.onDispose(() => stopProgress(this.model, onProgress));
    return requestData(this.model, onProgress);
  }

  /**
   * Waits for `loading`, then (unless the view was disposed meanwhile) hands its result to
   * `ready`; a failure of either goes to `fail`, which shows it in the view.
   */
  async load<T>(loading: Promise<T>, ready: (value: T) => void, fail: (error: unknown) => void): Promise<void> {
    try {
      const value = await loading;
      if (!this.ended) ready(value);
    } catch (error) {
      fail(error);
    }
  }

  /** Counts the view's first paint in the model's `rendered` traitlet (tests wait on it); later calls do nothing. */
  firstPaint(): void {
    if (this.painted) return;
    this.painted = true;
    countFirstPaint(this.model);
  }

  /** Undoes everything registered, once (later calls do nothing). */
  dispose(): void {
    if (this.ended) return;
    this.ended = true;
    this.abort.abort();
    for (const stop of this.stops.splice(0)) stop();
  }
}

/** anywidget `render` for one view: starts it (its errors show in the view) and returns its cleanup. */
export function mountView(view: { start(): Promise<void>; dispose(): void }): () => void {
  void view.start();
  return () => view.dispose();
}

/** The status line while data arrives. */
export function progressText(p: DataProgress): string {
  return `Loading ${p.name}: ${p.received}/${p.total} chunks`;
}

/** The `spec` traitlet as an object (anything else reads as `{}`: fields then take their defaults). */
export function specObject(model: AnyModel): Record<string, unknown> {
  const spec = model.get("spec");
  return spec && typeof spec === "object" && !Array.isArray(spec) ? (spec as Record<string, unknown>) : {};
}

/** Parses JSON text a wasm call returned; an error names the call (it is a bug, not bad data). */
export function parseWasmJson<T>(text: string, what: string, widget = "huntglass"): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${widget}: wasm returned invalid JSON for ${what}`);
  }
}

/** Clears the model's `error` traitlet after a successful (re)build (saved only when it was set). */
export function clearModelError(model: AnyModel): void {
  if (!model.get("error")) return;
  model.set("error", "");
  model.save_changes();
}

/**
 * Shows a successful (re)build, the inverse of `showWidgetError`: the status line hidden (role
 * `status` again), the root `data-hg-state="ready"`, the `error` traitlet cleared.
 */
export function showReady(model: AnyModel, root: HTMLElement, status: HTMLElement): void {
  status.style.display = "none";
  status.setAttribute("data-hg-role", "status");
  root.setAttribute("data-hg-state", "ready");
  clearModelError(model);
}

/** The colours every widget's chrome starts from. */
export interface BasePalette {
  background: string;
  foreground: string;
  muted: string;
  border: string;
}

/** Light chrome (JupyterLab's light theme greys). */
export const BASE_LIGHT: BasePalette = { background: "#ffffff", foreground: "#1b1b1f", muted: "#5f6368", border: "#c8ccd2" };
/** Dark chrome. */
export const BASE_DARK: BasePalette = { background: "#1e1f22", foreground: "#e6e6e6", muted: "#a0a4aa", border: "#4a4d52" };

/** Style of a widget's root element (the background and colour come from the palette). */
export const ROOT_STYLE: Record<string, string> = {
  "font-family": "system-ui, -apple-system, 'Segoe UI', sans-serif",
  "font-size": "12px",
  padding: "6px",
  "box-sizing": "border-box",
  width: "100%",
  "border-radius": "4px",
};

/** Style of a widget's title line. */
export const TITLE_STYLE: Record<string, string> = { "font-weight": "600", "font-size": "14px", margin: "0 0 4px 0" };

/** Style of a floating tooltip box (its width limit is the widget's). */
export function tooltipStyle(maxWidth: string): Record<string, string> {
  return {
    position: "absolute",
    display: "none",
    "pointer-events": "none",
    "max-width": maxWidth,
    padding: "4px 6px",
    "border-radius": "3px",
    "font-size": "11px",
    "line-height": "1.35",
    "z-index": "10",
    "box-shadow": "0 1px 4px rgba(0,0,0,0.3)",
    "overflow-wrap": "anywhere",
  };
}

/** Colours a button (or any boxed control) with the palette. */
export function paintControl(node: HTMLElement, p: BasePalette, background = p.background): void {
  style(node, { background, color: p.foreground, border: `1px solid ${p.border}` });
}

/** A toolbar button (`data-hg-tool=key`) calling `onClick` until `signal` aborts. */
export function toolButton(doc: Document, key: string, label: string, title: string, onClick: () => void, signal: AbortSignal): HTMLButtonElement {
  const button = el("button", { type: "button", title, "data-hg-tool": key }, label, doc);
  style(button, { font: "inherit", padding: "2px 8px", "border-radius": "3px", cursor: "pointer" });
  button.addEventListener("click", onClick, { signal });
  return button;
}

/** One legend entry: a colour swatch (square, or round with `round`) and its label, as text. */
export function legendItem(doc: Document, label: string, color: string, round = false): HTMLSpanElement {
  const item = el("span", { "data-hg-role": "legend-item" }, undefined, doc);
  style(item, { display: "inline-flex", "align-items": "center", gap: "4px" });
  const swatch = el("span", { "data-hg-role": "legend-swatch" }, undefined, doc);
  style(swatch, { display: "inline-block", width: "10px", height: "10px", "border-radius": round ? "50%" : "2px", background: color });
  item.append(swatch, el("span", { "data-hg-role": "legend-label" }, label, doc));
  return item;
}

/** Tooltip lines `name: value` (the name bold), values cut at `maxChars` with an ellipsis; all text nodes. */
export function fieldLines(doc: Document, fields: [string, string][], maxChars: number): HTMLDivElement[] {
  return fields.map(([name, value]) => {
    const line = el("div", undefined, undefined, doc);
    const shown = value.length > maxChars ? `${value.slice(0, maxChars)}…` : value;
    line.append(el("b", undefined, `${name}: `, doc), doc.createTextNode(shown));
    return line;
  });
}

/** The point of a mouse event in `target`'s CSS pixels. */
export function localPoint(event: MouseEvent, target: Element): { x: number; y: number } {
  const rect = target.getBoundingClientRect();
  return { x: event.clientX - rect.left, y: event.clientY - rect.top };
}
