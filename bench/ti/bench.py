"""Threat-intelligence look-up benchmark: huntglass (hg_enrich) against MSTICPy 3.0.2.

Input (seeded, written to a temporary folder): 10,000 observables (5,000 public IPv4
addresses, 2,500 domains, 2,500 SHA-256 hashes), a local CSV feed of 20,000 indicators holding
half of them, and a Tor exit list of 5,000 addresses holding half of the observables' addresses.

huntglass (``cargo run --release -p hg_enrich --example ti_bench``): the local feed and the Tor
list over all 10,000 observables (classification included), then the 5,000 addresses against an
upstream provider served by a fake on 127.0.0.1, once to fill the disk cache and twice from it
(the second time after reopening the cache file, as after a restart).

huntglass through the proxy, as Python uses it (``huntglass serve`` from ``$HUNTGLASS_BIN`` or
``$CARGO_TARGET_DIR/release/huntglass``, ``hg.TILookup`` over HTTP with Arrow answers): the
10,000 observables against the same local feed, and the 5,000 addresses against the fake
upstream, once to fill the proxy's disk cache and then again from it. Process CPU time of the
proxy is read from /proc around each timed call.

Reference (``.venv-ref``, MSTICPy 3.0.2): it has no local feed provider; its Tor provider is the
local one (exit list held in memory, preloaded here so nothing is downloaded), run through
``TILookup.lookup_iocs`` on the same 10,000 observables; its IoC type detection
(``IoCExtract.get_ioc_type``, what it runs on each observable before any provider) is timed
on the same 10,000 too. Its HTTP providers memoize only the last 256 look-ups in memory and
have no disk cache, so there is no cached-look-up counterpart.

Writes ``results/results.md`` (``--out`` to change) with the date, the load average and the
source commit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REF_PYTHON = ROOT / ".venv-ref" / "bin" / "python"

REFERENCE_SCRIPT = r"""
import json, sys, time
from datetime import datetime, timezone
from msticpy.context.tilookup import TILookup
from msticpy.context.tiproviders.tor_exit_nodes import Tor
obs = [l for l in open(sys.argv[1]).read().splitlines() if l]
tor_text = open(sys.argv[2]).read()
Tor._nodelist = dict(Tor._tor_splitter(tor_text))
Tor._last_cached = datetime.now(timezone.utc)
provider = Tor()
lookup = TILookup(primary_providers=[provider])
started = time.perf_counter()
result = lookup.lookup_iocs(obs, progress=False)
elapsed = time.perf_counter() - started
found = int((result["Severity"] == "warning").sum()) if len(result) else 0
from msticpy.transform.iocextract import IoCExtract
extractor = IoCExtract()
started = time.perf_counter()
types = [extractor.get_ioc_type(o) for o in obs]
types_s = time.perf_counter() - started
print(json.dumps({"tor_s": elapsed, "tor_rows": int(len(result)), "tor_found": found,
                  "types_s": types_s, "types_unknown": types.count("unknown")}))
"""


def make_inputs(folder: Path, seed: int = 20261128) -> tuple[Path, Path, Path]:
    rng = random.Random(seed)

    def public_ip() -> str:
        while True:
            a = rng.randint(1, 223)
            if a in (10, 127, 100, 169, 172, 192, 198, 203):
                continue
            return f"{a}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def domain() -> str:
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(5, 12)))
        return f"{word}.{rng.choice(['com', 'net', 'org', 'io', 'info'])}"

    def sha256() -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(64))

    ips = list(dict.fromkeys(public_ip() for _ in range(5200)))[:5000]
    domains = list(dict.fromkeys(domain() for _ in range(2700)))[:2500]
    hashes = [sha256() for _ in range(2500)]
    observables = ips + domains + hashes
    rng.shuffle(observables)
    obs_path = folder / "observables.txt"
    obs_path.write_text("\n".join(observables) + "\n")
    in_feed = ips[::2] + domains[::2] + hashes[::2]
    extra = (
        [public_ip() for _ in range(5000)]
        + [domain() for _ in range(5000)]
        + [sha256() for _ in range(5000)]
    )
    feed_path = folder / "feed.csv"
    with feed_path.open("w") as f:
        f.write("value,severity,description\n")
        for i, v in enumerate(in_feed + extra):
            f.write(f"{v},{['high', 'warning', 'information'][i % 3]},bench indicator {i}\n")
    tor_ips = ips[1::2] + [public_ip() for _ in range(2500)]
    tor_path = folder / "tor.txt"
    with tor_path.open("w") as f:
        for i, ip in enumerate(tor_ips):
            f.write(
                f"ExitNode {i:040X}\nPublished 2026-11-27 10:00:00\n"
                f"LastStatus 2026-11-28 00:00:00\nExitAddress {ip} 2026-11-28 00:10:00\n"
            )
    return obs_path, feed_path, tor_path


def run_ours(obs: Path, feed: Path, tor: Path, folder: Path) -> dict:
    env = dict(os.environ)
    cmd = [
        "cargo",
        "run",
        "--quiet",
        "--release",
        "-p",
        "hg_enrich",
        "--example",
        "ti_bench",
        "--",
        str(obs),
        str(feed),
        str(tor),
        str(folder),
    ]
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


PROXY_SCRIPT = r"""
import json, sys, time
import huntglass as hg

