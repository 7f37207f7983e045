"""orjson on the hot path must not change a byte: parsing agrees with json.loads, and Daraja
answers are the bytes Starlette's JSONResponse would send."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from emulator.kernel.web import DarajaJSON, parse_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def stdlib(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and int/float kinds kept apart (1 vs 1.0)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_parsing_agrees_with_the_stdlib_on_json(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert same(parse_json(raw), stdlib(raw))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_parsing_agrees_with_the_stdlib_on_any_bytes(raw: bytes) -> None:
    assert same(parse_json(raw), stdlib(raw))


def test_what_orjson_refuses_still_parses_as_the_stdlib_does() -> None:
    for raw in [b"NaN", b"[1e400]", b'"\\ud800"', b'{"n": 123456789012345678901234567890}',
                "\ufeff{}".encode(), '{"a": "é"}'.encode("utf-16"), b"[" * 5000 + b"]" * 5000]:
        assert same(parse_json(raw), stdlib(raw)), raw


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), st.text(), max_size=6))
def test_daraja_answers_are_starlettes_bytes(body: dict[str, str]) -> None:
    assert DarajaJSON(body, status_code=400).body == JSONResponse(body, status_code=400).body
