"""The one interface both executors of a compiled network have, and the choice between them.

An executor fires the network for one class of accounts, given that class's condition codes
(one per distinct comparison: 1 true, 0 false, 2 unknown), and returns the rules it fired
in order, as (rule index, disjunct index).  ``durable`` runs the network on durable-rules;
``native`` is the pure-Python fallback where durable-rules cannot be imported.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Protocol

from ..engines import ENGINES
from ..errors import UsageError
from .model import Network
from .native import NativeExecutor
from .parts import PartsExecutor, parts


class Executor(Protocol):
    name: str

    def run(self, bits: Sequence[int]) -> list[tuple[int, int]]:
        """Fire the network for one class of accounts: [(rule index, disjunct index)]."""
        ...

    def close(self) -> None:
        """Let go of what the executor holds (durable-rules' rulesets and threads)."""
        ...


def choose_engine(engine: str) -> tuple[str, str]:
    """The executor to use, and a note for stderr and the report when it fell back."""
    from . import durable as durable_engine

    if engine not in ENGINES:
        raise UsageError(f"unknown engine '{engine}' (choose {', '.join(ENGINES)})")
    if engine == "native":
        return "native", ""
    if durable_engine.AVAILABLE:
        return "durable-rules", ""
    if engine == "durable-rules":
        raise UsageError(
            f"durable-rules cannot be imported on Python "
            f"{sys.version_info.major}.{sys.version_info.minor} "
            f"({durable_engine.IMPORT_ERROR}); use --engine native"
        )
    note = (
        f"durable-rules cannot be imported on Python {sys.version_info.major}."
        f"{sys.version_info.minor}; using the native executor (same network, same results)"
    )
    return "native", note


def make_executor(engine: str, network: Network, whole: bool = False) -> Executor:
    """A fresh executor of ``network`` (close it when done): each of its independent parts
    on an executor of its own, run once per distinct codes of the part's leaves
    (``network.parts``); ``whole``: the network as one, every class run in full (--no-memo,
    and the tests that check the parts against it)."""

    def one(net: Network) -> Executor:
        if engine == "durable-rules":
            from .durable import DurableExecutor

            return DurableExecutor(net)
        return NativeExecutor(net)

    found = [] if whole else parts(network)
    return PartsExecutor(engine, found, one) if len(found) > 1 else one(network)
