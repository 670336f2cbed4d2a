"""A replay's book on a Dask cluster: one part per worker (``commands.replay_part.Part``,
the same code one machine runs as a single part), the whole-book parts on the driver
(``commands.replay._Sim``).

The starting portfolio is cut into contiguous ranges, one per worker, in file order; an
event goes to the part holding its account, and an account a ``new_account`` event brings
that the portfolio lacks to the last part, so the parts' accounts one after the other are
the book's own order.  Each part's state passes from one task to the next (a chain of
tasks per part, each taking the state the previous one left): a worker lost mid-run takes
the part's state with it, and Dask computes it again from the chain, from the part's
accounts on (the tasks are retried, ``RETRIES``).  A task that finds its part's state in
another step than it expects (a retry after a task failed halfway) stops the run rather
than apply a quarter twice.  A run that cannot finish raises ``ClusterError``.

Each quarter a part returns its quarter (``PartQuarter``) with its accounts' values and
classes; the driver unites the classes, in part order, and runs the executor once per
class of the whole book (``evaluate.run.evaluate_classes``) for the trace store's run.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..assess.replay_rows import account_events
from ..commands.replay_part import Part
from ..commands.replay_said import Held, Key, PartQuarter, Pending
from ..errors import Problem, TierbookError
from ..evaluate.bands import ResolvedBands
from ..evaluate.run import Evaluation, evaluate_classes
from ..network.compile import compile_network
from ..portfolio.events import Event
from ..ruleset.model import Ruleset
from .book import BookPart, HeldBook, accounts_of
from .run import RETRIES, ClusterError, united


@dataclass
class Failed:
    """A part's call that raised one of tierbook's own errors (the driver raises it)."""

    error: TierbookError


def _new_part(given: tuple[Any, ...], accounts: Sequence[dict[str, Any]]) -> tuple[Part, None]:
    """``given``: the ruleset, engine, memo, on_error, events file and pins."""
    ruleset, engine, memo, on_error, events_file, pins = given
    part = Part(ruleset, accounts, engine, memo, on_error, events_file, pins)
    part.steps = 0  # type: ignore[attr-defined]
    return part, None


def _new_held_part(
    given: tuple[Any, ...], pieces: Sequence[tuple[BookPart, int, int]]
) -> tuple[Part, None]:
    """A part of accounts read on the workers (``book``): ranges of their reads."""
    return _new_part(given, accounts_of(pieces))


def _pieces(held: HeldBook, start: int, stop: int) -> list[tuple[Any, int, int]]:
    """The book's accounts ``start``-``stop`` as ranges of the parts' reads (futures)."""
    out = []
    at = 0
    for read, ids in zip(held.reads, held.ids):
        lo, hi = max(start - at, 0), min(stop - at, len(ids))
        if lo < hi:
            out.append((read, lo, hi))
        at += len(ids)
    return out


def _call(prev: tuple[Part, Any], step: int, method: str, *args: Any) -> tuple[Part, Any]:
    """One call of the part's chain, on the state the previous call left."""
    part = prev[0]
    if getattr(part, "steps", -1) != step:
        raise RuntimeError(f"replay part out of step ({method}, step {step})")
    part.steps = step + 1  # type: ignore[attr-defined]
    try:
        result = getattr(part, method)(*args)
    except TierbookError as exc:
        return part, Failed(exc)
    if isinstance(result, PartQuarter):  # (its values and classes travel, not the evaluation)
        assert result.ev is not None
        result.frame, result.ev = result.ev.frame, None
    return part, result


def _result(done: tuple[Part, Any]) -> Any:
    return done[1]


