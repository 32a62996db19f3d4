"""start_from_trigger (Airflow 3.3+): the start and the wait in the triggerer, one run per task across a restart.

dag.test() runs every task in-process (it never defers a task straight to a trigger), so JobStartTrigger runs here
on its own against the sandbox; `make e2e` (scenario start_from_trigger) runs it in a real triggerer. The ledger
and XComs, which a triggerer keeps in Airflow's DB, are a dict here.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.start_trigger import JobStartTrigger
from airflow_provider_jobs.hooks.spectrum import SpectrumHook
from airflow_provider_jobs.operators.nexus_ic import NexusICRunReportOperator
from airflow_provider_jobs.operators.spectrum import SpectrumSequentialTriggerOperator, SpectrumTriggerJobOperator
from airflow_provider_jobs.sandbox.core import Life
from tests.support import use_connection, wait_until_done

pytestmark = pytest.mark.skipif(not compat.START_FROM_TRIGGER, reason="start_from_trigger needs Airflow 3.3+")
TI = SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=-1, try_number=1)
KEY = compat.ledger_key("d", "r", "t", -1)
#: Airflow's own ledger calls (the module's `airflow_db` fixture, named like conftest's autouse one, replaces them
#: for every test here; the `real_ledger` tests put the read back).
REAL_LEDGER_GET = compat.aledger_get


@pytest.fixture
def airflow_db(monkeypatch) -> dict[str, Any]:
    """The Variables and XComs a triggerer would write to Airflow's DB."""
    db: dict[str, Any] = {"ledger": {}, "xcom": {}, "ledger_writes": []}

    async def get(key):
        return db["ledger"].get(key)

    async def put(key, value):
        db["ledger"][key] = json.loads(json.dumps(value))
        db["ledger_writes"].append(db["ledger"][key])

    async def delete(key):
        db["ledger"].pop(key, None)

    async def push(ti, key, value):
        db["xcom"][key] = value

    monkeypatch.setattr(compat, "aledger_get", get)
    monkeypatch.setattr(compat, "aledger_set", put)
    monkeypatch.setattr(compat, "aledger_delete", delete)
    monkeypatch.setattr(compat, "axcom_push", push)
    return db


def start_trigger(op: Any) -> JobStartTrigger:
    """The trigger as a triggerer makes it: from the serialized kwargs (rendering is Airflow's)."""
    args = op.start_trigger_args
    assert args is not None and op.start_from_trigger
    trigger = JobStartTrigger(**json.loads(json.dumps(args.trigger_kwargs)))
    trigger.task_instance = TI
    return trigger


def end_event(trigger: JobStartTrigger) -> Any:
    async def first():
        async for event in trigger.run():
            return event
    return asyncio.run(asyncio.wait_for(first(), 30))


def spectrum_op(**kw: Any) -> SpectrumTriggerJobOperator:
    return SpectrumTriggerJobOperator(task_id="t", file="/Start/Job", deferrable=True, start_from_trigger=True,
                                      poll_interval=0.05, **kw)


def test_starts_waits_and_ends_the_task_in_the_trigger(sandbox, monkeypatch, airflow_db):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Start/Job", running=0.2)
    event = end_event(start_trigger(spectrum_op()))

    assert event.task_instance_state == "success"
    result = event.xcoms["return_value"]
    assert result["state"] == "SUCCESS" and event.xcoms["job_runs"][0]["run_id"] == result["run_id"]
    assert airflow_db["xcom"]["run_id"] == result["run_id"]
    assert airflow_db["ledger_writes"][0]["starting"]["marker"]  # the intent, recorded before the start
    assert KEY not in airflow_db["ledger"]  # forgotten once the run ended
    assert len(sandbox.requests("spectrum", "POST", "/trigger")) == 1


