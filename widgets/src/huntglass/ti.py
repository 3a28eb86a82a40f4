"""Threat-intelligence look-ups through the huntglass proxy (``/api/ti``).

``ti = hg.TILookup()`` connects to the proxy the same way :class:`huntglass.QueryProvider` does
(``url``/``token``, else ``HUNTGLASS_URL`` + ``HUNTGLASS_TOKEN``, else a running ``huntglass
serve``, else one started for this process) through :func:`huntglass.query.find_proxy`. Keys stay
in the proxy: it reads the ``TIProviders`` section of ``msticpyconfig.yaml`` (or its own
``huntglass.toml``) and, with nothing configured, looks observables up in the built-in
scenario's local feed and Tor exit list, needing no key and sending nothing anywhere.

``ti.lookup_ioc("203.0.113.77")`` and ``ti.lookup_iocs(df, column="IpAddress")`` return one row
per (observable, provider) in the reference's columns: ``Ioc``, ``IocType``, ``SafeIoc``,
``Provider``, ``Result``, ``Severity`` (``information`` / ``warning`` / ``high`` /
``unknown``), ``Details`` and ``RawResult`` (parsed JSON), ``Reference``, ``Status`` (0 when the
look-up ran; 1 not supported, 2 bad format or not sent upstream, 3 failed, 4 not found; else the
HTTP status) and ``Cached``. As in the reference, rows of unsupported types and of malformed
observables are left out unless asked for. ``df.hg.lookup_ti(column)`` joins the worst severity
and the providers that know each value onto the frame; ``ti.browse(results)`` shows them in a
:class:`huntglass.TIBrowser`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from .query import ProxyConnection, QueryError, find_proxy

__all__ = ["SEVERITIES", "TIError", "TILookup", "join_results"]

#: Severity names from least to most severe (``unknown`` below ``information``).
SEVERITIES = ["unknown", "information", "warning", "high"]

#: Status codes of rows left out by default.
_NOT_SUPPORTED = 1
_BAD_FORMAT = 2

#: Observables sent per request (the proxy accepts at most 100,000).
_CHUNK = 10_000

_COLUMNS = [
    "Ioc",
    "IocType",
    "SafeIoc",
    "Provider",
    "Result",
    "Severity",
    "Details",
    "RawResult",
    "Reference",
    "Status",
    "Cached",
]


class TIError(RuntimeError):
    """A look-up the proxy refused (unknown provider, no provider configured, bad input)."""


_DECODER = json.JSONDecoder()


def _parse_json_text(text: Any) -> Any:
    if not isinstance(text, str) or text == "":
        return None if text == "" else text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parse_json_column(values: pd.Series) -> list[Any]:
    """Each text of ``values`` parsed as JSON (text that is not JSON stays text, "" is None).

    One string holds all texts and the C scanner walks it value by value; each value must end
    exactly where its text ends, else that text alone goes through :func:`_parse_json_text`.
    About twice as fast as ``json.loads`` per row, which dominated cached look-ups.
    """
    texts = values.tolist()
    joined = "".join(t for t in texts if isinstance(t, str))
    out: list[Any] = []
    position = 0
    for text in texts:
        if not isinstance(text, str) or text == "":
            out.append(_parse_json_text(text))
            continue
        end_of_text = position + len(text)
        try:
            value, end = _DECODER.raw_decode(joined, position)
        except ValueError:
            end = -1
        out.append(value if end == end_of_text else _parse_json_text(text))
        position = end_of_text
    return out


class TILookup:
    """Threat-intelligence look-ups across the proxy's providers."""

    def __init__(
        self,
        providers: Iterable[str] | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        connection: ProxyConnection | None = None,
    ) -> None:
        self._connection = connection or find_proxy(url, token)
        self._providers = list(providers) if providers is not None else None
        self._status: pd.DataFrame | None = None

    def __repr__(self) -> str:
        names = ", ".join(self.loaded_providers) or "none"
        return f"TILookup({self._connection.url!r}, providers: {names})"

    @property
    def provider_status(self) -> pd.DataFrame:
        """Every configured provider: name, class, loaded, primary, message, supported types."""
        if self._status is None:
            body = self._connection.get_json("/api/ti/providers")
            self._status = pd.DataFrame(
                body.get("providers", []),
                columns=["name", "provider", "loaded", "primary", "message", "supported_types"],
            )
        return self._status

    @property
    def loaded_providers(self) -> list[str]:
        """Names of the providers in use."""
        status = self.provider_status
        return [str(n) for n in status.loc[status["loaded"].astype(bool), "name"]]

    def lookup_ioc(
        self,
        ioc: str | None = None,
        ioc_type: str | None = None,
        providers: Iterable[str] | None = None,
        *,
        observable: str | None = None,
        show_not_supported: bool = False,
        show_bad_format: bool = True,
    ) -> pd.DataFrame:
        """Looks one observable up; one row per provider.

        ``ioc_type`` (``ipv4``, ``dns``, ``url``, ``md5_hash``, ...) is inferred when omitted.
        Unlike :meth:`lookup_iocs`, a malformed or never-sent observable keeps its row, so the
        reason is visible.
        """
        value = ioc if ioc is not None else observable
        if value is None:
            raise ValueError("lookup_ioc needs an observable (ioc=...)")
        return self._lookup(
            [{"value": str(value), "type": ioc_type}],
            providers,
            show_not_supported=show_not_supported,
            show_bad_format=show_bad_format,
        )

    def lookup_iocs(
        self,
        data: pd.DataFrame | Mapping[str, str] | Iterable[str],
        column: str | None = None,
        ioc_type_col: str | None = None,
        providers: Iterable[str] | None = None,
        *,
        col: str | None = None,
        ioc_col: str | None = None,
        show_not_supported: bool = False,
        show_bad_format: bool = False,
    ) -> pd.DataFrame:
        """Looks many observables up; one row per (observable, provider).

        ``data`` is a DataFrame and its ``column`` (types from ``ioc_type_col`` or inferred), a
        mapping of observable to type, or any iterable of observables. Duplicates are looked up
        once; empty values are skipped.
        """
        items = _observables(data, column or col or ioc_col, ioc_type_col)
        return self._lookup(
            items,
            providers,
            show_not_supported=show_not_supported,
            show_bad_format=show_bad_format,
        )

    def browse(self, results: pd.DataFrame, **kwargs: Any) -> Any:
        """A :class:`huntglass.TIBrowser` of look-up results."""
        from .ti_browser import TIBrowser

        return TIBrowser(results, **kwargs)

    def _lookup(
        self,
        items: list[dict[str, Any]],
        providers: Iterable[str] | None,
        *,
        show_not_supported: bool,
        show_bad_format: bool,
    ) -> pd.DataFrame:
        chosen = list(providers) if providers is not None else self._providers
        frames = []
        for start in range(0, len(items), _CHUNK):
            body: dict[str, Any] = {
                "observables": [
                    {k: v for k, v in item.items() if v is not None}
                    for item in items[start : start + _CHUNK]
                ],
                "format": "arrow",
            }
            if chosen:
                body["providers"] = chosen
            status, headers, payload = self._connection.request("POST", "/api/ti", body)
            if status != 200:
                try:
                    message = json.loads(payload.decode("utf-8")).get("error")
                except (ValueError, UnicodeDecodeError, AttributeError):
                    message = payload[:200].decode("utf-8", "replace")
                raise TIError(f"the proxy refused the look-up ({status}): {message}")
            if not headers.get("content-type", "").startswith("application/vnd.apache.arrow"):
                raise QueryError("the proxy answered /api/ti without Arrow data")
            with pa.ipc.open_stream(pa.py_buffer(payload)) as reader:
                frames.append(reader.read_all().to_pandas())
        if not frames:
            return pd.DataFrame(columns=_COLUMNS)
        results = pd.concat(frames, ignore_index=True)
        for flag in ("Result", "Cached"):
            # The proxy's Arrow answer carries the flags as the text True/False (readable by
            # the widgets' Arrow reader); back to booleans here.
            if not pd.api.types.is_bool_dtype(results[flag]):
                results[flag] = results[flag].astype("string").str.lower().eq("true").astype(bool)
        results["Details"] = _parse_json_column(results["Details"])
        results["RawResult"] = _parse_json_column(results["RawResult"])
        keep = pd.Series(True, index=results.index)
        if not show_not_supported:
            keep &= results["Status"] != _NOT_SUPPORTED
        if not show_bad_format:
            keep &= results["Status"] != _BAD_FORMAT
        return results.loc[keep, _COLUMNS].reset_index(drop=True)


