// The SessionRarity widget in Debian's chromium, mounted through mountStandalone with the real
// widget.js, browser wasm and engines' module (widgets/src/huntglass/static, built by
// scripts/build.sh) on the events Python's hg.SessionRarity sends: seeded office-like activity
// of 400 users plus one session of rare actions with hostile names and parameters. Sessionizing
// and scoring run in the page (runOp("sessions.score_events")); the session count, the scored
// count, the rarest session and its window must equal the kernel-side hg.sessions.build + score
// on the same events; clicking the rarest session must list its actions with the rarest window
// marked and its parameters as text (no element made, no dialog), and set the selection traitlet;
// the threshold must count the sessions at or below it.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { OUT_DIR, ROOT, launchBrowser, requireFile, runPython, watchPage } from "./lib.mjs";

const STATIC = path.join(ROOT, "widgets/src/huntglass/static");
const HOSTILE_OP = "<img src=x onerror=alert(1)>";
const HOSTILE_PARAMS = "<script>alert(2)</script> ForwardTo=evil@example.org";

function prepare(dir) {
  runPython(
    `
import base64, json, random, sys
import pandas as pd
import huntglass as hg
from huntglass._html import STATE_KEYS

out, hostile_op, hostile_params = sys.argv[1], sys.argv[2], sys.argv[3]
rng = random.Random(11)
ops = ["MailItemsAccessed", "Send", "FileAccessed", "FileModified", "Update"]
rows = []
start = pd.Timestamp("2024-03-04 08:00", tz="UTC")
for u in range(400):
    t = start + pd.Timedelta(minutes=rng.randint(0, 600))
    for _ in range(rng.randint(3, 30)):
        t += pd.Timedelta(seconds=rng.choice((20, 40, 90, 600, 3600)))
        op = rng.choice(ops)
        rows.append((f"user{u}@example.com", f"10.0.{u % 200}.{u % 7}", t, op, ""))
t = start + pd.Timedelta(hours=5)
for op, params in [("MailItemsAccessed", ""), ("New-InboxRule", hostile_params),
                   (hostile_op, "Identity=ceo"), ("Add-MailboxPermission", "AccessRights=FullAccess"),
                   ("Set-Mailbox", "ForwardingSmtpAddress=evil@example.org")]:
    t += pd.Timedelta(seconds=30)
    rows.append(("mallory@example.com", "203.0.113.77", t, op, params))
df = pd.DataFrame(rows, columns=["UserId", "ClientIP", "TimeGenerated", "Operation", "Parameters"])
df = df.sample(frac=1, random_state=3).reset_index(drop=True)
options = dict(user_identifier_cols=["UserId", "ClientIP"], time_col="TimeGenerated",
               max_session_time_mins=20, max_event_separation_mins=2, event_col="Operation")
widget = hg.SessionRarity(df, **options, window_length=2, params_col="Parameters")
data = widget._hg_data["events"]
state = {key: getattr(widget, key) for key in STATE_KEYS}
sessions = hg.sessions.build(df, **options)
scored = hg.sessions.score(sessions, "Operation_list", 2, window_start=True)
lik = scored["rarest_window2_likelihood"]
rarest = int(lik.idxmin())
with open(f"{out}/page.json", "w") as f:
    json.dump({
        "state": state,
        "data": base64.b64encode(b"".join(bytes(c) for c in data.chunks)).decode(),
        "events": len(df),
        "sessions": len(scored),
        "scored": int(lik.notna().sum()),
        "likelihoods": [None if pd.isna(v) else float(v) for v in lik],
        "rarest": rarest,
        "rarest_ops": list(scored["Operation_list"][rarest]),
        "rarest_start": int(scored["rarest_window2_start"][rarest]),
        "rarest_window": list(scored["rarest_window2"][rarest]),
    }, f)
`,
    [dir, HOSTILE_OP, HOSTILE_PARAMS],
  );
  return JSON.parse(readFileSync(path.join(dir, "page.json"), "utf8"));
}

const ROOT_SEL = '[data-hg-widget="session_rarity"]';

