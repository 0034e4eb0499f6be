"""What a schema cannot say about an event the lake must hold, checked after it (docs/schemas.md).

Two walks, each naming a value by its JSON pointer:

- :func:`unsafe_values`, before the validator sees the event: the rules every free-form value obeys
  (``json_values.problems_in_value``: integers within 64 bits, finite numbers, valid Unicode, field names of
  1-128 characters, at most ``MAX_NESTING_DEPTH`` levels), so that a custom event is as safe as a built-in
  ``properties``, and the validator never meets a string it cannot encode;
- :func:`fitted`, once the event is valid: each declared field against its kind (``fields.py``). A
  ``bigint`` holds an integer within int64 whatever its spelling (draft 2020-12 counts ``1.0`` and ``1e300``
  as integers): ``1.0`` is stored as ``1``, ``1e300`` refused, and so is such a spelling from 2^52 up, where
  the parsed double may be another integer than the one sent. A ``double`` refuses an integer beyond
  2^53, which no double holds exactly (a number sent with a fraction or an exponent is a double already).
  A ``timestamp`` is a date-time ``formats.date_time_millis`` reads (the validator asserts the same
  function as its ``date-time`` format, so this only keeps the promise where it is used).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from event_collector.json_values import (
    INT64_MAX,
    INT64_MIN,
    MAX_NESTING_DEPTH,
    MAX_PROPERTY_KEY_LENGTH,
    is_valid_unicode,
)
from event_collector.schemas.document import pointer_token
from event_collector.schemas.fields import Field, Shape
from event_collector.schemas.formats import date_time_millis

MAX_EXACT_INTEGER = 2**53  # every integer up to it in magnitude is a double, exactly
# From 2^52 up a double has no fraction digits: a number spelled with a fraction or an exponent there may have
# been rounded by the parser to an integer other than the one sent (9007199254740993.0 reads as ...992).
MAX_EXACT_SPELLED_INTEGER = 2**52


def unsafe_values(value: Any, where: str = "") -> list[str]:
    """A message per value the lake could not keep exactly (empty if none); ``where``: ``value``'s pointer.
    A quick walk first (no pointers built, ASCII text taken at once); the naming walk only when it fails."""
    return [] if _safe(value, 0) else _named_problems(value, where, 0)


def _safe_text(text: str) -> bool:
    return text.isascii() or is_valid_unicode(text)


def _safe(value: Any, depth: int) -> bool:
    """Whether ``value`` (at ``depth``) passes every rule, scalars checked inline: no call per value."""
    kind = type(value)
    if kind is dict:
        if depth >= MAX_NESTING_DEPTH:
            return False  # its values would nest deeper than the limit (the naming walk says where)
        items: Any = value.values()
        for key in value:
            if not key or len(key) > MAX_PROPERTY_KEY_LENGTH or not _safe_text(key):
                return False
    elif kind is list:
        if depth >= MAX_NESTING_DEPTH:
            return False
        items = value
    else:
        items = (value,)
        depth -= 1  # the value itself, not a child
    for item in items:
        kind = type(item)
        if kind is str:
            if not (item.isascii() or is_valid_unicode(item)):
                return False
        elif kind is int:
            if not INT64_MIN <= item <= INT64_MAX:
                return False
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif item is None or kind is bool:
            continue
        elif kind is dict or kind is list:
            if not _safe(item, depth + 1):
                return False
        else:
            return False
    return True


def _named_problems(value: Any, where: str, depth: int) -> list[str]:
    if depth > MAX_NESTING_DEPTH:
        return [f"{where or 'event'}: nests deeper than {MAX_NESTING_DEPTH} levels"]
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [] if INT64_MIN <= value <= INT64_MAX else [f"{where}: integer does not fit in 64 bits"]
    if isinstance(value, float):
        return [] if math.isfinite(value) else [f"{where}: number is not finite"]
    if isinstance(value, str):
        return [] if is_valid_unicode(value) else [f"{where}: string is not valid Unicode"]
    problems: list[str] = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            problems += _named_problems(item, f"{where}/{index}", depth + 1)
        return problems
    if isinstance(value, dict):
        for key, item in value.items():
            if not key or len(key) > MAX_PROPERTY_KEY_LENGTH or not is_valid_unicode(key):
                problems.append(f"{where or 'event'}: field names must be 1-{MAX_PROPERTY_KEY_LENGTH} valid characters")
                continue
            problems += _named_problems(item, f"{where}/{pointer_token(key)}", depth + 1)
        return problems
    return [f"{where}: unsupported value type {type(value).__name__}"]


def may_not_fit(shape: Shape) -> bool:
    """Whether some value valid for ``shape`` may still not fit its column (or be stored otherwise than sent):
    only numbers and date-times, anywhere inside."""
    if shape.kind in ("bigint", "double", "timestamp"):
        return True
    if shape.kind == "struct":
        return any(may_not_fit(field.shape) for field in shape.fields)
    return shape.kind == "array" and shape.item is not None and may_not_fit(shape.item)


def fitted(fields: tuple[Field, ...], values: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """The values of ``fields`` (those that :func:`may_not_fit`) that their columns take otherwise than sent
    (an integer spelled ``1.0``); a value no column of its kind holds is appended to ``problems``. Most
    values fit as sent: a quick walk says so without building a pointer or a copy."""
    changed: dict[str, Any] = {}
    for field in fields:
        value = values.get(field.name)
        if value is not None and not _fits(value, field.shape):
            changed[field.name] = _fit(value, field.shape, field.pointer, problems)
    return changed


def _fits(value: Any, shape: Shape) -> bool:
    kind = shape.kind
    if kind == "bigint":
        return type(value) is not float
    if kind == "double":
        return type(value) is not int or abs(value) <= MAX_EXACT_INTEGER
    if kind == "timestamp":  # the validator asserted its date-time format with date_time_millis already
        return type(value) is str
    if kind == "struct" and type(value) is dict:
        return all(_fits(value.get(field.name), field.shape) for field in shape.fields)
    if kind == "array" and type(value) is list and shape.item is not None:
        item = shape.item
        return all(_fits(element, item) for element in value)
    return True


def _fit(value: Any, shape: Shape, where: str, problems: list[str]) -> Any:
    kind = shape.kind
    if value is None or kind in ("string", "boolean", "json"):
        return value
    if kind == "bigint":
        return _bigint(value, where, problems)
    if kind == "double":
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_EXACT_INTEGER:
            problems.append(
                f"{where}: {value} is not exactly a double (a number field holds integers up to 2^53); "
                "declare the field as an integer or a string"
            )
        return value
    if kind == "timestamp":
        if not isinstance(value, str) or date_time_millis(value) is None:
            problems.append(f"{where}: not a date-time the lake can hold")
        return value
    if kind == "struct" and isinstance(value, dict):
        fitted_struct = dict(value)
        for field in shape.fields:
            item = value.get(field.name)
            if item is not None:
                fitted_struct[field.name] = _fit(item, field.shape, f"{where}/{pointer_token(field.name)}", problems)
        return fitted_struct
    if kind == "array" and isinstance(value, list) and shape.item is not None:
        item_shape = shape.item
        return [_fit(item, item_shape, f"{where}/{index}", problems) for index, item in enumerate(value)]
    return value


def _bigint(value: Any, where: str, problems: list[str]) -> Any:
    if isinstance(value, float):  # valid as an integer: integral (1.0, 1e300), maybe beyond int64
        whole = int(value)
        if not INT64_MIN <= whole <= INT64_MAX:
            problems.append(f"{where}: {value!r} is an integer beyond 64 bits")
            return value
        if abs(whole) >= MAX_EXACT_SPELLED_INTEGER:
            problems.append(
                f"{where}: an integer from 2^52 up spelled with a fraction or an exponent ({value!r} as read) may "
                "not be the one sent; send its digits alone"
            )
            return value
        return whole
    return value
