"""`tierbook plan` against hand-computed movements, and the version-bump rule."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import ROOT, write_portfolio

ARGS = ["--as-of", "2026-10-01"]
# account: (ARR, every strategic factor) -> strategic value equals the factor
ACCOUNTS = {"A1": (600000, 0.62), "A2": (50000, 0.62), "A3": (50000, 0.45), "A4": (5000, 0.62),
            "A5": (5000, 0.2), "A6": (200000, 0.2), "A7": (20000, 0.2), "A8": (500, 0.45)}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def base_data() -> dict:
    data = yaml.safe_load((ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text())
    arr = data["bands"][0]
    arr["method"] = "log"  # eight accounts say nothing about concentration: pin the log bands
    del arr["auto"], arr["quartile"]
    data["capacity"].pop("calibration")
    books = {"high_touch_enterprise": 1, "mid_touch": 2, "tech_touch": 3, "plg_self_serve": 1000}
    for tier in data["tiers"]:
        tier["book_size"] = {"min": books[tier["id"]], "target": books[tier["id"]]}
    data["gates"] = [g for g in data["gates"] if g["kind"] != "stability"]
    return data


def write(path: Path, data: dict) -> str:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def head_data(version: str = "1.1.0") -> dict:
    data = copy.deepcopy(base_data())
    data["metadata"]["version"] = version
    sv = data["bands"][1]["bands"]
    sv[1]["lte"], sv[2]["gt"] = 0.65, 0.65                       # a moved threshold
    data["grid"]["cells"]["high"][0] = "high_touch_enterprise"   # a changed grid cell
    data["flags"].append({"id": "big_logo", "when": {"field": "strategic_logo", "gte": 0.6},
                          "because": "Recognisable brand"})      # a new flag
    return data


@pytest.fixture
def portfolio(tmp_path: Path) -> str:
    return write_portfolio(tmp_path, ACCOUNTS)


def test_plan_counts_matrix_arr_and_capacity(tmp_path: Path, portfolio: str) -> None:
    base = write(tmp_path / "base.yaml", base_data())
    head = write(tmp_path / "head.yaml", head_data())
    result = run("plan", "--base", base, "--head", head, portfolio, *ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    p = json.loads(result.stdout)
    assert p["accounts_changing_tier"] == 4
    assert [(m["account_id"], m["before"], m["after"], m["arr"]) for m in p["moves"]] == [
        ("A1", "high_touch_enterprise", "mid_touch", 600000.0),
        ("A6", "mid_touch", "high_touch_enterprise", 200000.0),
        ("A2", "high_touch_enterprise", "mid_touch", 50000.0),
        ("A4", "mid_touch", "tech_touch", 5000.0)]
    assert p["moves"][1]["before_rule"] == "tier_grid.high.low"
    assert p["moves"][1]["after_rule"] == "tier_grid.high.low"
    assert p["moves"][0]["after_rule"] == "tier_grid.high.medium"
    m = p["matrix"]
    assert m["high_touch_enterprise"] == {"high_touch_enterprise": 0, "mid_touch": 2,
                                          "tech_touch": 0, "plg_self_serve": 0}
    assert m["mid_touch"] == {"high_touch_enterprise": 1, "mid_touch": 1, "tech_touch": 1,
                              "plg_self_serve": 0}
    assert m["tech_touch"]["tech_touch"] == 2 and m["plg_self_serve"]["plg_self_serve"] == 1
    arr = p["arr_moved"]
    assert arr["high_touch_enterprise"]["mid_touch"] == 650000.0
    assert arr["mid_touch"]["high_touch_enterprise"] == 200000.0
    assert arr["mid_touch"]["tech_touch"] == 5000.0
    per_tier = {r["tier"]: (r["needed_before"], r["needed_after"]) for r in p["capacity"]["per_tier"]}
    assert per_tier == {"high_touch_enterprise": (2, 1), "mid_touch": (2, 2), "tech_touch": (1, 1),
                        "plg_self_serve": (1, 1)}
    assert p["capacity"]["delta"] == {"needed_before": 6, "needed_after": 5, "available_before": 26,
                                      "available_after": 26, "gap_before": -20, "gap_after": -21,
                                      "gap_delta": -1}
    assert p["flags_gained"] == {"big_logo": 3} and p["flags_lost"] == {}
    assert p["warnings"] == []


def test_text_and_markdown(tmp_path: Path, portfolio: str) -> None:
    base = write(tmp_path / "base.yaml", base_data())
    head = write(tmp_path / "head.yaml", head_data())
    text = run("plan", "--base", base, "--head", head, portfolio, *ARGS).stdout
    lines = text.splitlines()
    # both sides named as they were resolved, with their content hashes
    sha = {k: json.loads(run("plan", "--base", base, "--head", head, portfolio, *ARGS, "--format",
                             "json", "--store", "side.sqlite").stdout)[k]["sha256"]
           for k in ("base", "head")}
    assert lines[1:4] == [
        f"  base {base}: cs-segmentation-model 1.0.2, sha256 {sha['base'][:12]}",
        f"  head {head}: cs-segmentation-model 1.1.0, sha256 {sha['head'][:12]}",
        "4 account(s) change tier, $855,000 ARR moves"]
    assert "  A1      $600,000  high_touch_enterprise -> mid_touch  [tier_grid.high.high -> " \
           "tier_grid.high.medium]" in text
    md = run("plan", "--base", base, "--head", head, portfolio, *ARGS, "--format", "markdown").stdout
    assert md.splitlines()[:2] == [
        f"<!-- tierbook-plan head={head} -->",
        "### tierbook plan: `cs-segmentation-model` 1.0.2 → 1.1.0: 4 account(s) change tier, "
        "$855,000 ARR moves, CSMs needed 6 → 5 (-1), gates passed"]
    assert "<details><summary>4 account(s) change tier, largest ARR first</summary>" in md
    assert "| **high_touch_enterprise** | 0 | **2** | 0 | 0 |" in md


def test_movement_matrix_names_every_tier_whole(tmp_path: Path, portfolio: str) -> None:
    """Tier ids were cut to 12 characters over the columns (high_touch_e, plg_self_ser)."""
    base = write(tmp_path / "base.yaml", base_data())
    head = write(tmp_path / "head.yaml", head_data())
    lines = run("plan", "--base", base, "--head", head, portfolio, *ARGS).stdout.splitlines()
    at = lines.index("Movement matrix (rows: before, columns: after)")
    matrix = lines[at + 1:at + 6]
    assert matrix[0].split() == ["(1)", "(2)", "(3)", "(4)"]  # four long ids: numbered columns
    assert [row.split()[:2] for row in matrix[1:]] == [
        ["(1)", "high_touch_enterprise"], ["(2)", "mid_touch"], ["(3)", "tech_touch"],
        ["(4)", "plg_self_serve"]]
    assert matrix[1].split()[2:] == ["0", "2", "0", "0"]
    assert max(map(len, matrix)) <= 80

    short = {"high_touch_enterprise": "gold", "mid_touch": "silver", "tech_touch": "bronze",
             "plg_self_serve": "self"}

    def renamed(data: dict) -> str:
        text = yaml.safe_dump(data)
        for old, new in short.items():
            text = text.replace(old, new)
        return text
    (tmp_path / "b2.yaml").write_text(renamed(base_data()))
    (tmp_path / "h2.yaml").write_text(renamed(head_data()))
    text = run("plan", "--base", str(tmp_path / "b2.yaml"), "--head", str(tmp_path / "h2.yaml"),
               portfolio, *ARGS).stdout.splitlines()
    at = text.index("Movement matrix (rows: before, columns: after)")
    assert text[at + 1].split() == ["gold", "silver", "bronze", "self"]  # short ids: by name
    assert text[at + 2].split() == ["gold", "0", "2", "0", "0"]


def test_two_different_rulesets_are_not_a_version_to_bump(tmp_path: Path, portfolio: str) -> None:
    """Comparing a ruleset with another one (another name) is not 'the rules changed but the
    version did not'; the markdown title names both."""
    base = write(tmp_path / "base.yaml", base_data())
    other = head_data(version="1.0.2")
    other["metadata"]["name"] = "another-model"
    head = write(tmp_path / "head.yaml", other)
    result = run("plan", "--base", base, "--head", head, portfolio, *ARGS, "--format", "json")
    assert json.loads(result.stdout)["warnings"] == []
    md = run("plan", "--base", base, "--head", head, portfolio, *ARGS, "--format", "markdown").stdout
    assert md.splitlines()[1].startswith(
        "### tierbook plan: `cs-segmentation-model` 1.0.2 → `another-model` 1.0.2: ")
    same_name = head_data(version="1.0.2")
    write(tmp_path / "same.yaml", same_name)
    warned = run("plan", "--base", base, "--head", str(tmp_path / "same.yaml"), portfolio, *ARGS,
                 "--format", "json")
    assert json.loads(warned.stdout)["warnings"][0].startswith("the rules changed but the version")


