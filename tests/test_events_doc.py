"""docs/events.md: each example's events replay to the output the page shows."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.portfolio.events import TYPES

from .conftest import ROOT

DOC = (ROOT / "docs" / "events.md").read_text()


def examples() -> list[tuple[str, str]]:
    """(events text, transcript) of each example: an events block and the text block after."""
    return re.findall(r"```(?:csv|jsonl)\n(.*?)```\s*```text\n(.*?)```", DOC, re.S)


def _commands(transcript: str) -> list[tuple[list[str], list[str]]]:
    out: list[tuple[list[str], list[str]]] = []
    for line in transcript.splitlines():
        if line.startswith("$ tierbook "):
            out.append((shlex.split(line)[2:], []))
        else:
            out[-1][1].append(line)
    return out


def test_every_event_type_is_documented() -> None:
    table = DOC[DOC.index("## Event types"):DOC.index("Within a quarter")]
    documented = re.findall(r"^\| `(\w+)` \|", table, re.M)
    assert documented == list(TYPES)


def test_each_example_replays_as_shown(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    found = examples()
    assert len(found) == 6
    runner = CliRunner()
    for n, (events, transcript) in enumerate(found):
        store = f"store-{n}.sqlite"
        for args, expected in _commands(transcript):
            files = [a for a in args if a.startswith("events.")]
            for name in files:
                (tmp_path / name).write_text(events)
            result = runner.invoke(main, args + ["--store", store])
            want_exit = next((int(e[6:-1]) for e in expected if e.startswith("[exit ")), 0)
            assert result.exit_code == want_exit, (n, args, result.output)
            lines = result.output.splitlines()
            at = 0
            for line in expected:
                if line == "…" or line.startswith("[exit "):
                    continue
                assert line in lines[at:], (n, args, line, result.output)
                at = lines.index(line, at) + 1


def test_capacity_change_splits_the_new_headcount_in_proportion(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    events = next(e for e, _ in examples() if "capacity_change" in e)
    (tmp_path / "events.csv").write_text(events)
    result = CliRunner().invoke(main, ["replay", "cs-segmentation-model",
                                       "examples/portfolio.csv", "events.csv", "--as-of",
                                       "2026-10-01", "--no-chart", "--format", "json"])
    q = json.loads(result.stdout)["quarters"][0]
    available = {t: v["available"] for t, v in q["capacity"]["per_tier"].items()}
    assert available == {"high_touch_enterprise": 12, "mid_touch": 14, "tech_touch": 3,
                         "plg_self_serve": 1}
    assert q["capacity"]["available"] == 30
    assert [t["id"] for t in q["triggers"]] == ["csm_capacity_change", "strategic_value_redefined"]
