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
4. The reference (MSTICPy 3.0.2) has no SQL provider over local files and reads no Parquet (its
   LocalData provider reads whole CSV / pickle files), so the comparison is what an analyst would
   do instead: pandas `read_parquet` of the folder + a boolean filter (whole, and with pyarrow's
   `filters=` pushdown), timed with its CPU time in a process of its own.
5. Writes bench/proxy/results/speed.md.

Usage (repository root): python bench/proxy/bench.py [--rows 10000000] [--no-build]
[--binary PATH] [--keep DIR] (data is written once into DIR/data and reused).
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
    """Best seconds, body bytes and rows of a raw query read as Arrow (no pandas), the way
    ``QueryProvider.query_arrow`` reads it (the stream decoded as it arrives)."""
    body = {"provider": "local", "text": sql}
    best, rows = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        table, trailer = qp.query_arrow(body)
        elapsed = time.perf_counter() - t0
        assert trailer["complete"], trailer
        best, rows = min(best, elapsed), table.num_rows
        del table
    # The body's size, from one more (untimed) request read whole.
    status, _, payload = qp.proxy.request("POST", "/api/query", body)
    assert status == 200
    return best, len(payload), rows


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
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
folder, host = sys.argv[1], sys.argv[2]

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

def run(**kw):
    t0, c0 = time.perf_counter(), cpu()
    frame = pd.read_parquet(folder, **kw)
    hits = frame[frame["Computer"] == host]
    out = {"rows": len(frame), "hits": len(hits), "wall_s": time.perf_counter() - t0,
           "cpu_s": cpu() - c0}
    del frame, hits
    return out

whole = run()
pushed = run(filters=[("Computer", "==", host)])
print(json.dumps({"pandas": pd.__version__,
                  "whole": whole, "pushed": pushed}))
