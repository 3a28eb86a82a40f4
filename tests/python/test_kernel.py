"""The kernel runtime: hg_kernel.wasm loaded by wasmtime, ops called with Arrow in and out."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from huntglass import AssetsMissingError, _kernel
from huntglass._widget import STATIC_DIR


def _require_kernel() -> None:
    if not (STATIC_DIR / _kernel.KERNEL_FILE).is_file():
        message = f"{_kernel.KERNEL_FILE} not built (run `make build`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def kernel_built() -> None:
    _require_kernel()


def _texts(*values: str | None) -> pa.Table:
    return pa.table({"Text": pa.array(list(values), pa.string())})


def test_call_extract_returns_the_op_columns() -> None:
    out = _kernel.call(
        "ioc.extract", {"columns": ["Text"]}, _texts("c2 hxxp://evil[.]com/a", None, "10.0.0.1")
    )
    assert out.column_names == [
        "IoCType",
        "Observable",
        "Canonical",
        "SourceIndex",
        "Column",
        "Start",
        "End",
    ]
    assert out.to_pylist() == [
        {
            "IoCType": "url",
            "Observable": "hxxp://evil[.]com/a",
            "Canonical": "http://evil.com/a",
            "SourceIndex": 0,
            "Column": "Text",
            "Start": 3,
            "End": 22,
        },
        {
            "IoCType": "dns",
            "Observable": "evil[.]com",
            "Canonical": "evil.com",
            "SourceIndex": 0,
            "Column": "Text",
            "Start": 10,
            "End": 20,
        },
        {
            "IoCType": "ipv4",
            "Observable": "10.0.0.1",
            "Canonical": "10.0.0.1",
            "SourceIndex": 2,
            "Column": "Text",
            "Start": 0,
            "End": 8,
        },
    ]


@pytest.mark.parametrize(
    ("op", "options", "message"),
    [
        (
            "ioc.extract",
            {"columns": ["Cmd"]},
            "ioc.extract: column 'Cmd' not found; available columns: Text",
        ),
        ("ioc.nope", {}, "unknown operation 'ioc.nope'; available operations: ioc.extract"),
        (
            "ioc.extract",
            {"columns": ["Text"], "typo": 1},
            "ioc.extract: unknown option 'typo'; valid options: columns, types",
        ),
        (
            "ioc.extract",
            {"columns": ["Text"], "defanged": "no"},
            "ioc.extract: option 'defanged': invalid type",
        ),
        ("ioc.extract", {}, "ioc.extract: option 'columns' is required"),
    ],
)
def test_errors_are_value_errors_with_the_rust_message(op, options, message) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        _kernel.call(op, options, _texts("x"))


def test_bad_ipc_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Arrow IPC error"):
        _kernel.call_bytes("ioc.extract", {"columns": ["Text"]}, b"\xff" * 100)


def test_operations_lists_the_registry() -> None:
    ops = {op["name"]: op for op in _kernel.operations()}
    # The registry of hg_ops (crates/hg_ops/tests/ops.rs keeps the same list on the Rust side).
    assert list(ops) == [
        "ioc.extract",
        "ioc.validate",
        "ioc.type_of",
        "sessions.build",
        "sessions.train",
        "sessions.score",
        "sessions.score_events",
        "decode.unpack",
        "proctree.build",
        "timeseries.stl",
        "timeseries.periodic",
    ]
    names = [o["name"] for o in ops["ioc.extract"]["options"]]
    assert names == ["columns", "types", "include_paths", "defanged", "ignore_tlds"]


def test_abi_refuses_ranges_outside_its_buffers() -> None:
    def misuse(kernel):
        store, fn = kernel._store, kernel._fn
        results = []
        for args in [
            (0, 11, 0, 0, 0, 0),  # address 0 is no buffer
            (kernel._memory.data_len(store) - 4, 8, 0, 0, 0, 0),  # past the end of memory
            (-16, 8, 0, 0, 0, 0),  # wraps to the top of the address space
        ]:
            handle = fn["hg_call"](store, *args)
            results.append(kernel._take_result(handle))
        ptr = fn["hg_alloc"](store, 16)
        results.append(fn["hg_free"](store, ptr, 15))  # wrong length: refused
        results.append(fn["hg_free"](store, ptr, 16))
        results.append(fn["hg_free"](store, ptr, 16))  # double free: refused
        return results

    *calls, wrong_len, freed, double = _kernel._guarded(misuse, "test")
    for status, message in calls:
        assert status == 2
        assert b"not inside a buffer from hg_alloc" in message
    assert (wrong_len, freed, double) == (-1, 0, -1)
    # The instance still works.
    assert _kernel.call("ioc.extract", {"columns": "Text"}, _texts("8.8.8.8")).num_rows == 1


def test_concurrent_calls_from_threads_agree() -> None:
    table = _texts(*[f"host{i}.example.com 10.0.{i % 256}.1" for i in range(300)])
    expected = _kernel.call("ioc.extract", {"columns": ["Text"]}, table)
    results: list[pa.Table] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                results.append(_kernel.call("ioc.extract", {"columns": ["Text"]}, table))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 20
    assert all(r.equals(expected) for r in results)


def test_missing_asset_says_run_make_build(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HUNTGLASS_STATIC_DIR", str(tmp_path))
    _kernel.reset()
    try:
        with pytest.raises(AssetsMissingError, match=r"hg_kernel\.wasm.*`make build`"):
            _kernel.call("ioc.extract", {"columns": ["Text"]}, _texts("x"))
    finally:
        monkeypatch.undo()
        _kernel.reset()


def test_compiled_module_is_cached_on_disk(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HUNTGLASS_CACHE_DIR", str(tmp_path))
    _kernel.reset()
    try:
        first = _kernel.call("ioc.extract", {"columns": ["Text"]}, _texts("1.2.3.4"))
        cached = list(tmp_path.glob("hg_kernel-*.cwasm"))
        assert len(cached) == 1
        stamp = cached[0].stat().st_mtime_ns
        _kernel.reset()
        second = _kernel.call("ioc.extract", {"columns": ["Text"]}, _texts("1.2.3.4"))
        assert second.equals(first)
        assert cached[0].stat().st_mtime_ns == stamp, "loaded, not rewritten"
        # A damaged cache file is compiled again and replaced.
        cached[0].write_bytes(b"garbage")
        _kernel.reset()
        third = _kernel.call("ioc.extract", {"columns": ["Text"]}, _texts("1.2.3.4"))
        assert third.equals(first)
        assert cached[0].stat().st_size > 1000
    finally:
        monkeypatch.undo()
        _kernel.reset()
