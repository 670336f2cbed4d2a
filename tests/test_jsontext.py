"""The report's JSON text, made by orjson, is json.dumps' own, character for character."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from tierbook.report.jsontext import compact, indented

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # (beyond 64 bits: orjson refuses, json writes it)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False)
    | st.text()  # (every code point, lone surrogates too)
    | st.sampled_from(["re-tiered", "0.00001", "Müller GmbH", "\x7f", "😀", 'a\nb\t"\\'])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | st.tuples(inner, inner)
    ),
    max_leaves=20,
)


@settings(max_examples=600)
@given(_VALUES)
def test_the_text_is_json_dumps_text(value: object) -> None:
    assert compact(value) == json.dumps(value, separators=(",", ":"))
    assert indented(value) == json.dumps(value, indent=2)


def test_the_cases_orjson_writes_otherwise() -> None:
    cases = {
        "tiny float": [1e-07, 0.00001, -4.2e-06],
        "text beyond ASCII": {"name": "Zürich AG 😀", "del": "\x7f"},
        "integer beyond 64 bits": 2**70,
        "key that is not text": {1: "a", None: "b"},
        "empty containers": {"a": [], "b": {}, "c": [[], {}]},
    }
    for why, value in cases.items():
        assert compact(value) == json.dumps(value, separators=(",", ":")), why
        assert indented(value) == json.dumps(value, indent=2), why
