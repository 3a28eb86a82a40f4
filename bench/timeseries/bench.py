"""STL + anomaly scoring speed: huntglass natively, in the kernel (wasmtime) and the reference.

Run from the repository root with the development venv after `scripts/build.sh` (and the
native example built: `cargo build --release -p hg_analytics --example timeseries_bench`, or
another optimized profile with its path in HG_TS_BENCH_BIN):
`.venv/bin/python bench/timeseries/bench.py [--sizes 1000,100000,1000000]`. The same seeded
series (ref_runner.series) goes to the three; the reference (MSTICPy 3.0.2 ts_anomalies_stl, in
.venv-ref) is timed inside its own process. Writes bench/timeseries/results/speed.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
from ref_runner import series  # noqa: E402

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
NATIVE = Path(
    os.environ.get("HG_TS_BENCH_BIN", TARGET / "release" / "examples" / "timeseries_bench")
)
REF_PYTHON = ROOT / ".venv-ref" / "bin" / "python"


def native_seconds(values: np.ndarray) -> tuple[float, float | None, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(" ".join(repr(float(v)) for v in values))
        path = f.name
    try:
        out = subprocess.run(
            [str(NATIVE), "--file", path], capture_output=True, text=True, check=True
        ).stdout
    finally:
        os.unlink(path)
    row = json.loads(out.splitlines()[-1])
    return row["seconds"], row.get("cpu_seconds"), row["anomalies"]


def kernel_seconds(values: np.ndarray) -> tuple[float, float, int]:
    import huntglass as hg

    times = pd.date_range("2026-01-01", periods=len(values), freq="h", tz="UTC")
    frame = pd.DataFrame({"TimeGenerated": times, "TotalBytesSent": values})
    best = best_cpu = float("inf")
    flagged = 0
    for _ in range(3):
        started = time.perf_counter()
        cpu_started = time.process_time()
        out = hg.timeseries.anomalies(frame, "TimeGenerated", "TotalBytesSent")
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu_started)
        flagged = int((out["anomalies"] != 0).sum())
    return best, best_cpu, flagged


def reference_seconds(n: int, seed: int) -> tuple[float, float, int]:
    runner = Path(__file__).parent / "ref_runner.py"
    done = subprocess.run(
        [str(REF_PYTHON), str(runner)],
        input=json.dumps({"n": n, "seed": seed}),
        capture_output=True,
        text=True,
        check=True,
    )
    row = json.loads(done.stdout)
    return row["seconds"], row["cpu_seconds"], sum(1 for a in row["anomalies"] if a)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000,1000000")
    args = parser.parse_args()
    rows = []
    loads = []
    for n in [int(s) for s in args.sizes.split(",")]:
        values = series(n, 7)
        loads.append(os.getloadavg()[0])
        native = native_seconds(values)
        kernel = kernel_seconds(values)
        ref = reference_seconds(n, 7)
        rows.append((n, native, kernel, ref))
        print(rows[-1], flush=True)
    loads.append(os.getloadavg()[0])
    lines = [
        "# STL + anomaly scoring: huntglass vs the reference",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()} "
        f"({os.cpu_count()} cores shared with other work; 1-minute load average "
        f"{min(loads):.1f} to {max(loads):.1f} during the run), by `bench/timeseries/bench.py`. "
        "Series: hourly, seeded (`ref_runner.series`, seed 7), the reference's defaults "
        "(seasonal 7, period 24, threshold 3). Native: best of 3 (`timeseries_bench --file`, "
        "STL + scoring, no I/O; CPU time from /proc/self/stat in 10 ms ticks). Kernel: best of 3 "
        "`hg.timeseries.anomalies` on a pandas frame (hg_kernel.wasm under wasmtime, Arrow in "
        "and out included; CPU = the Python process's time). Reference: one run of MSTICPy 3.0.2 "
        "`ts_anomalies_stl` (statsmodels STL + scipy z-score), timed in its process. Wall times "
        "on a shared machine grow with the load; CPU times much less so. Ratios are of CPU "
        "times (wall-time ratios in brackets).",
        "",
        "| points | native wall / CPU s | kernel wall / CPU s | reference wall / CPU s "
        "| reference / native | reference / kernel | anomalies (native / kernel / reference) |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]

    def ratio(ref: float, ours: float | None) -> str:
        return f"{ref / ours:.1f}x" if ours else "n/a"

    for n, (nw, nc, na), (kw, kc, ka), (rw, rc, ra) in rows:
        native_cpu = f"{nc:.2f}" if nc is not None and nc >= 0.05 else "< 0.05"
        lines.append(
            f"| {n:,} | {nw:.4f} / {native_cpu} | {kw:.4f} / {kc:.4f} | {rw:.4f} / {rc:.4f} "
            f"| {ratio(rc, nc if nc and nc >= 0.05 else None)} ({rw / nw:.1f}x) "
            f"| {ratio(rc, kc)} ({rw / kw:.1f}x) | {na} / {ka} / {ra} |"
        )
    out = Path(__file__).parent / "results" / "speed.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
