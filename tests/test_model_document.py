"""model.md reads as one document: numbers written one way, section titles that say which
thing they describe, the accounts behind each comment and review hint; and the repository
cites only what is in it."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import ROOT, SAMPLE

ARGS = ["--as-of", "2026-10-01", "--engine", "native", "--no-chart"]
RULESETS = ("cs-segmentation-model", "customer-success", "keep-segment", "priority-model")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name in RULESETS:
        folder = tmp_path_factory.mktemp(name) / "out"
        store = folder.parent / "traces.sqlite"
        result = CliRunner().invoke(main, ["segment", name, str(SAMPLE), *ARGS, "--out",
                                           str(folder), "--store", str(store)])
        assert result.exit_code in (0, 1), result.output
        out[name] = folder
    return out


@pytest.mark.parametrize("name", RULESETS)
def test_counts_are_written_with_thousands_separators(models: dict[str, Path], name: str) -> None:
    text = (models[name] / "model.md").read_text()
    text = re.sub(r"`[0-9a-f]{12}`|\d{4}-\d\d-\d\d|\bseed \d+|ACC-\d+|\d{4}Q\d", "", text)
    bare = re.findall(r"(?<![\w.,$])\d{4,}(?![\d,]|\.\d)", text)
    assert bare == []


@pytest.mark.parametrize("name", RULESETS)
def test_no_two_sections_share_a_title(models: dict[str, Path], name: str) -> None:
    titles = [line.split(" (`")[0] for line in (models[name] / "model.md").read_text().splitlines()
              if line.startswith("#")]
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)


def test_the_accounts_behind_comments_and_review_hints_are_listed(
        models: dict[str, Path]) -> None:
    folder = models["cs-segmentation-model"]
    with (folder / "accounts.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    model = (folder / "model.md").read_text().splitlines()
    for key, column in (("Contradiction `at_risk_but_expansion_ready`", "comments"),
                        ("Review hint `tech_touch_champion_promotion`", "reviews")):
        ident = key.split("`")[1]
        mine = sorted((r for r in rows if ident in r[column]),
                      key=lambda r: (-float(r["arr"]), r["account_id"]))
        assert len(mine) > 10
        listed = model[next(i for i, line in enumerate(model) if line.startswith(f"- {key}")) + 1]
        named = ", ".join(f"{r['account_id']} (${float(r['arr']):,.0f})" for r in mine[:10])
        assert listed == (f"  - {len(mine)} account(s), largest ARR first: {named}, and "
                          f"{len(mine) - 10} more in accounts.csv")


# Comments still citing the product spec in modules being rewritten elsewhere: drop each
# entry when its module is reworded (none left).
NOT_YET: set[str] = set()


def test_the_repository_cites_only_what_is_in_it() -> None:
    """No 'SPEC 1.1' section numbers, seed documents or paths outside the repository: the
    spec and the seeds are not shipped, docs/ is."""
    pattern = re.compile(r"SPEC (section )?\d|seeds?/[\w-]+\.md|seeds' |/work/")
    found = []
    for folder in ("engine", "cli", "docs", "rulesets", "schemas", "examples"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".md", ".yaml", ".json") or ".venv" in path.parts:
                continue
            rel = str(path.relative_to(ROOT))
            if rel in NOT_YET:
                continue
            for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                if pattern.search(line):
                    found.append(f"{rel}:{n}: {line.strip()}")
    for rel in sorted(NOT_YET):  # an entry goes once its module is reworded
        assert pattern.search((ROOT / rel).read_text("utf-8")), f"{rel}: drop it from NOT_YET"
    readme = (ROOT / "README.md").read_text()
    assert not pattern.search(readme)
    assert found == []
