"""The run's inputs from the command line: tables rolled up into the accounts, --map, the
HubSpot UI export's headers, --csms; and the sample's tables behind its ARR."""

from __future__ import annotations

import csv
import importlib.util
import json
import sqlite3
from collections import defaultdict
from pathlib import Path

from click.testing import CliRunner

from tierbook.cli.main import main

from ..conftest import ROOT, write_portfolio

ARGS = ["--as-of", "2026-10-01"]
INPUTS = str(ROOT / "examples" / "crm-inputs.yaml")


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _without(tmp_path: Path, columns: set[str]) -> str:
    with open(ROOT / "examples" / "portfolio.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    path = tmp_path / "accounts.csv"
    with open(path, "w", newline="") as fh:
        names = [c for c in rows[0] if c not in columns]
        w = csv.DictWriter(fh, names, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return str(path)


def test_accounts_without_arr_get_it_from_the_subscriptions(tmp_path: Path) -> None:
    accounts = _without(tmp_path, {"arr", "seats_licensed"})
    missing = run("segment", accounts, *ARGS, "--out", "a")
    assert missing.exit_code == 1
    rolled = run("segment", accounts, "--inputs", INPUTS, *ARGS, "--out", "b")
    assert rolled.exit_code == 0, rolled.output
    assert "note: arr rolled up as the sum of subscriptions.arr_amount" in rolled.stderr
    plain = run("segment", str(ROOT / "examples" / "portfolio.csv"), *ARGS, "--out", "c")
    # the same accounts, tiers and ARR as the portfolio's own column gives
    assert (tmp_path / "b" / "accounts.csv").read_bytes() == (
        tmp_path / "c" / "accounts.csv"
    ).read_bytes()
    assert plain.exit_code == 0
    doc = json.loads((tmp_path / "b" / "report.json").read_text())
    assert doc["inputs"]["rolled_up"]["arr"] == {
        "table": "subscriptions",
        "op": "sum",
        "column": "arr_amount",
        "replaces": "",
    }


def test_the_generated_tables_roll_up_to_the_portfolios_arr() -> None:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "examples" / "generate.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    accounts = gen.generate_portfolio(400, 5)
    tables = gen.generate_tables(accounts, 5)
    assert tables == gen.generate_tables(gen.generate_portfolio(400, 5), 5)  # same seed
    cents: dict[str, int] = defaultdict(int)
    seats: dict[str, int] = defaultdict(int)
    as_of = gen.AS_OF.isoformat()
    for _, aid, _, amount, n, start, end, status, trial in tables["subscriptions"]:
        if status == "active" and trial == "false" and start <= as_of and (not end or end > as_of):
            cents[aid] += round(float(amount) * 100)
            seats[aid] += int(n)
    assert {a["account_id"]: round(float(a["arr"]) * 100) for a in accounts} == dict(cents)
    assert {a["account_id"]: int(a["seats_licensed"]) for a in accounts} == dict(seats)
    assert {"trial", "cancelled"} <= {row[7] for row in tables["subscriptions"]}


def test_map_reads_a_teams_column_and_the_run_records_it(tmp_path: Path) -> None:
    path = write_portfolio(tmp_path, {"A1": (5000.0, 0.5), "A2": (200000.0, 0.7)})
    text = Path(path).read_text().replace("account_id,arr,", "account_id,arr_amount,", 1)
    Path(path).write_text(text)
    refused = run("segment", path, *ARGS, "--out", "a")
    assert refused.exit_code == 1
    assert "missing required column 'arr' (or ARR" in refused.output
    assert (
        "; the file has 'arr_amount', which looks like it: "
        "--map arr_amount=arr reads it for this run (or add it to the input's aliases)\n"
    ) in refused.output
    mapped = run("segment", path, "--map", "arr_amount=arr", *ARGS, "--out", "b")
    assert mapped.exit_code in (0, 1), mapped.output  # (a gate may fail on two accounts)
    assert "note: column 'arr_amount' read as input 'arr' (mapped for this run)" in mapped.stderr
    db = sqlite3.connect(tmp_path / "traces.sqlite")
    try:
        stored = db.execute("SELECT inputs FROM run_inputs").fetchall()
        names = db.execute("SELECT ruleset_name, ruleset_version FROM runs").fetchall()
    finally:
        db.close()
    assert [json.loads(s) for (s,) in stored] == [{"columns": {"arr_amount": "arr"}}]
    assert names[-1] == ("cs-segmentation-model", "1.0.2")  # not forked


def test_map_to_an_unknown_input_or_a_missing_column(tmp_path: Path) -> None:
    path = write_portfolio(tmp_path, {"A1": (5000.0, 0.5)})
    unknown = run("segment", path, "--map", "arr=ar", *ARGS)
    assert unknown.exit_code == 2
    assert "--map arr=ar: the ruleset has no input 'ar' (did you mean 'arr'?)" in unknown.output
    absent = run("segment", path, "--map", "arr_usd=arr", *ARGS)
    assert absent.exit_code == 1
    assert "--map arr_usd=arr: the file has no column 'arr_usd'; the file has 'arr'" in (
        absent.output
    )
    gone = run("segment", "gone.csv", "--map", "arr_usd=arr", *ARGS)
    assert (gone.exit_code, gone.output) == (1, "gone.csv: file not found\n")


def test_a_hubspot_ui_export_is_read(tmp_path: Path) -> None:
    path = write_portfolio(tmp_path, {"A1": (5000.0, 0.5), "A2": (200000.0, 0.7)})
    text = Path(path).read_text().replace("account_id,", "Record ID,Company name,", 1)
    lines = text.splitlines()
    lines[1:] = [line.replace(",", ",Acme,", 1) for line in lines[1:]]
    Path(path).write_text("\n".join(lines) + "\n")
    result = run("segment", path, *ARGS, "--format", "json", "--out", "o")
    doc = json.loads(result.stdout)
    assert [(a["account_id"], a["account_name"]) for a in doc["accounts"]] == [
        ("A1", "Acme"),
        ("A2", "Acme"),
    ]


def test_csms_from_the_command_line_change_the_capacity(tmp_path: Path) -> None:
    sample = str(ROOT / "examples" / "portfolio.csv")
    before = json.loads(run("segment", sample, *ARGS, "--format", "json", "--out", "a").stdout)
    after = run(
        "segment", sample, *ARGS, "--csms", "high_touch_enterprise=30", "--format", "json",
        "--out", "b",
    )
    doc = json.loads(after.stdout)

    def available(d: dict) -> dict:
        return {tier: t["available"] for tier, t in d["capacity"]["per_tier"].items()}

    assert available(before)["high_touch_enterprise"] == 10
    assert available(doc)["high_touch_enterprise"] == 30
    assert doc["capacity"]["available"] == before["capacity"]["available"] + 20
    assert doc["inputs"]["ruleset_csms"] == {"high_touch_enterprise": 10}
    model = (tmp_path / "b" / "model.md").read_text()
    assert "CSMs available from --csms: high_touch_enterprise 30 (ruleset: 10)." in model
    assert "| high_touch_enterprise | 30 |" in model
    bad = run("segment", sample, *ARGS, "--csms", "enterprise=3")
    assert bad.exit_code == 2
    assert "the ruleset has no tier 'enterprise'" in bad.output


def test_tables_to_roll_up_are_refused_on_a_cluster_before_it_starts(tmp_path: Path) -> None:
    """The workers do not roll tables up yet: a usage error (exit 2) saying so, nothing
    written, no cluster started (it is raised before the accounts are read)."""
    refused = CliRunner().invoke(main, [
        "segment", str(ROOT / "examples" / "portfolio.csv"), "--inputs", INPUTS, *ARGS,
        "--out", str(tmp_path / "o"), "--store", str(tmp_path / "s.db"),
        "--scheduler", "local"])
    assert refused.exit_code == 2, refused.output
    assert "--scheduler does not roll up tables yet" in refused.output
    assert not (tmp_path / "o").exists()
