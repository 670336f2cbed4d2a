"""`replay --scheduler`: the same report files, stdout, JSON, exit code and store rows per
quarter as one machine's replay of the same input, on a LocalCluster of 2 worker processes
(the book in 2 parts); with overrides, from an empty book, with bad events; a lost worker's
part computed again; a replay that cannot finish leaves no --out and no complete run."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from .conftest import ROOT, RULESETS, SAMPLE
from .store_rows import account_rows

distributed = pytest.importorskip("distributed")

from tierbook.cli.main import main  # noqa: E402

from .test_distributed import _DieOnce, _parts  # noqa: E402

AS_OF = "2026-10-01"
EVENTS = ROOT / "examples" / "events.csv"

pytestmark = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning"
)


@pytest.fixture(autouse=True, scope="module")
def _collected_here() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def _replay(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["replay", *args, "--as-of", AS_OF, "--engine", "native"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def _store(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table of the store (the runs' times aside), each run's accounts from its rows
    or from its Parquet parts (a distributed replay's), as the same (run, id, path, scores,
    inputs) rows."""
    if not path.exists():
        return {}
    per_account = ("run_accounts", "account_values")
    with closing(sqlite3.connect(path)) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = {
            t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
            for t in tables
            if t not in per_account
        }
        columns = [c[1] for c in db.execute("PRAGMA table_info(runs)")]
        accounts = account_rows(db, path)
    out["accounts"] = accounts
    out["meta"] = [row for row in out.get("meta", []) if not str(row[0]).startswith("account_")]
    keep = [i for i, c in enumerate(columns) if c not in ("started_at", "finished_at")]
    out["runs"] = [tuple(row[i] for i in keep) for row in out["runs"]]
    return out


def _parted(path: Path) -> bool:
    """Whether every run of the store keeps its accounts in Parquet parts."""
    from tierbook.trace.parts import parts_of

    with closing(sqlite3.connect(path)) as db:
        runs = [r for (r,) in db.execute("SELECT run_id FROM runs").fetchall()]
        return bool(runs) and all(parts_of(db, path, r) is not None for r in runs)


def _both(
    tmp_path: Path,
    scheduler: str,
    *args: str,
    whole: bool = False,
    many: tuple[str, ...] | None = None,
) -> None:
    """One machine's replay and the cluster's, of the same input: stdout, stderr, the exit
    code, every file of --out and every table of the store compared (``whole``: the PNG
    charts and ``--format json`` too; ``many``: the cluster's arguments, if others: a
    folder of the parts a file was cut into)."""
    runs = []
    for name, more in (("one", []), ("many", ["--scheduler", scheduler])):
        given = [*(many if name == "many" and many else args)]
        given += ["--out", str(tmp_path / name), "--store", str(tmp_path / f"{name}.db")]
        code, out, err = _replay(*given, *more, *([] if whole else ["--no-chart"]))
        err = err.replace(str(tmp_path / name), "OUT")
        as_json: tuple[object, ...] = ()
        if whole:
            json_code, json_out, json_err = _replay(*given, *more, "--format", "json", "--no-chart")
            as_json = (json_code, json_out, json_err.replace(str(tmp_path / name), "OUT"))
        runs.append((code, out, err, as_json, _files(tmp_path / name)))
        runs[-1] += (_store(tmp_path / f"{name}.db"),)
    one, many = runs
    assert many[:4] == one[:4]
    assert many[4] == one[4]  # every file of --out
    assert many[5] == one[5]
    if many[5].get("runs"):
        assert _parted(tmp_path / "many.db")  # (its quarters' accounts: Parquet parts)


@pytest.mark.parametrize("ruleset", RULESETS, ids=lambda p: p.stem)
def test_the_sample_replayed_on_the_cluster_is_byte_identical(
    tmp_path: Path, scheduler: str, ruleset: Path
) -> None:
    _both(tmp_path, scheduler, str(ruleset), str(SAMPLE), str(EVENTS), whole=ruleset == RULESETS[0])


def test_with_overrides_too(tmp_path: Path, scheduler: str) -> None:
    overrides = str(ROOT / "examples" / "overrides.yaml")
    _both(tmp_path, scheduler, str(RULESETS[0]), str(SAMPLE), str(EVENTS), "--overrides", overrides)


