"""`airflow connections test` (hook.test_connection): one try, and it says what failed."""

from __future__ import annotations

import socket

from airflow_provider_jobs.hooks.spectrum import SpectrumHook
from tests.support import captured_logs, use_connection


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_port_is_tried_once_and_named(sandbox, monkeypatch):
    port = _closed_port()
    # the connection's own retry budget is large: the test button must not spend it
    use_connection(monkeypatch, sandbox, "spectrum", host=f"http://127.0.0.1:{port}",
                   extra={"max_attempts": 8, "retry_initial_delay": 5, "retry_max_delay": 30})
    hook = SpectrumHook()
    with captured_logs() as logs:
        ok, message = hook.test_connection()
    assert not ok
    assert f"127.0.0.1:{port}" in message and "connection" in message.lower()
    assert message.endswith("(tried once, without retries)")
    assert not [line for line in logs.records if "retrying in" in line]
    assert hook.retry_policy.max_attempts == 8  # the hook's own calls keep the connection's policy


def test_a_good_connection_says_so(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    ok, message = SpectrumHook().test_connection()
    assert ok and message.startswith("Connected to Datameer Spectrum at ")


def test_a_server_error_is_not_retried_by_the_test(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.fault("spectrum", "/list-running$", 503)
    ok, message = SpectrumHook().test_connection()
    assert not ok and "HTTP 503" in message
    assert [r.status for r in sandbox.requests("spectrum", "GET", "/list-running$")] == [503]
