"""The registered event types, the fields each one stores, and the field each one is counted by.

Kept free of pydantic so the fan-out can count without importing the models
(tests check this table against the models and the Segment mapping).
"""

from __future__ import annotations

# Who did it and where (our own SDKs and Segment's messages); every type may carry them.
COMMON_FIELDS: tuple[str, ...] = ("anonymous_id", "context", "user_id")
# Only from Segment's HTTP Tracking API (ingest/segment.py): its ``integrations`` object and any top-level
# field Segment's libraries add that has no column of its own, kept whole in ``extra``.
SEGMENT_FIELDS: tuple[str, ...] = ("extra", "integrations")

# event_type -> the fields the type declares besides event_id, event_type and timestamp (all text).
DECLARED_FIELDS: dict[str, tuple[str, ...]] = {
    "page_view": (
        "category",
        "ipaddress",
        "name",
        "properties",
        "referral_url",
        "session_id",
        "url",
        "useragent",
        *COMMON_FIELDS,
        *SEGMENT_FIELDS,
    ),
    "button_click": ("button_id", "session_id", *COMMON_FIELDS),
    "track": ("name", "properties", *COMMON_FIELDS, *SEGMENT_FIELDS),
    "screen": ("category", "name", "properties", *COMMON_FIELDS, *SEGMENT_FIELDS),
    "identify": ("traits", *COMMON_FIELDS, *SEGMENT_FIELDS),
    "group": ("group_id", "traits", *COMMON_FIELDS, *SEGMENT_FIELDS),
    "alias": ("previous_id", *COMMON_FIELDS, *SEGMENT_FIELDS),
}

# event_type -> the field whose value is the counter key (a URL, a button id, a name). A type without
# one (identify, alias) is counted in its total only.
COUNTER_FIELDS: dict[str, str] = {
    "page_view": "url",
    "button_click": "button_id",
    "track": "name",
    "screen": "name",
    "group": "group_id",
}

# The timestamps the API accepts (client clocks outside are errors, not data).
EARLIEST_TIMESTAMP_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
LATEST_TIMESTAMP_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
