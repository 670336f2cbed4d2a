"""JSON Schema validation of a ruleset document, with located, readable messages."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (jsonschema is imported when a ruleset is checked, not for --help)
    import jsonschema
    from jsonschema.exceptions import ValidationError

from ..errors import Problem, suggest
from .yamlsafe import Document

SCHEMA_FILE = "ruleset.schema.json"


@functools.cache
def ruleset_schema(name: str = SCHEMA_FILE) -> dict[str, Any]:
    """A shipped schema (``name`` in schemas/): the ruleset's, the overrides file's or the
    inputs file's."""
    text = resources.files("tierbook.schemas").joinpath(name).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator(name: str = SCHEMA_FILE) -> jsonschema.protocols.Validator:
    import jsonschema

    cls = jsonschema.validators.validator_for(ruleset_schema(name))
    return cls(ruleset_schema(name), format_checker=cls.FORMAT_CHECKER)


_CONDITION_KEYS = ("all", "any", "not", "field", "flag", "event")
_OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "between", "exists")


def _allowed_keys(error: ValidationError) -> list[str]:
    props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    return list(props)


def _message(
    error: ValidationError,
) -> tuple[tuple[Any, ...], str] | tuple[tuple[Any, ...], str, bool]:
    path = tuple(error.absolute_path)
    kw = error.validator
    if kw == "additionalProperties":
        extras = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        key = extras[0] if extras else "?"
        return path + (key,), f"unknown key '{key}'" + suggest(key, _allowed_keys(error)), True
    if kw == "required":
        missing = re.findall(r"'([^']+)'", error.message)[:1]
        return path, f"missing required key '{missing[0] if missing else '?'}'"
    if kw in ("oneOf", "anyOf"):
        instance = error.instance
        schema_ref = error.schema if isinstance(error.schema, dict) else {}
        branches = schema_ref.get(kw, [])
        if all(set(b) == {"required"} for b in branches):
            keys = [b["required"][0] for b in branches]
            if isinstance(instance, dict):
                present = [k for k in keys if k in instance]
                if not present:
                    return path, f"expected exactly one of: {', '.join(keys)}"
                return path, f"only one of {', '.join(present)} may be given"
        if error.context:
            from jsonschema.exceptions import best_match

            return _message(best_match(error.context))
        return path, error.message
    if kw == "maxProperties" and isinstance(error.instance, dict) and "field" in error.instance:
        ops = [k for k in error.instance if k != "field"]
        return path, (
            f"a comparison takes exactly one operator, found {', '.join(ops)}; "
            "combine several comparisons with 'all'"
        )
    if kw == "minProperties" and isinstance(error.instance, dict) and "field" in error.instance:
        return path, f"comparison on '{error.instance['field']}' needs an operator: " + ", ".join(
            _OPERATORS
        )
    if kw == "enum" and isinstance(error.validator_value, list):
        allowed = error.validator_value
        return path, f"{error.instance!r} is not one of {', '.join(map(str, allowed))}" + suggest(
            str(error.instance), map(str, allowed)
        )
    if kw == "const":
        return path, f"must be {error.validator_value!r}"
    if kw == "format":
        return (
            path,
            f"{error.instance!r} is not a valid {error.validator_value} (expected YYYY-MM-DD)",
        )
    if kw == "pattern" and path == ("metadata", "version"):
        return path, (
            f"{error.instance!r} is not a valid semantic version: use MAJOR.MINOR.PATCH, e.g. 1.0.0"
        )
    if kw == "minLength" and path and path[-1] == "reason":
        return path, (
            f"reason {error.instance!r} is too short: say why the gate is waived "
            f"(at least {error.validator_value} characters)"
        )
    if kw == "pattern" and path and path[-1] == "id":
        # (what the id's own pattern allows: an override's id may have hyphens too)
        marks = [
            m
            for m, c in (("hyphens", "-]"), ("underscores", "_"))
            if c in str(error.validator_value)
        ]
        words = ["lower-case letters", "digits", *marks]
        may = ", ".join(words[:-1]) + " and " + words[-1]
        return path, f"{error.instance!r} is not a valid id: use {may}, starting with a letter"
    if kw == "pattern":
        return (
            path,
            f"{error.instance!r} does not match the required pattern {error.validator_value}",
        )
    if kw == "type":
        return path, f"{error.instance!r} is not of type {error.validator_value}"
    if kw == "not" and isinstance(error.instance, dict):
        return path, "give only one lower bound (gt or gte) and one upper bound (lt or lte)"
    return path, error.message


def schema_problems(doc: Document, schema: str = SCHEMA_FILE) -> list[Problem]:
    problems = []
    for error in _validator(schema).iter_errors(doc.data):
        found = _message(error)
        at_key = len(found) == 3 and bool(found[2])
        problems.append(doc.problem(found[0], found[1], code="schema", at_key=at_key))
    return sorted(set(problems))