def test_detailed_exitcode(tmp_path: Path, portfolio: str) -> None:
    """0 no change, 4 a change, 1 an error or a failed gate, 2 a usage error: four codes a
    CI job tells apart."""
    base = write(tmp_path / "base.yaml", base_data())
    head = write(tmp_path / "head.yaml", head_data())
    reworded = base_data()
    reworded["metadata"]["description"] = "the same rules, described anew"
    same = run("plan", "--base", base, "--head", write(tmp_path / "reworded.yaml", reworded),
               portfolio, *ARGS, "--detailed-exitcode")
    assert same.exit_code == 0 and "No changes." in same.stdout
    assert "[metadata only] metadata.description" in same.stdout
    assert run("plan", "--base", base, "--head", head, portfolio, *ARGS,
               "--detailed-exitcode").exit_code == 4
    assert run("plan", "--base", base, "--head", head, portfolio, *ARGS).exit_code == 0
    broken = CliRunner().invoke(main, ["plan", "--base", base, "--head", str(tmp_path / "nope.yaml"),
                                       portfolio, *ARGS, "--detailed-exitcode"])
    assert broken.exit_code == 1 and "nope.yaml: file not found" in broken.stderr
    usage = CliRunner().invoke(main, ["plan", "--base", base, portfolio, "--detailed-exitcode"])
    assert usage.exit_code == 2


