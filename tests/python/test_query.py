"""hg.QueryProvider against a real `huntglass serve` process on the built-in scenario."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from conftest import serving

import huntglass as hg
from huntglass import query as hq


@pytest.fixture(scope="module")
def proxy(huntglass_bin: Path, demo_scenario: Path, tmp_path_factory: pytest.TempPathFactory):
    """A proxy serving the scenario; yields its token file's content."""
    token_file = tmp_path_factory.mktemp("run") / "serve.json"
    with serving(huntglass_bin, demo_scenario, token_file) as info:
        yield info


@pytest.fixture
def qp(proxy: dict) -> hg.QueryProvider:
    return hg.QueryProvider("local", url=proxy["url"], token=proxy["token"]).connect()


def scenario_table(demo_scenario: Path, name: str) -> pd.DataFrame:
    with pa.OSFile(str(demo_scenario / f"{name}.arrow"), "rb") as source:
        return pa.ipc.open_stream(source).read_all().to_pandas()


def test_list_queries_by_family(qp: hg.QueryProvider) -> None:
    names = qp.list_queries()
    assert names == sorted(names)
    for expected in [
        "WindowsSecurity.list_host_processes",
        "WindowsSecurity.list_logons_for_account",
        "SecurityAlert.list_alerts",
        "Dns.list_dns_for_domain",
        "Office365.list_activity_for_user",
        "Network.list_flows_by_ip",
    ]:
        assert expected in names
    assert qp.list_queries("logon") == [n for n in names if "logon" in n.lower()]
    assert "host_name (str, required)" in qp.query_help("list_host_processes")
    assert "SELECT" in qp.get_query("WindowsSecurity.list_host_processes")
    assert "WindowsSecurity.list_host_processes" in qp.search("host_name")
    assert "WindowsSecurity" in dir(qp)


def test_named_query_returns_the_scenario_rows(qp: hg.QueryProvider, demo_scenario: Path) -> None:
    events = scenario_table(demo_scenario, "SecurityEvent")
    expected = events[events["Computer"] == "LRK-WS104"]
    frame = qp.WindowsSecurity.list_host_processes(host_name="LRK-WS104")
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == len(expected) > 100
    assert list(frame.columns) == list(events.columns)
    assert (frame["Computer"] == "LRK-WS104").all()
    assert str(frame["TimeGenerated"].dtype).startswith("datetime64[ns, UTC]")
    assert frame["TimeGenerated"].is_monotonic_increasing
    assert sorted(frame["NewProcessId"]) == sorted(expected["NewProcessId"])
    assert frame.attrs["huntglass"]["complete"] is True


def test_datetime_and_list_parameters(qp: hg.QueryProvider, demo_scenario: Path) -> None:
    start = dt.datetime(2026, 11, 4, 9, 41)
    end = pd.Timestamp("2026-11-04T09:50:00Z")
    frame = qp.WindowsSecurity.list_host_processes(host_name="LRK-WS104", start=start, end=end)
    assert 5 < len(frame) < 100
    assert frame["TimeGenerated"].min() >= pd.Timestamp(start, tz="UTC")
    assert frame["TimeGenerated"].max() < end
    assert frame["CommandLine"].str.contains("-enc").any()
    alerts = qp.SecurityAlert.list_alerts_by_severity(severities=["High"])
    assert len(alerts) > 0
    assert (alerts["AlertSeverity"] == "High").all()
    dns = qp.Dns.list_dns_for_domain(domain="telemetry-sync.example.net")
    table = scenario_table(demo_scenario, "DnsEvents")
    assert len(dns) == int((table["Name"] == "telemetry-sync.example.net").sum()) > 100


def test_values_are_data_not_sql(qp: hg.QueryProvider) -> None:
    frame = qp.WindowsSecurity.list_host_processes(host_name="x' OR '1'='1")
    assert len(frame) == 0


def test_exec_query_runs_sql(qp: hg.QueryProvider, demo_scenario: Path) -> None:
    frame = qp.exec_query(
        "SELECT Computer, count(*) AS n FROM SecurityEvent GROUP BY Computer ORDER BY Computer"
    )
    events = scenario_table(demo_scenario, "SecurityEvent")
    counts = events.groupby("Computer").size()
    assert dict(zip(frame["Computer"], frame["n"], strict=True)) == counts.to_dict()
    with pytest.raises(hq.QueryError, match="SQL") as info:
        qp.exec_query("COPY (SELECT 1) TO '/tmp/x.csv'")
    assert info.value.status == 422


def test_errors_are_clear(qp: hg.QueryProvider) -> None:
    with pytest.raises(hq.QueryError, match="host_name") as info:
        qp.WindowsSecurity.list_host_processes()
    assert info.value.status == 400
    with pytest.raises(hq.QueryError, match="hots"):
        qp.WindowsSecurity.list_host_processes(host_name="a", hots="b")
    with pytest.raises(AttributeError, match="no query 'nope'"):
        qp.WindowsSecurity.nope  # noqa: B018
    with pytest.raises(AttributeError, match="families"):
        qp.Nope  # noqa: B018
    with pytest.raises(TypeError, match="keyword"):
        qp.WindowsSecurity.list_host_processes("LRK-WS104")


def test_max_rows_warns_and_keeps_the_trailer(qp: hg.QueryProvider) -> None:
    with pytest.warns(hq.QueryWarning, match="max_rows = 10"):
        frame = qp.exec_query("SELECT * FROM SecurityEvent", max_rows=10)
    assert len(frame) == 10
    assert frame.attrs["huntglass"]["truncated"] is True


