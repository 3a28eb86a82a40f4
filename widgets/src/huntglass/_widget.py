"""The anywidget base class of every huntglass widget and the kernel side of the data protocol.

The front end (``static/widget.js``) asks for data once per model and page with
``{"type": "hg:hello", "need_wasm": bool, "need_kernel": bool}``. The widget answers every hello:
first the visualization module's bytes when asked (``hg:wasm``), then the engines' module
``hg_kernel.wasm`` when asked (``hg:kernel``; only widgets that run operations in the browser,
:attr:`HgWidget._uses_kernel`, have a ``_kernel_hash`` and ever ask), then every data set as
Arrow IPC stream chunks of at most 8 MiB (``hg:data``, in order). Settings travel as
traitlets; the front end reports the selection as ``{data set name: [row, ...]}`` and
:attr:`HgWidget.selected` maps it back to the input rows.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import pandas as pd
import pyarrow as pa
import traitlets

from ._arrow import PreparedData

#: Where the build puts widget.js, hg_wasm_bg.wasm, hg_kernel.wasm and VERSION.
STATIC_DIR = Path(__file__).parent / "static"
ESM_FILE = "widget.js"
WASM_FILE = "hg_wasm_bg.wasm"
#: The engines' module: run by wasmtime in the kernel, and in the browser for widgets that
#: run operations.
KERNEL_FILE = "hg_kernel.wasm"
VERSION_FILE = "VERSION"

_cache: dict[tuple[str, int, int], Any] = {}
_hashes: dict[tuple[str, int, int, str], str] = {}


class AssetsMissingError(FileNotFoundError):
    """The front-end build outputs (widget.js, the wasm) are not installed."""


def static_dir() -> Path:
    """Directory holding the front-end assets (``HUNTGLASS_STATIC_DIR`` overrides it)."""
    override = os.environ.get("HUNTGLASS_STATIC_DIR")
    return Path(override) if override else STATIC_DIR


def _asset(name: str) -> Path:
    path = static_dir() / name
    if not path.is_file():
        raise AssetsMissingError(
            f"huntglass front-end asset missing: {path} does not exist. Build the front end "
            "with `make build` in the huntglass repository (it writes widget.js, "
            f"{WASM_FILE} and VERSION into {static_dir()}), or install a released wheel."
        )
    return path


def _read_cached(path: Path, binary: bool) -> Any:
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _cache:
        _cache[key] = path.read_bytes() if binary else path.read_text(encoding="utf-8")
    return _cache[key]


def load_esm() -> str:
    """Return the widget bundle source (raises :class:`AssetsMissingError` when not built)."""
    return _read_cached(_asset(ESM_FILE), binary=False)


def load_wasm() -> bytes:
    """Return the browser wasm module bytes (raises :class:`AssetsMissingError` when not built)."""
    return _read_cached(_asset(WASM_FILE), binary=True)


def load_kernel() -> bytes:
    """Return the engines' module bytes, ``hg_kernel.wasm`` (raises :class:`AssetsMissingError`)."""
    return _read_cached(_asset(KERNEL_FILE), binary=True)


def kernel_hash() -> str:
    """Key of the browser's compiled kernel module: the sha256 of ``hg_kernel.wasm`` (16 hex)."""
    path = _asset(KERNEL_FILE)
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, "sha256")
    if key not in _hashes:
        _hashes[key] = hashlib.sha256(load_kernel()).hexdigest()[:16]
    return _hashes[key]


def wasm_hash() -> str:
    """Key of the compiled wasm cache: ``static/VERSION``, else the wasm's sha256 (16 hex)."""
    version = static_dir() / VERSION_FILE
    if version.is_file():
        text = version.read_text(encoding="utf-8").strip()
        if text:
            return text
    return hashlib.sha256(load_wasm()).hexdigest()[:16]


