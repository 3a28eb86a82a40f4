"""hg.whois against a real `huntglass serve` whose RDAP bootstrap and registry are a fake on
127.0.0.1: a found network (registration and last-changed dates the right way round, abuse
contact, origin AS from the offline table), a second address of the same network answered
without asking again, 404, a malformed answer, addresses never sent, batching; and the
reference's (MSTICPy 3.0.2) swapped dates on the same RDAP answer, documented."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from test_geo import GEO_DATA, _serve

import huntglass as hg

# The module, not the function `hg.whois` that the package exports under the same name.
hwhois = importlib.import_module("huntglass.whois")

ROOT = Path(__file__).resolve().parents[2]
REF_PYTHON = ROOT / ".venv-ref" / "bin" / "python"

NETWORK = {
    "objectClassName": "ip network",
    "handle": "185.220.101.0 - 185.220.101.255",
    "startAddress": "185.220.101.0",
    "endAddress": "185.220.101.255",
    "ipVersion": "v4",
    "name": "RELAYON-TOR-NET",
    "type": "ASSIGNED PA",
    "country": "DE",
    "cidr0_cidrs": [{"v4prefix": "185.220.101.0", "length": 24}],
    "entities": [
        {
            "objectClassName": "entity",
            "handle": "ORG-RG99-RIPE",
            "roles": ["registrant"],
            "vcardArray": ["vcard", [["fn", {}, "text", "Relayon GmbH"]]],
        },
        {
            "objectClassName": "entity",
            "handle": "AR12345-RIPE",
            "roles": ["abuse"],
            "vcardArray": [
                "vcard",
                [
                    ["fn", {}, "text", "Abuse contact"],
                    ["email", {}, "text", "abuse@relayon.example"],
                ],
            ],
        },
    ],
    "events": [
        {"eventAction": "registration", "eventDate": "2019-03-11T09:20:00Z"},
        {"eventAction": "last changed", "eventDate": "2025-11-02T14:05:31Z"},
    ],
}


class _Rdap(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []
    base: ClassVar[str] = ""

    def do_GET(self) -> None:
        self.seen.append(self.path)
        status, body = 404, {"errorCode": 404, "title": "Not Found"}
        if self.path == "/bootstrap/ipv4.json":
            status, body = (
                200,
                {
                    "version": "1.0",
                    "services": [
                        [["185.0.0.0/8", "81.0.0.0/8"], [f"{self.base}/ripe/"]],
                        [["9.0.0.0/8"], [f"{self.base}/broken/"]],
                    ],
                },
            )
        elif self.path.startswith("/ripe/ip/185.220.101."):
            status, body = 200, NETWORK
        elif self.path.startswith("/broken/"):
            status, body = 200, "<html>maintenance</html>"
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/rdap+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def proxy(huntglass_bin: Path, tmp_path_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Rdap)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Rdap.base = f"http://127.0.0.1:{server.server_address[1]}"
    env = dict(os.environ)
    env["HUNTGLASS_GEO_DATA"] = str(GEO_DATA)
    env["HUNTGLASS_RDAP_BOOTSTRAP"] = f"{_Rdap.base}/bootstrap/ipv4.json"
    env["HUNTGLASS_RDAP_PACE_MS"] = "0"
    env["HUNTGLASS_TI_CACHE"] = "off"
    process, connection = _serve(huntglass_bin, tmp_path_factory.mktemp("whois"), env)
    yield connection
    process.terminate()
    process.wait(timeout=30)
    server.shutdown()


def test_whois_rows(proxy) -> None:
    before = len(_Rdap.seen)
    ips = ["185.220.101.45", "10.0.0.1", "185.220.101.46", "81.2.69.142", "9.9.9.9", "nope"]
    frame = hg.whois(ips, connection=proxy)
    assert list(frame.columns) == hwhois.COLUMNS
    assert list(frame["IP"]) == ips
    found = frame.iloc[0]
    assert found["Status"] == "found"
    assert found["NetworkName"] == "RELAYON-TOR-NET"
    assert found["Country"] == "DE"
    assert found["Registered"] == "2019-03-11T09:20:00Z"
    assert found["LastChanged"] == "2025-11-02T14:05:31Z"
    assert found["AbuseEmail"] == "abuse@relayon.example"
    assert found["Registrant"] == "Relayon GmbH"
    assert found["Range"] == "185.220.101.0 - 185.220.101.255"
    assert found["CIDRs"] == ["185.220.101.0/24"]
    assert found["Reference"] == f"{_Rdap.base}/ripe/ip/185.220.101.45"
    if (GEO_DATA / "asn" / "asn-ipv4.csv").is_file():
        assert found["ASN"] > 0, "origin AS from the offline table"
    assert list(frame["Status"]) == [
        "found",
        "not_public",
        "found",
        "not_found",
        "failed",
        "invalid",
    ]
    assert "malformed RDAP answer" in frame.iloc[4]["Message"]
    # One request for the two addresses of the network, one each for 81.2.69.142 and 9.9.9.9,
    # besides the bootstrap; nothing for the private address.
    asked = [p for p in _Rdap.seen[before:] if "/ip/" in p]
    assert sorted(asked) == [
        "/broken/ip/9.9.9.9",
        "/ripe/ip/185.220.101.45",
        "/ripe/ip/81.2.69.142",
    ]


def test_batches(proxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hwhois, "_CHUNK", 2)
    frame = hg.whois(["185.220.101.1", "10.1.1.1", "192.0.2.1", "185.220.101.1"], connection=proxy)
    assert list(frame["IP"]) == ["185.220.101.1", "10.1.1.1", "192.0.2.1"]
    assert list(frame["Status"]) == ["found", "not_public", "not_public"]
    assert list(frame["Kind"]) == ["public", "private", "documentation"]


REFERENCE_SCRIPT = r"""
import json, sys
from msticpy.context.ip_utils import _create_net
net = _create_net(json.loads(sys.argv[1]))
print(json.dumps({"created": net["created"], "updated": net["updated"]}))
"""


def test_reference_swaps_the_dates(proxy) -> None:
    """MSTICPy 3.0.2's `_create_net` puts the last-changed date in `created` and the
    registration date in `updated`, and keeps only the last event: on this answer (registration
    first, last changed second) it reports created = the last change and updated = None. We
    report each date under its own name."""
    if not REF_PYTHON.is_file():
        pytest.skip("reference venv (.venv-ref) not installed")
    out = subprocess.run(
        [str(REF_PYTHON), "-c", REFERENCE_SCRIPT, json.dumps(NETWORK)],
        check=True,
        capture_output=True,
        text=True,
    )
    ref = json.loads(out.stdout.strip().splitlines()[-1])
    assert ref == {"created": "2025-11-02T14:05:31Z", "updated": None}
    ours = hg.whois("185.220.101.45", connection=proxy).iloc[0]
    assert (ours["Registered"], ours["LastChanged"]) == (
        "2019-03-11T09:20:00Z",
        "2025-11-02T14:05:31Z",
    )