def test_base_and_head_of_the_same_content_are_refused(tmp_path: Path, portfolio: str) -> None:
    """A shipped name resolves to the installed file (in an editable checkout, the file being
    edited): a base of the same content as the head is refused, saying how to name the base."""
    copy_ = tmp_path / "copy.yaml"
    copy_.write_text((ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text() + "# edited\n")
    result = CliRunner().invoke(main, ["plan", "--base", "cs-segmentation-model", "--head",
                                       str(copy_), portfolio, *ARGS])
    assert result.exit_code == 2 and result.stdout == ""
    shipped = ROOT / "rulesets" / "cs-segmentation-model.yaml"
    assert f"base cs-segmentation-model (shipped: {shipped})" in result.stderr
    assert f"head {copy_}: cs-segmentation-model 1.0.2, sha256" in result.stderr
    assert f"--base git:main:{copy_}" in result.stderr
    assert "git merge-base origin/main HEAD" in result.stderr
    v = CliRunner().invoke(main, ["validate", "--base", "cs-segmentation-model", str(copy_)])
    assert v.exit_code == 2 and "the base and the head are the same ruleset" in v.stderr
    assert "(tierbook validate)" in v.stderr


def test_a_head_that_fails_a_gate_fails_the_plan(tmp_path: Path, portfolio: str) -> None:
    base = write(tmp_path / "base.yaml", base_data())
    strict = head_data()
    next(g for g in strict["gates"] if g["kind"] == "tier_share_cap")["max_share"] = 0.3
    head = write(tmp_path / "head.yaml", strict)
    detail = "mid_touch holds 37.5% of accounts (3 of 8); cap 30%"
    for extra in ([], ["--detailed-exitcode"]):
        result = run("plan", "--base", base, "--head", head, portfolio, *ARGS, *extra)
        assert result.exit_code == 1, extra
        assert f"error: gate mid_touch_under_60_percent failed on the head: {detail}" in \
            result.stderr
        assert f"gate mid_touch_under_60_percent: passed -> failed: {detail}" in result.stdout
    md = run("plan", "--base", base, "--head", head, portfolio, *ARGS, "--format", "markdown")
    assert md.exit_code == 1
    assert f"> **Gate failed:** `mid_touch_under_60_percent`: {detail}" in md.stdout
    assert "1 gate(s) failed (mid_touch_under_60_percent)" in md.stdout.splitlines()[1]


def test_gate_status_change_is_reported(tmp_path: Path, portfolio: str) -> None:
    base = write(tmp_path / "base.yaml", base_data())
    strict = head_data()
    next(g for g in strict["gates"] if g["kind"] == "tier_share_cap")["max_share"] = 0.3
    head = write(tmp_path / "head.yaml", strict)
    p = json.loads(run("plan", "--base", base, "--head", head, portfolio, *ARGS, "--format",
                       "json").stdout)
    assert p["gate_changes"] == [{"id": "mid_touch_under_60_percent", "before": "passed",
                                  "after": "failed",
                                  "detail": "mid_touch holds 37.5% of accounts (3 of 8); cap 30%",
                                  "detail_before": "mid_touch holds 37.5% of accounts (3 of 8); "
                                                   "cap 60%"}]
    assert [g["id"] for g in p["failed_gates"]] == ["mid_touch_under_60_percent"]


def test_unbumped_version_warns_and_validate_base_fails(tmp_path: Path, portfolio: str) -> None:
    base = write(tmp_path / "base.yaml", base_data())
    head = write(tmp_path / "head.yaml", head_data(version="1.0.2"))
    result = run("plan", "--base", base, "--head", head, portfolio, *ARGS)
    assert "warning: the rules changed but the version is still 1.0.2" in result.stderr
    v = CliRunner().invoke(main, ["validate", "--base", base, head])
    assert v.exit_code == 1
    assert "$.metadata.version: the rules changed since" in v.stdout
    bumped = write(tmp_path / "bumped.yaml", head_data())
    assert CliRunner().invoke(main, ["validate", "--base", base, bumped]).exit_code == 0
    # both sides named, as text, JSON and workflow notices
    text = CliRunner().invoke(main, ["validate", "--base", base, bumped]).stdout.splitlines()
    assert text[0].startswith(f"base {base}: cs-segmentation-model 1.0.2, sha256 ")
    assert text[1].startswith(f"head {bumped}: cs-segmentation-model 1.1.0, sha256 ")
    doc = json.loads(CliRunner().invoke(main, ["validate", "--base", base, bumped, "--format",
                                               "json"]).stdout)
    assert doc["base"]["source"] == base and doc["heads"][0]["version"] == "1.1.0"
    assert len(doc["base"]["sha256"]) == 64 and doc["base"]["sha256"] != doc["heads"][0]["sha256"]
    github = CliRunner().invoke(main, ["validate", "--base", base, bumped, "--format", "github"])
    assert github.stdout.startswith(f"::notice title=tierbook validate --base::base {base}: ")


def test_git_ref_sources(tmp_path: Path, portfolio: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write(repo / "ruleset.yaml", base_data())
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "base"], check=True)
    write(repo / "ruleset.yaml", head_data())
    import os
    os.chdir(repo)
    p = json.loads(run("plan", "--base", "git:HEAD:ruleset.yaml", "--head", "ruleset.yaml",
                       portfolio, *ARGS, "--format", "json").stdout)
    assert p["accounts_changing_tier"] == 4 and p["base"]["version"] == "1.0.2"
    # the same content from the working tree: refused, with the path as git names it
    (repo / "sub").mkdir()
    os.chdir(repo / "sub")
    write(repo / "ruleset.yaml", base_data())
    same = CliRunner().invoke(main, ["plan", "--base", "../ruleset.yaml", "--head",
                                     "../ruleset.yaml", portfolio, *ARGS])
    assert same.exit_code == 2 and "--base git:main:ruleset.yaml" in same.stderr
    os.chdir(repo)
    bad = CliRunner().invoke(main, ["plan", "--base", "git:nosuchref:ruleset.yaml", "--head",
                                    "ruleset.yaml", portfolio, *ARGS])
    assert bad.exit_code == 1 and "git:nosuchref:ruleset.yaml: cannot read from git" in bad.stderr


