"""`tierbook replay`: each transition rule and trigger on hand-built event histories,
including the boundaries (exactly 20%, exactly two quarters) and the review-only demotion."""

from __future__ import annotations

import json
import os
from contextlib import closing
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import FACTORS, ROOT, SAMPLE, write_portfolio

ARGS = ["--as-of", "2026-10-01", "--no-chart"]
def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def ruleset(tmp_path: Path, csms: int = 20) -> str:
    data = yaml.safe_load((ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text())
    arr = data["bands"][0]
    arr["method"] = "log"
    del arr["auto"], arr["quartile"]
    data["capacity"] = {"total": csms}
    data["gates"] = []
    for tier in data["tiers"]:
        tier["targets"] = {"churn_rate": 0.05}
    data["transitions"] = {"min_dwell_quarters": 1, "rules": [
        {"id": "promote_on_arr_crossing", "action": "promote", "to": "evaluated",
         "when": {"all": [{"field": "evaluated_direction", "eq": "up"},
                          {"any": [{"event": "renewal"}, {"event": "expansion"}]}]},
         "because": "ARR crossed a threshold on renewal or expansion"},
        {"id": "promote_after_two_high_quarters", "action": "promote", "to": "next",
         "when": {"all": [{"field": "sv_band", "eq": "high"},
                          {"field": "history.consecutive.sv_band", "gte": 2}]},
         "because": "High strategic value two quarters running"},
        {"id": "demote_on_renewal_drop", "action": "demote", "to": "evaluated",
         "when": {"all": [{"field": "evaluated_direction", "eq": "down"}, {"event": "renewal"}]},
         "because": "ARR dropped below a threshold on renewal"},
        {"id": "review_enterprise_without_expansion", "action": "review", "to": "mid_touch",
         "when": {"all": [{"field": "tier", "eq": "high_touch_enterprise"},
                          {"field": "history.quarters_since.expansion", "gte": 4}]},
         "because": "Four quarters without an expansion signal: review, never move automatically"},
    ]}
    path = tmp_path / "rs.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def events(tmp_path: Path, rows: list[str], name: str = "e.csv") -> str:
    path = tmp_path / name
    path.write_text("quarter,account_id,type,field,value\n" + "\n".join(rows) + "\n")
    return str(path)


def replay(tmp_path: Path, accounts: dict, rows: list[str], csms: int = 20) -> dict:
    result = run("replay", ruleset(tmp_path, csms), write_portfolio(tmp_path, accounts),
                 events(tmp_path, rows), *ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def outcome(q: dict, account: str) -> tuple[str, str, str]:
    for kind in ("moves", "held", "reviews"):
        for m in q[kind]:
            if m["account_id"] == account:
                return kind, m["to"], m["rule"]
    return "stay", "", ""


def test_promote_when_arr_crosses_a_threshold_on_renewal(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (50000, 0.2), "B": (50000, 0.2)},
                  ["2026Q4,A,renewal,arr,200000", "2026Q4,B,signal,arr,200000"])
    q = data["quarters"][0]
    assert outcome(q, "A") == ("moves", "mid_touch", "promote_on_arr_crossing")
    # the same crossing without a renewal or expansion moves nobody: it is drift
    assert outcome(q, "B") == ("stay", "", "")
    assert q["drift"] == 1
    assert q["transitions"]["tech_touch"]["mid_touch"] == 1
    assert q["transitions"]["tech_touch"]["tech_touch"] == 1


def test_history_of_a_drifting_account_shows_the_tier_it_is_held_in(tmp_path: Path) -> None:
    """B is evaluated mid_touch but no rule moves it (a signal is not a renewal): it stays in
    tech_touch, and its history says so; the next quarter's renewal moves it from there."""
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"B": (50000, 0.2)}),
                 events(tmp_path, ["2026Q4,B,signal,arr,200000", "2027Q1,B,renewal,arr,200000"]),
                 *ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["quarters"][0]["drift"] == 1
    h = json.loads(run("history", "B", "--format", "json").stdout)["quarters"]
    assert [(q["quarter"], q["from_tier"], q["to_tier"], q["evaluated_tier"], q["outcome"])
            for q in h] == [("2026Q4", "tech_touch", "tech_touch", "mid_touch", "stay"),
                            ("2027Q1", "tech_touch", "mid_touch", "mid_touch", "moved")]
    text = run("history", "B").stdout.splitlines()
    assert text[1] == "  2026Q4  tech_touch (evaluated mid_touch, no rule moves it)  ARR $200,000"
    assert text[2].startswith("  2027Q1  tech_touch -> mid_touch  (promote_on_arr_crossing: ")


