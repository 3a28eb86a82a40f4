"""huntglass: investigation widgets for notebooks, rendered by Rust compiled to WebAssembly.

``import huntglass as hg`` registers the ``hg`` accessor on pandas DataFrames (and on polars
DataFrames when polars is installed): ``df.hg.timeline(...)``, ``df.hg.timeline_values(...)``,
``df.hg.timeline_duration(...)``, ``df.hg.ioc(columns=[...])``,
``df.hg.ioc_view(columns=[...])``, ``df.hg.sessions(...)``, ``df.hg.session_rarity(...)``,
``df.hg.decode(column=...)``, ``df.hg.decode_view(column=...)``.
``hg.ioc`` extracts indicators in the kernel (``hg.ioc.extract``, ``hg.ioc.validate``,
``hg.ioc.type_of``); ``hg.sessions`` groups events into sessions and scores their rarity
(``hg.sessions.build``, ``hg.sessions.train``, ``hg.sessions.score``), shown by
``hg.SessionRarity``; ``hg.decode.unpack`` decodes encoded content layer by layer (base64, hex,
gzip, zip, ...) in the kernel and ``hg.DecodeView`` shows each record's decode tree;
``hg.proctree.build`` links process-creation events into process trees, shown by
``hg.ProcessTree`` (``df.hg.process_tree(...)``).
``hg.TILookup()`` looks observables up in threat intelligence through the huntglass proxy
(``lookup_ioc``, ``lookup_iocs``; ``df.hg.lookup_ti(column)`` joins the worst severity), shown
by ``hg.TIBrowser``. ``hg.geo.lookup(ips)`` geolocates addresses offline through the proxy
(``df.hg.geo(column)`` joins country, ASN and address kind), shown on an offline world map by
``hg.GeoMap`` (``df.hg.geo_map(...)``: points by place, source-to-destination arcs);
``hg.whois(ips)`` asks the registries over RDAP (network, country, dates, abuse contact).
``hg.QueryProvider("local" | "MSSentinel" | "Splunk" | "Elastic")`` runs the query library
through the huntglass proxy (``qp.<Family>.<query>(...)`` -> DataFrame), browsed by
``hg.QueryBrowser`` (``qp.browse()``).
``hg.timeseries.anomalies`` finds time-series anomalies with STL (``df.hg.ts_anomalies(...)``),
shown by ``hg.TimeSeriesAnomalies``; ``hg.timeseries.periodic`` ranks periodic (beaconing) traffic,
shown with each pair's timeline and period by ``hg.PeriodicConnections`` (``df.hg.periodic_view``).
"""

from . import decode, demo, geo, ioc, proctree, query, sessions, ti, timeseries
from ._accessors import register_accessors
from ._html import save_html
from ._widget import AssetsMissingError, HgWidget
from .decode_view import DecodeView, decode_view
from .geo_map import GeoMap, geo_map
from .ioc_view import IocView, ioc_view
from .periodic_view import PeriodicConnections, periodic_view
from .process_tree import ProcessTree, process_tree
from .query import ProxyUnavailableError, QueryError, QueryProvider
from .query_browser import QueryBrowser
from .session_rarity import SessionRarity, session_rarity
from .ti import TILookup
from .ti_browser import TIBrowser, ti_browser
from .timeline import Timeline, timeline, timeline_duration, timeline_values
from .ts_anomalies import TimeSeriesAnomalies, ts_anomalies_view
from .whois import whois

__version__ = "0.1.0"

__all__ = [
    "AssetsMissingError",
    "DecodeView",
    "GeoMap",
    "HgWidget",
    "IocView",
    "PeriodicConnections",
    "ProcessTree",
    "ProxyUnavailableError",
    "QueryBrowser",
    "QueryError",
    "QueryProvider",
    "SessionRarity",
    "TIBrowser",
    "TILookup",
    "TimeSeriesAnomalies",
    "Timeline",
    "__version__",
    "decode",
    "decode_view",
    "demo",
    "geo",
    "geo_map",
    "ioc",
    "ioc_view",
    "periodic_view",
    "process_tree",
    "proctree",
    "query",
    "save_html",
    "session_rarity",
    "sessions",
    "ti",
    "ti_browser",
    "timeline",
    "timeline_duration",
    "timeline_values",
    "timeseries",
    "ts_anomalies_view",
    "whois",
]

register_accessors()
