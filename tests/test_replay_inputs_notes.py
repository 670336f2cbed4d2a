"""What a run says of its inputs on stderr: `replay --inputs` says the table rows no account
has as `segment` does (it used to say nothing of them), and a column mapped by --map onto
an input a table rolls up gets one statement, that the roll-up replaced it (it used to be
said both read as the input and replaced)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from tierbook.cli.main import main

from .conftest import write_portfolio
from .sources.test_unmatched_rows import INPUTS  # (the table segment's test rolls up)

ARGS = ["--as-of", "2026-10-01"]


UNMATCHED = [
    "note: table subs (subs.csv): 3 of 5 rows match no account and roll up into nothing "
    "(2 account id(s): Z9, a2)",
    "note: table subs: 'a2' differs from account 'A2' only in letter case (ids match exactly)",
]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def segment(*args: str):
    """`segment`, which runs to the end: exit 1 is a gate of the two-account book failing."""
    result = run("segment", *args)
    assert result.exit_code in (0, 1), result.output
    assert "trace: run " in result.stderr, result.output
    return result


def notes(stderr: str) -> list[str]:
    """The notes on the run's inputs (tables, roll-ups, mapped columns, headcount)."""
    said = ("note: table ", "note: column ", "note: CSMs ", " rolled up as ")
    return [line for line in stderr.splitlines() if any(s in line for s in said)]


def book(tmp_path: Path, subs: str = "account,amount\nA1,1000\nZ9,5000000\na2,250000\n") -> str:
    """Two accounts with an extra column `arr_usd`, the inputs file and its table."""
    path = Path(write_portfolio(tmp_path, {"A1": (5000.0, 0.5), "A2": (200000.0, 0.7)}))
    head, *rows = path.read_text().splitlines()
    usd = {"A1": "7000", "A2": "300000"}
    path.write_text(
        "\n".join([head + ",arr_usd", *(f"{r},{usd[r.split(',')[0]]}" for r in rows)]) + "\n"
    )
    (tmp_path / "in.yaml").write_text(INPUTS)
    (tmp_path / "subs.csv").write_text(subs)
    return str(path)


def events(tmp_path: Path) -> str:
    path = tmp_path / "e.csv"
    path.write_text("quarter,account_id,type,field,value\n2026Q4,A1,renewal,arr,1200\n")
    return str(path)


def test_replay_says_the_rows_no_account_has_as_segment_does(tmp_path: Path) -> None:
    accounts = book(tmp_path, "account,amount\nA1,1000\nZ9,5000000\na2,250000\nA1 ,500\nZ9,1\n")
    segmented = segment(accounts, "--inputs", "in.yaml", *ARGS, "--out", "s")
    replay = run(
        "replay", accounts, events(tmp_path), "--inputs", "in.yaml", *ARGS, "--no-chart",
        "--out", "r", "--format", "json",
    )
    assert replay.exit_code == 0, replay.output
    said = notes(replay.stderr)
    assert [n for n in said if n.startswith("note: table ")] == UNMATCHED
    assert said == notes(segmented.stderr)
    assert said[0] == (
        "note: arr rolled up as the sum of subs.amount, instead of the file's column 'arr'"
    )
    json.loads(replay.stdout)  # (the notes are on stderr only: stdout stays the JSON)


def test_replay_of_a_table_every_row_of_which_has_its_account_says_no_rows(
    tmp_path: Path,
) -> None:
    accounts = book(tmp_path, "account,amount\nA1,1000\nA2,250000\n")
    replay = run(
        "replay", accounts, events(tmp_path), "--inputs", "in.yaml", *ARGS, "--no-chart",
        "--out", "r",
    )
    assert replay.exit_code == 0, replay.output
    assert notes(replay.stderr) == [
        "note: arr rolled up as the sum of subs.amount, instead of the file's column 'arr'"
    ]


def test_a_column_mapped_onto_a_rolled_up_input_is_said_replaced_once(tmp_path: Path) -> None:
    """--map arr_usd=arr with a table rolling up arr: the roll-up is what the run reads, in
    place of arr_usd; no note says arr_usd is read as arr."""
    accounts = book(tmp_path)
    result = segment(
        accounts, "--inputs", "in.yaml", "--map", "arr_usd=arr", *ARGS, "--out", "o",
        "--format", "json",
    )
    said = notes(result.stderr)
    assert said[0] == (
        "note: arr rolled up as the sum of subs.amount, instead of the file's column "
        "'arr_usd' (mapped to 'arr' for this run)"
    )
    assert not [n for n in said if n.startswith("note: column ")]
    assert len([n for n in said if "arr_usd" in n]) == 1
    data = json.loads(result.stdout)
    assert data["inputs"]["rolled_up"]["arr"]["replaces"] == "arr_usd"
    assert data["inputs"]["columns"] == {"arr_usd": "arr"}
    arr = {a["account_id"]: a["arr"] for a in data["accounts"]}
    assert arr == {"A1": 1000.0, "A2": 0.0}  # the roll-up's, neither arr_usd nor arr


def test_the_inputs_files_own_mapping_onto_a_rolled_up_input_is_said_once(
    tmp_path: Path,
) -> None:
    accounts = book(tmp_path)
    (tmp_path / "in.yaml").write_text(INPUTS + "columns: {arr_usd: arr}\n")
    for command in (["segment", accounts], ["replay", accounts, events(tmp_path), "--no-chart"]):
        result = run(*command, "--inputs", "in.yaml", *ARGS, "--out", f"o-{command[0]}")
        assert result.exit_code in (0, 1) and "trace: " in result.stderr, result.output
        said = notes(result.stderr)
        assert said[0] == (
            "note: arr rolled up as the sum of subs.amount, instead of the file's column "
            "'arr_usd' (mapped to 'arr' for this run)"
        ), command[0]
        assert not [n for n in said if n.startswith("note: column ")], command[0]


def test_a_column_mapped_onto_an_input_no_table_gives_is_still_said_read(
    tmp_path: Path,
) -> None:
    accounts = book(tmp_path)
    result = segment(accounts, "--map", "arr_usd=arr", *ARGS, "--out", "o")
    assert notes(result.stderr) == [
        "note: column 'arr_usd' read as input 'arr' (mapped for this run)"
    ]
