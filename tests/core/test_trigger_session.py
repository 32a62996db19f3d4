"""Many triggers in one event loop share one aiohttp session and one credential."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp

from airflow_provider_jobs.hooks.spectrum import SpectrumHook
from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator
from tests.support import await_until, first_event, use_connection


def test_twenty_triggers_share_one_session(sandbox, monkeypatch, mocker):
    use_connection(monkeypatch, sandbox, "spectrum")
    hook = SpectrumHook()
    runs = []
    for i in range(20):
        sandbox.spectrum.add_file(f"/Many/{i}", running=60)  # each ends when the test has seen it read twice
        runs.append(hook.start_run(f"/Many/{i}"))
    op = SpectrumTriggerJobOperator(task_id="x", file="/Many/0", poll_interval=0.05)
    triggers = [op.make_trigger([run], None) for run in runs]
    sessions = mocker.spy(aiohttp.ClientSession, "__init__")

    def read_twice() -> bool:
        reads = Counter(s.path.rsplit("/", 1)[-1] for s in sandbox.requests("spectrum", "GET", "/job-details/"))
        return all(reads[run.run_id] >= 2 for run in runs)

    async def everything() -> list[dict]:
        waits = asyncio.gather(*(first_event(t) for t in triggers))
        await await_until(read_twice, "every run has been read twice", limit=30)
        for run in runs:
            sandbox.spectrum.runs[run.run_id].stop("COMPLETED")
        return await waits

    events = asyncio.run(everything())
    assert [e["status"] for e in events] == ["success"] * 20
    assert sessions.call_count == 1
    polls = sandbox.requests("spectrum", "GET", "/job-details/")
    assert len(polls) >= 40 and all("aiohttp" in p.agent for p in polls)
    assert all("aiohttp" in s.agent for s in sandbox.requests("spectrum", "GET", "/list-running"))
