"""Offline IP geolocation benchmark: huntglass (hg_enrich::geo) against MSTICPy 3.0.2.

huntglass (``cargo run --release -p hg_enrich --example geo_bench -- build/geo N``): loads the
installed data (country mmdb + ASN range tables, ``scripts/setup.sh``), then looks up N seeded
random addresses given as text (90% IPv4 over the whole space, 10% IPv6 in 2000::/3) on one
thread: classification (private, documentation, ...), country, continent, ASN and AS
organisation for each. Wall and process CPU time are measured inside the example.

Reference (``.venv-ref``, MSTICPy 3.0.2): its geolocation providers cannot run here.
``GeoLiteLookup`` needs MaxMind's GeoLite2-City database, downloaded with a MaxMind account ID
and licence key (HTTP Basic to download.maxmind.com) under the GeoLite2 EULA; ``IPStackLookup``
needs an ipstack API key and calls api.ipstack.com per address. Neither ships data and the
machine has no network, so what is timed is the part it runs on every address before any
database: ``get_ip_type`` (its address classification), on the first 100,000 of the same
addresses (scaled to a rate).

Writes ``results/results.md`` (``--out`` to change) with the date, the load average and the
source commit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REF_PYTHON = ROOT / ".venv-ref" / "bin" / "python"

REFERENCE_SCRIPT = r"""
import json, random, sys, time, ipaddress
from msticpy.context.ip_utils import get_ip_type
n = int(sys.argv[1])
rng = random.Random(20261128)
ips = []
for i in range(n):
    if i % 10 == 9:
        high = (0x2000 + rng.randrange(0x2000)) << 112
        ips.append(str(ipaddress.IPv6Address(high | rng.getrandbits(64))))
    else:
        ips.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
c0 = time.process_time()
t0 = time.perf_counter()
kinds = [get_ip_type(ip) for ip in ips]
wall = time.perf_counter() - t0
cpu = time.process_time() - c0
print(json.dumps({"n": n, "s": wall, "cpu_s": cpu, "public": kinds.count("Public")}))
"""


def run_ours(data: Path, n: int) -> dict:
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "hg_enrich", "--example", "geo_bench"]
    out = subprocess.run(
        [*cmd, "--", str(data), str(n)], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_reference(n: int) -> dict | None:
    if not REF_PYTHON.exists():
        return None
    out = subprocess.run(
        [str(REF_PYTHON), "-c", REFERENCE_SCRIPT, str(n)],
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
    parser.add_argument("--data", type=Path, default=ROOT / "build" / "geo")
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ours = [run_ours(args.data, args.n) for _ in range(args.runs)]
    ref = run_reference(min(args.n, 100_000))
    best = min(ours, key=lambda r: r["lookup_s"])
    load = os.getloadavg()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    n = best["n"]
    ref_cell = (
        f"{ref['n'] / ref['s']:,.0f}/s wall, {ref['n'] / max(ref['cpu_s'], 1e-9):,.0f}/s CPU "
        f"(classification only, {ref['n']:,} addresses)"
        if ref
        else "not run (.venv-ref missing)"
    )
    lines = [
        "# Offline IP geolocation: huntglass vs MSTICPy 3.0.2",
        "",
        f"Run {when}, commit {commit}, load average {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} on a shared 2-core machine; best of {args.runs} runs (release build, "
        "one thread). Inputs and method: `bench/geo/bench.py`.",
        "",
        "| measurement | huntglass | MSTICPy 3.0.2 | target |",
        "|---|---:|---:|---|",
        f"| {n:,} look-ups (classification, country, continent, ASN, AS org); "
        f"{best['public']:,} public, {best['with_country']:,} with a country, "
        f"{best['with_asn']:,} with an ASN | {n / best['lookup_s']:,.0f}/s wall "
        f"({best['lookup_s'] * 1000:,.0f} ms), {n / max(best['lookup_cpu_s'], 0.01):,.0f}/s "
        f"CPU | {ref_cell} | >= 1,000,000/s |",
        f"| loading the data (country mmdb, IPv4 + IPv6 ASN CSV) | "
        f"{min(r['load_s'] for r in ours):,.2f} s | GeoLite2-City needs a MaxMind licence key "
        "and a download; IPStack a key and one HTTP call per address | |",
        "",
        "The reference drops every address that is not public (its placeholder record is never "
        "emitted); huntglass reports each with its kind. Its classification also differs: "
        "`get_ip_type` calls 100.64.0.0/10 (CGNAT) and every invalid input `Unspecified` and "
        "240.0.0.0/4 and 2001:db8::/32 `Private`; huntglass names them `cgnat`, `invalid`, "
        "`reserved` and `documentation`.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
