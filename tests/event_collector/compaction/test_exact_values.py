"""Property: whatever the API accepted comes back from the compacted Parquet tables exactly.

Arbitrary accepted events (every number: 64-bit integers, floats at both ends
of the range, subnormals, -0.0; every string: control characters, every
Unicode plane; any nesting the API allows) go through the real collector
handler, Firehose (moto), the fan-out and Compact, and are read back from the
Parquet files. Nested values must be byte-identical once re-serialized
canonically; text columns must be identical strings.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_collector.aws.compaction_state import CompactionStateTable
from event_collector.aws.glue import GlueCatalog
from event_collector.aws.s3 import S3ObjectStore
from event_collector.compaction.compact import Compaction, compact_tenant
from event_collector.compaction.contracts import CompactRequest
from event_collector.json_values import INT64_MAX, INT64_MIN, MAX_NESTING_DEPTH, canonical_json
from event_collector.lake.layout import compacted_type_prefix, run_item_key
from event_collector_cli.compacted import read_compacted
from tests.conftest import LAKE_BUCKET, api_request, call

# Text the API takes in typed fields: printable (no C0/C1 controls, no line or paragraph separators).
PRINTABLE = st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"])
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)  # property values: anything valid
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=INT64_MIN, max_value=INT64_MAX),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 0.1, 1e16]),
    ANY_TEXT,
)
KEYS = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)),
    max_leaves=12,
)
PROPERTIES = st.dictionaries(KEYS, VALUES, max_size=6)
EVENTS = st.lists(
    st.fixed_dictionaries({"name": st.text(PRINTABLE, min_size=1, max_size=60), "properties": PROPERTIES}),
    min_size=1,
    max_size=4,
)


def depth(value: object, level: int = 0) -> int:
    if isinstance(value, dict):
        return max([level, *(depth(v, level + 1) for v in value.values())])
    if isinstance(value, list):
        return max([level, *(depth(v, level + 1) for v in value)])
    return level


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=EVENTS)
def test_given_any_accepted_event_when_compacted_then_every_value_comes_back_exactly(
    collector, aws, lambda_context, batch
):
    run = uuid.uuid4().hex[:12]
    events = [
        {"event_type": "track", "event_id": f"{run}-{n}", **event}
        for n, event in enumerate(batch)
        if depth(event["properties"]) < MAX_NESTING_DEPTH
    ]
    if not events:
        return
    body = json.dumps({"events": events}, ensure_ascii=False).encode()

    status, _, answer = call(collector, api_request("POST", "/v1/events", raw_body=body), lambda_context)
    assert status == 200, answer
    assert answer["accepted"] == len(events), answer
    aws.deliver()
    compaction = Compaction(
        lake_bucket=LAKE_BUCKET,
        store=S3ObjectStore(aws.s3),
        state=CompactionStateTable(aws.dynamodb, os.environ["COMPACTION_STATE_TABLE_NAME"]),
        catalog=GlueCatalog(aws.glue, os.environ["GLUE_DATABASE_NAME"]),
    )
    request = CompactRequest(item_key=run_item_key(run, "acme"), run_id=run, cutoff=datetime(2100, 1, 1, tzinfo=UTC))
    compact_tenant(request, compaction, datetime.now(UTC))

    rows = {row["event_id"]: row for row in read_compacted(aws.s3, LAKE_BUCKET, compacted_type_prefix("track"))}
    for event in events:
        row = rows[event["event_id"]]
        assert row["name"] == event["name"]
        assert row["properties"] == canonical_json(event["properties"])
        assert canonical_json(json.loads(row["properties"])) == canonical_json(event["properties"])