def _observables(data: Any, column: str | None, ioc_type_col: str | None) -> list[dict[str, Any]]:
    seen: set[tuple[str, str | None]] = set()
    out: list[dict[str, Any]] = []

    def add(value: Any, ioc_type: Any) -> None:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return
        text = str(value).strip()
        kind = (
            str(ioc_type).strip() if ioc_type not in (None, "") and not pd.isna(ioc_type) else None
        )
        if text and (text, kind) not in seen:
            seen.add((text, kind))
            out.append({"value": text, "type": kind})

    if isinstance(data, pd.DataFrame):
        if column is None:
            raise ValueError("lookup_iocs on a DataFrame needs column=... (the observables)")
        if column not in data.columns:
            raise KeyError(f"no column {column!r}; the frame has {list(data.columns)}")
        types = data[ioc_type_col] if ioc_type_col else [None] * len(data)
        if ioc_type_col and ioc_type_col not in data.columns:
            raise KeyError(f"no column {ioc_type_col!r}; the frame has {list(data.columns)}")
        for value, kind in zip(data[column], types, strict=True):
            add(value, kind)
    elif isinstance(data, Mapping):
        for value, kind in data.items():
            add(value, kind)
    elif isinstance(data, str):
        add(data, None)
    else:
        for value in data:
            add(value, None)
    return out


def join_results(frame: pd.DataFrame, column: str, results: pd.DataFrame) -> pd.DataFrame:
    """Joins look-up results onto ``frame`` by the value of ``column``.

    Adds ``TISeverity`` (the worst severity any provider gave the value; ``information`` when
    none knows it) and ``TIProviders`` (the providers holding a record, sorted).
    """
    order = {name: i for i, name in enumerate(SEVERITIES)}
    found = results[results["Result"].astype(bool)]
    worst: dict[str, str] = {}
    holders: dict[str, list[str]] = {}
    for ioc, severity, provider in zip(
        found["Ioc"], found["Severity"], found["Provider"], strict=True
    ):
        if order.get(severity, 0) > order.get(worst.get(ioc, "unknown"), 0):
            worst[ioc] = severity
        holders.setdefault(ioc, [])
        if provider not in holders[ioc]:
            holders[ioc].append(provider)
    out = frame.copy()
    values = out[column].astype("string").str.strip()
    out["TISeverity"] = [
        worst.get(v, "information") if isinstance(v, str) else None for v in values
    ]
    out["TIProviders"] = [sorted(holders.get(v, [])) if isinstance(v, str) else [] for v in values]
    return out
