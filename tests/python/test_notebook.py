"""examples/overview.ipynb runs top to bottom on the built-in scenario with the built assets.

The scenario comes from `huntglass demo-data` (the same tables the demo page serves), so every
section of the notebook runs on the data it was written for. Needs `make build` (the native
binary, the kernel wasm and the front-end bundle); under CI a missing build fails, elsewhere it
skips.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from huntglass._widget import STATIC_DIR

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "overview.ipynb"
BUILT_ASSETS = ("widget.js", "hg_wasm_bg.wasm", "hg_kernel.wasm", "VERSION")


@pytest.fixture
def built_assets() -> Path:
    missing = [name for name in BUILT_ASSETS if not (STATIC_DIR / name).is_file()]
    if missing:
        message = f"{', '.join(missing)} missing in {STATIC_DIR}: run `make build`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return STATIC_DIR


def test_overview_notebook_runs(demo_scenario, built_assets, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("HUNTGLASS_DEMO_DATA", str(demo_scenario))
    monkeypatch.delenv("HUNTGLASS_STATIC_DIR", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    assert (tmp_path / "process-timeline.html").is_file()
    widget_kinds = [
        output["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    # Every widget section of the story shows its widget (4 when this test was written: two
    # timelines and two indicator views; each new section adds its own).
    assert len(widget_kinds) >= 4
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
