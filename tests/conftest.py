from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 10, 1)
SAMPLE = ROOT / "examples" / "portfolio.csv"
RULESETS = sorted((ROOT / "rulesets").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own trace store and working directory."""
    monkeypatch.setenv("TIERBOOK_STORE", str(tmp_path / "traces.sqlite"))
    monkeypatch.setenv("TIERBOOK_FIXED_TIME", "2026-10-01T00:00:00+00:00")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def default_ruleset():
    from tierbook.ruleset.build import load_ruleset

    return load_ruleset(str(ROOT / "rulesets" / "cs-segmentation-model.yaml"))


@pytest.fixture(scope="session")
def sample_accounts(default_ruleset):
    from tierbook.portfolio.frame import read_portfolio

    return read_portfolio(str(SAMPLE), default_ruleset).accounts


def durable_available() -> bool:
    from tierbook.network import durable as durable_engine

    return durable_engine.AVAILABLE


needs_durable = pytest.mark.skipif(
    not os.environ.get("TIERBOOK_FORCE_DURABLE") and not durable_available(),
    reason="durable-rules does not import on this Python")


FACTORS = ("strategic_logo", "expansion_potential", "product_influence", "reference_value",
           "regulatory_exposure")


def write_portfolio(tmp_path: Path, accounts: dict[str, tuple[float, float]]) -> str:
    """A portfolio for the default ruleset: account -> (ARR, every strategic factor), so the
    account's strategic value equals that factor."""
    lines = ["account_id,arr," + ",".join(FACTORS)]
    for account, (arr, sv) in accounts.items():
        lines.append(f"{account},{arr}," + ",".join([str(sv)] * len(FACTORS)))
    path = tmp_path / "p.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)
