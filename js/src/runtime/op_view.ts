/**
 * What the widgets that run the engines in the page (IocView, DecodeView, SessionRarity) load
 * before they build, in parallel: the visualization module's tables (`ArrowTable` of hg_wasm),
 * the engines' module (`runOp` of hg_kernel.wasm, runtime/kernel.ts) and the model's data sets.
 */

import { loadKernel, type HgKernel } from "./kernel.js";
import type { DataProgress } from "./types.js";
import type { ViewLifecycle } from "./view.js";
import { loadTables } from "./wasm.js";
import type { TablesApi } from "./wasm_api.js";

/** The modules and data an operations widget builds from. */
export interface OpInputs {
  tables: TablesApi;
  kernel: HgKernel;
  datasets: Map<string, Uint8Array>;
}

/** Loads the tables, the engines' module and the data sets (`onProgress` hears of the chunks). */
export async function loadOpInputs(life: ViewLifecycle, onProgress: (p: DataProgress) => void, widget: string): Promise<OpInputs> {
  // requestData first: it sends hg:hello (if initialize did not), which reserves the modules the loaders await.
  const data = life.requestData(onProgress);
  const [tables, kernel, datasets] = await Promise.all([loadTables(life.model, widget), loadKernel(life.model), data]);
  return { tables, kernel, datasets };
}

/** The bytes of the data set the spec names; an error names it and the data sets that arrived. */
export function specDataset(inputs: OpInputs, name: string, widget: string): Uint8Array {
  const bytes = inputs.datasets.get(name);
  if (!bytes) {
    const received = [...inputs.datasets.keys()].join(", ") || "none";
    throw new Error(`huntglass ${widget}: spec names data set "${name}" but none arrived (received: ${received})`);
  }
  return bytes;
}
