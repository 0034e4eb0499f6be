"""No query string makes a count route answer 5xx: every parameter is bounded and named in a 4xx."""

from __future__ import annotations

from datetime import UTC

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import api_request, call

INSTANTS = st.one_of(
    st.text(max_size=50),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59+00:00",
            "0001-01-01T00:00:00-23:59",
            "9999-12-31T23:59:59+23:59",
            "1999-12-31T23:00:00Z",
            "2100-01-01T00:00:00Z",
            "²",
            "١٢٣",
            "-1",
            "",
            "nan",
            "2026-02-30T00:00:00Z",
        ]
    ),
)
OPTIONAL = st.one_of(st.none(), INSTANTS)
HOSTILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def query(**values: str | None) -> list[tuple[str, str]]:
    return [(name, value) for name, value in values.items() if value is not None]


@HOSTILE
@given(
    event_type=st.one_of(st.sampled_from(["page_view", "track", "button_click"]), st.text(max_size=80)),
    key=st.one_of(st.none(), st.text(max_size=50), st.just("x" * 9000)),
    start=OPTIONAL,
    end=OPTIONAL,
)
@example(event_type="page_view", key=None, start="0001-01-01T00:00:00+00:00", end=None)
@example(event_type="page_view", key=None, start=None, end="0001-01-01T00:00:30+00:00")
@example(event_type="page_view", key=None, start="9999-12-31T23:00:00+00:00", end="9999-12-31T23:59:59+00:00")
def test_given_any_counts_query_when_read_then_200_or_a_named_4xx(
    collector, lambda_context, event_type, key, start, end
):
    status, _, body = call(
        collector,
        api_request("GET", "/v1/counts", query=query(event_type=event_type, key=key, **{"from": start, "to": end})),
        lambda_context,
    )

    assert status in (200, 400), (status, body)
    if status == 400:
        assert body["error"] in {"invalid_query", "invalid_request"}
        assert body["message"]


DAYS = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.dates().map(str),
    st.sampled_from(
        [
            "0001-01-01",
            "9999-12-31",
            "1999-12-31",
            "2100-01-01",
            "2026-02-30",
            "20260301",
            "\uff12\uff10\uff12\uff16-01-01",
        ]
    ),
)


@HOSTILE
@given(
    event_type=st.one_of(st.sampled_from(["page_view", "track"]), st.text(max_size=80)),
    start=DAYS,
    end=DAYS,
    limit=st.one_of(st.none(), st.integers(min_value=-5, max_value=10**6).map(str), st.text(max_size=10)),
)
@example(event_type="page_view", start="2000-01-01", end="2000-12-31", limit="100")
@example(event_type="page_view", start="2099-01-01", end=None, limit="0")
def test_given_any_daily_counts_query_when_read_then_200_or_a_named_400(
    collector, lambda_context, event_type, start, end, limit
):
    parameters = query(event_type=event_type, limit=limit, **{"from": start, "to": end})

    status, _, body = call(collector, api_request("GET", "/v1/counts/daily", query=parameters), lambda_context)

    assert status in (200, 400), (status, body)
    if status == 400:
        assert body["error"] == "invalid_query"
        assert body["message"]


@HOSTILE
@given(value=st.one_of(st.text(max_size=100), st.just("x" * 9000)), route=st.sampled_from(["button", "page"]))
def test_given_any_seed_count_query_when_read_then_200_or_422(collector, lambda_context, value, route):
    path, name = ("/button/click/count", "button_id") if route == "button" else ("/web/page_view/count", "url")

    status, _, body = call(collector, api_request("GET", path, query=[(name, value)]), lambda_context)

    assert status in (200, 422), (status, body)
    assert (status == 200) == ("count" in body)


