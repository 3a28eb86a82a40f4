"""Shared fixtures: stand-in front-end assets so widgets can be built without `make build`."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "msticpy-testdata"

FAKE_ESM = "export default { render() {} };\nexport async function mountStandalone() {}\n"
FAKE_WASM = b"\x00asm\x01\x00\x00\x00" + bytes(range(256)) * 4
FAKE_KERNEL = b"\x00asm\x01\x00\x00\x00" + bytes(range(255, -1, -1)) * 3


@pytest.fixture
def assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A static directory with a widget.js, the two wasm modules and a VERSION (widget tests)."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "widget.js").write_text(FAKE_ESM, encoding="utf-8")
    (static / "hg_wasm_bg.wasm").write_bytes(FAKE_WASM)
    (static / "hg_kernel.wasm").write_bytes(FAKE_KERNEL)
    (static / "VERSION").write_text("0123456789abcdef\n", encoding="utf-8")
    monkeypatch.setenv("HUNTGLASS_STATIC_DIR", str(static))
    return static


@pytest.fixture
def processes():
    """The reference's 363 process-creation events (EventID 4688) as pandas."""
    import pandas as pd

    path = DATA / "processes_on_host.csv"
    if not path.is_file():
        pytest.skip(f"reference sample data not found at {path}")
    return pd.read_csv(path, index_col=0)


def native_binary() -> Path | None:
    """The native `huntglass` command: $HUNTGLASS_BIN, then $CARGO_TARGET_DIR, then target/."""
    candidates = [os.environ.get("HUNTGLASS_BIN")]
    target = os.environ.get("CARGO_TARGET_DIR")
    candidates.append(str(Path(target) / "release" / "huntglass") if target else None)
    candidates.append(str(ROOT / "target" / "release" / "huntglass"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def huntglass_bin() -> Path:
    """The native binary; a failure under CI (make test builds it first), a skip elsewhere."""
    binary = native_binary()
    if binary is None:
        message = "native huntglass binary not built (run `make build` or set HUNTGLASS_BIN)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="session")
def demo_scenario(huntglass_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in scenario written once per test session by `huntglass demo-data`."""
    directory = tmp_path_factory.mktemp("demo-data")
    subprocess.run(
        [str(huntglass_bin), "demo-data", "--out", str(directory)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return directory


@contextlib.contextmanager
def serving(
    binary: Path,
    data: Path,
    token_file: Path,
    *,
    idle_s: int = 300,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
) -> Iterator[dict]:
    """Runs `huntglass serve --port 0 --data <data>` until the block ends; yields its token file.

    The token file's content (``url``, ``token``) is read once the proxy wrote it whole; the
    proxy's output goes to ``log`` (stdout and stderr) or to pipes, and an early exit fails with
    that output. ``env`` replaces the environment, ``cwd`` is the working directory.
    """
    out = log.open("wb") if log is not None else None
    process = subprocess.Popen(
        [
            str(binary),
            "serve",
            "--port",
            "0",
            "--data",
            str(data),
            "--exit-after-idle",
            str(idle_s),
            "--token-file",
            str(token_file),
        ],
        stdout=out if out is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT if out is not None else subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    try:
        deadline = time.monotonic() + 120
        info = None
        while info is None:
            if process.poll() is not None:
                said = (
                    log.read_text(errors="replace")
                    if log is not None
                    else process.stderr.read().decode()
                )
                raise AssertionError(f"huntglass serve exited: {said}")
            if time.monotonic() > deadline:
                raise AssertionError("huntglass serve wrote no token file")
            if token_file.is_file():
                with contextlib.suppress(ValueError):
                    info = json.loads(token_file.read_text())
            if info is None:
                time.sleep(0.1)
        yield info
    finally:
        process.terminate()
        process.wait(timeout=30)
        if out is not None:
            out.close()
