"""A tenant's own event type validated against JSON Schema (draft 2020-12), per event, as a ratio to the
built-in types' validation measured in the same run: which library meets issue 23's "Fast" requirement.

- **Baseline**: ``validate_batch`` (the built-in types' pydantic models, enrichment and the stored line) on
  a batch of 500 built-in events (``page_view``, ``button_click``, ``track`` with envelope fields,
  ``context`` and eight properties), per event; valid and invalid batches separately.
- **Candidates**: ``jsonschema`` (``Draft202012Validator`` with its format checker), ``fastjsonschema``
  (generated Python code; it knows draft-07 keywords, not 2020-12's) and ``jsonschema-rs`` (Rust), each
  compiled once for an ``order_completed`` schema of eleven fields (patterns, formats, minimums, an enum, a
  nullable string, a nested object, an array of ``$ref`` objects, ``additionalProperties: false``,
  ``required``), then 500 orders checked, per event. A check is what the collector would run: the
  problems of an event as (JSON pointer, message), empty when it is valid, with ``required`` and
  ``additionalProperties`` pointing at the field itself rather than at the object holding it.
- **The collector's path**: ``validate_batch`` of 500 ``order_completed`` events as clients send them (the
  built-in events' envelope and ``context``, then the order's fields), checked against the tenant's schema
  registered in an in-memory registry, through the collector's schema cache and its compiled validator
  (``schemas/validator.py``: jsonschema-rs, lake checks, stored line), both warm; per event and as a
  ratio to the built-in baseline of the same run (issue 23: within 2x).
- Also: compile time per schema and the first check after it (``re``'s cache purged first), the import in a
  fresh interpreter (cold start), what each library reports for one order with four faults, and whether it
  enforces a few draft 2020-12 keywords.

Medians of interleaved rounds (every candidate and the baseline take turns, so all see the same machine
load). A candidate that is not installed is skipped: only the chosen one is a deployed dependency
(docs/decisions.md); ``pip install`` the others to compare again.
Run: ``.venv/bin/python bench/schema_validation_bench.py [--quick]``, or ``make bench``.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.metadata
import json
import os
import random
import re
import site
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from event_collector.ingest.models import EVENT_MODELS  # noqa: E402
from event_collector.ingest.validation import sent_size, validate_batch  # noqa: E402
from event_collector.schemas.cache import SchemaCache  # noqa: E402
from event_collector.schemas.registry import RegisteredSchema, TenantSchemas  # noqa: E402

BATCH = 500  # the API's largest batch
TENANT = "bench"
RECEIVED_AT = 1_793_000_000_000  # 2026-10-26
FAULTS = 8  # kinds of invalid built-in event, in turn, in each invalid batch

ORDER_COMPLETED: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "order_completed",
    "type": "object",
    "additionalProperties": False,
    "required": ["order_id", "placed_at", "total", "currency", "items"],
    "properties": {
        "order_id": {"type": "string", "pattern": "^ord_[0-9a-f]{12}$"},
        "customer_email": {"type": "string", "format": "email", "maxLength": 254},
        "placed_at": {"type": "string", "format": "date-time"},
        "total": {"type": "number", "minimum": 0},
        "item_count": {"type": "integer", "minimum": 1},
        "currency": {"enum": ["EUR", "USD", "GBP", "JPY"]},
        "coupon": {"type": ["string", "null"], "maxLength": 32},
        "gift": {"type": "boolean"},
        "loyalty_points": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        "shipping": {
            "type": "object",
            "additionalProperties": False,
            "required": ["country", "method"],
            "properties": {
                "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "method": {"enum": ["standard", "express", "pickup"]},
                "postcode": {"type": "string", "maxLength": 16},
            },
        },
        "items": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"$ref": "#/$defs/line_item"}},
    },
    "$defs": {
        "line_item": {
            "type": "object",
            "additionalProperties": False,
            "required": ["sku", "quantity", "unit_price"],
            "properties": {
                "sku": {"type": "string", "pattern": "^[A-Z0-9-]{3,32}$"},
                "quantity": {"type": "integer", "minimum": 1},
                "unit_price": {"type": "number", "minimum": 0},
                "category": {"type": "string", "maxLength": 64},
            },
        }
    },
}


# --- events -------------------------------------------------------------------------------------------


def builtin_event(rng: random.Random, number: int) -> dict[str, Any]:
    """A built-in event as a browser or server SDK sends it: envelope, context and the type's fields."""
    envelope: dict[str, Any] = {
        "event_id": f"evt-{number:08d}",
        "timestamp": f"2026-10-26T12:{number % 60:02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z",
        "user_id": f"user-{rng.randrange(10_000)}",
        "anonymous_id": f"anon-{rng.randrange(30_000):06d}",
        "context": {
            "page": {"url": f"https://shop.example/p/{rng.randrange(500)}", "title": "Product"},
            "userAgent": "Mozilla/5.0 (X11; Linux aarch64) Gecko/20100101 Firefox/140.0",
            "library": {"name": "event-collector-js", "version": "1.4.0"},
        },
    }
    kind = number % 3
    if kind == 0:
        fields: dict[str, Any] = {
            "event_type": "page_view",
            "url": f"https://shop.example/p/{rng.randrange(500)}",
            "session_id": f"s-{rng.randrange(5_000)}",
            "referral_url": "https://search.example/?q=shoes",
        }
    elif kind == 1:
        fields = {"event_type": "button_click", "button_id": f"add-to-cart-{rng.randrange(20)}", "session_id": "s-1"}
    else:
        fields = {
            "event_type": "track",
            "name": rng.choice(["Signed Up", "Product Viewed", "Checkout Started"]),
            "properties": {
                "plan": rng.choice(["free", "pro", "team"]),
                "seats": rng.randrange(1, 500),
                "price": round(rng.random() * 100, 2),
                "trial": rng.random() < 0.3,
                "country": rng.choice(["DE", "FR", "US", "JP", "BR"]),
                "campaign": f"c-{rng.randrange(1000)}",
                "tags": [f"t{rng.randrange(20)}" for _ in range(rng.randrange(4))],
                "referrer": {"host": f"site{rng.randrange(100)}.example", "path": f"/p/{rng.randrange(10**4)}"},
            },
        }
    return {**fields, **envelope}


