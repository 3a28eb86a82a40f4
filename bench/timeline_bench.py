"""Timeline benchmark: huntglass against MSTICPy 3.0.2's Bokeh timeline, on this machine.

Run by ``make bench`` (after ``make build``) with the project venv; the reference runs in
``.venv-ref``. Measures, on the events of ``bench/events.py`` (4 lanes, 3 tooltip columns):

* 1,000,000 events: DataFrame to Arrow bytes (``hg.Timeline(...)``: huntglass normalization, IPC
  stream and chunking; median of 5), first paint in headless Chromium after the bytes arrived
  (cold: including the wasm compile; warm: module already compiled, as for a second widget), the
  pan and wheel-zoom re-render medians over 30 interactions each (the widget's paint duration),
  and the hover hit-test median (the pointermove handlers: hit-test plus tooltip);
* 10,000,000 events: that the tab renders them without failing;
* 10k, 100k and 1M events side by side with the reference: time from the DataFrame to a rendered
  chart in the same Chromium (Python time plus page time from navigation to first paint / to
  Bokeh's canvas showing the marks) and the bytes shipped to the browser.

Writes ``bench/results/timeline.md`` (and the raw numbers in ``timeline.json``).
Environment: ``HG_BENCH_REF_1M_TIMEOUT`` (seconds for each 1M reference step, default 900),
``HG_BENCH_SKIP_10M=1`` to skip the 10M run, ``HG_BENCH_SIZES`` (comparison sizes,
default ``10000,100000,1000000``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from events import TOOLTIP_COLUMNS, make_events  # noqa: E402

import huntglass as hg  # noqa: E402
from huntglass._html import STATE_KEYS  # noqa: E402

STATIC = ROOT / "widgets/src/huntglass/static"
REF_PYTHON = ROOT / ".venv-ref/bin/python"
RESULTS = HERE / "results"
LOAD_AT_START = Path("/proc/loadavg").read_text().split()[0]
LABELS = {10_000: "10k", 100_000: "100k", 1_000_000: "1M", 10_000_000: "10M"}


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def build_widget(frame: Any) -> Any:
    return hg.Timeline(frame, source_columns=TOOLTIP_COLUMNS, group_by="Computer", title="Events")


def prepare_huntglass(rows: int, work: Path, repeats: int) -> dict[str, Any]:
    """Builds the widget ``repeats`` times (timing each) and writes its state and Arrow bytes."""
    log(f"huntglass {LABELS[rows]}: generating events")
    frame = make_events(rows)
    timings = []
    widget = None
    for _ in range(repeats):
        widget = None
        started = time.perf_counter()
        widget = build_widget(frame)
        timings.append(time.perf_counter() - started)
    assert widget is not None
    label = LABELS[rows]
    state = {key: getattr(widget, key) for key in STATE_KEYS}
    state_path = work / f"hg-{label}-state.json"
    state_path.write_text(json.dumps(state), encoding="utf-8")
    datasets = []
    arrow_bytes = 0
    for index, (name, data) in enumerate(widget._hg_data.items()):
        path = work / f"hg-{label}-data-{index}.arrow"
        path.write_bytes(data.stream.to_pybytes())
        arrow_bytes += data.stream.size
        datasets.append({"name": name, "path": str(path)})
    log(
        f"huntglass {label}: to Arrow median {statistics.median(timings):.3f}s, {arrow_bytes} bytes"
    )
    return {
        "rows": rows,
        "label": label,
        "to_arrow_seconds": timings,
        "to_arrow_median": statistics.median(timings),
        "arrow_bytes": arrow_bytes,
        "state_path": str(state_path),
        "datasets": datasets,
    }


def run_reference(rows: int, work: Path, timeout: float) -> dict[str, Any]:
    label = LABELS[rows]
    out = work / f"ref-{label}.html"
    log(f"reference {label}: display_timeline + file_html (timeout {timeout:.0f}s)")
    try:
        done = subprocess.run(
            [str(REF_PYTHON), str(HERE / "reference_timeline.py"), str(rows), str(out)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {
            "rows": rows,
            "label": label,
            "ok": False,
            "error": f"did not finish in {timeout:.0f}s",
        }
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return {"rows": rows, "label": label, "ok": False, "error": " | ".join(tail)}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update({"label": label, "ok": True, "html_path": str(out)})
    log(f"reference {label}: {result['python_seconds']:.1f}s, {result['html_bytes']} bytes of HTML")
    return result


def run_driver(job: dict[str, Any], work: Path, timeout: float) -> dict[str, Any]:
    job_path = work / "job.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    done = subprocess.run(
        ["node", str(HERE / "timeline_driver.mjs"), str(job_path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"the browser driver failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine_info(chromium: str) -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem_kb = int(line.split()[1])
    ref_versions = subprocess.run(
        [
            str(REF_PYTHON),
            "-c",
            "import msticpy, bokeh; print(msticpy.__version__, bokeh.__version__)",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    ).stdout.strip()
    return {
        "load_average": LOAD_AT_START
        + " at the start, "
        + Path("/proc/loadavg").read_text().split()[0]
        + " at the end (1-minute load; the machine is shared)",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{mem_kb / 1024 / 1024:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "chromium": chromium,
        "node": subprocess.run(
            ["node", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "reference": f"msticpy {ref_versions[0]}, bokeh {ref_versions[1]}"
        if len(ref_versions) == 2
        else "?",
    }


def fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} ms"


def fmt_s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f} s"


def fmt_mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1e6:,.2f} MB"


def ratio(reference: float | None, ours: float | None) -> str:
    if not reference or not ours:
        return "n/a"
    return f"{reference / ours:,.1f}x"


def write_report(results: dict[str, Any]) -> Path:
    info = results["machine"]
    one_m = results["huntglass_1m"]
    page = one_m["page"]
    lines = [
        "# Timeline benchmark",
        "",
        "Produced by `make bench` (`bench/timeline_bench.py` + `bench/timeline_driver.mjs`); "
        "raw numbers in `timeline.json`. Events from `bench/events.py`: one week, 4 lanes "
        "(Computer), 3 tooltip columns (Computer, Account, CommandLine), the same rows for both "
        "sides. Browser: headless Chromium, software rendering, one tab per run, files served "
        "from 127.0.0.1.",
        "",
        f"Machine: {info['cpu']}, {info['memory']} RAM; {info['os']}; Python {info['python']}; "
        f"Chromium {info['chromium']}; node {info['node']}; reference {info['reference']}. "
        f"Date {info['date']}, commit {info['commit']}. Load average {info['load_average']}.",
        "",
        "## huntglass at 1,000,000 events",
        "",
        "| measure | target | measured |",
        "|---|---|---|",
        f"| DataFrame to Arrow bytes (`hg.Timeline(df, ...)`, median of "
        f"{len(one_m['to_arrow_seconds'])}) | < 1 s | {fmt_s(one_m['to_arrow_median'])} |",
        f"| Arrow bytes sent | | {fmt_mb(one_m['arrow_bytes'])} |",
        f"| first paint after the bytes arrived, cold (new tab: includes the wasm compile; "
        f"median of {len(page.get('coldFirstPaintRunsMs') or [1])}) | < 1 s | "
        f"{fmt_ms(page.get('coldFirstPaintMs'))} |",
        f"| first paint after the bytes arrived, warm (wasm already compiled, as for a second "
        f"widget; median of {len(page.get('warmFirstPaintRunsMs') or [1])}) | < 1 s | "
        f"{fmt_ms(page.get('warmFirstPaintMs'))} |",
        f"| wheel-zoom re-render, median of 30 (max) | < 30 ms | "
        f"{fmt_ms(page.get('zoomRenderMedianMs'))} ({fmt_ms(page.get('zoomRenderMaxMs'))}) |",
        f"| pan (drag) re-render, median of 30 (max) | < 30 ms | "
        f"{fmt_ms(page.get('panRenderMedianMs'))} ({fmt_ms(page.get('panRenderMaxMs'))}) |",
        f"| hover hit-test + tooltip (pointermove handlers), median of "
        f"{page.get('hoverSamples', 'n/a')} hovers over marks (max) | < 2 ms | "
        f"{fmt_ms(page.get('hoverMedianMs'))} ({fmt_ms(page.get('hoverMaxMs'))}) |",
        f"| the same, only hovers that showed a tooltip ({page.get('hoverTooltipsShown', 'n/a')}) "
        f"| < 2 ms | {fmt_ms(page.get('hoverHitMedianMs'))} |",
        f"| for scale: compiling the wasm alone (`WebAssembly.compile`) | | "
        f"{fmt_ms(page.get('wasmCompileMs'))} |",
    ]
    if page.get("error"):
        lines.append(f"| error | | {page['error']} |")
    ten = results.get("huntglass_10m")
    if ten:
        tpage = ten["page"]
        status = (
            f"rendered: first paint {fmt_ms(tpage.get('coldFirstPaintMs'))} after "
            f"{fmt_mb(ten['arrow_bytes'])} of Arrow arrived (to Arrow "
            f"{fmt_s(ten['to_arrow_median'])})"
            if tpage.get("ok")
            else f"FAILED: {tpage.get('error', 'blank canvas')}"
        )
        lines += ["", f"**10,000,000 events:** {status}; tab crashed: {tpage.get('crashed')}."]
    lines += [
        "",
        "## Side by side with MSTICPy 3.0.2 (Bokeh `display_timeline`, `hide=True`, `file_html` "
        "with BokehJS inlined)",
        "",
        "Data to rendered chart = Python time (huntglass: `hg.Timeline(...)`; reference: "
        "`display_timeline` + `file_html` + write) plus page time from navigation start to the "
        "first paint (huntglass: fetch bundle, wasm and Arrow, compile, decode, draw; reference: "
        "load and parse the HTML until Bokeh's canvas shows the marks). Bytes shipped: "
        "huntglass widget.js + wasm + Arrow stream; reference: the HTML file.",
        "",
        "| events | huntglass data to chart | reference data to chart | speed-up "
        "| huntglass bytes | reference bytes | smaller by |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["comparison"]:
        ours = row["huntglass"]
        ref = row["reference"]
        ours_total = ours.get("total_seconds")
        ref_total = ref.get("total_seconds")
        ref_time = fmt_s(ref_total) if ref.get("ok") else f"did not finish ({ref.get('error')})"
        lines.append(
            f"| {row['rows']:,} | {fmt_s(ours_total)} ({fmt_s(ours.get('to_arrow_median'))} + "
            f"{fmt_ms(ours.get('page_ms'))}) | {ref_time}"
            + (
                f" ({fmt_s(ref.get('python_seconds'))} + {fmt_ms(ref.get('page_ms'))})"
                if ref.get("ok")
                else ""
            )
            + f" | {ratio(ref_total, ours_total)} | {fmt_mb(ours.get('bytes'))} "
            f"| {fmt_mb(ref.get('html_bytes'))} "
            f"| {ratio(ref.get('html_bytes'), ours.get('bytes'))} |"
        )
    lines += [
        "",
        "Asset sizes: widget.js "
        f"{results['assets']['widget_js']:,} bytes, wasm {results['assets']['wasm']:,} bytes "
        "(sent once per page; the rest of huntglass' bytes is the Arrow data).",
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = RESULTS / "timeline.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    (RESULTS / "timeline.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return report


def main() -> None:
    for asset in ("widget.js", "hg_wasm_bg.wasm"):
        if not (STATIC / asset).exists():
            sys.exit(f"bench: {STATIC / asset} is missing; run scripts/build.sh first")
    if not REF_PYTHON.exists():
        sys.exit(f"bench: {REF_PYTHON} is missing; run scripts/setup.sh first")
    sizes = [int(s) for s in os.environ.get("HG_BENCH_SIZES", "10000,100000,1000000").split(",")]
    ref_1m_timeout = float(os.environ.get("HG_BENCH_REF_1M_TIMEOUT", "900"))
    skip_10m = os.environ.get("HG_BENCH_SKIP_10M") == "1"
    assets = {
        "widget_js": (STATIC / "widget.js").stat().st_size,
        "wasm": (STATIC / "hg_wasm_bg.wasm").stat().st_size,
    }

    with tempfile.TemporaryDirectory(prefix="hg-bench-") as tmp:
        work = Path(tmp)
        ours = {
            rows: prepare_huntglass(rows, work, 5 if rows == 1_000_000 else 3) for rows in sizes
        }
        if 1_000_000 not in ours:
            ours[1_000_000] = prepare_huntglass(1_000_000, work, 5)
        ten = None if skip_10m else prepare_huntglass(10_000_000, work, 1)
        refs = {
            rows: run_reference(rows, work, ref_1m_timeout if rows >= 1_000_000 else 600)
            for rows in sizes
        }

        job: dict[str, Any] = {
            "static_dir": str(STATIC),
            "overall_timeout_ms": 3_000_000,
            "huntglass": [],
            "reference": [],
        }
        for rows, prepared in ours.items():
            job["huntglass"].append(
                {
                    "label": prepared["label"],
                    "rows": rows,
                    "state_path": prepared["state_path"],
                    "datasets": prepared["datasets"],
                    "timeout_ms": 120_000,
                    "interactions": 30 if rows == 1_000_000 else 0,
                    "warm": rows == 1_000_000,
                    "cold_repeats": 3 if rows == 1_000_000 else 1,
                }
            )
        if ten:
            job["huntglass"].append(
                {
                    "label": ten["label"],
                    "rows": ten["rows"],
                    "state_path": ten["state_path"],
                    "datasets": ten["datasets"],
                    "timeout_ms": 600_000,
                    "interactions": 0,
                    "warm": False,
                }
            )
        for rows, ref in refs.items():
            if ref.get("ok"):
                timeout_ms = int((ref_1m_timeout if rows >= 1_000_000 else 600) * 1000)
                job["reference"].append(
                    {
                        "label": ref["label"],
                        "rows": rows,
                        "html_path": ref["html_path"],
                        "timeout_ms": timeout_ms,
                    }
                )
        browser = run_driver(job, work, timeout=3_600)

    pages = {run["rows"]: run for run in browser["huntglass"]}
    ref_pages = {run["rows"]: run for run in browser["reference"]}
    comparison = []
    for rows in sizes:
        mine = ours[rows]
        page = pages.get(rows, {})
        ours_row = {
            "to_arrow_median": mine["to_arrow_median"],
            "page_ms": page.get("dataToPaintMs"),
            "bytes": mine["arrow_bytes"] + assets["widget_js"] + assets["wasm"],
            "ok": bool(page.get("ok")),
        }
        if page.get("ok"):
            ours_row["total_seconds"] = mine["to_arrow_median"] + page["dataToPaintMs"] / 1000
        ref = dict(refs[rows])
        ref_page = ref_pages.get(rows)
        if ref.get("ok") and ref_page:
            if ref_page.get("ok"):
                ref["page_ms"] = ref_page["renderedMs"]
                ref["total_seconds"] = ref["python_seconds"] + ref_page["renderedMs"] / 1000
            else:
                ref["ok"] = False
                ref["error"] = f"browser: {ref_page.get('error')}"
        comparison.append({"rows": rows, "huntglass": ours_row, "reference": ref})

    results = {
        "machine": machine_info(browser.get("chromium", "?")),
        "assets": assets,
        "huntglass_1m": {**ours[1_000_000], "page": pages.get(1_000_000, {})},
        "huntglass_10m": {**ten, "page": pages.get(10_000_000, {})} if ten else None,
        "comparison": comparison,
    }
    report = write_report(results)
    print(report.read_text(encoding="utf-8"))
    log(f"wrote {report}")


if __name__ == "__main__":
    main()
