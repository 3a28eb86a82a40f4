// Builds the front end with esbuild (docs/CONTRACT.md "Build outputs"):
//   js/src/index.ts    -> widgets/src/huntglass/static/widget.js (ESM, minified, es2020, no wasm inside)
//   js/tests/*.test.ts -> js/dist/tests/*.test.mjs (for `node --test js/dist/tests`)
// `node js/build.mjs --tests-only` skips the widget bundle (it needs the generated js/pkg glue).
import { build } from "esbuild";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const testsOnly = process.argv.includes("--tests-only");
const widgetOut = join(root, "widgets/src/huntglass/static/widget.js");
const glue = join(root, "js/pkg/hg_wasm.js");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

async function buildWidget() {
  if (!existsSync(glue)) {
    throw new Error(
      `js/build.mjs: ${relative(root, glue)} is missing: build the wasm first ` +
        "(scripts/build.sh, or cargo build --profile wasm-release --target wasm32-unknown-unknown -p hg_wasm " +
        "then wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir js/pkg ...)",
    );
  }
  await build({
    entryPoints: [join(root, "js/src/index.ts")],
    outfile: widgetOut,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    minify: true,
    legalComments: "none",
    define: { __HG_VERSION__: JSON.stringify(pkg.version) },
    // The wasm travels through the model (hg:wasm), never inside or beside the bundle.
    loader: { ".wasm": "empty" },
    logLevel: "warning",
  });
  const bytes = statSync(widgetOut).size;
  const gzip = gzipSync(readFileSync(widgetOut), { level: 9 }).length;
  console.log(`build: ${relative(root, widgetOut)} ${bytes} bytes (${(bytes / 1000).toFixed(1)} KB, gzip ${gzip} bytes)`);
}

async function buildTests() {
  const testDir = join(root, "js/tests");
  const outDir = join(root, "js/dist/tests");
  rmSync(outDir, { recursive: true, force: true });
  const entries = readdirSync(testDir)
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => join(testDir, name));
  if (entries.length === 0) throw new Error("js/build.mjs: no js/tests/*.test.ts found");
  await build({
    entryPoints: entries,
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    define: { __HG_VERSION__: JSON.stringify(pkg.version) },
    logLevel: "warning",
  });
  console.log(`build: ${entries.length} test file(s) -> ${relative(root, outDir)}`);
}

try {
  if (!testsOnly) await buildWidget();
  await buildTests();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