class HgWidget(anywidget.AnyWidget):
    """Base of every huntglass widget: assets, traitlets of the protocol and data delivery.

    Subclasses prepare their data sets (:func:`huntglass._arrow.prepare`) and a ``spec`` and
    pass them to this constructor. A subclass whose front end runs operations (``runOp`` of the
    engines' module) sets :attr:`_uses_kernel`; only its widgets carry a ``_kernel_hash`` and
    send ``hg_kernel.wasm`` to the browser (and into :meth:`save_html` files).
    """

    #: True for widgets whose front end runs operations in the engines' module (hg_kernel.wasm).
    _uses_kernel = False

    _kind = traitlets.Unicode("").tag(sync=True)
    _wasm_hash = traitlets.Unicode("").tag(sync=True)
    _kernel_hash = traitlets.Unicode("").tag(sync=True)
    _datasets = traitlets.List(traitlets.Dict()).tag(sync=True)
    spec = traitlets.Dict().tag(sync=True)
    theme = traitlets.Enum(["auto", "light", "dark"], default_value="auto").tag(sync=True)
    selection = traitlets.Dict().tag(sync=True)
    view_range = traitlets.List(traitlets.Float()).tag(sync=True)
    rendered = traitlets.Int(0).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        *,
        kind: str,
        datasets: Sequence[PreparedData],
        spec: dict[str, Any],
        theme: str = "auto",
        **kwargs: Any,
    ) -> None:
        self._hg_esm = load_esm()
        hash_ = wasm_hash()
        kernel = kernel_hash() if self._uses_kernel else ""
        names = [d.name for d in datasets]
        if len(set(names)) != len(names):
            raise ValueError(f"data set names must be unique, got {names}")
        self._hg_data: dict[str, PreparedData] = {d.name: d for d in datasets}
        super().__init__(
            _kind=kind,
            _wasm_hash=hash_,
            _kernel_hash=kernel,
            _datasets=[
                {"name": d.name, "chunks": len(d.chunks), "bytes": d.stream.size, "rows": d.rows}
                for d in datasets
            ],
            spec=spec,
            theme=theme,
            **kwargs,
        )
        self.on_msg(self._on_custom_msg)

    @property
    def _esm(self) -> str:
        # Read by anywidget's constructor; the bundle is checked when the widget is made.
        return self._hg_esm

    @property
    def datasets(self) -> dict[str, pa.Table]:
        """The normalized Arrow table of each data set, as sent to the front end."""
        return {name: data.table for name, data in self._hg_data.items()}

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "hg:hello":
            self._answer_hello(bool(content.get("need_wasm")), bool(content.get("need_kernel")))

    def _answer_hello(self, need_wasm: bool, need_kernel: bool = False) -> None:
        """Send the modules (each when asked) and every data set's chunks, in order.

        ``need_kernel`` is honoured only for a widget that runs operations (``_kernel_hash``).
        """
        try:
            wasm = load_wasm() if need_wasm else None
            kernel = load_kernel() if need_kernel and self._kernel_hash else None
        except AssetsMissingError as exc:
            self.send({"type": "hg:error", "message": str(exc)})
            return
        if wasm is not None:
            self.send({"type": "hg:wasm", "hash": self._wasm_hash}, [wasm])
        if kernel is not None:
            self.send({"type": "hg:kernel", "hash": self._kernel_hash}, [kernel])
        for data in self._hg_data.values():
            count = len(data.chunks)
            for index, chunk in enumerate(data.chunks):
                self.send(
                    {"type": "hg:data", "name": data.name, "index": index, "count": count},
                    [chunk],
                )

    def selected_rows(self) -> dict[str, list[int]]:
        """The selection as sorted, distinct row positions per data set (validated)."""
        result: dict[str, list[int]] = {}
        for name, rows in (self.selection or {}).items():
            if name not in self._hg_data:
                raise ValueError(
                    f"selection names data set {name!r}, which this widget does not have "
                    f"(it has {list(self._hg_data)})"
                )
            n = self._hg_data[name].rows
            clean = set()
            for row in rows:
                if isinstance(row, bool) or not isinstance(row, int | float) or row != int(row):
                    raise ValueError(f"selection of {name!r}: {row!r} is not a row number")
                if not 0 <= int(row) < n:
                    raise ValueError(f"selection of {name!r}: row {int(row)} is outside 0..{n - 1}")
                clean.add(int(row))
            result[name] = sorted(clean)
        return result

    @property
    def selected(self) -> Any:
        """The selected rows of the input, in the input's flavour where practical.

        One data set: its rows as given (pandas rows keep their index, polars stays polars,
        pyarrow stays a Table, other inputs become pandas). Several: one frame with a first
        column ``dataset`` naming each row's data set (pandas unless all inputs are polars or
        all pyarrow).
        """
        chosen = self.selected_rows()
        parts = [(name, data, chosen.get(name, [])) for name, data in self._hg_data.items()]
        if len(parts) == 1:
            _, data, rows = parts[0]
            return _take(data, rows, data.flavour)
        flavours = {data.flavour for _, data, _ in parts}
        flavour = flavours.pop() if len(flavours) == 1 else "pandas"
        if flavour == "other":
            flavour = "pandas"
        label = "dataset"
        for _, data, _ in parts:
            if label in _columns_of(data):
                label = "hg_dataset"
        frames = [
            _with_label(_take(data, rows, flavour), label, name, flavour)
            for name, data, rows in parts
        ]
        if flavour == "pandas":
            return pd.concat(frames, axis=0)
        if flavour == "polars":
            import polars as pl

            return pl.concat(frames, how="diagonal_relaxed")
        return pa.concat_tables(frames, promote_options="permissive")

    def save_html(self, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
        """Write this widget as one self-contained offline HTML file (see :func:`save_html`)."""
        from ._html import save_html

        return save_html(self, path, title=title)


def _columns_of(data: PreparedData) -> list[str]:
    if data.flavour == "pandas":
        return [str(c) for c in data.original.columns]
    if data.flavour == "polars":
        return list(data.original.columns)
    return list(data.original.schema.names)


def _take(data: PreparedData, rows: list[int], flavour: str) -> Any:
    original = data.original
    if data.flavour == "pandas":
        frame = original.iloc[rows]
        return frame if flavour == "pandas" else pa.Table.from_pandas(frame, preserve_index=False)
    if data.flavour == "polars":
        frame = original[rows] if rows else original.clear()
        if flavour == "polars":
            return frame
        return frame.to_pandas() if flavour == "pandas" else frame.to_arrow()
    table = original if isinstance(original, pa.Table) else pa.Table.from_batches([original])
    taken = table.take(pa.array(rows, type=pa.int64()))
    return taken if flavour == "arrow" else taken.to_pandas()


def _with_label(frame: Any, label: str, name: str, flavour: str) -> Any:
    if flavour == "pandas":
        frame = frame.copy()
        frame.insert(0, label, name)
        return frame
    if flavour == "polars":
        import polars as pl

        return frame.select(pl.lit(name).alias(label), pl.all())
    return frame.add_column(0, label, pa.array([name] * frame.num_rows, type=pa.string()))
