"""The ``hg`` accessor on pandas DataFrames and the ``hg`` namespace on polars DataFrames."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from . import decode as _decode
from . import ioc as _ioc
from . import sessions as _sessions
from . import timeseries as _timeseries
from .decode_view import DecodeView
from .geo_map import GeoMap
from .ioc_view import IocView
from .process_tree import ProcessTree
from .session_rarity import SessionRarity
from .timeline import Timeline, timeline, timeline_duration, timeline_values


class HgFrameMethods:
    """Widgets of one DataFrame: ``df.hg.timeline(...)`` and friends."""

    def __init__(self, frame: Any) -> None:
        self._frame = frame

    def timeline(self, **kwargs: Any) -> Timeline:
        """Event timeline of this frame (see :class:`huntglass.Timeline` for the keywords)."""
        return timeline(self._frame, **kwargs)

    def timeline_values(self, value_column: str | None = None, **kwargs: Any) -> Timeline:
        """Values of ``value_column`` over time (aliases ``y``, ``value_col``)."""
        return timeline_values(self._frame, value_column, **kwargs)

    def timeline_duration(
        self,
        group_by: Any = None,
        time_column: str = "TimeGenerated",
        end_time_column: str | None = None,
        **kwargs: Any,
    ) -> Timeline:
        """One bar per group from its first to its last event (or per row to its end time)."""
        return timeline_duration(self._frame, group_by, time_column, end_time_column, **kwargs)

    def ioc(self, columns: str | list[str], **kwargs: Any) -> Any:
        """IoCs in ``columns``, one row per occurrence (see :func:`huntglass.ioc.extract`)."""
        return _ioc.extract(data=self._frame, columns=columns, **kwargs)

    def ioc_view(self, columns: str | list[str], **kwargs: Any) -> IocView:
        """IocView of ``columns``: IoCs highlighted, counts per type, unique observables."""
        return IocView(self._frame, columns, **kwargs)

    def build_process_tree(self, schema: Any = None, **kwargs: Any) -> Any:
        """Process trees of these process events (see :func:`huntglass.proctree.build`)."""
        from . import proctree

        return proctree.build(self._frame, schema, **kwargs)

    def process_tree(self, schema: Any = None, **kwargs: Any) -> ProcessTree:
        """Build (when needed) and show the process tree (see :class:`huntglass.ProcessTree`)."""
        return ProcessTree(self._frame, schema, **kwargs)

    def lookup_ti(
        self, column: str, providers: list[str] | None = None, ti: Any = None
    ) -> pd.DataFrame:
        """Looks ``column`` up in threat intelligence; adds ``TISeverity`` and ``TIProviders``.

        ``ti`` is a :class:`huntglass.TILookup` (a new one when omitted).
        """
        from . import ti as _ti

        if not isinstance(self._frame, pd.DataFrame):
            raise TypeError("lookup_ti joins onto a pandas DataFrame")
        lookup = ti if ti is not None else _ti.TILookup()
        results = lookup.lookup_iocs(self._frame, column=column, providers=providers)
        return _ti.join_results(self._frame, column, results)

    def geo(self, column: str, **kwargs: Any) -> pd.DataFrame:
        """Joins the offline geolocation of ``column`` (see :func:`huntglass.geo.join`)."""
        from . import geo as _geo

        return _geo.join(self._frame, column, **kwargs)

    def geo_map(self, **kwargs: Any) -> GeoMap:
        """Offline world map of this frame's places or IPs (see :class:`huntglass.GeoMap`)."""
        return GeoMap(self._frame, **kwargs)

    def ts_anomalies(self, **kwargs: Any) -> Any:
        """STL time-series anomalies of this frame (see :func:`huntglass.timeseries.anomalies`)."""
        return _timeseries.anomalies(self._frame, **kwargs)

    def periodic_view(self, groupby: str | list[str], **kwargs: Any) -> Any:
        """PeriodicConnections of this frame (see :class:`huntglass.PeriodicConnections`)."""
        from .periodic_view import PeriodicConnections

        return PeriodicConnections(self._frame, groupby=groupby, **kwargs)

    def decode(self, column: str, **kwargs: Any) -> Any:
        """Encoded content of ``column``, layer by layer (see :func:`huntglass.decode.unpack`)."""
        return _decode.unpack(data=self._frame, column=column, **kwargs)

    def decode_view(self, column: str, **kwargs: Any) -> DecodeView:
        """DecodeView of ``column``: each record's decode tree with hashes, previews and IoCs."""
        return DecodeView(self._frame, column, **kwargs)

    def sessions(self, **kwargs: Any) -> Any:
        """Sessions of these events (see :func:`huntglass.sessions.build` for the keywords)."""
        return _sessions.build(self._frame, **kwargs)

    def session_rarity(self, user_identifier_cols: str | list[str], **kwargs: Any) -> SessionRarity:
        """SessionRarity of these events (see :class:`huntglass.SessionRarity`)."""
        return SessionRarity(self._frame, user_identifier_cols, **kwargs)


_registered = False


def register_accessors() -> None:
    """Register ``df.hg`` for pandas (and polars when it is installed); safe to call again."""
    global _registered
    if _registered:
        return
    with warnings.catch_warnings():
        # pandas warns when a name is registered again (a module reload): that is fine here.
        warnings.simplefilter("ignore", UserWarning)
        pd.api.extensions.register_dataframe_accessor("hg")(HgFrameMethods)
    try:
        import polars as pl
    except ImportError:
        pass
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            pl.api.register_dataframe_namespace("hg")(HgFrameMethods)
    _registered = True
