/**
 * The real engines' module (static/hg_kernel.wasm, the one the Python kernel runs) through the
 * browser runtime's C-ABI wrapper (runtime/kernel.ts), on inputs written by pyarrow (as Python
 * sends them), outputs read by the real visualization module's `ArrowTable` (js/pkg): every case of the shared corpus tests/cases/ioc runs through
 * `runOp("ioc.extract", ...)` and must give exactly what the Rust corpus test
 * (crates/hg_ops/tests/ioc_corpus.rs) demands of the native registry: the expected matches (type,
 * observable, canonical, byte span), nothing else when the case is exact, none of the absent ones.
 * Then the IocView's index over the same output, the columnar `ArrowTable` reader, the errors
 * (the Rust messages) . Skipped when the modules are not built,
 * except in CI.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { before, describe, it } from "node:test";
import { kernelFor, type HgKernel } from "../src/runtime/kernel.js";
import type { HgWasmGlue } from "../src/runtime/wasm.js";
import { instantiate, reserveModule, supplyWasm } from "../src/runtime/wasm.js";
import type { TablesApi } from "../src/runtime/wasm_api.js";
import { buildIndex, extractOptions, parseSpec, readExtractColumns, segmentText } from "../src/widgets/ioc_view.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const gluePath = `${root}js/pkg/hg_wasm.js`;
const wasmPath = `${root}js/pkg/hg_wasm_bg.wasm`;
const kernelPath = `${root}widgets/src/huntglass/static/hg_kernel.wasm`;
const casesDir = `${root}tests/cases/ioc`;
const python = `${root}.venv/bin/python`;
const built = existsSync(gluePath) && existsSync(wasmPath) && existsSync(kernelPath) && existsSync(python);
const skip = !built && process.env.CI !== "true" ? "js/pkg, static/hg_kernel.wasm or .venv is missing (make setup, make build)" : false;

/** One-column Utf8 tables written by pyarrow (IPC stream), in one Python run; keyed by `tableKey`. */
function pyarrowTables(requests: [string, string[]][]): Map<string, Uint8Array> {
  const script = [
    "import base64, json, sys",
    "import pyarrow as pa",
    "out = []",
    "for column, values in json.load(sys.stdin):",
    "    table = pa.table({column: pa.array(values, type=pa.string())})",
    "    sink = pa.BufferOutputStream()",
    "    with pa.ipc.new_stream(sink, table.schema) as writer:",
    "        writer.write_table(table)",
    "    out.append(base64.b64encode(sink.getvalue().to_pybytes()).decode())",
    "json.dump(out, sys.stdout)",
  ].join("\n");
  const result = spawnSync(python, ["-c", script], { input: JSON.stringify(requests), maxBuffer: 1 << 28, encoding: "utf8" });
  assert.equal(result.status, 0, `pyarrow failed: ${result.stderr}`);
  const encoded = JSON.parse(result.stdout) as string[];
  return new Map(requests.map((request, i) => [tableKey(...request), new Uint8Array(Buffer.from(encoded[i] as string, "base64"))]));
}

function tableKey(column: string, values: string[]): string {
  return JSON.stringify([column, values]);
}

const INDEX_TEXTS = ["see 10.0.0.1 and evil.com", "10.0.0.1 again, <script>alert(1)</script>", "nothing here", "http://evil.com/x"];
const BIG_TEXTS = Array.from({ length: 20_000 }, (_, i) => `host${i}.example.com 10.${i % 256}.0.1`);

interface Expected {
  type: string;
  observable: string;
  canonical?: string;
  start: number;
  end: number;
}
interface Case {
  file: string;
  name: string;
  input: string;
  options?: Record<string, unknown>;
  expected: Expected[];
  exact?: boolean;
  absent?: { type?: string; observable: string }[];
}
interface Found {
  type: string;
  observable: string;
  canonical: string;
  source: number;
  column: string;
  start: number;
  end: number;
}

function loadCases(): Case[] {
  const cases: Case[] = [];
  for (const file of readdirSync(casesDir).filter((f) => f.endsWith(".json")).sort()) {
    const doc = JSON.parse(readFileSync(`${casesDir}/${file}`, "utf8")) as { schema: string; cases: Omit<Case, "file">[] };
    assert.equal(doc.schema, "huntglass-ioc-cases/1", file);
    for (const c of doc.cases) cases.push({ ...c, file });
  }
  return cases;
}

