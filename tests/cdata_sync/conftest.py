"""Fixtures for the CData Sync tests: the sandbox site and a connection pointing at it."""

from __future__ import annotations

import pytest

from tests.support import use_connection


@pytest.fixture
def sync(sandbox):
    """The sandbox's CData Sync site (reset for this test)."""
    return sandbox.cdata_sync


@pytest.fixture
def connect(sandbox, monkeypatch):
    """Point cdata_sync_default at the sandbox; keyword arguments override fields (extra merges). The API
    versions detected so far are forgotten (the sandbox may serve v1 only in this test), before and after."""
    from airflow_provider_jobs.hooks.cdata_sync import forget_api_versions

    def point(**overrides):
        forget_api_versions()
        return use_connection(monkeypatch, sandbox, "cdata_sync", **overrides)

    yield point
    forget_api_versions()


@pytest.fixture
def hook(connect):
    from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook

    connect()
    return CDataSyncHook()


def five_tasks(failing: tuple[int, ...] = (), records: int = 10, seconds: float = 0.05) -> list[dict]:
    """Five task specs for SyncSite.add_job; the positions in `failing` fail with a message."""
    tables = ["Accounts", "Contacts", "Leads", "Opportunities", "Cases"]
    return [{"query": f"REPLICATE [{t}] SELECT * FROM [{t}]", "seconds": seconds,
             "outcome": "Failed" if i in failing else "Successful", "records": records,
             "message": f"[{t}] destination refused the batch: column too long" if i in failing else None}
            for i, t in enumerate(tables)]
