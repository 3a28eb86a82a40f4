"""The GeoMap widget: located IP addresses (or any latitude/longitude) on an offline world map.

``GeoMap(df, lat="Latitude", lon="Longitude")`` draws one point per place, sized by the number of
rows there (or the sum of ``size``) and coloured by ``color`` with a legend. With a source and a
destination (``src_lat``/``src_lon`` and ``dst_lat``/``dst_lon``, or ``src_ip``/``dst_ip``) it
draws both ends and an arc from each source to its destination. IP columns (``ip``, ``src_ip``,
``dst_ip``) are located with :func:`huntglass.geo.lookup` through the proxy (offline data: no
network) and the result is joined on as ``Geo*`` / ``SrcGeo*`` / ``DstGeo*`` columns.

The offline country database has no coordinates: a row whose place is known only by its country
(an ISO 3166-1 alpha-2 code, from ``country``/``src_country``/``dst_country`` or from the IP
look-up) is drawn at that country's centroid, the area centroid of its largest outline ring on
the basemap (mainland France, not a point between France and French Guiana; countries too small
for the 1:110m outlines use the centroid of their 1:50m outline). Such marks are hollow and their
hover details say the placement is approximate. With a city database on the proxy
(``HUNTGLASS_GEO_CITY_MMDB``) the look-up returns coordinates and those are used.

The basemap is Natural Earth's 1:110m country outlines (public domain, npm ``world-atlas``),
built into ``static/basemap.bin`` and sent to the browser once per page (``hg:need_basemap``);
nothing is fetched from a tile server. Hover shows the place, the row count and the ``tooltip``
columns as plain text; wheel zooms, drag pans, a click (Shift adds) or Shift + drag selects
points, and :attr:`GeoMap.selected` returns the rows of the chosen points.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import traitlets

from ._arrow import Role, column_names, flavour_of, prepare, to_arrow_table
from ._widget import AssetsMissingError, HgWidget, _asset, _read_cached

__all__ = ["GeoMap", "geo_map"]

#: The basemap asset in ``static/`` (written by js/build.mjs).
BASEMAP_FILE = "basemap.bin"
#: The data set name.
DATASET = "points"

_hashes: dict[tuple[str, int, int], str] = {}


def load_basemap() -> bytes:
    """Return the basemap bytes (raises :class:`AssetsMissingError` when not built)."""
    return _read_cached(_asset(BASEMAP_FILE), binary=True)


def basemap_hash() -> str:
    """Key of the browser's basemap cache: sha256 of ``basemap.bin`` (16 hex), "" when absent."""
    try:
        path = _asset(BASEMAP_FILE)
    except AssetsMissingError:
        return ""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _hashes:
        _hashes[key] = hashlib.sha256(load_basemap()).hexdigest()[:16]
    return _hashes[key]


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))


def _looked_up_columns(
    frame: pd.DataFrame, column: str, prefix: str, connection: dict[str, Any]
) -> dict[str, pd.Series]:
    """Geolocate ``column`` and return the columns to add (``<prefix>CountryCode``, ...)."""
    from . import geo

    found = geo.lookup(frame[column], **connection)
    wanted = ["CountryCode", "CountryName", "ASOrg"]
    if "Latitude" in found.columns:
        wanted += ["Latitude", "Longitude"]
    keys = frame[column].map(lambda v: None if _is_missing(v) else str(v).strip())
    index = pd.Index(found["IP"].astype(object))
    positions = index.get_indexer(keys.astype(object))
    added: dict[str, pd.Series] = {}
    for name in wanted:
        values = found[name].take(positions.clip(min=0)).reset_index(drop=True)
        values[positions < 0] = pd.NA
        values.index = frame.index
        added[f"{prefix}{name}"] = values
    return added


