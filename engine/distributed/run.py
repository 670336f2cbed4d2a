"""A segmentation's read and evaluation spread over a Dask cluster.

1. Each worker reads, casts and values its partitions (``worker.read_part``).
2. The driver gathers their findings and the known values of what each band set bands
   (a few floats per account: gathered whole, so quartiles, the auto choice and target
   shares are the single-machine ones exactly, computed by the same functions).
3. Workers compute their partitions' condition codes and conditions held under the network
   of those bands; the driver unites the classes in account order, runs the executor once
   per class of the whole portfolio and joins each partition's accounts to their paths.

The result is the ``Evaluation`` and ``Portfolio`` a single-machine run makes of the same
accounts, so everything after it (capacity, calibration, gates, reports, the store) is the
same code.  A task whose worker is lost is run again by Dask (``RETRIES``); a run that still
cannot finish raises, before anything is written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from ..errors import EXIT_INTERNAL, DataError, Problem, TierbookError
from ..evaluate.bands import resolve_all
from ..evaluate.run import Evaluation, evaluate_classes
from ..network.classes import Classes
from ..network.compile import compile_network
from ..network.executor import choose_engine
from ..portfolio.frame import MAX_PROBLEMS, Portfolio
from ..ruleset.model import Ruleset
from .cluster import connect
from .parts import partitioned
from .repeats import read_again
from .worker import PartSummary, SetAside, part_classes, read_part, summarize

RETRIES = 3  # a task is tried this many times more when it fails or its worker is lost
SPLITS_PER_WORKER = 4  # ranges per worker when one file is cut


class ClusterError(TierbookError):
    """The cluster could not finish the run (workers lost beyond the retries)."""

    exit_code = EXIT_INTERNAL


def distributed_evaluation(
    ruleset: Ruleset,
    path: str,
    *,
    display: str,
    as_of: dt.date,
    engine: str,
    on_error: str,
    memo: bool,
    scheduler: str,
    set_aside: SetAside,
    progress: Callable[[int], None] | None = None,
) -> tuple[Portfolio, Evaluation]:
    choose_engine(engine)
    with connect(scheduler) as client:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        source = partitioned(path, display, workers * SPLITS_PER_WORKER)
        try:
            return _run(client, source, ruleset, as_of, engine, on_error, memo, set_aside, progress)
        except TierbookError:
            raise
        except Exception as exc:
            raise ClusterError(f"the distributed run could not finish: {exc!r}") from exc


def _run(
    client: Any,
    source: Any,
    ruleset: Ruleset,
    as_of: dt.date,
    engine: str,
    on_error: str,
    memo: bool,
    set_aside: SetAside,
    progress: Callable[[int], None] | None,
) -> tuple[Portfolio, Evaluation]:
    parts = source.parts

    def read(k: int, earlier: dict[Any, str] | None = None) -> Any:
        return client.submit(
            read_part,
            k,
            parts[k],
            ruleset,
            as_of,
            on_error,
            set_aside,
            earlier,
            retries=RETRIES,
            pure=False,
        )

    def summaries_of(futures: list[Any]) -> list[PartSummary]:
        found: list[PartSummary] = client.gather(
            [client.submit(summarize, r, overs, retries=RETRIES, pure=False) for r in futures]
        )
        return found

    reads = [read(k) for k in range(len(parts))]
    overs = sorted({bs.over for bs in ruleset.bands})
    summaries = summaries_of(reads)
    read_again(reads, summaries, [s.seen for s in summaries], read, summaries_of)
    portfolio = merged_portfolio(source.display, source.sha256, summaries, on_error)
    banded = {
        over: pl.concat([s.banded[over] for s in summaries if over in s.banded]).to_list()
        if any(over in s.banded for s in summaries)
        else []
        for over in overs
    }
    resolved = resolve_all(ruleset, banded)
    network = compile_network(ruleset, resolved)
    found = client.gather(
        [
            client.submit(part_classes, r, ruleset, resolved, memo, retries=RETRIES, pure=False)
            for r in reads
        ]
    )
    del reads
    frame, classes = united(found, memo)
    _duplicates_across(portfolio, frame, summaries, ruleset)
    ev = evaluate_classes(ruleset, network, frame, classes, as_of, engine, memo, progress)
    return portfolio, ev


def united(
    found: Sequence[tuple[pl.DataFrame, Classes]], memo: bool
) -> tuple[pl.DataFrame, Classes]:
    """The partitions' frames one after the other, and their classes as one portfolio's:
    in the order of each class's first account, equal conditions held one class."""
    index: dict[bytes, int] = {}
    first: list[int] = []
    bits: list[bytes] = []
    held: list[bytes] = []
    of_parts: list[pl.Series] = []
    offset = 0
    for frame, c in found:
        local: list[int] = []
        for f, b, h in zip(c.first, c.bits, c.held):
            g = index.get(h) if memo else None
            if g is None:
                g = len(first)
                if memo:
                    index[h] = g
                first.append(offset + f)
                bits.append(b)
                held.append(h)
            local.append(g)
        of_parts.append(pl.Series("class", local, dtype=pl.UInt32).gather(c.of_account))
        offset += frame.height
    frames = [f for f, _ in found if f.width]
    frame = pl.concat(frames, how="vertical") if frames else pl.DataFrame()
    of_account = (
        pl.concat(of_parts) if of_parts else pl.Series("class", [], dtype=pl.UInt32)
    ).alias("class")
    return frame, Classes(first, bits, held, of_account)


