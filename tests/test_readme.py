"""The README stays true: its commands run, and CI runs exactly its test command."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def test_two_setup_commands_and_ci_runs_the_test_command() -> None:
    blocks = sh_blocks()
    demo, tests = blocks[0].strip(), blocks[1].strip()
    assert demo.endswith("tierbook segment --as-of 2026-10-01")
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert tests in ci_lines  # the README's test command, verbatim


def test_every_tierbook_example_in_the_readme_runs(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "rulesets", tmp_path / "rulesets")
    commands = []
    for block in sh_blocks():
        for line in block.strip().splitlines():
            tail = line.split("&&")[-1].strip()
            if tail.startswith("tierbook "):
                commands.append(shlex.split(tail)[1:])
            elif tail.startswith("python3 -m webbrowser "):  # a page the commands before wrote
                commands.append(["(open)", shlex.split(tail)[-1]])
    assert len(commands) >= 4
    assert ["(open)", "out/report.html"] in commands
    runner = CliRunner()
    # a checkout: main holds the rulesets, and the plan's head is an edit of one of them
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(tmp_path)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    subprocess.run(git + ["add", "rulesets", "examples"], check=True)
    subprocess.run(git + ["commit", "-qm", "rulesets"], check=True)
    ruleset = tmp_path / "rulesets" / "cs-segmentation-model.yaml"
    committed = ruleset.read_text()
    for args in commands:
        if args[0] == "(open)":
            page = (tmp_path / args[1]).read_text(encoding="utf-8")
            assert page.startswith("<!DOCTYPE html>") and '<section id="accounts">' in page
            continue
        if args[0] == "validate":  # the README's shell glob
            args = ["validate"] + sorted(str(p.relative_to(tmp_path)) for p in
                                         (tmp_path / "rulesets").glob("*.yaml"))
        if args[0] == "plan":
            edited = committed.replace("version: 1.0.2", "version: 1.1.0", 1)
            ruleset.write_text(edited.replace("lte: 0.6}", "lte: 0.65}").replace("gt: 0.6}",
                                                                                  "gt: 0.65}"))
        result = runner.invoke(main, args, catch_exceptions=False)
        ruleset.write_text(committed)
        assert result.exit_code == 0, (args, result.output)
        if args[0] == "plan":  # the committed version against the edit: the edit shows
            assert "base git:main:rulesets/cs-segmentation-model.yaml (commit " in result.stdout
            assert "cs-segmentation-model 1.0.2 -> cs-segmentation-model 1.1.0" in result.stdout
            assert "No changes" not in result.stdout
            assert '<section id="matrix">' in (tmp_path / args[-1]).read_text(encoding="utf-8")
    # (as right after the first segment, run 1: later examples segment other files)
    explained = runner.invoke(main, ["explain", "ACC-00046", "--run", "1"]).stdout
    quoted = re.search(r"```text\n(.*?)```", README, flags=re.S).group(1).splitlines()
    for line in quoted:
        if "…" not in line:
            assert line in explained.splitlines(), line
