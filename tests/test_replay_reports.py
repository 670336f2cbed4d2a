"""`tierbook replay`: what each quarter says about itself — triggers fired once and then
open, what crossed behind a move, who joined, churned and moved, the band method, and the
history behind each move."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .conftest import FACTORS, SAMPLE, write_portfolio
from .test_replay import ARGS, events, outcome, replay, ruleset, run


def _edit(path: str, change) -> str:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(Path(path).read_text())
    change(data)
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _replay_with(tmp_path: Path, change, accounts: dict, rows: list[str], csms: int = 20) -> dict:  # type: ignore[no-untyped-def]
    rs = _edit(ruleset(tmp_path, csms), change)
    result = run("replay", rs, write_portfolio(tmp_path, accounts), events(tmp_path, rows),
                 *ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _triggers(q: dict) -> list[tuple[str, str, str]]:
    return [(t["id"], t["status"], t["since"]) for t in q["triggers"]]


def test_a_trigger_fires_once_then_is_reported_as_still_open(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (500, 0.1)}, ["2026Q4,,capacity_change,csms,23",
                                                "2027Q1,A,signal,sku_count,2",
                                                "2027Q2,,capacity_change,csms,20",
                                                "2027Q3,,capacity_change,csms,24"], csms=20)
    q1, q2, q3, q4 = data["quarters"]
    assert _triggers(q1) == [("csm_capacity_change", "fired", "2026Q4")]
    assert _triggers(q2) == [("csm_capacity_change", "open", "2026Q4")]
    assert _triggers(q3) == []  # back to 20: closed
    assert _triggers(q4) == [("csm_capacity_change", "fired", "2027Q3")]  # fires again
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (500, 0.1)}),
                 events(tmp_path, ["2026Q4,,capacity_change,csms,23",
                                   "2027Q1,A,signal,sku_count,2"]), *ARGS)
    lines = result.stdout.splitlines()
    assert "  ! trigger csm_capacity_change: CSMs 20 -> 23 (+15.0%; threshold ±15%)" in lines
    assert ("  · trigger csm_capacity_change still open (fired 2026Q4): CSMs 20 -> 23 "
            "(+15.0%; threshold ±15%)") in lines


def test_a_product_launch_stays_open_and_a_new_launch_fires_again(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (500, 0.1)}, ["2026Q4,,product_launch,,AI add-on",
                                                "2027Q1,A,signal,sku_count,2",
                                                "2027Q2,,product_launch,,Data cloud"])
    assert [_triggers(q) for q in data["quarters"]] == [
        [("strategic_value_redefined", "fired", "2026Q4")],
        [("strategic_value_redefined", "open", "2026Q4")],
        [("strategic_value_redefined", "fired", "2027Q2")]]
    assert data["quarters"][1]["triggers"][0]["detail"] == "AI add-on"


def test_a_trigger_declared_to_rebase_compares_with_the_quarter_it_fired_in(
        tmp_path: Path) -> None:
    def rebase(d: dict) -> None:
        for t in d["recalibration"]["triggers"]:
            t["after_firing"] = "rebase"

    data = _replay_with(tmp_path, rebase, {"A": (500, 0.1)},
                        ["2026Q4,,capacity_change,csms,23", "2027Q1,A,signal,sku_count,2",
                         "2027Q2,,capacity_change,csms,26", "2027Q3,,capacity_change,csms,27"])
    q1, q2, q3, q4 = data["quarters"]
    assert _triggers(q1) == [("csm_capacity_change", "fired", "2026Q4")]
    assert q1["triggers"][0]["detail"].endswith("; re-based to this quarter")
    assert _triggers(q2) == []  # 23 against the new baseline of 23
    assert _triggers(q3) == []  # 26 against 23: +13%
    assert _triggers(q4) == [("csm_capacity_change", "fired", "2027Q3")]  # 27 against 23
    assert q4["triggers"][0]["figures"] == {"base": 23, "csms": 27, "change": 0.1739}


def test_a_churn_trigger_reports_its_streak_once(tmp_path: Path) -> None:
    accounts = {f"P{i}": (500, 0.1) for i in range(40)}
    data = replay(tmp_path, accounts, [f"{q},P{i},churn,," for i, q in enumerate(
        ["2026Q4"] * 4 + ["2027Q1"] * 4 + ["2027Q2"] * 4)])
    assert [[s for i, s, _ in _triggers(q) if i == "tier_churn_over_target"] for q in
            data["quarters"]] == [[], ["fired"], ["open"]]


def _history(account: str) -> list[dict]:
    result = run("history", account, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["quarters"]


def test_an_account_that_joins_and_churns_in_one_quarter_is_counted(tmp_path: Path) -> None:
    """N1 joins tech_touch and churns in 2026Q4: it counts in the tier it joined, in the
    churn rate (2 of 2 + 1 served), in flows.csv and in its history."""
    rows = ["2026Q4,N1,new_account,arr,50000", "2026Q4,N1,churn,,", "2026Q4,T1,churn,,"]
    rs = ruleset(tmp_path)
    result = run("replay", rs, write_portfolio(tmp_path, {"T1": (50000, 0.1), "T2": (50000, 0.1)}),
                 events(tmp_path, rows), "--as-of", "2026-10-01", "--no-chart",
                 "--format", "json", "--out", "o")
    assert result.exit_code == 0, result.output
    q = json.loads(result.stdout)["quarters"][0]
    assert q["churned"]["tech_touch"] == 2 and q["new_accounts"] == 1
    assert [(c["account_id"], c["tier"], c["joined_this_quarter"]) for c in q["churned_accounts"]] == [
        ("N1", "tech_touch", True), ("T1", "tech_touch", False)]
    assert [j["account_id"] for j in q["joined_accounts"]] == ["N1"]
    assert q["tiers"]["tech_touch"]["accounts"] == 1
    flows = (tmp_path / "o" / "flows.csv").read_text().splitlines()
    assert "2026Q4,tech_touch,churned,2" in flows and "2026Q4,joined,tech_touch,1" in flows
    assert [(h["outcome"], h["from_tier"], h["because"], h["arr"]) for h in _history("N1")] == [
        ("churned", "tech_touch", "joined and churned this quarter", 50000.0)]


def test_churn_rate_is_over_the_accounts_a_tier_served(tmp_path: Path) -> None:
    """4 start accounts and 2 that join and churn: 2 churned of 6 served (33%) is over
    1.5 x 5% twice running; without the joiners 0 of 4 never fires."""
    accounts = {f"P{i}": (500, 0.1) for i in range(4)}
    rows = [f"{q},N{q}{i},new_account,arr,500" for q in ("2026Q4", "2027Q1") for i in range(2)]
    rows += [f"{q},N{q}{i},churn,," for q in ("2026Q4", "2027Q1") for i in range(2)]
    data = replay(tmp_path, accounts, sorted(rows, key=lambda r: (r[:6], "churn" in r)))
    fired = [t for t in data["quarters"][1]["triggers"] if t["kind"] == "tier_churn_over_target"]
    assert [(t["tier"], t["figures"]["rate"]) for t in fired] == [("plg_self_serve", 0.3333)]


def test_a_new_account_serves_the_minimum_dwell_as_a_moved_one_does(tmp_path: Path) -> None:
    """N joins tech_touch in 2026Q4 and renews into mid_touch ARR in 2027Q1: held (0 of 1
    quarters, as for an account that moved in 2026Q4), moved in 2027Q2; its first quarter
    shows as joined."""
    data = replay(tmp_path, {"A": (500, 0.1)}, [
        "2026Q4,N,new_account,arr,50000", "2027Q1,N,renewal,arr,200000",
        "2027Q2,N,renewal,arr,200000"])
    q1, q2, q3 = data["quarters"]
    assert outcome(q2, "N") == ("held", "mid_touch", "promote_on_arr_crossing")
    assert "held: 0 of 1 minimum quarter(s) in tech_touch" in q2["held"][0]["because"]
    assert outcome(q3, "N") == ("moves", "mid_touch", "promote_on_arr_crossing")
    assert [(h["quarter"], h["outcome"], h["to_tier"]) for h in _history("N")] == [
        ("2026Q4", "joined", "tech_touch"), ("2027Q1", "held", "tech_touch"),
        ("2027Q2", "moved", "mid_touch")]
    assert run("history", "N").stdout.splitlines()[1] == "  2026Q4  joined tech_touch  ARR $50,000"


def test_a_move_says_which_banded_value_crossed(tmp_path: Path) -> None:
    """A (ARR $50K, strategic value 0.45: Medium) gets high strategic value and renews at
    the same ARR: strategic value crossed, not ARR; B's ARR crosses."""
    signals = [f"2026Q4,A,signal,{f},0.9" for f in FACTORS] + ["2026Q4,A,renewal,arr,50000"]
    data = replay(tmp_path, {"A": (50000, 0.45), "B": (50000, 0.1)},
                  sorted(signals + ["2026Q4,B,renewal,arr,200000"]))
    moves = {m["account_id"]: m for m in data["quarters"][0]["moves"]}
    assert moves["A"]["because"] == (
        "Strategic value crossed a band boundary (Medium -> High) on renewal and signal")
    assert moves["A"]["crossed"] == [{"band_set": "sv_band", "over": "strategic_value",
                                      "from": "medium", "to": "high"}]
    assert moves["B"]["because"] == (
        "ARR crossed a band boundary ($10K-$100K -> $100K-$500K) on renewal")


