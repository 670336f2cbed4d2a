"""`tierbook replay`: the portfolio replayed quarter by quarter through the events, each
quarter's run and movements kept in the trace store, complete together with the files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError, Problem, UsageError
from .heap import fewer_collections
from .inputs import SAMPLE_EVENTS, SAMPLE_PORTFOLIO, load, sample_events, sample_portfolio
from .outfolder import check_out
from .stored_run import store_outside

if TYPE_CHECKING:
    from ..assess.replay_result import Quarter, Replay
    from ..distributed.book import HeldBook
    from ..evaluate.run import Evaluation
    from ..ruleset.model import Ruleset
    from ..sources.model import RunInputs
    from .replay import PartsOf


def replay(
    ruleset_arg: str | None,
    accounts: str | None,
    events_path: str | None,
    *,
    as_of: dt.date,
    engine: str = "auto",
    store_path: str | None = None,
    memo: bool = True,
    on_error: str = "fail",
    out_dir: str | None = None,
    chart: bool = True,
    overrides: str | None = None,
    inputs: RunInputs | None = None,
    scheduler: str | None = None,
    notes: Callable[[str], None] | None = None,
) -> Replay:
    """``scheduler``: the book's accounts replayed on a Dask cluster (tierbook.distributed),
    the whole-book parts here, the same result.  ``notes``: where the run's inputs are said
    once it is done (what was rolled up, table rows no account has: sources.report, as
    segment says them); None: not said."""
    import hashlib

    from ..overrides.replay import pins_for
    from ..portfolio.events import read_events
    from ..sources.apply import prepare_ruleset, read_accounts
    from ..sources.model import RolledUp, run_inputs_json
    from ..trace.movements import movement_rows
    from ..trace.preflight import check_store
    from ..trace.store import TraceStore, default_path
    from .replay import replay as run_replay

    if out_dir:
        check_out(out_dir)
    store_outside(store_path, out_dir)
    if scheduler and inputs is not None and inputs.tables:
        raise UsageError(
            "--scheduler does not roll up tables yet (--table, or tables in --inputs): "
            "roll them up on one machine, or give the accounts their rolled-up columns"
        )
    ruleset, text = load(ruleset_arg)
    ruleset_csms = dict(ruleset.capacity.per_tier)
    rolled = RolledUp()
    pins = pins_for(ruleset, overrides)
    check_store(store_path or default_path())
    accounts_path = accounts or sample_portfolio()
    events_file = events_path or sample_events()
    shown = events_path or SAMPLE_EVENTS

    def run(client: Any) -> Replay:  # (``client``: the cluster's, or None)
        nonlocal ruleset, rolled
        held = None
        try:
            if inputs is not None and not inputs.empty:
                ruleset = prepare_ruleset(ruleset, inputs)
            if client is not None and is_parted(accounts_path):
                held = read_held(client, accounts_path, accounts or SAMPLE_PORTFOLIO, ruleset)
                book = [] if held is None else held.stand_in()
            else:
                portfolio, rolled = read_accounts(
                    accounts_path,
                    ruleset,
                    inputs,
                    as_of=as_of,
                    on_error=on_error,
                    display=accounts or SAMPLE_PORTFOLIO,
                )
                book = portfolio.accounts
        except DataError as exc:
            if not empty_book(exc):
                raise
            book = []  # a replay may start from an empty book: its accounts come as new_account
        events, skipped = read_events(events_file, shown, on_error=on_error)
        digest = hashlib.sha256(Path(events_file).read_bytes()).hexdigest()
        store = TraceStore(store_path)
        state: dict[str, Any] = {}
        run_ids: list[int] = []  # each quarter's run, kept incomplete until the replay is done

        def on_quarter(q: Quarter, ev: Evaluation) -> None:
            rows = movement_rows(q, ev, ruleset.role("arr") or "arr")
            if pins is not None:
                rows = pins.annotate(q.quarter, rows)
            q.run_id = store.write_run(
                ev,
                ruleset_text=text,
                input_file=shown,
                input_sha256=digest,
                command="replay",
                label=q.quarter,
                complete=False,
                parts=bool(scheduler),  # (a distributed replay's accounts: Parquet parts)
            )
            run_ids.append(q.run_id)
            if inputs is not None and not inputs.empty:
                from ..trace.run_inputs import write_run_inputs

                write_run_inputs(store.db, q.run_id, inputs.as_json())
            replay_id = state.setdefault("replay_id", q.run_id)
            store.write_movements(replay_id, q.quarter, q.run_id, rows)

        try:
            result = run_replay(
                ruleset,
                book,
                events,
                as_of=as_of,
                engine=engine,
                memo=memo,
                on_error=on_error,
                events_file=shown,
                skipped=skipped,
                on_quarter=on_quarter,
                pins=pins,
                parts=None if client is None else cluster_parts(client, held),
            )
            if not result.quarters:  # (every event skipped: bad, or before the start date)
                why = f"no quarter to replay: all {len(result.skipped)} event(s) were skipped"
                raise DataError(why, [Problem(shown, 0, 0, "", why, "no-events")])
            result.replay_id = state.get("replay_id")

            def commit() -> None:  # every quarter complete together, with the files, or none
                store.complete_runs(run_ids)

            if out_dir:
                _write_replay(result, out_dir, chart, commit)
            else:
                commit()
        except BaseException:
            store.fail_runs(run_ids)
            raise
        finally:
            store.close()
        return result

    def read_held(client: Any, path: str, display: str, rs: Ruleset) -> HeldBook | None:
        """A folder or glob of parts read on the workers (None: no accounts)."""
        from ..distributed.book import HeldBook as Held
        from ..distributed.book import read_book
        from ..distributed.parts import partitioned

        held = read_book(client, partitioned(path, display, 1), rs, on_error)
        return held if isinstance(held, Held) else None

    with fewer_collections(), on_cluster(scheduler) as client:
        result = run(client)
    say_inputs(run_inputs_json(inputs, rolled, ruleset_csms), notes)
    return result


def say_inputs(inputs: dict[str, Any] | None, notes: Callable[[str], None] | None) -> None:
    """The run's inputs said to ``notes`` as segment says them (sources.report)."""
    from ..sources.report import notes as input_notes

    if notes is not None:
        for line in input_notes(inputs):
            notes(line)