def test_history_of_a_churned_account_ends_with_its_churn(tmp_path: Path) -> None:
    """C churns in the first quarter, D in the second: both have a history (C used to be
    'no account' with a list of other ids)."""
    result = run("replay", ruleset(tmp_path),
                 write_portfolio(tmp_path, {"C": (50000, 0.2), "D": (200000, 0.2)}),
                 events(tmp_path, ["2026Q4,C,churn,,", "2027Q1,D,churn,,"]), *ARGS)
    assert result.exit_code == 0, result.output
    c = json.loads(run("history", "C", "--format", "json").stdout)["quarters"]
    assert [(q["quarter"], q["from_tier"], q["to_tier"], q["outcome"], q["flags"]) for q in c] == [
        ("2026Q4", "tech_touch", "", "churned", [])]
    d = run("history", "D").stdout.splitlines()
    assert d[0].startswith("D · replay 1 (runs 1-2) · ruleset cs-segmentation-model 1.0.2 (")
    assert d[1:] == ["  2026Q4  mid_touch  ARR $200,000",
                     "  2027Q1  churned (held in mid_touch)  ARR $200,000",
                     "          events: churn (line 3)"]


def test_expansion_event_also_promotes(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (90000, 0.2)}, ["2026Q4,A,expansion,arr,20000"])
    assert outcome(data["quarters"][0], "A") == ("moves", "mid_touch", "promote_on_arr_crossing")


def test_event_amounts_read_as_exported(tmp_path: Path) -> None:
    """The portfolio's money reader: "$12,000.50" and "12k" are amounts; 11,999 is not enough."""
    data = replay(tmp_path, {"A": (90000, 0.2), "B": (90000, 0.2), "C": (90000, 0.2)},
                  ['2026Q4,A,expansion,arr,"$12,000.50"', "2026Q4,B,expansion,arr,12k",
                   '2026Q4,C,expansion,arr,"9,999"'])
    q = data["quarters"][0]
    assert outcome(q, "A") == ("moves", "mid_touch", "promote_on_arr_crossing")
    assert outcome(q, "B") == ("moves", "mid_touch", "promote_on_arr_crossing")
    assert outcome(q, "C") == ("stay", "", "")


def test_minimum_dwell_holds_a_second_move(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (50000, 0.2)}, [
        "2026Q4,A,renewal,arr,200000",            # tech -> mid
        "2027Q1,A,signal,strategic_logo,0.9", "2027Q1,A,signal,expansion_potential,0.9",
        "2027Q1,A,signal,product_influence,0.9", "2027Q1,A,signal,reference_value,0.9",
        "2027Q1,A,signal,regulatory_exposure,0.9", "2027Q1,A,expansion,arr,1000",  # -> enterprise
        "2027Q2,A,expansion,arr,1000"])
    q1, q2, q3 = data["quarters"]
    assert outcome(q1, "A") == ("moves", "mid_touch", "promote_on_arr_crossing")
    assert outcome(q2, "A") == ("held", "high_touch_enterprise", "promote_on_arr_crossing")
    assert "held: 0 of 1 minimum quarter(s) in mid_touch" in q2["held"][0]["because"]
    assert outcome(q3, "A") == ("moves", "high_touch_enterprise", "promote_on_arr_crossing")


def test_demote_only_on_renewal(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (200000, 0.2), "B": (200000, 0.2)},
                  ["2026Q4,A,renewal,arr,50000", "2026Q4,B,contraction,arr,150000"])
    q = data["quarters"][0]
    assert outcome(q, "A") == ("moves", "tech_touch", "demote_on_renewal_drop")
    assert outcome(q, "B") == ("stay", "", "")


