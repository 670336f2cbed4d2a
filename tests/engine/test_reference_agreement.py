"""Both executors agree with an independent reference on generated accounts, including
values on and around every boundary the ruleset declares."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.network import conditions as C
from tierbook.evaluate.run import evaluate, resolve_bands, values_frame
from tierbook.portfolio.frame import read_portfolio
from tierbook.ruleset.build import load_ruleset

from ..conftest import AS_OF, RULESETS, SAMPLE, needs_durable
from .reference import reference


@lru_cache(maxsize=None)
def setup(path: str):
    rs = load_ruleset(path)
    accounts = read_portfolio(str(SAMPLE), rs).accounts
    bands = resolve_bands(rs, values_frame(rs, accounts, AS_OF))
    return rs, bands, accounts


def constants(rs, bands) -> dict[str, list[float]]:
    """Every number a comparison or band of the ruleset uses, per field."""
    out: dict[str, set[float]] = {}
    conds = [f.when for f in rs.flags] + [r.when for r in rs.review_hints] + [
        r.when for d in rs.decisions for r in d.rules] + [
        c.when for s in rs.scores for c in s.components if c.when]
    for cond in conds:
        for _, leaf in C.iter_leaves(cond):
            if "field" in leaf:
                op, arg = C.leaf_op(leaf)
                vals = arg if isinstance(arg, list) else [arg]
                for v in vals:
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        out.setdefault(leaf["field"], set()).add(float(v))
    for rb in bands.values():
        for b in rb.bands:
            for v in (b.lower, b.upper):
                if v is not None:
                    out.setdefault(rb.over, set()).add(float(v))
    return {k: sorted(v) for k, v in out.items()}


def near(points: list[float]):
    return st.sampled_from(points).flatmap(
        lambda p: st.sampled_from([p, p - 0.01, p + 0.01, p - 1, p + 1, p * 0.999, p * 1.001]))


def account_strategy(rs, bands, template):
    consts = constants(rs, bands)
    fields = {}
    for inp in rs.inputs:
        pts = consts.get(inp.id, [])
        if inp.type in ("money", "number", "integer", "ratio"):
            lo = inp.min if inp.min is not None else (0.0 if inp.type != "number" else -100.0)
            hi = inp.max if inp.max is not None else (1.0 if inp.type == "ratio" else 2_000_000.0)
            base = st.floats(min_value=lo, max_value=hi, allow_nan=False)
            if pts:
                base = st.one_of(base, near(pts).filter(lambda v, lo=lo, hi=hi: lo <= v <= hi))
            if inp.type == "integer":
                base = base.map(lambda v: int(round(v)))
            elif inp.type == "money":
                base = base.map(lambda v: round(v, 2))
            else:
                base = base.map(lambda v: round(v, 4))
        elif inp.type == "boolean":
            base = st.booleans()
        elif inp.type == "date":
            base = st.integers(-800, 800).map(lambda d: AS_OF - dt.timedelta(days=d))
        elif inp.type == "enum":
            base = st.sampled_from(list(inp.values))
        else:
            seen = sorted({str(a.get(inp.id)) for a in template[:400] if a.get(inp.id) is not None})[:12]
            base = st.sampled_from(seen) if seen else st.text(max_size=5)
        if inp.required:
            fields[inp.id] = base
        elif inp.default is not None:
            fields[inp.id] = base
        else:
            fields[inp.id] = st.one_of(st.none(), base)
    return st.fixed_dictionaries(fields)


def fired_ids(ev, decision):
    return sorted(ev.network.rules[i].id for i, _ in ev.fired(decision))


def check(path: str, engine: str, accounts: list[dict]) -> None:
    rs, bands, _ = setup(path)
    for i, a in enumerate(accounts):
        a["account_id"] = f"H{i}"
    ev = evaluate(rs, values_frame(rs, accounts, AS_OF), AS_OF, engine=engine, bands=bands)
    for a, d in zip(accounts, ev.decisions):
        want = reference(rs, bands, a, AS_OF)
        got = {"tier": d.tier, "flags": sorted(d.flags), "bands": d.bands,
               "scores": {s.id: d.values.get(s.id) for s in rs.scores},
               "decisions": d.decisions, "comments": d.comments, "reviews": d.reviews,
               "fired": fired_ids(ev, d)}
        assert got == want, f"account {a}"


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("path", [str(p) for p in RULESETS], ids=[p.stem for p in RULESETS])
@pytest.mark.parametrize("engine", ["native", pytest.param("durable-rules", marks=needs_durable)])
def test_executors_agree_with_reference(path: str, engine: str) -> None:
    rs, bands, template = setup(path)

    @SETTINGS
    @given(st.lists(account_strategy(rs, bands, template), min_size=1, max_size=8))
    def run(accounts):
        check(path, engine, accounts)

    run()


@pytest.mark.parametrize("path", [str(p) for p in RULESETS], ids=[p.stem for p in RULESETS])
def test_sample_portfolio_agrees_with_reference(path: str) -> None:
    rs, bands, accounts = setup(path)
    check(path, "native", [dict(a) for a in accounts[:1500]])
