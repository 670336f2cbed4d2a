"""Structured conditions: walk, evaluate with three-valued logic, and reason about them.

A condition is data (``all``/``any``/``not`` over leaves ``{field, <op>}``, ``{flag}``,
``{event}``); nothing is ever evaluated as code.  Unknown values (blank optional inputs)
make a comparison *unknown*; ``all``/``any``/``not`` follow Kleene's logic and a rule
fires only when its condition is *true* (docs/language.md, Conditions: the rule that
needs an unknown value does not fire).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (validate reads conditions without the typed model)
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
