"""The plain reference of the replay's transition rules: one account at a time, the rules
read in order, the first whose condition is true and that would move the account (or raise
a review) decides.  The engine compiles the rules into a network instead
(tierbook.network.transitions, tierbook.assess.transitions.decide_quarter); the
differential tests check the two agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tierbook.assess.transitions import Outcome
from tierbook.network import conditions as C
from tierbook.ruleset.model import Ruleset, TransitionRule


@dataclass
class History:
    """One account's history as the language defines it (docs/language.md)."""

    quarters_in_tier: int = 0
    previous_tier: str = ""
    quarters_since: dict[str, int] = field(default_factory=dict)
    consecutive: dict[str, tuple[Any, int]] = field(default_factory=dict)  # id -> (value, run)

    def lookup(self, name: str, replay_quarters: int) -> Any:
        if name == "history.quarters_in_tier":
            return self.quarters_in_tier
        if name.startswith("history.quarters_since."):
            kind = name.split(".", 2)[2]
            return self.quarters_since.get(kind, replay_quarters)
        if name.startswith("history.consecutive."):
            key = name.split(".", 2)[2]
            return self.consecutive.get(key, (None, 0))[1]
        return None


def signals_held(ruleset: Ruleset, decision: Any) -> set[str]:
    """The event types whose signal (transitions.signals) holds for ``decision`` this
    quarter: the ruleset's own reading of, say, expansion (a flag, a decision)."""
    if not ruleset.transition_signals:
        return set()
    env = decision.values | decision.bands | decision.decisions

    def leaf(cond: dict[str, Any]) -> bool | None:
        if "flag" in cond:
            return cond["flag"] in decision.flags
        op, arg = C.leaf_op(cond)
        return C.compare(op, env.get(cond["field"]), arg)

    return {k for k, when in ruleset.transition_signals.items() if C.evaluate(when, leaf) is True}


def tier_rank(ruleset: Ruleset, tier: str) -> int:
    """0 is the highest-touch tier (tiers are declared from highest to lowest)."""
    return ruleset.tier_ids.index(tier)


def direction(ruleset: Ruleset, held: str, evaluated: str) -> str:
    if evaluated == held:
        return "same"
    return "up" if tier_rank(ruleset, evaluated) < tier_rank(ruleset, held) else "down"


def _next(ruleset: Ruleset, held: str, up: bool) -> str | None:
    """The tier one step up (more touch) or down from ``held``, if there is one."""
    tiers = ruleset.tier_ids
    j = tiers.index(held) + (-1 if up else 1)
    return tiers[j] if 0 <= j < len(tiers) else None


def _target(ruleset: Ruleset, rule: TransitionRule, held: str, evaluated: str) -> str | None:
    tiers = ruleset.tier_ids
    i = tiers.index(held)
    if rule.to == "evaluated":
        target = evaluated
    elif rule.to == "next":
        found = _next(ruleset, held, up=rule.action == "promote")
        if found is None:
            return None
        target = found
    else:
        target = rule.to
    if target == held:
        return None
    up = tiers.index(target) < i
    if (rule.action == "promote" and not up) or (rule.action == "demote" and up):
        return None
    return target


def decide(
    ruleset: Ruleset,
    *,
    held: str,
    evaluated: str,
    values: dict[str, Any],
    events: set[str],
    history: History,
    replay_quarters: int = 0,
    min_dwell: int | None = None,
) -> Outcome:
    env = dict(values)
    env.update(
        {
            "tier": held,
            "evaluated_tier": evaluated,
            "evaluated_direction": direction(ruleset, held, evaluated),
            "previous_tier": history.previous_tier or held,
        }
    )

    def leaf(cond: dict[str, Any]) -> bool | None:
        if "event" in cond:
            return cond["event"] in events
        if "flag" in cond:
            return cond["flag"] in env.get("__flags__", ())
        name = cond["field"]
        op, arg = C.leaf_op(cond)
        value = (
            history.lookup(name, replay_quarters) if name.startswith("history.") else env.get(name)
        )
        return C.compare(op, value, arg)

    dwell = ruleset.min_dwell_quarters if min_dwell is None else min_dwell
    for rule in ruleset.transitions:
        if C.evaluate(rule.when, leaf) is not True:
            continue
        if rule.action == "review":  # a review suggests a tier; it never moves the account
            suggested = {
                "evaluated": evaluated,
                "next": _next(ruleset, held, up=False) or held,
            }.get(rule.to, rule.to)
            return Outcome("review", held, rule.id, rule.because, review_to=suggested)
        target = _target(ruleset, rule, held, evaluated)
        if target is None:
            continue  # would not move the account: not applicable
        if history.quarters_in_tier < dwell:
            return Outcome(
                "held",
                held,
                rule.id,
                rule.because + f" (held: {history.quarters_in_tier} "
                f"of {dwell} minimum quarter(s) in {held})",
                review_to=target,
            )
        return Outcome("moved", target, rule.id, rule.because)
    return Outcome("stay", held)
