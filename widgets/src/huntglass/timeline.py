"""The Timeline widget: events in lanes, values over time, or durations, with reference markers.

The keyword arguments follow MSTICPy's ``display_timeline`` / ``display_timeline_values`` /
``display_timeline_duration`` where they mean the same thing (``time_column``,
``source_columns``, ``group_by``, ``ref_time``, ``ref_events``, ``alert``, ``y`` /
``value_col``, ``end_time_column``, ...). Options that would be silently ignored are refused
with a ``TypeError`` listing the accepted ones. The widget's ``spec`` is the "Timeline spec" of
docs/CONTRACT.md; the data sets travel as Arrow IPC streams holding only the columns the chart
uses, in the input's row order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._arrow import (
    HG_CHUNK_BYTES,
    PreparedData,
    Role,
    column_names,
    flavour_of,
    is_frame_like,
    prepare,
    to_arrow_table,
)
from ._widget import HgWidget

#: Tooltip columns used when none are given and the data has all of them (process events).
DEFAULT_SOURCE_COLUMNS = ("NewProcessName", "EventID", "CommandLine")

MODES = ("events", "values", "duration")

#: The reference's ``kind`` names and ours, to the spec's ``value_kind``.
VALUE_KINDS = {
    "vbar": "bar",
    "bar": "bar",
    "circle": "scatter",
    "scatter": "scatter",
    "line": "line",
}

_ALIASES = {"y": "value_column", "value_col": "value_column", "end_time_column": "end_column"}

_ENTRY_KEYS = ("data", "time_column", "source_columns", "color", "group_by")

DEFAULT_MARKER_SIZE = 8


@dataclass
class _Entry:
    name: str
    data: Any
    time_column: str
    source_columns: list[str] | None
    color: str | None
    group_by: list[str] | None


def _columns_arg(value: Any, what: str) -> list[str] | None:
    """One column name or a list of them, as a list (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence | pd.Index | np.ndarray) and all(
        isinstance(v, str) for v in value
    ):
        return list(value)
    raise ValueError(f"{what} must be a column name or a list of column names, got {value!r}")


