/** Unit tests of the IocView's pure parts: spec parsing, extract options, text segmentation, index building. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildIndex, extractOptions, parseSpec, segmentText, typeColour, type ExtractColumns } from "../src/widgets/ioc_view.js";

describe("IocView spec", () => {
  it("fills defaults and builds the ioc.extract options", () => {
    const spec = parseSpec({ columns: ["CommandLine"] });
    assert.equal(spec.dataset, "records");
    assert.equal(spec.include_paths, true);
    assert.equal(spec.height, 420);
    assert.deepEqual(extractOptions(spec), { columns: ["CommandLine"], include_paths: true, defanged: true, ignore_tlds: false });
    const typed = parseSpec({ columns: ["A", "B"], types: ["ipv4"], include_paths: false, ignore_tlds: true, height: 50 });
    assert.deepEqual(extractOptions(typed), { columns: ["A", "B"], include_paths: false, defanged: true, ignore_tlds: true, types: ["ipv4"] });
    assert.equal(typed.height, 420, "a height too small to show anything falls back to the default");
  });

  it("names what is wrong", () => {
    assert.throws(() => parseSpec({}), /spec.columns/);
    assert.throws(() => parseSpec({ columns: [] }), /spec.columns/);
    assert.throws(() => parseSpec({ columns: ["A"], types: "ipv4" }), /spec.types/);
  });
});

describe("segmentText", () => {
  it("maps UTF-8 byte spans onto the string (multi-byte and astral characters)", () => {
    const text = "café 10.0.0.1 😀 evil.com";
    const bytes = Buffer.from(text, "utf8");
    const ip = bytes.indexOf("10.0.0.1");
    const dns = bytes.indexOf("evil.com");
    const segments = segmentText(text, [
      { start: dns, end: dns + 8, type: "dns", observable: 1 },
      { start: ip, end: ip + 8, type: "ipv4", observable: 0 },
    ]);
    assert.deepEqual(segments.map((s) => [s.text, s.type ?? null]), [
      ["café ", null],
      ["10.0.0.1", "ipv4"],
      [" 😀 ", null],
      ["evil.com", "dns"],
    ]);
    assert.equal(segments.map((s) => s.text).join(""), text);
  });

  it("keeps a nested match (a URL's host) inside the outer highlight", () => {
    const text = "get http://evil.com/a now";
    const segments = segmentText(text, [
      { start: 11, end: 19, type: "dns", observable: 1 },
      { start: 4, end: 21, type: "url", observable: 0 },
    ]);
    assert.deepEqual(segments.map((s) => [s.text, s.type ?? null]), [["get ", null], ["http://evil.com/a", "url"], [" now", null]]);
  });

  it("keeps hostile markup as plain text segments and cuts long text", () => {
    const text = "<script>alert(1)</script> 10.0.0.1";
    const segments = segmentText(text, [{ start: 26, end: 34, type: "ipv4", observable: 0 }]);
    assert.deepEqual(segments[0], { text: "<script>alert(1)</script> " });
    const cut = segmentText("a".repeat(50) + " 10.0.0.1", [{ start: 51, end: 59, type: "ipv4", observable: 0 }], 20);
    assert.deepEqual(cut, [{ text: "a".repeat(20) }, { text: "…" }]);
  });

  it("ignores spans that do not fall on character boundaries", () => {
    assert.deepEqual(segmentText("é", [{ start: 1, end: 2, type: "dns", observable: 0 }]), [{ text: "é" }]);
  });
});

describe("buildIndex", () => {
  const found: ExtractColumns = {
    types: { labels: ["dns", "ipv4"], codes: Uint32Array.from([1, 0, 1, 1]) },
    columns: { labels: ["A", "B"], codes: Uint32Array.from([0, 0, 1, 0]) },
    canonicals: { labels: ["10.0.0.1", "10.0.0.2", "evil.com"], codes: Uint32Array.from([0, 2, 0, 1]) },
    sourceIndex: Float64Array.from([0, 0, 2, 3]),
    start: Float64Array.from([0, 9, 0, 0]),
    end: Float64Array.from([8, 17, 8, 8]),
  };

  it("counts per type, groups observables by type and canonical value, most frequent first", () => {
    const index = buildIndex(found, ["A", "B"], 4);
    assert.deepEqual(index.typeCounts, [1, 3]);
    assert.deepEqual(index.observables.map((o) => [index.typeNames[o.type], o.canonical, o.count, o.rows]), [
      ["ipv4", "10.0.0.1", 2, [0, 2]],
      ["ipv4", "10.0.0.2", 1, [3]],
      ["dns", "evil.com", 1, [0]],
    ]);
    assert.deepEqual(Array.from(index.rowOffsets), [0, 2, 2, 3, 4]);
    assert.deepEqual(Array.from(index.matchColumn), [0, 0, 1, 0]);
    // Match ids point at the sorted observables.
    assert.deepEqual(Array.from(index.matchObservable), [0, 2, 0, 1]);
  });

  it("refuses a row outside the table", () => {
    assert.throws(() => buildIndex(found, ["A", "B"], 3), /row 3 of a 3-row table/);
  });

  it("has a colour per type in both themes", () => {
    assert.notEqual(typeColour("ipv4", false), typeColour("ipv4", true));
    assert.notEqual(typeColour("ipv4", false), typeColour("dns", false));
  });
});
