/**
 * The real hg_wasm (js/pkg, built by scripts/build.sh) through the JS runtime exactly as the widget
 * uses it: compiled once into the page cache, instantiated from the compiled module (nothing
 * fetched), a TimelineChart fed Arrow IPC bytes written by pyarrow, rendered into its RGBA buffer
 * and hit-tested. This is where a mismatch between docs/CONTRACT.md and the Rust side shows up.
 * Skipped (with the reason) when js/pkg has not been built, except in CI (CI=true), where it fails.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { before, describe, it } from "node:test";
import type { HgWasm, HgWasmGlue } from "../src/runtime/wasm.js";
import { instantiate, reserveModule, supplyWasm } from "../src/runtime/wasm.js";
import type { Frame, PrepareInfo, Selection, TimelineChartApi, TooltipInfo } from "../src/runtime/wasm_api.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const gluePath = `${root}js/pkg/hg_wasm.js`;
const wasmPath = `${root}js/pkg/hg_wasm_bg.wasm`;
const python = `${root}.venv/bin/python`;
const built = existsSync(gluePath) && existsSync(wasmPath);
const skip = !built && process.env.CI !== "true" ? "js/pkg is not built (run scripts/build.sh)" : false;

const HOSTILE = "<img src=x onerror=alert(1)>";
const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

/** An Arrow IPC stream of 5 process events on 2 hosts, written by pyarrow (as the Python side does). */
function processesIpc(): Uint8Array {
  const script = `
import sys, pyarrow as pa
t0, hour = ${T0}, ${HOUR}
table = pa.table({
    "TimeGenerated": pa.array([(t0 + i * hour) * 1_000_000 for i in range(5)], pa.timestamp("ns", tz="UTC")),
    "Computer": ["alpha", "beta", "alpha", "beta", "alpha"],
    "CommandLine": ["cmd 0", "cmd 1", ${JSON.stringify(HOSTILE)}, "cmd 3", None],
})
sink = pa.BufferOutputStream()
with pa.ipc.new_stream(sink, table.schema) as writer:
    writer.write_table(table)
sys.stdout.buffer.write(sink.getvalue().to_pybytes())
`;
  return new Uint8Array(execFileSync(python, ["-c", script], { maxBuffer: 1 << 24 }));
}

