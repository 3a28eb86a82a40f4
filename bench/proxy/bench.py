"""Speed of the huntglass proxy: local SQL over Parquet, Arrow transfer to Python, concurrency.

1. Writes N rows (default 10,000,000) of process-like events as a folder of Parquet files
   (pyarrow, snappy, 1M rows per file): 100 hosts, so one host holds 1% of the rows.
2. Starts `huntglass serve` (release build) with a huntglass.toml whose `local.folders` holds that
   folder (table `events`, scanned lazily) and an Arrow IPC stream of 2,000,000 rows of the same
   data (table `events_mem`, loaded into memory at start).
3. Times, through `hg.QueryProvider("local").exec_query` (HTTP + Arrow IPC + pandas):
   - `SELECT * FROM events WHERE Computer = 'HOST-042'` (100,000 rows of 10M) and the same
     through `query_arrow` (Arrow table only, no pandas);
   - the transfer rate: `SELECT * FROM events_mem` (2M rows from memory) as bytes of the Arrow
     body per second of the whole request, and the same for the 10M-row Parquet scan;
   - 50 threads, each with its own connection, running named queries of the library on the
     scenario, counting failures and latencies;
   - the proxy's peak memory (VmHWM) against the Parquet folder's size.
4. Runs the reference (msticpy 3.0.2, `.venv-ref`) on the same data: its local provider
   (`QueryProvider("LocalData")`) reads a whole pickle or CSV file per query and the filter is a
   pandas step after it; measured on the pickle of the same N rows.
5. Writes bench/proxy/results/speed.md.

Usage (repository root): python bench/proxy/bench.py [--rows 10000000] [--no-build] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "widgets" / "src"))

import huntglass as hg  # noqa: E402
from huntglass import query as hq  # noqa: E402

HOSTS = 100
ROWS_PER_FILE = 1_000_000
MEM_ROWS = 2_000_000
START_NS = 1_793_577_600_000_000_000  # 2026-11-02T00:00:00Z


def events(n: int, seed: int) -> pa.Table:
    """n process-creation-like rows, deterministic for (n, seed)."""
    rng = np.random.default_rng(seed)
    hosts = np.array([f"HOST-{i:03d}" for i in range(HOSTS)])
    accounts = np.array([f"CORP\\user{i:03d}" for i in range(300)])
    images = np.array(
        [
            "C:\\Windows\\System32\\svchost.exe",
            "C:\\Windows\\System32\\cmd.exe",
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
            "C:\\Windows\\System32\\conhost.exe",
            "C:\\Windows\\explorer.exe",
        ]
    )
    host_idx = np.arange(n) % HOSTS  # exactly n / HOSTS rows per host
    times = START_NS + np.sort(rng.integers(0, 7 * 86_400 * 10**9, n))
    image_idx = rng.integers(0, len(images), n)
    arg = rng.integers(0, 1_000_000, n)
    command = pa.compute.binary_join_element_wise(
        pa.array(images[image_idx]), pa.array(arg.astype(str)), " --id "
    )
    return pa.table(
        {
            "TimeGenerated": pa.array(times, pa.timestamp("ns", "UTC")),
            "Computer": pa.array(hosts[host_idx]),
            "Account": pa.array(accounts[rng.integers(0, len(accounts), n)]),
            "EventID": pa.array(np.full(n, 4688, np.int32)),
            "NewProcessName": pa.array(images[image_idx]),
            "CommandLine": command,
            "ProcessId": pa.array(rng.integers(4, 65_536, n)),
        }
    )


def write_data(folder: Path, rows: int) -> tuple[int, int]:
    """The Parquet folder (events/) and the in-memory table's stream; returns their sizes."""
    parquet_dir = folder / "events"
    parquet_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    part = 0
    while written < rows:
        n = min(ROWS_PER_FILE, rows - written)
        pq.write_table(events(n, seed=part), parquet_dir / f"part-{part:04d}.parquet")
        written += n
        part += 1
    parquet_bytes = sum(p.stat().st_size for p in parquet_dir.iterdir())
    mem = events(MEM_ROWS, seed=999)
    with (
        pa.OSFile(str(folder / "events_mem.arrow"), "wb") as sink,
        pa.ipc.new_stream(sink, mem.schema) as writer,
    ):
        writer.write_table(mem, max_chunksize=65_536)
    return parquet_bytes, (folder / "events_mem.arrow").stat().st_size


