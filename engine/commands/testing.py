"""`tierbook test`: rule test cases in YAML, with rule coverage (like `opa test`).

A test file names a ruleset, pins how computed bands resolve (a single account says
nothing about quartiles), and lists cases: an account and what the rules must decide.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import Problem, RulesetError, TierbookError, UsageError
from ..evaluate.bands import ResolvedBands, resolve_band_set
from ..evaluate.run import Evaluation, evaluate, values_frame
from ..network.compile import compile_network
from ..portfolio.cells import BadValue
from ..portfolio.cells import parser as _parser
from ..portfolio.cells import typed as _typed
from ..ruleset.build import resolve_ruleset_path, ruleset_from_document, shipped_rulesets
from ..ruleset.model import Ruleset
from ..ruleset.yamlsafe import Document, load_file

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
_ENGINE = "auto"
_AS_OF: dt.date | None = None


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


@dataclass
class TestReport:
    results: list[CaseResult] = field(default_factory=list)
    coverage: dict[str, Coverage] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return sum(not r.passed for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failed": self.failed,
            "files": self.files,
            "cases": [
                {
                    "file": r.file,
                    "line": r.line,
                    "name": r.name,
                    "ruleset": r.ruleset,
                    "passed": r.passed,
                    "failures": r.failures,
                }
                for r in self.results
            ],
            "coverage": {
                k: {
                    "percent": round(c.percent, 1),
                    "rules": len(c.rules),
                    "covered": len(c.covered & set(c.rules)),
                    "missing": c.missing,
                }
                for k, c in self.coverage.items()
            },
        }


def discover(paths: list[str]) -> list[str]:
    """Test files under the given files and folders (default: rulesets/tests)."""
    if not paths:
        local = Path("rulesets") / "tests"
        if local.is_dir():
            paths = [str(local)]
        else:
            shipped = Path(next(iter(shipped_rulesets().values()))).parent / "tests"
            paths = [str(shipped)]
    found: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found += sorted(str(f) for f in path.rglob("*.yaml"))
        elif path.exists():
            found.append(str(path))
        else:
            raise UsageError(f"{p}: no such test file or folder")
    return found


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


def _typed_account(
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


def _load_ruleset(spec: str, test_file: str, cache: dict[str, Ruleset]) -> Ruleset:
    candidate = Path(test_file).parent / spec
    path = str(candidate) if candidate.exists() else resolve_ruleset_path(spec)
    if path not in cache:
        cache[path] = ruleset_from_document(
            load_file(path, spec if not candidate.exists() else str(candidate))
        )
    return cache[path]


def run_tests(paths: list[str], as_of: dt.date | None = None, engine: str = "auto") -> TestReport:
    """Run every case; ``as_of`` overrides the files' dates, ``engine`` picks the executor."""
    global _ENGINE, _AS_OF
    _ENGINE, _AS_OF = engine, as_of
    report = TestReport()
    cache: dict[str, Ruleset] = {}
    problems: list[Problem] = []
    for file in discover(paths):
        report.files.append(file)
        try:
            _run_file(file, report, cache)
        except TierbookError as exc:
            problems += exc.problems or [Problem(file, 0, 0, "", str(exc))]
    if problems:
        raise TierbookError("invalid test files", problems)
    return report