describe("SessionRarity in chromium", { timeout: 600_000 }, () => {
  let browser;
  let page;
  let seen;
  let expected;
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-sessions-"));

  before(async () => {
    for (const file of ["widget.js", "hg_wasm_bg.wasm", "hg_kernel.wasm"]) requireFile(path.join(STATIC, file), `static/${file}`);
    expected = prepare(dir);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    seen = watchPage(page);
    await page.setContent('<!doctype html><html><body><div id="host" style="width:1100px"></div></body></html>');
    const bundle = readFileSync(path.join(STATIC, "widget.js"), "utf8");
    const wasm = readFileSync(path.join(STATIC, "hg_wasm_bg.wasm")).toString("base64");
    const kernel = readFileSync(path.join(STATIC, "hg_kernel.wasm")).toString("base64");
    await page.evaluate(
      async ({ bundle, wasm, kernel, data, state }) => {
        window.__alerts = 0;
        window.alert = () => (window.__alerts += 1);
        const url = URL.createObjectURL(new Blob([bundle], { type: "text/javascript" }));
        const module = await import(url);
        const { model, cleanup } = await module.mountStandalone(document.getElementById("host"), { state, wasm, kernel, datasets: { events: data } });
        window.__model = model;
        window.__cleanup = cleanup;
      },
      { bundle, wasm, kernel, data: expected.data, state: expected.state },
    );
    await page.waitForFunction(
      (sel) => {
        const root = document.querySelector(sel);
        const state = root?.getAttribute("data-hg-state");
        if (state === "error") throw new Error(root.querySelector('[data-hg-role="error"]')?.textContent ?? "error");
        return state === "ready";
      },
      ROOT_SEL,
      { timeout: 300_000, polling: 200 },
    );
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("sessions, scores and the rarest session equal the kernel-side hg.sessions", async () => {
    const attr = (name) => page.getAttribute(ROOT_SEL, name);
    assert.equal(await attr("data-hg-n-events"), String(expected.events));
    assert.equal(await attr("data-hg-n-sessions"), String(expected.sessions));
    assert.equal(await attr("data-hg-n-scored"), String(expected.scored));
    assert.equal(await attr("data-hg-rarest-session"), String(expected.rarest));
    assert.ok(expected.rarest_ops.includes("New-InboxRule"), "the planted session is the rarest");
    const ink = await page.$eval('[data-hg-role="chart"]', (canvas) => {
      const ctx = canvas.getContext("2d");
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured += 1;
      }
      return coloured;
    });
    assert.ok(ink > 2000, `coloured session marks drawn (${ink} pixels)`);
    assert.ok((await page.$$('[data-hg-role="legend-item"]')).length > 0);
  });

  test("clicking the rarest session lists its actions, window marked, hostile text as text", async () => {
    const xy = (await page.getAttribute(ROOT_SEL, "data-hg-rarest-xy")).split(",").map(Number);
    const box = await page.locator('[data-hg-role="chart"]').boundingBox();
    await page.mouse.click(box.x + xy[0], box.y + xy[1]);
    await page.waitForFunction((sel) => document.querySelector(sel).getAttribute("data-hg-detail-session") !== "-1", ROOT_SEL, { timeout: 10_000 });
    assert.equal(await page.getAttribute(ROOT_SEL, "data-hg-detail-session"), String(expected.rarest));
    const actions = await page.$$eval('[data-hg-role="action"]', (rows) =>
      rows.map((r) => ({
        name: r.querySelector('[data-hg-role="action-name"]').textContent,
        params: r.querySelector('[data-hg-role="action-params"]')?.textContent ?? "",
        inWindow: r.getAttribute("data-hg-in-window") === "true",
      })),
    );
    assert.deepEqual(
      actions.map((a) => a.name),
      expected.rarest_ops.map((op, i) => `${i + 1}. ${op}`),
    );
    const marked = actions.map((a, i) => (a.inWindow ? i : -1)).filter((i) => i >= 0);
    const want = expected.rarest_window.map((_, k) => expected.rarest_start + k);
    assert.deepEqual(marked, want);
    assert.ok(actions.some((a) => a.params === HOSTILE_PARAMS), "parameters shown as text");
    assert.ok(actions.some((a) => a.name.endsWith(HOSTILE_OP)), "hostile action name shown as text");
    const made = await page.$$eval(`${ROOT_SEL} script, ${ROOT_SEL} img`, (nodes) => nodes.length);
    assert.equal(made, 0);
    assert.equal(await page.evaluate(() => window.__alerts), 0);
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.pageErrors, []);
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUT_DIR, "session_rarity.png") });
    await page.waitForFunction((s) => (window.__model.get("selection")?.sessions ?? []).includes(s), expected.rarest, { timeout: 10_000 });
    assert.deepEqual(await page.evaluate(() => window.__model.get("selection")), { sessions: [expected.rarest] });
  });

  test("the threshold counts the sessions at or below it; select-below sends them all", async () => {
    const sorted = expected.likelihoods.filter((v) => v !== null).sort((a, b) => a - b);
    const threshold = sorted[9];
    await page.$eval('[data-hg-role="threshold"]', (input, v) => {
      input.value = String(Math.log10(v));
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }, threshold);
    const used = Number(await page.getAttribute(ROOT_SEL, "data-hg-threshold"));
    const below = expected.likelihoods.filter((v) => v !== null && v <= used).length;
    assert.ok(below >= 1);
    assert.equal(await page.getAttribute(ROOT_SEL, "data-hg-n-below"), String(below));
    assert.equal((await page.$$('[data-hg-role="below-item"]')).length, Math.min(below, 200));
    const first = await page.getAttribute('[data-hg-role="below-item"]', "data-hg-session");
    assert.equal(first, String(expected.rarest), "the list starts with the rarest session");
    await page.click('[data-hg-tool="select-below"]');
    await page.waitForFunction((n) => (window.__model.get("selection")?.sessions ?? []).length === n, below, { timeout: 10_000 });
    await page.click('[data-hg-tool="clear"]');
    await page.waitForFunction(() => (window.__model.get("selection")?.sessions ?? [1]).length === 0, null, { timeout: 10_000 });
  });

  test("theme follows the traitlet; cleanup removes the widget", async () => {
    await page.evaluate(() => window.__model.set("theme", "dark"));
    assert.equal(await page.getAttribute(ROOT_SEL, "data-hg-theme"), "dark");
    await page.evaluate(() => window.__cleanup());
    assert.equal(await page.$$eval(ROOT_SEL, (n) => n.length), 0);
  });
});
