"""`tierbook runs` and `runs prune`; `explain` and `history` answer from the latest complete
run of their own kind (or --run) and say which; explain takes an account id only as stored
(naming one that differs only in case), history matches such an id when unique."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import write_portfolio
from .test_plan import ACCOUNTS as PLAN_ACCOUNTS
from .test_plan import base_data, head_data, write
from .test_replay import events, ruleset

ARGS = ["--as-of", "2026-10-01"]
ACCOUNTS = {**PLAN_ACCOUNTS, "a9": (5000, 0.2)}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def fail(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Run 1 a segment, runs 2-3 a plan of a proposal, runs 4-5 a two-quarter replay."""
    portfolio = write_portfolio(tmp_path, ACCOUNTS)
    base = write(tmp_path / "base.yaml", base_data())
    assert run("segment", base, portfolio, *ARGS, "--no-chart").exit_code == 0
    head = write(tmp_path / "head.yaml", head_data())
    assert run("plan", "--base", base, "--head", head, portfolio, *ARGS).exit_code == 0
    ev = events(tmp_path, ["2026Q4,A2,renewal,arr,150000", "2027Q1,A1,churn,,"])
    replay = run("replay", ruleset(tmp_path), portfolio, ev, *ARGS, "--no-chart")
    assert replay.exit_code == 0, replay.output
    return tmp_path / "traces.sqlite"


def test_runs_lists_every_run(store: Path, tmp_path: Path) -> None:
    listed = json.loads(run("runs", "--format", "json").stdout)["runs"]
    assert [(r["run_id"], r["command"], r["label"], r["status"]) for r in listed] == [
        (1, "segment", "", "complete"),
        (2, "plan", f"base: {tmp_path / 'base.yaml'}", "complete"),
        (3, "plan", f"head: {tmp_path / 'head.yaml'}", "complete"),
        (4, "replay", "2026Q4", "complete"),
        (5, "replay", "2027Q1", "complete")]
    first = listed[0]
    assert first["ruleset_name"] == "cs-segmentation-model" and first["ruleset_version"] == "1.0.2"
    assert len(first["ruleset_sha256"]) == 64 and len(first["input_sha256"]) == 64
    assert first["input_file"] == str(tmp_path / "p.csv") and first["as_of"] == "2026-10-01"
    assert first["account_count"] == 9 and first["started_at"] == "2026-10-01T00:00:00+00:00"
    assert [r["replay_id"] for r in listed] == [None, None, None, 4, 4]
    text = run("runs").stdout.splitlines()
    assert text[0].split() == ["run", "command", "ruleset", "input", "as", "of", "accounts",
                               "status", "finished"]
    assert text[1].split()[:6] == ["1", "segment", "cs-segmentation-model", "1.0.2",
                                   f"({first['ruleset_sha256'][:12]})", str(tmp_path / "p.csv")]
    assert text[4].split()[:3] == ["4", "replay", "(2026Q4)"]


def test_explain_answers_from_the_latest_segment_run_not_a_plan(store: Path, tmp_path: Path) -> None:
    x = json.loads(run("explain", "A1", "--format", "json").stdout)
    assert x["run"]["run_id"] == 1 and x["run"]["command"] == "segment"
    assert x["tier"] == "high_touch_enterprise"  # the plan's head (run 3) puts it in mid_touch
    text = run("explain", "A1").stdout.splitlines()
    assert "run 1 (segment, as of 2026-10-01)" in text[1]
    assert text[2] == f"  input {tmp_path / 'p.csv'}"
    head = json.loads(run("explain", "A1", "--run", "3", "--format", "json").stdout)
    assert head["run"]["run_id"] == 3 and head["tier"] == "mid_touch"


