"""The current book, changes.csv and the CSM books (engine/book) on hand-built portfolios."""

from __future__ import annotations

import csv
import itertools
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.book.csms import Account, Norms, rebalance
from tierbook.book.current import book_moves, export_labels
from tierbook.cli.main import main
from tierbook.ruleset.build import load_ruleset

from .conftest import FACTORS, ROOT, write_portfolio

ARGS = ["--as-of", "2026-10-01", "--engine", "native", "--no-chart"]

# account -> (ARR, every strategic factor, CRM label, CSM); the default ruleset's log bands
# (the sample is too small for quartiles) and strategic-value bins place each one by hand:
ACCOUNTS = {
    "A1": (200000, 0.9, "mid_touch", "Ann"),  # high ARR, high value: high_touch_enterprise
    "A2": (200000, 0.1, "high_touch_enterprise", "Ann"),  # high, low: mid_touch
    "A3": (50000, 0.1, "tech_touch", "Bo"),  # mid, low: tech_touch
    "A4": (500, 0.1, "", ""),  # low, low: plg_self_serve; CRM tier blank
    "A5": (50000, 0.5, "Strategic", "Bo"),  # mid, medium: mid_touch; a label nobody mapped
    "A6": (600, 0.1, "tech_touch", ""),  # low, low: plg_self_serve
}


def _portfolio(tmp_path: Path) -> Path:
    lines = ["account_id,account_name,arr," + ",".join(FACTORS) + ",current_tier,csm"]
    for account, (arr, sv, label, csm) in ACCOUNTS.items():
        factors = ",".join([str(sv)] * len(FACTORS))
        lines.append(f"{account},=Name {account},{arr},{factors},{label},{csm}")
    path = tmp_path / "p.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def segmented(tmp_path: Path) -> Path:
    path = _portfolio(tmp_path)
    result = CliRunner().invoke(
        main, ["segment", "cs-segmentation-model", str(path), *ARGS, "--out", "out"],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return tmp_path / "out"


def test_movement_matrix_matches_the_hand_count(segmented: Path) -> None:
    book = json.loads((segmented / "report.json").read_text())["current_book"]
    assert book["column"] == "current_tier"
    assert book["matrix"] == [
        {"from": "high_touch_enterprise", "to": "mid_touch", "accounts": 1, "arr": 200000.0},
        {"from": "mid_touch", "to": "high_touch_enterprise", "accounts": 1, "arr": 200000.0},
        {"from": "tech_touch", "to": "tech_touch", "accounts": 1, "arr": 50000.0},
        {"from": "tech_touch", "to": "plg_self_serve", "accounts": 1, "arr": 600.0},
    ]
    assert book["upgrades"] == {"accounts": 1, "arr": 200000.0}  # A1
    assert book["downgrades"] == {"accounts": 2, "arr": 200600.0}  # A2, A6
    assert book["unchanged"] == {"accounts": 1, "arr": 50000.0}  # A3
    assert book["unknown"] == {"accounts": 1, "arr": 500.0}  # A4
    assert book["unmapped"] == [{"label": "Strategic", "accounts": 1, "arr": 50000.0}]  # A5


def test_changes_csv_lists_only_the_accounts_that_change(segmented: Path) -> None:
    text = (segmented / "changes.csv").read_text()
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["account_id", "account_name", "csm", "current_tier", "new_tier",
                       "tierbook_tier", "change", "reason", "arr"]
    got = [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[8]) for r in rows[1:]]
    assert got == [
        ("A1", "'=Name A1", "Ann", "mid_touch", "high_touch_enterprise", "high_touch_enterprise",
         "upgrade", "200000.00"),
        ("A2", "'=Name A2", "Ann", "high_touch_enterprise", "mid_touch", "mid_touch",
         "downgrade", "200000.00"),
        ("A4", "'=Name A4", "", "", "plg_self_serve", "plg_self_serve", "set", "500.00"),
        ("A5", "'=Name A5", "Bo", "Strategic", "mid_touch", "mid_touch", "set", "50000.00"),
        ("A6", "'=Name A6", "", "tech_touch", "plg_self_serve", "plg_self_serve", "downgrade",
         "600.00"),
    ]
    accounts = {r["account_id"]: r for r in csv.DictReader((segmented / "accounts.csv").read_text().splitlines())}
    for r in rows[1:]:  # the reason is the deciding cell, with the account's flags
        assert r[7].split("; flags: ")[0] == f"cell {accounts[r[0]]['cell']}"


