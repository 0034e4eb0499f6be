"""Every value the edge accepts for a tenant's own type comes back from its typed Parquet, exactly.

Property-based, through the code that deploys: ``validate_batch`` with the tenant's schema (jsonschema-rs, the
lake's checks, the stored line), then the Lambda engine (``compact_streams`` with the type's typed table), then
the Parquet file read back. Each kind's reading is the one docs/schemas.md promises: text unchanged, integers
exact, numbers the double JSON parsing gives, booleans, date-times as the UTC instant to the millisecond
(digits below dropped toward the past), structs and arrays of them field by field, open values as their
canonical JSON text, undeclared fields of an open top level in ``extra``.
"""

from __future__ import annotations

import gzip
import io
import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_collector.compaction.engine import compact_streams
from event_collector.compaction.typed import typed_table
from event_collector.ingest.validation import validate_batch
from event_collector.json_values import canonical_json
from event_collector.schemas.cache import SchemaCache
from event_collector.schemas.registry import RegisteredSchema
from tests.fakes.schemas import MemorySchemas

RECEIVED = 1_795_000_000_000
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "label": {"type": "string"},
        "count": {"type": "integer"},
        "amount": {"type": "number"},
        "flag": {"type": "boolean"},
        "at": {"type": "string", "format": "date-time"},
        "place": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "floor": {"type": "integer"},
                "since": {"type": "string", "format": "date-time"},
            },
            "additionalProperties": False,
        },
        "sizes": {"type": "array", "items": {"type": "integer"}},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "price": {"type": "number"}},
                "required": ["sku"],
                "additionalProperties": False,
            },
        },
        "anything": {},
    },
}
TYPE = RegisteredSchema("acme", "type", "thing_done", 1, SCHEMA, 0)

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
exact_double = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**53), max_value=2**53),
)
instant = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
offset_minutes = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59)
fraction = st.integers(min_value=0, max_value=9)
json_leaf = st.one_of(st.none(), st.booleans(), int64, st.floats(allow_nan=False, allow_infinity=False), text)
name = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20)  # 1-128, as every type's
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(name, inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def date_times(draw: st.DrawFn) -> tuple[str, datetime]:
    """An RFC 3339 date-time as a client may write it, and the instant the column must hold."""
    moment = draw(instant)
    minutes = draw(offset_minutes)
    digits = draw(fraction)
    micro = draw(st.integers(min_value=0, max_value=999_999))
    moment = moment.replace(microsecond=micro)
    local = moment + timedelta(minutes=minutes)
    if not datetime(1, 1, 1, tzinfo=UTC) < local < datetime(9999, 12, 31, tzinfo=UTC):
        local, minutes = moment, 0
    sign = "+" if minutes >= 0 else "-"
    zone = "Z" if minutes == 0 and draw(st.booleans()) else f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    written = f"{local.year:04d}-{local:%m-%dT%H:%M:%S}" + (f".{micro:06d}000"[: 1 + digits] if digits else "") + zone
    kept = moment.replace(microsecond=(micro // 10 ** max(0, 6 - digits)) * 10 ** max(0, 6 - digits) if digits else 0)
    return written, kept.replace(microsecond=kept.microsecond // 1000 * 1000)


@st.composite
def events(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """An event as sent, and each column as the typed table must hold it."""
    sent: dict[str, Any] = {}
    expected: dict[str, Any] = {}
    for name, strategy in (("label", text), ("count", int64), ("amount", exact_double), ("flag", st.booleans())):
        if draw(st.booleans()):
            value = draw(strategy)
            sent[name] = value
            expected[name] = float(value) if name == "amount" else value
    if draw(st.booleans()):
        written, kept = draw(date_times())
        sent["at"], expected["at"] = written, kept
    if draw(st.booleans()):
        place: dict[str, Any] = {}
        held: dict[str, Any] = {"city": None, "floor": None, "since": None}
        if draw(st.booleans()):
            place["city"] = held["city"] = draw(text)
        if draw(st.booleans()):
            place["floor"] = held["floor"] = draw(int64)
        if draw(st.booleans()):
            place["since"], held["since"] = draw(date_times())
        sent["place"], expected["place"] = place, held
    if draw(st.booleans()):
        sent["sizes"] = expected["sizes"] = draw(st.lists(int64, max_size=4))
    if draw(st.booleans()):
        lines = draw(st.lists(st.tuples(text, st.one_of(st.none(), exact_double)), max_size=3))
        sent["lines"] = [{"sku": sku, **({} if price is None else {"price": price})} for sku, price in lines]
        expected["lines"] = [{"sku": sku, "price": None if price is None else float(price)} for sku, price in lines]
    if draw(st.booleans()):
        anything = draw(json_value)
        sent["anything"] = anything
        if anything is not None:
            expected["anything"] = canonical_json(anything)
    undeclared = draw(st.dictionaries(st.from_regex(r"x_[a-z]{1,5}", fullmatch=True), json_value, max_size=2))
    sent.update(undeclared)
    if undeclared:
        expected["extra"] = canonical_json(undeclared)
    return sent, expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(events(), min_size=1, max_size=8))
def test_given_accepted_custom_events_when_compacted_then_each_typed_value_is_exact(tmp_path: Path, batch):
    registry = MemorySchemas()
    registry.put_version(TYPE)
    lookup = SchemaCache(registry, 60, clock=lambda: 0.0).for_request("acme")
    sent = [{"event_type": "thing_done", "event_id": f"e-{index}", **event} for index, (event, _) in enumerate(batch)]

    validated = validate_batch(sent, tenant="acme", received_at=RECEIVED, request_id="r", schemas=lookup)

    assert validated.rejected == [], validated.rejected
    data = gzip.compress(b"".join(event.line for event in validated.accepted))
    work = tempfile.mkdtemp(dir=tmp_path)  # one per example: hypothesis runs them all in one test
    outputs, _ = compact_streams(
        [io.BytesIO(data)], [], input_bytes=len(data), work_dir=work, typed={"thing_done": typed_table(TYPE)}
    )
    ((_, paths),) = [(key, paths) for key, paths in outputs.data.items() if key[0] == "thing_done"]
    rows = {row["event_id"]: row for path in paths for row in pq.ParquetFile(path).read().to_pylist()}
    for index, (_, expected) in enumerate(batch):
        row = rows[f"e-{index}"]
        assert row["schema_version"] == 1
        for name in ("label", "count", "amount", "flag", "at", "place", "sizes", "lines", "anything", "extra"):
            want, got = expected.get(name), row[name]
            if isinstance(want, float) and isinstance(got, float):
                assert want == got, (name, want, got)
                assert math.copysign(1, want) == math.copysign(1, got), (name, want, got)  # -0.0 stays -0.0
            else:
                assert got == want, (name, want, got)
