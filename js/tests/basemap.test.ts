import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { beforeEach, describe, it } from "node:test";
import { decodeBasemap, loadBasemap } from "../src/runtime/basemap.js";
import { createHostModel } from "../src/runtime/host.js";
import { resetHuntglassGlobal } from "./fakes.js";

/** A basemap file as js/build.mjs writes it. */
function encode(header: Record<string, unknown>, ringLengths: number[], coords: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  const out = new Uint8Array(12 + json.length + pad + 4 * ringLengths.length + 4 * coords.length);
  out.set(new TextEncoder().encode("HGBMAP01"), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  let offset = 12 + json.length + pad;
  for (const n of ringLengths) {
    view.setUint32(offset, n, true);
    offset += 4;
  }
  for (const v of coords) {
    view.setFloat32(offset, v, true);
    offset += 4;
  }
  return out;
}

const SQUARE = [0, 0, 10, 0, 10, 10, 0, 10];
const TRIANGLE = [20, 0, 25, 0, 22, 5];

function sample(): Uint8Array {
  return encode(
    {
      format: 1,
      source: "test",
      license: "none",
      points: 7,
      rings: 2,
      countries: [
        { id: "001", a2: "AA", name: "Alpha", rings: 1 },
        { id: "002", a2: "BB", name: "<b>Beta</b>", rings: 1 },
        { id: "003", a2: "CC", name: "Gamma", rings: 0, centroid: [50, 50] },
      ],
    },
    [4, 3],
    [...SQUARE, ...TRIANGLE],
  );
}

describe("basemap asset", () => {
  beforeEach(resetHuntglassGlobal);

  it("decodes rings, their countries and the country list", () => {
    const b = decodeBasemap(sample());
    assert.deepEqual(Array.from(b.ringLengths), [4, 3]);
    assert.deepEqual(Array.from(b.ringCountry), [0, 1]);
    assert.deepEqual(Array.from(b.coords), [...SQUARE, ...TRIANGLE]);
    assert.equal(b.countries, 3);
    assert.deepEqual(JSON.parse(b.countriesJson), [
      { id: "001", a2: "AA", name: "Alpha" },
      { id: "002", a2: "BB", name: "<b>Beta</b>" },
      { id: "003", a2: "CC", name: "Gamma", centroid: [50, 50] },
    ]);
    assert.equal(b.source, "test");
  });

  it("refuses damaged files, naming what is wrong", () => {
    const good = sample();
    assert.throws(() => decodeBasemap(good.subarray(0, 5)), /too short/);
    const badMagic = good.slice();
    badMagic[0] = 0x58;
    assert.throws(() => decodeBasemap(badMagic), /HGBMAP01/);
    assert.throws(() => decodeBasemap(good.subarray(0, good.length - 4)), /header describes/);
    const hugeHeader = good.slice();
    new DataView(hugeHeader.buffer).setUint32(8, 0xfffffff0, true);
    assert.throws(() => decodeBasemap(hugeHeader), /does not fit/);
    const mismatch = encode({ format: 1, points: 3, rings: 1, countries: [{ rings: 2 }] }, [3], TRIANGLE);
    assert.throws(() => decodeBasemap(mismatch), /country 0 has 2 rings/);
    const unowned = encode({ format: 1, points: 3, rings: 1, countries: [{ rings: 0 }] }, [3], TRIANGLE);
    assert.throws(() => decodeBasemap(unowned), /own 0 rings/);
    const version = encode({ format: 2, points: 0, rings: 0, countries: [] }, [], []);
    assert.throws(() => decodeBasemap(version), /format is not 1/);
  });

  it("is asked for once per page through the model and cached", async () => {
    let served = 0;
    const model = createHostModel({ _basemap_hash: "b1" }, {
      wasm: async () => new Uint8Array(),
      basemap: async () => {
        served += 1;
        return sample();
      },
      datasets: {},
    });
    const [a, b] = await Promise.all([loadBasemap(model), loadBasemap(model)]);
    assert.equal(a, b);
    assert.equal(served, 1);
    assert.equal((await loadBasemap(model)).countries, 3);
    assert.equal(served, 1);
  });

  it("a host without the basemap answers with an error; the failure is not cached", async () => {
    const model = createHostModel({ _basemap_hash: "b2" }, { wasm: async () => new Uint8Array(), datasets: {} });
    await assert.rejects(loadBasemap(model), /pass `basemap`/);
    const fixed = createHostModel({ _basemap_hash: "b2" }, { wasm: async () => new Uint8Array(), basemap: async () => sample(), datasets: {} });
    assert.equal((await loadBasemap(fixed)).countries, 3);
    const none = createHostModel({}, { wasm: async () => new Uint8Array(), datasets: {} });
    await assert.rejects(loadBasemap(none), /no _basemap_hash/);
  });

  it("the host answers a map's address look-up from its geo option", async () => {
    const asked: string[][] = [];
    const model = createHostModel({}, {
      wasm: async () => new Uint8Array(),
      datasets: {},
      geo: async (keys) => {
        asked.push(keys);
        return { "8.8.8.8": { country: "US" } };
      },
    });
    const got: Record<string, unknown>[] = [];
    model.on("msg:custom", (content: Record<string, unknown>) => got.push(content));
    model.send({ type: "hg:geo_lookup", keys: ["8.8.8.8"] });
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
    assert.deepEqual(asked, [["8.8.8.8"]]);
    assert.deepEqual(got, [{ type: "hg:geo_places", places: { "8.8.8.8": { country: "US" } } }]);
    const bare = createHostModel({}, { wasm: async () => new Uint8Array(), datasets: {} });
    const errors: Record<string, unknown>[] = [];
    bare.on("msg:custom", (content: Record<string, unknown>) => errors.push(content));
    bare.send({ type: "hg:geo_lookup", keys: ["1.1.1.1"] });
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
    assert.equal(errors[0]?.type, "hg:geo_error");
    assert.match(String(errors[0]?.message), /geo/);
  });

  it("the built asset (when built) holds the world's countries with alpha-2 codes", (t) => {
    const path = "widgets/src/huntglass/static/basemap.bin";
    if (!existsSync(path)) {
      t.skip("static/basemap.bin is not built (node js/build.mjs)");
      return;
    }
    const b = decodeBasemap(new Uint8Array(readFileSync(path)));
    const list = JSON.parse(b.countriesJson) as { a2: string; name: string; centroid?: number[] }[];
    const codes = new Set(list.map((c) => c.a2));
    for (const code of ["US", "FR", "BR", "CN", "RU", "AU", "ZA", "SG", "HK"]) assert.ok(codes.has(code), code);
    assert.ok(list.find((c) => c.a2 === "SG")?.centroid, "Singapore (too small for 1:110m) has a centroid");
    assert.ok(b.ringLengths.length > 250 && b.coords.length > 20_000);
    for (const v of b.coords) assert.ok(Number.isFinite(v) && Math.abs(v) <= 360);
  });
});
