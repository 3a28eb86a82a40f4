// The demo page's sessions section (`huntglass serve`, examples/pages) in Debian's chromium: the
// SessionRarity of the built-in scenario's OfficeActivity (by UserId and ClientIP, 20 min
// sessions, 2 min gaps, windows of 2) sessionizes and scores in the page; its session counts and
// rarest session equal the kernel-side hg.sessions on the same table, the rarest session is the
// attacker's (from 203.0.113.77), and clicking it lists its operations with the mailbox
// forwarding among them, without page error or dialog.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { HUNTGLASS_BIN, openDemoPage, runPython, waitForWidgetReady } from "./lib.mjs";

const ROOT_SEL = '#sessions-widget [data-hg-widget="session_rarity"]';

/** Kernel-side sessions of the scenario's OfficeActivity (same seed and scale as serve). */
function kernelSessions() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hg-demo-sessions-"));
  try {
    const generated = spawnSync(HUNTGLASS_BIN, ["demo-data", "--out", dir], { encoding: "utf8", timeout: 300_000 });
    assert.equal(generated.status, 0, `huntglass demo-data failed: ${generated.stderr}${generated.stdout}`);
    const out = runPython(
      `
import json, sys
import pyarrow.ipc as ipc
import huntglass as hg
with open(f"{sys.argv[1]}/OfficeActivity.arrow", "rb") as f:
    office = ipc.open_stream(f.read()).read_all().to_pandas()
sessions = hg.sessions.build(office, user_identifier_cols=["UserId", "ClientIP"], time_col="TimeGenerated",
                             max_session_time_mins=20, max_event_separation_mins=2, event_col="Operation")
scored = hg.sessions.score(sessions, "Operation_list", 2)
lik = scored["rarest_window2_likelihood"]
rarest = int(lik.idxmin())
print(json.dumps({"events": len(office), "sessions": len(scored), "scored": int(lik.notna().sum()),
                  "rarest": rarest, "ip": scored["ClientIP"][rarest],
                  "ops": list(scored["Operation_list"][rarest])}))
`,
      [dir],
    );
    return JSON.parse(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("demo page sessions section", { timeout: 600_000 }, () => {
  let server;
  let browser;
  let page;
  let seen;

  before(async () => {
    ({ server, browser, page, seen } = await openDemoPage());
    await waitForWidgetReady(page, ROOT_SEL);
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  test("the attacker's session is the rarest, as the kernel-side hg.sessions finds", async () => {
    const expected = kernelSessions();
    assert.equal(expected.ip, "203.0.113.77");
    const attr = (name) => page.getAttribute(ROOT_SEL, name);
    assert.equal(await attr("data-hg-n-events"), String(expected.events));
    assert.equal(await attr("data-hg-n-sessions"), String(expected.sessions));
    assert.equal(await attr("data-hg-n-scored"), String(expected.scored));
    assert.equal(await attr("data-hg-rarest-session"), String(expected.rarest));
    const first = page.locator(`${ROOT_SEL} [data-hg-role="below-item"]`).first();
    assert.equal(await first.getAttribute("data-hg-session"), String(expected.rarest));
    assert.ok((await first.textContent()).includes("203.0.113.77"));
    await first.click();
    await page.waitForFunction((sel) => document.querySelector(sel).getAttribute("data-hg-detail-session") !== "-1", ROOT_SEL, { timeout: 10_000 });
    const names = await page.$$eval(`${ROOT_SEL} [data-hg-role="action-name"]`, (n) => n.map((x) => x.textContent));
    assert.deepEqual(names, expected.ops.map((op, i) => `${i + 1}. ${op}`));
    assert.ok(expected.ops.some((op) => ["New-InboxRule", "Set-InboxRule", "Set-Mailbox"].includes(op)), expected.ops.join(", "));
    const marked = await page.$$eval(`${ROOT_SEL} [data-hg-role="action"][data-hg-in-window="true"]`, (n) => n.length);
    assert.ok(marked >= 1 && marked <= 2, `rarest pair marked (${marked} actions)`);
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.pageErrors, []);
  });
});