def _run_file(file: str, report: TestReport, cache: dict[str, Ruleset]) -> None:
    doc = load_file(file)
    data = doc.data
    for key in ("ruleset", "cases"):
        if key not in data:
            raise RulesetError("bad test file", [doc.problem((), f"missing '{key}'")])
    ruleset = _load_ruleset(str(data["ruleset"]), file, cache)
    try:
        as_of = _AS_OF or dt.date.fromisoformat(str(data.get("as_of", dt.date.today().isoformat())))
    except ValueError:
        raise RulesetError(
            "bad as_of", [doc.problem(("as_of",), "as_of must be YYYY-MM-DD")]
        ) from None
    cov = report.coverage.setdefault(ruleset.name, Coverage(ruleset.name, rule_universe(ruleset)))
    file_bands = dict(data.get("bands") or {})
    defaults = dict(data.get("defaults") or {})
    for i, case in enumerate(data["cases"]):
        path = ("cases", i)
        line = doc.where(path)[0]
        name = str(case.get("name", f"case {i + 1}"))
        unknown = [
            k
            for k in case
            if k not in ("name", "account", "expect", "bands", "as_of", "transition")
        ]
        if unknown:
            raise RulesetError(
                "bad case",
                [doc.problem(path + (unknown[0],), f"unknown key '{unknown[0]}'", at_key=True)],
            )
        bands = pinned_bands(
            ruleset,
            {**file_bands, **(case.get("bands") or {})},
            doc,
            path + ("bands",) if case.get("bands") else ("bands",),
        )
        if "transition" in case:
            report.results.append(
                _run_transition(doc, path, line, name, ruleset, case, bands, defaults, as_of, cov)
            )
            continue
        raw = {**defaults, **(case.get("account") or {})}
        raw.setdefault("account_id", f"case-{i + 1}")
        account = _typed_account(ruleset, raw, doc, path + ("account",))
        case_as_of = dt.date.fromisoformat(str(case["as_of"])) if "as_of" in case else as_of
        ev = evaluate(
            ruleset,
            values_frame(ruleset, [account], case_as_of),
            case_as_of,
            engine=_ENGINE,
            bands=bands,
        )
        decision = ev.decisions[0]
        fired = [ev.network.rules[i] for i, _ in ev.fired(decision)]
        cov.covered.update(r.id for r in fired)
        result = CaseResult(file, line, name, ruleset.name)
        expect = case.get("expect") or {}
        bad_keys = [k for k in expect if k not in EXPECT_KEYS]
        if bad_keys:
            raise RulesetError(
                "bad expect",
                [
                    doc.problem(
                        path + ("expect", bad_keys[0]),
                        f"unknown expectation '{bad_keys[0]}' (use {', '.join(EXPECT_KEYS)})",
                        at_key=True,
                    )
                ],
            )
        result.failures = _compare(expect, ev, decision, [r.id for r in fired])
        if result.failures:
            result.trace = [f"{r.id}: {r.because}" for r in fired]
        report.results.append(result)


def _run_transition(
    doc: Document,
    path: tuple[Any, ...],
    line: int,
    name: str,
    ruleset: Ruleset,
    case: dict[str, Any],
    bands: dict[str, ResolvedBands],
    defaults: dict[str, Any],
    as_of: dt.date,
    cov: Coverage,
) -> CaseResult:
    """A transition case: the held tier, this quarter's events and history, and an account
    (evaluated by the rules) or an evaluated tier given outright."""
    from ..assess.transitions import History, decide

    t = case["transition"] or {}
    tpath = path + ("transition",)
    bad = [k for k in t if k not in TRANSITION_KEYS]
    if bad:
        raise RulesetError(
            "bad transition",
            [
                doc.problem(
                    tpath + (bad[0],),
                    f"unknown key '{bad[0]}' (use {', '.join(TRANSITION_KEYS)})",
                    at_key=True,
                )
            ],
        )
    expect = case.get("expect") or {}
    bad = [k for k in expect if k not in TRANSITION_EXPECT]
    if bad:
        raise RulesetError(
            "bad expect",
            [
                doc.problem(
                    path + ("expect", bad[0]),
                    f"unknown expectation '{bad[0]}' (use {', '.join(TRANSITION_EXPECT)})",
                    at_key=True,
                )
            ],
        )
    held = str(t.get("tier", ""))
    if held not in ruleset.tier_ids:
        raise RulesetError("bad tier", [doc.problem(tpath + ("tier",), f"unknown tier {held!r}")])
    values: dict[str, Any] = {}
    current: dict[str, Any] = {}
    evaluated = str(t.get("evaluated_tier", ""))
    if "account" in t or not evaluated:
        raw = {**defaults, **(t.get("account") or {})}
        raw.setdefault("account_id", "transition-case")
        account = _typed_account(ruleset, raw, doc, tpath + ("account",))
        frame = values_frame(ruleset, [account], as_of)
        d = evaluate(ruleset, frame, as_of, engine=_ENGINE, bands=bands).decisions[0]
        evaluated = evaluated or d.tier
        current = dict(d.bands) | {k: v for k, v in d.decisions.items() if not isinstance(v, list)}
        values = dict(d.values) | dict(d.bands) | dict(d.decisions)
        values["__flags__"] = d.flags
    if evaluated not in ruleset.tier_ids:
        raise RulesetError(
            "bad tier", [doc.problem(tpath + ("evaluated_tier",), f"unknown tier {evaluated!r}")]
        )
    h = t.get("history") or {}
    history = History(
        quarters_in_tier=int(h.get("quarters_in_tier", 1)),
        previous_tier=str(h.get("previous_tier", held)),
        quarters_since={str(k): int(v) for k, v in (h.get("quarters_since") or {}).items()},
        consecutive={
            str(k): (current.get(k), int(v)) for k, v in (h.get("consecutive") or {}).items()
        },
    )
    out = decide(
        ruleset,
        held=held,
        evaluated=evaluated,
        values=values,
        events=set(t.get("events") or []),
        history=history,
        replay_quarters=int(h.get("replay_quarters", 0)),
    )
    if out.rule:
        cov.covered.add(out.rule)
    result = CaseResult(doc.file, line, name, ruleset.name)
    got = {
        "outcome": out.outcome,
        "to": out.review_to if out.outcome in ("held", "review") else out.to,
        "rule": out.rule,
    }
    for key in TRANSITION_EXPECT:
        if key in expect and expect[key] != got[key]:
            result.failures.append(f"{key}: expected {expect[key]!r}, got {got[key]!r}")
    if result.failures:
        result.trace = [
            f"held {held}, evaluated {evaluated}: {out.outcome}"
            + (f" by {out.rule}" if out.rule else "")
        ]
    return result


