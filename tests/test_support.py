"""The tests' own waits are bounded: waiting for something that never happens fails, naming it."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import first_event, use_connection, wait_until, wait_until_done


def test_wait_until_returns_the_value_or_fails_naming_what_it_waited_for():
    assert wait_until(lambda: "ready", "it is ready") == "ready"
    with pytest.raises(pytest.fail.Exception, match=r"timed out after 0.1 s waiting until the moon is blue"):
        wait_until(lambda: False, "the moon is blue", limit=0.1)


def test_waiting_for_a_run_that_does_not_end_fails_naming_it(sandbox, monkeypatch):
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook
    from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator

    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Long", running=30)
    hook = SpectrumHook()
    run = hook.start_run("/Long")
    with pytest.raises(pytest.fail.Exception, match=rf"spectrum job '/Long' run {run.run_id} is still RUNNING"):
        wait_until_done(hook, run, limit=0.2)
    trigger = SpectrumTriggerJobOperator(task_id="x", file="/Long", poll_interval=0.05).make_trigger([run], None)
    with pytest.raises(pytest.fail.Exception, match="JobRunTrigger yielded no event within 0.2 s"):
        asyncio.run(first_event(trigger, limit=0.2))
