"""Sessions and their rarity in the kernel: ``hg.sessions.build``, ``train`` and ``score``.

Computed by the ``sessions.*`` operations of ``hg_kernel.wasm`` (see :mod:`huntglass._kernel`),
the same engine (``hg_analytics``) as the browser's SessionRarity widget and ``huntglass
sessions``. Keyword names and output columns are the reference's (MSTICPy ``sessionize_data``
and ``score_sessions``), and the numbers are equal to it (every likelihood within 1e-9
relative; ``tests/python/test_sessions.py`` checks it against the reference itself).

``build(df, user_identifier_cols=[...], time_col=..., max_session_time_mins=...,
max_event_separation_mins=..., event_col=...)`` groups events into sessions: one row per session
with the key columns, ``<time_col>_min``, ``<time_col>_max``, ``<event_col>_list`` (the events in
time order), ``duration`` and ``number_events``. A new session starts when the user changes, when
the gap to the previous event is longer than ``max_event_separation_mins`` or when the session
would last longer than ``max_session_time_mins`` from its first event (both strict, as the
reference). For pandas the lists hold the very objects of the event column (strings, the
reference's ``Cmd`` objects, dicts); missing keys form their own group, shown as missing.

``score(df, session_column=..., window_length=3)`` learns a Markov-chain model of the sessions
(or uses a ``model`` trained on a baseline with :func:`train`) and appends
``rarest_window{N}_likelihood`` and ``rarest_window{N}`` (the reference's ``score_sessions``).
A session is a list of:

* command names (strings);
* commands with parameter names: ``{"name": ..., "params": [...]}`` dicts, or any object with
  ``.name`` and ``.params`` (a set or list), such as the reference's ``Cmd`` (msticpy is never
  imported);
* commands with parameters and values: ``params`` is a dict ``{parameter: value}`` (values are
  compared as text; a falsy value such as ``""`` or ``None`` means "no value", as the reference).

The type is taken from the first command of the first session, as the reference does; an item
of another kind is an error naming the session and the item. Options beyond the reference:
``use_start_end_tokens``, ``use_geo_mean`` (columns get a ``_geo`` suffix), ``session_likelihoods``
(adds ``session_likelihood`` and ``session_geomean_likelihood``), ``window_start`` (adds
``rarest_window{N}_start``, the index of the window's first command) and ``window_end``:
``"reference"`` (default) returns a rarest window that ends the session one command short, as
the reference does; ``"include_end_token"`` returns it with the ``##END##`` token.

pandas input gives pandas output (windows are slices of the original session lists); polars
and pyarrow input give the same flavour, with the sessions and windows as Arrow lists.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _kernel
from ._arrow import column_names, flavour_of, is_frame_like, missing_column_error, to_arrow_table

__all__ = [
    "END_TOKEN",
    "SESSION_TYPES",
    "SessionModel",
    "build",
    "score",
    "train",
]

#: The token closing every session in the model (the reference's).
END_TOKEN = "##END##"

#: The session types, by the reference's names.
SESSION_TYPES = ("cmds_only", "cmds_params_only", "cmds_params_values")

#: Magic bytes at the start of a saved model (``hg_analytics`` codec).
_MODEL_MAGIC = b"HGSM"

_ROW_COLUMN = "__hg_event_row"


@dataclass(frozen=True)
class SessionModel:
    """A trained session model: save it with :meth:`to_bytes`, score other sessions with it.

    ``session_type`` is one of :data:`SESSION_TYPES` and ``sessions`` the number of training
    sessions (both ``None`` for a model loaded from bytes; the kernel checks the bytes when
    they are used).
    """

    data: bytes
    session_type: str | None = None
    sessions: int | None = None

    def to_bytes(self) -> bytes:
        """The model as bytes (store them, load them with :meth:`from_bytes`)."""
        return self.data

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> SessionModel:
        """A model saved with :meth:`to_bytes` (a wrong header is refused at once)."""
        raw = bytes(data)
        if not raw.startswith(_MODEL_MAGIC):
            raise ValueError(
                "SessionModel.from_bytes: not a huntglass session model (the bytes do not start "
                f"with {_MODEL_MAGIC!r})"
            )
        return cls(raw)


def _check_frame(data: Any, what: str) -> None:
    if not is_frame_like(data):
        raise TypeError(
            f"{what}: expected a pandas or polars DataFrame or a pyarrow Table; got "
            f"{type(data).__module__}.{type(data).__name__}"
        )


def _require_columns(data: Any, names: Sequence[str], what: str) -> None:
    available = column_names(data)
    for name in names:
        if name not in available:
            raise ValueError(missing_column_error(name, available, what=what))


def _minutes(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"build: {name} must be a number of minutes, got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"build: {name} must be a finite number of minutes >= 0, got {value!r}")
    return float(value)


def _time_array(values: Any, name: str) -> pa.Array | pa.ChunkedArray:
    """The time column as an Arrow timestamp (strings are parsed as the reference does)."""
    if isinstance(values, pd.Series):
        if not (
            pd.api.types.is_datetime64_any_dtype(values.dtype)
            or isinstance(values.dtype, pd.DatetimeTZDtype)
        ):
            try:
                values = pd.to_datetime(values)
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"build: time column {name!r} cannot be read as times: {exc}"
                ) from exc
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise ValueError(
                f"build: time column {name!r} has a missing time at row {row}: every event "
                "needs a time to be sessionized"
            )
        return pa.array(values, from_pandas=True)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return pa.array(pd.to_datetime(values.to_pandas()), from_pandas=True)
    return values


def _key_array(values: pd.Series, name: str) -> pa.Array:
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # Mixed kinds in one key column: compare them as text (missing stays missing).
        return pa.array([None if _is_missing(v) else str(v) for v in values], type=pa.string())


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def build(
    data: Any,
    user_identifier_cols: Sequence[str] | str,
    time_col: str = "TimeGenerated",
    max_session_time_mins: float | None = None,
    max_event_separation_mins: float | None = None,
    event_col: str | None = None,
) -> Any:
    """Group events into sessions (the reference's ``sessionize_data``; see the module docs)."""
    _check_frame(data, "build")
    if max_session_time_mins is None or max_event_separation_mins is None or event_col is None:
        missing = [
            name
            for name, value in (
                ("max_session_time_mins", max_session_time_mins),
                ("max_event_separation_mins", max_event_separation_mins),
                ("event_col", event_col),
            )
            if value is None
        ]
        raise TypeError(f"build: missing required keyword(s): {', '.join(missing)}")
    keys = (
        [user_identifier_cols]
        if isinstance(user_identifier_cols, str)
        else list(user_identifier_cols)
    )
    _require_columns(data, [*keys, time_col, event_col], "build")
    options: dict[str, Any] = {
        "user_identifier_cols": keys,
        "time_col": time_col,
        "max_session_time_mins": _minutes("max_session_time_mins", max_session_time_mins),
        "max_event_separation_mins": _minutes(
            "max_event_separation_mins", max_event_separation_mins
        ),
    }
    list_name = f"{event_col}_list"
    if isinstance(data, pd.DataFrame):
        # Sessionize row numbers, then list the original objects: any event column works
        # (strings, Cmd objects, dicts) and comes back exactly as given.
        columns = {k: _key_array(data[k], k) for k in keys}
        columns[time_col] = _time_array(data[time_col], time_col)
        columns[_ROW_COLUMN] = pa.array(np.arange(len(data), dtype=np.int64))
        table = pa.table(columns)
        out = _kernel.call("sessions.build", {**options, "event_col": _ROW_COLUMN}, table)
        lists = out.column(f"{_ROW_COLUMN}_list").combine_chunks()
        events = data[event_col].to_numpy(dtype=object)
        picked = events[lists.flatten().to_numpy(zero_copy_only=False)]
        offsets = lists.offsets.to_numpy()
        sessions = [picked[a:b].tolist() for a, b in itertools.pairwise(offsets)]
        frame = out.drop_columns([f"{_ROW_COLUMN}_list"]).to_pandas()
        frame.insert(len(keys) + 2, list_name, pd.Series(sessions, dtype=object))
        return frame
    flavour = flavour_of(data)
    table = to_arrow_table(data, what="build").select([*keys, time_col, event_col])
    time_index = table.schema.get_field_index(time_col)
    table = table.set_column(time_index, time_col, _time_array(table.column(time_col), time_col))
    out = _kernel.call("sessions.build", {**options, "event_col": event_col}, table)
    return _as_flavour(out, flavour)


def _as_flavour(table: pa.Table, flavour: str) -> Any:
    if flavour == "polars":
        import polars as pl

        return pl.from_arrow(table)
    if flavour == "pandas":
        return table.to_pandas()
    return table


def _item_kind(item: Any) -> str | None:
    """``cmds_only``, ``cmds_params_only``, ``cmds_params_values`` or None (not a command)."""
    if isinstance(item, str):
        return "cmds_only"
    if isinstance(item, Mapping):
        if "name" not in item:
            return None
        params = item.get("params")
    elif hasattr(item, "name") and hasattr(item, "params"):
        params = item.params
    else:
        return None
    if isinstance(params, Mapping):
        return "cmds_params_values"
    if params is None or isinstance(params, set | frozenset | list | tuple | np.ndarray):
        return "cmds_params_only"
    return None


def _name_params(item: Any) -> tuple[Any, Any]:
    if isinstance(item, Mapping):
        return item.get("name"), item.get("params")
    return item.name, item.params


def _session_list(value: Any, index: int) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if _is_missing(value):
        raise ValueError(f"score: session {index} is missing (every row needs a list of commands)")
    raise TypeError(f"score: session {index} is a {type(value).__name__}, not a list of commands")


def _value_text(value: Any) -> str | None:
    # The reference skips falsy values ("no value"); any other value is compared as text.
    if _is_missing(value) or not value:
        return None
    return value if isinstance(value, str) else str(value)


def _sessions_array(sessions: Sequence[Any]) -> tuple[pa.Array, str]:
    """The sessions as an Arrow list column and their type (from the first command)."""
    lists = [_session_list(s, i) for i, s in enumerate(sessions)]
    first = next((s[0] for s in lists if s), None)
    if first is None:
        raise ValueError("score: no session has a command (sessions must be non-empty lists)")
    kind = _item_kind(first)
    if kind is None:
        raise TypeError(
            f"score: a command must be a string, a {{'name', 'params'}} dict or an object with "
            f".name and .params (such as msticpy's Cmd); got {type(first).__name__}"
        )

    def wrong(i: int, j: int, item: Any) -> ValueError:
        return ValueError(
            f"score: session {i}, item {j}: {item!r} is not a command of the sessions' type "
            f"{kind} (decided from the first command of the first session)"
        )

    if kind == "cmds_only":
        for i, s in enumerate(lists):
            for j, item in enumerate(s):
                if not isinstance(item, str):
                    raise wrong(i, j, item)
        return pa.array(lists, type=pa.list_(pa.string())), kind
    out: list[list[dict[str, Any]]] = []
    for i, s in enumerate(lists):
        row = []
        for j, item in enumerate(s):
            if _item_kind(item) != kind:
                raise wrong(i, j, item)
            name, params = _name_params(item)
            if not isinstance(name, str):
                raise ValueError(f"score: session {i}, item {j}: the command name must be a string")
            if kind == "cmds_params_only":
                names = sorted({str(p) for p in (params if params is not None else ())})
                row.append({"name": name, "params": names})
            else:
                row.append(
                    {
                        "name": name,
                        "params": [(str(k), _value_text(v)) for k, v in params.items()],
                    }
                )
        out.append(row)
    params_type = (
        pa.list_(pa.string()) if kind == "cmds_params_only" else pa.map_(pa.string(), pa.string())
    )
    item_type = pa.struct([("name", pa.string()), ("params", params_type)])
    return pa.array(out, type=pa.list_(item_type)), kind


def _model_base64(model: SessionModel | bytes | None) -> str | None:
    if model is None:
        return None
    if isinstance(model, SessionModel):
        raw = model.data
    elif isinstance(model, bytes | bytearray | memoryview):
        raw = SessionModel.from_bytes(model).data
    else:
        raise TypeError(
            f"score: model must be a SessionModel or its bytes, got {type(model).__name__}"
        )
    return base64.b64encode(raw).decode("ascii")


def _session_column(data: Any, session_column: str, what: str) -> tuple[pa.Array, str]:
    _check_frame(data, what)
    _require_columns(data, [session_column], what)
    if isinstance(data, pd.DataFrame):
        return _sessions_array(data[session_column].tolist())
    column = to_arrow_table(data, what=what).column(session_column)
    if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
        raise ValueError(
            f"{what}: column {session_column!r} must hold lists of commands, it is {column.type}"
        )
    return column.combine_chunks(), ""


def train(
    data: Any, session_column: str, *, modellable_params: Sequence[str] | None = None
) -> SessionModel:
    """Train the session model on ``data[session_column]`` (a baseline) for :func:`score`."""
    sessions, _ = _session_column(data, session_column, "train")
    options: dict[str, Any] = {"session_column": session_column}
    if modellable_params is not None:
        options["modellable_params"] = list(modellable_params)
    out = _kernel.call("sessions.train", options, pa.table({session_column: sessions}))
    return SessionModel(
        data=out.column("model")[0].as_py(),
        session_type=out.column("session_type")[0].as_py(),
        sessions=out.column("sessions")[0].as_py(),
    )


def score(
    data: Any,
    session_column: str,
    window_length: int = 3,
    *,
    model: SessionModel | bytes | None = None,
    use_start_end_tokens: bool = True,
    use_geo_mean: bool = False,
    window_end: str = "reference",
    session_likelihoods: bool = False,
    window_start: bool = False,
    modellable_params: Sequence[str] | None = None,
) -> Any:
    """Append each session's rarest window and its likelihood (the reference's score_sessions).

    See the module docs for the options.
    """
    if isinstance(window_length, bool) or not isinstance(window_length, int | np.integer):
        raise TypeError(f"score: window_length must be an integer, got {window_length!r}")
    if window_end not in ("reference", "include_end_token"):
        raise ValueError(
            f"score: window_end must be 'reference' or 'include_end_token', got {window_end!r}"
        )
    sessions, kind = _session_column(data, session_column, "score")
    options: dict[str, Any] = {
        "session_column": session_column,
        "window_length": int(window_length),
        "use_start_end_tokens": bool(use_start_end_tokens),
        "use_geo_mean": bool(use_geo_mean),
        "window_end": window_end,
        "session_likelihoods": bool(session_likelihoods),
        "window_start": True,
    }
    if modellable_params is not None:
        options["modellable_params"] = list(modellable_params)
    encoded = _model_base64(model)
    if encoded is not None:
        options["model_base64"] = encoded
    out = _kernel.call("sessions.score", options, pa.table({session_column: sessions}))
    geo = "_geo" if use_geo_mean else ""
    lik_name = f"rarest_window{window_length}_likelihood{geo}"
    window_name = f"rarest_window{window_length}{geo}"
    start_name = f"rarest_window{window_length}_start{geo}"
    extra = ["session_likelihood", "session_geomean_likelihood"] if session_likelihoods else []
    if isinstance(data, pd.DataFrame):
        result = data.copy()
        starts = out.column(start_name).to_pylist()
        lengths = pc.list_value_length(out.column(window_name)).to_pylist()
        originals = data[session_column].tolist()
        windows = []
        for i, (start, length) in enumerate(zip(starts, lengths, strict=True)):
            if start is None:
                windows.append([])
                continue
            session = _session_list(originals[i], i)
            taken = session[start : start + length]
            if len(taken) < length:  # the end token, returned on request
                taken.append(
                    END_TOKEN if kind == "cmds_only" else {"name": END_TOKEN, "params": []}
                )
            windows.append(taken)
        result[lik_name] = out.column(lik_name).to_numpy()
        result[window_name] = pd.Series(windows, index=result.index, dtype=object)
        for name in extra:
            result[name] = out.column(name).to_numpy()
        if window_start:
            result[start_name] = pd.array(starts, dtype="Int64")
        return result
    flavour = flavour_of(data)
    table = to_arrow_table(data, what="score")
    names = [lik_name, window_name, *extra, *([start_name] if window_start else [])]
    for name in names:
        column = out.column(name)
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, column)
        else:
            table = table.append_column(name, column)
    return _as_flavour(table, flavour)
