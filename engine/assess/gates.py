"""The quality gates (docs/language.md), each with its figures; waivers need a reason."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..evaluate.run import Evaluation
from ..ruleset.model import Gate, Ruleset, Waiver
from ..ruleset.waivers import expired_text, is_expired
from .capacity import CapacityReport, roll_up
from .reach import unreachable_note
from .sums import arr_per_tier

REQUIRED_TRIGGERS = (
    "tier_arr_change",
    "capacity_change",
    "tier_churn_over_target",
    "product_launch",
)


@dataclass
class GateResult:
    id: str
    kind: str
    passed: bool
    detail: str
    waived: bool = False
    waiver_reason: str = ""
    applicable: bool = True  # False: the gate has nothing to check (it does not fail)
    expired_waiver: Waiver | None = None  # a waiver of this gate past its date

    @property
    def status(self) -> str:
        if not self.applicable:
            return "not_applicable"
        if self.passed:
            return "passed"
        return "waived" if self.waived else "failed"

    @property
    def expired_note(self) -> str:
        """`waiver of gate 'x' (approved by cs-ops) expired on 2026-03-31`, or ''."""
        w = self.expired_waiver
        return expired_text(w.gate, w.approved_by, w.expires) if w else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "passed": self.passed,
            "status": self.status,
            "detail": self.detail,
            "waived": self.waived,
            "waiver_reason": self.waiver_reason,
            "waiver_expired": None
            if self.expired_waiver is None
            else {
                "approved_by": self.expired_waiver.approved_by,
                "expires": self.expired_waiver.expires,
                "reason": self.expired_waiver.reason,
            },
        }


@dataclass
class GateContext:
    ruleset: Ruleset
    evaluation: Evaluation
    capacity: CapacityReport
    input_arr: float
    arr_field: str
    gaps: dict[str, int]
    missing_columns: list[str]
    reclassify: Callable[[list[tuple[int, float]]], list[str]]  # (account index, new arr) -> tiers
    rejected: int = 0  # rows left out by --on-error skip
    rejected_arr: float = 0.0  # their ARR (part of the input book)
    tiers: list[str] | None = None  # effective tiers under --overrides (None: the rules')


# a check's outcome: passed (True/False) or nothing to check (None), and its detail
Outcome = tuple[bool | None, str]


def _tier_counts(c: GateContext, rules: bool = False) -> dict[str, int]:
    counts = {t: 0 for t in c.ruleset.tier_ids}
    if c.tiers is not None and not rules:
        for tier in c.tiers:
            counts[tier] += 1
        return counts
    for d, n in c.evaluation.by_path():
        counts[d.tier] += n
    return counts


def _rules_alone(c: GateContext, text: str) -> str:
    """Under overrides, the rules-only figures too."""
    return "" if c.tiers is None else f"; rules alone: {text}"


def _no_empty_tier(g: Gate, c: GateContext) -> tuple[bool, str]:
    counts = _tier_counts(c)
    empty = [t for t, n in counts.items() if n == 0]
    text = ", ".join(f"{t} {n:,}" for t, n in counts.items())
    out_of_reach = unreachable_note(c.ruleset, c.evaluation.bands, c.missing_columns, empty)
    rules = ", ".join(f"{t} {n:,}" for t, n in _tier_counts(c, rules=True).items())
    return (
        not empty,
        (
            f"every tier has accounts ({text})"
            if not empty
            else f"empty tier(s): {', '.join(empty)} ({text}){out_of_reach}"
        )
        + _rules_alone(c, rules),
    )


def _arr_conserved(g: Gate, c: GateContext) -> tuple[bool, str]:
    tol = float(g.params.get("tolerance", 0.01))
    frame = c.evaluation.frame
    arr = frame[c.arr_field] if c.arr_field in frame.columns else None
    segmented = sum(total for _, total in arr_per_tier(c.evaluation.tiers(), arr).values())
    diff = abs(segmented - c.input_arr)
    ok = diff <= tol
    why = (
        f"; ${c.rejected_arr:,.2f} of the book is in {c.rejected} rejected row(s), see rejects.csv"
        if not ok and c.rejected
        else ""
    )
    return ok, (
        f"segmented ARR ${segmented:,.2f} {'equals' if ok else 'differs from'} input book "
        f"ARR ${c.input_arr:,.2f} (difference ${diff:,.2f}, tolerance ${tol:,.2f}){why}"
    )


def _weights(g: Gate, c: GateContext) -> Outcome:
    tol = float(g.params.get("tolerance", 1e-6))
    problems, texts, notes = [], [], []
    for s in c.ruleset.scores:
        if s.method != "weighted":
            continue
        total = sum(comp.weight for comp in s.components)
        off = [comp.id for comp in s.components if comp.weight == 0]
        if abs(total - 1.0) > tol and off and total < 1.0:
            effective = s.effective_weights()
            texts.append(
                f"{s.id} weights sum to {total:g} with {', '.join(off)} at 0: redistributed "
                "to the others ("
                + ", ".join(f"{k} {v:.4g}" for k, v in effective.items() if v)
                + ")"
            )
        else:
            texts.append(f"{s.id} weights sum to {total:g}")
            if abs(total - 1.0) > tol:
                problems.append(f"{s.id} weights sum to {total:g}")
        unscored, out_of_range, partial = c.evaluation.score_counts(s.id)
        if unscored:
            problems.append(
                f"{unscored} account(s) have no {s.id} score"
                + (
                    " (a component unknown: `when_unknown: renormalise` scores them over "
                    "the known ones)"
                    if s.when_unknown != "renormalise"
                    else f" (their known components carry under {s.min_known:g} of the weight)"
                )
            )
        if partial:
            notes.append(
                f"{partial} account(s) scored {s.id} over their known components only "
                f"(renormalised; at least {s.min_known:g} of the weight known)"
            )
        if out_of_range:
            problems.append(f"{out_of_range} {s.id} factor score(s) outside 0-1")
    if not texts:
        return None, "no weighted scores"
    return not problems, "; ".join(
        (problems or texts + ["every account scored with the same weights"]) + notes
    )


def _flags_compatible(g: Gate, c: GateContext) -> Outcome:
    if not c.ruleset.contradictions:
        return None, "no contradictions declared"
    silent = 0
    surfaced = 0
    for d, n in c.evaluation.by_path():  # (every account on a path has its flags)
        for con in c.ruleset.contradictions:
            if con.flags[0] in d.flags and con.flags[1] in d.flags:
                if con.id in d.comments:
                    surfaced += n
                else:
                    silent += n
    return silent == 0, f"{surfaced:,} contradiction(s) surfaced as comments, {silent:,} silent"


def _capacity(g: Gate, c: GateContext) -> tuple[bool, str]:
    rules = ""
    if c.tiers is not None:  # (under overrides: the rules' own roll-up too)
        arrs = [float(v or 0.0) for v in c.evaluation.column(c.arr_field)]
        rules = _rules_alone(c, roll_up(c.ruleset, c.evaluation.tiers(), arrs).statement())
    if c.capacity.available is None:
        return False, "no CSM capacity declared: " + c.capacity.statement() + rules
    return True, c.capacity.statement() + rules


def _share_cap(g: Gate, c: GateContext) -> tuple[bool, str]:
    tier, cap = g.params["tier"], float(g.params["max_share"])
    n = c.evaluation.frame.height
    count = _tier_counts(c)[tier]
    share = count / n if n else 0.0
    rules = _tier_counts(c, rules=True)[tier]
    return share <= cap, (
        f"{tier} holds {share:.1%} of accounts ({count:,} of {n:,}); cap {cap:.0%}"
        + _rules_alone(c, f"{rules / n if n else 0.0:.1%} ({rules:,})")
    )


def _stability(g: Gate, c: GateContext) -> tuple[bool, str]:
    k = int(g.params.get("accounts", 3))
    pert = float(g.params.get("perturbation", 0.10))
    rng = random.Random(int(g.params.get("seed", 0)))
    n = c.evaluation.frame.height
    picks = sorted(rng.sample(range(n), min(k, n)))
    ids = dict(zip(picks, c.evaluation.frame["account_id"].gather(picks).to_list()))
    evaluated = c.evaluation.tiers()
    trials = []
    arrs = c.evaluation.column(c.arr_field)
    for i in picks:
        arr = float(arrs[i] or 0.0)
        trials += [(i, round(arr * (1 + pert), 2)), (i, round(arr * (1 - pert), 2))]
    tiers = c.reclassify(trials)
    moved = []
    for (i, arr), tier in zip(trials, tiers):
        if tier != evaluated[i]:
            moved.append(f"{ids[i]} {evaluated[i]} -> {tier} at ARR ${arr:,.2f}")
    names = ", ".join(ids[i] for i in picks)
    if moved:
        return (
            False,
            f"±{pert:.0%} ARR on {names} (seed {g.params.get('seed', 0)}) changes tier: "
            + "; ".join(moved),
        )
    return True, f"±{pert:.0%} ARR on {names} (seed {g.params.get('seed', 0)}) changes no tier"


def _triggers(g: Gate, c: GateContext) -> tuple[bool, str]:
    kinds = {t.kind for t in c.ruleset.triggers}
    missing = [k for k in REQUIRED_TRIGGERS if k not in kinds]
    return not missing, (
        f"all four triggers documented ({len(c.ruleset.triggers)} declared)"
        if not missing
        else f"missing trigger kinds: {', '.join(missing)}"
    )


def _gaps(g: Gate, c: GateContext) -> tuple[bool, str]:
    named = [f"{k} ({n} blank)" for k, n in sorted(c.gaps.items()) if n]
    missing = c.missing_columns
    parts = []
    if missing:
        parts.append(f"columns absent: {', '.join(missing)}")
    if named:
        parts.append(f"{len(named)} input(s) with blanks named in Calibration Confidence")
    return True, "; ".join(parts) if parts else "no input gaps"


CHECKS: dict[str, Callable[[Gate, GateContext], Outcome]] = {
    "no_empty_tier": _no_empty_tier,
    "arr_conserved": _arr_conserved,
    "weights_sum_to_one": _weights,
    "flags_compatible": _flags_compatible,
    "capacity_fit_stated": _capacity,
    "tier_share_cap": _share_cap,
    "stability": _stability,
    "triggers_documented": _triggers,
    "input_gaps_named": _gaps,
}


def run_gates(ctx: GateContext, as_of: dt.date) -> list[GateResult]:
    waivers = {w.gate: w for w in ctx.ruleset.waivers if not is_expired(w.expires, as_of)}
    expired = {w.gate: w for w in ctx.ruleset.waivers if is_expired(w.expires, as_of)}
    results = []
    for gate in ctx.ruleset.gates:
        outcome, detail = CHECKS[gate.kind](gate, ctx)
        passed = outcome is not False
        waiver = waivers.get(gate.id)
        results.append(
            GateResult(
                gate.id,
                gate.kind,
                passed,
                detail,
                waived=not passed and waiver is not None,
                waiver_reason=waiver.reason if waiver else "",
                applicable=outcome is not None,
                expired_waiver=expired.get(gate.id) if waiver is None else None,
            )
        )
    return results
