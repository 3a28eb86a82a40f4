"""hg.sessions in the kernel: shared cases, the reference itself, models as bytes, errors."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import huntglass as hg
from huntglass import _kernel
from huntglass._widget import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases" / "sessions"
REF_PYTHON = ROOT / ".venv-ref" / "bin" / "python"
REF_RUNNER = ROOT / "bench" / "sessions" / "ref_runner.py"
TOLERANCE = 1e-9


@pytest.fixture(autouse=True)
def kernel_built() -> None:
    if not (STATIC_DIR / _kernel.KERNEL_FILE).is_file():
        message = f"{_kernel.KERNEL_FILE} not built (run `make build`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class FakeCmd:
    """Duck-typed like the reference's Cmd (name and params), without importing msticpy."""

    def __init__(self, name: str, params: set | dict) -> None:
        self.name = name
        self.params = params


def _comparable(item) -> object:
    """A window item as the shared cases write it."""
    if isinstance(item, str):
        return item
    name = item["name"] if isinstance(item, dict) else item.name
    params = item["params"] if isinstance(item, dict) else item.params
    if isinstance(params, dict):
        return [name, sorted([k, v if v else None] for k, v in params.items())]
    return [name, sorted(params)]


def _close(a: float | None, b: float | None) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    if b is None:
        return False
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b))


def _case_files() -> list[Path]:
    files = sorted(CASES.glob("*.json"))
    assert len(files) >= 10
    return files


