"""Input normalization: any DataFrame-like value to the Arrow IPC stream the widgets read.

Every widget takes pandas (2.x and 3.x), polars, pyarrow Tables / RecordBatches / readers, or any
object exporting ``__arrow_c_stream__`` / ``__arrow_c_array__``. Only the columns a widget needs
are converted, in the row order of the input, so row ``i`` of the stream is row ``i`` of the input
(selections map back by position). Each column is normalized by the role the widget gives it:

* ``time``: ``timestamp[ns, UTC]``. Timestamps of any unit and zone are converted (naive values
  are taken as UTC), dates become midnight UTC, and string / object columns are parsed.
* ``number``: an integer, float or boolean type (decimals become float64, float16 float32).
* ``display``: a type hg_arrow reads: UTF-8 strings (large and view strings become ``string``),
  string dictionaries with one dictionary per column, numbers, booleans, dates and UTC timestamps.
  Anything else (binary, lists, structs, durations, ...) becomes display text.

A missing or mistyped column raises ``ValueError`` naming the column and the columns that exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Largest byte size of one message buffer (the widget channel fails near 10 MiB).
HG_CHUNK_BYTES = 8 * 1024 * 1024

#: Text columns at least this long are dictionary-encoded when their values repeat.
DICTIONARY_MIN_ROWS = 1024

#: Rows of the leading sample that decides whether a text column repeats enough to encode.
DICTIONARY_SAMPLE_ROWS = 8192

#: The type every time column is sent as.
UTC_NS = pa.timestamp("ns", tz="UTC")

Role = Literal["time", "number", "display"]

#: pandas' inferred kinds of object columns that pyarrow converts as flat scalars.
_SCALAR_OBJECT_KINDS = frozenset(
    {
        "empty",
        "string",
        "bytes",
        "integer",
        "floating",
        "mixed-integer-float",
        "decimal",
        "boolean",
        "datetime",
        "datetime64",
        "date",
        "timedelta",
        "time",
    }
)

_ROLE_WORDS = {
    "time": "a timestamp (or date / datetime strings)",
    "number": "numeric",
    "display": "any",
}


@dataclass
class PreparedData:
    """One data set ready to send: the normalized table, its IPC stream and where it came from."""

    name: str
    table: pa.Table
    stream: pa.Buffer
    flavour: Literal["pandas", "polars", "arrow", "other"]
    original: Any
    chunks: list[memoryview] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Number of rows sent (equal to the rows of the input)."""
        return self.table.num_rows


def flavour_of(data: Any) -> Literal["pandas", "polars", "arrow", "other"]:
    """Name the DataFrame library ``data`` comes from (used to return selections alike)."""
    if isinstance(data, pd.DataFrame):
        return "pandas"
    module = type(data).__module__ or ""
    if module.split(".")[0] == "polars":
        return "polars"
    if isinstance(data, pa.Table | pa.RecordBatch):
        return "arrow"
    return "other"


def is_frame_like(data: Any) -> bool:
    """Tell whether ``data`` is a table the widgets accept (rather than, say, a dict of them)."""
    return (
        isinstance(data, pd.DataFrame | pa.Table | pa.RecordBatch | pa.RecordBatchReader)
        or flavour_of(data) == "polars"
        or hasattr(data, "__arrow_c_stream__")
        or hasattr(data, "__arrow_c_array__")
    )


def column_names(data: Any) -> list[str]:
    """List the column names of any accepted input without converting it."""
    if isinstance(data, pd.DataFrame):
        return [str(c) for c in data.columns]
    if flavour_of(data) == "polars":
        return [str(c) for c in data.collect_schema().names()]
    if isinstance(data, pa.Table | pa.RecordBatch):
        return list(data.schema.names)
    raise TypeError(f"cannot list the columns of {type(data).__name__}")


