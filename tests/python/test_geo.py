"""hg.geo against a real `huntglass serve` process on the installed offline data (build/geo,
written by scripts/setup.sh): address kinds, country and ASN, batching, the DataFrame join, and
the proxy's refusal without data."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

import huntglass as hg
from huntglass import geo as hgeo
from huntglass.query import ProxyConnection

ROOT = Path(__file__).resolve().parents[2]
GEO_DATA = ROOT / "build" / "geo"


def _serve(binary: Path, folder: Path, env: dict) -> tuple[subprocess.Popen, ProxyConnection]:
    token_file = folder / "serve.json"
    process = subprocess.Popen(
        [
            str(binary),
            "serve",
            "--port",
            "0",
            "--exit-after-idle",
            "300",
            "--token-file",
            str(token_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"huntglass serve exited: {process.stderr.read().decode()}")
        if token_file.is_file():
            try:
                info = json.loads(token_file.read_text())
                return process, ProxyConnection(info["url"], info["token"])
            except (ValueError, KeyError):
                pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError("huntglass serve wrote no token file")


def _env(data: Path) -> dict:
    env = dict(os.environ)
    env["HUNTGLASS_GEO_DATA"] = str(data)
    env["HUNTGLASS_TI_CACHE"] = "off"
    env.pop("HUNTGLASS_GEO_CITY_MMDB", None)
    return env


@pytest.fixture(scope="module")
def proxy(huntglass_bin: Path, tmp_path_factory):
    if not (GEO_DATA / "iptoasn-country" / "iptoasn-country.mmdb").is_file():
        if os.environ.get("CI"):
            raise AssertionError(f"geo data missing in {GEO_DATA} (scripts/setup.sh)")
        pytest.skip(f"geo data not installed in {GEO_DATA} (scripts/setup.sh)")
    process, connection = _serve(huntglass_bin, tmp_path_factory.mktemp("geo"), _env(GEO_DATA))
    yield connection
    process.terminate()
    process.wait(timeout=30)


def test_lookup_reports_country_asn_and_kind(proxy: ProxyConnection) -> None:
    ips = ["8.8.8.8", "203.0.113.77", "10.1.2.3", "not-an-ip", "81.2.69.142", "8.8.8.8", None]
    frame = hg.geo.lookup(ips, connection=proxy)
    assert list(frame.columns) == hgeo.COLUMNS  # no city database: no city columns
    assert list(frame["IP"]) == ["8.8.8.8", "203.0.113.77", "10.1.2.3", "not-an-ip", "81.2.69.142"]
    by_ip = frame.set_index("IP")
    assert by_ip.loc["8.8.8.8", "Kind"] == "public"
    assert by_ip.loc["8.8.8.8", "CountryCode"] == "US"
    assert by_ip.loc["8.8.8.8", "CountryName"] == "United States"
    assert by_ip.loc["8.8.8.8", "ASN"] == 15169
    assert "GOOGLE" in str(by_ip.loc["8.8.8.8", "ASOrg"]).upper()
    assert by_ip.loc["81.2.69.142", "CountryCode"] == "GB"
    assert by_ip.loc["203.0.113.77", "Kind"] == "documentation"
    assert by_ip.loc["203.0.113.77", "KindDescription"] == "documentation (not routable)"
    assert pd.isna(by_ip.loc["203.0.113.77", "CountryCode"])
    assert pd.isna(by_ip.loc["203.0.113.77", "ASN"])
    assert by_ip.loc["10.1.2.3", "Kind"] == "private"
    assert by_ip.loc["not-an-ip", "Kind"] == "invalid"
    assert str(frame["ASN"].dtype) == "Int64"
    assert any("CC BY 4.0" in line for line in frame.attrs["huntglass_geo"]["attribution"])


def test_ipv6_and_unlisted_public_space(proxy: ProxyConnection) -> None:
    frame = hg.geo.lookup(["2001:4860:4860::8888", "::1", "fe80::1"], connection=proxy)
    assert list(frame["Kind"]) == ["public", "loopback", "link-local"]
    assert frame.loc[0, "CountryCode"] == "US"
    assert frame.loc[0, "ASN"] == 15169


def test_batches_many_addresses(proxy: ProxyConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hgeo, "_CHUNK", 1000)
    ips = [f"8.8.{i // 256}.{i % 256}" for i in range(2500)] + ["10.0.0.1"]
    frame = hg.geo.lookup(ips, connection=proxy)
    assert len(frame) == 2501
    assert list(frame["IP"]) == ips
    assert (frame["Kind"].iloc[:2500] == "public").all()
    assert frame["Kind"].iloc[-1] == "private"


def test_accessor_joins_onto_the_frame(proxy: ProxyConnection) -> None:
    frame = pd.DataFrame(
        {"IpAddress": ["8.8.8.8", None, " 10.0.0.7 ", "8.8.8.8"], "n": [1, 2, 3, 4]},
        index=[10, 11, 12, 13],
    )
    joined = frame.hg.geo("IpAddress", connection=proxy)
    assert list(joined.index) == [10, 11, 12, 13]
    assert list(joined.columns[:2]) == ["IpAddress", "n"]
    assert list(joined["CountryCode"].fillna("-")) == ["US", "-", "-", "US"]
    assert list(joined["GeoKind"].fillna("-")) == ["public", "-", "private", "public"]
    assert joined.loc[13, "ASN"] == 15169
    with pytest.raises(KeyError, match="nope"):
        frame.hg.geo("nope", connection=proxy)
    with pytest.raises(ValueError, match="CountryCode"):
        joined.hg.geo("IpAddress", connection=proxy)


def test_refused_without_data(huntglass_bin: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-geo"
    empty.mkdir()
    process, connection = _serve(huntglass_bin, tmp_path, _env(empty))
    try:
        with pytest.raises(hgeo.GeoError, match="409.*no geolocation data"):
            hg.geo.lookup(["8.8.8.8"], connection=connection)
    finally:
        process.terminate()
        process.wait(timeout=30)
