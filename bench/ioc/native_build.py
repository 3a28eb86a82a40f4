"""Builds a native example the way the release `huntglass` is built: through scripts/pgo.sh, so
the IoC engine inside has the profile-guided optimisation that ships (shared by the IoC benches)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PGO_BUILD = ["bash", "scripts/pgo.sh", "cargo", "build", "--release", "-q"]


def build_example(package: str, example: str, target: Path | None = None) -> Path:
    """Build `package`'s example `example` in release and return the binary's path."""
    env = dict(os.environ)
    if target is not None:
        env["CARGO_TARGET_DIR"] = str(target)
    target_dir = Path(env.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(
        [*PGO_BUILD, "-p", package, "--example", example],
        check=True,
        cwd=ROOT,
        env=env,
    )
    return target_dir / "release" / "examples" / example
