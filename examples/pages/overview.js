// The overview page of the built-in scenario: one section per investigation step, each mounting a
// huntglass widget over Arrow data served at /data/. Plain ES module, no build step. Data never
// becomes markup here: widgets draw log fields on a canvas or set them as textContent.

import { mountStandalone } from "/static/widget.js";

const WASM_URL = "/static/hg_wasm_bg.wasm";
/** The engines' module: only the sections that run operations (IoC, sessions) load it. */
const KERNEL_URL = "/static/hg_kernel.wasm";
const THEMES = ["auto", "light", "dark"];
const THEME_KEY = "huntglass-demo-theme";

/**
 * Times of the scenario's main alerts (SecurityAlert.TimeGenerated, fixed by hg_demo's story; the
 * hg_cli tests check that each one is an alert of the data).
 */
const ALERT_MARKERS = [
  { time: "2026-11-03T23:16:00.000Z", label: "Password spray" },
  { time: "2026-11-04T09:41:35.812Z", label: "Encoded PowerShell from Word" },
  { time: "2026-11-05T02:25:10.000Z", label: "Mailbox takeover" },
];

/** Mounted widgets by section id: {model, cleanup}. */
const mounted = new Map();

function currentTheme() {
  try {
    const saved = localStorage.getItem(THEME_KEY);
    if (THEMES.includes(saved)) return saved;
  } catch {
    // Storage may be disabled; the default applies.
  }
  return "auto";
}

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const button = document.getElementById("theme-toggle");
  if (button) button.textContent = `Theme: ${theme}`;
  for (const { model } of mounted.values()) {
    model.set("theme", theme);
    model.save_changes();
  }
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    // Not persisted; the toggle still works for this page.
  }
}

function setupThemeToggle() {
  const button = document.getElementById("theme-toggle");
  applyTheme(currentTheme());
  button?.addEventListener("click", () => {
    const next = THEMES[(THEMES.indexOf(document.documentElement.dataset.theme) + 1) % THEMES.length];
    applyTheme(next);
  });
}

/** Replaces a section's content with the error's message, as text. */
function showError(el, error) {
  const message = document.createElement("p");
  message.className = "widget-error";
  message.setAttribute("data-hg-role", "error");
  message.textContent = error instanceof Error ? error.message : String(error);
  el.replaceChildren(message);
}

/** Mounts one section's widget; a failure is shown in that section as text and logged. */
async function mountSection(id, options) {
  const el = document.getElementById(`${id}-widget`);
  if (!el) return;
  try {
    const handle = await mountStandalone(el, {
      wasm: WASM_URL,
      ...options,
      state: { theme: document.documentElement.dataset.theme ?? "auto", ...options.state },
    });
    mounted.set(id, handle);
  } catch (error) {
    console.error(`huntglass demo: the ${id} section failed`, error);
    if (!el.querySelector('[data-hg-role="error"]')) showError(el, error);
  }
}

function timelineSection() {
  return mountSection("timeline", {
    datasets: { Processes: "/data/SecurityEvent.arrow", Alerts: "/data/SecurityAlert.arrow" },
    state: {
      _kind: "timeline",
      spec: {
        mode: "events",
        datasets: [
          {
            name: "Processes",
            time_column: "TimeGenerated",
            source_columns: ["Account", "NewProcessName", "CommandLine"],
            color: "#1f77b4",
            group_by: "Computer",
          },
          {
            name: "Alerts",
            time_column: "TimeGenerated",
            source_columns: ["AlertName", "AlertSeverity", "CompromisedEntity", "Description"],
            color: "#d62728",
            group_by: "CompromisedEntity",
          },
        ],
        group_by: null,
        color_by: null,
        value_column: null,
        value_kind: "line",
        start_column: null,
        end_column: null,
        ref_markers: ALERT_MARKERS.map((m) => ({ time_ms: Date.parse(m.time), label: m.label })),
        title: "Process creation by host, with alerts",
        height: null,
        width: null,
        range_tool: true,
        marker_size: 8,
      },
    },
  });
}

/** IocView of one text column of a scenario table (extraction runs in the page, in hg_kernel.wasm). */
function iocSection(id, table, column, title, options = {}) {
  return mountSection(id, {
    kernel: KERNEL_URL,
    datasets: { [table]: `/data/${table}.arrow` },
    state: {
      _kind: "ioc_view",
      spec: {
        dataset: table,
        columns: [column],
        types: null,
        include_paths: false,
        defanged: true,
        ignore_tlds: false,
        title,
        height: 360,
        ...options,
      },
    },
  });
}

/**
 * QueryBrowser over the proxy's `local` provider: the library comes from /api/queries and queries
 * run through /api/query, both with the page's HttpOnly token cookie (set when the page is opened
 * through the URL `huntglass serve` prints).
 */
