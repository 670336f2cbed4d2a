"""Edge cases of the position-aware, refuse-by-default YAML loader (tierbook.ruleset.yamlsafe)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.ruleset import yamlsafe
from tierbook.cli.main import main
from tierbook.errors import Problem, RulesetError
from tierbook.ruleset.yamlsafe import MAX_BYTES, Document, json_path, load_file, load_text

BASE = Path(__file__).resolve().parent / "cases" / "valid" / "base.yaml"


def problems_of(text: str, file: str = "r.yaml") -> list[tuple[str, str]]:
    """(rendered problem, code) of every problem loading ``text`` raises."""
    with pytest.raises(RulesetError) as info:
        load_text(text, file)
    return [(str(p), p.code) for p in info.value.problems]


def file_problems(path: Path, display: str | None = None) -> list[tuple[str, str]]:
    with pytest.raises(RulesetError) as info:
        load_file(str(path), display)
    return [(str(p), p.code) for p in info.value.problems]


# -- size cap ---------------------------------------------------------------------------

TOO_LARGE = f"file is larger than {MAX_BYTES} bytes; refusing to load it"


def test_file_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"tierbook: 1\n" + b"# padding\n" * (MAX_BYTES // 10))
    assert big.stat().st_size > MAX_BYTES
    assert file_problems(big, "big.yaml") == [(f"big.yaml: {TOO_LARGE}", "too-large")]


def test_file_one_byte_over_the_cap_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    head = b"tierbook: 1\n"
    big.write_bytes(head + b"#" * (MAX_BYTES - len(head)) + b"\n")
    assert big.stat().st_size == MAX_BYTES + 1
    assert file_problems(big, "big.yaml") == [(f"big.yaml: {TOO_LARGE}", "too-large")]


def test_file_exactly_at_the_cap_loads(tmp_path: Path) -> None:
    text = BASE.read_bytes()
    padded = tmp_path / "padded.yaml"
    filler = MAX_BYTES - len(text) - 1
    padded.write_bytes(text + b"#" * filler + b"\n")
    assert padded.stat().st_size == MAX_BYTES
    doc = load_file(str(padded))
    assert doc.data["metadata"]["name"] == "cs-segmentation-model"


def test_text_cap_counts_utf8_bytes_not_characters() -> None:
    text = "tierbook: 1\n# " + "é" * (MAX_BYTES // 2) + "\n"  # fewer characters than bytes
    assert len(text) < MAX_BYTES < len(text.encode("utf-8"))
    assert problems_of(text) == [(f"r.yaml: {TOO_LARGE}", "too-large")]


def test_cli_reports_an_oversized_file(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"tierbook: 1\n" + b"# padding\n" * (MAX_BYTES // 10))
    result = CliRunner().invoke(main, ["validate", str(big)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout == f"{big}: {TOO_LARGE}\n"


# -- encoding ---------------------------------------------------------------------------

LATIN1 = b"tierbook: 1\nmetadata:\n  owner: Jos\xe9\n"  # 'José' saved as Latin-1


def test_non_utf8_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(LATIN1)
    offset = LATIN1.index(b"\xe9")
    assert file_problems(path, "latin1.yaml") == [
        (f"latin1.yaml:3:13: file is not UTF-8 text (byte {offset + 1}); save it as UTF-8",
         "encoding")]


def test_non_utf8_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(LATIN1)
    with pytest.raises(RulesetError) as info:
        load_file(str(path), "latin1.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (3, 13)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbftierbook: 1\nmetadata: {owner: Jos\xc3\xa9}\n")
    doc = load_file(str(path))
    assert doc.data == {"tierbook": 1, "metadata": {"owner": "José"}}
    assert doc.where(("metadata", "owner")) == (2, 19)


def test_missing_file() -> None:
    with pytest.raises(RulesetError) as info:
        load_file("/nonexistent/dir/r.yaml", "r.yaml")
    assert [(str(p), p.code) for p in info.value.problems] == [
        ("r.yaml: file not found", "not-found")]


# -- anchors and aliases ----------------------------------------------------------------

ANCHORS = """\
motions:
  standard: &standard {cadence: quarterly, channel: email}
tiers:
  - id: mid_touch
    motion: *standard
  - id: tech_touch
    motion: *standard
