"""Speed on real records: hg_ioc against msticpy 3.0.2 on the reference's own sample data.

The corpus is every data row of the reference's test data shipped in ``shared/data/
msticpy-testdata`` (Windows process events with command lines and hashes, Defender process
events, Linux auditd messages, Exchange audit parameters, Azure network flows, logons, a
process tree, a base64 message), each line of each file a record, in a fixed order: real
schemas and real field contents, with about one IoC in 180 bytes, where the generated corpus of
``bench.py`` packs one in 47 (it is built for ground truth, not for density).

Measured, all 13 types:

* native: the release example ``extract_jsonl --count`` record by record, fastest pass;
* native op and kernel op: ``ioc.extract`` over an Arrow IPC stream of the records, natively
  (example ``ioc_throughput``) and in ``hg_kernel.wasm`` under wasmtime (``_kernel.call_bytes``),
  best thread CPU time per pass of each (the same work; the IoC counts must agree);
* the reference: ``IoCExtract().extract(src=record)`` per record (``ref_extract.py --time``),
  median of ``--ref-runs``.

Usage (from the repository root): python bench/ioc/real_bench.py [--out bench/ioc/results/real.md]
Needs ``make build`` (hg_kernel.wasm) and the reference venv (.venv-ref).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "widgets" / "src"))

import pyarrow as pa  # noqa: E402
from native_build import build_example  # noqa: E402

from huntglass import _kernel  # noqa: E402

TESTDATA = ROOT.parent / "shared" / "data" / "msticpy-testdata"
# Text files of the reference's test data, in this order; the first line of a CSV (its header)
# is left out.
FILES = (
    "processes_on_host.csv",
    "mde_proc_cs1.csv",
    "linux_events.csv",
    "demo_exchange_data.csv",
    "az_net_flows.csv",
    "host_logons.csv",
    "winproctree-minimal.csv",
    "base64msg.txt",
)


def records(testdata: Path) -> list[str]:
    found = []
    for name in FILES:
        lines = (testdata / name).read_text(encoding="utf-8", errors="replace").splitlines()
        found += [line for line in lines[1 if name.endswith(".csv") else 0 :] if line]
    return found


def fastest_pass(binary: Path, text: Path, extra: list[str], repeat: int, runs: int) -> dict:
    best: dict = {}
    for _ in range(runs):
        with text.open("rb") as stdin:
            out = subprocess.run(
                [str(binary), "--count", "--repeat", str(repeat), *extra],
                stdin=stdin,
                check=True,
                capture_output=True,
                text=True,
            )
        result = json.loads(out.stdout)
        if not best or result["seconds"] < best["seconds"]:
            best = result
    return best


def kernel_best_cpu(lines: list[str], runs: int) -> tuple[float, int]:
    table = pa.table({"Text": pa.array(lines, pa.string())})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    stream = sink.getvalue()
    options = {"columns": ["Text"], "include_paths": True}
    out = _kernel.call_bytes("ioc.extract", options, stream)  # loads the module
    best = float("inf")
    for _ in range(runs):
        started = time.thread_time()
        out = _kernel.call_bytes("ioc.extract", options, stream)
        best = min(best, time.thread_time() - started)
    with pa.ipc.open_stream(out) as reader:
        return best, reader.read_all().num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--testdata", type=Path, default=TESTDATA)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real.md")
    parser.add_argument("--ref-python", default=str(ROOT / ".venv-ref" / "bin" / "python"))
    parser.add_argument("--ref-runs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5, help="native runs of --repeat passes each")
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--kernel-runs", type=int, default=30)
    parser.add_argument(
        "--keep-text",
        type=Path,
        help="also write the corpus there, one record per line (for browser_bench.mjs --text)",
    )
    args = parser.parse_args()

    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    extract = build_example("hg_ioc", "extract_jsonl", target)
    throughput = build_example("hg_ops", "ioc_throughput", target)
    lines = records(args.testdata)
    with tempfile.TemporaryDirectory(prefix="hg-ioc-real-") as tmp:
        text = Path(tmp) / "real.txt"
        text.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        jsonl = Path(tmp) / "real.jsonl"
        jsonl.write_text(
            "".join(json.dumps({"text": line}) + "\n" for line in lines), encoding="utf-8"
        )
        size = text.stat().st_size
        if args.keep_text:
            args.keep_text.write_bytes(text.read_bytes())
        print(f"corpus: {len(lines):,} records, {size:,} bytes", file=sys.stderr)

        engine_all = fastest_pass(extract, text, [], args.repeat, args.runs)
        engine_no_paths = fastest_pass(extract, text, ["--no-paths"], args.repeat, args.runs)
        op = json.loads(
            subprocess.run(
                [str(throughput), str(text), str(args.kernel_runs)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.splitlines()[-1]
        )
        kernel_cpu, kernel_rows = kernel_best_cpu(lines, args.kernel_runs)
        if not (engine_all["iocs"] == op["iocs"] == kernel_rows):
            raise SystemExit(
                f"IoC counts differ: engine {engine_all['iocs']}, native op {op['iocs']}, "
                f"kernel {kernel_rows}"
            )
        reference = []
        for _ in range(args.ref_runs):
            out = subprocess.run(
                [args.ref_python, str(HERE / "ref_extract.py"), str(jsonl), "-", "--time"],
                check=True,
                capture_output=True,
                text=True,
            )
            reference.append(json.loads(out.stdout.splitlines()[-1])["seconds"])
    ref_seconds = statistics.median(reference)
    mbs = lambda seconds: size / seconds / 1e6  # noqa: E731
    load = os.getloadavg()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        (
            "huntglass native, all 13 types (fastest pass)",
            engine_all["seconds"],
            engine_all["iocs"],
        ),
        (
            "huntglass native, no paths (fastest pass)",
            engine_no_paths["seconds"],
            engine_no_paths["iocs"],
        ),
        ("huntglass native op, Arrow in/out (best CPU)", op["op_cpu_best_seconds"], op["iocs"]),
        ("huntglass kernel op, wasmtime (best CPU)", kernel_cpu, kernel_rows),
        (f"msticpy 3.0.2 text mode (median of {len(reference)})", ref_seconds, None),
    ]
    md = [
        "# IoC extraction speed on real records: the reference's own sample data",
        "",
        f"Corpus: every data row of the reference's test data ({', '.join(FILES)}; "
        f"`shared/data/msticpy-testdata`), one record per line: {len(lines):,} records, "
        f"{size:,} bytes, {engine_all['iocs']:,} IoCs with all 13 types (one per "
        f"{size // max(engine_all['iocs'], 1)} bytes; the generated corpus of `speed.md` has one "
        f"per 47). Run {now}, {platform.machine()}, {os.cpu_count()} cores shared with other "
        f"work, 1-minute load average {load[0]:.1f} at the end. Regenerate with "
        "`python bench/ioc/real_bench.py`.",
        "",
        "| extractor | ms per pass | MB/s | x reference | IoCs |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, seconds, iocs in rows:
        md.append(
            f"| {name} | {seconds * 1e3:.1f} | {mbs(seconds):.1f} | "
            f"{ref_seconds / seconds:.0f}x | {'' if iocs is None else f'{iocs:,}'} |"
        )
    ratio = op["op_cpu_best_seconds"] / kernel_cpu
    md += [
        "",
        f"Kernel op / native op (best CPU, the same work): {ratio:.2f} "
        f"(target at least 0.50: {'met' if ratio >= 0.5 else 'NOT met'}). "
        f"Native all types: {mbs(engine_all['seconds']):.0f} MB/s (target at least 200: "
        f"{'met' if mbs(engine_all['seconds']) >= 200 else 'NOT met'}).",
        "",
    ]
    args.out.write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