@pytest.mark.parametrize(
    ("path", "query", "status", "named"),
    [
        ("/v1/counts", [("event_type", "track"), ("from", "2026-01-01T00:00:00Z"), ("from", "2027-01-01T00:00:00Z")],
         400, "'from'"),
        ("/v1/counts", [("event_type", "track"), ("event_type", "page_view")], 400, "'event_type'"),
        ("/v1/counts", [("event_type", "track"), ("form", "2026-01-01T00:00:00Z")], 400, "'form'"),
        ("/v1/counts", [("event_type", "track"), ("writeKey", "k")], 400, "'writeKey'"),
        ("/v1/counts/daily", [("event_type", "track"), ("limit", "1"), ("limit", "2")], 400, "'limit'"),
        ("/v1/counts/daily", [("event_type", "track"), ("key", "a")], 400, "'key'"),
        ("/button/click/count", [("button_id", "a"), ("button_id", "b")], 422, "'button_id'"),
        ("/web/page_view/count", [("url", "a"), ("url", "b")], 422, "'url'"),
        ("/button/click/count", [("button_id", "\x00")], 422, "'button_id' must be"),
        ("/web/page_view/count", [("url", "\ud800")], 422, "'url' must be"),
        ("/web/page_view/count", [], 422, "'url' is required"),
    ],
)  # fmt: skip
def test_given_a_repeated_unknown_or_bad_parameter_when_counted_then_a_4xx_names_it(
    collector, lambda_context, path, query, status, named
):
    answered, _, body = call(collector, api_request("GET", path, query=query), lambda_context)

    assert (answered, body["error"]) == (status, "invalid_query")
    assert named in body["message"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/web/page_view/count", [("url", "https://example.com/a b"), ("_", "1700000000000")]),
        ("/button/click/count", [("button_id", "buy now"), ("_", "1700000000001")]),
        ("/v1/counts", [("event_type", "page_view"), ("_", "1700000000002")]),
        ("/v1/counts/daily", [("event_type", "page_view"), ("_", "1700000000003")]),
    ],
)
def test_given_jquery_s_cache_buster_when_counted_then_it_is_ignored_and_the_count_answers(
    collector, lambda_context, path, query
):
    # jQuery's `cache: false` adds `_=<ms>` to every GET: pages built for the original collector send it.
    answered, _, with_buster = call(collector, api_request("GET", path, query=query), lambda_context)
    _, _, without = call(collector, api_request("GET", path, query=query[:1]), lambda_context)

    assert answered == 200
    assert with_buster == without


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/button/click/count", [("button_id", "buy now"), ("url", "https://x/"), ("utm_source", "mail")]),
        ("/web/page_view/count", [("url", "https://example.com/a"), ("session_id", "s"), ("ref", "")]),
    ],
)
def test_given_a_seed_count_route_with_names_it_does_not_take_when_counted_then_they_are_ignored(
    collector, lambda_context, path, query
):
    # The original collector ignored query names it did not take; pages built for it add tracking tags.
    answered, _, with_extra = call(collector, api_request("GET", path, query=query), lambda_context)
    _, _, without = call(collector, api_request("GET", path, query=query[:1]), lambda_context)

    assert answered == 200
    assert with_extra == without


def test_given_a_query_name_with_no_values_when_counted_then_it_is_a_name_not_given(collector, lambda_context):
    request = api_request("GET", "/button/click/count", query=[("button_id", "b")])
    request["multiValueQueryStringParameters"] = {"button_id": [], "url": None}
    request["queryStringParameters"] = {"button_id": None}

    status, _, body = call(collector, request, lambda_context)

    assert (status, body["error"]) == (422, "invalid_query")
    assert "'button_id' is required" in body["message"]


def test_given_an_http_api_payload_2_event_with_a_repeat_when_counted_then_400(collector, lambda_context):
    request = api_request("GET", "/v1/counts", query=[("event_type", "track")])
    request |= {
        "version": "2.0",
        "rawQueryString": "event_type=track&from=1767225600000&from=1798761600000",
        "queryStringParameters": {"event_type": "track", "from": "1767225600000,1798761600000"},
        "multiValueQueryStringParameters": None,
    }

    status, _, body = call(collector, request, lambda_context)

    assert (status, body["error"]) == (400, "invalid_query")
    assert "'from'" in body["message"]