def test_accounts_files_carry_csm_and_current_tier_last(segmented: Path) -> None:
    header = (segmented / "accounts.csv").read_text().splitlines()[0].split(",")
    assert header[-2:] == ["csm", "current_tier"]
    rows = [json.loads(line) for line in (segmented / "accounts.jsonl").read_text().splitlines()]
    assert list(rows[0])[-2:] == ["csm", "current_tier"]
    assert [(r["csm"], r["current_tier"]) for r in rows] == [
        (csm or None, label or None) for _, _, label, csm in ACCOUNTS.values()]


def test_csm_books_match_the_hand_count(segmented: Path) -> None:
    books = json.loads((segmented / "report.json").read_text())["csm_books"]
    ann, bo = books["csms"]
    # Ann: A1 high_touch_enterprise (book 8-15, target 12) and A2 mid_touch (40-80, 60)
    load = 1 / 12 + 1 / 60
    assert ann == {"csm": "Ann", "accounts": 2, "arr": 400000.0,
                   "tiers": {"high_touch_enterprise": 1, "mid_touch": 1},
                   "load": round(load, 4), "capacity": round(load / (1 / 15 + 1 / 80), 4),
                   "floor": round(load / (1 / 8 + 1 / 40), 4), "status": "under"}
    # Bo: A3 tech_touch (200-500, 350) and A5 mid_touch
    assert bo["load"] == round(1 / 350 + 1 / 60, 4) and bo["tiers"] == {
        "mid_touch": 1, "tech_touch": 1}
    assert books["unassigned"] == {"accounts": 2, "arr": 1100.0}
    assert books["rebalancing"] == []


def test_no_current_book_keys_without_the_roles(tmp_path: Path) -> None:
    lines = ["account_id,arr," + ",".join(FACTORS), "A1,500," + ",".join(["0.1"] * 5)]
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    ruleset = (ROOT / "tests" / "cases" / "valid" / "base.yaml")
    result = CliRunner().invoke(main, ["segment", str(ruleset), "p.csv", *ARGS, "--out", "o"])
    assert result.exit_code in (0, 1), result.output
    data = json.loads((tmp_path / "o" / "report.json").read_text())
    assert "current_book" not in data and "csm_books" not in data
    assert not (tmp_path / "o" / "changes.csv").exists()


def test_no_current_book_keys_without_the_columns(tmp_path: Path) -> None:
    path = write_portfolio(tmp_path, {"A1": (500, 0.1), "A2": (200000, 0.9)})
    result = CliRunner().invoke(main, ["segment", "cs-segmentation-model", path, *ARGS,
                                       "--out", "o"])
    assert result.exit_code in (0, 1), result.output
    data = json.loads((tmp_path / "o" / "report.json").read_text())
    assert "current_book" not in data and "csm_books" not in data
    assert not (tmp_path / "o" / "changes.csv").exists()
    assert "current book" not in result.output and "### CSM books" not in (
        tmp_path / "o" / "model.md").read_text()


def test_labels_map_to_tiers_and_back() -> None:
    rs = load_ruleset(str(ROOT / "rulesets" / "customer-success.yaml"))
    # two labels for smb: the first declared is the one written back
    assert export_labels(rs) == {"enterprise": "high_touch_enterprise",
                                 "mid_market": "mid_touch", "smb": "tech_touch"}
    moves = book_moves(rs, ["plg_self_serve", "tech_touch", " mid_touch "],
                       ["smb", "enterprise", "smb"], [1.0, 2.0, 4.0])
    assert moves is not None
    assert moves.current.to_list() == ["smb", "smb", "mid_market"]
    assert (moves.unchanged.accounts, moves.upgrades.arr, moves.downgrades.arr) == (1, 2.0, 4.0)