async function queriesSection() {
  const el = document.getElementById("queries-widget");
  if (!el) return;
  let provider;
  try {
    const response = await fetch("/api/queries?provider=local", { credentials: "same-origin" });
    if (response.status === 401) {
      throw new Error("open this page through the URL printed by huntglass serve (it carries the token) to run queries");
    }
    if (!response.ok) throw new Error(`the query library could not be loaded (HTTP ${response.status})`);
    provider = (await response.json()).providers[0];
  } catch (error) {
    showError(el, error);
    return;
  }
  return mountSection("queries", {
    datasets: {},
    state: {
      _kind: "query_browser",
      query: "WindowsSecurity.list_host_processes",
      spec: {
        provider: provider.name,
        raw_language: provider.raw_language,
        families: provider.families,
        api: "same-origin",
        height: 480,
      },
    },
  });
}

/**
 * SessionRarity of the scenario's Office 365 activity: sessions per user and client address (20 min
 * sessions, 2 min gaps) scored on operation pairs, in the page, by hg_kernel.wasm.
 */
function sessionsSection() {
  return mountSection("sessions", {
    kernel: KERNEL_URL,
    datasets: { OfficeActivity: "/data/OfficeActivity.arrow" },
    state: {
      _kind: "session_rarity",
      spec: {
        dataset: "OfficeActivity",
        user_identifier_cols: ["UserId", "ClientIP"],
        time_col: "TimeGenerated",
        max_session_time_mins: 20,
        max_event_separation_mins: 2,
        event_col: "Operation",
        params_col: "Parameters",
        color_by: "UserId",
        window_length: 2,
        use_start_end_tokens: true,
        use_geo_mean: false,
        threshold: null,
        title: "Office 365 sessions by rarity (OfficeActivity, by UserId and ClientIP)",
        height: 380,
      },
    },
  });
}

/** DecodeView of the process command lines: every encoded layer, decoded in the page (hg_kernel.wasm). */
function decodeSection() {
  return mountSection("decode", {
    kernel: KERNEL_URL,
    datasets: { SecurityEvent: "/data/SecurityEvent.arrow" },
    state: {
      _kind: "decode_view",
      spec: {
        dataset: "SecurityEvent",
        column: "CommandLine",
        options: {},
        title: "Encoded content in process command lines (SecurityEvent.CommandLine)",
        height: 520,
      },
    },
  });
}

/**
 * ProcessTree of every host's process starts: the tree is built in the page by hg_kernel.wasm
 * (proctree.build), and the search box starts on "-enc" so the WINWORD -> PowerShell -> backdoor
 * chain of LRK-WS104 is highlighted and expanded.
 */
function processTreeSection() {
  return mountSection("proctree", {
    kernel: KERNEL_URL,
    datasets: { Processes: "/data/SecurityEvent.arrow" },
    state: {
      _kind: "process_tree",
      spec: {
        build: { schema: "windows_4688" },
        name_column: "NewProcessName",
        id_column: "NewProcessId",
        cmd_column: "CommandLine",
        time_column: "TimeGenerated",
        user_column: "SubjectUserName",
        host_column: "Computer",
        color_by: "Computer",
        tooltip_columns: null,
        table_columns: null,
        show_table: false,
        title: "Process trees of every host (SecurityEvent 4688)",
        height: 520,
        width: null,
        expand_depth: null,
        search: "-enc",
      },
    },
  });
}

/**
 * TIBrowser of threat-intelligence look-ups through the proxy (`/api/ti`, Arrow answer, with the
 * page's HttpOnly token cookie): the indicators the scenario's alerts and the decoded first-stage
 * PowerShell name (the notebook derives the same list with hg.decode.unpack and hg.ioc.extract),
 * plus the office's own egress address, against the proxy's default providers (the scenario's
 * local feed and Tor exit list).
 */
const TI_ADDRESSES = ["203.0.113.77", "198.51.100.23", "198.51.100.41", "192.0.2.10"];
const TI_OBSERVABLES = [
  ...TI_ADDRESSES,
  "telemetry-sync.example.net",
  "files.docsign-verify.example.com",
  "http://files.docsign-verify.example.com/dl/upd.bin",
  "login-micros0ft-secure.example.com",
  "9f2c4e81b7a05d3c6e19f0a8b24d7c53e1f9a06b8d2c4e7f13a5b9c0d6e8f247",
];

/**
 * TimeSeriesAnomalies of the scenario's NetworkBytes: every host decomposed in the page by
 * hg_kernel.wasm (timeseries.stl, one series per Computer), LRK-WS104's series shown.
 */