class DaskParts:
    """``commands.replay.Parts`` on a cluster: each call one task per part."""

    def __init__(
        self,
        client: Any,
        ruleset: Ruleset,
        accounts: Sequence[dict[str, Any]],
        engine: str,
        memo: bool,
        on_error: str,
        events_file: str,
        pins: Any,
        held: HeldBook | None = None,
    ) -> None:
        """``held``: the accounts read on the workers (``accounts`` then their ids only)."""
        self.client, self.rs, self.engine, self.memo = client, ruleset, engine, memo
        self.workers = sorted(client.scheduler_info().get("workers", {})) or [None]
        n = len(self.workers)
        cuts = [len(accounts) * k // n for k in range(n + 1)]
        self.part_of = {
            str(a["account_id"]): k for k in range(n) for a in accounts[cuts[k] : cuts[k + 1]]
        }
        given = (ruleset, engine, memo, on_error, events_file, pins)
        self.states = [
            self._submit(k, _new_part, given, accounts[cuts[k] : cuts[k + 1]])
            if held is None
            else self._submit(k, _new_held_part, given, _pieces(held, cuts[k], cuts[k + 1]))
            for k in range(n)
        ]
        self.steps = [0] * n
        self.bands: dict[str, ResolvedBands] = {}
        self.coming: list[tuple[str, list[Event]]] = []
        self.ahead: dict[str, tuple[list[Any], list[Any]]] = {}

    def _submit(self, k: int, fn: Any, *args: Any) -> Any:
        worker = self.workers[k]
        with warnings.catch_warnings():  # (the accounts go in the task: Dask can compute
            warnings.simplefilter("ignore")  # the part again from them; it warns of size)
            return self.client.submit(
                fn,
                *args,
                retries=RETRIES,
                pure=False,
                workers=None if worker is None else [worker],
                allow_other_workers=True,
            )

    def _route(self, events: list[Event]) -> list[list[Event]]:
        out: list[list[Event]] = [[] for _ in self.states]
        last = len(self.states) - 1
        for e in events:
            if e.type not in ("capacity_change", "product_launch"):
                out[self.part_of.get(e.account_id, last)].append(e)
        return out

    def _calls(self, method: str, args: Sequence[Sequence[Any]]) -> list[Any]:
        """``method`` called on every part with its ``args``: what each will return."""
        results = []
        for k, given in enumerate(args):
            self.states[k] = self._submit(k, _call, self.states[k], self.steps[k], method, *given)
            self.steps[k] += 1
            results.append(self._submit(k, _result, self.states[k]))
        return results

    def _gather(self, results: list[Any]) -> list[Any]:
        try:
            found: list[Any] = self.client.gather(results)
        except TierbookError:
            raise
        except Exception as exc:
            raise ClusterError(f"the distributed run could not finish: {exc!r}") from exc
        for f in found:
            if isinstance(f, Failed):
                raise f.error
        return found

    def _each(self, method: str, args: Sequence[Sequence[Any]]) -> list[Any]:
        return self._gather(self._calls(method, args))

    def _submit_quarter(self, at: int) -> None:
        """The parts' tasks of the ``at``-th quarter replayed, on their way (while the
        driver puts the quarter before together and stores it)."""
        quarter, events = self.coming[at]
        if quarter in self.ahead:
            return
        applied = self._calls("apply_quarter", [(quarter, e, False) for e in self._route(events)])
        done = self._calls("quarter", [(quarter, at + 1, self.bands)] * len(self.states))
        self.ahead[quarter] = (applied, done)

    # -- commands.replay.Parts ---------------------------------------------------------------
    def check(self, events: list[Event], as_of: dt.date) -> list[list[tuple[Key, Problem]]]:
        return self._each("check", [(e, as_of) for e in self._route(events)])

    def start_values(self, as_of: dt.date) -> list[dict[str, list[float]]]:
        return self._each("start_values", [(as_of,)] * len(self.states))

    def begin(self, as_of: dt.date, bands: dict[str, ResolvedBands]) -> list[Held]:
        self.bands = bands
        return self._each("begin", [(as_of, bands)] * len(self.states))

    def plan(self, quarters: list[tuple[str, list[Event]]]) -> None:
        self.coming = quarters

    def apply(self, quarter: str, events: list[Event], values: bool) -> list[Pending] | None:
        at = next((i for i, (q, _) in enumerate(self.coming) if q == quarter), None)
        if values or at is None:  # (the bands wait for this quarter's accounts)
            return self._each("apply_quarter", [(quarter, e, values) for e in self._route(events)])
        self._submit_quarter(at)
        if at + 1 < len(self.coming):  # one quarter ahead
            self._submit_quarter(at + 1)
        return None

    def quarter(
        self, quarter: str, count: int, bands: dict[str, ResolvedBands]
    ) -> list[PartQuarter]:
        self.bands = bands
        if quarter in self.ahead:
            applied, done = self.ahead.pop(quarter)
            pending = self._gather(applied)
            found = self._gather(done)
            for p, said in zip(found, pending):
                p.pending = said
            return found
        return self._each("quarter", [(quarter, count, bands)] * len(self.states))

    def evaluation(self, found: list[PartQuarter], as_of: dt.date) -> Evaluation:
        frames = []
        for p in found:
            assert p.frame is not None and p.found is not None
            frames.append((p.frame, p.found))
        frame, classes = united(frames, self.memo)
        network = compile_network(self.rs, self.bands)
        return evaluate_classes(self.rs, network, frame, classes, as_of, self.engine, self.memo)

    def account_events(self, events: list[Event]) -> dict[str, list[dict[str, Any]]]:
        """(Each worker read only its accounts' events: the book's are read here.)"""
        return account_events(events)


def cluster_parts(client: Any, held: HeldBook | None = None) -> Any:
    """``commands.replay.replay``'s ``parts``: the book on ``client``'s workers (``held``:
    read there, ``book.read_book``)."""

    def make(
        ruleset: Ruleset,
        accounts: Sequence[dict[str, Any]],
        engine: str,
        memo: bool,
        on_error: str,
        events_file: str,
        pins: Any,
    ) -> DaskParts:
        return DaskParts(client, ruleset, accounts, engine, memo, on_error, events_file, pins, held)

    return make
