"""An independent, deliberately plain evaluation of a ruleset for one account.

It shares no code with the compiler or the executors: its own arithmetic, its own
three-valued logic, its own band lookup and hit policies, straight from the ruleset.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

UNKNOWN = "unknown"


_ORDER = {"lt": lambda v, a: v < a, "lte": lambda v, a: v <= a, "gt": lambda v, a: v > a,
          "gte": lambda v, a: v >= a, "between": lambda v, a: a[0] <= v <= a[1]}
_MEMBER = {"eq": lambda v, a: v == a, "ne": lambda v, a: not v == a,
           "in": lambda v, a: any(v == x for x in a), "not_in": lambda v, a: all(v != x for x in a)}


def _cmp(op: str, value: Any, arg: Any) -> Any:
    """One comparison, written independently of tierbook.network.conditions.compare."""
    if op == "exists":
        return bool(arg) == (value is not None)
    if value is None:
        return UNKNOWN
    if op in _MEMBER:
        return _MEMBER[op](value, arg)
    numeric = type(value) in (int, float)  # a bool is never ordered against a number
    return numeric and _ORDER[op](value, arg)


def holds(cond: dict[str, Any], env: dict[str, Any], flags: set[str]) -> Any:
    if "all" in cond:
        results = [holds(c, env, flags) for c in cond["all"]]
        if False in results:
            return False
        return UNKNOWN if UNKNOWN in results else True
    if "any" in cond:
        results = [holds(c, env, flags) for c in cond["any"]]
        if True in results:
            return True
        return UNKNOWN if UNKNOWN in results else False
    if "not" in cond:
        r = holds(cond["not"], env, flags)
        return UNKNOWN if r == UNKNOWN else (not r)
    if "flag" in cond:
        return cond["flag"] in flags
    op = next(k for k in cond if k != "field")
    name = cond["field"]
    value = env.get(name)
    if name in env.get("__band_rows__", {}) and op in ("eq", "ne", "in", "not_in"):
        row = env["__band_rows__"][name]
        args = cond[op] if isinstance(cond[op], list) else [cond[op]]
        if value is None:
            return UNKNOWN
        hit = value in args or row in args
        return hit if op in ("eq", "in") else not hit
    return _cmp(op, value, cond[op])


def in_band(value: float, band: Any) -> bool:
    if band.lower is not None and (value < band.lower or (value == band.lower and not band.lower_inclusive)):
        return False
    if band.upper is not None and (value > band.upper or (value == band.upper and not band.upper_inclusive)):
        return False
    return True


def reference_values(ruleset: Any, inputs: dict[str, Any], as_of: dt.date) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Derived values and scores (and each score's parts), worked out by hand."""
    env = dict(inputs)
    derived = list(ruleset.derived)
    for _ in range(len(derived)):  # simple fixpoint instead of a topological sort
        for d in derived:
            a = [env.get(x) for x in d.args]
            if any(v is None for v in a):
                env[d.id] = None
            elif d.op == "ratio":
                env[d.id] = None if a[1] == 0 else a[0] / a[1]
            elif d.op == "difference":
                env[d.id] = a[0] - a[1]
            elif d.op == "sum":
                env[d.id] = sum(a)
            elif d.op == "days_since":
                env[d.id] = (as_of - a[0]).days
            elif d.op == "days_until":
                env[d.id] = (a[0] - as_of).days
    all_parts: dict[str, dict[str, Any]] = {}
    for s in ruleset.scores:
        parts = []
        for c in s.components:
            if c.when is not None:  # 1 when it holds, 0 when not, unknown when unknown
                held = holds(c.when, env, set())
                parts.append(None if held is UNKNOWN else 1.0 if held else 0.0)
                continue
            v = env.get(c.input)
            if v is None:
                parts.append(None)
                continue
            if isinstance(v, bool):
                parts.append(float(v))
                continue
            sc = c.scoring
            if "divide_by" in sc:
                x = v / sc["divide_by"]
            elif "points" in sc:
                pts = sc["points"]
                if v <= pts[0][0]:
                    x = pts[0][1]
                elif v >= pts[-1][0]:
                    x = pts[-1][1]
                else:
                    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
                        if x0 <= v <= x1:
                            x = y0 + (y1 - y0) * (v - x0) / (x1 - x0)
                            break
            elif "thresholds" in sc:
                x = sc.get("else", 0.0)
                for row in sc["thresholds"]:
                    if ("gte" in row and v >= row["gte"]) or ("gt" in row and v > row["gt"]):
                        x = row["score"]
                        break
            else:
                x = v
            parts.append(max(0.0, min(1.0, float(x))))
        all_parts[s.id] = {c.id: p for c, p in zip(s.components, parts)}
        if s.method == "count":
            env[s.id] = float(sum(p for p in parts if p is not None))
        elif any(p is None for p in parts) and s.when_unknown != "renormalise":
            env[s.id] = None
        else:
            total_w = sum(c.weight for c in s.components)
            w = [c.weight / total_w for c in s.components]
            if all(p is not None for p in parts):
                raw = sum(wi * p for wi, p in zip(w, parts)) * s.scale
            else:  # renormalised over the known parts, when they carry min_known of the weight
                known = sum(wi if p is not None else 0.0 for wi, p in zip(w, parts))
                summed = sum(wi * p if p is not None else 0.0 for wi, p in zip(w, parts))
                if known < s.min_known - 1e-9:
                    env[s.id] = None
                    all_parts[s.id] = {c.id: p for c, p in zip(s.components, parts)}
                    continue
                raw = summed / known * s.scale
            # half-up rounding on the value without float noise, done with fractions
            from fractions import Fraction
            q = Fraction(round(raw, 9)).limit_denominator(10**9) * 10**s.round
            env[s.id] = float((q + Fraction(1, 2)).__floor__()) / 10**s.round
    return env, all_parts