_PLACED = re.compile(r": (\d+) account\(s\) cannot be placed$")


def merged_portfolio(
    display: str, sha256: str, summaries: Sequence[PartSummary], on_error: str
) -> Portfolio:
    """The partitions' findings as one portfolio's, in part order: the first problems of
    the whole (at most MAX_PROBLEMS, whole rows), each naming its part file and line."""
    for stage in ("read", "place"):
        failed = [s.error for s in summaries if s.error is not None and s.stage == stage]
        if failed:
            raise merged_error(display, stage, failed)
    read = [s.portfolio for s in summaries if s.portfolio is not None]
    if not read:
        raise DataError("no accounts", [Problem(display, 2, 1, "", "no account rows", "empty")])
    head = read[0]
    gaps: Counter[str] = Counter()
    defaulted: Counter[str] = Counter()
    defaulted_ids: dict[str, list[Any]] = {}
    rows: list[int] = []
    rejects: list[dict[str, Any]] = []
    for p in read:
        gaps.update(p.gaps)
        defaulted.update(p.defaulted)
        rows.extend(p.rows)
        rejects.extend(p.rejects)
        for key, ids in p.defaulted_ids.items():
            defaulted_ids.setdefault(key, []).extend(ids)
    order = list(head.frame.columns)
    defaulted_ids = {k: defaulted_ids[k] for k in sorted(defaulted_ids, key=_position(order))}
    return Portfolio(
        display,
        sha256,
        head.frame,
        rows,
        dict(head.columns),
        list(head.ignored_columns),
        gaps,
        defaulted,
        list(head.missing_columns),
        rejects,
        head.numbers,
        defaulted_ids,
        unit=head.unit,
    )


def _position(order: list[str]) -> Callable[[str], int]:
    return lambda key: order.index(key) if key in order else len(order)


def merged_error(display: str, stage: str, errors: Sequence[DataError]) -> DataError:
    if stage == "place":
        count = 0
        for e in errors:
            found = _PLACED.search(str(e))
            count += int(found.group(1)) if found else len(e.problems)
        problems = [p for e in errors for p in e.problems][:MAX_PROBLEMS]
        return DataError(f"{display}: {count} account(s) cannot be placed", problems)
    problems = []
    for e in errors:  # whole rows, until MAX_PROBLEMS
        if any(p.code not in _ROW_CODES for p in e.problems):
            return e  # (a file that cannot be read at all: its own error)
        for _, row in _by_row(e.problems):
            if len(problems) >= MAX_PROBLEMS:
                break
            problems.extend(row)
    note = f" (stopped after {MAX_PROBLEMS})" if len(problems) >= MAX_PROBLEMS else ""
    return DataError(f"{display}: {len(problems)} bad value(s){note}", problems)


_ROW_CODES = {"bad-value", "out-of-range", "blank", "duplicate-id", "row-length", "invalid"}


def _by_row(problems: Sequence[Problem]) -> list[tuple[tuple[str, int], list[Problem]]]:
    rows: dict[tuple[str, int], list[Problem]] = {}
    for p in problems:
        rows.setdefault((p.file, p.line), []).append(p)
    return list(rows.items())


def _duplicates_across(
    portfolio: Portfolio, frame: pl.DataFrame, summaries: Sequence[PartSummary], ruleset: Ruleset
) -> None:
    """An account id seen in an earlier partition: the error a single read gives it."""
    if "account_id" not in frame.columns or not frame.height:
        return
    part_of = pl.Series(
        [s.index for s in summaries for _ in range(s.height)], dtype=pl.UInt32
    ).alias("\0part")
    keyed = frame.select("account_id").with_columns(part_of).with_row_index("\0at")
    firsts = (
        keyed.filter(pl.col("account_id").is_not_null() & pl.col("account_id").is_duplicated())
        .group_by("account_id", maintain_order=True)
        .agg(pl.col("\0part").n_unique().alias("\0parts"), pl.col("\0at"))
    )
    crossing = firsts.filter(pl.col("\0parts") > 1)
    if not crossing.height:
        return
    id_input = ruleset.role("account_id") or "account_id"
    header = portfolio.columns.get(id_input, "account_id")
    id_columns = {s.index: s.id_column for s in summaries}
    files = {s.index: s.portfolio.file for s in summaries if s.portfolio is not None}
    units = {s.index: s.portfolio.unit for s in summaries if s.portfolio is not None}
    parts = keyed["\0part"]
    problems = []
    for account_id, ats in zip(crossing["account_id"].to_list(), crossing["\0at"].to_list()):
        first = ats[0]
        for at in ats[1:]:
            where = portfolio.rows[first]
            if parts[at] != parts[first]:
                where_file = files[parts[first]]
                problems.append(
                    Problem(
                        files[parts[at]],
                        portfolio.rows[at],
                        id_columns.get(parts[at], 1),
                        header,
                        f"duplicate account id '{account_id}' (first on "
                        f"{units[parts[first]]} {where}"
                        + ("" if where_file == files[parts[at]] else f" of {where_file}")
                        + ")",
                        "duplicate-id",
                        units[parts[at]],
                    )
                )
    problems = sorted(problems)[:MAX_PROBLEMS]
    raise DataError(f"{portfolio.file}: {len(problems)} bad value(s)", problems)