/** Reads ioc.extract's output with the wasm ArrowTable (one row object per match). */
function rowsOf(ops: TablesApi, ipc: Uint8Array): Found[] {
  const table = new ops.ArrowTable(ipc);
  try {
    assert.deepEqual(table.column_names(), ["IoCType", "Observable", "Canonical", "SourceIndex", "Column", "Start", "End"]);
    const n = table.num_rows();
    const strings = (name: string): string[] => {
      const [labels, codes] = table.categorize(name) as [string[], Uint32Array, number];
      return Array.from(codes, (c) => labels[c] as string);
    };
    const [types, observables, canonicals, columns] = ["IoCType", "Observable", "Canonical", "Column"].map(strings) as [string[], string[], string[], string[]];
    const [source, start, end] = ["SourceIndex", "Start", "End"].map((c) => table.numbers(c)) as [Float64Array, Float64Array, Float64Array];
    const out: Found[] = [];
    for (let i = 0; i < n; i++) {
      out.push({ type: types[i] as string, observable: observables[i] as string, canonical: canonicals[i] as string, source: source[i] as number, column: columns[i] as string, start: start[i] as number, end: end[i] as number });
    }
    return out;
  } finally {
    table.free();
  }
}

/** The checks of crates/hg_ops/tests/ioc_corpus.rs `check`; returns the failure or null. */
function check(c: Case, found: Found[]): string | null {
  const bytes = Buffer.from(c.input, "utf8");
  for (const r of found) {
    if (bytes.subarray(r.start, r.end).toString("utf8") !== r.observable) return `offsets ${r.start}..${r.end} do not hold ${JSON.stringify(r.observable)}`;
  }
  const key = (t: [number, number, string, string, string]): string => JSON.stringify(t);
  const got = found.map((r) => key([r.start, r.end, r.type, r.observable, r.canonical]));
  const want = c.expected.map((e) => key([e.start, e.end, e.type, e.observable, e.canonical ?? e.observable]));
  const missing = want.filter((w) => !got.includes(w));
  const extra = got.filter((g) => !want.includes(g));
  if (missing.length > 0 || (c.exact !== false && extra.length > 0)) return `missing ${missing.join(" ")}; unexpected ${extra.join(" ")}`;
  for (const a of c.absent ?? []) {
    const hit = found.find((r) => r.observable === a.observable && (a.type === undefined || a.type === r.type));
    if (hit) return `${JSON.stringify(a.observable)} reported as ${hit.type} but listed absent`;
  }
  return null;
}