def builtin_invalid(rng: random.Random, number: int) -> dict[str, Any]:
    """A built-in event with one of FAULTS faults (each kind in turn)."""
    event = builtin_event(rng, number - number % 3 + 2)  # a track event: the richest model
    fault = number % FAULTS
    if fault == 0:
        del event["name"]  # missing required
    elif fault == 1:
        event["nmae"] = event.pop("name")  # unknown field
    elif fault == 2:
        event["timestamp"] = "yesterday"  # not a date-time
    elif fault == 3:
        event["name"] = ""  # below the minimum length
    elif fault == 4:
        event["user_id"] = 42  # wrong type
    elif fault == 5:
        event["received_at"] = 0  # server-owned
    elif fault == 6:
        event["context"] = "web"  # wrong type (object expected)
    else:
        event["name"] = "x" * 129  # above the maximum length
    return event


def order(rng: random.Random, number: int) -> dict[str, Any]:
    """A valid ``order_completed``: its own fields, as the collector would validate them (the envelope,
    checked by the built-in models, left out)."""
    items: list[dict[str, Any]] = [
        {
            "sku": f"SKU-{rng.randrange(10**6):06d}",
            "quantity": rng.randrange(1, 5),
            "unit_price": round(rng.random() * 80 + 1, 2),
            "category": rng.choice(["shoes", "shirts", "bags"]),
        }
        for _ in range(rng.randrange(1, 5))
    ]
    return {
        "order_id": f"ord_{number:012x}",
        "customer_email": f"customer{rng.randrange(10**5)}@mail.example",
        "placed_at": f"2026-10-26T12:{number % 60:02d}:{rng.randrange(60):02d}Z",
        "total": round(sum(item["quantity"] * item["unit_price"] for item in items), 2),
        "item_count": sum(item["quantity"] for item in items),
        "currency": rng.choice(["EUR", "USD", "GBP"]),
        "coupon": rng.choice([None, "AUTUMN10"]),
        "gift": rng.random() < 0.1,
        "loyalty_points": rng.randrange(0, 5000),
        "shipping": {"country": rng.choice(["DE", "FR", "US"]), "method": "standard", "postcode": "10115"},
        "items": items,
    }


