"""Runs the reference (msticpy 3.0.2) on sessions or events given as JSON, for differential tests.

Reads one JSON request on stdin and writes the reference's answer as JSON on stdout:

* ``{"mode": "score", "type": "cmds_only" | "cmds_params_only" | "cmds_params_values",
  "sessions": [...], "windows": [2, 3, 4]}``: sessions are lists of names, of
  ``{"name", "params": [...]}`` or of ``{"name", "params": {name: value}}``; they become the
  reference's ``Cmd`` objects and are scored with ``score_sessions`` for each window length.
  Answer: ``{"<N>": {"likelihood": [float | null], "window": [[item, ...], ...]}}`` with items
  as names, ``[name, sorted params]`` or ``[name, sorted [param, value] pairs]``.
* ``{"mode": "build", "events": {"UserId": [...], "ClientIP": [...], "TimeGenerated": [ns],
  "Operation": [...]}, "options": {...}}``: ``sessionize_data`` with the options (its keyword
  names). Answer: the output columns, times and durations as integer nanoseconds.

Usage: /work/main/.venv-ref/bin/python bench/sessions/ref_runner.py < request.json
"""

from __future__ import annotations

import json
import math
import sys

import pandas as pd
from msticpy.analysis.anomalous_sequence.anomalous import score_sessions
from msticpy.analysis.anomalous_sequence.sessionize import sessionize_data
from msticpy.analysis.anomalous_sequence.utils.data_structures import Cmd


def to_cmd(kind: str, item):
    if kind == "cmds_only":
        return item
    if kind == "cmds_params_only":
        return Cmd(item["name"], set(item["params"]))
    return Cmd(item["name"], dict(item["params"]))


def from_cmd(kind: str, item):
    if kind == "cmds_only":
        return item
    if kind == "cmds_params_only":
        return [item.name, sorted(item.params)]
    return [item.name, sorted([k, v] for k, v in item.params.items())]


def score(request: dict) -> dict:
    kind = request["type"]
    sessions = [[to_cmd(kind, item) for item in s] for s in request["sessions"]]
    frame = pd.DataFrame({"session": sessions})
    answer = {}
    for n in request["windows"]:
        scored = score_sessions(frame, session_column="session", window_length=n)
        likelihoods = [
            None if (v is None or math.isnan(v)) else float(v)
            for v in scored[f"rarest_window{n}_likelihood"]
        ]
        windows = [[from_cmd(kind, item) for item in w] for w in scored[f"rarest_window{n}"]]
        answer[str(n)] = {"likelihood": likelihoods, "window": windows}
    return answer


def build(request: dict) -> dict:
    events = pd.DataFrame(request["events"])
    options = request["options"]
    time_col = options["time_col"]
    events[time_col] = pd.to_datetime(events[time_col], unit="ns", utc=True)
    out = sessionize_data(events, **options)
    answer = {}
    for column in out.columns:
        values = out[column]
        if column in (f"{time_col}_min", f"{time_col}_max", "duration"):
            answer[column] = [int(v.value) for v in values]
        elif column.endswith("_list"):
            answer[column] = [list(v) for v in values]
        elif column == "number_events":
            answer[column] = [int(v) for v in values]
        else:
            answer[column] = [None if pd.isna(v) else v for v in values]
    return answer


def main() -> None:
    request = json.load(sys.stdin)
    if request["mode"] == "score":
        answer = score(request)
    elif request["mode"] == "build":
        answer = build(request)
    else:
        raise SystemExit(f"unknown mode {request['mode']!r}")
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
