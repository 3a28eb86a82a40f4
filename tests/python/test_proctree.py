"""hg.proctree (kernel op proctree.build), the ProcessTree widget, and parity with MSTICPy.

The shared cases of tests/cases/proctree are the Rust tests' too. The differential test runs the
reference (msticpy 3.0.2 in .venv-ref) on seeded generated 4688 events whose true parents are
known: huntglass finds every true parent; the reference finds the same parent for every process
except those it links to a process of the same id and name on another host (it ignores the host),
which the test counts and checks are exactly its mistakes.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import huntglass as hg
from huntglass import proctree

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases" / "proctree"
REFERENCE_PYTHON = ROOT / ".venv-ref" / "bin" / "python"


def kernel_ready() -> bool:
    return (Path(hg.__file__).parent / "static" / "hg_kernel.wasm").is_file()


pytestmark = pytest.mark.skipif(not kernel_ready(), reason="hg_kernel.wasm not built")


def case_frame(case: dict) -> pd.DataFrame:
    frame = pd.DataFrame(case["columns"])
    for column in case["time_columns"]:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def schema_of(case: dict):
    return case["schema"]


@pytest.mark.parametrize("path", sorted(CASES.glob("*.json")), ids=lambda p: p.stem)
def test_shared_cases(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    frame = case_frame(case)
    expect = case["expect"]
    if "error_contains" in expect:
        with pytest.raises(ValueError, match=expect["error_contains"][0]) as info:
            proctree.build(frame, schema_of(case))
        for needle in expect["error_contains"]:
            assert needle in str(info.value)
        return
    tree = proctree.build(frame, schema_of(case))
    n = len(frame)
    by_source = {int(s): i for i, s in enumerate(tree["source_index"])}
    assert int(tree["IsPlaceholder"].sum()) == expect["placeholders"]
    if "roots" in expect:
        assert int(tree["IsRoot"].sum()) == expect["roots"]
    for row, want in enumerate(expect["parents"]):
        if want == "dropped":
            assert row not in by_source
            continue
        got = tree.iloc[by_source[row]]
        parent = None if pd.isna(got["parent_index"]) else int(got["parent_index"])
        if want is None:
            assert parent is None, (path.stem, row)
        elif isinstance(want, int):
            assert parent == want, (path.stem, row)
        else:
            assert parent is not None, (path.stem, row)
            assert parent >= n, (path.stem, row)
            placeholder = tree.iloc[by_source[parent]]
            assert bool(placeholder["IsPlaceholder"])
            id_column = {
                "windows_4688": "NewProcessId",
                "sysmon_1": "ProcessId",
                "mde": "ProcessId",
                "linux_auditd": "pid",
                "custom": "PID",
            }[expect["schema"]]
            assert str(placeholder[id_column]).removesuffix(".0") == want[2:]


def test_utilities_answer_from_the_tree() -> None:
    case = json.loads((CASES / "win_pid_reuse.json").read_text(encoding="utf-8"))
    tree = proctree.build(case_frame(case))
    whoami = tree[tree["source_index"] == 2].iloc[0]
    assert list(proctree.ancestors(tree, whoami)["source_index"]) == [6, 0, 1, 2]
    assert list(proctree.descendants(tree, 0)["source_index"]) == [0, 1, 2, 5, 3, 4]
    assert list(proctree.descendants(tree, 0, max_levels=1)["source_index"]) == [0, 1, 3]
    assert list(proctree.siblings(tree, 1)["source_index"]) == [3]
    assert list(proctree.children(tree, 1)["source_index"]) == [2, 5]
    assert list(proctree.parent(tree, 4)["source_index"]) == [3]
    assert list(proctree.root(tree, whoami["proc_key"])["source_index"]) == [6]
    assert list(proctree.roots(tree)["source_index"]) == [6]
    assert proctree.summary(tree) == {
        "Processes": 7,
        "RootProcesses": 1,
        "LeafProcesses": 3,
        "BranchProcesses": 3,
        "IsolatedProcesses": 0,
        "LargestTreeDepth": 4,
        "Placeholders": 1,
    }
    text = proctree.tree_to_text(tree, cmd_column="CommandLine")
    assert "  c:\\windows\\explorer.exe [0x100]  explorer.exe" in text
    with pytest.raises(KeyError):
        proctree.parent(tree, 99)
    with pytest.raises(ValueError, match="not a process tree"):
        proctree.roots(case_frame(case))


def test_flavours_and_accessor() -> None:
    case = json.loads((CASES / "linux_auditd.json").read_text(encoding="utf-8"))
    frame = case_frame(case)
    arrow = proctree.build(pa.Table.from_pandas(frame, preserve_index=False))
    assert isinstance(arrow, pa.Table)
    assert arrow.column_names[-12:] == list(proctree.TREE_COLUMNS)
    via_accessor = frame.hg.build_process_tree()
    assert list(via_accessor["source_index"]) == arrow.column("source_index").to_pylist()
    polars = pytest.importorskip("polars")
    out = proctree.build(polars.from_pandas(frame))
    assert isinstance(out, polars.DataFrame)


def test_schema_object_and_errors() -> None:
    case = json.loads((CASES / "hex_decimal_mapping.json").read_text(encoding="utf-8"))
    frame = case_frame(case)

    class Schema:  # the reference's ProcSchema has these attributes
        process_name = "ImageFileName"
        process_id = "PID"
        parent_id = "PPID"
        time_stamp = "CreateTime"
        cmd_line = None

    tree = proctree.build(frame, Schema())
    assert int(tree["IsPlaceholder"].sum()) == 1
    with pytest.raises(ValueError, match="unknown key 'colour'"):
        proctree.build(frame, {**case["schema"], "colour": "x"})
    with pytest.raises(ValueError, match="unknown schema 'nope'"):
        proctree.build(frame, "nope")
    with pytest.raises(TypeError, match="schema must be"):
        proctree.build(frame, 3)
    with pytest.raises(ValueError, match="already has the column 'proc_key'"):
        proctree.build(tree, case["schema"])


# ------------------------------------------------------------------ differential test


def generate_events(seed: int, hosts: int, per_host: int) -> tuple[pd.DataFrame, list[int | None]]:
    """4688 events of `hosts` machines whose ids are reused (small id space) and shared across
    hosts, with each event's true parent row (None: the parent is not in the data)."""
    rng = random.Random(seed)
    images = [
        f"C:\\Windows\\System32\\{n}.exe"
        for n in ("cmd", "svchost", "conhost", "powershell", "rundll32", "wmic", "net", "whoami")
    ]
    rows: list[dict] = []
    truth: list[int | None] = []
    t0 = pd.Timestamp("2024-05-01", tz="UTC")
    for h in range(hosts):
        host = f"HOST{h:03d}"
        alive: dict[int, int] = {}  # pid -> row of the live holder
        next_time = 0
        for _ in range(per_host):
            next_time += rng.randint(1, 5000)
            if alive and rng.random() < 0.85:
                ppid = rng.choice(sorted(alive))
                parent_row = alive[ppid]
                parent_name = rows[parent_row]["NewProcessName"]
            else:
                ppid = rng.randint(1, 60) * 4
                parent_row = None
                parent_name = "C:\\Windows\\System32\\services.exe"
                if ppid in alive:
                    continue
            free = [p for p in range(4, 400, 4) if p not in alive and p != ppid]
            pid = rng.choice(free)
            row = len(rows)
            rows.append(
                {
                    "TimeGenerated": t0 + pd.Timedelta(milliseconds=next_time),
                    "Computer": host,
                    "EventID": 4688,
                    "NewProcessName": rng.choice(images),
                    "NewProcessId": hex(pid),
                    "ProcessId": hex(ppid),
                    "ParentProcessName": parent_name,
                    "CommandLine": f"cmd {row}",
                    "SubjectUserName": "user",
                    "SubjectLogonId": "0x3e7",
                    "TargetLogonId": "0x0",
                }
            )
            truth.append(parent_row)
            alive[pid] = row
            # processes exit, freeing ids for reuse
            for p in [p for p in alive if rng.random() < 0.08]:
                del alive[p]
    frame = pd.DataFrame(rows)
    # hosts interleaved in time, as one SecurityEvent table holds them
    order = frame.sort_values("TimeGenerated", kind="stable").index
    frame = frame.loc[order].reset_index(drop=True)
    new_row = {old: new for new, old in enumerate(order)}
    truth_sorted: list[int | None] = [None] * len(truth)
    for old, parent in enumerate(truth):
        truth_sorted[new_row[old]] = None if parent is None else new_row[parent]
    return frame, truth_sorted


