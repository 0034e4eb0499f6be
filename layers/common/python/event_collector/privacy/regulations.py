"""Privacy regulations: a tenant's requests to delete a user's events or to stop collecting them
(docs/privacy.md). This module is the contract every part of the feature shares.

A user is named by a **selector** (``user_id`` or ``anonymous_id``) and a value. The value itself is never
stored, logged or reported anywhere: requests, suppressions, reports and logs keep its **subject**, a
SHA-256 digest over the tenant, the selector and the value; the parts that look for the user's events
digest each event's own values the same way and compare.

Which stored fields a selector matches (``MATCHED_FIELDS``): a user id is the events' ``user_id`` (ours,
and Segment's ``userId``) and an alias's ``previous_id`` (Segment's ``previousId``); an anonymous id is
``anonymous_id`` (Segment's ``anonymousId``) and an alias's ``previous_id``.

Kinds:

- ``delete``: every copy of the user's events received up to the request (``requested_at``) is removed
  from every prefix and table by the next compaction run;
- ``suppress``: from its acknowledgment, new events of the user are not stored (the collector drops them,
  its cache at most ``SUPPRESSION_CACHE_SECONDS`` stale; what got through in those seconds is removed like a
  deletion of the events received since ``requested_at``);
- ``unsuppress``: ends a suppression (events already removed stay removed).

A request's id is derived from what it asks (tenant, kind, selector, subject), so asking again is
idempotent: the same request, not a second one (a deletion asked again after it was applied is applied
again, to whatever arrived since).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

Selector = Literal["user_id", "anonymous_id"]
Kind = Literal["delete", "suppress", "unsuppress"]
Status = Literal["received", "applying", "applied"]

SELECTORS: tuple[Selector, ...] = ("user_id", "anonymous_id")
KINDS: tuple[Kind, ...] = ("delete", "suppress", "unsuppress")
MATCHED_FIELDS: dict[Selector, tuple[str, ...]] = {
    "user_id": ("user_id", "previous_id"),
    "anonymous_id": ("anonymous_id", "previous_id"),
}
SUPPRESSION_CACHE_SECONDS = 60  # how stale the collector's view of a tenant's suppressions may be


def subject_digest(tenant: str, selector: Selector, value: str) -> str:
    """What is kept of a user's id: hex SHA-256 over the tenant, the selector and the value."""
    material = "\x00".join((tenant, selector, value)).encode("utf-8", errors="surrogatepass")
    return hashlib.sha256(material).hexdigest()


def request_id(tenant: str, kind: Kind, selector: Selector, subject: str) -> str:
    """The id of a request: the same for the same request, so asking again is idempotent."""
    return "reg-" + hashlib.sha256("\x00".join((tenant, kind, selector, subject)).encode()).hexdigest()[:24]


def event_subjects(tenant: str, record: Mapping[str, object]) -> set[tuple[Selector, str]]:
    """Every (selector, subject) a stored event (a lake line or a compacted row) belongs to."""
    found: set[tuple[Selector, str]] = set()
    for selector, names in MATCHED_FIELDS.items():
        for name in names:
            value = record.get(name)
            if isinstance(value, str) and value:
                found.add((selector, subject_digest(tenant, selector, value)))
    return found


@dataclass(frozen=True)
class Regulation:
    id: str
    tenant: str
    kind: Kind
    selector: Selector
    subject: str  # subject_digest of the user's id: never the id
    requested_at: int  # epoch milliseconds, the server's clock when the request was acknowledged
    status: Status = "received"
    applied_at: int | None = None  # epoch milliseconds
    removed: dict[str, int] = field(default_factory=dict)  # table or prefix -> events (or lines) removed
    source: Literal["cli", "api"] = "cli"


@dataclass(frozen=True)
class Suppression:
    tenant: str
    selector: Selector
    subject: str
    since: int  # epoch milliseconds: events received from then on are not kept
    request: str  # the id of the suppress request


class RegulationStore(Protocol):
    """The regulations table (aws/regulations_table.py): requests and active suppressions, per tenant."""

    def put_request(self, regulation: Regulation) -> Regulation:
        """Store a request, idempotently: the stored one if it exists, unless asking again renews it
        (privacy/renewal.py: a delete already applied, a suppress after an unsuppress ended it, an unsuppress
        after a suppress began again), then the renewed one. A ``suppress`` also records the Suppression, an
        ``unsuppress`` removes it, in the same call."""
        ...

    def get(self, tenant: str, regulation_id: str) -> Regulation | None: ...

    def requests(self, tenant: str) -> list[Regulation]:
        """Every request of the tenant, newest first."""
        ...

    def suppressions(self, tenant: str) -> list[Suppression]:
        """The tenant's active suppressions (what the collector caches)."""
        ...

    def pending(self) -> list[Regulation]:
        """Every request of every tenant not yet ``applied`` (deletions and suppressions to sweep)."""
        ...

    def mark(self, regulation: Regulation, status: Status, removed: Mapping[str, int], at: int) -> None:
        """Record a request's progress: ``applying`` before its first rewrite, ``applied`` with what it removed.
        Nothing changes if the request was asked anew since ``regulation`` was read (another ``requested_at``):
        the newer one stays to be applied. An unknown request raises StorageError."""
        ...
