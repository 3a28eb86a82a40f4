"""Timeline arguments (the reference's keywords) to the CONTRACT spec and the data sets sent."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import huntglass as hg
from huntglass.timeline import VALID_KEYWORDS, build_timeline, reference_markers

SPEC_KEYS = {
    "mode",
    "datasets",
    "group_by",
    "color_by",
    "value_column",
    "value_kind",
    "start_column",
    "end_column",
    "ref_markers",
    "title",
    "height",
    "width",
    "range_tool",
    "marker_size",
}
DATASET_KEYS = {"name", "time_column", "source_columns", "color", "group_by"}


def ms(text: str) -> float:
    nanos = pd.Timestamp(text, tz="UTC").value
    assert nanos % 1_000_000 == 0
    return float(nanos // 1_000_000)


def events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(
                ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 03:00", "2024-01-01 02:00"],
                utc=True,
            ),
            "EndTime": pd.to_datetime(
                ["2024-01-01 00:30", "2024-01-01 02:00", None, "2024-01-01 02:10"], utc=True
            ),
            "Computer": ["b", "a", "b", None],
            "Account": ["x", "y", "x", "y"],
            "Bytes": [10, 20, 30, 40],
            "Label": ["one", "two", "three", "four"],
        }
    )


def test_events_spec_is_exactly_the_contract(processes):
    datasets, spec = build_timeline(
        processes, group_by="Account", ref_time="2019-01-15 05:30", title="Processes"
    )
    assert spec == {
        "mode": "events",
        "datasets": [
            {
                "name": "Events",
                "time_column": "TimeGenerated",
                "source_columns": ["NewProcessName", "EventID", "CommandLine"],
                "color": None,
                "group_by": "Account",
            }
        ],
        "group_by": "Account",
        "color_by": None,
        "value_column": None,
        "value_kind": "bar",
        "start_column": None,
        "end_column": None,
        "ref_markers": [{"time_ms": ms("2019-01-15 05:30"), "label": "Ref time"}],
        "title": "Processes",
        "height": None,
        "width": None,
        "range_tool": True,
        "marker_size": 8,
    }
    json.dumps(spec, allow_nan=False)
    table = datasets[0].table
    assert table.schema.names == [
        "TimeGenerated",
        "Account",
        "NewProcessName",
        "EventID",
        "CommandLine",
    ]
    assert table.num_rows == 363


def test_default_source_columns_need_all_three_process_columns(processes):
    _, spec = build_timeline(processes.drop(columns=["EventID"]))
    assert spec["datasets"][0]["source_columns"] == []
    _, spec = build_timeline(processes, source_columns=["Account"])
    assert spec["datasets"][0]["source_columns"] == ["Account"]
    _, spec = build_timeline(processes, source_columns="Account")
    assert spec["datasets"][0]["source_columns"] == ["Account"]


def test_events_options():
    datasets, spec = build_timeline(
        events(),
        color_by="Account",
        height=400,
        width=800,
        range_tool=False,
        size=5,
        color="#ff0000",
        name="Procs",
    )
    assert spec["color_by"] == "Account"
    assert (spec["height"], spec["width"], spec["range_tool"], spec["marker_size"]) == (
        400,
        800,
        False,
        5,
    )
    assert spec["datasets"][0]["name"] == "Procs"
    assert spec["datasets"][0]["color"] == "#ff0000"
    assert "Account" in datasets[0].table.schema.names
    for bad in ({"height": 0}, {"width": -5}, {"size": "Bytes"}, {"height": True}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            build_timeline(events(), **bad)


def test_values_mode_and_aliases():
    for kwargs in ({"value_column": "Bytes"}, {"y": "Bytes"}, {"value_col": "Bytes"}):
        widget_args = dict(kwargs)
        datasets, spec = build_timeline(
            events(),
            value_column=widget_args.pop("value_column", None)
            or widget_args.pop("y", None)
            or widget_args.pop("value_col"),
        )
        assert spec["mode"] == "values"
        assert spec["value_column"] == "Bytes"
        assert spec["datasets"][0]["source_columns"] == ["Bytes"]
        assert spec["title"] == "Timeline"
        assert datasets[0].table.schema.field("Bytes").type == pa.int64()
    kinds = (("vbar", "bar"), ("circle", "scatter"), ("line", "line"), (["line"], "line"))
    for kind, expected in kinds:
        _, spec = build_timeline(events(), value_column="Bytes", kind=kind)
        assert spec["value_kind"] == expected
    _, spec = build_timeline(events(), value_column="Bytes", source_columns=["Label"])
    assert spec["datasets"][0]["source_columns"] == ["Bytes", "Label"]


def test_values_mode_errors():
    with pytest.raises(ValueError, match="needs value_column"):
        build_timeline(events(), mode="values")
    with pytest.raises(ValueError, match=r"'Label' \(value_column\) must be numeric"):
        build_timeline(events(), value_column="Label")
    with pytest.raises(ValueError, match="kind"):
        build_timeline(events(), value_column="Bytes", kind="pie")
    with pytest.raises(ValueError, match="kind"):
        build_timeline(events(), value_column="Bytes", kind=["vbar", "line"])
    with pytest.raises(ValueError, match="kind applies to mode 'values'"):
        build_timeline(events(), kind="line")
    with pytest.raises(ValueError, match="value_column applies"):
        build_timeline(events(), mode="events", value_column="Bytes")


def test_duration_mode():
    datasets, spec = build_timeline(events(), mode="duration", group_by=["Computer", "Account"])
    assert spec["mode"] == "duration"
    assert spec["group_by"] == "Computer / Account"
    assert spec["title"] == "Event Duration Timeline for Computer, Account"
    assert spec["datasets"][0]["group_by"] == "Computer / Account"
    assert spec["datasets"][0]["source_columns"] == ["Computer", "Account"]
    assert datasets[0].table.column("Computer / Account").to_pylist() == [
        "b / x",
        "a / y",
        "b / x",
        None,
    ]
    _, spec = build_timeline(events(), end_column="EndTime", group_by="Computer")
    assert (spec["mode"], spec["start_column"], spec["end_column"]) == (
        "duration",
        "TimeGenerated",
        "EndTime",
    )
    with pytest.raises(ValueError, match="needs end_column"):
        build_timeline(events(), mode="duration", start_column="TimeGenerated")
    with pytest.raises(ValueError, match="apply to mode 'duration'"):
        build_timeline(events(), mode="events", end_column="EndTime")


def test_mode_is_checked():
    with pytest.raises(ValueError, match="mode must be one of events, values, duration"):
        build_timeline(events(), mode="bars")


def test_missing_time_column_names_it_and_lists_columns():
    with pytest.raises(ValueError, match=r"'When' \(time_column\) not found.*'TimeGenerated'"):
        build_timeline(events(), time_column="When")
    with pytest.raises(ValueError, match=r"'Nope' \(group_by\) not found"):
        build_timeline(events(), group_by="Nope")
    with pytest.raises(ValueError, match=r"'Nope' \(source_columns\) not found"):
        build_timeline(events(), source_columns=["Label", "Nope"])


# --- several data sets ---------------------------------------------------------------------


def test_dict_of_frames_and_of_entries():
    alerts = pd.DataFrame(
        {"StartTime": pd.to_datetime(["2024-01-01 01:30"], utc=True), "AlertName": ["Bad"]}
    )
    datasets, spec = build_timeline(
        {
            "Processes": events(),
            "Alerts": {
                "data": alerts,
                "time_column": "StartTime",
                "source_columns": ["AlertName"],
                "color": "red",
            },
        },
        source_columns=["Label"],
    )
    assert spec["datasets"] == [
        {
            "name": "Processes",
            "time_column": "TimeGenerated",
            "source_columns": ["Label"],
            "color": None,
            "group_by": None,
        },
        {
            "name": "Alerts",
            "time_column": "StartTime",
            "source_columns": ["AlertName"],
            "color": "red",
            "group_by": None,
        },
    ]
    assert [d.name for d in datasets] == ["Processes", "Alerts"]
    assert datasets[1].table.schema.names == ["StartTime", "AlertName"]


def test_dict_entry_group_by_overrides_the_top_level_one():
    alerts = pd.DataFrame({"TimeGenerated": pd.to_datetime(["2024-01-01"], utc=True)})
    _, spec = build_timeline(
        {"P": events(), "A": {"data": alerts, "group_by": None}}, group_by="Computer"
    )
    assert [d["group_by"] for d in spec["datasets"]] == ["Computer", None]


def test_dict_errors():
    with pytest.raises(ValueError, match="unknown keys.*'size'"):
        build_timeline({"a": {"data": events(), "size": 3}})
    with pytest.raises(ValueError, match="has no 'data'"):
        build_timeline({"a": {"time_column": "TimeGenerated"}})
    with pytest.raises(ValueError, match="empty dict"):
        build_timeline({})
    with pytest.raises(TypeError, match="must be a DataFrame"):
        build_timeline({"a": [1, 2]})
    with pytest.raises(TypeError, match="data must be a DataFrame"):
        build_timeline([1, 2, 3])


def test_overlay_data_is_a_second_data_set():
    _, spec = build_timeline(
        events(), overlay_data=events(), overlay_columns=["Label"], overlay_color="green"
    )
    assert [(d["name"], d["source_columns"], d["color"]) for d in spec["datasets"]] == [
        ("Primary", [], None),
        ("Secondary", ["Label"], "green"),
    ]


def test_polars_and_arrow_inputs_give_the_same_spec():
    _, from_pandas = build_timeline(events(), group_by="Computer", source_columns=["Label"])
    for source in (pl.from_pandas(events()), pa.Table.from_pandas(events())):
        datasets, spec = build_timeline(source, group_by="Computer", source_columns=["Label"])
        assert spec == from_pandas
        assert datasets[0].table.column("Label").to_pylist() == events()["Label"].tolist()


# --- reference markers ---------------------------------------------------------------------


def test_single_reference_marker_precedence():
    alert = {"StartTimeUtc": "2024-01-01 01:00", "TimeGenerated": "2024-01-01 05:00"}
    assert reference_markers(time_column="T", alert=alert, ref_time="2024-01-02") == [
        {"time_ms": ms("2024-01-01 01:00"), "label": "Alert time"}
    ]
    event = pd.DataFrame(
        {"TimeGenerated": pd.to_datetime(["2024-01-01 02:00", "2025-01-01 00:00"])}
    )
    assert reference_markers(time_column="T", ref_event=event) == [
        {"time_ms": ms("2024-01-01 02:00"), "label": "Event time"}
    ]
    assert reference_markers(time_column="T", ref_event=event.iloc[0]) == [
        {"time_ms": ms("2024-01-01 02:00"), "label": "Event time"}
    ]

    class Alert:
        StartTimeUtc = dt.datetime(2024, 1, 1, 3, tzinfo=dt.timezone.utc)

    assert reference_markers(time_column="T", alert=Alert())[0]["time_ms"] == ms("2024-01-01 03:00")
    assert reference_markers(time_column="T", ref_time="2024-01-01", ref_label="Start") == [
        {"time_ms": ms("2024-01-01"), "label": "Start"}
    ]


def test_reference_times_are_utc_and_exact_to_the_millisecond():
    paris = pd.Timestamp("2024-06-01 14:00:00.010", tz="Europe/Paris")
    markers = reference_markers(time_column="T", ref_time=paris)
    assert markers[0]["time_ms"] == ms("2024-06-01 12:00:00.010")
    naive = reference_markers(time_column="T", ref_time=dt.datetime(2024, 6, 1, 12))
    assert naive[0]["time_ms"] == ms("2024-06-01 12:00")
    with pytest.raises(ValueError, match="not the number"):
        reference_markers(time_column="T", ref_time=1700000000)
    with pytest.raises(ValueError, match="not a time"):
        reference_markers(time_column="T", ref_time="yesterday-ish")
    with pytest.raises(ValueError, match="no StartTimeUtc or TimeGenerated"):
        reference_markers(time_column="T", alert={"Other": 1})


def test_ref_events_and_ref_times():
    ref_events = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(["2024-01-01 01:00", "2024-01-01 02:00"], utc=True),
            "Seen": pd.to_datetime(["2024-01-02", "2024-01-03"], utc=True),
            "Name": ["first", "second"],
        },
        index=[7, 9],
    )
    assert reference_markers(time_column="TimeGenerated", ref_events=ref_events) == [
        {"time_ms": ms("2024-01-01 01:00"), "label": "reference 7"},
        {"time_ms": ms("2024-01-01 02:00"), "label": "reference 9"},
    ]
    assert reference_markers(
        time_column="TimeGenerated", ref_events=ref_events, ref_time_col="Seen", ref_col="Name"
    ) == [
        {"time_ms": ms("2024-01-02"), "label": "first"},
        {"time_ms": ms("2024-01-03"), "label": "second"},
    ]
    with pytest.raises(ValueError, match=r"'Nope' \(ref_col\) not found"):
        reference_markers(time_column="TimeGenerated", ref_events=ref_events, ref_col="Nope")
    markers = reference_markers(
        time_column="T",
        ref_times=[(dt.datetime(2024, 1, 1), "boot"), ("2024-01-02", None), "2024-01-03"],
    )
    assert markers == [
        {"time_ms": ms("2024-01-01"), "label": "boot"},
        {"time_ms": ms("2024-01-02"), "label": "reference 1"},
        {"time_ms": ms("2024-01-03"), "label": "reference 2"},
    ]
    with pytest.raises(ValueError, match="list of"):
        reference_markers(time_column="T", ref_times="2024-01-01")


def test_ref_events_from_polars():
    ref_events = pl.DataFrame(
        {"TimeGenerated": [dt.datetime(2024, 1, 1, 1)], "AlertName": ["Bad thing"]}
    )
    assert reference_markers(
        time_column="TimeGenerated", ref_events=ref_events, ref_col="AlertName"
    ) == [{"time_ms": ms("2024-01-01 01:00"), "label": "Bad thing"}]


# --- keywords, functions and accessors -----------------------------------------------------


def test_unknown_keywords_raise_type_error_listing_the_valid_ones(assets):
    with pytest.raises(TypeError, match="unknown keyword argument.*legend") as info:
        hg.Timeline(events(), legend="left")
    for name in ("group_by", "ref_time", "value_column", "y", "value_col", "theme"):
        assert name in str(info.value)
    with pytest.raises(TypeError, match="not both"):
        hg.Timeline(events(), value_column="Bytes", y="Bytes")
    assert set(VALID_KEYWORDS) >= {"ref_events", "ref_col", "ref_time_col", "alert", "kind"}


def test_functions_and_accessors_build_the_same_widgets(assets):
    frame = events()
    by_function = hg.timeline(frame, group_by="Computer", source_columns=["Label"])
    by_accessor = frame.hg.timeline(group_by="Computer", source_columns=["Label"])
    by_polars = pl.from_pandas(frame).hg.timeline(group_by="Computer", source_columns=["Label"])
    assert isinstance(by_function, hg.Timeline)
    assert by_function.spec == by_accessor.spec == by_polars.spec

    values = hg.timeline_values(frame, "Bytes", kind="line")
    assert values.spec["mode"] == "values"
    assert values.spec["value_kind"] == "line"
    assert frame.hg.timeline_values(y="Bytes").spec["value_column"] == "Bytes"
    assert pl.from_pandas(frame).hg.timeline_values(value_col="Bytes").spec["mode"] == "values"
    with pytest.raises(ValueError, match="needs value_column"):
        hg.timeline_values(frame)

    duration = frame.hg.timeline_duration("Computer", end_time_column="EndTime")
    assert duration.spec["mode"] == "duration"
    assert duration.spec["end_column"] == "EndTime"
    assert duration.spec["start_column"] == "TimeGenerated"
    assert hg.timeline_duration(frame, ["Computer"]).spec["group_by"] == "Computer"


def test_public_api():
    for name in (
        "Timeline",
        "timeline",
        "timeline_values",
        "timeline_duration",
        "save_html",
        "demo",
        "__version__",
    ):
        assert hasattr(hg, name), name
    assert isinstance(hg.__version__, str)


def test_signature_shows_every_keyword_and_the_error_lists_them():
    import inspect

    parameters = set(inspect.signature(hg.Timeline.__init__).parameters) - {"self", "aliases"}
    assert parameters | {"y", "value_col", "end_time_column"} == set(VALID_KEYWORDS) | {"data"}
