"""Recovery after an ambiguous start, written once (BaseJobOperator.recover_ambiguous_start) and driven by a worker
(hook.run_operation, the operator's start) and by the start trigger (hook.arun_operation, the operator's astart):
the same decisions and the same words on both paths. Real HTTP against the sandbox (Spectrum); no test sleeps."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from airflow_provider_jobs.core.errors import AmbiguousStartError, NotFoundError
from airflow_provider_jobs.core.hook import Call
from airflow_provider_jobs.hooks.spectrum import SpectrumHook
from airflow_provider_jobs.operators.spectrum import SpectrumSequentialTriggerOperator, SpectrumTriggerJobOperator
from tests.support import captured_logs, use_connection

FILE = "/Recover/Job"
TRIGGER = r"/trigger$"
log = logging.getLogger("tests.start_recovery")


@pytest.fixture(autouse=True)
def spectrum(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum", extra={"start_visibility_lag": 0})
    sandbox.spectrum.add_file(FILE, running=30)


def operator() -> SpectrumTriggerJobOperator:
    return SpectrumTriggerJobOperator(task_id="t", file=FILE, deferrable=False)


def unclear() -> AmbiguousStartError:
    return AmbiguousStartError("spectrum trigger: connection reset; the request may have reached the server",
                               vendor="spectrum")


def recover_on_a_worker(op: Any, lost_start: bool = False) -> list[Any]:
    marker = op.hook.start_marker(FILE)
    if lost_start:  # the start whose answer did not come back
        SpectrumHook().start_run(FILE)
    return op.hook.run_operation(op.recover_ambiguous_start(op.hook, marker, unclear(),
                                                            lambda: op.start(op.hook, None), log))


def recover_in_the_triggerer(op: Any, lost_start: bool = False) -> list[Any]:
    async def recover() -> list[Any]:
        hook = op.make_hook()
        marker = await hook.astart_marker(FILE)
        if lost_start:
            await SpectrumHook().astart_run(FILE)

        async def start() -> list[Any]:
            return [await op.astart(hook, marker)]

        return await hook.arun_operation(op.recover_ambiguous_start(hook, marker, unclear(), start, log))

    return asyncio.run(asyncio.wait_for(recover(), 30))


PATHS = pytest.mark.parametrize("recover", [recover_on_a_worker, recover_in_the_triggerer], ids=["worker", "trigger"])


@PATHS
def test_no_run_since_the_marker_means_one_more_start(sandbox, recover):
    with captured_logs() as logs:
        runs = recover(operator())

    assert [r.run_id for r in runs] == list(sandbox.spectrum.runs)  # the one run, started by the recovery
    assert len(sandbox.requests("spectrum", "POST", TRIGGER)) == 1
    assert any("shows no run of it started since: starting it again, once" in line for line in logs.records)


@PATHS
def test_a_run_since_the_marker_is_adopted_and_nothing_is_started(sandbox, recover):
    with captured_logs() as logs:
        runs = recover(operator(), lost_start=True)

    assert [r.run_id for r in runs] == list(sandbox.spectrum.runs)
    assert len(sandbox.requests("spectrum", "POST", TRIGGER)) == 1  # the lost start only
    assert any("Found the run the ambiguous start created" in line for line in logs.records)


@PATHS
def test_two_unclear_starts_and_no_run_fail_with_the_same_words(sandbox, recover):
    sandbox.fault("spectrum", TRIGGER, 502)  # the second start: answered before the handler, nothing started

    with pytest.raises(AmbiguousStartError) as failure:
        recover(operator())

    text = str(failure.value)
    assert text.startswith(f"Two starts of spectrum job '{FILE}' had no clear answer (")
    assert "no run of it is visible yet" in text
    assert "Check on the vendor's side for a run begun since 20" in text  # the marker's time, in ISO 8601
    assert sandbox.spectrum.runs == {}


@PATHS
def test_where_no_run_can_be_matched_nothing_is_started_again(sandbox, recover):
    op = SpectrumSequentialTriggerOperator(task_id="s", file_ids=[1], deferrable=False)
    op.job = lambda: FILE  # type: ignore[method-assign]  # its markers and starts aim at the one file here

    with pytest.raises(AmbiguousStartError) as failure:
        recover(op)

    text = str(failure.value)
    assert f"The start of spectrum job '{FILE}' had no clear answer (" in text
    assert "cannot list the job's runs, so it is not started again" in text
    assert "whether a run began at 20" in text
    assert sandbox.requests("spectrum", "POST", TRIGGER) == []


# -- the Call step itself ---------------------------------------------------------------------------------------
def with_a_call(fn: Any) -> Any:
    try:
        got = yield Call(fn)
    except NotFoundError as exc:
        return f"raised into the operation: {exc}"
    return f"answered: {got}"


def test_a_call_step_is_run_by_the_worker_and_its_error_raised_into_the_operation():
    hook = operator().hook

    def missing() -> None:
        raise NotFoundError("gone", vendor="spectrum")

    assert hook.run_operation(with_a_call(lambda: 42)) == "answered: 42"
    assert hook.run_operation(with_a_call(missing)) == "raised into the operation: gone"


def test_a_call_step_is_awaited_by_the_triggerer():
    hook = operator().make_hook()

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def missing() -> None:
        raise NotFoundError("gone", vendor="spectrum")

    assert asyncio.run(hook.arun_operation(with_a_call(answer))) == "answered: 42"
    assert asyncio.run(hook.arun_operation(with_a_call(missing))) == "raised into the operation: gone"