def test_a_restart_during_the_start_adopts_the_run_instead_of_starting_again(sandbox, monkeypatch, airflow_db):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Start/Job", running=0.2)
    hook = SpectrumHook()
    # The trigger that was lost: it recorded the intent, sent the start, and its triggerer stopped.
    airflow_db["ledger"][KEY] = {"starting": {"at": 0, "marker": hook.start_marker("/Start/Job")}, "deadline": None}
    lost = hook.start_run("/Start/Job")

    event = end_event(start_trigger(spectrum_op()))

    assert event.task_instance_state == "success"
    assert event.xcoms["return_value"]["run_id"] == lost.run_id
    assert len(sandbox.requests("spectrum", "POST", "/trigger")) == 1  # no second start


@pytest.mark.parametrize("fault", ["drop_after", "truncate"])
def test_an_ambiguous_answer_to_the_start_adopts_the_run_it_made(sandbox, monkeypatch, airflow_db, fault):
    """The start reached the vendor, its answer did not reach the trigger: the trigger finds the run, starts none."""
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Start/Job", running=0.2)
    sandbox.fault("spectrum", "/trigger$", fault)

    event = end_event(start_trigger(spectrum_op()))

    assert event.task_instance_state == "success"
    assert len(sandbox.requests("spectrum", "POST", "/trigger")) == 1  # not sent again
    assert len(sandbox.spectrum.runs) == 1
    assert [str(event.xcoms["return_value"]["run_id"])] == [str(r) for r in sandbox.spectrum.runs]


def test_an_unclear_answer_that_started_nothing_starts_once_more(sandbox, monkeypatch, airflow_db):
    """A 502 before the vendor's handler: nothing started, so the trigger (the shared recovery) starts it once more."""
    use_connection(monkeypatch, sandbox, "spectrum", extra={"start_visibility_lag": 0})
    sandbox.spectrum.add_file("/Start/Job", running=0.2)
    sandbox.fault("spectrum", "/trigger$", 502)

    event = end_event(start_trigger(spectrum_op()))

    assert event.task_instance_state == "success"
    assert len(sandbox.requests("spectrum", "POST", "/trigger")) == 2
    assert [str(event.xcoms["return_value"]["run_id"])] == [str(r) for r in sandbox.spectrum.runs]


def test_a_restart_after_the_record_waits_for_the_recorded_run(sandbox, monkeypatch, airflow_db):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Start/Job", running=0.2)
    run = SpectrumHook().start_run("/Start/Job")
    airflow_db["ledger"][KEY] = {"runs": [run.to_dict()], "owned": True, "deadline": None}

    event = end_event(start_trigger(spectrum_op()))

    assert event.xcoms["return_value"]["run_id"] == run.run_id
    assert len(sandbox.requests("spectrum", "POST", "/trigger")) == 1


def test_a_recorded_run_the_vendor_no_longer_knows_fails_the_task_and_is_forgotten(sandbox, monkeypatch, airflow_db):
    """The shared follow_record() on the trigger's path: its `forget` (the ledger delete) is awaited, nothing starts."""
    use_connection(monkeypatch, sandbox, "spectrum", extra={"start_visibility_lag": 0})
    sandbox.spectrum.add_file("/Start/Job", running=0.2)
    gone = SpectrumHook().start_run("/Start/Job").to_dict() | {"run_id": "987654321"}
    airflow_db["ledger"][KEY] = {"runs": [gone], "owned": True, "deadline": None}

    event = end_event(start_trigger(spectrum_op()))

    assert event.task_instance_state == "failed"
    assert KEY not in airflow_db["ledger"]  # the next try starts a new run
    assert len(sandbox.requests("spectrum", "POST", "/trigger")) == 1  # only the setup's


def test_a_recorded_run_that_ended_badly_is_forgotten_and_a_new_run_starts(sandbox, monkeypatch, airflow_db):
    use_connection(monkeypatch, sandbox, "spectrum")
    job = sandbox.spectrum.add_file("/Start/Job", running=0.05, final="ERROR")
    hook = SpectrumHook()
    recorded = hook.start_run("/Start/Job")
    assert wait_until_done(hook, recorded).state == "FAILED"
    job.life = Life([("QUEUED", 0.05), ("RUNNING", 0.05)], "COMPLETED")  # the next run of the job succeeds
    airflow_db["ledger"][KEY] = {"runs": [recorded.to_dict()], "owned": True, "deadline": None}

    event = end_event(start_trigger(spectrum_op()))

    assert event.task_instance_state == "success"
    assert event.xcoms["return_value"]["run_id"] != recorded.run_id
    assert len(sandbox.requests("spectrum", "POST", "/trigger")) == 2


