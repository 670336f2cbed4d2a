"""Account values: derived values and scores, as polars expressions over the frame of typed
inputs (one column per input, one row per account).

Fixed operations only (ratio, difference, sum, days since/until, weighted and count
scores); no ruleset text is ever executed.  Unknown (null) propagates: a ratio with a
blank operand is unknown, and so is a score component on a blank input (a condition
component too), whatever the input's type; a weighted score with an unknown component is
unknown, or renormalised over the known ones (``when_unknown: renormalise``), unless the
input declares a default (defaults are applied when the row is read).  Each operation
is written with the same operands in the same order as a person computes it by hand
(tests/engine/reference.py), so the floats are the same; a weighted score is rounded half
up by ``round_half_up``, once per distinct total.

Each score's parts (one 0-1 score per component) are columns of the frame too, named by
``part_column``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from itertools import pairwise
from typing import Any

import polars as pl

from ..network import conditions as C
from ..network.truths import truth
from ..ruleset.model import Component, Derived, Ruleset, Score

Values = dict[str, Any]


def part_column(score_id: str, component_id: str) -> str:
    """The frame's column of one component's 0-1 score (ids never hold a ':')."""
    return f"{score_id}:{component_id}"


def round_half_up(value: float, digits: int) -> float:
    """Round like people (and spreadsheets' ROUND) do, after removing float noise:
    0.30*40 + 0.25*50 + ... = 49.49999999999999 is 49.5, which rounds to 50."""
    exact = Decimal(repr(round(value, 9)))
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def derived_order(ruleset: Ruleset) -> list[Derived]:
    """Derived values after the derived values they read (the validator rejects cycles)."""
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
    return order


def _operand(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None)


def _derived(d: Derived, frame: pl.DataFrame, as_of: dt.date) -> pl.Expr:
    args = [_operand(frame, a) for a in d.args]
    if d.op == "ratio":
        num, den = args
        return pl.when(den == 0).then(None).otherwise(num / den)
    if d.op == "difference":
        return args[0] - args[1]
    if d.op == "sum":  # (left to right from 0, as a running total)
        return reduce(lambda total, a: total + a, args, pl.lit(0))
    if d.op == "days_since":
        return (pl.lit(as_of) - args[0]).dt.total_days()
    if d.op == "days_until":
        return (args[0] - pl.lit(as_of)).dt.total_days()
    raise ValueError(d.op)


def _clamp(x: pl.Expr) -> pl.Expr:
    """min(1, max(0, x)): 0 unless x is above 0 (so not for NaN), 1 unless below 1."""
    above = pl.when(x > 0.0).then(x).otherwise(0.0)
    return pl.when(above < 1.0).then(above).otherwise(1.0).cast(pl.Float64)


def _divide(x: pl.Expr, constant: float, n: int) -> pl.Expr:
    """``x / constant`` with every quotient correctly rounded, as Python's ``/`` is: polars
    divides by a scalar as a multiplication by its reciprocal (95 / 100 would be
    0.9500000000000001), so the constant is given as a column."""
    return x / pl.lit(pl.Series([float(constant)] * n, dtype=pl.Float64))


def _component(c: Component, value: pl.Expr, dtype: pl.DataType, n: int) -> pl.Expr:
    """A 0-1 component score from the component's value (see the schema's `scoring`)."""
    if dtype == pl.Boolean:
        return pl.when(value).then(1.0).otherwise(0.0).cast(pl.Float64)
    s = c.scoring
    if "divide_by" in s:
        return _clamp(_divide(value, s["divide_by"], n))
    if "points" in s:
        pts = s["points"]
        points: Any = pl.when(value <= pts[0][0]).then(pl.lit(float(pts[0][1])))
        for (x0, y0), (x1, y1) in pairwise(pts):
            points = points.when(value <= x1).then(
                (pl.lit(y0) + _divide(pl.lit(y1 - y0) * (value - x0), x1 - x0, n)).cast(pl.Float64)
            )
        last: pl.Expr = points.otherwise(pl.lit(float(pts[-1][1])))
        return last
    if "thresholds" in s:
        chain: Any = pl
        for row in s["thresholds"]:
            holds = pl.lit(False)
            if "gte" in row:
                holds = holds | (value >= row["gte"])
            if "gt" in row:
                holds = holds | (value > row["gt"])
            chain = chain.when(holds).then(pl.lit(float(row["score"])))
        other = pl.lit(float(s.get("else", 0.0)))
        out: pl.Expr = chain.otherwise(other) if chain is not pl else other
        return pl.when(value.is_null()).then(None).otherwise(out)
    return _clamp(value)


def condition(frame: pl.DataFrame, cond: Any) -> pl.Series:
    """A condition of the account's values over every account (Kleene logic; null:
    unknown).  Flag and event leaves are unknown here: the rule network decides them."""
    if "all" in cond or "any" in cond:
        subs = [condition(frame, c) for c in cond["all" if "all" in cond else "any"]]
        start = pl.Series(["all" in cond] * frame.height, dtype=pl.Boolean)
        if "all" in cond:
            return reduce(lambda a, b: a & b, subs, start)
        return reduce(lambda a, b: a | b, subs, start)
    if "not" in cond:
        return ~condition(frame, cond["not"])
    if "field" not in cond:
        return pl.Series([None] * frame.height, dtype=pl.Boolean)
    op, arg = C.leaf_op(cond)
    return frame.select(truth(frame, cond["field"], op, arg).alias("truth")).to_series()


def _score(s: Score, frame: pl.DataFrame) -> tuple[list[pl.Series], pl.Series]:
    """A score's part columns (in component order) and its column."""
    parts: list[pl.Series] = []
    for c in s.components:
        name = part_column(s.id, c.id)
        if c.when is not None:  # 1 when it holds, 0 when not, unknown when it is
            part = condition(frame, c.when).cast(pl.Float64).alias(name)
        elif c.input and c.input in frame.columns:
            value = pl.col(c.input)
            expr = _component(c, value, frame.schema[c.input], frame.height)
            known = pl.when(value.is_null()).then(None).otherwise(expr)
            part = frame.select(known.cast(pl.Float64).alias(name)).to_series()
        else:
            part = pl.Series(name, [None] * frame.height, dtype=pl.Float64)
        parts.append(part)
    columns = pl.DataFrame(parts) if parts else pl.DataFrame(height=frame.height)
    names = [p.name for p in parts]
    if s.method == "count":  # the components known to hold; a blank is not counted
        total = reduce(lambda t, n: t + pl.col(n).fill_null(0.0), names, pl.lit(0.0))
        return parts, columns.select(total.cast(pl.Float64).alias(s.id)).to_series()
    weights = s.effective_weights()
    terms = [(weights[c.id], part_column(s.id, c.id)) for c in s.components]
    total = reduce(lambda t, wn: t + pl.lit(wn[0]) * pl.col(wn[1]), terms, pl.lit(0.0))
    if s.when_unknown == "renormalise":  # the known parts' sum over their share of the weight
        summed = reduce(
            lambda t, wn: t + (pl.lit(wn[0]) * pl.col(wn[1])).fill_null(0.0), terms, pl.lit(0.0)
        )
        known = reduce(
            lambda t, wn: t + pl.when(pl.col(wn[1]).is_null()).then(0.0).otherwise(wn[0]),
            terms,
            pl.lit(0.0),
        )
        total = (
            pl.when(total.is_not_null())  # (every part known: the plain sum, not divided)
            .then(total)
            .when(known >= s.min_known - 1e-9)
            .then(summed / known)
            .otherwise(None)
        )
    scaled = columns.select((total * s.scale).alias(s.id)).to_series()
    return parts, _rounded(scaled, s.round)


