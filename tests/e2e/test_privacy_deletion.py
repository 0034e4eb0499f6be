"""Issue 22's deletion end to end, over HTTP against the local mode (``make local``'s stack).

Two users of one tenant send events through our route (``POST /v1/events``) and Segment's
(``POST /v1/batch``), one of them also with their id as a counter key (a page URL) and in a raw line the
fan-out quarantines; the stack compacts. One user's deletion is requested; the next compaction run applies
it. Then no byte of that user's id is left in any object of any bucket (every version, GZIP decompressed,
Parquet read back as text) nor in any table, and every row of the other user is still there.

The deletion is asked with the admin CLI as an operator would (``event-collector-admin --local
delete-user``); the suppression that follows through ``POST /v1/regulations``, as a tenant's backend would.
Then the user sends again, resends of the deleted events included: nothing of theirs is stored.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from event_collector.aws.regulations_table import RegulationsTable
from event_collector.privacy.regulations import Regulation, subject_digest
from event_collector_cli.compacted import read_compacted
from tests.e2e.test_exact_data_http import post, settle
from tests.local.conftest import RunningStack, start_stack, stop_stack

RUN = uuid.uuid4().hex[:10]
USER = f"u-del-{RUN}"  # no other byte sequence in the stack could hold these by chance
OTHER = f"u-keep-{RUN}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("privacy"))
    yield running
    stop_stack(running)


def ours(user: str) -> list[dict[str, Any]]:
    return [
        {"event_type": "track", "event_id": f"{user}-t", "name": "Signed Up", "user_id": user, "properties": {"a": 1}},
        {
            "event_type": "page_view",
            "event_id": f"{user}-p",
            "url": f"https://shop.example/{RUN}",
            "session_id": f"s-{user}",
            "user_id": user,
            "anonymous_id": f"anon-{user}",
        },
        # A client that put the user's id in a counter key (the URL): a counter named by it exists.
        {"event_type": "page_view", "event_id": f"{user}-k", "url": user, "session_id": "s", "user_id": user},
        {"event_type": "button_click", "event_id": f"{user}-b", "button_id": "buy", "session_id": "s", "user_id": user},
    ]


def segments(user: str) -> list[dict[str, Any]]:
    return [
        {"type": "track", "messageId": f"{user}-st", "event": "Order Completed", "userId": user, "properties": {}},
        {"type": "page", "messageId": f"{user}-sp", "name": "Home", "userId": user, "anonymousId": f"anon-{user}"},
        {"type": "identify", "messageId": f"{user}-si", "userId": user, "traits": {"email": f"{user}@example.com"}},
        {"type": "alias", "messageId": f"{user}-sa", "userId": user, "previousId": f"anon-{user}"},
    ]


def sent_ids(user: str) -> set[str]:
    return {event["event_id"] for event in ours(user)} | {message["messageId"] for message in segments(user)}


def quarantined_line(stack: RunningStack, user: str) -> None:
    """A raw object as Firehose would deliver it, with a line the fan-out cannot place (no event_id)."""
    tenant = stack.info["tenant"]
    line = {"tenant": tenant, "event_type": "track", "received_at": int(time.time() * 1000), "user_id": user}
    now = time.gmtime()
    key = f"raw/{time.strftime('%Y/%m/%d/%H', now)}/manual-{user}"
    stack.aws("s3").put_object(Bucket=stack.info["raw_bucket"], Key=key, Body=gzip.compress(json.dumps(line).encode()))


def ask_deletion(stack: RunningStack, user: str) -> Regulation:
    """``event-collector-admin --local delete-user``, the installed command, against this stack's state."""
    tenant = stack.info["tenant"]
    command = [str(Path(sys.executable).parent / "event-collector-admin"), "--local", "delete-user", tenant]
    environment = {**os.environ, "LOCAL_STATE_DIR": str(stack.stack_file.parent)}
    done = subprocess.run([*command, "--user-id", user], capture_output=True, text=True, env=environment, timeout=60)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert user not in done.stdout + done.stderr  # the digest, never the id
    assert (printed["type"], printed["status"], printed["new"]) == ("delete", "received", True)
    stored = RegulationsTable(stack.aws("dynamodb"), stack.info["regulations_table"]).get(tenant, printed["id"])
    assert stored is not None
    assert stored.subject == subject_digest(tenant, "user_id", user)
    return stored


