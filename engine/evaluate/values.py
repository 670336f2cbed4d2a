"""Account values: derived values and scores, computed from an account's typed inputs.

Fixed operations only (ratio, difference, sum, days since/until, weighted and count
scores); no ruleset text is ever executed.  Unknown (None) propagates: a ratio with a
blank operand is unknown, a weighted score with a blank component input is unknown unless
the input declares a default (defaults are applied when the row is read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise, repeat
from operator import mul
from typing import Any, overload

from ..network import conditions as C
from ..portfolio.frame import dicts_of
from ..ruleset.model import Component, Derived, Ruleset, Score

Values = dict[str, Any]


def derive(d: Derived, values: Values, as_of: dt.date) -> float | int | None:
    args: list[Any] = [values.get(a) for a in d.args]
    if any(a is None for a in args):
        return None
    nums: list[float] = args  # validate checks the operands' types: numbers, or dates below
    if d.op == "ratio":
        num, den = nums
        return None if den == 0 else num / den
    if d.op == "difference":
        return nums[0] - nums[1]
    if d.op == "sum":
        return sum(nums)
    dates: list[dt.date] = args
    if d.op == "days_since":
        return (as_of - dates[0]).days
    if d.op == "days_until":
        return (dates[0] - as_of).days
    raise ValueError(d.op)


def component_score(c: Component, value: Any) -> float | None:
    """A 0-1 component score from the component's value (see the schema's `scoring`)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    s = c.scoring
    if "divide_by" in s:
        ratio: float = value / s["divide_by"]
        return min(1.0, max(0.0, ratio))
    if "points" in s:
        pts = s["points"]
        if value <= pts[0][0]:
            return float(pts[0][1])
        for (x0, y0), (x1, y1) in pairwise(pts):
            if value <= x1:
                return float(y0 + (y1 - y0) * (value - x0) / (x1 - x0))
        return float(pts[-1][1])
    if "thresholds" in s:
        for row in s["thresholds"]:
            if ("gte" in row and value >= row["gte"]) or ("gt" in row and value > row["gt"]):
                return float(row["score"])
        return float(s.get("else", 0.0))
    return float(min(1.0, max(0.0, value)))


def score_parts(
    score: Score, values: Values, flag_value: Callable[[dict[str, Any]], bool | None]
) -> dict[str, float | None]:
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
    total = sum(
        (weights[c.id] * parts[c.id] for c in score.components),  # type: ignore[operator]
        0.0,
    )
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


