"""Shared listing: the triggerer's waits on one connection read their runs from one activity monitor call."""

from __future__ import annotations

import asyncio
import logging

from airflow_provider_jobs.core import listing
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.hooks.informatica import InformaticaCloudHook
from airflow_provider_jobs.operators.informatica import InformaticaRunTaskOperator
from tests.support import first_event, first_events

POLL = 0.5  # a listing may then be 0.1 s old
MONITOR = r"/activity/activityMonitor$"
LOG = r"/activity/activityLog$"


def _waits(iics, count: int, *, failing: int = 0, running: float = 2.6):
    hook = InformaticaCloudHook()
    runs = []
    for i in range(count):
        task = iics.add_task(f"Shared{i}", final="3" if i < failing else "1", queued=0.05,
                             running=running + (i % 4) * 0.1)
        runs.append(hook.start_run(task.task_id, task_type="MTT"))
    op = InformaticaRunTaskOperator(task_id="t", informatica_task_type="MTT", informatica_task_id=runs[0].job_id,
                                    poll_interval=POLL)
    return runs, [op.make_trigger([run], None) for run in runs]


def _with_busy_board(triggers) -> list[dict]:
    """The triggers' first events, on a loop whose board already measured many reads (the next one lists)."""

    async def everything() -> list[dict]:
        board = listing.board_for(InformaticaCloudHook())
        board.rate = 1000.0
        return await asyncio.gather(*(first_event(t, 30.0) for t in triggers))

    return asyncio.run(everything())


def test_many_waits_share_the_monitor_and_read_each_end_from_the_log(iics, connect, sandbox):
    connect()
    runs, triggers = _waits(iics, 30, failing=3)

    events = first_events(triggers)

    assert sorted(e["status"] for e in events) == ["failed"] * 3 + ["success"] * 27
    assert [e["run"]["run_id"] for e in events] == [r.run_id for r in runs]
    checks = sum(e["polls"] for e in events)
    monitor = len(sandbox.requests("informatica", "GET", MONITOR))
    logged = len(sandbox.requests("informatica", "GET", LOG))
    # each check read the monitor before; now one listing answers the checks of its moment, and a run the
    # monitor no longer shows as running is read on its own (monitor and log) with get_run
    assert monitor < checks * 0.75, (monitor, checks)
    assert logged >= len(runs)  # every end comes from the activity log
    for event in events:
        assert event["run"]["details"]["log_state"] in (1, 3)  # the final state is the log's
        assert event["run"]["details"]["success_target_rows"] is not None
    failed = [e for e in events if e["status"] == "failed"]
    assert all(e["run"]["details"]["error_message"] for e in failed)


def test_the_listing_is_the_monitor_keyed_by_task_and_run(iics, hook):
    busy = iics.add_task("Busy", running=30)
    other = iics.add_task("Other", running=30)
    run = hook.start_run(busy.task_id, task_type="MTT")
    hook.start_run(other.task_id, task_type="MTT")

    listed = hook.list_active_runs()

    assert hook.listing_key(run) in listed
    assert (other.task_id, "1") in listed and len(listed) == 2
    fresh = hook.run_from_listing(run, listed[hook.listing_key(run)])
    assert fresh is not None and fresh.state in (JobState.QUEUED, JobState.RUNNING)
    assert fresh.details["server_url"] == run.details["server_url"] and fresh.details["seen"] is True
    ended = {**listed[hook.listing_key(run)], "executionState": "COMPLETED"}
    assert hook.run_from_listing(run, ended) is None  # the end is read from the activity log
    service = JobRun("informatica", "Flow", "77", JobState.RUNNING, details={"kind": "taskflow_service"})
    assert hook.listing_key(service) is None  # a taskflow service run is never in the monitor


def test_a_failing_monitor_listing_falls_back_to_reading_each_run(iics, connect, sandbox, caplog):
    connect(extra={"max_attempts": 1})
    sandbox.fault("informatica", MONITOR, 403)  # the first monitor call is the listing (the board is busy)
    runs, triggers = _waits(iics, 12, running=0.6)

    with caplog.at_level(logging.WARNING, logger="airflow_provider_jobs.core.listing"):
        events = _with_busy_board(triggers)

    assert {e["status"] for e in events} == {"success"}
    first = sandbox.requests("informatica", "GET", MONITOR)[0]
    assert first.status == 403
    warnings = [r.getMessage() for r in caplog.records if r.name == "airflow_provider_jobs.core.listing"]
    assert len(warnings) == 1 and "each run is read on its own" in warnings[0]
    # no second listing for a while: every later monitor call is a run's own read, one per check at most
    checks = sum(e["polls"] for e in events)
    assert len(sandbox.requests("informatica", "GET", MONITOR)) - 1 <= checks


def test_taskflow_service_waits_do_not_take_listings(iics, connect, sandbox):
    connect()
    iics.add_taskflow("Nightly_Flow", running=1.2)
    hook = InformaticaCloudHook()
    runs = [hook.start_taskflow("Nightly_Flow") for _ in range(10)]
    op = InformaticaRunTaskOperator(task_id="t", informatica_task_type="TASKFLOW_SERVICE",
                                    task_name="Nightly_Flow", poll_interval=POLL)

    events = _with_busy_board([op.make_trigger([run], None) for run in runs])

    assert {e["status"] for e in events} == {"success"}
    assert sandbox.requests("informatica", "GET", MONITOR) == []
