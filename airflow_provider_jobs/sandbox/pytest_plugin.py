"""pytest plugin (entry point `pytest11`): the `jobs_sandbox` fixture.

    def test_my_dag(jobs_sandbox, monkeypatch):
        name, value = jobs_sandbox.connection_env("spectrum")
        monkeypatch.setenv(name, value)
        ...
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def jobs_sandbox_server():
    """One sandbox server for the whole test session."""
    from airflow_provider_jobs.sandbox.server import Sandbox

    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def jobs_sandbox(jobs_sandbox_server):
    """The session's sandbox, reset (no faults, empty request log, no jobs) for each test."""
    jobs_sandbox_server.reset()
    yield jobs_sandbox_server
    jobs_sandbox_server.reset()
