"""Orders the sections of examples/overview.ipynb in the investigation's story order.

Each cell carries a `section-<id>` tag (docs/TEAM.md); sections are written independently and
appended before `section-share`, so this puts them in the order of the story: the data, the
timeline, the process tree, the indicators, what the encoded commands ran, threat intelligence and
location, time-series anomalies and beaconing, rare sessions, sharing. Cells keep their order
within a section; an unknown section goes just before sharing.
Usage: python scripts/order_notebook.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "overview.ipynb"
STORY = [
    "intro",
    "setup",
    "data",
    "queries",
    "timeline",
    "proctree",
    "ioc",
    "decode",
    "ti",
    "geo",
    "timeseries",
    "sessions",
    "share",
]


def section_of(cell: dict) -> str:
    for tag in cell.get("metadata", {}).get("tags", []):
        if tag.startswith("section-"):
            return tag.removeprefix("section-")
    raise SystemExit(f"a cell has no section-<id> tag: {''.join(cell['source'])[:80]!r}")


def main() -> int:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    unknown_rank = STORY.index("share") - 0.5
    ranked = sorted(
        enumerate(notebook["cells"]),
        key=lambda item: (
            STORY.index(section_of(item[1])) if section_of(item[1]) in STORY else unknown_rank,
            item[0],
        ),
    )
    notebook["cells"] = [cell for _, cell in ranked]
    NOTEBOOK.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("order_notebook:", ", ".join(dict.fromkeys(section_of(c) for c in notebook["cells"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
