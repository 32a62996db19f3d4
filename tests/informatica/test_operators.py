"""Informatica operators, sensor and trigger through real DAG runs (dag.test()) against the sandbox."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path

import pytest

from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.core.runs import JobRun
from airflow_provider_jobs.operators.informatica import (
    InformaticaResumeTaskflowOperator,
    InformaticaRunTaskOperator,
    InformaticaStopTaskOperator,
)
from airflow_provider_jobs.sandbox.informatica import PASSWORD, USER, load_demo_jobs
from airflow_provider_jobs.sensors.informatica import InformaticaTaskRunSensor
from tests.support import assert_no_secret, captured_logs, make_dag, run_dag, task_xcom

FAST = {"poll_interval": 0.1}
MODES = [pytest.param(True, id="deferrable"), pytest.param(False, id="worker")]
PASS = {"kind": "delay", "seconds": 0}  # a fault that changes nothing: lets later faults hit later calls


@pytest.fixture(autouse=True)
def iics_conn(connect):
    connect()


def logged(logs, output) -> str:
    return "\n".join(logs.records) + "\n" + output()


def run_task(task_id: str, **kwargs) -> InformaticaRunTaskOperator:
    return InformaticaRunTaskOperator(task_id=task_id, **{**FAST, **kwargs})


@pytest.mark.parametrize("deferrable", MODES)
def test_each_task_type_and_each_way_of_naming_it(iics, deferrable):
    dmask = iics.add_task("Mask PII", task_type="DMASK", running=0.2)
    drs = iics.add_task("Replicate", task_type="DRS", running=0.2)
    iics.add_task("Sync Accounts", task_type="DSS", running=0.2)
    mtt = iics.add_task("Load Customers", task_type="MTT", path="Sales/Daily/Load Customers", running=0.2)
    pcs = iics.add_task("PowerCenter Load", task_type="PCS", running=0.2)
    iics.add_task("Nightly", task_type="WORKFLOW", running=0.2)
    dag = make_dag(f"iics_types_{deferrable}")
    with dag:
        run_task("dmask", informatica_task_type="DMASK", informatica_task_id=dmask.task_id, deferrable=deferrable)
        run_task("drs", informatica_task_type="drs", task_federated_id=drs.federated_id, deferrable=deferrable)
        run_task("dss", informatica_task_type="DSS", task_name="Sync Accounts", deferrable=deferrable)
        run_task("mtt", informatica_task_type="MTT", task_path="Sales/Daily/Load Customers", deferrable=deferrable)
        run_task("pcs", informatica_task_type="PCS", informatica_task_id="{{ params.pcs }}",
                 params={"pcs": pcs.task_id}, deferrable=deferrable)
        run_task("workflow", informatica_task_type="WORKFLOW", task_name="Nightly", deferrable=deferrable)
    states = run_dag(dag)
    assert states == dict.fromkeys(("dmask", "drs", "dss", "mtt", "pcs", "workflow"), "success")
    assert iics.starts() == 6 and iics.logins == 1
    assert sorted(r.body["taskType"] for r in iics.runs) == ["DMASK", "DRS", "DSS", "MTT", "PCS", "WORKFLOW"]
    # the path is looked up to start the task; the federated id to look for a run already going
    assert sorted(iics.lookups, key=str) == [{"id": drs.federated_id, "type": "DRS"},
                                             {"path": "Sales/Daily/Load Customers", "type": "MTT"}]
    result = task_xcom(dag, states, "mtt")
    assert (result["state"], result["job_id"], result["run_id"]) == ("SUCCESS", "Sales/Daily/Load Customers", "1")
    assert result["details"]["task_id"] == mtt.task_id == task_xcom(dag, states, "mtt", "informatica_task_id")
    assert result["details"]["success_source_rows"] == 100
    assert task_xcom(dag, states, "mtt", "run_id") == "1"
    assert task_xcom(dag, states, "mtt", "run_url") == result["url"] and "runId=1" in result["url"]


@pytest.mark.parametrize("deferrable", MODES)
def test_session_expiring_mid_wait_means_one_new_login(sandbox, iics, deferrable):
    task = iics.add_task("Load", running=1.2)
    sandbox.fault("informatica", "activityMonitor", PASS, PASS, "expire")
    dag = make_dag(f"iics_expire_{deferrable}")
    with dag:
        run_task("load", informatica_task_type="MTT", informatica_task_id=task.task_id, deferrable=deferrable)
    assert run_dag(dag) == {"load": "success"}
    assert iics.logins == 2 and iics.starts() == 1
    assert [s.status for s in sandbox.requests("informatica", path="activityMonitor")].count(401) == 1


@pytest.mark.parametrize("deferrable", MODES)
def test_states_1_2_3_with_and_without_fail_on_warnings(iics, deferrable, output):
    tasks = {final: iics.add_task(f"State {final}", running=0.2, final=final) for final in ("1", "2", "3")}
    dag = make_dag(f"iics_states_{deferrable}")
    with dag:
        for final, task in tasks.items():
            for strict in (False, True) if final != "3" else (False,):
                run_task(f"state{final}_{'strict' if strict else 'lenient'}", informatica_task_type="MTT",
                         task_name=task.name, fail_on_warnings=strict, if_running="start", deferrable=deferrable)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"state1_lenient": "success", "state1_strict": "success", "state2_lenient": "success",
                      "state2_strict": "failed", "state3_lenient": "failed"}
    lenient = task_xcom(dag, states, "state2_lenient")
    assert (lenient["state"], lenient["vendor_state"]) == ("SUCCESS_WITH_WARNINGS", "WARNING")
    assert lenient["details"]["failed_target_rows"] == 3
    text = logged(logs, output)
    assert "fail_on_warnings is set and the run ended with warnings" in text
    failure = next(line for line in text.splitlines() if "Wait ended failed" in line)
    assert "is FAILED" in failure and "Invalid object name 'dbo.Customers'" in failure


@pytest.mark.parametrize("deferrable", MODES)
def test_deadline_stops_the_run_and_fails_saying_so(sandbox, iics, deferrable, output):
    task = iics.add_task("Slow", running=30)
    dag = make_dag(f"iics_deadline_{deferrable}")
    with dag:
        run_task("slow", informatica_task_type="MTT", task_name="Slow", timeout=0.5, clean_stop=True,
                 deferrable=deferrable)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"slow": "failed"}
    text = logged(logs, output)
    assert "Deadline reached while waiting for informatica job 'Slow' run 1" in text
    assert "the remote run 1 was cancelled" in text
    assert iics.stop_requests == [{"task_id": task.task_id, "clean_stop": True, "run_ids": ["1"]}]
    (run,) = iics.runs
    assert run.stopped and run.clean_stop


def test_kill_stops_the_run_from_the_operator_and_the_trigger(iics, output):
    task = iics.add_task("Slow", task_type="WORKFLOW", running=30, allow_concurrent=True)
    op = run_task("slow", informatica_task_type="WORKFLOW", informatica_task_id=task.task_id)
    (first,) = op.start(op.hook, None)
    op._runs = [first]  # as execute() leaves it after the start
    with captured_logs() as logs:
        op.on_kill()
    assert "Cancelled informatica job" in logged(logs, output)
    assert iics.stop_requests == [{"task_id": task.task_id, "clean_stop": False, "run_ids": ["1"]}]
    (second,) = op.start(op.hook, None)
    trigger = op.make_trigger([second], None)
    asyncio.run(trigger.on_kill())
    assert [r["run_ids"] for r in iics.stop_requests] == [["1"], ["2"]]
    assert all(r.stopped for r in iics.runs)
    quiet = run_task("quiet", informatica_task_type="WORKFLOW", informatica_task_id=task.task_id,
                     cancel_on_kill=False)
    (third,) = quiet.start(quiet.hook, None)
    quiet._runs = [third]
    quiet.on_kill()
    assert len(iics.stop_requests) == 2 and not iics.runs[-1].stopped


@pytest.mark.parametrize("deferrable", MODES)
def test_another_job_of_the_org_running_does_not_confuse_the_wait(iics, deferrable):
    other = iics.add_task("Other", running=30, final="3")
    elsewhere = iics.start_elsewhere(other)  # run 1 of another task, failing later
    ours = iics.add_task("Ours", running=0.4)
    dag = make_dag(f"iics_other_{deferrable}")
    with dag:
        run_task("ours", informatica_task_type="MTT", informatica_task_id=ours.task_id, deferrable=deferrable)
    states = run_dag(dag)
    assert states == {"ours": "success"}
    result = task_xcom(dag, states, "ours")
    assert (result["run_id"], result["details"]["task_id"]) == (elsewhere.run_id, ours.task_id)
    assert not elsewhere.finished and not elsewhere.stopped


@pytest.mark.parametrize("deferrable", MODES)
def test_run_briefly_in_neither_list_is_waited_for_and_a_vanished_one_fails(iics, deferrable, output):
    iics.add_task("Gap", running=0.2, log_delay=0.5, visible_after=0.8)
    vanishing = iics.add_task("Vanishing", running=30)
    vanishing.life.vanish_after = 0.4
    dag = make_dag(f"iics_gap_{deferrable}")
    with dag:
        run_task("gap", informatica_task_type="MTT", task_name="Gap", deferrable=deferrable)
        run_task("vanishing", informatica_task_type="MTT", task_name="Vanishing", not_found_grace=0.5,
                 deferrable=deferrable)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"gap": "success", "vanishing": "failed"}
    text = logged(logs, output)
    assert "job 'Gap' run 1 is QUEUED: not visible yet (in neither list); waiting" in text
    assert "job 'Vanishing' run 1 is RUNNING was not found for" in text
    assert "it left the monitor and has not reached the log" in text


@pytest.mark.parametrize("deferrable", MODES)
def test_wrong_credentials_fail_clearly_without_the_password(iics, connect, deferrable, output):
    connect(password="wrong-password-123")
    iics.add_task("Load", running=0.1)
    dag = make_dag(f"iics_wrong_password_{deferrable}")
    with dag:
        run_task("load", informatica_task_type="MTT", task_name="Load", deferrable=deferrable)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"load": "failed"}
    text = logged(logs, output)
    assert "refused the login of connection 'informatica_cloud_default'" in text
    assert "Invalid user name or password" in text
    assert_no_secret("wrong-password-123", text)
    assert iics.starts() == 0


@pytest.mark.parametrize("deferrable", MODES)
def test_taskflow_service_takes_inputs_and_shared_variables(iics, deferrable, output):
    flow = iics.add_taskflow("Refresh_Dashboard", running=0.3)
    iics.add_taskflow("Broken_Flow", running=0.1, final="FAILED")
    dag = make_dag(f"iics_taskflow_{deferrable}")
    with dag:
        op = run_task("refresh", informatica_task_type="TASKFLOW_SERVICE", task_name="Refresh_Dashboard",
                      inputs={"as_of": "{{ dag.dag_id }}", "limit": 5}, deferrable=deferrable)
        run_task("broken", informatica_task_type="taskflow_service", task_name="Broken_Flow", deferrable=deferrable)
    assert op.if_running == "start"
    assert op.apply_shared_variables({"region": "EMEA", "as_of": "overridden"}) is True
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"refresh": "success", "broken": "failed"}
    assert "'Broken_Flow'" in (text := logged(logs, output)) and "is FAILED" in text
    (run,) = flow.runs
    assert run.inputs == {"region": "EMEA", "as_of": dag.dag_id, "limit": 5}
    result = task_xcom(dag, states, "refresh")
    assert result["run_id"] == run.run_id == task_xcom(dag, states, "refresh", "run_id")
    assert result["details"]["input_names"] == ["as_of", "limit", "region"]


def test_tasks_cannot_take_shared_variables(iics):
    op = run_task("t", informatica_task_type="MTT", task_name="Load")
    assert op.apply_shared_variables({"region": "EMEA"}) is False
    templated = run_task("t2", informatica_task_type="{{ params.kind }}", task_name="Load")
    assert templated.apply_shared_variables({"region": "EMEA"}) is False


@pytest.mark.parametrize("deferrable", MODES)
def test_sensor_waits_on_run_id_and_task_id(iics, deferrable):
    good = iics.add_task("Good", task_type="WORKFLOW", running=0.3)
    bad = iics.add_task("Bad", task_type="DSS", running=0.1, final="3")
    bad_run = iics.start_elsewhere(bad)
    iics.add_taskflow("Flow", running=0.2)
    dag = make_dag(f"iics_sensor_{deferrable}")
    with dag:
        start = run_task("start", informatica_task_type="WORKFLOW", task_name="Good", wait_for_completion=False)
        flow = run_task("flow", informatica_task_type="TASKFLOW_SERVICE", task_name="Flow", wait_for_completion=False)
        sense = InformaticaTaskRunSensor(
            task_id="sense", run_id="{{ ti.xcom_pull('start', key='run_id') }}",
            informatica_task_id="{{ ti.xcom_pull('start', key='informatica_task_id') }}", deferrable=deferrable, **FAST)
        sense_flow = InformaticaTaskRunSensor(task_id="sense_flow", run_id="{{ ti.xcom_pull('flow', key='run_id') }}",
                                              informatica_task_type="TASKFLOW_SERVICE", deferrable=deferrable, **FAST)
        InformaticaTaskRunSensor(task_id="sense_bad", run_id=bad_run.run_id, informatica_task_id=bad.task_id,
                                 deferrable=deferrable, **FAST)
        start >> sense
        flow >> sense_flow
    states = run_dag(dag)
    assert states == {"start": "success", "flow": "success", "sense": "success", "sense_flow": "success",
                      "sense_bad": "failed"}
    result = task_xcom(dag, states, "sense")
    assert (result["run_id"], result["job_id"], result["state"]) == ("1", good.task_id, "SUCCESS")
    assert task_xcom(dag, states, "sense_flow")["state"] == "SUCCESS"


def test_deferred_sensor_at_its_timeout_fails_and_leaves_the_run_going(iics, output):
    task = iics.add_task("Slow", task_type="DRS", running=30)
    run = iics.start_elsewhere(task)
    dag = make_dag("iics_sensor_timeout")
    with dag:
        InformaticaTaskRunSensor(task_id="sense", run_id=run.run_id, informatica_task_id=task.task_id,
                                 deferrable=True, timeout=0.5, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"sense": "failed"}
    assert f"Deadline reached while waiting for informatica job '{task.task_id}' run 1" in logged(logs, output)
    # a sensor started nothing, so it stops nothing: the run someone else started goes on
    assert iics.stop_requests == [] and not run.finished


def test_stop_operator(iics):
    task = iics.add_task("Long", task_type="MTT", running=30, allow_concurrent=True)
    first, second = iics.start_elsewhere(task), iics.start_elsewhere(task)
    other = iics.add_task("Other", task_type="DRS", path="Ops/Other", running=30)
    other_run = iics.start_elsewhere(other)
    dag = make_dag("iics_stop")
    with dag:
        one = InformaticaStopTaskOperator(task_id="stop_run", informatica_task_type="MTT",
                                          informatica_task_id=task.task_id, run_id=second.run_id)
        again = InformaticaStopTaskOperator(task_id="stop_again", informatica_task_type="MTT", task_name="Long")
        whole = InformaticaStopTaskOperator(task_id="stop_task", informatica_task_type="DRS", task_path="Ops/Other",
                                            clean_stop=True)
        missing = InformaticaStopTaskOperator(task_id="stop_missing", informatica_task_type="DRS",
                                              informatica_task_id=other.task_id, run_id="99")
        one >> again >> whole >> missing
    states = run_dag(dag)
    assert set(states.values()) == {"success"}
    assert task_xcom(dag, states, "stop_run") == {"task": task.task_id, "task_type": "MTT", "run_id": "2",
                                                  "clean_stop": False, "stopped": True}
    # the stop is keyed by task: stopping run 2 stopped run 1 too, so the next stop found nothing running
    assert first.stopped and second.stopped
    assert task_xcom(dag, states, "stop_again")["stopped"] is False
    assert task_xcom(dag, states, "stop_task")["stopped"] is True and other_run.clean_stop is True
    assert task_xcom(dag, states, "stop_missing")["stopped"] is False
    assert [r["run_ids"] for r in iics.stop_requests] == [["1", "2"], [], ["1"]]


def test_taskflow_runs_are_terminated_by_kill_deadline_and_the_stop_operator_and_resumed(iics, output):
    iics.add_taskflow("Long", running=30)
    op = run_task("long", informatica_task_type="TASKFLOW_SERVICE", task_name="Long")
    (first,) = op.start(op.hook, None)
    op._runs = [first]
    op.on_kill()
    assert iics.taskflow_actions == [{"action": "terminate", "run_ids": [first.run_id], "status": 200}]
    elsewhere = iics.start_taskflow_elsewhere("Long")
    iics.add_taskflow("Faulty", running=0.05, final="SUSPENDED", resume_running=0.2)
    suspended = iics.start_taskflow_elsewhere("Faulty")
    dag = make_dag("iics_taskflow_control")
    with dag:
        deadline = run_task("deadline", informatica_task_type="TASKFLOW_SERVICE", task_name="Long", timeout=0.5,
                            deferrable=True)
        stop = InformaticaStopTaskOperator(task_id="stop", informatica_task_type="TASKFLOW_SERVICE",
                                           task_name="Long", run_id=elsewhere.run_id, trigger_rule="all_done")
        resume = InformaticaResumeTaskflowOperator(task_id="resume", run_id=suspended.run_id, mode="skip",
                                                   trigger_rule="all_done")
        sense = InformaticaTaskRunSensor(task_id="sense", run_id=suspended.run_id,
                                         informatica_task_type="TASKFLOW_SERVICE", **FAST)
        deadline >> stop >> resume >> sense
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"deadline": "failed", "stop": "success", "resume": "success", "sense": "success"}
    assert "Deadline reached" in logged(logs, output)
    actions = [(a["action"], a["status"]) for a in iics.taskflow_actions]
    assert actions == [("terminate", 200), ("terminate", 200), ("terminate", 200), ("resumeWithFaultSkip", 204)]
    assert all(r.state()[0] == "STOPPED" for r in iics.taskflows["Long"].runs)
    assert task_xcom(dag, states, "stop") == {"task": "Long", "task_type": "TASKFLOW_SERVICE",
                                              "run_id": elsewhere.run_id, "clean_stop": False, "stopped": True}
    assert task_xcom(dag, states, "resume") == {"run_id": suspended.run_id, "mode": "skip", "state": "RUNNING",
                                                "vendor_state": "RUNNING"}
    assert task_xcom(dag, states, "sense")["state"] == "SUCCESS"


def test_resume_operator_fails_on_a_run_that_is_not_suspended(iics, output):
    iics.add_taskflow("Fine", running=30)
    going = iics.start_taskflow_elsewhere("Fine")
    dag = make_dag("iics_resume_not_suspended")
    with dag:
        InformaticaResumeTaskflowOperator(task_id="resume", run_id=going.run_id)
    with captured_logs() as logs:
        assert run_dag(dag) == {"resume": "failed"}
    assert f"taskflow run {going.run_id} is RUNNING, not SUSPENDED" in logged(logs, output)
    assert iics.taskflow_actions == []


def test_informatica_operators_are_in_the_provider_info():
    from airflow_provider_jobs import get_provider_info
    from airflow_provider_jobs.operators import informatica

    (entry,) = [o for o in get_provider_info()["operators"]
                if "airflow_provider_jobs.operators.informatica" in o["python-modules"]]
    assert {"InformaticaRunTaskOperator", "InformaticaStopTaskOperator",
            "InformaticaResumeTaskflowOperator"} <= set(informatica.__all__)
    assert entry["integration-name"] == "Informatica Intelligent Cloud Services"


def begin(task_id: str, iics, task):
    """A DAG task that starts a run of `task` outside the operator (as a schedule would), right then."""
    try:
        from airflow.sdk import task as task_decorator
    except ImportError:  # pragma: no cover - Airflow 2.11
        from airflow.decorators import task as task_decorator

    @task_decorator(task_id=task_id)
    def start_elsewhere() -> str:
        return iics.start_elsewhere(task).run_id

    return start_elsewhere()


def test_if_running_fail_start_attach_and_wait(iics, output):
    busy = iics.add_task("Busy", running=2.0)
    dag = make_dag("iics_if_running")
    with dag:
        fail = run_task("fail", informatica_task_type="MTT", task_name="Busy", if_running="fail")
        start = run_task("start", informatica_task_type="MTT", task_name="Busy", if_running="start",
                         trigger_rule="all_done")
        attach = run_task("attach", informatica_task_type="MTT", task_path="Default/Busy", if_running="attach",
                          trigger_rule="all_done")
        begin("begin", iics, busy) >> fail >> start >> attach  # in this order, while that run is going
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"begin": "success", "fail": "failed", "start": "failed", "attach": "success"}
    text = logged(logs, output)
    assert "is already going and if_running='fail'" in text
    assert "The task 'Busy' is already running" in text  # the vendor refused the second start
    assert task_xcom(dag, states, "attach")["run_id"] == "1" and len(iics.runs_of(busy)) == 1

    queue = iics.add_task("Queue", running=0.8)
    dag = make_dag("iics_if_running_wait")
    with dag:
        begin("begin", iics, queue) >> run_task("wait", informatica_task_type="MTT",
                                                informatica_task_id=queue.task_id, deferrable=True)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"begin": "success", "wait": "success"}
    assert "Waiting for the run that is already going before starting ours" in logged(logs, output)
    assert task_xcom(dag, states, "wait")["run_id"] == "2" and len(iics.runs_of(queue)) == 2


def test_retry_reattaches_instead_of_starting_again(sandbox, iics, output):
    task = iics.add_task("Long", running=0.8)
    # the first monitor read looks for a run already going, the second is the start's marker; the third is the
    # wait's, which fails
    sandbox.fault("informatica", "activityMonitor", PASS, PASS, {"kind": "status", "status": 400, "body": json.dumps(
        {"@type": "error", "code": "UI_10000", "description": "proxy hiccup", "statusCode": 400})})
    dag = make_dag("iics_reattach")
    with dag:
        run_task("long", informatica_task_type="MTT", informatica_task_id=task.task_id, deferrable=False, retries=1,
                 retry_delay=0)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"long": "success"}
    assert iics.starts() == 1
    assert "Reattaching to the run this task recorded" in logged(logs, output)


def test_dropped_start_attaches_to_the_run_it_made(sandbox, iics, output):
    task = iics.add_task("Load", running=0.5)
    sandbox.fault("informatica", "/api/v2/job$", "drop_after")
    dag = make_dag("iics_ambiguous")
    with dag:
        run_task("load", informatica_task_type="MTT", informatica_task_id=task.task_id, if_running="start")
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"load": "success"}
    assert len(iics.runs_of(task)) == 1
    assert "Found the run the ambiguous start created" in logged(logs, output)


def test_no_session_id_or_password_in_logs_xcom_or_trigger(sandbox, iics, output):
    iics.add_task("Load", running=0.3, final="2")
    iics.add_taskflow("Flow", running=0.2)
    sandbox.fault("informatica", "activityMonitor", PASS, "expire")
    dag = make_dag("iics_secrets")
    with dag:
        load = run_task("load", informatica_task_type="MTT", task_name="Load", deferrable=True)
        sense = InformaticaTaskRunSensor(task_id="sense", run_id="{{ ti.xcom_pull('load', key='run_id') }}",
                                         informatica_task_id="{{ ti.xcom_pull('load', key='informatica_task_id') }}",
                                         deferrable=False, **FAST)
        flow = run_task("flow", informatica_task_type="TASKFLOW_SERVICE", task_name="Flow", deferrable=False)
        stop = InformaticaStopTaskOperator(task_id="stop", informatica_task_type="MTT", task_name="Load")
        load >> sense >> flow >> stop
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"load": "success", "sense": "success", "flow": "success", "stop": "success"}
    assert len(iics.issued_sessions) == 2
    xcoms = [task_xcom(dag, states, t) for t in states]
    xcoms += [task_xcom(dag, states, t, key) for t in ("load", "flow") for key in ("run_id", "run_url", "job_runs")]
    _, kwargs = load.make_trigger([JobRun.from_dict(xcoms[0])], None).serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    text = logged(logs, output)
    assert "Logged in to Informatica Cloud as integration.user" in text
    for secret in [PASSWORD, *iics.issued_sessions]:
        assert_no_secret(secret, text, xcoms, kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"informatica_task_type": "MTT"}, "informatica_task_id"),
     ({"informatica_task_type": "MTT", "task_name": "a", "task_path": "b/c"}, "informatica_task_id"),
     ({"informatica_task_type": "SQL", "task_name": "a"}, "informatica_task_type"),
     ({"informatica_task_type": None, "task_name": "a"}, "informatica_task_type"),
     ({"informatica_task_type": "MTT", "informatica_task_id": ""}, "informatica_task_id"),
     ({"informatica_task_type": "MTT", "informatica_task_id": "../job"}, "informatica_task_id"),
     ({"informatica_task_type": "MTT", "informatica_task_id": 1.5}, "informatica_task_id"),
     ({"informatica_task_type": "MTT", "task_federated_id": "a b"}, "task_federated_id"),
     ({"informatica_task_type": "MTT", "task_path": "Load"}, "task_path"),
     ({"informatica_task_type": "MTT", "task_path": "Sales/../Load"}, "task_path"),
     ({"informatica_task_type": "MTT", "task_name": " "}, "task_name"),
     ({"informatica_task_type": "MTT", "task_name": "a", "callback_url": "example.com"}, "callback_url"),
     ({"informatica_task_type": "MTT", "task_name": "a", "parameter_file_name": ""}, "parameter_file_name"),
     ({"informatica_task_type": "MTT", "task_name": "a", "inputs": {"x": 1}}, "inputs"),
     ({"informatica_task_type": "MTT", "task_name": "a", "inputs": ["x"]}, "inputs"),
     ({"informatica_task_type": "TASKFLOW_SERVICE", "task_path": "a/b"}, "task_name"),
     ({"informatica_task_type": "TASKFLOW_SERVICE", "task_name": "a", "if_running": "fail"}, "if_running"),
     ({"informatica_task_type": "TASKFLOW_SERVICE", "task_name": "a", "callback_url": "https://x"}, "callback_url"),
     ({"informatica_task_type": "MTT", "task_name": "a", "if_running": "later"}, "if_running"),
     ({"informatica_task_type": "MTT", "task_name": "a", "clean_stop": "yes"}, "clean_stop"),
     ({"informatica_task_type": "MTT", "task_name": "a", "poll_interval": 0}, "poll_interval"),
     ({"informatica_task_type": "MTT", "task_name": "a", "conn_id": ""}, "conn_id")],
)
def test_run_operator_bad_input_fails_at_construction(kwargs, field):
    with pytest.raises(ConfigurationError, match=f"^{field}"):
        InformaticaRunTaskOperator(task_id="bad", **kwargs)


def test_sensor_and_stop_operator_bad_input():
    for bad in ("", None, " "):
        with pytest.raises(ConfigurationError, match="^run_id"):
            InformaticaTaskRunSensor(task_id="s", run_id=bad, informatica_task_id="X1")
    with pytest.raises(ConfigurationError, match="^informatica_task_id"):
        InformaticaTaskRunSensor(task_id="s", run_id="1")
    with pytest.raises(ConfigurationError, match="^informatica_task_type"):
        InformaticaTaskRunSensor(task_id="s", run_id="1", informatica_task_id="X1", informatica_task_type="ETL")
    with pytest.raises(ConfigurationError, match="^run_id: is missing: a TASKFLOW_SERVICE run is terminated"):
        InformaticaStopTaskOperator(task_id="x", informatica_task_type="TASKFLOW_SERVICE", task_name="a")
    with pytest.raises(ConfigurationError, match="^task_path: does not apply to a TASKFLOW_SERVICE"):
        InformaticaStopTaskOperator(task_id="x", informatica_task_type="TASKFLOW_SERVICE", task_path="a/b", run_id="1")
    with pytest.raises(ConfigurationError, match="^mode"):
        InformaticaResumeTaskflowOperator(task_id="r", run_id="1", mode="restart")
    with pytest.raises(ConfigurationError, match="^run_id"):
        InformaticaResumeTaskflowOperator(task_id="r", run_id=" ")
    with pytest.raises(ConfigurationError, match="^informatica_task_id: is missing while run_id is given"):
        InformaticaStopTaskOperator(task_id="x", informatica_task_type="MTT", task_name="a", run_id="1")
    with pytest.raises(ConfigurationError, match="^clean_stop"):
        InformaticaStopTaskOperator(task_id="x", informatica_task_type="MTT", task_name="a", clean_stop=1)


def test_bad_rendered_input_fails_before_any_request(iics, output):
    dag = make_dag("iics_bad_rendered")
    with dag:
        run_task("kind", informatica_task_type="{{ 'ETL' }}", task_name="Load")
        run_task("path", informatica_task_type="MTT", task_path="{{ 'Load' }}")
        InformaticaTaskRunSensor(task_id="sense", run_id="{{ ti.xcom_pull('nowhere') }}", informatica_task_id="X1",
                                 **FAST)
    with captured_logs() as logs:
        assert run_dag(dag) == {"kind": "failed", "path": "failed", "sense": "failed"}
    text = logged(logs, output)
    assert all(f"ConfigurationError: {field}" in text for field in ("informatica_task_type", "task_path", "run_id"))
    assert iics.state.requests("informatica") == []


def test_example_dag_runs_against_the_demo_jobs(iics):
    ids = load_demo_jobs(iics)
    path = Path(__file__).resolve().parents[2] / "example_dags" / "informatica.py"
    spec = importlib.util.spec_from_file_location("informatica_example_dag", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.dag.dag_id == "informatica_example"
    states = run_dag(module.dag)
    assert set(states.values()) == {"success"}, states
    assert iics.starts() == 3 and len(iics.taskflows["Refresh_Dashboard"].runs) == 1
    assert task_xcom(module.dag, states, "wait_for_nightly_load")["details"]["task_id"] == ids["Nightly Load"]
    assert USER in {r.started_by for r in iics.runs}
