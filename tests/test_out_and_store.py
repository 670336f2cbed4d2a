"""`--out` and the trace store are changed together or not at all: a store that is not one,
or cannot be written, is found before any file changes; a store write that fails leaves the
previous files; a run killed while writing leaves a temporary folder named as one, which
the next run removes."""

from __future__ import annotations

import os
from contextlib import closing
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.errors import StoreError
from tierbook.trace.store import TraceStore

from .conftest import ROOT, SAMPLE

ARGS = ["segment", "cs-segmentation-model", str(SAMPLE), "--as-of", "2026-10-01", "--no-chart"]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def previous_output(tmp_path: Path) -> dict[str, bytes]:
    """An --out folder from earlier (its files unlike any a run writes), and its files."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.md").write_text("the previous model\n")
    return files(out)


def runs(store: Path) -> list[tuple[int, str]]:
    with closing(sqlite3.connect(store)) as db, db:
        return db.execute("SELECT run_id, status FROM runs ORDER BY run_id").fetchall()


@pytest.mark.parametrize("make", ["text file", "under a file"])
def test_a_store_that_cannot_be_one_is_refused_before_any_output_changes(
    tmp_path: Path, make: str
) -> None:
    before = previous_output(tmp_path)
    (tmp_path / "notes.txt").write_text("meeting notes, not a store\n")
    store, message = {
        "text file": ("notes.txt", "notes.txt: not a tierbook trace store (file is not a database)"),
        "under a file": ("notes.txt/traces.sqlite",
                         f"notes.txt/traces.sqlite: cannot create the trace store there: "
                         f"{tmp_path / 'notes.txt'} is a file, not a folder"),
    }[make]
    result = run(*ARGS, "--out", "out", "--store", store)
    assert result.exit_code == 1, result.output
    assert result.stderr == message + "\n"
    assert files(tmp_path / "out") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "out"]


def test_another_sqlite_database_is_not_taken_for_a_store(tmp_path: Path) -> None:
    before = previous_output(tmp_path)
    with closing(sqlite3.connect(tmp_path / "crm.sqlite")) as db, db:
        db.execute("CREATE TABLE contacts (name TEXT)")
    result = run(*ARGS, "--out", "out", "--store", "crm.sqlite")
    assert result.exit_code == 1, result.output
    assert result.stderr == ("crm.sqlite: not a tierbook trace store (an SQLite database of "
                             "other tables)\n")
    assert files(tmp_path / "out") == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs a folder this user cannot write (root writes anywhere)")
def test_a_store_in_a_folder_that_cannot_be_written(tmp_path: Path) -> None:
    before = previous_output(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = run(*ARGS, "--out", "out", "--store", "locked/traces.sqlite")
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"locked/traces.sqlite: cannot create the trace store there: "
                             f"{locked} cannot be written\n")
    assert files(tmp_path / "out") == before


@pytest.mark.parametrize("step", ["write_values", "complete_runs"])
def test_a_store_write_that_fails_keeps_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """The store fails while the run's rows go in (before any file is staged), or when the
    run is marked complete (after the new files were swapped in): either way exit 1 naming
    the store, --out as it was, and no complete run for `explain` to answer from."""
    store = tmp_path / "traces.sqlite"
    assert run(*ARGS, "--out", "first").exit_code == 0
    before = previous_output(tmp_path)
    explained = run("explain", "ACC-00001", "--format", "json").stdout

    def full(self: TraceStore, *args: object, **kwargs: object) -> None:
        raise StoreError(f"{self.path}: cannot write the run to the trace store "
                         "(database or disk is full)")  # (as complete_runs reports it)

    def rows_fail(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    if step == "complete_runs":
        monkeypatch.setattr(TraceStore, step, full)
    else:  # (the accounts' rows: engine/trace/values.py)
        monkeypatch.setattr("tierbook.trace.store.write_values", rows_fail)
    result = run(*ARGS, "--out", "out", "--as-of", "2027-01-01")
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"{store}: cannot write the run to the trace store (database or "
                             "disk is full)\n")
    assert files(tmp_path / "out") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "out", "traces.sqlite"]
    assert runs(store) == [(1, "complete"), (2, "failed")]
    assert run("explain", "ACC-00001", "--format", "json").stdout == explained


def test_a_killed_run_leaves_a_named_temporary_folder_and_the_next_run_removes_it(
    tmp_path: Path,
) -> None:
    """A run killed while writing its files (here: in the middle, by os._exit) leaves
    .out.tierbook-tmp-PID beside --out; the next run into --out removes it (its process is
    gone), keeps one of a process still running, and puts back a previous folder that a
    kill left set aside mid-swap."""
    before = previous_output(tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c",
         "import os, sys\n"
         "from tierbook.report import summary\n"
         "summary.model_markdown = lambda result: os._exit(9)\n"
         "from tierbook.cli.main import main\n"
         "sys.argv = ['tierbook', *sys.argv[1:]]\n"
         "main()\n",
         *ARGS, "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert killed.returncode == 9, killed.stderr
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out."))
    assert len(left) == 1 and left[0].startswith(".out.tierbook-tmp-"), left
    assert (tmp_path / left[0] / "accounts.csv").stat().st_size > 0  # half written
    assert files(tmp_path / "out") == before
    # a process still running keeps its folder; this test's process is alive
    alive = tmp_path / f".out.tierbook-tmp-{os.getppid()}"
    alive.mkdir()

    result = run(*ARGS, "--out", "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [alive.name]
    assert "model.md" in files(tmp_path / "out") and files(tmp_path / "out") != before


def test_ctrl_c_while_writing_exits_130_and_keeps_the_previous_output_and_runs(
    tmp_path: Path,
) -> None:
    """A SIGINT in the middle of the files (sent by the process to itself, as Ctrl-C sends
    it): exit 130 with a line that says so, not click's "Aborted!" and exit 1 (the code of a
    failed gate); the previous --out as it was, no temporary folder left, the run it began
    in the store marked failed, and explain still answering from the run before it."""
    store = tmp_path / "s.sqlite"
    assert run(*ARGS, "--out", "out", "--store", str(store)).exit_code == 0
    before = files(tmp_path / "out")
    interrupted = subprocess.run(
        [sys.executable, "-c",
         "import signal, sys\n"
         "from tierbook.report import summary\n"
         "summary.model_markdown = lambda result: signal.raise_signal(signal.SIGINT)\n"
         "from tierbook.cli.main import main\n"
         "sys.argv = ['tierbook', *sys.argv[1:]]\n"
         "main()\n",
         *ARGS, "--out", "out", "--store", str(store)],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert interrupted.returncode == 130, interrupted.stderr
    assert interrupted.stderr.startswith("interrupted: stopped before it finished")
    assert "Aborted" not in interrupted.stderr and "Traceback" not in interrupted.stderr
    assert files(tmp_path / "out") == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []
    with closing(sqlite3.connect(store)) as db:
        assert db.execute("SELECT run_id, status FROM runs ORDER BY run_id").fetchall() == [
            (1, "complete"), (2, "failed")]
    explained = run("explain", "ACC-00046", "--store", str(store), "--format", "json")
    assert explained.exit_code == 0 and '"run_id": 1' in explained.output


def test_a_folder_set_aside_by_a_killed_swap_is_put_back(tmp_path: Path) -> None:
    """Killed between setting the previous --out aside and putting the new one in place:
    --out is missing and .out.tierbook-old-PID holds it.  The next write into --out puts
    it back first, so if that write fails too, --out has its previous content."""
    from tierbook.commands.outfolder import atomic_folder

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    aside = tmp_path / f".out.tierbook-old-{pid}"
    aside.mkdir()
    (aside / "model.md").write_text("the previous model\n")
    (tmp_path / f".out.tierbook-tmp-{pid}").mkdir()

    def fails(folder: Path) -> None:
        (folder / "model.md").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_folder(str(tmp_path / "out"), fails)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert files(tmp_path / "out") == {"model.md": b"the previous model\n"}


def test_replay_checks_its_store_before_any_output_changes(tmp_path: Path) -> None:
    out = tmp_path / "out-replay"
    out.mkdir()
    (out / "replay.txt").write_text("the previous replay\n")
    (tmp_path / "notes.txt").write_text("meeting notes, not a store\n")
    result = run("replay", "cs-segmentation-model", str(SAMPLE),
                 str(ROOT / "examples" / "events.csv"), "--as-of", "2026-10-01", "--no-chart",
                 "--store", "notes.txt")
    assert result.exit_code == 1, result.output
    assert result.stderr == "notes.txt: not a tierbook trace store (file is not a database)\n"
    assert files(out) == {"replay.txt": b"the previous replay\n"}


@pytest.mark.parametrize("command", ["segment", "replay"])
def test_a_store_inside_out_is_a_usage_error_before_anything_changes(
    tmp_path: Path, command: str
) -> None:
    """--out is replaced as a whole when the new files are swapped in: a store inside it
    would be swapped away under the run that writes it."""
    before = previous_output(tmp_path)
    args = (list(ARGS) if command == "segment" else
            ["replay", "cs-segmentation-model", str(SAMPLE), str(ROOT / "examples" / "events.csv"),
             "--as-of", "2026-10-01", "--no-chart"])
    result = run(*args, "--out", "out", "--store", "out/traces.sqlite")
    assert result.exit_code == 2, result.output
    assert "--store out/traces.sqlite is inside --out out" in result.stderr
    assert files(tmp_path / "out") == before


def test_a_folder_of_a_persons_own_files_is_never_replaced(tmp_path: Path) -> None:
    """--out replaces its folder as a whole: pointed at a folder holding the portfolio and
    other files of its own, a run once deleted them all.  It is refused (exit 2) before
    anything is evaluated or stored, and every file stays."""
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    portfolio = work / "portfolio.csv"
    portfolio.write_bytes(SAMPLE.read_bytes())
    (work / "notes.txt").write_text("our notes\n")
    (work / "model.md").write_text("an earlier run's model\n")
    (work / ".DS_Store").write_bytes(b"\0")
    result = run("segment", str(portfolio), "--as-of", "2026-10-01", "--no-chart",
                 "--out", str(work), "--store", "s.sqlite")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"--out {work} holds files a tierbook run does not write (notes.txt, portfolio.csv, "
        "sub/): a run replaces its --out folder as a whole, so it is not used; give a new or "
        "empty folder, or one an earlier run wrote\n")
    assert sorted(p.name for p in work.iterdir()) == [
        ".DS_Store", "model.md", "notes.txt", "portfolio.csv", "sub"]
    assert not (tmp_path / "s.sqlite").exists()
    replayed = run("replay", "--as-of", "2026-10-01", "--no-chart", "--out", str(work),
                   "--store", "s.sqlite")
    assert replayed.exit_code == 2 and "holds files a tierbook run does not write" in \
        replayed.stderr
    assert portfolio.read_bytes() == SAMPLE.read_bytes()


@pytest.mark.parametrize(("out", "says"), [
    (".", "--out . is the current folder or one above it"),
    ("..", "--out .. is the current folder or one above it"),
    ("afile/sub", "--out afile/sub: afile is a file, not a folder"),
    ("afile", "Usage: "),  # (click's own check of the option)
])
def test_an_out_that_cannot_be_replaced_is_a_usage_error(
    tmp_path: Path, out: str, says: str
) -> None:
    (tmp_path / "afile").write_text("x\n")
    result = run(*ARGS, "--out", out, "--store", "s.sqlite")
    assert result.exit_code == 2 and result.stderr.startswith(says), result.output
    assert "internal error" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_the_files_a_run_writes_are_the_ones_an_out_folder_may_hold(tmp_path: Path) -> None:
    """WRITTEN, the files an --out may hold and still be replaced, is what the runs write:
    a segment with rejects and a replay, each with its charts; and each run's folder can
    be written again by the other."""
    from tierbook.commands.outfolder import WRITTEN

    bad = tmp_path / "p.csv"
    bad.write_text(SAMPLE.read_text().replace("\nACC-00002,", "\nACC-00002x,,,,", 1))
    assert run("segment", str(bad), "--as-of", "2026-10-01", "--on-error", "skip",
               "--out", "out").exit_code in (0, 1)
    assert (tmp_path / "out" / "rejects.csv").exists()
    segment = {p.name for p in (tmp_path / "out").iterdir()}
    assert run("replay", "--as-of", "2026-10-01", "--out", "out").exit_code == 0
    replay = {p.name for p in (tmp_path / "out").iterdir()}
    assert segment | replay == WRITTEN
