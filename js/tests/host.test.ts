import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { beforeEach, describe, it } from "node:test";
import { chunkCount, createHostModel, decodeBase64, loadBytes, looksLikeBase64, wasmHash } from "../src/runtime/host.js";
import { HG_CHUNK_BYTES, requestData } from "../src/runtime/protocol.js";
import { compiledModule } from "../src/runtime/wasm.js";
import { emptyWasm, patternBytes, resetHuntglassGlobal } from "./fakes.js";

type Received = { content: Record<string, unknown>; buffers: DataView[] };

function record(model: ReturnType<typeof createHostModel>): Received[] {
  const received: Received[] = [];
  model.on("msg:custom", (content: Record<string, unknown>, buffers: DataView[]) => received.push({ content, buffers }));
  return received;
}

async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !predicate(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(predicate(), "condition not reached");
}

describe("standalone host model", () => {
  beforeEach(resetHuntglassGlobal);

  it("answers hg:hello like Python: wasm when asked, then <= 8 MiB chunks in order", async () => {
    const big = patternBytes(2 * HG_CHUNK_BYTES + 1234);
    const small = new Uint8Array([1, 2, 3]);
    const model = createHostModel(
      {
        _wasm_hash: "h1",
        _datasets: [
          { name: "Big", chunks: 3, bytes: big.byteLength, rows: 10 },
          { name: "Small", chunks: 1, bytes: 3, rows: 1 },
        ],
      },
      { wasm: async () => emptyWasm(), datasets: { Big: async () => big, Small: async () => small } },
    );
    const received = record(model);
    model.send({ type: "hg:hello", need_wasm: true });
    assert.equal(received.length, 0, "answers asynchronously, never inside send()");
    await until(() => received.length === 5);
    assert.deepEqual(
      received.map((r) => r.content),
      [
        { type: "hg:wasm", hash: "h1" },
        { type: "hg:data", name: "Big", index: 0, count: 3 },
        { type: "hg:data", name: "Big", index: 1, count: 3 },
        { type: "hg:data", name: "Big", index: 2, count: 3 },
        { type: "hg:data", name: "Small", index: 0, count: 1 },
      ],
    );
    for (const r of received) {
      assert.equal(r.buffers.length, 1);
      assert.ok(r.buffers[0] instanceof DataView, "buffers arrive as DataView, as from a kernel");
      assert.ok((r.buffers[0] as DataView).byteLength <= HG_CHUNK_BYTES);
    }
    assert.deepEqual(
      received.slice(1, 4).map((r) => r.buffers[0]?.byteLength),
      [HG_CHUNK_BYTES, HG_CHUNK_BYTES, 1234],
    );
  });

  it("sends an empty data set as one empty chunk, as Python does", async () => {
    const model = createHostModel(
      { _wasm_hash: "h1", _datasets: [{ name: "E", chunks: 1, bytes: 0, rows: 0 }] },
      { wasm: async () => emptyWasm(), datasets: { E: async () => new Uint8Array(0) } },
    );
    const data = await requestData(model);
    assert.equal(data.get("E")?.byteLength, 0);
  });

  it("sends no wasm when not asked", async () => {
    const model = createHostModel(
      { _wasm_hash: "h1", _datasets: [{ name: "S", chunks: 1, bytes: 1, rows: 1 }] },
      { wasm: async () => assert.fail("wasm must not be loaded"), datasets: { S: async () => new Uint8Array([5]) } },
    );
    const received = record(model);
    model.send({ type: "hg:hello", need_wasm: false });
    await until(() => received.length === 1);
    assert.deepEqual(received[0]?.content, { type: "hg:data", name: "S", index: 0, count: 1 });
  });

  it("sends the engines' module after the wasm when asked, and names a missing one", async () => {
    const kernelBytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 0, 3, 1, 2, 3]);
    const model = createHostModel(
      { _wasm_hash: "h1", _kernel_hash: "k1", _datasets: [{ name: "S", chunks: 1, bytes: 1, rows: 1 }] },
      { wasm: async () => emptyWasm(), kernel: async () => kernelBytes, datasets: { S: async () => new Uint8Array([5]) } },
    );
    const received = record(model);
    model.send({ type: "hg:hello", need_wasm: true, need_kernel: true });
    await until(() => received.length === 3);
    assert.deepEqual(received.map((r) => r.content.type), ["hg:wasm", "hg:kernel", "hg:data"]);
    assert.deepEqual(received[1]?.content, { type: "hg:kernel", hash: "k1" });
    assert.deepEqual(new Uint8Array((received[1]?.buffers[0] as DataView).buffer), kernelBytes);

    const noKernel = createHostModel({ _wasm_hash: "h1", _kernel_hash: "k1", _datasets: [] }, { wasm: async () => emptyWasm(), datasets: {} });
    const got = record(noKernel);
    noKernel.send({ type: "hg:hello", need_wasm: false, need_kernel: true });
    await until(() => got.length === 1);
    assert.equal(got[0]?.content.type, "hg:error");
    assert.match(String(got[0]?.content.message), /pass `kernel`/);

    const notAsked = createHostModel({ _wasm_hash: "h1", _datasets: [] }, { wasm: async () => emptyWasm(), kernel: async () => assert.fail("kernel must not be loaded"), datasets: {} });
    const none = record(notAsked);
    notAsked.send({ type: "hg:hello", need_wasm: true, need_kernel: false });
    await until(() => none.length === 1);
    assert.equal(none[0]?.content.type, "hg:wasm");
  });

  it("answers hg:error naming a data set without bytes or a failing source", async () => {
    const missing = createHostModel(
      { _wasm_hash: "h", _datasets: [{ name: "Nope", chunks: 1, bytes: 1, rows: 1 }] },
      { wasm: async () => emptyWasm(), datasets: {} },
    );
    const a = record(missing);
    missing.send({ type: "hg:hello", need_wasm: false });
    await until(() => a.length === 1);
    assert.deepEqual(a[0]?.content, { type: "hg:error", message: 'huntglass: no bytes were given for data set "Nope"' });

    const failing = createHostModel({ _wasm_hash: "h", _datasets: [] }, {
      wasm: async () => {
        throw new Error("wasm download failed: HTTP 404");
      },
      datasets: {},
    });
    const b = record(failing);
    failing.send({ type: "hg:hello", need_wasm: true });
    await until(() => b.length === 1);
    assert.deepEqual(b[0]?.content, { type: "hg:error", message: "wasm download failed: HTTP 404" });
  });

  it("feeds the protocol end to end: same bytes back, wasm compiled", async () => {
    const bytes = patternBytes(HG_CHUNK_BYTES + 17);
    const model = createHostModel(
      { _wasm_hash: "h2", _datasets: [{ name: "P", chunks: chunkCount(bytes.byteLength), bytes: bytes.byteLength, rows: 1 }] },
      { wasm: async () => emptyWasm(), datasets: { P: async () => bytes } },
    );
    const progress: string[] = [];
    const data = await requestData(model, (p) => progress.push(`${p.name}: ${p.received}/${p.total}`));
    assert.deepEqual(progress, ["P: 1/2", "P: 2/2"]);
    assert.deepEqual(data.get("P"), bytes);
    assert.ok((await compiledModule("h2")) instanceof WebAssembly.Module);
  });

  it("implements get/set/save_changes/on/off with change events", () => {
    const saved: Record<string, unknown>[] = [];
    const model = createHostModel({ a: 1 }, { wasm: async () => emptyWasm(), datasets: {} }, { onSave: (c) => saved.push(c) });
    const seen: unknown[] = [];
    const listener = () => seen.push(model.get("a"));
    model.on("change:a", listener);
    model.set("a", 2);
    model.set("a", 2); // unchanged: no event
    model.set("b", { x: [1] });
    model.set("b", { x: [1] }); // structurally equal: no event, not unsaved again
    assert.deepEqual(seen, [2]);
    model.save_changes();
    model.save_changes(); // nothing new
    assert.deepEqual(saved, [{ a: 2, b: { x: [1] } }]);
    model.off("change:a", listener);
    model.set("a", 3);
    assert.deepEqual(seen, [2]);
  });
});

