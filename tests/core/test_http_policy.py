"""The one retry policy and classifier: tables, no I/O."""

from __future__ import annotations

import pytest

from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.core.http import (
    ApiRequest,
    RetryPolicy,
    TransportFailure,
    Verdict,
    classify,
    classify_failure,
    parse_retry_after,
    path_segment,
)

GET = ApiRequest("GET", "/x")
POST = ApiRequest("POST", "/x")
LOGIN = ApiRequest("POST", "/login", authenticated=False)


@pytest.mark.parametrize(
    ("status", "request_", "verdict"),
    [
        (200, GET, Verdict.OK),
        (204, POST, Verdict.OK),
        (401, GET, Verdict.REAUTH),
        (401, LOGIN, Verdict.FAIL),
        (403, GET, Verdict.FAIL),
        (404, GET, Verdict.FAIL),
        (409, POST, Verdict.FAIL),
        (429, GET, Verdict.RETRY),
        (429, POST, Verdict.RETRY),
        (500, GET, Verdict.RETRY),
        (502, GET, Verdict.RETRY),
        (503, GET, Verdict.RETRY),
        (504, GET, Verdict.RETRY),
        (503, POST, Verdict.RETRY),
        (500, POST, Verdict.AMBIGUOUS),
        (502, POST, Verdict.AMBIGUOUS),
        (504, POST, Verdict.AMBIGUOUS),
        (501, GET, Verdict.FAIL),
        (400, POST, Verdict.FAIL),
    ],
)
def test_classify_status(status, request_, verdict):
    assert classify(status, request_) == verdict


def test_accepted_status_is_an_answer():
    assert classify(404, ApiRequest("GET", "/x", accept=frozenset({404}))) == Verdict.OK


@pytest.mark.parametrize(
    ("failure", "request_", "verdict"),
    [
        (TransportFailure("connection refused", False, ""), POST, Verdict.RETRY),
        (TransportFailure("connection reset", True, ""), GET, Verdict.RETRY),
        (TransportFailure("connection reset", True, ""), POST, Verdict.AMBIGUOUS),
        (TransportFailure("read timeout", True, ""), POST, Verdict.AMBIGUOUS),
        (TransportFailure("read timeout", True, ""), ApiRequest("POST", "/stop", idempotent=True), Verdict.RETRY),
    ],
)
def test_classify_failure(failure, request_, verdict):
    assert classify_failure(failure, request_) == verdict


def test_backoff_is_capped_exponential_with_jitter():
    policy = RetryPolicy(initial_delay=1, max_delay=8, jitter=0.25)
    for attempt, base in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(base * 0.75 <= d <= base * 1.25 for d in delays)
        assert len(delays) > 1  # jitter


def test_retry_after_wins_and_is_capped():
    policy = RetryPolicy(max_retry_after=60)
    assert policy.delay(1, 7.0) == 7.0
    assert policy.delay(1, 3600.0) == 60


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), ("0", 0.0), ("1.5", 1.5), ("", None), (None, None), ("soon", None)],
)
def test_parse_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [("a/b", "a%2Fb"), ("a b", "a%20b"), ("x?y=1", "x%3Fy%3D1"), ("42", "42"), ("%2E%2E", "%252E%252E"),
     ("a#b", "a%23b")],
)
def test_path_segment_cannot_escape(raw, encoded):
    assert path_segment(raw) == encoded


@pytest.mark.parametrize("raw", ["..", ".", ""])
def test_path_segment_refuses_ids_that_name_another_endpoint(raw):
    # Both HTTP stacks decode %2E%2E and normalise the path: no encoding of these is safe.
    with pytest.raises(ConfigurationError, match="would name another endpoint"):
        path_segment(raw)
