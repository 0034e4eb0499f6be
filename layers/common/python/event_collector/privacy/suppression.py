"""Which events the collector drops: those of a suppressed user (docs/privacy.md, "Suppression").

The check costs no AWS call per request. Each container keeps each tenant's active suppressions
(``RegulationStore.suppressions``) for at most ``max_age_seconds`` (``SUPPRESSION_CACHE_SECONDS``), and
loads them again on the tenant's first request after that: a suppression acknowledged at ``t`` holds in
every container from ``t + max_age_seconds`` on, while the table answers. A tenant with no suppression
costs one dictionary lookup per event; digests (``event_subjects``) are computed only for a tenant that has
some.

The container that acknowledges a ``suppress`` or ``unsuppress`` over HTTP forgets the tenant's list at
once (``forget``), so there the change holds from the acknowledgement on (and everywhere in the local mode,
which runs one collector).

A failed load never fails the request (a 5xx would lose every user's events to protect one). It keeps the
list loaded before, if any, or else none (the events are delivered), reports the failure
(``on_load_failed``: a log line and the ``SuppressionLoadFailures`` metric in the collector) and tries again
after ``retry_seconds``, not on every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from event_collector.privacy.regulations import Selector, Suppression, event_subjects

RETRY_AFTER_FAILURE_SECONDS = 5.0


class SuppressionSource(Protocol):
    def suppressions(self, tenant: str) -> list[Suppression]: ...


def ignore_load_failure(tenant: str, error: Exception) -> None:
    """No one to tell (tests); the deployed collector logs and counts it in a metric."""


@dataclass(frozen=True)
class _Loaded:
    subjects: frozenset[tuple[Selector, str]]
    next_load: float  # on the cache's clock


class SuppressionCache:
    def __init__(
        self,
        source: SuppressionSource,
        max_age_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_load_failed: Callable[[str, Exception], None] = ignore_load_failure,
        retry_seconds: float = RETRY_AFTER_FAILURE_SECONDS,
    ) -> None:
        self._source = source
        self._max_age = max_age_seconds
        self.clock = clock
        self._on_load_failed = on_load_failed
        self._retry = min(retry_seconds, max_age_seconds)
        self._tenants: dict[str, _Loaded] = {}

    def subjects(self, tenant: str) -> frozenset[tuple[Selector, str]]:
        """The tenant's suppressed (selector, subject) pairs, loaded when the cached ones are too old."""
        now = self.clock()
        loaded = self._tenants.get(tenant)
        if loaded is not None and now < loaded.next_load:
            return loaded.subjects
        try:
            found = frozenset((s.selector, s.subject) for s in self._source.suppressions(tenant))
        except Exception as error:  # noqa: BLE001 - never fail the request: keep what was loaded, report, retry later
            self._on_load_failed(tenant, error)
            kept = loaded.subjects if loaded is not None else frozenset()
            self._tenants[tenant] = _Loaded(kept, now + self._retry)
            return kept
        self._tenants[tenant] = _Loaded(found, now + self._max_age)
        return found

    def forget(self, tenant: str) -> None:
        """Load the tenant's suppressions again on its next request (this container just changed them)."""
        self._tenants.pop(tenant, None)

    def is_suppressed(self, tenant: str, record: Mapping[str, object]) -> bool:
        """Whether the stored event ``record`` belongs to a suppressed user (any of its selectors)."""
        suppressed = self.subjects(tenant)
        return bool(suppressed) and not suppressed.isdisjoint(event_subjects(tenant, record))
