"""docs/ci.md and .pre-commit-hooks.yaml: the commands they give run as written."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import yaml
from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import ROOT


def doc() -> str:
    return (ROOT / "docs" / "ci.md").read_text()


def workflow() -> dict:
    return yaml.safe_load(re.search(r"```yaml\n(name: rulesets.*?)```", doc(), re.S).group(1))


def workflow_commands() -> list[str]:
    steps = workflow()["jobs"]["plan"]["steps"]
    return [s["run"] for s in steps if "run" in s and s["run"].startswith("tierbook ")]


def _script(step_id_or_name: str) -> str:
    steps = workflow()["jobs"]["plan"]["steps"]
    return next(s["run"] for s in steps
                if step_id_or_name in (s.get("id"), s.get("name", "").split(",")[0]))


def _pull_request(tmp_path: Path) -> tuple[Path, list[str]]:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "rulesets", repo / "rulesets")
    (repo / "data").mkdir()
    shutil.copy(ROOT / "examples" / "portfolio.csv", repo / "data" / "portfolio.csv")
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "base"], check=True)
    subprocess.run(git + ["update-ref", "refs/remotes/origin/main", "HEAD"], check=True)
    return repo, git


def _run_base_step(repo: Path, tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "github_output"
    out.write_text("")
    script = _script("base").replace("${{ github.base_ref }}", "main")
    env = {**os.environ, "RULESET": "rulesets/cs-segmentation-model.yaml",
           "GITHUB_OUTPUT": str(out)}
    subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, check=True)
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


def test_the_workflow_commands_run_in_a_pull_request_checkout(tmp_path: Path) -> None:
    repo, git = _pull_request(tmp_path)
    assert _run_base_step(repo, tmp_path).get("changed") is None  # nothing changed yet
    subprocess.run(git + ["checkout", "-qb", "pull-request"], check=True)
    ruleset = repo / "rulesets" / "cs-segmentation-model.yaml"
    text = ruleset.read_text().replace("version: 1.0.2", "version: 1.1.0", 1)
    ruleset.write_text(text.replace("lte: 0.6}", "lte: 0.65}").replace("gt: 0.6}", "gt: 0.65}"))
    # the pull request moves the threshold and updates the rule test that pins it
    tests = repo / "rulesets" / "tests" / "cs-segmentation-model.yaml"
    tests.write_text(tests.read_text().replace("0.61", "0.66"))
    subprocess.run(git + ["commit", "-qam", "move the threshold"], check=True)
    outputs_ = _run_base_step(repo, tmp_path)
    assert outputs_["changed"] == "true"
    merge_base = subprocess.run(git + ["rev-parse", "main"], capture_output=True, text=True,
                                check=True).stdout.strip()
    assert outputs_["ref"] == merge_base
    env = {"RULESET": "rulesets/cs-segmentation-model.yaml", "ACCOUNTS": "data/portfolio.csv"}
    os.chdir(repo)
    commands = workflow_commands()
    assert len(commands) == 4
    outputs = []
    for command in commands:
        command = command.replace("${{ steps.base.outputs.ref }}", outputs_["ref"])
        command = command.split(" > ")[0]
        for key, value in env.items():
            command = command.replace(f"${key}", value)
        args = shlex.split(command)[1:]
        if args[0] == "validate" and "rulesets/*.yaml" in args:
            args = args[:-1] + sorted(str(p.relative_to(repo)) for p in (repo / "rulesets").glob("*.yaml"))
        args += ["--as-of", "2026-10-01"] if args[0] == "plan" else []
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.stdout)
    plan = outputs[-1]
    assert plan.splitlines()[0] == "<!-- tierbook-plan head=rulesets/cs-segmentation-model.yaml -->"
    assert plan.splitlines()[1].startswith(
        "### tierbook plan: `cs-segmentation-model` 1.0.2 → 1.1.0: ")
    assert f"- base: `git:{merge_base}:rulesets/cs-segmentation-model.yaml (commit " \
           f"{merge_base[:12]})`" in plan
    # the side lines docs/ci.md shows are what validate --base prints
    shown = re.search(r"```text\n(.*?)```", doc(), re.S).group(1).splitlines()
    printed = outputs[2].splitlines()[:2]
    pattern = r"(base|head) (\S+)( \(commit [0-9a-f]{12}\))?: [\w-]+ [\d.]+, sha256 [0-9a-f]{12}"
    for line in shown + printed:
        assert re.fullmatch(pattern, line), line
    assert [line.split()[0] for line in printed] == ["base", "head"]
    Path("plan.md").write_text(plan)
    _comment_twice(repo)


def _comment_twice(repo: Path) -> None:
    """The comment step: the first push posts the plan, the next edits that comment."""
    bin_ = repo / "bin"
    bin_.mkdir()
    fake = bin_ / "gh"
    fake.write_text(
        "#!/bin/sh\n"
        'echo "$*" >> "$GH_LOG"\n'
        'case "$*" in *--paginate*) cat "$GH_STATE" 2>/dev/null ;;'
        ' "pr comment"*) echo 42 > "$GH_STATE" ;; esac\n')
    fake.chmod(0o755)
    script = _script("post the plan")
    env = {**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}", "GH_LOG": str(repo / "log"),
           "GH_STATE": str(repo / "state"), "PR": "7", "GITHUB_REPOSITORY": "o/r"}
    for _ in range(2):
        subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, check=True)
    calls = (repo / "log").read_text().splitlines()
    assert calls[1] == "pr comment 7 --body-file plan.md"
    assert calls[3] == "api -X PATCH repos/o/r/issues/comments/42 -F body=@plan.md"
    assert 'startswith("<!-- tierbook-plan head=rulesets/cs-segmentation-model.yaml -->")' \
        in calls[2]
    Path("plan.md").write_text("")  # a plan that failed before writing: nothing is posted
    subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, check=True)
    assert len((repo / "log").read_text().splitlines()) == 4


def test_the_pre_commit_example_runs_its_hooks() -> None:
    block = re.search(r"```yaml\n(repos:.*?)```", doc(), re.S).group(1)
    hooks = [h for repo in yaml.safe_load(block)["repos"] for h in repo["hooks"]]
    assert [h["id"] for h in hooks] == ["tierbook-validate", "tierbook-test"]
    for hook in hooks:
        assert hook["language"] == "system"
        files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "rulesets").rglob("*.yaml")
                       if re.search(hook["files"], p.relative_to(ROOT).as_posix()))
        assert files
        args = shlex.split(hook["entry"])
        assert args[0] == "tierbook"
        os.chdir(ROOT)
        args = args[1:] + (files if hook.get("pass_filenames", True) else [])
        result = CliRunner().invoke(main, args)
        assert result.exit_code in (0, 1), result.output  # runs; coverage may wait on replay
        assert "Usage:" not in result.output


def test_pre_commit_hooks_call_real_commands() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["tierbook-validate", "tierbook-test"]
    for hook in hooks:
        args = shlex.split(hook["entry"])[1:]
        if hook.get("pass_filenames", True):
            args += [str(p) for p in sorted((ROOT / "rulesets").glob("*.yaml"))]
        else:
            args += [str(ROOT / "rulesets" / "tests")]
        result = CliRunner().invoke(main, args)
        assert result.exit_code in (0, 1), result.output  # runs; coverage may wait on replay
        assert "Error" not in result.output.splitlines()[0] if result.output else True
