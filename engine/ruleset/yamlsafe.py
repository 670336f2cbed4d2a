"""Position-aware, refuse-by-default YAML loading for rulesets and test files.

PyYAML's ``safe_load`` drops line numbers and silently keeps the last of two duplicate
keys.  We compose the node graph instead, build plain data from it ourselves, and keep
every node's position, so errors can point at ``file:line:column``.  Aliases are
allowed (CS ops use anchors for shared motion text) but their expansion is capped,
which defeats "billion laughs" documents; custom tags are refused.  Nesting is capped
too (``MAX_DEPTH``): thousands of brackets would otherwise exhaust Python's stack.

Composing goes to libyaml's C parser where PyYAML has it (``_compose``): fifteen times
faster than PyYAML's pure-Python one, which stays the reference.  The two differ on a few
inputs (libyaml accepts a tab after an anchor, a ``?`` inside a flow mapping's plain
scalar and a tag there, places an empty flow value a column later, reads a byte order
mark inside the text and Unicode line breaks otherwise, and words its errors its own
way), so a text
holding any of those characters, a document with an empty plain value, and every error
are composed again by the pure parser: what is read, and every message with its line
and column, are the pure parser's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from ..errors import Problem, RulesetError

MAX_BYTES = 1_000_000
_EXPONENT_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")
MAX_NODES = 200_000
MAX_DEPTH = 100  # levels of nested mappings and lists; a ruleset needs a handful

Path = tuple[str | int, ...]

# Characters on which libyaml and PyYAML's pure parser may read a text differently: tabs, a
# ``?`` (flow mappings' plain scalars), ``!`` (tags), a byte order mark, the Unicode line
# breaks; a text with any of them is composed by the pure parser alone.
_UNLIKE = re.compile("[\t?!\ufeff\u2028\u2029\x85]")
_CLoader: Any = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None

_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


def json_path(path: Path) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@dataclass
class Document:
    """Plain data plus where each part of it came from."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    text: str = ""
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path) -> tuple[int, int]:
        """Line and column of the nearest node at or above ``path``."""
        probe = tuple(path)
        while probe:
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), (1, 1))

    def problem(
        self, path: Path, message: str, code: str = "invalid", at_key: bool = False
    ) -> Problem:
        """A located problem; ``at_key`` points at the mapping key rather than its value."""
        line, column = (self.key_positions.get(tuple(path)) if at_key else None) or self.where(path)
        return Problem(self.file, line, column, json_path(path), message, code)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[Path, tuple[int, int]] = {}
        self.key_positions: dict[Path, tuple[int, int]] = {}
        self.count = 0
        self.problems: list[Problem] = []
        self._scalars = SafeConstructor()

    def _fail(self, node: yaml.Node, path: Path, message: str, code: str) -> None:
        mark = node.start_mark
        self.problems.append(
            Problem(self.file, mark.line + 1, mark.column + 1, json_path(path), message, code)
        )

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise RulesetError(
                "document too large",
                [
                    Problem(
                        self.file,
                        node.start_mark.line + 1,
                        node.start_mark.column + 1,
                        json_path(path),
                        f"document expands to more than {MAX_NODES} nodes "
                        "(an alias/anchor bomb?); refusing to load it",
                        "alias-bomb",
                    )
                ],
            )
        if len(path) > MAX_DEPTH and isinstance(node, yaml.CollectionNode):
            mark = node.start_mark
            raise RulesetError("nested too deep", [_too_deep(self.file, mark.line, mark.column)])
        self.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _STANDARD_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._fail(node, path, f"custom tag '{tag}' is not allowed", "custom-tag")
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self._fail(key_node, path, "mapping keys must be plain scalars", "bad-key")
                    continue
                key = str(key_node.value)
                if key == "<<":
                    self._fail(key_node, path, "merge keys ('<<') are not supported", "merge-key")
                    continue
                if key in seen:
                    self._fail(
                        key_node,
                        path + (key,),
                        f"duplicate key '{key}' (first defined on line {seen[key]})",
                        "duplicate-key",
                    )
                    continue
                seen[key] = key_node.start_mark.line + 1
                self.key_positions.setdefault(
                    path + (key,), (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                )
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # dates stay ISO strings; the schema checks their format
        if (
            isinstance(node, yaml.ScalarNode)
            and node.tag == "tag:yaml.org,2002:str"
            and not node.style  # (plain: None from PyYAML's parser, "" from libyaml's)
            and _EXPONENT_FLOAT.match(node.value)
        ):
            return float(node.value)  # YAML 1.2 reads 1e6 as a number; YAML 1.1 as text
        try:
            return self._scalars.construct_object(node)
        except ConstructorError as exc:
            self._fail(node, path, f"cannot read value: {exc.problem}", "bad-scalar")
        except (ValueError, KeyError, TypeError):
            kind = node.tag.rsplit(":", 1)[-1]
            self._fail(
                node,
                path,
                f"cannot read value: {node.value!r} is not a{'n' if kind[0] in 'aeiou' else ''} {kind}",
                "bad-scalar",
            )
        return None


def _too_deep(file: str, line: int, column: int) -> Problem:
    """``line``, ``column``: 0-based, as PyYAML's marks."""
    return Problem(
        file,
        line + 1,
        column + 1,
        "",
        f"mappings and lists nested more than {MAX_DEPTH} levels deep; refusing to load it",
        "too-deep",
    )


def _deep_at(text: str, file: str) -> Problem:
    """Where ``text`` first nests deeper than ``MAX_DEPTH`` (PyYAML's composer, recursive,
    ran out of stack on it): read as a stream of events, which keeps no stack, up to there."""
    depth = 0
    starts = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, starts):
                depth += 1
                mark = event.start_mark
                if depth > MAX_DEPTH + 1 and mark is not None:  # (the root is level 0)
                    return _too_deep(file, mark.line, mark.column)
            elif isinstance(event, ends):
                depth -= 1
    except (yaml.YAMLError, RecursionError):
        pass
    return _too_deep(file, 0, 0)


