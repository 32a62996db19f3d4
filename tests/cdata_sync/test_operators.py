"""CData Sync operators, sensor and the trigger through real DAG runs against the sandbox."""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.core.operator import JOB_RUNS_KEY
from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook
from airflow_provider_jobs.operators.cdata_sync import CDataSyncCancelJobOperator, CDataSyncRunJobOperator
from airflow_provider_jobs.operators.sequence import sequential_trigger
from airflow_provider_jobs.sandbox.cdata_sync import FIRST_HISTORY_ID, FIRST_JOB_ID, TOKEN
from airflow_provider_jobs.sensors.cdata_sync import CDataSyncJobSensor
from tests.cdata_sync.conftest import five_tasks
from tests.support import assert_no_secret, captured_logs, make_dag, run_dag, task_xcom, wait_until

FAST = {"poll_interval": 0.1}


def python_task(task_id: str, callable_):
    """A PythonOperator (Airflow 2 or 3) running `callable_` in this process."""
    from airflow_provider_jobs.core.compat import AIRFLOW_V3

    if AIRFLOW_V3:
        from airflow.providers.standard.operators.python import PythonOperator
    else:  # pragma: no cover
        from airflow.operators.python import PythonOperator
    return PythonOperator(task_id=task_id, python_callable=callable_)


@pytest.fixture(autouse=True)
def cdata_conn(connect):
    connect()


@pytest.mark.parametrize("deferrable", [True, False])
def test_run_succeeds_with_records_tasks_and_a_link(sandbox, sync, deferrable):
    job = sync.add_job("Salesforce", five_tasks(records=7))
    dag = make_dag(f"cdata_ok_{deferrable}")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_name="Salesforce", deferrable=deferrable, **FAST)
    states = run_dag(dag)
    assert states == {"run": "success"}
    result = task_xcom(dag, states, "run")
    assert result["state"] == "SUCCESS" and result["vendor_state"] == "Successful"
    assert result["job_id"] == str(FIRST_JOB_ID) and result["run_id"] == str(FIRST_HISTORY_ID)
    assert result["details"]["records_affected"] == 35
    assert [t["status"] for t in result["details"]["tasks"]] == ["Successful"] * 5
    assert task_xcom(dag, states, "run", "run_id") == str(FIRST_HISTORY_ID)
    assert task_xcom(dag, states, "run", "run_url") == f"{sandbox.url}/cdata_sync/jobs/{job.job_id}"
    assert len(sandbox.requests("cdata_sync", "POST", "/execute$")) == 1


@pytest.mark.parametrize("deferrable", [True, False])
def test_two_of_five_tasks_fail_and_the_task_fails_naming_them(sandbox, sync, deferrable, output):
    job = sync.add_job("Five", five_tasks(failing=(1, 4)))
    dag = make_dag(f"cdata_partial_{deferrable}")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_id=str(job.job_id), deferrable=deferrable, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"run": "failed"}
    text = "\n".join(logs.records) + output()
    failure = next(line for line in text.splitlines() if "Wait ended failed" in line)
    assert "2 of 5 tasks failed" in failure
    assert "(Contacts) Failed" in failure and "[Contacts] destination refused the batch" in failure
    assert "(Cases) Failed" in failure and "[Cases] destination refused the batch" in failure
    (final,) = task_xcom(dag, states, "run", JOB_RUNS_KEY)
    assert final["state"] == "FAILED" and final["details"]["failed_tasks"] == [
        str(job.tasks[1].task_id), str(job.tasks[4].task_id)]
    assert final["details"]["records_affected"] == 30
    assert len(sandbox.requests("cdata_sync", "POST", "/execute$")) == 1


@pytest.mark.parametrize("deferrable", [True, False])
def test_zero_rows_fail_only_when_asked(sync, deferrable, output):
    sync.add_job("Empty", [{"query": "REPLICATE [A]", "records": 0}])
    dag = make_dag(f"cdata_zero_{deferrable}")
    with dag:
        lenient = CDataSyncRunJobOperator(task_id="lenient", job_name="Empty", deferrable=deferrable, **FAST)
        strict = CDataSyncRunJobOperator(task_id="strict", job_name="Empty", deferrable=deferrable,
                                         fail_on_zero_rows=True, **FAST)
        lenient >> strict
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"lenient": "success", "strict": "failed"}
    assert task_xcom(dag, states, "lenient")["details"]["records_affected"] == 0
    text = "\n".join(logs.records) + output()
    assert "fail_on_zero_rows is set and cdata_sync job" in text and "affected 0 records" in text


