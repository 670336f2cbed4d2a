"""One rule for an unknown component of a score, whatever its type: a blank yes/no, a
condition on a blank input and a blank number are all unknown (blank optional inputs are
unknown).  A weighted score is then unknown, unless it declares
``when_unknown: renormalise``: the known components' weighted sum over their share of the
weight, when that share is at least ``min_known``.  The figures are worked by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.commands.segment import segment
from tierbook.errors import RulesetError
from tierbook.evaluate.run import values_frame
from tierbook.ruleset.build import load_ruleset

from ..conftest import RULESETS, SAMPLE

AS_OF = dt.date(2026, 10, 1)
KEEP = next(p for p in RULESETS if p.stem == "keep-segment")

# keep-segment's health: usage 0.30, adoption 0.20, CSAT 0.10, escalations 0.10,
# exec access 0.075, champion 0.075, NPS 0.15 (x 100, one decimal)
ACCOUNT = {
    "account_id": "A1", "arr": 120000.0, "dau_mau": 0.5,
    "core_features_used": 5, "core_features_available": 10,
    "csat": 80.0, "open_escalations": 0, "exec_access": True, "champion_active": True,
    "nps": 0.0,
}


def _health(ruleset, **changes):
    frame = values_frame(ruleset, [dict(ACCOUNT, **changes)], AS_OF)
    return frame["health_score"][0], {
        c: frame[f"health_score:{c}"][0] for c in ("relationship_exec_access", "nps")
    }


def _renormalising(min_known=0.5):
    ruleset = load_ruleset(str(KEEP))
    scores = tuple(
        dataclasses.replace(s, when_unknown="renormalise", min_known=min_known)
        if s.id == "health_score" else s
        for s in ruleset.scores
    )
    return dataclasses.replace(ruleset, scores=scores)


def test_every_part_known_is_the_plain_weighted_sum():
    # 30*0.5 + 20*0.5 + 10*0.8 + 10*1 + 7.5 + 7.5 + 15*0.5 = 65.5
    assert _health(load_ruleset(str(KEEP)))[0] == 65.5
    assert _health(_renormalising())[0] == 65.5  # (all known: not divided by anything)


@pytest.mark.parametrize("blank", ["exec_access", "nps"])
def test_a_blank_yes_no_is_unknown_like_a_blank_number(blank):
    score, parts = _health(load_ruleset(str(KEEP)), **{blank: None})
    assert score is None
    part = "relationship_exec_access" if blank == "exec_access" else "nps"
    assert parts[part] is None  # (not 0 points: unknown)


def test_a_false_yes_no_is_zero_points():
    score, parts = _health(load_ruleset(str(KEEP)), exec_access=False)
    assert parts["relationship_exec_access"] == 0.0 and score == 58.0  # 65.5 - 7.5


def test_renormalised_over_the_known_components():
    # exec access unknown: 58.0 points of the 92.5 the known components can give
    score, parts = _health(_renormalising(), exec_access=None)
    assert parts["relationship_exec_access"] is None
    assert score == round(58.0 / 92.5 * 100, 1) == 62.7
    # NPS and exec access unknown: (58.0 - 7.5) of 77.5
    assert _health(_renormalising(), exec_access=None, nps=None)[0] == 65.2


def test_too_little_known_is_unknown():
    # usage, adoption and NPS unknown: 0.35 of the weight known, under 0.5
    gone = {"dau_mau": None, "core_features_used": None, "nps": None}
    assert _health(_renormalising(0.5), **gone)[0] is None
    # CSAT 8 + escalations 10 + exec 7.5 + champion 7.5 = 33 of the 35 points known
    assert _health(_renormalising(0.35), **gone)[0] == round(33.0 / 35.0 * 100, 1) == 94.3


def _portfolio(tmp_path, blanks: int):
    """The sample's first 60 accounts, ``blanks`` of them without exec access."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    at = header.index("exec_access")
    rows = []
    for i, line in enumerate(lines[1:61]):
        cells = line.split(",")
        if i < blanks:
            cells[at] = ""
        rows.append(",".join(cells))
    path = tmp_path / "accounts.csv"
    path.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    return path


def _weights_gate(tmp_path, text: str, blanks: int):
    ruleset_path = tmp_path / "keep.yaml"
    ruleset_path.write_text(text, encoding="utf-8")
    result = segment(load_ruleset(str(ruleset_path)), str(_portfolio(tmp_path, blanks)),
                     as_of=AS_OF, engine="native", on_error="skip")
    return next(g for g in result.gates if g.id == "health_weights_sum_to_one")


def test_the_rubric_gate_counts_renormalised_and_unscored_accounts(tmp_path):
    text = KEEP.read_text(encoding="utf-8")
    assert "    round: 1\n" in text
    plain = _weights_gate(tmp_path, text, 3)
    assert plain.passed is False
    assert "3 account(s) have no health_score score" in plain.detail
    assert "when_unknown: renormalise" in plain.detail  # (says how to score them)
    renormalising = text.replace("    round: 1\n", "    round: 1\n    when_unknown: renormalise\n", 1)
    gate = _weights_gate(tmp_path, renormalising, 3)
    assert gate.passed is True
    assert "3 account(s) scored health_score over their known components only" in gate.detail


def test_an_unknown_policy_is_refused_by_validate(tmp_path):
    text = KEEP.read_text(encoding="utf-8").replace(
        "    round: 1\n", "    round: 1\n    when_unknown: zero\n", 1)
    path = tmp_path / "keep.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(str(path))
    assert "when_unknown" in str(caught.value.problems[0])


def test_explain_says_a_score_is_over_its_known_components(tmp_path):
    text = KEEP.read_text(encoding="utf-8").replace(
        "    round: 1\n", "    round: 1\n    when_unknown: renormalise\n", 1)
    (tmp_path / "keep.yaml").write_text(text, encoding="utf-8")
    portfolio = _portfolio(tmp_path, 1)
    first = portfolio.read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    store = tmp_path / "s.db"
    out = CliRunner().invoke(main, ["segment", str(tmp_path / "keep.yaml"), str(portfolio),
                                    "--as-of", "2026-10-01", "--out", str(tmp_path / "o"),
                                    "--store", str(store), "--no-chart", "--on-error", "skip"])
    assert out.exit_code in (0, 1), out.output
    shown = CliRunner().invoke(main, ["explain", first, "--store", str(store)]).output
    line = next(x for x in shown.splitlines() if "health_score =" in x)
    assert "relationship_exec_access blank" in line
    assert line.endswith("; scored over the known components only)")
