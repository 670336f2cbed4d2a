"""The wheel installs under one import name and works from a fresh virtualenv."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True)
    (path,) = out.glob("tierbook-*.whl")
    return path


def test_wheel_holds_one_top_level_package_with_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"tierbook"}
    for needed in ("tierbook/schemas/ruleset.schema.json", "tierbook/rulesets/cs-segmentation-model.yaml",
                   "tierbook/examples/portfolio.csv", "tierbook/cli/main.py", "tierbook/network/compile.py"):
        assert needed in names


def test_fresh_venv_runs_the_cli(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   env=env)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    shipped = sorted(p.stem for p in (ROOT / "rulesets").glob("*.yaml"))
    check = subprocess.run([str(bindir / "tierbook"), "validate", *shipped], cwd=cwd, env=env,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert all(f"{name}: valid" in check.stdout for name in shipped)
    demo = subprocess.run([str(bindir / "tierbook"), "segment", "--as-of", "2026-10-01"], cwd=cwd,
                          env=env | {"TIERBOOK_STORE": str(cwd / "t.sqlite")},
                          capture_output=True, text=True)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert (cwd / "out" / "model.md").exists() and (cwd / "out" / "tiers.png").exists()
    squat = subprocess.run([str(bindir / "python"), "-c", "import engine"], cwd=cwd, env=env,
                           capture_output=True, text=True)
    assert squat.returncode != 0  # nothing installed under a generic name