def test_promote_after_exactly_two_consecutive_quarters(tmp_path: Path) -> None:
    signals = [f"2026Q4,A,signal,{f},0.9" for f in FACTORS]
    data = replay(tmp_path, {"A": (500, 0.45), "Z": (500, 0.1)},
                  signals + ["2027Q1,Z,signal,sku_count,2", "2027Q2,Z,signal,sku_count,3"])
    q1, q2, q3 = data["quarters"]
    # tech_touch (low ARR, medium value); high value from 2026Q4 on, no renewal
    assert outcome(q1, "A") == ("stay", "", "")          # one quarter high: not yet
    assert outcome(q2, "A") == ("moves", "mid_touch", "promote_after_two_high_quarters")
    assert outcome(q3, "A") == ("stay", "", "")


def test_review_only_demotion_after_four_quarters_without_expansion(tmp_path: Path) -> None:
    rows = [f"{q},Z,signal,sku_count,{n}" for n, q in enumerate(
        ["2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4"], start=2)]
    data = replay(tmp_path, {"E": (600000, 0.9), "X": (600000, 0.9), "Z": (500, 0.1)},
                  sorted(rows + ["2027Q2,X,expansion,arr,10000"]))
    quarters = data["quarters"]
    assert [outcome(q, "E")[0] for q in quarters] == ["stay", "stay", "stay", "reviews", "reviews"]
    assert outcome(quarters[3], "E") == ("reviews", "mid_touch", "review_enterprise_without_expansion")
    assert all(q["tiers"]["high_touch_enterprise"]["accounts"] == 2 for q in quarters)  # never moved
    assert [outcome(q, "X")[0] for q in quarters] == ["stay"] * 5  # expansion in 2027Q2 resets it


def test_tier_arr_trigger_fires_at_exactly_20_percent(tmp_path: Path) -> None:
    data = replay(tmp_path, {"E": (600000, 0.9), "M": (200000, 0.2)},
                  ["2026Q4,E,renewal,arr,714000", "2027Q1,E,renewal,arr,720000",
                   "2027Q2,M,renewal,arr,160000.01"])
    q1, q2, q3 = data["quarters"]
    assert [t for t in q1["triggers"] if t["kind"] == "tier_arr_change"] == []  # +19%
    (fired,) = [t for t in q2["triggers"] if t["kind"] == "tier_arr_change"]
    assert fired["tier"] == "high_touch_enterprise" and fired["figures"]["change"] == 0.2
    assert fired["detail"] == "high_touch_enterprise ARR $600,000 -> $720,000 (+20.0%; threshold ±20%)"
    assert {t["tier"] for t in q3["triggers"] if t["kind"] == "tier_arr_change"} == {
        "high_touch_enterprise"}  # mid_touch at -19.99999%: not yet


def test_capacity_trigger_at_exactly_15_percent(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (500, 0.1)}, ["2026Q4,,capacity_change,csms,22",
                                                "2027Q1,,capacity_change,csms,23"], csms=20)
    q1, q2 = data["quarters"]
    assert [t["id"] for t in q1["triggers"]] == []
    assert [t["id"] for t in q2["triggers"]] == ["csm_capacity_change"]
    assert q2["capacity"]["available"] == 23


def test_churn_trigger_needs_two_consecutive_quarters_above_1_5x_target(tmp_path: Path) -> None:
    accounts = {f"P{i}": (500, 0.1) for i in range(20)}
    data = replay(tmp_path, accounts, ["2026Q4,P0,churn,,", "2026Q4,P1,churn,,",
                                       "2027Q1,P2,churn,,", "2027Q1,P3,churn,,",
                                       "2027Q2,P4,churn,,"])
    q1, q2, q3 = data["quarters"]
    churn = lambda q: [t for t in q["triggers"] if t["kind"] == "tier_churn_over_target"]  # noqa: E731
    assert churn(q1) == []  # 10% > 7.5% once
    (fired,) = churn(q2)    # 2/18 = 11.1% > 7.5% twice running
    assert fired["tier"] == "plg_self_serve" and fired["figures"]["quarters"] == 2
    assert churn(q3) == []  # 1/16 = 6.25%: the streak is broken
    assert q1["churned"]["plg_self_serve"] == 2