def account_values(
    ruleset: Ruleset, inputs: Values, as_of: dt.date
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


_TENS = [10.0**i for i in range(10)]


def compile_values(
    ruleset: Ruleset, as_of: dt.date, in_place: bool = False
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
            (c.id, c.input or "", c, {}) for c in s.components
        ]
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
                values[did] = (
                    None if num is None or den is None else (None if den == 0 else num / den)
                )
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


class _PartMemo(dict):  # type: ignore[type-arg]
    """A component's score of each distinct value of a column of floats (and blanks)."""

    def __init__(self, c: Component) -> None:
        super().__init__()
        self.c = c

    def __missing__(self, value: float | None) -> float | None:
        part = self[value] = component_score(self.c, value)
        return part


def _derived_column(d: Derived, cols: list[list[Any]], as_of: dt.date) -> list[Any]:
    """``derive`` of every account, a column at a time (the same expression on the same
    operands, so the same values)."""
    if d.op == "ratio" and len(cols) == 2:
        return [
            None if num is None or den is None else (None if den == 0 else num / den)
            for num, den in zip(*cols)
        ]
    if d.op == "difference" and len(cols) == 2:
        return [None if a is None or b is None else a - b for a, b in zip(*cols)]
    if d.op == "sum":
        return [None if None in args else sum(args) for args in map(list, zip(*cols))]
    if d.op == "days_since" and len(cols) == 1:
        return [None if day is None else (as_of - day).days for day in cols[0]]
    if d.op == "days_until" and len(cols) == 1:
        return [None if day is None else (day - as_of).days for day in cols[0]]
    raise ValueError(d.op)


def _negative_zero(obj: Any) -> bool:
    """Whether a scoring's constants hold a -0.0 anywhere."""
    if isinstance(obj, float):
        return obj == 0.0 and str(obj).startswith("-")
    if isinstance(obj, dict):
        return any(map(_negative_zero, obj.values()))
    if isinstance(obj, (list, tuple)):
        return any(map(_negative_zero, obj))
    return False


def _rounded(scaled: list[float], digits: int) -> list[float]:
    """``_round_half_up_fast`` of each value (the same test inline, without a call each)."""
    if not 0 < digits <= 9:
        return [round_half_up(v, digits) for v in scaled]
    xs = list(map(round, scaled, repeat(9)))
    tens = _TENS[digits]
    return [
        round(x, digits)
        if -1e10 < (t := x * tens) < 1e10 and not 0.4999 < t % 1.0 < 0.5001
        else round_half_up(v, digits)
        for v, x in zip(scaled, xs)
    ]


def _condition_column(when: Any, column: Callable[[str], list[Any]], n: int) -> list[float | None]:
    """``score_parts`` of a condition component for each account: 1.0 where its condition
    is true of the account's values, else 0.0; worked out once per distinct set of the
    values it reads (with their types: 1, 1.0 and True compare alike but are not alike)."""
    fields = sorted({leaf["field"] for _, leaf in C.iter_leaves(when) if "field" in leaf})
    cols = [column(f) for f in fields]
    found: dict[tuple[Any, ...], float] = {}
    out: list[float | None] = []
    for vals in zip(*cols) if cols else [()] * n:
        key = tuple(zip(map(type, vals), vals))
        part = found.get(key)
        if part is None:
            truth = leaf_truth(dict(zip(fields, vals)))
            part = found[key] = 1.0 if C.evaluate(when, truth) is True else 0.0
        out.append(part)
    return out


def compile_value_columns(
    ruleset: Ruleset, as_of: dt.date
) -> Callable[..., tuple[dict[str, list[Any]], Sequence[dict[str, Any]]]] | None:
    """``compile_values`` for a block of accounts given as columns (input id -> one value
    per account): the derived values' and scores' columns, and each account's score parts.
    The same operations in the same order on the same operands as ``compile_values`` (a
    test holds them equal), a column at a time: a component's score is worked out once per
    distinct value of a column of floats (a condition component's once per distinct set of
    the values its condition reads), a weighted score's terms a column at a time.  None
    when a scoring constant is a negative zero (equal to 0.0, so remembering scores by
    value could change a sign): the reader then computes values account by account."""
    if any(_negative_zero(c.scoring) for s in ruleset.scores for c in s.components):
        return None
    order = derived_order(ruleset)
    scores = []
    for s in ruleset.scores:
        count = s.method == "count"
        weights = {} if count else s.effective_weights()
        scores.append(
            (
                s.id,
                [(c, _PartMemo(c)) for c in s.components],
                count,
                [weights.get(c.id, 0.0) for c in s.components],
                s.scale,
                s.round,
            )
        )

    def columns_of(
        cols: dict[str, list[Any]], n: int, as_columns: bool = False
    ) -> tuple[dict[str, list[Any]], Sequence[dict[str, Any]]]:
        """The derived values' and scores' columns, and each account's score parts (as
        ``PartColumns`` when ``as_columns``: no dict per account)."""
        out: dict[str, list[Any]] = {}
        blank = [None] * n

        def column(name: str) -> list[Any]:
            found = out.get(name)
            if found is None:
                found = cols.get(name)
            return blank if found is None else found

        for d in order:
            out[d.id] = _derived_column(d, [column(a) for a in d.args], as_of)
        parts_by_score: list[list[dict[str, float | None]]] = []
        by_score: dict[str, dict[str, Sequence[Any]]] = {}
        for sid, comps, count, weights, scale, digits in scores:  # in order: one may read another
            part_cols: list[list[float | None]] = []
            for c, memo in comps:
                if c.when is not None:
                    part_cols.append(_condition_column(c.when, column, n))
                    continue
                col = column(c.input or "")
                if set(map(type, col)) <= {float, type(None)}:
                    if len(memo) >= _SCORE_MEMO_MAX:
                        memo.clear()
                    part_cols.append(list(map(memo.__getitem__, col)))
                else:
                    part_cols.append([component_score(c, v) for v in col])
            rows = list(zip(*part_cols)) if part_cols else [()] * n
            if count:
                out[sid] = [float(sum([v for v in row if v is not None], 0.0)) for row in rows]
            elif any(None in col for col in part_cols):
                out[sid] = [
                    None
                    if None in row
                    else _round_half_up_fast(
                        sum([w * p for w, p in zip(weights, row)], 0.0) * scale, digits
                    )
                    for row in rows
                ]
            else:  # each account's sum of w * part, in component order, as compile_values
                terms = [list(map(mul, repeat(w), col)) for w, col in zip(weights, part_cols)]
                totals = list(map(sum, zip(*terms), repeat(0.0))) if terms else [0.0] * n
                out[sid] = _rounded(list(map(mul, totals, repeat(scale))), digits)
            cids = [c.id for c, _ in comps]
            if as_columns:  # (a later component of the same id wins, as in a dict)
                by_score[sid] = dict(zip(cids, part_cols))
            else:
                parts_by_score.append(list(map(dict, map(zip, repeat(cids), rows))))
        if as_columns:
            return out, PartColumns(by_score, n)
        if not scores:
            return out, [{} for _ in range(n)]
        sids = [sid for sid, *_ in scores]
        return out, list(map(dict, map(zip, repeat(sids), zip(*parts_by_score))))

    return columns_of


class PartColumns(Sequence[dict[str, dict[str, Any]]]):
    """Each account's score parts ({score: {component: part}}) as a column per score and
    component, in account order; the dicts built all at once the first time an account's
    are asked for (``portfolio.Rows`` for the values)."""

    def __init__(self, columns: dict[str, dict[str, Sequence[Any]]], size: int) -> None:
        self.columns = columns
        self.size = size
        self._dicts: list[dict[str, dict[str, Any]]] | None = None

    def dicts(self) -> list[dict[str, dict[str, Any]]]:
        if self._dicts is None:
            scores: list[list[dict[str, Any]]] = [
                dicts_of(comps) if comps else [{} for _ in range(self.size)]
                for comps in self.columns.values()
            ]
            self._dicts = (
                dicts_of(dict(zip(self.columns, scores)))
                if scores
                else [{} for _ in range(self.size)]
            )
        return self._dicts

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> dict[str, dict[str, Any]]: ...

    @overload
    def __getitem__(self, index: slice) -> PartColumns: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):  # the accounts' columns, no dicts
            start, stop, step = index.indices(self.size)
            return PartColumns(
                {
                    s: {c: column[index] for c, column in comps.items()}
                    for s, comps in self.columns.items()
                },
                len(range(start, stop, step)),
            )
        return self.dicts()[index]

    def __iter__(self) -> Iterator[dict[str, dict[str, Any]]]:
        return iter(self.dicts())


class ValuesWhileReading:
    """What the reader computes each account's values with as it reads: ``columns`` a chunk
    of accounts at a time where the ruleset allows (``compile_value_columns``), else ``one``
    account at a time, its values added to its own dict (``compile_values`` in place)."""

    def __init__(self, ruleset: Ruleset, as_of: dt.date) -> None:
        self.one = compile_values(ruleset, as_of, in_place=True)
        self.columns = compile_value_columns(ruleset, as_of)
        # False: a reader that has every account's values as columns keeps them so, and
        # the accounts are ``portfolio.Rows`` (dicts built when first asked for)
        self.dicts = True
