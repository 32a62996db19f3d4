"""Shared listings: many triggers on one connection read their runs' states from one listing call."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import pytest

from airflow_provider_jobs.core import listing
from airflow_provider_jobs.core.listing import ListingBoard, listing_age
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.hooks.ocapi import SEARCH_PAGE, OcapiHook
from airflow_provider_jobs.hooks.spectrum import SpectrumHook
from airflow_provider_jobs.operators.ocapi import OcapiRunJobOperator
from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator
from tests.support import await_until, first_event, first_events, use_connection

POLL = 0.5  # a listing may then be 0.1 s old


def _events(triggers) -> list[dict]:
    return first_events(triggers)


def _events_ended_after_sharing(sandbox, vendor: str, listing: tuple[str, str], triggers, ends) -> list[dict]:
    """The triggers' events, their runs held running until the shared listing has answered reads for a
    second (taken over one second, as the sandbox served it), then ended: `ends` pairs each sandbox run with the
    vendor state it ends in. Deterministic where runs of a fixed length race a loaded machine."""

    def shared_for_a_second() -> bool:
        taken = sandbox.requests(vendor, *listing)
        return len(taken) >= 2 and taken[-1].at - taken[0].at >= 1.0

    async def everything() -> list[dict]:
        waits = asyncio.gather(*(first_event(t) for t in triggers))
        await await_until(shared_for_a_second, f"{vendor} listings were taken over a second", limit=60)
        for sim, final in ends:
            sim.stop(final)
        return await waits

    return asyncio.run(everything())


def _per_run_reads(sandbox, vendor: str, path: str) -> Counter:
    return Counter(s.path.rsplit("/", 1)[-1] for s in sandbox.requests(vendor, "GET", path))


def _spectrum_waits(sandbox, count: int, *, failing: int = 0, running: float | None = None):
    hook = SpectrumHook()
    runs = []
    for i in range(count):
        final = "ERROR" if i < failing else "COMPLETED"
        sandbox.spectrum.add_file(f"/Shared/{i}", final=final, queued=0.05,
                                  running=running or 1.6 + (i % 5) * 0.1)
        runs.append(hook.start_run(f"/Shared/{i}"))
    op = SpectrumTriggerJobOperator(task_id="t", file="/Shared/0", poll_interval=POLL)
    return runs, [op.make_trigger([run], None) for run in runs]


def test_many_spectrum_waits_share_list_running_and_read_each_end_on_their_own(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    runs, triggers = _spectrum_waits(sandbox, 40, failing=4, running=300)
    ends = [(sandbox.spectrum.runs[r.run_id], "ERROR" if i < 4 else "COMPLETED") for i, r in enumerate(runs)]

    events = _events_ended_after_sharing(sandbox, "spectrum", ("GET", "/list-running"), triggers, ends)

    assert sorted(e["status"] for e in events) == ["failed"] * 4 + ["success"] * 36
    assert [e["run"]["run_id"] for e in events] == [r.run_id for r in runs]
    checks = sum(e["polls"] for e in events)
    per_run = _per_run_reads(sandbox, "spectrum", "/job-details/")
    # before the read rate is known (the first second: at most 3 polls 0.5 s apart) each run is read on its own,
    # and so is each end; the other polls (a second of them at least) are answered by the shared listing
    assert max(per_run.values()) <= 4, per_run
    assert checks - sum(per_run.values()) >= len(runs), (checks, per_run)
    for event in events:  # the end comes from job details (the listing has no counters)
        assert "counters" in event["run"]["details"]
    failed = [e for e in events if e["status"] == "failed"]
    assert all("ERROR" in e["message"] for e in failed)


def test_a_lone_wait_reads_its_own_run(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    _, triggers = _spectrum_waits(sandbox, 1)

    (event,) = _events(triggers)

    assert event["status"] == "success"
    assert sandbox.requests("spectrum", "GET", "/list-running") == []


def test_the_connection_can_turn_sharing_off(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum", extra={"share_status_reads": "false"})
    _, triggers = _spectrum_waits(sandbox, 30)

    events = _events(triggers)

    assert {e["status"] for e in events} == {"success"}
    assert sandbox.requests("spectrum", "GET", "/list-running") == []


def test_a_failing_listing_falls_back_to_reading_each_run_and_says_so_once(sandbox, monkeypatch, caplog):
    use_connection(monkeypatch, sandbox, "spectrum", extra={"max_attempts": 1})
    sandbox.fault("spectrum", r"/list-running$", 403)  # one refusal: a second listing would show in the log
    runs, triggers = _spectrum_waits(sandbox, 30)

    with caplog.at_level(logging.WARNING, logger="airflow_provider_jobs.core.listing"):
        events = _events(triggers)

    assert {e["status"] for e in events} == {"success"}
    assert len(sandbox.requests("spectrum", "GET", "/list-running")) == 1  # then not again for a while
    warnings = [r.getMessage() for r in caplog.records if r.name == "airflow_provider_jobs.core.listing"]
    assert len(warnings) == 1
    assert "listing the active runs of connection 'spectrum_default' failed" in warnings[0]
    assert "each run is read on its own" in warnings[0]
    password = sandbox.spectrum.connection("")["password"]
    assert password not in warnings[0]


def test_ocapi_lists_every_active_execution_page_by_page(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi")
    hook = OcapiHook()
    count = SEARCH_PAGE + 30
    for i in range(count):
        sandbox.ocapi.add_job(f"Busy{i}", pending=0.0, running=60)
        sandbox.ocapi.start(f"Busy{i}")
    sandbox.ocapi.add_job("Done", pending=0.0, running=0.0)
    done = sandbox.ocapi.start("Done")

    listed = hook.list_active_runs()

    assert len(listed) == count
    assert ("Done", str(done.run_id)) not in listed
    assert len(sandbox.requests("ocapi", "POST", "job_execution_search")) == 2
    key = next(k for k in listed if k[0] == "Busy7")
    run = hook.run_from_listing(hook.get_run(JobRun("ocapi", "Busy7", key[1], JobState.QUEUED)), listed[key])
    assert run.state == JobState.RUNNING and run.details["execution_status"] == "running"
    assert run.details["backend"] == "ocapi" and run.details["steps"]


def test_many_ocapi_waits_share_the_search(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi")
    hook = OcapiHook()
    runs = []
    for i in range(30):
        sandbox.ocapi.add_job(f"Shared{i}", pending=0.05, running=300, steps=["Export", "Upload"])
        runs.append(hook.start_run(f"Shared{i}"))
    op = OcapiRunJobOperator(task_id="t", job_id="Shared0", poll_interval=POLL)
    ends = [(sandbox.ocapi.executions[r.run_id], "finished") for r in runs]

    events = _events_ended_after_sharing(sandbox, "ocapi", ("POST", "job_execution_search"),
                                         [op.make_trigger([run], None) for run in runs], ends)

    assert {e["status"] for e in events} == {"success"}
    checks = sum(e["polls"] for e in events)
    per_run = _per_run_reads(sandbox, "ocapi", "/executions/")
    # as for Spectrum: at most 3 reads of its own before the rate is known, and the end
    assert max(per_run.values()) <= 4, per_run
    assert checks - sum(per_run.values()) >= len(runs), (checks, per_run)
    assert all(e["run"]["details"]["steps"] for e in events)


def test_a_listing_is_taken_only_when_it_answers_enough_reads():
    board = ListingBoard("x")
    for t in range(10):  # 10 reads in one second: 10 per second
        board.count_read(100.0 + t * 0.1)
    board.count_read(101.0)
    assert board.rate == pytest.approx(10.0)
    assert not board.worth_listing(0.1, 0.02)  # one read per listing: each reads its own run
    assert board.worth_listing(0.5, 0.02)  # five
    board.size = 1000  # but not when the listing is long beside the reads it answers
    assert not board.worth_listing(0.5, 0.02)


def test_a_listing_may_be_a_small_share_of_the_poll_interval():
    assert listing_age(1.0) == pytest.approx(0.2)
    assert listing_age(10.0) == listing.MAX_AGE
    assert listing_age(0.0) == 0.0


def test_a_listing_nobody_replaced_is_dropped():
    board = ListingBoard("x")
    board.entries, board.taken_at = {"1": {}}, 5.0
    listing._forget(board, 4.0)  # a later listing replaced the one this timer was for
    assert board.entries == {"1": {}}
    listing._forget(board, 5.0)
    assert board.entries is None