describe("hg_kernel.wasm ioc.extract in the browser runtime over the shared corpus", { skip }, () => {
  let ops: TablesApi;
  let kernel: HgKernel;
  let cases: Case[];
  let tables: Map<string, Uint8Array>;
  /** The pyarrow-written table of `values` (prepared in `before`). */
  const textTable = (column: string, values: string[]): Uint8Array => {
    const found = tables.get(tableKey(column, values));
    if (!found) throw new Error(`test bug: no table prepared for ${tableKey(column, values).slice(0, 80)}`);
    return found;
  };

  before(async () => {
    const glue = (await import(pathToFileURL(gluePath).href)) as unknown as HgWasmGlue;
    reserveModule("real-tables");
    supplyWasm("real-tables", new Uint8Array(readFileSync(wasmPath)));
    const wasm = await instantiate(glue, "real-tables");
    assert.ok(wasm.tables, "the built glue exports ArrowTable");
    assert.equal((glue as unknown as Record<string, unknown>).run_op, undefined, "the visualization module carries no operations");
    ops = wasm.tables;
    supplyWasm("real-kernel", new Uint8Array(readFileSync(kernelPath)));
    kernel = await kernelFor("real-kernel");
    cases = loadCases();
    assert.ok(cases.length >= 50, `corpus too small: ${cases.length}`);
    const plain = cases.filter((c) => c.options === undefined).map((c) => c.input);
    tables = pyarrowTables([
      ...cases.map((c): [string, string[]] => ["Text", [c.input]]),
      ["Text", plain],
      ["Text", INDEX_TEXTS],
      ["C", ["b", "a", "b"]],
      ["Text", ["10.0.0.1"]],
      ["Text", ["ping 10.0.0.1"]],
      ["Text", BIG_TEXTS],
    ]);
  });

  // Same call shape as the widget: the runtime's typed wrapper, options as an object.
  const run = (name: string, options: Record<string, unknown> | string, ipc: Uint8Array): Uint8Array => kernel.runOp(name, options, ipc);

  it("lists the registry's operations with their options", () => {
    const list = kernel.opsList();
    const extract = list.operations.find((o) => o.name === "ioc.extract");
    assert.ok(extract, "ioc.extract is listed");
    assert.deepEqual(extract.options.map((o) => o.name).sort(), ["columns", "defanged", "ignore_tlds", "include_paths", "types"]);
    assert.ok(list.operations.some((o) => o.name === "ioc.validate"));
  });

  it("gives every corpus case exactly the Rust corpus test's answer (one-row tables)", () => {
    const failures: string[] = [];
    for (const c of cases) {
      try {
        const input = textTable("Text", [c.input]);
        const found = rowsOf(ops, run("ioc.extract", JSON.stringify({ ...(c.options ?? {}), columns: ["Text"] }), input));
        assert.ok(found.every((r) => r.source === 0 && r.column === "Text"));
        const failure = check(c, found);
        if (failure) failures.push(`${c.file} / ${c.name}: ${failure}`);
      } catch (error) {
        failures.push(`${c.file} / ${c.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases failed`);
  });

  it("finds the same matches with all default-option cases in one table, rows and columns mapped back", () => {
    const plain = cases.filter((c) => c.options === undefined);
    const one = plain.map((c) => rowsOf(ops, run("ioc.extract", '{"columns":["Text"]}', textTable("Text", [c.input]))));
    const together = rowsOf(ops, run("ioc.extract", '{"columns":["Text"]}', textTable("Text", plain.map((c) => c.input))));
    const expected = one.flatMap((found, row) => found.map((r) => ({ ...r, source: row })));
    assert.deepEqual(together, expected);
  });

  it("builds the IocView index from the output: counts per type, unique observables, rows per observable", () => {
    const texts = INDEX_TEXTS;
    const spec = parseSpec({ columns: ["Text"], include_paths: false });
    const ipc = textTable("Text", texts);
    const out = new ops.ArrowTable(run("ioc.extract", JSON.stringify(extractOptions(spec)), ipc));
    try {
      const found = rowsOf(ops, run("ioc.extract", JSON.stringify(extractOptions(spec)), ipc));
      const index = buildIndex(readExtractColumns(out), spec.columns, texts.length);
      assert.equal(index.matchType.length, found.length);
      const byType = new Map<string, number>();
      for (const r of found) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
      for (const [type, count] of byType) assert.equal(index.typeCounts[index.typeNames.indexOf(type)], count, type);
      const ip = index.observables.find((o) => o.canonical === "10.0.0.1");
      assert.ok(ip);
      assert.equal(ip.count, 2);
      assert.deepEqual(ip.rows, [0, 1]);
      const dns = index.observables.find((o) => o.canonical === "evil.com" && index.typeNames[o.type] === "dns");
      assert.deepEqual(dns?.rows, [0, 3], "the URL's host is a dns observable of row 3 too");
      // Matches of row 0, in text order, map to highlighted segments.
      const row0 = Array.from(index.rowOrder.subarray(index.rowOffsets[0], index.rowOffsets[1]), (m) => ({
        start: index.matchStart[m] as number,
        end: index.matchEnd[m] as number,
        type: index.typeNames[index.matchType[m] as number] as string,
        observable: index.matchObservable[m] as number,
      }));
      assert.deepEqual(
        segmentText(texts[0] as string, row0).map((s) => [s.text, s.type ?? null]),
        [["see ", null], ["10.0.0.1", "ipv4"], [" and ", null], ["evil.com", "dns"]],
      );
    } finally {
      out.free();
    }
  });

  it("reads any table a widget receives: numbers, categories with nulls, windows of texts", () => {
    const table = new ops.ArrowTable(textTable("C", ["b", "a", "b"]));
    try {
      assert.equal(table.num_rows(), 3);
      const [labels, codes, missing] = table.categorize("C") as [string[], Uint32Array, number];
      assert.deepEqual(labels, ["a", "b"]);
      assert.deepEqual(Array.from(codes), [1, 0, 1]);
      assert.equal(missing, -1);
      assert.deepEqual(table.texts("C", 1, 10), ["a", "b"]);
      assert.equal(table.text("C", 2), "b");
      assert.throws(() => table.text("C", 3), /row 3 is out of range \(the table has 3 rows\)/);
      assert.throws(() => table.numbers("C"), /C/);
      assert.throws(() => table.categorize("Nope"), /Nope/);
    } finally {
      table.free();
    }
  });

  it("throws errors naming what was wrong", () => {
    const ipc = textTable("Text", ["10.0.0.1"]);
    assert.throws(() => run("no.such", "", ipc), /unknown operation 'no.such'; available operations: ioc.extract/);
    assert.throws(() => run("ioc.extract", '{"columns":["Missing"]}', ipc), /Missing[\s\S]*Text/);
    assert.throws(() => run("ioc.extract", '{"columns":["Text"],"colour":1}', ipc), /unknown option 'colour'/);
    assert.throws(() => run("ioc.extract", '{"columns":["Text"]}', new Uint8Array([1, 2, 3, 4, 5])));
    assert.throws(() => new ops.ArrowTable(new Uint8Array([9, 9, 9])));
    assert.throws(() => run("", {}, ipc), /needs an operation name/);
  });

  it("keeps working after errors, empty inputs and many calls (buffers and results are released)", () => {
    const ipc = textTable("Text", ["ping 10.0.0.1"]);
    for (let i = 0; i < 200; i++) assert.throws(() => run("ioc.extract", { columns: ["Nope"] }, ipc), /Nope/);
    assert.throws(() => run("ioc.extract", { columns: ["Text"] }, new Uint8Array(0)));
    const big = textTable("Text", BIG_TEXTS);
    const found = rowsOf(ops, run("ioc.extract", { columns: ["Text"], types: ["ipv4"] }, big));
    assert.equal(found.length, 20_000);
    assert.deepEqual(rowsOf(ops, run("ioc.extract", '{"columns":["Text"]}', ipc)).map((r) => r.observable), ["10.0.0.1"]);
  });
});