def to_arrow_table(data: Any, *, what: str = "data") -> pa.Table:
    """Convert any accepted input to a pyarrow Table with all its columns (pandas index dropped)."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if isinstance(data, pd.DataFrame):
        return _pandas_to_table(data, [str(c) for c in data.columns], what=what)
    if flavour_of(data) == "polars":
        if hasattr(data, "collect") and not hasattr(data, "to_arrow"):
            data = data.collect()
        return data.to_arrow()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(data).read_all()
    if hasattr(data, "__arrow_c_array__"):
        return pa.Table.from_batches([pa.record_batch(data)])
    raise TypeError(
        f"{what}: expected a pandas or polars DataFrame, a pyarrow Table or RecordBatch, or an "
        f"object with __arrow_c_stream__; got {type(data).__module__}.{type(data).__name__}"
    )


def missing_column_error(name: str, available: Iterable[str], *, what: str, role: str = "") -> str:
    """Build the message for a column that does not exist."""
    listed = ", ".join(repr(c) for c in available) or "(none)"
    used_as = f" ({role})" if role else ""
    return f"{what}: column {name!r}{used_as} not found; the columns are: {listed}"


def prepare(
    data: Any,
    roles: Mapping[str, Role],
    *,
    name: str,
    what: str | None = None,
    uses: Mapping[str, str] | None = None,
    joined: Mapping[str, Sequence[str]] | None = None,
    chunk_bytes: int = HG_CHUNK_BYTES,
) -> PreparedData:
    """Normalize the ``roles`` columns of ``data`` (in that order) and serialize them.

    ``uses`` names what each column is for (``time_column``, ``group_by``, ...) in error messages.
    ``joined`` adds text columns made of other columns' values joined by `` / `` (a group key of
    several columns); a row with a null part has a null key.
    """
    what = what or f"data set {name!r}"
    uses = uses or {}
    flavour = flavour_of(data)
    original = data
    columns = list(roles)
    if isinstance(data, pd.DataFrame):
        table = _pandas_to_table(data, columns, what=what, roles=roles, uses=uses)
    else:
        if flavour == "polars":
            if hasattr(data, "collect") and not hasattr(data, "to_arrow"):
                data = data.collect()
                original = data
            _check_present(column_names(data), columns, what=what, uses=uses)
            table = data.select(columns).to_arrow()
        else:
            full = to_arrow_table(data, what=what)
            if flavour == "other":
                # A stream can be read only once: keep the whole table for `selected`.
                original = full
            _check_present(full.schema.names, columns, what=what, uses=uses)
            table = full.select(columns)
    available = column_names(original)
    arrays = [
        compact_text(
            normalize_column(
                table.column(column),
                roles[column],
                column=column,
                what=what,
                use=uses.get(column, ""),
                available=available,
            )
        )
        for column in columns
    ]
    names = list(columns)
    for new_name, parts in (joined or {}).items():
        if new_name in names:
            raise ValueError(f"{what}: cannot add column {new_name!r}, which already exists")
        texts = [_as_text(arrays[names.index(part)]) for part in parts]
        arrays.append(pc.binary_join_element_wise(*texts, " / "))
        names.append(new_name)
    normalized = pa.table(arrays, names=names).unify_dictionaries()
    stream = to_ipc_stream(normalized)
    return PreparedData(
        name=name,
        table=normalized,
        stream=stream,
        flavour=flavour,
        original=original,
        chunks=split_chunks(stream, chunk_bytes),
    )


def _check_present(
    available: list[str], columns: Iterable[str], *, what: str, uses: Mapping[str, str]
) -> None:
    for column in columns:
        if column not in available:
            raise ValueError(
                missing_column_error(column, available, what=what, role=uses.get(column, ""))
            )


def _pandas_to_table(
    df: pd.DataFrame,
    columns: list[str],
    *,
    what: str,
    roles: Mapping[str, Role] | None = None,
    uses: Mapping[str, str] | None = None,
) -> pa.Table:
    """Convert the named columns of a pandas frame, one at a time, without its index.

    A named index level is used for a requested column that is not a column (a frame indexed
    by its time column keeps working); otherwise the index is dropped.
    """
    roles = roles or {}
    uses = uses or {}
    by_name = {str(c): c for c in df.columns}
    index_names = [str(n) for n in df.index.names if n is not None]
    arrays: list[pa.ChunkedArray] = []
    for column in columns:
        if column in by_name:
            values = df[by_name[column]]
            if isinstance(values, pd.DataFrame):
                raise ValueError(f"{what}: column {column!r} appears more than once")
        elif column in index_names:
            values = pd.Series(df.index.get_level_values(column), copy=False)
        else:
            available = [*by_name, *(n for n in index_names if n not in by_name)]
            raise ValueError(
                missing_column_error(column, available, what=what, role=uses.get(column, ""))
            )
        arrays.append(_series_to_arrow(values, roles.get(column, "display"), column, what))
    return pa.table(arrays, names=columns)


def _series_to_arrow(series: pd.Series, role: Role, column: str, what: str) -> pa.ChunkedArray:
    if role == "time" and (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return pa.chunked_array([pa.array(_parse_times(series, column, what), type=UTC_NS)])
    as_text = False
    if series.dtype == object:
        # Nested values (lists, dicts) are shown as JSON text and never handed to pyarrow's
        # type inference, which recurses without a depth limit and crashes on hostile nesting.
        as_text = pd.api.types.infer_dtype(series, skipna=True) not in _SCALAR_OBJECT_KINDS
    converted = None
    if not as_text:
        try:
            converted = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            converted = None
    if converted is None:
        # Mixed object columns (log fields often are): send their display text.
        converted = pa.array(
            [_display_text(v) for v in series.tolist()], type=pa.string(), from_pandas=True
        )
    if isinstance(converted, pa.Array):
        converted = pa.chunked_array([converted])
    return converted


def _parse_times(values: pd.Series, column: str, what: str) -> pd.Series:
    """Parse datetime objects or strings to UTC (naive values are UTC)."""
    values = pd.Series(values, copy=False).astype(object).where(values.notna(), None)
    errors = []
    for fmt in ("ISO8601", "mixed"):
        try:
            return pd.to_datetime(values, utc=True, format=fmt).astype("datetime64[ns, UTC]")
        except (ValueError, TypeError, OverflowError) as exc:
            errors.append(exc)
    raise ValueError(
        f"{what}: column {column!r} must hold timestamps, dates or datetime strings; "
        f"a value could not be parsed: {errors[-1]}"
    ) from errors[-1]


def _display_text(value: Any) -> str | None:
    """Text shown for one value of a column that has no display type of its own."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        try:
            return json.dumps(value, default=str, ensure_ascii=False)
        except (RecursionError, ValueError):
            # Nested deeper than Python's recursion limit, or circular: say so instead.
            return f"({type(value).__name__} nested too deeply to display)"
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _chunked(arrays: list[pa.Array], type_: pa.DataType | None = None) -> pa.ChunkedArray:
    return pa.chunked_array(arrays, type=type_)


