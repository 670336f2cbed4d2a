"""A roll-up whose type the input it feeds cannot take (a string's latest into a number
input): located in the inputs file, a data error from a run, and found by validate."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from tierbook.cli.main import main

from ..conftest import ROOT

ARGS = ["--as-of", "2026-10-01", "--out", "o"]

TICKETS = """\
kind: inputs
tables:
  tickets:
    file: tickets.csv
    key: account_id
    columns: {account_id: string, opened_at: date, priority: string}
    aggregate:
      - into: health_score
        op: latest
        column: priority
        by: opened_at
"""
WRONG = (
    "in.yaml:10:17: $.tables.tickets.aggregate[0].column: 'health_score' is the latest of "
    "tickets.priority, a string column, but cs-segmentation-model's input 'health_score' is "
    "number"
)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _files(tmp_path: Path) -> None:
    (tmp_path / "in.yaml").write_text(TICKETS)
    (tmp_path / "tickets.csv").write_text(
        "account_id,opened_at,priority\nACC-00001,2026-09-01,high\n"
    )


def test_segment_names_the_aggregation_and_exits_with_a_data_error(tmp_path: Path) -> None:
    _files(tmp_path)
    sample = str(ROOT / "examples" / "portfolio.csv")
    result = run("segment", sample, "--inputs", "in.yaml", *ARGS)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == WRONG
    assert not (tmp_path / "o").exists()


def test_validate_finds_it_against_the_ruleset_given(tmp_path: Path) -> None:
    _files(tmp_path)
    against = run("validate", "in.yaml", "--ruleset", "cs-segmentation-model")
    assert against.exit_code == 1
    assert against.stdout.splitlines() == [WRONG]
    # the keep-segment ruleset has a health_score of its own making, no such input
    other = run("validate", "in.yaml", "--ruleset", "keep-segment")
    assert (other.exit_code, other.stdout) == (0, "in.yaml: valid\n")


def test_validate_without_a_ruleset_warns_against_the_default(tmp_path: Path) -> None:
    _files(tmp_path)
    alone = run("validate", "in.yaml")
    assert alone.exit_code == 0
    assert alone.stdout.splitlines() == [
        WRONG + " (the ruleset a run given none reads; --ruleset RULESET checks the file "
        "against the one it is for) (warning)",
        "in.yaml: valid",
    ]


def test_a_roll_up_into_the_account_id_is_located_too(tmp_path: Path) -> None:
    (tmp_path / "in.yaml").write_text(
        TICKETS.replace("into: health_score", "into: account_id", 1)
    )
    (tmp_path / "tickets.csv").write_text("account_id,opened_at,priority\n")
    result = run("segment", str(ROOT / "examples" / "portfolio.csv"), "--inputs", "in.yaml", *ARGS)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "in.yaml:8:9: $.tables.tickets.aggregate[0].into: 'account_id' is the account id, "
        "which a table cannot give (table tickets is keyed by it: `key: account_id`)"
    )