def test_product_launch_trigger(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (500, 0.1)}, ["2026Q4,,product_launch,,AI add-on"])
    assert [(t["id"], t["detail"]) for t in data["quarters"][0]["triggers"]] == [
        ("strategic_value_redefined", "AI add-on")]


def test_new_accounts_and_flags_raised_and_cleared(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (500, 0.1)}, [
        "2026Q4,N1,new_account,,", "2026Q4,N1,signal,arr,50000", "2026Q4,A,signal,sku_count,3",
        "2027Q1,A,signal,sku_count,1"])
    q1, q2 = data["quarters"]
    assert q1["new_accounts"] == 1 and q1["tiers"]["tech_touch"]["accounts"] == 1
    assert q1["flags"]["raised"] == [{"account_id": "A", "flag": "multi_product", "rule": "multi_product"}]
    assert q2["flags"]["cleared"] == [{"account_id": "A", "flag": "multi_product", "rule": "multi_product"}]


def test_bad_events_name_the_line(tmp_path: Path) -> None:
    """Each problem names the line and the column of its cell (quarter,account_id,type,
    field,value: a bad value is in column 5)."""
    rs = ruleset(tmp_path)
    p = write_portfolio(tmp_path, {"A": (500, 0.1)})
    cases = {
        "2026Q4,B,renewal,arr,100": "e.csv:2:2: account_id: unknown account 'B'",
        "2026Q4,A,renewal,arr,lots": "e.csv:2:5: value: renewal needs a non-negative ARR, got 'lots' "
                                     "(is not a number)",
        '2026Q4,A,expansion,arr,"1.200,50"': "e.csv:2:5: value: expansion needs a positive ARR "
                                             "change, got '1.200,50' (has a comma that is not a "
                                             "thousands separator (1,200.50 is read; a decimal comma "
                                             "as in 1.200,50 is not: export numbers with a decimal "
                                             "point))",
        "2026Q4,A,expansion,arr,nan": "e.csv:2:5: value: expansion needs a positive ARR change, "
                                      "got 'nan' (is not a finite number)",
        "2026Q4,,capacity_change,csms,3.7": "e.csv:2:5: value: capacity_change needs the new CSM "
                                            "headcount, got '3.7'",
        "2026Q4,A,renewl,arr,100": "e.csv:2:3: type: unknown event type 'renewl' (did you mean 'renewal'?)",
        "26Q4,A,renewal,arr,100": "e.csv:2:1: quarter: '26Q4' is not a quarter like 2026Q3",
        "2026Q4,A,signal,health_score,great": "e.csv:2:5: health_score: 'great' is not a number",
    }
    for row, message in cases.items():
        result = CliRunner().invoke(main, ["replay", rs, p, events(tmp_path, [row]), *ARGS])
        assert result.exit_code == 1, row
        assert result.stderr.strip().endswith(message.split("e.csv", 1)[1]), (row, result.stderr)
    after_churn = CliRunner().invoke(main, ["replay", rs, p, events(tmp_path, [
        "2026Q4,A,churn,,", "2027Q1,A,renewal,arr,5"]), *ARGS])
    assert "e.csv:3:2: account_id: account 'A' churned in 2026Q4; no events may follow" in after_churn.stderr
    order = CliRunner().invoke(main, ["replay", rs, p, events(tmp_path, [
        "2027Q1,A,renewal,arr,5", "2026Q4,A,renewal,arr,5"]), *ARGS])
    assert "e.csv:3:1: quarter: quarter 2026Q4 comes after 2027Q1: events must be in quarter order" in order.stderr


def test_skip_leaves_out_bad_events_and_reports_them(tmp_path: Path) -> None:
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (50000, 0.2)}),
                 events(tmp_path, ["2026Q4,B,renewal,arr,100", "2026Q4,A,renewal,arr,200000"]),
                 *ARGS, "--on-error", "skip", "--format", "json")
    data = json.loads(result.stdout)
    assert [s["line"] for s in data["skipped_events"]] == [2]
    assert outcome(data["quarters"][0], "A")[0] == "moves"


