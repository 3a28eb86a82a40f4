/**
 * The standalone host: a model object with anywidget's API for pages without a kernel (demo pages,
 * exported reports). It answers `hg:hello` exactly as the Python side does (`hg:wasm` and
 * `hg:kernel` when asked, then every data set cut into <= 8 MiB `hg:data` chunks, or `hg:error`),
 * asynchronously, so the widget code cannot tell it from a kernel.
 */

import { HG_CHUNK_BYTES } from "./protocol.js";
import type { AnyModel, ModelCallback } from "./types.js";

/** Where the host gets the bytes it sends (loaded on the first `hg:hello` that needs them). */
export type HostSource = {
  wasm: () => Promise<Uint8Array>;
  /** The engines' module (hg_kernel.wasm), for widgets that run operations. */
  kernel?: () => Promise<Uint8Array>;
  /** The GeoMap basemap (static/basemap.bin), sent when a map asks with `hg:need_basemap`. */
  basemap?: () => Promise<Uint8Array>;
  /** Places of key values (IP addresses) a GeoMap asks for with `hg:geo_lookup`. */
  geo?: GeoLookup;
  datasets: Record<string, () => Promise<Uint8Array>>;
};

/**
 * Places key values (IP addresses) for a GeoMap: an object value -> `{lon, lat, label?}` |
 * `{country, label?}` (ISO alpha-2) | `null` (known to have no place).
 */
export type GeoLookup = (keys: string[]) => Promise<Record<string, unknown>>;

/** Options of the host model beyond its state and source. */
export interface HostOptions {
  /** Called by `save_changes` with the traitlets set since the previous save (what Python would receive). */
  onSave?: (changes: Record<string, unknown>) => void;
}

/** A bytes source: bytes, a URL (fetched), a `data:` URL or a base64 string (decoded locally). */
export type BytesInput = Uint8Array | string;

/** The widget module mountStandalone drives (index.ts registers the bundle's default export). */
export interface WidgetModule {
  initialize(props: { model: AnyModel }): unknown;
  render(props: { model: AnyModel; el: HTMLElement }): unknown;
}

let standaloneWidget: WidgetModule | undefined;

/** Registers the widget module that `mountStandalone` mounts (done once by index.ts). */
export function registerStandaloneWidget(widget: WidgetModule): void {
  standaloneWidget = widget;
}