def _compose(text: str, fast: bool = True) -> list[yaml.Node]:
    """The text's documents as node graphs, as PyYAML's pure-Python parser composes them;
    by libyaml's parser when it has nothing on which the two may differ (``fast=False``:
    the pure parser's alone)."""
    if fast and _CLoader is not None and not _UNLIKE.search(text):
        try:
            nodes = list(yaml.compose_all(text, Loader=_CLoader))
        except (yaml.YAMLError, ValueError):  # (what is wrong, and where: the pure parser's)
            pass
        else:
            if not _empty_plain(nodes):
                return nodes
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def _empty_plain(nodes: list[yaml.Node]) -> bool:
    """Whether some node is an empty plain scalar (libyaml places one in a flow mapping a
    column after PyYAML does); each node looked at once, however many aliases share it."""
    seen: set[int] = set()
    todo: list[Any] = list(nodes)
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if not node.value and not node.style:
                return True
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                todo.append(key)
                todo.append(value)
    return False


def load_text(text: str, file: str) -> Document:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise RulesetError(
            "file too large",
            [
                Problem(
                    file,
                    0,
                    0,
                    "",
                    f"file is larger than {MAX_BYTES} bytes; refusing to load it",
                    "too-large",
                )
            ],
        )
    if not text.strip():
        raise RulesetError("empty file", [Problem(file, 1, 1, "$", "file is empty", "empty")])
    try:
        nodes = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = f"YAML syntax error: {exc.problem}"
        if exc.context:
            message += f" ({exc.context})"
        raise RulesetError(
            "YAML syntax error", [Problem(file, line, col, "", message, "syntax")]
        ) from None
    except yaml.YAMLError as exc:
        raise RulesetError(
            "YAML error", [Problem(file, 1, 1, "", f"YAML error: {exc}", "syntax")]
        ) from None
    except RecursionError:
        raise RulesetError("nested too deep", [_deep_at(text, file)]) from None
    nodes = [
        n
        for n in nodes
        if n is not None
        and not (
            isinstance(n, yaml.ScalarNode) and n.tag == "tag:yaml.org,2002:null" and n.value == ""
        )
    ]
    if not nodes:
        raise RulesetError("empty file", [Problem(file, 1, 1, "$", "file is empty", "empty")])
    if len(nodes) > 1:
        mark = nodes[1].start_mark
        raise RulesetError(
            "several documents",
            [
                Problem(
                    file,
                    mark.line + 1,
                    mark.column + 1,
                    "$",
                    "file holds more than one YAML document; a ruleset is one document",
                    "multi-document",
                )
            ],
        )
    root = nodes[0]
    if not isinstance(root, yaml.MappingNode):
        mark = root.start_mark
        raise RulesetError(
            "not a mapping",
            [
                Problem(
                    file,
                    mark.line + 1,
                    mark.column + 1,
                    "$",
                    "the document must be a mapping of keys to values",
                    "not-mapping",
                )
            ],
        )
    builder = _Builder(file)
    data = builder.build(root, ())
    if builder.problems:
        raise RulesetError("YAML problems", builder.problems)
    return Document(file, data, builder.positions, text, builder.key_positions)


def load_file(path: str, display: str | None = None) -> Document:
    name = display or path
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise RulesetError(
            "not found", [Problem(name, 0, 0, "", "file not found", "not-found")]
        ) from None
    except OSError as exc:
        raise RulesetError(
            "unreadable", [Problem(name, 0, 0, "", f"cannot read: {exc.strerror}", "unreadable")]
        ) from None
    if len(raw) > MAX_BYTES:
        raise RulesetError(
            "file too large",
            [
                Problem(
                    name,
                    0,
                    0,
                    "",
                    f"file is larger than {MAX_BYTES} bytes; refusing to load it",
                    "too-large",
                )
            ],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise RulesetError(
            "not UTF-8",
            [
                Problem(
                    name,
                    line,
                    column,
                    "",
                    f"file is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8",
                    "encoding",
                )
            ],
        ) from None
    return load_text(text, name)
