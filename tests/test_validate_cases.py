"""Data-driven tests of `tierbook validate` (in the style of check-jsonschema's example files).

tests/cases/invalid/<kind>.yaml   a small ruleset with one kind of error, derived from
                                  tests/cases/valid/base.yaml (a trimmed default ruleset)
tests/cases/invalid/<kind>.expected
                                  the exact, complete stdout of
                                  `tierbook validate tests/cases/invalid/<kind>.yaml`,
                                  run from the repo root
tests/cases/<valid|invalid>/<kind>.xfail
                                  present when the validator is known to be wrong on this
                                  case: holds the reason; the test is a strict xfail and the
                                  .expected file holds what the validator SHOULD print
tests/cases/valid/*.yaml          rulesets that must validate (exit 0)

Regenerate the expected files after an intended message change with
tests/cases/regenerate.py, and review the diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "tests" / "cases"
INVALID = sorted((CASES / "invalid").glob("*.yaml"))
VALID = sorted((CASES / "valid").glob("*.yaml"))
SHIPPED = sorted((REPO / "rulesets").glob("*.yaml"))

# Kinds of error the suite must keep covering (`tierbook validate`, docs/language.md).
REQUIRED_KINDS = {
    "yaml-syntax", "duplicate-key", "custom-tag", "alias-bomb", "non-mapping", "empty-file",
    "multi-document", "unknown-top-level-key", "missing-required", "wrong-type", "bad-enum",
    "bad-version", "bad-id", "unknown-tier-in-grid", "unknown-field-in-condition",
    "unknown-flag-reference", "band-gap", "band-overlap", "band-empty", "grid-incomplete",
    "grid-overfull", "weights-not-one", "all-zero-weights", "duplicate-id", "duplicate-alias",
    "unreachable-rule", "shadowed-rule", "unique-overlap", "contradictory-declarations", "cycle",
    "comparison-type", "two-operators", "waiver-without-reason", "unknown-gate-in-waiver",
    "tier-input-optional", "quartile-band-count", "unreachable-tier", "three-errors",
    "decision-gap", "default-out-of-range", "default-not-integer", "duplicate-role",
    "company-revenue-alias",
}

LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<rest>.*)$")
GITHUB = re.compile(r"^::error file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<column>\d+),"
                    r"title=(?P<code>[a-z-]+)::(?P<path>\$\S*): (?P<message>.+)$")


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def cases(paths: list[Path]) -> list:
    params = []
    for path in paths:
        xfail = path.with_suffix(".xfail")
        marks = ([pytest.mark.xfail(reason=xfail.read_text("utf-8").strip(), strict=True)]
                 if xfail.exists() else [])
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def validate(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["validate", *args], catch_exceptions=False)


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


# -- the case files ---------------------------------------------------------------------

def test_every_required_kind_has_a_case() -> None:
    assert REQUIRED_KINDS - {p.stem for p in INVALID} == set()


def test_case_files_come_in_pairs() -> None:
    stems = {p.stem for p in INVALID}
    expected = {p.stem for p in (CASES / "invalid").glob("*.expected")}
    assert stems == expected, "every invalid case needs a .expected file, and vice versa"
    for folder in ("invalid", "valid"):
        orphans = {p.stem for p in (CASES / folder).glob("*.xfail")} - {
            p.stem for p in (CASES / folder).glob("*.yaml")}
        assert not orphans, f".xfail files without a case in {folder}/: {orphans}"


@pytest.mark.parametrize("case", cases(INVALID))
def test_invalid_case(case: Path) -> None:
    expected = case.with_suffix(".expected").read_text("utf-8")
    result = validate(rel(case))
    assert result.stdout == expected
    assert result.exit_code == 1
    n = len(expected.splitlines())
    assert result.stderr == f"{n} error{'s' if n != 1 else ''} in 1 of 1 file(s)\n"


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.stem)  # the files, not the validator
def test_expected_lines_are_located_and_sorted(case: Path) -> None:
    """The contract itself: every line is file:line:column: ..., sorted by position."""
    lines = case.with_suffix(".expected").read_text("utf-8").splitlines()
    assert lines, "an invalid case must report at least one problem"
    where = []
    for line in lines:
        m = LOCATED.match(line)
        assert m, f"not file:line:column: {line!r}"
        assert m["file"] == rel(case)
        assert int(m["line"]) >= 1 and int(m["column"]) >= 1
        where.append((int(m["line"]), int(m["column"])))
    assert where == sorted(where)
    assert len(set(lines)) == len(lines), "a problem is reported once"


@pytest.mark.parametrize("case", cases(VALID))
def test_valid_case(case: Path) -> None:
    result = validate(rel(case))
    assert result.stdout == f"{rel(case)}: valid\n"
    assert result.exit_code == 0


@pytest.mark.parametrize("ruleset", SHIPPED, ids=lambda p: p.stem)
def test_shipped_ruleset_is_valid(ruleset: Path) -> None:
    result = validate(rel(ruleset))
    assert result.stdout == f"{rel(ruleset)}: valid\n"
    assert result.exit_code == 0


def test_there_is_a_shipped_ruleset() -> None:
    assert "cs-segmentation-model" in {p.stem for p in SHIPPED}


def test_shipped_ruleset_by_name() -> None:
    result = validate("cs-segmentation-model")
    assert result.stdout == "cs-segmentation-model: valid\n"
    assert result.exit_code == 0


def test_no_argument_is_a_usage_error() -> None:
    result = validate()
    assert result.exit_code == 2
    assert "RULESET" in result.stderr
    assert result.stdout == ""


def test_missing_file() -> None:
    result = validate("tests/cases/invalid/no-such-file.yaml")
    assert result.exit_code == 1
    assert result.stdout == "tests/cases/invalid/no-such-file.yaml: file not found\n"


# -- all problems, sorted ---------------------------------------------------------------

THREE = CASES / "invalid" / "three-errors.yaml"


def test_all_independent_problems_are_reported_in_position_order() -> None:
    """three-errors.yaml holds 3 independent errors that the checker finds in another order
    (scores, grid, then decision rules) than they sit in the file (scores, decisions, grid)."""
    result = validate(rel(THREE))
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    where = [(int(m["line"]), int(m["column"])) for m in map(LOCATED.match, lines) if m]
    assert len(where) == 3 and where == sorted(where)
    assert ["weights of" in lines[0], "shadowed" in lines[1], "mid_tuoch" in lines[2]] == [True] * 3


def test_several_files_in_one_run() -> None:
    bad = CASES / "invalid" / "band-gap.yaml"
    good = CASES / "valid" / "base.yaml"
    result = validate(rel(good), rel(bad))
    assert result.exit_code == 1
    assert result.stdout == (bad.with_suffix(".expected").read_text("utf-8")
                             + f"{rel(good)}: valid\n")
    assert result.stderr == "1 error in 1 of 2 file(s)\n"


# -- other formats ----------------------------------------------------------------------

def test_json_format_shape() -> None:
    result = validate("--format", "json", rel(THREE))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert set(report) == {"valid", "files", "errors", "warnings"}
    assert report["warnings"] == []
    assert report["valid"] is False
    assert report["files"] == [{"file": rel(THREE), "valid": False}]
    assert len(report["errors"]) == 3
    for error in report["errors"]:
        assert set(error) == {"file", "line", "column", "path", "code", "message"}
        assert error["file"] == rel(THREE)
        assert isinstance(error["line"], int) and isinstance(error["column"], int)
        assert error["path"].startswith("$")
        assert isinstance(error["code"], str) and error["code"]
    # the same problems, in the same order, as the text format
    text = [f"{e['file']}:{e['line']}:{e['column']}: {e['path']}: {e['message']}"
            for e in report["errors"]]
    assert text == THREE.with_suffix(".expected").read_text("utf-8").splitlines()
    assert [e["code"] for e in report["errors"]] == ["weights", "shadowed-rule", "unknown-tier"]


def test_json_format_valid() -> None:
    base = CASES / "valid" / "base.yaml"
    result = validate("--format", "json", rel(base))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "valid": True, "files": [{"file": rel(base), "valid": True}], "errors": [],
        "warnings": []}


def test_github_format_shape() -> None:
    result = validate("--format", "github", rel(THREE))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    expected = THREE.with_suffix(".expected").read_text("utf-8").splitlines()
    for line, text in zip(lines, expected):
        m = GITHUB.match(line)
        assert m, f"not a workflow command: {line!r}"
        assert m["file"] == rel(THREE)
        assert text == f"{m['file']}:{m['line']}:{m['column']}: {m['path']}: {m['message']}"


def test_a_folder_stands_for_its_yaml_files(tmp_path: Path) -> None:
    """`tierbook validate rulesets/` in CI: every .yaml/.yml directly in the folder."""
    good = (Path(__file__).resolve().parents[1] / "rulesets" / "cs-segmentation-model.yaml").read_text()
    folder = tmp_path / "rulesets"
    (folder / "nested").mkdir(parents=True)
    (folder / "a.yaml").write_text(good)
    (folder / "b.yml").write_text(good.replace("weight: 0.15}", "weight: 0.10}", 1))
    (folder / "notes.txt").write_text("not a ruleset")
    (folder / "nested" / "c.yaml").write_text("not: [a ruleset")
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 1
    assert f"{folder / 'a.yaml'}: valid" in result.stdout
    assert f"{folder / 'b.yml'}:" in result.stdout and "sum to 0.95" in result.stdout
    assert "1 error in 1 of 2 file(s)" in result.stderr
    (tmp_path / "none").mkdir()
    none = CliRunner().invoke(main, ["validate", str(tmp_path / "none")])
    assert none.exit_code == 2 and "no .yaml or .yml files in this folder" in none.stderr
