"""The Dask cluster a run uses: ``local`` (a LocalCluster of worker processes on this
machine, ``local:N`` for N of them) or a scheduler's address.  Dask is an optional extra."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import UsageError

INSTALL = "pip install 'tierbook[dask]'"


def _distributed() -> Any:
    try:  # (by name: type-checked without the extra installed too)
        distributed = importlib.import_module("distributed")
    except ImportError:
        raise UsageError(
            f"--scheduler needs Dask's distributed scheduler, which is not installed: {INSTALL}"
        ) from None
    return distributed


def local_workers(scheduler: str) -> int:
    """The worker processes of ``local`` (one per core) or ``local:N``."""
    _, _, count = scheduler.partition(":")
    if not count:
        return max(1, os.cpu_count() or 1)
    if not count.isdigit() or int(count) < 1:
        raise UsageError(f"--scheduler {scheduler}: expected local, local:N (N >= 1) or an address")
    return int(count)


@contextmanager
def connect(scheduler: str) -> Iterator[Any]:
    """A client of the cluster; a local cluster is started for the run and shut down after
    it."""
    distributed = _distributed()
    if scheduler == "local" or scheduler.startswith("local:"):
        workers = local_workers(scheduler)
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=40,
        )
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(scheduler, timeout="20s")
    except OSError as exc:
        raise UsageError(f"--scheduler {scheduler}: cannot reach the scheduler ({exc})") from None
    try:
        yield client
    finally:
        client.close()
