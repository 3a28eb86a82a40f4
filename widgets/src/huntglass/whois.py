"""Whois of IP addresses over RDAP through the huntglass proxy (``/api/whois``).

``hg.whois(["8.8.8.8", "10.0.0.5"])`` returns one row per distinct address, in first-seen
order: ``IP``, ``Status`` (``found``, ``not_found``, ``rate_limited``, ``failed``,
``no_registry``, ``not_public``, ``invalid``), ``Message`` (why, when not found),
``Kind`` (address category), ``ASN`` and ``ASOrg`` (the offline ASN table), ``NetworkName``,
``Handle``, ``NetworkType``, ``Country``, ``Range``, ``CIDRs``, ``Registered`` (the
registration date), ``LastChanged``, ``Registrant``, ``AbuseName``, ``AbuseEmail``,
``Registry`` and ``Reference`` (the RDAP URL asked).

The proxy finds each address's registry through the IANA RDAP bootstrap, paces its requests
(registries throttle), never sends private or reserved addresses, and answers the addresses of
a network it already fetched from that answer. Unlike the reference, the registration and
last-changed dates are not swapped.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .geo import _inputs, _post_in_batches
from .query import ProxyConnection, find_proxy

__all__ = ["COLUMNS", "WhoisError", "whois"]

#: Addresses sent per request (the proxy accepts at most 10,000).
_CHUNK = 1_000

#: The result columns and the answer's field each comes from.
_FIELDS = {
    "Status": "status",
    "Message": "message",
    "Kind": "category",
    "ASN": "asn",
    "ASOrg": "as_org",
    "NetworkName": "network_name",
    "Handle": "handle",
    "NetworkType": "network_type",
    "Country": "country",
    "Range": None,
    "CIDRs": "cidrs",
    "Registered": "registered",
    "LastChanged": "last_changed",
    "Registrant": "registrant",
    "AbuseName": "abuse_name",
    "AbuseEmail": "abuse_email",
    "Registry": "registry",
    "Reference": "reference",
}
COLUMNS = ["IP", *_FIELDS]


class WhoisError(RuntimeError):
    """A whois the proxy refused (bad input, bootstrap not readable)."""


def whois(
    ips: Any,
    *,
    url: str | None = None,
    token: str | None = None,
    connection: ProxyConnection | None = None,
) -> pd.DataFrame:
    """RDAP whois of addresses (a string or an iterable of them); one row per distinct address."""
    addresses = _inputs(ips)
    proxy = connection or find_proxy(url, token)
    records: list[dict[str, Any]] = []
    for body in _post_in_batches(proxy, "/api/whois", addresses, _CHUNK, WhoisError, "whois"):
        records.extend(body["results"])
    columns: dict[str, Any] = {"IP": pd.array(addresses, dtype="string")}
    for name, key in _FIELDS.items():
        if name == "Range":
            values = [
                f"{r['start_address']} - {r['end_address']}"
                if r.get("start_address") and r.get("end_address")
                else None
                for r in records
            ]
        else:
            values = [r.get(key) for r in records]
        if name == "ASN":
            columns[name] = pd.array(values, dtype="Int64")
        elif name == "CIDRs":
            columns[name] = [list(v or []) for v in values]
        else:
            columns[name] = pd.array(values, dtype="string")
    return pd.DataFrame(columns, columns=COLUMNS)
