"""The collector's HTTP edge: read and validate a request's body and query with the pydantic models, and
turn every refusal into one JSON error answer.

Validation is ours, not Powertools' (``enable_validation``): the same pydantic
models, called directly, so a cold start does not build Powertools' OpenAPI
models (docs/decisions.md). Every check raises :class:`ClientInputError`;
``api.py`` maps it to the answer.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel, ValidationError

from event_collector.errors import ClientInputError
from event_collector.identifiers import is_tenant_id
from event_collector.ingest.validation import MAX_BODY_BYTES, error_messages
from event_collector.json_values import InexactJson, loads_strict

DELIVERY_RETRY_AFTER_SECONDS = 2
Model = TypeVar("Model", bound=BaseModel)


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> Response[str]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=dict(headers or {}),
    )


def client_error_response(error: ClientInputError) -> Response[str]:
    return error_response(error.status, error.code, error.message, error.details)


def raw_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ClientInputError(400, "invalid_encoding", "Request body is not valid base64") from None
    return str(body).encode("utf-8", errors="surrogatepass")


def media_type(headers: Mapping[str, str]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "content-type" and value:
            return value.split(";", 1)[0].strip().lower()
    return None


# A beacon (navigator.sendBeacon) can only send a "simple" Content-Type without a CORS preflight.
BEACON_MEDIA_TYPE = "text/plain"


def header(event: Mapping[str, Any], name: str) -> str | None:
    wanted = name.lower()
    for found, value in (event.get("headers") or {}).items():
        if found.lower() == wanted:
            return str(value)
    return None


GZIP_MAGIC = b"\x1f\x8b"
# A client sends one member (Segment's libraries, browsers' CompressionStream), or a few when it compresses in
# chunks. Each further member costs a copy of the rest of the body (zlib hands it back as ``unused_data``), so
# without a bound a 1 MiB body of ~50,000 empty members took seconds of copying (docs/api.md).
MAX_GZIP_MEMBERS = 64


def gunzip(data: bytes, limit: int) -> bytes:
    """A gzip body (``Content-Encoding: gzip``), decompressed: every member, in order (RFC 1952: members
    written one after another are one gzip stream; ``gzip.decompress`` reads them all too), at most
    :data:`MAX_GZIP_MEMBERS` of them. Never more than ``limit`` + 1 bytes are produced, counting every member,
    so a small body cannot expand into a large one. Anything after the last member that is not a whole member
    (a stray byte, zero padding, a truncated one) is refused: part of the body would otherwise be dropped
    without a word."""
    import zlib

    parts: list[bytes] = []
    produced = 0
    rest = data
    while True:
        if len(parts) == MAX_GZIP_MEMBERS:
            raise ClientInputError(
                400,
                "invalid_encoding",
                f"Request body has more than {MAX_GZIP_MEMBERS} gzip members; send it as one (or a few)",
            )
        where = f" (gzip member {len(parts) + 1})" if parts else ""
        decompressor = zlib.decompressobj(wbits=31)
        try:
            part = decompressor.decompress(rest, limit + 1 - produced)
        except zlib.error:
            raise ClientInputError(400, "invalid_encoding", f"Request body is not valid gzip{where}") from None
        parts.append(part)
        produced += len(part)
        if produced > limit:
            break  # the caller's size check refuses it (413)
        if not decompressor.eof:
            raise ClientInputError(400, "invalid_encoding", f"Request body is truncated gzip{where}")
        rest = decompressor.unused_data
        if not rest:
            break
        if rest[:2] != GZIP_MAGIC:
            raise ClientInputError(
                400,
                "invalid_encoding",
                f"Request body has {len(rest)} byte(s) after its last gzip member that are not a gzip member",
            )
    return b"".join(parts)


def json_body(event: Mapping[str, Any], *, limit: int = MAX_BODY_BYTES, beacon: bool = False) -> Any:
    """The request's JSON body; refused, in this order, when oversized, not JSON by its Content-Type (or
    ``text/plain`` where beacons are accepted), empty, not UTF-8 or not valid JSON. A gzip body
    (``Content-Encoding: gzip``) is decompressed first (:func:`gunzip`), and ``limit`` applies both to what
    was sent and to what all its members hold."""
    data = raw_body(event)
    encoding = (header(event, "content-encoding") or "identity").strip().lower()
    if encoding == "gzip":
        if len(data) > limit:  # sent: also bounds the members (and the work) an unpacked body may take
            raise ClientInputError(413, "payload_too_large", f"Request body is {len(data)} bytes; the limit is {limit}")
        data = gunzip(data, limit)
    elif encoding != "identity":
        raise ClientInputError(415, "unsupported_media_type", f"Content-Encoding must be gzip, not {encoding}")
    if len(data) > limit:
        raise ClientInputError(413, "payload_too_large", f"Request body is {len(data)} bytes; the limit is {limit}")
    found = media_type(event.get("headers") or {})
    accepted = ("application/json", BEACON_MEDIA_TYPE) if beacon else ("application/json",)
    if found is not None and found not in accepted:
        raise ClientInputError(
            415, "unsupported_media_type", f"Content-Type must be {' or '.join(accepted)}, not {found}"
        )
    if not data:
        raise ClientInputError(400, "empty_body", "Request body is required")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ClientInputError(400, "invalid_encoding", "Request body is not valid UTF-8") from None
    try:
        return loads_strict(text)
    except InexactJson as error:
        raise ClientInputError(
            400,
            "invalid_json",
            f"Request body holds a value that would not be stored as sent: {error.location}: {error.problem}",
            details=[{"location": error.location, "problem": error.problem}],
        ) from None
    except ValueError as error:
        reason = getattr(error, "msg", None) or str(error)
        raise ClientInputError(400, "invalid_json", f"Request body is not valid JSON: {reason}") from None


def validated(model: type[Model], data: Any) -> Model:
    """``data`` as ``model``, or a 400 that names each invalid field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        details = error_messages(error)
        raise ClientInputError(
            400, "invalid_request", "Request is invalid: " + "; ".join(details[:5]), details
        ) from None


