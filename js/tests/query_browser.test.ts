/** Unit tests of the QueryBrowser's pure parts: the library listing, search, parameters, JSON results. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { collectParameters, defaultText, matchesSearch, parseFamilies, parseJsonResult, PREVIEW_ROWS } from "../src/widgets/query_browser.js";

const SPEC = {
  provider: "local",
  families: {
    WindowsSecurity: [
      {
        name: "list_host_processes",
        description: "Process creation events on one host",
        data_source: "SecurityEvent",
        parameters: [
          { name: "host_name", type: "str", description: "Host name", default: null, required: true },
          { name: "start", type: "datetime", description: "Start", default: "2026-11-02T00:00:00Z", required: false },
        ],
      },
      { name: "list_host_logons", description: "Logons on one host", data_source: "LogonEvents", parameters: [] },
    ],
    Dns: [{ name: "list_dns_for_domain", description: "DNS for a domain", data_source: "DnsEvents", parameters: [] }],
    Broken: "not a list",
  },
};

describe("QueryBrowser library", () => {
  it("lists queries sorted by family and name, skipping malformed entries", () => {
    const queries = parseFamilies(SPEC);
    assert.deepEqual(
      queries.map((q) => `${q.family}.${q.name}`),
      ["Dns.list_dns_for_domain", "WindowsSecurity.list_host_logons", "WindowsSecurity.list_host_processes"],
    );
    assert.equal(queries[2]?.parameters[0]?.required, true);
    assert.deepEqual(parseFamilies(null), []);
    assert.deepEqual(parseFamilies({ families: [1, 2] }), []);
  });

  it("searches family, name, description, table and parameter names without case", () => {
    const [dns, logons, processes] = parseFamilies(SPEC);
    assert.ok(dns && logons && processes);
    assert.ok(matchesSearch(processes, ""));
    assert.ok(matchesSearch(processes, "HOST_NAME"));
    assert.ok(matchesSearch(logons, "logonevents"));
    assert.ok(matchesSearch(dns, "dns.list"));
    assert.ok(!matchesSearch(dns, "logon"));
  });

  it("pre-fills defaults and sends typed values, leaving empty optional ones to the default", () => {
    const processes = parseFamilies(SPEC)[2];
    assert.ok(processes);
    assert.equal(defaultText(processes.parameters[1]!), "2026-11-02T00:00:00Z");
    assert.equal(defaultText({ name: "l", type: "list", description: "", default: ["High", "Medium"], required: false }), "High, Medium");
    assert.equal(defaultText(processes.parameters[0]!), "");
    assert.deepEqual(collectParameters(processes, { host_name: " LRK-WS104 ", start: "" }), { host_name: "LRK-WS104" });
    assert.deepEqual(collectParameters(processes, {}), { host_name: "" }, "a required parameter is sent even when empty");
  });

  it("reads the API's JSON answer, cutting the preview", () => {
    const rows = Array.from({ length: 80 }, (_, i) => [String(i), null]);
    const result = parseJsonResult({ columns: ["n", "x"], rows, trailer: { rows: 80, notes: ["cut"], error: null, truncated: true } });
    assert.equal(result.rows, 80);
    assert.equal(result.preview.length, PREVIEW_ROWS);
    assert.deepEqual(result.preview[1], ["1", ""]);
    assert.deepEqual(result.notes, ["cut"]);
    assert.equal(result.truncated, true);
    assert.equal(parseJsonResult({ trailer: { error: "boom" } }).error, "boom");
    assert.deepEqual(parseJsonResult("garbage").columns, []);
  });
});
