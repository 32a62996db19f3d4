"""Two watchers of one job in Airflow 3.3's own triggerer code: `TriggerRunner.run_trigger` subscribes them to
its `SharedStreamManager` (shared_stream_key / open_shared_stream / filter_shared_stream): one listing per poll
for both, and each gets the event."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from airflow_provider_jobs.core import compat
from tests.support import use_connection, wait_until, wait_until_done

try:  # Airflow 3.3+: the triggerer shares event triggers' streams
    from airflow.jobs.triggerer_job_runner import TriggerRunner
    from airflow.triggers.shared_stream import SharedStreamManager  # noqa: F401
except ImportError:
    TriggerRunner = None

pytestmark = pytest.mark.skipif(
    TriggerRunner is None or not compat.AIRFLOW_V3,
    reason="shared streams for event triggers are in Airflow 3.3+ (earlier 3.x runs each watcher's run())")

HOOK = "airflow_provider_jobs.hooks.cdata_sync.CDataSyncHook"


def watcher(**kwargs: Any):
    from airflow_provider_jobs.core.events import JobRunFinishedTrigger

    return JobRunFinishedTrigger(hook=HOOK, conn_id="cdata_sync_default", job="Nightly", options={"lookup": "name"},
                                 poll_interval=0.05, **kwargs)


class Triggerer:
    """Airflow's TriggerRunner on its own event loop in a thread, running triggers with its run_trigger()."""

    def __init__(self) -> None:
        self.runner = TriggerRunner()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.tasks: list[asyncio.Future] = []

    def __enter__(self) -> Triggerer:
        self.thread.start()
        return self

    def run(self, trigger_id: int, trigger: Any) -> None:
        self.runner.triggers[trigger_id] = {"task": None, "is_watcher": True, "name": f"watcher {trigger_id}",
                                            "events": 0}
        self.tasks.append(asyncio.run_coroutine_threadsafe(self.runner.run_trigger(trigger_id, trigger), self.loop))

    def events(self, trigger_id: int) -> list[dict]:
        return [e.event.payload for e in list(self.runner.events) if e.trigger_id == trigger_id]

    def groups(self) -> int:
        return len(self.runner._shared_streams._groups)

    def __exit__(self, *exc: Any) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with pytest.raises((asyncio.CancelledError, Exception)):
                task.result(10)
        asyncio.run_coroutine_threadsafe(self.runner._shared_streams.stop_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def listings(sandbox) -> int:
    """The job history list calls (one per listing of the job's runs)."""
    return len(sandbox.requests("cdata_sync", "GET", r"/history$"))


def counting(trigger: Any, seen: dict[int, int], trigger_id: int) -> Any:
    """Count the snapshots the triggerer hands `trigger`'s filter_shared_stream (the trigger's own code runs)."""
    original = trigger.filter_shared_stream

    async def filter_shared_stream(shared_stream):
        async def tap():
            async for snapshot in shared_stream:
                seen[trigger_id] += 1
                yield snapshot

        async for event in original(tap()):
            yield event

    trigger.filter_shared_stream = filter_shared_stream
    return trigger


def test_two_watchers_share_one_listing_per_poll_and_both_fire(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "cdata_sync")
    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook

    job = sandbox.cdata_sync.add_job("Nightly", [{"query": "REPLICATE [Accounts]", "records": 3}])
    hook = CDataSyncHook(conn_id="cdata_sync_default")
    seen = {1: 0, 2: 0}
    first = counting(watcher(), seen, 1)
    second = counting(watcher(states=["SUCCESS", "FAILED"]), seen, 2)
    assert first.shared_stream_key() == second.shared_stream_key()
    with Triggerer() as triggerer:
        triggerer.run(1, first)
        triggerer.run(2, second)
        wait_until(lambda: seen[1] >= 2 and seen[2] >= 2, "both watchers got listings")
        assert triggerer.groups() == 1  # one shared stream for both
        ours = wait_until_done(hook, hook.start_run(str(job.job_id)))
        wait_until(lambda: triggerer.events(1) and triggerer.events(2), "both watchers fired")
        calls, snapshots = listings(sandbox), dict(seen)
        wait_until(lambda: seen[1] >= snapshots[1] + 6, "six more polls")
        calls, polls = listings(sandbox) - calls, {i: seen[i] - snapshots[i] for i in seen}
    # Each poll's one listing reached both watchers: as many history calls as snapshots (one may be in flight
    # at either end of the window), not one per watcher.
    assert abs(calls - polls[1]) <= 1 and abs(polls[2] - polls[1]) <= 1, (calls, polls)
    for trigger_id in (1, 2):
        assert [e["run"]["run_id"] for e in triggerer.events(trigger_id)] == [ours.run_id]
