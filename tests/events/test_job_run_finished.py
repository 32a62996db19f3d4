"""JobRunFinishedTrigger, run as a triggerer runs an event trigger (its own event loop, for as long as it lives),
against the sandbox: runs started outside Airflow fire exactly once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import ConfigurationError, JobProviderError
from tests.support import use_connection, wait_until, wait_until_done

HOOK = "airflow_provider_jobs.hooks.cdata_sync.CDataSyncHook"


class Watching:
    """A trigger's run() driven on its own event loop in a thread (as the triggerer does); events collected."""

    def __init__(self, trigger) -> None:
        self.trigger = trigger
        self.events: list[dict] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self.task = asyncio.current_task()
        try:
            async for event in self.trigger.run():
                self.events.append(event.payload)
        except asyncio.CancelledError:
            pass

    def __enter__(self) -> Watching:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        wait_until(lambda: getattr(self, "task", None), "the trigger's task started")
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(10)


def listings(sandbox) -> int:
    return len(sandbox.requests("cdata_sync", "GET", r"/history"))


def trigger(**kwargs):
    from airflow_provider_jobs.core.events import JobRunFinishedTrigger

    return JobRunFinishedTrigger(**{"hook": HOOK, "conn_id": "cdata_sync_default", "job": "Nightly",
                                    "options": {"lookup": "name"}, "poll_interval": 0.05, **kwargs})


pytestmark = pytest.mark.skipif(not compat.AIRFLOW_V3, reason="event-driven scheduling is Airflow 3 only")


def _run_outside_airflow(sandbox, job_id):
    """Start a run as another client would (the hook's own API call, no Airflow task) and wait for its end."""
    from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook

    hook = CDataSyncHook(conn_id="cdata_sync_default")
    run = hook.start_run(str(job_id))
    return wait_until_done(hook, run)


def test_a_run_started_outside_airflow_fires_exactly_once_and_earlier_runs_never(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "cdata_sync")
    job = sandbox.cdata_sync.add_job("Nightly", [{"query": "REPLICATE [Accounts]", "records": 7}])
    earlier = _run_outside_airflow(sandbox, job.job_id)  # ended before anyone watched
    with Watching(trigger()) as watching:
        wait_until(lambda: listings(sandbox) >= 1, "the trigger took its baseline listing")
        ours = _run_outside_airflow(sandbox, job.job_id)
        wait_until(lambda: watching.events, "the trigger fired")
        seen = listings(sandbox)
        wait_until(lambda: listings(sandbox) >= seen + 3, "three more listings")
    assert [e["run"]["run_id"] for e in watching.events] == [ours.run_id]
    event = watching.events[0]
    assert event["status"] == "success"
    assert event["run"]["state"] == "SUCCESS" and event["run"]["details"]["records_affected"] == 7
    assert earlier.run_id != ours.run_id

    # A triggerer restart: the same trigger again. Both runs ended before it: nothing fires.
    with Watching(trigger()) as again:
        wait_until(lambda: listings(sandbox) >= seen + 6, "three listings after the restart")
    assert again.events == []


def test_states_choose_what_fires_and_since_replays_recent_ends(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "cdata_sync")
    job = sandbox.cdata_sync.add_job("Nightly", [{"query": "REPLICATE [Accounts]", "outcome": "Failed"}])
    failed = _run_outside_airflow(sandbox, job.job_id)
    assert failed.state.value == "FAILED"
    start = listings(sandbox)
    with Watching(trigger(states=["FAILED"], since="2000-01-01T00:00:00+00:00")) as watching:
        wait_until(lambda: watching.events, "the trigger fired for the failed run that ended since")
        wait_until(lambda: listings(sandbox) >= start + 3, "three listings")
    assert [e["run"]["run_id"] for e in watching.events] == [failed.run_id]
    with Watching(trigger()) as success_only:  # the default states: a failed run never fires
        wait_until(lambda: listings(sandbox) >= start + 6, "three more listings")
    assert success_only.events == []


def test_bad_arguments_fail_naming_the_field():
    with pytest.raises(ConfigurationError, match="states"):
        trigger(states=["DONE"])
    with pytest.raises(ConfigurationError, match="since"):
        trigger(since="yesterday")
    with pytest.raises(JobProviderError):
        trigger(hook="airflow_provider_jobs.core.runs.JobRun")


def test_watchers_of_one_job_share_a_key_and_others_do_not():
    assert trigger().shared_stream_key() == trigger(states=["FAILED"]).shared_stream_key()
    assert trigger().shared_stream_key() != trigger(job="Other").shared_stream_key()
    assert trigger().serialize() == trigger().serialize()  # the same DAG parsed again: the same trigger
