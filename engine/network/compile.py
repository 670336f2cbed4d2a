"""Compile a validated ruleset (with its bands resolved) into one rule network.

Facts chain forward: account values -> bands -> decisions -> tier (grid cell) -> flags ->
comments (contradictions) and review hints -> CS motion.  Each rule is a disjunction of
*disjuncts*; a disjunct is a formula over the account's condition bits (one bit per
distinct comparison, three-valued: true / false / unknown) plus positive patterns over
facts derived earlier.  Negated facts are expanded into positive alternatives, so no
executor needs negation-as-failure (durable-rules' `$not` is checked too early to trust).

Both executors (durable-rules and native) run this same network.
"""

from __future__ import annotations

from typing import Any

from ..errors import Problem, RulesetError
from ..evaluate.bands import ResolvedBands
from ..ruleset.model import Condition, Ruleset
from . import conditions as C
from .model import (
    FALSE,
    FALSE_ONLY,
    MAX_LEAVES,
    MAX_RULES,
    NOT_FALSE,
    NOT_TRUE,
    TRUE,
    TRUE_ONLY,
    Disjunct,
    F,
    Formula,
    Network,
    Pattern,
    Rule,
    T,
    U,
    conjoin,
    disjoin,
    merge_patterns,
    negated,
    number_text,
)

# --- formulas over mixed atoms ---------------------------------------------------------
# While compiling, formulas may hold fact patterns: ("fact", Pattern).  They are then
# pushed into disjunctive form at the fact level.