def normalize_column(
    values: pa.ChunkedArray,
    role: Role,
    *,
    column: str,
    what: str,
    use: str = "",
    available: Iterable[str] = (),
) -> pa.ChunkedArray:
    """Return ``values`` as the Arrow type the widgets read for ``role`` (see module docs)."""
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values])
    type_ = values.type
    if isinstance(type_, pa.ExtensionType):
        storage = [chunk.storage for chunk in values.chunks]
        values = _chunked(storage, type_.storage_type)
        type_ = values.type

    def mistyped() -> ValueError:
        used_as = f" ({use})" if use else ""
        listed = ", ".join(repr(c) for c in available) or "(none)"
        return ValueError(
            f"{what}: column {column!r}{used_as} must be {_ROLE_WORDS[role]}, "
            f"found {type_}; the columns are: {listed}"
        )

    if pa.types.is_dictionary(type_):
        value_type = type_.value_type
        if role == "display" and _is_string(value_type) and pa.types.is_integer(type_.index_type):
            target = pa.dictionary(type_.index_type, pa.string())
            if pa.types.is_string(value_type):
                return values
            return _chunked([chunk.cast(target) for chunk in values.chunks], target)
        decoded = _chunked([chunk.dictionary_decode() for chunk in values.chunks], value_type)
        return normalize_column(
            decoded, role, column=column, what=what, use=use, available=available
        )

    if pa.types.is_null(type_):
        target = {"time": UTC_NS, "number": pa.float64(), "display": pa.string()}[role]
        return values.cast(target)

    if role == "time":
        if pa.types.is_timestamp(type_) or pa.types.is_date(type_):
            try:
                return values.cast(UTC_NS)
            except pa.ArrowInvalid as exc:
                raise ValueError(
                    f"{what}: column {column!r} has a time outside the range of nanosecond "
                    f"timestamps (years 1677-2262): {exc}"
                ) from exc
        if _is_string(type_):
            series = values.to_pandas()
            return _chunked([pa.array(_parse_times(series, column, what), type=UTC_NS)])
        raise mistyped()

    if role == "number":
        if pa.types.is_integer(type_) or pa.types.is_float32(type_) or pa.types.is_float64(type_):
            return values
        if pa.types.is_float16(type_):
            return values.cast(pa.float32())
        if pa.types.is_boolean(type_) or pa.types.is_decimal(type_):
            return values.cast(pa.float64())
        raise mistyped()

    # display
    if pa.types.is_string(type_) or pa.types.is_boolean(type_) or pa.types.is_date(type_):
        return values
    if pa.types.is_integer(type_) or pa.types.is_float32(type_) or pa.types.is_float64(type_):
        return values
    if pa.types.is_float16(type_):
        return values.cast(pa.float32())
    if pa.types.is_decimal(type_):
        return values.cast(pa.float64())
    if pa.types.is_timestamp(type_):
        try:
            return values.cast(UTC_NS)
        except pa.ArrowInvalid:
            # Outside the nanosecond range: the original unit, still UTC.
            return values.cast(pa.timestamp(type_.unit, tz="UTC"))
    if pa.types.is_large_string(type_) or pa.types.is_string_view(type_):
        try:
            return values.cast(pa.string())
        except pa.ArrowInvalid:
            # A chunk over 2 GiB of text cannot be a 32-bit offset string.
            return values.cast(pa.large_string())
    if pa.types.is_time(type_):
        return values.cast(pa.string())
    return _chunked(
        [
            pa.array([_display_text(v) for v in chunk.to_pylist()], type=pa.string())
            for chunk in values.chunks
        ],
        pa.string(),
    )


