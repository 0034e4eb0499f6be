"""Web origins: what a publishable key's allow-list holds and how a request's ``Origin`` is matched.

An origin is ``scheme://host[:port]`` (RFC 6454), compared exactly after
normalisation: lower-case scheme and host, no default port, no path. ``null``
(sandboxed pages, ``file:``) is never allowed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(text: str) -> str | None:
    """The origin's canonical form, or None if it is not an http(s) origin."""
    if not text or text.strip() != text or len(text) > 300:
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    suffix = f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{suffix}"


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    normalized = normalize_origin(origin) if origin else None
    return normalized is not None and normalized in allowed