class _Compiler:
    def __init__(self, ruleset: Ruleset, bands: dict[str, ResolvedBands]) -> None:
        self.rs = ruleset
        self.net = Network(ruleset, bands)
        self.bands = bands
        self.flags = {f.id: f for f in ruleset.flags}
        self.decisions = {d.id: d for d in ruleset.decisions}
        self.effective: dict[str, list[tuple[Any, Condition | None, Formula]]] = {}
        self.values = (
            {i.id for i in ruleset.inputs}
            | {d.id for d in ruleset.derived}
            | {s.id for s in ruleset.scores}
        )

    # P(cond, S): formula true iff the Kleene value of cond is in S
    def p(self, cond: Condition, states: frozenset[str]) -> Formula:
        if states == frozenset({T, F, U}):
            return TRUE
        if not states:
            return FALSE
        if "all" in cond or "any" in cond:
            subs = cond["all"] if "all" in cond else cond["any"]
            conj = ("all" in cond) == (states in (TRUE_ONLY, NOT_FALSE))
            parts = [self.p(s, states) for s in subs]
            if states in (TRUE_ONLY, NOT_TRUE, FALSE_ONLY, NOT_FALSE):
                return conjoin(parts) if conj else disjoin(parts)
            raise AssertionError(states)
        if "not" in cond:
            return self.p(cond["not"], negated(states))
        if "flag" in cond:
            flag = cond["flag"]
            if T in states:
                return TRUE if F in states else ("fact", Pattern("flag", (("flag", (flag,)),)))
            return self.p(self.flags[flag].when, NOT_TRUE)
        name = cond["field"]
        op, arg = C.leaf_op(cond)
        if name in self.values:
            return ("atom", self.net.leaf(name, op, arg), states)
        if name == "tier":
            return self._finite(states, op, arg, "tier", "tier", self.rs.tier_ids, None)
        if name in self.bands:
            rb = self.bands[name]

            def band_match(band: Any, value: Any) -> bool:
                return value in (band.id, band.row)

            return self._band(states, op, arg, rb, band_match)
        if name in self.decisions:
            return self._decision(states, op, arg, name)
        raise RulesetError(
            "cannot compile",
            [Problem(self.rs.source_file, 0, 0, "", f"field '{name}' cannot be compiled")],
        )

    def _truth_set(self, op: str, arg: Any, values: list[Any]) -> list[Any]:
        return [v for v in values if C.compare(op, v, arg)]

    def _finite(
        self,
        states: frozenset[str],
        op: str,
        arg: Any,
        ftype: str,
        attr: str,
        values: list[Any],
        unknown: Formula | None,
        extra: tuple[tuple[str, tuple[Any, ...]], ...] = (),
    ) -> Formula:
        if op == "exists":
            known = TRUE if unknown is None else self._not(unknown)
            return known if (T in states) == bool(arg) else (unknown or FALSE)
        true_vals = self._truth_set(op, arg, values)
        false_vals = [v for v in values if v not in true_vals]
        parts = []
        for wanted, vals in ((T, true_vals), (F, false_vals)):
            if wanted in states and vals:
                parts.append(("fact", Pattern(ftype, extra + ((attr, tuple(vals)),))))
        if U in states and unknown is not None:
            parts.append(unknown)
        return disjoin(parts)

    def _not(self, formula: Formula) -> Formula:
        if formula[0] == "atom":
            return ("atom", formula[1], frozenset({T, F, U}) - formula[2])
        raise AssertionError("only atoms are negated here")

    def _band(
        self, states: frozenset[str], op: str, arg: Any, rb: ResolvedBands, match: Any
    ) -> Formula:
        unknown = ("atom", self.net.leaf(rb.over, "exists", False), TRUE_ONLY)
        if op == "exists":
            return (
                "atom",
                self.net.leaf(rb.over, "exists", True),
                TRUE_ONLY if (T in states) == bool(arg) else NOT_TRUE,
            )
        args = arg if isinstance(arg, list) else [arg]

        def holds(band: Any) -> bool:
            hit = any(match(band, a) for a in args)
            return hit if op in ("eq", "in") else not hit

        true_ids = [b.id for b in rb.bands if holds(b)]
        false_ids = [b.id for b in rb.bands if not holds(b)]
        parts: list[Formula] = []
        extra = (("set", (rb.id,)),)
        if T in states and true_ids:
            parts.append(("fact", Pattern("band", extra + (("band", tuple(true_ids)),))))
        if F in states and false_ids:
            parts.append(("fact", Pattern("band", extra + (("band", tuple(false_ids)),))))
        if U in states:
            parts.append(unknown)
        return disjoin(parts)

    def _decision(self, states: frozenset[str], op: str, arg: Any, name: str) -> Formula:
        dec = self.decisions[name]
        values = sorted(
            {r.value for r in dec.rules} | ({dec.default} if dec.default is not None else set()),
            key=str,
        )
        undecided = None
        if dec.default is None:
            undecided = conjoin(self.p(r.when, NOT_TRUE) for r in dec.rules)
        if op == "exists":
            if undecided is None:
                return TRUE if (T in states) == bool(arg) else FALSE
            decided = disjoin(self.p(r.when, TRUE_ONLY) for r in dec.rules)
            return decided if (T in states) == bool(arg) else undecided
        true_vals = self._truth_set(op, arg, values)
        false_vals = [v for v in values if v not in true_vals]
        parts: list[Formula] = []
        extra = (("id", (name,)),)
        if T in states and true_vals:
            parts.append(("fact", Pattern("decision", extra + (("value", tuple(true_vals)),))))
        if F in states and false_vals:
            parts.append(("fact", Pattern("decision", extra + (("value", tuple(false_vals)),))))
        if U in states and undecided is not None:
            parts.append(undecided)
        return disjoin(parts)

    # disjunctive form at the fact level
    def dnf(self, formula: Formula) -> list[tuple[Formula, tuple[Pattern, ...]]]:
        if not self._has_fact(formula):
            return [] if formula == FALSE else [(formula, ())]
        kind = formula[0]
        if kind == "fact":
            return [(TRUE, (formula[1],))]
        if kind == "or":
            out = []
            for sub in formula[1]:
                out += self.dnf(sub)
            return out
        combos: list[tuple[Formula, tuple[Pattern, ...]]] = [(TRUE, ())]
        for sub in formula[1]:
            next_combos = []
            for acc, pats in combos:
                for sacc, spats in self.dnf(sub):
                    merged = merge_patterns(pats + spats)
                    if merged is not None:
                        next_combos.append((conjoin([acc, sacc]), merged))
            combos = next_combos
        return [c for c in combos if c[0] != FALSE]

    def _has_fact(self, formula: Formula) -> bool:
        if formula[0] == "fact":
            return True
        if formula[0] in ("and", "or"):
            return any(self._has_fact(s) for s in formula[1])
        return False

    def add(
        self,
        rule_id: str,
        kind: str,
        formula: Formula,
        output: dict[str, Any],
        because: str,
        condition: Condition | None = None,
        decision: str = "",
    ) -> None:
        disjuncts = tuple(Disjunct(acc, pats) for acc, pats in self.dnf(formula))
        self.net.rules.append(
            Rule(
                len(self.net.rules), rule_id, kind, disjuncts, output, because, condition, decision
            )
        )

    # --- the layers -------------------------------------------------------------------
    def compile(self) -> Network:
        rs = self.rs
        for rb in self.bands.values():
            for band in rb.bands:
                conds = []
                if band.lower is not None:
                    conds.append(
                        {"field": rb.over, "gte" if band.lower_inclusive else "gt": band.lower}
                    )
                if band.upper is not None:
                    conds.append(
                        {"field": rb.over, "lte" if band.upper_inclusive else "lt": band.upper}
                    )
                if not conds:
                    conds.append({"field": rb.over, "exists": True})
                cond = {"all": conds} if len(conds) > 1 else conds[0]
                because = (
                    f"{rb.over} {band.interval_text(number_text)} is band {band.label or band.id}"
                )
                self.add(
                    f"{rb.id}.{band.id}",
                    "band",
                    self.p(cond, TRUE_ONLY),
                    {"t": "band", "set": rb.id, "band": band.id, "row": band.row},
                    because,
                    cond,
                )
        for dec in self._decision_order():
            rules = list(dec.rules)
            if dec.hit_policy == "priority":
                rules.sort(key=lambda r: -r.priority)
            earlier: list[Formula] = []
            for r in rules:
                eff = self.p(r.when, TRUE_ONLY)
                if dec.hit_policy in ("first", "priority"):
                    eff = conjoin([eff] + earlier)
                    earlier.append(self.p(r.when, NOT_TRUE))
                self.add(
                    r.id,
                    "decision",
                    eff,
                    {"t": "decision", "id": dec.id, "value": r.value},
                    r.because,
                    r.when,
                    dec.id,
                )
            if dec.default is not None:
                eff = conjoin(self.p(r.when, NOT_TRUE) for r in rules)
                self.add(
                    f"{dec.id}.default",
                    "decision",
                    eff,
                    {"t": "decision", "id": dec.id, "value": dec.default},
                    f"no rule of {dec.id} applied: default {dec.default}",
                    None,
                    dec.id,
                )
        g = rs.grid
        for cell in g.cells:
            pats = [Pattern("band", (("set", (g.rows,)), ("row", (cell.row,))))]
            if g.columns:
                pats.append(Pattern("band", (("set", (g.columns,)), ("row", (cell.column,)))))
            self.add(
                cell.id,
                "cell",
                conjoin([("fact", p) for p in pats]),
                {"t": "tier", "tier": cell.tier, "cell": cell.id},
                cell.because,
            )
        for flag in rs.flags:
            self.add(
                flag.id,
                "flag",
                self.p(flag.when, TRUE_ONLY),
                {"t": "flag", "flag": flag.id},
                flag.because,
                flag.when,
            )
        for c in rs.contradictions:
            pair: dict[str, Any] = {"all": [{"flag": c.flags[0]}, {"flag": c.flags[1]}]}
            self.add(
                c.id,
                "comment",
                self.p(pair, TRUE_ONLY),
                {"t": "comment", "id": c.id},
                c.because,
                pair,
            )
        for r in rs.review_hints:
            self.add(
                r.id,
                "review",
                self.p(r.when, TRUE_ONLY),
                {"t": "review", "id": r.id},
                r.because,
                r.when,
            )
        for tier in rs.tiers:
            self.add(
                f"motion.{tier.id}",
                "motion",
                ("fact", Pattern("tier", (("tier", (tier.id,)),))),
                {"t": "motion", "tier": tier.id},
                f"{tier.label} gets its CS motion",
            )
        if len(self.net.rules) > MAX_RULES:
            raise RulesetError(
                "too many rules",
                [
                    Problem(
                        rs.source_file,
                        0,
                        0,
                        "",
                        f"the ruleset compiles to {len(self.net.rules)} rules; "
                        f"the engine supports at most {MAX_RULES}",
                    )
                ],
            )
        if len(self.net.leaves) > MAX_LEAVES:
            raise RulesetError(
                "too many conditions",
                [
                    Problem(
                        rs.source_file,
                        0,
                        0,
                        "",
                        f"the ruleset compiles to {len(self.net.leaves)} distinct "
                        f"comparisons; the engine supports at most {MAX_LEAVES}",
                    )
                ],
            )
        return self.net

    def _decision_order(self) -> list[Any]:
        """Decisions after the decisions they read (validated acyclic)."""
        order: list[Any] = []

        def reads(dec: Any) -> set[str]:
            return {
                leaf["field"]
                for r in dec.rules
                for _, leaf in C.iter_leaves(r.when)
                if "field" in leaf and leaf["field"] in self.decisions
            }

        pending = list(self.rs.decisions)
        while pending:
            done = {d.id for d in order}
            ready = [d for d in pending if reads(d) <= done]
            order.append(ready[0] if ready else pending[0])
            pending.remove(order[-1])
        return order


def compile_network(ruleset: Ruleset, bands: dict[str, ResolvedBands]) -> Network:
    return _Compiler(ruleset, bands).compile()
