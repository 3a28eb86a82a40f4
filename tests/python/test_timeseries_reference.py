"""Differential test against the reference itself (MSTICPy 3.0.2 ts_anomalies_stl and the
statsmodels STL it calls, run in .venv-ref) on seeded series of 1k to 100k points: the float
decomposition within 1e-6 relative, the same scores and the same anomalies."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import huntglass as hg
from huntglass import _kernel
from huntglass._widget import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
REF_PYTHON = ROOT / ".venv-ref" / "bin" / "python"
REF_RUNNER = ROOT / "bench" / "timeseries" / "ref_runner.py"


def _reference(n: int, seed: int, robust: bool = False, dips: list[int] | None = None) -> dict:
    if not (STATIC_DIR / _kernel.KERNEL_FILE).is_file():
        message = f"{_kernel.KERNEL_FILE} not built (run `make build`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if not REF_PYTHON.is_file():
        pytest.skip(f"the reference environment is not installed ({REF_PYTHON})")
    done = subprocess.run(
        [str(REF_PYTHON), str(REF_RUNNER)],
        input=json.dumps({"n": n, "seed": seed, "robust": robust, "dips": dips or []}),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(f"reference run failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _frame(values: list[float]) -> pd.DataFrame:
    times = pd.date_range("2026-01-01", periods=len(values), freq="h", tz="UTC")
    return pd.DataFrame({"TimeGenerated": times, "TotalBytesSent": values})


def _close(ours: np.ndarray, ref: np.ndarray, scale: float) -> None:
    # 1e-6 relative to each value, with values near zero compared to the series' scale.
    tolerance = 1e-6 * np.maximum(np.abs(ref), 1e-6 * scale)
    assert np.all(np.abs(ours - ref) <= tolerance), np.max(np.abs(ours - ref) / tolerance)


@pytest.mark.parametrize(("n", "seed"), [(1_000, 11), (10_000, 12), (100_000, 13)])
def test_equal_to_the_reference(n: int, seed: int) -> None:
    ref = _reference(n, seed)
    frame = _frame(ref["values"])
    scale = float(np.max(np.abs(ref["values"])))
    floats = hg.timeseries.anomalies(frame, "TimeGenerated", "TotalBytesSent", integer_output=False)
    _close(floats["trend"].to_numpy(), np.array(ref["stl"]["trend"]), scale)
    _close(floats["seasonal"].to_numpy(), np.array(ref["stl"]["seasonal"]), scale)
    _close(floats["residual"].to_numpy(), np.array(ref["stl"]["resid"]), scale)
    ours = hg.timeseries.anomalies(frame, "TimeGenerated", "TotalBytesSent")
    assert list(ours.columns) == ref["columns"]
    assert np.abs(ours["residual"].to_numpy() - np.array(ref["residual"])).max() <= 1
    assert np.allclose(ours["score"], ref["score"], atol=1e-6, rtol=0)
    assert ours["anomalies"].tolist() == ref["anomalies"]
    assert any(ref["anomalies"])


def test_robust_equal_to_statsmodels() -> None:
    ref = _reference(5_000, 21, robust=True)
    frame = _frame(ref["values"])
    scale = float(np.max(np.abs(ref["values"])))
    ours = hg.timeseries.anomalies(
        frame, "TimeGenerated", "TotalBytesSent", robust=True, integer_output=False
    )
    _close(ours["trend"].to_numpy(), np.array(ref["stl"]["trend"]), scale)
    _close(ours["seasonal"].to_numpy(), np.array(ref["stl"]["seasonal"]), scale)
    assert np.allclose(ours["weights"], ref["stl"]["weights"], atol=1e-9)
    assert min(ref["stl"]["weights"]) < 0.5


def test_dips_the_reference_misses() -> None:
    """Large drops (a host gone silent) get a z-score far below -3; the reference flags only
    scores above the threshold, so it never reports them. Ours agrees by default (parity) and
    reports them as -1 with two_sided=True."""
    dips = [2_300, 3_100, 4_450]
    ref = _reference(5_000, 31, dips=dips)
    frame = _frame(ref["values"])
    ref_scores = np.array(ref["score"])
    assert all(ref_scores[i] < -3 for i in dips), ref_scores[dips]
    assert all(ref["anomalies"][i] == 0 for i in dips), "the reference misses the dips"
    ours = hg.timeseries.anomalies(frame, "TimeGenerated", "TotalBytesSent")
    assert ours["anomalies"].tolist() == ref["anomalies"]
    two_sided = hg.timeseries.anomalies(frame, "TimeGenerated", "TotalBytesSent", two_sided=True)
    flagged = two_sided["anomalies"].to_numpy()
    assert all(flagged[i] == -1 for i in dips), flagged[dips]
    # The spikes the reference flags stay flagged (as 1: two-sided signs by the score).
    spikes = [i for i, a in enumerate(ref["anomalies"]) if a != 0]
    assert spikes
    assert all(flagged[i] == 1 for i in spikes), [flagged[i] for i in spikes]
