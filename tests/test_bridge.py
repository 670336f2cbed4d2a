"""The ARR bridge of `replay`, computed by hand on a small history with a promotion, a
churn, a new account and a reactivation; reactivation's errors; a replay from an empty book."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.assess.bridge import BridgeError, check_held, check_row
from tierbook.cli.main import main

from .conftest import write_portfolio
from .test_replay import ARGS, events, ruleset, run

START = {"A": (50000, 0.2), "B": (50000, 0.2), "C": (5000, 0.2), "D": (200000, 0.2)}
HISTORY = [
    "2026Q4,A,renewal,arr,200000",  # tech_touch -> mid_touch on renewal (promoted)
    "2026Q4,B,churn,,",
    "2026Q4,C,expansion,arr,1000",
    "2026Q4,N,new_account,arr,20000",  # joins tech_touch
    "2027Q1,B,reactivation,arr,30000",  # back, in tech_touch
    "2027Q1,D,contraction,arr,150000",  # evaluates tech_touch; no renewal: stays mid_touch
]
KEYS = ("starting", "new", "expansion", "contraction", "churned", "reactivated", "ending")


def _replay(tmp_path: Path, rows: list[str], out: str = "out") -> dict:
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, START),
                 events(tmp_path, rows), *ARGS, "--format", "json", "--out",
                 str(tmp_path / out))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _rows(data: dict) -> dict[tuple[str, str], dict]:
    return {(r["quarter"], r["tier"]): r for r in data["arr_bridge"]}


def test_the_bridge_by_hand(tmp_path: Path) -> None:
    data = _replay(tmp_path, HISTORY)
    rows = _rows(data)
    q4 = data["quarters"][0]
    assert [m["account_id"] for m in q4["moves"]] == ["A"]
    amounts = {key: tuple(rows[key][k] for k in KEYS) for key in rows}
    # A's promotion counts in tech_touch, where it started the quarter: its expansion and
    # its ending ARR; it moves out of tech_touch into mid_touch
    assert amounts["2026Q4", "tech_touch"] == (100000, 20000, 150000, 0, 50000, 0, 220000)
    assert amounts["2026Q4", "mid_touch"] == (200000, 0, 0, 0, 0, 0, 200000)
    assert amounts["2026Q4", "plg_self_serve"] == (5000, 0, 1000, 0, 0, 0, 6000)
    assert amounts["2026Q4", "high_touch_enterprise"] == (0,) * 7
    assert amounts["2026Q4", "all"] == (305000, 20000, 151000, 0, 50000, 0, 426000)
    assert (rows["2026Q4", "tech_touch"]["moved_out"], rows["2026Q4", "mid_touch"]["moved_in"]) \
        == (200000, 200000)
    # NRR = (start + expansion - contraction - churned) / start; GRR leaves expansion out
    assert (rows["2026Q4", "tech_touch"]["nrr"], rows["2026Q4", "tech_touch"]["grr"]) == (2.0, 0.5)
    assert (rows["2026Q4", "plg_self_serve"]["nrr"], rows["2026Q4", "plg_self_serve"]["grr"]) \
        == (1.2, 1.0)
    assert (rows["2026Q4", "all"]["nrr"], rows["2026Q4", "all"]["grr"]) == (
        round(406000 / 305000, 4), round(255000 / 305000, 4))
    empty = rows["2026Q4", "high_touch_enterprise"]
    assert (empty["nrr"], empty["grr"], empty["churn_rate"], empty["over_target"]) == (None,) * 4
    # churn against the target: B is 1 of the 3 accounts tech_touch served (A, B and N)
    tech = rows["2026Q4", "tech_touch"]
    assert (tech["churn_rate"], tech["churn_target"], tech["over_target"]) == (0.3333, 0.05, True)
    assert (rows["2026Q4", "all"]["churn_rate"], rows["2026Q4", "all"]["churn_target"]) == (0.2, None)
    # 2027Q1: A counts in mid_touch now; B comes back in tech_touch; D contracts in mid_touch
    assert amounts["2027Q1", "mid_touch"] == (400000, 0, 0, 150000, 0, 0, 250000)
    assert amounts["2027Q1", "tech_touch"] == (20000, 0, 0, 0, 0, 30000, 50000)
    assert amounts["2027Q1", "all"] == (426000, 0, 0, 150000, 0, 30000, 306000)
    assert rows["2027Q1", "mid_touch"]["nrr"] == rows["2027Q1", "mid_touch"]["grr"] == 0.625
    assert rows["2027Q1", "tech_touch"]["nrr"] == 1.0  # the reactivated ARR is not retention
    q1 = data["quarters"][1]
    assert q1["reactivated"] == 1
    assert q1["reactivated_accounts"] == [
        {"account_id": "B", "name": "", "tier": "tech_touch", "arr": 30000.0}]
    # each tier's held ARR at the end is ending - moved_out + moved_in
    for q in data["quarters"]:
        for tier, held in q["tiers"].items():
            r = rows[q["quarter"], tier]
            assert held["arr"] == r["ending"] - r["moved_out"] + r["moved_in"]


def test_every_row_reconciles_and_the_csv_has_the_rows(tmp_path: Path) -> None:
    data = _replay(tmp_path, HISTORY)
    for r in data["arr_bridge"]:
        assert r["starting"] + r["new"] + r["expansion"] - r["contraction"] - r["churned"] \
            + r["reactivated"] == pytest.approx(r["ending"], abs=0.001)
    with open(tmp_path / "out" / "arr_bridge.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [(t["quarter"], t["tier"]) for t in table] == [
        (r["quarter"], r["tier"]) for r in data["arr_bridge"]]
    assert (table[2]["tier"], table[2]["starting"], table[2]["over_target"]) == (
        "tech_touch", "100000.00", "true")
    text = (tmp_path / "out" / "replay.txt").read_text()
    assert "ARR bridge (starting + new + expansion - contraction - churned + reactivated" in text
    assert "reactivated 1;" in text


def test_same_input_same_bridge_bytes(tmp_path: Path) -> None:
    _replay(tmp_path, HISTORY, "one")
    _replay(tmp_path, HISTORY, "two")
    for name in ("arr_bridge.csv", "replay.json", "replay.txt"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_check_row_and_check_held_fail_loudly() -> None:
    row = dict.fromkeys(KEYS, 0) | {"starting": 100, "expansion": 5, "ending": 104}
    with pytest.raises(BridgeError, match=r"2026Q4, mid_touch: .* = 1\.05, but ending is 1\.04"):
        check_row("2026Q4", "mid_touch", row)
    rows = [{"tier": "mid_touch", "starting": 1.0, "ending": 2.0, "moved_in": 0.0,
             "moved_out": 0.0}]
    with pytest.raises(BridgeError, match="ending - moved_out \\+ moved_in is 2.00, but the tier holds 1.50"):
        check_held("2026Q4", rows, {"mid_touch": 150}, {"mid_touch": 100})


def test_a_bridge_that_does_not_reconcile_stops_the_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tierbook.commands import replay as replay_module

    real = replay_module.bridge_rows

    def off_by_a_cent(*args, **kwargs):
        rows = real(*args, **kwargs)
        rows[0]["ending"] += 0.01
        return rows

    monkeypatch.setattr(replay_module, "bridge_rows", off_by_a_cent)
    result = CliRunner().invoke(main, [
        "replay", ruleset(tmp_path), write_portfolio(tmp_path, START),
        events(tmp_path, HISTORY), *ARGS, "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert "ARR bridge of 2026Q4, high_touch_enterprise" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("rows", "message"), [
    (["2026Q4,A,reactivation,arr,100"],
     "e.csv:2:2: account_id: account 'A' has not churned: a reactivation brings back a churned account"),
    (["2026Q4,A,churn,,", "2026Q4,A,reactivation,arr,100"],
     "e.csv:3:2: account_id: account 'A' churned in 2026Q4: it may come back from the next quarter on"),
    (["2026Q4,Z,reactivation,arr,100"], "e.csv:2:2: account_id: unknown account 'Z'"),
    (["2026Q4,A,churn,,", "2027Q1,A,reactivation,arr,-5"],
     "e.csv:3:5: value: reactivation needs a non-negative ARR, got '-5'"),
])
def test_a_bad_reactivation_is_an_error_at_its_line(
    tmp_path: Path, rows: list[str], message: str
) -> None:
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, START),
                 events(tmp_path, rows), *ARGS, "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert message in result.stderr


def test_a_replay_from_an_empty_book(tmp_path: Path) -> None:
    book = tmp_path / "empty.csv"
    book.write_text("account_id,arr\n")
    result = run("replay", ruleset(tmp_path), str(book), events(tmp_path, [
        "2026Q4,N1,new_account,arr,50000", "2026Q4,N2,new_account,arr,500",
        "2027Q1,N2,churn,,"]), *ARGS, "--format", "json", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert all(t["accounts"] == 0 for t in data["start"]["tiers"].values())
    assert data["start"]["bands_as_of"] == "2026-12-31"
    q4, q1 = data["quarters"]
    assert (q4["new_accounts"], q4["tiers"]["tech_touch"]["accounts"]) == (2, 1)
    rows = _rows(data)
    assert tuple(rows["2026Q4", "all"][k] for k in KEYS) == (0, 50500, 0, 0, 0, 0, 50500)
    assert rows["2026Q4", "all"]["nrr"] is None
    assert tuple(rows["2027Q1", "all"][k] for k in KEYS) == (50500, 0, 0, 0, 500, 0, 50000)


def test_a_book_with_bad_rows_only_is_still_an_error(tmp_path: Path) -> None:
    book = tmp_path / "bad.csv"
    book.write_text("account_id,arr\nA,lots\n")
    result = run("replay", ruleset(tmp_path), str(book),
                 events(tmp_path, ["2026Q4,N1,new_account,arr,50000"]), *ARGS)
    assert result.exit_code == 1
    assert "bad.csv:2:" in result.stderr


def test_history_shows_the_reactivation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERBOOK_STORE", str(tmp_path / "t.sqlite"))
    _replay(tmp_path, HISTORY)
    result = run("history", "B")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1:] == [
        "  2026Q4  churned (held in tech_touch)  ARR $50,000",
        "          events: churn (line 3)",
        "  2027Q1  reactivated in tech_touch  ARR $30,000",
        "          events: reactivation at $30,000.00 (line 6)",
    ]
    doc = json.loads(run("history", "B", "--format", "json").stdout)
    assert [q["outcome"] for q in doc["quarters"]] == ["churned", "reactivated"]


def test_a_busy_random_history_reconciles(tmp_path: Path) -> None:
    """Seeded random events of every account type over six quarters: every row adds up and
    each tier's held ARR is ending - moved_out + moved_in (the replay checks both too)."""
    import random

    rnd = random.Random(21)
    start = {f"A{i:02d}": (rnd.choice([500, 5000, 50000, 200000]), rnd.choice([0.2, 0.5, 0.9]))
             for i in range(30)}
    alive, gone, rows, n = set(start), set(), [], 0
    for q in ("2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4", "2028Q1"):
        churned_now = set()
        for a in sorted(alive):
            kind = rnd.choice(["renewal", "expansion", "contraction", "churn", "none"])
            if kind == "churn":
                churned_now.add(a)
                rows.append(f"{q},{a},churn,,")
            elif kind != "none":
                rows.append(f"{q},{a},{kind},arr,{rnd.randint(1, 150000)}")
        for a in sorted(gone):
            if rnd.random() < 0.5:
                rows.append(f"{q},{a},reactivation,arr,{rnd.randint(0, 90000)}")
                gone.discard(a)
                alive.add(a)
        n += 1
        new = f"N{n}"
        rows.append(f"{q},{new},new_account,arr,{rnd.randint(100, 300000)}")
        alive = (alive - churned_now) | {new}
        gone |= churned_now
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, start),
                 events(tmp_path, rows), *ARGS, "--format", "json", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert sum(q["reactivated"] for q in data["quarters"]) > 0
    rows_by = _rows(data)
    for r in data["arr_bridge"]:
        assert r["starting"] + r["new"] + r["expansion"] - r["contraction"] - r["churned"] \
            + r["reactivated"] == pytest.approx(r["ending"], abs=0.001)
    for q in data["quarters"]:
        for tier, held in q["tiers"].items():
            r = rows_by[q["quarter"], tier]
            assert held["arr"] == pytest.approx(r["ending"] - r["moved_out"] + r["moved_in"])