def test_the_expansion_signal_the_ruleset_computes_counts_as_expansion(tmp_path: Path) -> None:
    """A ruleset that declares its expansion flag as the expansion signal: E carries the
    flag (seat utilisation over 80%) and is never reviewed; X without it is, after four
    quarters; events still count."""
    def signal(d: dict) -> None:
        d["transitions"]["signals"] = {"expansion": {"flag": "expansion_ready"}}

    rows = [f"{q},Z,signal,sku_count,{n}" for n, q in enumerate(
        ["2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4"], start=2)]
    rows += ["2026Q4,E,signal,seats_licensed,10", "2026Q4,E,signal,seats_used,9"]
    data = _replay_with(tmp_path, signal, {"E": (600000, 0.9), "X": (600000, 0.9),
                                           "Z": (500, 0.1)}, sorted(rows))
    assert [outcome(q, "E")[0] for q in data["quarters"]] == ["stay"] * 5
    assert [outcome(q, "X")[0] for q in data["quarters"]] == ["stay"] * 3 + ["reviews"] * 2


def test_a_signal_condition_is_validated(tmp_path: Path) -> None:
    def signal(d: dict) -> None:
        d["transitions"]["signals"] = {"expansion": {"flag": "expansion_redy"}}

    rs = _edit(ruleset(tmp_path), signal)
    result = run("validate", rs)
    assert result.exit_code == 1
    assert ("$.transitions.signals.expansion.flag: unknown flag 'expansion_redy' "
            "(did you mean 'expansion_ready'?)") in result.output


