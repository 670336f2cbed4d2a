"""What a reviewer reads in a plan: the rule changes classified and tied to the accounts they
move, hints and comments, calibration, ARR per tier, who the movers are, and the
pull-request comment's shape and size."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.ruleset.diff import DECIDES, MAY, META, classify, diff_documents

from .conftest import FACTORS, ROOT, SAMPLE
from .test_plan import ACCOUNTS, base_data, head_data, write

ARGS = ["--as-of", "2026-10-01"]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def plan_json(*args: str) -> dict:
    result = run("plan", *args, *ARGS, "--format", "json")
    return json.loads(result.stdout)


def crm_portfolio(tmp_path: Path) -> str:
    """test_plan's accounts with a name, a CSM and the CRM's current tier."""
    lines = ["account_id,account_name,csm,current_tier,arr," + ",".join(FACTORS)]
    for account, (arr, sv) in ACCOUNTS.items():
        lines.append(f"{account},Name of {account},Rep {account[-1]},crm_{account},{arr},"
                     + ",".join([str(sv)] * len(FACTORS)))
    path = tmp_path / "crm.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_the_rule_changes_are_classified_and_tied_to_the_accounts_they_move(
        tmp_path: Path) -> None:
    base = write(tmp_path / "base.yaml", base_data())
    head = write(tmp_path / "head.yaml", head_data())
    p = plan_json("--base", base, "--head", head, crm_portfolio(tmp_path))
    changes = {c["path"]: c for c in p["rule_changes"]}
    assert list(changes) == ["metadata.version", "bands.sv_band.bands.medium.lte",
                             "bands.sv_band.bands.high.gt", "grid.cells.high.0", "flags.big_logo"]
    assert changes["metadata.version"]["class"] == META
    # the moved threshold: A1, A2 and A4 change strategic-value band (the two bounds of one
    # boundary count the same accounts)
    for path in ("bands.sv_band.bands.medium.lte", "bands.sv_band.bands.high.gt"):
        c = changes[path]
        assert (c["class"], c["before"], c["after"], c["accounts"], c["arr"], c["shared"],
                c["target"]) == (DECIDES, 0.6, 0.65, 3, 655000.0, True, "band set sv_band")
    # the grid cell: A6 stays in cell high.low, whose tier changed
    cell = changes["grid.cells.high.0"]
    assert (cell["before"], cell["after"], cell["accounts"], cell["arr"], cell["shared"]) == (
        "mid_touch", "high_touch_enterprise", 1, 200000.0, False)
    flag = changes["flags.big_logo"]
    assert (flag["kind"], flag["accounts"], flag["arr"]) == ("added", 3, None)
    # together they account for every move
    assert sum(m["arr"] for m in p["moves"]) == 655000.0 + 200000.0
    text = run("plan", "--base", base, "--head", head, crm_portfolio(tmp_path), *ARGS).stdout
    assert "Rule changes (4 changes decisions, 1 metadata only)" in text
    assert ("  [changes decisions] grid.cells.high.0: \"mid_touch\" -> \"high_touch_enterprise\""
            "  -> moves 1 account(s), $200,000 ARR") in text
    assert ("  [changes decisions] bands.sv_band.bands.high.gt: 0.6 -> 0.65  -> moves 3 "
            "account(s), $655,000 ARR (with 1 other change(s) to band set sv_band)") in text
    assert "-> 3 account(s) gain or lose the flag" in text


def test_classes_of_changes() -> None:
    assert classify(("metadata", "owner")) == (META, "metadata")
    assert classify(("flags", "x", "because"))[0] == META
    assert classify(("review_hints", "x", "hint"))[0] == META
    assert classify(("scores", "strategic_value", "components", "a", "weight"))[0] == DECIDES
    assert classify(("tiers", "mid_touch", "book_size", "target")) == (MAY, "CSM capacity")
    assert classify(("gates", "g", "max_share")) == (MAY, "quality gates")
    assert classify(("transitions", "min_dwell_quarters")) == (MAY, "replay movement")
    assert classify(("inputs", "arr", "aliases")) == (MAY, "reading the portfolio")
    before = base_data()
    after = copy.deepcopy(before)
    after["flags"].reverse()
    after["scores"][0]["components"][0]["weight"] = 0.3
    after["inputs"] = [i for i in after["inputs"] if i["id"] != "industry"]
    entry = {"version": "1.1.0", "date": "2026-10-01", "change": "a new line"}
    after["metadata"]["changelog"].append(entry)
    d = diff_documents(before, after)
    by_kind = {(c.kind, c.where): c.klass for c in d.changes}
    assert by_kind.pop(("added", "metadata.changelog")) == META  # the new line, not the list
    assert next(c.after for c in d.changes if c.where == "metadata.changelog") == [entry]
    assert by_kind[("reordered", "flags")] == DECIDES
    assert by_kind[("changed", "scores.strategic_value.components.strategic_logo.weight")] == \
        DECIDES
    assert by_kind[("removed", "inputs.industry")] == MAY
    assert len(d.changes) == 4
    assert diff_documents(before, copy.deepcopy(before)).changes == []


def test_the_movers_name_csm_and_crm_tier(tmp_path: Path) -> None:
    base = write(tmp_path / "base.yaml", base_data())
    head = write(tmp_path / "head.yaml", head_data())
    p = plan_json("--base", base, "--head", head, crm_portfolio(tmp_path))
    assert [(m["account_id"], m["name"], m["csm"], m["crm_tier"]) for m in p["moves"]] == [
        ("A1", "Name of A1", "Rep 1", "crm_A1"), ("A6", "Name of A6", "Rep 6", "crm_A6"),
        ("A2", "Name of A2", "Rep 2", "crm_A2"), ("A4", "Name of A4", "Rep 4", "crm_A4")]
    text = run("plan", "--base", base, "--head", head, crm_portfolio(tmp_path), *ARGS).stdout
    assert ("  A1      $600,000  high_touch_enterprise -> mid_touch  [tier_grid.high.high -> "
            "tier_grid.high.medium]  Name of A1 · CSM Rep 1 · CRM crm_A1") in text
    md = run("plan", "--base", base, "--head", head, crm_portfolio(tmp_path), *ARGS, "--format",
             "markdown").stdout
    assert ("| A1 | Name of A1 | $600,000 | high_touch_enterprise | mid_touch | Rep 1 | crm_A1 | "
            "`tier_grid.high.high` → `tier_grid.high.medium` |") in md


def test_arr_per_tier_and_each_sides_calibration(tmp_path: Path) -> None:
    base = write(tmp_path / "base.yaml", base_data())
    head = write(tmp_path / "head.yaml", head_data())
    text = run("plan", "--base", base, "--head", head, crm_portfolio(tmp_path), *ARGS).stdout
    lines = text.splitlines()
    at = lines.index("ARR per tier (before -> after)")
    assert [line.split() for line in lines[at + 1:at + 5]] == [
        ["high_touch_enterprise", "$650,000", "->", "$200,000", "(-$450,000)"],
        ["mid_touch", "$255,000", "->", "$700,000", "(+$445,000)"],
        ["tech_touch", "$20,500", "->", "$25,500", "(+$5,000)"],
        ["plg_self_serve", "$5,000", "->", "$5,000", "(+$0)"]]
    # the shipped ruleset calibrates; the head that raises the bar is told to lower it again
    data = yaml.safe_load((ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text())
    data["metadata"]["version"] = "1.1.0"
    sv = data["bands"][1]["bands"]
    sv[1]["lte"], sv[2]["gt"] = 0.55, 0.55
    head2 = write(tmp_path / "lower.yaml", data)
    p = plan_json("--base", "cs-segmentation-model", "--head", head2, str(SAMPLE))
    assert p["base"]["calibration"]["direction"] == "none"
    steps = p["head"]["calibration"]["steps"]
    assert p["head"]["calibration"]["direction"] == "tighten"
    assert (steps[0]["lever"], steps[0]["boundary_from"], steps[0]["boundary_to"]) == (
        "strategic_value_high_threshold", 0.55, 0.6)
    text = run("plan", "--base", "cs-segmentation-model", "--head", head2, str(SAMPLE),
               *ARGS).stdout
    assert ("  head: high_touch_enterprise over capacity: needs 13 CSMs for 146 accounts, 10 "
            "available; tighten the thresholds") in text
    assert ("    round 1: strategic_value_high_threshold 0.55 -> 0.6: high_touch_enterprise 146 -> "
            "100 accounts, CSMs needed 13 -> 9") in text
    md = run("plan", "--base", "cs-segmentation-model", "--head", head2, str(SAMPLE), *ARGS,
             "--format", "markdown").stdout.splitlines()
    at = md.index("<details><summary>Capacity calibration</summary>")
    assert md[at + 2:at + 5] == [
        "- base: high_touch_enterprise fits: needs 9 CSMs, 10 available (tolerance 10%)",
        "- head: high_touch_enterprise over capacity: needs 13 CSMs for 146 accounts, 10 "
        "available; tighten the thresholds",
        "  - round 1: strategic_value_high_threshold 0.55 -> 0.6: high_touch_enterprise 146 -> "
        "100 accounts, CSMs needed 13 -> 9"]


def test_review_hints_and_comments_gained_and_lost(tmp_path: Path) -> None:
    base = write(tmp_path / "base.yaml", base_data())
    hinted = base_data()
    hinted["metadata"]["version"] = "1.0.2"
    hint = hinted["review_hints"][0]
    hint["when"] = {"field": "tier", "eq": "tech_touch"}  # without the champion flag
    head = write(tmp_path / "head.yaml", hinted)
    p = plan_json("--base", base, "--head", head, crm_portfolio(tmp_path))
    assert p["changed"] is True and p["accounts_changing_tier"] == 0
    assert p["reviews"] == {"accounts_before": 0, "accounts_after": 2,
                            "gained": {"tech_touch_champion_promotion": 2}, "lost": {}}
    assert p["comments"]["gained"] == {} and p["comments"]["lost"] == {}
    change = next(c for c in p["rule_changes"] if c["path"].startswith("review_hints."))
    assert change["path"] == "review_hints.tech_touch_champion_promotion.when"
    assert change["class"] == DECIDES
    result = run("plan", "--base", base, "--head", head, crm_portfolio(tmp_path), *ARGS,
                 "--detailed-exitcode")
    assert result.exit_code == 4
    assert "review hints: 0 -> 2 accounts (+2 gained, -0 lost)" in result.stdout
    assert "  +2  tech_touch_champion_promotion" in result.stdout


def _swapped(tmp_path: Path) -> str:
    """The shipped ruleset with its grid turned upside down: almost every account moves."""
    data = yaml.safe_load((ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text())
    data["metadata"]["version"] = "2.0.0"
    cells = data["grid"]["cells"]
    cells["high"], cells["low"] = cells["low"], cells["high"]
    data["gates"] = [g for g in data["gates"] if g["kind"] in ("no_empty_tier", "arr_conserved")]
    return write(tmp_path / "swapped.yaml", data)


def test_the_comment_stays_under_githubs_limit_and_keeps_its_marker(tmp_path: Path) -> None:
    head = _swapped(tmp_path)
    args = ["plan", "--base", "cs-segmentation-model", "--head", head, str(SAMPLE), *ARGS]
    md = run(*args, "--format", "markdown").stdout
    moved = json.loads(run(*args, "--format", "json").stdout)["accounts_changing_tier"]
    assert moved > 2000
    assert len(md) < 65536
    lines = md.splitlines()
    assert lines[0] == f"<!-- tierbook-plan head={head} -->"
    assert lines[1].startswith(f"### tierbook plan: `cs-segmentation-model` 1.0.2 → 2.0.0: "
                               f"{moved:,} account(s) change tier, $")
    assert md.count("<details>") == md.count("</details>") >= 5
    shown = sum(1 for line in lines if re.match(r"\| ACC-\d{5} \|", line))
    assert 0 < shown < moved
    assert f"| … | {moved - shown:,} more | | | | | | |" in lines
    # the same plan again: the same comment, byte for byte (so it is edited, not re-posted)
    assert run(*args, "--format", "markdown", "--store", "other.sqlite").stdout == md


def test_a_weight_change_is_counted_on_its_scores_band_set(tmp_path: Path) -> None:
    base = write(tmp_path / "base.yaml", base_data())
    weighted = base_data()
    weighted["metadata"]["version"] = "1.2.0"
    components = weighted["scores"][0]["components"]
    components[0]["weight"], components[1]["weight"] = 0.45, 0.05  # logo counts more
    head = write(tmp_path / "head.yaml", weighted)
    lines = ["account_id,arr," + ",".join(FACTORS),
             "W1,50000,0.9,0.0,0.5,0.5,0.5",   # 0.475 -> 0.655: medium -> high
             "W2,50000,0.0,0.9,0.5,0.5,0.5",   # 0.475 -> 0.295: medium -> low
             "W3,200000,0.0,0.9,0.5,0.5,0.5"]  # the same in the high row: mid_touch both
    portfolio = tmp_path / "w.csv"
    portfolio.write_text("\n".join(lines) + "\n")
    p = plan_json("--base", base, "--head", head, str(portfolio))
    moved = {m["account_id"]: (m["before"], m["after"]) for m in p["moves"]}
    changes = {c["path"]: c for c in p["rule_changes"] if c["class"] == DECIDES}
    weight = changes["scores.strategic_value.components.strategic_logo.weight"]
    assert weight["target"] == "band set sv_band" and weight["shared"] is True
    assert weight["accounts"] == sum(1 for b, a in moved.values() if b != a) == len(moved)
    assert moved == {"W1": ("mid_touch", "high_touch_enterprise"),
                     "W2": ("mid_touch", "tech_touch")}
    assert weight["arr"] == sum(m["arr"] for m in p["moves"])
