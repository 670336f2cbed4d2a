"""`tierbook override add/list/remove`: the overrides file edited in place as text, so every
comment and blank line of the other overrides stays as written.  PyYAML's node marks give
each override's line range; adding appends a block after the last override, removing cuts
the override's lines (and the comment lines right above it).  The new text is checked like
any overrides file (and the added account against the portfolio) before anything is
written; the file is replaced whole (a temporary file renamed over it)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import Problem, RulesetError, UsageError
from .load import check_accounts, load_overrides
from .model import Overrides

if TYPE_CHECKING:
    from ..ruleset.model import Ruleset

HEADER = "# Overrides (docs/overrides.md): reviewed in pull requests like the rulesets.\n"
HEADER += "tierbook: overrides/v1\noverrides:\n"


def _item_ranges(text: str) -> tuple[list[tuple[int, int]], int | None, bool]:
    """Each override's (first line, line after its last) counted from 0, the items' column,
    and whether the list is written in flow style (`overrides: []`)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    seq = None
    if isinstance(root, yaml.MappingNode):
        seq = next((v for k, v in root.value if k.value == "overrides"), None)
    if not isinstance(seq, yaml.SequenceNode):
        return [], None, True
    lines = text.splitlines()
    ranges = []
    for item in seq.value:
        start, end = item.start_mark.line, item.end_mark.line
        if end < len(lines) and lines[end][: item.end_mark.column].strip():
            end += 1  # (it ends inside that line, not where the next token starts)
        while end > start + 1 and not _content(lines[end - 1]):
            end -= 1  # (comments and blanks after it belong to what follows)
        ranges.append((start, end))
    column = seq.value[0].start_mark.column - 2 if seq.value else None
    return ranges, column, bool(seq.flow_style)


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _block(item: dict[str, Any], column: int) -> str:
    dumped = yaml.safe_dump([item], sort_keys=False, default_flow_style=False, width=1000)
    pad = " " * column
    return "".join(pad + line + "\n" for line in dumped.splitlines())


def add_text(text: str, item: dict[str, Any]) -> str:
    """``text`` with ``item`` appended as the last override (a new file: the header too)."""
    if not text.strip():
        return HEADER + _block(item, 2)
    ranges, column, flow = _item_ranges(text)
    lines = text.splitlines(keepends=True)
    if flow:  # (`overrides: []`: rewritten as a block list)
        at = next(i for i, line in enumerate(lines) if line.startswith("overrides:"))
        lines[at] = "overrides:\n"
        return "".join(lines[: at + 1]) + _block(item, 2) + "".join(lines[at + 1 :])
    if not ranges:
        return text.rstrip("\n") + "\n" + _block(item, 2)
    end = ranges[-1][1]
    head = "".join(lines[:end])
    if not head.endswith("\n"):
        head += "\n"
    return head + "\n" + _block(item, column or 0) + "".join(lines[end:])


def remove_text(text: str, index: int) -> str:
    """``text`` without the override at ``index`` (and the comment lines right above it)."""
    ranges, _, _ = _item_ranges(text)
    start, end = ranges[index]
    lines = text.splitlines(keepends=True)
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    if start > 0 and not lines[start - 1].strip() and end < len(lines) and not lines[end].strip():
        end += 1  # (one blank line between its neighbours, not two)
    rest = lines[:start] + lines[end:]
    if len(ranges) == 1:
        at = next(i for i, line in enumerate(rest) if line.startswith("overrides:"))
        rest[at] = "overrides: []\n"
    return "".join(rest)


def _write(path: str, text: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".overrides-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: str) -> str:
    p = Path(path)
    return p.read_text(encoding="utf-8") if p.exists() else ""


def add_override(
    path: str,
    ruleset: Ruleset,
    item: dict[str, Any],
    *,
    today: dt.date,
    accounts: Iterable[str] | None = None,
) -> Overrides:
    """Append ``item``; a RulesetError (file:line, field) and nothing written when the new
    file would be invalid, the expiry is past, or the account is not in ``accounts``."""
    text = _read(path)
    if text.strip():
        existing = load_overrides(path, ruleset)  # (a broken file is reported as it is)
        if existing.by_id(item["id"]) is not None:
            raise UsageError(f"{path}: there is already an override '{item['id']}'")
    new_text = add_text(text, item)
    expires = dt.date.fromisoformat(str(item["expires"]))
    if expires < today:
        raise RulesetError(
            f"{path}: override not added",
            [
                Problem(
                    path,
                    0,
                    0,
                    "expires",
                    f"--expires {expires} is in the past (today is {today}); nothing written",
                    "override-expiry",
                )
            ],
        )
    found = load_overrides(path, ruleset, text=new_text)
    added = found.overrides[-1]
    problems = []
    if accounts is not None:
        problems += check_accounts(found, accounts, only={added.id})
    if problems:
        raise RulesetError(f"{path}: override not added", problems)
    _write(path, new_text)
    return found


def remove_override(path: str, override_id: str) -> Overrides:
    if not Path(path).exists():
        raise UsageError(f"{path}: no such overrides file")
    text = _read(path)
    found = load_overrides(path)
    ids = [o.id for o in found.overrides]
    if override_id not in ids:
        from ..errors import suggest

        raise UsageError(
            f"{path}: no override '{override_id}'" + suggest(override_id, ids)
            if ids
            else f"{path}: no override '{override_id}' (the file has none)"
        )
    new_text = remove_text(text, ids.index(override_id))
    left = load_overrides(path, text=new_text)
    _write(path, new_text)
    return left


def next_id(found: Overrides | None, account: str) -> str:
    """An id for a new override of ``account``: `acc-00042`, `acc-00042-2`, ..."""
    base = "".join(c if c.isalnum() else "-" for c in account.lower()).strip("-") or "override"
    if not base[0].isalpha():
        base = "o-" + base
    taken = {o.id for o in found.overrides} if found else set()
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