def reference(ruleset: Any, bands: dict[str, Any], inputs: dict[str, Any], as_of: dt.date) -> dict[str, Any]:
    env, _ = reference_values(ruleset, inputs, as_of)
    out_bands, rows = {}, {}
    for set_id, rb in bands.items():
        v = env.get(rb.over)
        hits = [] if v is None else [b for b in rb.bands if in_band(v, b)]
        assert len(hits) <= 1
        if hits:
            out_bands[set_id], rows[set_id] = hits[0].id, hits[0].row
            env[set_id] = hits[0].id
        else:
            env[set_id] = None
    env["__band_rows__"] = rows
    decisions = {}
    fired = [f"{k}.{v}" for k, v in out_bands.items()]
    for dec in ruleset.decisions:
        rules = sorted(dec.rules, key=lambda r: -r.priority) if dec.hit_policy == "priority" else list(dec.rules)
        chosen = [r for r in rules if holds(r.when, env, set()) is True]
        if dec.hit_policy in ("first", "priority"):
            chosen = chosen[:1]
        if dec.hit_policy == "collect":
            decisions[dec.id] = [r.value for r in chosen]
        elif chosen:
            decisions[dec.id] = chosen[0].value
        elif dec.default is not None:
            decisions[dec.id] = dec.default
            fired.append(f"{dec.id}.default")
        fired += [r.id for r in chosen]
        env[dec.id] = decisions.get(dec.id)
    g = ruleset.grid
    row = rows.get(g.rows)
    col = rows.get(g.columns) if g.columns else ""
    cell = next(c for c in g.cells if c.row == row and c.column == col)
    env["tier"] = cell.tier
    fired.append(cell.id)
    flags: set[str] = set()
    for f in ruleset.flags:  # flags may read flags declared before them
        if holds(f.when, env, flags) is True:
            flags.add(f.id)
    comments = [c.id for c in ruleset.contradictions if set(c.flags) <= flags]
    reviews = [r.id for r in ruleset.review_hints if holds(r.when, env, flags) is True]
    fired += sorted(flags) + comments + reviews + [f"motion.{cell.tier}"]
    scores = {s.id: env[s.id] for s in ruleset.scores}
    return {"tier": cell.tier, "flags": sorted(flags), "bands": out_bands, "scores": scores,
            "decisions": decisions, "comments": comments, "reviews": reviews, "fired": sorted(fired)}
