"""Typed configuration, one model per function, read once from the environment the template sets.

Every resource name is required: a variable missing from a function's
``Environment`` stops it at import with a message naming the variable, never
silently points it at a guessed bucket. A test checks that each function's
block in template.yaml covers its model; the local mode gives each function
only its own environment. Each field is read from the upper-cased variable of
the same name (``lake_bucket_name`` <- ``LAKE_BUCKET_NAME``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ConfigurationError(RuntimeError):
    """The function's environment lacks or mangles a variable the template should set."""


class _Settings(BaseModel):
    # defer_build: a function validates one of these models, once; building the other seven validators at
    # import would cost every cold start for nothing (bench/cold_import_bench.py).
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class AuthorizerSettings(_Settings):
    tenant_keys_table_name: str


# Who keeps the real-time counters (template.yaml's CountingMode, docs/counters.md): the collector once
# Firehose took a request's events (default), or the fan-out from what Firehose delivered.
CountingMode = Literal["realtime", "delivered"]


class CollectorSettings(_Settings):
    delivery_stream_name: str
    counters_table_name: str
    tenant_keys_table_name: str
    regulations_table_name: str  # privacy requests and the suppressions the collector caches (docs/privacy.md)
    suppression_cache_seconds: int = Field(ge=1, le=3600)  # template.yaml: SuppressionCacheSeconds
    schemas_table_name: str  # tenants' event types and tracking plans (docs/schemas.md)
    schema_cache_seconds: int = Field(ge=0, le=3600)  # template.yaml: SchemaCacheSeconds
    key_cache_seconds: int = Field(ge=0, le=3600)
    counting_mode: CountingMode
    counter_retention_days: int = Field(ge=1, le=3650)
    counter_keys_per_hour: int = Field(ge=1, le=100_000)
    cors_allow_origin: str = "*"


class FanOutSettings(_Settings):
    lake_bucket_name: str
    counters_table_name: str
    compaction_state_table_name: str
    counting_mode: CountingMode
    counter_retention_days: int = Field(ge=1, le=3650)
    counter_keys_per_hour: int = Field(ge=1, le=100_000)


class PlanSettings(_Settings):
    lake_bucket_name: str
    compaction_state_table_name: str
    compaction_grace_minutes: int = Field(ge=1, le=1440)  # template.yaml: CompactionGraceMinutes MinValue 1
    compact_max_concurrency: int = Field(ge=1, le=1000)
    # Regulations due (privacy/schedule.py) make a run apply them, even with nothing to compact.
    regulations_table_name: str
    firehose_buffer_interval_seconds: int = Field(ge=0, le=900)
    suppression_cache_seconds: int = Field(ge=1, le=3600)  # a suppression waits for the collectors' caches


class CompactSettings(_Settings):
    lake_bucket_name: str
    glue_database_name: str
    compaction_state_table_name: str
    counters_table_name: str  # the hours a unit touched are recounted from the ledger (compaction/recount.py)
    counter_retention_days: int = Field(ge=1, le=3650)
    counter_keys_per_hour: int = Field(ge=1, le=100_000)
    dedup_window_days: int = Field(ge=1, le=7)  # template.yaml: DedupWindowDays MinValue 1
    athena_work_group: str
    athena_threshold_bytes: int = Field(ge=1, le=1_073_741_824)
    schemas_table_name: str  # a tenant's own event type is written with its schema's columns


class RegulateSettings(_Settings):
    lake_bucket_name: str
    raw_bucket_name: str
    compaction_state_table_name: str
    regulations_table_name: str
    counters_table_name: str  # the hours that lost events are recounted; counters keyed by a user's id deleted
    counter_retention_days: int = Field(ge=1, le=3650)
    counter_keys_per_hour: int = Field(ge=1, le=100_000)
    firehose_buffer_interval_seconds: int = Field(ge=0, le=900)
    suppression_cache_seconds: int = Field(ge=1, le=3600)  # a suppression waits for the collectors' caches


class RefreshSettings(_Settings):
    lake_bucket_name: str
    glue_database_name: str
    schemas_table_name: str  # the raw tables of tenants' own event types follow their schemas


class ReportSettings(_Settings):
    lake_bucket_name: str


class EmptyBucketSettings(_Settings):
    pass


Settings = TypeVar("Settings", bound=_Settings)


def environment_names(model: type[_Settings]) -> dict[str, str]:
    """Field name -> environment variable, for every field of the model."""
    return {name: name.upper() for name in model.model_fields}


def required_names(model: type[_Settings]) -> set[str]:
    return {name.upper() for name, field in model.model_fields.items() if field.is_required()}


def load(model: type[Settings], environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    missing = sorted(name for name in required_names(model) if not environ.get(name))
    if missing:
        raise ConfigurationError(f"{model.__name__}: set {', '.join(missing)} (the function's Environment)")
    values = {field: environ[name] for field, name in environment_names(model).items() if name in environ}
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ConfigurationError(f"{model.__name__}: {error.errors()[0]['msg']} ({error.errors()[0]['loc']})") from None
