"""IoC extraction in the kernel: ``hg.ioc.extract``, ``hg.ioc.validate``, ``hg.ioc.type_of``.

Computed by the ``ioc.*`` operations of ``hg_kernel.wasm`` (see :mod:`huntglass._kernel`), so
the results are exactly those of the browser widgets and of ``huntglass ioc``. Keyword names are
the reference's (MSTICPy ``IoCExtract``) where they mean the same: ``ioc_types``,
``include_paths``, ``defanged``, ``ignore_tlds``.

Types: ``ipv4``, ``ipv6``, ``dns``, ``url``, ``email``, ``md5_hash``, ``sha1_hash``,
``sha256_hash``, ``windows_path``, ``linux_path`` (the reference's names) plus ``sha512_hash``,
``cve`` and ``registry_key``; ``file_hash`` (every hash type) and ``hostname`` (``dns``) are
accepted in ``ioc_types`` and ``validate``.

String mode: ``extract("text")`` returns ``{type: sorted list of distinct observables}`` as
written (defanged text stays defanged, as in the reference). Paths are included unless
``include_paths=False`` (the reference ignores ``include_paths`` in string mode).

DataFrame mode: ``extract(df, columns=[...])`` or ``df.hg.ioc(columns=[...])`` return one row per
occurrence with the columns

=============== ==========================================================================
``IoCType``     type name
``Observable``  the text as written (the reference's column)
``Canonical``   refanged value: host and hashes lower case, CVE upper case, ``[.]`` -> ``.``
``SourceIndex`` the source row: the index label for pandas (as the reference), the row
                position for polars and pyarrow
``Column``      the input column the text came from
``Start``       byte offset of ``Observable`` in the cell's UTF-8 text
``End``         byte offset one past its end
``Input``       the whole cell text (the reference's column; ``input_text=False`` leaves it out)
=============== ==========================================================================

Differences from the reference's DataFrame mode, on purpose: every occurrence is a row (the
reference keeps one row per row, type and distinct observable: ``drop_duplicates(["SourceIndex",
"IoCType", "Observable"])`` gives that); null cells are skipped (the reference raises
``TypeError``); non-text columns are scanned as their text; ``include_paths=True`` adds both
path types (the reference never adds ``linux_path`` unless listed, because its pattern is noisy).
The result is a pandas DataFrame for pandas input, a polars DataFrame for polars input and a
pyarrow Table otherwise.

Large inputs are sent in batches of ``batch_rows`` rows; ``progress(rows_done, rows_total)`` is
called after each batch, and each batch is logged at INFO level on the ``huntglass`` logger when
there is more than one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _kernel
from ._arrow import column_names, flavour_of, is_frame_like, missing_column_error, to_arrow_table

__all__ = ["IOC_TYPES", "extract", "extract_df", "type_of", "validate"]

#: The type names the extractor reports, in the reference's order then the added ones.
IOC_TYPES = (
    "ipv4",
    "ipv6",
    "dns",
    "url",
    "email",
    "windows_path",
    "linux_path",
    "md5_hash",
    "sha1_hash",
    "sha256_hash",
    "sha512_hash",
    "cve",
    "registry_key",
)

#: Rows sent to the kernel per call in DataFrame mode.
DEFAULT_BATCH_ROWS = 100_000

#: Output columns of the ``ioc.extract`` operation.
OP_COLUMNS = ("IoCType", "Observable", "Canonical", "SourceIndex", "Column", "Start", "End")

_log = logging.getLogger("huntglass")

Progress = Callable[[int, int], None]


def _options(
    ioc_types: str | Sequence[str] | None,
    include_paths: bool,
    defanged: bool,
    ignore_tlds: bool,
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "include_paths": bool(include_paths),
        "defanged": bool(defanged),
        "ignore_tlds": bool(ignore_tlds),
    }
    if ioc_types is not None:
        options["types"] = [ioc_types] if isinstance(ioc_types, str) else list(ioc_types)
    return options


def extract(
    src: Any = None,
    data: Any = None,
    columns: str | Sequence[str] | None = None,
    *,
    ioc_types: str | Sequence[str] | None = None,
    include_paths: bool | None = None,
    defanged: bool = True,
    ignore_tlds: bool = False,
    input_text: bool = True,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
) -> Any:
    """Find indicators in a string (dict result) or in columns of a DataFrame (table result).

    ``extract("text")`` -> ``{type: [observable, ...]}``; ``extract(df, columns=[...])`` (or
    ``extract(data=df, columns=[...])``) -> one row per occurrence (see the module docs).
    ``include_paths`` defaults to True for a string and False for a DataFrame (the reference's
    DataFrame default); a path type listed in ``ioc_types`` is always reported.
    """
    if isinstance(src, str) and data is None:
        if columns is not None:
            raise TypeError("extract: columns applies to a DataFrame, not to a string")
        return _extract_text(
            src,
            _options(
                ioc_types, True if include_paths is None else include_paths, defanged, ignore_tlds
            ),
        )
    if src is not None and data is not None:
        raise TypeError("extract: pass either a string / DataFrame as src or a DataFrame as data")
    frame = data if data is not None else src
    if frame is None:
        raise TypeError("extract: give a string to scan or a DataFrame and its columns")
    if not is_frame_like(frame):
        raise TypeError(
            "extract: expected a string, a pandas or polars DataFrame or a pyarrow Table; got "
            f"{type(frame).__module__}.{type(frame).__name__}"
        )
    if columns is None:
        raise ValueError(
            "extract: columns is required with a DataFrame; the columns are: "
            + (", ".join(repr(c) for c in column_names(frame)) if _listable(frame) else "?")
        )
    if batch_rows < 1:
        raise ValueError(f"extract: batch_rows must be at least 1, got {batch_rows}")
    names = [columns] if isinstance(columns, str) else list(dict.fromkeys(columns))
    options = _options(ioc_types, bool(include_paths), defanged, ignore_tlds)
    return _extract_frame(frame, names, options, input_text, batch_rows, progress)


def extract_df(data: Any, columns: str | Sequence[str], **kwargs: Any) -> Any:
    """DataFrame mode of :func:`extract` (the reference's ``extract_df``)."""
    return extract(data=data, columns=columns, **kwargs)


def _listable(frame: Any) -> bool:
    try:
        column_names(frame)
    except TypeError:
        return False
    return True


def _extract_text(text: str, options: dict[str, Any]) -> dict[str, list[str]]:
    table = pa.table({"Text": pa.array([text], type=pa.string())})
    found = _kernel.call("ioc.extract", {**options, "columns": ["Text"]}, table)
    by_type: dict[str, set[str]] = {}
    for ioc_type, observable in zip(
        found.column("IoCType").to_pylist(), found.column("Observable").to_pylist(), strict=True
    ):
        by_type.setdefault(ioc_type, set()).add(observable)
    order = {name: i for i, name in enumerate(IOC_TYPES)}
    return {t: sorted(by_type[t]) for t in sorted(by_type, key=lambda t: order.get(t, len(order)))}


def _text_column(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as a string type hg_arrow reads (strings and string dictionaries as they are)."""
    type_ = values.type
    if isinstance(type_, pa.ExtensionType):
        values = pa.chunked_array([c.storage for c in values.chunks], type_.storage_type)
        type_ = values.type
    string_types = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    if any(is_type(type_) for is_type in string_types):
        return values
    if pa.types.is_dictionary(type_):
        if any(is_type(type_.value_type) for is_type in string_types):
            return values
        values = pa.chunked_array([c.dictionary_decode() for c in values.chunks], type_.value_type)
    try:
        return values.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.chunked_array(
            [
                pa.array([None if v is None else str(v) for v in c.to_pylist()], pa.string())
                for c in values.chunks
            ],
            pa.string(),
        )


def _input_table(frame: Any, columns: list[str]) -> pa.Table:
    what = "ioc.extract"
    if isinstance(frame, pd.DataFrame):
        available = [str(c) for c in frame.columns]
        for column in columns:
            if column not in available:
                raise ValueError(missing_column_error(column, available, what=what))
        by_name = {str(c): c for c in frame.columns}
        arrays = []
        for column in columns:
            series = frame[by_name[column]]
            if isinstance(series, pd.DataFrame):
                raise ValueError(f"{what}: column {column!r} appears more than once")
            try:
                arrays.append(pa.chunked_array([pa.array(series, from_pandas=True)]))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                # Mixed object columns: scan each value's text.
                text = [None if pd.isna(v) else str(v) for v in series.tolist()]
                arrays.append(pa.chunked_array([pa.array(text, pa.string())]))
        table = pa.table(arrays, names=columns)
    else:
        table = to_arrow_table(frame, what=what)
        for column in columns:
            if column not in table.schema.names:
                raise ValueError(missing_column_error(column, table.schema.names, what=what))
        table = table.select(columns)
    return pa.table([_text_column(table.column(c)) for c in columns], names=columns)


def _extract_frame(
    frame: Any,
    columns: list[str],
    options: dict[str, Any],
    input_text: bool,
    batch_rows: int,
    progress: Progress | None,
) -> Any:
    flavour = flavour_of(frame)
    table = _input_table(frame, columns)
    total = table.num_rows
    options = {**options, "columns": columns}
    batches = max(1, -(-total // batch_rows))
    parts: list[pa.Table] = []
    started = time.monotonic()
    for number, offset in enumerate(range(0, max(total, 1), batch_rows), start=1):
        part = _kernel.call("ioc.extract", options, table.slice(offset, batch_rows))
        if offset:
            shifted = pc.add(part.column("SourceIndex"), pa.scalar(offset, pa.int64()))
            part = part.set_column(3, part.schema.field(3), shifted)
        parts.append(part)
        done = min(offset + batch_rows, total)
        if progress is not None:
            progress(done, total)
        if batches > 1:
            _log.info(
                "ioc.extract: batch %d of %d, %d of %d rows (%.0f%%), %.1f s",
                number,
                batches,
                done,
                total,
                100.0 * done / max(total, 1),
                time.monotonic() - started,
            )
    result = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    result = result.combine_chunks()
    if input_text:
        result = result.append_column("Input", _cell_texts(table, columns, result))
    if flavour == "pandas":
        out = result.to_pandas()
        index = frame.index
        is_default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
        if not is_default and len(out):
            out["SourceIndex"] = index.take(out["SourceIndex"].to_numpy())
        return out
    if flavour == "polars":
        import polars as pl

        return pl.from_arrow(result)
    return result


def _cell_texts(table: pa.Table, columns: list[str], result: pa.Table) -> pa.ChunkedArray:
    """The source cell of every result row (all input columns stacked, then one ``take``)."""
    if result.num_rows == 0:
        return pa.chunked_array([], pa.large_string())
    stacked = pa.chunked_array(
        [
            chunk.cast(pa.large_string())
            if not pa.types.is_dictionary(chunk.type)
            else chunk.dictionary_decode().cast(pa.large_string())
            for c in columns
            for chunk in table.column(c).chunks
        ],
        pa.large_string(),
    )
    position = pc.index_in(result.column("Column"), value_set=pa.array(columns))
    rows = pa.scalar(table.num_rows, pa.int64())
    flat = pc.add(pc.multiply(position.cast(pa.int64()), rows), result.column("SourceIndex"))
    return stacked.take(flat)


def _one_value(value: str, what: str) -> pa.Table:
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected a string, got {type(value).__name__}")
    return pa.table({"Value": pa.array([value], type=pa.string())})


def validate(value: str, ioc_type: str, ignore_tlds: bool = False, defanged: bool = True) -> bool:
    """Whether the whole of ``value`` is one indicator of ``ioc_type``.

    ``dns`` needs a known public suffix unless ``ignore_tlds``; with ``defanged=False`` a
    defanged value (``bad[.]com``) is not valid. An unknown type raises ``ValueError``.
    """
    options = {"ioc_type": ioc_type, "ignore_tlds": bool(ignore_tlds), "defanged": bool(defanged)}
    out = _kernel.call("ioc.validate", options, _one_value(value, "validate"))
    return bool(out.column("Valid")[0].as_py())


def type_of(value: str, *, defanged: bool = True, ignore_tlds: bool = False) -> str:
    """The type of ``value`` if the whole of it is one indicator, else ``"unknown"``."""
    options = {"defanged": bool(defanged), "ignore_tlds": bool(ignore_tlds)}
    out = _kernel.call("ioc.type_of", options, _one_value(value, "type_of"))
    return str(out.column("IoCType")[0].as_py())
