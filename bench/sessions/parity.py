"""Differential test of hg_analytics' session model against the reference (msticpy 3.0.2).

Generates seeded sessions of each type (commands; commands with parameter names; commands with
parameters and values), scores them with the reference's ``Model`` and with our engine (the
``score_json`` example), and asserts that every likelihood agrees within 1e-9 relative:
whole-session likelihoods, geometric means, and rarest windows of lengths 2 to 4 with and
without the geometric mean, with and without the start/end tokens, plus the rarest windows
themselves. Writes ``results/parity.md``.

Usage: /work/main/.venv-ref/bin/python bench/sessions/parity.py [--seeds N]
(builds the example with cargo; set CARGO_TARGET_DIR as usual).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

from msticpy.analysis.anomalous_sequence.model import Model
from msticpy.analysis.anomalous_sequence.utils.data_structures import Cmd

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
TOLERANCE = 1e-9
WINDOWS = (2, 3, 4)
TYPES = ("cmds_only", "cmds_params_only", "cmds_params_values")


def generate(kind: str, seed: int) -> list[list]:
    """Seeded sessions of one type: a random Markov chain over a small command vocabulary."""
    rng = random.Random(f"{kind}-{seed}")
    n_cmds = rng.randint(3, 25)
    commands = [f"Cmd-{i}" for i in range(n_cmds)]
    successors = {
        c: rng.sample(commands, k=min(len(commands), rng.randint(1, 4))) for c in commands
    }
    params = {c: [f"P{j}" for j in rng.sample(range(12), k=rng.randint(0, 5))] for c in commands}
    # Some parameters take few values (modellable), others many (free text).
    value_pool = {
        f"P{j}": [f"v{j}_{k}" for k in range(rng.choice((2, 3, 5, 40)))] for j in range(12)
    }
    sessions = []
    for _ in range(rng.randint(5, 300)):
        length = rng.choice((1, 1, 2, 3, 4, 5, 6, 8, 12))
        cur = rng.choice(commands)
        session = []
        for _ in range(length):
            if rng.random() < 0.05:
                cur = rng.choice(commands)
            session.append(cur)
            cur = rng.choice(successors[cur])
        if kind == "cmds_only":
            sessions.append(session)
            continue
        items = []
        for name in session:
            chosen = [p for p in params[name] if rng.random() < 0.6]
            if rng.random() < 0.03:
                chosen.append(f"Rare{rng.randint(0, 3)}")
            if kind == "cmds_params_only":
                items.append({"name": name, "params": chosen})
            else:
                values = {}
                for p in chosen:
                    r = rng.random()
                    pool = value_pool.get(p, ["x"])
                    values[p] = None if r < 0.05 else "" if r < 0.08 else rng.choice(pool)
                items.append({"name": name, "params": values})
        sessions.append(items)
    return sessions


def to_reference(sessions: list[list]) -> list[list]:
    """Our JSON sessions as the reference's inputs (strings or Cmd objects)."""
    out = []
    for s in sessions:
        row = []
        for c in s:
            if isinstance(c, str):
                row.append(c)
            elif isinstance(c["params"], list):
                row.append(Cmd(c["name"], set(c["params"])))
            else:
                row.append(Cmd(c["name"], dict(c["params"])))
        out.append(row)
    return out


def normalize_window(items: list) -> list:
    """A window as comparable JSON: names, sorted parameter names, falsy values as None."""
    out = []
    for c in items:
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, dict):
            p = c["params"]
            out.append(
                [
                    c["name"],
                    sorted(p)
                    if isinstance(p, list)
                    else sorted((k, v or None) for k, v in p.items()),
                ]
            )
        else:
            p = c.params
            out.append(
                [
                    c.name,
                    sorted(p)
                    if isinstance(p, set)
                    else sorted((k, v or None) for k, v in p.items()),
                ]
            )
    return out


def reference_scores(sessions: list[list], tokens: bool, windows: tuple = WINDOWS) -> dict:
    model = Model(sessions=to_reference(sessions))
    model.train()
    model.compute_likelihoods_of_sessions(use_start_end_tokens=tokens)
    model.compute_geomean_lik_of_sessions()
    out = {
        "session_type": model.session_type,
        "modellable_params": sorted(model.modellable_params or []),
        "likelihoods": model.session_likelihoods,
        "geomean_likelihoods": model.session_geomean_likelihoods,
        "rarest": {},
    }
    for w in windows:
        for geo in (False, True):
            model.compute_rarest_windows(
                window_len=w, use_start_end_tokens=tokens, use_geo_mean=geo
            )
            liks = (model.rare_window_likelihoods_geo if geo else model.rare_window_likelihoods)[w]
            wins = (model.rare_windows_geo if geo else model.rare_windows)[w]
            out["rarest"][f"{w}_geo" if geo else str(w)] = {"likelihoods": liks, "windows": wins}
    return out


