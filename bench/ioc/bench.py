"""Speed: huntglass hg_ioc against msticpy 3.0.2 IoCExtract on the same 1 MB mixed corpus.

Generates the corpus (gen_corpus.py --seed 11 --bytes 1000000), times huntglass (the release
example `extract_jsonl --count`, record by record, fastest of several passes, all types and
without paths) and the reference (ref_extract.py --time: `IoCExtract().extract(src=record)` per
record, text mode, one pass, median of --ref-runs runs), and writes a Markdown table.

DataFrame mode (one DataFrame of one text column "Text", a row per record): huntglass
`hg.ioc.extract(df, columns=["Text"])` in the project's Python (the engines' module under wasmtime;
HUNTGLASS_STATIC_DIR picks the assets, fastest of --df-runs after a warm-up call) against the
reference's `IoCExtract().extract(data=df, columns=["Text"])` (median of --ref-runs), each with its
own DataFrame defaults (paths left out by both).

With --callgrind, the instructions per byte of one pass of huntglass (all types) are counted
with valgrind's callgrind (a run of 3 passes minus a run of 1, halved): deterministic, unlike
time on a shared machine.

Usage (from the repository root): python bench/ioc/bench.py [--out bench/ioc/results/speed.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from native_build import build_example

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# Run in the project's Python: hg.ioc.extract on a one-column DataFrame of the corpus's records.
HG_DATAFRAME = """
import json, sys, time
import pandas as pd
import huntglass as hg
records = open(sys.argv[1], encoding="utf-8").read().splitlines()
runs = int(sys.argv[2])
df = pd.DataFrame({"Text": records})
hg.ioc.extract(pd.DataFrame({"Text": ["warm up 10.0.0.1"]}), columns=["Text"])
best, rows = float("inf"), 0
for _ in range(runs):
    started = time.perf_counter()
    rows = len(hg.ioc.extract(df, columns=["Text"]))
    best = min(best, time.perf_counter() - started)
