"""Offline geolocation of IP addresses through the huntglass proxy (``/api/geo``).

``hg.geo.lookup(["8.8.8.8", "10.0.0.5"])`` returns one row per distinct input, in first-seen
order: ``IP`` (as given), ``Kind`` (``public``, ``private``, ``loopback``, ``link-local``,
``documentation``, ``cgnat``, ``multicast``, ``reserved``, ``unspecified``, ``invalid``, or
``unknown`` for a public address no database knows), ``KindDescription``, ``CountryCode``,
``CountryName``, ``ContinentCode``, ``ASN`` (nullable integer), ``ASOrg``, and ``City``,
``Region``, ``Latitude``, ``Longitude`` when the proxy has a city database
(``HUNTGLASS_GEO_CITY_MMDB``). Addresses that are not publicly routable are reported by kind,
never dropped and never located. The data is local to the proxy (country and ASN tables
installed by ``scripts/setup.sh``); nothing is sent anywhere. ``df.attrs["huntglass_geo"]``
holds the data's attribution lines, which the CC BY 4.0 ASN data requires to be shown.

``df.hg.geo(column="IpAddress")`` joins the same columns (prefixed ``Geo`` for ``Kind`` and
``KindDescription``) onto a frame. The proxy is found like :class:`huntglass.QueryProvider`
finds it (``url``/``token``, ``HUNTGLASS_URL`` + ``HUNTGLASS_TOKEN``, a running ``huntglass
serve``, else one started for this process).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd

from .query import ProxyConnection, find_proxy

__all__ = ["GeoError", "join", "lookup"]

#: Addresses sent per request (the proxy accepts at most 1,000,000).
_CHUNK = 100_000

#: Columns always present, in order.
COLUMNS = [
    "IP",
    "Kind",
    "KindDescription",
    "CountryCode",
    "CountryName",
    "ContinentCode",
    "ASN",
    "ASOrg",
]
#: Columns added when the proxy has a city database.
CITY_COLUMNS = ["City", "Region", "Latitude", "Longitude"]

_FIELDS = {
    "CountryCode": "country_code",
    "CountryName": "country_name",
    "ContinentCode": "continent_code",
    "ASOrg": "as_org",
    "City": "city",
    "Region": "region",
}


class GeoError(RuntimeError):
    """A look-up the proxy refused (no data installed, bad input)."""


def _inputs(ips: Any) -> list[str]:
    if isinstance(ips, str):
        values: Iterable[Any] = [ips]
    elif isinstance(ips, pd.DataFrame):
        raise TypeError("hg.geo.lookup takes addresses; use df.hg.geo(column=...) for a frame")
    else:
        values = ips
    seen: dict[str, None] = {}
    for value in values:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            continue
        if value is pd.NA:
            continue
        text = str(value).strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def lookup(
    ips: Any,
    *,
    url: str | None = None,
    token: str | None = None,
    connection: ProxyConnection | None = None,
) -> pd.DataFrame:
    """Geolocates addresses (a string or an iterable of them); one row per distinct address."""
    addresses = _inputs(ips)
    proxy = connection or find_proxy(url, token)
    records: list[dict[str, Any]] = []
    attribution: list[str] = []
    city = False
    for body in _post_in_batches(proxy, "/api/geo", addresses, _CHUNK, GeoError, "geolocation"):
        records.extend(body["results"])
        city = city or bool(body.get("city"))
        for line in body.get("attribution", []):
            if line not in attribution:
                attribution.append(line)
    frame = _frame(addresses, records, city)
    frame.attrs["huntglass_geo"] = {"attribution": attribution, "city": city}
    return frame


def _post_in_batches(
    proxy: ProxyConnection,
    path: str,
    addresses: list[str],
    chunk_size: int,
    error: type[RuntimeError],
    what: str,
) -> Iterator[dict[str, Any]]:
    """Posts `addresses` to the proxy's `path` `chunk_size` at a time; yields each JSON body.

    Each body is checked to hold one record per address first (shared by geo and whois).
    """
    for start in range(0, len(addresses), chunk_size):
        chunk = addresses[start : start + chunk_size]
        status, _, payload = proxy.request("POST", path, {"ips": chunk})
        try:
            body = json.loads(payload.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise error(f"the proxy answered {path} ({status}) with no JSON") from exc
        if status != 200:
            raise error(f"the proxy refused the {what} ({status}): {body.get('error')}")
        results = body.get("results")
        if not isinstance(results, list) or len(results) != len(chunk):
            raise error(f"the proxy's {path} answer does not hold one record per address")
        yield body


def _kind(record: dict[str, Any]) -> str:
    category = str(record.get("category") or "invalid")
    if category == "public" and not record.get("country_code") and record.get("asn") is None:
        return "unknown"
    return category


def _frame(addresses: list[str], records: list[dict[str, Any]], city: bool) -> pd.DataFrame:
    columns: dict[str, Any] = {
        "IP": pd.array(addresses, dtype="string"),
        "Kind": pd.array([_kind(r) for r in records], dtype="string"),
        "KindDescription": pd.array(
            [
                "public, not in the installed data"
                if _kind(r) == "unknown"
                else str(r.get("category_description") or "")
                for r in records
            ],
            dtype="string",
        ),
    }
    for name in ("CountryCode", "CountryName", "ContinentCode"):
        columns[name] = pd.array([r.get(_FIELDS[name]) for r in records], dtype="string")
    columns["ASN"] = pd.array([r.get("asn") for r in records], dtype="Int64")
    columns["ASOrg"] = pd.array([r.get("as_org") for r in records], dtype="string")
    if city:
        columns["City"] = pd.array([r.get("city") for r in records], dtype="string")
        columns["Region"] = pd.array([r.get("region") for r in records], dtype="string")
        for name, key in (("Latitude", "latitude"), ("Longitude", "longitude")):
            columns[name] = pd.array(
                [r.get(key) if r.get(key) is not None else None for r in records], dtype="Float64"
            )
    return pd.DataFrame(columns)


def join(
    frame: pd.DataFrame,
    column: str,
    *,
    url: str | None = None,
    token: str | None = None,
    connection: ProxyConnection | None = None,
) -> pd.DataFrame:
    """``frame`` with the geolocation of ``column`` joined on (a copy; rows kept in order).

    Adds ``GeoKind``, ``GeoKindDescription``, ``CountryCode``, ``CountryName``,
    ``ContinentCode``, ``ASN``, ``ASOrg`` (and the city columns when available); rows whose
    value is missing get missing values.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("df.hg.geo joins onto a pandas DataFrame")
    if column not in frame.columns:
        raise KeyError(f"no column {column!r}; the frame has {list(frame.columns)}")
    found = lookup(frame[column], url=url, token=token, connection=connection)
    renamed = found.rename(columns={"Kind": "GeoKind", "KindDescription": "GeoKindDescription"})
    added = [c for c in renamed.columns if c != "IP"]
    clash = [c for c in added if c in frame.columns]
    if clash:
        raise ValueError(f"the frame already has the column(s) {clash}; rename them first")
    keys = frame[column].map(
        lambda v: (
            None
            if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v))
            else str(v).strip()
        )
    )
    index = pd.Index(renamed["IP"].astype(object))
    positions = index.get_indexer(keys.astype(object))
    out = frame.copy()
    for name in added:
        values = renamed[name].take(positions.clip(min=0)).reset_index(drop=True)
        values[positions < 0] = pd.NA
        values.index = out.index
        out[name] = values
    out.attrs["huntglass_geo"] = found.attrs.get("huntglass_geo", {})
    return out
