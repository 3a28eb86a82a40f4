"""Recursive decoding of encoded content in the kernel: ``hg.decode.unpack``.

Computed by the ``decode.unpack`` operation of ``hg_kernel.wasm`` (see :mod:`huntglass._kernel`),
so the results are exactly those of the DecodeView widget and of ``huntglass decode``. Every
layer (base64, URL-safe base64, hex, percent-encoding, char-code arrays, UTF-16LE text,
gzip/zlib/deflate, zip and tar members) is one row, parents before children, within limits
(depth 20, 64 MiB of output per input, expansion ratio 100, 1,000 archive members, 10,000 rows
per input; all are keywords).

String mode: ``unpack("text")`` returns a pandas DataFrame with the reference's twelve columns
(MSTICPy's base64 unpacking: ``reference`` (a 3-tuple), ``original_string``, ``file_name``,
``file_type``, ``input_bytes``, ``decoded_string``, ``encoding_type``, ``file_hashes`` (dict),
``md5``, ``sha1``, ``sha256``, ``printable_bytes``) followed by ours: ``layer`` (the path in the
decode tree, ``1.2``), ``parent_layer``, ``depth``, ``chain`` (``base64 > gzip``), ``size``,
``span_start`` / ``span_end`` (byte offsets of ``original_string`` in the text it was found in),
``stopped_by`` (the limit that stopped a layer) and ``error`` (what was wrong with a malformed
layer). The display string (the input with every decoded candidate replaced by a
``<decoded ...>`` tag, the first value of the reference's ``unpack``) is
``result.attrs["full_decoded_string"]``.

DataFrame mode: ``unpack(df, column="CommandLine")`` or ``df.hg.decode(column=...)`` adds the
reference's ``src_index`` (the index label for pandas, the row position otherwise), the source
column and ``full_decoded_string``. Rows without decodable content give no rows. pandas in,
pandas out; polars in, polars out; a pyarrow Table otherwise.

``iocs=True`` returns :class:`DecodeResult` ``(layers, iocs)``: ``iocs`` has one row per
indicator found in a layer's decoded text (``ioc.extract``'s defaults), with ``src_index`` (in
DataFrame mode), ``layer``, ``IoCType``, ``Observable``, ``Canonical``, ``Start`` and ``End``
(byte offsets in that layer's ``decoded_string``).

Differences from the reference, on purpose (``tests/cases/decode`` records each): every
occurrence of a repeated candidate is its own row; nested rows name their real parent; archive
members and ``.gz`` members are expanded; zlib and raw deflate are inflated; UTF-16LE is read as
text when it looks like it (``utf16=True`` / ``False`` are the reference's "always" / its
default "never"; ``None``, the default, means "auto", or "never" with ``reference_mode``); hex,
percent and char codes are decoded. ``reference_mode=True`` turns all of that off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _kernel
from ._arrow import column_names, flavour_of, is_frame_like, missing_column_error, to_arrow_table

__all__ = ["LIMITS", "DecodeResult", "unpack"]

#: Rows sent to the kernel per call in DataFrame mode.
DEFAULT_BATCH_ROWS = 20_000

#: The limit keywords (the operation's options) and their defaults.
LIMITS = {
    "max_depth": 20,
    "max_total_output_bytes": 64 * 1024 * 1024,
    "max_expansion_ratio": 100,
    "expansion_floor_bytes": 1024 * 1024,
    "max_archive_members": 1000,
    "max_member_size": 16 * 1024 * 1024,
    "max_records": 10_000,
    "max_preview_bytes": 64 * 1024,
}

#: The reference's string-mode columns, in its order.
REFERENCE_COLUMNS = (
    "reference",
    "original_string",
    "file_name",
    "file_type",
    "input_bytes",
    "decoded_string",
    "encoding_type",
    "file_hashes",
    "md5",
    "sha1",
    "sha256",
    "printable_bytes",
)

#: Our columns after the reference's.
LAYER_COLUMNS = (
    "layer",
    "parent_layer",
    "depth",
    "chain",
    "size",
    "span_start",
    "span_end",
    "stopped_by",
    "error",
)

_IOC_LISTS = ("ioc_type", "ioc_observable", "ioc_canonical", "ioc_start", "ioc_end")
_IOC_NAMES = ("IoCType", "Observable", "Canonical", "Start", "End")

_log = logging.getLogger("huntglass")

Progress = Callable[[int, int], None]


class DecodeResult(NamedTuple):
    """``unpack(..., iocs=True)``: the layers and the indicators found in their text."""

    layers: Any
    iocs: Any


def _options(
    utf16: bool | str | None,
    reference_mode: bool,
    min_base64_len: int | None,
    disable: str | Sequence[str] | None,
    limits: dict[str, Any],
) -> dict[str, Any]:
    options: dict[str, Any] = {"reference_mode": bool(reference_mode)}
    if isinstance(utf16, bool):
        options["utf16"] = "always" if utf16 else "never"
    elif isinstance(utf16, str):
        options["utf16"] = utf16
    elif utf16 is not None:
        raise TypeError(
            f"unpack: utf16 must be True, False, 'auto', 'always' or 'never': {utf16!r}"
        )
    if min_base64_len is not None:
        options["min_base64_len"] = min_base64_len
    if disable is not None:
        options["disable"] = [disable] if isinstance(disable, str) else list(disable)
    for key, value in limits.items():
        if key not in LIMITS:
            raise TypeError(
                f"unpack: unknown keyword {key!r}; limits are " + ", ".join(sorted(LIMITS))
            )
        options[key] = value
    return options


def unpack(
    src: Any = None,
    data: Any = None,
    column: str | None = None,
    *,
    iocs: bool = False,
    utf16: bool | str | None = None,
    reference_mode: bool = False,
    min_base64_len: int | None = None,
    disable: str | Sequence[str] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
    **limits: Any,
) -> Any:
    """Decode every encoded layer of a string, or of each cell of ``column`` of a DataFrame.

    ``unpack("text")`` -> DataFrame of layers (display string in ``.attrs``);
    ``unpack(df, column="CommandLine")`` (or ``data=df``) -> layers with ``src_index``, the
    source column and ``full_decoded_string``; with ``iocs=True`` a :class:`DecodeResult`.
    Limits (``max_depth=...`` and the other :data:`LIMITS`) apply to each input text.
    """
    options = _options(utf16, reference_mode, min_base64_len, disable, limits)
    if iocs:
        options["iocs"] = True
    if isinstance(src, str) and data is None:
        if column is not None:
            raise TypeError("unpack: column applies to a DataFrame, not to a string")
        return _unpack_text(src, options, iocs)
    if src is not None and data is not None:
        raise TypeError("unpack: pass either a string / DataFrame as src or a DataFrame as data")
    frame = data if data is not None else src
    if frame is None:
        raise TypeError("unpack: give a string to decode or a DataFrame and its column")
    if not is_frame_like(frame):
        raise TypeError(
            "unpack: expected a string, a pandas or polars DataFrame or a pyarrow Table; got "
            f"{type(frame).__module__}.{type(frame).__name__}"
        )
    if column is None:
        raise ValueError(
            "unpack: column is required with a DataFrame; the columns are: "
            + ", ".join(repr(c) for c in column_names(frame))
        )
    if batch_rows < 1:
        raise ValueError(f"unpack: batch_rows must be at least 1, got {batch_rows}")
    return _unpack_frame(frame, column, options, iocs, batch_rows, progress)


def _iocs_table(layers: pa.Table, with_src: bool) -> pa.Table:
    """One row per indicator from the per-layer list columns."""
    if layers.num_rows == 0:
        fields = [pa.field("src_index", pa.int64())] if with_src else []
        fields += [pa.field("layer", pa.string())]
        fields += [pa.field(n, pa.string()) for n in _IOC_NAMES[:3]]
        fields += [pa.field(n, pa.int64()) for n in _IOC_NAMES[3:]]
        return pa.schema(fields).empty_table()
    lists = layers.column("ioc_type").combine_chunks()
    parents = pc.list_parent_indices(lists)
    columns: dict[str, Any] = {}
    if with_src:
        columns["src_index"] = layers.column("src_index").take(parents)
    columns["layer"] = layers.column("layer").take(parents)
    for source, name in zip(_IOC_LISTS, _IOC_NAMES, strict=True):
        columns[name] = pc.list_flatten(layers.column(source).combine_chunks())
    return pa.table(columns)


#: Text columns that may be null: None there (as the reference), not pandas' NaN.
_NULLABLE_TEXT = ("file_type", "decoded_string", "parent_layer", "stopped_by", "error")


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    if "reference" in frame.columns:
        frame["reference"] = [tuple(r) for r in frame["reference"]]
    for name in _NULLABLE_TEXT:
        if name in frame.columns:
            column = frame[name].astype(object)
            frame[name] = column.where(column.notna(), None)
    return frame


def _unpack_text(text: str, options: dict[str, Any], iocs: bool) -> Any:
    table = pa.table({"Text": pa.array([text], type=pa.string())})
    out = _kernel.call("decode.unpack", {**options, "column": "Text"}, table)
    full = out.column("full_decoded_string")[0].as_py() if out.num_rows else text
    layers = out.select([*REFERENCE_COLUMNS, *LAYER_COLUMNS])
    frame = _to_pandas(layers)
    frame.attrs["full_decoded_string"] = full
    if not iocs:
        return frame
    found = _iocs_table(out, with_src=False).to_pandas()
    return DecodeResult(frame, found)


def _input_table(frame: Any, column: str) -> pa.Table:
    what = "decode.unpack"
    if isinstance(frame, pd.DataFrame):
        available = [str(c) for c in frame.columns]
        if column not in available:
            raise ValueError(missing_column_error(column, available, what=what))
        series = frame[{str(c): c for c in frame.columns}[column]]
        if isinstance(series, pd.DataFrame):
            raise ValueError(f"{what}: column {column!r} appears more than once")
        try:
            values = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            values = pa.array(
                [None if pd.isna(v) else str(v) for v in series.tolist()], pa.string()
            )
        table = pa.table([values], names=[column])
    else:
        table = to_arrow_table(frame, what=what)
        if column not in table.schema.names:
            raise ValueError(missing_column_error(column, table.schema.names, what=what))
        table = table.select([column])
    values = table.column(column)
    type_ = values.type
    if pa.types.is_dictionary(type_):
        values = pa.chunked_array([c.dictionary_decode() for c in values.chunks], type_.value_type)
        type_ = values.type
    if not (pa.types.is_string(type_) or pa.types.is_large_string(type_)):
        try:
            values = values.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = pa.chunked_array(
                [
                    pa.array([None if v is None else str(v) for v in c.to_pylist()], pa.string())
                    for c in values.chunks
                ],
                pa.string(),
            )
    return pa.table([values], names=[column])


def _unpack_frame(
    frame: Any,
    column: str,
    options: dict[str, Any],
    iocs: bool,
    batch_rows: int,
    progress: Progress | None,
) -> Any:
    flavour = flavour_of(frame)
    table = _input_table(frame, column)
    total = table.num_rows
    options = {**options, "column": column}
    batches = max(1, -(-total // batch_rows))
    parts: list[pa.Table] = []
    started = time.monotonic()
    for number, offset in enumerate(range(0, max(total, 1), batch_rows), start=1):
        part = _kernel.call("decode.unpack", options, table.slice(offset, batch_rows))
        if offset and part.num_rows:
            at = part.schema.get_field_index("src_index")
            shifted = pc.add(part.column(at), pa.scalar(offset, pa.int64()))
            part = part.set_column(at, part.schema.field(at), shifted)
        parts.append(part)
        done = min(offset + batch_rows, total)
        if progress is not None:
            progress(done, total)
        if batches > 1:
            _log.info(
                "decode.unpack: batch %d of %d, %d of %d rows, %.1f s",
                number,
                batches,
                done,
                total,
                time.monotonic() - started,
            )
    result = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    found = _iocs_table(result, with_src=True) if iocs else None
    layers = result.select(
        [*REFERENCE_COLUMNS, "src_index", column, "full_decoded_string", *LAYER_COLUMNS]
    )
    if flavour == "pandas":
        out = _to_pandas(layers)
        index = frame.index
        is_default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
        found_pd = found.to_pandas() if found is not None else None
        if not is_default and len(out):
            out["src_index"] = index.take(out["src_index"].to_numpy())
            if found_pd is not None and len(found_pd):
                found_pd["src_index"] = index.take(found_pd["src_index"].to_numpy())
        return DecodeResult(out, found_pd) if iocs else out
    if flavour == "polars":
        import polars as pl

        pl_layers = pl.from_arrow(layers)
        return DecodeResult(pl_layers, pl.from_arrow(found)) if iocs else pl_layers
    return DecodeResult(layers, found) if iocs else layers