def test_skipped_events_are_in_line_order_and_not_counted(tmp_path: Path) -> None:
    # line 2 is skipped by the replay (no account B), line 3 by the reader (no such type):
    # the report lists them by line, and the quarter counts the one renewal it applied
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (50000, 0.2)}),
                 events(tmp_path, ["2026Q4,B,renewal,arr,100", "2026Q4,A,renewl,arr,5",
                                   "2026Q4,A,renewal,arr,200000"]),
                 *ARGS, "--on-error", "skip", "--format", "json")
    data = json.loads(result.stdout)
    assert [s["line"] for s in data["skipped_events"]] == [2, 3]
    assert data["quarters"][0]["events"] == {"renewal": 1}


def test_a_new_account_left_out_takes_its_other_events_with_it(tmp_path: Path) -> None:
    """N1's new_account line has no ARR: skipped, N1 is not a new account of the quarter,
    and its signal of the same quarter and its renewal of the next are skipped and said so
    (the quarter counts only A's renewal)."""
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (500, 0.1)}),
                 events(tmp_path, ["2026Q4,N1,new_account,,", "2026Q4,N1,signal,health_score,70",
                                   "2026Q4,A,renewal,arr,600", "2027Q1,N1,renewal,arr,5000"]),
                 *ARGS, "--on-error", "skip", "--format", "json")
    data = json.loads(result.stdout)
    q4, q1 = data["quarters"]
    assert (q4["new_accounts"], q4["events"], q1["events"]) == (0, {"renewal": 1}, {})
    assert q4["tiers"]["plg_self_serve"] == {"accounts": 1, "arr": 600.0}
    reasons = {s["line"]: s["reasons"][0].split("e.csv:", 1)[1] for s in data["skipped_events"]}
    assert reasons == {
        2: "2:1: arr: new account 'N1' has no arr (send it as a signal in the same quarter)",
        3: "3:2: account_id: new account 'N1' was left out (its new_account event on line 2 is "
           "bad): its other events are left out with it",
        5: "5:2: account_id: account 'N1' was left out in 2026Q4 (its new_account event was bad)",
    }


