"""Where a ruleset comes from: a file, a shipped ruleset name, or `git:REF:PATH`."""

from __future__ import annotations

import subprocess

from ..errors import Problem, RulesetError
from .build import resolve_ruleset_path
from .yamlsafe import MAX_BYTES, Document, load_file, load_text


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
        ref = spec.split(":", 2)[1]
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], capture_output=True
        )
        commit = proc.stdout.decode("ascii", "replace").strip()
        return f"{spec} (commit {commit[:12]})" if proc.returncode == 0 and commit else spec
    path = resolve_ruleset_path(spec)
    return spec if path == spec else f"{spec} (shipped: {path})"
