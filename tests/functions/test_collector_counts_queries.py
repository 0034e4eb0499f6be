"""No query string makes a count route answer 5xx: every parameter is bounded and named in a 4xx."""

from __future__ import annotations

from datetime import UTC

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


@HOSTILE
@given(value=st.one_of(st.text(max_size=100), st.just("x" * 9000)), route=st.sampled_from(["button", "page"]))
def test_given_any_seed_count_query_when_read_then_200_or_422(collector, lambda_context, value, route):
    path, name = ("/button/click/count", "button_id") if route == "button" else ("/web/page_view/count", "url")

    status, _, body = call(collector, api_request("GET", path, query=[(name, value)]), lambda_context)

    assert status in (200, 422), (status, body)
    assert (status == 200) == ("count" in body)
