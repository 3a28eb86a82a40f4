"""hg.demo: reading the scenario tables, generating them with the huntglass command."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from huntglass import demo


def write_table(directory: Path, name: str, table: pa.Table) -> None:
    with (
        pa.OSFile(str(directory / f"{name}.arrow"), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as writer,
    ):
        writer.write_table(table)


def alerts_table() -> pa.Table:
    return pa.table(
        {
            "TimeGenerated": pa.array([1_700_000_000_000_000_000], pa.timestamp("ns", "UTC")),
            "AlertName": ["Suspicious PowerShell"],
        }
    )


@pytest.fixture
def no_binary(tmp_path, monkeypatch):
    """No huntglass command anywhere: empty PATH, a repository root without target/."""
    monkeypatch.delenv(demo.ENV_DATA, raising=False)
    monkeypatch.delenv("CARGO_TARGET_DIR", raising=False)
    monkeypatch.delenv("HUNTGLASS_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr(demo, "_REPO_ROOT", tmp_path / "repo")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_load_reads_the_table_from_the_configured_directory(tmp_path, monkeypatch):
    write_table(tmp_path, "SecurityAlert", alerts_table())
    monkeypatch.setenv(demo.ENV_DATA, str(tmp_path))
    frame = demo.load("SecurityAlert")
    assert isinstance(frame, pd.DataFrame)
    assert frame["AlertName"].tolist() == ["Suspicious PowerShell"]
    assert str(frame["TimeGenerated"].dtype).startswith("datetime64[ns, UTC]")
    assert demo.tables() == ["SecurityAlert"]


def test_unknown_table_lists_the_tables(tmp_path, monkeypatch):
    write_table(tmp_path, "SecurityAlert", alerts_table())
    monkeypatch.setenv(demo.ENV_DATA, str(tmp_path))
    with pytest.raises(ValueError, match="no scenario table 'Nope'.*SecurityAlert"):
        demo.load("Nope")
    for bad in ("../SecurityAlert", "", ".hidden", "a\\b"):
        with pytest.raises(ValueError, match="table must be a table name"):
            demo.load(bad)


def test_configured_directory_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv(demo.ENV_DATA, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="HUNTGLASS_DEMO_DATA"):
        demo.load("SecurityAlert")


def test_no_command_anywhere_is_a_clear_error(no_binary, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        demo.load("SecurityAlert")
    message = str(info.value)
    assert "HUNTGLASS_DEMO_DATA" in message
    assert "PATH" in message
    assert str(tmp_path / "repo" / "target" / "release" / "huntglass") in message


FAKE_CLI = """#!{python}
import json, pathlib, sys
import pyarrow as pa
calls = pathlib.Path({calls!r})
calls.write_text(calls.read_text() + "x" if calls.exists() else "x")
if sys.argv[1:3] != ["demo-data", "--out"] or {fail}:
    sys.stderr.write("demo-data: cannot write the scenario\\n")
    sys.exit(3)
out = pathlib.Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
table = pa.table({{"TimeGenerated": pa.array([0], pa.timestamp("ns", "UTC")), "Computer": ["h"]}})
with pa.OSFile(str(out / "SecurityEvent.arrow"), "wb") as sink:
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
manifest = {{"seed": 1, "tables": [{{"name": "SecurityEvent", "rows": 1}}]}}
(out / "manifest.json").write_text(json.dumps(manifest))
"""


def install_fake_cli(directory: Path, calls: Path, fail: bool = False) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "huntglass"
    script.write_text(FAKE_CLI.format(python=sys.executable, calls=str(calls), fail=fail))
    script.chmod(0o755)
    return script


def test_command_on_path_generates_once_into_the_cache(no_binary, tmp_path, monkeypatch):
    calls = tmp_path / "calls"
    install_fake_cli(tmp_path / "bin", calls)
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    frame = demo.load("SecurityEvent")
    assert frame["Computer"].tolist() == ["h"]
    assert demo.load("SecurityEvent")["Computer"].tolist() == ["h"]
    assert demo.manifest()["tables"][0]["name"] == "SecurityEvent"
    assert calls.read_text() == "x"  # generated once, then read from the cache
    assert demo.data_dir().parent == tmp_path / "cache" / "huntglass"


def test_command_in_cargo_target_dir_is_found(no_binary, tmp_path, monkeypatch):
    calls = tmp_path / "calls"
    install_fake_cli(tmp_path / "cargo-target" / "release", calls)
    monkeypatch.setenv("CARGO_TARGET_DIR", str(tmp_path / "cargo-target"))
    assert demo.find_binary() == tmp_path / "cargo-target" / "release" / "huntglass"
    assert demo.load("SecurityEvent").shape == (1, 2)


def test_failing_command_reports_its_error(no_binary, tmp_path, monkeypatch):
    install_fake_cli(tmp_path / "repo" / "target" / "release", tmp_path / "calls", fail=True)
    with pytest.raises(RuntimeError, match="exit 3.*cannot write the scenario"):
        demo.load("SecurityEvent")
    leftovers = list((tmp_path / "cache" / "huntglass").glob("*"))
    assert leftovers == []


def test_manifest_is_json(tmp_path, monkeypatch):
    (tmp_path / "manifest.json").write_text(json.dumps({"seed": 7, "tables": []}))
    monkeypatch.setenv(demo.ENV_DATA, str(tmp_path))
    assert demo.manifest()["seed"] == 7


def test_command_named_by_huntglass_bin_comes_first(no_binary, tmp_path, monkeypatch):
    # scripts/test.sh builds the `ci` profile and names the binary in HUNTGLASS_BIN.
    calls = tmp_path / "calls"
    install_fake_cli(tmp_path / "cargo-target" / "ci", calls)
    install_fake_cli(tmp_path / "cargo-target" / "release", tmp_path / "other-calls")
    monkeypatch.setenv("CARGO_TARGET_DIR", str(tmp_path / "cargo-target"))
    monkeypatch.setenv("HUNTGLASS_BIN", str(tmp_path / "cargo-target" / "ci" / "huntglass"))
    assert demo.find_binary() == tmp_path / "cargo-target" / "ci" / "huntglass"
    assert demo.load("SecurityEvent").shape == (1, 2)
    assert calls.read_text() == "x"