def _rounded(scaled: pl.Series, digits: int) -> pl.Series:
    """``round_half_up`` of every value, worked out once per distinct value."""
    distinct = scaled.drop_nulls().unique(maintain_order=True)
    keys = distinct.to_list()
    rounded = [round_half_up(v, digits) for v in keys]
    return scaled.replace_strict(keys, rounded, default=None, return_dtype=pl.Float64)


def with_values(ruleset: Ruleset, frame: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """``frame`` (typed inputs) with every derived value, score part and score added:
    derived values in dependency order, then scores in order (one may read another)."""
    for d in derived_order(ruleset):
        frame = frame.with_columns(_derived(d, frame, as_of).alias(d.id))
    for s in ruleset.scores:
        parts, score = _score(s, frame)
        frame = frame.with_columns([*parts, score])
    return frame


def value_names(ruleset: Ruleset) -> list[str]:
    """The values an account has, in order: its id, inputs, derived values and scores."""
    names = ["account_id"] + [i.id for i in ruleset.inputs]
    names += [d.id for d in derived_order(ruleset)] + [s.id for s in ruleset.scores]
    return list(dict.fromkeys(names))


def whole_as_int(ruleset: Ruleset) -> set[str]:
    """The values whose whole numbers are integers in Python (and so in JSON): numbers read
    as ``number`` (the parser gives 72 for "72", 72.5 for "72.5") and the differences and
    sums of them and of integers."""
    kinds: dict[str, str] = {}
    for i in ruleset.inputs:
        kinds[i.id] = {"number": "number", "integer": "int"}.get(i.type, "other")
    for d in derived_order(ruleset):
        if d.op in ("difference", "sum"):
            of = {kinds.get(a, "other") for a in d.args}
            kinds[d.id] = "number" if "number" in of and of <= {"number", "int"} else "other"
    return {name for name, kind in kinds.items() if kind == "number"}


def part_names(ruleset: Ruleset) -> dict[str, list[tuple[str, str]]]:
    """Per score: (component id, part column) in component order."""
    return {s.id: [(c.id, part_column(s.id, c.id)) for c in s.components] for s in ruleset.scores}


def rows_of(columns: Mapping[str, Sequence[Any]], count: int) -> list[dict[str, Any]]:
    """One dict per row of ``columns`` (name -> a value per row), keys in the columns' order."""
    if not columns:
        return [{} for _ in range(count)]
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*columns.values())]
