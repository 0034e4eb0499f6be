"""Typed configuration, read once from the environment the template sets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    """Names come from ``Globals.Function.Environment`` in template.yaml."""

    service_name: str = "event-collector"
    delivery_stream_name: str = "event-collector-raw"
    counters_table_name: str = "event-collector-counters"
    tenant_keys_table_name: str = "event-collector-tenant-keys"
    lake_bucket_name: str = "event-collector-lake"
    glue_database_name: str = "event_collector"
    compaction_state_table_name: str = "event-collector-compaction-state"
    compaction_grace_minutes: int = Field(default=20, ge=0, le=1440)
    max_partitions_per_run: int = Field(default=1000, ge=1, le=1500)
    compact_max_concurrency: int = Field(default=4, ge=1, le=40)
    # How long hourly counter buckets live before DynamoDB TTL removes them.
    hourly_counter_retention_days: int = Field(default=90, ge=1, le=3650)
    # Distinct counter keys per tenant, event type and hour; later new keys count as overflow.
    counter_keys_per_hour: int = Field(default=1000, ge=1, le=100_000)


_ENVIRONMENT_NAMES = {
    "service_name": "POWERTOOLS_SERVICE_NAME",
    "delivery_stream_name": "DELIVERY_STREAM_NAME",
    "counters_table_name": "COUNTERS_TABLE_NAME",
    "tenant_keys_table_name": "TENANT_KEYS_TABLE_NAME",
    "lake_bucket_name": "LAKE_BUCKET_NAME",
    "glue_database_name": "GLUE_DATABASE_NAME",
    "compaction_state_table_name": "COMPACTION_STATE_TABLE_NAME",
    "compaction_grace_minutes": "COMPACTION_GRACE_MINUTES",
    "max_partitions_per_run": "MAX_PARTITIONS_PER_RUN",
    "compact_max_concurrency": "COMPACT_MAX_CONCURRENCY",
    "hourly_counter_retention_days": "HOURLY_COUNTER_RETENTION_DAYS",
    "counter_keys_per_hour": "COUNTER_KEYS_PER_HOUR",
}


def settings_from(environ: Mapping[str, str]) -> Settings:
    values = {field: environ[name] for field, name in _ENVIRONMENT_NAMES.items() if name in environ}
    return Settings.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from(os.environ)
