"""What a rule test case is made of: its result, the rules it covers, the bands a test file
pins, and its account's inputs typed as the reader types a cell."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import RulesetError
from ..evaluate.bands import ResolvedBands, resolve_band_set
from ..network.compile import compile_network
from ..portfolio.cells import BadValue
from ..portfolio.cells import parser as _parser
from ..portfolio.cells import typed as _typed
from ..ruleset.model import Ruleset
from ..ruleset.yamlsafe import Document

EXPECT_KEYS = (
    "tier",
    "flags",
    "bands",
    "scores",
    "decisions",
    "fired",
    "not_fired",
    "comments",
    "reviews",
    "motion",
)
TRANSITION_EXPECT = ("outcome", "to", "rule")
TRANSITION_KEYS = ("tier", "evaluated_tier", "events", "history", "account")
DEFAULT_TOLERANCE = 1e-6


@dataclass
class CaseResult:
    file: str
    line: int
    name: str
    ruleset: str
    failures: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class Coverage:
    ruleset: str
    rules: dict[str, str]  # rule id -> kind
    covered: set[str] = field(default_factory=set)

    @property
    def percent(self) -> float:
        return (
            100.0 * len(self.covered & set(self.rules)) / len(self.rules) if self.rules else 100.0
        )

    @property
    def missing(self) -> list[str]:
        return [r for r in self.rules if r not in self.covered]


def pinned_bands(
    ruleset: Ruleset, spec: dict[str, Any], doc: Document, path: tuple[Any, ...]
) -> dict[str, ResolvedBands]:
    out = {}
    for bs in ruleset.bands:
        pin = spec.get(bs.id)
        if pin is None:
            if bs.method in ("declared", "log"):
                out[bs.id] = resolve_band_set(bs, [])
                continue
            if bs.method == "auto":
                pin = bs.auto.get("fallback", "log")
            else:
                raise RulesetError(
                    "unpinned bands",
                    [
                        doc.problem(
                            path,
                            f"band set '{bs.id}' is computed from the portfolio ({bs.method}): pin "
                            f"its edges here, e.g. bands: {{{bs.id}: [1000, 5000, 20000]}}",
                        )
                    ],
                )
        if isinstance(pin, str):
            if pin not in bs.variants:
                raise RulesetError(
                    "bad pin",
                    [
                        doc.problem(
                            path + (bs.id,),
                            f"band set '{bs.id}' has no '{pin}' bands "
                            f"(it has {', '.join(bs.variants)})",
                        )
                    ],
                )
            if pin == "quartile":
                raise RulesetError(
                    "bad pin",
                    [
                        doc.problem(
                            path + (bs.id,),
                            "quartile edges depend on the portfolio: give them as a list",
                        )
                    ],
                )
            out[bs.id] = ResolvedBands(
                bs.id,
                bs.over,
                pin,
                bs.method,
                bs.variants[pin],
                f"pinned to {pin} by the test file",
            )
            continue
        variant = "quartile" if "quartile" in bs.variants else next(iter(bs.variants))
        template = bs.variants[variant]
        if not isinstance(pin, list) or len(pin) != len(template) - 1:
            raise RulesetError(
                "bad pin",
                [
                    doc.problem(
                        path + (bs.id,),
                        f"give {len(template) - 1} edges for the {len(template)} bands "
                        f"of '{bs.id}'",
                    )
                ],
            )
        bands = []
        for i, band in enumerate(template):
            lower = float(pin[i - 1]) if i > 0 else None
            upper = float(pin[i]) if i < len(pin) else None
            bands.append(
                replace(band, lower=lower, lower_inclusive=True, upper=upper, upper_inclusive=False)
            )
        out[bs.id] = ResolvedBands(
            bs.id,
            bs.over,
            variant,
            bs.method,
            tuple(bands),
            "edges pinned by the test file",
            {"edges": list(pin)},
        )
    return out


def rule_universe(ruleset: Ruleset) -> dict[str, str]:
    """Every rule of the ruleset, over every band variant it can resolve to."""
    rules: dict[str, str] = {}
    for bs in ruleset.bands:
        for bands in bs.variants.values():
            for band in bands:
                rules.setdefault(f"{bs.id}.{band.id}", "band")
    base = {
        bs.id: ResolvedBands(bs.id, bs.over, "x", bs.method, next(iter(bs.variants.values())), "")
        for bs in ruleset.bands
    }
    for rule in compile_network(ruleset, base).rules:
        rules.setdefault(rule.id, rule.kind)
    for t in ruleset.transitions:
        rules.setdefault(t.id, "transition")
    return rules


def typed_account(
    ruleset: Ruleset, raw: dict[str, Any], doc: Document, path: tuple[Any, ...]
) -> dict[str, Any]:
    inputs = {i.id: i for i in ruleset.inputs}
    account: dict[str, Any] = {}
    problems = []
    for key, value in raw.items():
        if key not in inputs:
            from ..errors import suggest

            problems.append(
                doc.problem(
                    path + (key,), f"unknown input '{key}'" + suggest(key, inputs), at_key=True
                )
            )
            continue
        if value is None:
            account[key] = None
            continue
        try:
            account[key] = _typed(inputs[key], value, _parser(inputs[key]))
        except BadValue as exc:
            problems.append(doc.problem(path + (key,), f"{value!r} {exc}"))
    for inp in ruleset.inputs:
        if account.get(inp.id) is None:
            if inp.required and inp.role != "account_id":
                problems.append(doc.problem(path, f"required input '{inp.id}' is missing"))
            account[inp.id] = inp.default if inp.default is not None else None
    if problems:
        raise RulesetError("bad test account", problems)
    return account
