"""Golden files pin the default ruleset's report on the sample portfolio.

A diff here is a change in what CS leaders read. Regenerate with
`python tests/golden/regenerate.py` and read the diff before committing it.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from .conftest import ROOT, needs_durable

GOLDEN = ROOT / "tests" / "golden" / "cs-segmentation-model"


def _produce(tmp_path: Path) -> dict[str, str]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("regenerate", ROOT / "tests" / "golden" / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.produce(tmp_path)


@pytest.mark.parametrize("name", ["model.md", "accounts.csv", "report.json", "summary.txt"])
def test_report_matches_golden(tmp_path: Path, name: str) -> None:
    produced = _produce(tmp_path)[name]
    golden = (GOLDEN / name).read_text("utf-8")
    if produced != golden:
        diff = "".join(list(difflib.unified_diff(golden.splitlines(True), produced.splitlines(True),
                                                 f"golden/{name}", f"produced/{name}"))[:80])
        pytest.fail(f"{name} differs from the golden file:\n{diff}")


@needs_durable
def test_durable_rules_writes_the_same_report(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tierbook.cli.main import main

    import os
    os.chdir(ROOT)
    result = CliRunner(env={"TIERBOOK_STORE": str(tmp_path / "t.sqlite")}).invoke(main, [
        "segment", "cs-segmentation-model", "examples/portfolio.csv", "--as-of", "2026-10-01",
        "--no-chart", "--out", str(tmp_path / "out")], catch_exceptions=False)
    assert result.exit_code == 0
    for name in ("model.md", "accounts.csv"):
        produced = (tmp_path / "out" / name).read_text("utf-8").replace(
            "engine durable-rules", "engine native")
        assert produced == (GOLDEN / name).read_text("utf-8")
