"""LogLevel on the SAM-transformed template: with JSON logs, Lambda itself filters application lines by
ApplicationLogLevel (INFO when unset), so it must let through what Powertools logs."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.shared.constants import LAMBDA_ADVANCED_LOGGING_LEVELS

from tests.template.policies import resolver


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR"])
def test_given_a_log_level_when_transformed_then_lambda_lets_every_function_s_lines_of_that_level_through(level):
    resolved = resolver(LogLevel=level)
    functions = {
        name: resource["Properties"]
        for name, resource in resolved.template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and resolved.is_active(name)
    }

    for name, properties in functions.items():
        logging_config = resolved.resolve(properties["LoggingConfig"])
        powertools = resolved.resolve(properties["Environment"]["Variables"])["POWERTOOLS_LOG_LEVEL"]
        assert logging_config["LogFormat"] == "JSON", name
        # Powertools' own reading of Lambda's level (AWS_LAMBDA_LOG_LEVEL): the same level, nothing dropped.
        assert LAMBDA_ADVANCED_LOGGING_LEVELS[logging_config["ApplicationLogLevel"]] == level, name
        assert powertools == level, name
