"""What each command does, reachable from Python without click."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError, Problem, RulesetError, UsageError

if TYPE_CHECKING:  # (the commands' modules are imported when the command runs)
    from ..assess.alignment import Alignment
    from ..assess.replay_result import Quarter, Replay
    from ..assess.result import SegmentResult
    from ..evaluate.run import Evaluation
    from ..ruleset.model import Ruleset
    from .calibrate import CalibrateOutcome
    from .plan import Plan

SAMPLE_PORTFOLIO = "examples/portfolio.csv"


@dataclass
class ValidationReport:
    valid: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # (they do not make a file invalid)
    sides: list[Any] = field(default_factory=list)  # with --base: the base, then each head

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "valid": not self.problems,
            "files": [{"file": f, "valid": f in self.valid} for f in self.valid + self.invalid],
            "errors": [p.as_dict() for p in self.problems],
            "warnings": [p.as_dict() for p in self.warnings],
        }
        if self.sides:
            out["base"] = self.sides[0].as_dict()
            out["heads"] = [s.as_dict() for s in self.sides[1:]]
        return out


def validate(
    paths: list[str], base: str | None = None, as_of: dt.date | None = None
) -> ValidationReport:
    """Each ruleset's errors; and, as warnings, its waivers expired on ``as_of``."""
    # (each command imports what it needs when it runs: `tierbook --help` imports none)
    from ..ruleset.build import check_document, resolve_ruleset_path
    from ..ruleset.waivers import expired_warnings
    from ..ruleset.yamlsafe import load_file
    from .review import version_bump_problems

    report = ValidationReport()
    for given in paths:
        path = resolve_ruleset_path(given)
        try:
            doc = load_file(path, given)
            problems = check_document(doc)
        except RulesetError as exc:
            problems = list(exc.problems)
            doc = None
        if not problems and base and doc is not None:
            problems = version_bump_problems(base, given, doc, report.sides)
        if problems:
            report.invalid.append(given)
            report.problems.extend(problems)
        else:
            report.valid.append(given)
        if doc is not None:
            report.warnings += expired_warnings(doc, as_of or dt.date.today())
    report.problems.sort()
    report.warnings.sort()
    return report


def _bundled(relative: str, what: str) -> str:
    """A bundled sample file: from the source tree, or the copy shipped in the wheel."""
    here = Path(relative)
    if here.exists():
        return str(here)
    shipped = resources.files("tierbook.examples").joinpath(here.name)
    if shipped.is_file():
        return str(shipped)
    raise UsageError(f"no {what} given and the bundled sample ({relative}) was not found")


def sample_portfolio() -> str:
    return _bundled(SAMPLE_PORTFOLIO, "ACCOUNTS")


def load(ruleset_arg: str | None) -> tuple[Ruleset, str]:
    """A validated ruleset and its text (for the trace store): a path, a shipped ruleset
    name, or git:REF:PATH."""
    from ..ruleset.build import resolve_ruleset_path, ruleset_from_document
    from ..ruleset.sources import load_document
    from ..ruleset.yamlsafe import load_file

    doc = (
        load_document(ruleset_arg)
        if ruleset_arg
        else load_file(resolve_ruleset_path(None), "cs-segmentation-model")
    )
    return ruleset_from_document(doc), doc.text


def _segment_and_store(
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
    write: Callable[[SegmentResult, Callable[[], None]], None] | None = None,
) -> SegmentResult:
    """Segment, then keep the run in the trace store and write the files (if asked),
    together: the store is checked before anything else; the run's rows go in as an
    incomplete run, ``write(result, commit)`` stages the files and swaps them in, and
    ``commit`` marks the run complete; if any step fails the run is marked failed and the
    previous files stay."""
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
    )
    store = TraceStore(path)
    try:
        run_id = store.write_run(
            result.evaluation,
            ruleset_text=text,
            input_file=result.input_file,
            input_sha256=result.input_sha256,
            command=command,
            label=label,
            complete=False,
            defaults=result.defaults,
        )
        try:
            if write is not None:
                write(result, lambda: store.complete_runs([run_id]))
            else:
                store.complete_runs([run_id])
        except BaseException:
            store.fail_runs([run_id])
            raise
        result.run_id = run_id
    finally:
        store.close()
    result.store_path = str(Path(path))
    return result


