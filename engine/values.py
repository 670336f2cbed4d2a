"""Account values: derived values and scores, computed from an account's typed inputs.

Fixed operations only (ratio, difference, sum, days since/until, weighted and count
scores); no ruleset text is ever executed.  Unknown (None) propagates: a ratio with a
blank operand is unknown, a weighted score with a blank component input is unknown unless
the input declares a default (defaults are applied when the row is read).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable

from . import conditions as C
from .model import Component, Derived, Ruleset, Score

Values = dict[str, Any]


def derive(d: Derived, values: Values, as_of: dt.date) -> float | int | None:
    args: list[Any] = [values.get(a) for a in d.args]
    if any(a is None for a in args):
        return None
    if d.op == "ratio":
        num, den = args
        return None if den == 0 else num / den
    if d.op == "difference":
        return args[0] - args[1]
    if d.op == "sum":
        return sum(args)
    if d.op == "days_since":
        return (as_of - args[0]).days
    if d.op == "days_until":
        return (args[0] - as_of).days
    raise ValueError(d.op)


def component_score(c: Component, value: Any) -> float | None:
    """A 0-1 component score from the component's value (see the schema's `scoring`)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    s = c.scoring
    if "divide_by" in s:
        return min(1.0, max(0.0, value / s["divide_by"]))
    if "points" in s:
        pts = s["points"]
        if value <= pts[0][0]:
            return float(pts[0][1])
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            if value <= x1:
                return float(y0 + (y1 - y0) * (value - x0) / (x1 - x0))
        return float(pts[-1][1])
    if "thresholds" in s:
        for row in s["thresholds"]:
            if ("gte" in row and value >= row["gte"]) or ("gt" in row and value > row["gt"]):
                return float(row["score"])
        return float(s.get("else", 0.0))
    return float(min(1.0, max(0.0, value)))


def score_parts(score: Score, values: Values,
                flag_value: Callable[[dict[str, Any]], bool | None]) -> dict[str, float | None]:
    """Each component's 0-1 score.  A condition component scores 1 only when its condition
    is true: a blank input leaves it unmet (0), like any rule that needs the input."""
    parts: dict[str, float | None] = {}
    for c in score.components:
        if c.when is not None:
            parts[c.id] = 1.0 if C.evaluate(c.when, flag_value) is True else 0.0
        else:
            parts[c.id] = component_score(c, values.get(c.input or ""))
    return parts


def round_half_up(value: float, digits: int) -> float:
    """Round like people (and the seeds' Math.round) do, after removing float noise:
    0.30*40 + 0.25*50 + ... = 49.49999999999999 is 49.5, which rounds to 50."""
    exact = Decimal(repr(round(value, 9)))
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def compute_score(score: Score, parts: dict[str, float | None]) -> float | None:
    if score.method == "count":
        # the number of components known to hold; a blank indicator is not counted
        return float(sum((v for v in parts.values() if v is not None), 0.0))
    if any(v is None for v in parts.values()):
        return None
    weights = score.effective_weights()
    total = sum((weights[c.id] * parts[c.id] for c in score.components),  # type: ignore[operator]
                0.0)
    return round_half_up(total * score.scale, score.round)


def leaf_truth(values: Values) -> Callable[[dict[str, Any]], bool | None]:
    def truth(leaf: dict[str, Any]) -> bool | None:
        if "field" not in leaf:
            return None  # flags/events are decided by the rule network, not here
        op, arg = C.leaf_op(leaf)
        return C.compare(op, values.get(leaf["field"]), arg)
    return truth


def derived_order(ruleset: Ruleset) -> list[Derived]:
    """Derived values after the derived values they read (the validator rejects cycles)."""
    cached = _ORDER.get(id(ruleset))
    if cached is not None and cached[0] is ruleset:
        return cached[1]
    by_id = {d.id: d for d in ruleset.derived}
    order: list[Derived] = []
    seen: set[str] = set()

    def visit(d: Derived) -> None:
        if d.id in seen:
            return
        seen.add(d.id)
        for arg in d.args:
            if arg in by_id:
                visit(by_id[arg])
        order.append(d)

    for d in ruleset.derived:
        visit(d)
    _ORDER[id(ruleset)] = (ruleset, order)
    return order


_ORDER: dict[int, tuple[Ruleset, list[Derived]]] = {}


