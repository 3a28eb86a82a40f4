"""save_html: one offline file, data only as base64, text escaped, loader calls mountStandalone."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
import subprocess

import pandas as pd
import pytest
from conftest import FAKE_ESM, FAKE_KERNEL, FAKE_WASM

import huntglass as hg

HOSTILE = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'
BLOCK = re.compile(r'<script type="application/octet-stream" id="([a-z0-9-]+)">([^<]*)</script>')


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "TimeGenerated": pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC"),
            "CommandLine": [HOSTILE, "cmd.exe /c whoami", HOSTILE + "&amp;"],
            "Computer": [HOSTILE, "b", "c"],
        }
    )


def blocks(text: str) -> dict[str, bytes]:
    return {name: base64.b64decode(body, validate=True) for name, body in BLOCK.findall(text)}


def test_file_inlines_everything_as_base64_and_never_the_raw_data(assets, tmp_path):
    alerts = pd.DataFrame(
        {"TimeGenerated": pd.to_datetime(["2024-01-01 01:30"], utc=True), "AlertName": [HOSTILE]}
    )
    widget = hg.Timeline(
        {"Processes": hostile_frame(), "More": hostile_frame()},
        source_columns=["CommandLine"],
        group_by="Computer",
        ref_events=alerts,
        ref_col="AlertName",
        title="<b>Evil</b> & </title>",
    )
    path = widget.save_html(tmp_path / "timeline.html")
    text = path.read_text(encoding="utf-8")

    assert HOSTILE not in text
    assert "onerror" not in text
    assert "<b>Evil</b>" not in text
    assert f"<title>{html.escape('<b>Evil</b> & </title>')}</title>" in text

    found = blocks(text)
    assert set(found) == {"hg-bundle", "hg-wasm", "hg-state", "hg-data-0", "hg-data-1"}
    assert found["hg-bundle"].decode() == FAKE_ESM
    assert found["hg-wasm"] == FAKE_WASM
    assert found["hg-data-0"] == widget._hg_data["Processes"].stream.to_pybytes()
    assert found["hg-data-1"] == widget._hg_data["More"].stream.to_pybytes()
    state = json.loads(found["hg-state"])
    assert state["spec"] == widget.spec
    assert state["spec"]["ref_markers"][0]["label"] == HOSTILE
    assert [d["name"] for d in state["_datasets"]] == ["Processes", "More"]
    assert state["_kind"] == "timeline"
    assert state["_wasm_hash"] == "0123456789abcdef"

    # Nothing is fetched: no external script, stylesheet or URL outside the bundle.
    assert " src=" not in text
    assert "<link" not in text
    assert "http://" not in text
    assert "https://" not in text
    loader = text.split('<script type="module">', 1)[1]
    assert (
        'mountStandalone(root, { state, wasm: bytes("hg-wasm"), kernel, basemap, datasets })'
        in loader
    )
    assert 'id="hg-basemap"' not in text, "only maps carry the basemap"
    assert 'URL.createObjectURL(new Blob([code], { type: "text/javascript" }))' in loader
    assert state["_kernel_hash"] == "", "a Timeline runs no operations"


def test_engines_module_is_inlined_only_for_widgets_that_run_operations(assets, tmp_path):
    timeline = blocks(hg.Timeline(hostile_frame()).save_html(tmp_path / "t.html").read_text())
    assert "hg-kernel" not in timeline
    view = hg.IocView(hostile_frame(), columns=["CommandLine"])
    found = blocks(view.save_html(tmp_path / "i.html").read_text(encoding="utf-8"))
    assert set(found) == {"hg-bundle", "hg-wasm", "hg-kernel", "hg-state", "hg-data-0"}
    assert found["hg-kernel"] == FAKE_KERNEL
    state = json.loads(found["hg-state"])
    assert state["_kernel_hash"] == hashlib.sha256(FAKE_KERNEL).hexdigest()[:16]
    (assets / "hg_kernel.wasm").unlink()
    with pytest.raises(hg.AssetsMissingError, match="hg_kernel.wasm"):
        view.save_html(tmp_path / "j.html")


def test_module_function_and_custom_title(assets, tmp_path):
    widget = hg.Timeline(hostile_frame(), title="Spec title")
    path = hg.save_html(widget, tmp_path / "a.html", title="Report <1>")
    text = path.read_text(encoding="utf-8")
    assert "<title>Report &lt;1&gt;</title>" in text
    default = hg.save_html(widget, tmp_path / "b.html").read_text(encoding="utf-8")
    assert "<title>Spec title</title>" in default


def test_missing_assets_are_reported(assets, tmp_path):
    widget = hg.Timeline(hostile_frame())
    (assets / "hg_wasm_bg.wasm").unlink()
    with pytest.raises(hg.AssetsMissingError, match="make build"):
        widget.save_html(tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


PROBE_ESM = """
export default { render() {} };
export async function mountStandalone(el, { state, wasm, datasets }) {
  const sizes = Object.fromEntries(Object.entries(datasets).map(([k, v]) => [k, v.length]));
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    title: state.spec.title, kind: state._kind, wasm: wasm.length,
    wasmIsBytes: wasm instanceof Uint8Array, sizes,
  });
  el.appendChild(out);
  return { model: null, cleanup() {} };
}
"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs /usr/bin/chromium")
def test_page_loads_the_bundle_from_file_url_in_chromium(assets, tmp_path):
    (assets / "widget.js").write_text(PROBE_ESM, encoding="utf-8")
    widget = hg.Timeline({"P": hostile_frame(), "Q": hostile_frame().head(1)}, title="Probe")
    path = widget.save_html(tmp_path / "probe.html")
    result = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r'<pre id="probe">([^<]*)</pre>', result.stdout)
    assert match, result.stdout[-2000:] + result.stderr[-2000:]
    probe = json.loads(html.unescape(match.group(1)))
    assert probe == {
        "title": "Probe",
        "kind": "timeline",
        "wasm": len(FAKE_WASM),
        "wasmIsBytes": True,
        "sizes": {
            "P": widget._hg_data["P"].stream.size,
            "Q": widget._hg_data["Q"].stream.size,
        },
    }