function timeseriesSection() {
  return mountSection("timeseries", {
    kernel: KERNEL_URL,
    datasets: { NetworkBytes: "/data/NetworkBytes.arrow" },
    state: {
      _kind: "ts_anomalies",
      spec: {
        dataset: "NetworkBytes",
        run: { time_column: "TimeGenerated", data_column: "TotalBytesSent", group_by: ["Computer"], seasonal: 7, period: 24, score_threshold: 3.0 },
        group: { Computer: "LRK-WS104" },
        title: "Hourly bytes sent by LRK-WS104 (NetworkBytes): STL anomalies",
        value_label: "TotalBytesSent",
        height: 520,
      },
    },
  });
}

/**
 * PeriodicConnections of the scenario's proxy log: every source and destination pair ranked in
 * the page by hg_kernel.wasm (timeseries.periodic with output "events"), the C2 beacon first.
 */
function periodicSection() {
  return mountSection("periodic", {
    kernel: KERNEL_URL,
    datasets: { CommonSecurityLog: "/data/CommonSecurityLog.arrow" },
    state: {
      _kind: "periodic",
      spec: {
        dataset: "CommonSecurityLog",
        run: { time_column: "TimeGenerated", group_by: ["SourceIP", "DestinationIP"], bin_seconds: 1, min_events: 3 },
        top: 12,
        title: "Periodic connections in the proxy log (CommonSecurityLog, source → destination)",
        height: 520,
      },
    },
  });
}

