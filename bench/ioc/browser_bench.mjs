// Browser throughput of ioc.extract (issue 3: "kernel-side and browser wasm: at least half the
// native throughput"), like for like: the same registry operation on the same Arrow IPC bytes on
// both sides.
//
// * browser op: `kernel.runOp("ioc.extract", ...)` of js/src/runtime/kernel.ts (bundled here with
//   esbuild) over the engines' module the widgets load (widgets/src/huntglass/static/
//   hg_kernel.wasm), in Debian's chromium: Arrow IPC in (copied into the module), the op, Arrow
//   IPC out (copied out), exactly what IocView calls; also `runOpWith`, which lends the output
//   instead of copying it (for callers that consume it at once).
// * native op: `Registry::call("ioc.extract")` on the very same IPC bytes, and the bare native
//   engine loop (IocExtractor::extract record by record, nothing built), both from hg_ops's
//   example ioc_throughput (build it: cargo build --release -p hg_ops --example ioc_throughput).
//
// Input: the 1 MB corpus of bench/ioc/bench.py (gen_corpus.py --seed 11 --bytes 1000000), one
// row per record, written by pyarrow as Python sends it; all 13 types and without paths.
//
// Measuring: V8 compiles a module's functions with its baseline compiler first and optimizes hot
// ones in the background (dynamic tiering), so the first passes are slow, and on a loaded
// machine the optimizing compiles of the big functions (the public suffix list's look-ups are
// 50-100 KB of wasm each) finished anywhere from pass 5 to pass 100 (2-6 s). So each page runs
// passes for at least --warm-seconds (default 12) before anything is timed, and each
// configuration then until 15 passes in a row set no new best (at most 300 passes or 90 s); then
// --passes passes are timed. Wall time per pass (performance.now() around the call) and the
// renderer main thread's CPU time per pass (CDP Performance.getMetrics ThreadTime; the machine is
// shared, and CPU time is what its load disturbs least). Native: wall and thread CPU time per pass
// (the example's clock_gettime). Browser and native runs alternate in --rounds rounds so that load
// affects both alike. Writes bench/ioc/results/browser.md (--out to write elsewhere).
//
// Usage: node bench/ioc/browser_bench.mjs [--passes 40] [--rounds 3] [--warm-seconds 12]
//        [--native-op PATH] [--kernel PATH (default static/hg_kernel.wasm)] [--out FILE]
//        [--built-from COMMIT (both binaries were built from a clean export of COMMIT)]
//        [--text FILE (a text corpus of one record per line instead of the generated one, e.g. the
//        reference's sample data written by real_bench.py --keep-text)]

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const PYTHON = path.join(ROOT, ".venv/bin/python");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const PASSES = Number(option("--passes", "40"));
const ROUNDS = Number(option("--rounds", "3"));
const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target");
const NATIVE_OP = option("--native-op", process.env.HG_IOC_NATIVE_OP ?? path.join(TARGET, "release/examples/ioc_throughput"));
const KERNEL = path.resolve(option("--kernel", path.join(ROOT, "widgets/src/huntglass/static/hg_kernel.wasm")));
const OUT = path.resolve(option("--out", path.join(HERE, "results/browser.md")));
// The commit the kernel and the native example were built from, when built from a clean export of
// it (git archive) rather than from this shared working tree.
const BUILT_FROM = option("--built-from", "");
const TEXT = option("--text", "");
const CORPUS_NAME = TEXT
  ? `\`${path.basename(TEXT)}\` (given with --text)`
  : "`gen_corpus.py --seed 11 --bytes 1000000` (the corpus of `speed.md`)";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const CONFIGS = [
  { label: "all 13 types", options: { columns: ["Text"], include_paths: true }, nativeFlags: [] },
  { label: "no paths", options: { columns: ["Text"], include_paths: false }, nativeFlags: ["--no-paths"] },
];
const WARMUP = { quietPasses: 15, minSeconds: Number(option("--warm-seconds", "12")), maxPasses: 300, maxMs: 90_000 };

if (!Number.isInteger(PASSES) || PASSES < 5) throw new Error("--passes must be an integer of at least 5");
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("--rounds must be a positive integer");
if (!existsSync(NATIVE_OP)) {
  throw new Error(`the native example is missing: ${NATIVE_OP} (cargo build --release -p hg_ops --example ioc_throughput, or pass --native-op PATH)`);
}
if (!existsSync(KERNEL)) throw new Error(`the kernel module is missing: ${KERNEL} (scripts/build.sh, or pass --kernel PATH)`);

