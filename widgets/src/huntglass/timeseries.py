"""Time-series anomalies and periodic traffic in the kernel (``anomalies``, ``periodic``).

Computed by the ``timeseries.stl`` and ``timeseries.periodic`` operations of ``hg_kernel.wasm``
(see :mod:`huntglass._kernel`), the same engine (``hg_analytics``) as ``huntglass timeseries``
and the TimeSeriesAnomalies widget.

``anomalies(df, time_column=..., data_column=..., seasonal=7, period=24, score_threshold=3.0)``
takes the reference's keywords (MSTICPy ``ts_anomalies_stl``) and returns its columns: the time
and value columns, ``residual``, ``trend``, ``seasonal``, ``weights``, ``baseline`` (int64, the
components truncated toward zero as the reference does), ``score`` (z-score of the residual) and
``anomalies`` (1 for a spike while the seasonal component is positive, -1 while it is negative;
the reference never flags dips). The STL decomposition agrees with statsmodels' (which the
reference calls) to 1e-6 relative; ``tests/python/test_timeseries_reference.py`` checks it
against the reference itself. Options beyond the reference:

* ``two_sided=True``: 1 above the threshold, -1 below its negative (dips are flagged);
* ``robust=True``: robust STL (robustness weights resist the outliers being looked for);
* ``period=None``: the period detected from each series (autocorrelation), added as a
  ``period`` column;
* ``interval="1h"``: irregular timestamps binned to that interval (values summed; with
  ``count=True`` rows counted into a ``Count`` column); empty bins are 0;
* ``group_by=["Computer"]``: one series per key, all in one call;
* ``integer_output=False``: float components, scored without truncation.

``periodic(df, time_column="TimeGenerated", groupby=[...])`` is the reference's periodogram
polling detector (``PeriodogramPollingDetector.detect_polling``): per key (for example source and
destination), the counts of events per second, their periodogram and Fisher's g test. It returns
one row per key, most periodic first: the keys, ``events``, ``first``, ``last``, ``p_value``,
``dominant_frequency`` (per second), ``dominant_interval`` (seconds) and ``strength`` (the
dominant frequency's share of the power); ``per_row=True`` instead adds ``p_value``,
``dominant_frequency`` and ``dominant_interval`` to every input row, as the reference does.

pandas input gives pandas output, polars gives polars, pyarrow gives pyarrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from . import _kernel
from ._arrow import column_names, flavour_of, is_frame_like, missing_column_error, to_arrow_table

__all__ = ["anomalies", "periodic", "timeseries_anomalies_stl", "ts_anomalies_stl"]

_REFERENCE_KEYWORDS = ("seasonal", "period", "score_threshold", "time_column", "data_column")


def _check_frame(data: Any, what: str) -> None:
    if not is_frame_like(data):
        raise TypeError(
            f"{what}: expected a pandas or polars DataFrame or a pyarrow Table; got "
            f"{type(data).__module__}.{type(data).__name__}"
        )


def _keys(value: str | Sequence[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    keys = list(value)
    if not all(isinstance(k, str) for k in keys):
        raise TypeError(f"{what}: column names must be strings, got {value!r}")
    return keys


def _input(data: Any, time_column: str | None, what: str) -> tuple[pa.Table, str | None]:
    """The Arrow table to send and the time column name.

    A pandas DatetimeIndex becomes the time column (as the reference, which decomposes a frame
    indexed by time when no time column is named).
    """
    if (
        isinstance(data, pd.DataFrame)
        and time_column is None
        and isinstance(data.index, pd.DatetimeIndex)
    ):
        name = data.index.name or "index"
        data = data.reset_index(names=name)
        time_column = name
    return to_arrow_table(data, what=what), time_column


def _output(result: pa.Table, flavour: str) -> Any:
    if flavour == "pandas":
        return result.to_pandas()
    if flavour == "polars":
        import polars as pl

        return pl.from_arrow(result)
    return result


def anomalies(
    data: Any,
    time_column: str | None = None,
    data_column: str | None = None,
    seasonal: int = 7,
    period: int | None = 24,
    score_threshold: float = 3.0,
    *,
    two_sided: bool = False,
    robust: bool = False,
    group_by: str | Sequence[str] | None = None,
    interval: str | float | None = None,
    count: bool = False,
    integer_output: bool = True,
    trend: int | None = None,
    low_pass: int | None = None,
) -> Any:
    """STL decomposition and residual z-score anomalies of a time series (see the module doc).

    ``period=None`` detects the period of each series from the data. Raises ``ValueError``
    naming the problem (a missing column and the existing ones, a series shorter than two
    periods, a non-finite value and its row, an invalid option).
    """
    _check_frame(data, "anomalies")
    keys = _keys(group_by, "anomalies: group_by")
    available = column_names(data)
    for name in [c for c in (time_column, data_column) if c is not None] + keys:
        if name not in available and not (
            isinstance(data, pd.DataFrame) and name == data.index.name
        ):
            raise ValueError(missing_column_error(name, available, what="anomalies"))
    for name, value in (("seasonal", seasonal), ("period", period)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"anomalies: {name} must be an integer, got {value!r}")
    flavour = flavour_of(data)
    table, time_column = _input(data, time_column, "anomalies")
    options: dict[str, Any] = {
        "seasonal": seasonal,
        "period": 0 if period is None else period,
        "score_threshold": float(score_threshold),
        "two_sided": bool(two_sided),
        "robust": bool(robust),
        "group_by": keys,
        "count": bool(count),
        "integer_output": bool(integer_output),
    }
    if time_column is not None:
        options["time_column"] = time_column
    if data_column is not None:
        options["data_column"] = data_column
    if interval is not None:
        if isinstance(interval, pd.Timedelta):
            interval = interval.total_seconds()
        options["interval"] = interval
    if trend is not None:
        options["trend"] = trend
    if low_pass is not None:
        options["low_pass"] = low_pass
    keep = keys + [c for c in (time_column, data_column) if c is not None]
    if keep and data_column is not None and time_column is not None:
        table = table.select(list(dict.fromkeys(keep)))
    result = _kernel.call("timeseries.stl", options, table)
    return _output(result, flavour)


def ts_anomalies_stl(data: Any, **kwargs: Any) -> Any:
    """:func:`anomalies` under the reference's name, with only the reference's keywords.

    ``seasonal``, ``period``, ``score_threshold``, ``time_column``, ``data_column``; any other
    keyword is refused, as the reference does.
    """
    unknown = sorted(set(kwargs) - set(_REFERENCE_KEYWORDS))
    if unknown:
        raise ValueError(
            f"ts_anomalies_stl: unknown keyword(s) {', '.join(unknown)}; valid: "
            f"{', '.join(_REFERENCE_KEYWORDS)} (hg.timeseries.anomalies has more options)"
        )
    return anomalies(data, **kwargs)


timeseries_anomalies_stl = ts_anomalies_stl


def periodic(
    data: Any,
    time_column: str = "TimeGenerated",
    groupby: str | Sequence[str] | None = None,
    *,
    group_by: str | Sequence[str] | None = None,
    bin_seconds: int = 1,
    min_events: int = 3,
    max_grid: int = 10_000_000,
    per_row: bool = False,
) -> Any:
    """Periodic traffic (polling, beaconing) per key with the periodogram (see the module doc).

    ``groupby`` (the reference's name) or ``group_by``: the key columns, e.g.
    ``["SourceIP", "DestinationIP"]``.
    """
    _check_frame(data, "periodic")
    if groupby is not None and group_by is not None:
        raise ValueError("periodic: give groupby or group_by, not both")
    keys = _keys(groupby if groupby is not None else group_by, "periodic: groupby")
    available = column_names(data)
    for name in [time_column, *keys]:
        if name not in available:
            raise ValueError(missing_column_error(name, available, what="periodic"))
    flavour = flavour_of(data)
    table = to_arrow_table(data, what="periodic").select([time_column, *keys])
    options = {
        "time_column": time_column,
        "group_by": keys,
        "bin_seconds": int(bin_seconds),
        "min_events": int(min_events),
        "max_grid": int(max_grid),
    }
    result = _kernel.call("timeseries.periodic", options, table)
    if not per_row:
        return _output(result, flavour)
    columns = ["p_value", "dominant_frequency", "dominant_interval"]
    per_key = result.select([*keys, *columns]).to_pandas()
    frame = data if isinstance(data, pd.DataFrame) else to_arrow_table(data).to_pandas()
    if not keys:
        out = frame.copy()
        for c in columns:
            out[c] = per_key[c].iloc[0] if len(per_key) else float("nan")
        merged = out
    else:
        left = frame.copy()
        for k in keys:
            left[k] = left[k].astype("string").fillna("(missing)").astype(object)
            per_key[k] = per_key[k].astype(object)
        merged = left.merge(per_key, on=keys, how="left")
        for k in keys:
            merged[k] = frame[k].to_numpy()
    if flavour == "pandas":
        return merged
    return _output(pa.Table.from_pandas(merged, preserve_index=False), flavour)