describe("bytes inputs of mountStandalone", () => {
  it("decodes base64 and data: URLs locally", async () => {
    assert.deepEqual([...decodeBase64("AGFzbQEAAAA=")], [...emptyWasm()]);
    assert.deepEqual([...(await loadBytes("AGFz\nbQEAAAA=", "x"))], [...emptyWasm()]);
    assert.deepEqual([...(await loadBytes("data:application/wasm;base64,AGFzbQEAAAA=", "x"))], [...emptyWasm()]);
    assert.deepEqual([...(await loadBytes("data:text/plain,a%20b", "x"))], [97, 32, 98]);
    assert.throws(() => decodeBase64("abc"), /not valid base64/);
  });

  it("tells base64 from URLs", () => {
    assert.equal(looksLikeBase64("/////w8AAAA="), true, "an Arrow stream's base64 starts with /");
    assert.equal(looksLikeBase64("Processes.arrow"), false);
    assert.equal(looksLikeBase64("./data/Processes.arrow"), false);
    assert.equal(looksLikeBase64("http://127.0.0.1:1/x"), false);
    assert.equal(looksLikeBase64("/static/hg_wasm_bg.wasm"), false);
  });

  it("fetches URLs and names the failing one", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/ok.arrow") {
        res.writeHead(200).end(Buffer.from([1, 2, 3]));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      assert.deepEqual([...(await loadBytes(`http://127.0.0.1:${port}/ok.arrow`, "data set"))], [1, 2, 3]);
      await assert.rejects(
        loadBytes(`http://127.0.0.1:${port}/missing.arrow`, 'data set "P"'),
        /fetching data set "P" from http:\/\/127\.0\.0\.1:\d+\/missing\.arrow failed: HTTP 404/,
      );
    } finally {
      server.close();
    }
  });

  it("hashes wasm as static/VERSION does (sha256, first 16 hex digits)", async () => {
    const bytes = patternBytes(1000);
    const expected = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
    assert.equal(await wasmHash(bytes), expected);
  });

  it("counts chunks as Python does", () => {
    assert.equal(chunkCount(0), 1, "an empty stream still goes as one (empty) chunk");
    assert.equal(chunkCount(1), 1);
    assert.equal(chunkCount(HG_CHUNK_BYTES), 1);
    assert.equal(chunkCount(HG_CHUNK_BYTES + 1), 2);
  });
});
