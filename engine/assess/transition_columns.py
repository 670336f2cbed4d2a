"""Column expressions the transition rules' leaves and outcomes are made of: the tiers'
ranks and steps and each rule's target (``Tiers``), a comparison of what an account's path
decided (``per_path``), and the ruleset's transition signals over a quarter's accounts
(``signals``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from ..evaluate.decisions import Decision
from ..network import conditions as C
from ..network.transitions import FLAG
from ..network.truths import truth
from ..ruleset.model import Condition, Ruleset, TransitionRule


class Tiers:
    """Tier expressions over the state columns: ranks (0: the highest-touch tier), the
    tier one step up or down, each rule's target."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ids = list(ruleset.tier_ids)
        self.rank_of = {t: i for i, t in enumerate(self.ids)}

    def rank(self, tier: pl.Expr) -> pl.Expr:
        return tier.replace_strict(self.rank_of, return_dtype=pl.Int64)

    def step(self, tier: pl.Expr, up: bool) -> pl.Expr:
        """The tier one step up (more touch) or down, null where there is none."""
        j = -1 if up else 1
        nxt = {
            t: self.ids[i + j] if 0 <= i + j < len(self.ids) else None
            for i, t in enumerate(self.ids)
        }
        return tier.replace_strict(nxt, return_dtype=pl.String)

    def direction(self) -> pl.Expr:
        held, evaluated = pl.col("tier"), pl.col("evaluated_tier")
        return (
            pl.when(evaluated == held)
            .then(pl.lit("same"))
            .when(self.rank(evaluated) < self.rank(held))
            .then(pl.lit("up"))
            .otherwise(pl.lit("down"))
        )

    def target(self, rule: TransitionRule) -> pl.Expr:
        """Where a promotion or demotion would move the account, null where it would not
        (no such tier, the held one, or against the rule's direction)."""
        held = pl.col("tier")
        if rule.to == "evaluated":
            to = pl.col("evaluated_tier")
        elif rule.to == "next":
            to = self.step(held, up=rule.action == "promote")
        else:
            to = pl.lit(rule.to, pl.String)
        up = self.rank(to) < self.rank(held)
        way = up if rule.action == "promote" else ~up if rule.action == "demote" else pl.lit(True)
        return pl.when(to.is_not_null() & (to != held) & way).then(to)

    def suggestion(self, rule: TransitionRule) -> pl.Expr:
        """A review's suggested tier."""
        if rule.to == "evaluated":
            return pl.col("evaluated_tier")
        if rule.to == "next":
            return pl.coalesce(self.step(pl.col("tier"), up=False), pl.col("tier"))
        return pl.lit(rule.to, pl.String)


def per_path(
    ruleset: Ruleset, name: str, op: str, arg: Any, paths: Sequence[Decision]
) -> pl.Series:
    """A comparison of a band or decision (or ``FLAG``: a flag raised): one truth per path
    (what a path decided is every one of its accounts')."""
    if name == FLAG:
        return pl.Series([arg in p.flags for p in paths], dtype=pl.Boolean)
    bands = {b.id for b in ruleset.bands}
    found = [(p.bands if name in bands else p.decisions).get(name) for p in paths]
    return pl.Series([C.compare(op, v, arg) for v in found], dtype=pl.Boolean)


def shared_fields(ruleset: Ruleset) -> set[str]:
    """What an account's path decides, not its values: bands, decisions, flags."""
    return {b.id for b in ruleset.bands} | {d.id for d in ruleset.decisions} | {FLAG}


def signals(
    ruleset: Ruleset, values: pl.DataFrame, path_of: pl.Series, paths: Sequence[Decision]
) -> dict[str, list[bool]]:
    """Per event type of the ruleset's ``transitions.signals``, whether its signal holds for
    each account (rows of ``values``, on the paths ``path_of``): the ruleset's own reading
    of, say, expansion (a flag, a decision) this quarter."""
    shared = shared_fields(ruleset)

    def expr(cond: Condition) -> pl.Expr:
        if "all" in cond or "any" in cond:
            parts = [expr(c) for c in cond["all" if "all" in cond else "any"]]
            if not parts:
                return pl.lit("all" in cond)
            joined = parts[0]
            for part in parts[1:]:  # (Kleene: polars' & and | are the conditions' own)
                joined = joined & part if "all" in cond else joined | part
            return joined
        if "not" in cond:
            return ~expr(cond["not"])
        if "flag" in cond:
            name, op, arg = FLAG, "eq", cond["flag"]
        else:
            name, (op, arg) = cond["field"], C.leaf_op(cond)
        if name in shared:
            return pl.lit(per_path(ruleset, name, op, arg, paths).gather(path_of))
        return truth(values, name, op, arg)

    if not ruleset.transition_signals or not values.height:
        return {k: [False] * values.height for k in ruleset.transition_signals}
    found = values.select(
        expr(when).fill_null(False).alias(kind) for kind, when in ruleset.transition_signals.items()
    )
    return {kind: found[kind].to_list() for kind in ruleset.transition_signals}
