"""The inputs file on the command line: validate, --table over a declared file, a mapping
file, a roll-up a required input cannot take, and the other evaluating commands."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tierbook.cli.main import main

from ..conftest import ROOT, write_portfolio

ARGS = ["--as-of", "2026-10-01"]

SUBS = """\
kind: inputs
tables:
  subs:
    file: subs.csv
    key: account
    columns: {account: string, amount: money, since: date}
    aggregate:
      - {into: arr, op: OP, column: amount, window: {days: 365, date: since}}
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _accounts(tmp_path: Path) -> str:
    path = write_portfolio(tmp_path, {"A1": (5000.0, 0.5), "A2": (200000.0, 0.7)})
    lines = Path(path).read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, h in enumerate(header) if h != "arr"]
    Path(path).write_text(
        "\n".join(",".join(row.split(",")[i] for i in keep) for row in lines) + "\n"
    )
    return path


def test_validate_reads_an_inputs_file_against_its_schema(tmp_path: Path) -> None:
    ok = run("validate", str(ROOT / "examples" / "crm-inputs.yaml"))
    assert ok.exit_code == 0, ok.output
    (tmp_path / "in.yaml").write_text(SUBS.replace("OP", "median"))
    bad = run("validate", "in.yaml")
    assert bad.exit_code == 1
    assert bad.output.splitlines()[0] == (
        "in.yaml:8:25: $.tables.subs.aggregate[0].op: 'median' is not one of sum, count, "
        "mean, min, max, latest, any, ratio (did you mean 'mean'?)"
    )


def test_a_table_file_on_the_command_line_and_an_undeclared_table(tmp_path: Path) -> None:
    accounts = _accounts(tmp_path)
    (tmp_path / "in.yaml").write_text(SUBS.replace("OP", "sum"))
    (tmp_path / "other.csv").write_text(
        "account,amount,since\nA1,1000,2026-09-01\nA1,500,2026-01-01\nA2,250000,2026-05-05\n"
        "A2,9,2025-10-01\n"
    )
    result = run(
        "segment", accounts, "--inputs", "in.yaml", "--table", "subs=other.csv", *ARGS,
        "--format", "json", "--out", "o",
    )
    doc = json.loads(result.stdout)
    # 2025-10-01 is 365 days back: outside the window
    assert {a["account_id"]: a["arr"] for a in doc["accounts"]} == {"A1": 1500.0, "A2": 250000.0}
    assert doc["inputs"]["tables"] == {"subs": "other.csv"}
    wrong = run("segment", accounts, "--inputs", "in.yaml", "--table", "sub=other.csv", *ARGS)
    assert wrong.exit_code == 2
    assert "--table sub=...: no table 'sub' is declared in in.yaml (did you mean 'subs'?)" in (
        wrong.output
    )


def test_a_required_input_left_unknown_by_its_roll_up_names_the_account(tmp_path: Path) -> None:
    accounts = _accounts(tmp_path)
    (tmp_path / "in.yaml").write_text(SUBS.replace("OP", "mean"))
    (tmp_path / "subs.csv").write_text("account,amount,since\nA1,1000,2026-09-01\n")
    result = run("segment", accounts, "--inputs", "in.yaml", *ARGS)
    assert result.exit_code == 1
    assert (
        f"{accounts}:3:1: arr: account A2: arr rolled up from mean of subs.amount is unknown "
        "(no row counted)"
    ) in result.output


def test_an_inputs_file_maps_columns_and_sizes_teams(tmp_path: Path) -> None:
    path = write_portfolio(tmp_path, {"A1": (5000.0, 0.5), "A2": (200000.0, 0.7)})
    Path(path).write_text(Path(path).read_text().replace("account_id,arr,", "Acct,ARR $,", 1))
    (tmp_path / "in.yaml").write_text(
        "kind: inputs\ncolumns: {Acct: account_id, ARR $: arr}\ncsms: {mid_touch: 4}\n"
    )
    result = run("segment", path, "--inputs", "in.yaml", *ARGS, "--format", "json", "--out", "o")
    doc = json.loads(result.stdout)
    assert [a["account_id"] for a in doc["accounts"]] == ["A1", "A2"]
    assert doc["capacity"]["per_tier"]["mid_touch"]["available"] == 4
    assert doc["inputs"]["csms_from"] == "in.yaml"
    assert doc["inputs"]["columns"] == {"Acct": "account_id", "ARR $": "arr"}


def test_plan_takes_the_headcount_for_both_sides(tmp_path: Path) -> None:
    sample = str(ROOT / "examples" / "portfolio.csv")
    rs = str(ROOT / "rulesets" / "cs-segmentation-model.yaml")
    head = tmp_path / "head.yaml"
    head.write_text(Path(rs).read_text().replace("  version: 1.0.2", "  version: 1.0.3", 1))
    plan = run(
        "plan", "--base", rs, "--head", str(head), sample, *ARGS,
        "--csms", "high_touch_enterprise=40", "--format", "json",
    )
    doc = json.loads(plan.stdout)
    per_tier = {t["tier"]: t for t in doc["capacity"]["per_tier"]}
    assert per_tier["high_touch_enterprise"]["available_before"] == 40
    assert per_tier["high_touch_enterprise"]["available_after"] == 40


def test_replay_starts_from_the_rolled_up_accounts_and_keeps_the_inputs(tmp_path: Path) -> None:
    import sqlite3

    result = run(
        "replay", str(ROOT / "examples" / "portfolio.csv"), str(ROOT / "examples" / "events.csv"),
        "--inputs", str(ROOT / "examples" / "crm-inputs.yaml"), *ARGS, "--format", "json",
        "--out", "r",
    )
    assert result.exit_code == 0, result.output
    db = sqlite3.connect(tmp_path / "traces.sqlite")
    try:
        stored = db.execute("SELECT COUNT(*), MIN(inputs) FROM run_inputs").fetchone()
    finally:
        db.close()
    assert stored[0] == len(json.loads(result.stdout)["quarters"])
    assert json.loads(stored[1])["tables"]["subscriptions"].endswith("subscriptions.csv")


def test_a_rolled_up_blank_is_a_gap_and_takes_the_inputs_default(tmp_path: Path) -> None:
    from tierbook.commands import api
    from tierbook.sources.options import run_inputs

    path = write_portfolio(tmp_path, {"A1": (5000.0, 0.5), "A2": (200000.0, 0.7)})
    (tmp_path / "in.yaml").write_text(
        "kind: inputs\ntables:\n  logos:\n    file: logos.csv\n    key: id\n"
        "    columns: {id: string, logo: ratio}\n"
        "    aggregate: [{into: strategic_logo, op: mean, column: logo}]\n"
    )
    (tmp_path / "logos.csv").write_text("id,logo\nA1,0.9\nA1,0.7\n")
    result = api.segment(
        None, path, as_of=api_date(), inputs=run_inputs("in.yaml"), chart=False
    )
    logos = dict(zip(result.evaluation.column("account_id"), result.evaluation.column(
        "strategic_logo")))
    assert logos == {"A1": 0.8, "A2": 0.0}  # A2 has no row: unknown, then the default 0
    assert result.gaps["strategic_logo"] == 1
    assert result.defaulted["strategic_logo"] == 1
    assert result.defaults["strategic_logo"] == ["A2"]


def api_date():
    import datetime as dt

    return dt.date(2026, 10, 1)