def test_bundled_replay_is_deterministic_and_history_reads_it(tmp_path: Path) -> None:
    a = run("replay", "--as-of", "2026-10-01", "cs-segmentation-model", str(SAMPLE),
            str(ROOT / "examples" / "events.csv"), "--out", "a")
    b = run("replay", "--as-of", "2026-10-01", "cs-segmentation-model", str(SAMPLE),
            str(ROOT / "examples" / "events.csv"), "--out", "b")
    assert a.exit_code == b.exit_code == 0
    for name in ("replay.json", "replay.txt", "tiers_by_quarter.csv", "flows.csv",
                 "tiers_by_quarter.png", "flows.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    data = json.loads((tmp_path / "a" / "replay.json").read_text())
    assert [q["quarter"] for q in data["quarters"]] == [
        "2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4", "2028Q1", "2028Q2", "2028Q3"]
    assert set(data["quarters"][0]) >= {"quarter", "tiers", "transitions", "moves", "held",
                                        "reviews", "flags", "triggers", "capacity"}
    mover = data["quarters"][0]["moves"][0]
    hist = run("history", mover["account_id"])
    assert hist.exit_code == 0
    assert (f"  2026Q4  {mover['from']} -> {mover['to']}  ({mover['rule']}: {mover['because']})"
            f"  ARR ${mover['arr']:,.0f}" in hist.stdout.splitlines())
    h = json.loads(run("history", mover["account_id"], "--format", "json").stdout)
    assert len(h["quarters"]) >= 1 and h["quarters"][0]["outcome"] == "moved"
    missing = CliRunner().invoke(main, ["history", "ACC-0001"])
    assert missing.exit_code == 1 and "closest ids: ACC-00001" in missing.stderr


def test_events_csv_read_as_exported(tmp_path: Path) -> None:
    """Blank lines, a short row, extra cells, a quoted line break, CRLF and a BOM: each event
    keeps its line number, and a row of blanks is a bad event on its own line."""
    from tierbook.portfolio.events import read_events

    path = tmp_path / "e.csv"
    path.write_bytes(("\ufeffquarter,account_id,type,field,value\r\n\r\n"
                      "2026Q4,A,renewal,arr,100\r\n2026Q4,B,churn\r\n"
                      '2026Q4,C,signal,name,"x\r\ny",extra,more\r\n,,,,\r\n'
                      '2027Q1,A,renewal,arr,"1,200"\r\n').encode("utf-8"))
    events_, skipped = read_events(str(path), on_error="skip")
    assert [(e.line, e.quarter, e.account_id, e.type, e.fields) for e in events_] == [
        (3, "2026Q4", "A", "renewal", {"arr": 100.0}), (4, "2026Q4", "B", "churn", {}),
        (6, "2026Q4", "C", "signal", {"name": "x\r\ny"}),
        (8, "2027Q1", "A", "renewal", {"arr": 1200.0})]
    assert [s["line"] for s in skipped] == [7]


def test_a_bad_events_or_portfolio_file_is_exit_1_naming_it(tmp_path: Path) -> None:
    """A folder, a CSV named .parquet, a header with no events and JSON nested past the
    parser's stack: each is a data error (exit 1) naming the file, never an internal error."""
    rs = ruleset(tmp_path)
    portfolio = write_portfolio(tmp_path, {"A": (500, 0.1)})
    good = events(tmp_path, ["2026Q4,A,renewal,arr,100"])
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "csv.parquet").write_text("account_id,arr\nA,500\n")
    (tmp_path / "header.csv").write_text("quarter,account_id,type,field,value\n")
    (tmp_path / "deep.jsonl").write_text('{"quarter": "2026Q4", "account_id": "A", "type": "churn"}\n'
                                         + "[" * 100_000 + "]" * 100_000 + "\n")
    cases = {
        ("folder.csv", "events"): "folder.csv: is a folder, not an events file (.csv or .jsonl)",
        ("csv.parquet", "events"): "csv.parquet: events are read from CSV or JSON Lines",
        ("header.csv", "events"): "header.csv:1:1: file has no events (only a header): "
                                  "nothing to replay",
        ("deep.jsonl", "events"): "deep.jsonl:2:1: invalid JSON: nested too deep",
        ("folder.csv", "portfolio"): "folder.csv: is a folder, not a portfolio file",
        ("csv.parquet", "portfolio"): "csv.parquet: cannot read Parquet (is it a Parquet file?)",
    }
    for (name, role), message in cases.items():
        given = str(tmp_path / name)
        args = [rs, portfolio, given] if role == "events" else [rs, given, good]
        result = CliRunner().invoke(main, ["replay", *args, *ARGS])
        assert result.exit_code == 1, (name, role, result.output)
        assert result.stderr.startswith(f"{given}{message.removeprefix(name)}"), (name, result.stderr)
        assert "internal error" not in result.stderr
        if role == "portfolio":
            seg = CliRunner().invoke(main, ["segment", rs, given, *ARGS])
            assert seg.exit_code == 1 and seg.stderr.startswith(given), seg.output


def test_a_replay_with_every_event_skipped_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (500, 0.1)}),
        events(tmp_path, ["2026Q4,A,renewl,arr,100"]), *ARGS, "--on-error", "skip"])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[:2] == [
        f"{tmp_path / 'e.csv'}: every event was skipped as bad (1): nothing to replay",
        f"{tmp_path / 'e.csv'}:2:3: type: unknown event type 'renewl' (did you mean 'renewal'?)"]
    assert "replay None" not in result.output


def _runs() -> list[tuple[int, str, str, str]]:
    with closing(sqlite3.connect(os.environ["TIERBOOK_STORE"])) as db, db:
        return db.execute("SELECT run_id, command, status, label FROM runs ORDER BY run_id").fetchall()