def _store_outside(store_path: str | None, out_dir: str | None) -> None:
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


def plan(
    base: str,
    head: str,
    accounts: str | None,
    *,
    as_of: dt.date,
    engine: str = "auto",
    store_path: str | None = None,
    memo: bool = True,
    on_error: str = "fail",
) -> Plan:
    from ..ruleset.build import ruleset_from_document
    from ..ruleset.diff import diff_documents
    from .plan import compare
    from .review import load_pair

    base_doc, head_doc, base_side, head_side = load_pair(base, head, "plan")
    sides = []
    for spec, label, doc in ((base, "base", base_doc), (head, "head", head_doc)):
        ruleset, text = ruleset_from_document(doc), doc.text
        sides.append(
            _segment_and_store(
                ruleset,
                text,
                accounts,
                as_of=as_of,
                engine=engine,
                store_path=store_path,
                memo=memo,
                on_error=on_error,
                command="plan",
                label=f"{label}: {spec}",
            )
        )
    p = compare(sides[0], sides[1], rules=diff_documents(base_doc.data, head_doc.data))
    p.sources = [base_side, head_side]
    return p


def segment(
    ruleset_arg: str | None,
    accounts: str | None,
    *,
    as_of: dt.date,
    engine: str = "auto",
    store_path: str | None = None,
    memo: bool = True,
    out_dir: str | None = None,
    on_error: str = "fail",
    chart: bool = True,
    progress: Callable[[int], None] | None = None,
) -> SegmentResult:
    from .segment import write_outputs

    _store_outside(store_path, out_dir)
    ruleset, text = load(ruleset_arg)
    return _segment_and_store(
        ruleset,
        text,
        accounts,
        as_of=as_of,
        engine=engine,
        store_path=store_path,
        memo=memo,
        on_error=on_error,
        command="segment",
        progress=progress,
        write=(lambda r, commit: write_outputs(r, out_dir, chart=chart, commit=commit))
        if out_dir
        else None,
    )


def explain(
    account_id: str, run_id: int | None = None, store_path: str | None = None
) -> dict[str, Any]:
    from ..trace.runs import explain_from
    from ..trace.store import TraceStore

    store = TraceStore(store_path, create=False)
    try:
        return explain_from(store, account_id, run_id)
    finally:
        store.close()


SAMPLE_EVENTS = "examples/events.csv"


