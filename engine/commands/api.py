"""What each command does, reachable from Python without click.  The commands with a
module of their own (validate, replay) are here too: `api.<command>` is each one (replay
imported when first asked for: `tierbook validate` does not need it).  (Each command
imports what it needs when it runs: `tierbook --help` imports none.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .inputs import SAMPLE_EVENTS, SAMPLE_PORTFOLIO, load, sample_events, sample_portfolio
from .validate import ValidationReport, validate

if TYPE_CHECKING:
    from ..assess.alignment import Alignment
    from ..assess.result import SegmentResult
    from ..sources.model import RunInputs
    from .calibrate import CalibrateOutcome
    from .plan import Plan
    from .replay_command import replay

__all__ = [
    "SAMPLE_EVENTS",
    "SAMPLE_PORTFOLIO",
    "ValidationReport",
    "align",
    "calibrate",
    "explain",
    "history",
    "load",
    "plan",
    "replay",
    "sample_events",
    "sample_portfolio",
    "segment",
    "validate",
]


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
    overrides: str | None = None,
    base_overrides: str | None = None,
    inputs: RunInputs | None = None,
    scheduler: str | None = None,
) -> Plan:
    from ..overrides.select import overrides_for
    from ..ruleset.build import ruleset_from_document
    from ..ruleset.diff import diff_documents
    from .plan import compare
    from .review import load_pair
    from .stored_run import segment_and_store

    base_doc, head_doc, base_side, head_side = load_pair(
        base, head, "plan", same_ok=base_overrides is not None
    )
    # both sides' rulesets and overrides are read before either is run, and the two runs
    # are completed together: a plan that fails leaves no run of it complete in the store
    prepared = []
    for spec, label, doc in ((base, "base", base_doc), (head, "head", head_doc)):
        ruleset = ruleset_from_document(doc)
        pinned = overrides_for(
            ruleset, (base_overrides or overrides) if label == "base" else overrides
        )
        prepared.append((f"{label}: {spec}", ruleset, doc.text, pinned))
    sides: list[SegmentResult] = []
    try:
        for label, ruleset, text, pinned in prepared:
            sides.append(
                segment_and_store(
                    ruleset,
                    text,
                    accounts,
                    as_of=as_of,
                    engine=engine,
                    store_path=store_path,
                    memo=memo,
                    on_error=on_error,
                    command="plan",
                    label=label,
                    overrides=pinned,
                    inputs=inputs,
                    scheduler=scheduler,
                    complete=False,
                )
            )
    except BaseException:
        _finish_runs(sides, complete=False)
        raise
    _finish_runs(sides, complete=True)
    p = compare(sides[0], sides[1], rules=diff_documents(base_doc.data, head_doc.data))
    p.sources = [base_side, head_side]
    return p


def _finish_runs(sides: list[SegmentResult], *, complete: bool) -> None:
    """The stored runs of ``sides`` marked complete together, or failed."""
    from ..trace.store import TraceStore

    if not sides:
        return
    store = TraceStore(sides[0].store_path)
    try:
        ids = [r.run_id for r in sides if r.run_id is not None]
        (store.complete_runs if complete else store.fail_runs)(ids)
    finally:
        store.close()


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
    overrides: str | None = None,
    inputs: RunInputs | None = None,
    scheduler: str | None = None,
) -> SegmentResult:
    from ..overrides.select import overrides_for
    from .outfolder import check_out
    from .segment import write_outputs
    from .stored_run import segment_and_store, store_outside

    if out_dir:
        check_out(out_dir)
    store_outside(store_path, out_dir)
    ruleset, text = load(ruleset_arg)
    return segment_and_store(
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
        overrides=overrides_for(ruleset, overrides),
        inputs=inputs,
        write=(lambda r, writing: write_outputs(r, out_dir, chart=chart, writing=writing))
        if out_dir
        else None,
        scheduler=scheduler,
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
    overrides: str | None = None,
    inputs: RunInputs | None = None,
) -> CalibrateOutcome:
    """Write the recommended capacity calibration as a new ruleset version (written,
    nothing to calibrate, or refused and why)."""
    from ..overrides.select import overrides_for
    from ..ruleset.build import ruleset_from_document
    from ..ruleset.sources import load_document, resolve_ruleset_path
    from ..ruleset.yamlsafe import load_file
    from .calibrate import finish
    from .stored_run import segment_and_store

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
    result = segment_and_store(
        ruleset,
        doc.text,
        accounts,
        as_of=as_of,
        engine=engine,
        store_path=store_path,
        memo=memo,
        on_error=on_error,
        command="calibrate",
        overrides=overrides_for(ruleset, overrides),
        inputs=inputs,
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
    overrides: str | None = None,
    inputs: RunInputs | None = None,
) -> tuple[SegmentResult, Alignment | None]:
    """Coverage alignment, expansion ranking and territory rebalancing (priority-model)."""
    from ..assess.alignment import align as run_align
    from ..overrides.select import overrides_for
    from .stored_run import segment_and_store

    ruleset, text = load(ruleset_arg or "priority-model")
    if not ruleset.alignment:
        raise UsageError(
            f"ruleset {ruleset.name} declares no `alignment` (the priority-model ruleset does)"
        )
    result = segment_and_store(
        ruleset,
        text,
        accounts,
        as_of=as_of,
        engine=engine,
        store_path=store_path,
        memo=memo,
        on_error=on_error,
        command="align",
        overrides=overrides_for(ruleset, overrides),
        inputs=inputs,
    )
    return result, run_align(result)


def __getattr__(name: str) -> object:
    """``api.replay``, imported when first asked for."""
    if name == "replay":
        from .replay_command import replay

        return replay
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
