"""The pure-Python executor of a compiled network (``--engine native``).

It follows the same agenda discipline as the durable-rules executor: among the rules
whose conditions hold and that have not fired, the one with the lowest priority number
fires next, then conditions are looked at again.  Used where durable-rules cannot be
imported (Python 3.13+) and checked against it by a differential test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .model import Disjunct, Formula, Network

STATE = {1: "T", 0: "F", 2: "U"}


def formula_holds(formula: Formula, bits: Sequence[int]) -> bool:
    kind = formula[0]
    if kind == "atom":
        return STATE[bits[formula[1]]] in formula[2]
    if kind == "and":
        return all(formula_holds(f, bits) for f in formula[1])
    if kind == "or":
        return any(formula_holds(f, bits) for f in formula[1])
    return True  # ("true",)


def _disjunct_holds(d: Disjunct, bits: Sequence[int], facts: list[dict[str, Any]]) -> bool:
    return formula_holds(d.account, bits) and all(any(p.matches(f) for f in facts) for p in d.facts)


class NativeExecutor:
    name = "native"

    def __init__(self, network: Network) -> None:
        self.network = network

    def run(self, bits: Sequence[int]) -> list[tuple[int, int]]:
        """Fire the network for one class of accounts: [(rule index, disjunct index)]."""
        facts: list[dict[str, Any]] = []
        fired: list[tuple[int, int]] = []
        done: set[int] = set()
        rules = self.network.rules
        while True:
            chosen = None
            for rule in rules:  # rules are held in priority order
                if rule.index in done:
                    continue
                for k, d in enumerate(rule.disjuncts):
                    if _disjunct_holds(d, bits, facts):
                        chosen = (rule.index, k)
                        break
                if chosen:
                    break
            if chosen is None:
                return fired
            done.add(chosen[0])
            fired.append(chosen)
            facts.append(rules[chosen[0]].output)

    def close(self) -> None:
        pass