def test_each_quarter_reports_the_band_method_and_why(tmp_path: Path) -> None:
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (500, 0.1)}),
                 events(tmp_path, ["2026Q4,A,signal,sku_count,2"]), *ARGS)
    lines = result.stdout.splitlines()
    assert "  bands: arr_band log, sv_band declared (as of 2026-10-01, held fixed)" in lines
    assert "  sv_band: declared; why: declared in the ruleset" in lines
    data = json.loads(run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (500, 0.1)}),
                          events(tmp_path, ["2026Q4,A,signal,sku_count,2"]), *ARGS,
                          "--format", "json").stdout)
    bands = data["quarters"][0]["bands"]
    assert {k: (b["method"], b["reason"]) for k, b in bands.items()} == {
        "arr_band": ("log", "log-scale bands declared in the ruleset"), "sv_band": ("declared", "declared in the ruleset")}


def test_the_quarter_names_the_accounts_that_joined_churned_and_moved(tmp_path: Path) -> None:
    portfolio = tmp_path / "named.csv"
    portfolio.write_text("account_id,account_name,arr\nA,Acme,50000\nB,Beta,50000\n")
    result = run("replay", ruleset(tmp_path), str(portfolio), events(tmp_path, [
        "2026Q4,A,renewal,arr,200000", "2026Q4,B,churn,,", "2026Q4,N,new_account,arr,500",
        "2026Q4,N,signal,Name,Newco"]), *ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    q = json.loads(result.stdout)["quarters"][0]
    assert [(m["account_id"], m["name"]) for m in q["moves"]] == [("A", "Acme")]
    assert q["churned_accounts"] == [{"account_id": "B", "name": "Beta", "tier": "tech_touch",
                                      "arr": 50000.0, "joined_this_quarter": False}]
    assert q["joined_accounts"] == [{"account_id": "N", "name": "Newco",
                                     "tier": "plg_self_serve", "arr": 500.0}]


def test_event_fields_are_read_through_the_inputs_aliases(tmp_path: Path) -> None:
    def alias(d: dict) -> None:
        for inp in d["inputs"]:
            if inp["id"] in ("seats_used", "seats_licensed"):
                inp["aliases"] = {"seats_used": ["seats"], "seats_licensed": ["Licensed Seats"]}[inp["id"]]

    data = _replay_with(tmp_path, alias, {"A": (500, 0.1)}, [
        "2026Q4,A,signal,seats,9", "2026Q4,A,signal,licensed_seats,10"])
    assert data["ignored_signals"] == {}
    assert data["quarters"][0]["flags"]["raised"] == [
        {"account_id": "A", "flag": "expansion_ready", "rule": "expansion_ready"}]


def test_history_shows_the_arr_and_the_events_behind_a_move(tmp_path: Path) -> None:
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (50000, 0.2)}),
                 events(tmp_path, ["2026Q4,A,renewal,arr,150000", "2026Q4,A,expansion,arr,50000",
                                   "2027Q1,A,signal,sku_count,2"]), *ARGS)
    assert result.exit_code == 0, result.output
    h = _history("A")
    assert [(q["arr"], q["events"]) for q in h] == [
        (200000.0, [{"line": 2, "type": "renewal", "fields": {"arr": 150000.0}},
                    {"line": 3, "type": "expansion", "fields": {"arr": 50000.0}}]),
        (200000.0, [{"line": 4, "type": "signal", "fields": {"sku_count": "2"}}])]
    lines = run("history", "A").stdout.splitlines()
    assert lines[0].startswith("A · replay 1 (runs 1-2) · ruleset cs-segmentation-model")
    assert lines[1:] == [
        "  2026Q4  tech_touch -> mid_touch  (promote_on_arr_crossing: ARR crossed a band boundary "
        "($10K-$100K -> $100K-$500K) on expansion and renewal)  ARR $200,000",
        "          events: renewal to $150,000.00 (line 2); expansion +$50,000.00 (line 3)",
        "  2027Q1  mid_touch  ARR $200,000  flags: multi_product"]


