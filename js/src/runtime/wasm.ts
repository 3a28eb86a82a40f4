/**
 * The wasm module cache. anywidget loads our ESM from a `blob:` URL, so the wasm cannot be fetched
 * by a relative URL: Python (or the standalone host) sends its bytes once per page (`hg:wasm`),
 * and the compiled `WebAssembly.Module` is cached on `globalThis.__huntglass.modules[hash]`,
 * keyed by the model's `_wasm_hash`. Every bundle copy on the page (anywidget may import the ESM
 * once per widget) shares that compiled module and instantiates wasm-bindgen's glue from it:
 * compiling happens once per page, instantiating once per bundle copy, and nothing is fetched.
 */

import type { AnyModel } from "./types.js";
import type { TablesApi, TimelineChartApi } from "./wasm_api.js";

/** The wasm-bindgen glue (`js/pkg/hg_wasm.js`, `--target web`) as the widgets use it. */
export interface HgWasmGlue extends Partial<TablesApi> {
  /** Async init; given a compiled module it instantiates it and fetches nothing. */
  default(init: { module_or_path: WebAssembly.Module }): Promise<{ memory: WebAssembly.Memory }>;
  TimelineChart: new (spec_json: string) => TimelineChartApi;
}

/** An initialized wasm instance: the classes plus the memory their pixel pointers index into. */
export interface HgWasm {
  TimelineChart: new (spec_json: string) => TimelineChartApi;
  memory: WebAssembly.Memory;
  /** The Arrow table reader (hg_wasm table.rs); absent from test doubles without it. */
  tables?: TablesApi;
}

interface CacheEntry {
  /** Resolves to the compiled module of this hash. */
  module: Promise<WebAssembly.Module>;
  /** Present while the bytes have not arrived yet: hand them over (compiles them). */
  supply?: (bytes: Uint8Array) => void;
  /** Present while pending: give up (the kernel reported an error). */
  fail?: (error: Error) => void;
}

interface HuntglassGlobal {
  modules: Record<string, CacheEntry>;
  instances: WeakMap<object, Map<string, Promise<HgWasm>>>;
}

function registry(): HuntglassGlobal {
  const holder = globalThis as { __huntglass?: Partial<HuntglassGlobal> };
  const existing = holder.__huntglass ?? (holder.__huntglass = {});
  existing.modules ??= {};
  existing.instances ??= new WeakMap();
  return existing as HuntglassGlobal;
}

/** The model's `_wasm_hash` (the cache key), validated. */
export function wasmHashOf(model: AnyModel): string {
  const hash = model.get("_wasm_hash");
  if (typeof hash !== "string" || hash === "") {
    throw new Error("huntglass: the model has no _wasm_hash (the Python package's static/VERSION is missing)");
  }
  return hash;
}

/** True when a module for `hash` is compiled or on its way (no need to ask for the bytes). */
export function hasModule(hash: string): boolean {
  return hash in registry().modules;
}

/**
 * Creates a pending entry for `hash` if there is none. Returns true when the caller created it
 * and must therefore ask for the bytes (`need_wasm`), false when another model already did.
 */
export function reserveModule(hash: string): boolean {
  const modules = registry().modules;
  if (hash in modules) return false;
  let supply!: (bytes: Uint8Array) => void;
  let fail!: (error: Error) => void;
  const entry: CacheEntry = {
    module: new Promise<WebAssembly.Module>((resolve, reject) => {
      supply = (bytes) => {
        delete entry.supply;
        delete entry.fail;
        WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>).then(resolve, (error: unknown) => {
          if (modules[hash] === entry) delete modules[hash];
          reject(new Error(`huntglass: the wasm module (hash ${hash}) does not compile: ${String(error)}`));
        });
      };
      fail = (error) => {
        delete entry.supply;
        delete entry.fail;
        // Forget the failed entry so a later hg:hello asks for the bytes again.
        if (modules[hash] === entry) delete modules[hash];
        reject(error);
      };
    }),
  };
  entry.supply = supply;
  entry.fail = fail;
  // A rejected module must not be an unhandled rejection when nobody awaits it yet.
  entry.module.catch(() => undefined);
  modules[hash] = entry;
  return true;
}

/** Hands over the bytes for `hash`: compiles them unless a module is already there or compiling. */
export function supplyWasm(hash: string, bytes: Uint8Array): void {
  const modules = registry().modules;
  const entry = modules[hash];
  if (entry?.supply) {
    entry.supply(bytes);
  } else if (!entry) {
    reserveModule(hash);
    modules[hash]?.supply?.(bytes);
  }
}

/** Gives up on a pending module for `hash` (a kernel error); a compiled one is kept. */
export function failWasm(hash: string, error: Error): void {
  registry().modules[hash]?.fail?.(error);
}

/** The compiled module for `hash`; requires that it was reserved (by `hg:hello`) or supplied. */
export function compiledModule(hash: string): Promise<WebAssembly.Module> {
  const entry = registry().modules[hash];
  if (!entry) return Promise.reject(new Error(`huntglass: no wasm module was requested for hash ${hash}`));
  return entry.module;
}

/**
 * Instantiates `glue` (this bundle's copy of wasm-bindgen's glue) from the cached module of
 * `hash`, once per glue copy and hash.
 */
export function instantiate(glue: HgWasmGlue, hash: string): Promise<HgWasm> {
  const instances = registry().instances;
  let byHash = instances.get(glue);
  if (!byHash) {
    byHash = new Map();
    instances.set(glue, byHash);
  }
  let instance = byHash.get(hash);
  if (!instance) {
    instance = compiledModule(hash)
      .then((module) => glue.default({ module_or_path: module }))
      .then((exports) => ({ TimelineChart: glue.TimelineChart, memory: exports.memory, tables: tablesOf(glue) }));
    const created = instance;
    created.catch(() => {
      if (byHash.get(hash) === created) byHash.delete(hash);
    });
    byHash.set(hash, instance);
  }
  return instance;
}

/** The table part of `glue` when it has all of it. */
function tablesOf(glue: HgWasmGlue): TablesApi | undefined {
  const { ArrowTable } = glue;
  if (!ArrowTable) return undefined;
  return { ArrowTable };
}

/** This bundle's glue, registered by index.ts (kept out of this file so unit tests need no wasm). */
let bundleGlue: HgWasmGlue | undefined;

/** Registers the wasm-bindgen glue this bundle was built with. */
export function registerGlue(glue: HgWasmGlue): void {
  bundleGlue = glue;
}

/**
 * The initialized wasm for `model`: waits for the compiled module of its `_wasm_hash` (requested
 * by the `hg:hello` of protocol.ts) and instantiates this bundle's glue from it.
 */
export function loadWasm(model: AnyModel): Promise<HgWasm> {
  if (!bundleGlue) return Promise.reject(new Error("huntglass: internal error: wasm glue not registered"));
  let hash: string;
  try {
    hash = wasmHashOf(model);
  } catch (error) {
    return Promise.reject(error);
  }
  return instantiate(bundleGlue, hash);
}

/**
 * The `ArrowTable` reader of the wasm for `model`, for widgets that read Arrow data themselves;
 * an error naming `widget` when this wasm build lacks the reader.
 */
export async function loadTables(model: AnyModel, widget: string): Promise<TablesApi> {
  const wasm = await loadWasm(model);
  if (!wasm.tables) throw new Error(`huntglass ${widget}: this wasm build has no ArrowTable reader; rebuild hg_wasm`);
  return wasm.tables;
}
