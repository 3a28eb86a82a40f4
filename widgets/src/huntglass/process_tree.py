"""The ProcessTree widget: a collapsible process tree drawn in the browser by Rust/wasm.

``ProcessTree(df)`` builds the tree with :func:`huntglass.proctree.build` unless ``df`` already is
one, then shows it: expand and collapse a process or all, search names, ids and command lines
(matches highlighted, their ancestors expanded), colour by any column (``color_by``, alias
``legend_col`` as in the reference) with a legend, hover details (command line, user, time,
ids), wheel scrolling, drag panning, Ctrl+wheel zoom, an optional table of the processes on
screen (``show_table``), a first search (``search="-enc"``) and selection:
:attr:`ProcessTree.selected` holds the selected rows of :attr:`ProcessTree.tree`.
:meth:`ProcessTree.link_timeline` marks the creation time of the selected processes on a
:class:`huntglass.Timeline` (its reference markers).

The widget's ``spec`` is the "ProcessTree spec" of docs/CONTRACT.md; the one data set
``Processes`` carries only the columns the widget shows, in tree order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from . import proctree
from ._arrow import Role, prepare
from ._widget import HgWidget

#: Columns of each built-in schema: name, id, command line, time, user, host, logon id.
_SCHEMA_COLUMNS = {
    "windows_4688": (
        "NewProcessName",
        "NewProcessId",
        "CommandLine",
        "TimeGenerated",
        "SubjectUserName",
        "Computer",
        "SubjectLogonId",
    ),
    "sysmon_1": ("Image", "ProcessId", "CommandLine", "UtcTime", "User", "Computer", "LogonId"),
    "mde": (
        "FileName",
        "ProcessId",
        "ProcessCommandLine",
        "ProcessCreationTime",
        "AccountName",
        "DeviceName",
        "LogonId",
    ),
    "linux_auditd": ("exe", "pid", "cmdline", "TimeGenerated", "acct", "Computer", "ses"),
}

_ROLES = (
    "name_column",
    "id_column",
    "cmd_column",
    "time_column",
    "user_column",
    "host_column",
    "logon_column",
)


def _columns_for(tree: pd.DataFrame, schema: Any) -> dict[str, str | None]:
    """Pick the display columns: from the schema mapping, else the best-fitting built-in schema."""
    columns = set(tree.columns)
    if isinstance(schema, Mapping) or (schema is not None and not isinstance(schema, str)):
        mapping = proctree._schema_option(schema)
        keys = (
            "process_name",
            "process_id",
            "cmd_line",
            "time_stamp",
            "user_name",
            "host_name_column",
            "logon_id",
        )
        return {
            role: (mapping.get(k) if mapping.get(k) in columns else None)
            for role, k in zip(_ROLES, keys, strict=True)
        }
    candidates = (
        [schema] if isinstance(schema, str) and schema in _SCHEMA_COLUMNS else list(_SCHEMA_COLUMNS)
    )
    best = max(candidates, key=lambda s: sum(c in columns for c in _SCHEMA_COLUMNS[s]))
    found = {
        role: (c if c in columns else None)
        for role, c in zip(_ROLES, _SCHEMA_COLUMNS[best], strict=True)
    }
    if best == "mde" and found["time_column"] is None and "Timestamp" in columns:
        found["time_column"] = "Timestamp"
    if found["name_column"] is None:
        raise ValueError(
            "cannot tell which column holds the process name; pass name_column= (columns: "
            f"{', '.join(map(str, tree.columns))})"
        )
    return found


class ProcessTree(HgWidget):
    """A collapsible process tree (see the module documentation)."""

    def __init__(
        self,
        data: Any,
        schema: Any = None,
        *,
        name_column: str | None = None,
        id_column: str | None = None,
        cmd_column: str | None = None,
        time_column: str | None = None,
        user_column: str | None = None,
        host_column: str | None = None,
        color_by: str | None = None,
        legend_col: str | None = None,
        tooltip_columns: Sequence[str] | None = None,
        table_columns: Sequence[str] | None = None,
        show_table: bool = False,
        title: str = "Process tree",
        height: int | None = None,
        width: int | None = None,
        expand_depth: int | None = None,
        search: str | None = None,
        infer_parents: bool = True,
        match_host: bool = True,
        theme: str = "auto",
    ) -> None:
        if legend_col is not None and color_by is not None and legend_col != color_by:
            raise TypeError("give color_by or its alias legend_col, not both")
        color_by = color_by if color_by is not None else legend_col
        if proctree.is_tree(data):
            tree = data if isinstance(data, pd.DataFrame) else proctree._frame(data)
        else:
            tree = proctree.build(data, schema, infer_parents=infer_parents, match_host=match_host)
            if not isinstance(tree, pd.DataFrame):
                tree = proctree._frame(tree)
        #: The built tree (pandas), in tree order; ``selected`` returns rows of it.
        self.tree: pd.DataFrame = tree
        found = _columns_for(tree, schema)
        given = {
            "name_column": name_column,
            "id_column": id_column,
            "cmd_column": cmd_column,
            "time_column": time_column,
            "user_column": user_column,
            "host_column": host_column,
        }
        cols = {k: (v if v is not None else found.get(k)) for k, v in given.items()}
        available = [str(c) for c in tree.columns]
        for key, column in [*cols.items(), ("color_by", color_by)]:
            if column is not None and column not in available:
                raise ValueError(
                    f"{key}: column {column!r} not found; the columns are: {', '.join(available)}"
                )
        roles: dict[str, Role] = {}
        for key, column in cols.items():
            if column is not None:
                roles[column] = "time" if key == "time_column" else "display"
        extra = [c for c in [color_by, *(tooltip_columns or ()), *(table_columns or ())] if c]
        logon = found.get("logon_column")
        if tooltip_columns is None and logon:
            extra.append(logon)
        for column in extra:
            if column not in available:
                raise ValueError(
                    f"column {column!r} not found; the columns are: {', '.join(available)}"
                )
            roles.setdefault(column, "display")
        roles["source_index"] = "number"
        roles["parent_index"] = "number"
        roles["IsPlaceholder"] = "display"
        prepared = prepare(tree, roles, name="Processes", what="process tree")
        tips = list(tooltip_columns) if tooltip_columns is not None else None
        if tips is None and logon:
            tips = [
                c
                for c in (
                    cols["name_column"],
                    cols["id_column"],
                    cols["cmd_column"],
                    cols["user_column"],
                    logon,
                    cols["time_column"],
                    cols["host_column"],
                )
                if c
            ]
        spec: dict[str, Any] = {
            **cols,
            "color_by": color_by,
            "tooltip_columns": tips,
            "table_columns": list(table_columns) if table_columns is not None else None,
            "show_table": bool(show_table),
            "title": str(title),
            "height": height,
            "width": width,
            "expand_depth": expand_depth,
            "search": search,
        }
        super().__init__(kind="process_tree", datasets=[prepared], spec=spec, theme=theme)
        self._linked: list[Any] = []

    def link_timeline(self, timeline: Any, label: str = "Selected process") -> None:
        """Mark the creation time of the selected processes on ``timeline``.

        Its reference markers follow the selection; the markers it had before stay.
        """
        time_column = self.spec.get("time_column")
        if not time_column:
            raise ValueError("this tree has no time column to mark (pass time_column=)")
        base = list(timeline.spec.get("ref_markers") or [])

        def update(_change: Any = None) -> None:
            rows = self.selected_rows().get("Processes", [])
            times = pd.to_datetime(self.tree[time_column].iloc[rows], utc=True, errors="coerce")
            marks = []
            for row, value in zip(rows, times, strict=True):
                if pd.isna(value):
                    continue
                name = self.tree[self.spec["name_column"]].iloc[row]
                text = str(name).replace("\\", "/").rsplit("/", 1)[-1] if pd.notna(name) else label
                marks.append({"time_ms": value.value / 1e6, "label": f"{label}: {text}"})
            timeline.spec = {**timeline.spec, "ref_markers": base + marks[:50]}

        self.observe(update, names="selection")
        self._linked.append((timeline, update))
        update()


def process_tree(data: Any, schema: Any = None, **kwargs: Any) -> ProcessTree:
    """Build (when needed) and show the process tree of ``data`` (see :class:`ProcessTree`)."""
    return ProcessTree(data, schema, **kwargs)