def test_keep_segment_reviews_strategic_accounts_only_without_any_expansion_signal(
        tmp_path: Path) -> None:
    """keep-segment declares an expansion potential of HIGH or MEDIUM as an expansion signal:
    after four quarters with no expansion event, ACC-00609 (LOW) is up for review and
    ACC-00067 (MEDIUM, one indicator or two) is not."""
    rows = [f"{q},ACC-00001,signal,nps,10" for q in ("2026Q4", "2027Q1", "2027Q2", "2027Q3")]
    result = run("replay", "keep-segment", str(SAMPLE), events(tmp_path, rows), *ARGS,
                 "--format", "json")
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout)["quarters"][-1]
    reviewed = {m["account_id"] for m in last["reviews"]}
    assert "ACC-00609" in reviewed and "ACC-00067" not in reviewed
    assert {m["rule"] for m in last["reviews"]} == {"review_strategic_without_expansion"}


def test_history_of_a_replay_stored_without_details_reads_as_before(tmp_path: Path) -> None:
    """A replay written before ARR and events were kept (no movement_details rows) still
    has a history: without ARR or events."""
    import sqlite3

    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (50000, 0.2)}),
                 events(tmp_path, ["2026Q4,A,renewal,arr,200000"]), *ARGS)
    assert result.exit_code == 0, result.output
    db = sqlite3.connect(tmp_path / "traces.sqlite")
    db.execute("DROP TABLE movement_details")
    db.commit()
    db.close()
    assert [(q["outcome"], q["arr"], q["events"]) for q in _history("A")] == [
        ("moved", None, [])]
    assert run("history", "A").stdout.splitlines()[1].endswith("on renewal)")


def test_the_starting_portfolio_has_served_the_minimum_dwell(tmp_path: Path) -> None:
    """With min_dwell_quarters 2, A (in tech_touch at the start, for how long is unknown)
    moves on its first renewal; after that move it is held two quarters, then moves."""
    def dwell(d: dict) -> None:
        d["transitions"]["min_dwell_quarters"] = 2

    high = [f"2027Q1,A,signal,{f},0.9" for f in FACTORS]
    data = _replay_with(tmp_path, dwell, {"A": (50000, 0.2)}, [
        "2026Q4,A,renewal,arr,200000", *high, "2027Q1,A,renewal,arr,200000",
        "2027Q2,A,renewal,arr,200000", "2027Q3,A,renewal,arr,200000"])
    assert [outcome(q, "A")[:2] for q in data["quarters"]] == [
        ("moves", "mid_touch"), ("held", "high_touch_enterprise"),
        ("held", "high_touch_enterprise"), ("moves", "high_touch_enterprise")]
