"""The shipped rulesets reproduce their methods' tables exactly."""

from __future__ import annotations

import pytest

from tierbook.ruleset.build import load_ruleset

from .conftest import ROOT


def rs(name: str):
    return load_ruleset(str(ROOT / "rulesets" / f"{name}.yaml"))


def intervals(bands) -> list[tuple]:
    return [(b.id, b.lower, b.lower_inclusive if b.lower is not None else None, b.upper,
             b.upper_inclusive if b.upper is not None else None, b.row) for b in bands]


def grid(r) -> dict[tuple[str, str], str]:
    return {(c.row, c.column): c.tier for c in r.grid.cells}


def test_default_two_axis_model() -> None:
    r = rs("cs-segmentation-model")
    assert r.tier_ids == ["high_touch_enterprise", "mid_touch", "tech_touch", "plg_self_serve"]
    arr = r.band_set("arr_band")
    assert arr.method == "auto"
    assert arr.auto == {"top_fraction": 0.10, "log_when_top_share_over": 0.50,
                        "quartile_when_max_share_at_most": 0.05, "fallback": "log"}
    assert intervals(arr.variants["log"]) == [  # half-open [lower, upper)
        ("arr_under_1k", None, None, 1000, False, "low"),
        ("arr_1k_10k", 1000, True, 10000, False, "low"),
        ("arr_10k_100k", 10000, True, 100000, False, "mid"),
        ("arr_100k_500k", 100000, True, 500000, False, "high"),
        ("arr_500k_plus", 500000, True, None, None, "high")]
    assert [(b.id, b.row) for b in arr.variants["quartile"]] == [
        ("q1", "low"), ("q2", "low"), ("q3", "mid"), ("q4", "high")]
    assert arr.quantiles == (0.25, 0.5, 0.75)
    assert intervals(r.band_set("sv_band").variants["declared"]) == [
        ("low", None, None, 0.3, False, "low"),
        ("medium", 0.3, True, 0.6, True, "medium"),   # 0.3 to 0.6 inclusive
        ("high", 0.6, False, None, None, "high")]     # > 0.6
    (sv,) = r.scores
    assert {c.id: c.weight for c in sv.components} == {
        "strategic_logo": 0.25, "expansion_potential": 0.25, "product_influence": 0.20,
        "reference_value": 0.15, "regulatory_exposure": 0.15}
    assert grid(r) == {
        ("high", "low"): "mid_touch", ("high", "medium"): "mid_touch",
        ("high", "high"): "high_touch_enterprise",
        ("mid", "low"): "tech_touch", ("mid", "medium"): "mid_touch",
        ("mid", "high"): "high_touch_enterprise",
        ("low", "low"): "plg_self_serve", ("low", "medium"): "tech_touch", ("low", "high"): "mid_touch"}
    assert r.flag_ids == ["strategic_champion", "expansion_ready", "regulated_industry",
                          "design_partner", "at_risk_retention", "reference_account",
                          "m_and_a_transition", "multi_product"]
    assert [c.flags for c in r.contradictions] == [("at_risk_retention", "expansion_ready")]
    assert [(c["tier"], c["flags"]) for c in r.compatible] == [("plg_self_serve", ["design_partner"])]
    books = {t.id: (t.book_min, t.book_max) for t in r.tiers}
    assert books == {"high_touch_enterprise": (8, 15), "mid_touch": (40, 80),
                     "tech_touch": (200, 500), "plg_self_serve": (1000, None)}
    assert r.tier("tech_touch").pooled and r.tier("plg_self_serve").pooled
    gates = {g.kind: g.params for g in r.gates}
    assert len(r.gates) == 9 and len(gates) == 9
    assert gates["tier_share_cap"] == {"tier": "mid_touch", "max_share": 0.60}
    assert gates["stability"] == {"accounts": 3, "perturbation": 0.10, "seed": 20260101}
    triggers = {t.kind: (t.threshold, t.ratio, t.consecutive_quarters) for t in r.triggers}
    assert triggers == {"tier_arr_change": (0.20, None, 1), "capacity_change": (0.15, None, 1),
                        "tier_churn_over_target": (None, 1.5, 2), "product_launch": (None, None, 1)}
    assert r.raw["recalibration"]["baseline"] == "annual"
    assert r.raw["recalibration"]["min_interval_quarters"] == 1


