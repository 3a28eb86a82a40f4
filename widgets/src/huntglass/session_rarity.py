"""The SessionRarity widget: every session by start time against its rarity, coloured by user.

``hg.SessionRarity(events, user_identifier_cols=["UserId", "ClientIP"], time_col=...,
max_session_time_mins=20, max_event_separation_mins=2, event_col="Operation",
window_length=2, params_col="Parameters")`` (or ``df.hg.session_rarity(...)``) sends the events
to the browser, where the engines' module (``hg_kernel.wasm``, the same code as
:func:`huntglass.sessions.build` and :func:`huntglass.sessions.score`) groups them into
sessions and scores each session's rarest window of ``window_length`` actions. The chart plots
every scored session at its start time against that likelihood (log scale, rarest at the
bottom); the threshold slider (initially ``threshold``, else the rarest 1% of sessions) lists
the sessions at or below it; clicking a session lists its actions in order, the rarest window
highlighted, each with its ``params_col`` text. Sessions too short for a window (the
reference's NaN) are not plotted.

``widget.selected`` returns the chosen sessions (click, shift-click to add, or "Select all
below") as rows of :func:`huntglass.sessions.build`'s output for the same events and options,
with the ``rarest_window{N}_likelihood`` and ``rarest_window{N}`` columns of
:func:`huntglass.sessions.score`, computed in the kernel by the same engine.

The key columns, ``event_col`` and ``params_col`` are sent as text (other types as their text,
so they sort as text); the time column as UTC timestamps. Scoring uses the action names
(commands only); parameters are shown, not modelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from . import sessions as _sessions
from ._arrow import (
    PreparedData,
    column_names,
    is_frame_like,
    missing_column_error,
    prepare,
    split_chunks,
    to_ipc_stream,
)
from ._widget import HgWidget

#: Name of the one data set a SessionRarity sends.
DATASET = "events"

DEFAULT_HEIGHT = 360


def _text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column as plain UTF-8 text (nulls stay null)."""
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_dictionary(values.type) and pa.types.is_string(values.type.value_type):
        return values
    if pa.types.is_large_string(values.type) or pa.types.is_string_view(values.type):
        return values.cast(pa.string())
    try:
        return values.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.chunked_array(
            [pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())]
        )


