"""`tierbook test`: rule test cases in YAML, with rule coverage (like `opa test`).

A test file names a ruleset, pins how computed bands resolve (a single account says
nothing about quartiles), and lists cases: an account and what the rules must decide.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem, RulesetError, TierbookError, UsageError
from ..evaluate.run import Evaluation, evaluate, values_frame
from ..ruleset.build import ruleset_from_document
from ..ruleset.model import Ruleset
from ..ruleset.sources import resolve_ruleset_path, shipped_rulesets
from ..ruleset.yamlsafe import load_file
from .cases import (
    DEFAULT_TOLERANCE,
    EXPECT_KEYS,
    CaseResult,
    Coverage,
    pinned_bands,
    rule_universe,
    typed_account,
)
from .transition_cases import run_transition

_ENGINE = "auto"
_AS_OF: dt.date | None = None


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
                run_transition(
                    doc, path, line, name, ruleset, case, bands, defaults, as_of, cov, _ENGINE
                )
            )
            continue
        raw = {**defaults, **(case.get("account") or {})}
        raw.setdefault("account_id", f"case-{i + 1}")
        account = typed_account(ruleset, raw, doc, path + ("account",))
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
