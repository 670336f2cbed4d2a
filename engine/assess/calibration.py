"""`tierbook calibrate`: the recommended capacity calibration, written as a new ruleset
version (thresholds moved, version bumped, a changelog line saying why) for review.

The YAML is edited in place, token by token at the positions the loader recorded, so
comments and layout survive and the pull-request diff shows only what moved.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from ..errors import RulesetError, UsageError
from ..ruleset.build import ruleset_from_document
from ..ruleset.yamlsafe import Document, load_text
from .band_labels import relabel
from .capacity import Calibration

_SCALAR = re.compile(r'"[^"]*"|\'[^\']*\'|[^\s,}\]#]+')


@dataclass
class Proposal:
    text: str
    old_version: str
    new_version: str
    changes: list[dict[str, Any]]
    changelog: str


def _bump_minor(version: str) -> str:
    major, minor, _rest = version.split(".", 2)
    return f"{major}.{int(minor) + 1}.0"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(round(value, 6))


def _replace_scalar(lines: list[str], where: tuple[int, int], new: str) -> None:
    line, col = where
    text = lines[line - 1]
    m = _SCALAR.match(text, col - 1)
    if not m:
        raise RulesetError(f"cannot edit the value at line {line}, column {col}")
    lines[line - 1] = text[: m.start()] + new + text[m.end() :]


def _bound_path(
    doc: Document, set_index: int, variant: str, band_index: int, side: str
) -> tuple[Any, ...] | None:
    base: tuple[Any, ...] = ("bands", set_index) + (
        ("bands",) if variant == "declared" else (variant, "bands")
    )
    keys = ("gt", "gte") if side == "lower" else ("lt", "lte")
    band = doc.data["bands"][set_index]
    block = band["bands"] if variant == "declared" else band[variant]["bands"]
    for key in keys:
        if key in block[band_index]:
            return base + (band_index, key)
    return None


def propose(doc: Document, calibration: Calibration, as_of: dt.date) -> Proposal:
    if calibration.direction == "none" or not calibration.steps:
        raise UsageError(f"no calibration to write: {calibration.reason}")
    data = doc.data
    lines = doc.text.splitlines(keepends=True)
    edits: list[tuple[tuple[int, int], str]] = []
    changes = []
    levers = {lv["id"]: lv for lv in data["capacity"]["calibration"]["levers"]}
    moved: dict[str, tuple[float, float]] = {}
    for step in calibration.steps:
        first = moved.get(step.lever, (step.boundary_from, step.boundary_to))[0]
        moved[step.lever] = (first, step.boundary_to)
    for lever_id, (old, new) in moved.items():
        if old == new:
            continue
        lever = levers[lever_id]
        set_index = next(i for i, b in enumerate(data["bands"]) if b["id"] == lever["band"])
        band = data["bands"][set_index]
        variant = lever.get("method") or ("declared" if "bands" in band else "log")
        block = band["bands"] if variant == "declared" else band[variant]["bands"]
        j = next(k for k, b in enumerate(block) if b["id"] == lever["lower_of"])
        labels: dict[str, dict[str, str]] = {}
        for index, side in ((j - 1, "upper"), (j, "lower")):
            if index < 0:
                continue
            path = _bound_path(doc, set_index, variant, index, side)
            if path is not None:
                edits.append((doc.positions[path], _fmt(new)))
                label = _new_label(block[index], side, new)
                if label is not None and path[:-1] + ("label",) in doc.positions:
                    where = doc.positions[path[:-1] + ("label",)]
                    edits.append((where, _quoted(label, lines, where)))
                    labels[block[index]["id"]] = {"from": block[index]["label"], "to": label}
        changes.append(
            {
                "lever": lever_id,
                "band": lever["band"],
                "boundary": lever["lower_of"],
                "from": old,
                "to": new,
                "labels": labels,
            }
        )
    old_version = data["metadata"]["version"]
    new_version = _bump_minor(old_version)
    edits.append((doc.positions[("metadata", "version")], new_version))
    edits.append((doc.positions[("metadata", "effective_date")], f'"{as_of.isoformat()}"'))
    for where, text in sorted(edits, reverse=True):  # right to left keeps positions valid
        _replace_scalar(lines, where, text)
    moved_text = "; ".join(
        f"{c['band']} {c['boundary']} lower bound {_fmt(c['from'])} -> {_fmt(c['to'])}"
        + (
            f" (labels now {', '.join(v['to'] for v in c['labels'].values())})"
            if c["labels"]
            else ""
        )
        for c in changes
    )
    note = (
        f"Capacity calibration ({calibration.direction}): {calibration.reason}. Moved {moved_text}."
    ).replace('"', "'")
    entry_indent, item = _changelog_anchor(doc, lines)
    entry = (
        f"{' ' * entry_indent}- version: {new_version}\n"
        f'{" " * entry_indent}  date: "{as_of.isoformat()}"\n'
        f'{" " * entry_indent}  change: "{note}"\n'
    )
    if item is None:  # no changelog yet: start one after the version line
        vline = doc.positions[("metadata", "version")][0]
        key_col = doc.key_positions[("metadata", "version")][1] - 1
        lines.insert(
            vline,
            " " * key_col
            + "changelog:\n"
            + entry.replace("\n" + " " * entry_indent, "\n" + " " * (key_col + 2)).replace(
                " " * entry_indent + "- ", " " * (key_col + 2) + "- ", 1
            ),
        )
    else:
        lines.insert(item - 1, entry)
    text = "".join(lines)
    new_doc = load_text(text, doc.file)
    ruleset_from_document(new_doc)  # the proposal must itself be a valid ruleset
    return Proposal(text, old_version, new_version, changes, note)


def _new_label(band: dict[str, Any], side: str, new: float) -> str | None:
    """The band's label for its ``side`` moved to ``new``, when the label spells its edges."""
    label = band.get("label")
    if not isinstance(label, str):
        return None
    lower, upper = band.get("gte", band.get("gt")), band.get("lt", band.get("lte"))
    moved = (new, upper) if side == "lower" else (lower, new)
    return relabel(label, (lower, upper), moved)


def _quoted(text: str, lines: list[str], where: tuple[int, int]) -> str:
    """``text`` as a YAML scalar, quoted as the value it replaces was (double quotes when
    that was plain but the new text would not read back as plain text)."""
    line, col = where
    first = lines[line - 1][col - 1 : col]
    if first == "'":
        return "'" + text.replace("'", "''") + "'"
    if first != '"' and re.fullmatch(r"[A-Za-z0-9$][\w$ .+-]*", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _changelog_anchor(doc: Document, lines: list[str]) -> tuple[int, int | None]:
    log = doc.data["metadata"].get("changelog")
    if not log:
        return 4, None
    line, col = doc.positions[("metadata", "changelog", 0)]
    dash = lines[line - 1].rfind("-", 0, col - 1)  # the item's "- " marker
    return dash, line
