// Smoke check of the generated browser module in node (not a test framework; the JS suites own
// the widget tests). Loads js/pkg with initSync, renders a frame from a pyarrow-written fixture,
// and checks an error message. Run after the wasm build (optional argument: another directory
// holding wasm-bindgen's output):
//   node crates/hg_wasm/smoke.mjs [js/pkg]
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join, resolve } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkgDir = resolve(process.argv[2] ?? join(root, "js", "pkg"));
const pkg = await import(pathToFileURL(join(pkgDir, "hg_wasm.js")).href);
const exports = pkg.initSync({ module: readFileSync(join(pkgDir, "hg_wasm_bg.wasm")) });

function check(condition, message) {
  if (!condition) {
    console.error(`smoke: FAILED: ${message}`);
    process.exit(1);
  }
}

const spec = {
  mode: "events",
  datasets: [{ name: "Processes", time_column: "TimeGenerated", source_columns: ["Computer", "EventID"], color: null, group_by: null }],
  group_by: "Computer", color_by: null, value_column: null, value_kind: "line", start_column: null, end_column: null,
  ref_markers: [{ time_ms: Date.UTC(2024, 2, 14, 13, 45, 30), label: "Alert time" }],
  title: "Events", height: null, width: null, range_tool: true, marker_size: 8,
};
const chart = new pkg.TimelineChart(JSON.stringify(spec));
chart.add_dataset("Processes", readFileSync(join(root, "tests", "fixtures", "ipc", "pandas.arrow")));
const prepared = JSON.parse(chart.prepare());
check(prepared.n_events === 3, `3 events with a time, got ${prepared.n_events}`);
check(JSON.stringify(prepared.lanes.map((l) => l.label)) === '["dc01","web01"]', `lanes ${JSON.stringify(prepared.lanes)}`);
chart.resize(640, 240, 2);
const frame = JSON.parse(chart.render());
const pixels = new Uint8ClampedArray(exports.memory.buffer, chart.pixels_ptr(), chart.pixels_len());
check(chart.pixel_width() === 1280 && chart.pixel_height() === 480, "device size follows dpr");
check(pixels.length === 1280 * 480 * 4, "pixel buffer length");
check(frame.lanes.length === 2 && frame.ticks.length > 0, "frame has lanes and ticks");
check(frame.texts.some((t) => t.text === "< Alert time"), "reference marker label");
const distinct = new Set();
for (let i = 0; i < pixels.length; i += 4 * 97) distinct.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
check(distinct.size > 3, `the raster has content (${distinct.size} colours sampled)`);

const t = Date.UTC(2024, 2, 14, 13, 45, 30, 250);
const lane = frame.lanes.find((l) => l.label === "web01");
const id = chart.hit_test(chart.ms_to_x(t), lane.y + lane.h / 2);
check(id >= 0, "hit the web01 event");
const tip = JSON.parse(chart.tooltip(id));
check(tip.row === 0 && tip.fields[0][1] === "2024-03-14 13:45:30.250", `tooltip ${JSON.stringify(tip)}`);
const selection = JSON.parse(chart.select_box(0, 0, 640, 240, false));
check(JSON.stringify(selection) === '{"Processes":[0,1,3]}', `selection ${JSON.stringify(selection)}`);
const overview = JSON.parse(chart.render_overview(640, 60, 2));
check(chart.overview_len() === 1280 * 120 * 4 && overview.plot.w > 0, "overview");
chart.free();

const bad = new pkg.TimelineChart(JSON.stringify({ ...spec, group_by: "Hostname" }));
bad.add_dataset("Processes", readFileSync(join(root, "tests", "fixtures", "ipc", "pandas.arrow")));
try {
  bad.prepare();
  check(false, "prepare must throw for a missing column");
} catch (e) {
  check(e instanceof Error, "a JS Error");
  check(e.message.includes("'Hostname'") && e.message.includes("TimeGenerated, Computer"), e.message);
}
bad.free();
try {
  new pkg.TimelineChart("{");
  check(false, "a bad spec must throw");
} catch (e) {
  check(e instanceof Error && e.message.includes("invalid timeline spec"), e.message);
}
console.log("smoke: ok");
