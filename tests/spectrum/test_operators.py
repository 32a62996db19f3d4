"""Spectrum operators, sensor and the trigger through real DAG runs against the sandbox."""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow_provider_jobs.core.errors import ConfigurationError, JobProviderError
from airflow_provider_jobs.core.trigger import JobRunTrigger
from airflow_provider_jobs.operators.spectrum import SpectrumSequentialTriggerOperator, SpectrumTriggerJobOperator
from airflow_provider_jobs.sandbox.spectrum import PASSWORD
from tests.support import assert_no_secret, captured_logs, first_event, make_dag, run_dag, task_xcom, use_connection

FAST = {"poll_interval": 0.1}


@pytest.fixture(autouse=True)
def spectrum_conn(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")


@pytest.mark.parametrize("deferrable", [True, False])
def test_warnings_succeed_unless_fail_on_warnings(sandbox, deferrable, output):
    sandbox.spectrum.add_file("/W", running=0.1, final="COMPLETED_WITH_WARNINGS")
    dag = make_dag(f"spectrum_warn_{deferrable}")
    with dag:
        SpectrumTriggerJobOperator(task_id="lenient", file="/W", deferrable=deferrable, **FAST)
        SpectrumTriggerJobOperator(task_id="strict", file="/W", deferrable=deferrable, fail_on_warnings=True,
                                   **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"lenient": "success", "strict": "failed"}
    assert "fail_on_warnings is set and the run ended with warnings" in "\n".join(logs.records) + output()
    assert task_xcom(dag, states, "lenient")["state"] == "SUCCESS_WITH_WARNINGS"


@pytest.mark.parametrize("deferrable", [True, False])
def test_deadline_stops_the_run_and_fails_saying_so(sandbox, deferrable, output):
    sandbox.spectrum.add_file("/Slow", running=30)
    dag = make_dag(f"spectrum_deadline_{deferrable}")
    with dag:
        SpectrumTriggerJobOperator(task_id="slow", file="/Slow", deferrable=deferrable, timeout=0.5, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"slow": "failed"}
    text = "\n".join(logs.records) + output()
    assert "Deadline reached while waiting for spectrum job '/Slow' run" in text and "was cancelled" in text
    assert len(sandbox.requests("spectrum", "POST", "/stop$")) == 1
    (run,) = sandbox.spectrum.runs.values()
    assert run.state()[0] == "CANCELED"


@pytest.mark.parametrize("deferrable", [True, False])
def test_unknown_state_keeps_waiting_then_finishes(sandbox, deferrable, output):
    sandbox.spectrum.add_file("/Odd", steps=[("RUNNING", 0.1), ("REINDEXING", 0.4)], final="COMPLETED")
    dag = make_dag(f"spectrum_unknown_{deferrable}")
    with dag:
        SpectrumTriggerJobOperator(task_id="odd", file="/Odd", deferrable=deferrable, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"odd": "success"}
    text = "\n".join(logs.records) + output()
    unknown = [m for m in text.splitlines() if "'REINDEXING', which this provider does not know" in m]
    assert len(unknown) == 1  # logged once, not per poll


def test_unknown_state_until_deadline_fails(sandbox, output):
    sandbox.spectrum.add_file("/Odd", steps=[("REINDEXING", 30)], final="COMPLETED")
    dag = make_dag("spectrum_unknown_deadline")
    with dag:
        SpectrumTriggerJobOperator(task_id="odd", file="/Odd", deferrable=True, timeout=0.6, **FAST)
    with captured_logs() as logs:
        assert run_dag(dag) == {"odd": "failed"}
    text = "\n".join(logs.records) + output()
    # it failed at the deadline, still seeing the unknown word, not for another reason
    assert "Deadline reached while waiting for spectrum job '/Odd' run" in text and "(last seen REINDEXING)" in text


def test_retry_reattaches_instead_of_triggering_again(sandbox, output):
    sandbox.spectrum.add_file("/Long", running=1.0)
    # The first try loses its wait on a non-retryable error; the retry must find the same run.
    sandbox.fault("spectrum", "/job-details/", {"kind": "status", "status": 400, "body": '{"status": "failure", '
                                                "\"reason\": \"transient proxy hiccup\"}"})
    dag = make_dag("spectrum_reattach")
    with dag:
        SpectrumTriggerJobOperator(task_id="long", file="/Long", deferrable=False, retries=1, retry_delay=0,
                                   **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"long": "success"}
    assert len(sandbox.requests("spectrum", "POST", "/trigger$")) == 1
    assert "Reattaching to the run this task recorded" in "\n".join(logs.records) + output()


def test_if_running_attach_wait_fail_start(sandbox):
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook

    sandbox.spectrum.add_file("/Busy", running=0.6)
    SpectrumHook().start_run("/Busy")
    dag = make_dag("spectrum_if_running")
    with dag:
        fail = SpectrumTriggerJobOperator(task_id="fail", file="/Busy", if_running="fail", **FAST)
        attach = SpectrumTriggerJobOperator(task_id="attach", file="/Busy", if_running="attach", **FAST)
        wait = SpectrumTriggerJobOperator(task_id="wait", file="/Busy", if_running="wait", deferrable=True, **FAST)
        fail >> attach >> wait
    states = run_dag(dag)
    assert states == {"fail": "failed", "attach": "upstream_failed", "wait": "upstream_failed"}
    # attach and wait separately
    dag2 = make_dag("spectrum_if_running_2")
    SpectrumHook().start_run("/Busy")
    with dag2:
        attach = SpectrumTriggerJobOperator(task_id="attach", file="/Busy", if_running="attach", **FAST)
        wait = SpectrumTriggerJobOperator(task_id="wait", file="/Busy", if_running="wait", deferrable=True, **FAST)
        start = SpectrumTriggerJobOperator(task_id="start", file="/Busy", if_running="start", **FAST)
        attach >> wait >> start
    states = run_dag(dag2)
    assert states == {"attach": "success", "wait": "success", "start": "success"}
    triggers = sandbox.requests("spectrum", "POST", "/trigger$")
    assert len(triggers) == 4  # 2 by hand, then "wait" and "start" each started one; "attach" none
    assert task_xcom(dag2, states, "attach")["run_id"] != task_xcom(dag2, states, "wait")["run_id"]


@pytest.mark.parametrize("deferrable", [True, False])
def test_sequential_trigger_waits_for_the_whole_plan(sandbox, deferrable):
    c = sandbox.spectrum.add_file("/Seq/C", running=0.1)
    b = sandbox.spectrum.add_file("/Seq/B", running=0.1, downstream=[c.file_id])
    a = sandbox.spectrum.add_file("/Seq/A", running=0.1, downstream=[b.file_id])
    dag = make_dag(f"spectrum_seq_{deferrable}")
    with dag:
        SpectrumSequentialTriggerOperator(task_id="seq", file_ids=[a.file_id], variables={"env": "prod"},
                                          deferrable=deferrable, **FAST)
    states = run_dag(dag)
    assert states == {"seq": "success"}
    plan = task_xcom(dag, states, "seq")
    assert plan["status"] == "success"
    assert [(e["job-configuration-name"], e["state"]) for e in plan["execution-plan"]] == [
        ("A", "SUCCESS"), ("B", "SUCCESS"), ("C", "SUCCESS")]


def test_sequential_trigger_fails_naming_each_failed_run(sandbox, output):
    c = sandbox.spectrum.add_file("/Seq/C", running=0.1)
    b = sandbox.spectrum.add_file("/Seq/B", running=0.1, final="ERROR", downstream=[c.file_id])
    a = sandbox.spectrum.add_file("/Seq/A", running=0.1, downstream=[b.file_id])
    dag = make_dag("spectrum_seq_fail")
    with dag:
        SpectrumSequentialTriggerOperator(task_id="seq", file_ids=[a.file_id], deferrable=True, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"seq": "failed"}
    text = "\n".join(logs.records) + output()
    failure = next(line for line in text.splitlines() if "Wait ended failed" in line)
    assert "job 'B' run" in failure and "ERROR" in failure and "job 'C' run" in failure and "CANCEL" in failure
    plan = task_xcom(dag, states, "seq", "execution_plan")
    assert [e["state"] for e in plan["execution-plan"]] == ["SUCCESS", "FAILED", "CANCELLED"]


def test_no_password_in_logs_xcom_or_trigger(sandbox, output):
    sandbox.spectrum.add_file("/R", running=0.1)
    dag = make_dag("spectrum_secrets")
    with dag:
        SpectrumTriggerJobOperator(task_id="r", file="/R", deferrable=True, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"r": "success"}
    assert_no_secret(PASSWORD, logs.records, output(), task_xcom(dag, states, "r"))
    trigger = SpectrumTriggerJobOperator(task_id="x", file="/R").make_trigger([], None)
    _, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs  # plain JSON
    assert_no_secret(PASSWORD, kwargs)


def test_trigger_recreated_from_its_kwargs_resumes(sandbox):
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook

    sandbox.spectrum.add_file("/R", running=0.4)
    run = SpectrumHook().start_run("/R")
    op = SpectrumTriggerJobOperator(task_id="x", file="/R", **FAST)
    classpath, kwargs = op.make_trigger([run], None).serialize()
    assert classpath == "airflow_provider_jobs.core.trigger.JobRunTrigger"

    event = asyncio.run(first_event(JobRunTrigger(**json.loads(json.dumps(kwargs)))))
    assert event["status"] == "success" and event["run"]["run_id"] == run.run_id
    assert len(sandbox.requests("spectrum", "POST", "/trigger$")) == 1


def test_trigger_on_kill_stops_the_run(sandbox):
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook

    sandbox.spectrum.add_file("/R", running=30)
    run = SpectrumHook().start_run("/R")
    trigger = SpectrumTriggerJobOperator(task_id="x", file="/R", **FAST).make_trigger([run], None)
    asyncio.run(trigger.on_kill())
    assert sandbox.spectrum.runs[run.run_id].state()[0] == "CANCELED"


def test_operator_on_kill_stops_the_run(sandbox):
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook

    sandbox.spectrum.add_file("/R", running=30)
    op = SpectrumTriggerJobOperator(task_id="x", file="/R", **FAST)
    op._runs = [SpectrumHook().start_run("/R")]  # as execute() leaves it after the start
    op.on_kill()
    (sim,) = sandbox.spectrum.runs.values()
    assert sim.state()[0] == "CANCELED"
    keep = SpectrumTriggerJobOperator(task_id="y", file="/R", cancel_on_kill=False, **FAST)
    keep._runs = [SpectrumHook().start_run("/R")]
    keep.on_kill()
    assert len(sandbox.requests("spectrum", "POST", "/stop$")) == 1


@pytest.mark.parametrize("event", [None, {}, {"status": "done"}, "success", {"status": "success", "runs": []}])
def test_execute_complete_rejects_foreign_events(event):
    op = SpectrumTriggerJobOperator(task_id="x", file="/R")
    with pytest.raises(JobProviderError, match="(Unexpected trigger event|without a run)"):
        op.execute_complete({}, event)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"file": ""}, "file"), ({"file": "/a/../b"}, "file"), ({"file": "/a", "if_running": "later"}, "if_running"),
     ({"file": "/a", "poll_interval": 0}, "poll_interval"), ({"file": "/a", "timeout": "1h"}, "timeout"),
     ({"file": "/a", "conn_id": ""}, "conn_id"), ({"file": "/a", "fail_on_warnings": "yes"}, "fail_on_warnings")],
)
def test_bad_input_fails_at_construction(kwargs, field):
    with pytest.raises(ConfigurationError, match=f"^{field}"):
        SpectrumTriggerJobOperator(task_id="bad", **kwargs)


