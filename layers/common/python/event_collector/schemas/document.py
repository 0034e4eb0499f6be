"""Is a tenant's JSON Schema one the collector can take? The document's own rules (docs/schemas.md).

A schema describes an event's own fields, without the envelope. It is a JSON Schema draft 2020-12
document, and besides what the draft requires it must:

- be an object schema (``"type": "object"``) with ``properties``, whose names are column names and
  none of the envelope's, the server's or the lake's (``names.RESERVED_FIELDS``);
- stay small: at most ``MAX_SCHEMA_BYTES`` as compact JSON, nested at most ``MAX_SCHEMA_DEPTH`` levels;
- refer only inside itself: ``$ref`` is ``#/$defs/<name>``, never a URL (a Lambda fetches nothing),
  and no definition refers back to itself, directly or not; ``$defs``, ``$id`` and ``$schema`` (which
  must name draft 2020-12) only at the top;
- use only keywords of draft 2020-12 (or ``x-`` annotations) and formats it defines: an unknown one
  is most often a typo (``propertes``, ``date_time``) that would leave events unchecked;
- give each keyword a value of the right kind, require only the fields it declares (a ``pattern`` is a
  string here: the validator compiles it at registration, ``validator.compile_problems``), and never
  declare a field whose schema is ``false`` (it could never be sent).

Problems are values (:class:`SchemaProblem`), never exceptions: each names where it is in the schema as
a JSON pointer (``#/properties/price/type``) and, when it concerns a field, the field as a JSON pointer
into an event (``/price``; ``-`` stands for every item of an array).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from event_collector.json_values import compact_json
from event_collector.schemas.keywords import (
    DEF_REF,
    KEYWORDS,
    ONE_SCHEMA,
    REFUSED,
    SCHEMA_LISTS,
    SCHEMA_MAPS,
    TOP_ONLY,
    value_problem,
)
from event_collector.schemas.names import top_level_field_problem

DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_SCHEMA_BYTES = 64 * 1024
MAX_SCHEMA_DEPTH = 64


@dataclass(frozen=True)
class SchemaProblem:
    """Why a schema is refused. ``location``: where, as a JSON pointer into the schema ("" is the whole
    schema); ``field``: the event field it concerns as a JSON pointer into an event, if it concerns one."""

    location: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field is not None else f"#{self.location}: {self.message}"


def pointer_token(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def nesting_depth(document: Any) -> int:
    """How deep objects and arrays nest (a scalar is 0), without recursion: any document is measured."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            pending.extend((item, depth) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