ORDER_FAULTS = (
    "wrong type",
    "missing required",
    "unknown field",
    "below a minimum",
    "pattern",
    "format date-time",
    "enum",
    "unknown nested field",
)


def order_invalid(rng: random.Random, number: int) -> dict[str, Any]:
    """An ``order_completed`` with one of ORDER_FAULTS (each kind in turn)."""
    event = order(rng, number)
    fault = ORDER_FAULTS[number % len(ORDER_FAULTS)]
    if fault == "wrong type":
        event["total"] = str(event["total"])
    elif fault == "missing required":
        del event["currency"]
    elif fault == "unknown field":
        event["coupon_code"] = "AUTUMN10"  # additionalProperties: false
    elif fault == "below a minimum":
        event["items"][0]["quantity"] = 0
    elif fault == "pattern":
        event["order_id"] = "ORD-1"
    elif fault == "format date-time":
        event["placed_at"] = "yesterday"
    elif fault == "enum":
        event["currency"] = "EURO"
    else:
        event["shipping"]["express"] = True
    return event


def four_faults() -> dict[str, Any]:
    """One order with the four faults issue 23 lists: wrong type, missing required, unknown field, below a
    minimum (in a nested array)."""
    event = order(random.Random(0), 7)
    event["total"] = "129.90"
    del event["currency"]
    event["coupon_code"] = "AUTUMN10"
    event["items"][0]["quantity"] = 0
    return event


# --- the candidates -----------------------------------------------------------------------------------

Problem = tuple[str, str]  # (JSON pointer of the field, what was expected)
Check = Callable[[Any], list[Problem]]


