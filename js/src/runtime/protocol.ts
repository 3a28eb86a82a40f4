/**
 * The Python to JS protocol (docs/CONTRACT.md): `initialize` sends `hg:hello` once per model;
 * the kernel answers with `hg:wasm` and `hg:kernel` (the visualization module and the engines'
 * module, each only when asked), one `hg:data` per chunk (<= 8 MiB each) and `hg:error` on
 * failure. Only a model with a `_kernel_hash` (a widget that runs operations) asks for the
 * engines. Chunks of a data set are concatenated in index order, whatever order
 * they arrive in; the assembled data sets are cached per model, so every view of the model shares
 * them (the kernel sends the data once per page).
 */

import { debounce } from "./debounce.js";
import type { AnyModel, DataProgress, DatasetInfo, ModelCallback } from "./types.js";
import { kernelHashOf } from "./kernel.js";
import { failWasm, reserveModule, supplyWasm, wasmHashOf } from "./wasm.js";

export { debounce };

/** Largest chunk the kernel sends (and the standalone host cuts). */
export const HG_CHUNK_BYTES = 8 * 1024 * 1024;

/** Most chunks accepted for one data set (64 GiB at 8 MiB each: far beyond what a page can hold). */
const MAX_CHUNKS = 8192;

/** Concatenates chunk buffers (DataView from the kernel, or Uint8Array) into one array. */
export function concatChunks(chunks: (DataView | Uint8Array)[]): Uint8Array {
  const views = chunks.map((chunk) => new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  const total = views.reduce((sum, view) => sum + view.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const view of views) {
    out.set(view, offset);
    offset += view.byteLength;
  }
  return out;
}

/** The `_datasets` traitlet, validated (an error names what is wrong). */
export function datasetsOf(model: AnyModel): DatasetInfo[] {
  const raw = model.get("_datasets") ?? [];
  if (!Array.isArray(raw)) throw new Error("huntglass: _datasets must be a list of {name, chunks, bytes, rows}");
  return raw.map((item: unknown, i) => {
    const entry = (item ?? {}) as Record<string, unknown>;
    const { name, chunks, bytes, rows } = entry;
    if (typeof name !== "string") throw new Error(`huntglass: _datasets[${i}].name must be a string`);
    if (typeof chunks !== "number" || !Number.isInteger(chunks) || chunks < 0 || chunks > MAX_CHUNKS) {
      throw new Error(`huntglass: _datasets[${i}] (${name}) has an invalid chunk count ${String(chunks)}`);
    }
    return {
      name,
      chunks,
      bytes: typeof bytes === "number" ? bytes : 0,
      rows: typeof rows === "number" ? rows : null,
    };
  });
}

interface Assembly {
  count: number;
  parts: (Uint8Array | undefined)[];
  received: number;
}

interface ModelState {
  data: Promise<Map<string, Uint8Array>>;
  resolve(data: Map<string, Uint8Array>): void;
  reject(error: Error): void;
  settled: boolean;
  expected: DatasetInfo[];
  assemblies: Map<string, Assembly>;
  done: Map<string, Uint8Array>;
  progress: Set<(p: DataProgress) => void>;
  lastProgress: Map<string, DataProgress>;
  hash: string | null;
  /** The engines' module hash when this model's widget runs operations. */
  kernelHash: string | null;
  listener: ModelCallback;
}

const states = new WeakMap<AnyModel, ModelState>();

function toBytes(buffer: unknown): Uint8Array | null {
  if (buffer instanceof Uint8Array) return buffer;
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return null;
}

function finishIfComplete(state: ModelState): void {
  if (state.settled) return;
  for (const info of state.expected) {
    if (!state.done.has(info.name)) return;
  }
  state.settled = true;
  const out = new Map<string, Uint8Array>();
  for (const info of state.expected) out.set(info.name, state.done.get(info.name) as Uint8Array);
  state.resolve(out);
}

function fail(state: ModelState, error: Error): void {
  if (state.hash !== null) failWasm(state.hash, error);
  if (state.kernelHash !== null) failWasm(state.kernelHash, error);
  if (state.settled) return;
  state.settled = true;
  state.reject(error);
}

function onData(state: ModelState, content: Record<string, unknown>, buffers: unknown[]): void {
  if (state.settled) return; // a second page's hg:hello makes the kernel send everything again
  const { name, index, count } = content;
  if (typeof name !== "string" || typeof index !== "number" || typeof count !== "number") {
    fail(state, new Error("huntglass: hg:data message without a string name and numeric index/count"));
    return;
  }
  if (!Number.isInteger(count) || count < 1 || count > MAX_CHUNKS || !Number.isInteger(index) || index < 0 || index >= count) {
    fail(state, new Error(`huntglass: hg:data for "${name}" has chunk index ${index} of ${count}`));
    return;
  }
  const bytes = toBytes(buffers[0]);
  if (!bytes) {
    fail(state, new Error(`huntglass: hg:data chunk ${index} of "${name}" arrived without a binary buffer`));
    return;
  }
  if (bytes.byteLength > HG_CHUNK_BYTES) {
    fail(state, new Error(`huntglass: hg:data chunk ${index} of "${name}" is ${bytes.byteLength} bytes, over the ${HG_CHUNK_BYTES}-byte limit`));
    return;
  }
  let assembly = state.assemblies.get(name);
  if (!assembly) {
    assembly = { count, parts: new Array<Uint8Array | undefined>(count).fill(undefined), received: 0 };
    state.assemblies.set(name, assembly);
  } else if (assembly.count !== count) {
    fail(state, new Error(`huntglass: hg:data for "${name}" changed its chunk count from ${assembly.count} to ${count}`));
    return;
  }
  if (assembly.parts[index] === undefined) assembly.received += 1;
  // Copy: the kernel's buffer may be reused, and the chunk outlives this message.
  assembly.parts[index] = bytes.slice();
  const progress = { name, received: assembly.received, total: count };
  state.lastProgress.set(name, progress);
  for (const listener of state.progress) listener(progress);
  if (assembly.received === count) {
    state.done.set(name, concatChunks(assembly.parts as Uint8Array[]));
    state.assemblies.delete(name);
    if (!state.expected.some((info) => info.name === name)) {
      state.expected.push({ name, chunks: count, bytes: 0, rows: null });
    }
    finishIfComplete(state);
  }
}

function onMessage(state: ModelState, msg: unknown, buffers: unknown): void {
  if (!msg || typeof msg !== "object") return;
  const content = msg as Record<string, unknown>;
  const list = Array.isArray(buffers) ? buffers : [];
  switch (content.type) {
    case "hg:wasm": {
      const bytes = toBytes(list[0]);
      const hash = typeof content.hash === "string" ? content.hash : state.hash;
      if (bytes && hash) supplyWasm(hash, bytes.slice());
      else fail(state, new Error("huntglass: hg:wasm message without a hash or a binary buffer"));
      break;
    }
    case "hg:kernel": {
      const bytes = toBytes(list[0]);
      const hash = typeof content.hash === "string" ? content.hash : state.kernelHash;
      if (bytes && hash) supplyWasm(hash, bytes.slice());
      else fail(state, new Error("huntglass: hg:kernel message without a hash or a binary buffer"));
      break;
    }
    case "hg:data":
      onData(state, content, list);
      break;
    case "hg:error":
      fail(state, new Error(typeof content.message === "string" ? content.message : "huntglass: the kernel reported an error"));
      break;
    default:
      break; // other messages belong to the widget (or a newer protocol): not ours
  }
}

/**
 * Starts the protocol for `model` (idempotent; called from `initialize`): listens for kernel
 * messages, then sends `hg:hello`, asking for the wasm (and, for a widget that runs operations,
 * the engines' module) only when no model on this page has yet.
 */
export function attachModel(model: AnyModel): void {
  if (states.has(model)) return;
  let resolve!: (data: Map<string, Uint8Array>) => void;
  let reject!: (error: Error) => void;
  const data = new Promise<Map<string, Uint8Array>>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  data.catch(() => undefined); // reported by requestData's callers, not as an unhandled rejection
  const state: ModelState = {
    data,
    resolve,
    reject,
    settled: false,
    expected: [],
    assemblies: new Map(),
    done: new Map(),
    progress: new Set(),
    lastProgress: new Map(),
    hash: null,
    kernelHash: null,
    listener: (msg: unknown, buffers: unknown) => onMessage(state, msg, buffers),
  };
  states.set(model, state);
  model.on("msg:custom", state.listener);
  let needWasm = false;
  let needKernel = false;
  try {
    state.expected = datasetsOf(model);
    for (const info of state.expected) {
      if (info.chunks === 0) state.done.set(info.name, new Uint8Array(0)); // no chunk will come
    }
    state.hash = wasmHashOf(model);
    needWasm = reserveModule(state.hash);
    state.kernelHash = kernelHashOf(model);
    if (state.kernelHash !== null) needKernel = reserveModule(state.kernelHash);
  } catch (error) {
    fail(state, error instanceof Error ? error : new Error(String(error)));
    return;
  }
  model.send({ type: "hg:hello", need_wasm: needWasm, need_kernel: needKernel });
  finishIfComplete(state); // a widget with no data sets is complete at once
}

/** Stops listening for `model`'s messages (the assembled data stay cached for new views). */
export function detachModel(model: AnyModel): void {
  const state = states.get(model);
  if (state) model.off("msg:custom", state.listener);
}

/**
 * The model's data sets (name -> Arrow IPC stream bytes), once all their chunks arrived. Cached
 * per model: every view gets the same promise. `onProgress` hears every chunk from now on (and
 * the latest count of each data set right away).
 */
export function requestData(
  model: AnyModel,
  onProgress?: (p: DataProgress) => void,
): Promise<Map<string, Uint8Array>> {
  attachModel(model);
  const state = states.get(model) as ModelState;
  if (onProgress && !state.settled) {
    state.progress.add(onProgress);
    for (const progress of state.lastProgress.values()) onProgress(progress);
    const remove = (): void => {
      state.progress.delete(onProgress);
    };
    state.data.then(remove, remove);
  }
  return state.data;
}

/** Stops reporting progress to `onProgress` (a view went away before the data arrived). */
export function stopProgress(model: AnyModel, onProgress: (p: DataProgress) => void): void {
  states.get(model)?.progress.delete(onProgress);
}

/** Counts one completed first paint of a view in the model's `rendered` traitlet (tests wait on it). */
export function countFirstPaint(model: AnyModel): void {
  const rendered = model.get("rendered");
  model.set("rendered", (typeof rendered === "number" ? rendered : 0) + 1);
  model.save_changes();
}