class GeoMap(HgWidget):
    """Points and source-to-destination arcs on an offline world map (see the module docs)."""

    #: Key of the browser's basemap cache (sha256 of static/basemap.bin, 16 hex).
    _basemap_hash = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        data: Any,
        *,
        lat: str | None = None,
        lon: str | None = None,
        country: str | None = None,
        ip: str | None = None,
        src_lat: str | None = None,
        src_lon: str | None = None,
        src_country: str | None = None,
        src_ip: str | None = None,
        dst_lat: str | None = None,
        dst_lon: str | None = None,
        dst_country: str | None = None,
        dst_ip: str | None = None,
        color: str | None = None,
        size: str | None = None,
        tooltip: Sequence[str] | None = None,
        lines: bool = True,
        title: str = "",
        height: int | None = None,
        width: int | None = None,
        theme: str = "auto",
        url: str | None = None,
        token: str | None = None,
        connection: Any = None,
    ) -> None:
        point = {"lat": lat, "lon": lon, "country": country, "ip": ip}
        source = {
            "src_lat": src_lat,
            "src_lon": src_lon,
            "src_country": src_country,
            "src_ip": src_ip,
        }
        dest = {
            "dst_lat": dst_lat,
            "dst_lon": dst_lon,
            "dst_country": dst_country,
            "dst_ip": dst_ip,
        }
        given_point = [k for k, v in point.items() if v is not None]
        given_source = [k for k, v in source.items() if v is not None]
        given_dest = [k for k, v in dest.items() if v is not None]
        if given_point and given_source:
            raise TypeError(
                f"give a point ({', '.join(given_point)}) or a source ({', '.join(given_source)}), "
                "not both: lat/lon/country/ip name one place per row, src_* the start of a line"
            )
        if given_dest and not given_source:
            raise TypeError(
                f"{', '.join(given_dest)} given without a source: add src_lat/src_lon, "
                "src_country or src_ip"
            )
        ends = [("", point)] if not given_source else [("src_", source), ("dst_", dest)]
        first = ends[0][1]
        for _, end in ends:
            names = list(end)
            if (end[names[0]] is None) != (end[names[1]] is None):
                raise TypeError(f"give both {names[0]} and {names[1]}, or neither")
        if all(v is None for v in first.values()):
            raise TypeError(
                "say where the rows are: lat= and lon=, country= (ISO alpha-2 codes) or ip= "
                "(addresses located offline), or src_*/dst_* for lines"
            )
        if not isinstance(lines, bool):
            raise TypeError(f"lines must be True or False, not {lines!r}")
        if tooltip is not None and (isinstance(tooltip, str) or not isinstance(tooltip, Sequence)):
            raise TypeError("tooltip must be a list of column names")
        available = column_names(data) if not _is_stream(data) else None
        frame_input = data
        if available is None:
            frame_input = to_arrow_table(data, what="GeoMap data")
            available = list(frame_input.schema.names)
        user_columns = [
            (k, v)
            for k, v in [
                *point.items(),
                *source.items(),
                *dest.items(),
                ("color", color),
                ("size", size),
            ]
            if v is not None
        ] + [("tooltip", c) for c in (tooltip or [])]
        for key, column in user_columns:
            if not isinstance(column, str):
                raise TypeError(f"{key} must be a column name (str), not {column!r}")
            if column not in available:
                raise ValueError(
                    f"{key}: column {column!r} not found; the columns are: "
                    f"{', '.join(map(str, available))}"
                )

        # IP columns are located through the proxy and joined on (pandas from here on).
        ip_roles = [
            (key, column, prefix)
            for key, column, prefix in (
                ("ip", ip, "Geo"),
                ("src_ip", src_ip, "SrcGeo"),
                ("dst_ip", dst_ip, "DstGeo"),
            )
            if column is not None
        ]
        columns = {
            "lat": lat or src_lat,
            "lon": lon or src_lon,
            "country": country or src_country,
            "dst_lat": dst_lat,
            "dst_lon": dst_lon,
            "dst_country": dst_country,
        }
        default_tips: list[str] = []
        if ip_roles:
            frame = _as_pandas(frame_input)
            conn = {"url": url, "token": token, "connection": connection}
            for key, column, prefix in ip_roles:
                added = _looked_up_columns(frame, column, prefix, conn)
                clash = [c for c in added if c in frame.columns]
                if clash:
                    raise ValueError(
                        f"{key}: the data already has the column(s) {clash} that the look-up "
                        "adds; rename them first"
                    )
                frame = frame.assign(**added)
                end = "dst_" if key == "dst_ip" else ""
                if columns[f"{end}country"] is None:
                    columns[f"{end}country"] = f"{prefix}CountryCode"
                if columns[f"{end}lat"] is None and f"{prefix}Latitude" in added:
                    columns[f"{end}lat"] = f"{prefix}Latitude"
                    columns[f"{end}lon"] = f"{prefix}Longitude"
                default_tips += [column, f"{prefix}CountryName", f"{prefix}ASOrg"]
            frame_input = frame
        roles: dict[str, Role] = {}
        uses: dict[str, str] = {}
        for key in ("lat", "lon", "dst_lat", "dst_lon"):
            if columns[key] is not None:
                roles[columns[key]] = "number"
                uses[columns[key]] = key
        for key in ("country", "dst_country"):
            if columns[key] is not None:
                roles.setdefault(columns[key], "display")
                uses.setdefault(columns[key], key)
        if size is not None:
            roles.setdefault(size, "number")
            uses.setdefault(size, "size")
        tips = list(tooltip) if tooltip is not None else default_tips
        for column in [c for c in [color, *tips] if c]:
            roles.setdefault(column, "display")
        prepared = prepare(frame_input, roles, name=DATASET, what="GeoMap data", uses=uses)
        for key in ("country", "dst_country"):
            column = columns[key]
            if column is not None:
                type_ = prepared.table.column(column).type
                if pa.types.is_dictionary(type_):
                    type_ = type_.value_type
                if not (pa.types.is_string(type_) or pa.types.is_large_string(type_)):
                    raise ValueError(
                        f"{key}: column {column!r} must hold ISO 3166-1 alpha-2 country codes "
                        f"as text, found {type_}"
                    )
        #: The rows shown (the input, with the look-up columns when IPs were located).
        self.data = frame_input
        spec: dict[str, Any] = {
            "dataset": DATASET,
            "lat_column": columns["lat"],
            "lon_column": columns["lon"],
            "country_column": columns["country"],
            "dst_lat_column": columns["dst_lat"],
            "dst_lon_column": columns["dst_lon"],
            "dst_country_column": columns["dst_country"],
            "color_column": color,
            "size_column": size,
            "tooltip_columns": tips,
            "lines": lines,
            "title": str(title),
            "height": height,
            "width": width,
        }
        super().__init__(
            kind="geo_map",
            datasets=[prepared],
            spec=spec,
            theme=theme,
            _basemap_hash=basemap_hash(),
        )

    def _on_custom_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "hg:need_basemap":
            self._answer_basemap(content.get("hash"))
            return
        super()._on_custom_msg(widget, content, buffers)

    def _answer_basemap(self, hash_: Any) -> None:
        """Send the basemap bytes (``hg:basemap``), or ``hg:basemap_error`` naming the problem."""
        try:
            data = load_basemap()
        except AssetsMissingError as exc:
            self.send({"type": "hg:basemap_error", "hash": hash_, "message": str(exc)})
            return
        self.send({"type": "hg:basemap", "hash": hash_}, [data])


def _is_stream(data: Any) -> bool:
    return not isinstance(data, pd.DataFrame | pa.Table | pa.RecordBatch) and (
        flavour_of(data) == "other"
    )


def _as_pandas(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if flavour_of(data) == "polars":
        return data.to_pandas()
    return to_arrow_table(data, what="GeoMap data").to_pandas()


def geo_map(data: Any, **kwargs: Any) -> GeoMap:
    """Show ``data`` on an offline world map (see :class:`GeoMap`)."""
    return GeoMap(data, **kwargs)
