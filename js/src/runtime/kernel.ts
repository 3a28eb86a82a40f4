/**
 * The engines in the browser: `hg_kernel.wasm`, the very module the Python kernel runs through
 * wasmtime (crates/hg_kernel, a C ABI without wasm-bindgen and without imports), run here with
 * plain `WebAssembly.instantiate`. Only widgets that run operations load it (their model has a
 * `_kernel_hash`; `hg:hello` then says `need_kernel: true` and the kernel, or the standalone
 * host, answers `hg:kernel` with the bytes), so a page of Timelines never downloads or compiles
 * the engines.
 *
 * Compiled once per page: the `WebAssembly.Module` is cached on `globalThis.__huntglass.modules`
 * keyed by its content hash (the same cache as the visualization module's, wasm.ts: keys are
 * content hashes, so the two never collide), and one instance per hash is shared by every widget
 * and bundle copy on the page (`globalThis.__huntglass.kernels`). An instance is single-threaded
 * and calls are synchronous, so calls never interleave.
 *
 * ABI (version 1, crates/hg_kernel/src/lib.rs): `hg_alloc` a buffer per part (name, JSON
 * options, Arrow IPC input), write them through the exported memory, `hg_call` returns a result
 * handle; `hg_result_status` is 0 (bytes = output), 1 (bytes = the operation's UTF-8 error) or
 * 2 (bytes = UTF-8 message: the call broke the ABI); read `hg_result_ptr`/`hg_result_len`, then
 * `hg_result_free` and `hg_free`. A trap (a kernel bug, or wasm32's 4 GiB memory exhausted)
 * discards the instance; the next call makes a new one from the cached module, as
 * `huntglass._kernel` does.
 */

import type { AnyModel } from "./types.js";
import { compiledModule } from "./wasm.js";

/** The ABI version this wrapper speaks (`hg_abi_version`). */
export const KERNEL_ABI_VERSION = 1;

const STATUS_OK = 0;
const STATUS_OP_ERROR = 1;
const STATUS_BAD_CALL = 2;

/** The exports of hg_kernel.wasm (wasm i32 arguments and results are JS numbers). */
interface KernelExports {
  memory: WebAssembly.Memory;
  hg_abi_version(): number;
  hg_alloc(len: number): number;
  hg_free(ptr: number, len: number): number;
  hg_call(namePtr: number, nameLen: number, optsPtr: number, optsLen: number, inputPtr: number, inputLen: number): number;
  hg_ops_list(): number;
  hg_result_status(handle: number): number;
  hg_result_ptr(handle: number): number;
  hg_result_len(handle: number): number;
  hg_result_free(handle: number): number;
}

const REQUIRED_EXPORTS = [
  "hg_abi_version",
  "hg_alloc",
  "hg_free",
  "hg_call",
  "hg_ops_list",
  "hg_result_status",
  "hg_result_ptr",
  "hg_result_len",
  "hg_result_free",
] as const;

/** Options of an operation: an object (sent as JSON) or JSON text ("" means all defaults). */
export type OpOptions = Record<string, unknown> | string;

/** One operation of `opsList()`. */
export interface OpDescription {
  name: string;
  description: string;
  input: string;
  output: string;
  options: { name: string; type: string; required: boolean; default: unknown; description: string }[];
}

