"""`segment --scheduler`: the same decisions, reports, JSON and store rows as one machine's
run of the same accounts, on a LocalCluster of 2 worker processes and several partitions;
errors located in the right part file and line; a lost worker retried; a run that cannot
finish leaves no --out and no run marked complete."""

from __future__ import annotations

import gc
import os
import sqlite3
from contextlib import closing
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from .conftest import RULESETS, SAMPLE
from .store_rows import account_rows

distributed = pytest.importorskip("distributed")

from tierbook.cli.main import main  # noqa: E402

AS_OF = "2026-10-01"

# (Dask's comms let go of their sockets when collected, not when closed)
pytestmark = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning"
)


@pytest.fixture(autouse=True, scope="module")
def _collected_here() -> Iterator[None]:
    """What Dask let go of is collected before the module ends, under its filter, not in
    whichever later test the collector happens to run."""
    yield
    gc.collect()


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def _segment(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["segment", *args, "--as-of", AS_OF, "--engine", "native"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _store_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """What the store keeps per account and path (the runs' own rows aside: their input
    name and digest are the input's), each account's row from the store or its parts."""
    with closing(sqlite3.connect(path)) as db:
        out = {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("paths", "firings", "run_defaults")
        }
        accounts = account_rows(db, path)
        out["accounts"] = accounts
    return out


def _parts(tmp_path: Path, source: Path, sizes: list[int]) -> Path:
    """``source`` cut into part files of ``sizes`` records each (the rest in the last)."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    folder = tmp_path / "parts"
    folder.mkdir()
    start = 0
    for i, size in enumerate([*sizes, len(rows)]):
        chunk = rows[start : start + size] if i < len(sizes) else rows[start:]
        (folder / f"part-{i:02d}.csv").write_text(header + "".join(chunk), encoding="utf-8")
        start += size
    return folder


@pytest.mark.parametrize("ruleset", RULESETS, ids=lambda p: p.stem)
def test_one_file_split_by_the_workers_is_byte_identical(
    ruleset: Path, tmp_path: Path, scheduler: str
) -> None:
    one = _segment(str(ruleset), str(SAMPLE), "--out", "one", "--store", "one.sqlite")
    many = _segment(
        str(ruleset),
        str(SAMPLE),
        "--out",
        "many",
        "--store",
        "many.sqlite",
        "--scheduler",
        scheduler,
    )
    assert many[0] == one[0]
    assert many[1].replace("wrote many", "wrote one ") == one[1]
    assert many[2].replace("many.sqlite", "one.sqlite") == one[2]
    assert _files(tmp_path / "many") == _files(tmp_path / "one")
    assert _store_rows(tmp_path / "many.sqlite") == _store_rows(tmp_path / "one.sqlite")
    json_one = _segment(str(ruleset), str(SAMPLE), "--format", "json", "--store", "j1.sqlite")
    json_many = _segment(
        str(ruleset),
        str(SAMPLE),
        "--format",
        "json",
        "--store",
        "j2.sqlite",
        "--scheduler",
        scheduler,
    )
    assert json_many[1] == json_one[1]


def test_a_folder_of_parts_decides_as_the_file_they_were_cut_from(
    tmp_path: Path, scheduler: str
) -> None:
    folder = _parts(tmp_path, SAMPLE, [700, 900, 400])
    ruleset = str(RULESETS[0])
    _segment(ruleset, str(SAMPLE), "--out", "one", "--format", "json", "--store", "one.sqlite")
    code, _, _ = _segment(
        ruleset, str(folder), "--out", "many", "--store", "many.sqlite", "--scheduler", scheduler
    )
    assert code == 0
    one, many = _files(tmp_path / "one"), _files(tmp_path / "many")
    assert one.keys() == many.keys()
    # the input's name and digest are the folder's; everything else is the same
    import hashlib

    digest = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    for name in one:
        if name.endswith(".png"):
            assert many[name] == one[name]
            continue
        ours = many[name].decode()
        for folder_form, file_form in (
            (_folder_digest(folder), digest),
            (str(folder), str(SAMPLE)),
        ):
            ours = ours.replace(folder_form, file_form).replace(folder_form[:12], file_form[:12])
        assert ours == one[name].decode(), name
    assert _store_rows(tmp_path / "many.sqlite") == _store_rows(tmp_path / "one.sqlite")


def _folder_digest(folder: Path) -> str:
    from tierbook.distributed.parts import partitioned

    return partitioned(str(folder), str(folder), 1).sha256


def test_no_memo_is_identical_too(tmp_path: Path, scheduler: str) -> None:
    ruleset = str(RULESETS[0])
    _segment(ruleset, str(SAMPLE), "--no-memo", "--out", "one", "--store", "one.sqlite")
    _segment(
        ruleset, str(SAMPLE), "--no-memo", "--out", "many", "--store", "m.sqlite",
        "--scheduler", scheduler,
    )  # fmt: skip
    assert _files(tmp_path / "many") == _files(tmp_path / "one")


def _with_bad_cells(tmp_path: Path) -> Path:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    arr = header.index("arr")
    for at in (40, 2500, 2501):  # (lines 41, 2501 and 2502 of the file)
        cells = lines[at].rstrip("\n").split(",")
        cells[arr] = "lots"
        lines[at] = ",".join(cells) + "\n"
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines), encoding="utf-8")
    return bad


def test_errors_of_a_split_file_name_the_lines_one_machine_names(
    tmp_path: Path, scheduler: str
) -> None:
    bad = _with_bad_cells(tmp_path)
    one = _segment(str(RULESETS[0]), str(bad), "--out", "one")
    many = _segment(str(RULESETS[0]), str(bad), "--out", "many", "--scheduler", scheduler)
    assert one[0] == many[0] == 1
    assert f"{bad}:2501:" in one[2]
    assert many[2] == one[2]
    assert not (tmp_path / "many").exists()


def test_errors_of_parts_name_the_part_file_and_its_line(tmp_path: Path, scheduler: str) -> None:
    bad = _with_bad_cells(tmp_path)
    folder = _parts(tmp_path, bad, [1000, 1000])  # lines 2501-2502: 501-502 of part 2
    code, _, err = _segment(str(RULESETS[0]), str(folder), "--scheduler", scheduler)
    assert code == 1
    assert f"{folder / 'part-00.csv'}:41:" in err
    assert f"{folder / 'part-02.csv'}:502:" in err
    assert f"{folder / 'part-02.csv'}:501:" in err


def test_an_id_in_two_parts_is_a_duplicate_named_where_it_repeats(
    tmp_path: Path, scheduler: str
) -> None:
    folder = _parts(tmp_path, SAMPLE, [1000])
    first = (folder / "part-00.csv").read_text(encoding="utf-8").splitlines()[1]
    with (folder / "part-01.csv").open("a", encoding="utf-8") as f:
        f.write(first + "\n")
    lines = len((folder / "part-01.csv").read_text(encoding="utf-8").splitlines())
    code, _, err = _segment(str(RULESETS[0]), str(folder), "--scheduler", scheduler)
    assert code == 1
    account = first.split(",")[0]
    assert (
        f"{folder / 'part-01.csv'}:{lines}:1: account_id: duplicate account id '{account}'" in err
    )
    assert f"(first on line 2 of {folder / 'part-00.csv'})" in err


class _DieOnce(distributed.WorkerPlugin):  # type: ignore[misc]
    """Kills its worker's process when it starts reading a part: once (the marker file
    exists afterwards), or every time."""

    def __init__(self, marker: str, always: bool = False) -> None:
        self.marker = marker
        self.always = always

    def setup(self, worker: distributed.Worker) -> None:
        self.worker = worker

    def transition(self, key: object, start: str, finish: str, **kwargs: object) -> None:
        starts = finish == "executing" and "read_part" in str(key)
        if starts and (self.always or not os.path.exists(self.marker)):
            Path(self.marker).touch()
            os._exit(1)


@pytest.fixture
def fragile() -> Iterator[tuple[str, distributed.Client]]:
    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 2}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield cluster.scheduler_address, client


def test_a_worker_lost_mid_run_is_retried(
    tmp_path: Path, fragile: tuple[str, distributed.Client]
) -> None:
    address, client = fragile
    marker = tmp_path / "killed"
    client.register_plugin(_DieOnce(str(marker)))
    ruleset = str(RULESETS[0])
    _segment(ruleset, str(SAMPLE), "--out", "one", "--store", "one.sqlite")
    code, _, _ = _segment(
        ruleset, str(SAMPLE), "--out", "many", "--store", "m.sqlite", "--scheduler", address
    )
    assert marker.exists()  # a worker did die
    assert code == 0
    assert _files(tmp_path / "many") == _files(tmp_path / "one")


def test_a_run_that_cannot_finish_leaves_no_out_and_no_complete_run(
    tmp_path: Path, fragile: tuple[str, distributed.Client]
) -> None:
    address, client = fragile
    ruleset = str(RULESETS[0])
    _segment(ruleset, str(SAMPLE), "--out", "out", "--store", "s.sqlite")
    before = _files(tmp_path / "out")
    client.register_plugin(_DieOnce(str(tmp_path / "killed"), always=True))
    code, _, err = _segment(
        ruleset, str(SAMPLE), "--out", "out", "--store", "s.sqlite", "--scheduler", address
    )
    assert code == 3
    assert "the distributed run could not finish" in err
    assert _files(tmp_path / "out") == before  # the earlier files, untouched
    assert not [p for p in tmp_path.iterdir() if "tierbook-tmp" in p.name]
    with closing(sqlite3.connect(tmp_path / "s.sqlite")) as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (1,)


def test_without_dask_the_option_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    code, _, err = _segment(str(RULESETS[0]), str(SAMPLE), "--scheduler", "local")
    assert code == 2
    assert "pip install 'tierbook[dask]'" in err


def test_a_folder_without_the_option_is_still_a_located_error() -> None:
    code, _, err = _segment(str(RULESETS[0]), str(SAMPLE.parent))
    assert code == 1
    assert "is a folder" in err


def test_plan_on_the_cluster_says_what_one_machine_says(tmp_path: Path, scheduler: str) -> None:
    head = Path(__file__).parent / "golden" / "plan" / "head.yaml"
    for fmt in ("text", "markdown", "json"):
        args = ["plan", "--base", "cs-segmentation-model", "--head", str(head), str(SAMPLE)]
        args += ["--format", fmt, "--as-of", AS_OF, "--engine", "native", "--detailed-exitcode"]
        one = CliRunner().invoke(main, [*args, "--store", "one.sqlite"])
        many = CliRunner().invoke(main, [*args, "--store", "many.sqlite", "--scheduler", scheduler])
        assert (many.exit_code, many.stdout) == (one.exit_code, one.stdout)
        assert one.exit_code == 4
    assert _store_rows(tmp_path / "many.sqlite") == _store_rows(tmp_path / "one.sqlite")


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_distributed_runs_accounts_are_parquet_parts_explain_and_runs_read(
    tmp_path: Path, scheduler: str
) -> None:
    ruleset = str(RULESETS[0])
    _segment(ruleset, str(SAMPLE), "--out", "one", "--store", "one.sqlite")
    _segment(
        ruleset, str(SAMPLE), "--out", "many", "--store", "many.sqlite", "--scheduler", scheduler
    )
    parts = sorted((tmp_path / "many.sqlite.parts" / "run-1").glob("*.parquet"))
    assert parts
    with closing(sqlite3.connect(tmp_path / "many.sqlite")) as db:
        assert db.execute("SELECT count(*) FROM run_accounts").fetchone() == (0,)
    ids = [line.split(",")[0] for line in SAMPLE.read_text().splitlines()[1:4]]
    for account in [*ids, ids[0].lower(), "no-such-account"]:
        for extra in ([], ["--format", "json"], ["--level", "why-not"]):
            one = _cli("explain", account, "--store", "one.sqlite", *extra)
            many = _cli("explain", account, "--store", "many.sqlite", *extra)
            assert many[0] == one[0], account
            assert many[1] == one[1], account
            assert many[2].replace("many.sqlite", "one.sqlite") == one[2], account
    listed = _cli("runs", "--store", "many.sqlite")
    assert listed[0] == 0 and "3,000" in listed[1]
    assert _cli("runs", "prune", "--keep", "0", "--store", "many.sqlite")[0] == 0
    assert not (tmp_path / "many.sqlite.parts" / "run-1").exists()
    with closing(sqlite3.connect(tmp_path / "many.sqlite")) as db:
        assert db.execute(
            "SELECT count(*) FROM meta WHERE key LIKE 'account_parts:%'"
        ).fetchone() == (0,)


def _with_a_repeat(tmp_path: Path) -> tuple[Path, str]:
    """The sample with its second account's row again on the last line (another range)."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "repeat.csv"
    path.write_text("\n".join([*lines, lines[2]]) + "\n", encoding="utf-8")
    return path, lines[2].split(",")[0]


def test_with_skip_an_id_repeated_in_a_later_range_is_set_aside_as_one_machine_does(
    tmp_path: Path, scheduler: str
) -> None:
    repeat, account = _with_a_repeat(tmp_path)
    for fmt in ([], ["--format", "json"]):
        given = [str(RULESETS[0]), str(repeat), "--on-error", "skip", *fmt]
        one = _segment(*given, "--out", "one", "--store", "one.sqlite")
        many = _segment(*given, "--out", "many", "--store", "many.sqlite", "--scheduler", scheduler)
        assert many[0] == one[0]
        assert many[1].replace("wrote many", "wrote one ") == one[1]
        assert many[2].replace("many.sqlite", "one.sqlite") == one[2]
    assert _files(tmp_path / "many") == _files(tmp_path / "one")
    rejects = (tmp_path / "many" / "rejects.csv").read_text(encoding="utf-8")
    assert f"duplicate account id '{account}' (first on line 3)" in rejects
    assert _store_rows(tmp_path / "many.sqlite") == _store_rows(tmp_path / "one.sqlite")


def test_with_skip_an_id_repeated_in_a_later_part_is_a_reject_naming_both_parts(
    tmp_path: Path, scheduler: str
) -> None:
    repeat, account = _with_a_repeat(tmp_path)
    folder = _parts(tmp_path, repeat, [1000, 1000])
    given = [str(RULESETS[0]), "--on-error", "skip", "--store", "s.sqlite"]
    one = _segment(*given[:1], str(repeat), *given[1:], "--out", "one")
    many = _segment(*given[:1], str(folder), *given[1:], "--out", "many", "--scheduler", scheduler)
    assert many[0] == one[0]
    rejects = (tmp_path / "many" / "rejects.csv").read_text(encoding="utf-8")
    lines = len((folder / "part-02.csv").read_text(encoding="utf-8").splitlines())
    assert (
        f"{folder / 'part-02.csv'}:{lines}:1: account_id: duplicate account id '{account}' "
        f"(first on line 3 of {folder / 'part-00.csv'})" in rejects
    )
    for name in ("accounts.csv", "accounts.jsonl"):
        assert (tmp_path / "many" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_plan_with_skip_sets_a_repeat_in_a_later_range_aside_too(
    tmp_path: Path, scheduler: str
) -> None:
    repeat, _ = _with_a_repeat(tmp_path)
    head = Path(__file__).parent / "golden" / "plan" / "head.yaml"
    args = ["plan", "--base", "cs-segmentation-model", "--head", str(head), str(repeat)]
    args += ["--format", "json", "--as-of", AS_OF, "--engine", "native", "--on-error", "skip"]
    one = CliRunner().invoke(main, [*args, "--store", "one.sqlite"])
    many = CliRunner().invoke(main, [*args, "--store", "many.sqlite", "--scheduler", scheduler])
    assert (many.exit_code, many.stdout) == (one.exit_code, one.stdout)
    assert "in 1 rejected row(s)" in one.stdout  # (the repeat)
