"""The TIBrowser widget: threat-intelligence results grouped by observable.

``hg.TIBrowser(results)`` (or ``ti.browse(results)``) shows the rows of
:meth:`huntglass.TILookup.lookup_iocs` grouped by observable, each group coloured by the worst
severity a provider gave it, with filters by severity (``high`` and ``warning`` at first, as the
reference's browser; everything when none of those is present) and by provider. Clicking a group
shows every provider's answer: status, details and reference, and the raw result behind a
disclosure, all as text. ``widget.selected`` is the input's rows of the group clicked last.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from ._arrow import PreparedData, split_chunks, to_ipc_stream
from ._widget import HgWidget

#: Name of the one data set a TIBrowser sends.
DATASET = "results"
#: Columns the browser needs.
REQUIRED = ("Ioc", "IocType", "Provider", "Severity")
#: Columns sent (missing optional ones are sent empty).
COLUMNS = (
    "Ioc",
    "IocType",
    "Provider",
    "Result",
    "Severity",
    "Details",
    "RawResult",
    "Reference",
    "Status",
)
DEFAULT_HEIGHT = 420
_SEVERITIES = ("high", "warning", "information", "unknown")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and pd.isna(value):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str)
    return str(value)


class TIBrowser(HgWidget):
    """Threat-intelligence results grouped by observable, with severity and provider filters.

    ``results`` is a pandas DataFrame of look-up rows (the columns of
    :meth:`huntglass.TILookup.lookup_iocs`; at least ``Ioc``, ``IocType``, ``Provider`` and
    ``Severity``). ``severities`` is the initial severity filter (default ``["high",
    "warning"]``; ``"all"`` for every severity). ``height`` is in CSS pixels.
    """

    def __init__(
        self,
        results: pd.DataFrame,
        *,
        severities: str | Sequence[str] | None = None,
        title: str = "Threat intelligence",
        height: int | None = None,
        theme: str = "auto",
    ) -> None:
        if not isinstance(results, pd.DataFrame):
            raise TypeError(
                "TIBrowser: expected a pandas DataFrame of TI results, "
                f"got {type(results).__name__}"
            )
        missing = [c for c in REQUIRED if c not in results.columns]
        if missing:
            raise ValueError(
                f"TIBrowser: the results lack {', '.join(missing)}; "
                f"columns: {list(results.columns)}"
            )
        if severities is None:
            wanted = ["high", "warning"]
        elif isinstance(severities, str):
            wanted = list(_SEVERITIES) if severities == "all" else [severities]
        else:
            wanted = list(severities)
        unknown = [s for s in wanted if s not in _SEVERITIES]
        if unknown:
            raise ValueError(
                f"TIBrowser: unknown severities {unknown}; use {', '.join(_SEVERITIES)} or 'all'"
            )
        if height is not None and (
            isinstance(height, bool) or not isinstance(height, int | float) or height < 120
        ):
            raise ValueError(f"TIBrowser: height must be at least 120 pixels, got {height!r}")
        frame = results.reset_index(drop=True)
        table = pa.table(
            {
                c: pa.array(
                    [_as_text(v) for v in frame[c]] if c in frame.columns else [""] * len(frame),
                    type=pa.string(),
                )
                for c in COLUMNS
            }
        )
        stream = to_ipc_stream(table)
        prepared = PreparedData(
            name=DATASET,
            table=table,
            stream=stream,
            flavour="pandas",
            original=results,
            chunks=split_chunks(stream),
        )
        spec = {
            "dataset": DATASET,
            "title": str(title),
            "severities": wanted,
            "height": float(height) if height is not None else float(DEFAULT_HEIGHT),
        }
        super().__init__(kind="ti_browser", datasets=[prepared], spec=spec, theme=theme)


def ti_browser(results: pd.DataFrame, **kwargs: Any) -> TIBrowser:
    """A :class:`TIBrowser` of ``results``."""
    return TIBrowser(results, **kwargs)
