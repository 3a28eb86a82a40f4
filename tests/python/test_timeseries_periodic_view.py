"""hg.PeriodicConnections: the ranking and event timelines it sends (the scenario's C2 beacon
first), the selection mapped back to the input's rows, and errors."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import huntglass as hg
from huntglass import _kernel
from huntglass._widget import STATIC_DIR

BEACON = "198.51.100.23"
KEYS = ["SourceIP", "DestinationIP"]


@pytest.fixture(autouse=True)
def kernel_built() -> None:
    if not (STATIC_DIR / _kernel.KERNEL_FILE).is_file():
        message = f"{_kernel.KERNEL_FILE} not built (run `make build`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def proxy(demo_scenario: Path) -> pd.DataFrame:
    data = (demo_scenario / "CommonSecurityLog.arrow").read_bytes()
    return pa.ipc.open_stream(data).read_all().to_pandas()


@pytest.fixture
def one_client(proxy: pd.DataFrame) -> pd.DataFrame:
    """The compromised host's proxy events (a few pairs: keeps the kernel work short)."""
    return proxy[proxy["SourceIP"] == "10.20.1.104"]


def test_the_beacon_ranks_first_with_its_timeline(proxy: pd.DataFrame) -> None:
    widget = hg.PeriodicConnections(proxy, "TimeGenerated", KEYS, top=5)
    pairs = widget.pairs
    assert len(pairs) == 5
    assert pairs["rank"].tolist() == [0, 1, 2, 3, 4]
    first = pairs.iloc[0]
    assert first["DestinationIP"] == BEACON
    assert abs(first["dominant_interval"] - 300.0) < 5
    # The same ranking as hg.timeseries.periodic.
    ranking = hg.timeseries.periodic(proxy, "TimeGenerated", KEYS).head(5)
    assert pairs["DestinationIP"].tolist() == ranking["DestinationIP"].tolist()
    assert pairs["events"].tolist() == ranking["events"].tolist()
    assert ((pairs["first"] - ranking["first"]).abs() < pd.Timedelta(1, "ms")).all()
    # The data set: every event of the five pairs by rank, then time, pointing at input rows.
    events = widget.events
    assert len(events) == int(pairs["events"].sum())
    assert events["rank"].is_monotonic_increasing
    for _, group in events.groupby("rank"):
        assert group["t_ms"].is_monotonic_increasing
    rows = events["row"].to_numpy()
    assert (proxy["DestinationIP"].to_numpy()[rows] == events["DestinationIP"].to_numpy()).all()
    epoch_ms = (proxy["TimeGenerated"] - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(1, "ms")
    times = epoch_ms.to_numpy()[rows]
    assert (abs(times - events["t_ms"].to_numpy()) < 1e-3).all()
    assert widget.spec["keys"] == KEYS
    assert widget._kind == "periodic"
    assert widget.datasets["events"].num_rows == len(events)


def test_selection_maps_back_to_the_input(one_client: pd.DataFrame) -> None:
    proxy = one_client
    widget = proxy.hg.periodic_view(KEYS, top=3)
    # Before a click: the first pair (the beacon), as the widget shows it.
    selected = widget.selected
    assert len(selected) == widget.pairs.iloc[0]["events"]
    assert set(selected["DestinationIP"]) == {BEACON}
    assert selected.index.isin(proxy.index).all()
    assert widget.selected_pair["DestinationIP"].tolist() == [BEACON]
    # A click on the third pair (what the front end sends: that pair's event rows).
    third = widget.events.index[widget.events["rank"] == 2].tolist()
    widget.selection = {"events": third}
    assert len(widget.selected) == widget.pairs.iloc[2]["events"]
    assert set(widget.selected["DestinationIP"]) == {widget.pairs.iloc[2]["DestinationIP"]}
    assert widget.selected_pair["rank"].tolist() == [2]
    widget.selection = {"events": []}
    assert widget.selected.empty
    # pyarrow input: the selection is a pyarrow Table.
    table = pa.Table.from_pandas(proxy, preserve_index=False)
    arrow = hg.PeriodicConnections(table, groupby=KEYS, top=1)
    arrow.selection = {"events": [0, 1]}
    assert isinstance(arrow.selected, pa.Table)
    assert arrow.selected.num_rows == 2


def test_errors_name_the_problem(one_client: pd.DataFrame) -> None:
    proxy = one_client
    with pytest.raises(ValueError, match="groupby"):
        hg.PeriodicConnections(proxy)
    with pytest.raises(ValueError, match="Nope"):
        hg.PeriodicConnections(proxy, groupby=["SourceIP", "Nope"])
    with pytest.raises(ValueError, match="top"):
        hg.PeriodicConnections(proxy, groupby=KEYS, top=0)
    with pytest.raises(ValueError, match="bin_seconds"):
        hg.PeriodicConnections(proxy, groupby=KEYS, bin_seconds=0)
    with pytest.raises(TypeError, match="DataFrame"):
        hg.PeriodicConnections([1, 2, 3], groupby=KEYS)
    widget = hg.PeriodicConnections(proxy, groupby=KEYS, top=2)
    widget.selection = {"events": [10**9]}
    with pytest.raises(ValueError, match="outside"):
        _ = widget.selected