def query_values(event: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every value of every query parameter, repeats included. A REST API (and an HTTP API's payload 1.0)
    lists them in ``multiValueQueryStringParameters`` (``queryStringParameters`` keeps only the last); a
    payload 2.0 joins repeats with commas there, so its ``rawQueryString`` is read instead."""
    multi = event.get("multiValueQueryStringParameters")
    if multi:
        # A name with no value at all (an empty or null list) is a name not given.
        return {str(name): [str(value) for value in values] for name, values in multi.items() if values}
    raw = event.get("rawQueryString")
    if event.get("version") == "2.0" and isinstance(raw, str):
        from urllib.parse import parse_qsl

        try:
            pairs = parse_qsl(raw, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise ClientInputError(400, "invalid_query", "Query string is not UTF-8 once percent-decoded") from None
        found: dict[str, list[str]] = {}
        for name, value in pairs:
            found.setdefault(name, []).append(value)
        return found
    single = event.get("queryStringParameters") or {}
    return {str(name): [str(value)] for name, value in single.items() if value is not None}


def _names(names: list[str]) -> str:
    return ", ".join(f"'{name[:100]}'" for name in sorted(names))


def _once(name: str, values: list[str]) -> str:
    if len(values) > 1:
        raise ClientInputError(
            400, "invalid_query", f"Query parameter '{name}' is given {len(values)} times; give it once"
        )
    return values[0]


CACHE_BUSTER = "_"


def checked_query(
    event: Mapping[str, Any], parameters: Mapping[str, bool], *, ignore_unknown: bool = False
) -> dict[str, str]:
    """The query of a route that takes ``parameters`` (name: required): each given once, none other, the
    required ones present; else a 400 naming every parameter at fault. ``_`` is ignored: it is the
    cache-buster jQuery's ``cache: false`` (and other HTTP libraries) add to GETs, which pages built for the
    original collector send, and it never changes an answer."""
    values = {name: given for name, given in query_values(event).items() if name != CACHE_BUSTER}
    if ignore_unknown:  # the seed routes: the original collector ignored names it did not take
        values = {name: given for name, given in values.items() if name in parameters}
    unknown = [name for name in values if name not in parameters]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ClientInputError(
            400,
            "invalid_query",
            f"Unknown query parameter{plural} {_names(unknown)}; this route takes {_names(list(parameters))}",
        )
    repeated = [name for name, given in values.items() if len(given) > 1]
    if repeated:
        plural = "s" if len(repeated) > 1 else ""
        raise ClientInputError(
            400, "invalid_query", f"Query parameter{plural} {_names(repeated)} given more than once; give each once"
        )
    missing = [name for name, required in parameters.items() if required and name not in values]
    if missing:
        raise ClientInputError(400, "invalid_query", f"Query parameter '{missing[0]}' is required")
    return {name: given[0] for name, given in values.items() if given}


def query_parameter(event: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """One query parameter (``writeKey``): absent (None), or given once; twice is a 400."""
    values = query_values(event).get(name)
    if not values:
        if required:
            raise ClientInputError(400, "invalid_query", f"Query parameter '{name}' is required")
        return None
    return _once(name, values)


def tenant_from_authorizer(request_context: Mapping[str, Any]) -> str:
    """The tenant id comes from the authorizer's context only, never from the request. A REST API (and an
    HTTP API's payload 1.0) puts the context in ``authorizer``; an HTTP API's payload 2.0 in ``authorizer.lambda``."""
    authorizer = request_context.get("authorizer") or {}
    tenant = (authorizer.get("lambda") or authorizer).get("tenant")
    if not is_tenant_id(tenant):
        raise ClientInputError(401, "unauthorized", "Request carries no authenticated tenant")
    return str(tenant)
