"""tierbook.forks: the forked copy's result comes back; a failure or a kill is reported as
no result, and the process is always reaped."""

from __future__ import annotations

import os
import time

import pytest

from tierbook import forks

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_result_comes_back():
    big = list(range(200_000))  # more than a pipe's buffer
    child = forks.in_child(lambda: {"sum": sum(big), "pid": os.getpid()})
    assert child is not None
    pid = child.pid
    ok, out = child.result()
    assert ok and out["sum"] == sum(big) and out["pid"] == pid != os.getpid()
    assert _reaped(pid) and child.result() == (False, None)


def test_a_failure_is_no_result():
    def fail() -> None:
        raise RuntimeError("boom")
    child = forks.in_child(fail)
    assert child is not None
    pid = child.pid
    assert child.result() == (False, None) and _reaped(pid)


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot be pickled")


def test_a_report_cut_off_midway_is_no_result():
    """The result is pickled as it is written: a failure after a megabyte has gone through the
    pipe leaves a partial report, which counts as none."""
    child = forks.in_child(lambda: [b"x" * (1 << 20), _Unpicklable()])
    assert child is not None
    pid = child.pid
    assert child.result() == (False, None) and _reaped(pid)


def test_kill_stops_and_reaps():
    child = forks.in_child(lambda: time.sleep(60))
    assert child is not None
    pid = child.pid
    child.kill()
    assert _reaped(pid) and child.result() == (False, None)
    child.kill()  # twice is harmless
