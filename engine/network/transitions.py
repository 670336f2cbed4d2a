"""The replay's promotion, demotion and review rules compiled into a rule network, which the
same executors (durable-rules or native) run as the tier rules' network.

The leaves (``Leaf``; its ``field`` says what it reads):

- each comparison of a transition condition, over the account's values, bands and
  decisions, ``tier`` (held), ``evaluated_tier``, ``evaluated_direction``,
  ``previous_tier`` and the ``history.`` counters (``assess.transitions``);
- each ``{event: type}`` (field ``EVENT``, the type as its argument) and each
  ``{flag: f}`` (field ``FLAG``): true or false, never unknown;
- per promotion or demotion rule, whether its target would move the account (field
  ``MOVES``, the rule's id as its argument): the target exists, is not the held tier and
  lies in the rule's direction.

A rule *decides* when its condition is true and (promote, demote) it would move the
account; a review decides on its condition alone.  A rule fires when it decides and no
earlier rule did (each rule that does not decide fires a ``pass`` rule whose fact the next
rule waits for), so at most one transition rule fires: the first that decides, as the
rules read in order.  What follows from the rule that fired (held inside the minimum dwell
or moved, the review's suggestion) is the caller's, not the network's.
"""

from __future__ import annotations

from ..errors import Problem, RulesetError
from ..ruleset.model import Condition, Ruleset
from . import conditions as C
from .model import (
    FALSE,
    MAX_LEAVES,
    NOT_FALSE,
    NOT_TRUE,
    TRUE_ONLY,
    Disjunct,
    Formula,
    Network,
    Pattern,
    Rule,
    conjoin,
    disjoin,
    negated,
)

EVENT, FLAG, MOVES = "@event", "@flag", "@moves"


def _p(net: Network, cond: Condition, states: frozenset[str]) -> Formula:
    """A formula true iff the Kleene value of ``cond`` is one of ``states`` (true only, not
    true, false only or not false), every leaf an atom of the network."""
    if "all" in cond or "any" in cond:
        parts = [_p(net, s, states) for s in cond["all" if "all" in cond else "any"]]
        conj = ("all" in cond) == (states in (TRUE_ONLY, NOT_FALSE))
        return conjoin(parts) if conj else disjoin(parts)
    if "not" in cond:
        return _p(net, cond["not"], negated(states))
    if "event" in cond:
        return ("atom", net.leaf(EVENT, "eq", cond["event"]), states)
    if "flag" in cond:
        return ("atom", net.leaf(FLAG, "eq", cond["flag"]), states)
    op, arg = C.leaf_op(cond)
    return ("atom", net.leaf(cond["field"], op, arg), states)


def compile_transitions(ruleset: Ruleset) -> Network:
    """The ruleset's transition rules, in order, as rules of kind ``transition`` (output:
    the rule's id and action), each followed by one of kind ``pass`` that fires when it
    does not decide: a rule after the first decides only after the one before it passed
    (a fact), so every formula stays the size of its rule's own condition."""
    net = Network(ruleset, {})
    passed: tuple[Pattern, ...] = ()  # the previous rule did not decide
    for rule in ruleset.transitions:
        holds = _p(net, rule.when, TRUE_ONLY)
        not_holds = _p(net, rule.when, NOT_TRUE)
        if rule.action == "review":  # a review decides without a target
            decides, not_deciding = holds, not_holds
        else:
            moves = net.leaf(MOVES, "eq", rule.id)
            decides = conjoin([holds, ("atom", moves, TRUE_ONLY)])
            not_deciding = disjoin([not_holds, ("atom", moves, NOT_TRUE)])
        for kind, formula, output, rule_id, because in (
            (
                "transition",
                decides,
                {"t": "transition", "rule": rule.id, "action": rule.action},
                rule.id,
                rule.because,
            ),
            ("pass", not_deciding, {"t": "pass", "rule": rule.id}, f"{rule.id}.pass", ""),
        ):
            net.rules.append(
                Rule(
                    len(net.rules),
                    rule_id,
                    kind,
                    () if formula == FALSE else (Disjunct(formula, passed),),
                    output,
                    because or f"{rule.id} does not decide",
                    rule.when,
                )
            )
        passed = (Pattern("pass", (("rule", (rule.id,)),)),)
    if len(net.leaves) > MAX_LEAVES:
        raise RulesetError(
            "too many conditions",
            [
                Problem(
                    ruleset.source_file,
                    0,
                    0,
                    "",
                    f"the transition rules compile to {len(net.leaves)} distinct "
                    f"comparisons; the engine supports at most {MAX_LEAVES}",
                )
            ],
        )
    return net
