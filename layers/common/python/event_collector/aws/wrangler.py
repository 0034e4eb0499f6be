"""awswrangler, set up once for the two adapters that use it (``aws/glue.py`` and ``aws/athena.py``).

Compact and Refresh reach the Glue catalog and Athena through a pinned awswrangler in their own layer
(docs/dependencies.md). Importing it loads pandas and numpy, so only those adapters import this
module, and only the functions that carry the layer import them (tests/test_template.py).

- awswrangler makes a client for every call, from the session it is handed and its
  ``botocore_config``: that is set here to every background client's settings (standard retries,
  6 attempts, the same timeouts), so its calls retry as the other adapters' do;
- what it raises (its own exceptions, which share no base class, and botocore's) becomes the
  project's :class:`StorageError`, named by its class or code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import awswrangler as wr

from event_collector.aws.clients import background_config
from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError

wr.config.botocore_config = background_config()

WRANGLER_ERRORS: tuple[type[Exception], ...] = tuple(
    kind for kind in vars(wr.exceptions).values() if isinstance(kind, type) and issubclass(kind, Exception)
)


def describe(error: Exception) -> str:
    if isinstance(error, WRANGLER_ERRORS):
        return f"{type(error).__name__}: {error}"
    return error_code(error)


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Inside, a failed awswrangler or SDK call raises ``StorageError("<action> failed: <what>")``."""
    try:
        yield
    except (*aws_errors(), *WRANGLER_ERRORS) as error:
        raise StorageError(f"{action} failed: {describe(error)}") from error
