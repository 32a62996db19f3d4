"""Bad connections, for every vendor: a clear error naming the field, before any request is sent."""

from __future__ import annotations

import json

import pytest

from tests.reliability.profiles import PROFILES
from tests.support import captured_logs, make_dag, run_dag


@pytest.fixture(params=PROFILES, ids=[p.vendor for p in PROFILES])
def profile(request):
    return request.param


def _run(profile, sandbox, output, **op_kwargs):
    job = profile.make_job(sandbox)
    dag = make_dag(f"bad_conn_{profile.vendor}")
    with dag:
        profile.make_operator("job", job, poll_interval=0.1, **op_kwargs)
    with captured_logs() as logs:
        states = run_dag(dag)
    return states["job"], "\n".join(logs.records) + output()


def test_unknown_connection_id(profile, sandbox, output):
    state, text = _run(profile, sandbox, output, conn_id="no_such_connection")
    assert state == "failed" and "no_such_connection" in text and "isn't defined" in text
    assert sandbox.requests(profile.vendor) == []


def test_connection_without_host(profile, sandbox, monkeypatch, output):
    conn = sandbox.connection(profile.vendor, host="")
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn['conn_type'].upper()}_DEFAULT", json.dumps(conn))
    state, text = _run(profile, sandbox, output)
    assert state == "failed" and f"connection '{conn['conn_type']}_default' host: is empty" in text
    assert sandbox.requests(profile.vendor) == []


def test_connection_with_a_foreign_scheme(profile, sandbox, monkeypatch, output):
    conn = sandbox.connection(profile.vendor)
    conn["host"] = "ftp://" + conn["host"].split("://", 1)[1]
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn['conn_type'].upper()}_DEFAULT", json.dumps(conn))
    state, text = _run(profile, sandbox, output)
    assert state == "failed" and "Use http:// or https://" in text
    assert sandbox.requests(profile.vendor) == []