def _events(tmp_path: Path, rows: list[str]) -> str:
    path = tmp_path / "e.csv"
    path.write_text("quarter,account_id,type,field,value\n" + "\n".join(rows) + "\n")
    return str(path)


def test_from_an_empty_book(tmp_path: Path, scheduler: str) -> None:
    book = tmp_path / "empty.csv"
    book.write_text(SAMPLE.read_text().splitlines()[0] + "\n")
    rows = [line for line in EVENTS.read_text().splitlines()[1:] if ",new_account," in line]
    assert rows
    ids = {r.split(",")[1] for r in rows}
    rows += [
        line for line in EVENTS.read_text().splitlines()[1:]
        if line.split(",")[1] in ids and ",new_account," not in line
    ]
    _both(tmp_path, scheduler, str(RULESETS[0]), str(book), _events(tmp_path, rows))


BAD = [
    "2026Q4,ACC-00001,renewal,arr,120000",
    "2026Q4,ACC-02999,signal,nps,lots",
    "2026Q4,NEW-1,new_account,arr,500",
    "2026Q4,ACC-00002,new_account,arr,500",
    "2027Q1,ACC-00002,churn,,",
    "2027Q2,ACC-00002,renewal,arr,100",
    "2027Q2,NOPE,renewal,arr,100",
    "2027Q2,ACC-02999,churn,,",
    "2027Q3,ACC-02999,reactivation,arr,900",
    "2026Q2,ACC-00003,renewal,arr,100",
]


@pytest.mark.parametrize("on_error", ["fail", "skip"])
def test_bad_events_are_said_as_one_machine_says_them(
    tmp_path: Path, scheduler: str, on_error: str
) -> None:
    """Problems of accounts in both parts, a new account's, one before the start: the same
    messages in the same order (fail), the same events skipped (skip)."""
    _both(
        tmp_path,
        scheduler,
        str(RULESETS[0]),
        str(SAMPLE),
        _events(tmp_path, BAD),
        "--on-error",
        on_error,
    )


@pytest.fixture(params=[2])
def fragile(request: pytest.FixtureRequest) -> Iterator[tuple[str, distributed.Client]]:
    """A cluster of 2 workers on which a task may be running when ``param`` + 1 workers
    die before it is given up."""
    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": request.param}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield cluster.scheduler_address, client


class _DieInQuarter(_DieOnce):
    """Kills its worker's process as it starts the sixth call of its part (the second
    quarter's events: the first quarter is stored, not yet complete)."""

    calls = 0

    def transition(self, key: object, start: str, finish: str, **kwargs: object) -> None:
        import os

        if finish != "executing" or "_call" not in str(key):
            return
        self.calls += 1
        if self.calls >= 6 and (self.always or not os.path.exists(self.marker)):
            Path(self.marker).touch()
            os._exit(1)


def test_a_worker_lost_mid_replay_is_computed_again(
    tmp_path: Path, fragile: tuple[str, distributed.Client]
) -> None:
    address, client = fragile
    marker = tmp_path / "killed"
    client.register_plugin(_DieInQuarter(str(marker)))
    args = [str(RULESETS[0]), str(SAMPLE), str(EVENTS), "--no-chart"]
    one = _replay(*args, "--out", str(tmp_path / "one"), "--store", str(tmp_path / "one.db"))
    many = _replay(
        *args, "--out", str(tmp_path / "many"), "--store", str(tmp_path / "m.db"),
        "--scheduler", address,
    )
    assert marker.exists()  # a worker did die
    assert many[:2] == one[:2]
    assert _files(tmp_path / "many") == _files(tmp_path / "one")
    assert _store(tmp_path / "m.db") == _store(tmp_path / "one.db")


