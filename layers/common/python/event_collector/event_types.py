"""The registered event types and the field each one is counted by.

Kept free of pydantic so the fan-out can count without importing the models
(a test checks this table against the models).
"""

from __future__ import annotations

# event_type -> the fields the type declares besides event_id, event_type and timestamp (all text).
DECLARED_FIELDS: dict[str, tuple[str, ...]] = {
    "page_view": ("ipaddress", "referral_url", "session_id", "url", "useragent"),
    "button_click": ("button_id", "session_id"),
    "track": ("name", "properties"),
}

# event_type -> the field whose value is the counter key (a URL, a button id, a track name).
COUNTER_FIELDS: dict[str, str] = {
    "page_view": "url",
    "button_click": "button_id",
    "track": "name",
}

# The timestamps the API accepts (client clocks outside are errors, not data).
EARLIEST_TIMESTAMP_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
LATEST_TIMESTAMP_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
