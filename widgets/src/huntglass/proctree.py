"""Process trees in the kernel: ``hg.proctree.build`` and the tree utilities.

``build(df, schema=None)`` links every process-creation event to its parent with the
``proctree.build`` operation of ``hg_kernel.wasm`` (the same engine as ``huntglass proctree``
and the ProcessTree widget). Schemas: ``windows_4688`` (``SecurityEvent`` 4688), ``sysmon_1``,
``mde`` (``DeviceProcessEvents``), ``linux_auditd``, or a column mapping with the reference's
keys (``process_name``, ``process_id``, ``parent_id``, ``time_stamp``, ``parent_name``,
``parent_time``, ``cmd_line``, ``user_name``, ``logon_id``, ``host_name_column``,
``event_id_column``, ``event_id_identifier``, ``path_separator``); an object with those
attributes (such as the reference's ``ProcSchema``) works too. Without a schema it is detected
from the columns; when none fits, the ``ValueError`` names each schema's missing columns.

The result holds the input columns in tree order (each root oldest first, then its subtree)
plus:

================= ===============================================================================
``proc_key``      ``lower-case name|id|creation time`` (``...|placeholder`` for placeholders)
``parent_key``    the parent's ``proc_key`` (null for roots)
``path``          zero-padded ``source_index`` values from the root, joined by ``/``
``source_index``  the input row (placeholders are numbered from the input's row count)
``parent_index``  the parent's ``source_index``
``depth``         number of ancestors (0 for roots)
``child_count``   number of children
``IsRoot``, ``IsLeaf``, ``IsBranch``   as in the reference
``IsPlaceholder`` a parent named by its children but absent from the events (its time is null)
``IsOrphan``      the process's parent is not in the events
================= ===============================================================================

Differences from the reference (MSTICPy ``build_process_tree``), on purpose: parents are looked
for on the same host only (the reference links across hosts; ``match_host=False`` does the
same); placeholder parents have a null time, not 1970-01-01; ``source_index`` is an integer;
the output keeps a plain index (``proc_key`` is a column). pandas input gives pandas, polars
gives polars, anything else a pyarrow Table.

The utilities (``roots``, ``parent``, ``children``, ``ancestors``, ``descendants``,
``siblings``, ``root``, ``summary``, ``tree_to_text``) take a built tree (pandas) and a
process given as its ``proc_key``, its ``source_index`` or a row (Series) of the tree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from . import _kernel
from ._arrow import flavour_of, to_arrow_table

__all__ = [
    "MAPPING_KEYS",
    "SCHEMAS",
    "TREE_COLUMNS",
    "ancestors",
    "build",
    "children",
    "descendants",
    "is_tree",
    "parent",
    "root",
    "roots",
    "siblings",
    "summary",
    "tree_to_text",
]

#: The built-in schema names.
SCHEMAS = ("windows_4688", "sysmon_1", "mde", "linux_auditd")

#: Keys of a column mapping.
MAPPING_KEYS = (
    "time_stamp",
    "process_name",
    "process_id",
    "parent_id",
    "parent_name",
    "parent_time",
    "cmd_line",
    "user_name",
    "logon_id",
    "host_name_column",
    "event_id_column",
    "event_id_identifier",
    "path_separator",
)

#: Columns the build adds, in order.
TREE_COLUMNS = (
    "proc_key",
    "parent_key",
    "path",
    "source_index",
    "parent_index",
    "depth",
    "child_count",
    "IsRoot",
    "IsLeaf",
    "IsBranch",
    "IsPlaceholder",
    "IsOrphan",
)


def _schema_option(schema: Any) -> Any:
    if schema is None or isinstance(schema, str):
        return schema
    if isinstance(schema, Mapping):
        mapping = dict(schema)
    elif dataclasses.is_dataclass(schema) and not isinstance(schema, type):
        mapping = dataclasses.asdict(schema)
    elif any(hasattr(schema, k) for k in ("process_name", "process_id")):
        mapping = {k: getattr(schema, k, None) for k in MAPPING_KEYS}
    else:
        raise TypeError(
            "schema must be None, a schema name "
            f"({', '.join(SCHEMAS)}), a mapping of {', '.join(MAPPING_KEYS)} to column names, "
            f"or an object with those attributes; got {type(schema).__name__}"
        )
    clean: dict[str, str] = {}
    for key, value in mapping.items():
        if value is None or value == "":
            continue
        if key not in MAPPING_KEYS:
            if isinstance(schema, Mapping):
                raise ValueError(
                    f"schema: unknown key {key!r}; valid keys: {', '.join(MAPPING_KEYS)}"
                )
            continue
        clean[key] = str(value)
    return clean


def is_tree(data: Any) -> bool:
    """Whether ``data`` already holds the tree columns (the output of :func:`build`)."""
    try:
        names = set(data.columns) if hasattr(data, "columns") else set(data.schema.names)
    except AttributeError:
        return False
    return {"proc_key", "parent_key", "source_index", "parent_index", "path"} <= names


def _input_table(data: Any) -> pa.Table:
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
        # Mixed-type object columns (ids that are sometimes numbers) become text.
        for column in frame.columns:
            if frame[column].dtype == object:
                kinds = {type(v) for v in frame[column].dropna().head(1000)}
                if len(kinds) > 1:
                    frame[column] = frame[column].map(lambda v: v if v is None else str(v))
        try:
            return pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return to_arrow_table(frame, what="process events")
    return to_arrow_table(data, what="process events")


def build(
    data: Any,
    schema: Any = None,
    *,
    infer_parents: bool = True,
    match_host: bool = True,
    show_summary: bool = False,
) -> Any:
    """Build the process trees of process-creation events (see the module documentation).

    ``schema``: ``None`` (detect), a built-in name, a column mapping or a schema object.
    ``infer_parents=False`` makes processes whose parent is absent roots instead of adding a
    placeholder row; ``match_host=False`` links parents across hosts as the reference does.
    ``show_summary`` prints :func:`summary`.
    """
    table = _input_table(data)
    options = {
        "schema": _schema_option(schema),
        "infer_parents": bool(infer_parents),
        "match_host": bool(match_host),
    }
    result = _kernel.call("proctree.build", options, table)
    flavour = flavour_of(data)
    if flavour == "pandas":
        out: Any = result.to_pandas()
    elif flavour == "polars":
        import polars as pl

        out = pl.from_arrow(result)
    else:
        out = result
    if show_summary:
        print(summary(out))
    return out


def _frame(tree: Any) -> pd.DataFrame:
    if isinstance(tree, pd.DataFrame):
        frame = tree
    elif isinstance(tree, pa.Table) or flavour_of(tree) == "polars":
        frame = tree.to_pandas()
    else:
        raise TypeError(f"expected a built process tree, got {type(tree).__name__}")
    if not is_tree(frame):
        raise ValueError(
            "not a process tree: build it first with hg.proctree.build(df) (the columns "
            f"{', '.join(TREE_COLUMNS[:5])} are missing)"
        )
    return frame


def _source_index(frame: pd.DataFrame, proc: Any) -> int:
    if isinstance(proc, pd.Series):
        if "source_index" not in proc:
            raise ValueError("the row has no source_index: pass a row of the built tree")
        return int(proc["source_index"])
    if isinstance(proc, str):
        hits = frame.index[frame["proc_key"] == proc]
        if len(hits) == 0:
            raise KeyError(f"no process with proc_key {proc!r}")
        return int(frame.loc[hits[0], "source_index"])
    if isinstance(proc, int | float) and not isinstance(proc, bool) and proc == int(proc):
        if not (frame["source_index"] == int(proc)).any():
            raise KeyError(f"no process with source_index {int(proc)}")
        return int(proc)
    raise TypeError(f"a process is a proc_key, a source_index or a tree row; got {proc!r}")


def _rows(frame: pd.DataFrame, indexes: list[int]) -> pd.DataFrame:
    position = pd.Series(range(len(frame)), index=frame["source_index"].to_numpy())
    return frame.iloc[[int(position[i]) for i in indexes]]


def _parent_map(frame: pd.DataFrame) -> dict[int, int | None]:
    return {
        int(s): (None if pd.isna(p) else int(p))
        for s, p in zip(frame["source_index"], frame["parent_index"], strict=True)
    }


def roots(tree: Any) -> pd.DataFrame:
    """The root processes."""
    frame = _frame(tree)
    return frame[frame["parent_index"].isna()]


def parent(tree: Any, proc: Any) -> pd.DataFrame:
    """The parent of a process (an empty frame for a root)."""
    frame = _frame(tree)
    p = _parent_map(frame)[_source_index(frame, proc)]
    return _rows(frame, [] if p is None else [p])


def children(tree: Any, proc: Any, include_source: bool = False) -> pd.DataFrame:
    """The direct children of a process (with the process first when ``include_source``)."""
    frame = _frame(tree)
    s = _source_index(frame, proc)
    kids = frame[frame["parent_index"] == s]
    return pd.concat([_rows(frame, [s]), kids]) if include_source else kids


def ancestors(tree: Any, proc: Any, include_source: bool = True) -> pd.DataFrame:
    """The process's ancestors from its root down (and the process itself, last)."""
    frame = _frame(tree)
    parents = _parent_map(frame)
    s = _source_index(frame, proc)
    chain: list[int] = []
    p = parents[s]
    while p is not None and len(chain) <= len(parents):
        chain.append(p)
        p = parents.get(p)
    chain.reverse()
    if include_source:
        chain.append(s)
    return _rows(frame, chain)


