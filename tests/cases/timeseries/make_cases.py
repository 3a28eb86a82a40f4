"""Writes the shared time-series cases (stl_reference.json, periodic_reference.json) from the
reference, MSTICPy 3.0.2 (run with /work/main/.venv-ref/bin/python; needs scipy and statsmodels).

Each STL case holds the input series and the reference's ts_anomalies_stl output columns; each
periodic case holds event times (integer seconds) and the reference's PeriodogramPollingDetector
results. Rust (crates/hg_analytics/tests/timeseries_cases.rs) and Python
(tests/python/test_timeseries.py) check huntglass against these files.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from msticpy.analysis.polling_detection import PeriodogramPollingDetector
from msticpy.analysis.timeseries import ts_anomalies_stl

OUT = Path(__file__).parent
INT_COLUMNS = [
    "TotalBytesSent",
    "residual",
    "trend",
    "seasonal",
    "weights",
    "baseline",
    "anomalies",
]


def stl_case(name, values, note):
    times = pd.date_range("2026-01-01", periods=len(values), freq="h", tz="UTC")
    df = pd.DataFrame({"TimeGenerated": times, "TotalBytesSent": values})
    out = ts_anomalies_stl(df, time_column="TimeGenerated", data_column="TotalBytesSent")
    return {
        "name": name,
        "note": note,
        "start": "2026-01-01T00:00:00Z",
        "interval_s": 3600,
        "values": [float(v) for v in values],
        "reference": {
            col: [int(v) for v in out[col]]
            for col in [
                "TotalBytesSent",
                "residual",
                "trend",
                "seasonal",
                "weights",
                "baseline",
                "anomalies",
            ]
        }
        | {"score": [float(v) for v in out["score"]]},
    }


def main():
    cases = []
    t = np.arange(14 * 24)
    rng = np.random.default_rng(0)
    y = 100 + 20 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 2, len(t))
    y[200] += 80
    y[250] -= 80
    cases.append(
        stl_case(
            "spike_and_dip",
            np.round(y, 6),
            "a +80 spike at 200 (flagged 1) and a -80 dip at 250 that the reference never flags; "
            "rows 226 and 274 are flagged -1 (positive scores during negative seasonal hours)",
        )
    )
    rng = np.random.default_rng(1)
    n = 1000
    t = np.arange(n)
    y = np.round(
        5e8
        + 2e8 * np.sin(2 * np.pi * t / 24)
        + np.cumsum(rng.normal(0, 1e6, n))
        + rng.normal(0, 2e7, n)
    )
    y[[100, 480, 777]] += [6e8, 9e8, 7e8]
    cases.append(
        stl_case("bytes_1000", y, "hourly byte counts with a random-walk trend and three spikes")
    )
    (OUT / "stl_reference.json").write_text(json.dumps({"cases": cases}, indent=1) + "\n")

    periodic = []
    rng = np.random.default_rng(1)
    beacon = (1_700_000_000 + np.arange(120) * 60 + rng.integers(-2, 3, 120)).astype("int64")
    rng = np.random.default_rng(2)
    scatter = np.sort(1_700_000_000 + rng.integers(0, 7200, 120)).astype("int64")
    for name, times in (("beacon_60s", beacon), ("scattered", scatter)):
        df = pd.DataFrame({"t": times, "pair": "a"})
        det = PeriodogramPollingDetector(df)
        det.detect_polling("t")
        row = det.data.iloc[0]
        periodic.append(
            {
                "name": name,
                "times": [int(v) for v in times],
                "reference": {
                    "p_value": float(row["p_value"]),
                    "dominant_frequency": float(row["dominant_frequency"]),
                    "dominant_interval": float(row["dominant_interval"]),
                },
            }
        )
    (OUT / "periodic_reference.json").write_text(json.dumps({"cases": periodic}, indent=1) + "\n")


if __name__ == "__main__":
    main()