def test_a_failed_run_fails_the_task_in_the_trigger(sandbox, monkeypatch, airflow_db):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Start/Job", running=0.1, final="ERROR")
    event = end_event(start_trigger(spectrum_op()))

    assert event.task_instance_state == "failed"
    assert event.xcoms["job_runs"][0]["state"] == "FAILED"
    assert KEY not in airflow_db["ledger"]  # a retry starts a new run


def test_secrets_never_reach_the_trigger_kwargs(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    conn = sandbox.connection("spectrum")
    kwargs = json.dumps(spectrum_op().start_trigger_args.trigger_kwargs)
    assert conn["password"] and conn["password"] not in kwargs
    assert '"conn_id": "spectrum_default"' in kwargs


def test_where_it_cannot_start_from_the_trigger_the_task_runs_on_a_worker():
    assert SpectrumTriggerJobOperator(task_id="a", file="/x", start_from_trigger=True, deferrable=False
                                      ).start_trigger_args is None  # deferrable off
    assert SpectrumSequentialTriggerOperator(task_id="b", file_ids=[1], deferrable=True, start_from_trigger=True
                                             ).start_from_trigger is False  # several runs, a start of its own
    from airflow.sdk import DAG
    from airflow.sdk.bases.operator import BaseOperator

    with DAG("xcomarg", schedule=None):
        up = BaseOperator(task_id="up")
        op = SpectrumTriggerJobOperator(task_id="c", file="/x", deferrable=True, start_from_trigger=True)
        assert op.start_from_trigger
        op.file = up.output
    assert op.start_from_trigger is False  # an XComArg input is known only once "up" ran
    assert SpectrumTriggerJobOperator.start_from_trigger is False  # a mapped task reads the class: a worker
    report = NexusICRunReportOperator(task_id="n", template_id=1, deferrable=True, start_from_trigger=True)
    assert report.start_from_trigger and not report.finishes_in_trigger()  # a worker downloads the content


@pytest.fixture
def real_ledger(monkeypatch) -> None:
    """The ledger is read with Airflow's Variable.get (written and deleted in the `airflow_db` dict)."""
    monkeypatch.setattr(compat, "aledger_get", REAL_LEDGER_GET)


def test_the_trigger_reads_its_ledger_through_airflows_variable_api(monkeypatch, real_ledger):
    """The ledger is read with Airflow's own Variable.get (an AIRFLOW_VAR_ environment variable is one of its
    secrets backends), not a stand-in: a read that always came back empty made a restarted trigger start the job a
    second time (found by `make e2e` scenario start_from_trigger_restart)."""
    ledger = {"starting": {"at": 1.0, "marker": {"max_id": "7"}}, "deadline": None}
    monkeypatch.setenv(f"AIRFLOW_VAR_{KEY.upper()}", json.dumps(ledger))
    assert asyncio.run(compat.aledger_get(KEY)) == ledger
    assert asyncio.run(compat.aledger_get(compat.ledger_key("d", "r", "other", -1))) is None  # none: not an error


def test_a_ledger_that_cannot_be_read_fails_the_task_instead_of_starting_again(sandbox, monkeypatch, real_ledger):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Start/Job", running=0.2)

    def unreadable(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError("the triggerer's comms are gone")

    monkeypatch.setattr(compat._variable_cls(), "get", unreadable)
    event = end_event(start_trigger(spectrum_op()))

    assert event.task_instance_state == "failed"
    assert sandbox.requests("spectrum", "POST", "/trigger") == []  # no start without knowing of an earlier one
