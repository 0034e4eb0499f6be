"""A new version of a tenant's schema: accepted with its version number, or refused with the reasons.

The stored events of a type keep the columns their version gave them, and a reader of the lake gets
every accepted value back (docs/guarantees.md); so a new version may only add to what the last one
declared (docs/schemas.md, "Design"):

- adding an optional field is accepted, at the top or inside a struct (a closed object);
- removing a field is refused: the events already stored have it;
- changing a field's kind is refused (``fields.Shape``: string, bigint, double, boolean, timestamp,
  json, struct, array), and so is widening ``integer`` to ``number``: Athena reads older Parquet as a
  newer column type only for the pairs it lists, and bigint to double is not one of them, nor does a
  double hold every bigint exactly. Closing or opening a nested object changes its kind (struct or
  JSON text) too;
- making an optional field required, adding a required field, or refusing null where null was taken
  is refused: events already stored lack it or hold null;
- anything else (constraints such as ``minimum``, ``enum``, ``pattern``; descriptions; opening or
  closing the top level, whose undeclared fields go to ``extra`` either way) is accepted: it changes
  what is valid from now on, not the columns.

What is refused "needs an explicit new type": a new optional field, or a new event type. A proposal
identical to the latest version is accepted as that version (putting the same schema twice is harmless).
Refusals are values (:class:`Refused`), never exceptions; each problem names the field by its JSON
pointer into an event (``/order/total``; ``-`` for every item of an array).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from event_collector.json_values import canonical_json
from event_collector.schemas.document import SchemaProblem
from event_collector.schemas.fields import Field, Shape, event_fields, read_schema

_NEW_TYPE = "add a new optional field instead, or register a new event type"
_KEEP = "keep it (it may become optional), or register a new event type"
_NEW_REQUIRED = (
    "a new field must be optional, since the events already stored lack it: leave it out of required, "
    "or register a new event type"
)


@dataclass(frozen=True)
class SchemaVersion:
    """A stored version of a tenant's schema for one event type."""

    version: int
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Accepted:
    version: int  # the proposal's version: the latest's plus one, 1 for a first one, or the latest's if unchanged
    unchanged: bool  # identical to the latest version: nothing to store
    added: tuple[str, ...]  # the fields it adds, as JSON pointers into an event (every field for a first version)


@dataclass(frozen=True)
class Refused:
    problems: tuple[SchemaProblem, ...]

    @property
    def messages(self) -> list[str]:
        return [str(problem) for problem in self.problems]


Decision = Accepted | Refused


def decide(proposed: Any, latest: SchemaVersion | None) -> Decision:
    """Accept ``proposed`` as the type's next version after ``latest`` (None: the type has none yet), or
    refuse it. ``latest`` was accepted before: a stored schema these rules refuse raises ``ValueError``."""
    reading = read_schema(proposed)
    if reading.problems:
        return Refused(reading.problems)
    if latest is None:
        return Accepted(version=1, unchanged=False, added=tuple(_pointers(reading.fields)))
    if latest.version < 1:
        raise ValueError(f"a stored version is 1 or more, not {latest.version}")
    if canonical_json(proposed) == canonical_json(latest.schema):
        return Accepted(version=latest.version, unchanged=True, added=())
    stored = event_fields(latest.schema)
    problems = tuple(compatibility_problems(stored, reading.fields))
    if problems:
        return Refused(problems)
    return Accepted(version=latest.version + 1, unchanged=False, added=tuple(added_fields(stored, reading.fields)))


def compatibility_problems(older: Sequence[Field], newer: Sequence[Field]) -> Iterator[SchemaProblem]:
    """Why ``newer`` fields cannot follow ``older`` ones (nothing if they can)."""
    by_name = {field.name: field for field in newer}
    for old in older:
        new = by_name.get(old.name)
        if new is None:
            yield SchemaProblem(old.location, f"removed: the events already stored have it; {_KEEP}", old.pointer)
        else:
            yield from _field_problems(old, new)
    known = {field.name for field in older}
    for new in newer:
        if new.name not in known and new.required:
            yield SchemaProblem(new.location, _NEW_REQUIRED, new.pointer)


def _field_problems(old: Field, new: Field) -> Iterator[SchemaProblem]:
    became_required = new.required and not old.required
    if became_required:
        yield SchemaProblem(
            new.location, "was optional, now required: events already stored may lack it; " + _NEW_TYPE, new.pointer
        )
    # Once reported as now required, the field is not reported again for refusing null.
    yield from _shape_problems(old.shape, new.shape, old.nullable, new.nullable or became_required, new)


def _shape_problems(
    old: Shape, new: Shape, old_nullable: bool, new_nullable: bool, where: Field, pointer: str | None = None
) -> Iterator[SchemaProblem]:
    pointer = where.pointer if pointer is None else pointer
    if old.kind != new.kind:
        yield SchemaProblem(where.location, _retyped(old, new), pointer)
        return
    if old_nullable and not new_nullable:
        yield SchemaProblem(
            where.location, "took null, now refuses it: events already stored hold null; " + _NEW_TYPE, pointer
        )
    if old.kind == "struct":
        yield from compatibility_problems(old.fields, new.fields)
    elif old.kind == "array" and old.item is not None and new.item is not None:
        yield from _shape_problems(old.item, new.item, old.item.nullable, new.item.nullable, where, f"{pointer}/-")


def _retyped(old: Shape, new: Shape) -> str:
    if (old.kind, new.kind) == ("bigint", "double"):
        reason = (
            "widening integer to number is refused too (the lake keeps stored integers as bigint, which Athena "
            "does not read as double)"
        )
    else:
        reason = "a field's type never changes, since the events already stored hold the old one"
    return f"was {old.describe()}, now {new.describe()}: {reason}; {_NEW_TYPE}"


def added_fields(older: Sequence[Field], newer: Sequence[Field]) -> Iterator[str]:
    """The JSON pointers of the fields ``newer`` declares that ``older`` does not, at every depth."""
    by_name = {field.name: field for field in older}
    for new in newer:
        old = by_name.get(new.name)
        if old is None:
            yield from _pointers([new])
        else:
            old_shape, new_shape = old.shape, new.shape
            while old_shape.kind == new_shape.kind == "array" and old_shape.item and new_shape.item:
                old_shape, new_shape = old_shape.item, new_shape.item
            if old_shape.kind == new_shape.kind == "struct":
                yield from added_fields(old_shape.fields, new_shape.fields)


def _pointers(fields: Sequence[Field]) -> Iterator[str]:
    for field in fields:
        yield field.pointer
        shape = field.shape
        while shape.kind == "array" and shape.item is not None:
            shape = shape.item
        yield from _pointers(shape.fields)