def pointer(parts: Iterable[Any]) -> str:
    """RFC 6901: ``/`` before each token, ``~`` and ``/`` escaped."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass(frozen=True)
class Candidate:
    name: str  # the distribution on PyPI
    measured: str  # the version docs/benchmarks.md reports
    module: str
    compile: Callable[[dict[str, Any]], Check]
    # The errors as the library gives them: (where, which keyword, message), for the example.
    native: Callable[[dict[str, Any], Any], list[tuple[str, str, str]]]


def compile_jsonschema(schema: dict[str, Any]) -> Check:
    jsonschema = importlib.import_module("jsonschema")
    validator_class = jsonschema.Draft202012Validator
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)

    def check(instance: Any) -> list[Problem]:
        problems: dict[str, str] = {}
        for error in validator.iter_errors(instance):
            path = list(error.absolute_path)
            if error.validator == "required":  # one error per missing name; the error carries no name
                for name in error.validator_value:
                    if isinstance(error.instance, dict) and name not in error.instance:
                        problems.setdefault(pointer([*path, name]), f"{name!r} is a required property")
            elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
                known = error.schema.get("properties", {})  # patternProperties left out: the schema has none
                for name in error.instance:
                    if name not in known:
                        problems.setdefault(pointer([*path, name]), "is not a declared property")
            else:
                problems.setdefault(pointer(path), error.message)
        return list(problems.items())

    return check


def compile_fastjsonschema(schema: dict[str, Any]) -> Check:
    fastjsonschema = importlib.import_module("fastjsonschema")

    def refuse(uri: str) -> Any:  # by default it fetches any remote $ref with urllib
        raise ValueError(f"remote $ref not allowed: {uri}")

    validate = fastjsonschema.compile(
        schema,
        handlers={"http": refuse, "https": refuse, "file": refuse},
        use_default=False,  # by default it writes "default" values into the event
        fast_fail=False,  # every problem, as the built-in models report them
    )

    def check(instance: Any) -> list[Problem]:
        try:
            validate(instance)
        except fastjsonschema.JsonSchemaValuesException as errors:
            found = errors.errors
        except fastjsonschema.JsonSchemaValueException as error:
            found = [error]
        else:
            return []
        problems: dict[str, str] = {}
        for failure in found:
            path = failure.path[1:]  # split from "data.items[0].quantity": a name holding "." or "[" is lost
            if failure.rule == "required" and isinstance(failure.value, dict):
                for name in failure.rule_definition:
                    if name not in failure.value:
                        problems.setdefault(pointer([*path, name]), f"{name!r} is a required property")
            elif failure.rule == "additionalProperties" and isinstance(failure.value, dict):
                known = failure.definition.get("properties", {})  # likewise
                for name in failure.value:
                    if name not in known:
                        problems.setdefault(pointer([*path, name]), "is not a declared property")
            else:
                problems.setdefault(pointer(path), failure.message)
        return list(problems.items())

    return check


def compile_jsonschema_rs(schema: dict[str, Any]) -> Check:
    jsonschema_rs = importlib.import_module("jsonschema_rs")
    # Draft 2020-12 makes "format" an annotation; the collector asserts it. offline: no remote $ref.
    validator = jsonschema_rs.validator_for(schema, validate_formats=True, offline=True)

    def check(instance: Any) -> list[Problem]:
        if validator.is_valid(instance):
            return []
        problems: dict[str, str] = {}
        for error in validator.iter_errors(instance):
            path, kind = error.instance_path, error.kind
            if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
                problems.setdefault(pointer([*path, kind.property]), error.message)
            elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
                for name in kind.unexpected:
                    problems.setdefault(pointer([*path, name]), "is not a declared property")
            else:
                problems.setdefault(pointer(path), error.message)
        return list(problems.items())

    return check


def native_jsonschema(schema: dict[str, Any], instance: Any) -> list[tuple[str, str, str]]:
    validator_class = importlib.import_module("jsonschema").Draft202012Validator
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    return [
        (f"absolute_path={list(error.absolute_path)}", str(error.validator), error.message)
        for error in validator.iter_errors(instance)
    ]


def native_fastjsonschema(schema: dict[str, Any], instance: Any) -> list[tuple[str, str, str]]:
    fastjsonschema = importlib.import_module("fastjsonschema")
    try:
        fastjsonschema.compile(schema, use_default=False, fast_fail=False)(instance)
    except fastjsonschema.JsonSchemaValuesException as errors:
        return [(f"name={error.name!r}", str(error.rule), error.message) for error in errors.errors]
    return []


def native_jsonschema_rs(schema: dict[str, Any], instance: Any) -> list[tuple[str, str, str]]:
    validator = importlib.import_module("jsonschema_rs").validator_for(schema, validate_formats=True, offline=True)
    return [
        (f"instance_path={error.instance_path}", error.kind.name, error.message)
        for error in validator.iter_errors(instance)
    ]


CANDIDATES = (
    Candidate("jsonschema", "4.26.0", "jsonschema", compile_jsonschema, native_jsonschema),
    Candidate("fastjsonschema", "2.22.3", "fastjsonschema", compile_fastjsonschema, native_fastjsonschema),
    Candidate("jsonschema-rs", "0.61.2", "jsonschema_rs", compile_jsonschema_rs, native_jsonschema_rs),
)


def installed(candidate: Candidate) -> str | None:
    try:
        importlib.import_module(candidate.module)
    except ImportError:
        return None
    return importlib.metadata.version(candidate.name)


# --- what is measured ---------------------------------------------------------------------------------


def builtin_problems(event: dict[str, Any]) -> list[str]:
    batch = validate_batch([event], tenant=TENANT, received_at=RECEIVED_AT, request_id="bench")
    return [error for rejected in batch.rejected for error in rejected.errors]


def median_per_event(rounds: list[float], count: int) -> float:
    return statistics.median(rounds) / count


def timed(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def compile_and_first(candidate: Candidate, instance: Any, repeats: int) -> tuple[float, float]:
    """Median compile time and median first check after it, each from a cold ``re`` cache."""
    compiles, firsts = [], []
    for _ in range(repeats):
        re.purge()
        schema = copy.deepcopy(ORDER_COMPLETED)  # nothing a library cached by the schema's identity helps
        start = time.perf_counter()
        check = candidate.compile(schema)
        compiled = time.perf_counter()
        check(instance)
        compiles.append(compiled - start)
        firsts.append(time.perf_counter() - compiled)
    return statistics.median(compiles), statistics.median(firsts)


def import_time(module: str, runs: int) -> float:
    """``import module`` in a fresh isolated interpreter (``-I -S``, site-packages on the path): the cold
    start it adds to a function that does not import it yet."""
    statement = (
        "import sys, time; sys.path[:0] = sys.argv[1:]; t = time.perf_counter(); "
        f"import {module}; print(time.perf_counter() - t)"
    )
    timings = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-c", statement, *site.getsitepackages()],
            capture_output=True,
            text=True,
            check=True,
        )
        timings.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(timings)


# Draft 2020-12 keywords, the format assertion the collector wants, and two rules of ECMA-262 (the pattern
# dialect the draft names) where Python's re differs: a schema, an instance it must reject, one it must accept.
PROBES: dict[str, tuple[dict[str, Any], Any, Any]] = {
    "prefixItems": ({"prefixItems": [{"type": "string"}]}, [1], ["a", 1]),
    "items after prefixItems": ({"prefixItems": [{"type": "string"}], "items": False}, ["a", "b"], ["a"]),
    "$defs + $ref": (
        {"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}},
        {"a": "x"},
        {"a": 1},
    ),
    "dependentRequired": ({"dependentRequired": {"a": ["b"]}}, {"a": 1}, {"a": 1, "b": 2}),
    "dependentSchemas": (
        {"dependentSchemas": {"a": {"required": ["b"]}}},
        {"a": 1},
        {"a": 1, "b": 2},
    ),
    "unevaluatedProperties": (
        {"allOf": [{"properties": {"a": {}}}], "unevaluatedProperties": False},
        {"a": 1, "b": 2},
        {"a": 1},
    ),
    "minContains": ({"contains": {"const": 1}, "minContains": 2}, [1], [1, 1]),
    "format date-time (asserted)": ({"format": "date-time"}, "2026-13-45T00:00:00Z", "2026-10-26T12:00:00Z"),
    "pattern $ at the very end": ({"pattern": "^[A-Z]{2}$"}, "DE\n", "DE"),
    "pattern \\d is ASCII": ({"pattern": "^\\d+$"}, "\u0661\u0662", "12"),
}


def probe(candidate: Candidate) -> list[str]:
    """The probes the candidate fails (rejects the valid instance, accepts the invalid one, or raises)."""
    failed = []
    for name, (schema, invalid, valid) in PROBES.items():
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
        try:
            check = candidate.compile(schema)
            if not check(invalid) or check(valid):
                failed.append(name)
        except Exception:  # noqa: BLE001 - a schema it cannot compile fails the probe
            failed.append(name)
    return failed


ENVELOPE = ("event_id", "timestamp", "user_id", "anonymous_id", "context")


def custom_events(builtin: list[dict[str, Any]], orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each order as a client sends it: a built-in event's envelope, ``event_type`` and the order's fields."""
    return [
        {**{name: event[name] for name in ENVELOPE}, "event_type": "order_completed", **fields}
        for event, fields in zip(builtin, orders, strict=True)
    ]


