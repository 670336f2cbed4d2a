"""An output folder (``--out``) replaced whole or not at all.

Its files are written into a temporary folder beside it, ``.OUT.tierbook-tmp-PID``, which
is then swapped in; the previous folder waits as ``.OUT.tierbook-old-PID`` until the swap
is committed, then goes.  A run killed on the way leaves these behind, named for what they
are and for the process that made them: the next run into the same folder removes those
of processes no longer alive (and puts back a previous folder a kill left set aside).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

TMP = "tierbook-tmp"  # a folder being written
OLD = "tierbook-old"  # the previous folder, set aside while the new one is swapped in

# every file a run writes into --out (segment, then replay; tests/test_out_and_store.py
# holds this to what they write): a folder holding anything else is not replaced
WRITTEN = frozenset(
    {
        "accounts.csv",
        "accounts.jsonl",
        "changes.csv",
        "model.md",
        "rejects.csv",
        "report.html",
        "report.json",
        "tiers.png",
        "arr_bridge.csv",
        "flows.csv",
        "flows.png",
        "replay.json",
        "replay.txt",
        "tiers_by_quarter.csv",
        "tiers_by_quarter.png",
    }
)
LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})  # what file browsers leave


def check_out(out_dir: str) -> None:
    """That ``--out`` can be replaced as a whole: not the current folder or one above it,
    not under a file, and, where it exists, a folder holding only files a run writes (its
    own earlier output): a folder of a person's own files is never deleted with it."""
    target = Path(out_dir)
    where = target.resolve()
    if where == Path.cwd().resolve() or where in Path.cwd().resolve().parents:
        raise UsageError(
            f"--out {out_dir} is the current folder or one above it: a run replaces its "
            "--out folder as a whole; name a folder of its own for the run's files, e.g. "
            "--out out"
        )
    for parent in reversed(target.parents):
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"--out {out_dir}: {parent} is a file, not a folder")
    if not target.exists():
        return
    if not target.is_dir():
        raise UsageError(f"--out {out_dir} exists and is not a folder")
    foreign = sorted(
        entry.name + ("/" if entry.is_dir() else "")
        for entry in target.iterdir()
        if entry.name not in LITTER and (entry.name not in WRITTEN or not entry.is_file())
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise UsageError(
            f"--out {out_dir} holds files a tierbook run does not write ({shown}): a run "
            "replaces its --out folder as a whole, so it is not used; give a new or empty "
            "folder, or one an earlier run wrote"
        )


@dataclass(frozen=True)
class Writing:
    """What a command writing a stored run's files is given: ``stored()`` waits until the
    run's rows are in the store and gives its id (set on the result too, for the files
    that read the run back); ``commit()``, once the files are in place, marks it complete."""

    stored: Callable[[], int]
    commit: Callable[[], None]


def scratch(target: Path, kind: str, pid: int | None = None) -> Path:
    """The temporary folder of ``kind`` (TMP or OLD) beside ``target`` for process ``pid``."""
    return target.with_name(f".{target.name}.{kind}-{os.getpid() if pid is None else pid}")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` is running (where that cannot be told: taken as running)."""
    if pid == os.getpid():
        return False  # (a folder of this pid is a dead process's, the pid reused: this one
        # makes its own only now)
    if os.name != "posix" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # (someone else's process)
    return True


def _stale(target: Path, kind: str) -> list[Path]:
    found = []
    for path in target.parent.glob(f".{glob.escape(target.name)}.{kind}-*"):
        pid = path.name.rsplit("-", 1)[1]
        if path.is_dir() and pid.isdigit() and not _alive(int(pid)):
            found.append(path)
    return sorted(found)


def remove_stale(target: Path) -> list[Path]:
    """Remove the temporary folders beside ``target`` that runs no longer alive left (killed
    while writing); if such a run was killed mid-swap, with ``target`` set aside and not yet
    replaced, put the previous folder back first.  Returns what was removed."""
    removed = []
    for old in _stale(target, OLD):
        if not target.exists():
            os.rename(old, target)  # the previous content, as it was before the killed run
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    for tmp in _stale(target, TMP):
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp)
    return removed


def atomic_folder(
    out_dir: str, write: Callable[[Path], None], commit: Callable[[], None] | None = None
) -> None:
    """Write a folder's files beside it, then swap it in: a failed run leaves the previous
    folder untouched.  ``commit``, called once the new folder is in place and before the
    previous one is removed (to mark the stored run complete), may fail: then the previous
    folder is put back, and the new one removed."""
    check_out(out_dir)  # (again: the folder may have changed while the run evaluated)
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    tmp = scratch(target, TMP)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    old = None
    try:
        write(tmp)
        if target.exists():
            old = scratch(target, OLD)
            shutil.rmtree(old, ignore_errors=True)
            os.rename(target, old)
        os.rename(tmp, target)
        try:
            if commit is not None:
                commit()
        except BaseException:
            os.rename(target, tmp)
            if old is not None:
                os.rename(old, target)
                old = None
            raise
    except BaseException:
        if old is not None and not target.exists():
            with contextlib.suppress(OSError):
                os.rename(old, target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
