"""Runs the reference (msticpy 3.0.2 IoCExtract, string mode, default options) over a corpus.

Run with the reference's virtual environment: .venv-ref/bin/python ref_extract.py CORPUS OUT.
Reads the generator's JSON lines, writes one JSON line per record: [[type, canonical], ...]. The
reference returns observables as written (defanged forms verbatim), so they are brought to the
same canonical form as the ground truth (refanged, host and hash lower case, IPv6 compressed)
before comparing; this only ever helps the reference.
With --time, prints the extraction time instead (for bench.py).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import sys
import time

from msticpy.transform.iocextract import IoCExtract

# Offline here: tldextract logs a long traceback before it falls back to its bundled list.
logging.getLogger("tldextract").setLevel(logging.CRITICAL)

DOTS = re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}", re.IGNORECASE)
ATS = re.compile(r"\[at\]|\(at\)|\{at\}|\[@\]", re.IGNORECASE)


def refang(value: str) -> str:
    return ATS.sub("@", DOTS.sub(".", value))


def canonical(ioc_type: str, value: str) -> str:
    if ioc_type in ("dns", "ipv4"):
        return refang(value).lower().rstrip(".")
    if ioc_type == "ipv6":
        try:
            return ipaddress.ip_address(value).compressed
        except ValueError:
            return value.lower()
    if ioc_type.endswith("_hash"):
        return value.lower()
    if ioc_type == "email":
        local, _, domain = refang(value).partition("@")
        return f"{local}@{domain.lower()}"
    if ioc_type == "url":
        value = refang(value)
        scheme, sep, rest = value.partition("://")
        scheme = scheme.lower().replace("xx", "tt").replace("fxp", "ftp")
        cut = min(
            [i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0],
            default=len(rest),
        )
        return f"{scheme}{sep}{rest[:cut].lower()}{rest[cut:]}"
    return value


def main() -> None:
    corpus, out_path = sys.argv[1], sys.argv[2]
    with open(corpus, encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines]
    extractor = IoCExtract()
    if "--time" in sys.argv:
        started = time.perf_counter()
        for text in texts:
            extractor.extract(src=text)
        seconds = time.perf_counter() - started
        size = sum(len(t.encode()) + 1 for t in texts)
        print(json.dumps({"bytes": size, "seconds": seconds}))
        return
    with open(out_path, "w", encoding="utf-8") as out:
        for text in texts:
            found = extractor.extract(src=text)
            rows = sorted({(t, canonical(t, v)) for t, values in found.items() for v in values})
            out.write(json.dumps(rows) + "\n")


if __name__ == "__main__":
    main()
