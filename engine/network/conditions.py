"""Structured conditions: walk, evaluate with three-valued logic, and reason about them.

A condition is data (``all``/``any``/``not`` over leaves ``{field, <op>}``, ``{flag}``,
``{event}``); nothing is ever evaluated as code.  Unknown values (blank optional inputs)
make a comparison *unknown*; ``all``/``any``/``not`` follow Kleene's logic and a rule
fires only when its condition is *true* (SPEC 1.1: the rule that needs them does not fire).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

from ..ruleset.model import Condition

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "between", "exists")
NUMERIC_OPS = {"lt", "lte", "gt", "gte", "between"}

Path = tuple[str | int, ...]


def leaf_op(leaf: Condition) -> tuple[str, Any]:
    op = next(k for k in leaf if k != "field")
    return op, leaf[op]


def iter_leaves(cond: Condition, path: Path = ()) -> Iterator[tuple[Path, Condition]]:
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        for i, sub in enumerate(cond[key]):
            yield from iter_leaves(sub, path + (key, i))
    elif "not" in cond:
        yield from iter_leaves(cond["not"], path + ("not",))
    else:
        yield path, cond


def compare(op: str, value: Any, arg: Any) -> bool | None:
    """One comparison; None when the value is unknown."""
    if op == "exists":
        return (value is not None) == bool(arg)
    if value is None:
        return None
    if op == "eq":
        return bool(value == arg)
    if op == "ne":
        return bool(value != arg)
    if op == "in":
        return bool(value in arg)
    if op == "not_in":
        return bool(value not in arg)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False  # a number compared with text is never true (unlike durable-rules)
    if op == "lt":
        return bool(value < arg)
    if op == "lte":
        return bool(value <= arg)
    if op == "gt":
        return bool(value > arg)
    if op == "gte":
        return bool(value >= arg)
    if op == "between":
        return bool(arg[0] <= value <= arg[1])
    raise ValueError(f"unknown operator {op}")


def evaluate(cond: Condition, leaf_value: Callable[[Condition], bool | None]) -> bool | None:
    """Kleene three-valued evaluation; ``leaf_value`` decides each leaf."""
    if "all" in cond:
        result: bool | None = True
        for sub in cond["all"]:
            v = evaluate(sub, leaf_value)
            if v is False:
                return False
            if v is None:
                result = None
        return result
    if "any" in cond:
        result = False
        for sub in cond["any"]:
            v = evaluate(sub, leaf_value)
            if v is True:
                return True
            if v is None:
                result = None
        return result
    if "not" in cond:
        v = evaluate(cond["not"], leaf_value)
        return None if v is None else not v
    return leaf_value(cond)


def describe(cond: Condition) -> str:
    """Readable text of a condition, for traces and reports."""
    if "all" in cond:
        return " and ".join(_paren(c) for c in cond["all"])
    if "any" in cond:
        return " or ".join(_paren(c) for c in cond["any"])
    if "not" in cond:
        return f"not {_paren(cond['not'])}"
    if "flag" in cond:
        return f"flag {cond['flag']}"
    if "event" in cond:
        return f"event {cond['event']}"
    op, arg = leaf_op(cond)
    symbol = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}.get(op)
    if symbol:
        return f"{cond['field']} {symbol} {_fmt(arg)}"
    if op == "between":
        return f"{cond['field']} between {_fmt(arg[0])} and {_fmt(arg[1])}"
    if op == "exists":
        return f"{cond['field']} is {'known' if arg else 'blank'}"
    words = "in" if op == "in" else "not in"
    return f"{cond['field']} {words} [{', '.join(_fmt(a) for a in arg)}]"


def _paren(cond: Condition) -> str:
    text = describe(cond)
    return f"({text})" if ("all" in cond or "any" in cond) else text


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and not value.strip():
        return repr(value)  # a blank cell: '' rather than nothing
    return str(value)


# --- static reasoning, for the validator ---------------------------------------------

Interval = tuple[float, bool, float, bool]  # lower, lower_inclusive, upper, upper_inclusive
FULL: Interval = (-math.inf, False, math.inf, False)


def leaf_interval(op: str, arg: Any) -> Interval | None:
    if op == "lt":
        return (-math.inf, False, float(arg), False)
    if op == "lte":
        return (-math.inf, False, float(arg), True)
    if op == "gt":
        return (float(arg), False, math.inf, False)
    if op == "gte":
        return (float(arg), True, math.inf, False)
    if op == "between":
        return (float(arg[0]), True, float(arg[1]), True)
    if op == "eq" and isinstance(arg, (int, float)) and not isinstance(arg, bool):
        return (float(arg), True, float(arg), True)
    return None


def intersect(a: Interval, b: Interval) -> Interval:
    lo, lo_inc = max((a[0], not a[1]), (b[0], not b[1]))
    hi, hi_inc = min((a[2], a[3]), (b[2], b[3]))
    return (lo, not lo_inc, hi, hi_inc)


def empty(iv: Interval) -> bool:
    lo, lo_inc, hi, hi_inc = iv
    return lo > hi or (lo == hi and not (lo_inc and hi_inc))


def contains(outer: Interval, inner: Interval) -> bool:
    if empty(inner):
        return True
    lo_ok = outer[0] < inner[0] or (outer[0] == inner[0] and (outer[1] or not inner[1]))
    hi_ok = outer[2] > inner[2] or (outer[2] == inner[2] and (outer[3] or not inner[3]))
    return lo_ok and hi_ok


def conjunction_intervals(cond: Condition) -> dict[str, Interval] | None:
    """Per-field numeric interval of a plain conjunction of numeric leaves, else None."""
    leaves = cond.get("all", [cond])
    out: dict[str, Interval] = {}
    for leaf in leaves:
        if "field" not in leaf:
            return None
        op, arg = leaf_op(leaf)
        iv = leaf_interval(op, arg)
        if iv is None:
            return None
        out[leaf["field"]] = intersect(out.get(leaf["field"], FULL), iv)
    return out


def unsatisfiable(cond: Condition) -> str | None:
    """Why a condition can never be true, or None when it may be."""
    if "any" in cond:
        reasons = [unsatisfiable(c) for c in cond["any"]]
        return reasons[0] if all(reasons) else None
    if "not" in cond:
        return None
    if "field" in cond:
        op, arg = leaf_op(cond)
        if op == "between" and arg[0] > arg[1]:
            return f"between [{_fmt(arg[0])}, {_fmt(arg[1])}] is empty"
        return None
    if "all" not in cond:
        return None
    for sub in cond["all"]:
        reason = unsatisfiable(sub)
        if reason:
            return reason
    per_field: dict[str, Interval] = {}
    equals: dict[str, Any] = {}
    for leaf in cond["all"]:
        if "field" not in leaf:
            continue
        op, arg = leaf_op(leaf)
        name = leaf["field"]
        iv = leaf_interval(op, arg)
        if iv is not None:
            per_field[name] = intersect(per_field.get(name, FULL), iv)
            if empty(per_field[name]):
                return f"no value of {name} satisfies all of its comparisons"
        elif op == "eq":
            if name in equals and equals[name] != arg:
                return f"{name} cannot equal both {_fmt(equals[name])} and {_fmt(arg)}"
            equals[name] = arg
    return None


def implies(a: Condition, b: Condition) -> bool:
    """Conservative: True only when every value satisfying ``a`` satisfies ``b``."""
    if a == b:
        return True
    ia, ib = conjunction_intervals(a), conjunction_intervals(b)
    if ia is None or ib is None:
        return False
    return all(name in ia and contains(ib[name], ia[name]) for name in ib)


def overlap(a: Condition, b: Condition) -> bool:
    """Conservative for `unique` hit policy: False only when provably disjoint."""
    ia, ib = conjunction_intervals(a), conjunction_intervals(b)
    if ia is not None and ib is not None:
        return not any(empty(intersect(ia[name], ib[name])) for name in set(ia) & set(ib))
    if "field" in a and "field" in b and a["field"] == b["field"]:
        (opa, va), (opb, vb) = leaf_op(a), leaf_op(b)
        if opa == opb == "eq":
            return bool(va == vb)
        if {opa, opb} == {"eq", "in"}:
            return (va in vb) if opb == "in" else (vb in va)
        if opa == opb == "in":
            return bool(set(va) & set(vb))
    return True


# --- the same comparisons over a whole column (polars), null meaning unknown ------------

_NUMERIC_DTYPES = (
    pl.Int8,
    pl.Int16,
    pl.Int32,
    pl.Int64,
    pl.UInt8,
    pl.UInt16,
    pl.UInt32,
    pl.UInt64,
    pl.Float32,
    pl.Float64,
)


def _number(arg: Any) -> bool:
    return isinstance(arg, (int, float)) and not isinstance(arg, bool) and arg == arg


def _unknown_or(column: pl.Expr, truth: bool) -> pl.Expr:
    """``truth`` for every known value, unknown (null) for a blank."""
    return pl.when(column.is_null()).then(pl.lit(None, pl.Boolean)).otherwise(pl.lit(truth))


def comparison(column: pl.Expr, dtype: pl.DataType, op: str, arg: Any) -> pl.Expr | None:
    """``compare(op, value, arg)`` of every value of a column of ``dtype``, as a Boolean
    expression (null: unknown); None where the column's type and the constant are a
    combination this does not write as an expression (``compare`` then decides each
    distinct value: ``truth_column``)."""
    if op == "exists":
        return column.is_not_null() if arg else column.is_null()
    numeric = isinstance(dtype, _NUMERIC_DTYPES)
    if op in NUMERIC_OPS:
        args = arg if op == "between" else [arg]
        if not (isinstance(args, (list, tuple)) and all(map(_number, args))):
            return None
        if not numeric:  # a number compared with text, a yes/no or a date is never true
            return _unknown_or(column, False) if dtype != pl.Null else pl.lit(None, pl.Boolean)
        ordered: pl.Expr
        if op == "lt":
            ordered = column < arg
        elif op == "lte":
            ordered = column <= arg
        elif op == "gt":
            ordered = column > arg
        elif op == "gte":
            ordered = column >= arg
        else:
            ordered = (column >= args[0]) & (column <= args[1])
        return ordered
    members = arg if op in ("in", "not_in") else [arg]
    if not isinstance(members, (list, tuple)):
        return None
    negate = op in ("ne", "not_in")
    if dtype == pl.String and all(isinstance(a, str) for a in members):
        found = column.is_in(list(members)) if len(members) != 1 else column == members[0]
    elif numeric and all(map(_number, members)):
        found = column.is_in([float(a) for a in members]) if members else pl.lit(False)
        if len(members) == 1:
            found = column == members[0]
    elif dtype == pl.Boolean and all(isinstance(a, bool) for a in members):
        found = column.is_in(list(members)) if len(members) != 1 else column == members[0]
    else:
        return None
    if not members:
        found = _unknown_or(column, False)
    return ~found if negate else found


def truth(frame: pl.DataFrame, name: str, op: str, arg: Any) -> pl.Expr:
    """``compare(op, value, arg)`` of every value of ``frame[name]`` as a Boolean expression
    over the frame (null: unknown): ``comparison`` where one is written, else ``compare``
    once per distinct value, the result given as a column."""
    if name not in frame.columns:
        return pl.lit(compare(op, None, arg), pl.Boolean)
    series = frame[name]
    dtype = series.dtype
    floats = isinstance(dtype, (pl.Float32, pl.Float64))
    expr = None if floats and series.is_nan().any() else comparison(pl.col(name), dtype, op, arg)
    if expr is not None:
        return expr
    distinct = series.unique(maintain_order=True).to_list()
    truths = [compare(op, v, arg) for v in distinct]
    keyed = pl.DataFrame(
        {"value": pl.Series(distinct, dtype=dtype), "truth": pl.Series(truths, dtype=pl.Boolean)}
    )
    column = (
        frame.select(pl.col(name).alias("value"))
        .join(keyed, on="value", how="left", nulls_equal=True, maintain_order="left")
        .get_column("truth")
    )
    return pl.lit(column)
