"""The durable-rules executor: the only module that imports durable-rules.

durable-rules keeps process-global state, starts a dispatcher thread, swallows
exceptions raised inside actions and drops duplicate facts.  This module contains all of
that: one host per process without the dispatcher thread, one live state at a time
(deleted after every run), every fact carrying its rule index so no two are alike,
only facts that some rule consumes are asserted, and any error becomes a
:class:`tierbook.errors.EngineError` naming the rule.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import warnings
from collections.abc import Sequence
from typing import Any

from ..errors import EngineError
from .model import Formula, Network, Pattern

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import durable.engine as _de
        import durable_rules_engine  # noqa: F401 - the C extension: fails on 3.13+
    AVAILABLE = True
    IMPORT_ERROR = ""
except Exception as exc:  # noqa: BLE001 - any import failure means "not available here"
    AVAILABLE = False
    IMPORT_ERROR = f"{type(exc).__name__}: {exc}"

_STATES = {frozenset("T"): 1, frozenset("F"): 0, frozenset("U"): 2}
_NOT = {frozenset("FU"): 1, frozenset("TU"): 0, frozenset("TF"): 2}

_host = None
_lock = threading.Lock()
_names = itertools.count(1)


if AVAILABLE:

    class _Host(_de.Host):  # type: ignore[misc]  # durable-rules has no types: Host is Any
        """A host without the dispatcher and timer threads: actions run synchronously
        inside assert_fact, and nothing fires outside an account's evaluation."""

        def _run(self) -> None:
            pass


def _get_host() -> Any:
    global _host
    with _lock:
        if _host is None:
            _host = _Host()
        return _host


def _formula(f: Formula) -> dict[str, Any] | None:
    kind = f[0]
    if kind == "true":
        return None
    if kind == "atom":
        field = f"b{f[1]}"
        states = frozenset(f[2])
        if states in _STATES:
            return {field: _STATES[states]}
        return {"$neq": {field: _NOT[states]}}
    parts = [p for p in (_formula(s) for s in f[1]) if p is not None]
    if kind == "or" and not parts:
        return {"t": "never"}
    if len(parts) == 1:
        return parts[0]
    return {"$and" if kind == "and" else "$or": parts}


def _enc(value: Any) -> str:
    """durable-rules compares 1, "1" and true as equal; JSON text keeps them apart."""
    return json.dumps(value, sort_keys=True)


def _pattern(p: Pattern) -> dict[str, Any]:
    terms: list[dict[str, Any]] = [{"t": p.type}]
    for attr, values in p.attrs:
        if len(values) == 1:
            terms.append({attr: _enc(values[0])})
        else:
            terms.append({"$or": [{attr: _enc(v)} for v in values]})
    return {"$and": terms}


def _noop(c: Any) -> None:
    pass


class DurableExecutor:
    """Runs a compiled network on durable-rules, one live state at a time."""

    name = "durable-rules"

    def __init__(self, network: Network) -> None:
        if not AVAILABLE:
            raise EngineError(
                f"durable-rules cannot be imported here ({IMPORT_ERROR}); use --engine native"
            )
        self.network = network
        self.ruleset_name = f"tierbook_{next(_names)}"
        self._fired: list[tuple[int, int]] = []
        self._done: set[int] = set()
        self._error: tuple[str, str] | None = None
        consumed = [p for r in network.rules for d in r.disjuncts for p in d.facts]
        self._asserted = {
            r.index: any(p.matches(r.output) for p in consumed) for r in network.rules
        }
        # Every account fact must make at least one action run: durable-rules frees
        # uninitialised memory when a state in which no action ran is deleted (a crash).
        definition: dict[str, Any] = {
            "seed": {"all": [{"a": {"t": "account"}}], "pri": 65535, "run": _noop}
        }
        for rule in network.rules:
            for k, d in enumerate(rule.disjuncts):
                account = _formula(d.account)
                terms = [{"t": "account"}] + ([account] if account else [])
                patterns = [{"a": {"$and": terms} if len(terms) > 1 else terms[0]}]
                patterns += [{f"f{j}": _pattern(p)} for j, p in enumerate(d.facts)]
                definition[f"r{rule.index}_{k}"] = {
                    "all": patterns,
                    "pri": rule.priority,
                    "run": self._action(rule.index, k),
                }
        self._host = _get_host()
        try:
            self._host.register_rulesets({self.ruleset_name: definition})
        except Exception as exc:  # noqa: BLE001 - durable raises bare exceptions
            raise EngineError(f"durable-rules rejected the compiled network: {exc}") from None
        self._sids = itertools.count(1)

    def _action(self, index: int, disjunct: int) -> Any:
        rule = self.network.rules[index]
        output = {k: (v if k == "t" else _enc(v)) for k, v in rule.output.items()}
        output["r"] = index
        asserted = self._asserted[index]

        def run(c: Any) -> None:
            if index in self._done:
                return  # another disjunct of this rule already fired
            try:
                self._done.add(index)
                self._fired.append((index, disjunct))
                if asserted:
                    c.assert_fact(dict(output))
            except BaseException as exc:  # noqa: BLE001 - durable would swallow it silently
                self._error = (rule.id, f"{type(exc).__name__}: {exc}")

        return run

    def run(self, bits: Sequence[int]) -> list[tuple[int, int]]:
        sid = str(next(self._sids))
        fact: dict[str, Any] = {"sid": sid, "t": "account"}
        fact.update({f"b{i}": int(b) for i, b in enumerate(bits)})
        self._fired, self._done, self._error = [], set(), None
        try:
            with warnings.catch_warnings():
                # 3.12+: durable-rules calls the deprecated datetime.utcfromtimestamp
                warnings.simplefilter("ignore", DeprecationWarning)
                state = self._host.assert_fact(self.ruleset_name, fact)
        except Exception as exc:  # noqa: BLE001 - durable raises bare exceptions
            raise EngineError(f"durable-rules failed: {exc}") from None
        finally:
            with contextlib.suppress(Exception):  # nothing to delete if the assert failed early
                self._host.delete_state(self.ruleset_name, sid)
        if self._error:
            rule_id, message = self._error
            raise EngineError(f"rule '{rule_id}' failed: {message}", rule_id=rule_id)
        if isinstance(state, dict) and state.get("exception"):
            raise EngineError(
                f"durable-rules reported an error inside an action: {str(state['exception'])[:300]}"
            )
        return list(self._fired)

    def close(self) -> None:
        pass
