"""The widget base: assets, the hg:hello protocol and selections mapped back to input rows."""

from __future__ import annotations

import hashlib

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from conftest import FAKE_ESM, FAKE_KERNEL, FAKE_WASM

import huntglass as hg
from huntglass._widget import AssetsMissingError


def frame(rows: int = 6, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "TimeGenerated": pd.date_range("2024-01-01", periods=rows, freq="min", tz="UTC"),
            "Computer": [f"host-{i % 2}" for i in range(rows)],
            "Row": list(range(start, start + rows)),
        },
        index=[f"r{i}" for i in range(start, start + rows)],
    )


def capture(widget) -> list[tuple[dict, list[bytes]]]:
    sent: list[tuple[dict, list[bytes]]] = []

    def send(content, buffers=None):
        sent.append((content, [bytes(b) for b in (buffers or [])]))

    widget.send = send
    return sent


def hello(widget, need_wasm: bool, need_kernel: bool = False) -> None:
    # What ipywidgets calls for a msg:custom from the front end.
    content = {"type": "hg:hello", "need_wasm": need_wasm, "need_kernel": need_kernel}
    widget._on_custom_msg(widget, content, [])


# --- assets ---------------------------------------------------------------------------------


def test_missing_assets_say_to_run_make_build(tmp_path, monkeypatch):
    monkeypatch.setenv("HUNTGLASS_STATIC_DIR", str(tmp_path / "nothing"))
    with pytest.raises(AssetsMissingError, match="make build") as info:
        hg.Timeline(frame())
    assert "widget.js" in str(info.value)


def test_missing_wasm_is_reported_when_the_widget_is_made(assets):
    (assets / "hg_wasm_bg.wasm").unlink()
    (assets / "VERSION").unlink()
    with pytest.raises(AssetsMissingError, match="hg_wasm_bg.wasm"):
        hg.Timeline(frame())


def test_esm_and_wasm_hash(assets):
    widget = hg.Timeline(frame())
    assert widget._esm == FAKE_ESM
    assert widget._wasm_hash == "0123456789abcdef"
    assert widget._kind == "timeline"
    (assets / "VERSION").unlink()
    assert hg.Timeline(frame())._wasm_hash == hashlib.sha256(FAKE_WASM).hexdigest()[:16]


def test_datasets_traitlet_announces_names_chunks_bytes_rows(assets):
    widget = hg.Timeline({"one": frame(3), "two": frame(5)})
    assert [d["name"] for d in widget._datasets] == ["one", "two"]
    assert [d["rows"] for d in widget._datasets] == [3, 5]
    assert all(d["chunks"] == 1 for d in widget._datasets)
    assert widget._datasets[0]["bytes"] == widget._hg_data["one"].stream.size


# --- hello protocol ------------------------------------------------------------------------


def test_hello_with_need_wasm_sends_wasm_then_every_chunk_in_order(assets):
    widget = hg.Timeline({"one": frame(3), "two": frame(5)})
    widget._hg_data["two"].chunks = hg._arrow.split_chunks(widget._hg_data["two"].stream, 100)
    sent = capture(widget)
    hello(widget, True)
    assert sent[0] == ({"type": "hg:wasm", "hash": "0123456789abcdef"}, [FAKE_WASM])
    data = sent[1:]
    names = [content["name"] for content, _ in data]
    assert names == ["one"] + ["two"] * len(widget._hg_data["two"].chunks)
    for name in ("one", "two"):
        parts = [(c, b) for c, b in data if c["name"] == name]
        assert [c["index"] for c, _ in parts] == list(range(len(parts)))
        assert {c["count"] for c, _ in parts} == {len(parts)}
        assert all(c["type"] == "hg:data" for c, _ in parts)
        assert all(len(b) == 1 and len(b[0]) <= hg._arrow.HG_CHUNK_BYTES for _, b in parts)
        whole = b"".join(b[0] for _, b in parts)
        assert whole == widget._hg_data[name].stream.to_pybytes()
    assert len(widget._hg_data["two"].chunks) > 1


def test_hello_without_need_wasm_sends_only_data(assets):
    widget = hg.Timeline(frame())
    sent = capture(widget)
    hello(widget, False)
    assert [c["type"] for c, _ in sent] == ["hg:data"]


def test_every_hello_is_answered(assets):
    widget = hg.Timeline(frame())
    sent = capture(widget)
    hello(widget, True)
    hello(widget, False)
    hello(widget, True)
    assert [c["type"] for c, _ in sent] == [
        "hg:wasm",
        "hg:data",
        "hg:data",
        "hg:wasm",
        "hg:data",
    ]


