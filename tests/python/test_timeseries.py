"""hg.timeseries in the kernel: the reference's ts_anomalies_stl output on the shared cases, the
options beyond it, the built-in scenario (NetworkBytes outliers, the C2 beacon) and errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import huntglass as hg
from huntglass import _kernel
from huntglass._widget import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases" / "timeseries"
REFERENCE_COLUMNS = [
    "TimeGenerated",
    "TotalBytesSent",
    "residual",
    "trend",
    "seasonal",
    "weights",
    "baseline",
    "score",
    "anomalies",
]


@pytest.fixture(autouse=True)
def kernel_built() -> None:
    if not (STATIC_DIR / _kernel.KERNEL_FILE).is_file():
        message = f"{_kernel.KERNEL_FILE} not built (run `make build`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _case_frame(case: dict) -> pd.DataFrame:
    times = pd.date_range(case["start"], periods=len(case["values"]), freq="h")
    return pd.DataFrame({"TimeGenerated": times, "TotalBytesSent": case["values"]})


def _cases(name: str) -> list[dict]:
    return json.loads((CASES / name).read_text())["cases"]


@pytest.mark.parametrize("case", _cases("stl_reference.json"), ids=lambda c: c["name"])
def test_anomalies_equal_the_reference(case: dict) -> None:
    out = hg.timeseries.anomalies(
        _case_frame(case), time_column="TimeGenerated", data_column="TotalBytesSent"
    )
    assert list(out.columns) == REFERENCE_COLUMNS
    reference = case["reference"]
    for column in ("residual", "trend", "seasonal", "weights", "baseline"):
        assert out[column].dtype == np.int64
        diff = np.abs(out[column].to_numpy() - np.array(reference[column]))
        assert diff.max() <= 1, column
    assert np.allclose(out["score"], reference["score"], atol=1e-6, rtol=0)
    assert out["anomalies"].tolist() == reference["anomalies"]


def test_two_sided_flags_the_dip_the_reference_misses() -> None:
    case = _cases("stl_reference.json")[0]
    frame = _case_frame(case)
    reference = hg.timeseries.ts_anomalies_stl(
        frame, time_column="TimeGenerated", data_column="TotalBytesSent"
    )
    flagged = {i: v for i, v in enumerate(reference["anomalies"]) if v}
    assert flagged == {200: 1, 226: -1, 274: -1}
    assert reference["score"][250] < -10  # the dip: never flagged by the reference's rule
    two = hg.timeseries.anomalies(frame, "TimeGenerated", "TotalBytesSent", two_sided=True)
    assert two["anomalies"][250] == -1
    assert two["anomalies"][200] == 1


def test_options_beyond_the_reference(demo_scenario: Path) -> None:
    table = pa.ipc.open_stream((demo_scenario / "NetworkBytes.arrow").read_bytes()).read_all()
    frame = table.to_pandas()
    ws104 = frame[frame["Computer"] == "LRK-WS104"]
    # Period detected from the data: a daily cycle of hourly points.
    detected = hg.timeseries.anomalies(ws104, "TimeGenerated", "TotalBytesSent", period=None)
    assert set(detected["period"]) == {24}
    # Robust STL and float output.
    robust = hg.timeseries.anomalies(
        ws104, "TimeGenerated", "TotalBytesSent", robust=True, integer_output=False
    )
    assert robust["trend"].dtype == np.float64
    assert robust["weights"].min() < 0.01  # the exfiltration hours are down-weighted
    # Irregular events binned to an interval: proxy requests per hour of the compromised host.
    proxy = pa.ipc.open_stream((demo_scenario / "CommonSecurityLog.arrow").read_bytes()).read_all()
    counted = hg.timeseries.anomalies(
        proxy.to_pandas(), "TimeGenerated", interval="1h", count=True, group_by="SourceIP"
    )
    assert "Count" in counted.columns
    steps = counted.groupby("SourceIP")["TimeGenerated"].diff().dropna().unique()
    assert list(steps) == [pd.Timedelta(hours=1)]
    # Polars and pyarrow input keep their flavour.
    assert isinstance(
        hg.timeseries.anomalies(
            table.filter(pa.compute.equal(table["Computer"], "LRK-WS104")),
            "TimeGenerated",
            "TotalBytesSent",
        ),
        pa.Table,
    )


def test_network_bytes_outliers(demo_scenario: Path) -> None:
    frame = (
        pa.ipc.open_stream((demo_scenario / "NetworkBytes.arrow").read_bytes())
        .read_all()
        .to_pandas()
    )
    out = frame.hg.ts_anomalies(
        time_column="TimeGenerated", data_column="TotalBytesSent", group_by="Computer"
    )
    flagged = out[(out["anomalies"] != 0) & (out["Computer"] == "LRK-WS104")]
    assert [str(t) for t in flagged["TimeGenerated"]] == [
        "2026-11-05 02:00:00+00:00",
        "2026-11-06 03:00:00+00:00",
    ]
    ws104 = frame[frame["Computer"] == "LRK-WS104"]
    alone = hg.timeseries.anomalies(ws104, "TimeGenerated", "TotalBytesSent")
    assert alone["anomalies"].abs().sum() == 2


def test_c2_beacon_is_found(demo_scenario: Path) -> None:
    proxy = pa.ipc.open_stream((demo_scenario / "CommonSecurityLog.arrow").read_bytes()).read_all()
    frame = proxy.to_pandas()
    victim = frame[frame["SourceIP"] == "10.20.1.104"]
    ranked = hg.timeseries.periodic(victim, "TimeGenerated", ["SourceIP", "DestinationIP"])
    top = ranked.iloc[0]
    assert top["DestinationIP"] == "198.51.100.23"
    assert abs(top["dominant_interval"] - 300) < 5
    assert top["p_value"] < 1e-10
    per_row = hg.timeseries.periodic(
        victim, "TimeGenerated", ["SourceIP", "DestinationIP"], per_row=True
    )
    assert len(per_row) == len(victim)
    beacon = per_row[per_row["DestinationIP"] == "198.51.100.23"]
    assert (beacon["dominant_interval"].round() == round(top["dominant_interval"])).all()


@pytest.mark.parametrize("case", _cases("periodic_reference.json"), ids=lambda c: c["name"])
def test_periodic_equals_the_reference(case: dict) -> None:
    times = pd.to_datetime(case["times"], unit="s", utc=True)
    out = hg.timeseries.periodic(pd.DataFrame({"TimeGenerated": times}))
    reference = case["reference"]
    assert out["dominant_frequency"][0] == pytest.approx(reference["dominant_frequency"], rel=1e-9)
    assert out["dominant_interval"][0] == pytest.approx(reference["dominant_interval"], rel=1e-9)
    assert out["p_value"][0] == pytest.approx(reference["p_value"], abs=1e-9)


def test_errors_name_the_problem() -> None:
    frame = pd.DataFrame(
        {"TimeGenerated": pd.date_range("2026-01-01", periods=30, freq="h"), "v": range(30)}
    )
    with pytest.raises(ValueError, match="Bytes"):
        hg.timeseries.anomalies(frame, "TimeGenerated", "Bytes")
    with pytest.raises(ValueError, match="two full periods"):
        hg.timeseries.anomalies(frame, "TimeGenerated", "v")
    with pytest.raises(ValueError, match="seasonal"):
        hg.timeseries.anomalies(frame, "TimeGenerated", "v", seasonal=8, period=4)
    with pytest.raises(ValueError, match="unknown keyword"):
        hg.timeseries.ts_anomalies_stl(frame, two_sided=True)
    frame.loc[5, "v"] = np.nan
    with pytest.raises(ValueError, match="row 5"):
        hg.timeseries.anomalies(frame, "TimeGenerated", "v", period=4)
