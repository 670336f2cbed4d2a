"""Properties of a segmentation on generated portfolios (examples/generate.py with seeds and
sizes hypothesis picks, its rows thinned and blanked at random): every account gets exactly
one tier of the ruleset, ARR is conserved tier by tier, the same input gives the same bytes,
and the executors agree with each other and with the memo-free evaluation."""

from __future__ import annotations

import csv
import importlib.util
import io
import math
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.commands import segment as S
from tierbook.evaluate.run import evaluate
from tierbook.ruleset.build import load_ruleset

from ..conftest import AS_OF, ROOT, RULESETS, needs_durable


def _generator():
    spec = importlib.util.spec_from_file_location(
        "tierbook_examples_generate", ROOT / "examples" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATE = _generator()

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

portfolios = st.tuples(
    st.integers(1, 2**31),  # generator seed
    st.integers(1, 120),  # accounts
    st.floats(0.0, 0.3),  # share of optional cells blanked
    st.integers(0, 2**31),  # which cells
)


def _write(tmp: Path, seed: int, n: int, blank: float, which: int) -> tuple[Path, dict[str, float]]:
    """The portfolio's file, and each account's ARR as written in it."""
    rows = GENERATE.generate_portfolio(n, seed)
    rnd = random.Random(which)
    keep = {"account_id", "account_name", "arr"}  # (the grid's axes stay computable)
    for row in rows:
        for key in row:
            if key not in keep and rnd.random() < blank:
                row[key] = ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp / f"p-{seed}-{n}.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path, {row["account_id"]: float(row["arr"]) for row in rows}


@pytest.mark.parametrize("ruleset_path", RULESETS, ids=lambda p: p.stem)
def test_one_tier_each_arr_conserved_and_the_same_bytes_twice(ruleset_path, tmp_path):
    ruleset = load_ruleset(str(ruleset_path))

    @SETTINGS
    @given(portfolios)
    def check(spec):
        path, written = _write(tmp_path, *spec)
        first = S.segment(ruleset, str(path), as_of=AS_OF, engine="native", on_error="skip")
        ev = first.evaluation
        tiers = ev.tiers()
        assert len(tiers) + len(first.rejects) == spec[1]
        assert set(tiers) <= set(ruleset.tier_ids) and all(tiers)
        by_tier = first.tier_summary()
        ids = ev.account_ids()
        assert sorted(ids) == sorted(set(written) - {r["account_id"] for r in first.rejects})
        for tier in ruleset.tier_ids:  # (the ARR as written in the file, tier by tier)
            mine = math.fsum(written[i] for i, t in zip(ids, tiers) if t == tier)
            assert round(by_tier[tier]["arr"], 2) == round(mine, 2), tier
        again = S.segment(ruleset, str(path), as_of=AS_OF, engine="native", on_error="skip")
        for name in ("a", "b"):
            (tmp_path / name).mkdir(exist_ok=True)
        S.write_outputs(first, str(tmp_path / "a"), chart=False)
        S.write_outputs(again, str(tmp_path / "b"), chart=False)
        for f in ("accounts.csv", "accounts.jsonl", "model.md", "report.json"):
            assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
        plain = evaluate(ruleset, ev.frame, AS_OF, engine="native", memo=False, bands=ev.bands)
        assert plain.tiers() == tiers
    check()


@needs_durable
@pytest.mark.parametrize("ruleset_path", RULESETS, ids=lambda p: p.stem)
def test_durable_rules_and_native_agree_on_generated_portfolios(ruleset_path, tmp_path):
    ruleset = load_ruleset(str(ruleset_path))

    @SETTINGS
    @given(portfolios)
    def check(spec):
        path, _ = _write(tmp_path, *spec)
        native = S.segment(ruleset, str(path), as_of=AS_OF, engine="native", on_error="skip")
        durable = S.segment(ruleset, str(path), as_of=AS_OF, engine="durable-rules",
                            on_error="skip")
        ev_n, ev_d = native.evaluation, durable.evaluation
        assert ev_d.engine == "durable-rules"
        assert [(d.account_id, d.tier, d.flags, d.bands, d.decisions, d.comments, d.reviews,
                 ev_n.fired(d)) for d in ev_n.decisions] == [
            (d.account_id, d.tier, d.flags, d.bands, d.decisions, d.comments, d.reviews,
             ev_d.fired(d)) for d in ev_d.decisions]
    check()
