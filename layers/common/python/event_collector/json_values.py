"""Strict JSON parsing and checks for free-form values (``properties``).

Python's ``json`` accepts things that break a data lake further down: ``NaN``
and ``Infinity`` literals, integers too large for any column type, lone UTF-16
surrogates, and nesting deep enough to exhaust the stack. Everything here
turns those into errors that name the problem.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_NESTING_DEPTH = 8
MAX_PROPERTY_KEY_LENGTH = 128
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_strict(text: str) -> Any:
    """``json.loads`` that raises ``json.JSONDecodeError`` for everything it refuses."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("JSON nesting is too deep", text, 0) from None
    except ValueError as error:
        # Integers past Python's digit limit, and the constants refused above.
        raise json.JSONDecodeError(str(error), text, 0) from None


def problems_in_value(value: Any, path: str = "", depth: int = 0) -> list[str]:
    """Return a message per problem found in a parsed JSON value (empty if fine)."""
    if depth > MAX_NESTING_DEPTH:
        return [f"{path or 'value'}: nesting deeper than {MAX_NESTING_DEPTH} levels"]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            return [f"{path}: integer does not fit in 64 bits"]
        return []
    if isinstance(value, float):
        return [] if math.isfinite(value) else [f"{path}: number is not finite"]
    if isinstance(value, str):
        return [] if is_valid_unicode(value) else [f"{path}: string is not valid Unicode"]
    if isinstance(value, list):
        problems: list[str] = []
        for index, item in enumerate(value):
            problems += problems_in_value(item, f"{path}[{index}]", depth + 1)
        return problems
    if isinstance(value, dict):
        problems = []
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if not key or len(key) > MAX_PROPERTY_KEY_LENGTH or not is_valid_unicode(key):
                problems.append(
                    f"{path or 'value'}: property names must be 1-{MAX_PROPERTY_KEY_LENGTH} valid characters"
                )
                continue
            problems += problems_in_value(item, child, depth + 1)
        return problems
    return [f"{path}: unsupported value type {type(value).__name__}"]


def is_valid_unicode(text: str) -> bool:
    """False for strings holding lone surrogates, which cannot be encoded as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# The one serialisation of nested values the lake stores (docs/guarantees.md):
# sorted keys, no spaces, UTF-8 as is, floats in Python's shortest repr that
# round-trips to the same double, integers exact.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)
