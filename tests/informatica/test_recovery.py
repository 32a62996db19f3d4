"""One task, one run: an Informatica start whose answer is lost is recovered from what the vendor shows.

The marker taken just before a start is the task's highest run id in the activity monitor and the activity
log (run ids count up per task); after an ambiguous answer the operator adopts the first run above it, from
the log when it has already ended. Taskflows published as services are found in the status list by start time.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_jobs.operators.informatica import InformaticaRunTaskOperator
from airflow_provider_jobs.sensors.informatica import InformaticaTaskRunSensor
from tests.support import captured_logs, make_dag, run_dag, task_xcom, wait_until

FAST = {"poll_interval": 0.1}
ADOPTED = "Found the run the ambiguous start created"


@pytest.fixture(autouse=True)
def iics_conn(connect):
    connect()


def logged(logs, output) -> str:
    return "\n".join(logs.records) + "\n" + output()


def run_task(task_id: str, **kwargs) -> InformaticaRunTaskOperator:
    return InformaticaRunTaskOperator(task_id=task_id, **{**FAST, **kwargs})


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferrable"])
def test_start_answer_slower_than_the_timeout_adopts_the_short_run_that_already_ended(
        sandbox, iics, connect, deferrable, output):
    connect(extra={"request_timeout": 0.5})
    task = iics.add_task("Quick", running=0.05, queued=0.01)
    # the request arrives whole, the answer comes after 1.2 s: the client gave up at 0.5 s
    sandbox.fault("informatica", "/api/v2/job$", {"kind": "delay", "seconds": 1.2}, method="POST")
    dag = make_dag(f"iics_slow_start_{deferrable}")
    with dag:
        run_task("quick", informatica_task_type="MTT", informatica_task_id=task.task_id, deferrable=deferrable)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"quick": "success"}
    assert len(iics.runs_of(task)) == 1 and iics.starts() == 1
    result = task_xcom(dag, states, "quick")
    assert (result["run_id"], result["state"], result["vendor_state"]) == ("1", "SUCCESS", "SUCCESS")
    assert result["details"]["success_source_rows"] == 100  # read from the activity log: the run had ended
    assert ADOPTED in logged(logs, output)


def test_unreadable_2xx_to_a_start_that_started_adopts_the_run_and_pushes_the_task_id(sandbox, iics, output):
    """Started by name, so the task id is known only from what recovery finds: the sensor downstream needs it."""
    task = iics.add_task("By Name", task_type="DSS", running=0.3)
    earlier = iics.start_elsewhere(task)  # run 1, already over by the time of the start: the marker's floor
    wait_until(lambda: earlier.place() == "log", "the earlier run is in the activity log")
    sandbox.fault("informatica", "/api/v2/job$", "malformed_after", method="POST")
    dag = make_dag("iics_malformed_start")
    with dag:
        start = run_task("start", informatica_task_type="DSS", task_name="By Name", wait_for_completion=False)
        sense = InformaticaTaskRunSensor(
            task_id="sense", run_id="{{ ti.xcom_pull('start', key='run_id') }}",
            informatica_task_id="{{ ti.xcom_pull('start', key='informatica_task_id') }}", **FAST)
        start >> sense
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"start": "success", "sense": "success"}
    assert [r.started_by for r in iics.runs_of(task)] == ["scheduler", "integration.user"]
    assert task_xcom(dag, states, "start", "run_id") == "2"
    assert task_xcom(dag, states, "start", "informatica_task_id") == task.task_id
    assert task_xcom(dag, states, "sense")["run_id"] == "2"
    assert ADOPTED in logged(logs, output)


def test_a_run_that_shows_only_after_a_lag_is_still_adopted(sandbox, iics, output):
    task = iics.add_task("Laggy", task_type="MTT", path="Sales/Laggy", running=0.3, visible_after=2.5)
    sandbox.fault("informatica", "/api/v2/job$", "drop_after", method="POST")
    dag = make_dag("iics_lagging_start")
    with dag:
        run_task("laggy", informatica_task_type="MTT", task_path="Sales/Laggy")
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"laggy": "success"}
    assert len(iics.runs_of(task)) == 1
    assert task_xcom(dag, states, "laggy", "informatica_task_id") == task.task_id
    # recovery asked more than once: the run was in neither list at first
    assert len(sandbox.requests("informatica", "GET", "activityLog$")) >= 3
    assert ADOPTED in logged(logs, output)


def test_taskflow_service_start_with_an_unreadable_answer_adopts_its_run(sandbox, iics, output):
    flow = iics.add_taskflow("Refresh_Dashboard", running=0.2)
    iics.add_taskflow("Other_Flow", running=5)
    other = iics.start_taskflow_elsewhere("Other_Flow")
    sandbox.fault("informatica", "/active-bpel/rt/", "malformed_after", method="POST")
    dag = make_dag("iics_taskflow_recovery")
    with dag:
        run_task("flow", informatica_task_type="TASKFLOW_SERVICE", task_name="Refresh_Dashboard",
                 inputs={"region": "EU"})
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"flow": "success"}
    assert len(flow.runs) == 1
    assert task_xcom(dag, states, "flow")["run_id"] == flow.runs[0].run_id != other.run_id
    assert ADOPTED in logged(logs, output)


def test_marker_and_find_started_run_through_the_hook(iics, hook):
    task = iics.add_task("Marked", running=0.05, queued=0.01, allow_concurrent=True)
    before = hook.start_marker(task.task_id, task_type="MTT", by="id")
    assert before["max_run_id"] is None and before["key"] == ["taskId", task.task_id]
    assert hook.find_started_run(task.task_id, before, task_type="MTT", by="id") is None
    first = iics.start_elsewhere(task)
    wait_until(lambda: first.place() == "log", "the first run is in the activity log")
    found = hook.find_started_run(task.task_id, before, task_type="MTT", by="id")
    assert (found.run_id, found.state.value, found.details["task_id"]) == ("1", "SUCCESS", task.task_id)
    after = hook.start_marker("Marked", task_type="MTT", by="name")
    assert after["max_run_id"] == 1 and after["key"] == ["taskName", "Marked"]
    assert hook.find_started_run("Marked", after, task_type="MTT", by="name") is None
    iics.start_elsewhere(task)
    running = hook.find_started_run("Marked", after, task_type="MTT", by="name")
    assert running.run_id == "2" and running.details["task_id"] == task.task_id


def test_visibility_lag_comes_from_the_connection(connect):
    from airflow_provider_jobs.hooks.informatica import InformaticaCloudHook

    connect()
    assert InformaticaCloudHook().start_visibility_lag == 20.0
    connect(extra={"start_visibility_lag": 45})
    assert InformaticaCloudHook().start_visibility_lag == 45.0


def test_a_retry_after_a_try_lost_between_start_and_record_adopts_that_run(sandbox, iics, output):
    """The first try's start reached Informatica, then the try died before it recorded the run (here: its
    recovery read failed). The retry finds the run from the marker in the ledger instead of starting again."""
    task = iics.add_task("Once", running=0.3)
    sandbox.fault("informatica", "/api/v2/job$", "drop_after", method="POST")
    refused = {"kind": "status", "status": 400, "body": json.dumps(
        {"@type": "error", "code": "UI_10000", "description": "proxy hiccup", "statusCode": 400})}
    # the first activity log read is the marker's; the second, the first try's recovery, fails
    sandbox.fault("informatica", "activityLog$", {"kind": "delay", "seconds": 0}, refused, method="GET")
    dag = make_dag("iics_lost_start")
    with dag:
        run_task("once", informatica_task_type="MTT", informatica_task_id=task.task_id, retries=1, retry_delay=0)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"once": "success"}
    assert len(iics.runs_of(task)) == 1
    text = logged(logs, output)
    assert "Adopting the run the lost start made" in text
    assert task_xcom(dag, states, "once", "informatica_task_id") == task.task_id
