"""Authenticate a request that sends events, in the collector itself.

The routes that send events are open at API Gateway (no authorizer): a
beacon (``navigator.sendBeacon``) cannot carry an ``Authorization`` header,
so its key comes in the query string or the body as ``writeKey``, and API
Gateway's authorizer cannot look there. The same decision code as the
authorizer runs here (``decision.py``), and its answers are cached per
credential for as long as API Gateway caches the authorizer's, so a revoked
key stops within that TTL in both places. A publishable key is admitted only
with an ``Origin`` from its allow-list.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from event_collector.auth.decision import Decision, KeyLookup, decide
from event_collector.auth.keys import KeyScope
from event_collector.auth.origins import normalize_origin, origin_allowed
from event_collector.errors import ClientInputError, KeysUnavailable, StorageError

MAX_CACHED_CREDENTIALS = 1000


@dataclass(frozen=True)
class Admission:
    tenant: str
    key_id: str | None
    scope: KeyScope
    origin: str | None  # the request's Origin when a publishable key was admitted for it (answered in CORS)
    rate_per_minute: int | None = None  # the key's limit (auth/rates.py), None for none


def sentence(reason: str) -> str:
    """A decision's reason as the answer's message (the reasons never hold what the caller sent)."""
    return reason[:1].upper() + reason[1:]


class SendAccess:
    def __init__(self, keys: KeyLookup, ttl_seconds: int = 300, clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: OrderedDict[tuple[str, ...], tuple[float, Decision]] = OrderedDict()

    def admit(self, authorization: Sequence[str], write_key: str | None, origin: str | None) -> Admission:
        """The tenant a request sends for, or a 401 (no or malformed credentials) or 403 (a wrong key, or
        a publishable key used from an origin outside its list)."""
        decision = self._decision(authorization, write_key)
        if decision.outcome == "unauthorized":
            raise ClientInputError(401, "unauthorized", sentence(decision.reason))
        if decision.outcome != "allow" or decision.tenant is None:
            raise ClientInputError(403, "forbidden", sentence(decision.reason))
        if decision.scope == "publishable":
            if not origin_allowed(origin, decision.origins):
                raise ClientInputError(
                    403, "origin_not_allowed", "This publishable key is for its own web origins only (Origin header)"
                )
            allowed = normalize_origin(origin or "")
            return Admission(decision.tenant, decision.key_id, decision.scope, allowed, decision.rate_per_minute)
        return Admission(decision.tenant, decision.key_id, decision.scope, None, decision.rate_per_minute)

    def _decision(self, authorization: Sequence[str], write_key: str | None) -> Decision:
        credential = (*authorization, f"writeKey={write_key}" if write_key is not None else "")
        now = self._clock()
        cached = self._cache.get(credential)
        if cached and cached[0] > now:
            return cached[1]
        try:
            decision = decide(authorization, self._keys, int(now), write_key=write_key)
        except StorageError as error:
            raise KeysUnavailable(str(error)) from error
        if decision.outcome != "unauthorized" and self._ttl > 0:
            self._cache[credential] = (now + self._ttl, decision)
            self._cache.move_to_end(credential)
            while len(self._cache) > MAX_CACHED_CREDENTIALS:
                self._cache.popitem(last=False)
        return decision