/** Looks observables up through the proxy's /api/ti: the normalized results as Arrow bytes. */
async function lookUpTi(observables, providers = undefined) {
  const response = await fetch("/api/ti", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ observables, providers, format: "arrow" }),
  });
  if (response.status === 401) {
    throw new Error("open this page through the URL printed by huntglass serve (it carries the token) to look indicators up");
  }
  if (!response.ok) throw new Error(`the threat-intelligence look-up failed (HTTP ${response.status}): ${await response.text()}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function tiSection() {
  const el = document.getElementById("ti-widget");
  if (!el) return;
  let results;
  try {
    results = await lookUpTi(TI_OBSERVABLES);
  } catch (error) {
    showError(el, error);
    return;
  }
  return mountSection("ti", {
    datasets: { results },
    state: {
      _kind: "ti_browser",
      spec: { dataset: "results", title: "Threat intelligence on the scenario's indicators", severities: ["high", "warning"], height: 420 },
    },
  });
}

/**
 * The scenario's addresses (from the decoded PowerShell and the alerts) on a GeoMap, one mark per
 * address coloured by the local feed's severity: the offline data cannot place
 * the documentation ranges, so the marks stand where the alerts' ip entities say (geoLookup).
 */
async function tiMapSection() {
  const el = document.getElementById("ti-map-widget");
  if (!el) return;
  let results;
  try {
    // The local feed's verdicts only: the Tor list's "not an exit node" would stack an
    // information mark on every address.
    results = await lookUpTi(TI_ADDRESSES, ["LocalFeed"]);
  } catch (error) {
    showError(el, error);
    return;
  }
  return mountSection("ti-map", {
    basemap: "/static/basemap.bin",
    geo: geoLookup,
    datasets: { results },
    state: {
      _kind: "geo_map",
      spec: {
        dataset: "results",
        ip_column: "Ioc",
        color_column: "Severity",
        tooltip_columns: ["Ioc", "Provider", "Severity", "Details"],
        lines: false,
        title: "The scenario's addresses by the local TI feed's severity (placed by the alerts' entities)",
        height: 380,
      },
    },
  });
}

/**
 * Where this page draws the office's private addresses: the scenario gives no location for its
 * network (its public egress is a documentation address), so the page assumes one and says so.
 */
const OFFICE_SITE = {
  lon: -122.68,
  lat: 45.52,
  label: "office network (private address; the site is assumed by this page, the data give no location)",
};

/** The office's public (NAT) address, seen by Office 365: drawn at OFFICE_SITE too. */
const OFFICE_EGRESS_IP = "192.0.2.10";

/** The alerts' own locations of their ip entities, loaded once: address -> place. */
let alertPlacesPromise = null;

/**
 * Where the scenario's alerts place their ip entities: SecurityAlert.Entities (queried through
 * the proxy's local provider) holds each entity's `Location`, as Sentinel's enrichment adds it.
 * The attacker's addresses are documentation ranges that no geolocation data places; the alerts
 * do. Entities are log data: parsed as JSON, used as numbers and text labels drawn on a canvas.
 */
function alertPlaces() {
  alertPlacesPromise ??= (async () => {
    const response = await fetch("/api/query", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ provider: "local", text: 'SELECT "AlertName", "Entities" FROM "SecurityAlert"', format: "json", max_rows: 1000 }),
    });
    if (response.status === 401) {
      throw new Error("open this page through the URL printed by huntglass serve (it carries the token) to locate addresses");
    }
    if (!response.ok) throw new Error(`the alerts could not be queried (HTTP ${response.status}): ${await response.text()}`);
    const body = await response.json();
    const nameAt = body.columns.indexOf("AlertName");
    const entitiesAt = body.columns.indexOf("Entities");
    const places = new Map();
    for (const row of body.rows) {
      let entities;
      try {
        entities = JSON.parse(row[entitiesAt] ?? "[]");
      } catch {
        continue; // An alert whose Entities are not JSON names no place.
      }
      if (!Array.isArray(entities)) continue;
      for (const entity of entities) {
        const where = entity?.Location;
        if (entity?.Type !== "ip" || typeof entity.Address !== "string" || places.has(entity.Address)) continue;
        if (typeof where?.Latitude !== "number" || typeof where?.Longitude !== "number") continue;
        const city = [where.City, where.CountryName].filter((v) => typeof v === "string" && v).join(", ");
        const owner = typeof where.Organization === "string" && where.Organization ? `, ${where.Organization}` : "";
        places.set(entity.Address, {
          lon: where.Longitude,
          lat: where.Latitude,
          label: `${city}${owner} (location from the alert "${row[nameAt]}")`,
        });
      }
    }
    return places;
  })();
  return alertPlacesPromise;
}

/**
 * Places the GeoMap's addresses through the proxy's offline geolocation (/api/geo): public
 * addresses by country (drawn at the country's centroid; by coordinates with a city database),
 * private ones and the office's egress at OFFICE_SITE; addresses the offline data cannot place
 * (the documentation ranges of the story) where the alerts' ip entities say they are; the rest
 * nowhere.
 */
async function geoLookup(keys) {
  const [response, fromAlerts] = await Promise.all([
    fetch("/api/geo", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ips: keys }),
    }),
    alertPlaces(),
  ]);
  if (response.status === 401) {
    throw new Error("open this page through the URL printed by huntglass serve (it carries the token) to locate addresses");
  }
  if (!response.ok) throw new Error(`the geolocation look-up failed (HTTP ${response.status}): ${await response.text()}`);
  const body = await response.json();
  if (!Array.isArray(body.results) || body.results.length !== keys.length) throw new Error("the geolocation answer does not hold one record per address");
  const places = {};
  body.results.forEach((record, i) => {
    const owner = record.as_org ? `, ${record.as_org}` : "";
    if (record.category === "private") {
      places[keys[i]] = OFFICE_SITE;
    } else if (keys[i] === OFFICE_EGRESS_IP) {
      places[keys[i]] = { ...OFFICE_SITE, label: "the office's public egress address (the site is assumed by this page)" };
    } else if (typeof record.latitude === "number" && typeof record.longitude === "number") {
      places[keys[i]] = { lon: record.longitude, lat: record.latitude, label: `${record.city ?? ""} ${record.country_name ?? ""}${owner}`.trim() };
    } else if (record.country_code) {
      places[keys[i]] = { country: record.country_code, label: `${record.country_name ?? record.country_code}${owner}` };
    } else {
      places[keys[i]] = fromAlerts.get(keys[i]) ?? null;
    }
  });
  return places;
}

/**
 * GeoMap of the proxy log (CommonSecurityLog): each internal host's egress drawn as an arc from
 * the office to the country of the destination, located by the proxy's offline geolocation.
 */
function geoSection() {
  return mountSection("geo", {
    basemap: "/static/basemap.bin",
    geo: geoLookup,
    datasets: { points: "/data/CommonSecurityLog.arrow" },
    state: {
      _kind: "geo_map",
      spec: {
        dataset: "points",
        ip_column: "SourceIP",
        dst_ip_column: "DestinationIP",
        color_column: "DeviceAction",
        tooltip_columns: ["DestinationHostName", "DestinationIP", "SourceIP"],
        lines: true,
        title: "Egress from the office by destination country (CommonSecurityLog, offline geolocation)",
        height: 460,
      },
    },
  });
}

setupThemeToggle();
// Sections mount one after another so the first paints as early as possible.
await timelineSection();
await iocSection("ioc-commands", "SecurityEvent", "CommandLine", "Indicators in process command lines (SecurityEvent.CommandLine)", {
  include_paths: true,
});
await iocSection("ioc-proxy", "CommonSecurityLog", "RequestURL", "Indicators in proxy requests (CommonSecurityLog.RequestURL)");
await queriesSection();
await sessionsSection();
await decodeSection();
await processTreeSection();
await tiSection();
await tiMapSection();
await timeseriesSection();
await periodicSection();
await geoSection();
globalThis.__huntglassDemo = { mounted };