def sample_events() -> str:
    return _bundled(SAMPLE_EVENTS, "EVENTS")


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
) -> Replay:
    import hashlib

    from ..portfolio.events import read_events
    from ..portfolio.frame import read_portfolio
    from ..trace.movements import movement_rows
    from ..trace.preflight import check_store
    from ..trace.store import TraceStore, default_path
    from .replay import replay as run_replay

    _store_outside(store_path, out_dir)
    ruleset, text = load(ruleset_arg)
    check_store(store_path or default_path())
    accounts_path = accounts or sample_portfolio()
    events_file = events_path or sample_events()
    shown = events_path or SAMPLE_EVENTS
    portfolio = read_portfolio(
        accounts_path, ruleset, on_error=on_error, display=accounts or SAMPLE_PORTFOLIO
    )
    events, skipped = read_events(events_file, shown, on_error=on_error)
    digest = hashlib.sha256(Path(events_file).read_bytes()).hexdigest()
    store = TraceStore(store_path)
    state: dict[str, Any] = {}
    run_ids: list[int] = []  # each quarter's run, kept incomplete until the replay is done

    def on_quarter(q: Quarter, ev: Evaluation) -> None:
        rows = movement_rows(q, ev, ruleset.role("arr") or "arr")
        q.run_id = store.write_run(
            ev,
            ruleset_text=text,
            input_file=shown,
            input_sha256=digest,
            command="replay",
            label=q.quarter,
            complete=False,
        )
        run_ids.append(q.run_id)
        replay_id = state.setdefault("replay_id", q.run_id)
        store.write_movements(replay_id, q.quarter, q.run_id, rows)

    try:
        result = run_replay(
            ruleset,
            portfolio.accounts,
            events,
            as_of=as_of,
            engine=engine,
            memo=memo,
            on_error=on_error,
            events_file=shown,
            skipped=skipped,
            on_quarter=on_quarter,
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


def _write_replay(
    result: Replay, out_dir: str, chart: bool, commit: Callable[[], None] | None = None
) -> None:
    from ..report import replay as replay_report
    from .outfolder import atomic_folder

    def write(tmp: Path) -> None:
        for name, body in replay_report.files(result).items():
            (tmp / name).write_text(body, encoding="utf-8")
        if chart:
            replay_report.charts_png(
                result, str(tmp / "tiers_by_quarter.png"), str(tmp / "flows.png")
            )

    atomic_folder(out_dir, write, commit)


def history(
    account_id: str, store_path: str | None = None, replay_id: int | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The replay answered from (``replay_id``: the id of any of its runs) and the
    account's quarters in it."""
    from ..trace.runs import history_from
    from ..trace.store import TraceStore

    store = TraceStore(store_path, create=False)
    try:
        return history_from(store, account_id, replay_id)
    finally:
        store.close()


def calibrate(
    ruleset_arg: str | None,
    accounts: str | None,
    *,
    as_of: dt.date,
    engine: str = "auto",
    output: str | None = None,
    in_place: bool = False,
    on_error: str = "fail",
    store_path: str | None = None,
    memo: bool = True,
) -> CalibrateOutcome:
    """Write the recommended capacity calibration as a new ruleset version (written,
    nothing to calibrate, or refused and why)."""
    from ..ruleset.build import resolve_ruleset_path, ruleset_from_document
    from ..ruleset.sources import load_document
    from ..ruleset.yamlsafe import load_file
    from .calibrate import finish

    if not output and not in_place:
        raise UsageError(
            "give --output FILE for the new version, or --in-place to rewrite "
            "the ruleset file (review the diff before merging)"
        )
    doc = (
        load_document(ruleset_arg)
        if ruleset_arg
        else load_file(resolve_ruleset_path(None), "cs-segmentation-model")
    )
    if in_place and (not ruleset_arg or not Path(ruleset_arg).is_file()):
        raise UsageError("--in-place needs a ruleset file path (not a shipped name or git ref)")
    ruleset = ruleset_from_document(doc)
    result = _segment_and_store(
        ruleset,
        doc.text,
        accounts,
        as_of=as_of,
        engine=engine,
        store_path=store_path,
        memo=memo,
        on_error=on_error,
        command="calibrate",
    )
    target = Path(ruleset_arg if in_place else output)  # type: ignore[arg-type]
    return finish(doc, result, as_of, target)


def align(
    ruleset_arg: str | None,
    accounts: str | None,
    *,
    as_of: dt.date,
    engine: str = "auto",
    store_path: str | None = None,
    memo: bool = True,
    on_error: str = "fail",
) -> tuple[SegmentResult, Alignment | None]:
    """Coverage alignment, expansion ranking and territory rebalancing (priority-model)."""
    from ..assess.alignment import align as run_align

    ruleset, text = load(ruleset_arg or "priority-model")
    if not ruleset.alignment:
        raise UsageError(
            f"ruleset {ruleset.name} declares no `alignment` (the priority-model ruleset does)"
        )
    result = _segment_and_store(
        ruleset,
        text,
        accounts,
        as_of=as_of,
        engine=engine,
        store_path=store_path,
        memo=memo,
        on_error=on_error,
        command="align",
    )
    return result, run_align(result)
