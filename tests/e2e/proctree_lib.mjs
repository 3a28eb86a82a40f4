// Helpers shared by tests/e2e/process_tree.test.mjs and bench/proctree/browser_bench.mjs: the
// Python side builds N generated processes (plus a planted WINWORD -> powershell -> mimikatz
// chain with a hostile command line) into a ProcessTree and hands over its state and data set;
// mountTree mounts it with the real widget.js and browser wasm and waits for the first paint.

import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, runPython } from "./lib.mjs";

export const STATIC = path.join(ROOT, "widgets/src/huntglass/static");
export const HOSTILE = "<img src=x onerror=alert(1)> & <script>alert(2)</script>";

/** Python side: events, the built tree, the widget's state and data set (base64). */
export function prepareTree(dir, n) {
  runPython(
    `
import base64, json, random, sys
import pandas as pd
import huntglass as hg
from huntglass._html import STATE_KEYS

out, n, hostile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(11)
rows = []
t0 = pd.Timestamp("2024-05-01", tz="UTC")
hosts = 50
per = n // hosts
for h in range(hosts):
    alive = []
    for i in range(per):
        pid = 4 * (i + 10)
        if alive and rng.random() < 0.9:
            ppid = rng.choice(alive[-200:])
        else:
            ppid = 4
        name = rng.choice(["svchost", "cmd", "conhost", "powershell", "rundll32", "wmic"])
        rows.append({"TimeGenerated": t0 + pd.Timedelta(seconds=i), "Computer": f"HOST{h:02d}",
                     "EventID": 4688, "NewProcessName": f"C:\\\\Windows\\\\System32\\\\{name}.exe",
                     "NewProcessId": hex(pid), "ProcessId": hex(ppid),
                     "ParentProcessName": "", "CommandLine": f"{name}.exe /task {i}",
                     "SubjectUserName": rng.choice(["alice", "bob", "SYSTEM"])})
        alive.append(pid)
# the planted chain on HOST07: winword -> powershell -enc -> mimikatz (hostile command line too)
base = t0 + pd.Timedelta(days=2)
chain = [("WINWORD.EXE", 0x9000, 0x4, "winword.exe invoice.docm"),
         ("powershell.exe", 0x9004, 0x9000, "powershell -nop -enc SQBFAFgA"),
         ("mimikatz.exe", 0x9008, 0x9004, "mimikatz.exe sekurlsa::logonpasswords " + hostile)]
for k, (name, pid, ppid, cmd) in enumerate(chain):
    rows.append({"TimeGenerated": base + pd.Timedelta(seconds=k), "Computer": "HOST07",
                 "EventID": 4688, "NewProcessName": f"C:\\\\Users\\\\x\\\\{name}",
                 "NewProcessId": hex(pid), "ProcessId": hex(ppid), "ParentProcessName": "",
                 "CommandLine": cmd, "SubjectUserName": "mallory"})
df = pd.DataFrame(rows).drop(columns=["ParentProcessName"])
widget = hg.ProcessTree(df, color_by="SubjectUserName", height=500)
tree = widget.tree
data = widget._hg_data["Processes"]
state = {key: getattr(widget, key) for key in STATE_KEYS}
mimikatz = int(tree.index[tree["NewProcessName"].astype(str).str.endswith("mimikatz.exe")][0])
with open(f"{out}/page.json", "w") as f:
    json.dump({
        "state": state,
        "data": base64.b64encode(b"".join(bytes(c) for c in data.chunks)).decode(),
        "rows": len(tree),
        "roots": int(tree["IsRoot"].sum()),
        "mimikatz_row": mimikatz,
        "search_visible": int(tree["IsRoot"].sum()) + int(hg.proctree.ancestors(tree, tree.loc[mimikatz], include_source=False)["child_count"].sum()),
    }, f)
`,
    [dir, String(n), HOSTILE],
  );
  return JSON.parse(readFileSync(path.join(dir, "page.json"), "utf8"));
}

/** Mounts the widget in `page` and waits for its first paint; returns the first-paint ms. */
export async function mountTree(page, expected) {
  await page.setContent('<!doctype html><html><body><div id="host" style="width:1100px"></div></body></html>');
  const bundle = readFileSync(path.join(STATIC, "widget.js"), "utf8");
  const wasm = readFileSync(path.join(STATIC, "hg_wasm_bg.wasm")).toString("base64");
  await page.evaluate(
    async ({ bundle, wasm, data, state }) => {
      window.__alerts = 0;
      window.alert = () => (window.__alerts += 1);
      const url = URL.createObjectURL(new Blob([bundle], { type: "text/javascript" }));
      const module = await import(url);
      const { model, cleanup } = await module.mountStandalone(document.getElementById("host"), { state, wasm, datasets: { Processes: data } });
      window.__model = model;
      window.__cleanup = cleanup;
    },
    { bundle, wasm, data: expected.data, state: expected.state },
  );
  await page.waitForFunction(
    () => {
      const root = document.querySelector('[data-hg-widget="process_tree"]');
      if (root?.getAttribute("data-hg-state") === "error") throw new Error(root.textContent ?? "error");
      return Number(root?.getAttribute("data-hg-render-count") ?? 0) >= 1;
    },
    null,
    { timeout: 300_000, polling: 50 },
  );
  return Number(await page.getAttribute('[data-hg-widget="process_tree"]', "data-hg-first-paint-ms"));
}
