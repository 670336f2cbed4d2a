"""The sample-data generator (examples/generate.py): determinism and realism.

examples/ is not a package, so the script is imported by file path.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPT = EXAMPLES / "generate.py"
AS_OF = dt.date(2026, 10, 1)
OUTPUT_FILES = ("portfolio.csv", "events.csv", "salesforce-export.csv", "hubspot-export.csv")
QUARTERS = ["2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4", "2028Q1", "2028Q2", "2028Q3"]
WEIGHTS = {"strategic_logo": 0.25, "expansion_potential": 0.25, "product_influence": 0.20,
           "reference_value": 0.15, "regulatory_exposure": 0.15}
GRID = {("low", "low"): "plg_self_serve", ("low", "medium"): "tech_touch",
        ("low", "high"): "mid_touch", ("mid", "low"): "tech_touch",
        ("mid", "medium"): "mid_touch", ("mid", "high"): "high_touch_enterprise",
        ("high", "low"): "mid_touch", ("high", "medium"): "mid_touch",
        ("high", "high"): "high_touch_enterprise"}
FLAGS = ("strategic_champion", "expansion_ready", "regulated_industry", "design_partner",
         "at_risk_retention", "reference_account", "m_and_a_transition", "multi_product")


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tierbook_examples_generate", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _load()


@pytest.fixture(scope="module")
def portfolio(gen: ModuleType) -> list[dict[str, str]]:
    return gen.generate_portfolio(gen.DEFAULT_ACCOUNTS, gen.DEFAULT_SEED)


@pytest.fixture(scope="module")
def events(gen: ModuleType, portfolio: list[dict[str, str]]) -> list[dict[str, str]]:
    return gen.generate_events(portfolio, QUARTERS, gen.DEFAULT_SEED)


@pytest.fixture(scope="module")
def regenerated(gen: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("examples")
    assert gen.main(["--out-dir", str(out)]) == 0
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _strategic_value(row: dict[str, str]) -> float:
    return sum(float(row[column]) * weight for column, weight in WEIGHTS.items())


def _value_bin(value: float) -> str:
    return "low" if value < 0.3 else "high" if value > 0.6 else "medium"


def _log_row(arr: float) -> str:
    return "low" if arr < 10_000 else "mid" if arr < 100_000 else "high"


def _percentile(ordered: list[float], p: float) -> float:
    x = (len(ordered) - 1) * p  # linear interpolation, numpy's default
    lo = int(x)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (x - lo)


def _flags(row: dict[str, str]) -> set[str]:
    flags = set()
    if row["public_advocacy_date"]:
        days = (AS_OF - dt.date.fromisoformat(row["public_advocacy_date"])).days
        if 0 <= days <= 365:
            flags.add("strategic_champion")
    if (int(row["seats_used"]) / int(row["seats_licensed"]) > 0.8
            or row["expansion_intent"] == "true"):
        flags.add("expansion_ready")
    if row["regulated_framework"] not in ("", "none"):
        flags.add("regulated_industry")
    if row["design_partner"] == "true":
        flags.add("design_partner")
    if (row["health_score"] and int(row["health_score"]) < 40) or row["churn_signal"] == "true":
        flags.add("at_risk_retention")
    if row["reference_agreement"] == "true":
        flags.add("reference_account")
    if row["m_and_a_in_progress"] == "true":
        flags.add("m_and_a_transition")
    if int(row["sku_count"]) > 1:
        flags.add("multi_product")
    return flags


# ------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_rows(gen: ModuleType) -> None:
    first = gen.generate_portfolio(300, 11)
    again = _load().generate_portfolio(300, 11)
    assert first == again
    assert gen.generate_events(first, QUARTERS, 11) == gen.generate_events(again, QUARTERS, 11)
    assert gen.generate_portfolio(300, 12) != first


def test_committed_examples_match_a_fresh_regeneration(regenerated: Path) -> None:
    for name in OUTPUT_FILES:
        committed = (EXAMPLES / name).read_bytes()
        assert committed == (regenerated / name).read_bytes(), (
            f"examples/{name} is stale: run `python examples/generate.py`")
        assert b"\r" not in committed


def test_explicit_paths_write_only_those_files(gen: ModuleType, tmp_path: Path) -> None:
    portfolio, events = tmp_path / "p.csv", tmp_path / "e.csv"
    argv = ["--accounts", "40", "--seed", "7", "--portfolio", str(portfolio),
            "--events", str(events)]
    assert gen.main(argv) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv", "p.csv"]
    rows = _read(portfolio)
    assert len(rows) == 40
    assert portfolio.read_text(encoding="utf-8") == _csv_text(
        gen.generate_portfolio(40, 7), gen.PORTFOLIO_COLUMNS)
    assert _read(events) == gen.generate_events(rows, QUARTERS, 7)


def _csv_text(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row[c] for c in columns] for row in rows)
    return out.getvalue()


# ---------------------------------------------------------------------- portfolio


def test_portfolio_columns_ids_and_names(gen: ModuleType, portfolio: list[dict[str, str]]
                                         ) -> None:
    assert len(portfolio) == 3000
    assert all(tuple(row) == gen.PORTFOLIO_COLUMNS for row in portfolio)
    ids = [row["account_id"] for row in portfolio]
    assert ids == [f"ACC-{i:05d}" for i in range(1, 3001)]
    assert len({row["account_name"] for row in portfolio}) == len(portfolio)


def test_portfolio_values_are_in_range(portfolio: list[dict[str, str]]) -> None:
    booleans = ("expansion_intent", "design_partner", "churn_signal", "reference_agreement",
                "m_and_a_in_progress", "exec_access", "champion_active",
                "company_growth_signal", "api_usage_spike", "exec_sponsor_left",
                "competitive_rfp", "escalations_increasing", "renewal_conversation_delayed")
    for row in portfolio:
        arr = float(row["arr"])
        assert 100 <= arr <= 3_000_000 and row["arr"] == f"{arr:.2f}"
        for column in (*WEIGHTS, "dau_mau"):
            assert 0.0 <= float(row[column]) <= 1.0 and len(row[column]) == 4
        assert all(row[c] in ("true", "false") for c in booleans)
        assert row["regulated_framework"] in (
            "", "none", "HIPAA", "PCI", "SOC2", "gov", "FedRAMP", "GDPR")
        assert row["health_score"] == "" or 0 <= int(row["health_score"]) <= 100
        assert 1 <= int(row["sku_count"]) <= 5
        assert row["current_tier"] in GRID.values()
        assert bool(row["csm"]) == (row["current_tier"] in ("high_touch_enterprise", "mid_touch"))
        assert 8 <= int(row["core_features_available"]) <= 20
        assert 1 <= int(row["core_features_used"]) <= int(row["core_features_available"])
        assert 0 <= int(row["open_escalations"]) <= 5
        assert -100 <= int(row["nps"]) <= 100
        assert 0 <= int(row["higher_tier_feature_requests"]) <= 6
        assert 1 <= int(row["teams_using"]) <= 8
        assert -0.35 <= float(row["usage_change"]) <= 0.5
        assert 0 <= int(row["missed_qbrs"]) <= 3
        assert 0 <= (AS_OF - dt.date.fromisoformat(row["start_date"])).days <= 6 * 365
        assert 0 <= (dt.date.fromisoformat(row["renewal_date"]) - AS_OF).days <= 365
        assert 0.0 <= float(row["monthly_contacts"]) <= 12.0
        assert float(row["estimated_potential_arr"]) >= arr
        assert row["current_coverage"] in ("tier_1", "tier_2", "tier_3", "digital")
        assert 1 <= int(row["use_case_complexity"]) <= 5
        assert int(row["seats_licensed"]) >= 1 and int(row["seats_used"]) >= 0
    csms = {row["csm"] for row in portfolio} - {""}
    assert 12 <= len(csms) <= 20
    blanks = Counter(c for row in portfolio for c in ("health_score", "regulated_framework")
                     if row[c] == "")
    assert blanks["health_score"] >= 30 and blanks["regulated_framework"] >= 20


def test_arr_is_long_tailed_but_not_dominated_by_one_account(
        portfolio: list[dict[str, str]]) -> None:
    arrs = sorted((float(row["arr"]) for row in portfolio), reverse=True)
    total = sum(arrs)
    assert sum(arrs[: len(arrs) // 10]) / total > 0.5
    assert arrs[0] / total < 0.05


@pytest.mark.parametrize("bands", ["log", "quartile"])
def test_every_grid_cell_is_populated(portfolio: list[dict[str, str]], bands: str) -> None:
    ordered = sorted(float(row["arr"]) for row in portfolio)
    median, q3 = _percentile(ordered, 0.5), _percentile(ordered, 0.75)

    def arr_row(arr: float) -> str:
        if bands == "log":
            return _log_row(arr)
        return "low" if arr < median else "mid" if arr < q3 else "high"

    cells = Counter((arr_row(float(row["arr"])), _value_bin(_strategic_value(row)))
                    for row in portfolio)
    for cell in GRID:
        assert cells[cell] >= 10, (cell, cells)


def test_every_override_flag_fires(portfolio: list[dict[str, str]]) -> None:
    counts: Counter[str] = Counter()
    contradictions = plg_design_partners = champion_tech_touch = 0
    for row in portfolio:
        flags = _flags(row)
        counts.update(flags)
        tier = GRID[(_log_row(float(row["arr"])), _value_bin(_strategic_value(row)))]
        contradictions += {"at_risk_retention", "expansion_ready"} <= flags
        plg_design_partners += tier == "plg_self_serve" and "design_partner" in flags
        champion_tech_touch += tier == "tech_touch" and "strategic_champion" in flags
    for flag in FLAGS:
        assert counts[flag] >= 3, (flag, counts)
    assert contradictions >= 3
    assert plg_design_partners >= 3
    assert champion_tech_touch >= 3


def test_current_tier_is_misaligned_for_about_a_fifth(portfolio: list[dict[str, str]]
                                                     ) -> None:
    misaligned = sum(
        row["current_tier"] != GRID[(_log_row(float(row["arr"])),
                                     _value_bin(_strategic_value(row)))]
        for row in portfolio)
    assert 0.12 <= misaligned / len(portfolio) <= 0.28


# ------------------------------------------------------------------------- events


def test_events_are_in_quarter_then_account_order(gen: ModuleType,
                                                  events: list[dict[str, str]]) -> None:
    assert all(tuple(e) == gen.EVENT_COLUMNS for e in events)
    assert [q for q in dict.fromkeys(e["quarter"] for e in events)] == QUARTERS
    keys = [(e["quarter"], e["account_id"]) for e in events]
    assert keys == sorted(keys)


def test_no_event_follows_a_churn(events: list[dict[str, str]]) -> None:
    churned: set[str] = set()
    for e in events:
        assert e["account_id"] not in churned, e
        if e["type"] == "churn":
            assert e["field"] == "" and e["value"] == ""
            churned.add(e["account_id"])
    assert len(churned) >= 100


def test_event_types_and_rates(events: list[dict[str, str]]) -> None:
    per_quarter = Counter((e["quarter"], e["type"]) for e in events)
    for quarter in QUARTERS:
        assert 500 <= per_quarter[(quarter, "renewal")] <= 900
        assert 40 <= per_quarter[(quarter, "expansion")] <= 200
        assert 20 <= per_quarter[(quarter, "contraction")] <= 120
        assert 20 <= per_quarter[(quarter, "churn")] <= 120
        assert 10 <= per_quarter[(quarter, "new_account")] <= 30
        accounts_with_signals = {e["account_id"] for e in events
                                 if e["quarter"] == quarter and e["type"] == "signal"}
        assert 200 <= len(accounts_with_signals) <= 500
    singles = [e for e in events if e["type"] in ("capacity_change", "product_launch")]
    assert [(e["quarter"], e["type"], e["account_id"], e["field"]) for e in singles] == [
        ("2027Q2", "capacity_change", "", "csms"), ("2027Q3", "product_launch", "", "")]
    assert singles[0]["value"] == "50" and singles[1]["value"]
    for e in events:
        if e["type"] in ("renewal", "expansion", "contraction"):
            assert e["field"] == "arr" and float(e["value"]) > 0


def test_new_accounts_continue_the_id_sequence(gen: ModuleType,
                                               events: list[dict[str, str]]) -> None:
    new_ids = [e["account_id"] for e in events if e["type"] == "new_account"]
    assert new_ids == [f"ACC-{i:05d}" for i in range(3001, 3001 + len(new_ids))]
    fields = [e["field"] for e in events
              if e["account_id"] == new_ids[0] and e["quarter"] == "2026Q4"]
    assert fields[0] == "" and "arr" in fields and "account_name" in fields
    assert set(fields[1:]) <= set(gen.PORTFOLIO_COLUMNS[1:])


def test_renewal_falls_in_the_quarter_of_renewal_date(
        portfolio: list[dict[str, str]], events: list[dict[str, str]]) -> None:
    renewal_quarter = {}
    for row in portfolio:
        day = dt.date.fromisoformat(row["renewal_date"])
        renewal_quarter[row["account_id"]] = f"{day.year}Q{(day.month - 1) // 3 + 1}"
    firsts: dict[str, str] = {}
    for e in events:
        if e["type"] == "renewal" and e["account_id"] in renewal_quarter:
            firsts.setdefault(e["account_id"], e["quarter"])
    assert len(firsts) > 2000
    assert all(renewal_quarter[a] == q for a, q in firsts.items())


def test_promotion_rules_get_exercised(portfolio: list[dict[str, str]],
                                       events: list[dict[str, str]]) -> None:
    arr = {row["account_id"]: float(row["arr"]) for row in portfolio}
    crossed_up = 0
    signals: dict[tuple[str, str], dict[str, str]] = {}
    for e in events:
        if e["type"] == "signal":
            signals.setdefault((e["account_id"], e["quarter"]), {})[e["field"]] = e["value"]
        if e["account_id"] not in arr or e["type"] not in ("renewal", "expansion"):
            continue
        old = arr[e["account_id"]]
        new = float(e["value"]) if e["type"] == "renewal" else old + float(e["value"])
        crossed_up += any(old < t <= new for t in (1_000, 10_000, 100_000, 500_000))
        arr[e["account_id"]] = new
    assert crossed_up >= 10

    def high(account: str, quarter: str) -> bool:
        s = signals.get((account, quarter), {})
        return (s.get("company_growth_signal") == "true" and "seats_used" in s
                and int(s.get("higher_tier_feature_requests", "0")) >= 3)

    two_quarters = {a for (a, q) in signals if q != QUARTERS[-1] and high(a, q)
                    and high(a, QUARTERS[QUARTERS.index(q) + 1])}
    assert len(two_quarters) >= 5


# -------------------------------------------------------------------- CRM exports


def test_crm_exports_look_like_raw_exports(regenerated: Path,
                                           portfolio: list[dict[str, str]]) -> None:
    salesforce = _read(regenerated / "salesforce-export.csv")
    hubspot = _read(regenerated / "hubspot-export.csv")
    assert len(salesforce) == len(hubspot) == 200
    assert list(salesforce[0])[:6] == ["Id", "Name", "ARR__c", "AnnualRevenue",
                                       "NumberOfEmployees", "Industry"]
    assert list(hubspot[0])[:6] == ["hs_object_id", "name", "annual_recurring_revenue",
                                    "annualrevenue", "numberofemployees", "industry"]
    percent = 0
    for sf, hs, row in zip(salesforce, hubspot, portfolio):
        arr = float(row["arr"])
        assert sf["Id"] == hs["hs_object_id"] == row["account_id"]
        assert float(sf["ARR__c"].lstrip("$").replace(",", "")) == arr
        assert sf["ARR__c"] == f"${arr:,.2f}"
        assert float(hs["annual_recurring_revenue"]) == arr
        # the customer company's own revenue: another, larger amount, never the ARR
        assert sf["AnnualRevenue"] == hs["annualrevenue"] and int(sf["AnnualRevenue"]) > arr
        assert sf["expansion_intent"] == ("Yes" if row["expansion_intent"] == "true" else "No")
        assert hs["expansion_intent"] == row["expansion_intent"].upper()
        assert dt.datetime.strptime(sf["start_date"], "%m/%d/%Y").date().isoformat() == (
            row["start_date"])
        assert hs["start_date"] == row["start_date"]
        if sf["dau_mau"].endswith("%"):
            percent += 1
            assert float(sf["dau_mau"][:-1]) / 100 == pytest.approx(float(row["dau_mau"]))
        else:
            assert sf["dau_mau"] == row["dau_mau"]
        assert int(sf["NumberOfEmployees"]) >= 1 and sf["Industry"]
    assert 5 <= percent <= 60


def test_events_for_sparse_accounts_and_a_short_horizon(gen: ModuleType) -> None:
    accounts = [{"account_id": "X-1", "arr": "1200"},
                {"account_id": "X-2", "arr": "50000.00", "renewal_date": "2025-11-15"}]
    events = gen.generate_events(accounts, ["2026Q4", "2027Q1"], 3)
    assert {e["quarter"] for e in events} == {"2026Q4", "2027Q1"}
    first = [e["type"] for e in events if e["account_id"] == "X-2" and e["quarter"] == "2026Q4"]
    assert "renewal" in first or "churn" in first  # a past renewal_date rolls forward a year
    assert [e["account_id"] for e in events if e["type"] == "new_account"] == ["X-3", "X-4"]
    assert accounts == [{"account_id": "X-1", "arr": "1200"},
                        {"account_id": "X-2", "arr": "50000.00", "renewal_date": "2025-11-15"}]