def test_a_replay_that_stops_at_a_bad_event_stores_no_quarter(tmp_path: Path) -> None:
    """Good quarters first, then an unknown account in 2027Q2 and an event after a churn in
    2027Q3: every bad event of the file is reported at once, before any quarter is stored,
    so `history` has no replay and `explain` still answers from the segment run."""
    rs = ruleset(tmp_path)
    p = write_portfolio(tmp_path, {"A": (50000, 0.2), "B": (50000, 0.2)})
    assert run("segment", rs, p, *ARGS).exit_code == 0
    explained = run("explain", "A", "--format", "json").stdout
    result = CliRunner().invoke(main, ["replay", rs, p, events(tmp_path, [
        "2026Q4,A,renewal,arr,60000", "2027Q1,B,churn,,", "2027Q2,NOPE,renewal,arr,5",
        "2027Q2,A,renewal,arr,70000", "2027Q3,B,renewal,arr,5", "2027Q3,A,signal,arr,oops"]),
        *ARGS, "--out", "replayed"])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'e.csv'}:4:2: account_id: unknown account 'NOPE'",
        f"{tmp_path / 'e.csv'}:6:2: account_id: account 'B' churned in 2027Q1; no events may follow (a reactivation event brings it back)",
        f"{tmp_path / 'e.csv'}:7:5: arr: 'oops' is not a number"]
    assert _runs() == [(1, "segment", "complete", "")]
    assert not (tmp_path / "replayed").exists()
    assert run("explain", "A", "--format", "json").stdout == explained
    history = CliRunner().invoke(main, ["history", "A"])
    assert history.exit_code == 1 and "no replay yet" in history.stderr


def test_a_replay_that_fails_midway_leaves_no_complete_quarter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replay that fails after storing its first quarters (here: the store fails on the
    third) marks them failed: `history` answers from the earlier complete replay, `explain`
    from the segment run, and the failed replay's id is refused."""
    from tierbook.trace.store import TraceStore

    rs = ruleset(tmp_path)
    p = write_portfolio(tmp_path, {"A": (50000, 0.2)})
    rows = ["2026Q4,A,renewal,arr,200000", "2027Q1,A,renewal,arr,210000",
            "2027Q2,A,renewal,arr,220000"]
    assert run("replay", rs, p, events(tmp_path, rows[:1]), *ARGS).exit_code == 0
    assert run("segment", rs, p, *ARGS).exit_code == 0
    history = run("history", "A").stdout
    explained = run("explain", "A", "--format", "json").stdout
    write = TraceStore.write_paths
    calls = []

    def fails_third(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise sqlite3.OperationalError("database or disk is full")
        return write(self, *args, **kwargs)

    monkeypatch.setattr(TraceStore, "write_paths", fails_third)
    result = CliRunner().invoke(main, ["replay", rs, p, events(tmp_path, rows), *ARGS])
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"{os.environ['TIERBOOK_STORE']}: cannot write the run to the "
                             "trace store (database or disk is full)\n")
    assert _runs() == [(1, "replay", "complete", "2026Q4"), (2, "segment", "complete", ""),
                       (3, "replay", "failed", "2026Q4"), (4, "replay", "failed", "2027Q1"),
                       (5, "replay", "failed", "2027Q2")]
    assert run("history", "A").stdout == history
    assert run("explain", "A", "--format", "json").stdout == explained
    refused = CliRunner().invoke(main, ["history", "A", "--replay", "3"])
    assert refused.exit_code == 1
    assert refused.stderr == ("replay 3 is failed: it did not finish, so its quarters are "
                              "not reported\n")


def test_a_replay_whose_every_quarter_is_skipped_says_so(tmp_path: Path) -> None:
    """Every event before the start date, skipped: no quarter is replayed, and the replay
    says so (exit 1) instead of printing 'trace: replay None'."""
    result = CliRunner().invoke(main, [
        "replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (500, 0.1)}),
        events(tmp_path, ["2026Q2,A,renewal,arr,100"]), *ARGS, "--on-error", "skip"])
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"{tmp_path / 'e.csv'}: no quarter to replay: all 1 event(s) "
                             "were skipped\n")
    assert _runs() == []