def readable(body: bytes) -> bytes:
    """An object's bytes as any reader could get at them: GZIP decompressed, Parquet decoded to text."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    if body[:4] == b"PAR1":
        return body + json.dumps(pq.ParquetFile(io.BytesIO(body)).read().to_pylist()).encode()
    return body


def holding(stack: RunningStack, value: str) -> list[str]:
    """Every object version of every bucket, and every item of every table, holding ``value``."""
    s3, dynamodb, found = stack.aws("s3"), stack.aws("dynamodb"), []
    needle = value.encode()
    for bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for version in page.get("Versions", []):
                body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
                if needle in readable(body) or needle in body:
                    found.append(f"s3://{bucket}/{version['Key']}?versionId={version['VersionId']}")
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            found += [f"{table}: {item['pk']}" for item in page["Items"] if value in json.dumps(item)]
    return found


def test_given_two_users_compacted_when_one_is_deleted_and_compacted_again_then_no_byte_of_their_id_is_left(stack):
    for user in (USER, OTHER):
        status, answer = post(stack, "/v1/events", json.dumps({"events": ours(user)}).encode())
        assert (status, answer["rejected"]) == (200, []), answer
        status, answer = post(stack, "/v1/batch", json.dumps({"batch": segments(user)}).encode())
        assert (status, answer["rejected"]) == (200, []), answer
        quarantined_line(stack, user)
    settle(stack)
    rows = read_compacted(stack.aws("s3"), stack.info["lake_bucket"])
    assert {row["event_id"] for row in rows} >= sent_ids(USER) | sent_ids(OTHER)
    assert len(holding(stack, USER)) >= 10  # raw, events/, compacted, quarantine, the counter keyed by the id
    other_rows = sorted(json.dumps(row, sort_keys=True) for row in rows if row["event_id"] in sent_ids(OTHER))
    regulation = ask_deletion(stack, USER)

    report = settle(stack)
    stack.drain()  # the rewritten raw objects' own notifications: the fan-out must skip them

    assert (report["regulations_applied"], report["regulations_failed"]) == (1, 0), report
    assert holding(stack, USER) == []
    rows = read_compacted(stack.aws("s3"), stack.info["lake_bucket"])
    assert {row["event_id"] for row in rows} & sent_ids(USER) == set()
    assert sorted(json.dumps(row, sort_keys=True) for row in rows if row["event_id"] in sent_ids(OTHER)) == other_rows
    assert len(holding(stack, OTHER)) >= 10
    applied = RegulationsTable(stack.aws("dynamodb"), stack.info["regulations_table"]).get(
        regulation.tenant, regulation.id
    )
    assert applied is not None
    assert applied.status == "applied"
    assert applied.removed["compacted/page_view"] == 3  # two of ours and Segment's page
    assert (applied.removed["raw"], applied.removed["quarantine"], applied.removed["counters"]) == (9, 1, 1)
    assert USER not in json.dumps(report)


def test_given_the_deleted_user_suppressed_when_they_send_again_then_nothing_of_theirs_is_stored(stack):
    """After the test above: the user is suppressed, then sends again on both routes, resends of their
    deleted events included; answered as accepted and suppressed, and not a byte stored or counted."""
    status, asked = post(stack, "/v1/regulations", json.dumps({"type": "suppress", "user_id": USER}).encode())
    assert (status, asked["status"]) == (202, "received")
    counted_before = stack.request("GET", f"/v1/counts?event_type=page_view&key={USER}", auth=stack.demo_auth()).json()

    sent = [
        post(stack, "/v1/events", json.dumps({"events": ours(USER)}).encode()),
        post(stack, "/v1/batch", json.dumps({"batch": segments(USER)}).encode()),
        post(stack, "/v1/events", json.dumps({"events": [{**ours(USER)[0], "event_id": f"{USER}-new"}]}).encode()),
    ]
    stack.drain()

    assert [(status, answer["accepted"], answer.get("suppressed")) for status, answer in sent] == [
        (200, 4, 4),
        (200, 4, 4),
        (200, 1, 1),
    ]
    assert holding(stack, USER) == []
    assert (
        stack.request("GET", f"/v1/counts?event_type=page_view&key={USER}", auth=stack.demo_auth()).json()
        == counted_before
    )

    report = settle(stack)  # its sweep waits SuppressionCacheSeconds after the request (docs/privacy.md)

    assert report["regulations_failed"] == 0, report
    assert holding(stack, USER) == []
    assert {row["event_id"] for row in read_compacted(stack.aws("s3"), stack.info["lake_bucket"])} >= sent_ids(OTHER)