@pytest.mark.parametrize("deferrable", [True, False])
def test_only_the_chosen_tasks_run(sandbox, sync, deferrable):
    job = sync.add_job("Five", five_tasks(failing=(0,)))
    chosen = [job.tasks[4].task_id, str(job.tasks[2].task_id)]  # an int and a string
    dag = make_dag(f"cdata_subset_{deferrable}")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_id=job.job_id, tasks=chosen, deferrable=deferrable, **FAST)
    states = run_dag(dag)
    assert states == {"run": "success"}  # the failing task was not among them
    (run,) = sync.runs
    assert [t.task_id for t in run.tasks] == [job.tasks[2].task_id, job.tasks[4].task_id]
    assert task_xcom(dag, states, "run")["details"]["tasks_requested"] == [str(t) for t in chosen]


@pytest.mark.parametrize("deferrable", [True, False])
def test_deadline_cancels_the_run_and_fails_saying_so(sandbox, sync, deferrable, output):
    job = sync.add_job("Slow", [{"query": "REPLICATE [A]", "seconds": 30}])
    dag = make_dag(f"cdata_deadline_{deferrable}")
    with dag:
        CDataSyncRunJobOperator(task_id="slow", job_id=str(job.job_id), deferrable=deferrable, timeout=0.5, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"slow": "failed"}
    text = "\n".join(logs.records) + output()
    assert f"Deadline reached while waiting for cdata_sync job '{job.job_id}' run {FIRST_HISTORY_ID}" in text
    assert "was cancelled" in text
    assert len(sandbox.requests("cdata_sync", "POST", "/cancel$")) == 1
    assert sync.runs[0].state()[0] == "Cancelled"


def test_operator_on_kill_cancels_the_run(sandbox, sync):
    job = sync.add_job("Long", [{"query": "REPLICATE [A]", "seconds": 30}])
    op = CDataSyncRunJobOperator(task_id="x", job_id=str(job.job_id), **FAST)
    op._runs = [CDataSyncHook().start_run(str(job.job_id))]  # as execute() leaves it after the start
    op.on_kill()
    assert sync.runs[0].state()[0] == "Cancelled"
    keep = CDataSyncRunJobOperator(task_id="y", job_id=str(job.job_id), cancel_on_kill=False, **FAST)
    keep._runs = [CDataSyncHook().start_run(str(job.job_id))]
    keep.on_kill()
    assert not sync.runs[1].finished
    assert len(sandbox.requests("cdata_sync", "POST", "/cancel$")) == 1


def test_trigger_on_kill_cancels_the_run(sandbox, sync):
    job = sync.add_job("Long", [{"query": "REPLICATE [A]", "seconds": 30}])
    run = CDataSyncHook().start_run(str(job.job_id))
    trigger = CDataSyncRunJobOperator(task_id="x", job_id=str(job.job_id), **FAST).make_trigger([run], None)
    _, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    asyncio.run(trigger.on_kill())
    assert sync.runs[0].state()[0] == "Cancelled"
    (cancel,) = sandbox.requests("cdata_sync", "POST", "/cancel$")
    assert "aiohttp" in cancel.agent  # from the triggerer's side


@pytest.mark.parametrize("deferrable", [True, False])
def test_64_bit_ids_round_trip_through_xcom(sandbox, sync, deferrable):
    """Ids above 2**53 reach the sensor (through templates) and a Python task exactly."""
    job = sync.add_job("Big ids", five_tasks())
    seen: dict = {}

    def check(**context):
        ti = context["ti"]
        seen["run"] = ti.xcom_pull(task_ids="run")
        seen["sensed"] = ti.xcom_pull(task_ids="sense")
        seen["run_id"] = ti.xcom_pull(task_ids="run", key="run_id")

    dag = make_dag(f"cdata_bigids_{deferrable}")
    with dag:
        run = CDataSyncRunJobOperator(task_id="run", job_id=job.job_id, deferrable=deferrable, **FAST)
        sense = CDataSyncJobSensor(task_id="sense", job_id="{{ ti.xcom_pull(task_ids='run')['job_id'] }}",
                                   history_id="{{ ti.xcom_pull(task_ids='run', key='run_id') }}",
                                   deferrable=deferrable, **FAST)
        run >> sense >> python_task("check", check)
    states = run_dag(dag)
    assert states == {"run": "success", "sense": "success", "check": "success"}
    assert seen["run"]["job_id"] == "9007199254740993" == str(FIRST_JOB_ID)
    assert seen["run_id"] == seen["run"]["run_id"] == str(FIRST_HISTORY_ID)
    assert seen["sensed"]["run_id"] == str(FIRST_HISTORY_ID) and seen["sensed"]["job_id"] == str(FIRST_JOB_ID)
    assert all(isinstance(t["task_id"], str) and int(t["task_id"]) > 2**53 for t in seen["run"]["details"]["tasks"])
    reads = sandbox.requests("cdata_sync", "GET", f"/jobs/{FIRST_JOB_ID}/history/{FIRST_HISTORY_ID}$")
    assert reads  # the sensor asked for exactly that entry


