"""The IocView widget: records' text with every indicator highlighted by type.

``hg.IocView(df, columns=["CommandLine"])``, ``df.hg.ioc_view(columns=[...])`` or
``hg.IocView("some text")`` show the text of the given columns (or the string), every indicator
highlighted by type, a legend with the count per type that filters by type, and the unique
observables (canonical value, type, count); clicking one selects the records holding it, and
``widget.selected`` returns those rows of the input.

Extraction runs in the browser through the same ``ioc.extract`` operation as
:func:`huntglass.ioc.extract`, in the very same module (``hg_kernel.wasm``, sent to the browser
once per page for widgets that run operations), with the same keywords and defaults:
``include_paths`` is False for a DataFrame (the reference's DataFrame default) and True for a
string. The columns are sent as text (non-text
columns as their text, as ``hg.ioc.extract`` scans them), in the input's row order, so the
selection maps back by position.
"""

from __future__ import annotations

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
from .ioc import IOC_TYPES, _input_table

#: Name of the one data set an IocView sends.
DATASET = "records"

#: Column holding the text when the input is a string.
TEXT_COLUMN = "Text"

#: Type names accepted in ``ioc_types`` besides :data:`huntglass.ioc.IOC_TYPES` (the reference's).
TYPE_ALIASES = ("file_hash", "hostname")

DEFAULT_HEIGHT = 420


def _types_arg(ioc_types: str | Sequence[str] | None) -> list[str] | None:
    if ioc_types is None:
        return None
    types = [ioc_types] if isinstance(ioc_types, str) else list(ioc_types)
    known = (*IOC_TYPES, *TYPE_ALIASES)
    for name in types:
        if name not in known:
            raise ValueError(
                f"IocView: unknown IoC type {name!r}; the types are: {', '.join(known)}"
            )
    return types


def _records(data: Any, columns: str | Sequence[str] | None) -> tuple[PreparedData, list[str]]:
    """The data set to send (text columns only) and the column list."""
    if isinstance(data, str):
        if columns is not None:
            raise TypeError("IocView: columns applies to a DataFrame, not to a string")
        table = pa.table({TEXT_COLUMN: pa.array([data], type=pa.string())})
        names = [TEXT_COLUMN]
        flavour, original = "arrow", table
    else:
        if not is_frame_like(data):
            raise TypeError(
                "IocView: expected a string, a pandas or polars DataFrame or a pyarrow Table; "
                f"got {type(data).__module__}.{type(data).__name__}"
            )
        if columns is None or (not isinstance(columns, str) and len(columns) == 0):
            listed = ", ".join(repr(c) for c in column_names(data)) if _listable(data) else "?"
            raise ValueError(
                f"IocView: columns is required with a DataFrame; the columns are: {listed}"
            )
        names = [columns] if isinstance(columns, str) else list(dict.fromkeys(columns))
        flavour = flavour_of(data)
        original = data
        if flavour == "polars" and hasattr(data, "collect") and not hasattr(data, "to_arrow"):
            original = data = data.collect()
        elif flavour == "other":
            # A stream can be read only once: keep the table for `selected`.
            original = data = to_arrow_table(data, what="IocView")
        table = _input_table(data, names)
    texts = pa.table([compact_text(_utf8(table.column(c))) for c in names], names=names)
    texts = texts.unify_dictionaries()
    stream = to_ipc_stream(texts)
    prepared = PreparedData(
        name=DATASET,
        table=texts,
        stream=stream,
        flavour=flavour,
        original=original,
        chunks=split_chunks(stream),
    )
    return prepared, names


def _utf8(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Large and view strings as plain strings, so repeating text can be dictionary-encoded.

    A column too big for 32-bit offsets stays as it is (the wasm reads every string type).
    """
    if pa.types.is_large_string(values.type) or pa.types.is_string_view(values.type):
        try:
            return values.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowCapacityError):
            return values
    return values


def _listable(data: Any) -> bool:
    try:
        column_names(data)
    except TypeError:
        return False
    return True


class IocView(HgWidget):
    """Text of records with every IoC highlighted, counts per type and the unique observables.

    ``data`` is a string, or a DataFrame (pandas, polars, pyarrow, anything with
    ``__arrow_c_stream__``) with ``columns`` (one name or a list) to scan. ``ioc_types``,
    ``include_paths``, ``defanged`` and ``ignore_tlds`` mean what they mean for
    :func:`huntglass.ioc.extract`. ``height`` is the height of the lists in CSS pixels.
    ``widget.selected`` is the input's rows holding the observable clicked last.
    """

    #: The front end runs ``ioc.extract`` in the engines' module (hg_kernel.wasm).
    _uses_kernel = True

    def __init__(
        self,
        data: Any,
        columns: str | Sequence[str] | None = None,
        *,
        ioc_types: str | Sequence[str] | None = None,
        include_paths: bool | None = None,
        defanged: bool = True,
        ignore_tlds: bool = False,
        title: str = "Indicators",
        height: int | None = None,
        theme: str = "auto",
    ) -> None:
        types = _types_arg(ioc_types)
        if include_paths is None:
            include_paths = isinstance(data, str)
        if height is not None and (
            isinstance(height, bool) or not isinstance(height, int | float) or height < 120
        ):
            raise ValueError(
                f"IocView: height must be a number of pixels of at least 120, got {height!r}"
            )
        if not isinstance(title, str):
            raise TypeError(f"IocView: title must be a string, got {type(title).__name__}")
        prepared, names = _records(data, columns)
        spec = {
            "dataset": DATASET,
            "columns": names,
            "types": types,
            "include_paths": bool(include_paths),
            "defanged": bool(defanged),
            "ignore_tlds": bool(ignore_tlds),
            "title": title,
            "height": float(height) if height is not None else float(DEFAULT_HEIGHT),
        }
        super().__init__(kind="ioc_view", datasets=[prepared], spec=spec, theme=theme)


def ioc_view(data: Any, columns: str | Sequence[str] | None = None, **kwargs: Any) -> IocView:
    """An :class:`IocView` of ``data`` (a string, or a DataFrame and its ``columns``)."""
    return IocView(data, columns, **kwargs)
