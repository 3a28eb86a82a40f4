"""Data queries through the huntglass proxy (``huntglass serve``).

``qp = hg.QueryProvider("local")`` (or ``"MSSentinel"``, ``"Splunk"``, ``"Elastic"``), then
``qp.connect()``; the queries of the proxy's library appear as ``qp.<Family>.<query>(**params)``
and each returns a pandas DataFrame. ``qp.list_queries()`` lists them as ``"Family.query"``,
``qp.query_help(name)`` describes one, ``qp.exec_query(text)`` runs a raw query in the provider's
language (SQL for ``local``) and ``qp.browse()`` opens the QueryBrowser widget.

Finding the proxy: ``url``/``token`` arguments, else ``HUNTGLASS_URL`` + ``HUNTGLASS_TOKEN``,
else the token files a running ``huntglass serve`` writes (``serve-PORT.json`` in
``$HUNTGLASS_RUNTIME_DIR``, else ``$XDG_RUNTIME_DIR/huntglass``, else ``~/.cache/huntglass``);
when none answers and the ``huntglass`` command is available (``HUNTGLASS_BIN`` or ``PATH``),
``connect()`` starts one that stops when this Python process exits.

Results arrive as an Arrow IPC stream followed by the proxy's trailer (rows, notes, error; see
``crates/hg_proxy/src/api.rs``). Notes (a partial result, rows cut at ``max_rows``) are issued as
:class:`QueryWarning` and kept in ``df.attrs["huntglass"]``; an error after some rows raises
:class:`QueryError` whose ``partial`` holds the rows received.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import http.client
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd
import pyarrow as pa

#: Provider names accepted besides the proxy's own (the reference's environment names).
PROVIDER_ALIASES = {
    "localdata": "local",
    "local": "local",
    "mssentinel": "MSSentinel",
    "azuresentinel": "MSSentinel",
    "loganalytics": "MSSentinel",
    "splunk": "Splunk",
    "elastic": "Elastic",
    "elasticsearch": "Elastic",
    "opensearch": "Elastic",
}

_TRAILER_MAGIC = b"HGT1"
_START_TIMEOUT_S = 120.0


class ProxyUnavailableError(ConnectionError):
    """No huntglass proxy answers and none could be started."""


class QueryError(RuntimeError):
    """The proxy refused or failed a query.

    ``status`` is the HTTP status (0 for a failure after rows had arrived, whose rows are in
    ``partial``).
    """

    def __init__(self, message: str, status: int = 0, partial: pd.DataFrame | None = None):
        super().__init__(message)
        self.status = status
        self.partial = partial


class QueryWarning(UserWarning):
    """A note about a query result (partial, cut at ``max_rows``, upstream warnings)."""


def runtime_dir() -> Path:
    """Where ``huntglass serve`` writes its token files (same rule as the proxy)."""
    if os.environ.get("HUNTGLASS_RUNTIME_DIR"):
        return Path(os.environ["HUNTGLASS_RUNTIME_DIR"])
    if os.environ.get("XDG_RUNTIME_DIR"):
        return Path(os.environ["XDG_RUNTIME_DIR"]) / "huntglass"
    return Path.home() / ".cache" / "huntglass"


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _binary() -> str | None:
    """Where ``hg.demo`` looks: ``HUNTGLASS_BIN``, PATH, the repository's build."""
    from .demo import _candidate_binaries

    for path in _candidate_binaries():
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return None


