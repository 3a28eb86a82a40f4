"""Kernel-side (hg_kernel.wasm under wasmtime) vs native throughput of ioc.extract.

Same input as the engine benchmark (crates/hg_ioc/benches/extract.rs): the 1 MB mixed corpus of
``gen_corpus.py --seed 11 --bytes 1000000``, one record per row, all types enabled. Measured:

* native op: ``Registry::call("ioc.extract")`` on the Arrow IPC of the corpus (example
  ``crates/hg_ops/examples/ioc_throughput.rs``, release build), and the bare engine loop;
* kernel op: ``huntglass._kernel.call("ioc.extract", ...)`` on the same table (IPC write, copy
  into wasm memory, the op in wasmtime, copy out, IPC read);
* kernel DataFrame mode: ``hg.ioc.extract(df, columns=["Text"], include_paths=True)`` from a
  pandas DataFrame to a pandas DataFrame (conversion, batching, ``Input`` column included).

Native and kernel runs are interleaved in rounds so that load from other processes on the
machine affects both alike; medians and bests of wall time and the best thread CPU time are
reported. Writes ``results/kernel.md``.

Usage: python bench/ioc/kernel_bench.py [--rounds 3] [--runs 20]
Needs ``make build`` (hg_kernel.wasm) and cargo. Build both from the same sources: the IoC counts
of the two must agree (checked).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "widgets" / "src"))

import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
from native_build import build_example  # noqa: E402

import huntglass as hg  # noqa: E402
from huntglass import _kernel  # noqa: E402

PROFILE_NOTE = (
    "Why the kernel has its own build profile: on 2026-11-27 (an earlier engine version, same "
    "corpus, same machine) the kernel op ran at 4.5-7.0 MB/s built with `wasm-release` "
    "(opt-level z), 7.3-9.5 MB/s with opt-level 3 and 10.5-14.5 MB/s with opt-level 3 plus wasm "
    "SIMD (`kernel-release` + `+simd128`, what scripts/build.sh builds), for 2.93 -> 3.52 MB raw "
    "and 811 -> 913 KB gzip (stripped). The first-ever load compiles the module (about 10 s "
    "under this machine's load); later processes load the compiled code from the disk cache."
)


def corpus(target: Path) -> Path:
    text = target / "hg_ioc_bench_corpus_seed11.txt"
    if not text.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "ioc" / "gen_corpus.py"),
                "--seed",
                "11",
                "--bytes",
                "1000000",
                "--out",
                str(target / "hg_ioc_bench_corpus_seed11.jsonl"),
                "--text-out",
                str(text),
            ],
            check=True,
        )
    return text


def native(binary: Path, text: Path, runs: int) -> dict:
    out = subprocess.run(
        [str(binary), str(text), str(runs)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(fn, runs: int) -> list[tuple[float, float]]:
    """(wall, thread CPU) seconds of each of `runs` calls."""
    times = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        times.append((time.perf_counter() - start, time.thread_time() - start_cpu))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--native-binary",
        type=Path,
        help="a built ioc_throughput example (default: build it from this checkout)",
    )
    args = parser.parse_args()

    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    target.mkdir(parents=True, exist_ok=True)
    text = corpus(target)
    # Built once, so that every round runs the same binary.
    binary = args.native_binary or build_example("hg_ops", "ioc_throughput", target)
    lines = text.read_text(encoding="utf-8").splitlines()
    size = sum(len(line.encode("utf-8")) + 1 for line in lines)
    table = pa.table({"Text": pa.array(lines, pa.string())})
    frame = pd.DataFrame({"Text": lines})
    options = {"columns": ["Text"]}

    load_started = time.perf_counter()
    first = _kernel.call("ioc.extract", options, table)  # loads (or compiles) the module
    load_seconds = time.perf_counter() - load_started

    native_op, native_engine, kernel_op, kernel_df = [], [], [], []
    found = first.num_rows
    for _ in range(args.rounds):
        n = native(binary, text, args.runs)
        assert n["bytes"] == size, (n["bytes"], size)
        assert n["iocs"] == found, f"native found {n['iocs']}, kernel {found}"
        native_op.append((n["op_seconds"], n["op_best_seconds"], n["op_cpu_best_seconds"]))
        native_engine.append(
            (n["engine_seconds"], n["engine_best_seconds"], n["engine_cpu_best_seconds"])
        )
        kernel_op += timed(lambda: _kernel.call("ioc.extract", options, table), args.runs)
        kernel_df += timed(
            lambda: hg.ioc.extract(frame, columns=["Text"], include_paths=True), args.runs
        )

    def native_summary(rounds: list[tuple[float, float, float]]) -> tuple[float, float, float]:
        # The example reports each round's median and best; the median of the medians, the best
        # of the bests.
        return (
            statistics.median(r[0] for r in rounds),
            min(r[1] for r in rounds),
            min(r[2] for r in rounds),
        )

    def kernel_summary(calls: list[tuple[float, float]]) -> tuple[float, float, float]:
        return (
            statistics.median(c[0] for c in calls),
            min(c[0] for c in calls),
            min(c[1] for c in calls),
        )

    rows = [
        ("native engine (hg_ioc loop, no Arrow)", native_summary(native_engine)),
        ("native op (hg_ops ioc.extract, Arrow in/out)", native_summary(native_op)),
        ("kernel op (_kernel.call, wasmtime)", kernel_summary(kernel_op)),
        ("kernel DataFrame mode (hg.ioc.extract, pandas in/out)", kernel_summary(kernel_df)),
    ]
    base = rows[1][1]
    wasm = _kernel.kernel_path()
    lines_md = [
        "# IoC extraction: kernel-side (wasmtime) vs native",
        "",
        f"Corpus: `gen_corpus.py --seed 11 --bytes 1000000` ({size:,} bytes, {len(lines):,} "
        f"records, {found:,} IoCs, all types), as in `crates/hg_ioc/benches/extract.rs`. "
        f"{args.rounds} interleaved rounds of {args.runs} runs: median and best wall time, and "
        "best CPU time of the calling thread (which other processes on the machine disturb "
        "much less than wall time). Regenerate with `python bench/ioc/kernel_bench.py` after "
        "`make build`.",
        "",
        "| path | median ms | best ms | best CPU ms | MB/s (best CPU) "
        "| vs native op (median) | vs native op (best CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (median, best, best_cpu) in rows:
        lines_md.append(
            f"| {name} | {median * 1e3:.2f} | {best * 1e3:.2f} | {best_cpu * 1e3:.2f} "
            f"| {size / best_cpu / 1e6:.1f} | {base[0] / median:.2f}x | {base[2] / best_cpu:.2f}x |"
        )
    load = os.getloadavg()
    lines_md += [
        "",
        f"hg_kernel.wasm: {wasm.stat().st_size:,} bytes; first call in this process (load or "
        f"compile the module, then run): {load_seconds:.2f} s.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work "
        f"(load average {load[0]:.1f} at the end), Python {platform.python_version()}, "
        f"wasmtime-py {_kernel._wasmtime_version()}. Date {time.strftime('%Y-%m-%d')}.",
        "",
        PROFILE_NOTE,
        "",
    ]
    out = ROOT / "bench" / "ioc" / "results" / "kernel.md"
    out.write_text("\n".join(lines_md), encoding="utf-8")
    print("\n".join(lines_md))


if __name__ == "__main__":
    main()
