"""Seeded Windows 4688 events for the process-tree benchmark (numpy, any size).

Hosts run processes one after another; each process's parent is a recent process of the same
host (85 %) or an id outside the data (a placeholder parent); ids are reused every 3,000
processes per host and shared across hosts, so both PID reuse and cross-host id clashes occur.
``true_parent`` (not written to the Arrow file) is each row's real parent row or -1.

    python bench/proctree/gen_events.py N OUT.arrow [--seed S] [--hosts H]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pyarrow as pa

IMAGES = np.array(
    [
        f"C:\\Windows\\System32\\{n}.exe"
        for n in ("cmd", "svchost", "conhost", "powershell", "rundll32", "wmic", "net", "whoami")
    ]
)


def generate(n: int, seed: int = 1, hosts: int = 100) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` events over ``hosts`` hosts and each event's true parent row (-1: not in the data)."""
    rng = np.random.default_rng(seed)
    per = np.full(hosts, n // hosts)
    per[: n % hosts] += 1
    frames = []
    parents = []
    offset = 0
    t0 = np.datetime64("2024-05-01T00:00:00", "ns")
    for h in range(hosts):
        m = int(per[h])
        idx = np.arange(m)
        times = t0 + np.cumsum(rng.integers(1, 2_000, m)).astype("timedelta64[ms]")
        pids = 4 * (idx % 3000 + 10)
        back = rng.integers(1, 50, m)
        parent = np.where((rng.random(m) < 0.85) & (idx - back >= 0), idx - back, -1)
        names = IMAGES[rng.integers(0, len(IMAGES), m)]
        ppid = np.where(parent >= 0, pids[np.maximum(parent, 0)], 4 * rng.integers(1, 10, m))
        pnames = np.where(
            parent >= 0, names[np.maximum(parent, 0)], "C:\\Windows\\System32\\services.exe"
        )
        frames.append(
            pd.DataFrame(
                {
                    "TimeGenerated": pd.to_datetime(times).tz_localize("UTC"),
                    "Computer": f"HOST{h:03d}",
                    "EventID": 4688,
                    "NewProcessName": names,
                    "NewProcessId": [hex(p) for p in pids],
                    "ProcessId": [hex(p) for p in ppid],
                    "ParentProcessName": pnames,
                    "CommandLine": [
                        f"{nm.rsplit(chr(92), 1)[-1]} /job {i}"
                        for nm, i in zip(names, idx, strict=True)
                    ],
                    "SubjectUserName": "svc",
                    "SubjectLogonId": "0x3e7",
                    "TargetLogonId": "0x0",
                }
            )
        )
        parents.append(np.where(parent >= 0, parent + offset, -1))
        offset += m
    frame = pd.concat(frames, ignore_index=True)
    truth = np.concatenate(parents)
    order = np.argsort(frame["TimeGenerated"].to_numpy(), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    new_row = np.empty(n, dtype=np.int64)
    new_row[order] = np.arange(n)
    truth = truth[order]
    truth = np.where(truth >= 0, new_row[np.maximum(truth, 0)], -1)
    return frame, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hosts", type=int, default=100)
    args = parser.parse_args()
    frame, _ = generate(args.n, args.seed, args.hosts)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.OSFile(args.out, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


if __name__ == "__main__":
    main()
