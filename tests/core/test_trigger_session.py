"""Many triggers in one event loop share one aiohttp session and one credential."""

from __future__ import annotations

import aiohttp

from airflow_provider_jobs.hooks.spectrum import SpectrumHook
from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator
from tests.support import first_events, use_connection


def test_twenty_triggers_share_one_session(sandbox, monkeypatch, mocker):
    use_connection(monkeypatch, sandbox, "spectrum")
    hook = SpectrumHook()
    runs = []
    for i in range(20):
        sandbox.spectrum.add_file(f"/Many/{i}", running=0.2 + i * 0.01)
        runs.append(hook.start_run(f"/Many/{i}"))
    op = SpectrumTriggerJobOperator(task_id="x", file="/Many/0", poll_interval=0.05)
    triggers = [op.make_trigger([run], None) for run in runs]
    sessions = mocker.spy(aiohttp.ClientSession, "__init__")

    events = first_events(triggers)
    assert [e["status"] for e in events] == ["success"] * 20
    assert sessions.call_count == 1
    polls = sandbox.requests("spectrum", "GET", "/job-details/")
    assert len(polls) >= 40 and all("aiohttp" in p.agent for p in polls)