def test_the_flows_heatmap_shows_what_flows_csv_has_stayers_included(tmp_path: Path,
                                                                      monkeypatch) -> None:
    """flows.csv counts the accounts that stayed in their tier; the heatmap drawn beside it
    shows the same totals, the stayers on its diagonal (it used to draw them as 0)."""
    import csv
    import math

    import matplotlib.axes

    drawn: list = []
    original = matplotlib.axes.Axes.imshow
    monkeypatch.setattr(matplotlib.axes.Axes, "imshow",
                        lambda self, data, *a, **k: drawn.append(data) or original(self, data,
                                                                                     *a, **k))
    accounts = {"A": (50000, 0.2), "B": (50000, 0.2), "C": (500, 0.1), "D": (500, 0.1)}
    rows = ["2026Q4,A,renewal,arr,200000", "2026Q4,C,churn,,", "2026Q4,N1,new_account,,",
            "2026Q4,N1,signal,arr,50000"]
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, accounts),
                 events(tmp_path, rows), "--as-of", "2026-10-01", "--out", "out")
    assert result.exit_code == 0, result.output
    with (tmp_path / "out" / "flows.csv").open(newline="") as fh:
        totals: dict[tuple[str, str], int] = {}
        for r in csv.DictReader(fh):
            key = (r["from_tier"], r["to_tier"])
            totals[key] = totals.get(key, 0) + int(r["accounts"])
    assert totals[("tech_touch", "tech_touch")] >= 1  # a stayer
    assert totals[("joined", "tech_touch")] == 1
    ids = ["high_touch_enterprise", "mid_touch", "tech_touch", "plg_self_serve"]
    heatmap = drawn[-1]
    shown = {(a, b): int(v) for a, row in zip(ids + ["joined"], heatmap)
             for b, v in zip(ids + ["churned"], row) if not math.isnan(v) and v}
    assert shown == totals


def test_a_signal_text_read_once_is_still_read_for_each_input_and_each_bad_line(
    tmp_path: Path,
) -> None:
    """A replay reads each (input, text) of its signals once: the same text for an input of
    another type is read for that input, and a bad text is reported on every line it is."""
    rs, p = ruleset(tmp_path), write_portfolio(tmp_path, {"A": (50000, 0.2), "B": (60000, 0.3)})
    result = run("replay", rs, p, events(tmp_path, [
        "2026Q4,A,signal,strategic_logo,0.9", "2026Q4,B,signal,sku_count,0.9",
        "2027Q1,A,signal,health_score,great", "2027Q1,B,signal,health_score,great"]), *ARGS)
    assert result.exit_code == 1
    assert "e.csv:3:5: sku_count: '0.9'" in result.stderr
    assert "e.csv:4:5: health_score: 'great' is not a number" in result.stderr
    assert "e.csv:5:5: health_score: 'great' is not a number" in result.stderr
    assert "e.csv:2:1" not in result.stderr


@pytest.mark.parametrize(("as_of", "says"), [("2026-09-30", "ends on"),
                                             ("2026-10-01", "ends before")])
def test_a_quarter_that_is_over_at_the_start_date_is_named_at_its_line(
    tmp_path: Path, as_of: str, says: str
) -> None:
    result = CliRunner().invoke(main, [
        "replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A1": (50000, 0.5)}),
        events(tmp_path, ["2026Q3,A1,renewal,arr,60000"]), "--as-of", as_of, "--no-chart",
        "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 1
    assert f"e.csv:2:1: quarter: quarter 2026Q3 {says} the start date {as_of}" in result.stderr


def test_an_event_value_outside_its_inputs_range_or_blanking_a_required_one_is_refused(
    tmp_path: Path,
) -> None:
    """A replayed value is held to the input's declared range as a portfolio's cell is (a
    negative ARR would end the book below zero), and a required input cannot be blanked
    (the account would have no tier). A new account whose ARR is bad is not said again to
    have none."""
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (500, 0.1)}),
                 events(tmp_path, ["2026Q4,N1,new_account,arr,-100",
                                   "2026Q4,A,signal,health_score,101",
                                   "2026Q4,A,signal,arr,-250", "2027Q1,A,signal,arr,"]),
                 *ARGS)
    assert result.exit_code == 1
    problems = [line.split("e.csv:", 1)[1] for line in result.output.splitlines()
                if "e.csv:" in line]
    assert problems == [
        "2:5: arr: '-100' is outside 0..inf",
        "3:5: health_score: '101' is outside 0..100",
        "4:5: arr: '-250' is outside 0..inf",
        "5:5: arr: arr is required: an event cannot leave it blank",
    ]
