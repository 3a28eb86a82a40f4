"""Runs the reference (MSTICPy 3.0.2 ts_anomalies_stl, and the statsmodels STL it calls) on a
seeded series; used by tests/python/test_timeseries_reference.py and bench.py with .venv-ref.

stdin: JSON {"n": points, "seed": int, "robust": bool, "dips": [index, ...]} (dips: points
pushed 8e8 below the series, the large drops the reference never flags); stdout: JSON with the
series, statsmodels' float components and the reference's output columns, plus the reference's
run time.
"""

import json
import sys
import time

import numpy as np
import pandas as pd


def series(n: int, seed: int) -> np.ndarray:
    """Hourly byte counts: a daily cycle, a random-walk trend, noise and spikes every ~997 h."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 5e8 + 2e8 * np.sin(2 * np.pi * t / 24) + np.cumsum(rng.normal(0, 1e6, n))
    y += rng.normal(0, 2e7, n)
    spikes = np.arange(500, n, 997)
    y[spikes] += 8e8
    return np.round(y)


def main() -> None:
    request = json.load(sys.stdin)
    y = series(int(request["n"]), int(request["seed"]))
    for index in request.get("dips", []):
        y[int(index)] -= 8e8
    from msticpy.analysis.timeseries import ts_anomalies_stl
    from statsmodels.tsa.seasonal import STL

    fit = STL(y, seasonal=7, period=24, robust=bool(request.get("robust", False))).fit()
    times = pd.date_range("2026-01-01", periods=len(y), freq="h", tz="UTC")
    frame = pd.DataFrame({"TimeGenerated": times, "TotalBytesSent": y})
    started = time.perf_counter()
    cpu_started = time.process_time()
    out = ts_anomalies_stl(frame, time_column="TimeGenerated", data_column="TotalBytesSent")
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    json.dump(
        {
            "values": y.tolist(),
            "stl": {
                "trend": fit.trend.tolist(),
                "seasonal": fit.seasonal.tolist(),
                "resid": fit.resid.tolist(),
                "weights": fit.weights.tolist(),
            },
            "columns": list(out.columns),
            "anomalies": out["anomalies"].astype(int).tolist(),
            "score": out["score"].astype(float).tolist(),
            "residual": out["residual"].astype(int).tolist(),
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
