/**
 * huntglass front end: the one anywidget ESM of every widget (docs/CONTRACT.md "One bundle, one
 * default export"). `initialize` starts the data protocol (one `hg:hello` per model; slow work such
 * as compiling the wasm happens asynchronously, never inside initialize); `render` dispatches on
 * the model's `_kind`. `mountStandalone` mounts a widget on a page without a kernel.
 */

import type { AnyWidget } from "@anywidget/types";
import * as glue from "../pkg/hg_wasm.js";
import { el } from "./runtime/dom.js";
import { mountStandalone, registerStandaloneWidget } from "./runtime/host.js";
import { attachModel } from "./runtime/protocol.js";
import type { AnyModel } from "./runtime/types.js";
import { registerGlue, type HgWasmGlue } from "./runtime/wasm.js";
import { renderDecodeView } from "./widgets/decode_view.js";
import { renderGeoMap } from "./widgets/geo_map.js";
import { renderIocView } from "./widgets/ioc_view.js";
import { renderPeriodicView } from "./widgets/periodic_view.js";
import { renderProcessTree } from "./widgets/process_tree.js";
import { renderQueryBrowser } from "./widgets/query_browser.js";
import { renderSessionRarity } from "./widgets/session_rarity.js";
import { renderTiBrowser } from "./widgets/ti_browser.js";
import { renderTimeline } from "./widgets/timeline.js";
import { renderTsAnomalies } from "./widgets/ts_anomalies.js";

declare const __HG_VERSION__: string;

/** Version of this bundle (package.json). */
export const version: string = __HG_VERSION__;

// The generated glue must match the API the widgets were written against: a mismatch with the
// Rust side fails type-checking here.
const checkedGlue: HgWasmGlue = glue;
registerGlue(checkedGlue);

type Renderer = (model: AnyModel, el: HTMLElement) => () => void;

const renderers: Record<string, Renderer> = {
  timeline: renderTimeline,
  ts_anomalies: renderTsAnomalies,
  periodic: renderPeriodicView,
  ioc_view: renderIocView,
  process_tree: renderProcessTree,
  decode_view: renderDecodeView,
  query_browser: renderQueryBrowser,
  session_rarity: renderSessionRarity,
  ti_browser: renderTiBrowser,
  geo_map: renderGeoMap,
};

function initialize({ model }: { model: AnyModel }): void {
  attachModel(model);
}

function render({ model, el: host }: { model: AnyModel; el: HTMLElement }): () => void {
  const kind = model.get("_kind");
  const renderer = typeof kind === "string" ? renderers[kind] : undefined;
  if (!renderer) {
    const message = `huntglass: this version (${version}) has no widget of kind ${JSON.stringify(kind)}; known: ${Object.keys(renderers).join(", ")}`;
    const box = el("div", { "data-hg-role": "error" }, message, host.ownerDocument);
    host.appendChild(box);
    model.set("error", message);
    model.save_changes();
    return () => box.remove();
  }
  return renderer(model, host);
}

// `satisfies` checks at compile time that anywidget's own model type fits our AnyModel.
const widget = { initialize, render } satisfies AnyWidget;
registerStandaloneWidget(widget);

export default widget;
export { mountStandalone };