function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** Number of `hg:data` chunks the host (and Python's split_chunks) cuts `byteLength` bytes into: at least one. */
export function chunkCount(byteLength: number): number {
  return Math.max(1, Math.ceil(byteLength / HG_CHUNK_BYTES));
}

/** A model with anywidget's API over `state`, answering `hg:hello` from `source`. */
export function createHostModel(
  state: Record<string, unknown>,
  source: HostSource,
  options: HostOptions = {},
): AnyModel {
  const values: Record<string, unknown> = { ...state };
  const listeners = new Map<string, Set<ModelCallback>>();
  let unsaved: Record<string, unknown> = {};

  const emit = (event: string, ...args: unknown[]): void => {
    for (const callback of [...(listeners.get(event) ?? [])]) callback(...args);
  };

  const deliver = (content: Record<string, unknown>, buffers: DataView[] = []): void => {
    emit("msg:custom", content, buffers);
  };

  const datasetNames = (): string[] => {
    const declared = values._datasets;
    if (Array.isArray(declared)) {
      return declared.map((item) => String((item as { name?: unknown } | null)?.name ?? ""));
    }
    return Object.keys(source.datasets);
  };

  const answerHello = async (needWasm: boolean, needKernel: boolean): Promise<void> => {
    await nextTask(); // a kernel answers later, never inside send()
    try {
      if (needWasm) {
        const wasm = await source.wasm();
        deliver({ type: "hg:wasm", hash: values._wasm_hash }, [dataView(wasm)]);
      }
      if (needKernel) {
        if (!source.kernel) {
          throw new Error("huntglass: this widget runs operations and needs the engines' module: pass `kernel` (hg_kernel.wasm bytes, URL or base64) to mountStandalone");
        }
        const kernel = await source.kernel();
        deliver({ type: "hg:kernel", hash: values._kernel_hash }, [dataView(kernel)]);
      }
      for (const name of datasetNames()) {
        const load = source.datasets[name];
        if (!load) throw new Error(`huntglass: no bytes were given for data set "${name}"`);
        const bytes = await load();
        const count = chunkCount(bytes.byteLength);
        for (let index = 0; index < count; index++) {
          await nextTask(); // lets the page paint progress between chunks, as a websocket would
          const chunk = bytes.subarray(index * HG_CHUNK_BYTES, Math.min(bytes.byteLength, (index + 1) * HG_CHUNK_BYTES));
          deliver({ type: "hg:data", name, index, count }, [dataView(chunk)]);
        }
      }
    } catch (error) {
      deliver({ type: "hg:error", message: error instanceof Error ? error.message : String(error) });
    }
  };

  const answerBasemap = async (hash: unknown): Promise<void> => {
    await nextTask();
    try {
      if (!source.basemap) {
        throw new Error("huntglass: this widget draws a map and needs the basemap: pass `basemap` (static/basemap.bin bytes, URL or base64) to mountStandalone");
      }
      const bytes = await source.basemap();
      deliver({ type: "hg:basemap", hash }, [dataView(bytes)]);
    } catch (error) {
      deliver({ type: "hg:basemap_error", hash, message: error instanceof Error ? error.message : String(error) });
    }
  };

  const answerGeo = async (keys: unknown): Promise<void> => {
    await nextTask();
    try {
      if (!source.geo) throw new Error("this page has no look-up service for addresses (mountStandalone's `geo` option)");
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) throw new Error("hg:geo_lookup needs a list of strings");
      deliver({ type: "hg:geo_places", places: await source.geo(keys as string[]) });
    } catch (error) {
      deliver({ type: "hg:geo_error", message: error instanceof Error ? error.message : String(error) });
    }
  };

  return {
    get(key: string): unknown {
      return values[key];
    },
    set(key: string, value: unknown): void {
      if (sameValue(values[key], value)) return;
      values[key] = value;
      unsaved[key] = value;
      emit(`change:${key}`, this, value);
    },
    save_changes(): void {
      const changes = unsaved;
      unsaved = {};
      if (Object.keys(changes).length > 0) options.onSave?.(changes);
    },
    on(event: string, callback: ModelCallback): void {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(callback);
    },
    off(event?: string | null, callback?: ModelCallback | null): void {
      if (!event) {
        if (callback) for (const set of listeners.values()) set.delete(callback);
        else listeners.clear();
        return;
      }
      if (callback) listeners.get(event)?.delete(callback);
      else listeners.delete(event);
    },
    send(content: unknown): void {
      const message = content as { type?: unknown; need_wasm?: unknown; need_kernel?: unknown } | null;
      if (message?.type === "hg:hello") void answerHello(message.need_wasm === true, message.need_kernel === true);
      else if (message?.type === "hg:need_basemap") void answerBasemap((message as { hash?: unknown }).hash);
      else if (message?.type === "hg:geo_lookup") void answerGeo((message as { keys?: unknown }).keys);
    },
  };
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes standard base64 (whitespace ignored); throws naming the problem. */
export function decodeBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, "");
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new Error("huntglass: not valid base64 (length must be a multiple of 4, alphabet A-Z a-z 0-9 + /)");
  }
  const binary = atob(compact);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * True when `text` is base64 data rather than a URL. URLs with `.`, `:`, `?` or `#` (every file
 * name with an extension, every absolute URL) are never taken for base64; a string made only of
 * the base64 alphabet whose length is a multiple of 4 is.
 */
export function looksLikeBase64(text: string): boolean {
  const compact = text.replace(/\s+/g, "");
  return compact.length >= 4 && compact.length % 4 === 0 && BASE64.test(compact);
}