def test_the_sample_book_moves_622_accounts() -> None:
    """The sample's figures: 622 of its 3,000 accounts change tier, 54 from high-touch to
    mid-touch and 314 from tech-touch to self-serve."""
    data = json.loads((ROOT / "tests" / "golden" / "cs-segmentation-model" / "report.json")
                      .read_text())["current_book"]
    cells = {(m["from"], m["to"]): m["accounts"] for m in data["matrix"]}
    assert data["upgrades"]["accounts"] + data["downgrades"]["accounts"] == 622
    # (and the split README.md and docs/book.md quote)
    assert (data["upgrades"]["accounts"], data["downgrades"]["accounts"]) == (170, 452)
    assert cells[("high_touch_enterprise", "mid_touch")] == 54
    assert cells[("tech_touch", "plg_self_serve")] == 314
    changes = (ROOT / "tests" / "golden" / "cs-segmentation-model" / "changes.csv").read_text()
    assert len(changes.splitlines()) == 1 + 622


# -- rebalancing -------------------------------------------------------------------------

NORMS = Norms(target={"a": 2.0, "b": 3.0}, max={"a": 2.0, "b": 4.0}, min={"a": 1.0, "b": 2.0},
              order=("a", "b"))


def _over(books: dict[str, list[Account]]) -> list[str]:
    return [c for c, accs in books.items()
            if sum(NORMS.part(a, NORMS.max) for a in accs) > 1 + 1e-9]


def _fewest_moves(books: dict[str, list[Account]]) -> int | None:
    """The fewest accounts to reassign so that no book is over-loaded, by trying all."""
    csms = sorted(books)
    accounts = [(c, a) for c in csms for a in books[c]]
    best = None
    for owners in itertools.product(csms, repeat=len(accounts)):
        moved = sum(o != c for o, (c, _) in zip(owners, accounts))
        if best is not None and moved >= best:
            continue
        new: dict[str, list[Account]] = {c: [] for c in csms}
        for o, (_, a) in zip(owners, accounts):
            new[o].append(a)
        if not _over(new):
            best = moved
    return best


def _apply(books: dict[str, list[Account]], moves) -> dict[str, list[Account]]:
    new = {c: list(accs) for c, accs in books.items()}
    for m in moves:
        account = next(a for a in new[m.from_csm] if a.account_id == m.account_id)
        new[m.from_csm].remove(account)
        new[m.to_csm].append(account)
    return new


def test_rebalancing_moves_the_heaviest_accounts_to_the_under_loaded() -> None:
    books = {
        "X": [Account("x1", "a", 0, 1.0), Account("x2", "a", 0, 1.0), Account("x3", "a", 0, 1.0)],
        "Y": [Account("y1", "b", 0, 1.0)],  # under-loaded (1 of at least 2)
        "Z": [Account("z1", "a", 0, 1.0)],  # ok, and holds tier a
    }
    moves = rebalance(NORMS, books)
    assert [(m.account_id, m.from_csm, m.to_csm) for m in moves] == [("x1", "X", "Y")]
    assert moves[0].load_moved == 0.5


def test_rebalancing_leaves_a_book_it_cannot_fix() -> None:
    # X is two full books over and Y has room for one account only: moving it fixes nothing
    books = {"X": [Account(f"x{i}", "a", 0, 1.0) for i in range(6)],
             "Y": [Account("y1", "a", 0, 1.0)]}
    assert rebalance(NORMS, books) == []


@pytest.mark.parametrize("seed", range(60))
def test_rebalancing_is_minimal_on_small_books(seed: int) -> None:
    rng = random.Random(seed)
    books: dict[str, list[Account]] = {c: [] for c in "XYZ"}
    for i in range(rng.randint(3, 7)):
        owner = rng.choice("XXYZ")  # (X tends to be over-loaded)
        books[owner].append(Account(f"a{i}", rng.choice("ab"), 0, rng.choice([0.5, 1.0, 1.5])))
    moves = rebalance(NORMS, books)
    assert moves == rebalance(NORMS, books)  # deterministic
    after = _apply(books, moves)
    fewest = _fewest_moves(books)
    if not _over(after):
        assert len(moves) == fewest
    else:  # only a book that cannot be fixed is left over-loaded, and keeps its accounts
        assert all(m.from_csm not in _over(after) for m in moves)