print(json.dumps({"seconds": best, "iocs": rows}))
"""

# Run in the reference's Python: IoCExtract().extract(data=df, columns=[...]) on the same frame.
REF_DATAFRAME = """
import json, logging, sys, time
import pandas as pd
from msticpy.transform.iocextract import IoCExtract
logging.getLogger("tldextract").setLevel(logging.CRITICAL)
records = open(sys.argv[1], encoding="utf-8").read().splitlines()
df = pd.DataFrame({"Text": records})
extractor = IoCExtract()
started = time.perf_counter()
rows = len(extractor.extract(data=df, columns=["Text"]))
print(json.dumps({"seconds": time.perf_counter() - started, "iocs": rows}))
"""


def callgrind_instructions(cmd: list[str], stdin: Path) -> int:
    """Instructions executed by `cmd` under callgrind (its summary line)."""
    with tempfile.TemporaryDirectory() as tmp, stdin.open("rb") as f:
        out = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/cg.out",
                *cmd,
            ],
            stdin=f,
            capture_output=True,
            check=True,
        )
    for line in out.stderr.decode().splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise RuntimeError("callgrind printed no instruction count")


def child_cpu_seconds(cmd: list[str], stdin: Path) -> tuple[float, dict]:
    """Runs `cmd` and returns the CPU time (user + system) it used, with its JSON output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with stdin.open("rb") as f:
        out = subprocess.run(cmd, stdin=f, capture_output=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return used, json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref-python", default=str(ROOT / ".venv-ref" / "bin" / "python"))
    ap.add_argument("--ref-runs", type=int, default=3)
    ap.add_argument("--passes", type=int, default=20)
    ap.add_argument("--out", default=str(HERE / "results" / "speed.md"))
    ap.add_argument("--no-build", action="store_true", help="use the example as already built")
    ap.add_argument("--df-runs", type=int, default=3)
    ap.add_argument("--no-dataframe", action="store_true", help="skip the DataFrame-mode rows")
    ap.add_argument("--callgrind", action="store_true", help="count instructions per byte")
    args = ap.parse_args()
    target = Path(os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    exe = target / "release" / "examples" / "extract_jsonl"
    if not args.no_build:
        exe = build_example("hg_ioc", "extract_jsonl", target)
    with tempfile.TemporaryDirectory() as tmp:
        corpus, text = Path(tmp) / "corpus.jsonl", Path(tmp) / "corpus.txt"
        subprocess.run(
            [
                sys.executable,
                str(HERE / "gen_corpus.py"),
                "--seed",
                "11",
                "--bytes",
                "1000000",
                "--out",
                str(corpus),
                "--text-out",
                str(text),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        load_before = os.getloadavg()[0]
        rows = []
        for label, flags in [
            ("huntglass, all 13 types", []),
            ("huntglass, no paths", ["--no-paths"]),
        ]:
            one, _ = child_cpu_seconds([str(exe), "--count", "--repeat", "1", *flags], text)
            many, r = child_cpu_seconds(
                [str(exe), "--count", "--repeat", str(args.passes + 1), *flags], text
            )
            # CPU time per pass: less sensitive to other work on the machine than wall time.
            cpu_per_pass = max(many - one, 1e-9) / args.passes
            rows.append((label, r["bytes"], r["seconds"], cpu_per_pass, r["iocs"]))
        per_byte = None
        if args.callgrind:
            one = callgrind_instructions([str(exe), "--count", "--repeat", "1"], text)
            three = callgrind_instructions([str(exe), "--count", "--repeat", "3"], text)
            per_byte = (three - one) / 2 / rows[0][1]
        df_rows = []
        if not args.no_dataframe:
            hg_python = str(ROOT / ".venv" / "bin" / "python")
            out = subprocess.run(
                [hg_python, "-c", HG_DATAFRAME, str(text), str(args.df_runs)],
                capture_output=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT / "widgets" / "src")},
            )
            hg_df = json.loads(out.stdout.decode().strip().splitlines()[-1])
            ref_df_runs = []
            for _ in range(args.ref_runs):
                out = subprocess.run(
                    [args.ref_python, "-c", REF_DATAFRAME, str(text)],
                    capture_output=True,
                    check=True,
                )
                ref_df_runs.append(json.loads(out.stdout.decode().strip().splitlines()[-1]))
            ref_df_seconds = statistics.median(r["seconds"] for r in ref_df_runs)
            df_rows = [
                (
                    f"huntglass `hg.ioc.extract(df, columns=['Text'])` (kernel, wasmtime; "
                    f"fastest of {args.df_runs})",
                    hg_df["seconds"],
                    hg_df["iocs"],
                ),
                (
                    "msticpy 3.0.2 `IoCExtract().extract(data=df, columns=['Text'])` "
                    f"(median of {args.ref_runs})",
                    ref_df_seconds,
                    ref_df_runs[0]["iocs"],
                ),
            ]
        ref_times = []
        for _ in range(args.ref_runs):
            out = subprocess.run(
                [args.ref_python, str(HERE / "ref_extract.py"), str(corpus), "-", "--time"],
                capture_output=True,
                check=True,
            )
            ref_times.append(json.loads(out.stdout.decode().strip().splitlines()[-1]))
        load_after = os.getloadavg()[0]
        ref_bytes = ref_times[0]["bytes"]
        ref_seconds = statistics.median(t["seconds"] for t in ref_times)
    ref_mbs = ref_bytes / ref_seconds / 1e6
    lines = [
        "# IoC extraction speed: huntglass vs msticpy 3.0.2 (text mode)",
        "",
        f"Corpus: `gen_corpus.py --seed 11 --bytes 1000000` ({ref_bytes:,} "
        f"bytes, mixed command lines and logs, "
        "one record per line, extracted record by record). Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores shared with other "
        f"work; numbers vary by about +-30% between runs. "
        "Regenerate with `python bench/ioc/bench.py`; the criterion bench "
        "is `cargo bench -p hg_ioc`.",
        "",
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; 1-minute load "
        f"average {load_before:.1f} before and {load_after:.1f} after, on {os.cpu_count()} cores.",
        "",
        "| extractor | MB/s (wall) | MB/s (CPU time) | x reference (wall) | IoCs |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, size, seconds, cpu_seconds, iocs in rows:
        mbs = size / seconds / 1e6
        cpu_mbs = size / cpu_seconds / 1e6
        lines.append(
            f"| {label} (fastest of {args.passes} passes) | {mbs:.1f} | {cpu_mbs:.1f} "
            f"| {mbs / ref_mbs:.0f}x | {iocs} |"
        )
    lines.append(
        f"| msticpy 3.0.2 `IoCExtract().extract(src=...)` (median of {args.ref_runs}) "
        f"| {ref_mbs:.2f} | | 1x | |"
    )
    if per_byte is not None:
        lines += [
            "",
            f"Instructions per byte (callgrind, one pass of all 13 types): {per_byte:.1f}.",
        ]
    if df_rows:
        size = rows[0][1]
        ref_df_mbs = size / df_rows[-1][1] / 1e6
        lines += [
            "",
            "DataFrame mode (the corpus's records as one text column; each tool's DataFrame "
            "defaults, paths left out by both):",
            "",
            "| extractor | s | MB/s (wall) | x reference | rows |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, seconds, iocs in df_rows:
            mbs = size / seconds / 1e6
            lines.append(
                f"| {label} | {seconds:.3f} | {mbs:.2f} | {mbs / ref_df_mbs:.0f}x | {iocs} |"
            )
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