def cluster_parts(client: Any, held: HeldBook | None) -> PartsOf:
    from ..distributed.replay import cluster_parts as on_workers

    parts: PartsOf = on_workers(client, held)
    return parts


def is_parted(path: str) -> bool:
    from ..distributed.parts import is_parted as parted

    return parted(path)


@contextmanager
def on_cluster(scheduler: str | None) -> Iterator[Any]:
    """A client of the Dask cluster the replay's parts are held on (``scheduler``), or
    None: on this machine."""
    if not scheduler:
        yield None
        return
    from ..distributed.cluster import connect

    with connect(scheduler) as client:
        yield client


def empty_book(exc: DataError) -> bool:
    """Whether the portfolio was refused only for having no account rows (a header and
    nothing else), which a replay takes as an empty book."""
    return [(p.code, p.line, p.message) for p in exc.problems] == [("empty", 2, "no account rows")]


def _write_replay(
    result: Replay, out_dir: str, chart: bool, commit: Callable[[], None] | None = None
) -> None:
    from ..report import replay as replay_report
    from ..report.html.runs import replay_page
    from .outfolder import atomic_folder

    def write(tmp: Path) -> None:
        for name, body in replay_report.files(result).items():
            (tmp / name).write_text(body, encoding="utf-8")
        (tmp / "report.html").write_text(replay_page(result.as_json()), encoding="utf-8")
        if chart:
            replay_report.charts_png(
                result, str(tmp / "tiers_by_quarter.png"), str(tmp / "flows.png")
            )

    atomic_folder(out_dir, write, commit)
