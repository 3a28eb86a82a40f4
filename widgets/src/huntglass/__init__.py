"""huntglass: investigation widgets for notebooks, rendered by Rust compiled to WebAssembly.

``import huntglass as hg`` registers the ``hg`` accessor on pandas DataFrames (and on polars
DataFrames when polars is installed): ``df.hg.timeline(...)``, ``df.hg.timeline_values(...)``,
``df.hg.timeline_duration(...)``, ``df.hg.ioc(columns=[...])``,
``df.hg.ioc_view(columns=[...])``. ``hg.ioc`` extracts indicators in the kernel
(``hg.ioc.extract``, ``hg.ioc.validate``, ``hg.ioc.type_of``).
"""

from . import demo, ioc
from ._accessors import register_accessors
from ._html import save_html
from ._widget import AssetsMissingError, HgWidget
from .ioc_view import IocView, ioc_view
from .timeline import Timeline, timeline, timeline_duration, timeline_values

__version__ = "0.1.0"

__all__ = [
    "AssetsMissingError",
    "HgWidget",
    "IocView",
    "Timeline",
    "__version__",
    "demo",
    "ioc",
    "ioc_view",
    "save_html",
    "timeline",
    "timeline_duration",
    "timeline_values",
]

register_accessors()
