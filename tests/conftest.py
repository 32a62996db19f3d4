"""Test setup: the provider's own pytest plugin (opt-in, as for users) gives a throwaway AIRFLOW_HOME with SQLite,
set before Airflow is imported, the sandbox fixtures and the DAG runner."""

from __future__ import annotations

import pytest

pytest_plugins = ["airflow_provider_jobs.testing"]

from tests.support import *  # noqa: E402,F403


@pytest.fixture(scope="session", autouse=True)
def airflow_db(jobs_airflow_db):
    """Create the metadata database once (dag.test() needs one)."""
    yield
