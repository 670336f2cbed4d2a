"""network.parts: a network's independent parts run apart and their firings merged fire
what the whole network fires, rule for rule and in order, on both executors."""

from __future__ import annotations

import itertools

import pytest

from tierbook.evaluate.run import resolve_bands, values_frame
from tierbook.network.classes import classes
from tierbook.network.compile import compile_network
from tierbook.network.executor import make_executor
from tierbook.network.model import TRUE_ONLY, FALSE_ONLY, Disjunct, Leaf, Network, Pattern, Rule
from tierbook.network.parts import PartsExecutor, merged, parts
from tierbook.portfolio.frame import read_portfolio
from tierbook.ruleset.build import load_ruleset

from ..conftest import AS_OF, RULESETS, SAMPLE, needs_durable

ENGINES = ["native", pytest.param("durable-rules", marks=needs_durable)]


def _rule(index: int, output: dict, leaf: int | None = None, states=TRUE_ONLY,
          reads: tuple[Pattern, ...] = ()) -> Rule:
    account = ("atom", leaf, states) if leaf is not None else ("true",)
    return Rule(index, f"r{index}", "flag", (Disjunct(account, reads),), output, "")


def _small_network() -> Network:
    """Four parts: a band, the tier cell that reads it and the motion that reads the tier
    (rule 2 fires after rule 1, whose fact it reads); the other band with its cell (no rule
    reads tier y); two flags on their own."""
    band_hi = Pattern("band", (("set", ("s",)), ("band", ("hi",))))
    band_lo = Pattern("band", (("set", ("s",)), ("band", ("lo",))))
    rules = [
        _rule(0, {"t": "flag", "flag": "a"}, leaf=0),
        _rule(1, {"t": "band", "set": "s", "band": "hi"}, leaf=1),
        _rule(2, {"t": "tier", "tier": "x"}, reads=(band_hi,)),
        _rule(3, {"t": "flag", "flag": "b"}, leaf=2),
        _rule(4, {"t": "motion", "tier": "x"}, reads=(Pattern("tier", (("tier", ("x",)),)),)),
        _rule(5, {"t": "band", "set": "s", "band": "lo"}, leaf=1, states=FALSE_ONLY),
        _rule(6, {"t": "tier", "tier": "y"}, reads=(band_lo,)),
    ]
    leaves = [Leaf(i, f"v{i}", ">=", 1) for i in range(3)]
    return Network(None, {}, leaves=leaves, rules=rules)  # type: ignore[arg-type]


def test_rules_tied_by_facts_are_one_part_and_a_lone_flag_its_own() -> None:
    found = parts(_small_network())
    assert [p.rules for p in found] == [(0,), (1, 2, 4), (3,), (5, 6)]
    assert [p.leaves for p in found] == [(0,), (1,), (2,), (1,)]
    assert [r.index for r in found[1].network.rules] == [0, 1, 2]  # (indexed from 0)
    assert found[1].network.rules[2].id == "r4"


def test_merging_takes_the_lowest_rule_of_the_parts_next_firings_at_each_step() -> None:
    # (5 enables 2 in its part: a part's own order is not by index, and is kept)
    assert merged([[(0, 0), (5, 0), (2, 1)], [(1, 0), (3, 0)], []]) == [
        (0, 0), (1, 0), (3, 0), (5, 0), (2, 1)]
    assert merged([]) == [] and merged([[], []]) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_the_parts_fire_what_the_whole_small_network_fires_for_every_code(engine) -> None:
    network = _small_network()
    whole, split = make_executor(engine, network, whole=True), make_executor(engine, network)
    assert isinstance(split, PartsExecutor)
    try:
        for bits in itertools.product((0, 1, 2), repeat=3):
            assert split.run(bits) == whole.run(bits), bits
    finally:
        whole.close()
        split.close()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", [str(p) for p in RULESETS], ids=[p.stem for p in RULESETS])
def test_the_parts_fire_what_the_whole_network_fires_for_every_class(path, engine) -> None:
    rs = load_ruleset(path)
    frame = values_frame(rs, read_portfolio(str(SAMPLE), rs).accounts, AS_OF)
    network = compile_network(rs, resolve_bands(rs, frame))
    found = classes(network, frame)
    assert len(parts(network)) > 1  # (every shipped ruleset has a flag or band of its own)
    whole, split = make_executor(engine, network, whole=True), make_executor(engine, network)
    try:
        for bits in found.bits:
            assert split.run(bits) == whole.run(bits)
    finally:
        whole.close()
        split.close()