def test_only_widgets_that_run_operations_carry_and_send_the_engines_module(assets):
    timeline = hg.Timeline(frame())
    assert timeline._kernel_hash == ""
    sent = capture(timeline)
    hello(timeline, False, need_kernel=True)  # a confused front end: nothing to send
    assert [c["type"] for c, _ in sent] == ["hg:data"]

    view = hg.IocView(pd.DataFrame({"Text": ["ping 10.0.0.1"]}), columns=["Text"])
    assert view._kernel_hash == hashlib.sha256(FAKE_KERNEL).hexdigest()[:16]
    sent = capture(view)
    hello(view, True, need_kernel=True)
    assert [c["type"] for c, _ in sent] == ["hg:wasm", "hg:kernel", "hg:data"]
    assert sent[1] == ({"type": "hg:kernel", "hash": view._kernel_hash}, [FAKE_KERNEL])
    sent.clear()
    hello(view, False, need_kernel=False)
    assert [c["type"] for c, _ in sent] == ["hg:data"]

    (assets / "hg_kernel.wasm").unlink()
    sent.clear()
    hello(view, False, need_kernel=True)
    assert [c["type"] for c, _ in sent] == ["hg:error"]
    assert "hg_kernel.wasm" in sent[0][0]["message"]
    with pytest.raises(AssetsMissingError, match="hg_kernel.wasm"):
        hg.IocView("10.0.0.1")


def test_wasm_removed_after_creation_gives_hg_error(assets):
    widget = hg.Timeline(frame())
    (assets / "hg_wasm_bg.wasm").unlink()
    sent = capture(widget)
    hello(widget, True)
    assert len(sent) == 1
    assert sent[0][0]["type"] == "hg:error"
    assert "make build" in sent[0][0]["message"]


def test_other_messages_are_ignored(assets):
    widget = hg.Timeline(frame())
    sent = capture(widget)
    widget._on_custom_msg(widget, {"type": "something"}, [])
    widget._on_custom_msg(widget, "hg:hello", [])
    assert sent == []


def test_theme_is_checked(assets):
    assert hg.Timeline(frame(), theme="dark").theme == "dark"
    with pytest.raises(ValueError, match="theme"):
        hg.Timeline(frame(), theme="blue")


# --- selection -----------------------------------------------------------------------------


def test_selected_maps_rows_back_to_a_pandas_frame_with_its_index(assets):
    source = frame()
    widget = hg.Timeline(source)
    widget.selection = {"Events": [4, 1, 4]}
    picked = widget.selected
    assert isinstance(picked, pd.DataFrame)
    assert list(picked.index) == ["r1", "r4"]
    pd.testing.assert_frame_equal(picked, source.iloc[[1, 4]])


def test_selected_with_nothing_selected_is_empty_with_the_columns(assets):
    widget = hg.Timeline(frame())
    assert widget.selected.empty
    assert list(widget.selected.columns) == ["TimeGenerated", "Computer", "Row"]


def test_selected_over_several_data_sets_has_a_dataset_column(assets):
    widget = hg.Timeline({"first": frame(4), "second": frame(4, start=100)})
    widget.selection = {"second": [3], "first": [0, 2]}
    picked = widget.selected
    assert list(picked.columns) == ["dataset", "TimeGenerated", "Computer", "Row"]
    assert picked["dataset"].tolist() == ["first", "first", "second"]
    assert picked["Row"].tolist() == [0, 2, 103]
    assert list(picked.index) == ["r0", "r2", "r103"]


def test_selected_keeps_polars_and_pyarrow_flavours(assets):
    source = pl.from_pandas(frame().reset_index(drop=True))
    widget = hg.Timeline(source)
    widget.selection = {"Events": [5, 0]}
    assert isinstance(widget.selected, pl.DataFrame)
    assert widget.selected["Row"].to_list() == [0, 5]

    table = pa.Table.from_pandas(frame(), preserve_index=False)
    widget = hg.Timeline(table)
    widget.selection = {"Events": [2]}
    assert isinstance(widget.selected, pa.Table)
    assert widget.selected.column("Row").to_pylist() == [2]

    both = hg.Timeline({"pl": source, "pa": table})
    both.selection = {"pl": [1], "pa": [3]}
    picked = both.selected
    assert isinstance(picked, pd.DataFrame)
    assert picked["Row"].tolist() == [1, 3]
    assert picked["dataset"].tolist() == ["pl", "pa"]


def test_selected_of_a_c_stream_input_comes_from_the_table_read_once(assets):
    class Stream:
        def __init__(self, table):
            self.table = table

        def __arrow_c_stream__(self, requested_schema=None):
            return self.table.__arrow_c_stream__(requested_schema)

    widget = hg.Timeline(Stream(pa.Table.from_pandas(frame(), preserve_index=False)))
    widget.selection = {"Events": [1]}
    assert widget.selected.column("Row").to_pylist() == [1]


def test_selected_refuses_bad_rows_and_unknown_data_sets(assets):
    widget = hg.Timeline(frame(3))
    widget.selection = {"Events": [3]}
    with pytest.raises(ValueError, match=r"row 3 is outside 0\.\.2"):
        _ = widget.selected
    widget.selection = {"Events": ["1"]}
    with pytest.raises(ValueError, match="not a row number"):
        _ = widget.selected
    widget.selection = {"Other": [0]}
    with pytest.raises(ValueError, match="'Other'"):
        _ = widget.selected


def test_datasets_property_is_what_is_sent(assets):
    widget = hg.Timeline(frame(), source_columns=["Row"])
    table = widget.datasets["Events"]
    assert table.schema.names == ["TimeGenerated", "Row"]
    sent = capture(widget)
    hello(widget, False)
    assert pa.ipc.open_stream(sent[0][1][0]).read_all().equals(table)
