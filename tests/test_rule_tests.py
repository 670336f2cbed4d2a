"""`tierbook test`: readable failures, coverage, exit codes, and the shipped test files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import ROOT

RULESET = str(ROOT / "rulesets" / "cs-segmentation-model.yaml")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def write_tests(tmp_path: Path, cases: str, ruleset: str = RULESET) -> str:
    path = tmp_path / "t.yaml"
    path.write_text(f"ruleset: {ruleset}\nas_of: '2026-10-01'\nbands: {{arr_band: log}}\n"
                    f"cases:\n{cases}")
    return str(path)


def test_shipped_test_files_pass_with_full_rule_coverage() -> None:
    result = run("test", str(ROOT / "rulesets" / "tests"), "--fail-under", "100")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith(" passed, 0 failed")
    data = json.loads(run("test", str(ROOT / "rulesets" / "tests"), "--format", "json").stdout)
    assert set(data["coverage"]) == {"cs-segmentation-model", "keep-segment", "customer-success",
                                     "priority-model"}
    assert all(c["percent"] == 100.0 and c["missing"] == [] for c in data["coverage"].values())


def test_transition_case_failure_is_readable(tmp_path: Path) -> None:
    path = write_tests(tmp_path, """\
  - name: promotion expected
    transition: {tier: tech_touch, evaluated_tier: mid_touch, events: [signal]}
    expect: {outcome: moved, to: mid_touch, rule: promote_on_arr_crossing}
""")
    result = run("test", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:4] == [
        "  outcome: expected 'moved', got 'stay'",
        "  to: expected 'mid_touch', got 'tech_touch'",
        "  rule: expected 'promote_on_arr_crossing', got ''"]


def test_a_broken_rule_fails_with_a_readable_diff_and_the_trace(tmp_path: Path) -> None:
    broken = (ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text().replace(
        "high: [mid_touch, mid_touch, high_touch_enterprise]",
        "high: [mid_touch, mid_touch, mid_touch]", 1)
    (tmp_path / "broken.yaml").write_text(broken)
    path = write_tests(tmp_path, """\
  - name: high ARR and high value is enterprise
    account: {arr: 150000, strategic_logo: 1, expansion_potential: 1, product_influence: 1, reference_value: 1, regulatory_exposure: 1}
    expect: {tier: high_touch_enterprise, flags: [design_partner], fired: [tier_grid.high.high]}
  - name: still fine
    account: {arr: 500}
    expect: {tier: plg_self_serve}
""", ruleset=str(tmp_path / "broken.yaml"))
    result = run("test", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL {path}:5: high ARR and high value is enterprise"
    assert lines[1] == "  tier: expected 'high_touch_enterprise', got 'mid_touch'"
    assert lines[2] == "  flags: expected ['design_partner'], got [] (missing ['design_partner'])"
    assert lines[3] == "  trace: arr_band.arr_100k_500k -> sv_band.high -> tier_grid.high.high -> motion.mid_touch"
    assert lines[-1] == "1 passed, 1 failed"


def test_score_tolerance_and_not_fired(tmp_path: Path) -> None:
    path = write_tests(tmp_path, """\
  - name: score within tolerance
    account: {arr: 500, strategic_logo: 1}
    expect: {scores: {strategic_value: {value: 0.2501, tolerance: 0.001}}, not_fired: [strategic_champion]}
  - name: score outside tolerance
    account: {arr: 500, strategic_logo: 1}
    expect: {scores: {strategic_value: 0.26}, not_fired: [tier_grid.low.low]}
""")
    result = run("test", path)
    assert result.exit_code == 1
    assert "  scores.strategic_value: expected 0.26 ± 1e-06, got 0.25" in result.stdout
    assert "  not_fired: expected rule 'tier_grid.low.low' not to fire; it fired" in result.stdout


def test_coverage_and_fail_under(tmp_path: Path) -> None:
    path = write_tests(tmp_path, "  - name: one\n    account: {arr: 500}\n    expect: {tier: plg_self_serve}\n")
    result = run("test", path, "--coverage")
    assert result.exit_code == 0
    assert "coverage cs-segmentation-model: 4/37 rules (10.8%)" in result.stdout
    assert "  not covered: tier_grid.high.high (cell)" in result.stdout
    low = run("test", path, "--fail-under", "90")
    assert low.exit_code == 1
    assert "coverage of cs-segmentation-model is 10.8%, under 90%" in low.stderr
    data = json.loads(run("test", path, "--format", "json").stdout)
    assert data["passed"] == 1 and data["coverage"]["cs-segmentation-model"]["covered"] == 4


def test_bad_test_files_name_the_place(tmp_path: Path) -> None:
    path = write_tests(tmp_path, "  - name: typo\n    account: {ar: 500}\n    expect: {teir: x}\n")
    result = run("test", path)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"{path}:6:14: $.cases[0].account: required input 'arr' is missing",
        f"{path}:6:15: $.cases[0].account.ar: unknown input 'ar' (did you mean 'arr'?)"]
    path = write_tests(tmp_path, "  - name: typo\n    account: {arr: 500}\n    expect: {teir: x}\n")
    assert "unknown expectation 'teir'" in run("test", path).stderr
    assert run("test", str(tmp_path / "missing")).exit_code == 2


def test_computed_bands_must_be_pinned(tmp_path: Path) -> None:
    keep = ROOT / "rulesets" / "keep-segment.yaml"
    path = tmp_path / "k.yaml"
    path.write_text(f"ruleset: {keep}\ncases:\n  - name: x\n    account: {{arr: 5}}\n    expect: {{}}\n")
    result = run("test", str(path))
    assert result.exit_code == 1
    assert "is computed from the portfolio (target_shares): pin its edges here" in result.stderr


def test_no_test_cases_is_a_failure_of_its_own(tmp_path: Path) -> None:
    """A folder without test files, or test files without cases, tests nothing: that fails
    (with or without --fail-under) and says why, instead of passing with 0 passed, 0 failed."""
    empty = tmp_path / "empty"
    empty.mkdir()
    no_cases = tmp_path / "none"
    no_cases.mkdir()
    (no_cases / "t.yaml").write_text(f"ruleset: {RULESET}\ncases: []\n")
    for folder, files in ((empty, 0), (no_cases, 1)):
        for extra in ([], ["--fail-under", "100"]):
            result = run("test", str(folder), *extra)
            assert result.exit_code == 1, (folder, extra, result.output)
            assert result.stderr.endswith(f"no test cases in {folder} ({files} test file(s) "
                                          "read): nothing was tested\n"), result.stderr


def test_a_bad_as_of_is_a_usage_error() -> None:
    result = run("test", str(ROOT / "rulesets" / "tests"), "--as-of", "2026-02-30")
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--as-of': '2026-02-30' is not a date (YYYY-MM-DD)" in result.stderr
    assert "internal error" not in result.output
