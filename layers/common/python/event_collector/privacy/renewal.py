"""What storing a request does when it was asked before: the one rule the regulations table
(``aws/regulations_table.py``) and its in-memory fake share, so both keep the same record.

A request's id is derived from what it asks (``request_id``), so asking again finds the stored request:

- a ``delete`` still to be applied stands as it is; one already applied is asked anew (``received`` again,
  with the new ``requested_at``: the next run removes whatever arrived since);
- a ``suppress`` while the user is suppressed stands; after an ``unsuppress`` ended it, it is asked anew and
  the suppression starts again from the new ``requested_at``;
- an ``unsuppress`` while the user is not suppressed stands; after a ``suppress`` began again, it is asked
  anew and ends that suppression.

Asked anew, a request keeps what its earlier application removed (``removed``, ``applied_at``) until it is
applied again, and takes the new ask's ``requested_at``, ``status`` and ``source``.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from event_collector.privacy.regulations import Regulation

SuppressionChange = Literal["begin", "end"]


def renewal(stored: Regulation, asked: Regulation, *, suppressed: bool) -> Regulation | None:
    """The request to store when ``asked`` has the id of ``stored``, or None when ``stored`` stands.
    ``suppressed``: whether the user is suppressed now (an active Suppression for its selector and subject)."""
    if stored.kind == "delete" and stored.status != "applied":
        return None
    if stored.kind == "suppress" and suppressed:
        return None
    if stored.kind == "unsuppress" and not suppressed:
        return None
    applied_at = stored.applied_at if asked.applied_at is None else asked.applied_at
    return dataclasses.replace(
        stored, requested_at=asked.requested_at, status=asked.status, applied_at=applied_at, source=asked.source
    )


def suppression_change(regulation: Regulation) -> SuppressionChange | None:
    """What storing ``regulation`` (new, or asked anew) does to the user's suppression, in the same write."""
    if regulation.kind == "suppress":
        return "begin"
    if regulation.kind == "unsuppress":
        return "end"
    return None