def as_track(builtin: list[dict[str, Any]], orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same orders sent as the built-in ``track`` type (the order in ``properties``): the like-for-like
    baseline, the same bytes validated without a schema."""
    return [
        {
            **{name: event[name] for name in ENVELOPE},
            "event_type": "track",
            "name": "Order Completed",
            "properties": fields,
        }
        for event, fields in zip(builtin, orders, strict=True)
    ]


def mean_size(events: list[dict[str, Any]]) -> float:
    """Bytes of an event as sent (compact JSON), on average: a larger event costs more to check and store."""
    return statistics.fmean(sent_size(event) for event in events)


class OneTenantsSchemas:
    """The registry as the collector's cache reads it: one tenant's ``order_completed``."""

    def __init__(self) -> None:
        schema = RegisteredSchema(TENANT, "type", "order_completed", 1, ORDER_COMPLETED, 0)
        self.schemas = TenantSchemas(types={"order_completed": schema})

    def tenant_schemas(self, tenant: str) -> TenantSchemas:
        return self.schemas


def main(quick: bool = False) -> None:
    rounds = 5 if quick else 41
    repeats = 3 if quick else 21
    rng = random.Random(23)
    valid_builtin = [builtin_event(rng, number) for number in range(BATCH)]
    invalid_builtin = [builtin_invalid(rng, number) for number in range(BATCH)]
    valid_orders = [order(rng, number) for number in range(BATCH)]
    invalid_orders = [order_invalid(rng, number) for number in range(BATCH)]

    # Every event of the valid batches is accepted, every one of the invalid batches rejected.
    assert not validate_batch(valid_builtin, tenant=TENANT, received_at=RECEIVED_AT).rejected
    assert not validate_batch(invalid_builtin, tenant=TENANT, received_at=RECEIVED_AT).accepted
    cache = SchemaCache(OneTenantsSchemas(), 3600)
    valid_custom = custom_events(valid_builtin, valid_orders)
    invalid_custom = custom_events(valid_builtin, invalid_orders)
    assert not validate_batch(
        valid_custom, tenant=TENANT, received_at=RECEIVED_AT, schemas=cache.for_request(TENANT)
    ).rejected
    assert not validate_batch(
        invalid_custom, tenant=TENANT, received_at=RECEIVED_AT, schemas=cache.for_request(TENANT)
    ).accepted

    candidates = [(candidate, version) for candidate in CANDIDATES if (version := installed(candidate))]
    missing = [candidate for candidate in CANDIDATES if not installed(candidate)]
    checks = {candidate.name: candidate.compile(ORDER_COMPLETED) for candidate, _ in candidates}
    wrong: dict[str, str] = {}  # what a candidate got wrong, printed with its figures
    for name, check in checks.items():
        refused = sum(1 for event in valid_orders if check(event))
        missed = sorted(
            {
                ORDER_FAULTS[number % len(ORDER_FAULTS)]
                for number, event in enumerate(invalid_orders)
                if not check(event)
            }
        )
        if refused or missed:
            wrong[name] = f"refused {refused} valid; accepted {', '.join(missed) or 'no'} faults"

    def run_builtin(events: list[dict[str, Any]]) -> Callable[[], Any]:
        return lambda: validate_batch(events, tenant=TENANT, received_at=RECEIVED_AT, request_id="bench")

    def run_custom(events: list[dict[str, Any]]) -> Callable[[], Any]:
        return lambda: validate_batch(
            events, tenant=TENANT, received_at=RECEIVED_AT, request_id="bench", schemas=cache.for_request(TENANT)
        )

    def run_pydantic(events: list[dict[str, Any]]) -> Callable[[], Any]:
        return lambda: [EVENT_MODELS[event["event_type"]].model_validate(event) for event in events]

    def run_check(check: Check, events: list[dict[str, Any]]) -> Callable[[], Any]:
        return lambda: [check(event) for event in events]

    same_as_track = as_track(valid_builtin, valid_orders)
    assert not validate_batch(same_as_track, tenant=TENANT, received_at=RECEIVED_AT).rejected
    workloads: dict[str, Callable[[], Any]] = {
        "track same": run_builtin(same_as_track),
        "builtin valid": run_builtin(valid_builtin),
        "builtin invalid": run_builtin(invalid_builtin),
        "pydantic valid": run_pydantic(valid_builtin),
        "custom valid": run_custom(valid_custom),
        "custom invalid": run_custom(invalid_custom),
    }
    for name, check in checks.items():
        workloads[f"{name} valid"] = run_check(check, valid_orders)
        workloads[f"{name} invalid"] = run_check(check, invalid_orders)
    samples: dict[str, list[float]] = {label: [] for label in workloads}
    for function in workloads.values():  # warm
        function()
    for _ in range(rounds):  # interleaved: every workload sees the same machine load
        for label, function in workloads.items():
            samples[label].append(timed(function))
    per_event = {label: median_per_event(timings, BATCH) for label, timings in samples.items()}

    print(f"Python {sys.version.split()[0]} ({sys.platform}, {os.uname().machine}); median of {rounds} rounds")
    print(f"baseline: validate_batch of {BATCH} built-in events (page_view, button_click, track), per event:")
    print(
        f"  valid   {per_event['builtin valid'] * 1e6:6.1f} us  (of which pydantic model_validate "
        f"{per_event['pydantic valid'] * 1e6:.1f} us)"
    )
    print(f"  invalid {per_event['builtin invalid'] * 1e6:6.1f} us  (one of {FAULTS} faults each)")
    custom_valid, custom_invalid = per_event["custom valid"], per_event["custom invalid"]
    print(
        f"the collector's path: validate_batch of {BATCH} order_completed events (envelope, context, the order; "
        f"{mean_size(valid_custom):.0f} bytes each on average, the built-in ones {mean_size(valid_builtin):.0f}) "
        "through the tenant's cached schema, per event; ratio to the baseline of the same kind (target: 2x):"
    )
    print(
        f"  custom valid   {custom_valid * 1e6:6.1f} us {custom_valid / per_event['builtin valid']:5.2f}x"
        f" | invalid {custom_invalid * 1e6:6.1f} us {custom_invalid / per_event['builtin invalid']:5.2f}x"
    )
    same = per_event["track same"]
    print(
        f"  like for like: the same orders sent as built-in track events (properties, no schema) {same * 1e6:6.1f} us;"
        f" the custom type costs {custom_valid / same:5.2f}x that"
    )
    print(
        f"order_completed ({len(ORDER_COMPLETED['properties'])} fields, 1-4 line items), {BATCH} events, per event; "
        "ratio to the baseline of the same kind:"
    )
    for candidate, version in candidates:
        valid, invalid = per_event[f"{candidate.name} valid"], per_event[f"{candidate.name} invalid"]
        print(
            f"  {candidate.name:<15} {version:<8} valid {valid * 1e6:6.1f} us {valid / per_event['builtin valid']:5.2f}x"
            f" | invalid {invalid * 1e6:6.1f} us {invalid / per_event['builtin invalid']:5.2f}x"
            + (f"  WRONG: {wrong[candidate.name]}" if candidate.name in wrong else "")
        )
    for candidate in missing:
        print(
            f"  {candidate.name:<15} not installed (pip install {candidate.name}=={candidate.measured} to compare it)"
        )

    print(
        f"compile once per schema, and the first check after it (median of {repeats}, cold re cache); "
        f"import in a fresh interpreter (median of {max(3, repeats // 4)}):"
    )
    for candidate, _ in candidates:
        compiled, first = compile_and_first(candidate, valid_orders[0], repeats)
        imported = import_time(candidate.module, max(3, repeats // 4))
        print(
            f"  {candidate.name:<15} compile {compiled * 1e3:7.3f} ms, first check {first * 1e3:7.3f} ms, "
            f"import {imported * 1e3:6.1f} ms"
        )

    print("draft 2020-12 probes (keywords, format date-time asserted, ECMA-262 patterns):")
    for candidate, _ in candidates:
        failed = probe(candidate)
        verdict = "all enforced" if not failed else "fails: " + ", ".join(failed)
        print(f"  {candidate.name:<15} {len(PROBES) - len(failed)} of {len(PROBES)} ({verdict})")

    faulty = four_faults()
    print("errors for one order with four faults (wrong type, missing required, unknown field, below a minimum):")
    track = {**valid_builtin[2], "nmae": "x", "user_id": 42}
    del track["name"]
    print(f"  built-in (pydantic, a track event with three of them): {json.dumps(builtin_problems(track))}")
    for candidate, _ in candidates:
        print(f"  {candidate.name}, as it reports them (where, keyword, message):")
        for where, keyword, message in candidate.native(ORDER_COMPLETED, faulty):
            print(f"    {where:<38} {keyword:<22} {message}")
        print("    as the collector would answer (JSON pointer, message):")
        for where, message in checks[candidate.name](faulty):
            print(f"    {where:<38} {message}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few rounds only, to check the bench still runs")
    main(quick=parser.parse_args().quick)
