"""pytest fixtures of the sandbox alone: `jobs_sandbox` (opt in with `-p airflow_provider_jobs.sandbox.pytest_plugin`;
`airflow_provider_jobs.testing` includes them with a throwaway Airflow home and a DAG runner).

    def test_my_dag(jobs_sandbox, monkeypatch):
        name, value = jobs_sandbox.connection_env("spectrum")
        monkeypatch.setenv(name, value)
        ...

A fault a test arms must fire: when the test ends with faults armed and never served, the fixture fails
it, naming the vendor, path regex, method and the faults left (a fault aimed at the wrong route would
otherwise let the test pass without the misbehaviour ever happening). Faults a scenario may or may not
reach are armed with `jobs_sandbox.fault(..., optional=True)`.
"""

from __future__ import annotations

import pytest

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = True
    return report


@pytest.fixture(scope="session")
def jobs_sandbox_server():
    """One sandbox server for the whole test session."""
    from airflow_provider_jobs.sandbox.server import Sandbox

    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def jobs_sandbox(jobs_sandbox_server, request):
    """The session's sandbox, reset (no faults, empty request log, no jobs) for each test.

    Fails the test at teardown if a fault it armed (not `optional`) was never served.
    """
    from airflow_provider_jobs.sandbox.core import describe_unserved

    jobs_sandbox_server.reset()
    yield jobs_sandbox_server
    unserved = jobs_sandbox_server.reset()
    if unserved and not request.node.stash.get(_CALL_FAILED, False):  # a failed test already says what went wrong
        pytest.fail("faults armed in the sandbox were never served (aimed at the wrong route or method? pass "
                    "optional=True for a fault the test does not require):\n" + describe_unserved(unserved),
                    pytrace=False)
