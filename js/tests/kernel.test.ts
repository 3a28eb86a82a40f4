/**
 * The browser runtime's C-ABI wrapper (runtime/kernel.ts) against a tiny hand-assembled module
 * with hg_kernel's exports, so the paths the real kernel rarely takes are covered: an operation
 * error, a trap (the instance is replaced and the next call works), a module of another ABI
 * version or without the exports, the per-page cache and a model without `_kernel_hash`.
 * (The real hg_kernel.wasm runs the shared IoC corpus in ioc_view_wasm.test.ts.)
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { instantiateKernel, kernelFor, kernelHashOf, loadKernel } from "../src/runtime/kernel.js";
import { supplyWasm } from "../src/runtime/wasm.js";
import { FakeModel, resetHuntglassGlobal } from "./fakes.js";

const I32 = 0x7f;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...leb(bytes.length), ...bytes];
}

/**
 * A module with hg_kernel's exports: `hg_call` traps when the name is 4 bytes long and returns the
 * name length as the handle; status is 1 (operation error) for handle 3, else 0; every result's
 * bytes are `{}` at address 0.
 */
function fakeKernel(abiVersion = 1, omit = ""): Uint8Array<ArrayBuffer> {
  const funcs: [string, number, number[]][] = [
    ["hg_abi_version", 0, [0x41, abiVersion]],
    ["hg_alloc", 1, [0x41, 0x80, 0x08]], // 1024
    ["hg_free", 2, [0x41, 0x00]],
    ["hg_call", 3, [0x20, 0x01, 0x41, 0x04, 0x46, 0x04, 0x40, 0x00, 0x0b, 0x20, 0x01]],
    ["hg_ops_list", 0, [0x41, 0x01]],
    ["hg_result_status", 1, [0x20, 0x00, 0x41, 0x03, 0x46]],
    ["hg_result_ptr", 1, [0x41, 0x00]],
    ["hg_result_len", 1, [0x41, 0x02]],
    ["hg_result_free", 1, [0x41, 0x00]],
  ];
  const types = [
    [0x60, 0, 1, I32],
    [0x60, 1, I32, 1, I32],
    [0x60, 2, I32, I32, 1, I32],
    [0x60, 6, I32, I32, I32, I32, I32, I32, 1, I32],
  ];
  const exported = funcs.map(([n], i) => [n, i] as const).filter(([n]) => n !== omit);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [types.length, ...types.flat()]),
    ...section(3, [funcs.length, ...funcs.map(([, t]) => t)]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [...leb(exported.length + 1), ...name("memory"), 0x02, 0, ...exported.flatMap(([n, i]) => [...name(n), 0x00, i])]),
    ...section(10, [funcs.length, ...funcs.flatMap(([, , body]) => {
      const code = [0x00, ...body, 0x0b];
      return [...leb(code.length), ...code];
    })]),
    ...section(11, [1, 0x00, 0x41, 0x00, 0x0b, 2, 0x7b, 0x7d]),
  ];
  return new Uint8Array(bytes);
}

describe("kernel runtime (C ABI wrapper)", () => {
  beforeEach(resetHuntglassGlobal);

  it("runs operations, turns an operation error into an Error with its message, lists operations", async () => {
    const kernel = await instantiateKernel(await WebAssembly.compile(fakeKernel()), "fake");
    assert.deepEqual([...kernel.runOp("ok", { a: 1 }, new Uint8Array([1, 2, 3]))], [0x7b, 0x7d]);
    assert.deepEqual([...kernel.runOp("okay!", "", new Uint8Array(0))], [0x7b, 0x7d]);
    assert.throws(() => kernel.runOp("bad", {}, new Uint8Array(1)), (e: unknown) => e instanceof Error && e.message === "{}");
    assert.deepEqual(kernel.opsList(), {});
    assert.throws(() => kernel.runOp("ok", {}, [1, 2] as unknown as Uint8Array), /must be a Uint8Array/);
  });

  it("runOpWith lends the output as a view for one callback, frees it, and refuses calls from inside", async () => {
    const kernel = await instantiateKernel(await WebAssembly.compile(fakeKernel()), "fake");
    const copied = kernel.runOpWith("ok", { a: 1 }, new Uint8Array([1, 2, 3]), (output) => {
      assert.equal(output.buffer.byteLength, 65536, "a view over the module's one-page memory, not a copy");
      return [...output];
    });
    assert.deepEqual(copied, [0x7b, 0x7d]);
    assert.throws(
      () => kernel.runOpWith("ok", {}, new Uint8Array(1), () => kernel.runOp("ok", {}, new Uint8Array(1))),
      /runOp\("ok"\) was called from inside runOpWith's callback/,
    );
    assert.throws(() => kernel.runOpWith("bad", {}, new Uint8Array(1), () => assert.fail("not called on an operation error")), (e: unknown) => e instanceof Error && e.message === "{}");
    // The callback's own error passes through; the kernel is usable afterwards.
    assert.throws(() => kernel.runOpWith("ok", {}, new Uint8Array(1), () => { throw new RangeError("mine"); }), RangeError);
    assert.deepEqual([...kernel.runOp("ok", {}, new Uint8Array(1))], [0x7b, 0x7d]);
    assert.deepEqual(kernel.opsList(), {});
    assert.throws(() => kernel.runOpWith("ok", {}, new Uint8Array(1), undefined as unknown as (o: Uint8Array) => void), /needs a function/);
  });

  it("replaces the instance after a trap; the next call works", async () => {
    const kernel = await instantiateKernel(await WebAssembly.compile(fakeKernel()), "fake");
    assert.throws(() => kernel.runOp("trap", {}, new Uint8Array(1)), /kernel module trapped in runOp\("trap"\).*reset for the next call/);
    assert.deepEqual([...kernel.runOp("ok", {}, new Uint8Array(1))], [0x7b, 0x7d]);
  });

  it("refuses a module of another ABI version or without the exports", async () => {
    await assert.rejects(instantiateKernel(await WebAssembly.compile(fakeKernel(2)), "v2"), /speaks ABI version 2, this bundle speaks 1/);
    await assert.rejects(instantiateKernel(await WebAssembly.compile(fakeKernel(1, "hg_call")), "x"), /is not hg_kernel.wasm: it lacks hg_call/);
  });

  it("instantiates once per hash per page, from the module cache the protocol fills", async () => {
    supplyWasm("k1", fakeKernel());
    const [a, b] = await Promise.all([kernelFor("k1"), kernelFor("k1")]);
    assert.equal(a, b);
    assert.equal(a.hash, "k1");
    assert.equal(await loadKernel(new FakeModel({ _kernel_hash: "k1" })), a);
    await assert.rejects(loadKernel(new FakeModel({})), /no _kernel_hash .*pass `kernel` to mountStandalone/);
    await assert.rejects(loadKernel(new FakeModel({ _kernel_hash: 3 })), /_kernel_hash must be a string/);
    assert.equal(kernelHashOf(new FakeModel({ _kernel_hash: "" })), null);
    await assert.rejects(kernelFor("never"), /no wasm module was requested for hash never/);
  });
});
