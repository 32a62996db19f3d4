"""The hook's looks for a run that may not be visible yet (read_recorded_run, find_run_started_since): written once as
operations whose pauses are Sleep steps, so a worker's drive really sleeps (time.sleep) and the triggerer's awaits
without blocking its event loop. Real HTTP against the sandbox (Spectrum); no test sleeps or times anything."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from airflow_provider_jobs.core.errors import NotFoundError
from airflow_provider_jobs.hooks.spectrum import SpectrumHook
from tests.support import await_until, use_connection

FILE = "/Looks/Job"
DETAILS = r"/job-details/"
STATUS = r"/Looks/Job/status$"


def connect(monkeypatch: Any, sandbox: Any, lag: float) -> SpectrumHook:
    use_connection(monkeypatch, sandbox, "spectrum", extra={"start_visibility_lag": lag})
    sandbox.spectrum.add_file(FILE, running=30)
    return SpectrumHook()


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The worker's sleeps, recorded instead of slept (the sync driver calls time.sleep)."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


@pytest.fixture
def no_blocking_sleep(monkeypatch) -> None:
    """The triggerer's event loop must never block: a time.sleep from the async drive fails the test."""

    def blocking(seconds: float) -> None:
        raise AssertionError(f"time.sleep({seconds}) on the event loop")

    monkeypatch.setattr(time, "sleep", blocking)


# -- read_recorded_run ------------------------------------------------------------------------------------------
def test_a_recorded_run_out_of_sight_is_read_again_after_a_real_sleep(sandbox, monkeypatch, sleeps):
    hook = connect(monkeypatch, sandbox, lag=30)
    run = hook.start_run(FILE)
    sandbox.fault("spectrum", DETAILS, 404)  # hidden for one read

    fresh = hook.read_recorded_run(run)

    assert fresh.run_id == run.run_id and not fresh.is_terminal
    assert len(sandbox.requests("spectrum", "GET", DETAILS)) == 2
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 2.0  # one pause between the two reads, slept by the worker


def test_a_recorded_run_still_unknown_after_the_lag_is_not_found(sandbox, monkeypatch, sleeps):
    run = connect(monkeypatch, sandbox, lag=0).start_run(FILE)
    sandbox.fault("spectrum", DETAILS, 404)

    with pytest.raises(NotFoundError):
        SpectrumHook().read_recorded_run(run)  # a retry's fresh hook: the connection's lag (0), not the class's (5)
    assert len(sandbox.requests("spectrum", "GET", DETAILS)) == 1 and sleeps == []


def test_the_triggerer_reads_a_recorded_run_again_without_blocking(sandbox, monkeypatch, no_blocking_sleep):
    hook = connect(monkeypatch, sandbox, lag=30)
    run = SpectrumHook().start_run(FILE)
    sandbox.fault("spectrum", DETAILS, 404)

    fresh = asyncio.run(asyncio.wait_for(hook.aread_recorded_run(run), 20))

    assert fresh.run_id == run.run_id
    assert len(sandbox.requests("spectrum", "GET", DETAILS)) == 2


# -- find_run_started_since -------------------------------------------------------------------------------------
def test_a_run_that_shows_after_the_first_look_is_found(sandbox, monkeypatch):
    hook = connect(monkeypatch, sandbox, lag=30)
    marker = hook.start_marker(FILE)
    started: list[Any] = []
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the worker's pause between two looks: the run shows meanwhile
        slept.append(seconds)
        if not started:
            started.append(SpectrumHook().start_run(FILE))

    monkeypatch.setattr(time, "sleep", sleep)
    found = hook.find_run_started_since(FILE, marker)

    assert found is not None and [found.run_id] == [r.run_id for r in started]
    assert len(slept) == 1 and 0 < slept[0] <= 2.0


def test_nothing_started_is_none_once_the_lag_is_over(sandbox, monkeypatch, sleeps):
    hook = connect(monkeypatch, sandbox, lag=0)
    marker = hook.start_marker(FILE)
    looks_before = len(sandbox.requests("spectrum", "GET", STATUS))

    assert hook.find_run_started_since(FILE, marker) is None
    assert len(sandbox.requests("spectrum", "GET", STATUS)) == looks_before + 1 and sleeps == []


def test_the_triggerer_looks_again_while_the_event_loop_goes_on(sandbox, monkeypatch, no_blocking_sleep):
    """While the trigger waits between two looks, the loop runs other work (here: the start that makes the run)."""
    hook = connect(monkeypatch, sandbox, lag=30)

    async def scenario() -> tuple[Any, Any]:
        marker = await hook.astart_marker(FILE)
        looks_before = len(sandbox.requests("spectrum", "GET", STATUS))
        finding = asyncio.create_task(hook.afind_run_started_since(FILE, marker))
        await await_until(lambda: len(sandbox.requests("spectrum", "GET", STATUS)) > looks_before,
                          "the first look after the marker")
        assert not finding.done()  # it found nothing yet and waits to look again
        started = await SpectrumHook().astart_run(FILE)
        return await asyncio.wait_for(finding, 20), started

    found, started = asyncio.run(scenario())

    assert found is not None and found.run_id == started.run_id
