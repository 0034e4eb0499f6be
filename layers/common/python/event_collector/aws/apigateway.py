"""API Gateway adapter: the account's CloudWatch Logs role (a setting of the account and Region, not of an API).

Errors keep AWS's message (API Gateway says there why it refused a role); no request data is in it."""

from __future__ import annotations

from typing import Any

from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import AccountSettingError


class ApiGatewayAccount:
    def __init__(self, client: Any) -> None:
        self._client = client

    def logging_role(self) -> str | None:
        """The role API Gateway writes CloudWatch Logs with (REST access logs), None when the account has none."""
        try:
            account = self._client.get_account()
        except aws_errors() as error:
            raise AccountSettingError(f"reading API Gateway's account settings failed: {_described(error)}") from error
        return str(account.get("cloudwatchRoleArn") or "") or None

    def set_logging_role(self, role_arn: str) -> None:
        try:
            self._client.update_account(
                patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
            )
        except aws_errors() as error:
            problem = _described(error)
            raise AccountSettingError(f"setting API Gateway's CloudWatch Logs role failed: {problem}") from error


def _described(error: Exception) -> str:
    response = getattr(error, "response", None)
    message = response.get("Error", {}).get("Message") if isinstance(response, dict) else None
    return f"{error_code(error)}: {message}" if message else error_code(error)