def test_an_override_is_the_reason_where_it_decides(tmp_path: Path) -> None:
    """The hook overrides use: the effective tiers and the override deciding each."""
    import datetime as dt

    from tierbook.book.of_result import book_of
    from tierbook.commands.segment import segment

    rs = load_ruleset(str(ROOT / "rulesets" / "cs-segmentation-model.yaml"))
    result = segment(rs, str(_portfolio(tmp_path)), as_of=dt.date(2026, 10, 1), engine="native")
    tiers = result.evaluation.tiers()
    tiers[2] = "high_touch_enterprise"  # A3 pinned: tech_touch -> high_touch_enterprise
    book = book_of(result, tiers=tiers, overrides={"A3": "OVR-7"})
    row = next(c for c in book.changes if c.account_id == "A3")
    assert (row.current_tier, row.new_tier, row.change, row.reason) == (
        "tech_touch", "high_touch_enterprise", "upgrade", "override OVR-7")
    assert book.moves is not None and book.moves.upgrades.accounts == 2


def _moves_one_by_one(rs, labels_in, new_tiers, arrs):
    """The moves as a person tallies them: each account's ARR added to its tallies in turn."""
    from tierbook.book.current import Tally, label_map
    labels = label_map(rs)
    order = {t: i for i, t in enumerate(rs.tier_ids)}
    cells, unmapped, current = {}, {}, []
    kinds = {k: Tally() for k in ("upgrades", "downgrades", "unchanged", "unknown")}
    for raw, tier, arr in zip(labels_in, new_tiers, arrs, strict=True):
        label = None if raw is None else str(raw).strip()
        now = labels.get(label) if label else None
        current.append(now)
        if not label:
            kinds["unknown"].add(arr)
        elif now is None:
            unmapped.setdefault(label, Tally()).add(arr)
        else:
            cells.setdefault((now, tier), Tally()).add(arr)
            step = order[tier] - order[now]
            kinds["unchanged" if step == 0 else "upgrades" if step < 0 else "downgrades"].add(arr)
    matrix = {k: cells[k] for k in sorted(cells, key=lambda k: (order[k[0]], order[k[1]]))}
    return current, matrix, dict(sorted(unmapped.items())), kinds


@pytest.mark.parametrize("seed", range(6))
def test_the_tallies_are_each_account_added_in_turn(seed) -> None:
    """Counted by columns, each tally is the same floats as adding one account at a time
    (the order of the additions kept), whatever the labels: blank, padded, unmapped."""
    rs = load_ruleset(str(ROOT / "rulesets" / "customer-success.yaml"))
    rng = random.Random(seed)
    choices = [None, "", "  ", "plg_self_serve", " tech_touch", "mid_touch ", "Strategic",
               "zz", "high_touch_enterprise", "\u00a0smb"]
    n = rng.randint(0, 3000)
    labels = [rng.choice(choices) for _ in range(n)]
    tiers = [rng.choice(rs.tier_ids) for _ in range(n)]
    arrs = [rng.choice([0.1, 0.2, 0.3, -0.0, 1e16, 1.0, 1e-9]) * rng.random() * 10 ** rng.randint(0, 9)
            for _ in range(n)]
    moves = book_moves(rs, labels, tiers, arrs)
    current, matrix, unmapped, kinds = _moves_one_by_one(rs, labels, tiers, arrs)
    assert moves.current.to_list() == current
    assert moves.matrix == matrix and list(moves.matrix) == list(matrix)
    assert moves.unmapped == unmapped and list(moves.unmapped) == list(unmapped)
    assert (moves.upgrades, moves.downgrades, moves.unchanged, moves.unknown) == (
        kinds["upgrades"], kinds["downgrades"], kinds["unchanged"], kinds["unknown"])
