"""The PeriodicConnections widget: keys (source and destination pairs) whose events repeat.

``hg.PeriodicConnections(df, time_column="TimeGenerated", groupby=["SourceIP", "DestinationIP"],
top=20)`` ranks every key with the periodogram and Fisher's g test in the kernel (the
``timeseries.periodic`` operation, as :func:`huntglass.timeseries.periodic`) and shows the
``top`` most periodic: one line per key with its dominant interval, p value and event count and
its event timeline on one shared time axis; the selected key (the first at start, then the one
clicked) is detailed below: the gap before each of its events over time, with the dominant
interval as a guide line, so a beacon's steady rhythm and its jitter show at a glance.

``widget.pairs`` is the ranking shown (a pandas DataFrame: ``rank``, the keys, ``events``,
``first``, ``last``, ``p_value``, ``dominant_interval``, ``strength``); ``widget.selected`` is
the input's rows of the selected key (the one clicked last; before any click the first, as the
widget shows it), in the input's flavour, and ``widget.selected_pair`` its line of
``widget.pairs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from . import _kernel
from ._arrow import (
    PreparedData,
    column_names,
    flavour_of,
    is_frame_like,
    missing_column_error,
    split_chunks,
    to_arrow_table,
    to_ipc_stream,
)
from ._widget import HgWidget

#: Name of the one data set a PeriodicConnections sends.
DATASET = "events"
DEFAULT_TOP = 20


class PeriodicConnections(HgWidget):
    """Ranked periodic keys with their event timelines and periods (see the module docs)."""

    def __init__(
        self,
        data: Any,
        time_column: str = "TimeGenerated",
        groupby: str | Sequence[str] | None = None,
        *,
        group_by: str | Sequence[str] | None = None,
        bin_seconds: int = 1,
        min_events: int = 3,
        top: int = DEFAULT_TOP,
        title: str | None = None,
        height: int | None = None,
        theme: str = "auto",
    ) -> None:
        if not is_frame_like(data):
            raise TypeError(
                "PeriodicConnections: expected a pandas or polars DataFrame or a pyarrow Table; "
                f"got {type(data).__module__}.{type(data).__name__}"
            )
        if groupby is not None and group_by is not None:
            raise ValueError("PeriodicConnections: give groupby or group_by, not both")
        keys = groupby if groupby is not None else group_by
        keys = [keys] if isinstance(keys, str) else list(keys or [])
        if not keys or not all(isinstance(k, str) for k in keys):
            raise ValueError(
                "PeriodicConnections: groupby must name the key columns, e.g. "
                "['SourceIP', 'DestinationIP']"
            )
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ValueError(f"PeriodicConnections: top must be a positive integer, got {top!r}")
        if height is not None and (
            isinstance(height, bool) or not isinstance(height, int | float) or height < 200
        ):
            raise ValueError(
                f"PeriodicConnections: height must be a number of pixels >= 200, got {height!r}"
            )
        available = column_names(data)
        for name in [time_column, *keys]:
            if name not in available:
                raise ValueError(missing_column_error(name, available, what="PeriodicConnections"))
        self._flavour = flavour_of(data)
        if self._flavour == "polars" and hasattr(data, "collect") and not hasattr(data, "to_arrow"):
            data = data.collect()
        self._input = to_arrow_table(data, what="PeriodicConnections")
        self._original = data if self._flavour in ("pandas", "polars", "arrow") else self._input
        options = {
            "time_column": time_column,
            "group_by": keys,
            "bin_seconds": int(bin_seconds),
            "min_events": int(min_events),
            "output": "events",
            "top": top,
        }
        events = _kernel.call(
            "timeseries.periodic", options, self._input.select([time_column, *keys])
        )
        self.events: pd.DataFrame = events.to_pandas()
        self.pairs: pd.DataFrame = _pairs(self.events, keys)
        stream = to_ipc_stream(events)
        prepared = PreparedData(
            name=DATASET,
            table=events,
            stream=stream,
            flavour="pandas",
            original=self.events,
            chunks=split_chunks(stream),
        )
        spec = {
            "dataset": DATASET,
            "keys": keys,
            "top": top,
            "title": title if title is not None else f"Periodic connections ({', '.join(keys)})",
            "height": height,
        }
        super().__init__(kind="periodic", datasets=[prepared], spec=spec, theme=theme)

    def _selected_event_rows(self) -> list[int]:
        rows = self.selected_rows().get(DATASET, [])
        if not rows and not self.selection:
            # Nothing clicked yet: the first pair, shown selected by the widget.
            rows = self.events.index[self.events["rank"] == 0].tolist()
        return rows

    @property
    def selected(self) -> Any:
        """The input's rows of the selected key (the first pair before any click)."""
        rows = sorted(int(r) for r in self.events["row"].to_numpy()[self._selected_event_rows()])
        original = self._original
        if self._flavour == "pandas":
            return original.iloc[rows]
        if self._flavour == "polars":
            return original[rows] if rows else original.clear()
        return self._input.take(pa.array(rows, type=pa.int64()))

    @property
    def selected_pair(self) -> pd.DataFrame:
        """The line of :attr:`pairs` of the selected key (the first before any click)."""
        ranks = set(self.events["rank"].to_numpy()[self._selected_event_rows()].tolist())
        return self.pairs[self.pairs["rank"].isin(ranks)]


def _pairs(events: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One line per ranked key from the events table (ordered by rank, then time)."""
    grouped = events.groupby("rank", sort=True)
    first = grouped.first()
    spans = grouped["t_ms"].agg(["min", "max"])
    pairs = first[[*keys, "events", "p_value", "dominant_interval", "strength"]].copy()
    pairs.insert(len(keys) + 1, "first", pd.to_datetime(spans["min"], unit="ms", utc=True))
    pairs.insert(len(keys) + 2, "last", pd.to_datetime(spans["max"], unit="ms", utc=True))
    return pairs.reset_index()


def periodic_view(data: Any, **kwargs: Any) -> PeriodicConnections:
    """A :class:`PeriodicConnections` of ``data`` (keywords as the class)."""
    return PeriodicConnections(data, **kwargs)