@pytest.mark.parametrize("path", _case_files(), ids=lambda p: p.stem)
def test_shared_cases(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    frame = pd.DataFrame({"session": case["sessions"]})
    expected = case["expected"]
    for key, want in expected["rarest"].items():
        geo = key.endswith("_geo")
        n = int(key.removesuffix("_geo"))
        scored = hg.sessions.score(
            frame,
            "session",
            n,
            use_start_end_tokens=case["use_start_end_tokens"],
            use_geo_mean=geo,
            session_likelihoods=True,
        )
        suffix = "_geo" if geo else ""
        got = scored[f"rarest_window{n}_likelihood{suffix}"].tolist()
        assert all(_close(g, w) for g, w in zip(got, want["likelihoods"], strict=True)), (
            key,
            got,
            want["likelihoods"],
        )
        windows = [[_comparable(i) for i in w] for w in scored[f"rarest_window{n}{suffix}"]]
        assert windows == want["windows"], key
        likelihoods = scored["session_likelihood"].tolist()
        assert all(_close(g, w) for g, w in zip(likelihoods, expected["likelihoods"], strict=True))


def _generate(kind: str, seed: int) -> list[list]:
    """Seeded sessions: a random Markov chain over a small vocabulary, with parameters."""
    rng = random.Random(f"{kind}-{seed}")
    commands = [f"Cmd-{i}" for i in range(rng.randint(4, 12))]
    successors = {c: rng.sample(commands, k=rng.randint(1, 3)) for c in commands}
    params = {c: [f"P{j}" for j in rng.sample(range(8), k=rng.randint(0, 4))] for c in commands}
    values = {f"P{j}": [f"v{j}_{k}" for k in range(rng.choice((2, 3, 40)))] for j in range(8)}
    sessions = []
    for _ in range(rng.randint(60, 160)):
        cur = rng.choice(commands)
        session = []
        for _ in range(rng.choice((1, 2, 3, 4, 5, 7))):
            if kind == "cmds_only":
                session.append(cur)
            else:
                chosen = [p for p in params[cur] if rng.random() < 0.7]
                if kind == "cmds_params_only":
                    session.append({"name": cur, "params": chosen})
                else:
                    session.append(
                        {
                            "name": cur,
                            "params": {
                                p: rng.choice(values[p]) if rng.random() < 0.9 else ""
                                for p in chosen
                            },
                        }
                    )
            cur = rng.choice(successors[cur])
        sessions.append(session)
    return sessions


def _reference(request: dict) -> dict:
    if not REF_PYTHON.is_file():
        pytest.skip(f"the reference environment is not installed ({REF_PYTHON})")
    done = subprocess.run(
        [str(REF_PYTHON), str(REF_RUNNER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("kind", ["cmds_only", "cmds_params_only", "cmds_params_values"])
@pytest.mark.parametrize("seed", [1, 2])
def test_differential_against_the_reference(kind: str, seed: int) -> None:
    sessions = _generate(kind, seed)
    windows = [2, 3, 4]
    reference = _reference(
        {"mode": "score", "type": kind, "sessions": sessions, "windows": windows}
    )
    # The reference's Cmd objects (duck-typed) for one type, plain dicts for the others.
    if kind == "cmds_params_values":
        given = [[FakeCmd(i["name"], dict(i["params"])) for i in s] for s in sessions]
    else:
        given = sessions
    frame = pd.DataFrame({"session": given})
    compared = 0
    for n in windows:
        scored = hg.sessions.score(frame, session_column="session", window_length=n)
        assert list(scored.columns) == [
            "session",
            f"rarest_window{n}_likelihood",
            f"rarest_window{n}",
        ]
        want = reference[str(n)]
        got = scored[f"rarest_window{n}_likelihood"].tolist()
        for i, (g, w) in enumerate(zip(got, want["likelihood"], strict=True)):
            assert _close(g, w), (kind, seed, n, i, g, w)
            compared += w is not None
        got_windows = [[_comparable(i) for i in w] for w in scored[f"rarest_window{n}"]]
        want_windows = [
            [
                i
                if isinstance(i, str)
                else [i[0], [[k, v if v else None] for k, v in i[1]]]
                if kind == "cmds_params_values"
                else i
                for i in w
            ]
            for w in want["window"]
        ]
        assert got_windows == want_windows, (kind, seed, n)
        # The windows are the very objects of the input sessions (as the reference's slices).
        for session, window in zip(scored["session"], scored[f"rarest_window{n}"], strict=True):
            assert all(any(item is s for s in session) for item in window)
    assert compared > 100


def test_sessionize_against_the_reference() -> None:
    rng = random.Random(5)
    users = ["alice", "bob", None, "carol"]
    clock = dict.fromkeys(users, 1_700_000_000 * 10**9)
    rows = []
    for _ in range(400):
        user = rng.choice(users)
        clock[user] += rng.choice((30, 60, 119, 120, 121, 300, 1800)) * 10**9
        rows.append((user, rng.choice(["10.0.0.1", "10.0.0.2"]), clock[user], rng.choice("ABCD")))
    events = {
        "UserId": [r[0] for r in rows],
        "ClientIP": [r[1] for r in rows],
        "TimeGenerated": [r[2] for r in rows],
        "Operation": [r[3] for r in rows],
    }
    options = {
        "user_identifier_cols": ["UserId", "ClientIP"],
        "time_col": "TimeGenerated",
        "max_session_time_mins": 10,
        "max_event_separation_mins": 2,
        "event_col": "Operation",
    }
    reference = _reference({"mode": "build", "events": events, "options": options})
    frame = pd.DataFrame(events)
    frame["TimeGenerated"] = pd.to_datetime(frame["TimeGenerated"], unit="ns", utc=True)
    ours = hg.sessions.build(frame, **options)
    assert list(ours.columns) == list(reference)
    assert ours["Operation_list"].tolist() == reference["Operation_list"]
    assert ours["number_events"].tolist() == reference["number_events"]
    assert [t.value for t in ours["TimeGenerated_min"]] == reference["TimeGenerated_min"]
    assert [t.value for t in ours["TimeGenerated_max"]] == reference["TimeGenerated_max"]
    assert [d.value for d in ours["duration"]] == reference["duration"]
    assert [None if pd.isna(u) else u for u in ours["UserId"]] == reference["UserId"]
    assert ours["ClientIP"].tolist() == reference["ClientIP"]


def test_build_keeps_the_event_objects_and_the_reference_semantics() -> None:
    base = pd.Timestamp("2024-01-01", tz="UTC")
    minutes = [0, 5, 20, 29, 38, 47, 56]
    cmds = [FakeCmd(f"op{i}", {"p"}) for i in range(len(minutes))]
    frame = pd.DataFrame(
        {
            "user": ["alice"] * len(minutes),
            "t": [base + pd.Timedelta(minutes=m) for m in minutes],
            "cmd": cmds,
        }
    )
    out = hg.sessions.build(
        frame,
        user_identifier_cols=["user"],
        time_col="t",
        max_session_time_mins=30,
        max_event_separation_mins=10,
        event_col="cmd",
    )
    # Behaviour reference 3.10: [0, 5] (gap 15 splits), [20..47] (27 min), [56] (36 > 30).
    assert out["number_events"].tolist() == [2, 4, 1]
    assert [[c.name for c in s] for s in out["cmd_list"]] == [
        ["op0", "op1"],
        ["op2", "op3", "op4", "op5"],
        ["op6"],
    ]
    assert out["cmd_list"][0][0] is cmds[0]
    assert list(out.columns) == ["user", "t_min", "t_max", "cmd_list", "duration", "number_events"]
    assert out["duration"].tolist() == [pd.Timedelta(minutes=m) for m in (5, 27, 0)]
    # The accessor is the same call.
    again = frame.hg.sessions(
        user_identifier_cols=["user"],
        time_col="t",
        max_session_time_mins=30,
        max_event_separation_mins=10,
        event_col="cmd",
    )
    assert again["number_events"].tolist() == [2, 4, 1]


def test_model_trained_on_a_baseline_scores_another_set() -> None:
    baseline = pd.DataFrame({"s": [["A", "B"], ["A", "B"], ["A", "B", "C"], ["C", "A"]]})
    today = pd.DataFrame({"s": [["A", "B"], ["B", "X", "A"]]})
    model = hg.sessions.train(baseline, "s")
    assert model.session_type == "cmds_only"
    assert model.sessions == 4
    saved = model.to_bytes()
    loaded = hg.sessions.SessionModel.from_bytes(saved)
    scored = hg.sessions.score(today, "s", 3, model=loaded, session_likelihoods=True)
    # Behaviour reference 3.9: [A, B] under the baseline's model is 4/9 * 4/9 * 3/8.
    assert scored["session_likelihood"][0] == pytest.approx(4 / 9 * 4 / 9 * 3 / 8, rel=1e-12)
    # Bytes work as well as the object; self-training on today's sessions gives other numbers.
    by_bytes = hg.sessions.score(today, "s", 3, model=saved)
    assert (
        by_bytes["rarest_window3_likelihood"].tolist()
        == scored["rarest_window3_likelihood"].tolist()
    )
    alone = hg.sessions.score(today, "s", 3)
    assert alone["rarest_window3_likelihood"][0] != scored["rarest_window3_likelihood"][0]
    with pytest.raises(ValueError, match="not a huntglass session model"):
        hg.sessions.SessionModel.from_bytes(b"nonsense")
    with pytest.raises(ValueError, match="model"):
        hg.sessions.score(today, "s", 3, model=b"HGSM" + b"\x00" * 3)


def test_window_end_options_and_extra_columns() -> None:
    frame = pd.DataFrame({"s": [["A", "B"], ["A", "B"], ["A", "B", "C"], ["C", "A"]]})
    ref = hg.sessions.score(frame, "s", 2, window_start=True)
    # Behaviour reference 3.9: [A, B] -> window [B, END] returned as ['B'] (one short).
    assert ref["rarest_window2"][0] == ["B"]
    assert ref["rarest_window2_start"].tolist() == [1, 1, 1, 1]
    fixed = hg.sessions.score(frame, "s", 2, window_end="include_end_token")
    assert fixed["rarest_window2"][0] == ["B", hg.sessions.END_TOKEN]
    assert fixed["rarest_window2_likelihood"].tolist() == ref["rarest_window2_likelihood"].tolist()
    geo = hg.sessions.score(frame, "s", 2, use_geo_mean=True, use_start_end_tokens=False)
    assert geo["rarest_window2_likelihood_geo"][0] == pytest.approx(math.sqrt(14 / 67 * 4 / 9))
    too_short = hg.sessions.score(frame, "s", 5)
    assert too_short["rarest_window5_likelihood"].isna().all()
    assert too_short["rarest_window5"].tolist() == [[], [], [], []]


def test_polars_and_arrow_flavours() -> None:
    base = pd.Timestamp("2024-01-01", tz="UTC")
    frame = pd.DataFrame(
        {
            "u": ["a", "a", "b", "a"],
            "t": [base + pd.Timedelta(minutes=m) for m in (0, 1, 2, 30)],
            "op": ["x", "y", "x", "z"],
        }
    )
    kwargs = {
        "user_identifier_cols": ["u"],
        "time_col": "t",
        "max_session_time_mins": 20,
        "max_event_separation_mins": 5,
        "event_col": "op",
    }
    as_pandas = hg.sessions.build(frame, **kwargs)
    as_polars = hg.sessions.build(pl.from_pandas(frame), **kwargs)
    as_arrow = hg.sessions.build(pa.Table.from_pandas(frame, preserve_index=False), **kwargs)
    assert isinstance(as_polars, pl.DataFrame)
    assert isinstance(as_arrow, pa.Table)
    assert as_polars["op_list"].to_list() == as_pandas["op_list"].tolist()
    assert as_arrow.column("op_list").to_pylist() == as_pandas["op_list"].tolist()
    scored = hg.sessions.score(as_polars, "op_list", 2)
    assert isinstance(scored, pl.DataFrame)
    want = hg.sessions.score(as_pandas, "op_list", 2)["rarest_window2_likelihood"].tolist()
    assert scored["rarest_window2_likelihood"].to_list() == want


def test_errors_name_the_problem() -> None:
    frame = pd.DataFrame({"s": [["A"], ["B", 3]]})
    with pytest.raises(ValueError, match="session 1, item 1"):
        hg.sessions.score(frame, "s", 2)
    with pytest.raises(ValueError, match="'nope'.*the columns are: 's'"):
        hg.sessions.score(frame, "nope", 2)
    with pytest.raises(ValueError, match="session 0 is missing"):
        hg.sessions.score(pd.DataFrame({"s": [None, ["A"]]}), "s", 2)
    with pytest.raises(ValueError, match="window_length"):
        hg.sessions.score(pd.DataFrame({"s": [["A"]]}), "s", 0)
    with pytest.raises(ValueError, match="##END##"):
        hg.sessions.score(pd.DataFrame({"s": [["A", "##END##"]]}), "s", 2)
    events = pd.DataFrame({"u": ["a"], "t": [pd.NaT], "op": ["x"]})
    with pytest.raises(ValueError, match="missing time at row 0"):
        hg.sessions.build(events, ["u"], "t", 10, 2, "op")
    with pytest.raises(TypeError, match="event_col"):
        hg.sessions.build(events, ["u"], "t", 10, 2)
    with pytest.raises(ValueError, match="max_session_time_mins"):
        hg.sessions.build(events, ["u"], "t", -1, 2, "op")


def test_demo_scenario_attacker_session_is_the_rarest(demo_scenario: Path) -> None:
    office = pa.ipc.open_stream((demo_scenario / "OfficeActivity.arrow").read_bytes()).read_all()
    frame = office.to_pandas()
    sessions = hg.sessions.build(
        frame,
        user_identifier_cols=["UserId", "ClientIP"],
        time_col="TimeGenerated",
        max_session_time_mins=20,
        max_event_separation_mins=2,
        event_col="Operation",
    )
    scored = hg.sessions.score(sessions, "Operation_list", 2)
    rarest = scored.sort_values("rarest_window2_likelihood").iloc[0]
    assert rarest["ClientIP"] == "203.0.113.77"
    assert np.isfinite(rarest["rarest_window2_likelihood"])


def _office_like() -> pd.DataFrame:
    base = pd.Timestamp("2024-03-04 08:00", tz="UTC")
    rows = []
    for u in range(30):
        for k in range(6):
            op = ["MailItemsAccessed", "Send", "FileAccessed"][(u + k) % 3]
            rows.append(
                (f"user{u}", f"10.0.0.{u}", base + pd.Timedelta(seconds=40 * k + u), op, "")
            )
    for k, op in enumerate(["MailItemsAccessed", "New-InboxRule", "Add-MailboxPermission"]):
        rows.append(("mallory", "203.0.113.77", base + pd.Timedelta(seconds=30 * k), op, "x=1"))
    return pd.DataFrame(
        rows, columns=["UserId", "ClientIP", "TimeGenerated", "Operation", "Params"]
    )


@pytest.fixture
def real_assets() -> None:
    for name in ("widget.js", "hg_wasm_bg.wasm"):
        if not (STATIC_DIR / name).is_file():
            pytest.skip(f"{name} not built (run `make build`)")


def test_session_rarity_widget_sends_text_events_and_returns_chosen_sessions(real_assets) -> None:
    frame = _office_like()
    widget = frame.hg.session_rarity(
        ["UserId", "ClientIP"],
        time_col="TimeGenerated",
        max_session_time_mins=20,
        max_event_separation_mins=2,
        event_col="Operation",
        params_col="Params",
        window_length=2,
    )
    assert widget._kind == "session_rarity"
    assert widget._kernel_hash
    assert widget.spec["window_length"] == 2
    assert widget.spec["color_by"] == "UserId"
    sent = widget.datasets["events"]
    assert sent.num_rows == len(frame)
    assert pa.types.is_timestamp(sent.schema.field("TimeGenerated").type)
    for name in ("UserId", "ClientIP", "Operation", "Params"):
        kind = sent.schema.field(name).type
        assert pa.types.is_string(kind) or pa.types.is_dictionary(kind), (name, kind)
    sessions = widget.sessions()
    assert len(sessions) == 31
    rarest = int(sessions["rarest_window2_likelihood"].idxmin())
    assert sessions["ClientIP"][rarest] == "203.0.113.77"
    assert widget.selected.empty
    widget.selection = {"sessions": [rarest]}
    picked = widget.selected
    assert picked["UserId"].tolist() == ["mallory"]
    assert picked["Operation_list"].tolist() == [
        ["MailItemsAccessed", "New-InboxRule", "Add-MailboxPermission"]
    ]
    widget.selection = {"sessions": [999]}
    with pytest.raises(ValueError, match="outside"):
        _ = widget.selected
    with pytest.raises(ValueError, match="'Nope'.*the columns are"):
        hg.SessionRarity(frame, ["UserId"], event_col="Nope")
    with pytest.raises(ValueError, match="window_length"):
        hg.SessionRarity(frame, ["UserId"], window_length=0)
