"""The ruleset schema: valid against its metaschema, and documented for editors."""

from __future__ import annotations

import json
from typing import Any, Iterator

import jsonschema

from .conftest import ROOT, RULESETS

SCHEMA = json.loads((ROOT / "schemas" / "ruleset.schema.json").read_text())


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$id"] and SCHEMA["title"] and SCHEMA["description"]


def _properties(node: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{path}[{i}]")


def test_every_property_has_a_description_for_hover_help() -> None:
    props = list(_properties(SCHEMA))
    assert len(props) > 150
    missing = [path for path, sub in props if not sub.get("description")]
    assert missing == []


def test_shipped_rulesets_point_editors_at_the_schema() -> None:
    for path in RULESETS:
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/ruleset.schema.json", path