def test_a_plan_whose_head_fails_leaves_no_complete_run(tmp_path: Path, portfolio: str) -> None:
    import sqlite3
    from contextlib import closing

    base = write(tmp_path / "base.yaml", base_data())
    needy = head_data()
    needy["inputs"].append({"id": "region_code", "type": "string", "required": True})
    head = write(tmp_path / "head.yaml", needy)
    store = tmp_path / "s.db"
    result = CliRunner().invoke(main, ["plan", "--base", base, "--head", head, portfolio, *ARGS,
                                       "--store", str(store)])
    assert result.exit_code == 1, result.output
    assert "region_code" in result.stderr
    # the base was run and stored first: it is marked failed with the plan, not complete
    # (closing: a connection's own `with` commits but does not close it)
    with closing(sqlite3.connect(store)) as db:
        assert db.execute("SELECT command, status FROM runs").fetchall() == [("plan", "failed")]
    ok = run("plan", "--base", base, "--head", write(tmp_path / "h2.yaml", head_data()),
             portfolio, *ARGS, "--store", str(store))
    assert ok.exit_code == 0, ok.output
    with closing(sqlite3.connect(store)) as db:
        assert db.execute("SELECT status FROM runs ORDER BY run_id").fetchall() == [
            ("failed",), ("complete",), ("complete",)]