def test_keep_segment() -> None:
    r = rs("keep-segment")
    assert r.tier_ids == ["strategic", "growth", "scale", "long_tail"]
    arr = r.band_set("arr_tier")
    assert arr.method == "target_shares" and arr.step == 1000
    assert [(b.id, b.target_account_share, b.target_arr_share) for b in arr.variants["declared"]] == [
        ("long_tail", (0.30, 0.40), (0.05, 0.10)), ("scale", (0.30, 0.40), (0.10, 0.20)),
        ("growth", (0.20, 0.30), (0.30, 0.40)), ("strategic", (0.05, 0.10), (0.50, 0.60))]
    health = next(s for s in r.scores if s.id == "health_score")
    assert health.scale == 100
    w = {c.id: c.weight for c in health.components}
    assert w["product_usage"] == 0.30 and w["feature_adoption"] == 0.20
    assert w["support_csat"] + w["support_escalations"] == pytest.approx(0.20)
    assert w["relationship_exec_access"] + w["relationship_champion"] == pytest.approx(0.15)
    assert w["nps"] == 0.15
    status = r.band_set("health_status").variants["declared"]
    assert [(b.id, b.lower) for b in status] == [("critical", 0), ("at_risk", 40),
                                                 ("stable", 60), ("healthy", 80)]
    expansion = next(s for s in r.scores if s.id == "expansion_indicators")
    assert expansion.method == "count" and len(expansion.components) == 5
    decision = next(d for d in r.decisions if d.id == "expansion_potential")
    assert [(x.when, x.value) for x in decision.rules] == [
        ({"field": "expansion_indicators", "gte": 3}, "HIGH"),
        ({"field": "expansion_indicators", "between": [1, 2]}, "MEDIUM"),
        ({"field": "expansion_indicators", "eq": 0}, "LOW")]
    targets = {t.id: t.targets for t in r.tiers}
    assert targets["strategic"]["arr_per_csm_max"] == 500000
    assert (targets["growth"]["arr_per_csm_min"], targets["growth"]["arr_per_csm_max"]) == (1e6, 2e6)
    assert (targets["scale"]["arr_per_csm_min"], targets["scale"]["arr_per_csm_max"]) == (2e6, 5e6)
    assert r.tier("long_tail").automated
    for t in r.tiers:
        assert {"csm_ratio", "motion", "cadence", "channels", "playbooks", "escalation"} <= set(t.motion)
    assert [(t.id, t.action) for t in r.transitions] == [
        ("promote_on_arr_crossing", "promote"), ("promote_on_high_expansion", "promote"),
        ("demote_on_renewal_drop", "demote"), ("review_strategic_without_expansion", "review")]
    assert r.min_dwell_quarters == 1


def test_customer_success() -> None:
    r = rs("customer-success")
    assert r.tier_ids == ["enterprise", "mid_market", "smb"]
    (health,) = [s for s in r.scores if s.id == "health"]
    assert [c.weight for c in health.components] == [0.30, 0.25, 0.20, 0.15, 0.10]
    assert intervals(r.band_set("arr_segment").variants["declared"]) == [
        ("smb", None, None, 25000, False, "smb"),
        ("mid_market", 25000, True, 100000, True, "mid_market"),
        ("enterprise", 100000, False, None, None, "enterprise")]
    cat = r.band_set("health_category").variants["declared"]
    assert [(b.id, b.lower) for b in cat] == [("red", 0), ("yellow", 50), ("green", 80)]
    action = next(d for d in r.decisions if d.id == "health_action")
    assert sorted(x.value for x in action.rules) == ["expand", "nurture", "save"]
    assert [r.tier(t).book_target for t in ("enterprise", "mid_market", "smb")] == [8, 25, 100]
    assert set(r.flag_ids) >= {"health_drop", "exec_sponsor_left", "competitive_rfp",
                               "escalations_increasing", "usage_decline", "missed_qbrs",
                               "renewal_conversation_delayed", "renewal_kickoff"}
    phases = r.band_set("lifecycle_phase").variants["declared"]
    assert [(b.id, b.lower, b.upper) for b in phases][:4] == [
        ("onboarding", None, 90), ("adoption", 90, 180), ("optimization", 180, 270),
        ("renewal", 270, 365)]


def test_priority_model() -> None:
    r = rs("priority-model")
    assert r.tier_ids == ["tier_1", "tier_2", "tier_3", "digital"]
    (score,) = r.scores
    assert {c.id for c in score.components} == {"arr_size", "expansion_potential", "health",
                                                "renewal_urgency", "adoption_breadth",
                                                "engagement_frequency"}
    assert sum(c.weight for c in score.components) == pytest.approx(1.0)
    assert r.alignment["current"] == "current_coverage" and r.alignment["top"] == 5


@pytest.mark.parametrize("path", sorted((ROOT / "rulesets").glob("*.yaml")), ids=lambda p: p.stem)
def test_no_shipped_ruleset_reads_company_revenue_as_arr(path) -> None:
    """Salesforce AnnualRevenue / HubSpot annualrevenue are the customer company's revenue."""
    from tierbook.portfolio.headers import COMPANY_REVENUE, normalise

    rs = load_ruleset(str(path))
    arr = rs.input(rs.role("arr") or "arr")
    assert not {normalise(a) for a in (arr.id, *arr.aliases)} & COMPANY_REVENUE
    assert "ARR__c" in arr.aliases
