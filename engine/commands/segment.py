"""`tierbook segment`: read -> evaluate -> capacity and calibration -> gates -> report.

Output is written into a temporary folder beside ``--out`` and swapped in only when
everything is written, so a failed run never leaves partial files over a good model
(``outfolder``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl

from ..assess.capacity import calibrate, roll_up
from ..assess.gates import GateContext, run_gates
from ..assess.proximity import near_boundaries
from ..assess.reach import unreachable_tiers
from ..assess.result import SegmentResult
from ..errors import DataError, Problem, UsageError
from ..evaluate.run import evaluate, tier_counts
from ..evaluate.values import with_values
from ..overrides.model import Overrides
from ..overrides.segment import override_report
from ..portfolio.frame import Portfolio
from ..portfolio.headers import lookalikes
from ..report import accounts as account_files
from ..report import book as book_report
from ..report import chart as chart_file
from ..report import summary as report
from ..report.html.segment import write_segment_page
from ..report.jsontext import indented
from ..report.segment_json import segment_json
from ..ruleset.model import Ruleset
from ..sources.apply import prepare_ruleset, read_accounts
from ..sources.model import RolledUp, RunInputs, run_inputs_json
from .outfolder import Writing, atomic_folder


def segment(
    ruleset: Ruleset,
    accounts_path: str,
    *,
    as_of: dt.date,
    engine: str = "auto",
    on_error: str = "fail",
    memo: bool = True,
    accounts_display: str | None = None,
    progress: Callable[[int], None] | None = None,
    overrides: Overrides | None = None,
    inputs: RunInputs | None = None,
    scheduler: str | None = None,
) -> SegmentResult:
    """``inputs``: tables rolled up into the accounts, a column mapping, CSM headcount
    (tierbook.sources); ``scheduler``: read and evaluate on a Dask cluster
    (tierbook.distributed), the rest as on one machine."""
    given_ruleset = ruleset
    rolled = RolledUp()
    if inputs is not None and not inputs.empty:
        if scheduler and inputs.tables:
            raise UsageError(
                "--scheduler does not roll up tables yet (--table, or tables in --inputs): "
                "roll them up on one machine, or give the accounts their rolled-up columns"
            )
        ruleset = prepare_ruleset(ruleset, inputs)
    original_capacity = dict(given_ruleset.capacity.per_tier)
    arr_field = ruleset.role("arr") or "arr"
    if scheduler:
        from ..distributed.run import distributed_evaluation

        portfolio, ev = distributed_evaluation(
            ruleset,
            accounts_path,
            display=accounts_display or accounts_path,
            as_of=as_of,
            engine=engine,
            on_error=on_error,
            memo=memo,
            scheduler=scheduler,
            set_aside=set_aside_unplaceable,
            progress=progress,
        )
    else:
        portfolio, rolled = read_accounts(
            accounts_path, ruleset, inputs, as_of=as_of, on_error=on_error, display=accounts_display
        )
        frame = set_aside_unplaceable(
            ruleset, portfolio, with_values(ruleset, portfolio.frame, as_of), on_error
        )
        ev = evaluate(ruleset, frame, as_of, engine=engine, memo=memo, progress=progress)
    input_ids = ["account_id"] + [i.id for i in ruleset.inputs]
    tiers = ev.tiers()
    arrs = [float(v or 0.0) for v in ev.column(arr_field)]
    pinned = None if overrides is None else override_report(ruleset, ev, overrides, arrs)
    capacity = roll_up(ruleset, tiers if pinned is None else pinned.tiers(tiers), arrs)
    # each round re-evaluates the same values with one boundary moved
    calibration = calibrate(
        ruleset, ev.bands, dict(Counter(tiers)), lambda bands: tier_counts(ev, bands)
    )

    def reclassify(trials: list[tuple[int, float]]) -> list[str]:
        """The tiers of some accounts (by index) with another ARR, in one batch."""
        if not trials:
            return []
        inputs = ev.frame.select([k for k in dict.fromkeys(input_ids) if k in ev.frame.columns])
        moved = inputs[[index for index, _ in trials]].with_columns(
            pl.Series(
                arr_field,
                [arr for _, arr in trials],
                dtype=inputs.schema.get(arr_field, pl.Float64),
            )
        )
        return [d.tier for d in ev.classify_frame(moved)]

    input_arr = sum(arrs)  # (the accounts' own ARR, in their order)
    rejected_arr = sum(r.get("arr") or 0.0 for r in portfolio.rejects)
    input_arr += rejected_arr
    ctx = GateContext(
        ruleset,
        ev,
        capacity,
        round(input_arr, 2),
        arr_field,
        dict(portfolio.gaps),
        portfolio.missing_columns,
        reclassify,
        len(portfolio.rejects),
        round(rejected_arr, 2),
        None if pinned is None else pinned.tiers(tiers),
    )
    gates = run_gates(ctx, as_of)
    near = near_boundaries(ruleset, ev, arr_field, reclassify)
    return SegmentResult(
        ruleset,
        ev,
        capacity,
        calibration,
        gates,
        portfolio.file,
        portfolio.sha256,
        sum(arrs),
        arr_field,
        dict(portfolio.gaps),
        dict(portfolio.defaulted),
        portfolio.missing_columns,
        portfolio.rejects,
        defaults={**dict.fromkeys(portfolio.missing_columns), **portfolio.defaulted_ids},
        near_boundaries=near,
        ignored_columns=list(portfolio.ignored_columns),
        lookalike_columns=lookalikes(ruleset, portfolio.ignored_columns, portfolio.missing_columns),
        unreachable=unreachable_tiers(ruleset, ev.bands, portfolio.missing_columns),
        read_warnings=portfolio.warnings,
        overrides=pinned,
        inputs=run_inputs_json(inputs, rolled, original_capacity),
    )


def set_aside_unplaceable(
    ruleset: Ruleset, portfolio: Portfolio, frame: pl.DataFrame, on_error: str
) -> pl.DataFrame:
    """Accounts whose grid axes cannot be computed (say, a ratio over a zero denominator)
    cannot get a tier: a data problem of that row, reported like a bad cell."""
    axes = [ruleset.band_set(b).over for b in (ruleset.grid.rows, ruleset.grid.columns) if b]
    unknown = (
        pl.any_horizontal(
            [pl.col(a).is_null() if a in frame.columns else pl.lit(True) for a in axes]
        )
        if axes
        else pl.lit(False)
    )
    bad = frame.with_row_index("\0at").filter(unknown)["\0at"].to_list()
    if not bad:
        return frame
    arr_field = ruleset.role("arr") or "arr"
    problems = []
    for i in bad:
        row = frame.row(i, named=True)
        missing = [name for name in axes if row.get(name) is None]
        problems.append(
            Problem(
                portfolio.file,
                portfolio.rows[i],
                1,
                missing[0],
                f"account {row.get('account_id')} cannot be placed in the grid: "
                f"'{missing[0]}' is unknown for it (a blank or zero value it is "
                "computed from)",
                "unplaceable",
                portfolio.unit,
            )
        )
        if on_error == "skip":
            portfolio.rejects.append(
                {
                    "line": portfolio.rows[i],
                    "account_id": row.get("account_id"),
                    "arr": row.get(arr_field),
                    "reasons": [str(problems[-1])],
                }
            )
        elif len(problems) >= 200:
            break
    if on_error != "skip":
        raise DataError(f"{portfolio.file}: {len(bad)} account(s) cannot be placed", problems[:200])
    gone = set(bad)
    keep = [i for i in range(frame.height) if i not in gone]
    portfolio.rows = [portfolio.rows[i] for i in keep]
    portfolio.frame = portfolio.frame[keep]
    return frame[keep]


def write_outputs(
    result: SegmentResult,
    out_dir: str,
    chart: bool = True,
    writing: Writing | None = None,
) -> None:
    """All files, written to a temporary folder and then swapped in (``outfolder``);
    ``writing``: the stored run being written meanwhile, waited for before report.html
    (which embeds traces read back from it), and marked complete with the swap."""

    def write(tmp: Path) -> None:
        account_files.write_csv(result, str(tmp / "accounts.csv"))
        account_files.write_jsonl(result, str(tmp / "accounts.jsonl"))
        doc = segment_json(result, accounts=False)

        def text(name: str, content: str) -> None:  # (each file written as soon as made)
            (tmp / name).write_text(content, encoding="utf-8")

        text("model.md", report.model_markdown(result))
        text("report.json", indented(doc) + "\n")
        if result.rejects:
            text("rejects.csv", report.rejects_csv(result.rejects))
        book_report.write_changes_csv(result, str(tmp / "changes.csv"))
        if chart:
            chart_file.tier_chart_png(result, str(tmp / "tiers.png"))
        if writing is not None:
            writing.stored()
        write_segment_page(result, doc, str(tmp / "report.html"))

    atomic_folder(out_dir, write, writing.commit if writing is not None else None)
    result.out_dir = str(Path(out_dir))
