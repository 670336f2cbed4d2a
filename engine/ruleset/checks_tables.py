"""Decision tables that leave values out: input combinations no rule matches.

A band set's bands are checked for gaps (validate.py); a decision table is checked the same
way here.  The values a table's rules compare are split at every bound the rules name, so
each field's domain becomes a few pieces (a value, or the open range between two bounds);
every combination of pieces that no rule covers is a gap: an account there gets no value
(unless the table has a ``default``).  Only tables whose rules are comparisons of known
fields (joined by ``all``, or ``any`` of such) are checked; anything else is left alone
rather than guessed at.

Passing (every count of indicators matches one rule)::

    rules:
      - {id: high, when: {field: indicators, gte: 3}, value: HIGH}
      - {id: medium, when: {field: indicators, between: [1, 2]}, value: MEDIUM}
      - {id: low, when: {field: indicators, eq: 0}, value: LOW}

Failing (``decision-gap``: with ``gte: 4``, an account with 3 indicators gets no value)::

      - {id: high, when: {field: indicators, gte: 4}, value: HIGH}
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise, product
from typing import Any

from ..network import conditions as C
from ..portfolio.cells import NUMERIC_TYPES

Path = tuple[str | int, ...]
MAX_CELLS = 20000  # combinations of pieces a table is checked over (more: not checked)
MAX_SHOWN = 3  # gaps named per table

Piece = tuple[float, bool, float, bool]  # an interval, as conditions.Interval


@dataclass
class _Numeric:
    low: float
    high: float
    integer: bool


@dataclass
class _Values:
    values: list[tuple[Any, ...]]  # each possible value, with the names that match it
    open: bool  # other values are possible (a free string)


Domain = _Numeric | _Values


def decision_gaps(data: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    """(path, message) for each decision table with values no rule matches."""
    domains = _domains(data)
    for i, dec in enumerate(data.get("decisions", [])):
        if "default" in dec:
            continue
        rules = [_disjuncts(r.get("when")) for r in dec["rules"]]
        if any(r is None for r in rules):
            continue
        conjunctions = [c for r in rules for c in r or []]
        fields = sorted({name for c in conjunctions for name in c})
        if not fields or any(name not in domains for name in fields):
            continue
        pieces = {name: _pieces(domains[name], conjunctions, name) for name in fields}
        if any(p is None for p in pieces.values()):
            continue
        if math.prod(len(p or []) for p in pieces.values()) > MAX_CELLS:
            continue
        gaps = [
            cell
            for cell in product(*(pieces[name] or [] for name in fields))
            if not any(_covers(c, dict(zip(fields, cell))) for c in conjunctions)
        ]
        if not gaps:
            continue
        shown = _merged(fields, gaps, domains)
        more = f" (and {len(shown) - MAX_SHOWN} more)" if len(shown) > MAX_SHOWN else ""
        yield (
            ("decisions", i, "rules"),
            f"gap in decision table '{dec['id']}': no rule matches "
            + "; ".join(shown[:MAX_SHOWN])
            + more
            + " (the decision is blank there; add a rule or a default)",
        )


# -- what each field can be -----------------------------------------------------------------
def _domains(data: dict[str, Any]) -> dict[str, Domain]:
    out: dict[str, Domain] = {}
    for item in data.get("inputs", []):
        kind = item["type"]
        if kind in NUMERIC_TYPES:
            out[item["id"]] = _Numeric(
                float(item.get("min", -math.inf)),
                float(item.get("max", math.inf)),
                kind == "integer",
            )
        elif kind == "boolean":
            out[item["id"]] = _Values([(True,), (False,)], False)
        elif kind == "enum":
            out[item["id"]] = _Values([(v,) for v in item.get("values", [])], False)
        elif kind == "string":
            out[item["id"]] = _Values([], True)
    for d in data.get("derived", []):
        op = next(
            (k for k in ("ratio", "difference", "sum", "days_since", "days_until") if k in d), ""
        )
        out[d["id"]] = _Numeric(-math.inf, math.inf, op in ("days_since", "days_until"))
    for s in data.get("scores", []):
        scale = float(s.get("scale", 1.0))
        if s.get("method") == "count":
            whole = all("input" not in c for c in s.get("components", []))
            out[s["id"]] = _Numeric(0.0, float(len(s.get("components", []))), whole)
        else:
            out[s["id"]] = _Numeric(min(0.0, scale), max(0.0, scale), False)
    for b in data.get("bands", []):
        found: list[tuple[Any, ...]] = []
        for key in ("bands", "log", "quartile"):
            block = b.get(key)
            bands = block if key == "bands" else (block or {}).get("bands", [])
            for band in bands or []:
                found.append((band["id"], band.get("row", band["id"])))
        out[b["id"]] = _Values(sorted(set(found), key=str), False)
    for dec in data.get("decisions", []):
        values = {(r["value"],) for r in dec["rules"] if isinstance(r.get("value"), (str, bool))}
        if "default" in dec:
            values.add((dec["default"],))
        out.setdefault(dec["id"], _Values(sorted(values, key=str), False))
    return out


def _disjuncts(cond: Any) -> list[dict[str, tuple[str, Any]]] | None:
    """A condition as alternatives, each a field -> constraint map (a numeric Interval as
    ("range", iv), or ("in", allowed) / ("not_in", excluded)); None if it is not plain."""
    if not isinstance(cond, dict):
        return None
    if "any" in cond:
        out: list[dict[str, tuple[str, Any]]] = []
        for sub in cond["any"]:
            found = _disjuncts(sub)
            if found is None:
                return None
            out += found
        return out
    leaves = cond.get("all", [cond])
    conj: dict[str, tuple[str, Any]] = {}
    for leaf in leaves:
        if not isinstance(leaf, dict) or "field" not in leaf:
            return None
        op, arg = C.leaf_op(leaf)
        name = leaf["field"]
        iv = C.leaf_interval(op, arg)
        if iv is not None:
            earlier = conj.get(name, ("range", C.FULL))
            if earlier[0] != "range":
                return None
            conj[name] = ("range", C.intersect(earlier[1], iv))
        elif op in ("eq", "in", "ne", "not_in") and name not in conj:
            many = arg if isinstance(arg, list) else [arg]
            conj[name] = ("in" if op in ("eq", "in") else "not_in", many)
        else:
            return None
    return [conj]


# -- the pieces of a domain, and which rule covers which ------------------------------------
def _pieces(domain: Domain, conjunctions: list[dict[str, Any]], name: str) -> list[Any] | None:
    constraints = [c[name] for c in conjunctions if name in c]
    if isinstance(domain, _Values):
        if any(kind == "range" for kind, _ in constraints):
            return None
        values = list(domain.values)
        if domain.open:
            named = sorted({v for kind, arg in constraints for v in arg}, key=str)
            values = [(v,) for v in named] + [_OTHER]
        return values
    if any(kind != "range" for kind, _ in constraints):
        return None
    points = sorted(
        {p for _, iv in constraints for p in (iv[0], iv[2]) if domain.low < p < domain.high}
    )
    edges = [domain.low, *points, domain.high]
    pieces: list[Piece] = []
    if math.isfinite(domain.low):
        pieces.append((domain.low, True, domain.low, True))
    for lo, hi in pairwise(edges):
        pieces.append((lo, False, hi, False))
        if math.isfinite(hi):
            pieces.append((hi, True, hi, True))
    return [p for p in pieces if not _empty(p, domain)]


_OTHER = ("any other value",)


def _empty(piece: Piece, domain: _Numeric) -> bool:
    lo, lo_inc, hi, hi_inc = piece
    if C.empty(piece) or (lo == hi and not math.isfinite(lo)):
        return True
    if not domain.integer:
        return False
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return False
    first = math.ceil(lo) if lo_inc else math.floor(lo) + 1
    last = math.floor(hi) if hi_inc else math.ceil(hi) - 1
    return first > last


def _covers(conj: dict[str, tuple[str, Any]], cell: dict[str, Any]) -> bool:
    for name, (kind, arg) in conj.items():
        piece = cell[name]
        if kind == "range":
            if not C.contains(arg, piece):
                return False
        elif piece is _OTHER:
            if kind == "in":
                return False
        elif any(v in arg for v in piece) != (kind == "in"):
            return False
    return True


# -- naming a gap ---------------------------------------------------------------------------
def _merged(
    fields: list[str], gaps: list[tuple[Any, ...]], domains: dict[str, Domain]
) -> list[str]:
    """Each gap as text; neighbouring pieces of one numeric field joined into one range."""
    joined: list[list[Any]] = []
    for cell in gaps:
        last = joined[-1] if joined else None
        if last is not None and _neighbours(fields, last, cell, domains):
            lo = last[-1]
            piece = cell[-1]
            last[-1] = (lo[0], lo[1], piece[2], piece[3])
        else:
            joined.append(list(cell))
    return [
        " and ".join(_describe(n, p, domains[n]) for n, p in zip(fields, cell)) for cell in joined
    ]


def _neighbours(
    fields: list[str], last: list[Any], cell: tuple[Any, ...], domains: dict[str, Domain]
) -> bool:
    if not isinstance(domains[fields[-1]], _Numeric) or list(cell[:-1]) != last[:-1]:
        return False
    a, b = last[-1], cell[-1]
    return bool(a[2] == b[0] and (a[3] or b[1]))


def _describe(name: str, piece: Any, domain: Domain) -> str:
    if isinstance(domain, _Values):
        if piece is _OTHER:
            return f"{name} = a value no rule names"
        value = piece[0]
        shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return f"{name} = {shown}"
    lo, lo_inc, hi, hi_inc = piece
    if domain.integer:  # the whole numbers in it
        if math.isfinite(lo):
            lo, lo_inc = (math.ceil(lo) if lo_inc else math.floor(lo) + 1), True
        if math.isfinite(hi):
            hi, hi_inc = (math.floor(hi) if hi_inc else math.ceil(hi) - 1), True
    if lo == hi:
        return f"{name} = {_num(lo)}"
    parts = []
    if math.isfinite(lo) and (lo > domain.low or not lo_inc):
        parts.append(f"{'>=' if lo_inc else '>'} {_num(lo)}")
    if math.isfinite(hi) and (hi < domain.high or not hi_inc):
        parts.append(f"{'<=' if hi_inc else '<'} {_num(hi)}")
    return f"{name} " + " and ".join(parts) if parts else f"every {name}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)