def compact_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionary-encode a long text column whose values repeat (host names, accounts, paths).

    Log columns such as Computer or Account hold a few distinct values over millions of rows;
    sending each value once and a small key per row shrinks the stream several times. Whether a
    column repeats is judged on a leading sample so unique columns (command lines) cost no
    hashing of the whole column.
    """
    if not pa.types.is_string(values.type) or len(values) < DICTIONARY_MIN_ROWS:
        return values
    sample = values.slice(0, DICTIONARY_SAMPLE_ROWS)
    if pc.count_distinct(sample, mode="all").as_py() * 2 > len(sample):
        return values
    return values.dictionary_encode()


def _as_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Display text of a normalized column (for joined group keys)."""
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    return values.cast(pa.string())


def _is_string(type_: pa.DataType) -> bool:
    types = pa.types
    return types.is_string(type_) or types.is_large_string(type_) or types.is_string_view(type_)


def to_ipc_stream(table: pa.Table) -> pa.Buffer:
    """Write ``table`` as one Arrow IPC stream (the format hg_arrow's StreamReader reads)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def split_chunks(stream: pa.Buffer | bytes, chunk_bytes: int = HG_CHUNK_BYTES) -> list[memoryview]:
    """Cut ``stream`` into zero-copy views of at most ``chunk_bytes`` bytes (at least one view)."""
    if chunk_bytes <= 0:
        raise ValueError(f"chunk_bytes must be positive, got {chunk_bytes}")
    view = memoryview(stream)
    if len(view) == 0:
        return [view]
    return [view[start : start + chunk_bytes] for start in range(0, len(view), chunk_bytes)]
