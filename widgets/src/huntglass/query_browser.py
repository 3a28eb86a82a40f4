"""The QueryBrowser widget: a provider's query library, grouped by family, with search.

``qp.browse()`` (or ``hg.QueryBrowser(qp)``) shows the queries of a connected
:class:`huntglass.QueryProvider`: a search box, each query's description, data source and
parameters (inputs pre-filled with the defaults) and a Run button. Running a query from the
widget runs it here, in the kernel, through the same provider: the DataFrame is kept as
``browser.result`` and the widget shows the row count and the first rows. From code,
``browser.run()`` runs the chosen query with the values typed in the widget (keyword arguments
override them) and returns its DataFrame.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import traitlets

from ._widget import HgWidget
from .query import QueryError, QueryProvider

#: Rows of a result the widget shows.
PREVIEW_ROWS = 50
#: Longest cell text sent for the preview.
MAX_CELL_CHARS = 300


def _preview(frame: pd.DataFrame) -> list[list[str]]:
    head = frame.head(PREVIEW_ROWS)
    rows = []
    for values in head.itertuples(index=False, name=None):
        rows.append(["" if _is_null(v) else str(v)[:MAX_CELL_CHARS] for v in values])
    return rows


def _is_null(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


class QueryBrowser(HgWidget):
    """Browse and run the queries of a connected :class:`QueryProvider`."""

    query = traitlets.Unicode("").tag(sync=True)
    parameters = traitlets.Dict().tag(sync=True)

    def __init__(
        self, provider: QueryProvider, *, height: int | None = None, theme: str = "auto"
    ) -> None:
        if not isinstance(provider, QueryProvider):
            raise TypeError(
                "QueryBrowser: expected a huntglass.QueryProvider (hg.QueryProvider(...))"
            )
        if not provider.connected:
            provider.connect()
        families: dict[str, list[dict[str, Any]]] = {}
        for name, family in provider.families.items():
            families[name] = [
                {
                    "name": q.name,
                    "description": q.description,
                    "data_source": q.data_source,
                    "parameters": q.parameters,
                }
                for q in family
            ]
        spec: dict[str, Any] = {
            "provider": provider.environment,
            "raw_language": provider.raw_language,
            "families": families,
        }
        if height is not None:
            spec["height"] = int(height)
        self._provider = provider
        #: The DataFrame of the last query run from the widget (or by :meth:`run`).
        self.result: pd.DataFrame | None = None
        super().__init__(kind="query_browser", datasets=[], spec=spec, theme=theme)

    def _on_custom_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "hg:run_query":
            self._run_from_widget(content)
            return
        super()._on_custom_msg(widget, content, buffers)

    def _run_from_widget(self, content: dict[str, Any]) -> None:
        answer: dict[str, Any] = {"type": "hg:query_result", "id": content.get("id")}
        name = content.get("query")
        params = content.get("parameters")
        if not isinstance(name, str) or not isinstance(params, dict):
            answer.update(rows=0, columns=[], preview=[], notes=[], error="malformed request")
            self.send(answer)
            return
        try:
            frame = self._provider.run_query(name, **{str(k): v for k, v in params.items()})
        except QueryError as exc:
            partial = exc.partial
            self.result = partial
            answer.update(
                rows=0 if partial is None else len(partial),
                columns=[] if partial is None else [str(c) for c in partial.columns],
                preview=[] if partial is None else _preview(partial),
                notes=[],
                error=str(exc),
            )
            self.send(answer)
            return
        except Exception as exc:
            answer.update(
                rows=0, columns=[], preview=[], notes=[], error=f"{type(exc).__name__}: {exc}"
            )
            self.send(answer)
            return
        self.result = frame
        trailer = frame.attrs.get("huntglass", {})
        answer.update(
            rows=len(frame),
            columns=[str(c) for c in frame.columns],
            preview=_preview(frame),
            notes=list(trailer.get("notes") or []),
            error=None,
            truncated=bool(trailer.get("truncated")),
        )
        self.send(answer)

    def run(self, query: str | None = None, **params: Any) -> pd.DataFrame:
        """Runs ``query`` (default: the one chosen in the widget); returns its DataFrame.

        The parameter values typed in the widget are used, overridden by ``params``; the result
        is also kept as ``self.result``.
        """
        name = query or self.query
        if not name:
            raise ValueError(
                "QueryBrowser.run: no query chosen (pick one in the widget or pass its name)"
            )
        values: dict[str, Any] = {}
        if name == self.query:
            values = {k: v for k, v in (self.parameters or {}).items() if str(v).strip() != ""}
        values.update(params)
        self.result = self._provider.run_query(name, **values)
        return self.result
