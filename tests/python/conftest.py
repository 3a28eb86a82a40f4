"""Shared fixtures: stand-in front-end assets so widgets can be built without `make build`."""

from __future__ import annotations

from pathlib import Path

import pytest

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