def _to_ms(value: Any, what: str) -> float:
    """Milliseconds since the epoch (UTC) of a datetime, Timestamp, datetime64 or string."""
    if isinstance(value, bool | int | float | np.number):
        raise ValueError(
            f"{what}: give a datetime, pandas Timestamp or ISO 8601 string, not the number "
            f"{value!r}"
        )
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what}: {value!r} is not a time ({exc})") from exc
    if stamp is pd.NaT or pd.isna(stamp):
        raise ValueError(f"{what}: the time is missing (NaT)")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    nanos = stamp.as_unit("ns").value
    # Whole milliseconds exactly, then the fraction: ns / 1e6 turns ...010 ms into ...009.9998.
    return float(nanos // 1_000_000) + (nanos % 1_000_000) / 1e6


def _first_row(event: Any) -> Mapping[str, Any] | None:
    """The fields of an event given as a DataFrame (first row), Series, mapping or object."""
    if isinstance(event, pd.DataFrame):
        return None if event.empty else event.iloc[0].to_dict()
    if isinstance(event, pd.Series):
        return event.to_dict()
    if isinstance(event, Mapping):
        return event
    if is_frame_like(event):
        table = to_arrow_table(event)
        return None if table.num_rows == 0 else table.slice(0, 1).to_pylist()[0]
    return {
        name: getattr(event, name)
        for name in ("StartTimeUtc", "TimeGenerated")
        if hasattr(event, name)
    }


def _event_time_ms(event: Any, what: str) -> float:
    fields = _first_row(event)
    if not fields:
        raise ValueError(f"{what}: the event is empty")
    for name in ("StartTimeUtc", "TimeGenerated"):
        value = fields.get(name)
        if value is not None and not (isinstance(value, float) and np.isnan(value)):
            return _to_ms(value, f"{what}.{name}")
    raise ValueError(
        f"{what}: the event has no StartTimeUtc or TimeGenerated; its fields are: "
        f"{', '.join(map(str, fields))}"
    )


def reference_markers(
    *,
    time_column: str,
    ref_time: Any = None,
    ref_label: str = "Ref time",
    ref_event: Any = None,
    alert: Any = None,
    ref_events: Any = None,
    ref_col: str | None = None,
    ref_time_col: str | None = None,
    ref_times: Any = None,
) -> list[dict[str, Any]]:
    """Build the spec's ``ref_markers`` from the reference's arguments.

    ``alert`` (its StartTimeUtc, label "Alert time"), else ``ref_event`` ("Event time"), else
    ``ref_time`` (``ref_label``) gives one marker; ``ref_events`` rows (time from
    ``ref_time_col`` or ``time_column``, label from ``ref_col`` or "reference <index>") and
    ``ref_times`` (``(time, label)`` pairs or times) add one each.
    """
    markers: list[dict[str, Any]] = []
    if alert is not None:
        markers.append({"time_ms": _event_time_ms(alert, "alert"), "label": "Alert time"})
    elif ref_event is not None:
        markers.append({"time_ms": _event_time_ms(ref_event, "ref_event"), "label": "Event time"})
    elif ref_time is not None:
        markers.append({"time_ms": _to_ms(ref_time, "ref_time"), "label": str(ref_label)})
    if ref_events is not None:
        markers.extend(_ref_event_rows(ref_events, ref_time_col or time_column, ref_col))
    if ref_times is not None:
        if isinstance(ref_times, str | dt.datetime | pd.Timestamp) or not isinstance(
            ref_times, Sequence
        ):
            raise ValueError("ref_times must be a list of (time, label) pairs or of times")
        for index, item in enumerate(ref_times):
            if isinstance(item, tuple | list):
                if len(item) != 2:
                    raise ValueError(f"ref_times[{index}] must be (time, label), got {item!r}")
                when, label = item
            else:
                when, label = item, None
            markers.append(
                {
                    "time_ms": _to_ms(when, f"ref_times[{index}]"),
                    "label": str(label) if label else f"reference {index}",
                }
            )
    return markers


def _ref_event_rows(events: Any, time_col: str, label_col: str | None) -> list[dict[str, Any]]:
    if isinstance(events, pd.Series):
        events = events.to_frame()
    if isinstance(events, pd.DataFrame):
        names = [str(c) for c in events.columns]
        index_labels = list(events.index)
        columns = {str(c): events[c].tolist() for c in events.columns}
    elif is_frame_like(events):
        table = to_arrow_table(events)
        names = list(table.schema.names)
        index_labels = list(range(table.num_rows))
        columns = {n: table.column(n).to_pylist() for n in names}
    else:
        raise TypeError(f"ref_events must be a DataFrame or Series, got {type(events).__name__}")
    for needed, what in ((time_col, "ref_time_col"), (label_col, "ref_col")):
        if needed is not None and needed not in names:
            raise ValueError(
                f"ref_events: column {needed!r} ({what}) not found; the columns are: "
                + ", ".join(repr(n) for n in names)
            )
    markers = []
    for position, index in enumerate(index_labels):
        label = columns[label_col][position] if label_col else f"reference {index}"
        markers.append(
            {
                "time_ms": _to_ms(columns[time_col][position], f"ref_events row {index}"),
                "label": "" if label is None else str(label),
            }
        )
    return markers


def _entries(
    data: Any,
    *,
    name: str | None,
    time_column: str,
    source_columns: list[str] | None,
    color: str | None,
    group_by: list[str] | None,
    overlay_data: Any,
    overlay_columns: list[str] | None,
    overlay_color: str | None,
) -> list[_Entry]:
    if is_frame_like(data):
        if overlay_data is None:
            return [_Entry(name or "Events", data, time_column, source_columns, color, group_by)]
        return [
            _Entry(name or "Primary", data, time_column, source_columns, color, group_by),
            _Entry(
                "Secondary",
                overlay_data,
                time_column,
                overlay_columns if overlay_columns is not None else source_columns,
                overlay_color,
                group_by,
            ),
        ]
    if overlay_data is not None:
        raise ValueError("overlay_data needs a single DataFrame as data, not a dict of them")
    if isinstance(data, Mapping):
        if not data:
            raise ValueError("data is an empty dict: give at least one data set")
        entries = []
        for key, value in data.items():
            if not isinstance(key, str):
                raise ValueError(f"data set names must be strings, got {key!r}")
            if is_frame_like(value):
                value = {"data": value}
            if not isinstance(value, Mapping):
                raise TypeError(
                    f"data[{key!r}] must be a DataFrame or a dict with keys "
                    f"{', '.join(_ENTRY_KEYS)}; got {type(value).__name__}"
                )
            unknown = sorted(set(value) - set(_ENTRY_KEYS))
            if unknown:
                raise ValueError(
                    f"data[{key!r}] has unknown keys {unknown}; the keys are: "
                    + ", ".join(_ENTRY_KEYS)
                )
            if value.get("data") is None:
                raise ValueError(f"data[{key!r}] has no 'data'")
            if not is_frame_like(value["data"]):
                raise TypeError(
                    f"data[{key!r}]['data'] must be a DataFrame-like table, got "
                    f"{type(value['data']).__name__}"
                )
            entries.append(
                _Entry(
                    key,
                    value["data"],
                    value.get("time_column") or time_column,
                    _columns_arg(value["source_columns"], f"data[{key!r}]['source_columns']")
                    if "source_columns" in value
                    else source_columns,
                    value.get("color") or color,
                    _columns_arg(value["group_by"], f"data[{key!r}]['group_by']")
                    if "group_by" in value
                    else group_by,
                )
            )
        return entries
    raise TypeError(
        "data must be a DataFrame (pandas, polars, pyarrow or anything with "
        "__arrow_c_stream__) or a dict of data set name -> DataFrame or "
        f"{{'data': DataFrame, 'time_column': ..., ...}}; got {type(data).__name__}"
    )


def _default_sources(entry: _Entry, mode: str, value_column: str | None) -> list[str]:
    if mode == "values":
        return [value_column] if value_column else []
    if mode == "duration":
        return list(entry.group_by or [])
    available = set(column_names(entry.data))
    if all(c in available for c in DEFAULT_SOURCE_COLUMNS):
        return list(DEFAULT_SOURCE_COLUMNS)
    return []


def _materialized(data: Any) -> Any:
    """Read a stream (``__arrow_c_stream__``, RecordBatchReader) once into a pyarrow Table."""
    if flavour_of(data) == "other":
        return to_arrow_table(data)
    return data


def _positive(value: Any, what: str) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{what} must be a positive number of pixels, got {value!r}")
    return value


def build_timeline(
    data: Any,
    time_column: str = "TimeGenerated",
    source_columns: Any = None,
    *,
    group_by: Any = None,
    color_by: str | None = None,
    title: str | None = None,
    height: int | None = None,
    width: int | None = None,
    ref_time: Any = None,
    ref_label: str = "Ref time",
    ref_event: Any = None,
    ref_times: Any = None,
    ref_events: Any = None,
    ref_col: str | None = None,
    ref_time_col: str | None = None,
    alert: Any = None,
    value_column: str | None = None,
    kind: Any = None,
    start_column: str | None = None,
    end_column: str | None = None,
    mode: str | None = None,
    range_tool: bool = True,
    color: str | None = None,
    size: float | None = None,
    name: str | None = None,
    overlay_data: Any = None,
    overlay_columns: Any = None,
    overlay_color: str | None = None,
    chunk_bytes: int = HG_CHUNK_BYTES,
) -> tuple[list[PreparedData], dict[str, Any]]:
    """Validate the Timeline arguments and return the prepared data sets and the spec."""
    if mode is None:
        if value_column is not None:
            mode = "values"
        elif start_column is not None or end_column is not None:
            mode = "duration"
        else:
            mode = "events"
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    if not isinstance(time_column, str):
        raise ValueError(f"time_column must be a column name, got {time_column!r}")
    if mode == "values" and value_column is None:
        raise ValueError("mode 'values' needs value_column (also accepted as y or value_col)")
    if mode != "values" and value_column is not None:
        raise ValueError(f"value_column applies to mode 'values', not {mode!r}")
    if mode != "values" and kind is not None:
        raise ValueError(f"kind applies to mode 'values', not {mode!r}")
    if mode != "duration" and (start_column is not None or end_column is not None):
        raise ValueError(f"start_column / end_column apply to mode 'duration', not {mode!r}")
    if start_column is not None and end_column is None:
        raise ValueError("start_column needs end_column (one bar per row from start to end)")
    if end_column is not None and start_column is None:
        start_column = time_column

    value_kind = "bar"
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        if len(kinds) != 1 or kinds[0] not in VALUE_KINDS:
            raise ValueError(
                f"kind must be one of {', '.join(VALUE_KINDS)} (one of them), got {kind!r}"
            )
        value_kind = VALUE_KINDS[kinds[0]]

    groups = _columns_arg(group_by, "group_by")
    if groups == []:
        groups = None
    if color_by is not None and not isinstance(color_by, str):
        raise ValueError(f"color_by must be a column name, got {color_by!r}")
    if value_column is not None and not isinstance(value_column, str):
        raise ValueError(f"value_column must be a column name, got {value_column!r}")

    entries = _entries(
        data,
        name=name,
        time_column=time_column,
        source_columns=_columns_arg(source_columns, "source_columns"),
        color=color,
        group_by=groups,
        overlay_data=overlay_data,
        overlay_columns=_columns_arg(overlay_columns, "overlay_columns"),
        overlay_color=overlay_color,
    )

    for entry in entries:
        entry.data = _materialized(entry.data)

    prepared: list[PreparedData] = []
    spec_sets: list[dict[str, Any]] = []
    for entry in entries:
        roles: dict[str, Role] = {}
        uses: dict[str, str] = {}

        def need(column: str, role: Role, use: str, roles=roles, uses=uses) -> None:
            if column not in roles:
                roles[column] = role
                uses[column] = use

        need(entry.time_column, "time", "time_column")
        if mode == "duration" and start_column is not None and end_column is not None:
            need(start_column, "time", "start_column")
            need(end_column, "time", "end_column")
        for column in entry.group_by or []:
            need(column, "display", "group_by")
        if color_by is not None:
            need(color_by, "display", "color_by")
        if value_column is not None:
            need(value_column, "number", "value_column")
        sources = (
            entry.source_columns
            if entry.source_columns is not None
            else _default_sources(entry, mode, value_column)
        )
        if mode == "values" and value_column not in sources:
            sources = [value_column, *sources]
        for column in sources:
            need(column, "display", "source_columns")

        lane_column = None
        joined = {}
        if entry.group_by:
            if len(entry.group_by) == 1:
                lane_column = entry.group_by[0]
            else:
                lane_column = " / ".join(entry.group_by)
                joined[lane_column] = entry.group_by
        prepared.append(
            prepare(
                entry.data,
                roles,
                name=entry.name,
                uses=uses,
                joined=joined,
                chunk_bytes=chunk_bytes,
            )
        )
        spec_sets.append(
            {
                "name": entry.name,
                "time_column": entry.time_column,
                "source_columns": list(sources),
                "color": entry.color,
                "group_by": lane_column,
            }
        )

    if title is None:
        if mode == "values":
            title = "Timeline"
        elif mode == "duration" and groups:
            title = f"Event Duration Timeline for {', '.join(groups)}"
        else:
            title = "Events"
    marker_size = _positive(size, "size")
    spec = {
        "mode": mode,
        "datasets": spec_sets,
        "group_by": (groups[0] if len(groups) == 1 else " / ".join(groups)) if groups else None,
        "color_by": color_by,
        "value_column": value_column,
        "value_kind": value_kind,
        "start_column": start_column if mode == "duration" else None,
        "end_column": end_column if mode == "duration" else None,
        "ref_markers": reference_markers(
            time_column=time_column,
            ref_time=ref_time,
            ref_label=ref_label,
            ref_event=ref_event,
            alert=alert,
            ref_events=ref_events,
            ref_col=ref_col,
            ref_time_col=ref_time_col,
            ref_times=ref_times,
        ),
        "title": str(title),
        "height": _positive(height, "height"),
        "width": _positive(width, "width"),
        "range_tool": bool(range_tool),
        "marker_size": marker_size if marker_size is not None else DEFAULT_MARKER_SIZE,
    }
    return prepared, spec


_BUILD_KEYWORDS = (
    "time_column",
    "source_columns",
    "group_by",
    "color_by",
    "title",
    "height",
    "width",
    "ref_time",
    "ref_label",
    "ref_event",
    "ref_times",
    "ref_events",
    "ref_col",
    "ref_time_col",
    "alert",
    "value_column",
    "kind",
    "start_column",
    "end_column",
    "mode",
    "range_tool",
    "color",
    "size",
    "name",
    "overlay_data",
    "overlay_columns",
    "overlay_color",
)

#: Every keyword a Timeline accepts (aliases included).
VALID_KEYWORDS = tuple(sorted((*_BUILD_KEYWORDS, "theme", *_ALIASES)))


def _resolve_aliases(aliases: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Map the reference's aliases (y, value_col, end_time_column) to their names.

    Any other keyword is refused with a ``TypeError`` listing the valid ones.
    """
    unknown = sorted(k for k in aliases if k not in _ALIASES)
    if unknown:
        raise TypeError(
            f"unknown keyword argument(s) {', '.join(unknown)}; the valid ones are: "
            + ", ".join(VALID_KEYWORDS)
        )
    resolved: dict[str, Any] = {}
    for alias, value in aliases.items():
        target = _ALIASES[alias]
        if value is None:
            continue
        if given.get(target) is not None or resolved.get(target) is not None:
            raise TypeError(f"give {target} or one alias of it ({alias}), not both")
        resolved[target] = value
    return resolved


class Timeline(HgWidget):
    """Interactive timeline of events, values or durations, rendered by Rust/WebAssembly.

    ``data`` is a DataFrame (pandas, polars, pyarrow, or anything with ``__arrow_c_stream__``)
    or a dict of name -> DataFrame or name -> ``{"data": df, "time_column": ...,
    "source_columns": [...], "color": ..., "group_by": ...}`` (one lane per data set unless
    grouped). Keywords (MSTICPy names):

    - ``time_column`` (default ``"TimeGenerated"``); ``source_columns``: tooltip columns
      (default NewProcessName, EventID, CommandLine when all exist; the value column in
      mode ``values``; the group columns in mode ``duration``).
    - ``group_by``: one lane per value of a column (or of several columns joined by " / ");
      ``color_by``: colour marks by a column with a legend; ``color``: one data set's colour.
    - ``mode``: ``"events"``, ``"values"`` (``value_column`` / ``y`` / ``value_col``, ``kind``
      ``"vbar"``, ``"circle"`` or ``"line"``) or ``"duration"`` (one bar per lane from its
      first to its last event, or per row from ``start_column`` to ``end_column`` /
      ``end_time_column``); inferred from those columns when not given.
    - Reference markers: ``alert``, ``ref_event``, ``ref_time`` + ``ref_label``, ``ref_events``
      (+ ``ref_time_col``, ``ref_col``), ``ref_times`` (list of (time, label)).
    - ``overlay_data`` (+ ``overlay_columns``, ``overlay_color``): a second data set.
    - Display: ``title``, ``height``, ``width``, ``range_tool``, ``size`` (marker size),
      ``theme`` (``"auto"``, ``"light"``, ``"dark"``), ``name`` (the data set's name).

    Unknown keywords raise ``TypeError``. ``widget.selected`` is the selected rows of the input.
    """

    def __init__(
        self,
        data: Any,
        time_column: str = "TimeGenerated",
        source_columns: Any = None,
        *,
        group_by: Any = None,
        color_by: str | None = None,
        title: str | None = None,
        height: int | None = None,
        width: int | None = None,
        ref_time: Any = None,
        ref_label: str = "Ref time",
        ref_event: Any = None,
        ref_times: Any = None,
        ref_events: Any = None,
        ref_col: str | None = None,
        ref_time_col: str | None = None,
        alert: Any = None,
        value_column: str | None = None,
        kind: Any = None,
        start_column: str | None = None,
        end_column: str | None = None,
        mode: str | None = None,
        range_tool: bool = True,
        theme: str = "auto",
        color: str | None = None,
        size: float | None = None,
        name: str | None = None,
        overlay_data: Any = None,
        overlay_columns: Any = None,
        overlay_color: str | None = None,
        **aliases: Any,
    ) -> None:
        options = {
            "group_by": group_by,
            "color_by": color_by,
            "title": title,
            "height": height,
            "width": width,
            "ref_time": ref_time,
            "ref_label": ref_label,
            "ref_event": ref_event,
            "ref_times": ref_times,
            "ref_events": ref_events,
            "ref_col": ref_col,
            "ref_time_col": ref_time_col,
            "alert": alert,
            "value_column": value_column,
            "kind": kind,
            "start_column": start_column,
            "end_column": end_column,
            "mode": mode,
            "range_tool": range_tool,
            "color": color,
            "size": size,
            "name": name,
            "overlay_data": overlay_data,
            "overlay_columns": overlay_columns,
            "overlay_color": overlay_color,
        }
        options.update(_resolve_aliases(aliases, options))
        if theme not in ("auto", "light", "dark"):
            raise ValueError(f"theme must be 'auto', 'light' or 'dark', got {theme!r}")
        datasets, spec = build_timeline(data, time_column, source_columns, **options)
        super().__init__(kind="timeline", datasets=datasets, spec=spec, theme=theme)


def timeline(
    data: Any, time_column: str = "TimeGenerated", source_columns: Any = None, **kwargs: Any
) -> Timeline:
    """Event timeline (MSTICPy ``display_timeline``); see :class:`Timeline` for the keywords."""
    return Timeline(data, time_column, source_columns, **kwargs)


def timeline_values(
    data: Any,
    value_column: str | None = None,
    time_column: str = "TimeGenerated",
    source_columns: Any = None,
    **kwargs: Any,
) -> Timeline:
    """Values over time (MSTICPy ``display_timeline_values``); ``y`` / ``value_col`` alias it."""
    if value_column is not None:
        if kwargs.get("y") is not None or kwargs.get("value_col") is not None:
            raise TypeError("give value_column or its alias y / value_col, not both")
        kwargs["value_column"] = value_column
    kwargs.setdefault("mode", "values")
    if all(kwargs.get(k) is None for k in ("value_column", "y", "value_col")):
        raise ValueError("timeline_values needs value_column (also accepted as y or value_col)")
    return Timeline(data, time_column, source_columns, **kwargs)


def timeline_duration(
    data: Any,
    group_by: Any = None,
    time_column: str = "TimeGenerated",
    end_time_column: str | None = None,
    **kwargs: Any,
) -> Timeline:
    """Durations (MSTICPy ``display_timeline_duration``): one bar per group, first to last event.

    With ``end_time_column`` (or ``end_column``) each row is a bar from its time to its end.
    """
    if end_time_column is not None:
        if kwargs.get("end_column") is not None:
            raise TypeError("give end_time_column or end_column, not both")
        kwargs["end_column"] = end_time_column
    kwargs.setdefault("mode", "duration")
    return Timeline(data, time_column, group_by=group_by, **kwargs)