@pytest.mark.parametrize("fragile", [0], indirect=True)
def test_a_replay_that_cannot_finish_leaves_no_out_and_no_complete_run(
    tmp_path: Path, fragile: tuple[str, distributed.Client]
) -> None:
    address, client = fragile
    args = [str(RULESETS[0]), str(SAMPLE), str(EVENTS), "--no-chart", "--store", "s.db"]
    _replay(*args, "--out", "out")
    before = _files(tmp_path / "out")
    client.register_plugin(_DieInQuarter(str(tmp_path / "killed"), always=True))
    code, _, err = _replay(*args, "--out", "out", "--scheduler", address)
    assert code == 3
    assert "the distributed run could not finish" in err
    assert _files(tmp_path / "out") == before
    with closing(sqlite3.connect(tmp_path / "s.db")) as db:
        statuses = db.execute("SELECT status, count(*) FROM runs GROUP BY 1 ORDER BY 1").fetchall()
    assert dict(statuses).get("complete") == 8  # the first replay's quarters only
    assert set(dict(statuses)) <= {"complete", "failed"}


def test_without_dask_the_option_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    code, _, err = _replay(
        str(RULESETS[0]), str(SAMPLE), str(EVENTS), "--scheduler", "local",
        "--out", str(tmp_path / "o"), "--store", str(tmp_path / "s.db"),
    )
    assert code == 2
    assert "pip install 'tierbook[dask]'" in err
    assert not (tmp_path / "o").exists()


def test_tables_to_roll_up_are_refused_before_a_cluster_starts(tmp_path: Path) -> None:
    code, out, err = _replay(
        str(SAMPLE), "--inputs", str(ROOT / "examples" / "crm-inputs.yaml"),
        "--out", str(tmp_path / "o"), "--store", str(tmp_path / "s.db"), "--scheduler", "local",
    )
    assert code == 2
    assert "--scheduler does not roll up tables yet" in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "s.db").exists()


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _some_accounts(store: Path) -> list[str]:
    """An account of each outcome a replay stores, and some with flags."""
    with closing(sqlite3.connect(store)) as db:
        ids = [
            a
            for (a,) in db.execute(
                "SELECT min(account_id) FROM movements GROUP BY outcome ORDER BY outcome"
            )
        ]
        ids += [
            a
            for (a,) in db.execute(
                "SELECT DISTINCT a.account_id FROM run_accounts a JOIN paths p ON "
                "p.run_id = a.run_id AND p.path_id = a.path_id WHERE p.flags != '[]' "
                "ORDER BY 1 LIMIT 3"
            )
        ]
    return ids


def test_history_explain_and_runs_read_the_replays_parts(tmp_path: Path, scheduler: str) -> None:
    """Each quarter's accounts of a distributed replay are Parquet parts: `history`, `explain
    --run` and `runs` say what they say after one machine's replay; `runs prune` removes
    the parts."""
    args = [str(RULESETS[0]), str(SAMPLE), str(EVENTS), "--no-chart"]
    for name, more in (("one", []), ("many", ["--scheduler", scheduler])):
        code, _, _ = _replay(*args, "--out", str(tmp_path / name), "--store", f"{name}.db", *more)
        assert code == 0
    assert _parted(Path("many.db"))
    accounts = _some_accounts(Path("one.db"))
    assert len(accounts) >= 6
    with closing(sqlite3.connect("one.db")) as db:
        last = db.execute("SELECT max(run_id) FROM runs").fetchone()[0]
    for account in [*accounts, accounts[0].lower(), "no-such-account"]:
        for extra in ([], ["--format", "json"]):
            one = _cli("history", account, "--store", "one.db", *extra)
            many = _cli("history", account, "--store", "many.db", *extra)
            assert many[:2] == one[:2], account
            assert many[2].replace("many.db", "one.db") == one[2], account
            for run in ("1", str(last)):
                one = _cli("explain", account, "--run", run, "--store", "one.db", *extra)
                many = _cli("explain", account, "--run", run, "--store", "many.db", *extra)
                assert many[:2] == one[:2], (account, run)
                assert many[2].replace("many.db", "one.db") == one[2], (account, run)
    listed = [_cli("runs", "--store", f"{name}.db") for name in ("one", "many")]
    assert listed[1][0] == listed[0][0] == 0
    assert _without_times(listed[1][1]) == _without_times(listed[0][1])
    assert (tmp_path / "many.db.parts" / f"run-{last}").is_dir()
    assert _cli("runs", "prune", "--keep", "0", "--store", "many.db")[0] == 0
    assert not list((tmp_path / "many.db.parts").glob("run-*"))


