import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { attachModel, concatChunks, datasetsOf, detachModel, HG_CHUNK_BYTES, requestData } from "../src/runtime/protocol.js";
import type { DataProgress } from "../src/runtime/types.js";
import { compiledModule, hasModule } from "../src/runtime/wasm.js";
import { emptyWasm, FakeModel, patternBytes, resetHuntglassGlobal, tick } from "./fakes.js";

function modelWith(datasets: { name: string; chunks: number }[], hash = "hash-a"): FakeModel {
  return new FakeModel({
    _kind: "timeline",
    _wasm_hash: hash,
    _datasets: datasets.map((d) => ({ ...d, bytes: 0, rows: 1 })),
  });
}

describe("concatChunks", () => {
  it("joins DataView and Uint8Array chunks in order, honouring offsets", () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const out = concatChunks([new DataView(backing.buffer, 2, 3), new Uint8Array([4, 5]), new Uint8Array(0)]);
    assert.deepEqual([...out], [1, 2, 3, 4, 5]);
  });

  it("returns an empty array for no chunks", () => {
    assert.equal(concatChunks([]).byteLength, 0);
  });
});

describe("datasetsOf", () => {
  it("validates names and chunk counts", () => {
    assert.throws(() => datasetsOf(new FakeModel({ _datasets: [{ name: 3, chunks: 1 }] })), /_datasets\[0\]\.name/);
    assert.throws(() => datasetsOf(new FakeModel({ _datasets: [{ name: "x", chunks: -1 }] })), /invalid chunk count -1/);
    assert.throws(() => datasetsOf(new FakeModel({ _datasets: "x" })), /must be a list/);
    assert.deepEqual(datasetsOf(new FakeModel({})), []);
  });
});