class SessionRarity(HgWidget):
    """Sessions by start time against their rarest window's likelihood (see the module docs)."""

    #: The front end runs ``sessions.score_events`` in the engines' module (hg_kernel.wasm).
    _uses_kernel = True

    def __init__(
        self,
        data: Any,
        user_identifier_cols: str | Sequence[str],
        time_col: str = "TimeGenerated",
        max_session_time_mins: float = 20,
        max_event_separation_mins: float = 2,
        event_col: str = "Operation",
        *,
        window_length: int = 3,
        params_col: str | None = None,
        color_by: str | None = None,
        threshold: float | None = None,
        use_start_end_tokens: bool = True,
        use_geo_mean: bool = False,
        title: str = "Session rarity",
        height: int | None = None,
        theme: str = "auto",
    ) -> None:
        if not is_frame_like(data):
            raise TypeError(
                "SessionRarity: expected a pandas or polars DataFrame or a pyarrow Table; got "
                f"{type(data).__module__}.{type(data).__name__}"
            )
        keys = (
            [user_identifier_cols]
            if isinstance(user_identifier_cols, str)
            else list(user_identifier_cols)
        )
        if not keys:
            raise ValueError("SessionRarity: user_identifier_cols must name at least one column")
        if (
            isinstance(window_length, bool)
            or not isinstance(window_length, int)
            or not (1 <= window_length <= 64)
        ):
            raise ValueError(
                "SessionRarity: window_length must be an integer from 1 to 64, "
                f"got {window_length!r}"
            )
        if threshold is not None and not (isinstance(threshold, int | float) and threshold > 0):
            raise ValueError(
                f"SessionRarity: threshold must be a likelihood > 0, got {threshold!r}"
            )
        if height is not None and (
            isinstance(height, bool) or not isinstance(height, int | float) or height < 160
        ):
            raise ValueError(
                f"SessionRarity: height must be a number of pixels of at least 160, got {height!r}"
            )
        for name, value in (
            ("max_session_time_mins", max_session_time_mins),
            ("max_event_separation_mins", max_event_separation_mins),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"SessionRarity: {name} must be a number of minutes >= 0")
        color = color_by if color_by is not None else keys[0]
        wanted = [*keys, event_col, color, *([params_col] if params_col is not None else [])]
        text_columns = list(dict.fromkeys(wanted))
        try:
            available = column_names(data)
        except TypeError:
            available = None  # a stream: prepare() names a missing column when it reads it
        if available is not None:
            for name in [*text_columns, time_col]:
                if name not in available:
                    raise ValueError(missing_column_error(name, available, what="SessionRarity"))
        prepared = self._prepare(data, text_columns, time_col)
        self._options = {
            "user_identifier_cols": keys,
            "time_col": time_col,
            "max_session_time_mins": float(max_session_time_mins),
            "max_event_separation_mins": float(max_event_separation_mins),
            "event_col": event_col,
        }
        self._score_options = {
            "window_length": window_length,
            "use_start_end_tokens": bool(use_start_end_tokens),
            "use_geo_mean": bool(use_geo_mean),
        }
        self._sessions_frame: pd.DataFrame | None = None
        spec = {
            "dataset": DATASET,
            **self._options,
            "params_col": params_col,
            "color_by": color,
            **self._score_options,
            "threshold": float(threshold) if threshold is not None else None,
            "title": title,
            "height": float(height) if height is not None else float(DEFAULT_HEIGHT),
        }
        super().__init__(kind="session_rarity", datasets=[prepared], spec=spec, theme=theme)

    @staticmethod
    def _prepare(data: Any, text_columns: list[str], time_col: str) -> PreparedData:
        roles = {time_col: "time", **{c: "display" for c in text_columns if c != time_col}}
        prepared = prepare(data, roles, name=DATASET, what="SessionRarity")
        table = prepared.table
        for i, name in enumerate(table.column_names):
            if name != time_col:
                table = table.set_column(i, name, _text(table.column(name)))
        if table is prepared.table:
            return prepared
        stream = to_ipc_stream(table)
        return PreparedData(
            name=DATASET,
            table=table,
            stream=stream,
            flavour=prepared.flavour,
            original=prepared.original,
            chunks=split_chunks(stream),
        )

    def sessions(self) -> pd.DataFrame:
        """Every session as the chart numbers them, scored (computed once, in the kernel).

        :func:`huntglass.sessions.build` on the events sent, then :func:`huntglass.sessions.score`.
        """
        if self._sessions_frame is None:
            table = self._hg_data[DATASET].table
            for i, field in enumerate(table.schema):
                if pa.types.is_dictionary(field.type):
                    table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
            # pandas: the lists come back as Python lists of the events' text.
            built = _sessions.build(table.to_pandas(), **self._options)
            scored = _sessions.score(
                built,
                f"{self._options['event_col']}_list",
                **self._score_options,
            )
            self._sessions_frame = scored.to_pandas() if isinstance(scored, pa.Table) else scored
        return self._sessions_frame

    def selected_sessions(self) -> list[int]:
        """The chosen session numbers (rows of :meth:`sessions`), sorted and checked."""
        chosen = (self.selection or {}).get("sessions", [])
        frame = self.sessions()
        out = set()
        for value in chosen:
            if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
                raise ValueError(f"selection: {value!r} is not a session number")
            if not 0 <= int(value) < len(frame):
                raise ValueError(f"selection: session {int(value)} is outside 0..{len(frame) - 1}")
            out.add(int(value))
        return sorted(out)

    @property
    def selected(self) -> pd.DataFrame:
        """The chosen sessions: rows of :meth:`sessions` (pandas)."""
        return self.sessions().iloc[self.selected_sessions()]


def session_rarity(
    data: Any, user_identifier_cols: str | Sequence[str], **kwargs: Any
) -> SessionRarity:
    """A :class:`SessionRarity` of ``data`` (events) grouped by ``user_identifier_cols``."""
    return SessionRarity(data, user_identifier_cols, **kwargs)
