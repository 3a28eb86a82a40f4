"""STL + anomaly scoring speed: huntglass natively, in the kernel (wasmtime) and the reference.

Run from the repository root with the development venv after `scripts/build.sh` (and the
native example built: `cargo build --release -p hg_analytics --example timeseries_bench`):
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
NATIVE = TARGET / "release" / "examples" / "timeseries_bench"
REF_PYTHON = ROOT / ".venv-ref" / "bin" / "python"


def native_seconds(values: np.ndarray) -> tuple[float, int]:
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
    return row["seconds"], row["anomalies"]


def kernel_seconds(values: np.ndarray) -> tuple[float, int]:
    import huntglass as hg

    times = pd.date_range("2026-01-01", periods=len(values), freq="h", tz="UTC")
    frame = pd.DataFrame({"TimeGenerated": times, "TotalBytesSent": values})
    best = float("inf")
    flagged = 0
    for _ in range(3):
        started = time.perf_counter()
        out = hg.timeseries.anomalies(frame, "TimeGenerated", "TotalBytesSent")
        best = min(best, time.perf_counter() - started)
        flagged = int((out["anomalies"] != 0).sum())
    return best, flagged


def reference_seconds(n: int, seed: int) -> tuple[float, int]:
    runner = Path(__file__).parent / "ref_runner.py"
    done = subprocess.run(
        [str(REF_PYTHON), str(runner)],
        input=json.dumps({"n": n, "seed": seed}),
        capture_output=True,
        text=True,
        check=True,
    )
    row = json.loads(done.stdout)
    return row["seconds"], sum(1 for a in row["anomalies"] if a)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000,1000000")
    args = parser.parse_args()
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        values = series(n, 7)
        native, native_flags = native_seconds(values)
        kernel, kernel_flags = kernel_seconds(values)
        ref, ref_flags = reference_seconds(n, 7)
        rows.append((n, native, kernel, ref, native_flags, kernel_flags, ref_flags))
        print(rows[-1], flush=True)
    load = os.getloadavg()
    lines = [
        "# STL + anomaly scoring: huntglass vs the reference",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()} "
        f"({os.cpu_count()} cores shared with other work; load average {load[0]:.1f}), by "
        "`bench/timeseries/bench.py`. Series: hourly, seeded (`ref_runner.series`, seed 7), the "
        "reference's defaults (seasonal 7, period 24, threshold 3). Native: best of 3 "
        "(`timeseries_bench --file`, STL + scoring, no I/O). Kernel: best of 3 "
        "`hg.timeseries.anomalies` on a pandas frame (hg_kernel.wasm under wasmtime, Arrow in "
        "and out included). Reference: one run of MSTICPy 3.0.2 `ts_anomalies_stl` (statsmodels "
        "STL + scipy z-score), timed in its process.",
        "",
        "| points | native s | kernel s | reference s | reference / native | reference / kernel "
        "| anomalies (native / kernel / reference) |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for n, native, kernel, ref, a, b, c in rows:
        lines.append(
            f"| {n:,} | {native:.4f} | {kernel:.4f} | {ref:.4f} | {ref / native:.1f}x "
            f"| {ref / kernel:.1f}x | {a} / {b} / {c} |"
        )
    out = Path(__file__).parent / "results" / "speed.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