def _has_other_keys(document: Any) -> bool:
    """Whether an object in ``document`` has a key that is not a string (JSON's never do; Python's may)."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if not all(isinstance(key, str) for key in value):
                return True
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def definition(document: Mapping[str, Any], ref: str) -> tuple[Any, str]:
    """The schema ``ref`` (``#/$defs/<name>``, checked) points to, and its location."""
    match = DEF_REF.fullmatch(ref)
    if match is None:
        raise ValueError(f"not a local definition: {ref!r}")
    name = match["name"]
    return document["$defs"][name], f"/$defs/{name}"


def document_problems(document: Any, *, lake_names: bool = True) -> list[SchemaProblem]:
    """Every problem of the document itself; empty if it follows the rules above. ``lake_names=False``: a
    track plan's, whose fields never become columns, so their names are free (``orderId``, ``context``)."""
    if not isinstance(document, dict):
        return [SchemaProblem("", "a schema must be a JSON object")]
    depth = nesting_depth(document)
    if depth > MAX_SCHEMA_DEPTH:
        return [SchemaProblem("", f"nests {depth} levels deep; the limit is {MAX_SCHEMA_DEPTH}")]
    try:
        size = len(compact_json(document).encode("utf-8", errors="surrogatepass"))
    except (TypeError, ValueError) as error:
        return [SchemaProblem("", f"not a JSON document: {error}")]
    if _has_other_keys(document):
        return [SchemaProblem("", "not a JSON document: an object has a key that is not a string")]
    if size > MAX_SCHEMA_BYTES:
        return [SchemaProblem("", f"is {size} bytes as compact JSON; the limit is {MAX_SCHEMA_BYTES}")]
    problems = list(_top_problems(document, lake_names))
    problems += _Walk(document).schema(document, "", None, top=True)
    problems += _cycles(document)
    return problems


def _top_problems(document: dict[str, Any], lake_names: bool) -> Iterator[SchemaProblem]:
    dialect = document.get("$schema", DIALECT)
    if dialect not in (DIALECT, DIALECT + "#"):
        yield SchemaProblem("/$schema", f"must be {DIALECT} (draft 2020-12), or left out")
    if document.get("type") not in ("object", ["object"]):
        yield SchemaProblem("/type", 'must be "object": a schema describes an event\'s own fields')
    if "properties" not in document:
        yield SchemaProblem("", "must declare the event's own fields in properties (an object, {} for none)")
        return
    properties = document["properties"]
    for name in properties if isinstance(properties, dict) and lake_names else ():
        problem = top_level_field_problem(name)
        if problem:
            yield SchemaProblem(f"/properties/{pointer_token(name)}", problem, f"/{pointer_token(name)}")


class _Walk:
    """Checks every subschema once, in place (a ``$ref`` is checked where it points, not followed)."""

    def __init__(self, document: dict[str, Any]) -> None:
        definitions = document.get("$defs")
        self._names = set(definitions) if isinstance(definitions, dict) else set()

    def schema(self, schema: Any, location: str, field: str | None, *, top: bool = False) -> list[SchemaProblem]:
        if isinstance(schema, bool):
            return []
        if not isinstance(schema, dict):
            return [SchemaProblem(location, "a schema must be an object, true or false", field)]
        problems: list[SchemaProblem] = []
        for keyword, value in schema.items():
            here = f"{location}/{pointer_token(keyword)}"
            message = self._keyword_problem(keyword, value, top)
            if message:
                problems.append(SchemaProblem(here, message, field))
                continue
            problems += self._children(keyword, value, here, field, schema)
        return problems

    def _keyword_problem(self, keyword: str, value: Any, top: bool) -> str | None:
        if keyword in REFUSED:
            return REFUSED[keyword]
        if keyword.startswith("x-"):
            return None
        if keyword not in KEYWORDS:
            return f"{keyword!r} is not a keyword of JSON Schema draft 2020-12 (a typo?)"
        if keyword in TOP_ONLY and not top:
            return f"{keyword} is only taken at the top of the schema"
        return value_problem(keyword, value, self._names)

    def _children(
        self, keyword: str, value: Any, here: str, field: str | None, schema: dict[str, Any]
    ) -> list[SchemaProblem]:
        problems: list[SchemaProblem] = []
        if keyword in ONE_SCHEMA:
            problems += self.schema(value, here, f"{field}/-" if keyword == "items" and field is not None else field)
        elif keyword in SCHEMA_LISTS:
            item_field = f"{field}/-" if keyword == "prefixItems" and field is not None else field
            for index, item in enumerate(value):
                problems += self.schema(item, f"{here}/{index}", item_field)
        elif keyword in SCHEMA_MAPS:
            for name, item in value.items():
                token = pointer_token(name)
                if keyword == "properties":
                    child = f"{field or ''}/{token}" if field is not None or here == "/properties" else None
                    if item is False:
                        problems.append(SchemaProblem(f"{here}/{token}", _FALSE_FIELD, child))
                        continue
                    problems += self.schema(item, f"{here}/{token}", child)
                else:
                    problems += self.schema(item, f"{here}/{token}", None if keyword == "$defs" else field)
        elif keyword == "required" and isinstance(schema.get("properties"), dict):
            problems += [
                SchemaProblem(f"{here}/{index}", f"requires {name!r}, which properties does not declare", field)
                for index, name in enumerate(value)
                if name not in schema["properties"]
            ]
        return problems


_FALSE_FIELD = "a field whose schema is false could never be sent: leave it out of properties"


def _references(schema: Any) -> set[str]:
    """The definitions anything inside ``schema`` refers to (without following them)."""
    found: set[str] = set()
    pending = [schema]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            match = DEF_REF.fullmatch(ref) if isinstance(ref, str) else None
            if match:
                found.add(match["name"])
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return found


def _cycles(document: dict[str, Any]) -> list[SchemaProblem]:
    """A definition that refers back to itself has no column type (a struct cannot contain itself)."""
    definitions = document.get("$defs")
    if not isinstance(definitions, dict):
        return []
    graph = {name: _references(schema) & set(definitions) for name, schema in definitions.items()}
    problems = []
    for start in graph:
        # Depth-first from ``start`` without recursion: does any path come back to it?
        seen: set[str] = set()
        pending = list(graph[start])
        while pending:
            name = pending.pop()
            if name == start:
                problems.append(
                    SchemaProblem(f"/$defs/{start}", f"definition {start!r} refers back to itself (recursive $ref)")
                )
                break
            if name not in seen:
                seen.add(name)
                pending.extend(graph[name])
    return problems