@pytest.mark.parametrize("deferrable", [True, False])
def test_sensor_by_name_waits_for_the_latest_run_and_fails_with_it(sync, deferrable, output):
    job = sync.add_job("Nightly", five_tasks(failing=(2, 3), seconds=0.1))
    # an earlier run of only the healthy tasks, which succeeded: a sensor that read it would succeed
    earlier = sync.start(job, [t for t in job.tasks if t.outcome == "Successful"])
    wait_until(lambda: earlier.state()[2], "the earlier run ended")
    latest = sync.start(job)  # started by the scheduler, not by Airflow
    dag = make_dag(f"cdata_sensor_{deferrable}")
    with dag:
        CDataSyncJobSensor(task_id="sense", job_name="Nightly", deferrable=deferrable, **FAST)
    with captured_logs() as logs:
        assert run_dag(dag) == {"sense": "failed"}
    text = "\n".join(logs.records) + output()
    assert f"run {latest.history_id} is FAILED" in text and "2 of 5 tasks failed" in text
    assert f"run {earlier.history_id} " not in text


def test_cancel_operator(sandbox, sync):
    busy = sync.add_job("Busy", [{"query": "REPLICATE [A]", "seconds": 30}])
    sync.add_job("Idle")
    sync.start(busy)
    dag = make_dag("cdata_cancel_op")
    with dag:
        cancel = CDataSyncCancelJobOperator(task_id="cancel", job_name="Busy", poll_interval=0.1)
        idle = CDataSyncCancelJobOperator(task_id="idle", job_name="Idle")
        strict = CDataSyncCancelJobOperator(task_id="strict", job_name="Idle", fail_if_not_running=True)
        cancel >> idle >> strict
    states = run_dag(dag)
    assert states == {"cancel": "success", "idle": "success", "strict": "failed"}
    assert task_xcom(dag, states, "cancel") == {"job_id": str(busy.job_id), "job_name": "Busy", "cancelled": True,
                                                "status": "CANCELLED"}
    assert task_xcom(dag, states, "idle")["cancelled"] is False
    assert sync.runs[0].state()[0] == "Cancelled"


def test_if_running_attach_and_fail(sandbox, sync):
    job = sync.add_job("Busy", [{"query": "REPLICATE [A]", "seconds": 1.0}])
    theirs: list = []
    dag = make_dag("cdata_if_running")
    with dag:
        scheduler = python_task("scheduler_starts_it", lambda: theirs.append(sync.start(job)))
        fail = CDataSyncRunJobOperator(task_id="fail", job_name="Busy", if_running="fail", **FAST)
        attach = CDataSyncRunJobOperator(task_id="attach", job_name="Busy", if_running="attach", deferrable=True,
                                         trigger_rule="all_done", **FAST)
        scheduler >> fail >> attach
    states = run_dag(dag)
    assert states == {"scheduler_starts_it": "success", "fail": "failed", "attach": "success"}
    assert task_xcom(dag, states, "attach")["run_id"] == str(theirs[0].history_id)
    assert sandbox.requests("cdata_sync", "POST", "/execute$") == []


def test_ambiguous_execute_finds_the_run_instead_of_starting_twice(sandbox, sync):
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 0.4}])
    sandbox.fault("cdata_sync", "/execute$", "drop_after")
    dag = make_dag("cdata_ambiguous")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_id=str(job.job_id), deferrable=True, **FAST)
    states = run_dag(dag)
    assert states == {"run": "success"}
    assert len(sync.runs) == 1 and task_xcom(dag, states, "run")["run_id"] == str(sync.runs[0].history_id)


