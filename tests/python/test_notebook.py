"""examples/overview.ipynb runs top to bottom (stand-in scenario tables and front-end assets)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "overview.ipynb"
#: The real kernel module (the notebook's hg.ioc.extract runs it; the stand-in assets lack it).
KERNEL_WASM = Path(__file__).resolve().parents[2] / "widgets/src/huntglass/static/hg_kernel.wasm"


def write_table(directory: Path, name: str, frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with (
        pa.OSFile(str(directory / f"{name}.arrow"), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as writer,
    ):
        writer.write_table(table)


@pytest.fixture
def scenario(tmp_path, processes, monkeypatch):
    directory = tmp_path / "scenario"
    directory.mkdir()
    events = processes.assign(TimeGenerated=pd.to_datetime(processes["TimeGenerated"], utc=True))
    alerts = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(
                ["2019-01-15 05:30:00", "2019-01-15 05:40:00", "2019-01-15 05:20:00"], utc=True
            ),
            "AlertName": ["Suspicious PowerShell", "C2 beacon", "Password spray"],
            "AlertSeverity": ["High", "High", "Medium"],
            "CompromisedEntity": ["MSTICAlertsWin1", "MSTICAlertsWin1", "MSTICAlertsWin1"],
        }
    )
    proxy = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(["2019-01-15 05:31:00"] * 2, utc=True),
            "RequestURL": ["http://evil.example.com/a.ps1", "https://contoso.com/index.html"],
        }
    )
    write_table(directory, "SecurityEvent", events)
    write_table(directory, "SecurityAlert", alerts)
    write_table(directory, "CommonSecurityLog", proxy)
    tables = [
        {"name": "SecurityEvent", "rows": len(events), "file": "SecurityEvent.arrow"},
        {"name": "SecurityAlert", "rows": len(alerts), "file": "SecurityAlert.arrow"},
        {"name": "CommonSecurityLog", "rows": len(proxy), "file": "CommonSecurityLog.arrow"},
    ]
    (directory / "manifest.json").write_text(json.dumps({"seed": 1, "tables": tables}))
    monkeypatch.setenv("HUNTGLASS_DEMO_DATA", str(directory))
    return directory


def test_overview_notebook_runs(scenario, assets, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if not KERNEL_WASM.is_file():
        pytest.fail(f"{KERNEL_WASM} is missing: run scripts/build.sh (hg.ioc.extract needs it)")
    shutil.copy(KERNEL_WASM, assets / KERNEL_WASM.name)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    assert (tmp_path / "process-timeline.html").is_file()
    widgets = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert len(widgets) == 4