describe("hg:hello and data assembly", () => {
  beforeEach(resetHuntglassGlobal);

  it("sends one hello per model, asking for the wasm only once per hash", () => {
    const first = modelWith([]);
    const second = modelWith([]);
    attachModel(first);
    attachModel(first);
    attachModel(second);
    assert.deepEqual(first.sent.map((m) => m.content), [{ type: "hg:hello", need_wasm: true, need_kernel: false }]);
    assert.deepEqual(second.sent.map((m) => m.content), [{ type: "hg:hello", need_wasm: false, need_kernel: false }]);
    const other = modelWith([], "hash-b");
    attachModel(other);
    assert.deepEqual(other.sent[0]?.content, { type: "hg:hello", need_wasm: true, need_kernel: false });
  });

  it("assembles chunks that arrive out of order and reports progress", async () => {
    const model = modelWith([{ name: "Processes", chunks: 3 }, { name: "Alerts", chunks: 1 }]);
    const progress: DataProgress[] = [];
    const data = requestData(model, (p) => progress.push(p));
    const bytes = patternBytes(25);
    const chunk = (i: number) => bytes.subarray(i * 10, Math.min(25, (i + 1) * 10));
    model.deliver({ type: "hg:data", name: "Processes", index: 2, count: 3 }, [new DataView(chunk(2).slice().buffer)]);
    model.deliver({ type: "hg:data", name: "Alerts", index: 0, count: 1 }, [new Uint8Array([7, 7])]);
    model.deliver({ type: "hg:data", name: "Processes", index: 0, count: 3 }, [chunk(0).slice()]);
    let settled = false;
    void data.then(() => (settled = true));
    await tick();
    assert.equal(settled, false, "data must wait for every chunk");
    model.deliver({ type: "hg:data", name: "Processes", index: 1, count: 3 }, [chunk(1).slice()]);
    const result = await data;
    assert.deepEqual([...result.keys()], ["Processes", "Alerts"]);
    assert.deepEqual([...(result.get("Processes") ?? [])], [...bytes]);
    assert.deepEqual([...(result.get("Alerts") ?? [])], [7, 7]);
    assert.deepEqual(
      progress.map((p) => `${p.name} ${p.received}/${p.total}`),
      ["Processes 1/3", "Alerts 1/1", "Processes 2/3", "Processes 3/3"],
    );
  });

  it("copies chunk bytes so a reused kernel buffer cannot corrupt the data", async () => {
    const model = modelWith([{ name: "T", chunks: 2 }]);
    const data = requestData(model);
    const buffer = new Uint8Array([1, 2]);
    model.deliver({ type: "hg:data", name: "T", index: 0, count: 2 }, [buffer]);
    buffer[0] = 99;
    model.deliver({ type: "hg:data", name: "T", index: 1, count: 2 }, [new Uint8Array([3])]);
    assert.deepEqual([...((await data).get("T") ?? [])], [1, 2, 3]);
  });

  it("caches the data per model: a second view gets the same promise and the latest progress", async () => {
    const model = modelWith([{ name: "P", chunks: 2 }]);
    const first = requestData(model);
    model.deliver({ type: "hg:data", name: "P", index: 0, count: 2 }, [new Uint8Array([1])]);
    const late: string[] = [];
    const second = requestData(model, (p) => late.push(`${p.received}/${p.total}`));
    assert.equal(first, second);
    assert.deepEqual(late, ["1/2"]);
    model.deliver({ type: "hg:data", name: "P", index: 1, count: 2 }, [new Uint8Array([2])]);
    await first;
    assert.equal(model.sent.length, 1, "only one hello for the model");
  });

  it("ignores the re-sent data a second page's hello causes", async () => {
    const model = modelWith([{ name: "P", chunks: 1 }]);
    const data = requestData(model);
    model.deliver({ type: "hg:data", name: "P", index: 0, count: 1 }, [new Uint8Array([1])]);
    model.deliver({ type: "hg:data", name: "P", index: 0, count: 1 }, [new Uint8Array([2])]);
    assert.deepEqual([...((await data).get("P") ?? [])], [1]);
  });

  it("completes at once with no data sets, and for declared empty data sets", async () => {
    assert.equal((await requestData(modelWith([]))).size, 0);
    const empty = await requestData(modelWith([{ name: "E", chunks: 0 }]));
    assert.equal(empty.get("E")?.byteLength, 0);
  });

  it("rejects on hg:error with the kernel's message", async () => {
    const model = modelWith([{ name: "P", chunks: 1 }]);
    const data = requestData(model);
    model.deliver({ type: "hg:error", message: "column TimeGenerated is missing" });
    await assert.rejects(data, /column TimeGenerated is missing/);
  });

  it("rejects malformed chunks with a message naming the problem", async () => {
    const noBuffer = modelWith([{ name: "P", chunks: 1 }]);
    const a = requestData(noBuffer);
    noBuffer.deliver({ type: "hg:data", name: "P", index: 0, count: 1 }, []);
    await assert.rejects(a, /chunk 0 of "P" arrived without a binary buffer/);

    const badIndex = modelWith([{ name: "P", chunks: 1 }]);
    const b = requestData(badIndex);
    badIndex.deliver({ type: "hg:data", name: "P", index: 1, count: 1 }, [new Uint8Array(1)]);
    await assert.rejects(b, /chunk index 1 of 1/);

    const changed = modelWith([{ name: "P", chunks: 2 }]);
    const c = requestData(changed);
    changed.deliver({ type: "hg:data", name: "P", index: 0, count: 2 }, [new Uint8Array(1)]);
    changed.deliver({ type: "hg:data", name: "P", index: 1, count: 3 }, [new Uint8Array(1)]);
    await assert.rejects(c, /changed its chunk count from 2 to 3/);

    const big = modelWith([{ name: "P", chunks: 1 }]);
    const d = requestData(big);
    big.deliver({ type: "hg:data", name: "P", index: 0, count: 1 }, [new Uint8Array(HG_CHUNK_BYTES + 1)]);
    await assert.rejects(d, /over the 8388608-byte limit/);
  });

  it("rejects when the model has no wasm hash", async () => {
    const model = new FakeModel({ _datasets: [] });
    await assert.rejects(requestData(model), /no _wasm_hash/);
  });

  it("compiles the wasm from hg:wasm once for two models of the same hash", async () => {
    const first = modelWith([]);
    const second = modelWith([]);
    attachModel(first);
    attachModel(second);
    assert.equal(hasModule("hash-a"), true);
    first.deliver({ type: "hg:wasm", hash: "hash-a" }, [new DataView(emptyWasm().buffer)]);
    const [a, b] = await Promise.all([compiledModule("hash-a"), compiledModule("hash-a")]);
    assert.ok(a instanceof WebAssembly.Module);
    assert.equal(a, b);
    // A second delivery (another page's hello) does not recompile.
    second.deliver({ type: "hg:wasm", hash: "hash-a" }, [new Uint8Array([1, 2, 3])]);
    assert.equal(await compiledModule("hash-a"), a);
  });

  it("forgets a pending wasm on hg:error so the next hello asks again", async () => {
    const model = modelWith([]);
    attachModel(model);
    const pending = compiledModule("hash-a");
    model.deliver({ type: "hg:error", message: "boom" });
    await assert.rejects(pending, /boom/);
    assert.equal(hasModule("hash-a"), false);
    const again = modelWith([]);
    attachModel(again);
    assert.deepEqual(again.sent[0]?.content, { type: "hg:hello", need_wasm: true, need_kernel: false });
  });

  it("reports wasm bytes that do not compile", async () => {
    const model = modelWith([]);
    attachModel(model);
    model.deliver({ type: "hg:wasm", hash: "hash-a" }, [new Uint8Array([1, 2, 3, 4])]);
    await assert.rejects(compiledModule("hash-a"), /wasm module \(hash hash-a\) does not compile/);
    assert.equal(hasModule("hash-a"), false);
  });

  it("asks for the engines' module only for models with a _kernel_hash, once per hash", async () => {
    const timeline = modelWith([]);
    const ioc = new FakeModel({ _kind: "ioc_view", _wasm_hash: "hash-a", _kernel_hash: "kern-1", _datasets: [] });
    const ioc2 = new FakeModel({ _kind: "ioc_view", _wasm_hash: "hash-a", _kernel_hash: "kern-1", _datasets: [] });
    attachModel(timeline);
    attachModel(ioc);
    attachModel(ioc2);
    assert.deepEqual(timeline.sent[0]?.content, { type: "hg:hello", need_wasm: true, need_kernel: false });
    assert.deepEqual(ioc.sent[0]?.content, { type: "hg:hello", need_wasm: false, need_kernel: true });
    assert.deepEqual(ioc2.sent[0]?.content, { type: "hg:hello", need_wasm: false, need_kernel: false });
    assert.equal(hasModule("kern-1"), true);
    ioc.deliver({ type: "hg:kernel", hash: "kern-1" }, [new DataView(emptyWasm().buffer)]);
    assert.ok((await compiledModule("kern-1")) instanceof WebAssembly.Module);
  });

  it("fails a pending kernel module on hg:error and rejects a bad hg:kernel", async () => {
    const model = new FakeModel({ _wasm_hash: "hash-a", _kernel_hash: "kern-2", _datasets: [] });
    attachModel(model);
    const pending = compiledModule("kern-2");
    model.deliver({ type: "hg:error", message: "no kernel here" });
    await assert.rejects(pending, /no kernel here/);
    assert.equal(hasModule("kern-2"), false);
    const bad = new FakeModel({ _wasm_hash: "hash-a", _kernel_hash: "kern-3", _datasets: [{ name: "x", chunks: 1 }] });
    const data = requestData(bad);
    bad.deliver({ type: "hg:kernel", hash: "kern-3" }, []);
    await assert.rejects(data, /hg:kernel message without a hash or a binary buffer/);
    await assert.rejects(requestData(new FakeModel({ _wasm_hash: "hash-a", _kernel_hash: 7 })), /_kernel_hash must be a string/);
  });

  it("detachModel stops listening", () => {
    const model = modelWith([]);
    attachModel(model);
    assert.equal(model.listenerCount("msg:custom"), 1);
    detachModel(model);
    assert.equal(model.listenerCount("msg:custom"), 0);
  });
});