def test_unknown_job_fails_with_the_jobs_that_exist(sandbox, sync, output):
    sync.add_job("Alpha")
    dag = make_dag("cdata_unknown_job")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_name="Gamma", **FAST)
    with captured_logs() as logs:
        assert run_dag(dag) == {"run": "failed"}
    assert "no job named 'Gamma' in workspace 'default'" in "\n".join(logs.records) + output()
    assert sandbox.requests("cdata_sync", "POST") == []


def test_shared_variables_are_not_taken(sandbox, sync):
    sync.add_job("J")
    dag = make_dag("cdata_chain")
    with dag:
        step = CDataSyncRunJobOperator(task_id="sync", job_name="J", deferrable=True, **FAST)
        assert step.apply_shared_variables({"env": "prod"}) is False
        sequential_trigger("chain", [step], variables={"env": "prod"})
    states = run_dag(dag)
    assert states == {"sync": "success", "chain.execution_plan": "success"}
    (entry,) = task_xcom(dag, states, "chain.execution_plan")["execution-plan"]
    assert entry["variables"] is False and entry["state"] == "SUCCESS" and entry["vendor"] == "cdata_sync"


def test_no_token_in_logs_xcom_or_trigger(sandbox, sync, output):
    sync.add_job("J", five_tasks(failing=(0,)))
    dag = make_dag("cdata_secrets")
    with dag:
        CDataSyncRunJobOperator(task_id="r", job_name="J", deferrable=True, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"r": "failed"}
    final = task_xcom(dag, states, "r", JOB_RUNS_KEY)
    _, kwargs = CDataSyncRunJobOperator(task_id="x", job_name="J", workspace="default").make_trigger(
        [CDataSyncHook().start_run("J", lookup="name")], None).serialize()
    assert kwargs["hook_params"] == {"workspace": "default"}
    assert_no_secret(TOKEN, logs.records, output(), final, kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({}, "job_id"), ({"job_id": "1", "job_name": "J"}, "job_id"), ({"job_id": ""}, "job_id"),
     ({"job_id": 1.5}, "job_id"), ({"job_name": "  "}, "job_name"), ({"job_id": "1", "tasks": []}, "tasks"),
     ({"job_id": "1", "tasks": "1,2"}, "tasks"), ({"job_id": "1", "tasks": [1.5]}, r"tasks\[0\]"),
     ({"job_id": "1", "fail_on_zero_rows": "yes"}, "fail_on_zero_rows"), ({"job_id": "1", "workspace": ""},
                                                                             "workspace"),
     ({"job_id": "1", "if_running": "later"}, "if_running"), ({"job_id": "1", "poll_interval": 0}, "poll_interval"),
     ({"job_id": "1", "timeout": "1h"}, "timeout")],
)
def test_bad_input_fails_at_construction(kwargs, field):
    with pytest.raises(ConfigurationError, match=f"^{field}"):
        CDataSyncRunJobOperator(task_id="bad", **kwargs)


@pytest.mark.parametrize(
    ("cls", "kwargs", "field"),
    [(CDataSyncJobSensor, {}, "job_id"), (CDataSyncJobSensor, {"job_id": "1", "history_id": ""}, "history_id"),
     (CDataSyncCancelJobOperator, {"job_name": ""}, "job_name"),
     (CDataSyncCancelJobOperator, {"job_id": "1", "poll_interval": -1}, "poll_interval"),
     (CDataSyncCancelJobOperator, {"job_id": "1", "conn_id": ""}, "conn_id")],
)
def test_sensor_and_cancel_operator_bad_input(cls, kwargs, field):
    with pytest.raises(ConfigurationError, match=f"^{field}"):
        cls(task_id="bad", **kwargs)


def test_templated_tasks_are_checked_after_rendering(sandbox, sync, output):
    sync.add_job("J")
    dag = make_dag("cdata_templated_tasks")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_name="J", tasks="{{ 'not a list' }}", **FAST)
    with captured_logs() as logs:
        assert run_dag(dag) == {"run": "failed"}
    assert "ConfigurationError: tasks" in "\n".join(logs.records) + output()
    assert sandbox.requests("cdata_sync") == []