def test_explain_without_a_segment_run_says_so(tmp_path: Path) -> None:
    portfolio = write_portfolio(tmp_path, ACCOUNTS)
    base = write(tmp_path / "base.yaml", base_data())
    head = write(tmp_path / "head.yaml", head_data())
    assert run("plan", "--base", base, "--head", head, portfolio, *ARGS).exit_code == 0
    result = fail("explain", "A1")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"{tmp_path / 'traces.sqlite'}: no complete segment run (complete runs: 2 (plan), "
        "1 (plan)): run `tierbook segment`, or name a run with --run N (`tierbook runs` "
        "lists them)")


def test_explain_refuses_an_id_in_another_case_and_history_matches_it(
    store: Path, tmp_path: Path
) -> None:
    """explain answers for the id as stored only (acc-1 and ACC-1 may be two accounts);
    history still matches an id that differs from one stored only in case."""
    for asked, stored in (("a1", "A1"), ("A9", "a9")):
        result = fail("explain", asked, "--format", "json")
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr.strip() == (
            f"no account '{asked}' in run 1; did you mean '{stored}'? (run 1: segment of "
            f"{tmp_path / 'p.csv'}, as of 2026-10-01; `tierbook runs` lists the runs, --run N "
            "picks one)"
        )
    assert json.loads(run("explain", "a9", "--format", "json").stdout)["account_id"] == "a9"
    h = json.loads(run("history", "a2", "--format", "json").stdout)
    assert h["account_id"] == "A2" and [q["quarter"] for q in h["quarters"]] == ["2026Q4", "2027Q1"]


def test_an_id_two_accounts_share_but_for_case_is_not_guessed(tmp_path: Path) -> None:
    portfolio = write_portfolio(tmp_path, {"Ab": (5000, 0.2), "aB": (6000, 0.2)})
    # (two accounts leave tiers empty: the gates fail, and the run is stored all the same)
    assert "trace: run 1 in" in fail("segment", portfolio, *ARGS, "--no-chart").stderr
    result = fail("explain", "ab")
    assert result.exit_code == 1
    assert result.stderr.startswith("no account 'ab' in run 1; did you mean 'Ab' or 'aB'? (")
    # the error names the run it looked in, and its input file
    assert result.stderr.strip().endswith(
        f"(run 1: segment of {portfolio}, as of 2026-10-01; `tierbook runs` lists the runs, "
        "--run N picks one)")
    assert json.loads(run("explain", "aB", "--format", "json").stdout)["inputs"]["arr"] == 6000


def test_an_exact_id_wins_over_one_that_differs_only_in_case(tmp_path: Path) -> None:
    portfolio = write_portfolio(tmp_path, {"AB": (5000, 0.2), "ab": (6000, 0.2)})
    fail("segment", portfolio, *ARGS, "--no-chart")  # (gates may fail; the run is stored)
    for asked, arr in (("ab", 6000), ("AB", 5000)):
        x = json.loads(run("explain", asked, "--format", "json").stdout)
        assert (x["account_id"], x["inputs"]["arr"]) == (asked, arr)


def test_history_answers_from_the_latest_replay_and_names_it(store: Path, tmp_path: Path) -> None:
    text = run("history", "A2").stdout.splitlines()
    assert text[0].startswith("A2 · replay 4 (runs 4-5) · ruleset cs-segmentation-model 1.0.2 (")
    assert text[0].endswith(f" · input {tmp_path / 'e.csv'}")
    by_quarter = json.loads(run("history", "A2", "--run", "5", "--format", "json").stdout)
    assert by_quarter["replay"]["replay_id"] == 4 and by_quarter["replay"]["runs"] == [4, 5]
    result = fail("history", "A2", "--run", "2")
    assert result.exit_code == 1 and "run 2 in" in result.stderr
    assert "is not a quarter of a replay" in result.stderr


@contextlib.contextmanager
def _db(store: Path) -> Iterator[sqlite3.Connection]:
    """A connection committed and closed at the end (sqlite3's own context manager commits
    but leaves it open: Python 3.13 warns of it)."""
    db = sqlite3.connect(store)
    try:
        with db:
            yield db
    finally:
        db.close()


