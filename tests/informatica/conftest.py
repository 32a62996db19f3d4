"""Fixtures for the Informatica tests: the sandbox site and a connection pointing at it."""

from __future__ import annotations

import pytest

from tests.support import use_connection


@pytest.fixture
def iics(sandbox):
    """The sandbox's Informatica site (reset for this test)."""
    return sandbox.informatica


@pytest.fixture
def connect(sandbox, monkeypatch):
    """Point informatica_cloud_default at the sandbox; keyword arguments override fields (extra merges)."""

    def point(**overrides):
        return use_connection(monkeypatch, sandbox, "informatica", **overrides)

    return point


@pytest.fixture
def hook(connect):
    from airflow_provider_jobs.hooks.informatica import InformaticaCloudHook

    connect()
    return InformaticaCloudHook()