REFERENCE_SCRIPT = r"""
import sys, pandas as pd
from msticpy.transform.proc_tree_builder import build_process_tree
from msticpy.transform.proc_tree_schema import WIN_EVENT_SCH
frame = pd.read_csv(sys.argv[1], dtype=str)
frame["TimeGenerated"] = pd.to_datetime(frame["TimeGenerated"], utc=True, format="ISO8601")
frame["EventID"] = frame["EventID"].astype(int)
tree = build_process_tree(frame, schema=WIN_EVENT_SCH)
out = pd.DataFrame({
    "source_index": tree["source_index"].astype(str),
    "parent_index": tree["parent_index"].astype(str),
    "synthetic": tree["TimeGenerated"].dt.year == 1970,
})
out.to_json(sys.argv[2], orient="records")
"""


@pytest.mark.skipif(not REFERENCE_PYTHON.is_file(), reason="reference venv .venv-ref missing")
def test_parents_match_the_reference_where_it_is_right(tmp_path: Path) -> None:
    frame, truth = generate_events(seed=7, hosts=20, per_host=250)
    tree = proctree.build(frame)
    ours = {
        int(s): (None if pd.isna(p) or p >= len(frame) else int(p))
        for s, p in zip(tree["source_index"], tree["parent_index"], strict=True)
    }
    assert [ours[i] for i in range(len(frame))] == truth

    pickle = tmp_path / "events.csv"
    frame.to_csv(pickle, index=False)
    result = tmp_path / "ref.json"
    script = tmp_path / "ref.py"
    script.write_text(REFERENCE_SCRIPT, encoding="utf-8")
    subprocess.run(
        [str(REFERENCE_PYTHON), str(script), str(pickle), str(result)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    ref_rows = json.loads(result.read_text(encoding="utf-8"))
    synthetic = {r["source_index"] for r in ref_rows if r["synthetic"]}
    reference: dict[int, int | None] = {}
    for r in ref_rows:
        if r["synthetic"]:
            continue
        # The reference's source_index is its row position, which for real rows is the input row.
        parent = r["parent_index"]
        reference[int(r["source_index"])] = (
            None if parent in ("nan", "None", "") or parent in synthetic else int(parent)
        )
    assert set(reference) == set(range(len(frame)))
    differences = [i for i in range(len(frame)) if reference[i] != truth[i]]
    cross_host = [
        i
        for i in differences
        if reference[i] is not None
        and frame.at[reference[i], "Computer"] != frame.at[i, "Computer"]
    ]
    # Every difference is the reference's mistake of linking to another host's process.
    assert differences == cross_host
    assert 0 < len(differences) < len(frame) // 5
    assert sum(1 for i in range(len(frame)) if reference[i] == truth[i]) == len(frame) - len(
        cross_host
    )


# ------------------------------------------------------------------ the scenario


def test_scenario_attack_chain(demo_scenario: Path) -> None:
    events = pa.ipc.open_stream((demo_scenario / "SecurityEvent.arrow").read_bytes()).read_all()
    frame = events.to_pandas()
    tree = proctree.build(frame)
    assert int(tree["IsPlaceholder"].sum()) >= 1
    ws104 = tree[tree["Computer"].astype(str).str.startswith("LRK-WS104")]
    stage = ws104[
        ws104["CommandLine"].astype(str).str.contains("-enc", regex=False)
        & ws104["NewProcessName"].astype(str).str.lower().str.endswith("powershell.exe")
    ]
    assert len(stage) >= 1
    chain = proctree.ancestors(tree, stage.iloc[0])
    names = [str(n).lower().rsplit("\\", 1)[-1] for n in chain["NewProcessName"]]
    assert names[-3:] == ["outlook.exe", "winword.exe", "powershell.exe"] or names[-2:] == [
        "winword.exe",
        "powershell.exe",
    ]
    below = proctree.descendants(tree, stage.iloc[0])
    assert any(str(n).lower().endswith("msupd.exe") for n in below["NewProcessName"])
    # Every real parent is on the child's host and is the latest earlier creation of its id.
    real = tree[~tree["IsPlaceholder"] & tree["parent_index"].notna()]
    by_source = tree.set_index("source_index")
    parents = by_source.loc[real["parent_index"].astype(int)]
    linked = ~parents["IsPlaceholder"].to_numpy()
    real, parents = real[linked], parents[linked]
    assert len(real) > 10_000
    assert (parents["Computer"].to_numpy() == real["Computer"].to_numpy()).all()
    assert (parents["NewProcessId"].to_numpy() == real["ProcessId"].to_numpy()).all()
    assert (parents["TimeGenerated"].to_numpy() <= real["TimeGenerated"].to_numpy()).all()


# ------------------------------------------------------------------ the widget


def test_widget_spec_data_and_selection(assets: Path) -> None:
    case = json.loads((CASES / "win_pid_reuse.json").read_text(encoding="utf-8"))
    frame = case_frame(case)
    widget = frame.hg.process_tree(legend_col="SubjectUserName", show_table=True)
    assert widget._kind == "process_tree"
    spec = widget.spec
    assert spec["name_column"] == "NewProcessName"
    assert spec["id_column"] == "NewProcessId"
    assert spec["cmd_column"] == "CommandLine"
    assert spec["time_column"] == "TimeGenerated"
    assert spec["color_by"] == "SubjectUserName"
    assert spec["show_table"] is True
    sent = widget.datasets["Processes"]
    assert sent.num_rows == 7
    assert {"source_index", "parent_index", "IsPlaceholder", "NewProcessName"} <= set(
        sent.column_names
    )
    widget.selection = {"Processes": [2]}
    assert list(widget.selected["source_index"]) == [1]

    timeline = frame.hg.timeline()
    widget.link_timeline(timeline)
    assert timeline.spec["ref_markers"][0]["label"] == "Selected process: cmd.exe"
    widget.selection = {"Processes": []}
    assert timeline.spec["ref_markers"] == []
    with pytest.raises(ValueError, match="color_by: column 'Nope' not found"):
        hg.ProcessTree(frame, color_by="Nope")
