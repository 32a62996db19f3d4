"""Errors name the object, the host and the likely fix."""

from __future__ import annotations

import pytest

from airflow_provider_jobs.core.errors import NotFoundError
from tests.support import use_connection


def test_an_unknown_spectrum_file_is_named(sandbox, monkeypatch):
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook

    use_connection(monkeypatch, sandbox, "spectrum")
    host = sandbox.url.split("://")[1]
    with pytest.raises(NotFoundError) as caught:
        SpectrumHook().start_run("/Sales/No Such Report")
    assert str(caught.value).startswith(f"spectrum file '/Sales/No Such Report' was not found on {host}/spectrum (")
    assert "Check the file id, uuid or path" in str(caught.value)
    with pytest.raises(NotFoundError, match="spectrum file '4242' was not found on"):
        SpectrumHook().start_run("4242")


def test_a_wrong_host_path_names_the_host_and_the_fix(sandbox, monkeypatch):
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook

    use_connection(monkeypatch, sandbox, "spectrum", host=f"{sandbox.url}/not-spectrum")
    host = sandbox.url.split("://")[1]
    with pytest.raises(NotFoundError) as caught:
        SpectrumHook().start_run("/Sales/Daily Report")
    text = str(caught.value)
    assert "HTTP 404" in text
    assert f"{host} has nothing at /not-spectrum/api/job-execution/Sales/Daily+Report/trigger" in text
    assert "check that connection 'spectrum_default' points at the spectrum API (its host, and any path prefix" in text


def test_cdata_does_not_blame_the_workspace_when_the_base_url_is_wrong(sandbox, monkeypatch):
    from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook

    use_connection(monkeypatch, sandbox, "cdata_sync", host=f"{sandbox.url}/elsewhere/api.rsc",
                   extra={"api_version": "v2"})
    host = sandbox.url.split("://")[1]
    with pytest.raises(NotFoundError) as caught:
        CDataSyncHook().list_jobs()
    text = str(caught.value)
    assert f"{host} answered HTTP 404 without a CData Sync error" in text
    assert "is probably not the Sync API. Check the connection's Server URL" in text
    assert "workspace" not in text.lower()
