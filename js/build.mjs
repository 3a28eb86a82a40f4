// Builds the front end with esbuild (docs/CONTRACT.md "Build outputs"):
//   js/src/index.ts    -> widgets/src/huntglass/static/widget.js (ESM, minified, es2020, no wasm inside)
//   js/tests/*.test.ts -> js/dist/tests/*.test.mjs (for `node --test js/dist/tests`)
// `node js/build.mjs --tests-only` skips the widget bundle (it needs the generated js/pkg glue).
import { build } from "esbuild";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
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

// The GeoMap basemap (docs/CONTRACT.md "GeoMap"): Natural Earth 1:110m country outlines (npm
// world-atlas 2.0.2, public domain) decoded from TopoJSON with topojson-client and written as a
// compact binary next to the bundle, never inside it or the wasm:
//   "HGBMAP01" | u32 LE header length | header JSON (utf8) | zero padding to 4 bytes |
//   u32 LE points of each ring | f32 LE lon, lat pairs
// header: {format: 1, source, license, points, rings, countries: [{id, a2, name, rings, centroid?}]}
// (rings of each country follow in order; alpha-2 codes from i18n-iso-countries by the ISO numeric
// id). Countries too small for 1:110m (Singapore, Malta, Bahrain, Hong Kong, ...) come from the
// 1:50m set as a centroid only (rings 0): the area centroid of their largest ring, so IPs located
// only to those countries still get a place on the map.
const basemapOut = join(root, "widgets/src/huntglass/static/basemap.bin");

function ringsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  return [];
}

// Rings that cross the antimeridian (Russia's Chukotka, Fiji) jump from 180 to -180 between
// two points, which a flat map would draw as a line across the world. Their longitudes are made
// continuous (beyond +-180) and a copy shifted by 360 degrees is added, so both sides of the map
// show their part. Rings around a pole (Antarctica) do not close once unwrapped: kept as they are.
function splitAtAntimeridian(ring) {
  const out = [];
  let offset = 0;
  let jumped = false;
  for (let i = 0; i < ring.length; i++) {
    const [lon, lat] = ring[i];
    if (i > 0) {
      const jump = lon - ring[i - 1][0];
      if (jump > 180) offset -= 360;
      else if (jump < -180) offset += 360;
      jumped ||= Math.abs(jump) > 180;
    }
    out.push([lon + offset, lat]);
  }
  if (!jumped) return [ring];
  if (Math.abs(out[out.length - 1][0] - out[0][0]) > 1) return [ring];
  const lons = out.map((p) => p[0]);
  const shift = Math.max(...lons) > 180 ? -360 : 360;
  return [out, out.map(([lon, lat]) => [lon + shift, lat])];
}

function largestRingCentroid(rings) {
  let best = null;
  for (const ring of rings) {
    let a = 0, cx = 0, cy = 0;
    for (let i = 0; i < ring.length; i++) {
      const [x0, y0] = ring[i];
      const [x1, y1] = ring[(i + 1) % ring.length];
      const cross = x0 * y1 - x1 * y0;
      a += cross;
      cx += (x0 + x1) * cross;
      cy += (y0 + y1) * cross;
    }
    a /= 2;
    if (Math.abs(a) < 1e-12) continue;
    if (!best || Math.abs(a) > best.area) best = { area: Math.abs(a), x: cx / (6 * a), y: cy / (6 * a) };
  }
  return best ? [Math.round(best.x * 1e4) / 1e4, Math.round(best.y * 1e4) / 1e4] : null;
}

function buildBasemap() {
  const require = createRequire(import.meta.url);
  const { feature } = require("topojson-client");
  const countries = require("i18n-iso-countries");
  const atlas = (name) => JSON.parse(readFileSync(require.resolve(`world-atlas/${name}`), "utf8"));
  const alpha2 = (id, name) => (id ? countries.numericToAlpha2(id) : name === "Kosovo" ? "XK" : undefined) ?? "";
  const small = atlas("countries-110m.json");
  const list = [];
  const ringLengths = [];
  const coords = [];
  const seen = new Set();
  for (const f of feature(small, small.objects.countries).features) {
    const rings = ringsOf(f.geometry)
      .filter((ring) => ring.length >= 3)
      .flatMap(splitAtAntimeridian);
    const name = String(f.properties?.name ?? "");
    if (f.id) seen.add(f.id);
    list.push({ id: f.id ?? "", a2: alpha2(f.id, name), name, rings: rings.length });
    for (const ring of rings) {
      ringLengths.push(ring.length);
      for (const [lon, lat] of ring) coords.push(lon, lat);
    }
  }
  const medium = atlas("countries-50m.json");
  for (const f of feature(medium, medium.objects.countries).features) {
    if (!f.id || seen.has(f.id)) continue;
    const centroid = largestRingCentroid(ringsOf(f.geometry));
    if (!centroid) continue;
    list.push({ id: f.id, a2: alpha2(f.id, ""), name: String(f.properties?.name ?? ""), rings: 0, centroid });
  }
  const header = Buffer.from(
    JSON.stringify({
      format: 1,
      source: "Natural Earth 1:110m countries (1:50m centroids for smaller ones) via npm world-atlas 2.0.2",
      license: "public domain (Natural Earth); world-atlas ISC",
      points: coords.length / 2,
      rings: ringLengths.length,
      countries: list,
    }),
    "utf8",
  );
  const pad = (4 - ((12 + header.length) % 4)) % 4;
  const out = Buffer.alloc(12 + header.length + pad + 4 * ringLengths.length + 4 * coords.length);
  out.write("HGBMAP01", 0, "latin1");
  out.writeUInt32LE(header.length, 8);
  header.copy(out, 12);
  let offset = 12 + header.length + pad;
  for (const n of ringLengths) offset = out.writeUInt32LE(n, offset);
  for (const v of coords) offset = out.writeFloatLE(v, offset);
  mkdirSync(dirname(basemapOut), { recursive: true });
  writeFileSync(basemapOut, out);
  console.log(`build: ${relative(root, basemapOut)} ${out.length} bytes (${list.length} countries, ${ringLengths.length} rings, ${coords.length / 2} points)`);
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
  if (!testsOnly) {
    await buildWidget();
    buildBasemap();
  }
  await buildTests();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
