"""Strict JSON parsing and checks for free-form values (``properties``).

Python's ``json`` accepts things that break a data lake further down, or that it
silently changes: ``NaN`` and ``Infinity`` literals, integers too large for any
column type, lone UTF-16 surrogates, nesting deep enough to exhaust the stack,
a name given twice in one object (it keeps the last), a nonzero number too
small for a double (it becomes ``0.0``) or too large (``inf``). Everything here
turns those into errors that name the problem and where it is
(``events[0].properties.a``), so no value is accepted other than as sent
(docs/api.md, "Exact values").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

MAX_NESTING_DEPTH = 8
MAX_PROPERTY_KEY_LENGTH = 128
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_INFINITY = math.inf


class InexactJson(json.JSONDecodeError):
    """Valid JSON syntax holding a value the collector would not keep exactly; ``location`` names it
    (``events[0].properties.a``, ``body`` for the whole document), ``problem`` says what it is."""

    def __init__(self, location: str, problem: str, document: str) -> None:
        super().__init__(f"{location}: {problem}", document, 0)
        self.location = location
        self.problem = problem


class _Refused(Exception):
    """Raised by the fast path's hooks; the slow path then finds where (never escapes this module)."""


# The fast path: hooks that raise at the first value the parser would change. They cost a Python call
# per object and number (bench/collector_bench.py measures it); the slow path runs only for a refused
# body, to name the value.


def _number_problem(text: str, value: float) -> str | None:
    if value == 0.0:
        mantissa = text.partition("e")[0].partition("E")[0]
        if mantissa.strip("-+.0"):
            return f"{text} is too small for a double (it would be stored as 0); send 0 or a larger number"
        return None
    if value in (_INFINITY, -_INFINITY):
        return f"{text} is too large for a double"
    return None


def _float(text: str) -> float:
    value = float(text)
    if not 0.0 < abs(value) < _INFINITY and _number_problem(text, value):
        raise _Refused
    return value


def _int(text: str) -> int | float:
    # "-0" is negative zero (what Go and others send for -0.0): kept as -0.0, not folded into 0.
    return -0.0 if text == "-0" else int(text)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Refused
    return result


def _constant(name: str) -> Any:
    raise _Refused


# The slow path: the same parse, leaving markers where the fast path refused, then a walk to the first.


class _Marked:
    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


class _Duplicated(dict[str, Any]):
    """An object that named a key more than once (``names``: those keys)."""

    names: list[str]


def _marked_float(text: str) -> Any:
    value = float(text)
    problem = _number_problem(text, value)
    return _Marked(problem) if problem else value


def _marked_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    marked = _Duplicated(result)
    marked.names = []
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            marked.names.append(name)
        seen.add(name)
    return marked


def _marked_constant(name: str) -> Any:
    return _Marked(f"{name} is not valid JSON (numbers must be finite)")


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _first_problem(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, _Marked):
        return path or "body", value.problem
    if isinstance(value, dict):
        if isinstance(value, _Duplicated):
            name = value.names[0]
            return _child(path, name), f"the name '{name}' appears more than once in one object"
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _first_problem(item, _child(path, key))
        if found:
            return found
    return None


def _locate(text: str) -> InexactJson:
    try:
        value = json.loads(
            text,
            parse_float=_marked_float,
            parse_int=_int,
            parse_constant=_marked_constant,
            object_pairs_hook=_marked_object,
        )
        found = _first_problem(value, "")
    except RecursionError:
        found = None
    location, problem = found or ("body", "holds a value JSON parsing would change")
    return InexactJson(location, problem, text)


def loads_strict(text: str) -> Any:
    """``json.loads`` that raises ``json.JSONDecodeError`` for everything it refuses: :class:`InexactJson`
    (with the value's location) for a value the parser would change or a ``NaN``/``Infinity`` literal."""
    try:
        return json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_constant, object_pairs_hook=_object)
    except _Refused:
        raise _locate(text) from None
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("JSON nesting is too deep", text, 0) from None
    except ValueError as error:
        # Integers past Python's digit limit.
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


def _refuse_type(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _compact_encoder(*, sort_keys: bool) -> Callable[[Any], str]:
    """Compact JSON (no spaces), UTF-8 as is, finite numbers only. ``JSONEncoder.encode`` builds json's C
    encoder on every call; this builds it once (the collector encodes every event twice), with no cycle
    check (values come from JSON), and falls back to ``JSONEncoder`` where the C encoder is missing. A
    test holds it byte-identical to ``JSONEncoder`` (tests/event_collector/test_json_values.py)."""
    reference = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, allow_nan=False)
    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        return reference.encode
    make = c_make_encoder(None, _refuse_type, encode_basestring, None, ":", ",", sort_keys, False, False)

    def encode(value: Any) -> str:
        return "".join(make(value, 0))

    return encode


# Every line the collector stores and every event's size as sent (``ingest/validation.py``).
compact_json = _compact_encoder(sort_keys=False)
# The one serialisation of nested values the lake stores (docs/guarantees.md):
# sorted keys, no spaces, UTF-8 as is, floats in Python's shortest repr that
# round-trips to the same double, integers exact.
canonical_json = _compact_encoder(sort_keys=True)
