"""Golden files pin what tierbook shows for the sample portfolio; tests/golden/regenerate.py
says which commands run and what each golden file holds.  Every command runs once per
test session; each file is then compared with its golden, a unified diff on failure.

A diff here is a change in what CS leaders read. Regenerate with
`python tests/golden/regenerate.py` and read the diff before committing it.
"""

from __future__ import annotations

import difflib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import ROOT, needs_durable

GOLDEN_ROOT = ROOT / "tests" / "golden"
GOLDEN = GOLDEN_ROOT / "cs-segmentation-model"
DIFF_LINES = 80


def _regenerate() -> ModuleType:
    """tests/golden/regenerate.py, the one script that makes the golden files."""
    name = "tierbook_golden_regenerate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, GOLDEN_ROOT / "regenerate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before it runs: its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


REGENERATE = _regenerate()
GOLDEN_FILES = REGENERATE.golden_files()


@pytest.fixture(scope="session")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every golden file as the current code makes it: all the commands, run once."""
    return REGENERATE.produce(tmp_path_factory.mktemp("golden"))


def _diff(name: str, golden: str, produced: str) -> str:
    lines = list(difflib.unified_diff(golden.splitlines(True), produced.splitlines(True),
                                      f"golden/{name}", f"produced/{name}"))
    shown = "".join(lines[:DIFF_LINES])
    if len(lines) > DIFF_LINES:
        shown += f"\n... {len(lines) - DIFF_LINES} more diff lines"
    return shown


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_output_matches_golden(produced: dict[str, str], name: str) -> None:
    __tracebackhide__ = True  # the message has the diff; the produced dict is noise
    golden = (GOLDEN_ROOT / name).read_bytes().decode("utf-8")
    if name not in produced:
        pytest.fail(f"{name} is a golden file but nothing produces it any more")
    if produced[name] != golden:
        pytest.fail(f"{name} differs from the golden file "
                    f"(python tests/golden/regenerate.py, then read the diff):\n"
                    f"{_diff(name, golden, produced[name])}")


def test_every_output_has_a_golden_file(produced: dict[str, str]) -> None:
    missing = sorted(set(produced) - set(GOLDEN_FILES))
    assert not missing, f"produced with no golden file (run tests/golden/regenerate.py): {missing}"


def test_goldens_cover_every_shipped_ruleset() -> None:
    shipped = sorted(p.stem for p in (ROOT / "rulesets").glob("*.yaml"))
    assert sorted(REGENERATE.RULESETS) == shipped
    for ruleset in shipped:
        for name in ("model.md", "accounts.csv", "accounts.jsonl", "report.json",
                     "changes.csv", "summary.txt", "segment.json", "exit.txt"):
            assert f"{ruleset}/{name}" in GOLDEN_FILES


@needs_durable
def test_durable_rules_writes_the_same_report(tmp_path: Path) -> None:
    import os

    from click.testing import CliRunner
    from tierbook.cli.main import main

    os.chdir(ROOT)
    result = CliRunner(env={"TIERBOOK_STORE": str(tmp_path / "t.sqlite")}).invoke(main, [
        "segment", "cs-segmentation-model", "examples/portfolio.csv", "--as-of", "2026-10-01",
        "--no-chart", "--out", str(tmp_path / "out")], catch_exceptions=False)
    assert result.exit_code == 0
    for name in ("model.md", "accounts.csv"):
        produced = (tmp_path / "out" / name).read_text("utf-8").replace(
            "engine durable-rules", "engine native")
        assert produced == (GOLDEN / name).read_text("utf-8")