def test_an_empty_book_resolves_its_bands_when_accounts_come(tmp_path: Path) -> None:
    book = tmp_path / "empty.csv"
    book.write_text("account_id,arr\n")
    result = run("replay", ruleset(tmp_path), str(book), events(tmp_path, [
        "2026Q4,,product_launch,,Pricing", "2027Q1,N1,new_account,arr,50000"]),
        *ARGS, "--format", "json", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["start"]["bands_as_of"] == "2027-03-31"
    assert data["quarters"][1]["tiers"]["tech_touch"]["accounts"] == 1


def test_a_new_account_churning_in_its_quarter_is_not_the_cohorts_churn(tmp_path: Path) -> None:
    # N joins tech_touch and churns the same quarter: its ARR leaves the ending (the row
    # still adds up) but A and B, who started there, kept all theirs: NRR and GRR stay 1.0
    data = _replay(tmp_path, ["2026Q4,N,new_account,arr,20000", "2026Q4,N,churn,,"])
    tech = _rows(data)["2026Q4", "tech_touch"]
    assert tuple(tech[k] for k in KEYS) == (100000, 20000, 0, 0, 20000, 0, 100000)
    assert (tech["nrr"], tech["grr"]) == (1.0, 1.0)
    assert (_rows(data)["2026Q4", "all"]["nrr"], _rows(data)["2026Q4", "all"]["grr"]) == (1.0, 1.0)