def _compare(expect: dict[str, Any], ev: Evaluation, d: Any, fired: list[str]) -> list[str]:
    out = []

    def diff(key: str, want: Any, got: Any) -> None:
        if want != got:
            out.append(f"{key}: expected {want!r}, got {got!r}")

    if "tier" in expect:
        diff("tier", expect["tier"], d.tier)
    if "motion" in expect:
        diff("motion", expect["motion"], d.motion)
    for key, got in (("flags", d.flags), ("comments", d.comments), ("reviews", d.reviews)):
        if key in expect:
            listed = sorted(expect[key] or [])
            if listed != sorted(got):
                missing = sorted(set(listed) - set(got))
                extra = sorted(set(got) - set(listed))
                out.append(
                    f"{key}: expected {listed}, got {sorted(got)}"
                    + (f" (missing {missing})" if missing else "")
                    + (f" (unexpected {extra})" if extra else "")
                )
    for set_id, want in (expect.get("bands") or {}).items():
        diff(f"bands.{set_id}", want, d.bands.get(set_id))
    for dec_id, want in (expect.get("decisions") or {}).items():
        diff(f"decisions.{dec_id}", want, d.decisions.get(dec_id))
    for score_id, spec in (expect.get("scores") or {}).items():
        tol = DEFAULT_TOLERANCE
        want = spec
        if isinstance(spec, dict):
            tol = float(spec.get("tolerance", tol))
            want = spec.get("value")
        got = d.values.get(score_id)
        if got is None or want is None or not math.isclose(got, want, abs_tol=tol):
            out.append(f"scores.{score_id}: expected {want} ± {tol:g}, got {got}")
    for rule_id in expect.get("fired") or []:
        if rule_id not in fired:
            out.append(f"fired: expected rule '{rule_id}' to fire; it did not")
    for rule_id in expect.get("not_fired") or []:
        if rule_id in fired:
            out.append(f"not_fired: expected rule '{rule_id}' not to fire; it fired")
    return out


def render_text(report: TestReport, coverage: bool = False) -> str:
    out = []
    for r in report.results:
        if r.passed:
            continue
        out.append(f"FAIL {r.file}:{r.line}: {r.name}")
        for f in r.failures:
            out.append(f"  {f}")
        out.append("  trace: " + " -> ".join(t.split(":")[0] for t in r.trace))
    if coverage:
        for name, cov in sorted(report.coverage.items()):
            covered = len(cov.covered & set(cov.rules))
            out.append(f"coverage {name}: {covered}/{len(cov.rules)} rules ({cov.percent:.1f}%)")
            for rule_id in cov.missing:
                out.append(f"  not covered: {rule_id} ({cov.rules[rule_id]})")
    out.append(f"{report.passed} passed, {report.failed} failed")
    return "\n".join(out)
