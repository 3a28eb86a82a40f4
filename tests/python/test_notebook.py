"""examples/overview.ipynb runs top to bottom (stand-in scenario tables and front-end assets)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "overview.ipynb"


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
    write_table(directory, "SecurityEvent", events)
    write_table(directory, "SecurityAlert", alerts)
    tables = [
        {"name": "SecurityEvent", "rows": len(events), "file": "SecurityEvent.arrow"},
        {"name": "SecurityAlert", "rows": len(alerts), "file": "SecurityAlert.arrow"},
    ]
    (directory / "manifest.json").write_text(json.dumps({"seed": 1, "tables": tables}))
    monkeypatch.setenv("HUNTGLASS_DEMO_DATA", str(directory))
    return directory


def test_overview_notebook_runs(scenario, assets, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
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
    assert len(widgets) == 2
