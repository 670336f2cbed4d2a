"""Base and head of a review (`plan`, `validate --base`): where each was read from, and
the refusal to compare a ruleset with itself.

A shipped name resolves to the installed package's file; in a checkout installed in
editable mode that is the working tree's file, the very file being edited. Compared with
it, an edit is compared with itself and "nothing changes"; so both sides are named with
what they resolved to and their content hashes, and identical content is refused with the
way to name the committed version.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..ruleset.build import content_hash
from ..ruleset.sources import load_document, resolved_source
from ..ruleset.yamlsafe import Document


@dataclass(frozen=True)
class Side:
    """One side of a review: the argument given, what it resolved to, and its content."""

    role: str  # base | head
    spec: str
    source: str
    name: str
    version: str
    sha256: str

    def line(self) -> str:
        return f"{self.role} {self.source}: {self.name} {self.version}, sha256 {self.sha256[:12]}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "source": self.source,
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
        }


def side(role: str, spec: str, doc: Document) -> Side:
    meta = doc.data.get("metadata", {}) if isinstance(doc.data, dict) else {}
    return Side(
        role,
        spec,
        resolved_source(spec),
        str(meta.get("name", "")),
        str(meta.get("version", "")),
        content_hash(doc),
    )


def _git_example(head: str) -> str:
    """The head's path as `git:REF:PATH` needs it: from the top of its repository."""
    if head.startswith("git:"):
        return head.split(":", 2)[-1]
    if not head.endswith((".yaml", ".yml")):
        return "rulesets/cs-segmentation-model.yaml"
    here = Path(head).resolve()
    proc = subprocess.run(
        ["git", "-C", str(here.parent), "rev-parse", "--show-toplevel"], capture_output=True
    )
    top = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode == 0 and top and here.is_relative_to(Path(top).resolve()):
        return here.relative_to(Path(top).resolve()).as_posix()
    return head


def refuse_same(base: Side, head: Side, command: str) -> None:
    """A usage error when base and head hold the same ruleset content."""
    if base.sha256 != head.sha256:
        return
    path = _git_example(head.spec)
    raise UsageError(
        f"the base and the head are the same ruleset ({head.name} {head.version}, sha256 "
        f"{head.sha256[:12]}): {base.line()}; {head.line()}. Comparing a ruleset with "
        f"itself shows no change. Name the base as committed, e.g. --base git:main:{path}, "
        f'or the merge base of a pull request: --base "git:$(git merge-base origin/main '
        f'HEAD):{path}" (tierbook {command})'
    )


def load_pair(
    base: str, head: str, command: str, same_ok: bool = False
) -> tuple[Document, Document, Side, Side]:
    """Both documents and sides; refused when their content is the same (unless
    ``same_ok``: a plan of an overrides change keeps the ruleset)."""
    base_doc, head_doc = load_document(base), load_document(head)
    b, h = side("base", base, base_doc), side("head", head, head_doc)
    if not same_ok:
        refuse_same(b, h, command)
    return base_doc, head_doc, b, h


def version_bump_problems(base: str, given: str, doc: Document, sides: list[Side]) -> list[Any]:
    """`validate --base`: a problem when the rules changed but the version did not.  The
    base is read once (``sides[0]`` once read); each head is added to ``sides``."""
    if not sides:
        sides.append(side("base", base, load_document(base)))
    b, h = sides[0], side("head", given, doc)
    sides.append(h)
    refuse_same(b, h, "validate")
    if b.version == h.version:
        return [
            doc.problem(
                ("metadata", "version"),
                f"the rules changed since {base} but the version is still "
                f"{h.version}: every change to the rules is a new version",
                "version-not-bumped",
            )
        ]
    return []
