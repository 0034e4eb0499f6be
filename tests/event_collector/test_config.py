"""Each function's settings: read from exactly the variables its template block sets, refused loudly when not."""

from __future__ import annotations

import re

import pytest

from event_collector import config
from event_collector.config import (
    CompactSettings,
    ConfigurationError,
    FanOutSettings,
    PlanSettings,
    environment_names,
    load,
)
from tests.test_dependencies import FUNCTIONS
from tools.sam import function_environment
from tools.template import ROOT, template


def settings_model(function: str) -> type[config._Settings] | None:
    code = (ROOT / FUNCTIONS[function]["Properties"]["CodeUri"] / "app.py").read_text()
    found = re.search(r"\bload\((\w+)\)", code)
    return getattr(config, found.group(1)) if found else None


CONFIGURED = sorted(function for function in FUNCTIONS if settings_model(function) is not None)


def test_given_the_handlers_when_read_then_every_function_but_the_custom_resources_loads_settings():
    # A custom resource takes what it works on from CloudFormation's event (ResourceProperties).
    assert set(FUNCTIONS) - set(CONFIGURED) == {"EmptyBucketFunction", "ApiGatewayLoggingRoleFunction"}


@pytest.mark.parametrize("function", CONFIGURED)
def test_given_a_function_when_its_template_block_is_read_then_it_sets_every_field_of_its_settings(function):
    model = settings_model(function)
    assert model is not None
    environment = function_environment(function)

    # Defaults in code never apply silently in the cloud: the template sets every field.
    assert set(environment_names(model).values()) <= set(environment)
    load(model, environment)


def test_given_missing_variables_when_loaded_then_the_error_names_each_of_them():
    with pytest.raises(ConfigurationError, match="COMPACTION_STATE_TABLE_NAME, COUNTERS_TABLE_NAME"):
        load(FanOutSettings, {"LAKE_BUCKET_NAME": "lake"})


@pytest.mark.parametrize(("name", "value"), [("DEDUP_WINDOW_DAYS", "8"), ("DEDUP_WINDOW_DAYS", "one")])
def test_given_an_out_of_range_or_mangled_value_when_loaded_then_refused(name, value):
    environment = dict.fromkeys(environment_names(CompactSettings).values(), "x")
    environment |= {"DEDUP_WINDOW_DAYS": "1", "ATHENA_THRESHOLD_BYTES": "1", name: value}
    environment |= {"COUNTER_RETENTION_DAYS": "1", "COUNTER_KEYS_PER_HOUR": "1"}

    with pytest.raises(ConfigurationError, match="dedup_window_days"):
        load(CompactSettings, environment)


def test_given_an_empty_required_variable_when_loaded_then_it_counts_as_missing():
    with pytest.raises(ConfigurationError, match="LAKE_BUCKET_NAME"):
        load(FanOutSettings, {"LAKE_BUCKET_NAME": "", "COUNTERS_TABLE_NAME": "c", "COMPACTION_STATE_TABLE_NAME": "s"})


def plan_environment(grace: str) -> dict[str, str]:
    environment = dict.fromkeys(environment_names(PlanSettings).values(), "x")
    return environment | {
        "COMPACTION_GRACE_MINUTES": grace,
        "COMPACT_MAX_CONCURRENCY": "10",
        "FIREHOSE_BUFFER_INTERVAL_SECONDS": "300",
        "SUPPRESSION_CACHE_SECONDS": "60",
    }


def test_given_a_grace_of_zero_minutes_when_loaded_then_refused_and_one_minute_is_accepted():
    # A request's counts may land up to its collector's timeout (15 s) after its hour ended: a run with no
    # grace could recount an hour the real-time path still writes (docs/counters.md).
    with pytest.raises(ConfigurationError, match="compaction_grace_minutes"):
        load(PlanSettings, plan_environment("0"))

    assert load(PlanSettings, plan_environment("1")).compaction_grace_minutes == 1


def test_given_the_template_when_read_then_the_grace_parameter_refuses_zero_as_the_settings_do():
    parameter = template()["Parameters"]["CompactionGraceMinutes"]
    bounds = {type(m).__name__: m for m in PlanSettings.model_fields["compaction_grace_minutes"].metadata}

    assert (parameter["MinValue"], parameter["MaxValue"]) == (1, 1440)
    assert (bounds["Ge"].ge, bounds["Le"].le) == (parameter["MinValue"], parameter["MaxValue"])