class ProxyConnection:
    """One proxy: its URL and token, and HTTP calls to it (one connection per thread)."""

    def __init__(self, url: str, token: str, process: subprocess.Popen | None = None):
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError(f"the proxy URL must be http://127.0.0.1:PORT/, got {url!r}")
        self.url = f"http://{parts.hostname}:{parts.port}/"
        self.host = parts.hostname
        self.port = parts.port
        self._token = token
        self.process = process
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"ProxyConnection({self.url!r})"

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            self._local.conn = conn
        conn.timeout = timeout
        return conn

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        timeout: float | None = 600.0,
    ) -> tuple[int, dict[str, str], bytes]:
        """Sends one API call; returns status, headers and the whole body."""
        status, headers, response = self.open(method, path, body, timeout)
        try:
            payload = response.read()
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            self._drop()
            raise ProxyUnavailableError(
                f"the huntglass proxy at {self.url} broke off its answer ({exc})"
            ) from exc
        return status, headers, payload

    def open(
        self,
        method: str,
        path: str,
        body: Any = None,
        timeout: float | None = 600.0,
    ) -> tuple[int, dict[str, str], http.client.HTTPResponse]:
        """Sends one API call; returns status, headers and the open response.

        Read the response to its end before this thread's next call.
        """
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "*/*"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            conn = self._connection(timeout)
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, response
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                self._drop()
                if attempt == 1 or isinstance(exc, TimeoutError):
                    raise ProxyUnavailableError(
                        f"the huntglass proxy at {self.url} did not answer ({exc})"
                    ) from exc
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def get_json(self, path: str) -> Any:
        """GETs an API path and returns its JSON (raises :class:`QueryError` on an error)."""
        status, _, payload = self.request("GET", path, timeout=60.0)
        return _json_or_raise(status, payload)


def _json_or_raise(status: int, payload: bytes) -> Any:
    try:
        body = json.loads(payload.decode("utf-8")) if payload else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = {"error": payload[:200].decode("utf-8", "replace")}
    if status != 200:
        message = body.get("error") if isinstance(body, dict) else None
        raise QueryError(f"proxy answered {status}: {message or 'no message'}", status=status)
    return body


def _healthy(url: str, token: str) -> bool:
    try:
        conn = ProxyConnection(url, token)
        status, _, _ = conn.request("GET", "/api/health", timeout=5.0)
    except (ProxyUnavailableError, ValueError):
        return False
    return status == 200