def test_help_and_print_modifiers(qp: hg.QueryProvider, capsys: pytest.CaptureFixture) -> None:
    assert qp.WindowsSecurity.list_host_processes("help") is None
    assert "host_name" in capsys.readouterr().out
    assert "FROM SecurityEvent" in qp.WindowsSecurity.list_host_processes("print")


def test_not_connected_is_explained() -> None:
    fresh = hg.QueryProvider("local")
    with pytest.raises(AttributeError, match=r"qp\.connect\(\)"):
        fresh.WindowsSecurity  # noqa: B018
    with pytest.raises(hq.QueryError, match="not connected"):
        fresh.list_queries()


def test_unknown_provider_and_wrong_token(proxy: dict) -> None:
    with pytest.raises(hq.QueryError, match="no provider 'Nowhere'"):
        hg.QueryProvider("Nowhere", url=proxy["url"], token=proxy["token"]).connect()
    with pytest.raises(hq.ProxyUnavailableError, match="token"):
        hg.QueryProvider("local", url=proxy["url"], token="0" * 64).connect()


def test_finds_a_running_proxy_through_its_token_file(
    huntglass_bin: Path, demo_scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "runtime"
    env = {**os.environ, "HUNTGLASS_RUNTIME_DIR": str(run_dir)}
    process = subprocess.Popen(
        [str(huntglass_bin), "serve", "--port", "0", "--data", str(demo_scenario)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(run_dir.glob("serve-*.json")) and time.monotonic() < deadline:
            assert process.poll() is None
            time.sleep(0.1)
        files = list(run_dir.glob("serve-*.json"))
        assert len(files) == 1
        assert files[0].stat().st_mode & 0o777 == 0o600
        monkeypatch.setenv("HUNTGLASS_RUNTIME_DIR", str(run_dir))
        monkeypatch.delenv("HUNTGLASS_URL", raising=False)
        monkeypatch.delenv("HUNTGLASS_TOKEN", raising=False)
        qp = hg.QueryProvider("LocalData", start_proxy=False).connect()
        assert qp.environment == "local"
        assert qp.proxy.process is None
        assert len(qp.SecurityAlert.list_alerts()) > 0
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not list(run_dir.glob("serve-*.json")), "the token file is removed at exit"


def test_starts_a_proxy_when_none_runs(
    huntglass_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUNTGLASS_RUNTIME_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("HUNTGLASS_BIN", str(huntglass_bin))
    monkeypatch.delenv("HUNTGLASS_URL", raising=False)
    monkeypatch.delenv("HUNTGLASS_TOKEN", raising=False)
    qp = hg.QueryProvider("local").connect()
    process = qp.proxy.process
    assert process is not None
    assert process.poll() is None
    try:
        frame = qp.Office365.list_activity_for_user(user="MBennett@larkspur-labs.com")
        assert len(frame) > 0
        assert (frame["UserId"].str.lower() == "mbennett@larkspur-labs.com").all()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_unreachable_proxy_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNTGLASS_RUNTIME_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("HUNTGLASS_BIN", raising=False)
    monkeypatch.delenv("HUNTGLASS_URL", raising=False)
    monkeypatch.delenv("CARGO_TARGET_DIR", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    monkeypatch.setattr(hg.demo, "_REPO_ROOT", tmp_path / "repo")
    with pytest.raises(hq.ProxyUnavailableError, match="huntglass serve"):
        hg.QueryProvider("local").connect()
    with pytest.raises(
        hq.ProxyUnavailableError, match="did not accept the token or did not answer"
    ):
        hg.QueryProvider("local", url="http://127.0.0.1:9/", token="x").connect()
    with pytest.raises(ValueError, match="127.0.0.1"):
        hg.QueryProvider("local", url="http://example.com:80/", token="x").connect()


def test_query_browser_runs_queries_in_the_kernel(
    qp: hg.QueryProvider, assets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = qp.browse()
    assert browser._kind == "query_browser"
    families = browser.spec["families"]
    assert {"WindowsSecurity", "SecurityAlert", "Dns", "Office365", "Network"} <= set(families)
    entry = next(q for q in families["WindowsSecurity"] if q["name"] == "list_host_processes")
    assert any(p["name"] == "host_name" and p["required"] for p in entry["parameters"])
    sent: list[dict] = []
    monkeypatch.setattr(browser, "send", lambda content, buffers=None: sent.append(content))
    browser._on_custom_msg(
        browser,
        {
            "type": "hg:run_query",
            "id": 3,
            "query": "WindowsSecurity.list_host_processes",
            "parameters": {"host_name": "LRK-WS104", "start": "2026-11-04T09:41:00Z"},
        },
        [],
    )
    assert sent[-1]["type"] == "hg:query_result"
    assert sent[-1]["id"] == 3
    assert sent[-1]["error"] is None
    assert sent[-1]["rows"] == len(browser.result) > 0
    assert len(sent[-1]["preview"]) == min(50, len(browser.result))
    assert "CommandLine" in sent[-1]["columns"]
    browser._on_custom_msg(
        browser,
        {
            "type": "hg:run_query",
            "id": 4,
            "query": "WindowsSecurity.list_host_processes",
            "parameters": {},
        },
        [],
    )
    assert "host_name" in sent[-1]["error"]
    # From code: the query and values chosen in the widget, overridable.
    browser.query = "Dns.list_dns_for_domain"
    browser.parameters = {"domain": "microsoft.com", "start": ""}
    frame = browser.run()
    assert len(frame) > 0
    assert frame.equals(browser.result)
    # A sub-domain's queries are some of its parent domain's.
    assert 0 < len(browser.run(domain="teams.microsoft.com")) < len(frame)
