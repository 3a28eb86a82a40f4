"""Differential test of hg_decode against msticpy 3.0.2's base64 unpacking.

Runs the reference (`msticpy.transform.base64unpack.unpack`, string mode, in .venv-ref) and our
engine (the `unpack_jsonl` example of hg_decode, in its default and its reference mode) on the
same inputs: the reference's two sample files plus a seeded generated set whose rows carry the
innermost plaintext a correct decoder must reveal. Writes bench/decode/results/parity.md and
exits non-zero if a reference row that should match does not.

Usage: .venv-ref/bin/python bench/decode/parity.py [--rows 600] [--seed 11]
(needs `cargo`; set CARGO_TARGET_DIR to reuse a build).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "data" / "msticpy-testdata"
RESULTS = Path(__file__).resolve().parent / "results"

# Why our default mode differs, per generated kind (rows where the reference's output and
# ours are not the same set of layers).
REASONS = {
    "ps_enc_utf16": "the reference reads UTF-16LE as UTF-8 with NULs (utf16=False); we detect "
    "UTF-16LE (same bytes and hashes, readable text)",
    "b64_zlib": "the reference leaves zlib compressed (binary row, hashes of the compressed "
    "bytes); we decompress",
    "b64_deflate": "the reference leaves raw deflate compressed; we inflate PowerShell's "
    "DeflateStream payloads",
    "b64_zip_gz": "the reference reports the .gz member compressed; we add its decompressed "
    "child layer",
    "b64_duplicate": "the reference reports a repeated candidate once; we report every occurrence",
    "hex": "the reference has no hex decoder; where the digit count is a multiple of 4 it "
    "decodes the hex digits as base64 (binary noise, the *ref rows*); we decode them as hex",
    "b64_zip_stored": "the reference recognises zips only by the base64 prefix of a deflated "
    "first member (`UEsDBBQAAAAIA`), so a stored zip is one binary row; we recognise the "
    "signature and report its members",
    "char_codes": "not decoded by the reference (no char-code decoder)",
}


def build_example() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "hg_decode", "--example", "unpack_jsonl"],
        cwd=ROOT,
        check=True,
    )
    return target / "release" / "examples" / "unpack_jsonl"


def run_ours(binary: Path, inputs_path: Path, n: int, *flags: str) -> list[list[dict]]:
    out = subprocess.run(
        [str(binary), *flags, str(inputs_path)], capture_output=True, text=True, check=True
    ).stdout
    rows: list[list[dict]] = [[] for _ in range(n)]
    for line in out.splitlines():
        r = json.loads(line)
        rows[r["row"]].append(r)
    return rows


def run_reference(texts: list[str]) -> tuple[list[list[dict]], list[str], float]:
    from msticpy.transform import base64unpack

    rows, fulls = [], []
    start = time.perf_counter()
    for text in texts:
        full, df = base64unpack.unpack(text)
        recs = []
        for rec in df.to_dict("records") if df is not None else []:
            recs.append(
                {
                    "reference": list(rec["reference"]),
                    "file_name": rec["file_name"],
                    "file_type": rec["file_type"],
                    "encoding_type": rec["encoding_type"],
                    "decoded_string": rec["decoded_string"],
                    "md5": rec["md5"],
                    "sha1": rec["sha1"],
                    "sha256": rec["sha256"],
                    "original_string": rec["original_string"],
                }
            )
        rows.append(recs)
        fulls.append(full)
    return rows, fulls, time.perf_counter() - start


def key(r: dict) -> tuple:
    return (
        r["md5"],
        r["sha1"],
        r["sha256"],
        r["decoded_string"],
        r["file_name"],
        r["file_type"],
        r["encoding_type"],
    )


def matched(ref: list[dict], ours: list[dict], k) -> int:
    have = collections.Counter(k(r) for r in ours)
    n = 0
    for r in ref:
        if have[k(r)] > 0:
            have[k(r)] -= 1
            n += 1
    return n


def reveals(rows: list[dict], truth: str) -> bool:
    return any(truth in (r["decoded_string"] or "") for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=600)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    binary = build_example()
    with tempfile.TemporaryDirectory() as tmp:
        gen_in, gen_meta = Path(tmp) / "in.jsonl", Path(tmp) / "meta.jsonl"
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("gen_workload.py")),
                *("--kind", "parity", "--rows", str(args.rows), "--seed", str(args.seed)),
                *("--out", str(gen_in), "--meta-out", str(gen_meta)),
            ],
            check=True,
        )
        texts = [json.loads(line) for line in gen_in.read_text().splitlines()]
        meta = [json.loads(line) for line in gen_meta.read_text().splitlines()]
        for name in ["base64msg.txt", "b64text_inzip.txt"]:
            texts.append((SAMPLES / name).read_text())
            meta.append({"kind": f"sample {name}", "truth": ""})
        all_in = Path(tmp) / "all.jsonl"
        all_in.write_text("".join(json.dumps(t) + "\n" for t in texts))
        ours = run_ours(binary, all_in, len(texts))
        refmode = run_ours(binary, all_in, len(texts), "--reference-mode")
    ref, ref_full, ref_seconds = run_reference(texts)

    by_kind: dict[str, dict] = collections.defaultdict(lambda: collections.Counter())
    failures = []
    for i, m in enumerate(meta):
        c = by_kind[m["kind"]]
        c["inputs"] += 1
        c["ref_rows"] += len(ref[i])
        c["our_rows"] += len(ours[i])
        c["refmode_rows"] += len(refmode[i])
        c["refmode_matched"] += matched(ref[i], refmode[i], key)
        c["hash_matched"] += matched(ref[i], ours[i], lambda r: (r["md5"], r["sha256"]))
        if m["truth"]:
            c["ref_reveals"] += reveals(ref[i], m["truth"])
            c["our_reveals"] += reveals(ours[i], m["truth"])
        same_full = refmode[i][0]["full_decoded_string"] if refmode[i] else texts[i]
        c["full_equal"] += same_full == ref_full[i]
        # Reference mode must reproduce every reference row except the documented quirks.
        quirky = m["kind"] == "b64_duplicate" or m["kind"].startswith("sample")
        if not quirky and matched(ref[i], refmode[i], key) != len(ref[i]):
            failures.append((i, m["kind"]))

    lines = [
        "# hg_decode parity with msticpy 3.0.2 base64 unpacking",
        "",
        f"Generated by `bench/decode/parity.py --rows {args.rows} --seed {args.seed}`: "
        f"{args.rows} seeded generated inputs (`gen_workload.py --kind parity`) plus the "
        "reference's sample files, run through `msticpy.transform.base64unpack.unpack` and "
        "through hg_decode (default settings, and `reference_mode()`).",
        "",
        "Columns: reference rows / our rows (default) / our rows (reference mode); "
        "*ref rows matched (ref mode)*: reference rows found in our reference-mode output with "
        "identical md5, sha1, sha256, decoded_string, file_name, file_type and encoding_type; "
        "*ref hashes in ours*: reference rows whose md5+sha256 appear in our default output; "
        "*payload revealed*: inputs where some decoded layer contains the innermost plaintext "
        "(reference / ours); *display equal*: reference-mode `full_decoded_string` identical to "
        "the reference's decoded string.",
        "",
        "| kind | inputs | ref rows | our rows | ref-mode rows | ref rows matched (ref mode) "
        "| ref hashes in ours | payload revealed (ref / ours) | display equal |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in sorted(by_kind, key=lambda k: (k.startswith("sample"), k)):
        c = by_kind[kind]
        reveal = (
            f"{c['ref_reveals']} / {c['our_reveals']}"
            if not kind.startswith("sample") and kind != "plain"
            else "-"
        )
        lines.append(
            f"| {kind} | {c['inputs']} | {c['ref_rows']} | {c['our_rows']} | "
            f"{c['refmode_rows']} | {c['refmode_matched']}/{c['ref_rows']} | "
            f"{c['hash_matched']}/{c['ref_rows']} | {reveal} | {c['full_equal']}/{c['inputs']} |"
        )
    tot = collections.Counter()
    for c in by_kind.values():
        tot.update(c)
    lines += [
        "",
        f"Totals: {tot['ref_rows']} reference rows; reference mode reproduces "
        f"{tot['refmode_matched']} of them exactly; {tot['hash_matched']} of their hashes appear "
        f"in our default output. Payload revealed: reference {tot['ref_reveals']}, hg_decode "
        f"{tot['our_reveals']} of {sum(1 for m in meta if m['truth'])} inputs with a payload. "
        f"Reference time for these inputs: {ref_seconds:.2f} s.",
        "",
        "## Differences and why",
        "",
    ]
    for kind, why in REASONS.items():
        lines.append(f"- **{kind}**: {why}.")
    lines += [
        "- **b64_duplicate** (reference mode too): the reference replaces every occurrence of a "
        "decoded candidate with the first one's tag and reports one row; each occurrence is its "
        "own row here, and the second tag carries index 2.",
        "- **b64_nested**: identical rows; nested references name the real parent "
        "(`('1.', '2.', '1')`), which is what the reference prints when the text has one "
        "top-level fragment (it uses the last top-level fragment's number for all of them).",
        "- **sample base64msg.txt**: the reference reports 8 rows; its two depth-2 rows are "
        "referenced `('2.', '2.', n)` after the last top-level fragment, and it finds each "
        "embedded base64 once because identical candidates in the tar and zip members are "
        "replaced together. hg_decode reports 14 rows (every member's embedded base64 under its "
        "own member, the .gz members expanded, UTF-16LE read as text); all 8 reference hashes "
        "are among them. In reference mode the 6 member rows match exactly; the depth-2 rows "
        "differ only in `reference` and count.",
        "- **sample b64text_inzip.txt**: the depth-2 layer is UTF-16LE with a byte-order mark; "
        "the reference reports it binary, we read it as UTF-16 (same hashes).",
        "- Not compared here: `unpack_items`' padding of the whole input with `A` characters "
        "(it can invent a trailing candidate; we never pad) and the reference's "
        "process-wide cache of undecodable strings.",
        "",
    ]
    if failures:
        lines.append(
            f"**Unexpected reference-mode mismatches: {len(failures)}** (rows {failures[:20]})"
        )
    else:
        lines.append("Reference mode reproduced every reference row outside the listed quirks.")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "parity.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
