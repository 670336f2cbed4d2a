"""The network's independent parts, each run on its own executor, their firings merged.

A rule reads what another derives when one of its fact patterns matches the other's
output; rules tied so, directly or through others, are one *part*, and no fact crosses
from one part to another (the tier grid and what reads the tier are one part; a flag on
one input alone is a part of its own). Both executors fire, among the rules that hold and
have not fired, the one of lowest index, and whether a rule holds depends on its own
part's firings only: so the whole network fires the parts' firings merged, at each step
the part whose next firing is the rule of lowest index. A part reads only its own leaves,
so its path is kept by their codes: the default ruleset's 100,000 generated accounts are
1,238 classes, and its seven parts 80 classes between them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import Formula, Network

if TYPE_CHECKING:
    from .executor import Executor

Firing = tuple[int, int]  # (rule index, disjunct index)


@dataclass(frozen=True)
class Part:
    network: Network  # the part's rules in their order, indexed from 0; every leaf
    rules: tuple[int, ...]  # each of its rules' index in the whole network
    leaves: tuple[int, ...]  # the leaves its rules' formulas read


def parts(network: Network) -> list[Part]:
    """The network's parts, in the order of their first rule."""
    rules = network.rules
    root = list(range(len(rules)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    derives: dict[str, list[int]] = {}  # fact type -> the rules whose output is one
    for rule in rules:
        derives.setdefault(rule.output["t"], []).append(rule.index)
    for reader in rules:
        for p in {p for d in reader.disjuncts for p in d.facts}:
            for source in derives.get(p.type, ()):
                if p.matches(rules[source].output):
                    root[find(source)] = find(reader.index)
    members: dict[int, list[int]] = {}
    for rule in rules:
        members.setdefault(find(rule.index), []).append(rule.index)
    out = []
    for indexes in members.values():
        leaves: set[int] = set()
        for i in indexes:
            for d in rules[i].disjuncts:
                _leaves(d.account, leaves)
        sub = Network(
            network.ruleset,
            network.bands,
            leaves=network.leaves,
            rules=[dataclasses.replace(rules[i], index=k) for k, i in enumerate(indexes)],
        )
        out.append(Part(sub, tuple(indexes), tuple(sorted(leaves))))
    return out


def _leaves(formula: Formula, into: set[int]) -> None:
    if formula[0] == "atom":
        into.add(formula[1])
    elif formula[0] in ("and", "or"):
        for f in formula[1]:
            _leaves(f, into)


def merged(paths: Sequence[Sequence[Firing]]) -> list[Firing]:
    """The parts' firings in the order the whole network fires them."""
    at = [0] * len(paths)
    out: list[Firing] = []
    while True:
        best = -1
        for k, path in enumerate(paths):
            if at[k] < len(path) and (best < 0 or path[at[k]][0] < paths[best][at[best]][0]):
                best = k
        if best < 0:
            return out
        out.append(paths[best][at[best]])
        at[best] += 1


class PartsExecutor:
    """An executor of the whole network that runs each part on an executor of its own
    (made by ``make`` when first needed) once per distinct codes of its leaves."""

    def __init__(self, name: str, found: list[Part], make: Callable[[Network], Executor]) -> None:
        self.name = name
        self._parts = found
        self._make = make
        self._executors: list[Executor | None] = [None] * len(found)
        self._paths: list[dict[bytes, tuple[Firing, ...]]] = [{} for _ in found]

    def run(self, bits: Sequence[int]) -> list[Firing]:
        paths = []
        for k, part in enumerate(self._parts):
            key = bytes(bits[i] for i in part.leaves)
            path = self._paths[k].get(key)
            if path is None:
                executor = self._executors[k]
                if executor is None:
                    executor = self._executors[k] = self._make(part.network)
                path = tuple((part.rules[r], d) for r, d in executor.run(bits))
                self._paths[k][key] = path
            paths.append(path)
        return merged(paths)

    def close(self) -> None:
        for executor in self._executors:
            if executor is not None:
                executor.close()