"""


def test_a_small_alias_use_loads() -> None:
    doc = load_text(ANCHORS, "r.yaml")
    standard = {"cadence": "quarterly", "channel": "email"}
    assert doc.data["tiers"][0]["motion"] == standard
    assert doc.data["tiers"][1]["motion"] == standard
    # plain data: the two uses are independent copies, not one shared object
    assert doc.data["tiers"][0]["motion"] is not doc.data["tiers"][1]["motion"]


def test_aliased_content_is_located_where_it_is_written() -> None:
    doc = load_text(ANCHORS, "r.yaml")
    assert doc.where(("motions", "standard", "cadence")) == (2, 33)
    assert doc.where(("tiers", 1, "motion", "cadence")) == (2, 33)


def test_node_cap_stops_a_modest_expansion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsafe, "MAX_NODES", 20)
    text = "a: &a [1, 2, 3, 4, 5]\nb: [*a, *a, *a, *a, *a]\n"
    (rendered, code), = problems_of(text)
    assert code == "alias-bomb"
    assert "more than 20 nodes" in rendered
    monkeypatch.setattr(yamlsafe, "MAX_NODES", 40)
    assert len(load_text(text, "r.yaml").data["b"]) == 5


def test_billion_laughs_is_refused() -> None:
    lines = ['l0: &l0 "lol"']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    (rendered, code), = problems_of("\n".join(lines) + "\n")
    assert code == "alias-bomb"
    assert "refusing to load it" in rendered


def test_merge_keys_are_refused() -> None:
    text = ("defaults: &defaults {pooled: true}\n"
            "tier:\n"
            "  <<: *defaults\n"
            "  id: tech_touch\n")
    assert problems_of(text) == [
        ("r.yaml:3:3: $.tier: merge keys ('<<') are not supported", "merge-key")]


# -- refusals and the shape of the document ---------------------------------------------

def test_duplicate_keys_name_both_lines() -> None:
    text = "metadata:\n  version: 1.0.0\n  owner: cs-ops\n  version: 1.1.0\n"
    assert problems_of(text) == [
        ("r.yaml:4:3: $.metadata.version: duplicate key 'version' (first defined on line 2)",
         "duplicate-key")]


def test_every_duplicate_and_tag_problem_is_reported_sorted() -> None:
    text = "b: !env X\na: 1\na: 2\nc: !!python/name:os.system ''\n"
    assert problems_of(text) == [
        ("r.yaml:1:4: $.b: custom tag '!env' is not allowed", "custom-tag"),
        ("r.yaml:3:1: $.a: duplicate key 'a' (first defined on line 2)", "duplicate-key"),
        ("r.yaml:4:4: $.c: custom tag '!!python/name:os.system' is not allowed",
         "custom-tag"),
    ]


def test_non_scalar_keys_are_refused() -> None:
    assert problems_of("? [a, b]\n: 1\n") == [
        ("r.yaml:1:3: $: mapping keys must be plain scalars", "bad-key")]


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n"],
                         ids=["zero-bytes", "blank", "comment-only"])
def test_empty_files(text: str) -> None:
    assert problems_of(text) == [("r.yaml:1:1: $: file is empty", "empty")]


def test_a_lone_document_marker_is_an_empty_file() -> None:
    assert problems_of("---\n") == [("r.yaml:1:1: $: file is empty", "empty")]


@pytest.mark.parametrize("text, where", [("- a\n- b\n", "1:1"), ("just text\n", "1:1"),
                                         ("# c\n~\n", "2:1")],
                         ids=["list", "scalar", "null"])
def test_the_document_must_be_a_mapping(text: str, where: str) -> None:
    assert problems_of(text) == [
        (f"r.yaml:{where}: $: the document must be a mapping of keys to values", "not-mapping")]


def test_a_second_document_is_refused_where_it_starts() -> None:
    assert problems_of("a: 1\n---\nb: 2\n") == [
        ("r.yaml:3:1: $: file holds more than one YAML document; a ruleset is one document",
         "multi-document")]


def test_document_end_marker_is_fine() -> None:
    assert load_text("a: 1\n...\n", "r.yaml").data == {"a": 1}


def test_syntax_error_is_located() -> None:
    assert problems_of("tiers:\n\t- id: x\n") == [
        ("r.yaml:2:1: YAML syntax error: found character '\\t' that cannot start any token "
         "(while scanning for the next token)", "syntax")]


@pytest.mark.parametrize("value", ["!!int twelve", "!!float sixty", "!!bool maybe"])
def test_a_tagged_value_that_cannot_be_read_is_a_located_problem(value: str) -> None:
    (rendered, code), = problems_of(f"tierbook: 1\nmax_share: {value}\n")
    assert code == "bad-scalar"
    assert rendered.startswith("r.yaml:2:12: $.max_share: cannot read value")


def test_scalars_follow_safe_load_but_dates_stay_strings() -> None:
    doc = load_text('d: 2026-01-01\nq: "2026-01-01"\nn: ~\nb: true\ni: 12\nf: 0.25\ns: "12"\n',
                    "r.yaml")
    assert doc.data == {"d": "2026-01-01", "q": "2026-01-01", "n": None, "b": True, "i": 12,
                        "f": 0.25, "s": "12"}


# -- positions --------------------------------------------------------------------------

NESTED = """\
tierbook: 1
grid:
  id: tier_grid
  cells:
    high: [mid_touch, mid_touch, high_touch_enterprise]
    mid:
      - tech_touch
      - {tier: mid_touch, note: diagonal}
