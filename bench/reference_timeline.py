"""The reference side of the timeline benchmark (run with .venv-ref, MSTICPy 3.0.2).

``python bench/reference_timeline.py N OUT.html`` builds the events of ``bench/events.py``, plots
them with MSTICPy's Bokeh timeline (``display_timeline``, grouped by Computer, 3 tooltip columns,
``hide=True``), writes the layout as one self-contained HTML file (BokehJS inlined, as an offline
notebook or report needs) and prints JSON: the seconds to plot, to write the file, and its size.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from events import TOOLTIP_COLUMNS, make_events


def main() -> None:
    rows = int(sys.argv[1])
    out = Path(sys.argv[2])
    frame = make_events(rows)

    from bokeh.embed import file_html
    from bokeh.resources import INLINE
    from msticpy.vis.timeline import display_timeline

    started = time.perf_counter()
    layout = display_timeline(
        frame,
        time_column="TimeGenerated",
        source_columns=TOOLTIP_COLUMNS,
        group_by="Computer",
        hide=True,
    )
    plotted = time.perf_counter()
    text = file_html(layout, INLINE, "MSTICPy timeline")
    out.write_text(text, encoding="utf-8")
    written = time.perf_counter()
    print(
        json.dumps(
            {
                "rows": rows,
                "plot_seconds": plotted - started,
                "html_seconds": written - plotted,
                "python_seconds": written - started,
                "html_bytes": out.stat().st_size,
            }
        )
    )


if __name__ == "__main__":
    main()
