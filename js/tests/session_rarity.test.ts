/** Unit tests of the SessionRarity's pure parts: spec parsing, options, session index, threshold, axes. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  defaultThreshold,
  formatTime,
  indexSessions,
  logTicks,
  parseSpec,
  scoreOptions,
  sessionsBelow,
  timeTicks,
} from "../src/widgets/session_rarity.js";

const BASE = { user_identifier_cols: ["UserId", "ClientIP"], event_col: "Operation", max_session_time_mins: 20, max_event_separation_mins: 2 };

describe("SessionRarity spec", () => {
  it("fills defaults and builds the sessions.score_events options", () => {
    const spec = parseSpec(BASE);
    assert.equal(spec.dataset, "events");
    assert.equal(spec.time_col, "TimeGenerated");
    assert.equal(spec.window_length, 3);
    assert.equal(spec.color_by, "UserId");
    assert.equal(spec.threshold, null);
    assert.deepEqual(scoreOptions(spec), {
      user_identifier_cols: ["UserId", "ClientIP"],
      time_col: "TimeGenerated",
      max_session_time_mins: 20,
      max_event_separation_mins: 2,
      event_col: "Operation",
      window_length: 3,
      use_start_end_tokens: true,
      use_geo_mean: false,
      columns: [],
    });
    const withParams = parseSpec({ ...BASE, params_col: "Parameters", color_by: "Workload", window_length: 2 });
    assert.deepEqual(scoreOptions(withParams).columns, ["Parameters", "Workload"]);
  });

  it("names what is wrong", () => {
    assert.throws(() => parseSpec({ ...BASE, user_identifier_cols: [] }), /user_identifier_cols/);
    assert.throws(() => parseSpec({ ...BASE, event_col: "" }), /event_col/);
    assert.throws(() => parseSpec({ ...BASE, window_length: 0 }), /window_length/);
    assert.throws(() => parseSpec({ ...BASE, max_session_time_mins: -1 }), /max_session_time_mins/);
    assert.throws(() => parseSpec({ ...BASE, threshold: 0 }), /threshold/);
  });
});

describe("indexSessions", () => {
  // Three sessions: 0 (2 events), 1 (1 event, too short: NaN), 2 (3 events).
  const columns = {
    session: Float64Array.from([0, 0, 1, 2, 2, 2]),
    time: Float64Array.from([10, 20, 5, 30, 40, 50]),
    likelihood: Float64Array.from([0.1, 0.1, NaN, 0.001, 0.001, 0.001]),
    windowStart: Float64Array.from([1, 1, NaN, 0, 0, 0]),
    windowCommands: Float64Array.from([1, 1, 0, 2, 2, 2]),
    colorCodes: Uint32Array.from([1, 1, 0, 1, 1, 1]),
    colorLabels: ["amy", "bob"],
  };

  it("groups contiguous rows into sessions with their first and last times", () => {
    const index = indexSessions(columns);
    assert.deepEqual([...index.offsets], [0, 2, 3, 6]);
    assert.deepEqual([...index.start], [10, 5, 30]);
    assert.deepEqual([...index.end], [20, 5, 50]);
    assert.deepEqual([...index.windowStart], [1, -1, 0]);
    assert.deepEqual([...index.windowCommands], [1, 0, 2]);
    assert.deepEqual([...index.color], [1, 0, 1]);
    assert.ok(Number.isNaN(index.likelihood[1]));
  });

  it("refuses rows out of session order", () => {
    assert.throws(() => indexSessions({ ...columns, session: Float64Array.from([0, 0, 2, 2, 2, 2]) }), /session 2 at row 2/);
  });

  it("lists the sessions at or below a threshold, rarest first, and skips NaN", () => {
    const index = indexSessions(columns);
    assert.deepEqual(sessionsBelow(index.likelihood, 0.1), [2, 0]);
    assert.deepEqual(sessionsBelow(index.likelihood, 0.01), [2]);
    assert.deepEqual(sessionsBelow(index.likelihood, 1e-9), []);
    assert.equal(defaultThreshold(index.likelihood), 0.001);
    assert.equal(defaultThreshold(Float64Array.from([NaN])), null);
  });
});

describe("axes", () => {
  it("log ticks are powers of ten covering the range", () => {
    assert.deepEqual(logTicks(2e-7, 0.3), [-7, -6, -5, -4, -3, -2, -1, 0]);
    const wide = logTicks(1e-40, 1);
    assert.ok(wide.length <= 9 && wide[0] === -40 && wide[wide.length - 1]! >= 0);
  });

  it("time ticks use a round step and stay inside the range", () => {
    const day = Date.UTC(2024, 2, 4);
    const ticks = timeTicks(day, day + 86400e3, 6);
    assert.ok(ticks.length >= 2 && ticks.length <= 8, String(ticks.length));
    assert.ok(ticks.every((t) => t >= day && t <= day + 86400e3));
    assert.equal((ticks[1] as number) - (ticks[0] as number), 6 * 3600e3);
    assert.equal(formatTime(day + 3723e3), "2024-03-04 01:02:03");
    assert.equal(formatTime(day, true, false), "2024-03-04");
  });
});