function run(command, argv, input) {
  const result = spawnSync(command, argv, { cwd: ROOT, input, maxBuffer: 1 << 28, timeout: 600_000 });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return result.stdout;
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const best = (xs) => sorted(xs)[0];
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];

/** The browser page: the runtime's kernel wrapper over the module, and the passes it times. */
async function openPage(browser, ipc) {
  const bundled = await build({
    entryPoints: [path.join(ROOT, "js/src/runtime/kernel.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    write: false,
    logLevel: "warning",
  });
  const page = await browser.newPage();
  await page.setContent("<!doctype html><html><body></body></html>");
  const glue = readFileSync(path.join(ROOT, "js/pkg/hg_wasm.js"), "utf8");
  const wasm = readFileSync(path.join(ROOT, "js/pkg/hg_wasm_bg.wasm"));
  await page.evaluate(
    async ({ runtime, kernel, glue, wasm, ipc }) => {
      const decode = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const load = (code) => import(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
      // The visualization module's ArrowTable reads the output, as in the widget.
      const viz = await load(glue);
      await viz.default({ module_or_path: await WebAssembly.compile(decode(wasm)) });
      const rt = await load(runtime);
      const k = await rt.instantiateKernel(await WebAssembly.compile(decode(kernel)), "bench");
      const input = decode(ipc);
      const rowsOf = (bytes) => {
        const table = new viz.ArrowTable(bytes);
        try {
          return table.num_rows();
        } finally {
          table.free();
        }
      };
      // One pass. Timed passes do nothing with the output (runOpWith's callback only takes its
      // length); a check pass (untimed) counts its rows with the visualization module's reader.
      globalThis.__hgBenchPass = (mode, options, check) => {
        const t0 = performance.now();
        if (mode === "runOp") {
          const out = k.runOp("ioc.extract", options, input);
          return { ms: performance.now() - t0, rows: check ? rowsOf(out) : -1 };
        }
        const rows = k.runOpWith("ioc.extract", options, input, (view) => (check ? rowsOf(view) : view.byteLength));
        return { ms: performance.now() - t0, rows: check ? rows : -1 };
      };
    },
    { runtime: bundled.outputFiles[0].text, kernel: readFileSync(KERNEL).toString("base64"), glue, wasm: wasm.toString("base64"), ipc: ipc.toString("base64") },
  );
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable", { timeDomain: "threadTicks" });
  const threadSeconds = async () => (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "ThreadTime").value;
  /** One pass: wall ms measured in the page, main-thread CPU ms around the whole evaluate. */
  const pass = async (mode, options, check = false) => {
    const before = await threadSeconds();
    const r = await page.evaluate((a) => globalThis.__hgBenchPass(a.mode, a.options, a.check), { mode, options, check });
    return { ms: r.ms, cpuMs: ((await threadSeconds()) - before) * 1e3, rows: r.rows };
  };
  // What a pass's CPU figure includes besides the call: an evaluate that does nothing.
  const idle = [];
  for (let i = 0; i < 20; i++) {
    const before = await threadSeconds();
    await page.evaluate(() => 0);
    idle.push(((await threadSeconds()) - before) * 1e3);
  }
  return { page, pass, idleCpuMs: median(idle) };
}

/**
 * Warms `mode` up until passes stop improving and the page has run for `WARMUP.minSeconds`;
 * returns the first pass, the pass count and when the best warm-up pass came.
 */
async function warmUp(pass, mode, options, pageOpened) {
  const started = Date.now();
  const first = await pass(mode, options);
  let bestMs = first.ms;
  let bestAt = 1;
  let passes = 1;
  let quiet = 0;
  while (passes < WARMUP.maxPasses && Date.now() - started < WARMUP.maxMs) {
    const r = await pass(mode, options);
    passes += 1;
    if (r.ms < bestMs * 0.99) {
      bestMs = r.ms;
      bestAt = passes;
      quiet = 0;
    } else {
      quiet += 1;
    }
    if (quiet >= WARMUP.quietPasses && Date.now() - pageOpened >= WARMUP.minSeconds * 1e3) break;
  }
  return { firstMs: first.ms, passes, bestAt, seconds: (Date.now() - started) / 1e3 };
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "hg-ioc-browser-bench-"));
try {
  const corpus = path.join(tmp, "corpus.jsonl");
  const text = path.join(tmp, "corpus.txt");
  const ipcFile = path.join(tmp, "corpus.arrow");
  if (TEXT) copyFileSync(TEXT, text);
  else run(PYTHON, [path.join(HERE, "gen_corpus.py"), "--seed", "11", "--bytes", "1000000", "--out", corpus, "--text-out", text]);
  run(PYTHON, [
    "-c",
    `
import sys, pyarrow as pa
lines = open(sys.argv[1], encoding="utf-8").read().split("\\n")
if lines and lines[-1] == "":
    lines.pop()
table = pa.table({"Text": pa.array(lines, pa.string())})
with pa.ipc.new_stream(sys.argv[2], table.schema) as writer:
    writer.write_table(table)
`,
    text,
    ipcFile,
  ]);
  const ipc = readFileSync(ipcFile);
  const textBytes = readFileSync(text).length;
  const mbs = (ms) => textBytes / ms / 1e3;

  const loads = [os.loadavg()[0]];
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  const chromiumVersion = browser.version();
  const results = CONFIGS.map((c) => ({
    ...c,
    modes: { runOp: { ms: [], cpuMs: [], warm: [] }, runOpWith: { ms: [], cpuMs: [], warm: [] } },
    native: { opMs: [], opCpuMs: [], engineMs: [], engineCpuMs: [] },
    rounds: [],
    rows: new Set(),
  }));
  let idleCpuMs = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // A fresh page (a fresh instance, compiled again) per round: warm-up is part of each round.
      const { page, pass, idleCpuMs: idle } = await openPage(browser, ipc);
      const pageOpened = Date.now();
      idleCpuMs = Math.max(idleCpuMs, idle);
      for (const r of results) {
        const roundRow = {};
        for (const mode of ["runOp", "runOpWith"]) {
          const m = r.modes[mode];
          m.warm.push(await warmUp(pass, mode, r.options, pageOpened));
          const ms = [];
          for (let i = 0; i < PASSES; i++) {
            const p = await pass(mode, r.options);
            ms.push(p.ms);
            m.ms.push(p.ms);
            m.cpuMs.push(p.cpuMs);
          }
          r.rows.add((await pass(mode, r.options, true)).rows);
          roundRow[mode] = best(ms);
        }
        const n = JSON.parse(run(NATIVE_OP, [text, String(PASSES), "--ipc", ipcFile, ...r.nativeFlags]).toString());
        if (n.bytes !== textBytes) throw new Error(`native counted ${n.bytes} bytes, the corpus has ${textBytes}`);
        r.rows.add(n.iocs);
        r.native.opMs.push(n.op_best_seconds * 1e3);
        r.native.opCpuMs.push(n.op_cpu_best_seconds * 1e3);
        r.native.engineMs.push(n.engine_best_seconds * 1e3);
        r.native.engineCpuMs.push(n.engine_cpu_best_seconds * 1e3);
        roundRow.nativeOp = n.op_best_seconds * 1e3;
        roundRow.nativeEngine = n.engine_best_seconds * 1e3;
        r.rounds.push(roundRow);
      }
      await page.close();
      loads.push(os.loadavg()[0]);
    }
  } finally {
    await browser.close();
  }
  for (const r of results) {
    if (r.rows.size !== 1) throw new Error(`${r.label}: the browser and native found different IoC counts: ${[...r.rows].join(", ")} (build both from the same sources)`);
  }

  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  const dirty = spawnSync("git", ["status", "--porcelain", "--", "crates", "Cargo.toml"], { cwd: ROOT, encoding: "utf8" })
    .stdout.split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.slice(3));
  const kernelBuilt = statSync(KERNEL).mtime.toISOString().slice(0, 16).replace("T", " ");
  const nativeBuilt = statSync(NATIVE_OP).mtime.toISOString().slice(0, 16).replace("T", " ");
  const f1 = (x) => x.toFixed(1);
  const f2 = (x) => x.toFixed(2);
  const lines = [
    "# IoC extraction speed in the browser vs native, like for like (`ioc.extract`, Arrow IPC in and out)",
    "",
    `Corpus: ${CORPUS_NAME}, ${textBytes.toLocaleString("en-US")} bytes of text, ` +
      `one row per record as an Arrow IPC stream written by pyarrow (${ipc.length.toLocaleString("en-US")} bytes); MB/s counts the text bytes. ` +
      `Browser: \`hg_kernel.wasm\` (${statSync(KERNEL).size.toLocaleString("en-US")} bytes, built ${kernelBuilt} UTC) through \`js/src/runtime/kernel.ts\` ` +
      `in Debian's Chromium ${chromiumVersion} (headless): \`runOp\` copies the input into the module and the output out, as IocView calls it; ` +
      "`runOpWith` lends the output to a callback instead of copying it. Native: hg_ops's example `ioc_throughput` " +
      `(release build of ${nativeBuilt} UTC) runs \`Registry::call("ioc.extract")\` on the same IPC bytes (the same work) and the bare engine loop ` +
      "(record by record, nothing built). " +
      `Each page runs passes for at least ${WARMUP.minSeconds} s and each configuration until 15 passes in a row set no new best (V8 tiers up ` +
      `in the background), then ${PASSES} passes are timed; ${ROUNDS} rounds alternate browser (a fresh page each round) and native. CPU: the renderer main thread's ThreadTime ` +
      `around each pass (includes about ${f2(idleCpuMs)} ms of evaluate overhead per pass) and the native thread's CPU time. ` +
      `Machine: ${os.arch()}, ${os.cpus().length} cores shared with other engineers' work, 1-minute load average ${loads.map(f1).join(", ")} ` +
      `(start, after each round). Regenerate with \`node bench/ioc/browser_bench.mjs\`.`,
    "",
    BUILT_FROM
      ? `Source: the kernel module and the native example were both built from a clean export of commit ${BUILT_FROM} (git archive).`
      : `Source: commit ${commit}` +
          (dirty.length > 0 ? ` (the shared working tree also had uncommitted changes in ${dirty.join(", ")} at the time of this run).` : "."),
    "",
    "| path | configuration | best MB/s | median MB/s | best ms | best CPU ms | median CPU ms | IoCs |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    const iocs = [...r.rows][0];
    for (const mode of ["runOp", "runOpWith"]) {
      const m = r.modes[mode];
      lines.push(`| browser op (\`${mode}\`) | ${r.label} | ${f1(mbs(best(m.ms)))} | ${f1(mbs(median(m.ms)))} | ${f2(best(m.ms))} | ${f2(best(m.cpuMs))} | ${f2(median(m.cpuMs))} | ${iocs} |`);
    }
    lines.push(`| native op | ${r.label} | ${f1(mbs(best(r.native.opMs)))} | ${f1(mbs(median(r.native.opMs)))} | ${f2(best(r.native.opMs))} | ${f2(best(r.native.opCpuMs))} | | ${iocs} |`);
    lines.push(`| native engine loop | ${r.label} | ${f1(mbs(best(r.native.engineMs)))} | ${f1(mbs(median(r.native.engineMs)))} | ${f2(best(r.native.engineMs))} | ${f2(best(r.native.engineCpuMs))} | | ${iocs} |`);
  }
  lines.push(
    "",
    "Native medians are the medians of the rounds' best passes; browser medians are over every timed pass.",
    "",
    "Ratios (the issue's target, at least half the native throughput, is read as browser op vs native op: the same work; " +
      "against the bare engine loop the browser also pays for Arrow in and out):",
    "",
    "| configuration | browser `runOp` / native op (best wall) | same, best CPU | browser `runOp` / native engine (best wall) | browser `runOpWith` / native op (best wall) | per round: `runOp` / native op |",
    "|---|---:|---:|---:|---:|---|",
  );
  for (const r of results) {
    const op = best(r.modes.runOp.ms);
    const perRound = r.rounds.map((x) => f2(x.nativeOp / x.runOp)).join(", ");
    lines.push(
      `| ${r.label} | ${f2(best(r.native.opMs) / op)} | ${f2(best(r.native.opCpuMs) / best(r.modes.runOp.cpuMs))} | ${f2(best(r.native.engineMs) / op)} | ` +
        `${f2(best(r.native.opMs) / best(r.modes.runOpWith.ms))} | ${perRound} |`,
    );
  }
  lines.push("", "Warm-up (browser, per round): first pass ms, then the pass that set the warm-up's best / warm-up passes (seconds):", "");
  for (const r of results) {
    for (const mode of ["runOp", "runOpWith"]) {
      const w = r.modes[mode].warm.map((x) => `${f1(x.firstMs)} ms, best at ${x.bestAt} / ${x.passes} (${f1(x.seconds)} s)`).join("; ");
      lines.push(`- ${r.label}, \`${mode}\`: ${w}`);
    }
  }
  lines.push("", "The IoC counts of the browser and of native are equal (checked), so both did the same work.");
  // Sections written by hand below the generated part (dated notes, history) are kept.
  const previous = existsSync(OUT) ? readFileSync(OUT, "utf8") : "";
  const notes = previous.indexOf("\n## ");
  if (notes >= 0) lines.push(previous.slice(notes).replace(/\n+$/, ""));
  writeFileSync(OUT, `${lines.join("\n")}\n`);
  console.log(lines.join("\n"));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