def start_proxy(binary: Path, config: Path, run_dir: Path) -> tuple[subprocess.Popen, dict]:
    token_file = run_dir / "serve.json"
    process = subprocess.Popen(
        [
            str(binary),
            "serve",
            "--port",
            "0",
            "--config",
            str(config),
            "--token-file",
            str(token_file),
            "--exit-after-idle",
            "900",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"huntglass serve exited: {process.stderr.read().decode()}")
        if token_file.is_file():
            try:
                return process, json.loads(token_file.read_text())
            except ValueError:
                pass
        time.sleep(0.2)
    raise SystemExit("huntglass serve did not start")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def transfer(qp: hg.QueryProvider, sql: str, repeat: int) -> tuple[float, int, int]:
    """Best seconds, body bytes and rows of a raw query read as Arrow (no pandas)."""
    best, size, rows = float("inf"), 0, 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        status, _, payload = qp.proxy.request(
            "POST", "/api/query", {"provider": "local", "text": sql}
        )
        table, trailer = hq.decode_result(payload)
        elapsed = time.perf_counter() - t0
        assert status == 200, trailer
        assert trailer["complete"], trailer
        best, size, rows = min(best, elapsed), len(payload), table.num_rows
    return best, size, rows


QUERIES = [
    ("WindowsSecurity.list_host_processes", {"host_name": "LRK-WS104"}),
    ("WindowsSecurity.list_logons_for_account", {"account_name": "mbennett"}),
    ("SecurityAlert.list_alerts", {}),
    ("Dns.list_dns_for_domain", {"domain": "telemetry-sync.example.net"}),
    ("Office365.list_activity_for_user", {"user": "mbennett@larkspur-labs.com"}),
    ("Network.list_flows_by_ip", {"ip_address": "198.51.100.23"}),
]


def concurrency(info: dict, clients: int, per_client: int) -> dict:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(index: int) -> None:
        qp = hg.QueryProvider("local", url=info["url"], token=info["token"]).connect()
        barrier.wait()
        for i in range(per_client):
            name, params = QUERIES[(index + i) % len(QUERIES)]
            t0 = time.perf_counter()
            try:
                frame = qp.run_query(name, **params)
                ok = len(frame) > 0
                err = None if ok else f"{name}: no rows"
            except Exception as exc:
                err = f"{name}: {exc}"
            with lock:
                latencies.append(time.perf_counter() - t0)
                if err:
                    failures.append(err)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "requests": len(latencies),
        "failures": len(failures),
        "first_failures": failures[:3],
        "wall_s": wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "max_ms": 1000 * latencies[-1],
    }


REFERENCE = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from msticpy.data import QueryProvider
folder, host = sys.argv[1], sys.argv[2]

def run(name):
    qp = QueryProvider("LocalData", data_paths=[folder])
    qp.connect()
    t0 = time.perf_counter()
    frame = qp.exec_query(name)
    loaded = time.perf_counter() - t0
    hits = frame[frame["Computer"] == host]
    return frame, {"rows": len(frame), "hits": len(hits), "load_s": loaded,
                   "total_s": time.perf_counter() - t0}

