/** Unit tests of the PeriodicConnections widget's pure parts: spec parsing, pairs from the events table, intervals in words. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatInterval, pairsOf, parseSpec } from "../src/widgets/periodic_view.js";

describe("PeriodicConnections spec", () => {
  it("fills defaults; the keys come from spec.keys, or from run.group_by in the page", () => {
    const spec = parseSpec({ keys: ["SourceIP", "DestinationIP"] });
    assert.equal(spec.dataset, "events");
    assert.equal(spec.top, 20);
    assert.equal(spec.height, 460);
    assert.equal(spec.run, null);
    const run = parseSpec({ dataset: "CommonSecurityLog", run: { time_column: "TimeGenerated", group_by: ["SourceIP"] }, top: 5 });
    assert.deepEqual(run.keys, ["SourceIP"]);
    assert.equal(run.top, 5);
  });

  it("names what is wrong", () => {
    assert.throws(() => parseSpec({}), /spec.keys/);
    assert.throws(() => parseSpec({ keys: [""] }), /spec.keys/);
    assert.throws(() => parseSpec({ run: { time_column: "t" } }), /spec.run.group_by/);
    assert.throws(() => parseSpec({ keys: ["a"], run: [1] }), /spec.run must be an object/);
  });
});

describe("pairsOf", () => {
  const stats = {
    events: new Float64Array([3, 3, 3, 2, 2]),
    pValue: new Float64Array([1e-12, 1e-12, 1e-12, NaN, NaN]),
    interval: new Float64Array([300, 300, 300, NaN, NaN]),
    strength: new Float64Array([0.9, 0.9, 0.9, NaN, NaN]),
  };
  it("groups consecutive rows of one rank, with the key labels of the first row", () => {
    const pairs = pairsOf(new Float64Array([0, 0, 0, 1, 1]), stats, (row) => [`k${row}`]);
    assert.equal(pairs.length, 2);
    assert.deepEqual(pairs[0], { rank: 0, labels: ["k0"], events: 3, pValue: 1e-12, interval: 300, strength: 0.9, start: 0, end: 3 });
    assert.equal(pairs[1]?.start, 3);
    assert.equal(pairs[1]?.end, 5);
    assert.ok(Number.isNaN(pairs[1]?.interval));
  });
  it("refuses events out of rank order", () => {
    assert.throws(() => pairsOf(new Float64Array([1, 1, 0, 0, 0]), stats, () => []), /ordered by rank/);
    assert.throws(() => pairsOf(new Float64Array([0, 1, 0, 1, 1]), stats, () => []), /ordered by rank/);
  });
});

describe("formatInterval", () => {
  it("picks the unit", () => {
    assert.equal(formatInterval(300.008), "300.0 s");
    assert.equal(formatInterval(3600), "60.0 min");
    assert.equal(formatInterval(86400), "24.0 h");
    assert.equal(formatInterval(NaN), "untested");
  });
});