/** The engines' operation registry, running in this page. */
export interface HgKernel {
  /**
   * Runs operation `name` on `ipc` (one Arrow IPC stream) with `options`; returns its output
   * stream. Throws an `Error` carrying the Rust message (unknown operation and the known ones,
   * bad option, missing column and the columns that exist, bytes that are not IPC).
   */
  runOp(name: string, options: OpOptions, ipc: Uint8Array): Uint8Array;
  /**
   * Like `runOp`, but hands the output to `use` as a view over the module's memory instead of
   * copying it out, and returns what `use` returns. The view is valid only while `use` runs (the
   * result is freed afterwards) and `use` must not call this kernel (a call from inside throws).
   * For callers that consume the output at once, e.g. `(out) => new ArrowTable(out)`, which
   * copies it into another module anyway: it saves allocating and filling a fresh buffer of the
   * output's size (for 2.3 MB of IoC rows about a tenth of the whole call in Chromium).
   */
  runOpWith<T>(name: string, options: OpOptions, ipc: Uint8Array, use: (output: Uint8Array) => T): T;
  /** The registry's operations with their options (`hg_ops_list`). */
  opsList(): { operations: OpDescription[] };
  /** The content hash this instance was compiled from. */
  readonly hash: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function checkExports(exports: WebAssembly.Exports, hash: string): KernelExports {
  const missing = REQUIRED_EXPORTS.filter((name) => typeof exports[name] !== "function");
  if (!(exports.memory instanceof WebAssembly.Memory)) missing.unshift("memory" as never);
  if (missing.length > 0) {
    throw new Error(`huntglass: the kernel module (hash ${hash}) is not hg_kernel.wasm: it lacks ${missing.join(", ")}`);
  }
  const typed = exports as unknown as KernelExports;
  const version = typed.hg_abi_version() >>> 0;
  if (version !== KERNEL_ABI_VERSION) {
    throw new Error(`huntglass: the kernel module (hash ${hash}) speaks ABI version ${version}, this bundle speaks ${KERNEL_ABI_VERSION}: rebuild both (make build)`);
  }
  return typed;
}

/** The kernel over one compiled module; re-instantiates after a trap. */
class Kernel implements HgKernel {
  private exports: KernelExports | null;
  /** Set while `runOpWith`'s `use` holds a view into the module's memory. */
  private lending = false;

  constructor(
    private readonly module: WebAssembly.Module,
    instance: WebAssembly.Instance,
    readonly hash: string,
  ) {
    this.exports = checkExports(instance.exports, hash);
  }

  private live(): KernelExports {
    // After a trap: a fresh instance from the cached module (no compile; instantiating a module
    // without imports is cheap).
    this.exports ??= checkExports(new WebAssembly.Instance(this.module, {}).exports, this.hash);
    return this.exports;
  }

  /** Runs `body` against the instance; a trap discards the instance and names what happened. */
  private guarded<T>(what: string, body: (k: KernelExports) => T): T {
    if (this.lending) {
      throw new Error(`huntglass: ${what} was called from inside runOpWith's callback: finish with its output view first`);
    }
    const k = this.live();
    try {
      return body(k);
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) {
        this.exports = null;
        throw new Error(`huntglass: the kernel module trapped in ${what} (${error.message}); it was reset for the next call`);
      }
      throw error;
    }
  }

  /** Copies `bytes` into a fresh kernel buffer; returns its pointer (0 for no bytes). */
  private put(k: KernelExports, bytes: Uint8Array, owned: [number, number][], what: string): number {
    if (bytes.byteLength === 0) return 0;
    const ptr = k.hg_alloc(bytes.byteLength) >>> 0;
    if (ptr === 0) throw new Error(`huntglass: the kernel could not allocate ${bytes.byteLength} bytes for the ${what} (wasm memory exhausted)`);
    owned.push([ptr, bytes.byteLength]);
    // A view made after the allocation: growing memory detaches older views.
    new Uint8Array(k.memory.buffer, ptr, bytes.byteLength).set(bytes);
    return ptr;
  }

  /**
   * Reads and releases a result: `use(status, view)`'s value, the view over the module's memory
   * valid only during `use` (no kernel calls meanwhile: `lending` refuses them).
   */
  private take<T>(k: KernelExports, handle: number, use: (status: number, view: Uint8Array) => T): T {
    try {
      const status = k.hg_result_status(handle);
      const ptr = k.hg_result_ptr(handle) >>> 0;
      const len = k.hg_result_len(handle) >>> 0;
      this.lending = true;
      try {
        return use(status, new Uint8Array(k.memory.buffer, ptr, len));
      } finally {
        this.lending = false;
      }
    } finally {
      k.hg_result_free(handle);
    }
  }

  runOp(name: string, options: OpOptions, ipc: Uint8Array): Uint8Array {
    return this.runOpWith(name, options, ipc, (output) => output.slice());
  }

