"""The built-in investigation scenario as pandas DataFrames: ``hg.demo.load("SecurityEvent")``.

The tables are made by the ``huntglass`` command (``huntglass demo-data --out DIR``, seeded and
deterministic). :func:`load` reads ``DIR/<table>.arrow`` from ``$HUNTGLASS_DEMO_DATA`` when it is
set; otherwise it runs the command once into a cache directory (``$XDG_CACHE_HOME/huntglass`` or
``~/.cache/huntglass``) keyed by the binary, so a rebuilt binary writes fresh tables.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

#: The scenario's tables (docs/CONTRACT.md, "Built-in scenario files").
TABLES = (
    "SecurityEvent",
    "LogonEvents",
    "SecurityAlert",
    "OfficeActivity",
    "NetworkBytes",
    "DnsEvents",
    "CommonSecurityLog",
)

ENV_DATA = "HUNTGLASS_DEMO_DATA"

#: Longest time the generator may take (it writes a few MB).
GENERATE_TIMEOUT_S = 300

_REPO_ROOT = Path(__file__).resolve().parents[3]


def _candidate_binaries() -> list[Path]:
    """Where the ``huntglass`` command may be, in the order they are tried."""
    candidates = []
    # HUNTGLASS_BIN names the binary (scripts/test.sh sets it: tests build the `ci` profile).
    named = os.environ.get("HUNTGLASS_BIN")
    if named:
        candidates.append(Path(named))
    on_path = shutil.which("huntglass")
    if on_path:
        candidates.append(Path(on_path))
    candidates.append(_REPO_ROOT / "target" / "release" / "huntglass")
    target_dir = os.environ.get("CARGO_TARGET_DIR")
    if target_dir:
        candidates.append(Path(target_dir) / "release" / "huntglass")
    return candidates


def find_binary() -> Path:
    """Return the ``huntglass`` command, or raise FileNotFoundError naming where it looked."""
    candidates = _candidate_binaries()
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which("huntglass")
    looked = ", ".join(str(c) for c in candidates if on_path is None or c != Path(on_path))
    raise FileNotFoundError(
        "huntglass demo data is not available: set HUNTGLASS_DEMO_DATA to a directory written "
        "by `huntglass demo-data --out DIR`, or build the command (`make build` or `cargo build "
        "--release -p hg_cli`) or set HUNTGLASS_BIN to it. Looked for `huntglass` on PATH and "
        f"at {looked}."
    )


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "huntglass"


def data_dir() -> Path:
    """The directory holding the scenario tables, generating them first when needed."""
    configured = os.environ.get(ENV_DATA)
    if configured:
        path = Path(configured)
        if not path.is_dir():
            raise FileNotFoundError(f"{ENV_DATA} is set to {path}, which is not a directory")
        return path
    binary = find_binary()
    stat = binary.stat()
    key = hashlib.sha256(f"{binary.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    target = _cache_root() / f"demo-{key.hexdigest()[:16]}"
    if (target / "manifest.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="demo-", dir=target.parent))
    try:
        result = subprocess.run(
            [str(binary), "demo-data", "--out", str(scratch)],
            capture_output=True,
            text=True,
            timeout=GENERATE_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"`{binary} demo-data --out {scratch}` failed (exit {result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )
        if not (scratch / "manifest.json").is_file():
            raise RuntimeError(f"`{binary} demo-data` wrote no manifest.json into {scratch}")
        try:
            scratch.rename(target)
        except OSError:
            # Another process generated the same tables meanwhile: use theirs.
            if not (target / "manifest.json").is_file():
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def manifest() -> dict[str, Any]:
    """The scenario's ``manifest.json``: seed, scale, time span and the tables with row counts."""
    path = data_dir() / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    return json.loads(path.read_text(encoding="utf-8"))


def tables() -> list[str]:
    """Names of the tables that :func:`load` can read from the scenario directory."""
    return sorted(p.stem for p in data_dir().glob("*.arrow"))


def load_arrow(table: str) -> pa.Table:
    """Read one scenario table as a pyarrow Table."""
    if not isinstance(table, str) or not table or "/" in table or "\\" in table or table[0] == ".":
        raise ValueError(f"table must be a table name such as 'SecurityEvent', got {table!r}")
    directory = data_dir()
    path = directory / f"{table}.arrow"
    if not path.is_file():
        present = sorted(p.stem for p in directory.glob("*.arrow"))
        raise ValueError(
            f"no scenario table {table!r} in {directory}; the tables are: "
            + (", ".join(present) or "(none)")
        )
    with pa.OSFile(str(path), "rb") as source:
        return pa.ipc.open_stream(source).read_all()


def load(table: str) -> pd.DataFrame:
    """Read one scenario table (``"SecurityEvent"``, ``"SecurityAlert"``, ...) as a DataFrame."""
    return load_arrow(table).to_pandas()
