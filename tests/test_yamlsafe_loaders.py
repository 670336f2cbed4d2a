"""yamlsafe composes with libyaml's C parser where PyYAML has it, and with PyYAML's
pure-Python parser where the two may read a text differently and for every error: what a
text loads to (data, value and key positions) or the problems it raises (message, line and
column) are the pure parser's either way.  Each text here is loaded both ways and compared."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from tierbook.errors import RulesetError
from tierbook.ruleset import yamlsafe

from .conftest import ROOT

needs_libyaml = pytest.mark.skipif(yamlsafe._CLoader is None, reason="this PyYAML has no libyaml")
SHIPPED = sorted((ROOT / "rulesets").glob("*.yaml")) + sorted((ROOT / "examples").glob("*.yaml"))
CASES = sorted((ROOT / "tests" / "cases").rglob("*.yaml"))
DEEP_BLOCK = "".join(f"{'  ' * i}k{i}:\n" for i in range(400)) + "  " * 400 + "v\n"


def outcome(text: str, monkeypatch: pytest.MonkeyPatch, fast: bool) -> tuple[Any, ...]:
    """What loading ``text`` gives: ("ok", data, positions, key positions) or ("error",
    summary, each problem's file, line, column, path, message and code)."""
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(yamlsafe, "_CLoader", None)
        try:
            doc = yamlsafe.load_text(text, "r.yaml")
        except RulesetError as exc:
            return ("error", str(exc), [(str(p), p.code) for p in exc.problems])
    return ("ok", repr(doc.data), doc.positions, doc.key_positions)


def same_both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    pure = outcome(text, monkeypatch, fast=False)
    assert outcome(text, monkeypatch, fast=True) == pure
    return pure


# Where libyaml and the pure parser differ (found by mutating the shipped rulesets), bad
# inputs yamlsafe refuses, and the edge cases of tests/test_yamlsafe.py.
TEXTS = {
    "tab after an anchor": "a: &x\tb\nc: *x\n",
    "? inside a flow plain scalar": "tiers: [{id: strat?egic_logo}]\n",
    "? key": "? a\n: b\n",
    "byte order mark at the start": "\ufefftierbook: 1\na: b\n",
    "byte order mark inside": "tierbook: 1\n\ufeffa: b\n",
    "byte order mark in a flow scalar": "a: [x\ufeffy, z]\n",
    "U+2028 line break": "a: b\u2028c\nd: e\n",
    "U+2028 in a block scalar": "a: |\n  x\u2028y\n  z\nb: 1\n",
    "U+2029 in a block sequence": "a:\n  - x\u2029\n  - y\n",
    "NEL line break": "a: b\x85c: d\n",
    "empty flow value": "a: {b: , c: 2}\nd: [e: ]\n",
    "empty block value": "a:\nb: 1\n",
    "two commas": "a: {b: 1,, c: 2}\n",
    "mapping value in a plain scalar": "a: b: c\n",
    "unclosed flow": "a: [1, 2\nb: 3\n",
    "unclosed quote": 'a: "b\nc: d\n',
    "tab indentation": "a:\n\tb: 1\n",
    "duplicate key": "a: 1\nb: 2\na: 3\n",
    "duplicate key in flow": "a: {x: 1, x: 2}\n",
    "tag in a flow mapping": "- {id: !eference_value, type: ratio, default: 0}\n",
    "empty tag in a flow sequence": "a: [!, b]\n",
    "custom tag": "a: !secret x\nb: !!python/object:os.system y\n",
    "bad tagged value": "a: !!int twelve\n",
    "merge key": "base: &b {x: 1}\nc:\n  <<: *b\n",
    "non-scalar key": "? [a, b]\n: c\n",
    "flow key": "{[a]: b}\n",
    "several documents": "a: 1\n---\nb: 2\n",
    "document end": "a: 1\n...\n",
    "lone document marker": "---\n",
    "not a mapping": "- a\n- b\n",
    "scalar document": "just text\n",
    "comment only": "# nothing\n",
    "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh")),
    "undefined alias": "a: *nope\n",
    "recursive alias": "a: &r [*r]\n",
    "exponent floats": "a: 1e6\nb: '1e6'\nc: -2.5E-3\nd: 1.e2\n",
    "dates and times": "a: 2026-10-01\nb: 2026-10-01T12:00:00Z\n",
    "non-ASCII": "naïve: café 日本 😀\nb: {x: ü}\n",
    "CRLF": "a: 1\r\nb: [x, y]\r\n",
    "NUL": "a: b\x00c\n",
    "control character": "a: b\x07c\n",
    "lone surrogate": "a: b\ud800c\n",
    "deep brackets 150": "a: " + "[" * 150 + "]" * 150 + "\n",
    "deep brackets 500": "a: " + "[" * 500 + "]" * 500 + "\n",
    "deep brackets 1000": "a: " + "[" * 1000 + "]" * 1000 + "\n",
    "deep brackets 10000": "a: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "deep blocks 400": DEEP_BLOCK,
    "directive": "%YAML 1.1\n---\na: 1\n",
    "unknown directive": "%FOO bar\n---\na: 1\n",
    "block scalars": "a: |\n  one\n  two\nb: >-\n  three\n  four\n",
}


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_a_text_loads_or_fails_alike_both_ways(text: str, monkeypatch) -> None:
    same_both_ways(text, monkeypatch)