url, token, pid, obs_path = sys.argv[1:5]
obs = [l for l in open(obs_path).read().splitlines() if l]
ips = [o for o in obs if o.count(".") == 3 and o.replace(".", "").isdigit()]


def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


ti = hg.TILookup(url=url, token=token)
out = {}
for name, values, provider in (("feed", obs, "LocalFeed"), ("first", ips, "OTX"),
                               ("cached", ips, "OTX"), ("cached_again", ips, "OTX")):
    c0 = cpu()
    started = time.perf_counter()
    rows = ti.lookup_iocs(values, providers=[provider])
    out[name + "_s"] = time.perf_counter() - started
    out[name + "_proxy_cpu"] = cpu() - c0
    out[name + "_rows"] = int(len(rows))
    out[name + "_found"] = int(rows["Result"].sum())
    out[name + "_cached"] = int(rows["Cached"].sum())
print(json.dumps(out))
"""


class _FakeOtx(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (
            b'{"pulse_info": {"count": 1, "pulses": [{"name": "bench pulse", "tags": ["bench"],'
            b' "references": []}]}}'
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _binary() -> Path | None:
    target = os.environ.get("CARGO_TARGET_DIR")
    for candidate in (
        os.environ.get("HUNTGLASS_BIN"),
        str(Path(target) / "release" / "huntglass") if target else None,
        str(ROOT / "target" / "release" / "huntglass"),
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def run_proxy(obs: Path, feed: Path, folder: Path) -> dict | None:
    binary = _binary()
    if binary is None:
        return None
    fake = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOtx)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    config = folder / "huntglass.toml"
    config.write_text(
        "[ti_providers.LocalFeed]\n"
        'Provider = "LocalFeed"\n'
        f'Args = {{ Path = "{feed}" }}\n'
        "[ti_providers.OTX]\n"
        'Provider = "OTX"\n'
        f'Args = {{ AuthKey = "bench-key", BaseUrl = "http://127.0.0.1:{fake.server_address[1]}", '
        "RequestsPerMinute = 0, Concurrency = 16, MaxRetries = 0 }\n"
    )
    env = dict(os.environ)
    cache = folder / "proxy-cache.redb"
    cache.unlink(missing_ok=True)
    env["HUNTGLASS_TI_CACHE"] = str(cache)
    token_file = folder / "serve.json"
    token_file.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            *(str(binary), "serve", "--port", "0", "--exit-after-idle", "120"),
            *("--config", str(config), "--token-file", str(token_file)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        for _ in range(600):
            if token_file.is_file():
                try:
                    info = json.loads(token_file.read_text())
                    break
                except ValueError:
                    pass
            time.sleep(0.1)
        else:
            raise RuntimeError("huntglass serve wrote no token file")
        out = subprocess.run(
            [
                *(sys.executable, "-c", PROXY_SCRIPT),
                *(info["url"], info["token"], str(process.pid), str(obs)),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        process.terminate()
        process.wait(timeout=30)
        fake.shutdown()


def run_reference(obs: Path, tor: Path) -> dict | None:
    if not REF_PYTHON.exists():
        return None
    out = subprocess.run(
        [str(REF_PYTHON), "-c", REFERENCE_SCRIPT, str(obs), str(tor)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "results.md"
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hg-ti-bench-") as tmp:
        folder = Path(tmp)
        obs, feed, tor = make_inputs(folder)
        ours = [run_ours(obs, feed, tor, folder) for _ in range(args.runs)]
        proxied = [r for r in (run_proxy(obs, feed, folder) for _ in range(args.runs)) if r]
        ref = [r for r in (run_reference(obs, tor) for _ in range(max(1, args.runs - 1))) if r]
    best = {k: min(r[k] for r in ours) for k in ours[0] if k.endswith("_s")}
    o = ours[0]
    load = os.getloadavg()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    n = o["observables"]
    up = o["upstream_observables"]

    def ms(seconds: float, count: int) -> str:
        return f"{seconds * 1000:,.1f} ms ({count / seconds:,.0f}/s)"

    if ref:
        ref_s = min(r["tor_s"] for r in ref)
        ref_tor = f"{ms(ref_s, n)}; {ref[0]['tor_found']:,} found"
        ref_types_s = min(r["types_s"] for r in ref)
        ref_types = f"{ms(ref_types_s, n)}; {ref[0]['types_unknown']:,} unknown"
    else:
        ref_tor = ref_types = "not run (.venv-ref missing)"

    def via_proxy(key: str, count: int) -> str:
        if not proxied:
            return "not run (no huntglass binary)"
        best_run = min(proxied, key=lambda r: r[key + "_s"])
        return (
            f"{ms(best_run[key + '_s'], count)}; proxy CPU "
            f"{best_run[key + '_proxy_cpu'] * 1000:,.0f} ms"
        )

    p = proxied[0] if proxied else {}
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = [
        (
            f"{n:,} observables against the local feed (20,000 indicators; "
            f"{o['feed_found']:,} found)",
            ms(best["feed_s"], n),
            "no local feed provider",
            "< 1 s",
        ),
        (
            f"{n:,} observables against the Tor exit list (5,000 addresses; "
            f"{o['tor_found']:,} found)",
            ms(best["tor_s"], n),
            ref_tor,
            "",
        ),
        (
            f"{up:,} addresses upstream (fake OTX on 127.0.0.1), first look-up filling the cache",
            ms(best["upstream_first_s"], up),
            "",
            "",
        ),
        (
            f"the same {up:,} from the disk cache ({o['cached_hits']:,} hits)",
            ms(best["cached_s"], up),
            "in-memory lru_cache of 256 only",
            ">= 10,000/s",
        ),
        (
            f"the same after reopening the cache file ({o['cached_after_restart_hits']:,} hits)",
            ms(best["cached_after_restart_s"], up),
            "no disk cache",
            "",
        ),
        (
            f"through the proxy from Python (hg.TILookup, Arrow over HTTP): {n:,} observables "
            f"against the local feed ({p.get('feed_found', 0):,} found)",
            via_proxy("feed", n),
            "no local feed provider",
            "< 1 s",
        ),
        (
            f"through the proxy: {up:,} addresses upstream (fake OTX), filling the cache",
            via_proxy("first", up),
            "",
            "",
        ),
        (
            f"through the proxy: the same {up:,} from the disk cache "
            f"({p.get('cached_cached', 0):,} cached)",
            via_proxy("cached", up),
            "in-memory lru_cache of 256 only",
            ">= 10,000/s",
        ),
        (
            f"IoC type detection of the {n:,} observables (huntglass: included in the rows above)",
            "",
            ref_types,
            "",
        ),
        (
            "loading the feed (CSV, 20,000 rows) and the Tor list",
            ms(best["feed_load_s"], 1),
            "",
            "",
        ),
    ]
    lines = [
        "# Threat-intelligence look-ups: huntglass vs MSTICPy 3.0.2",
        "",
        f"Run {when}, commit {commit}, load average {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} on a shared 2-core machine; best of {args.runs} runs (huntglass: "
        "release build). Inputs and method: `bench/ti/bench.py`.",
        "",
        "| measurement | huntglass | MSTICPy 3.0.2 | target |",
        "|---|---:|---:|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    json.dump({"ours": ours, "proxied": proxied, "reference": ref}, sys.stderr)


if __name__ == "__main__":
    main()