def _from_token_files() -> ProxyConnection | None:
    folder = runtime_dir()
    if not folder.is_dir():
        return None
    files = sorted(folder.glob("serve-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in files:
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(info, dict) or not _pid_alive(info.get("pid")):
            continue
        url, token = info.get("url"), info.get("token")
        if isinstance(url, str) and isinstance(token, str) and _healthy(url, token):
            return ProxyConnection(url, token)
    return None


_started: list[subprocess.Popen] = []


def _stop_started() -> None:
    for process in _started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


atexit.register(_stop_started)


def start_proxy(binary: str | None = None, extra_args: Iterable[str] = ()) -> ProxyConnection:
    """Starts ``huntglass serve`` on a free port; it stops when this process exits."""
    binary = binary or _binary()
    if binary is None:
        raise ProxyUnavailableError(
            "no huntglass proxy is running and the `huntglass` command was not found (looked at "
            "HUNTGLASS_BIN, PATH and the repository's build): start `huntglass serve` in a "
            "terminal, or set HUNTGLASS_BIN to the binary"
        )
    token_file = Path(tempfile.mkdtemp(prefix="huntglass-")) / "serve.json"
    args = [
        binary,
        "serve",
        "--port",
        "0",
        "--exit-with-parent",
        "--token-file",
        str(token_file),
        *extra_args,
    ]
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    _started.append(process)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
            raise ProxyUnavailableError(
                f"`huntglass serve` exited with code {process.returncode}: {err.strip()[-2000:]}"
            )
        if token_file.is_file():
            try:
                info = json.loads(token_file.read_text(encoding="utf-8"))
            except ValueError:
                info = None
            if isinstance(info, dict) and _healthy(info["url"], info["token"]):
                # Keep the pipes drained so the server never blocks on a full pipe.
                for stream in (process.stdout, process.stderr):
                    threading.Thread(target=_drain, args=(stream,), daemon=True).start()
                return ProxyConnection(info["url"], info["token"], process)
        time.sleep(0.1)
    process.kill()
    raise ProxyUnavailableError(f"`huntglass serve` did not start within {_START_TIMEOUT_S:.0f} s")


def _drain(stream: Any) -> None:
    if stream is None:
        return
    while stream.read(65536):
        pass


def find_proxy(
    url: str | None = None, token: str | None = None, start: bool = True
) -> ProxyConnection:
    """The proxy to use: explicit, environment, token files, else a newly started one."""
    url = url or os.environ.get("HUNTGLASS_URL")
    token = token or os.environ.get("HUNTGLASS_TOKEN")
    if url and token:
        connection = ProxyConnection(url, token)
        if not _healthy(connection.url, token):
            raise ProxyUnavailableError(
                f"the huntglass proxy at {connection.url} did not accept the token or did not "
                "answer: check the URL and the token printed by `huntglass serve`"
            )
        return connection
    found = _from_token_files()
    if found is not None:
        return found
    if not start:
        raise ProxyUnavailableError(
            f"no running huntglass proxy found (no live token file in {runtime_dir()}); "
            "start `huntglass serve`"
        )
    return start_proxy()


def decode_result(payload: bytes) -> tuple[pa.Table, dict[str, Any]]:
    """Splits a ``/api/query`` body into the Arrow table and the trailer."""
    if len(payload) < 8 or payload[-4:] != _TRAILER_MAGIC:
        raise QueryError("the proxy's answer has no result trailer (an incomplete transfer?)")
    size = int.from_bytes(payload[-8:-4], "little")
    start = len(payload) - 8 - size
    if start < 0:
        raise QueryError("the proxy's result trailer is damaged")
    trailer = json.loads(payload[start : len(payload) - 8].decode("utf-8"))
    view = memoryview(payload)[:start]
    with pa.ipc.open_stream(pa.py_buffer(view)) as reader:
        table = reader.read_all()
    return table, trailer


def read_result(response: Any) -> tuple[pa.Table, dict[str, Any]]:
    """Reads a ``/api/query`` answer from an open response, then its trailer.

    The Arrow stream is read message by message, so the body is never copied whole.
    """
    try:
        with pa.ipc.open_stream(response) as reader:
            table = reader.read_all()
        rest = response.read()
    except pa.ArrowInvalid as exc:
        raise QueryError(f"the proxy's answer is not a complete Arrow stream ({exc})") from exc
    if len(rest) < 8 or rest[-4:] != _TRAILER_MAGIC:
        raise QueryError("the proxy's answer has no result trailer (an incomplete transfer?)")
    size = int.from_bytes(rest[-8:-4], "little")
    if size != len(rest) - 8:
        raise QueryError("the proxy's result trailer is damaged")
    return table, json.loads(rest[:-8].decode("utf-8"))


def _param_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return f"{value.total_seconds():+f}s"
    if isinstance(value, (list, tuple, set, frozenset, pd.Index, pd.Series)):
        return [_param_value(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


class QueryFunction:
    """One library query, callable with its parameters as keyword arguments."""

    def __init__(self, provider: QueryProvider, family: str, info: Mapping[str, Any]):
        self._provider = provider
        self.family = family
        self.name = str(info["name"])
        self.description = str(info.get("description", ""))
        self.parameters: list[dict[str, Any]] = list(info.get("parameters", []))
        self.query_text = str(info.get("query", ""))
        self.data_source = info.get("data_source")
        self.__doc__ = self.help_text()

    @property
    def full_name(self) -> str:
        """``Family.query``."""
        return f"{self.family}.{self.name}"

    def help_text(self) -> str:
        """Description and parameters, as text."""
        lines = [f"{self.full_name}: {self.description}"]
        if self.data_source:
            lines.append(f"Data source: {self.data_source}")
        lines.append("Parameters:")
        for p in self.parameters:
            need = "required" if p.get("required") else f"default {p.get('default')!r}"
            lines.append(f"  {p['name']} ({p['type']}, {need}): {p.get('description', '')}")
        if not self.parameters:
            lines.append("  (none)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<query {self.full_name}>"

    def __call__(self, *args: Any, max_rows: int | None = None, **params: Any) -> Any:
        """Runs the query (``"help"`` prints its help, ``"print"`` returns its text)."""
        if args:
            if args[0] in ("help", "?"):
                print(self.help_text())
                return None
            if args[0] == "print":
                return self.query_text
            raise TypeError(
                f"{self.full_name} takes keyword arguments only (or 'help' / 'print'); "
                f"its parameters: {', '.join(p['name'] for p in self.parameters) or 'none'}"
            )
        return self._provider.run_query(self.full_name, max_rows=max_rows, **params)


class QueryFamily:
    """The queries of one family as attributes."""

    def __init__(self, name: str):
        self._name = name
        self._queries: dict[str, QueryFunction] = {}

    def __getattr__(self, item: str) -> QueryFunction:
        queries = self.__dict__.get("_queries", {})
        if item in queries:
            return queries[item]
        raise AttributeError(
            f"family {self.__dict__.get('_name')} has no query {item!r}; "
            f"its queries: {', '.join(sorted(queries))}"
        )

    def __dir__(self) -> list[str]:
        return sorted(self._queries)

    def __iter__(self):
        return iter(self._queries.values())

    def __repr__(self) -> str:
        return f"<query family {self._name}: {', '.join(sorted(self._queries))}>"


class QueryProvider:
    """Queries of one data provider of the huntglass proxy.

    ``QueryProvider("local")`` queries the built-in scenario and local files with SQL;
    ``"MSSentinel"``, ``"Splunk"`` and ``"Elastic"`` query those platforms through the proxy,
    which holds their credentials (``huntglass.toml`` / ``msticpyconfig.yaml``).
    """

    def __init__(
        self,
        data_environment: str = "local",
        *,
        url: str | None = None,
        token: str | None = None,
        start_proxy: bool = True,
    ):
        if not isinstance(data_environment, str) or not data_environment:
            raise TypeError(
                "QueryProvider: data_environment must be a provider name such as 'local'"
            )
        self.environment = PROVIDER_ALIASES.get(data_environment.lower(), data_environment)
        self._url = url
        self._token = token
        self._start = start_proxy
        self._proxy: ProxyConnection | None = None
        self._families: dict[str, QueryFamily] = {}
        self._queries: dict[str, QueryFunction] = {}
        self.raw_language: str | None = None

    def __repr__(self) -> str:
        state = f"connected to {self._proxy.url}" if self._proxy else "not connected"
        return f"QueryProvider({self.environment!r}, {state}, {len(self._queries)} queries)"

    @property
    def connected(self) -> bool:
        """Whether :meth:`connect` succeeded."""
        return self._proxy is not None

    @property
    def proxy(self) -> ProxyConnection:
        """The proxy connection (after :meth:`connect`)."""
        if self._proxy is None:
            raise QueryError(
                f"QueryProvider({self.environment!r}) is not connected: call qp.connect() first"
            )
        return self._proxy

    def connect(self, **_ignored: Any) -> QueryProvider:
        """Finds (or starts) the proxy and loads this provider's queries."""
        proxy = find_proxy(self._url, self._token, start=self._start)
        listing = proxy.get_json("/api/health")
        names = [p.get("name") for p in listing.get("providers", [])]
        match = next((n for n in names if str(n).lower() == self.environment.lower()), None)
        if match is None:
            raise QueryError(
                f"the proxy at {proxy.url} has no provider {self.environment!r} "
                f"(it has: {', '.join(map(str, names))}); configure it in huntglass.toml or "
                "msticpyconfig.yaml"
            )
        self.environment = str(match)
        body = proxy.get_json(f"/api/queries?provider={quote(self.environment)}")
        provider = body["providers"][0]
        if not provider.get("ready", True):
            raise QueryError(f"provider {self.environment} is not ready: {provider.get('status')}")
        self._proxy = proxy
        self.raw_language = provider.get("raw_language")
        self._families = {}
        self._queries = {}
        for family, queries in sorted(provider.get("families", {}).items()):
            group = QueryFamily(family)
            for info in queries:
                function = QueryFunction(self, family, info)
                group._queries[function.name] = function
                self._queries[function.full_name] = function
            self._families[family] = group
        return self

    def __getattr__(self, item: str) -> QueryFamily:
        families = self.__dict__.get("_families") or {}
        if item in families:
            return families[item]
        if not item.startswith("_") and self.__dict__.get("_proxy") is None:
            raise AttributeError(
                f"{item!r}: the provider is not connected yet, so it has no query families; "
                "call qp.connect() first"
            )
        raise AttributeError(
            f"QueryProvider has no attribute or query family {item!r}"
            + (f"; the families: {', '.join(sorted(families))}" if families else "")
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._families))

    @property
    def families(self) -> dict[str, QueryFamily]:
        """Query families by name."""
        return dict(self._families)

    def list_queries(self, substring: str | None = None) -> list[str]:
        """Sorted ``Family.query`` names, optionally those containing ``substring`` (any case)."""
        self.proxy  # noqa: B018 - raises when not connected
        names = sorted(self._queries)
        if substring:
            names = [n for n in names if substring.lower() in n.lower()]
        return names

    def search(self, pattern: str) -> list[str]:
        """Queries whose name, description, data source or parameters match ``pattern``.

        ``pattern`` is a regular expression, matched without regard to case.
        """
        regex = re.compile(pattern, re.IGNORECASE)
        found = []
        for name, q in self._queries.items():
            fields = [name, q.description, str(q.data_source or "")]
            fields += [p["name"] for p in q.parameters]
            if any(regex.search(f) for f in fields):
                found.append(name)
        return sorted(found)

    def query_help(self, name: str) -> str:
        """The help text of a query (``Family.query`` or a unique ``query``)."""
        return self._query(name).help_text()

    def get_query(self, name: str) -> str:
        """The query text (template) of a query."""
        return self._query(name).query_text

    def _query(self, name: str) -> QueryFunction:
        if name in self._queries:
            return self._queries[name]
        matches = [q for q in self._queries.values() if q.name == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise KeyError(f"{name!r} is ambiguous: {', '.join(q.full_name for q in matches)}")
        raise KeyError(f"no query {name!r}; see qp.list_queries()")

    def run_query(self, name: str, max_rows: int | None = None, **params: Any) -> pd.DataFrame:
        """Runs a library query by name with its parameters; returns a DataFrame."""
        body: dict[str, Any] = {
            "provider": self.environment,
            "query": name,
            "parameters": {k: _param_value(v) for k, v in params.items()},
        }
        if max_rows is not None:
            body["max_rows"] = int(max_rows)
        return self._run(body, name)

    def exec_query(self, query: str, max_rows: int | None = None) -> pd.DataFrame:
        """Runs a raw query in the provider's language (SQL for ``local``)."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError("exec_query: the query text is empty")
        body: dict[str, Any] = {"provider": self.environment, "text": query}
        if max_rows is not None:
            body["max_rows"] = int(max_rows)
        return self._run(body, "raw query")

    def query_arrow(self, body: Mapping[str, Any]) -> tuple[pa.Table, dict[str, Any]]:
        """Runs a request body of ``POST /api/query``; returns the Arrow table and the trailer."""
        proxy = self.proxy
        status, headers, response = proxy.open("POST", "/api/query", dict(body))
        if status != 200 or "arrow" not in headers.get("content-type", ""):
            payload = response.read()
            if status != 200:
                _json_or_raise(status, payload)
            raise QueryError(f"the proxy answered {headers.get('content-type')} instead of Arrow")
        try:
            return read_result(response)
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            proxy._drop()
            raise ProxyUnavailableError(
                f"the huntglass proxy at {proxy.url} broke off its answer ({exc})"
            ) from exc
        except QueryError:
            proxy._drop()
            raise

    def _run(self, body: Mapping[str, Any], what: str) -> pd.DataFrame:
        table, trailer = self.query_arrow(body)
        frame = table.to_pandas()
        frame.attrs["huntglass"] = {"query": what, "provider": self.environment, **trailer}
        for note in trailer.get("notes") or []:
            warnings.warn(f"{what}: {note}", QueryWarning, stacklevel=3)
        if trailer.get("error"):
            raise QueryError(
                f"{what} failed after {trailer.get('rows', 0)} rows: {trailer['error']}",
                partial=frame,
            )
        return frame

    def browse(self, **kwargs: Any) -> Any:
        """The QueryBrowser widget over this provider's queries."""
        from .query_browser import QueryBrowser

        return QueryBrowser(self, **kwargs)
