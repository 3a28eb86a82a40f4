"""The IocView widget's Python side: spec, data sent, keywords, errors and selection mapping."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import huntglass as hg
from huntglass.ioc_view import DATASET


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "CommandLine": [
                "ping 10.0.0.1",
                "<script>alert(1)</script> evil.com",
                None,
                "curl http://bad.example.com/x",
            ],
            "Port": [1, 2, 3, 4],
        },
        index=["a", "b", "c", "d"],
    )


def read_stream(widget) -> pa.Table:
    data = widget._hg_data[DATASET]
    whole = b"".join(bytes(c) for c in data.chunks)
    return pa.ipc.open_stream(whole).read_all()


def test_spec_and_data_of_a_dataframe(assets):
    widget = hg.IocView(frame(), columns=["CommandLine", "Port"], ioc_types=["ipv4", "dns"])
    assert widget._kind == "ioc_view"
    assert widget.spec == {
        "dataset": "records",
        "columns": ["CommandLine", "Port"],
        "types": ["ipv4", "dns"],
        "include_paths": False,
        "defanged": True,
        "ignore_tlds": False,
        "title": "Indicators",
        "height": 420.0,
    }
    table = read_stream(widget)
    assert table.column_names == ["CommandLine", "Port"]
    # Text as is (hostile text too), nulls stay null, numbers as their text (as hg.ioc scans them).
    assert table.column("CommandLine").to_pylist() == [
        *frame()["CommandLine"].tolist()[:2],
        None,
        "curl http://bad.example.com/x",
    ]
    assert table.column("Port").to_pylist() == ["1", "2", "3", "4"]
    assert widget._datasets == [
        {"name": "records", "chunks": 1, "bytes": widget._hg_data[DATASET].stream.size, "rows": 4}
    ]


def test_string_input_is_one_record_with_paths_included(assets):
    widget = hg.IocView("see C:\\Windows\\x.exe and 10.0.0.1")
    assert widget.spec["columns"] == ["Text"]
    assert widget.spec["include_paths"] is True
    assert read_stream(widget).column("Text").to_pylist() == ["see C:\\Windows\\x.exe and 10.0.0.1"]
    with pytest.raises(TypeError, match="columns applies to a DataFrame"):
        hg.IocView("text", columns=["A"])


def test_accessor_and_function_and_keywords(assets):
    widget = frame().hg.ioc_view(
        columns="CommandLine", include_paths=True, ignore_tlds=True, height=300, title="T"
    )
    assert isinstance(widget, hg.IocView)
    assert widget.spec["columns"] == ["CommandLine"]
    assert widget.spec["include_paths"] is True
    assert widget.spec["ignore_tlds"] is True
    assert widget.spec["height"] == 300.0
    assert widget.spec["title"] == "T"
    assert hg.ioc_view(frame(), ["CommandLine"], theme="dark").theme == "dark"
    assert hg.IocView(frame(), "CommandLine", ioc_types="file_hash").spec["types"] == ["file_hash"]


def test_errors_name_what_is_wrong(assets):
    with pytest.raises(ValueError, match="columns is required.*'CommandLine', 'Port'"):
        hg.IocView(frame())
    with pytest.raises(ValueError, match="column 'Nope' not found.*'CommandLine'"):
        hg.IocView(frame(), columns=["Nope"])
    with pytest.raises(ValueError, match="unknown IoC type 'ip'.*ipv4"):
        hg.IocView(frame(), columns="CommandLine", ioc_types=["ip"])
    with pytest.raises(ValueError, match="height"):
        hg.IocView(frame(), columns="CommandLine", height=5)
    with pytest.raises(TypeError, match="expected a string, a pandas"):
        hg.IocView(42)


def test_selection_maps_back_to_the_input_rows(assets):
    df = frame()
    widget = hg.IocView(df, columns=["CommandLine"])
    assert widget.selected.empty
    widget.selection = {"records": [3, 1]}
    pd.testing.assert_frame_equal(widget.selected, df.iloc[[1, 3]])
    widget.selection = {"records": [9]}
    with pytest.raises(ValueError, match="outside 0..3"):
        _ = widget.selected


def test_selection_keeps_polars_and_pyarrow(assets):
    pdf = frame().reset_index(drop=True)
    polars = pl.from_pandas(pdf)
    widget = hg.IocView(polars, columns=["CommandLine"])
    widget.selection = {"records": [0]}
    assert isinstance(widget.selected, pl.DataFrame)
    assert widget.selected["CommandLine"].to_list() == ["ping 10.0.0.1"]
    table = pa.Table.from_pandas(pdf, preserve_index=False)
    widget = hg.IocView(table, columns="CommandLine")
    widget.selection = {"records": [3]}
    assert widget.selected.column("CommandLine").to_pylist() == ["curl http://bad.example.com/x"]


def test_repeating_text_is_dictionary_encoded(assets):
    df = pd.DataFrame({"Url": ["http://evil.com/a", "http://evil.com/b"] * 2000})
    widget = hg.IocView(df, columns="Url")
    assert pa.types.is_dictionary(read_stream(widget).schema.field("Url").type)
    assert widget._hg_data[DATASET].rows == 4000
