"""A registered schema compiled once per container, and an event's own fields checked against it.

The library is jsonschema-rs (docs/decisions.md), imported with the first schema a container compiles, so a
collector that never meets a custom event never pays for it. Each schema version is compiled once and kept
(:func:`compiled`, keyed by tenant, kind, name and version: a version never changes) with:

- draft 2020-12, ``format`` asserted (draft 2020-12 only annotates it), ``date-time`` being
  ``formats.date_time_millis`` (what the edge accepts, compaction converts);
- nothing fetched: ``offline=True`` (a registered schema refers only to its own ``$defs`` anyway);
- patterns by the library's engine (Rust's ``regex``, ``fancy-regex`` for look-around and back-references;
  ECMA-262's reading: ``$`` is the end, ``\\d`` ASCII digits), each match at most ``BACKTRACK_LIMIT``
  backtracking steps (under a millisecond): beyond it the event is refused, never the container stalled.

:meth:`CompiledSchema.check` answers an event's fields as they are stored, or every problem, each naming
its field as a JSON pointer (``messages.py``). For a type, the lake's own checks follow (``lake_fit.py``);
a track plan's ``properties`` stays JSON text, so only the schema applies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from event_collector.schemas.fields import Field, event_fields
from event_collector.schemas.formats import date_time_millis
from event_collector.schemas.lake_fit import fitted, may_not_fit, unsafe_values
from event_collector.schemas.messages import error_messages
from event_collector.schemas.registry import RegisteredSchema

BACKTRACK_LIMIT = 10_000
MAX_COMPILED = 1_000  # schema versions kept per container, least recently used dropped first
MAX_MESSAGES = 20  # problems named per event; a broken client's event would otherwise list hundreds


class SchemaNotCompiled(ValueError):
    """The library refused the schema (a pattern its engine cannot compile, for one): every event of it is
    refused with this message, and registration refuses such a schema first (:func:`compile_problems`)."""


def is_date_time(text: str) -> bool:
    return date_time_millis(text) is not None


def _validator(document: Mapping[str, Any]) -> Any:
    import jsonschema_rs  # here: only with a container's first custom event (docs/decisions.md)

    try:
        return jsonschema_rs.Draft202012Validator(
            dict(document),
            validate_formats=True,
            formats={"date-time": is_date_time},
            offline=True,
            pattern_options=jsonschema_rs.FancyRegexOptions(backtrack_limit=BACKTRACK_LIMIT),
        )
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as error:
        message = str(getattr(error, "message", error)).split("\n", 1)[0]
        raise SchemaNotCompiled(f"the schema does not compile: {message}") from None


def compile_problems(document: Mapping[str, Any]) -> list[str]:
    """Why the validator cannot take ``document`` (empty if it can): registration's last check, after the
    document's own rules (``document.py``), since a pattern Python compiles may not compile here."""
    try:
        _validator(document)
    except SchemaNotCompiled as error:
        return [str(error)]
    return []


@dataclass(frozen=True)
class CompiledSchema:
    schema: RegisteredSchema
    validator: Any  # jsonschema_rs.Validator
    fields: tuple[Field, ...]  # a type's; () for a track plan, whose properties stay JSON text
    fitting: tuple[Field, ...] = ()  # the fields whose values may not fit their columns as sent (lake_fit.py)

    def check(self, values: Mapping[str, Any], prefix: str = "") -> Mapping[str, Any] | list[str]:
        """``values`` as the lake stores them (an integer spelled ``1.0`` in a bigint field as the integer),
        or the problems; ``prefix``: where ``values`` is in the event (``/properties``)."""
        problems = unsafe_values(values, prefix)
        if problems:
            return problems[:MAX_MESSAGES]
        if not self.validator.is_valid(values):
            found: list[str] = []
            for error in self.validator.iter_errors(values):
                found += error_messages(error, prefix)
                if len(found) >= MAX_MESSAGES:
                    break
            return found[:MAX_MESSAGES]
        changed = fitted(self.fitting, values, problems)
        if problems:
            return problems[:MAX_MESSAGES]
        return {**values, **changed} if changed else values


_compiled: OrderedDict[tuple[str, str, str, int], CompiledSchema | SchemaNotCompiled] = OrderedDict()
_lock = threading.Lock()


def compiled(schema: RegisteredSchema) -> CompiledSchema:
    """``schema`` compiled, once per container; :class:`SchemaNotCompiled` (kept as well) if it cannot be."""
    key = (schema.tenant, schema.kind, schema.name, schema.version)
    with _lock:
        found = _compiled.get(key)
        if found is not None:
            _compiled.move_to_end(key)
    if found is None:
        found = _compile(schema)
        with _lock:
            _compiled[key] = found
            while len(_compiled) > MAX_COMPILED:
                _compiled.popitem(last=False)
    if isinstance(found, SchemaNotCompiled):
        raise SchemaNotCompiled(str(found))
    return found


def _compile(schema: RegisteredSchema) -> CompiledSchema | SchemaNotCompiled:
    try:
        fields = event_fields(schema.document) if schema.kind == "type" else ()
        fitting = tuple(field for field in fields if may_not_fit(field.shape))
        return CompiledSchema(schema, _validator(schema.document), fields, fitting)
    except SchemaNotCompiled as error:
        return error
    except ValueError as error:  # fields.InvalidSchema: stored without the registry's checks
        return SchemaNotCompiled(f"the schema is not one the collector takes: {error}")


def forget_compiled() -> None:
    """Drop every compiled schema (tests)."""
    with _lock:
        _compiled.clear()
