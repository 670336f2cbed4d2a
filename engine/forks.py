"""Work for the second core: a forked copy of this process computes something and hands
back the result, pickled, through a pipe.

Used where a copy of this process is the cheapest way to share the work: half of a large
CSV (tierbook.splitread).  The caller does the work itself when the copy cannot be made or
does not report.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
from typing import Any, Callable


def can_fork() -> bool:
    """Whether a forked copy can work beside this process: fork exists, there is a second
    core, and no other thread runs (forking a process with threads can deadlock)."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


class Child:
    """A forked copy running ``work``; ``result`` waits for what it returned, ``kill``
    stops it.  Either reaps the process."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd

    def result(self) -> tuple[bool, Any]:
        """(True, what ``work`` returned), or (False, None) when it failed or was killed."""
        if not self.pid:
            return False, None
        # unpickled as it arrives: the pickled text is never held whole in this process
        try:
            with os.fdopen(self.fd, "rb") as inp:
                result = pickle.load(inp)
        except Exception:  # noqa: BLE001 - nothing, or a partial report: as if it failed
            result = None
            failed = True
        else:
            failed = False
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if failed or status != 0:
            return False, None
        return True, result

    def kill(self) -> None:
        if not self.pid:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.fd)
        self.pid = 0


def in_child(work: Callable[[], Any]) -> Child | None:
    """Fork a copy of this process that runs ``work`` and reports its result; None when the
    fork fails.  The copy ignores Ctrl-C (the parent stops it) and leaves without any of the
    parent's clean-up: it never touches what the parent will flush, close or delete."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.close(read_end)
            # pickled whole before it is written: the parent may still be busy, and a copy
            # writing as it pickles would stall on the full pipe and pickle only as fast as
            # the parent unpickles once it reads
            data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            code = 0
        except BaseException:  # noqa: BLE001 - the parent does the work itself
            pass
        finally:
            os._exit(code)
    os.close(write_end)
    return Child(pid, read_end)