describe("real hg_wasm TimelineChart through the runtime", { skip }, () => {
  let wasm: HgWasm;
  let ipc: Uint8Array;
  const spec = {
    mode: "events",
    title: "Processes",
    datasets: [{ name: "Processes", time_column: "TimeGenerated", source_columns: ["Computer", "CommandLine"], color: null, group_by: "Computer" }],
    group_by: null,
    color_by: null,
    ref_markers: [{ time_ms: T0 + 2 * HOUR, label: "Alert time" }],
    range_tool: true,
    marker_size: 8,
  };

  before(async () => {
    const glue = (await import(pathToFileURL(gluePath).href)) as unknown as HgWasmGlue;
    reserveModule("real");
    supplyWasm("real", new Uint8Array(readFileSync(wasmPath)));
    wasm = await instantiate(glue, "real");
    ipc = processesIpc();
  });

  function chartWith(specObject: unknown = spec): TimelineChartApi {
    const chart = new wasm.TimelineChart(JSON.stringify(specObject));
    chart.add_dataset("Processes", ipc);
    return chart;
  }

  it("prepares lanes per group and renders a full RGBA buffer", () => {
    const chart = chartWith();
    try {
      const info = JSON.parse(chart.prepare()) as PrepareInfo;
      assert.equal(info.n_events, 5);
      assert.deepEqual(info.lanes.map((l) => l.label), ["alpha", "beta"]);
      assert.equal(info.t_min_ms, T0);
      assert.equal(info.t_max_ms, T0 + 4 * HOUR);
      chart.resize(800, 300, 2);
      const frame = JSON.parse(chart.render()) as Frame;
      assert.equal(chart.pixel_width(), 1600);
      assert.equal(chart.pixel_height(), 600);
      assert.equal(chart.pixels_len(), 1600 * 600 * 4);
      const pixels = new Uint8Array(wasm.memory.buffer, chart.pixels_ptr(), chart.pixels_len());
      assert.ok(pixels.some((v, i) => i % 4 !== 3 && v !== pixels[0]), "something was drawn");
      assert.ok(frame.plot.w > 0 && frame.plot.h > 0);
      assert.ok(frame.texts.some((t) => t.text === "alpha"), "lane labels come as texts");
      assert.ok(frame.texts.some((t) => t.text.includes("Alert time")), "reference marker label comes as text");
      const [start, end] = chart.view();
      const span = 4 * HOUR;
      assert.ok(Math.abs((start as number) - (T0 - 0.1 * span)) < 1 && Math.abs((end as number) - (T0 + 1.1 * span)) < 1, "reset view pads 10% each side");
    } finally {
      chart.free();
    }
  });

  it("hit-tests, tooltips (text as is) and selects rows", () => {
    const chart = chartWith();
    try {
      chart.prepare();
      chart.resize(800, 300, 1);
      const frame = JSON.parse(chart.render()) as Frame;
      const lane = frame.lanes.find((l) => l.label === "alpha");
      assert.ok(lane, "frame lists the lanes");
      const x = chart.ms_to_x(T0 + 2 * HOUR);
      const y = lane.y + lane.h / 2;
      const id = chart.hit_test(x, y);
      assert.ok(id >= 0, "an event is under its own position");
      const tip = JSON.parse(chart.tooltip(id)) as TooltipInfo;
      assert.equal(tip.row, 2);
      assert.ok(tip.fields.some(([name, value]) => name === "CommandLine" && value === HOSTILE));
      assert.equal(chart.hit_test(x, frame.plot.y + frame.plot.h + 50), -1);
      assert.deepEqual(JSON.parse(chart.select_at(x, y, false)) as Selection, { Processes: [2] });
      const all = JSON.parse(chart.select_box(frame.plot.x, frame.plot.y, frame.plot.x + frame.plot.w, frame.plot.y + frame.plot.h, false)) as Selection;
      assert.deepEqual(all.Processes?.slice().sort(), [0, 1, 2, 3, 4]);
      chart.clear_selection();
      // Every data set is listed, with no rows once cleared.
      assert.deepEqual(JSON.parse(chart.selection()), { Processes: [] });
    } finally {
      chart.free();
    }
  });

  it("zooms, pans and maps the overview consistently", () => {
    const chart = chartWith();
    try {
      chart.prepare();
      chart.resize(800, 300, 1);
      chart.render();
      const [s0, e0] = chart.view() as unknown as [number, number];
      chart.zoom_at(400, 0.5);
      const [s1, e1] = chart.view() as unknown as [number, number];
      assert.ok(Math.abs(e1 - s1 - (e0 - s0) / 2) < 1, "factor 0.5 halves the span");
      chart.pan_by(100);
      const [s2] = chart.view() as unknown as [number, number];
      assert.ok(s2 < s1, "pan_by(+dx) moves the content right (earlier times come into view)");
      chart.render_overview(800, 80, 1);
      assert.equal(chart.overview_len(), chart.overview_width() * chart.overview_height() * 4);
      const x = chart.ms_to_overview_x(T0 + HOUR);
      assert.ok(Math.abs(chart.overview_x_to_ms(x) - (T0 + HOUR)) < 1000);
      assert.ok(Math.abs(chart.x_to_ms(chart.ms_to_x(T0 + HOUR)) - (T0 + HOUR)) < 1000);
    } finally {
      chart.free();
    }
  });

  it("throws errors that name the missing column and the columns that exist", () => {
    const chart = new wasm.TimelineChart(JSON.stringify({ ...spec, datasets: [{ name: "Processes", time_column: "EventTime" }] }));
    try {
      assert.throws(
        () => {
          chart.add_dataset("Processes", ipc);
          chart.prepare();
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          assert.match(message, /EventTime/);
          assert.match(message, /TimeGenerated/);
          return true;
        },
      );
    } finally {
      chart.free();
    }
  });

  it("rejects bytes that are not an Arrow IPC stream", () => {
    const chart = new wasm.TimelineChart(JSON.stringify(spec));
    try {
      assert.throws(() => {
        chart.add_dataset("Processes", new Uint8Array([1, 2, 3, 4, 5]));
        chart.prepare();
      });
    } finally {
      chart.free();
    }
  });
});
