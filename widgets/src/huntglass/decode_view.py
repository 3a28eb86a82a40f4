"""The DecodeView widget: each record's decode tree, layer by layer.

``hg.DecodeView(df, column="CommandLine")``, ``df.hg.decode_view(column=...)`` or
``hg.DecodeView("some text")`` show, for every record with encoded content, its layers (the
chain of encodings, size, md5/sha1/sha256, a text or hex preview, the indicators found in the
layer highlighted), expandable and collapsible per layer and all at once, with copy buttons
for decoded text and hashes. Clicking a record's header selects it; ``widget.selected`` returns
those rows of the input. Records are shown a page at a time, so 10,000 records stay
responsive.

Decoding runs in the browser through the same ``decode.unpack`` operation as
:func:`huntglass.decode.unpack`, in the very same module (``hg_kernel.wasm``), with the same
keywords; a layer's indicators are those of ``hg.decode.unpack(..., iocs=True)``. Only the
column is sent (as text), in the input's row order, so the selection maps back by position.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from ._arrow import (
    PreparedData,
    column_names,
    compact_text,
    flavour_of,
    is_frame_like,
    split_chunks,
    to_arrow_table,
    to_ipc_stream,
)
from ._widget import HgWidget
from .decode import LIMITS, _input_table

#: Name of the one data set a DecodeView sends.
DATASET = "records"

#: Column holding the text when the input is a string.
TEXT_COLUMN = "Text"

DEFAULT_HEIGHT = 480


def _records(data: Any, column: str | None) -> tuple[PreparedData, str]:
    if isinstance(data, str):
        if column is not None:
            raise TypeError("DecodeView: column applies to a DataFrame, not to a string")
        table = pa.table({TEXT_COLUMN: pa.array([data], type=pa.string())})
        name = TEXT_COLUMN
        flavour, original = "arrow", table
    else:
        if not is_frame_like(data):
            raise TypeError(
                "DecodeView: expected a string, a pandas or polars DataFrame or a pyarrow Table; "
                f"got {type(data).__module__}.{type(data).__name__}"
            )
        if column is None:
            raise ValueError(
                "DecodeView: column is required with a DataFrame; the columns are: "
                + ", ".join(repr(c) for c in column_names(data))
            )
        name = column
        flavour = flavour_of(data)
        original = data
        if flavour == "polars" and hasattr(data, "collect") and not hasattr(data, "to_arrow"):
            original = data = data.collect()
        elif flavour == "other":
            original = data = to_arrow_table(data, what="DecodeView")
        table = _input_table(data, name)
    values = table.column(name)
    if pa.types.is_large_string(values.type):
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowCapacityError):
            values = values.cast(pa.string())
    texts = pa.table([compact_text(values)], names=[name])
    stream = to_ipc_stream(texts)
    prepared = PreparedData(
        name=DATASET,
        table=texts,
        stream=stream,
        flavour=flavour,
        original=original,
        chunks=split_chunks(stream),
    )
    return prepared, name


class DecodeView(HgWidget):
    """Every record's decode tree: chain of encodings, size, hashes, preview, IoCs per layer.

    ``data`` is a string, or a DataFrame (pandas, polars, pyarrow, anything with
    ``__arrow_c_stream__``) with the text ``column``. ``utf16``, ``reference_mode``,
    ``disable`` and the limits (``max_depth=...``, see :data:`huntglass.decode.LIMITS`) mean
    what they mean for :func:`huntglass.decode.unpack`. ``height`` is the records pane's
    height in CSS pixels. ``widget.selected`` is the input's rows whose header was clicked.
    """

    #: The front end runs ``decode.unpack`` and ``ioc.extract`` in the engines' module.
    _uses_kernel = True

    def __init__(
        self,
        data: Any,
        column: str | None = None,
        *,
        utf16: bool | str | None = None,
        reference_mode: bool = False,
        disable: str | Sequence[str] | None = None,
        title: str = "Decoded content",
        height: int | None = None,
        theme: str = "auto",
        **limits: Any,
    ) -> None:
        if height is not None and (
            isinstance(height, bool) or not isinstance(height, int | float) or height < 120
        ):
            raise ValueError(
                f"DecodeView: height must be a number of pixels of at least 120, got {height!r}"
            )
        if not isinstance(title, str):
            raise TypeError(f"DecodeView: title must be a string, got {type(title).__name__}")
        options: dict[str, Any] = {"reference_mode": bool(reference_mode)}
        if isinstance(utf16, bool):
            options["utf16"] = "always" if utf16 else "never"
        elif utf16 in ("auto", "always", "never"):
            options["utf16"] = utf16
        elif utf16 is not None:
            raise ValueError(
                f"DecodeView: utf16 must be True, False, 'auto', 'always' or 'never', got {utf16!r}"
            )
        if disable is not None:
            options["disable"] = [disable] if isinstance(disable, str) else list(disable)
        for key, value in limits.items():
            if key not in LIMITS:
                raise TypeError(
                    f"DecodeView: unknown keyword {key!r}; limits are " + ", ".join(sorted(LIMITS))
                )
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"DecodeView: {key} must be a whole number, got {value!r}")
            options[key] = value
        prepared, name = _records(data, column)
        spec = {
            "dataset": DATASET,
            "column": name,
            "options": options,
            "title": title,
            "height": float(height) if height is not None else float(DEFAULT_HEIGHT),
        }
        super().__init__(kind="decode_view", datasets=[prepared], spec=spec, theme=theme)


def decode_view(data: Any, column: str | None = None, **kwargs: Any) -> DecodeView:
    """A :class:`DecodeView` of ``data`` (a string, or a DataFrame and its ``column``)."""
    return DecodeView(data, column, **kwargs)