def test_sequential_trigger_bad_input():
    with pytest.raises(ConfigurationError, match="^file_ids"):
        SpectrumSequentialTriggerOperator(task_id="s", file_ids=[])
    with pytest.raises(ConfigurationError, match="^variables"):
        SpectrumSequentialTriggerOperator(task_id="s", file_ids=[1], variables=["x"])


def test_unknown_connection_id_fails_before_any_request(sandbox, output):
    dag = make_dag("spectrum_no_conn")
    with dag:
        SpectrumTriggerJobOperator(task_id="r", file="/R", conn_id="does_not_exist", **FAST)
    with captured_logs() as logs:
        assert run_dag(dag) == {"r": "failed"}
    assert "does_not_exist" in "\n".join(logs.records) + output()
    assert sandbox.requests("spectrum") == []


def test_deferrable_wait_for_a_running_blocker_then_starts_its_own(sandbox):
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook

    sandbox.spectrum.add_file("/Busy", running=0.8)
    blocker = SpectrumHook().start_run("/Busy")
    dag = make_dag("spectrum_wait_blocker")
    with dag:
        SpectrumTriggerJobOperator(task_id="wait", file="/Busy", if_running="wait", deferrable=True, **FAST)
    states = run_dag(dag)
    assert states == {"wait": "success"}
    ours = task_xcom(dag, states, "wait")
    assert ours["run_id"] != blocker.run_id and ours["state"] == "SUCCESS"
    assert len(sandbox.requests("spectrum", "POST", "/trigger$")) == 2
