"""Input normalization and serialization (huntglass._arrow)."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from huntglass._arrow import (
    HG_CHUNK_BYTES,
    UTC_NS,
    normalize_column,
    prepare,
    split_chunks,
    to_arrow_table,
    to_ipc_stream,
)

INSTANT = pd.Timestamp("2024-03-10 12:34:56.789", tz="UTC")


def read_stream(buffer) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(bytes(buffer))).read_all()


def times_of(table: pa.Table, column: str) -> list[int]:
    return table.column(column).cast(pa.int64()).to_pylist()


class ArrowStream:
    """A third-party table that only speaks the Arrow PyCapsule stream interface."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


class ArrowArray:
    """A third-party record batch that only speaks the Arrow PyCapsule array interface."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self._batch = batch

    def __arrow_c_array__(self, requested_schema=None):
        return self._batch.__arrow_c_array__(requested_schema)


def sample_pandas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "TimeGenerated": pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC"),
            "Computer": ["host-b", "host-a", None, "host-b"],
            "Bytes": [1, 2, 3, 4],
            "Unused": ["x", "y", "z", "w"],
        },
        index=[40, 10, 30, 20],
    )


# --- input flavours -------------------------------------------------------------------------


def test_pandas_keeps_row_order_drops_index_and_sends_only_needed_columns():
    data = prepare(
        sample_pandas(),
        {"TimeGenerated": "time", "Computer": "display", "Bytes": "number"},
        name="d",
    )
    assert data.table.schema.names == ["TimeGenerated", "Computer", "Bytes"]
    assert data.table.column("Computer").to_pylist() == ["host-b", "host-a", None, "host-b"]
    assert data.table.column("Bytes").to_pylist() == [1, 2, 3, 4]
    assert "__index_level_0__" not in data.table.schema.names
    assert data.table.schema.field("TimeGenerated").type == UTC_NS
    assert data.flavour == "pandas"
    assert data.rows == 4
    assert read_stream(data.stream).equals(data.table)


def test_named_index_serves_as_a_column_when_asked_for():
    frame = sample_pandas().set_index("TimeGenerated")
    data = prepare(frame, {"TimeGenerated": "time", "Computer": "display"}, name="d")
    assert times_of(data.table, "TimeGenerated") == times_of(
        prepare(sample_pandas(), {"TimeGenerated": "time"}, name="d").table, "TimeGenerated"
    )


def test_polars_input():
    frame = pl.DataFrame(
        {
            "TimeGenerated": [dt.datetime(2024, 1, 1, 1), dt.datetime(2024, 1, 1, 2)],
            "Computer": ["a", None],
            "Kind": pl.Series(["x", "y"], dtype=pl.Categorical),
        }
    )
    data = prepare(
        frame, {"TimeGenerated": "time", "Computer": "display", "Kind": "display"}, name="p"
    )
    assert data.flavour == "polars"
    schema = data.table.schema
    assert schema.field("TimeGenerated").type == UTC_NS
    assert schema.field("Computer").type == pa.string()  # polars sends string_view / large
    assert pa.types.is_dictionary(schema.field("Kind").type)
    assert schema.field("Kind").type.value_type == pa.string()
    assert data.table.column("Kind").to_pylist() == ["x", "y"]


def test_pyarrow_table_record_batch_and_reader():
    table = pa.table({"TimeGenerated": pa.array([1, 2], pa.timestamp("s")), "v": [1.5, None]})
    for source in (table, table.to_batches()[0], pa.RecordBatchReader.from_batches(
        table.schema, table.to_batches()
    )):  # fmt: skip
        data = prepare(source, {"TimeGenerated": "time", "v": "number"}, name="t")
        assert times_of(data.table, "TimeGenerated") == [1_000_000_000, 2_000_000_000]
        assert data.table.column("v").to_pylist() == [1.5, None]


def test_arrow_c_stream_and_c_array_objects():
    table = pa.table({"TimeGenerated": pa.array([5], pa.timestamp("ms")), "s": ["a"]})
    for source in (ArrowStream(table), ArrowArray(table.to_batches()[0])):
        data = prepare(source, {"TimeGenerated": "time", "s": "display"}, name="c")
        assert times_of(data.table, "TimeGenerated") == [5_000_000]
        assert data.table.column("s").to_pylist() == ["a"]
        # The stream is read once; the whole table is kept for `selected`.
        assert isinstance(data.original, pa.Table)
        assert data.original.schema.names == ["TimeGenerated", "s"]


def test_unsupported_input_type_is_refused():
    with pytest.raises(TypeError, match="pandas or polars DataFrame"):
        to_arrow_table([1, 2, 3])


# --- timestamps -------------------------------------------------------------------------------

ZONES = [None, "UTC", "Europe/Paris", "America/New_York", "+05:30", "Asia/Kolkata"]
UNITS = ["s", "ms", "us", "ns"]


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("zone", ZONES)
def test_arrow_timestamps_of_every_unit_and_zone_become_utc_ns(unit, zone):
    instant = INSTANT.floor("s") if unit == "s" else INSTANT
    wall = instant.tz_convert(zone).tz_localize(None) if zone else instant.tz_localize(None)
    # Arrow stores UTC values whatever the zone; a naive column holds the wall time as UTC.
    stored = instant if zone else wall.tz_localize("UTC")
    per_unit = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit]
    column = pa.array([stored.value // per_unit, None], pa.timestamp(unit, tz=zone))
    data = prepare(pa.table({"t": column}), {"t": "time"}, name="z")
    assert data.table.schema.field("t").type == UTC_NS
    assert times_of(data.table, "t") == [stored.as_unit("ns").value, None]


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("zone", [None, "UTC", "Europe/Paris", "Asia/Kolkata"])
def test_pandas_timestamps_of_every_unit_and_zone_become_utc_ns(unit, zone):
    instant = INSTANT.floor("s") if unit == "s" else INSTANT
    series = pd.Series([instant, pd.NaT]).dt.tz_convert(zone) if zone else pd.Series(
        [instant.tz_localize(None), pd.NaT]
    )  # fmt: skip
    series = series.astype(f"datetime64[{unit}, {zone}]" if zone else f"datetime64[{unit}]")
    data = prepare(pd.DataFrame({"t": series}), {"t": "time"}, name="z")
    assert data.table.schema.field("t").type == UTC_NS
    # Naive values are taken as UTC, zoned values are converted: both give the same instant.
    assert times_of(data.table, "t") == [instant.as_unit("ns").value, None]


def test_dates_become_midnight_utc():
    table = pa.table(
        {
            "d32": pa.array([dt.date(2024, 1, 2)], pa.date32()),
            "d64": pa.array([dt.date(2024, 1, 2)], pa.date64()),
        }
    )
    data = prepare(table, {"d32": "time", "d64": "time"}, name="d")
    midnight = pd.Timestamp("2024-01-02", tz="UTC").value
    assert times_of(data.table, "d32") == [midnight]
    assert times_of(data.table, "d64") == [midnight]


def test_object_and_string_time_columns_are_parsed():
    frame = pd.DataFrame(
        {
            "iso": ["2024-01-01T00:00:00Z", "2024-01-01 02:00:00+02:00", None],
            "objects": pd.Series(
                [
                    dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                    dt.datetime(2024, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                    None,
                ],
                dtype=object,
            ),
            "mixed": ["2024-01-01", "Jan 1 2024 00:00", "01 January 2024"],
            "naive": ["2024-01-01 00:00:00.000", "2024-01-01 00:00:00.000", ""],
        }
    )
    data = prepare(frame, dict.fromkeys(frame.columns, "time"), name="s")
    midnight = pd.Timestamp("2024-01-01", tz="UTC").value
    for column in frame.columns:
        assert data.table.schema.field(column).type == UTC_NS
        assert times_of(data.table, column)[:2] == [midnight, midnight], column
    assert times_of(data.table, "iso")[2] is None
    assert times_of(data.table, "naive")[2] is None


def test_arrow_string_time_column_is_parsed():
    table = pa.table({"t": pa.array(["2024-01-01T00:00:00Z", None], pa.large_string())})
    data = prepare(table, {"t": "time"}, name="s")
    assert times_of(data.table, "t") == [pd.Timestamp("2024-01-01", tz="UTC").value, None]


def test_unparseable_time_names_the_column():
    frame = pd.DataFrame({"When": ["2024-01-01", "not a time"]})
    with pytest.raises(ValueError, match=r"'When'.*could not be parsed"):
        prepare(frame, {"When": "time"}, name="s")


def test_time_outside_nanosecond_range_is_an_error_for_the_time_column():
    table = pa.table({"t": pa.array([dt.datetime(3000, 1, 1)], pa.timestamp("us"))})
    with pytest.raises(ValueError, match=r"'t'.*outside the range"):
        prepare(table, {"t": "time"}, name="s")
    # As a tooltip column it keeps its unit instead.
    shown = prepare(table, {"t": "display"}, name="s").table.schema.field("t").type
    assert shown == pa.timestamp("us", tz="UTC")


# --- other types ----------------------------------------------------------------------------


def test_categoricals_become_string_dictionaries_and_others_are_decoded():
    frame = pd.DataFrame(
        {
            "cat": pd.Categorical(["b", "a", None, "b"]),
            "intcat": pd.Categorical([3, 1, 3, None]),
        }
    )
    table = prepare(frame, {"cat": "display", "intcat": "display"}, name="c").table
    cat_type = table.schema.field("cat").type
    assert pa.types.is_dictionary(cat_type)
    assert cat_type.value_type == pa.string()
    assert table.column("cat").to_pylist() == ["b", "a", None, "b"]
    assert pa.types.is_integer(table.schema.field("intcat").type)
    assert table.column("intcat").to_pylist() == [3, 1, 3, None]


def test_dictionaries_of_large_strings_with_several_chunks_share_one_dictionary():
    first = pa.array(["x", "y"], pa.large_string()).dictionary_encode()
    second = pa.array(["z", "x"], pa.large_string()).dictionary_encode()
    column = pa.chunked_array([first, second])
    data = prepare(pa.table({"d": column}), {"d": "display"}, name="d")
    assert data.table.schema.field("d").type.value_type == pa.string()
    dictionaries = [chunk.dictionary for chunk in data.table.column("d").chunks]
    assert all(d.equals(dictionaries[0]) for d in dictionaries)
    assert read_stream(data.stream).column("d").to_pylist() == ["x", "y", "z", "x"]


def test_dictionary_time_and_number_columns_are_decoded():
    table = pa.table(
        {
            "t": pa.array(["2024-01-01", "2024-01-02"]).dictionary_encode(),
            "n": pa.array([1.5, 2.5]).dictionary_encode(),
        }
    )
    data = prepare(table, {"t": "time", "n": "number"}, name="d")
    assert data.table.schema.field("t").type == UTC_NS
    assert data.table.column("n").to_pylist() == [1.5, 2.5]


@pytest.mark.parametrize("type_", [pa.string(), pa.large_string(), pa.string_view()])
def test_large_and_view_strings_become_utf8(type_):
    table = pa.table({"s": pa.array(["a", None, "ccc"], type_)})
    data = prepare(table, {"s": "display"}, name="s")
    assert data.table.schema.field("s").type == pa.string()
    assert data.table.column("s").to_pylist() == ["a", None, "ccc"]


def test_pandas3_default_strings_become_utf8():
    frame = pd.DataFrame({"s": ["a", None, "b"]})
    data = prepare(frame, {"s": "display"}, name="s")
    assert data.table.schema.field("s").type == pa.string()
    assert data.table.column("s").to_pylist() == ["a", None, "b"]


def test_nulls_in_every_role():
    frame = pd.DataFrame(
        {
            "t": [None, None],
            "n": [None, None],
            "s": [None, None],
            "ints": pd.array([1, None], dtype="Int64"),
            "floats": [1.0, np.nan],
        }
    )
    table = prepare(
        frame,
        {"t": "time", "n": "number", "s": "display", "ints": "number", "floats": "number"},
        name="n",
    ).table
    assert table.schema.field("t").type == UTC_NS
    assert table.column("t").to_pylist() == [None, None]
    assert table.schema.field("n").type == pa.float64()
    assert table.schema.field("s").type == pa.string()
    assert table.schema.field("ints").type == pa.int64()
    assert table.column("ints").to_pylist() == [1, None]
    assert table.column("floats").to_pylist()[0] == 1.0


def test_mixed_object_binary_nested_and_decimal_columns():
    frame = pd.DataFrame({"mixed": [1, "two", None, b"\xff\x00", {"k": [1, 2]}, 2.5]})
    table = prepare(frame, {"mixed": "display"}, name="m").table
    assert table.column("mixed").to_pylist() == [
        "1",
        "two",
        None,
        "\\xff\x00",
        '{"k": [1, 2]}',
        "2.5",
    ]
    arrow = pa.table(
        {
            "bin": pa.array([b"ab", None], pa.binary()),
            "lst": pa.array([[1, 2], None], pa.list_(pa.int64())),
            "dec": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(5, 2)),
            "half": pa.array([np.float16(1.5), None], pa.float16()),
            "flag": [True, None],
        }
    )
    roles = {"bin": "display", "lst": "display", "dec": "number", "half": "number"}
    table = prepare(arrow, {**roles, "flag": "display"}, name="m").table
    assert table.column("bin").to_pylist() == ["ab", None]
    assert table.column("lst").to_pylist() == ["[1, 2]", None]
    assert table.schema.field("dec").type == pa.float64()
    assert table.column("dec").to_pylist() == [1.25, None]
    assert table.schema.field("half").type == pa.float32()
    assert table.schema.field("flag").type == pa.bool_()


def test_joined_group_key():
    frame = pd.DataFrame({"a": ["x", "y", None], "b": pd.Categorical(["1", "2", "3"])})
    data = prepare(frame, {"a": "display", "b": "display"}, name="j", joined={"a / b": ["a", "b"]})
    assert data.table.column("a / b").to_pylist() == ["x / 1", "y / 2", None]


# --- errors ---------------------------------------------------------------------------------


def test_missing_column_names_it_and_the_columns_that_exist():
    with pytest.raises(ValueError, match="Nope") as info:
        prepare(sample_pandas(), {"Nope": "time"}, name="d", uses={"Nope": "time_column"})
    message = str(info.value)
    assert "time_column" in message
    for column in ("TimeGenerated", "Computer", "Bytes", "Unused"):
        assert column in message
    for source in (pl.from_pandas(sample_pandas()), pa.Table.from_pandas(sample_pandas())):
        with pytest.raises(ValueError, match=r"'Nope'.*'TimeGenerated', 'Computer'"):
            prepare(source, {"Nope": "display"}, name="d")


def test_mistyped_columns_name_the_column_the_type_and_the_columns():
    with pytest.raises(ValueError, match=r"'Computer' \(value_column\) must be numeric") as info:
        prepare(
            sample_pandas(), {"Computer": "number"}, name="d", uses={"Computer": "value_column"}
        )
    assert "'Bytes'" in str(info.value)
    with pytest.raises(ValueError, match=r"'Bytes'.*must be a timestamp.*found int64"):
        prepare(sample_pandas(), {"Bytes": "time"}, name="d")


def test_duplicate_pandas_column_is_an_error():
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ValueError, match="'a' appears more than once"):
        prepare(frame, {"a": "display"}, name="d")


def test_normalize_column_accepts_plain_arrays():
    column = normalize_column(pa.array(["a"], pa.large_string()), "display", column="c", what="w")
    assert column.type == pa.string()


# --- chunking -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 9, 10, 11, 100])
def test_split_chunks_bounds_and_reassembly(size):
    payload = bytes(range(256)) * 2
    payload = payload[:size]
    chunks = split_chunks(payload, 10)
    assert all(len(c) <= 10 for c in chunks)
    assert b"".join(bytes(c) for c in chunks) == payload
    assert len(chunks) == max(1, -(-size // 10))


def test_split_chunks_refuses_a_non_positive_size():
    with pytest.raises(ValueError, match="positive"):
        split_chunks(b"abc", 0)


def test_large_frame_is_cut_into_chunks_of_at_most_8_mib_that_reassemble():
    rows = 300_000
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "TimeGenerated": pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 86_400_000, rows), unit="ms"),
            "Computer": pd.Categorical(rng.choice(["a", "b", "c", "d"], rows)),
            "CommandLine": [f"cmd.exe /c echo {i:08d} " + "x" * 20 for i in range(rows)],
        }
    )
    data = prepare(
        frame, {"TimeGenerated": "time", "Computer": "display", "CommandLine": "display"}, name="L"
    )
    assert data.stream.size > HG_CHUNK_BYTES
    assert len(data.chunks) >= 2
    assert all(len(chunk) <= HG_CHUNK_BYTES for chunk in data.chunks)
    whole = b"".join(bytes(chunk) for chunk in data.chunks)
    assert whole == data.stream.to_pybytes()
    back = read_stream(whole)
    assert back.num_rows == rows
    assert back.column("CommandLine")[123_456].as_py() == frame["CommandLine"].iloc[123_456]


def test_empty_table_is_one_small_chunk():
    frame = sample_pandas().iloc[0:0]
    data = prepare(frame, {"TimeGenerated": "time", "Computer": "display"}, name="e")
    assert data.rows == 0
    assert len(data.chunks) == 1
    assert read_stream(data.chunks[0]).schema.names == ["TimeGenerated", "Computer"]


def test_ipc_stream_round_trip():
    table = pa.table({"a": [1, 2, 3]})
    assert read_stream(to_ipc_stream(table)).equals(table)


def test_long_repeating_text_is_dictionary_encoded_and_unique_text_is_not():
    rows = 5000
    hosts = [f"host-{i % 7}" if i % 11 else None for i in range(rows)]
    unique = [f"cmd {i}" for i in range(rows)]
    table = pa.Table.from_batches(
        pa.table({"host": pa.array(hosts, pa.large_string()), "cmd": unique}).to_batches(
            max_chunksize=1500
        )
    )
    data = prepare(table, {"host": "display", "cmd": "display"}, name="d")
    host_type = data.table.schema.field("host").type
    assert pa.types.is_dictionary(host_type)
    assert host_type.value_type == pa.string()
    assert data.table.schema.field("cmd").type == pa.string()
    back = read_stream(data.stream)
    assert back.column("host").to_pylist() == hosts
    assert back.column("cmd").to_pylist() == unique
    # One dictionary for the whole column, whatever the input's chunks.
    chunks = back.column("host").chunks
    assert all(chunk.dictionary.equals(chunks[0].dictionary) for chunk in chunks)
    assert len(chunks[0].dictionary) == 7


def test_short_text_stays_plain():
    data = prepare(pa.table({"s": ["a"] * 100}), {"s": "display"}, name="d")
    assert data.table.schema.field("s").type == pa.string()


def test_deeply_nested_and_circular_values_are_shown_without_crashing():
    deep: list = []
    cursor = deep
    for _ in range(100_000):
        cursor.append([])
        cursor = cursor[0]
    circular: dict = {}
    circular["self"] = circular
    frame = pd.DataFrame({"v": pd.Series([deep, circular, "ok"], dtype=object)})
    table = prepare(frame, {"v": "display"}, name="n").table
    assert table.column("v").to_pylist() == [
        "(list nested too deeply to display)",
        "(dict nested too deeply to display)",
        "ok",
    ]