def ours(binary: Path, sessions: list[list], tokens: bool) -> dict:
    payload = {
        "sessions": sessions,
        "window_lengths": list(WINDOWS),
        "use_start_end_tokens": tokens,
    }
    run = subprocess.run(
        [str(binary)], input=json.dumps(payload), capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        raise RuntimeError(f"score_json failed: {run.stderr}")
    return json.loads(run.stdout)


def rel_diff(a: float | None, b: float | None) -> float:
    a = math.nan if a is None else a
    b = math.nan if b is None else b
    if math.isnan(a) and math.isnan(b):
        return 0.0
    if math.isnan(a) or math.isnan(b):
        return math.inf
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def build() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(
        ["cargo", "build", "--release", "-p", "hg_analytics", "--example", "score_json"],
        cwd=ROOT,
        check=True,
    )
    return target / "release" / "examples" / "score_json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="data sets per session type")
    args = parser.parse_args()
    binary = build()
    rows = []
    failures = []
    for kind in TYPES:
        for tokens in (True, False):
            stats = {
                "sets": 0,
                "sessions": 0,
                "modellable": 0,
                "values": 0,
                "max_rel": 0.0,
                "windows": 0,
                "window_mismatch": 0,
            }
            for seed in range(args.seeds):
                sessions = generate(kind, seed)
                ref = reference_scores(sessions, tokens)
                got = ours(binary, sessions, tokens)
                if ref["session_type"] != got["session_type"]:
                    failures.append(
                        f"{kind} seed {seed}: type {got['session_type']} != {ref['session_type']}"
                    )
                if ref["modellable_params"] != sorted(got["modellable_params"]):
                    failures.append(f"{kind} seed {seed}: modellable params differ")
                stats["modellable"] += len(ref["modellable_params"])
                pairs = list(zip(ref["likelihoods"], got["likelihoods"], strict=True))
                pairs += list(
                    zip(ref["geomean_likelihoods"], got["geomean_likelihoods"], strict=True)
                )
                for key, r in ref["rarest"].items():
                    g = got["rarest"][key]
                    pairs += list(zip(r["likelihoods"], g["likelihoods"], strict=True))
                    for i, (rw, gw) in enumerate(zip(r["windows"], g["windows"], strict=True)):
                        stats["windows"] += 1
                        if normalize_window(rw) != normalize_window(gw):
                            stats["window_mismatch"] += 1
                            failures.append(
                                f"{kind} tokens={tokens} seed {seed} w{key} session {i}: "
                                "window differs"
                            )
                for i, (a, b) in enumerate(pairs):
                    d = rel_diff(a, b)
                    stats["max_rel"] = max(stats["max_rel"], d)
                    if d > TOLERANCE:
                        failures.append(
                            f"{kind} tokens={tokens} seed {seed} value {i}: {a!r} vs {b!r}"
                        )
                stats["sets"] += 1
                stats["sessions"] += len(sessions)
                stats["values"] += len(pairs)
            rows.append((kind, tokens, stats))
            print(kind, "tokens" if tokens else "no tokens", stats, flush=True)
    lines = [
        "# Session model parity with msticpy 3.0.2",
        "",
        "Generated by `bench/sessions/parity.py` (seeded; reference `Model` from"
        " `msticpy.analysis.anomalous_sequence` in `.venv-ref`; ours: the `score_json` example,"
        " each model saved to bytes and loaded again before scoring).",
        f"Compared: whole-session likelihoods, geometric means, and rarest windows of lengths"
        f" {', '.join(map(str, WINDOWS))} with and without the geometric mean (likelihood and"
        f" window contents); tolerance {TOLERANCE:g} relative.",
        "",
        "| session type | start/end tokens | data sets | sessions | modellable params |"
        " likelihoods compared | max relative difference | windows compared | windows differing |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, tokens, s in rows:
        lines.append(
            f"| {kind} | {'on' if tokens else 'off'} | {s['sets']} | {s['sessions']} |"
            f" {s['modellable']} | {s['values']} |"
            f" {s['max_rel']:.3g} | {s['windows']} | {s['window_mismatch']} |"
        )
    lines += ["", f"Result: {'PASS' if not failures else 'FAIL'} ({len(failures)} mismatches).", ""]
    if failures:
        lines += ["First mismatches:", ""] + [f"- {f}" for f in failures[:20]] + [""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "parity.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
