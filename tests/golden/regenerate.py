"""Regenerate the golden files of the default ruleset's report on the sample portfolio.

    python tests/golden/regenerate.py

Then READ the diff (git diff tests/golden) before committing: a golden diff is a change in
what CS leaders see, and must be one you meant.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FILES = ("model.md", "accounts.csv", "report.json", "summary.txt")
ARGS = ["segment", "cs-segmentation-model", "examples/portfolio.csv", "--as-of", "2026-10-01",
        "--engine", "native", "--no-chart"]


def produce(workdir: Path) -> dict[str, str]:
    """The files as `tierbook segment` writes them, run from the repository root."""
    import os

    from click.testing import CliRunner

    from tierbook.cli.main import main

    (workdir / "examples").mkdir(exist_ok=True)
    shutil.copy(ROOT / "examples" / "portfolio.csv", workdir / "examples" / "portfolio.csv")
    old = Path.cwd()
    os.chdir(workdir)  # so the report names examples/portfolio.csv and out/, as a user sees them
    try:
        env = {"TIERBOOK_STORE": str(workdir / "t.sqlite")}
        result = CliRunner(env=env).invoke(main, ARGS + ["--out", "out"], catch_exceptions=False)
    finally:
        os.chdir(old)
    if result.exit_code != 0:
        raise SystemExit(result.output)
    out = {name: (workdir / "out" / name).read_text("utf-8") for name in FILES[:-1]}
    out["summary.txt"] = result.stdout
    return out


def main() -> None:
    target = HERE / "cs-segmentation-model"
    target.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in produce(Path(tmp)).items():
            (target / name).write_text(text, "utf-8")
            print(f"wrote {target / name}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
