/**
 * The part of the anywidget model API that huntglass uses (docs/CONTRACT.md). anywidget's own
 * model satisfies it, and so does the standalone host model (host.ts), so widget code never
 * knows whether a kernel is there.
 */

/** A listener registered with `on`; change listeners ignore their arguments and call `get`. */
export type ModelCallback = (...args: any[]) => void;

/** The model object handed to `initialize` and `render`. */
export interface AnyModel {
  /** Current value of a synced traitlet (untrusted shape: validate before use). */
  get(key: string): unknown;
  /** Sets a traitlet locally; `save_changes` sends the pending changes to the kernel. */
  set(key: string, value: unknown): void;
  /** Sends every pending `set` to the kernel. */
  save_changes(): void;
  /** `change:<name>` (a traitlet changed) or `msg:custom` (a message from the kernel). */
  on(event: string, callback: ModelCallback): void;
  /** Removes a listener registered with `on`. */
  off(event?: string | null, callback?: ModelCallback | null): void;
  /** Sends a custom message (with optional binary buffers) to the kernel. */
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
}

/** One entry of the `_datasets` traitlet: what data set is coming and in how many chunks. */
export interface DatasetInfo {
  name: string;
  chunks: number;
  bytes: number;
  rows: number | null;
}

/** Progress of one data set's chunks, reported while they arrive. */
export interface DataProgress {
  name: string;
  received: number;
  total: number;
}