def _count(store: Path, table: str) -> int:
    with _db(store) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_prune_keeps_the_newest_runs_and_the_rows_they_use(store: Path) -> None:
    before = {t: _count(store, t) for t in ("account_values", "rulesets", "paths")}
    size = store.stat().st_size
    result = json.loads(run("runs", "prune", "--keep", "1", "--format", "json").stdout)
    # the newest run is a replay's quarter: the replay stays whole
    assert result["removed_runs"] == [1, 2, 3]
    assert result["bytes_before"] == size and result["bytes_after"] == store.stat().st_size
    assert result["bytes_after"] <= size
    with _db(store) as db:
        assert db.execute("SELECT DISTINCT run_id FROM run_accounts ORDER BY 1").fetchall() == [
            (4,), (5,)]
        assert db.execute("SELECT DISTINCT run_id FROM paths ORDER BY 1").fetchall() == [(4,), (5,)]
        orphans = db.execute("SELECT count(*) FROM account_values WHERE value_id NOT IN "
                             "(SELECT value_id FROM run_accounts)").fetchone()[0]
        missing = db.execute("SELECT count(*) FROM run_accounts WHERE value_id NOT IN "
                             "(SELECT value_id FROM account_values)").fetchone()[0]
        assert orphans == 0 and missing == 0
        assert db.execute("SELECT count(*) FROM firings WHERE run_id < 4").fetchone()[0] == 0
    assert result["removed_values"] == before["account_values"] - _count(store, "account_values")
    assert result["removed_values"] > 0
    assert result["removed_rulesets"] == before["rulesets"] - _count(store, "rulesets") == 2
    assert run("history", "A2").exit_code == 0  # what is kept still reads
    assert json.loads(run("explain", "A1", "--run", "4", "--format", "json").stdout)["tier"]
    assert "no complete segment run" in fail("explain", "A1").stderr
    assert run("runs", "prune", "--keep", "1").stdout.strip() == "nothing to prune"