def test_the_syntax_error_libyaml_words_its_own_way_is_the_pure_parsers(monkeypatch) -> None:
    found = same_both_ways("a: b: c\n", monkeypatch)
    assert found == (
        "error",
        "YAML syntax error",
        [("r.yaml:1:5: YAML syntax error: mapping values are not allowed here", "syntax")],
    )


@pytest.mark.parametrize("path", SHIPPED + CASES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_and_test_file_loads_alike_both_ways(path: Path, monkeypatch) -> None:
    same_both_ways(path.read_text(encoding="utf-8"), monkeypatch)


def test_mutated_rulesets_load_or_fail_alike_both_ways(monkeypatch) -> None:
    """A few hundred random edits of small rulesets (insertions of YAML's punctuation and
    whitespace, deletions, copied spans): the way the differences above were found."""
    bases = [p.read_text(encoding="utf-8") for p in CASES if p.stat().st_size < 3000]
    pieces = list(":-[]{},#&*|>'\" \n.0eé") + ["  ", "\n  ", ": ", "- ", "&a ", "*a", "~"]
    rnd = random.Random(20261202)
    outcomes = set()
    for _ in range(300):
        text = rnd.choice(bases)
        for _ in range(rnd.randint(1, 3)):
            at = rnd.randrange(len(text) + 1)
            if rnd.random() < 0.6:
                text = text[:at] + rnd.choice(pieces) + text[at:]
            else:
                text = text[:at] + text[at + rnd.randint(1, 4) :]
        outcomes.add(same_both_ways(text, monkeypatch)[0])
    assert outcomes == {"ok", "error"}


def _composed_by(text: str, monkeypatch) -> list[str]:
    """The loaders yamlsafe composed ``text`` with, in order."""
    used: list[str] = []
    real = yaml.compose_all

    def spy(stream: str, Loader: Any) -> Any:
        used.append(Loader.__name__)
        return real(stream, Loader=Loader)

    monkeypatch.setattr(yamlsafe.yaml, "compose_all", spy)
    with contextlib.suppress(RulesetError):
        yamlsafe.load_text(text, "r.yaml")
    return used


@needs_libyaml
def test_the_shipped_rulesets_are_composed_by_libyaml_alone(monkeypatch) -> None:
    for path in SHIPPED:
        assert _composed_by(path.read_text(encoding="utf-8"), monkeypatch) == ["CSafeLoader"]


@needs_libyaml
@pytest.mark.parametrize(
    "text, used",
    [
        ("a: &x\tb\n", ["SafeLoader"]),  # (a character the two may read differently)
        ("a: {b: , c: 2}\n", ["CSafeLoader", "SafeLoader"]),  # (an empty plain value)
        ("a: b: c\n", ["CSafeLoader", "SafeLoader"]),  # (an error)
        ("a: 1\nb: [x, y]\n", ["CSafeLoader"]),
    ],
)
def test_what_the_pure_parser_composes_again(text: str, used: list[str], monkeypatch) -> None:
    assert _composed_by(text, monkeypatch) == used


def test_without_libyaml_the_pure_parser_composes_alone(monkeypatch) -> None:
    monkeypatch.setattr(yamlsafe, "_CLoader", None)
    text = (ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text(encoding="utf-8")
    assert _composed_by(text, monkeypatch) == ["SafeLoader"]