def descendants(
    tree: Any, proc: Any, include_source: bool = True, max_levels: int | None = None
) -> pd.DataFrame:
    """The process's subtree in tree order, at most ``max_levels`` levels below it."""
    frame = _frame(tree)
    s = _source_index(frame, proc)
    row = frame[frame["source_index"] == s].iloc[0]
    prefix = str(row["path"]) + "/"
    depth = int(row["depth"])
    below = frame[frame["path"].astype(str).str.startswith(prefix)]
    if max_levels is not None and max_levels >= 0:
        below = below[below["depth"] <= depth + max_levels]
    return pd.concat([_rows(frame, [s]), below]) if include_source else below


def siblings(tree: Any, proc: Any, include_source: bool = False) -> pd.DataFrame:
    """The other children of the process's parent (other roots for a root)."""
    frame = _frame(tree)
    s = _source_index(frame, proc)
    p = _parent_map(frame)[s]
    same = frame[frame["parent_index"].isna()] if p is None else frame[frame["parent_index"] == p]
    return same if include_source else same[same["source_index"] != s]


def root(tree: Any, proc: Any) -> pd.DataFrame:
    """The root of the process's tree (one row)."""
    return ancestors(tree, proc, include_source=True).iloc[[0]]


def summary(tree: Any) -> dict[str, int]:
    """Counts with the reference's keys: processes, roots, leaves, branches, isolated, depth."""
    frame = _frame(tree)
    is_root = frame["IsRoot"].astype(bool)
    is_leaf = frame["IsLeaf"].astype(bool)
    return {
        "Processes": len(frame),
        "RootProcesses": int(is_root.sum()),
        "LeafProcesses": int(is_leaf.sum()),
        "BranchProcesses": int(frame["IsBranch"].astype(bool).sum()),
        "IsolatedProcesses": int((is_root & is_leaf).sum()),
        "LargestTreeDepth": int(frame["depth"].max()) + 1 if len(frame) else 0,
        "Placeholders": int(frame["IsPlaceholder"].astype(bool).sum()),
    }


def tree_to_text(
    tree: Any,
    *,
    name_column: str | None = None,
    cmd_column: str | None = None,
    max_rows: int = 10_000,
) -> str:
    """The tree as indented text: ``name [id]  command line`` per process (at most ``max_rows``)."""
    frame = _frame(tree)
    lines = []
    for _, row in frame.head(max_rows).iterrows():
        name_id = str(row["proc_key"]).split("|")
        label = f"{name_id[0]} [{name_id[1] if len(name_id) > 1 else ''}]"
        if bool(row["IsPlaceholder"]):
            label += " (not in the events)"
        if name_column and name_column in frame.columns and isinstance(row[name_column], str):
            label = f"{row[name_column]} [{name_id[1] if len(name_id) > 1 else ''}]"
        text = "  " * int(row["depth"]) + label
        if cmd_column and cmd_column in frame.columns and isinstance(row[cmd_column], str):
            text += "  " + row[cmd_column][:300]
        lines.append(text)
    return "\n".join(lines)
