"""`tierbook segment`: read -> evaluate -> capacity and calibration -> gates -> report.

Output is written into a temporary folder beside ``--out`` and swapped in only when
everything is written, so a failed run never leaves partial files over a good model
(``outfolder``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

from ..assess.capacity import calibrate, roll_up
from ..assess.gates import GateContext, run_gates
from ..assess.result import SegmentResult
from ..errors import DataError, Problem
from ..evaluate.recount import Recounter
from ..evaluate.run import compute_values, evaluate
from ..evaluate.values import ValuesWhileReading
from ..portfolio.frame import read_portfolio
from ..report import accounts as account_files
from ..report import summary as report
from ..report.segment_json import segment_json
from ..ruleset.model import Ruleset
from .outfolder import atomic_folder


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
) -> SegmentResult:
    # values once (calibration rounds move band boundaries, not values), computed while
    # reading, a chunk of rows at a time, and kept as the reader's columns: a dict per
    # account only if something asks for one (portfolio.Rows); a large CSV read by two processes
    # comes with them, each process doing its half
    values = ValuesWhileReading(ruleset, as_of)
    values.dicts = False
    portfolio = read_portfolio(
        accounts_path, ruleset, on_error=on_error, display=accounts_display, values=values
    )
    arr_field = ruleset.role("arr") or "arr"
    computed = portfolio.prepared
    if computed is None:
        computed = compute_values(ruleset, portfolio.accounts, as_of, in_place=True)
    computed = _set_aside_unplaceable(ruleset, portfolio, computed, on_error)
    by_field = portfolio.by_field  # the values' columns, where the reader kept them
    input_ids = ["account_id"] + [i.id for i in ruleset.inputs]
    ev = evaluate(
        ruleset,
        portfolio.accounts,
        as_of,
        engine=engine,
        memo=memo,
        progress=progress,
        computed=computed,
        by_field=by_field,
    )
    tiers = ev.tiers()
    arrs = [float(v or 0.0) for v in ev.column(arr_field)]
    capacity = roll_up(ruleset, tiers, arrs)

    # each round only recounts tiers with one boundary moved (tierbook.recount)
    calibration = calibrate(ruleset, ev.bands, dict(Counter(tiers)), Recounter(ev))

    def reclassify(trials: list[tuple[int, float]]) -> list[str]:
        out = []
        for index, new_arr in trials:
            if by_field is not None:  # (not every account's dict for a few of them)
                inputs = {k: by_field[k][index] for k in input_ids if k in by_field}
            else:
                values = portfolio.accounts[index]
                inputs = {k: values[k] for k in input_ids if k in values}
            inputs[arr_field] = new_arr
            out.append(ev.classify(inputs).tier)
        return out

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
    )
    gates = run_gates(ctx, as_of)
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
    )


def _set_aside_unplaceable(
    ruleset: Ruleset, portfolio: Any, computed: Sequence[Any], on_error: str
) -> Sequence[Any]:
    """Accounts whose grid axes cannot be computed (say, a ratio over a zero denominator)
    cannot get a tier: a data problem of that row, reported like a bad cell."""
    axes = [ruleset.band_set(b).over for b in (ruleset.grid.rows, ruleset.grid.columns) if b]
    by_field = portfolio.by_field or {}
    if all(None not in by_field.get(name, [None]) for name in axes):  # (most runs)
        return computed
    values_list = [values for values, _ in computed]
    unknown = [list(map(dict.get, values_list, repeat(name))) for name in axes]
    if not any(None in column for column in unknown):  # (a column at a time)
        return computed
    bad = [i for i, row in enumerate(zip(*unknown)) if None in row]
    problems = []
    for i in bad:
        values = computed[i][0]
        missing = [name for name in axes if values.get(name) is None]
        problems.append(
            Problem(
                portfolio.file,
                portfolio.rows[i],
                1,
                missing[0],
                f"account {values.get('account_id')} cannot be placed in the grid: "
                f"'{missing[0]}' is unknown for it (a blank or zero value it is "
                "computed from)",
                "unplaceable",
            )
        )
    if on_error != "skip":
        raise DataError(f"{portfolio.file}: {len(bad)} account(s) cannot be placed", problems[:200])
    keep = sorted(set(range(len(computed))) - set(bad))
    for i, p in zip(bad, problems):
        portfolio.rejects.append(
            {
                "line": portfolio.rows[i],
                "account_id": computed[i][0].get("account_id"),
                "arr": computed[i][0].get(ruleset.role("arr") or "arr"),
                "reasons": [str(p)],
            }
        )
    portfolio.accounts = [portfolio.accounts[i] for i in keep]
    portfolio.rows = [portfolio.rows[i] for i in keep]
    portfolio.by_field = None
    return [computed[i] for i in keep]


def write_outputs(
    result: SegmentResult,
    out_dir: str,
    chart: bool = True,
    commit: Callable[[], None] | None = None,
) -> None:
    """All files, written to a temporary folder and then swapped in (``outfolder``);
    ``commit``: what must succeed with the swap (the stored run marked complete)."""

    def write(tmp: Path) -> None:
        account_files.write_csv(result, str(tmp / "accounts.csv"))
        account_files.write_jsonl(result, str(tmp / "accounts.jsonl"))
        files = {
            "model.md": report.model_markdown(result),
            "report.json": json.dumps(segment_json(result, accounts=False), indent=2) + "\n",
        }
        if result.rejects:
            files["rejects.csv"] = report.rejects_csv(result.rejects)
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        if chart:
            report.tier_chart_png(result, str(tmp / "tiers.png"))

    atomic_folder(out_dir, write, commit)
    result.out_dir = str(Path(out_dir))
