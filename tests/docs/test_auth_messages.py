"""docs/authentication.md's table "What a wrong credential is told": each row's credential, sent to the
collector's own check (auth/access.py, what the send routes run), gets the row's status and message."""

from __future__ import annotations

import base64
import re

import pytest

from event_collector.auth.access import SendAccess
from event_collector.auth.keys import issue_key
from event_collector.errors import ClientInputError
from event_collector.tenants.admin import TenantAdmin
from tests.fakes.keys import MemoryKeyStore
from tools.template import ROOT

DOC = ROOT / "docs" / "authentication.md"
NOW = 1_780_000_000


def documented_rows() -> list[tuple[str, int, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## What a wrong credential is told", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (no header|`[^`]*`) \| (\d{3}) \| (.+) \|$", section, flags=re.M)
    return [(sent.strip("`"), int(status), message) for sent, status, message in rows]


ROWS = documented_rows()


def test_the_table_covers_every_shape_the_issue_named():
    sent = [row[0] for row in ROWS]

    assert {"no header", "hunter2:", "<key cut short>:", "<unissued key>:", ":", ":<key>", "acme:hunter2"} <= set(sent)


@pytest.mark.parametrize(("sent", "status", "message"), ROWS, ids=[row[0] for row in ROWS])
def test_given_a_documented_credential_when_sent_then_the_documented_status_and_message_answer(sent, status, message):
    store = MemoryKeyStore()
    admin = TenantAdmin(store, clock=lambda: NOW)
    admin.create_tenant("acme")
    key = admin.issue_key("acme").api_key
    values = {"<key cut short>": key[:-1], "<unissued key>": issue_key().api_key, "<key>": key}
    credential = sent
    for placeholder, value in values.items():
        credential = credential.replace(placeholder, value)
    headers = [] if sent == "no header" else ["Basic " + base64.b64encode(credential.encode()).decode()]

    with pytest.raises(ClientInputError) as refused:
        SendAccess(store, ttl_seconds=0, clock=lambda: NOW).admit(headers, None, None)

    assert (refused.value.status, refused.value.message) == (status, message)
