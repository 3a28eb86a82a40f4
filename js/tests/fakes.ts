/** Test doubles shared by the JS unit tests (no DOM in node). */
import type { AnyModel, ModelCallback } from "../src/runtime/types.js";

/** A model that records what the widget sends and lets the test play the kernel. */
export class FakeModel implements AnyModel {
  values: Record<string, unknown>;
  sent: { content: unknown; buffers: unknown }[] = [];
  saves = 0;
  private listeners = new Map<string, Set<ModelCallback>>();

  constructor(values: Record<string, unknown>) {
    this.values = { ...values };
  }
  get(key: string): unknown {
    return this.values[key];
  }
  set(key: string, value: unknown): void {
    this.values[key] = value;
    for (const cb of this.listeners.get(`change:${key}`) ?? []) cb();
  }
  save_changes(): void {
    this.saves += 1;
  }
  on(event: string, callback: ModelCallback): void {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)?.add(callback);
  }
  off(event?: string | null, callback?: ModelCallback | null): void {
    if (event && callback) this.listeners.get(event)?.delete(callback);
    else if (event) this.listeners.delete(event);
  }
  send(content: unknown, _callbacks?: unknown, buffers?: unknown): void {
    this.sent.push({ content, buffers });
  }
  /** Plays a kernel message. */
  deliver(content: Record<string, unknown>, buffers: (DataView | Uint8Array)[] = []): void {
    for (const cb of [...(this.listeners.get("msg:custom") ?? [])]) cb(content, buffers);
  }
  listenerCount(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}

/** The smallest valid wasm module (magic and version only), plus a byte that differs per call site. */
export function emptyWasm(): Uint8Array {
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
}

/** Bytes 0..n-1 modulo 251 (a prime, so chunk boundaries never line up with the pattern). */
export function patternBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}

/** Resolves after pending timers and microtasks of the current turn have run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Clears the page-wide wasm cache between tests. */
export function resetHuntglassGlobal(): void {
  delete (globalThis as { __huntglass?: unknown }).__huntglass;
}
