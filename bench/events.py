"""Synthetic process events for the timeline benchmarks, identical under every venv.

``make_events(n)`` returns a pandas DataFrame of ``n`` process-creation events over one week:
``TimeGenerated`` (UTC, sorted), ``Computer`` (4 hosts: the 4 lanes), and the tooltip columns
``Account`` and ``CommandLine``. Values come from a seeded numpy generator, so huntglass and the
reference plot exactly the same rows. Command lines are drawn from a pool of 5,000 distinct
strings (about 60 characters each), as process logs repeat a lot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HOSTS = ["LRK-DC01", "LRK-FS01", "LRK-WS101", "LRK-WS104"]
ACCOUNTS = [f"LARKSPUR\\user{i:02d}" for i in range(30)] + ["NT AUTHORITY\\SYSTEM"]
TOOLTIP_COLUMNS = ["Computer", "Account", "CommandLine"]
WEEK_SECONDS = 7 * 24 * 3600
COMMAND_POOL = 5000


def _command_pool(rng: np.random.Generator) -> np.ndarray:
    programs = [
        "C:\\Windows\\System32\\svchost.exe -k netsvcs -p -s Schedule",
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE /n",
        'powershell.exe -NoProfile -ExecutionPolicy Bypass -File "C:\\ops\\job.ps1"',
        "C:\\Windows\\System32\\cmd.exe /c dir C:\\Users\\Public",
        "C:\\Windows\\System32\\conhost.exe 0xffffffff -ForceV1",
        "C:\\Windows\\System32\\reg.exe query HKLM\\Software\\Microsoft",
    ]
    picks = rng.integers(0, len(programs), COMMAND_POOL)
    suffix = rng.integers(0, 1 << 30, COMMAND_POOL)
    return np.array(
        [f"{programs[p]} --id {s:08x}" for p, s in zip(picks, suffix, strict=True)], dtype=object
    )


def make_events(n: int, seed: int = 20261102) -> pd.DataFrame:
    """Return ``n`` events in 4 lanes with 3 tooltip columns (see the module docstring)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-11-02T00:00:00", "ns")
    offsets = np.sort(rng.integers(0, WEEK_SECONDS * 1_000_000_000, n, dtype=np.int64))
    times = pd.DatetimeIndex(start + offsets.astype("timedelta64[ns]")).tz_localize("UTC")
    pool = _command_pool(rng)
    return pd.DataFrame(
        {
            "TimeGenerated": times,
            "Computer": np.array(HOSTS, dtype=object)[rng.integers(0, len(HOSTS), n)],
            "Account": np.array(ACCOUNTS, dtype=object)[rng.integers(0, len(ACCOUNTS), n)],
            "CommandLine": pool[rng.integers(0, COMMAND_POOL, n)],
        }
    )
