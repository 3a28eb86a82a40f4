import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import type { HgWasmGlue } from "../src/runtime/wasm.js";
import { compiledModule, instantiate, loadWasm, registerGlue, reserveModule, supplyWasm } from "../src/runtime/wasm.js";
import type { TimelineChartApi } from "../src/runtime/wasm_api.js";
import { emptyWasm, FakeModel, resetHuntglassGlobal } from "./fakes.js";

/** A glue copy that records the modules it was initialized with. */
function fakeGlue() {
  const inits: WebAssembly.Module[] = [];
  const memory = new WebAssembly.Memory({ initial: 1 });
  const glue: HgWasmGlue = {
    default: async ({ module_or_path }) => {
      inits.push(module_or_path);
      return { memory };
    },
    TimelineChart: class {
      constructor(_spec: string) {}
    } as unknown as new (spec: string) => TimelineChartApi,
  };
  return { glue, inits, memory };
}

describe("wasm module cache", () => {
  beforeEach(resetHuntglassGlobal);

  it("reserves once per hash and shares the compiled module on globalThis", async () => {
    assert.equal(reserveModule("h"), true);
    assert.equal(reserveModule("h"), false);
    supplyWasm("h", emptyWasm());
    const module = await compiledModule("h");
    const global = (globalThis as unknown as { __huntglass: { modules: Record<string, { module: Promise<unknown> }> } }).__huntglass;
    assert.equal(await global.modules.h?.module, module);
  });

  it("instantiates each glue copy once per hash from the one compiled module", async () => {
    reserveModule("h");
    supplyWasm("h", emptyWasm());
    const a = fakeGlue();
    const b = fakeGlue();
    const [a1, a2, b1] = await Promise.all([instantiate(a.glue, "h"), instantiate(a.glue, "h"), instantiate(b.glue, "h")]);
    assert.equal(a1, a2);
    assert.notEqual(a1, b1);
    assert.equal(a.inits.length, 1);
    assert.equal(b.inits.length, 1);
    assert.equal(a.inits[0], b.inits[0], "both copies use the same compiled WebAssembly.Module");
    assert.equal(a1.memory, a.memory);
  });

  it("loadWasm waits for the model's hash and names a missing hash", async () => {
    const { glue } = fakeGlue();
    registerGlue(glue);
    await assert.rejects(loadWasm(new FakeModel({})), /no _wasm_hash/);
    await assert.rejects(loadWasm(new FakeModel({ _wasm_hash: "never" })), /no wasm module was requested for hash never/);
    reserveModule("k");
    const pending = loadWasm(new FakeModel({ _wasm_hash: "k" }));
    supplyWasm("k", emptyWasm());
    assert.equal((await pending).TimelineChart, glue.TimelineChart);
  });
});