/** Loads bytes given as bytes, base64, a `data:` URL or a URL; `what` names it in errors. */
export async function loadBytes(input: BytesInput, what: string): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input;
  if (typeof input !== "string") throw new Error(`huntglass: ${what} must be a Uint8Array, a URL or a base64 string`);
  if (input.startsWith("data:")) {
    const comma = input.indexOf(",");
    if (comma < 0) throw new Error(`huntglass: ${what} is a data: URL without a comma`);
    const header = input.slice(5, comma);
    const body = input.slice(comma + 1);
    if (header.endsWith(";base64")) return decodeBase64(body);
    return new TextEncoder().encode(decodeURIComponent(body));
  }
  if (looksLikeBase64(input)) return decodeBase64(input);
  let response: Response;
  try {
    response = await fetch(input);
  } catch (error) {
    throw new Error(`huntglass: could not fetch ${what} from ${input}: ${String(error)}`);
  }
  if (!response.ok) throw new Error(`huntglass: fetching ${what} from ${input} failed: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** First 16 hex digits of the SHA-256 of `bytes` (the `wasm hash` of static/VERSION). */
export async function wasmHash(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    const digest = new Uint8Array(await subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
    return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  // No WebCrypto (an insecure context): any stable key works for the page-local cache.
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ bytes.byteLength;
  for (let i = 0; i < bytes.byteLength; i++) {
    h1 = Math.imul(h1 ^ (bytes[i] as number), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ h1, 0x5bd1e995) >>> 0;
  }
  return `fnv${h1.toString(16).padStart(8, "0")}${h2.toString(16).padStart(8, "0")}`;
}

/** What `mountStandalone` mounts. */
export interface StandaloneOptions {
  /** The widget state: at least `_kind` and `spec`. */
  state: Record<string, unknown>;
  /** The visualization module (hg_wasm_bg.wasm). */
  wasm: BytesInput;
  /** The engines' module (hg_kernel.wasm): only for widgets that run operations (IocView). */
  kernel?: BytesInput;
  /** The GeoMap basemap (static/basemap.bin): only for maps; fills state._basemap_hash. */
  basemap?: BytesInput;
  /** Places IP addresses (or other keys) for a GeoMap's `ip_column` / `dst_ip_column`. */
  geo?: GeoLookup;
  /** Arrow IPC stream bytes of each data set. */
  datasets: Record<string, BytesInput>;
}

/**
 * Mounts the widget described by `state` (at least `_kind` and `spec`) into `el` without a
 * kernel. `wasm`, `kernel` and each data set are bytes, URLs or base64; `_wasm_hash`,
 * `_kernel_hash` (when `kernel` is given) and `_datasets` are filled in from the bytes when
 * `state` lacks them.
 */
export async function mountStandalone(el: HTMLElement, opts: StandaloneOptions): Promise<{ model: AnyModel; cleanup: () => void }> {
  const widget = standaloneWidget;
  if (!widget) throw new Error("huntglass: internal error: no widget module registered for mountStandalone");
  const doc = el.ownerDocument;
  const status = doc.createElement("div");
  status.setAttribute("data-hg-role", "status");
  status.textContent = "Loading huntglass…";
  el.replaceChildren(status);
  try {
    const names = Object.keys(opts.datasets);
    const [wasm, kernel, basemap, ...datasetBytes] = await Promise.all([
      loadBytes(opts.wasm, "the wasm module"),
      opts.kernel === undefined ? Promise.resolve(undefined) : loadBytes(opts.kernel, "the kernel module (hg_kernel.wasm)"),
      opts.basemap === undefined ? Promise.resolve(undefined) : loadBytes(opts.basemap, "the basemap (basemap.bin)"),
      ...names.map((name) => loadBytes(opts.datasets[name] as BytesInput, `data set "${name}"`)),
    ]);
    const bytesByName = new Map(names.map((name, i) => [name, datasetBytes[i] as Uint8Array]));
    const state: Record<string, unknown> = { theme: "auto", selection: {}, view_range: [], rendered: 0, error: "", ...opts.state };
    if (typeof state._wasm_hash !== "string" || state._wasm_hash === "") state._wasm_hash = await wasmHash(wasm as Uint8Array);
    if (kernel && (typeof state._kernel_hash !== "string" || state._kernel_hash === "")) state._kernel_hash = await wasmHash(kernel);
    if (basemap && (typeof state._basemap_hash !== "string" || state._basemap_hash === "")) state._basemap_hash = await wasmHash(basemap);
    if (!Array.isArray(state._datasets)) {
      // rows is unknown without decoding the Arrow stream; only the progress display reads it.
      state._datasets = names.map((name) => {
        const bytes = bytesByName.get(name) as Uint8Array;
        return { name, chunks: chunkCount(bytes.byteLength), bytes: bytes.byteLength, rows: null };
      });
    }
    const datasets: HostSource["datasets"] = {};
    for (const [name, bytes] of bytesByName) datasets[name] = () => Promise.resolve(bytes);
    const source: HostSource = { wasm: () => Promise.resolve(wasm as Uint8Array), datasets };
    if (kernel) source.kernel = () => Promise.resolve(kernel);
    if (basemap) source.basemap = () => Promise.resolve(basemap);
    if (opts.geo) source.geo = opts.geo;
    const model = createHostModel(state, source);
    el.replaceChildren();
    const initCleanup = await widget.initialize({ model });
    const renderCleanup = await widget.render({ model, el });
    const cleanup = (): void => {
      if (typeof renderCleanup === "function") renderCleanup();
      if (typeof initCleanup === "function") initCleanup();
    };
    return { model, cleanup };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    status.textContent = message;
    status.setAttribute("data-hg-role", "error");
    if (!status.isConnected) el.replaceChildren(status);
    throw error instanceof Error ? error : new Error(message);
  }
}
