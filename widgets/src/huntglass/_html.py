"""One self-contained, offline HTML file of a widget: bundle, wasm, data and state inlined.

Everything that comes from code or data (the bundle, the visualization wasm, the engines' module
``hg_kernel.wasm`` for widgets that run operations only, the basemap for maps only, each data
set's Arrow stream and the widget state as JSON) is base64 text inside
``<script type="application/octet-stream">`` blocks, which the browser never parses as HTML or
runs; the only other text, the page title, is HTML-escaped. A small module loader decodes the
blocks, imports the bundle from a blob URL (so the page works from ``file://``) and calls its
``mountStandalone(el, {state, wasm, kernel, basemap, datasets})``.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._widget import load_esm, load_kernel, load_wasm

if TYPE_CHECKING:
    from ._widget import HgWidget

#: Traitlets of the widget state handed to the standalone host (the synced protocol state).
STATE_KEYS = (
    "_kind",
    "_wasm_hash",
    "_kernel_hash",
    "_datasets",
    "spec",
    "theme",
    "selection",
    "view_range",
    "rendered",
    "error",
)

_LOADER = """
const block = (id) => document.getElementById(id).textContent;
const bytes = (id) => {
  const text = atob(block(id).replace(/\\s+/g, ""));
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
};
const root = document.getElementById("hg-root");
try {
  const code = new TextDecoder().decode(bytes("hg-bundle"));
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const bundle = await import(url);
  const state = JSON.parse(new TextDecoder().decode(bytes("hg-state")));
  const datasets = {};
  state._datasets.forEach((d, i) => { datasets[d.name] = bytes("hg-data-" + i); });
  const optional = (id) => (document.getElementById(id) ? bytes(id) : undefined);
  const kernel = optional("hg-kernel");
  const basemap = optional("hg-basemap");
  await bundle.mountStandalone(root, { state, wasm: bytes("hg-wasm"), kernel, basemap, datasets });
} catch (err) {
  const box = document.createElement("pre");
  box.className = "hg-error";
  const reason = err && err.message ? err.message : String(err);
  box.textContent = "huntglass could not render this widget: " + reason;
  root.appendChild(box);
  throw err;
}
"""

_STYLE = """
body { margin: 0; padding: 16px; font-family: system-ui, sans-serif; }
@media (prefers-color-scheme: dark) { body { background: #111; color: #ddd; } }
#hg-root { width: 100%; }
.hg-error { color: #b00020; white-space: pre-wrap; }
"""


def _b64(data: bytes | memoryview) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _block(block_id: str, payload: bytes | memoryview) -> str:
    return f'<script type="application/octet-stream" id="{block_id}">{_b64(payload)}</script>\n'


def render_html(widget: HgWidget, *, title: str | None = None) -> str:
    """Return the standalone HTML page of ``widget`` as text."""
    state: dict[str, Any] = {key: getattr(widget, key) for key in STATE_KEYS}
    state_json = json.dumps(state, ensure_ascii=False, allow_nan=False)
    page_title = title if title is not None else str(widget.spec.get("title") or "huntglass")
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{html.escape(page_title)}</title>\n",
        f"<style>{_STYLE}</style>\n</head>\n<body>\n",
        '<div id="hg-root"></div>\n',
        _block("hg-bundle", load_esm().encode("utf-8")),
        _block("hg-wasm", load_wasm()),
    ]
    if widget._kernel_hash:
        parts.append(_block("hg-kernel", load_kernel()))
    if getattr(widget, "_basemap_hash", ""):
        # A GeoMap draws its countries from the basemap asset: inlined like the wasm.
        from .geo_map import load_basemap

        parts.append(_block("hg-basemap", load_basemap()))
    parts.append(_block("hg-state", state_json.encode("utf-8")))
    for index, data in enumerate(widget._hg_data.values()):
        parts.append(_block(f"hg-data-{index}", data.stream))
    parts.append(f'<script type="module">{_LOADER}</script>\n</body>\n</html>\n')
    return "".join(parts)


def save_html(widget: HgWidget, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Write ``widget`` as one self-contained HTML file that renders offline; return the path.

    ``title`` (default: the widget's title) becomes the page title.
    """
    target = Path(path)
    text = render_html(widget, title=title)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target
