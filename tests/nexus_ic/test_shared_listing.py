"""Shared listing: the triggerer's waits on one connection read their jobs from one `GET /jobStatus` (6.9+)."""

from __future__ import annotations

import logging

from airflow_provider_jobs.core.runs import JobState
from airflow_provider_jobs.hooks.nexus_ic import NexusICHook
from airflow_provider_jobs.operators.nexus_ic import NexusICRunReportOperator
from tests.support import first_events

POLL = 0.5  # a listing may then be 0.1 s old
LISTING = r"/jobStatus$"  # 6.9: no id in the path
PER_RUN = r"/jobStatus/."
LOGGER = "airflow_provider_jobs.core.listing"


def _waits(nexus, count: int, *, failing: int = 0, running: float = 2.0):
    hook = NexusICHook()
    runs = []
    for i in range(count):
        key = 100 + i
        nexus.add_template(f"R{i}", key=key, final="5" if i < failing else "4", running=running + (i % 4) * 0.1)
        runs.append(hook.start_run(str(key)))
    op = NexusICRunReportOperator(task_id="t", template_id=100, poll_interval=POLL, fetch_content=False)
    return runs, [op.make_trigger([run], None) for run in runs]


def test_many_waits_share_the_job_listing(nexus, connect, sandbox):
    connect()
    runs, triggers = _waits(nexus, 30, failing=3)

    events = first_events(triggers)

    assert sorted(e["status"] for e in events) == ["failed"] * 3 + ["success"] * 27
    assert [e["run"]["run_id"] for e in events] == [r.run_id for r in runs]
    checks = sum(e["polls"] for e in events)
    listings = len(sandbox.requests("nexus_ic", "GET", LISTING))
    per_run = len(sandbox.requests("nexus_ic", "GET", PER_RUN))
    assert listings >= 1
    # before the read rate is known (the first second) each job is read on its own; then the listing answers,
    # the end too (its entries are the Server Jobs jobStatus/{id} answers)
    assert per_run + listings < checks * 0.6, (per_run, listings, checks)
    for event in events:
        assert event["run"]["details"]["status_code"] in (4, 5)
        assert event["run"]["ended_at"]  # the listing's endClock
    failed = [e for e in events if e["status"] == "failed"]
    assert all("NEXUS IC reports the job failed" in e["message"] for e in failed)


def test_a_job_missing_from_the_listing_is_read_on_its_own(nexus, hook):
    nexus.add_template("R", key=7, running=30)
    seen = hook.start_run("7")
    nexus.jobs[seen.run_id].created -= 120  # started two minutes ago: it has ended
    nexus.listing_lag = 60.0  # a job started in the last minute is not in the listing yet
    hidden = hook.start_run("7")

    listed = hook.list_active_runs()

    assert hook.listing_key(seen) in listed and hook.listing_key(hidden) not in listed
    assert hook.listing_key(seen) == seen.run_id.upper()
    fresh = hook.run_from_listing(seen, listed[hook.listing_key(seen)])
    assert fresh is not None and fresh.state == JobState.SUCCESS and fresh.ended_at  # an end as jobStatus/{id}'s
    assert fresh.details["template_id"] == "7"  # the details of the run carry over


def test_a_listing_that_fails_falls_back_to_reading_each_job_and_says_so_once(nexus, connect, sandbox, caplog):
    connect(extra={"max_attempts": 1})
    sandbox.fault("nexus_ic", LISTING, 503)  # one failure: a second listing would show in the log
    runs, triggers = _waits(nexus, 30, running=1.6)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        events = first_events(triggers)

    assert {e["status"] for e in events} == {"success"}
    assert len(sandbox.requests("nexus_ic", "GET", LISTING)) == 1  # then not again for a while
    warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "each run is read on its own" in warnings[0]
    assert len(sandbox.requests("nexus_ic", "GET", PER_RUN)) >= sum(e["polls"] for e in events) - len(runs)


def test_a_server_without_the_listing_is_asked_once_and_quietly(nexus, connect, sandbox, caplog):
    connect()
    sandbox.fault("nexus_ic", LISTING, 404)  # as a server without GET jobStatus answers
    _, triggers = _waits(nexus, 30, running=1.6)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        events = first_events(triggers)

    assert {e["status"] for e in events} == {"success"}
    assert len(sandbox.requests("nexus_ic", "GET", LISTING)) == 1  # never again in this event loop
    said = [r for r in caplog.records if r.name == LOGGER]
    assert [r.levelno for r in said] == [logging.INFO] and "has no listing of active runs" in said[0].getMessage()


def test_before_6_9_there_is_no_listing_to_share(nexus, connect, sandbox):
    nexus.version = "6.8"
    connect(extra={"api_version": "6.8"})
    _, triggers = _waits(nexus, 30, running=1.6)

    events = first_events(triggers)

    assert {e["status"] for e in events} == {"success"}
    reads = sandbox.requests("nexus_ic", "GET", r"/jobStatus")
    assert reads and all("id=" in r.query for r in reads)  # each job read with jobStatus?id=, never a listing