flags:
  - id: expansion_ready
    when:
      any:
        - {field: seat_utilization, gt: 0.8}
"""


@pytest.mark.parametrize("path, where", [
    ((), (1, 1)),
    (("tierbook",), (1, 11)),
    (("grid",), (3, 3)),
    (("grid", "id"), (3, 7)),
    (("grid", "cells", "high"), (5, 11)),
    (("grid", "cells", "high", 2), (5, 34)),
    (("grid", "cells", "mid", 0), (7, 9)),
    (("grid", "cells", "mid", 1), (8, 9)),
    (("grid", "cells", "mid", 1, "note"), (8, 33)),
    (("flags", 0, "when", "any", 0, "field"), (13, 19)),
    (("flags", 0, "when", "any", 0, "gt"), (13, 41)),
])
def test_positions_of_nested_nodes(path: tuple, where: tuple[int, int]) -> None:
    doc = load_text(NESTED, "r.yaml")
    assert doc.positions[path] == where
    line, column = where
    if path:  # the node really starts there
        text = NESTED.splitlines()[line - 1][column - 1:]
        value = doc.data
        for part in path:
            value = value[part]
        if isinstance(value, (str, int, float)):
            assert text.startswith(str(value))


def test_where_falls_back_to_the_nearest_known_ancestor() -> None:
    doc = load_text(NESTED, "r.yaml")
    assert doc.where(("grid", "cells", "low")) == doc.positions[("grid", "cells")]
    assert doc.where(("flags", 0, "because")) == (10, 5)
    assert doc.where(("nowhere", 3)) == (1, 1)


def test_problem_uses_the_position_and_json_path() -> None:
    doc = load_text(NESTED, "r.yaml")
    problem = doc.problem(("grid", "cells", "high", 2), "unknown tier", "unknown-tier")
    assert problem == Problem("r.yaml", 5, 34, "$.grid.cells.high[2]", "unknown tier")
    assert problem.code == "unknown-tier"
    assert str(problem) == "r.yaml:5:34: $.grid.cells.high[2]: unknown tier"


@pytest.mark.parametrize("path, text", [
    ((), "$"), (("grid",), "$.grid"), (("flags", 0, "when", "any", 1), "$.flags[0].when.any[1]"),
])
def test_json_path(path: tuple, text: str) -> None:
    assert json_path(path) == text


def test_base_case_loads_with_positions_for_every_value() -> None:
    doc = load_file(str(BASE), "base.yaml")
    assert isinstance(doc, Document)

    def walk(value: object, path: tuple) -> None:
        assert path in doc.positions, path
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(sub, path + (key,))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                walk(sub, path + (i,))

    walk(doc.data, ())


# -- nesting cap ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [150, 10_000])
def test_deeply_nested_brackets_are_a_located_error(tmp_path: Path, depth: int) -> None:
    """Thousands of nested brackets exhaust PyYAML's recursive composer; a hundred and fifty
    load but nest deeper than the cap.  Either way: exit 1 naming the file, line and column
    where the nesting passes the cap, not an internal error."""
    deep = tmp_path / "deep.yaml"
    deep.write_text("tierbook: 1\na: " + "[" * depth + "]" * depth + "\n")
    result = CliRunner().invoke(main, ["validate", str(deep)])
    assert result.exit_code == 1, result.output
    column = len("a: ") + yamlsafe.MAX_DEPTH + 1
    assert result.stdout.startswith(
        f"{deep}:2:{column}: mappings and lists nested more than {yamlsafe.MAX_DEPTH} levels deep"
    ), result.output


def test_nesting_at_the_cap_loads() -> None:
    depth = yamlsafe.MAX_DEPTH
    doc = load_text("a: " + "[" * depth + "1" + "]" * depth + "\n", "r.yaml")
    inner = doc.data["a"]
    for _ in range(depth - 1):
        inner = inner[0]
    assert inner == [1]
