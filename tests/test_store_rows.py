"""A run's account rows go into the store a batch at a time, one statement per table over
the batch (SQLite's json_each; the ids as one UTF-8 text cut by byte lengths), while the
segment's files are made on the command's own thread: every id comes back exactly as read
(NUL, quotes, backslashes, emoji, line separators), across batch boundaries, each account
points at its own values, and a failure while the files are made leaves the run failed
(never running) and the previous files in place."""

from __future__ import annotations

import csv
import functools
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from tierbook.cli.main import main
from tierbook.trace import values as stored_values
from tierbook.trace.explain import Explainer
from tierbook.trace.store import TraceStore

from .conftest import SAMPLE

ODD_IDS = ["ACC\x00NUL", 'say "hi"', "back\\slash", "😀 émoji", "line\u2028sep", "tab\there",
           "comma, inside", "\x7f", "ACC-00001\x00", "ACC-00001"]


def portfolio(tmp_path: Path, ids: list[str]) -> Path:
    """The sample's first accounts under ``ids`` (every other cell as it was)."""
    with open(SAMPLE, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    at = rows[0].index("account_id")
    body = rows[1 : len(ids) + 1]
    for row, new in zip(body, ids, strict=True):
        row[at] = new
    path = tmp_path / "odd.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([rows[0], *body])
    return path


def segment(*args: str):
    return CliRunner().invoke(main, ["segment", *args, "--as-of", "2026-10-01", "--no-chart"])


@pytest.mark.parametrize("batch", [3, 20000])
def test_every_id_comes_back_as_read_and_points_at_its_own_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr("tierbook.trace.store.write_values",
                        functools.partial(stored_values.write_values, batch=batch))
    store = tmp_path / "traces.sqlite"
    result = segment(str(portfolio(tmp_path, ODD_IDS)), "--store", str(store))
    assert result.exit_code in (0, 1), result.output  # (1: a gate a tiny book fails)
    with closing(sqlite3.connect(store)) as db:
        stored = db.execute(
            "SELECT account_id, inputs, path_id FROM accounts ORDER BY rowid").fetchall()
        paths = dict(db.execute("SELECT path_id, tier FROM paths").fetchall())
    assert sorted(a for a, _, _ in stored) == sorted(ODD_IDS)
    for account, inputs, _ in stored:
        assert json.loads(inputs)["account_id"] == account  # (its own values, not a neighbour's)
    tiers = {a: paths[p] for a, _, p in stored}
    with closing(TraceStore(store, create=False)) as read:
        got = Explainer(read, 1).explain_many(ODD_IDS)
    assert {a: x["tier"] for a, x in got.items()} == tiers


def test_the_rows_are_the_same_in_one_batch_or_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample (3,000 accounts) in batches of 7 stores what one batch stores."""
    dumps = []
    for batch in (7, 20000):
        monkeypatch.setattr("tierbook.trace.store.write_values",
                            functools.partial(stored_values.write_values, batch=batch))
        store = tmp_path / f"b{batch}.sqlite"
        assert segment(str(SAMPLE), "--store", str(store)).exit_code == 0
        with closing(sqlite3.connect(store)) as db:
            dumps.append((db.execute("SELECT * FROM run_accounts ORDER BY account_id").fetchall(),
                          db.execute("SELECT * FROM account_values ORDER BY value_id").fetchall()))
    assert dumps[0] == dumps[1]
    assert len(dumps[0][0]) == 3000


def test_a_file_that_fails_while_the_rows_go_in_leaves_the_run_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """changes.csv cannot be written (a full disk) while the run's rows are still going in
    on their thread: exit non-zero, --out as it was, and the run failed once its rows'
    thread is done (not left running, not complete)."""
    store = tmp_path / "traces.sqlite"
    assert segment(str(SAMPLE), "--out", "out", "--store", str(store)).exit_code == 0
    before = {p.name: p.read_bytes() for p in sorted((tmp_path / "out").iterdir())}

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tierbook.commands.segment.book_report.write_changes_csv", full)
    result = segment(str(SAMPLE), "--out", "out", "--store", str(store))
    assert result.exit_code != 0
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "out").iterdir())} == before
    with closing(sqlite3.connect(store)) as db:
        assert db.execute("SELECT run_id, status FROM runs").fetchall() == [
            (1, "complete"), (2, "failed")]
        # (the failed run's rows went in whole: its thread was waited for)
        assert db.execute("SELECT count(*) FROM run_accounts WHERE run_id = 2").fetchone() == (
            3000,)