frame, csv = run("events.csv")
frame.to_pickle(folder + "/events.pkl")
del frame
_, pickle = run("events.pkl")
print(json.dumps({"csv": csv, "pickle": pickle}))
"""


def reference(folder: Path, rows: int, ref_python: Path) -> dict | None:
    """The reference's LocalData provider on the same rows: CSV (as written by pyarrow), then the
    pickle the reference itself writes from it (its fastest format)."""
    if not ref_python.is_file():
        return None
    import pyarrow.csv as pacsv

    ref_dir = folder / "ref"
    ref_dir.mkdir(exist_ok=True)
    with pacsv.CSVWriter(ref_dir / "events.csv", events(1, 0).schema) as writer:
        for path in sorted((folder / "events").iterdir()):
            writer.write_table(pq.read_table(path))
    out = subprocess.run(
        [str(ref_python), "-c", REFERENCE, str(ref_dir), "HOST-042"],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["pickle"]["rows"] == rows, result
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--per-client", type=int, default=20)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--keep", help="data folder to reuse / keep")
    ap.add_argument("--ref-python", default=str(ROOT / ".venv-ref" / "bin" / "python"))
    ap.add_argument("--out", default=str(HERE / "results" / "speed.md"))
    args = ap.parse_args()
    target = Path(os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "hg_cli"], cwd=ROOT, check=True)
    binary = target / "release" / "huntglass"
    temp = None
    if args.keep:
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.TemporaryDirectory()
        folder = Path(temp.name)
    data = folder / "data"
    t0 = time.perf_counter()
    if not (data / "events").is_dir():
        parquet_bytes, mem_bytes = write_data(data, args.rows)
    else:
        parquet_bytes = sum(p.stat().st_size for p in (data / "events").iterdir())
        mem_bytes = (data / "events_mem.arrow").stat().st_size
    gen_s = time.perf_counter() - t0
    config = folder / "huntglass.toml"
    config.write_text(f'[local]\nfolders = ["{data}"]\n')
    run_dir = folder / "run"
    run_dir.mkdir(exist_ok=True)
    process, info = start_proxy(binary, config, run_dir)
    try:
        qp = hg.QueryProvider("local", url=info["url"], token=info["token"]).connect()
        sql = "SELECT * FROM events WHERE Computer = 'HOST-042'"
        filter_s, frame = timed(lambda: qp.exec_query(sql), args.repeat)
        assert len(frame) == args.rows // HOSTS, len(frame)
        filter_arrow_s, _ = timed(
            lambda: hq.decode_result(
                qp.proxy.request("POST", "/api/query", {"provider": "local", "text": sql})[2]
            ),
            args.repeat,
        )
        mem_s, mem_body, mem_rows = transfer(qp, "SELECT * FROM events_mem", args.repeat)
        scan_s, scan_body, scan_rows = transfer(qp, "SELECT * FROM events", 1)
        assert scan_rows == args.rows
        assert mem_rows == MEM_ROWS
        conc = concurrency(info, args.clients, args.per_client)
        peak = peak_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)
    ref = None if args.no_reference else reference(data, args.rows, Path(args.ref_python))

    mb = 1024 * 1024
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    now = dt.datetime.now(dt.timezone.utc)
    load = os.getloadavg()[0]
    parquet_mib, mem_mib = parquet_bytes / mb, mem_bytes / mb
    lines = [
        "# Proxy speed (bench/proxy/bench.py)",
        "",
        f"Run {now:%Y-%m-%d %H:%M} UTC at commit {commit}, {platform.machine()} "
        f"{os.cpu_count()} cores shared with other builds, load average {load:.1f} at the end; "
        f"release build; best of {args.repeat} unless noted.",
        f"Data: {args.rows:,} rows in {parquet_mib:,.0f} MiB of Parquet (snappy, 1M rows per "
        f"file, {HOSTS} hosts; written in {gen_s:.0f} s), and {MEM_ROWS:,} rows "
        f"({mem_mib:,.0f} MiB Arrow IPC) in memory.",
        "",
        "| measurement | huntglass proxy | reference (msticpy 3.0.2 LocalData) |",
        "|---|---|---|",
    ]
    ref_cell = "not run"
    if ref and "error" not in ref:
        pkl, csv = ref["pickle"], ref["csv"]
        ref_cell = (
            f"{pkl['total_s']:.2f} s from a pickle ({csv['total_s']:.1f} s from CSV): the query "
            f"reads the whole {pkl['rows']:,}-row file ({pkl['load_s']:.2f} s), then a pandas "
            f"filter keeps {pkl['hits']:,} rows"
        )
    elif ref:
        ref_cell = f"failed: {ref['error']}"
    mem_rate = mem_body / mb / mem_s
    scan_rate = scan_body / mb / scan_s
    lines += [
        f"| 100,000 of {args.rows:,} rows (`WHERE Computer = 'HOST-042'`) to a pandas "
        f"DataFrame | {filter_s:.2f} s | {ref_cell} |",
        f"| same, to a pyarrow Table | {filter_arrow_s:.2f} s | - |",
        f"| Arrow transfer to Python, {MEM_ROWS:,} rows from memory "
        f"(`SELECT * FROM events_mem`) | {mem_rate:,.0f} MB/s ({mem_body / mb:,.0f} MiB in "
        f"{mem_s:.2f} s) | - |",
        f"| full scan of the Parquet folder to Python (`SELECT * FROM events`, one run) | "
        f"{scan_rate:,.0f} MB/s ({scan_body / mb:,.0f} MiB, {scan_rows:,} rows in "
        f"{scan_s:.1f} s) | - |",
        f"| {args.clients} concurrent clients x {args.per_client} library queries on the "
        f"scenario | {conc['requests']} requests, {conc['failures']} failed; p50 "
        f"{conc['p50_ms']:.0f} ms, p95 {conc['p95_ms']:.0f} ms, max {conc['max_ms']:.0f} ms; "
        f"{conc['wall_s']:.1f} s in all | - |",
        f"| proxy peak memory (VmHWM) over all of the above | {peak:,.0f} MiB (the Parquet "
        f"folder is {parquet_mib:,.0f} MiB; its {args.rows:,} rows decoded are about "
        f"{scan_body / mb:,.0f} MiB) | - |",
        "",
        "MB/s = bytes of the HTTP body (Arrow IPC stream + trailer) / wall time of the whole "
        "request, including the query, the encoding, the loopback transfer and pyarrow's "
        "decoding (target >= 200 MB/s).",
    ]
    if conc["failures"]:
        lines.append(f"Failures: {conc['first_failures']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    if temp:
        temp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
