"""One segmentation kept in the trace store with the files written from it, together
(segment, plan, calibrate and align run it), and the check that the store is not inside
the output folder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .inputs import SAMPLE_PORTFOLIO, sample_portfolio
from .outfolder import Writing

if TYPE_CHECKING:
    from ..assess.result import SegmentResult
    from ..overrides.model import Overrides
    from ..ruleset.model import Ruleset
    from ..sources.model import RunInputs
    from ..trace.store import TraceStore


def segment_and_store(
    ruleset: Ruleset,
    text: str,
    accounts: str | None,
    *,
    as_of: dt.date,
    engine: str,
    store_path: str | None,
    memo: bool,
    on_error: str,
    command: str,
    label: str = "",
    progress: Callable[[int], None] | None = None,
    write: Callable[[SegmentResult, Writing], None] | None = None,
    overrides: Overrides | None = None,
    inputs: RunInputs | None = None,
    scheduler: str | None = None,
    complete: bool = True,
) -> SegmentResult:
    """Segment, then keep the run in the trace store and write the files (if asked),
    together: the store is checked before anything else; the run's rows go in as an
    incomplete run while ``write(result, writing)`` stages the files (``Writing``) and
    swaps them in, and ``writing.commit`` marks the run complete; if any step fails the run
    is marked failed and the previous files stay.  ``complete=False`` (no ``write``): the
    run is left incomplete, for the caller to complete with the runs it goes with."""
    from concurrent.futures import ThreadPoolExecutor, wait  # (not on validate's way)

    from ..trace.preflight import check_store
    from ..trace.store import TraceStore, default_path
    from .segment import segment as run_segment

    path = str(store_path or default_path())
    check_store(path)
    accounts_path = accounts or sample_portfolio()
    result = run_segment(
        ruleset,
        accounts_path,
        as_of=as_of,
        engine=engine,
        on_error=on_error,
        memo=memo,
        accounts_display=accounts or SAMPLE_PORTFOLIO,
        progress=progress,
        overrides=overrides,
        inputs=inputs,
        scheduler=scheduler,
    )
    store = TraceStore(path)
    try:
        # the run's rows go in on a thread of their own while the files are made: SQLite
        # lets go of the GIL while it writes, and so does polars writing the account files
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="store") as pool:
            kept = pool.submit(_keep, store, result, text, command, label, bool(scheduler))

            def stored() -> int:
                """The run's id, once its rows are in the store (report.html reads them)."""
                run_id = kept.result()
                result.run_id, result.store_path = run_id, str(Path(path))
                return run_id

            try:
                if write is not None:
                    write(result, Writing(stored, lambda: store.complete_runs([stored()])))
                elif complete:
                    store.complete_runs([stored()])
                else:
                    stored()
            except BaseException:
                wait([kept])  # (the rows' thread done with the connection first)
                if kept.exception() is None:
                    store.fail_runs([kept.result()])
                raise
    finally:
        store.close()
    result.store_path = str(Path(path))
    return result


def _keep(
    store: TraceStore, result: SegmentResult, text: str, command: str, label: str, parts: bool
) -> int:
    """The run's rows in the store, as an incomplete run: its accounts (as Parquet parts
    beside the store for a distributed run), overrides and declared inputs."""
    run_id = store.write_run(
        result.evaluation,
        ruleset_text=text,
        input_file=result.input_file,
        input_sha256=result.input_sha256,
        command=command,
        label=label,
        complete=False,
        defaults=result.defaults,
        parts=parts,
    )
    try:
        if result.overrides is not None:
            from ..overrides.trace import write_overrides

            write_overrides(store.db, run_id, result.overrides, result.evaluation.account_ids())
        if result.inputs is not None:
            from ..trace.run_inputs import write_run_inputs

            write_run_inputs(store.db, run_id, result.inputs)
    except BaseException:
        store.fail_runs([run_id])
        raise
    return run_id


def store_outside(store_path: str | None, out_dir: str | None) -> None:
    """The trace store cannot live in --out: the folder is replaced as a whole when the new
    files are swapped in, and the run is marked complete after that."""
    if not out_dir:
        return
    from ..trace.store import default_path

    store = Path(store_path or default_path()).resolve()
    out = Path(out_dir).resolve()
    if store == out or out in store.parents:
        raise UsageError(
            f"--store {store_path or store} is inside --out {out_dir}: the output folder is "
            "replaced as a whole on each run; keep the trace store outside it"
        )
