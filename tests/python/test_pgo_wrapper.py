"""scripts/pgo_rustc.sh, the rustc wrapper of the profile-guided release build: which crates get
the profile flags, and hg_ioc's fixed `-C metadata` (the profile is matched by symbol names)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "scripts" / "pgo_rustc.sh"


@pytest.fixture
def fake_rustc(tmp_path: Path) -> Path:
    """A stand-in rustc that prints its arguments as JSON."""
    rustc = tmp_path / "rustc"
    rustc.write_text(
        "#!/usr/bin/env python3\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    rustc.chmod(0o755)
    return rustc


def run(fake_rustc: Path, args: list[str], **env: str) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HG_PGO")} | env
    out = subprocess.run(
        ["bash", str(WRAPPER), str(fake_rustc), *args],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


FIXED = {"HG_PGO_FIXED_CRATE": "hg_ioc", "HG_PGO_FIXED_METADATA": "huntglass-pgo"}
USE = {"HG_PGO_CRATES": "hg_ioc", "HG_PGO_FLAGS": "-Cprofile-use=/p.profdata", **FIXED}

COMPILE_HG_IOC = [
    "--crate-name",
    "hg_ioc",
    "--edition=2021",
    "crates/hg_ioc/src/lib.rs",
    "-C",
    "opt-level=3",
    "-C",
    "metadata=3f2a9c",
    "-C",
    "extra-filename=-3f2a9c",
]


def test_other_crates_compile_unchanged(fake_rustc: Path) -> None:
    args = ["--crate-name", "datafusion", "src/lib.rs", "-C", "metadata=77"]
    got = run(fake_rustc, args, **USE)
    assert got == args


def test_no_crates_named_means_no_change(fake_rustc: Path) -> None:
    assert run(fake_rustc, COMPILE_HG_IOC) == COMPILE_HG_IOC


def test_profile_flags_and_fixed_metadata_for_hg_ioc(fake_rustc: Path) -> None:
    got = run(fake_rustc, COMPILE_HG_IOC, **USE)
    # cargo's metadata replaced (not added to: rustc hashes every value it is given), the
    # file name suffix kept so artifacts stay apart, the profile flag last.
    assert "metadata=3f2a9c" not in got
    assert got[-3:] == ["-C", "metadata=huntglass-pgo", "-Cprofile-use=/p.profdata"]
    assert "extra-filename=-3f2a9c" in got
    assert got[:4] == COMPILE_HG_IOC[:4]


def test_training_binary_gets_flags_but_keeps_its_metadata(fake_rustc: Path) -> None:
    args = ["--crate-name", "pgo_train", "examples/pgo_train.rs", "-C", "metadata=51"]
    got = run(
        fake_rustc,
        args,
        HG_PGO_CRATES="hg_ioc pgo_train",
        HG_PGO_FLAGS="-Cprofile-generate=/raw",
        **FIXED,
    )
    assert got == [*args, "-Cprofile-generate=/raw"]


def test_crate_name_is_matched_whole(fake_rustc: Path) -> None:
    args = ["--crate-name", "hg_ioc_extra", "src/lib.rs", "-C", "metadata=9"]
    got = run(fake_rustc, args, **USE)
    assert got == args
