"""What a part of a replay's book (``replay_part.Part``) says: of its start, of a
quarter's events applied, of a quarter; put together by ``replay._Sim`` in part order."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..assess.bridge import Sums
from ..errors import Problem
from ..evaluate.run import Evaluation
from ..network.classes import Classes

# (the quarter, 0 for an event's own problem or 1 for a new account's missing input, line)
Key = tuple[str, int, int]


@dataclass
class Held:
    """Each account served, in the part's order: the tier it is held in and its ARR."""

    tiers: list[str]
    arrs: list[float]
    engine: str = ""


@dataclass
class Pending:
    """A quarter's events applied: the known band values of the accounts served (and of
    those that joined or came back and churned in it), for a book whose bands wait for
    its first quarter; the problems and skipped events, each with its place (``Key``)."""

    served: int
    gone_new: int
    served_values: dict[str, list[float]]
    gone_values: dict[str, list[float]]
    problems: list[tuple[Key, Problem]]
    skipped: list[tuple[Key, dict[str, Any]]]


@dataclass
class PartQuarter:
    """What a quarter did to a part's accounts; every list in the part's account order."""

    moves: list[dict[str, Any]]
    held: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    raised: list[dict[str, Any]]
    cleared: list[dict[str, Any]]
    matrix: dict[str, dict[str, int]]
    drift: int
    drifted: dict[str, str]
    churned_tier: dict[str, str]
    joined: dict[str, str]
    rejoined: dict[str, str]
    new: int
    served: Counter[str]  # accounts served in the quarter per tier (churn rates)
    bridge: Sums
    moved: int  # accounts in the bridge, and how many of them churned
    gone: int
    held_cents: Counter[str]
    started_cents: Counter[str]
    named: dict[str, list[dict[str, Any]]]
    book: Held
    notes: dict[str, dict[str, str]]  # (overrides.replay.Pins.notes of the quarter)
    ignored: Counter[str]
    ev: Evaluation | None = None  # the accounts' evaluation (on the machine that made it)
    found: Classes | None = None  # its classes and values, to unite with other parts'
    frame: pl.DataFrame | None = None
    pending: Pending | None = None  # the events applied, when not said before
