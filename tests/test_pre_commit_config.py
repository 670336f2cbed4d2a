""".pre-commit-config.yaml: each hook runs a command the project installs, on paths that exist."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from pathlib import Path

import yaml

from .conftest import ROOT


def test_pre_commit_hooks_name_real_commands_and_paths() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {h["id"] for h in hooks} == {"ruff-check", "ruff-format", "mypy", "tierbook-validate"}
    for hook in hooks:
        command, *args = shlex.split(hook["entry"])
        # installed beside the interpreter running the tests, whether or not its venv is active
        here = Path(sys.executable).parent / command
        assert shutil.which(command) or here.exists(), (hook["id"], command)
        for arg in args:
            if not arg.startswith("-") and arg not in ("check", "format", "validate"):
                assert (ROOT / arg).exists(), (hook["id"], arg)
    validate = next(h for h in hooks if h["id"] == "tierbook-validate")
    matched = sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "rulesets").rglob("*")
        if re.search(validate["files"], p.relative_to(ROOT).as_posix())
    )
    assert matched == sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / "rulesets").glob("*.yaml")
    )