  runOpWith<T>(name: string, options: OpOptions, ipc: Uint8Array, use: (output: Uint8Array) => T): T {
    if (typeof name !== "string" || name === "") throw new Error("huntglass: runOp needs an operation name");
    if (!(ipc instanceof Uint8Array)) throw new Error(`huntglass: runOp("${name}"): the input must be a Uint8Array of Arrow IPC stream bytes`);
    if (typeof use !== "function") throw new Error(`huntglass: runOpWith("${name}") needs a function that takes the output`);
    const optionsText = typeof options === "string" ? options : JSON.stringify(options ?? {});
    const parts = [encoder.encode(name), encoder.encode(optionsText), ipc] as const;
    return this.guarded(`runOp("${name}")`, (k) => {
      const owned: [number, number][] = [];
      try {
        const namePtr = this.put(k, parts[0], owned, "operation name");
        const optsPtr = this.put(k, parts[1], owned, "options");
        const inputPtr = this.put(k, parts[2], owned, "input");
        const handle = k.hg_call(namePtr, parts[0].byteLength, optsPtr, parts[1].byteLength, inputPtr, parts[2].byteLength);
        return this.take(k, handle, (status, output) => {
          if (status === STATUS_OK) return use(output);
          if (status === STATUS_OP_ERROR) throw new Error(decoder.decode(output));
          if (status === STATUS_BAD_CALL) throw new Error(`huntglass: internal error calling the kernel: ${decoder.decode(output)}`);
          throw new Error(`huntglass: the kernel returned unknown status ${status} for runOp("${name}")`);
        });
      } finally {
        for (const [ptr, len] of owned) k.hg_free(ptr, len);
      }
    });
  }

  opsList(): { operations: OpDescription[] } {
    return this.guarded("opsList()", (k) =>
      this.take(k, k.hg_ops_list(), (status, bytes) => {
        if (status !== STATUS_OK) throw new Error(`huntglass: hg_ops_list failed with status ${status}: ${decoder.decode(bytes)}`);
        return JSON.parse(decoder.decode(bytes)) as { operations: OpDescription[] };
      }),
    );
  }
}

interface KernelGlobal {
  kernels: Record<string, Promise<HgKernel>>;
}

function kernels(): Record<string, Promise<HgKernel>> {
  const holder = globalThis as { __huntglass?: Partial<KernelGlobal> };
  const existing = holder.__huntglass ?? (holder.__huntglass = {});
  existing.kernels ??= {};
  return existing.kernels;
}

/** The model's `_kernel_hash`, or null when its widget runs no operations. */
export function kernelHashOf(model: AnyModel): string | null {
  const hash = model.get("_kernel_hash");
  if (hash === undefined || hash === null || hash === "") return null;
  if (typeof hash !== "string") throw new Error("huntglass: _kernel_hash must be a string");
  return hash;
}

/** Instantiates a compiled hg_kernel module (checks its exports and ABI version). */
export async function instantiateKernel(module: WebAssembly.Module, hash: string): Promise<HgKernel> {
  const instance = await WebAssembly.instantiate(module, {});
  return new Kernel(module, instance, hash);
}

/**
 * The page's kernel for `hash`: waits for the compiled module (requested by `hg:hello` with
 * `need_kernel`, or supplied directly) and instantiates it once per page.
 */
export function kernelFor(hash: string): Promise<HgKernel> {
  const cache = kernels();
  let kernel = cache[hash];
  if (!kernel) {
    const created = compiledModule(hash).then((module) => instantiateKernel(module, hash));
    created.catch(() => {
      if (cache[hash] === created) delete cache[hash];
    });
    cache[hash] = created;
    kernel = created;
  }
  return kernel;
}

/** The kernel of `model`'s widget (one that runs operations: its `_kernel_hash` is set). */
export function loadKernel(model: AnyModel): Promise<HgKernel> {
  let hash: string | null;
  try {
    hash = kernelHashOf(model);
  } catch (error) {
    return Promise.reject(error);
  }
  if (hash === null) {
    return Promise.reject(
      new Error("huntglass: this widget runs operations but its model has no _kernel_hash (the engines' module hg_kernel.wasm was not offered: pass `kernel` to mountStandalone, or update the Python package)"),
    );
  }
  return kernelFor(hash);
}
