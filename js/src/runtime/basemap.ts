/**
 * The GeoMap basemap asset (docs/CONTRACT.md "GeoMap"): country outlines shipped beside the
 * bundle as `static/basemap.bin` (written by js/build.mjs from Natural Earth 1:110m data), never
 * inside widget.js or the wasm. Like the wasm, anywidget cannot fetch it by a relative URL, so the
 * widget asks its model once per page: `{type: "hg:need_basemap", hash}` is answered by
 * `{type: "hg:basemap", hash}` with the bytes as the one buffer (Python's GeoMap, or the
 * standalone host given `basemap`), or by `{type: "hg:basemap_error", hash, message}`. The decoded arrays are cached on
 * `globalThis.__huntglass.basemaps[hash]`, so a page of many maps asks and decodes once.
 *
 * File layout: `"HGBMAP01"`, u32 LE header length, header JSON (utf8), zero padding to 4 bytes,
 * u32 LE point count of each ring, f32 LE lon/lat pairs. Header: `{format: 1, source, license,
 * points, rings, countries: [{id, a2, name, rings, centroid?}]}` (each country's rings follow in
 * list order).
 */

import type { AnyModel } from "./types.js";

const MAGIC = "HGBMAP01";
/** Largest header JSON accepted. */
const MAX_HEADER_BYTES = 1 << 20;
/** Most points, rings and countries accepted (the Rust side checks the same limits). */
const MAX_POINTS = 4_000_000;
const MAX_RINGS = 200_000;
const MAX_COUNTRIES = 2_000;

/** A decoded basemap, ready for `GeoMapChart.set_basemap`. */
export interface DecodedBasemap {
  /** lon, lat pairs. */
  coords: Float32Array;
  /** Points of each ring. */
  ringLengths: Uint32Array;
  /** Country index of each ring. */
  ringCountry: Uint32Array;
  /** JSON list `[{id, a2, name, centroid?}]` for the chart. */
  countriesJson: string;
  /** Number of countries listed. */
  countries: number;
  /** Where the outlines come from (shown as attribution). */
  source: string;
  /** Licence of the outlines. */
  license: string;
}

function bad(message: string): Error {
  return new Error(`huntglass GeoMap: the basemap is not valid: ${message}`);
}

