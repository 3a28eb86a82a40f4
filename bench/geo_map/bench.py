"""GeoMap benchmark: huntglass (hg.GeoMap + the wasm map in chromium) against MSTICPy 3.0.2's
folium map (``msticpy.vis.foliummap.plot_map``) on the same located points.

Input: N seeded rows at 5,000 distinct places (latitude -55..70, longitude -180..180, rows per
place skewed like IP traffic), a 5-value ``Kind`` column (colour / layer) and a text ``Note``
(tooltip). Both sides get the same pandas frame.

huntglass: CPU and wall time of ``hg.GeoMap(df, lat=, lon=, color=, tooltip=)`` in Python (the
data set normalized and written as Arrow IPC: what the kernel sends), the bytes sent (data set,
plus the basemap once per page), then in Debian's chromium (``browser_bench.mjs``) the time from
data received to first paint (chart build, placement and grouping into marks, basemap fill and
outlines, every mark) and the render time of wheel-zoom steps.

Reference (``.venv-ref``): CPU and wall time of ``plot_map(df, lat_column=, long_column=,
layer_column="Kind", tooltip_columns=["Note"])`` plus rendering the map to HTML
(``folium_map.get_root().render()``, what a notebook displays), and the HTML's size. Its page
then loads Leaflet from a CDN and tiles from a tile server, which this machine cannot reach, so
its in-browser time is not measured.

Writes ``results/results.md`` (``--out`` to change) with the date, the load average and the
source commit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REF_PYTHON = ROOT / ".venv-ref" / "bin" / "python"

FRAME = r"""
import numpy as np, pandas as pd
def frame(n):
    rng = np.random.default_rng(20261128)
    places = 5000
    lat = np.round(rng.uniform(-55, 70, places), 4)
    lon = np.round(rng.uniform(-180, 180, places), 4)
    weights = 1.0 / np.arange(1, places + 1) ** 0.8
    which = rng.choice(places, size=n, p=weights / weights.sum())
    kinds = np.array(["c2", "scan", "phish", "tor", "benign"])
    return pd.DataFrame({
        "Latitude": lat[which],
        "Longitude": lon[which],
        "Kind": kinds[rng.integers(0, 5, n)],
        "Note": [f"host-{i % 997}" for i in range(n)],
    })
"""

REFERENCE = (
    FRAME
    + r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
from msticpy.vis.foliummap import plot_map
n = int(sys.argv[1])
df = frame(n)
c0, t0 = time.process_time(), time.perf_counter()
m = plot_map(
    df, lat_column="Latitude", long_column="Longitude", layer_column="Kind",
    tooltip_columns=["Note"],
)
html = m.folium_map.get_root().render()
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"s": wall, "cpu_s": cpu, "html_bytes": len(html.encode())}))
"""
)

OURS = (
    FRAME
    + r"""
import json, sys, time
import huntglass as hg
from huntglass._html import STATE_KEYS
n, out = int(sys.argv[1]), sys.argv[2]
df = frame(n)
best = None
for _ in range(3):
    c0, t0 = time.process_time(), time.perf_counter()
    w = hg.GeoMap(df, lat="Latitude", lon="Longitude", color="Kind", tooltip=["Note"], height=500)
    run = {"s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
    best = run if best is None or run["cpu_s"] < best["cpu_s"] else best
data = w._hg_data["points"]
with open(f"{out}/points.arrow", "wb") as f:
    f.write(bytes(data.stream))
state = {key: getattr(w, key) for key in STATE_KEYS}
with open(f"{out}/state.json", "w") as f:
    json.dump(state, f)
best["ipc_bytes"] = data.stream.size
print(json.dumps(best))
"""
)


def run_json(cmd: list[str], timeout: int = 3600) -> dict:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--ref-runs", type=int, default=1, help="reference runs (each takes minutes)"
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "results.md"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    loads = [os.getloadavg()]
    rows = []
    basemap = (ROOT / "widgets/src/huntglass/static/basemap.bin").stat().st_size
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            ours = run_json([sys.executable, "-c", OURS, str(n), tmp])
            browser = run_json(
                [
                    "node",
                    str(Path(__file__).parent / "browser_bench.mjs"),
                    f"{tmp}/state.json",
                    f"{tmp}/points.arrow",
                    str(args.runs),
                ]
            )
        refs = [run_json([str(REF_PYTHON), "-c", REFERENCE, str(n)]) for _ in range(args.ref_runs)]
        ref = min(refs, key=lambda r: r["cpu_s"])
        loads.append(os.getloadavg())
        rows.append((n, ours, browser, ref))
        print(json.dumps({"n": n, "ours": ours, "browser": browser, "reference": ref}), flush=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    low = min(x[0] for x in loads)
    high = max(x[0] for x in loads)
    lines = [
        "# GeoMap: huntglass vs MSTICPy 3.0.2 (folium)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, load average "
        f"{low:.1f}-{high:.1f} on a shared 2-core machine; huntglass best of {args.runs} runs, the "
        f"reference best of {args.ref_runs}. Method and "
        "input: `bench/geo_map/bench.py` (N rows at 5,000 distinct places, 5 colour values, a "
        "tooltip column).",
        "",
        "| rows | huntglass Python (`hg.GeoMap`) CPU / wall | sent "
        "| chromium: data to first paint (best / median) | zoom step render (best / median) "
        "| MSTICPy `plot_map` + HTML CPU / wall | its HTML |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, ours, browser, ref in rows:
        paint, zoom = browser["first_paint_ms"], browser["zoom_render_ms"]
        lines.append(
            f"| {n:,} | {ours['cpu_s'] * 1000:.0f} ms / {ours['s'] * 1000:.0f} ms "
            f"| {ours['ipc_bytes'] / 1e6:.2f} MB (+ {basemap / 1e3:.0f} KB basemap once per page) "
            f"| {paint['best']:.0f} / {paint['median']:.0f} ms "
            f"| {zoom['best']:.1f} / {zoom['median']:.1f} ms "
            f"| {ref['cpu_s']:.2f} s / {ref['s']:.2f} s | {ref['html_bytes'] / 1e6:.1f} MB |"
        )
    lines += [
        "",
        "The reference's time is only building the page: its HTML then needs Leaflet from a CDN "
        "and map tiles from a tile server (no network here), and draws one DOM marker per row. "
        "huntglass draws the offline basemap and every place into one canvas in wasm; rows at the "
        "same place and colour are one mark (sized by count), so the drawing cost follows the "
        "places, not the rows.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
