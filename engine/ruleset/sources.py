"""Where a ruleset comes from: a file, a shipped ruleset name, or `git:REF:PATH`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import Problem, RulesetError
from .yamlsafe import MAX_BYTES, Document, load_file, load_text

DEFAULT_RULESET = "cs-segmentation-model.yaml"


def shipped_rulesets() -> dict[str, str]:
    """Name -> path of every ruleset shipped inside the package."""
    root = resources.files("tierbook.rulesets")
    return {
        p.name: str(p)
        for p in sorted(root.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".yaml")
    }


def default_ruleset_path() -> str:
    return shipped_rulesets()[DEFAULT_RULESET]


def resolve_ruleset_path(arg: str | None) -> str:
    """A path as given, or the name of a shipped ruleset (with or without .yaml)."""
    if not arg:
        return default_ruleset_path()
    if Path(arg).exists():
        return arg
    shipped = shipped_rulesets()
    for name in (arg, f"{arg}.yaml"):
        if name in shipped:
            return shipped[name]
    return arg  # let the loader report "file not found" with the name given


def load_document(spec: str) -> Document:
    """Load a ruleset document from a path, a shipped name, or ``git:REF:PATH``."""
    if spec.startswith("git:"):
        try:
            _, ref, path = spec.split(":", 2)
        except ValueError:
            raise RulesetError(
                "bad git spec",
                [
                    Problem(
                        spec,
                        0,
                        0,
                        "",
                        "expected git:REF:PATH, e.g. git:main:rulesets/cs-segmentation-model.yaml",
                        "usage",
                    )
                ],
            ) from None
        import subprocess  # (only a git: spec needs it)

        proc = subprocess.run(["git", "show", f"{ref}:{path}"], capture_output=True)
        if proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RulesetError(
                "git show failed",
                [
                    Problem(
                        spec,
                        0,
                        0,
                        "",
                        f"cannot read from git: {message[-1] if message else 'unknown error'}",
                        "not-found",
                    )
                ],
            )
        if len(proc.stdout) > MAX_BYTES:
            raise RulesetError(
                "too large", [Problem(spec, 0, 0, "", "file too large", "too-large")]
            )
        return load_text(proc.stdout.decode("utf-8", "replace"), spec)
    return load_file(resolve_ruleset_path(spec), spec)


def resolved_source(spec: str) -> str:
    """What ``spec`` was read from, as a reviewer needs to see it: a file as given, a shipped
    name with the file it resolved to (in a checkout installed in editable mode, that is the
    working tree's file), ``git:REF:PATH`` with the commit REF named when it was read."""
    if spec.startswith("git:"):
        import subprocess

        ref = spec.split(":", 2)[1]
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], capture_output=True
        )
        commit = proc.stdout.decode("ascii", "replace").strip()
        return f"{spec} (commit {commit[:12]})" if proc.returncode == 0 and commit else spec
    path = resolve_ruleset_path(spec)
    return spec if path == spec else f"{spec} (shipped: {path})"