"""


def reference(folder: Path, rows: int, ref_python: Path) -> dict | None:
    """What an analyst using the reference does with the same Parquet folder. MSTICPy 3.0.2 has no
    SQL provider over local files (its LocalData reads whole CSV / pickle files, no Parquet) and
    its venv has no Parquet engine, so this is pandas + pyarrow (our venv's Python, in a process
    of its own) reading the folder and filtering it: once whole, once with pyarrow's row-group
    filter pushed down."""
    if not ref_python.is_file():
        return None
    out = subprocess.run(
        [str(ref_python), "-c", REFERENCE, str(folder / "events"), "HOST-042"],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["whole"]["rows"] == rows, result
    assert result["whole"]["hits"] == rows // HOSTS, result
    return result


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds of the proxy and of this (client) process over a block."""

    def __init__(self, pid: int):
        self.pid = pid
        self.proxy_s = 0.0
        self.client_s = 0.0

    def __enter__(self) -> CpuMeter:
        self._p0, self._c0 = proc_cpu_s(self.pid), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.proxy_s = proc_cpu_s(self.pid) - self._p0
        self.client_s = time.process_time() - self._c0

    def __str__(self) -> str:
        return f"CPU proxy {self.proxy_s:.2f} s + client {self.client_s:.2f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--per-client", type=int, default=20)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--binary", help="the huntglass binary (default: the release build)")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--keep", help="data folder to reuse / keep")
    ap.add_argument("--ref-python", default=sys.executable)
    ap.add_argument("--out", default=str(HERE / "results" / "speed.md"))
    args = ap.parse_args()
    target = Path(os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "hg_cli"], cwd=ROOT, check=True)
    binary = Path(args.binary) if args.binary else target / "release" / "huntglass"
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
        written = f"written in {time.perf_counter() - t0:.0f} s"
    else:
        parquet_bytes = sum(p.stat().st_size for p in (data / "events").iterdir())
        mem_bytes = (data / "events_mem.arrow").stat().st_size
        written = f"written beforehand into {data}"
    config = folder / "huntglass.toml"
    config.write_text(f'[local]\nfolders = ["{data}"]\n')
    run_dir = folder / "run"
    run_dir.mkdir(exist_ok=True)
    load_start = os.getloadavg()
    process, info = start_proxy(binary, config, run_dir)
    try:
        qp = hg.QueryProvider("local", url=info["url"], token=info["token"]).connect()
        sql = "SELECT * FROM events WHERE Computer = 'HOST-042'"
        with CpuMeter(process.pid) as filter_cpu:
            filter_s, frame = timed(lambda: qp.exec_query(sql), args.repeat)
        assert len(frame) == args.rows // HOSTS, len(frame)
        with CpuMeter(process.pid) as filter_arrow_cpu:
            filter_arrow_s, _ = timed(
                lambda: qp.query_arrow({"provider": "local", "text": sql}), args.repeat
            )
        with CpuMeter(process.pid) as mem_cpu:
            mem_s, mem_body, mem_rows = transfer(qp, "SELECT * FROM events_mem", args.repeat)
        with CpuMeter(process.pid) as scan_cpu:
            scan_s, scan_body, scan_rows = transfer(qp, "SELECT * FROM events", 1)
        assert scan_rows == args.rows
        assert mem_rows == MEM_ROWS
        with CpuMeter(process.pid) as conc_cpu:
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
    load = os.getloadavg()
    parquet_mib, mem_mib = parquet_bytes / mb, mem_bytes / mb
    lines = [
        "# Proxy speed (bench/proxy/bench.py)",
        "",
        f"Run {now:%Y-%m-%d %H:%M} UTC at commit {commit}, {platform.machine()} "
        f"{os.cpu_count()} cores shared with other engineers' builds and tests (load average "
        f"{load_start[0]:.1f} at the start, {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at "
        "the end); "
        f"release build; best of {args.repeat} unless noted.",
        f"Data: {args.rows:,} rows in {parquet_mib:,.0f} MiB of Parquet (snappy, 1M rows per "
        f"file, {HOSTS} hosts; {written}), and {MEM_ROWS:,} rows "
        f"({mem_mib:,.0f} MiB Arrow IPC) in memory.",
        "",
        "| measurement | huntglass proxy | what the reference offers (MSTICPy 3.0.2) |",
        "|---|---|---|",
    ]
    ref_cell = "not run"
    if ref and "error" not in ref:
        whole, pushed = ref["whole"], ref["pushed"]
        ref_cell = (
            "no SQL provider over local files and no Parquet (its LocalData reads whole CSV / "
            "pickle files); an analyst would use "
            f"pandas {ref['pandas']} `read_parquet` of the folder + filter: "
            f"{whole['wall_s']:.2f} s (CPU {whole['cpu_s']:.2f} s); "
            "with the filter pushed into pyarrow "
            f"(`filters=`): {pushed['wall_s']:.2f} s (CPU {pushed['cpu_s']:.2f} s); "
            f"{whole['hits']:,} rows either way"
        )
    elif ref:
        ref_cell = f"failed: {ref['error']}"
    mem_rate = mem_body / 1e6 / mem_s
    scan_rate = scan_body / 1e6 / scan_s
    r = args.repeat

    def per_run(meter: CpuMeter, runs: int) -> str:
        return (
            f"CPU per run: proxy {meter.proxy_s / runs:.2f} s, client {meter.client_s / runs:.2f} s"
        )

    lines += [
        f"| 100,000 of {args.rows:,} rows (`WHERE Computer = 'HOST-042'`) from Parquet to a "
        f"pandas DataFrame | {filter_s:.2f} s ({per_run(filter_cpu, r)}) | {ref_cell} |",
        f"| same, to a pyarrow Table | {filter_arrow_s:.2f} s ({per_run(filter_arrow_cpu, r)}) "
        "| - |",
        f"| Arrow transfer to Python, {MEM_ROWS:,} rows from memory "
        f"(`SELECT * FROM events_mem`) | **{mem_rate:,.0f} MB/s** ({mem_body / 1e6:,.0f} MB in "
        f"{mem_s:.2f} s; {per_run(mem_cpu, r)}) | - |",
        f"| full scan of the Parquet folder to Python (`SELECT * FROM events`, one run) | "
        f"{scan_rate:,.0f} MB/s ({scan_body / 1e6:,.0f} MB, {scan_rows:,} rows in "
        f"{scan_s:.1f} s; {per_run(scan_cpu, 1)}) | - |",
        f"| {args.clients} concurrent clients x {args.per_client} library queries on the "
        f"scenario | {conc['requests']} requests, **{conc['failures']} failed**; p50 "
        f"{conc['p50_ms']:.0f} ms, p95 {conc['p95_ms']:.0f} ms, max {conc['max_ms']:.0f} ms; "
        f"{conc['wall_s']:.1f} s in all (CPU proxy {conc_cpu.proxy_s:.1f} s, clients "
        f"{conc_cpu.client_s:.1f} s) | - |",
        f"| proxy peak memory (VmHWM) over all of the above | {peak:,.0f} MiB (the Parquet "
        f"folder is {parquet_mib:,.0f} MiB; its {args.rows:,} rows decoded are about "
        f"{scan_body / mb:,.0f} MiB) | - |",
        "",
        "MB/s = 10^6 bytes of the HTTP body (Arrow IPC stream + trailer) / wall time of the "
        "whole request, including the query, the encoding, the loopback transfer and pyarrow's "
        "decoding (target >= 200 MB/s). Wall times are best of the runs; CPU times are averages "
        "(`/proc/<pid>/stat` of the proxy, `time.process_time()` of the client). The 50 clients "
        "are threads of one Python process (so their JSON/Arrow decoding shares one GIL).",
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
