"""Evaluate a portfolio: values -> bands resolved -> network compiled -> executor per class.

Every comparison in the rules is with a constant, so accounts whose comparisons make the
same rule conditions hold (one *class*, ``network.classes``) fire exactly the same rules.
The executor runs once per class and each account keeps its own values beside the firing
path: a path id per account joins the decisions back.  ``memo=False`` runs the executor
for every account (the differential test proves the two identical).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

from ..errors import EngineError
from ..network.classes import Classes, classes, path_cache, paths_of
from ..network.compile import compile_network
from ..network.executor import Executor, choose_engine, make_executor
from ..network.model import Network
from ..portfolio.frame import input_frame, python_column
from ..ruleset.model import Ruleset
from .bands import ResolvedBands, resolve_all
from .decisions import Decision, Decisions, check_complete, decode
from .values import part_names, rows_of, value_names, whole_as_int, with_values


@dataclass
class Evaluation:
    """An evaluated portfolio: the frame of every account's values and score parts, the
    path each account took (``path_of``), each path's firings and the decision of its first
    account (``firsts``), which every account on the path shares."""

    ruleset: Ruleset
    network: Network
    bands: dict[str, ResolvedBands]
    engine: str
    engine_note: str
    as_of: dt.date
    frame: pl.DataFrame
    path_of: pl.Series
    paths: list[list[tuple[int, int]]]  # path id -> [(rule index, disjunct)]
    firsts: list[Decision]
    memo: dict[bytes, int] = field(default_factory=dict)  # conditions held -> path id
    _columns: dict[str, list[Any]] = field(default_factory=dict)

    @cached_property
    def _whole(self) -> set[str]:
        return whole_as_int(self.ruleset)

    def column(self, name: str) -> list[Any]:
        """Each account's value of ``name`` (None where it has none), in account order."""
        found = self._columns.get(name)
        if found is None:
            if name in self.frame.columns:
                found = python_column(self.frame[name], name in self._whole)
            else:
                found = [None] * self.frame.height
            self._columns[name] = found
        return found

    def columns(
        self, names: Sequence[str], start: int = 0, stop: int | None = None
    ) -> dict[str, list[Any]]:
        """Some values of the accounts from ``start`` to ``stop`` (a name the frame lacks:
        none), as Python values, not kept."""
        part = self.frame.slice(start, None if stop is None else stop - start)
        return {n: python_column(part[n], n in self._whole) for n in names if n in part.columns}

    def part_columns(
        self, score_id: str, start: int = 0, stop: int | None = None
    ) -> dict[str, list[Any]]:
        """Each component's part of score ``score_id`` (component order), per account from
        ``start`` to ``stop``."""
        part = self.frame.slice(start, None if stop is None else stop - start)
        return {
            cid: part[name].to_list() for cid, name in part_names(self.ruleset).get(score_id, [])
        }

    def score_counts(self, score_id: str) -> tuple[int, int, int]:
        """(accounts without the score, component parts outside 0-1: NaN included,
        accounts scored over their known components only: ``when_unknown: renormalise``)."""
        if score_id not in self.frame.columns:
            return self.frame.height, 0, 0
        names = [name for _, name in part_names(self.ruleset).get(score_id, [])]
        outside = [((pl.col(n) < 0) | (pl.col(n) > 1)).sum() for n in names]
        some_unknown = pl.any_horizontal([pl.col(n).is_null() for n in names]) if names else None
        counts = self.frame.select(
            pl.col(score_id).null_count().alias("\0blank"),
            pl.sum_horizontal(outside).alias("\0outside") if outside else pl.lit(0),
            (pl.col(score_id).is_not_null() & some_unknown).sum().alias("\0partial")
            if some_unknown is not None
            else pl.lit(0),
        )
        blank, out, partial = counts.row(0)
        return int(blank), int(out or 0), int(partial or 0)

    def rows(self, start: int, stop: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The values and score parts of the accounts from ``start`` to ``stop`` as dicts."""
        return frame_rows(self.ruleset, self.frame.slice(start, stop - start), self._whole)

    def decisions_at(self, rows: Sequence[int]) -> list[Decision]:
        """The decisions of the accounts at ``rows`` (their values read for those only)."""
        at = pl.Series(rows, dtype=pl.UInt32)
        values, parts = frame_rows(self.ruleset, self.frame[at], self._whole)
        ids, paths = self.account_ids(), self.path_ids()
        return [self.firsts[paths[k]].on_path(ids[k], v, p) for k, v, p in zip(rows, values, parts)]

    def path_ids(self) -> list[int]:
        """The path each account took, in account order."""
        found = self._columns.get("\0path")
        if found is None:
            found = self._columns["\0path"] = self.path_of.to_list()
        return found

    def tiers(self) -> list[str]:
        """Each account's tier, in account order (one list, kept: not to be changed)."""
        found = self._columns.get("\0tier")
        if found is None:
            tier_of = pl.Series([f.tier for f in self.firsts], dtype=pl.String)
            found = tier_of.gather(self.path_of).to_list() if len(tier_of) else []
            self._columns["\0tier"] = found
        return found

    def account_ids(self) -> list[str]:
        """Each account's id as text, in account order (one list, kept: not to be changed)."""
        return self._account_ids

    @cached_property
    def _account_ids(self) -> list[str]:
        ids = self.frame["account_id"] if "account_id" in self.frame.columns else None
        if ids is not None and ids.dtype == pl.String and not ids.null_count():
            return ids.to_list()
        return [str(v) for v in self.column("account_id")]

    @cached_property
    def decisions(self) -> Decisions:
        return Decisions(self.account_ids(), self.path_ids(), self.firsts, self.rows)

    def by_path(self) -> list[tuple[Decision, int]]:
        """(a decision on each path some account took, its accounts), paths in the order of
        their first account, for counts of what paths decide (tiers, bands, flags)."""
        counts = Counter(self.path_ids())
        return [(self.firsts[p], n) for p, n in sorted(counts.items())]

    def fired(self, decision: Decision) -> list[tuple[int, int]]:
        return self.paths[decision.path_id]

    def classify(self, inputs: dict[str, Any]) -> Decision:
        """One more account through the same network and bands (stability checks, tests)."""
        return self.classify_frame(input_frame(self.ruleset, [inputs]))[0]

    def classify_frame(self, inputs: pl.DataFrame) -> list[Decision]:
        """More accounts (a frame of inputs) through the same network and bands: the
        executor runs only for conditions held that no account has met yet."""
        frame = with_values(self.ruleset, inputs, self.as_of)
        found = classes(self.network, frame)
        executor: Executor | None = None
        class_paths: list[int] = []
        try:
            for held, bits in zip(found.held, found.bits):
                path_id = self.memo.get(held)
                if path_id is None:
                    if executor is None:
                        executor = make_executor(self.engine, self.network)
                    self.paths.append(executor.run(bits))
                    path_id = self.memo[held] = len(self.paths) - 1
                class_paths.append(path_id)
        finally:
            if executor is not None:
                executor.close()
        values, parts = frame_rows(self.ruleset, frame, self._whole)
        out = []
        for k, v, p in zip(found.of_account.to_list(), values, parts):
            path_id = class_paths[k]
            d = Decision(str(v.get("account_id")), v, p, path_id)
            decode(self.network, d, self.paths[path_id])
            check_complete(self.network, d)
            out.append(d)
        return out


def resolve_bands(ruleset: Ruleset, frame: pl.DataFrame) -> dict[str, ResolvedBands]:
    """Every band set resolved over the accounts' known values of what it bands."""
    return resolve_all(ruleset, band_columns(ruleset, frame))


def band_columns(ruleset: Ruleset, frame: pl.DataFrame) -> dict[str, list[float]]:
    """The accounts' known values of what each band set bands, in account order: what
    ``resolve_all`` resolves (the columns of a book's parts, one after the other, are the
    book's)."""
    column: dict[str, list[float]] = {}
    for bs in ruleset.bands:
        known = frame[bs.over].drop_nulls() if bs.over in frame.columns else pl.Series([])
        column[bs.over] = known.to_list()
    return column


def values_frame(
    ruleset: Ruleset, accounts: Sequence[dict[str, Any]], as_of: dt.date
) -> pl.DataFrame:
    """Accounts given as dicts of typed inputs (test cases, replayed quarters) as a frame
    of their values."""
    return with_values(ruleset, input_frame(ruleset, accounts), as_of)


def frame_rows(
    ruleset: Ruleset, frame: pl.DataFrame, whole: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each row's values ({name: value}, its id, inputs, derived values and scores first) and
    score parts ({score: {component: part}}) as Python dicts; ``whole``: the values whose
    whole numbers are ints (``values.whole_as_int``)."""
    names = [n for n in value_names(ruleset) if n in frame.columns]
    names += [n for n in frame.columns if n not in names and ":" not in n]
    values = rows_of({n: python_column(frame[n], n in whole) for n in names}, frame.height)
    scores = {
        sid: rows_of({cid: frame[name].to_list() for cid, name in comps}, frame.height)
        for sid, comps in part_names(ruleset).items()
    }
    return values, rows_of(scores, frame.height)


def tier_counts(ev: Evaluation, bands: dict[str, ResolvedBands]) -> dict[str, int]:
    """Accounts per tier if ``ev``'s accounts were evaluated with ``bands`` instead: the
    executor runs once per class (a class whose firing path ``network.classes.path_cache``
    holds from an earlier round is not run again) and the tiers are counted over the
    classes. When some class's path cannot be decoded or may leave a trace incomplete, the
    accounts are evaluated in full, so that the error is the one ``evaluate`` gives."""
    network = compile_network(ev.ruleset, bands)
    found = classes(network, ev.frame)
    ran = path_cache(ev.engine, network)
    tiers: list[str] = []
    with closing(paths_of(found, lambda: make_executor(ev.engine, network), ran)) as fired:
        for path in fired:
            d = Decision("", {}, {}, 0)
            try:
                decode(network, d, path)
            except EngineError:
                return dict(Counter(_trial(ev, bands).tiers()))
            if _may_be_incomplete(network, d):  # (some account's trace may be: check all)
                return dict(Counter(_trial(ev, bands).tiers()))
            tiers.append(d.tier)
    sizes = found.of_account.value_counts()
    counts: Counter[str] = Counter()
    for k, n in zip(sizes["class"].to_list(), sizes["count"].to_list()):
        counts[tiers[k]] += n
    return dict(counts)


def _trial(ev: Evaluation, bands: dict[str, ResolvedBands]) -> Evaluation:
    return evaluate(ev.ruleset, ev.frame, ev.as_of, engine=ev.engine, bands=bands)


def _may_be_incomplete(network: Network, d: Decision) -> bool:
    """Whether check_complete may fail for some account on d's path (a band missing only
    matters when the account's value is known, so it is checked account by account)."""
    return (
        any(set_id not in d.bands for set_id in network.bands) or not d.tier or d.motion != d.tier
    )


def evaluate(
    ruleset: Ruleset,
    frame: pl.DataFrame,
    as_of: dt.date,
    engine: str = "auto",
    memo: bool = True,
    bands: dict[str, ResolvedBands] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """``frame``: the accounts' values (``values.with_values``); ``bands``: resolved bands
    to use instead of resolving them over the frame (calibration's trials)."""
    choose_engine(engine)  # (an engine that cannot run is said before any work)
    resolved = bands if bands is not None else resolve_bands(ruleset, frame)
    network = compile_network(ruleset, resolved)
    found = classes(network, frame, memo)
    return evaluate_classes(ruleset, network, frame, found, as_of, engine, memo, progress)


def evaluate_classes(
    ruleset: Ruleset,
    network: Network,
    frame: pl.DataFrame,
    found: Classes,
    as_of: dt.date,
    engine: str = "auto",
    memo: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """The executor once per class of ``found`` (the accounts' classes under ``network``,
    however they were grouped: here, or over partitions by tierbook.distributed)."""
    chosen, note = choose_engine(engine)
    resolved = network.bands
    ran = path_cache(chosen, network) if memo else None
    memo_paths: dict[bytes, int] = {}
    paths: list[list[tuple[int, int]]] = []
    firsts: list[Decision] = []
    failures: list[tuple[int, EngineError]] = []  # (account, what went wrong there)
    ev = Evaluation(
        ruleset,
        network,
        resolved,
        chosen,
        note,
        as_of,
        frame,
        found.of_account,
        paths,
        firsts,
        memo_paths,
    )
    first_values, first_parts = frame_rows(ruleset, frame[found.first], ev._whole)
    # (--no-memo: every account through the network as one, none of its parts kept)
    make = functools.partial(make_executor, chosen, network, whole=not memo)
    with closing(paths_of(found, make, ran)) as fired:
        for path, at, held, values, parts in zip(
            fired, found.first, found.held, first_values, first_parts
        ):
            paths.append(list(path))
            path_id = len(paths) - 1
            if memo:
                memo_paths[held] = path_id
            first = Decision(str(values.get("account_id")), values, parts, path_id)
            try:
                decode(network, first, path)
            except EngineError as exc:
                failures.append((at, exc))
            firsts.append(first)
    _check_all(ev, found.first, failures)
    if progress:
        progress(frame.height)
    return ev


def _check_all(ev: Evaluation, first: list[int], failures: list[tuple[int, EngineError]]) -> None:
    """The error of the first account (in account order) whose path could not be decoded
    or whose trace is incomplete, as if the accounts were taken one by one."""
    network = ev.network
    at_path = {at: pid for pid, at in enumerate(first)}
    failed = {at_path[at] for at, _ in failures}
    whole: list[int] = []  # paths on which every account's trace is incomplete
    lacking: dict[str, list[int]] = {}  # band set -> paths that place no account in it
    for pid, f in enumerate(ev.firsts):
        if pid in failed or not _may_be_incomplete(network, f):
            continue
        if not f.tier or f.motion != f.tier:
            whole.append(pid)
        for set_id in network.bands:
            if set_id not in f.bands:
                lacking.setdefault(set_id, []).append(pid)
    candidates: list[tuple[int, EngineError | None]] = [(at, e) for at, e in failures]
    if whole or lacking:
        path = pl.col("\0path")
        bad = path.is_in(whole)
        for set_id, pids in lacking.items():
            over = network.bands[set_id].over
            if over in ev.frame.columns:
                bad = bad | (path.is_in(pids) & pl.col(over).is_not_null())
        hits = (
            ev.frame.with_columns(ev.path_of.alias("\0path"))
            .with_row_index("\0at")
            .filter(bad)
            .select("\0at")
            .head(1)
        )
        if hits.height:
            candidates.append((int(hits.item()), None))
    if not candidates:
        return
    at, error = min(candidates, key=lambda c: c[0])
    if error is not None:
        raise error
    check_complete(network, ev.decisions[at])
