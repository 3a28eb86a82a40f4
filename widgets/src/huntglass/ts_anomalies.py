"""The TimeSeriesAnomalies widget: observed, trend, seasonal and residual panels on one time axis.

``hg.TimeSeriesAnomalies(df, time_column=..., data_column=..., seasonal=7, period=24,
score_threshold=3.0, **options)`` decomposes the series in the kernel
(:func:`huntglass.timeseries.anomalies`, any of its options) and shows it: the observed values
with the baseline (trend + seasonal) and the anomalies circled, the trend, the seasonal component
and the residual, sharing one time axis (wheel zooms, drag pans, every panel in step), the
anomalies listed beside (click one to centre the view on it), every component's value on hover.
A frame that already is the output of ``anomalies`` (it has ``baseline``, ``score`` and
``anomalies`` columns) is shown as it is. With ``group_by``, ``group`` picks the series shown
(for example ``group="LRK-WS104"``). ``widget.result`` is the decomposition as a DataFrame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from . import timeseries as _timeseries
from ._arrow import PreparedData, is_frame_like, split_chunks, to_arrow_table, to_ipc_stream
from ._widget import HgWidget

#: Name of the one data set a TimeSeriesAnomalies sends.
DATASET = "series"
_COMPONENTS = ("trend", "seasonal", "residual", "baseline", "score", "anomalies")


class TimeSeriesAnomalies(HgWidget):
    """STL components and anomalies of a time series (see the module docs)."""

    def __init__(
        self,
        data: Any,
        time_column: str | None = None,
        data_column: str | None = None,
        seasonal: int = 7,
        period: int | None = 24,
        score_threshold: float = 3.0,
        *,
        group: str | Sequence[str] | None = None,
        title: str | None = None,
        height: int | None = None,
        theme: str = "auto",
        **options: Any,
    ) -> None:
        if not is_frame_like(data):
            raise TypeError(
                "TimeSeriesAnomalies: expected a pandas or polars DataFrame or a pyarrow Table; "
                f"got {type(data).__module__}.{type(data).__name__}"
            )
        if height is not None and (
            isinstance(height, bool) or not isinstance(height, int | float) or height < 240
        ):
            raise ValueError(
                f"TimeSeriesAnomalies: height must be a number of pixels >= 240, got {height!r}"
            )
        table = to_arrow_table(data, what="TimeSeriesAnomalies")
        if all(c in table.column_names for c in _COMPONENTS) and not options:
            result = table.to_pandas()
        else:
            result = _timeseries.anomalies(
                table.to_pandas(),
                time_column,
                data_column,
                seasonal,
                period,
                score_threshold,
                **options,
            )
            if isinstance(result, pa.Table):
                result = result.to_pandas()
        keys = options.get("group_by") or []
        keys = [keys] if isinstance(keys, str) else list(keys)
        if group is not None:
            wanted = [group] if isinstance(group, str) else list(group)
            if len(wanted) != len(keys):
                raise ValueError(
                    f"TimeSeriesAnomalies: group {wanted!r} needs one value per group_by column "
                    f"{keys!r}"
                )
            mask = np.ones(len(result), dtype=bool)
            for key, value in zip(keys, wanted, strict=True):
                mask &= (result[key] == value).to_numpy()
            if not mask.any():
                raise ValueError(
                    f"TimeSeriesAnomalies: no series {dict(zip(keys, wanted, strict=True))}"
                )
            result = result[mask].reset_index(drop=True)
        elif keys and result[keys].drop_duplicates().shape[0] > 1:
            raise ValueError(
                "TimeSeriesAnomalies: the result holds several series (group_by); pick one with "
                "group=..."
            )
        time_name = time_column or next(
            c for c in result.columns if pd.api.types.is_datetime64_any_dtype(result[c])
        )
        value_name = data_column or next(
            c
            for c in result.columns
            if c not in (*keys, time_name, *_COMPONENTS, "weights", "period")
        )
        self.result: pd.DataFrame = result
        times = pd.to_datetime(result[time_name], utc=True)
        series = pa.table(
            {
                "t_ms": pa.array(
                    ((times - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(1, "ms")).to_numpy(),
                    pa.float64(),
                ),
                "observed": pa.array(result[value_name].to_numpy(dtype=float), pa.float64()),
                **{
                    c: pa.array(result[c].to_numpy(dtype=float), pa.float64())
                    for c in ("trend", "seasonal", "residual", "baseline", "score", "anomalies")
                },
            }
        )
        stream = to_ipc_stream(series)
        prepared = PreparedData(
            name=DATASET,
            table=series,
            stream=stream,
            flavour="pandas",
            original=result,
            chunks=split_chunks(stream),
        )
        label = (
            "" if group is None else f" ({group if isinstance(group, str) else ', '.join(group)})"
        )
        spec = {
            "dataset": DATASET,
            "title": title if title is not None else f"{value_name}: STL anomalies{label}",
            "value_label": str(value_name),
            "height": height,
        }
        super().__init__(kind="ts_anomalies", datasets=[prepared], spec=spec, theme=theme)

    @property
    def anomalies(self) -> pd.DataFrame:
        """The flagged rows of :attr:`result`."""
        return self.result[self.result["anomalies"] != 0]


def ts_anomalies_view(data: Any, **kwargs: Any) -> TimeSeriesAnomalies:
    """A :class:`TimeSeriesAnomalies` of ``data`` (keywords as the class)."""
    return TimeSeriesAnomalies(data, **kwargs)