def account_values(ruleset: Ruleset, inputs: Values, as_of: dt.date
                   ) -> tuple[Values, dict[str, dict[str, float | None]]]:
    """All values the rules read (inputs, derived, scores) plus each score's parts, for one
    account: the same compiled computation every evaluation uses, so the stability gate and
    `classify` can never drift from the main run."""
    return compile_values(ruleset, as_of)(inputs)


_SCORE_MEMO_MAX = 4096


def _round_half_up_fast(value: float, digits: int) -> float:
    """round_half_up(value, digits), the same float, mostly without Decimal.

    Away from a tie both roundings pick the same nearest multiple of 10**-digits, whose
    nearest float ``round`` returns: only values within a hair of a tie (or too large for
    the test to be sure) go through round_half_up itself."""
    x = round(value, 9)
    if 0 < digits <= 9:
        scaled = x * _TENS[digits]
        # |scaled| < 1e10: its float error (and the repr's) is < 1e-5, far inside the margin
        if -1e10 < scaled < 1e10 and not 0.4999 < scaled % 1.0 < 0.5001:
            return round(x, digits)
    return round_half_up(value, digits)


_TENS = [10.0 ** i for i in range(10)]


def compile_values(ruleset: Ruleset, as_of: dt.date, in_place: bool = False
                   ) -> Callable[[Values], tuple[Values, dict[str, dict[str, float | None]]]]:
    """An account's values as one function of its inputs: derived values in dependency
    order (``derive``), then each score's parts (``component_score`` / ``score_parts``) and
    total (``compute_score``).  ``in_place``: the inputs dict itself becomes the values
    (for a caller that owns freshly read inputs and wants no second dict per account).

    The ruleset is looked at once instead of once per account: derived values with their
    operation picked in advance, weights computed once, and each component's score of a
    float value remembered (ratios repeat a lot).
    """
    steps: list[tuple[str, int, Any]] = []
    for d in derived_order(ruleset):
        if d.op == "ratio" and len(d.args) == 2:
            steps.append((d.id, 0, d.args))
        elif d.op == "days_since" and len(d.args) == 1:
            steps.append((d.id, 1, d.args[0]))
        elif d.op == "days_until" and len(d.args) == 1:
            steps.append((d.id, 2, d.args[0]))
        else:
            steps.append((d.id, 3, d))
    scores = []
    for s in ruleset.scores:
        comps: list[tuple[str, str, Component, dict[float, float | None]]] = [
            (c.id, c.input or "", c, {}) for c in s.components]
        plain = all(c.when is None for c in s.components)
        count = s.method == "count"
        weights = {} if count else s.effective_weights()
        terms = [] if count else [(weights[c.id], c.id) for c in s.components]
        scores.append((s, s.id, plain, comps, count, terms, s.scale, s.round))
    component = component_score
    rounding = _round_half_up_fast

    def values_of(inputs: Values) -> tuple[Values, dict[str, dict[str, float | None]]]:
        values = inputs if in_place else dict(inputs)
        get = values.get
        for did, kind, arg in steps:
            if kind == 0:
                num, den = get(arg[0]), get(arg[1])
                values[did] = None if num is None or den is None else (
                    None if den == 0 else num / den)
            elif kind == 1:
                day = get(arg)
                values[did] = None if day is None else (as_of - day).days
            elif kind == 2:
                day = get(arg)
                values[did] = None if day is None else (day - as_of).days
            else:
                values[did] = derive(arg, values, as_of)
        parts_by_score: dict[str, dict[str, float | None]] = {}
        truth = None
        for s, sid, plain, comps, count, terms, scale, digits in scores:
            if plain:
                parts: dict[str, float | None] = {}
                for cid, name, c, memo in comps:
                    value = get(name)
                    if value is None:
                        parts[cid] = None
                    elif value.__class__ is float:
                        part = memo.get(value)
                        if part is None:
                            if len(memo) >= _SCORE_MEMO_MAX:
                                memo.clear()
                            part = memo[value] = component(c, value)
                        parts[cid] = part
                    else:
                        parts[cid] = component(c, value)
            else:
                if truth is None:
                    truth = leaf_truth(values)
                parts = score_parts(s, values, truth)
            parts_by_score[sid] = parts
            if count:
                values[sid] = float(sum((v for v in parts.values() if v is not None), 0.0))
            elif None in parts.values():
                values[sid] = None
            else:
                total = sum([w * parts[cid] for w, cid in terms], 0.0)  # type: ignore[operator]
                values[sid] = rounding(total * scale, digits)
        return values, parts_by_score
    return values_of
