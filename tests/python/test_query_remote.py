"""hg.QueryProvider("MSSentinel" | "Splunk" | "Elastic") through a real `huntglass serve`.

The proxy reads an msticpyconfig.yaml in the reference's layout (workspaces under the top-level
``AzureSentinel`` section, credentials under ``DataProviders`` as ``EnvironmentVar`` entries) and
talks to a fake Log Analytics / Entra / Splunk / Elasticsearch upstream on 127.0.0.1 that answers
with the documented response shapes and records what it was sent.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs

import pandas as pd
import pytest
from conftest import serving

import huntglass as hg
from huntglass import query as hq

TENANT = "72a4c1d0-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
WORKSPACE = "0b6f3d2c-9a41-4e8b-8f7d-1c2e3a4b5c6d"
CLIENT_ID = "3f0c7a2e-58d1-4c6b-9e2a-6b1f0d4c8a11"
CLIENT_SECRET = "az-Client-Secret-py01"
SPLUNK_TOKEN = "splunk-Token-py02"
ES_PASSWORD = "es-Password-py03"
ACCESS_TOKEN = "eyJ.access.token-py04"
SECRETS = [CLIENT_SECRET, SPLUNK_TOKEN, ES_PASSWORD, ACCESS_TOKEN]


class Upstream(BaseHTTPRequestHandler):
    """Log Analytics, its token authority, Splunk's export endpoint and Elasticsearch in one."""

    seen: ClassVar[list[dict]] = []

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _answer(self, status: int, body: object, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        auth = self.headers.get("Authorization", "")
        path = self.path.split("?")[0]
        self.seen.append({"method": self.command, "path": path, "auth": auth, "body": body})
        route = (self.command, path)
        if route == ("POST", f"/{TENANT}/oauth2/v2.0/token"):
            form = parse_qs(body)
            if form.get("client_secret") != [CLIENT_SECRET]:
                return self._answer(401, {"error": "invalid_client"})
            return self._answer(
                200, {"token_type": "Bearer", "expires_in": 3599, "access_token": ACCESS_TOKEN}
            )
        if route == ("POST", f"/v1/workspaces/{WORKSPACE}/query"):
            if auth != f"Bearer {ACCESS_TOKEN}":
                return self._answer(401, {"error": {"code": "InvalidAuthenticationToken"}})
            return self._answer(
                200,
                {
                    "tables": [
                        {
                            "name": "PrimaryResult",
                            "columns": [
                                {"name": "TimeGenerated", "type": "datetime"},
                                {"name": "Computer", "type": "string"},
                                {"name": "EventID", "type": "int"},
                                {"name": "CommandLine", "type": "string"},
                                {"name": "AdditionalInfo", "type": "dynamic"},
                            ],
                            "rows": [
                                [
                                    "2026-06-30T10:00:00Z",
                                    "WS7.contoso.example",
                                    4688,
                                    "powershell -enc SQBFAFgA",
                                    {"parent": "cmd.exe"},
                                ],
                                [
                                    "2026-06-30T10:05:00Z",
                                    "WS7.contoso.example",
                                    4688,
                                    "whoami /all",
                                    None,
                                ],
                            ],
                        }
                    ]
                },
            )
        if route == ("POST", "/services/search/v2/jobs/export"):
            if auth != f"Bearer {SPLUNK_TOKEN}":
                return self._answer(
                    401, {"messages": [{"type": "WARN", "text": "call not properly authenticated"}]}
                )
            lines = [
                {
                    "preview": False,
                    "offset": 0,
                    "result": {
                        "_time": "2026-06-30T10:00:00.000+00:00",
                        "host": "WS7",
                        "EventCode": "4688",
                        "New_Process_Name": "C:\\Windows\\System32\\whoami.exe",
                    },
                },
                {
                    "preview": False,
                    "offset": 1,
                    "lastrow": True,
                    "messages": [{"type": "WARN", "text": "Search results might be incomplete"}],
                    "result": {
                        "_time": "2026-06-30T10:01:00.000+00:00",
                        "host": "WS7",
                        "EventCode": "4688",
                        "New_Process_Name": "C:\\Windows\\System32\\net.exe",
                    },
                },
            ]
            return self._answer(200, "\n".join(json.dumps(x) for x in lines).encode())
        if route == ("GET", "/logs-*/_mapping"):
            return self._answer(
                200,
                {
                    "logs-1": {
                        "mappings": {
                            "properties": {
                                "@timestamp": {"type": "date"},
                                "host": {"properties": {"name": {"type": "keyword"}}},
                                "event": {"properties": {"code": {"type": "keyword"}}},
                            }
                        }
                    }
                },
            )
        if route == ("POST", "/logs-*/_pit"):
            return self._answer(200, {"id": "pit-a"})
        if route == ("DELETE", "/_pit"):
            return self._answer(200, {"succeeded": True})
        if route == ("POST", "/_search"):
            hit = {
                "_index": "logs-1",
                "_id": "a1",
                "_source": {
                    "@timestamp": "2026-06-30T10:00:00Z",
                    "host": {"name": "ws7"},
                    "event": {"code": "4688"},
                },
                "sort": [1, 0],
            }
            return self._answer(
                200,
                {
                    "took": 1,
                    "timed_out": False,
                    "_shards": {"total": 1, "successful": 1, "failed": 0},
                    "hits": {"hits": [hit]},
                },
            )
        if route == ("POST", "/_sql"):
            return self._answer(
                200,
                {
                    "columns": [
                        {"name": "host.name", "type": "keyword"},
                        {"name": "n", "type": "long"},
                    ],
                    "rows": [["ws7", 12]],
                },
            )
        return self._answer(404, {"error": {"type": "not_found", "reason": f"{route}"}})

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()


@pytest.fixture(scope="module")
def upstream():
    Upstream.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", Upstream.seen
    finally:
        server.shutdown()
        server.server_close()


MSTICPYCONFIG = """\
AzureSentinel:
  Workspaces:
    Default:
      WorkspaceId: "{ws}"
      TenantId: "{tenant}"
      AuthorityUri: "{url}"
      LogAnalyticsUri: "{url}"
DataProviders:
  AzureCLI:
    Args:
      clientId: "{client}"
      clientSecret:
        EnvironmentVar: HG_TEST_AZ_SECRET
      tenantId: "{tenant}"
  Splunk:
    Args:
      host: "{url}"
      bearer_token:
        EnvironmentVar: HG_TEST_SPLUNK_TOKEN
  Elastic:
    Args:
      url: "{url}"
      username: analyst
      password:
        EnvironmentVar: HG_TEST_ES_PASSWORD
      index: "logs-*"
"""


@pytest.fixture(scope="module")
def remote_proxy(
    huntglass_bin: Path, demo_scenario: Path, upstream, tmp_path_factory: pytest.TempPathFactory
):
    """`huntglass serve` configured through MSTICPYCONFIG; yields (token-file info, log path)."""
    url, _seen = upstream
    work = tmp_path_factory.mktemp("remote")
    config = work / "msticpyconfig.yaml"
    config.write_text(
        MSTICPYCONFIG.format(ws=WORKSPACE, tenant=TENANT, url=url, client=CLIENT_ID),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "MSTICPYCONFIG": str(config),
        "HG_TEST_AZ_SECRET": CLIENT_SECRET,
        "HG_TEST_SPLUNK_TOKEN": SPLUNK_TOKEN,
        "HG_TEST_ES_PASSWORD": ES_PASSWORD,
    }
    env.pop("HUNTGLASS_CONFIG", None)
    log = work / "serve.log"
    with serving(
        huntglass_bin, demo_scenario, work / "serve.json", env=env, cwd=work, log=log
    ) as info:
        yield info, log


def _provider(info: dict, name: str) -> hg.QueryProvider:
    return hg.QueryProvider(name, url=info["url"], token=info["token"]).connect()


def test_sentinel_named_query_from_the_msticpyconfig_layout(remote_proxy, upstream) -> None:
    info, _log = remote_proxy
    _url, seen = upstream
    qp = _provider(info, "AzureSentinel")
    assert qp.environment == "MSSentinel"
    assert qp.raw_language == "kql"
    assert "WindowsSecurity.list_host_processes" in qp.list_queries()
    frame = qp.WindowsSecurity.list_host_processes(
        host_name="WS7'", start=pd.Timestamp("2026-06-30T00:00Z"), end="2026-07-01T00:00:00Z"
    )
    assert list(frame.columns) == [
        "TimeGenerated",
        "Computer",
        "EventID",
        "CommandLine",
        "AdditionalInfo",
    ]
    assert len(frame) == 2
    assert str(frame["TimeGenerated"].dtype).startswith("datetime64")
    assert frame["TimeGenerated"].iloc[0] == pd.Timestamp("2026-06-30T10:00:00Z")
    assert frame["EventID"].tolist() == [4688, 4688]
    assert json.loads(frame["AdditionalInfo"].iloc[0]) == {"parent": "cmd.exe"}
    token_request = next(s for s in seen if s["path"].endswith("/oauth2/v2.0/token"))
    assert parse_qs(token_request["body"])["client_id"] == [CLIENT_ID]
    query = next(s for s in seen if s["path"].endswith("/query"))
    kql = json.loads(query["body"])["query"]
    assert "Computer =~ 'WS7\\''" in kql, kql
    assert "datetime(2026-06-30T00:00:00.000000000Z)" in kql, kql
    assert query["auth"] == f"Bearer {ACCESS_TOKEN}"


def test_splunk_named_query_and_its_warning(remote_proxy, upstream) -> None:
    info, _log = remote_proxy
    _url, seen = upstream
    qp = _provider(info, "Splunk")
    with pytest.warns(hq.QueryWarning, match="Search results might be incomplete"):
        frame = qp.WindowsSecurity.list_host_processes(
            host_name="WS7", start="2026-06-30", end="2026-07-01"
        )
    assert len(frame) == 2
    assert frame["New_Process_Name"].tolist() == [
        "C:\\Windows\\System32\\whoami.exe",
        "C:\\Windows\\System32\\net.exe",
    ]
    export = [s for s in seen if s["path"].endswith("/jobs/export")][-1]
    search = parse_qs(export["body"])["search"][0]
    assert 'host="WS7"' in search, search
    assert "earliest=1782777600" in search, search


def test_elastic_dsl_and_raw_sql(remote_proxy, upstream) -> None:
    info, _log = remote_proxy
    _url, seen = upstream
    qp = _provider(info, "OpenSearch")
    assert qp.environment == "Elastic"
    frame = qp.WindowsSecurity.list_host_processes(host_name="ws7")
    assert list(frame.columns) == ["_index", "_id", "@timestamp", "event.code", "host.name"]
    assert frame["host.name"].tolist() == ["ws7"]
    body = json.loads(next(s for s in seen if s["path"] == "/_search")["body"])
    assert body["pit"]["id"] == "pit-a"
    counts = qp.exec_query('SELECT host.name, COUNT(*) AS n FROM "logs-*" GROUP BY host.name')
    assert counts.to_dict("records") == [{"host.name": "ws7", "n": 12}]


def test_no_secret_reaches_a_response_or_the_log(remote_proxy) -> None:
    info, log = remote_proxy
    qp = _provider(info, "local")
    health = json.dumps(qp.proxy.get_json("/api/health"))
    queries = json.dumps(qp.proxy.get_json("/api/queries"))
    for text in (health, queries, log.read_text(errors="replace")):
        for secret in SECRETS:
            assert secret not in text


def test_unconfigured_provider_says_what_to_configure(
    huntglass_bin: Path, demo_scenario: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MSTICPYCONFIG", "HUNTGLASS_CONFIG")}
    with (
        serving(
            huntglass_bin, demo_scenario, tmp_path / "serve.json", idle_s=60, env=env, cwd=tmp_path
        ) as info,
        pytest.raises(hq.QueryError, match=r"not ready: .*DataProviders\.Splunk"),
    ):
        _provider(info, "Splunk")
