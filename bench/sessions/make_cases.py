"""Writes the shared session-model cases tests/cases/sessions/*.json from the reference.

Each case holds sessions, options and the reference's (msticpy 3.0.2) results: session
likelihoods, geometric means and rarest windows (lengths 1 to 4, with and without the geometric
mean). The inputs are hand-picked: the worked examples of the behaviour reference (section 3.9)
and edge cases. Rust loads them in crates/hg_analytics/tests/cases.rs.

Usage: /work/main/.venv-ref/bin/python bench/sessions/make_cases.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from parity import normalize_window, reference_scores

CASES = Path(__file__).resolve().parents[2] / "tests" / "cases" / "sessions"


def p(name: str, *params: str) -> dict:
    return {"name": name, "params": list(params)}


def v(name: str, **params: str | None) -> dict:
    return {"name": name, "params": params}


def values_heuristic_sessions() -> list[list]:
    """Enough occurrences for the value heuristic: Mode (3 values) modellable, Identity not."""
    sessions = []
    for i in range(30):
        mode = ("fast", "slow", "fast")[i % 3]
        s = [v("Set-Mailbox", Identity=f"user{i}", Mode=mode)]
        if i % 4 == 0:
            s.append(v("Set-User", Identity=f"user{i}", Force=None))
        if i % 7 == 0:
            s.append(v("Add-MailboxPermission", Identity="ceo", AccessRights="FullAccess"))
        sessions.append(s)
    sessions.append([v("Set-Mailbox", Identity="x", Mode="weird"), v("New-InboxRule", Name="fwd")])
    return sessions


CASE_INPUTS = {
    "worked_example_cmds_only": (
        "Behaviour reference 3.9: [A,B], [A,B], [A,B,C], [C,A]",
        [["A", "B"], ["A", "B"], ["A", "B", "C"], ["C", "A"]],
    ),
    "worked_example_params": (
        "Behaviour reference 3.9, commands with parameter names",
        [
            [p("Set-User", "Identity"), p("Set-Mailbox", "Identity", "AuditEnabled")],
            [p("Set-User", "Identity"), p("Set-Mailbox", "Identity")],
            [p("Set-User", "Identity", "Force")],
        ],
    ),
    "cmds_only_single_and_long": (
        "Single-command sessions (NaN for long windows) and a long session with repeats",
        [["a"], ["b"], ["a", "b", "a", "b", "a", "b", "c", "a", "a", "a"], ["c", "c"], ["a"]],
    ),
    "params_empty_and_rare": (
        "Commands without parameters (factor 1), a parameter seen once, repeated commands",
        [
            [p("Get-Mailbox"), p("Set-Mailbox", "Identity"), p("Set-Mailbox", "Identity")],
            [p("Get-Mailbox"), p("Set-Mailbox", "Identity", "ForwardingSmtpAddress")],
            [p("New-InboxRule", "Name", "ForwardTo"), p("Get-Mailbox")],
            [p("Get-Mailbox")],
        ],
    ),
    "values_heuristic": (
        "Commands with values: the modellable-parameter heuristic, None values, an unseen value",
        values_heuristic_sessions(),
    ),
    "values_small": (
        "Commands with values below the heuristic's thresholds (no value modelled)",
        [
            [v("Set-User", Identity="bob", Force="true"), v("Set-Mailbox", Identity="bob")],
            [v("Set-User", Identity="amy"), v("Set-Mailbox", Identity="amy", AuditEnabled="false")],
            [v("Set-Mailbox", Identity="bob", AuditEnabled="")],
        ],
    ),
}


def clean(x):
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def main() -> None:
    CASES.mkdir(parents=True, exist_ok=True)
    for name, (description, sessions) in CASE_INPUTS.items():
        for tokens in (True, False):
            ref = reference_scores(sessions, tokens, windows=(1, 2, 3, 4))
            case = {
                "description": description,
                "source": "msticpy 3.0.2 (bench/sessions/make_cases.py)",
                "sessions": sessions,
                "use_start_end_tokens": tokens,
                "tolerance": 1e-9,
                "expected": {
                    "session_type": ref["session_type"],
                    "modellable_params": ref["modellable_params"],
                    "likelihoods": [clean(x) for x in ref["likelihoods"]],
                    "geomean_likelihoods": [clean(x) for x in ref["geomean_likelihoods"]],
                    "rarest": {
                        k: {
                            "likelihoods": [clean(x) for x in r["likelihoods"]],
                            "windows": [normalize_window(w) for w in r["windows"]],
                        }
                        for k, r in ref["rarest"].items()
                    },
                },
            }
            suffix = "" if tokens else "_no_tokens"
            (CASES / f"{name}{suffix}.json").write_text(json.dumps(case, indent=1) + "\n")
            print("wrote", name + suffix)


if __name__ == "__main__":
    main()
