"""The project's own exceptions; adapters translate AWS errors into these."""

from __future__ import annotations


class CollectorError(Exception):
    """Base class of every error the project raises on purpose."""


class ClientInputError(CollectorError):
    """A request the client must fix; always answered with a 4xx, never stored.

    ``code`` is a stable machine-readable name, ``status`` the HTTP status and
    ``details`` optional structured context (for example per-event errors).
    """

    def __init__(self, status: int, code: str, message: str, details: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class RateLimited(ClientInputError):
    """A key sent more requests this minute than its limit allows: 429, ``Retry-After`` the seconds left."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            429, "rate_limited", f"This key may send {limit} requests a minute; retry after {retry_after} s"
        )
        self.retry_after = retry_after


class DeliveryError(CollectorError):
    """Firehose did not accept every record after all retries; answer 503."""

    def __init__(self, message: str, failed_records: int) -> None:
        super().__init__(message)
        self.failed_records = failed_records


class StorageError(CollectorError):
    """A DynamoDB call failed after the SDK's own retries."""


class TenantExistsError(CollectorError):
    """``create-tenant`` for an id that is already registered."""


class UnknownTenantError(CollectorError):
    """An admin operation named a tenant that does not exist."""


class UnknownKeyError(CollectorError):
    """An admin operation named a key id the tenant does not hold."""


class KeysUnavailable(StorageError):
    """The keys table could not be read to authenticate a request; answer 503 (fail closed)."""


class RegulationsUnavailable(StorageError):
    """The regulations table could not be read or written for a privacy request; answer 503 (the client retries:
    asking again is idempotent)."""


class SchemasUnavailable(StorageError):
    """A tenant's event schemas could not be read and none were read before (schemas/cache.py); answer 503:
    the events cannot be checked, and the client retries."""


class AccountSettingError(CollectorError):
    """An account-wide setting (API Gateway's CloudWatch Logs role) could not be read or written."""
