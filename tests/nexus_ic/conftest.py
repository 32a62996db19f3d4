"""Fixtures for the NEXUS IC tests: the sandbox site and a connection pointing at it."""

from __future__ import annotations

import pytest

from tests.support import use_connection


@pytest.fixture
def nexus(sandbox):
    """The sandbox's NEXUS IC site (reset for this test)."""
    return sandbox.nexus_ic


@pytest.fixture
def connect(sandbox, monkeypatch):
    """Point nexus_ic_default at the sandbox; keyword arguments override fields (extra merges)."""

    def point(**overrides):
        return use_connection(monkeypatch, sandbox, "nexus_ic", **overrides)

    return point


@pytest.fixture
def hook(connect):
    from airflow_provider_jobs.hooks.nexus_ic import NexusICHook

    connect()
    return NexusICHook()