def test_prune_by_age_and_an_incomplete_run(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _db(store) as db:
        db.execute("UPDATE runs SET started_at='2026-09-01T00:00:00+00:00' WHERE run_id <= 2")
        db.execute("UPDATE runs SET status='running' WHERE run_id = 2")
    # --keep never removes an incomplete run: its writer may still be at it
    kept = json.loads(run("runs", "prune", "--keep", "3", "--format", "json").stdout)
    assert kept["removed_runs"] == [1]
    assert [r["status"] for r in json.loads(run("runs", "--format", "json").stdout)["runs"]][0] \
        == "incomplete"
    # (the clock is TIERBOOK_FIXED_TIME, 2026-10-01): run 2 started 30 days before
    assert json.loads(run("runs", "prune", "--older-than", "31", "--format", "json")
                      .stdout)["removed_runs"] == []
    assert json.loads(run("runs", "prune", "--older-than", "29.5", "--format", "json")
                      .stdout)["removed_runs"] == [2]
    monkeypatch.setenv("TIERBOOK_FIXED_TIME", "2027-10-01T00:00:00+00:00")
    both = json.loads(run("runs", "prune", "--older-than", "30", "--keep", "2", "--format",
                          "json").stdout)
    assert both["removed_runs"] == [3]  # the replay (4-5) is among the two newest


def test_prune_takes_the_store_named_before_it(store: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    store.rename(other)  # $TIERBOOK_STORE now names no store
    result = json.loads(run("runs", "--store", str(other), "--format", "json", "prune",
                            "--keep", "1").stdout)
    assert result["removed_runs"] == [1, 2, 3]
    assert not store.exists()


def test_prune_needs_a_rule(store: Path) -> None:
    result = fail("runs", "prune")
    assert result.exit_code == 2 and "--keep N and/or --older-than DAYS" in result.stderr
    assert fail("runs", "prune", "--keep", "-1").exit_code == 2


def test_prune_while_another_process_reads(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader holding the store: the prune is refused whole (nothing half removed)."""
    import tierbook.trace.store as store_module

    monkeypatch.setattr(store_module, "BUSY_SECONDS", 0.2)
    reader = sqlite3.connect(store)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM runs").fetchone()
        result = fail("runs", "prune", "--keep", "1")
        assert result.exit_code == 1
        assert result.stderr.startswith(f"{store}: ") and "try again" in result.stderr
        # opened before the reader came: the removal is rolled back as a whole
        from tierbook.errors import StoreError
        from tierbook.trace.runs import prune
        from tierbook.trace.store import TraceStore

        reader.rollback()
        db = TraceStore(store, create=False)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM runs").fetchone()
        with pytest.raises(StoreError, match=r": cannot prune now \(database is locked\); try"):
            prune(db, keep=1)
        db.close()
    finally:
        reader.close()
    assert len(json.loads(run("runs", "--format", "json").stdout)["runs"]) == 5


class _NoVacuum:
    """A connection whose VACUUM fails, as when another process opens the file meanwhile."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql == "VACUUM":
            raise sqlite3.OperationalError("database is locked")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


def test_a_prune_not_compacted_at_once_is_compacted_by_the_next(store: Path) -> None:
    from tierbook.trace.runs import prune
    from tierbook.trace.store import TraceStore

    db = TraceStore(store, create=False)
    db.db = _NoVacuum(db.db)  # type: ignore[assignment]
    try:
        done = prune(db, keep=2)
    finally:
        db.close()
    assert done.runs == [1, 2, 3] and done.bytes_after == done.bytes_before
    assert done.note.startswith("not compacted now (database is locked)")
    assert done.text().endswith("; " + done.note)
    again = json.loads(run("runs", "prune", "--keep", "2", "--format", "json").stdout)
    assert again["removed_runs"] == [] and again["bytes_after"] < again["bytes_before"]


RUN_TABLES = ("runs", "run_accounts", "paths", "firings", "run_defaults", "run_overrides",
              "run_inputs", "movements", "movement_details")


def test_pruning_every_run_leaves_no_row_of_them_and_the_store_takes_new_ones(
    store: Path, tmp_path: Path
) -> None:
    """The newest runs gone, their ids are given again: a replay written next must not meet
    the pruned replay's rows (its movement details stayed behind once, and every later
    replay into the store failed on them)."""
    with _db(store) as db:
        assert db.execute("SELECT count(*) FROM movement_details").fetchone()[0] > 0
        # a row an earlier prune left behind, of a replay whose runs are gone
        db.execute("INSERT INTO movement_details VALUES (99, '2026Q4', 'A1', 1.0, '[]')")
    result = json.loads(run("runs", "prune", "--keep", "0", "--format", "json").stdout)
    assert result["removed_runs"] == [1, 2, 3, 4, 5]
    with _db(store) as db:
        for table in RUN_TABLES:
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    portfolio = tmp_path / "p.csv"
    ev = events(tmp_path, ["2026Q4,A3,renewal,arr,150000", "2027Q1,A2,churn,,"])
    again = run("replay", ruleset(tmp_path), str(portfolio), ev, *ARGS, "--no-chart")
    assert again.exit_code == 0, again.output
    history = run("history", "A2")
    assert history.exit_code == 0 and "churn" in history.stdout


def test_keep_counts_complete_runs_so_killed_ones_never_crowd_out_the_last_good_one(
    store: Path,
) -> None:
    """Six runs killed on the way after the replay (left incomplete): --keep 1 keeps the
    replay, the newest complete run, as well as the incomplete ones (their writers may be at
    it), where it once kept only those and left history nothing to answer from."""
    with _db(store) as db:
        db.execute("CREATE TEMP TABLE killed AS SELECT * FROM runs WHERE run_id = 1")
        for run_id in range(6, 12):
            db.execute("UPDATE killed SET run_id = ?, status = 'running', finished_at = NULL",
                       (run_id,))
            db.execute("INSERT INTO runs SELECT * FROM killed")
    result = json.loads(run("runs", "prune", "--keep", "1", "--format", "json").stdout)
    assert result["removed_runs"] == [1, 2, 3]
    assert run("history", "A2").exit_code == 0
