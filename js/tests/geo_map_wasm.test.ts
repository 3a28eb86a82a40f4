/**
 * The real hg_wasm GeoMapChart (js/pkg, built by scripts/build.sh) on the shared placement cases of
 * tests/cases/geo_map/cases.json, fed Arrow IPC written by pyarrow and the cases' basemap as the
 * flat rings the widget passes: the same expectations the Rust tests check, through the browser
 * module and its JS boundary (typed arrays, JSON). Skipped (with the reason) when js/pkg has not
 * been built, except in CI (CI=true), where it fails.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { before, describe, it } from "node:test";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const gluePath = `${root}js/pkg/hg_wasm.js`;
const wasmPath = `${root}js/pkg/hg_wasm_bg.wasm`;
const python = `${root}.venv/bin/python`;
const built = existsSync(gluePath) && existsSync(wasmPath);
const skip = !built && process.env.CI !== "true" ? "js/pkg is not built (run scripts/build.sh)" : false;

interface GeoChart {
  set_basemap(coords: Float32Array, ringLengths: Uint32Array, ringCountry: Uint32Array, countries: string): void;
  set_places(json: string): void;
  unplaced_keys(): string;
  info(): string;
  resize(w: number, h: number, dpr: number): void;
  render(): string;
  mark_count(): number;
  mark_position(mark: number): Float64Array;
  tooltip(mark: number): string;
  select_at(x: number, y: number, additive: boolean): string;
  free(): void;
}

interface Case {
  name: string;
  rows: Record<string, (number | string | null)[]>;
  spec: Record<string, unknown>;
  expect: Record<string, unknown>;
}

const doc = JSON.parse(readFileSync(`${root}tests/cases/geo_map/cases.json`, "utf8")) as {
  basemap: { countries: unknown[]; rings: { country: number; coords: number[] }[] };
  cases: Case[];
};

/** Arrow IPC stream of a case's rows, written by pyarrow (text columns as strings, others float64). */
function ipcOf(rows: Case["rows"]): Uint8Array {
  const script = `
import json, sys, pyarrow as pa
rows = json.loads(sys.argv[1])
cols = {}
for name, values in rows.items():
    text = any(isinstance(v, str) for v in values)
    cols[name] = pa.array(values, pa.string() if text else pa.float64())
table = pa.table(cols)
sink = pa.BufferOutputStream()
with pa.ipc.new_stream(sink, table.schema) as writer:
    writer.write_table(table)
sys.stdout.buffer.write(sink.getvalue().to_pybytes())
`;
  return new Uint8Array(execFileSync(python, ["-c", script, JSON.stringify(rows)], { maxBuffer: 1 << 24 }));
}

describe("real hg_wasm GeoMapChart on the shared cases", { skip }, () => {
  let GeoMapChart: new (spec: string, ipc: Uint8Array) => GeoChart;

  before(async () => {
    const glue = (await import(pathToFileURL(gluePath).href)) as {
      default(init: { module_or_path: WebAssembly.Module }): Promise<unknown>;
      GeoMapChart: new (spec: string, ipc: Uint8Array) => GeoChart;
    };
    await glue.default({ module_or_path: await WebAssembly.compile(readFileSync(wasmPath)) });
    GeoMapChart = glue.GeoMapChart;
  });

  const basemap = (): [Float32Array, Uint32Array, Uint32Array, string] => {
    const coords = doc.basemap.rings.flatMap((r) => r.coords);
    return [
      new Float32Array(coords),
      new Uint32Array(doc.basemap.rings.map((r) => r.coords.length / 2)),
      new Uint32Array(doc.basemap.rings.map((r) => r.country)),
      JSON.stringify(doc.basemap.countries),
    ];
  };

  for (const c of doc.cases) {
    it(c.name, () => {
      const chart = new GeoMapChart(JSON.stringify(c.spec), ipcOf(c.rows));
      try {
        chart.set_basemap(...basemap());
        const info = JSON.parse(chart.info()) as Record<string, unknown>;
        for (const [key, want] of Object.entries(c.expect)) assert.deepEqual(info[key], want, `${c.name}: ${key}`);
        chart.resize(720, 284, 1);
        JSON.parse(chart.render());
        assert.equal(chart.mark_count(), c.expect.n_marks);
      } finally {
        chart.free();
      }
    });
  }

  it("errors cross the boundary as Error with the Rust message", () => {
    assert.throws(() => new GeoMapChart('{"lat_column":"Latitude"}', ipcOf({ Latitude: [1] })), /both the point\/source latitude and longitude/);
    const chart = new GeoMapChart('{"country_column":"C"}', ipcOf({ C: ["AA"] }));
    try {
      assert.throws(() => chart.set_basemap(new Float32Array([0, 0, 1]), new Uint32Array([3]), new Uint32Array([0]), "[]"), /whole number of lon\/lat pairs/);
      assert.throws(() => chart.set_places("{"), /places JSON/);
      chart.set_basemap(...basemap());
      chart.resize(720, 284, 1);
      chart.render();
      const [x, y] = chart.mark_position(0);
      const selection = JSON.parse(chart.select_at(x as number, y as number, false)) as Record<string, number[]>;
      assert.deepEqual(selection, { points: [0] });
      const tip = JSON.parse(chart.tooltip(0)) as { title: string; fields: [string, string][] };
      assert.equal(tip.title, "Alpha (AA)");
    } finally {
      chart.free();
    }
  });
});