def _without_times(text: str) -> list[str]:
    import re

    return [re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?\S*", "T", line) for line in text.splitlines()]


@pytest.mark.parametrize("form", ["folder", "glob"])
def test_a_folder_of_parts_replays_as_the_file_they_were_cut_from(
    tmp_path: Path, scheduler: str, form: str
) -> None:
    """Each worker reads its parts (4 files, cut unevenly, so the book's 2 parts take
    ranges of several); the decisions, files, stdout, JSON and store are one machine's."""
    folder = _parts(tmp_path, SAMPLE, [700, 900, 400])
    given = str(folder) if form == "folder" else str(folder / "part-*.csv")
    args = (str(RULESETS[0]), str(SAMPLE), str(EVENTS))
    _both(tmp_path, scheduler, *args, whole=form == "folder", many=(args[0], given, args[2]))


def test_parts_with_a_header_only_are_an_empty_book(tmp_path: Path, scheduler: str) -> None:
    book = tmp_path / "empty.csv"
    book.write_text(SAMPLE.read_text().splitlines()[0] + "\n")
    folder = tmp_path / "none"
    folder.mkdir()
    for name in ("a.csv", "b.csv"):
        (folder / name).write_text(book.read_text())
    rows = [line for line in EVENTS.read_text().splitlines()[1:] if ",new_account," in line]
    events = _events(tmp_path, rows)
    args = (str(RULESETS[0]), str(book), events)
    _both(tmp_path, scheduler, *args, many=(args[0], str(folder), events))


def _repeated(tmp_path: Path) -> tuple[Path, Path, str]:
    """The sample in 3 parts, the third repeating (on its last line) an account of the
    first; and the file of the parts one after the other."""
    folder = _parts(tmp_path, SAMPLE, [1000, 1000])
    first = (folder / "part-00.csv").read_text(encoding="utf-8").splitlines()[5]
    with (folder / "part-02.csv").open("a", encoding="utf-8") as f:
        f.write(first + "\n")
    whole = tmp_path / "whole.csv"
    lines = [SAMPLE.read_text(encoding="utf-8").splitlines()[0]]
    for part in sorted(folder.iterdir()):
        lines += part.read_text(encoding="utf-8").splitlines()[1:]
    whole.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, whole, first.split(",")[0]


def test_an_id_repeated_in_a_later_part_is_set_aside_with_skip(
    tmp_path: Path, scheduler: str
) -> None:
    """--on-error skip: the repeat is a reject (a replay sets its rejects aside), as one
    machine's replay of the file the parts make does; --on-error fail: the error names
    the part and line of the repeat and of the first."""
    folder, whole, account = _repeated(tmp_path)
    ruleset, events = str(RULESETS[0]), str(EVENTS)
    skip = ("--on-error", "skip")
    _both(tmp_path, scheduler, ruleset, str(whole), events, *skip, many=(
        ruleset, str(folder), events, *skip
    ))
    code, _, err = _replay(ruleset, str(folder), events, "--scheduler", scheduler)
    assert code == 1
    lines = len((folder / "part-02.csv").read_text(encoding="utf-8").splitlines())
    assert (
        f"{folder / 'part-02.csv'}:{lines}:1: account_id: duplicate account id '{account}' "
        f"(first on line 6 of {folder / 'part-00.csv'})" in err
    )


def test_bad_cells_of_parts_name_the_part_file_and_its_line(
    tmp_path: Path, scheduler: str
) -> None:
    folder = _parts(tmp_path, SAMPLE, [1000, 1000])
    part = folder / "part-01.csv"
    lines = part.read_text(encoding="utf-8").splitlines()
    cells = lines[40].split(",")
    cells[2] = "lots"
    lines[40] = ",".join(cells)
    part.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = _replay(str(RULESETS[0]), str(folder), str(EVENTS), "--scheduler", scheduler)
    assert code == 1
    assert f"{part}:41:" in err


def test_a_folder_without_the_option_is_what_segment_says(tmp_path: Path) -> None:
    folder = _parts(tmp_path, SAMPLE, [1000])
    code, out, err = _replay(str(RULESETS[0]), str(folder), str(EVENTS))
    said = CliRunner().invoke(main, ["segment", str(RULESETS[0]), str(folder), "--as-of", AS_OF])
    assert (code, out, err) == (said.exit_code, said.stdout, said.stderr)
    assert code == 1 and "is a folder" in err
