"""A rule test case of a transition between quarters: the held tier, the quarter's events
and history, and an account (evaluated by the rules) or an evaluated tier given outright."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import RulesetError
from ..evaluate.bands import ResolvedBands
from ..evaluate.run import evaluate, values_frame
from ..ruleset.model import Ruleset
from ..ruleset.yamlsafe import Document
from .cases import TRANSITION_EXPECT, TRANSITION_KEYS, CaseResult, Coverage, typed_account


def run_transition(
    doc: Document,
    path: tuple[Any, ...],
    line: int,
    name: str,
    ruleset: Ruleset,
    case: dict[str, Any],
    bands: dict[str, ResolvedBands],
    defaults: dict[str, Any],
    as_of: dt.date,
    cov: Coverage,
    engine: str,
) -> CaseResult:
    """A transition case: the held tier, this quarter's events and history, and an account
    (evaluated by the rules) or an evaluated tier given outright."""
    from ..assess.histories import one_history
    from ..assess.transitions import decide_one
    from ..network.transitions import compile_transitions

    t = case["transition"] or {}
    tpath = path + ("transition",)
    bad = [k for k in t if k not in TRANSITION_KEYS]
    if bad:
        raise RulesetError(
            "bad transition",
            [
                doc.problem(
                    tpath + (bad[0],),
                    f"unknown key '{bad[0]}' (use {', '.join(TRANSITION_KEYS)})",
                    at_key=True,
                )
            ],
        )
    expect = case.get("expect") or {}
    bad = [k for k in expect if k not in TRANSITION_EXPECT]
    if bad:
        raise RulesetError(
            "bad expect",
            [
                doc.problem(
                    path + ("expect", bad[0]),
                    f"unknown expectation '{bad[0]}' (use {', '.join(TRANSITION_EXPECT)})",
                    at_key=True,
                )
            ],
        )
    held = str(t.get("tier", ""))
    if held not in ruleset.tier_ids:
        raise RulesetError("bad tier", [doc.problem(tpath + ("tier",), f"unknown tier {held!r}")])
    evaluated = str(t.get("evaluated_tier", ""))
    frame, d = None, None
    if "account" in t or not evaluated:
        raw = {**defaults, **(t.get("account") or {})}
        raw.setdefault("account_id", "transition-case")
        account = typed_account(ruleset, raw, doc, tpath + ("account",))
        frame = values_frame(ruleset, [account], as_of)
        d = evaluate(ruleset, frame, as_of, engine=engine, bands=bands).decisions[0]
        evaluated = evaluated or d.tier
    if evaluated not in ruleset.tier_ids:
        raise RulesetError(
            "bad tier", [doc.problem(tpath + ("evaluated_tier",), f"unknown tier {evaluated!r}")]
        )
    h = t.get("history") or {}
    replay_quarters = int(h.get("replay_quarters", 0))
    history = one_history(
        ruleset.tier_ids,
        quarters_in_tier=int(h.get("quarters_in_tier", 1)),
        previous_tier=str(h.get("previous_tier", held)),
        quarters_since={str(k): int(v) for k, v in (h.get("quarters_since") or {}).items()},
        consecutive={str(k): int(v) for k, v in (h.get("consecutive") or {}).items()},
        replay_quarters=replay_quarters,
    )
    out = decide_one(
        ruleset,
        compile_transitions(ruleset),
        held=held,
        evaluated=evaluated,
        values=frame,
        path=d,
        events=set(t.get("events") or []),
        history=history,
        replay_quarters=replay_quarters,
        engine=engine,
    )
    if out.rule:
        cov.covered.add(out.rule)
    result = CaseResult(doc.file, line, name, ruleset.name)
    got = {
        "outcome": out.outcome,
        "to": out.review_to if out.outcome in ("held", "review") else out.to,
        "rule": out.rule,
    }
    for key in TRANSITION_EXPECT:
        if key in expect and expect[key] != got[key]:
            result.failures.append(f"{key}: expected {expect[key]!r}, got {got[key]!r}")
    if result.failures:
        result.trace = [
            f"held {held}, evaluated {evaluated}: {out.outcome}"
            + (f" by {out.rule}" if out.rule else "")
        ]
    return result