/** Decodes `basemap.bin` bytes; throws naming what is wrong. */
export function decodeBasemap(bytes: Uint8Array): DecodedBasemap {
  if (bytes.byteLength < 12) throw bad(`${bytes.byteLength} bytes is too short for the header`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== MAGIC) throw bad(`it does not start with ${MAGIC}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES || 12 + headerLength > bytes.byteLength) {
    throw bad(`header of ${headerLength} bytes does not fit (at most ${MAX_HEADER_BYTES}, file ${bytes.byteLength})`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(12, 12 + headerLength))) as Record<string, unknown>;
  } catch (error) {
    throw bad(`header is not UTF-8 JSON (${String(error)})`);
  }
  if (!header || typeof header !== "object" || header.format !== 1) throw bad("header format is not 1");
  const points = header.points;
  const rings = header.rings;
  const list = header.countries;
  if (typeof points !== "number" || !Number.isInteger(points) || points < 0 || points > MAX_POINTS) throw bad(`points ${String(points)} (0..${MAX_POINTS})`);
  if (typeof rings !== "number" || !Number.isInteger(rings) || rings < 0 || rings > MAX_RINGS) throw bad(`rings ${String(rings)} (0..${MAX_RINGS})`);
  if (!Array.isArray(list) || list.length > MAX_COUNTRIES) throw bad(`countries must be a list of at most ${MAX_COUNTRIES}`);
  const start = 12 + headerLength + ((4 - ((12 + headerLength) % 4)) % 4);
  const expected = start + 4 * rings + 8 * points;
  if (bytes.byteLength !== expected) throw bad(`${bytes.byteLength} bytes, but the header describes ${expected}`);
  const ringCountry = new Uint32Array(rings);
  const countries: { id: string; a2: string; name: string; centroid?: [number, number] }[] = [];
  let ring = 0;
  list.forEach((entry: unknown, index) => {
    const c = (entry ?? {}) as Record<string, unknown>;
    const n = c.rings;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || ring + n > rings) throw bad(`country ${index} has ${String(n)} rings (total ${rings})`);
    ringCountry.fill(index, ring, ring + n);
    ring += n;
    const out: { id: string; a2: string; name: string; centroid?: [number, number] } = {
      id: String(c.id ?? ""),
      a2: String(c.a2 ?? ""),
      name: String(c.name ?? ""),
    };
    if (Array.isArray(c.centroid) && c.centroid.length === 2) out.centroid = [Number(c.centroid[0]), Number(c.centroid[1])];
    countries.push(out);
  });
  if (ring !== rings) throw bad(`the countries own ${ring} rings, the header says ${rings}`);
  // Copies: the typed arrays must be aligned and outlive the message buffer.
  const ringLengths = new Uint32Array(rings);
  for (let i = 0; i < rings; i++) ringLengths[i] = view.getUint32(start + 4 * i, true);
  const coords = new Float32Array(2 * points);
  const base = start + 4 * rings;
  for (let i = 0; i < 2 * points; i++) coords[i] = view.getFloat32(base + 4 * i, true);
  return {
    coords,
    ringLengths,
    ringCountry,
    countriesJson: JSON.stringify(countries),
    countries: countries.length,
    source: String(header.source ?? ""),
    license: String(header.license ?? ""),
  };
}

interface BasemapGlobal {
  basemaps: Record<string, Promise<DecodedBasemap>>;
}

function cache(): Record<string, Promise<DecodedBasemap>> {
  const holder = globalThis as { __huntglass?: Partial<BasemapGlobal> };
  const existing = holder.__huntglass ?? (holder.__huntglass = {});
  existing.basemaps ??= {};
  return existing.basemaps;
}

function toBytes(buffer: unknown): Uint8Array | null {
  if (buffer instanceof Uint8Array) return buffer;
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return null;
}

/**
 * The decoded basemap of `model` (its `_basemap_hash`): from the page cache, else asked for
 * with `hg:need_basemap` through this model. A failure is forgotten so the next map asks again.
 */
export function loadBasemap(model: AnyModel): Promise<DecodedBasemap> {
  const hash = model.get("_basemap_hash");
  if (typeof hash !== "string" || hash === "") {
    return Promise.reject(new Error("huntglass GeoMap: the model has no _basemap_hash (static/basemap.bin was not found when the widget was made; build the front end)"));
  }
  const basemaps = cache();
  const cached = basemaps[hash];
  if (cached) return cached;
  const pending = new Promise<DecodedBasemap>((resolve, reject) => {
    const listener = (msg: unknown, buffers: unknown): void => {
      const content = (msg ?? {}) as Record<string, unknown>;
      if (content.type === "hg:basemap" && content.hash === hash) {
        model.off("msg:custom", listener);
        const bytes = toBytes(Array.isArray(buffers) ? buffers[0] : undefined);
        if (!bytes) {
          reject(new Error("huntglass GeoMap: hg:basemap arrived without a binary buffer"));
          return;
        }
        try {
          resolve(decodeBasemap(bytes));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      } else if (content.type === "hg:basemap_error" && content.hash === hash) {
        model.off("msg:custom", listener);
        reject(new Error(typeof content.message === "string" ? content.message : "huntglass GeoMap: the basemap could not be loaded"));
      }
    };
    model.on("msg:custom", listener);
    model.send({ type: "hg:need_basemap", hash });
  });
  basemaps[hash] = pending;
  pending.catch(() => {
    if (basemaps[hash] === pending) delete basemaps[hash];
  });
  return pending;
}
