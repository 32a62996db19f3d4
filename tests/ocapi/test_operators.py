"""OcapiRunJobOperator, OcapiJobExecutionSensor and the trigger, through real DAG runs against the sandbox."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
from pathlib import Path

import pytest

from airflow_provider_jobs.core.errors import ConfigurationError, JobProviderError
from airflow_provider_jobs.core.runs import JobRun
from airflow_provider_jobs.hooks.ocapi import OcapiHook
from airflow_provider_jobs.operators.ocapi import OcapiRunJobOperator
from airflow_provider_jobs.sandbox.ocapi import BM_PASSWORD, CLIENT_SECRET, load_demo_jobs
from airflow_provider_jobs.sensors.ocapi import OcapiJobExecutionSensor
from tests.support import assert_no_secret, captured_logs, make_dag, run_dag, task_xcom, use_connection

FAST = {"poll_interval": 0.1}
MODES = pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "worker"])
EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "ocapi.py"


@pytest.fixture(autouse=True)
def ocapi_conn(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi")


def _text(logs, output) -> str:
    return "\n".join(logs.records) + output()


def _client_starts(sandbox) -> list[int]:
    """HTTP statuses of every start (POST .../executions) the provider sent, OCAPI or SCAPI."""
    return [s.status for s in sandbox.requests("ocapi", "POST", r"/jobs/[^/]+/executions$")]


@MODES
def test_runs_to_success_with_parameters_and_steps(sandbox, deferrable, output):
    site = sandbox.ocapi
    site.add_job("CustomerImportJob", running=0.3, steps=["ImportCustomers", "RebuildIndexes"])
    site.add_job("CatalogExport", running=0.1, exit_code="NOTHING_TO_EXPORT", exit_message="No changes")
    site.add_job("Queued", pending=0.4, running=0.1)
    dag = make_dag(f"ocapi_success_{deferrable}")
    with dag:
        imp = OcapiRunJobOperator(
            task_id="import",
            job_id="CustomerImportJob",
            parameters={"File": "customers-{{ ds }}.xml", "Limit": 10},
            deferrable=deferrable,
            **FAST,
        )
        imp.apply_shared_variables({"Limit": 99, "Region": "EU"})
        export = OcapiRunJobOperator(task_id="export", job_id="CatalogExport", deferrable=deferrable, **FAST)
        queued = OcapiRunJobOperator(task_id="queued", job_id="Queued", deferrable=deferrable, **FAST)
        imp >> export >> queued
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"import": "success", "export": "success", "queued": "success"}
    result = task_xcom(dag, states, "import")
    assert (result["vendor"], result["job_id"], result["state"], result["vendor_state"]) == (
        "ocapi",
        "CustomerImportJob",
        "SUCCESS",
        "finished",
    )
    assert result["run_id"] == task_xcom(dag, states, "import", "run_id")
    assert result["run_id"] in task_xcom(dag, states, "import", "run_url")
    assert [s["step_id"] for s in result["details"]["steps"]] == ["ImportCustomers", "RebuildIndexes"]
    export_result = task_xcom(dag, states, "export")
    assert (export_result["state"], export_result["details"]["exit_code"]) == ("SUCCESS", "NOTHING_TO_EXPORT")
    execution = site.executions[result["run_id"]]
    params = {p["name"]: p["value"] for p in execution.parameters}
    assert params["Region"] == "EU" and params["Limit"] == "10"  # shared variables; the operator's own win
    assert params["File"].startswith("customers-2") and params["File"].endswith(".xml")
    text = _text(logs, output)
    assert f"Step executions of execution {result['run_id']} of job 'CustomerImportJob'" in text
    assert "step 'RebuildIndexes' (ExecuteScriptModule, Organization): finished, exit OK (ok)" in text
    assert "exit NOTHING_TO_EXPORT (ok)" in text
    assert site.starts() == 3


@MODES
def test_error_exit_and_abort_fail_saying_why(sandbox, deferrable, output):
    site = sandbox.ocapi
    site.add_job(
        "Broken",
        running=0.2,
        exit_code="ERROR",
        exit_status="error",
        exit_message="Import file missing",
        steps=["Fetch", "Import", "Index"],
        error_step=1,
    )
    site.add_job("Aborted", running=0.2, final="aborted", steps=["Only"])
    dag = make_dag(f"ocapi_failures_{deferrable}")
    with dag:
        OcapiRunJobOperator(task_id="broken", job_id="Broken", deferrable=deferrable, **FAST)
        OcapiRunJobOperator(task_id="aborted", job_id="Aborted", deferrable=deferrable, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"broken": "failed", "aborted": "failed"}
    text = _text(logs, output)
    failure = next(line for line in text.splitlines() if "Wait ended failed" in line and "'Broken'" in line)
    assert "exit status ERROR: Import file missing" in failure and "step 'Import'" in failure
    assert any(
        "Wait ended failed" in line and "'Aborted'" in line and "aborted" in line
        for line in text.splitlines()
    )


@MODES
@pytest.mark.parametrize("how", ["expires", "revoked"])
def test_token_expiry_mid_wait_renews(sandbox, deferrable, how):
    site = sandbox.ocapi
    site.add_job("Long", running=1.2)
    if how == "expires":
        site.token_lifetime = 0.6
    else:
        sandbox.fault("ocapi", r"/executions/\d+$", *[{"kind": "delay", "seconds": 0}] * 2, "expire")
    dag = make_dag(f"ocapi_token_{how}_{deferrable}")
    with dag:
        OcapiRunJobOperator(task_id="long", job_id="Long", deferrable=deferrable, **FAST)
    states = run_dag(dag)
    assert states == {"long": "success"}
    polls = [s.status for s in sandbox.requests("ocapi", "GET")]
    assert len(site.grants) >= 2
    if how == "expires":
        # renewed before expires_in ran out: at least one renewal came without a 401 (a very slow
        # machine may still see a token expire in flight, which the single re-login then covers)
        assert polls.count(401) < len(site.grants) - 1
    else:
        assert polls.count(401) == 1 and polls[-1] == 200
    assert site.starts() == 1


def _blocker(site, job_id: str, box: dict):
    """A task starting an execution of `job_id` as someone else would, just before the tasks under test."""
    try:
        from airflow.sdk import task
    except ImportError:  # pragma: no cover - Airflow 2.11
        from airflow.decorators import task

    @task(task_id="blocker")
    def start_blocker() -> None:
        # It runs until it has been read once by id: the tasks under test see it running, however slow.
        box["execution"] = site.start(job_id, finish_after_reads=1)

    return start_blocker()


def test_if_running_fail_start_and_attach(sandbox, output):
    site = sandbox.ocapi
    site.add_job("Busy", running=0.3)
    box: dict = {}
    dag = make_dag("ocapi_if_running")
    with dag:
        blocker = _blocker(site, "Busy", box)
        fail = OcapiRunJobOperator(task_id="fail", job_id="Busy", if_running="fail", **FAST)
        start = OcapiRunJobOperator(
            task_id="start", job_id="Busy", if_running="start", trigger_rule="all_done", **FAST
        )
        attach = OcapiRunJobOperator(
            task_id="attach",
            job_id="Busy",
            if_running="attach",
            deferrable=True,
            trigger_rule="all_done",
            **FAST,
        )
        blocker >> fail >> start >> attach
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"blocker": "success", "fail": "failed", "start": "failed", "attach": "success"}
    theirs = box["execution"].run_id
    assert task_xcom(dag, states, "attach")["run_id"] == theirs
    assert _client_starts(sandbox) == [400]  # only "start" tried, and B2C Commerce refused it
    text = _text(logs, output)
    assert f"job 'Busy' run {theirs} is RUNNING is already going and if_running='fail'" in text
    assert "job 'Busy' is already running" in text and "JobAlreadyRunningException" in text


@MODES
def test_if_running_wait_runs_ours_after_theirs(sandbox, deferrable, output):
    site = sandbox.ocapi
    site.add_job("Busy", running=0.3)
    box: dict = {}
    dag = make_dag(f"ocapi_if_running_wait_{deferrable}")
    with dag:
        _blocker(site, "Busy", box) >> OcapiRunJobOperator(
            task_id="wait", job_id="Busy", if_running="wait", deferrable=deferrable, **FAST
        )
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"blocker": "success", "wait": "success"}
    theirs = box["execution"]
    ours = task_xcom(dag, states, "wait")["run_id"]
    assert ours != theirs.run_id and _client_starts(sandbox) == [200]
    assert site.executions[ours].created >= theirs.ended_at
    assert (
        f"Waiting for the run that is already going before starting ours: ocapi job 'Busy' run "
        f"{theirs.run_id}" in _text(logs, output)
    )


def test_if_running_wait_attaches_when_the_start_is_refused(sandbox):
    site = sandbox.ocapi
    site.add_job("Busy", running=0.3)
    box: dict = {}
    # The search misses the running execution once (it was started a moment ago), so the start is refused.
    sandbox.fault(
        "ocapi",
        "job_execution_search$",
        {"kind": "status", "status": 200, "body": '{"_v": "23.2", "count": 0, "hits": [], "total": 0}'},
    )
    dag = make_dag("ocapi_if_running_race")
    with dag:
        _blocker(site, "Busy", box) >> OcapiRunJobOperator(
            task_id="wait", job_id="Busy", deferrable=True, **FAST
        )
    states = run_dag(dag)
    assert states == {"blocker": "success", "wait": "success"}
    assert task_xcom(dag, states, "wait")["run_id"] == box["execution"].run_id
    assert _client_starts(sandbox) == [400]


@MODES
def test_ocapi_switched_off_mid_flight_falls_back_to_scapi(sandbox, deferrable, output):
    site = sandbox.ocapi
    site.add_job("Long", running=0.5, steps=["A", "B"])
    # OCAPI answers the searches (is one running? the start marker's two) and the start, then only 403
    # OcapiDeprecatedException: every poll of the execution it started has to go through SCAPI.
    site.switch_off_ocapi(after_calls=4)
    dag = make_dag(f"ocapi_retired_{deferrable}")
    with dag:
        OcapiRunJobOperator(task_id="long", job_id="Long", deferrable=deferrable, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"long": "success"}
    result = task_xcom(dag, states, "long")
    assert result["details"]["backend"] == "scapi" and result["state"] == "SUCCESS"
    assert [s["step_id"] for s in result["details"]["steps"]] == ["A", "B"]
    assert _client_starts(sandbox) == [200] and site.starts() == 1
    assert not sandbox.requests("ocapi", "POST", "/scapi/.*/executions$")  # started through OCAPI
    assert sandbox.requests("ocapi", "GET", "/scapi/")
    assert "OCAPI is switched off" in _text(logs, output)


@MODES
def test_deadline_says_the_execution_goes_on(sandbox, deferrable, output):
    site = sandbox.ocapi
    site.add_job("Slow", running=30)
    dag = make_dag(f"ocapi_deadline_{deferrable}")
    with dag:
        OcapiRunJobOperator(task_id="slow", job_id="Slow", deferrable=deferrable, timeout=0.5, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"slow": "failed"}
    (execution,) = site.executions.values()
    text = _text(logs, output)
    assert (
        f"Salesforce B2C Commerce cannot cancel a running job: execution {execution.run_id} of job 'Slow' "
        "goes on"
    ) in text
    assert f"Deadline reached while waiting for ocapi job 'Slow' run {execution.run_id}" in text
    assert not execution.finished
    assert not sandbox.requests("ocapi", "DELETE")


def test_operator_and_trigger_on_kill_say_the_execution_goes_on(sandbox, output):
    sandbox.ocapi.add_job("Slow", running=30)
    run = OcapiHook().start_run("Slow")
    op = OcapiRunJobOperator(task_id="x", job_id="Slow", **FAST)
    op._runs = [run]  # as execute() leaves it after the start
    with captured_logs() as logs:
        op.on_kill()
        asyncio.run(op.make_trigger([run], None).on_kill())
    lines = _text(logs, output).splitlines()
    said = [line for line in lines
            if f"B2C Commerce cannot cancel a running job: execution {run.run_id} of job 'Slow' goes on" in line]
    assert len(said) >= 2  # the operator's on_kill and the trigger's
    assert not sandbox.ocapi.executions[run.run_id].finished
    assert len(sandbox.requests("ocapi")) == 2  # the token and the start: nothing was sent to stop it


@MODES
def test_sensor_waits_for_an_execution(sandbox, deferrable):
    sandbox.ocapi.add_job("Fine", running=0.3)
    sandbox.ocapi.add_job("Broken", running=0.1, exit_code="ERROR", exit_status="error")
    broken = sandbox.ocapi.start("Broken")
    dag = make_dag(f"ocapi_sensor_{deferrable}")
    with dag:
        start = OcapiRunJobOperator(task_id="start", job_id="Fine", wait_for_completion=False, **FAST)
        sense = OcapiJobExecutionSensor(
            task_id="sense",
            job_id="Fine",
            execution_id="{{ ti.xcom_pull('start', key='run_id') }}",
            deferrable=deferrable,
            **FAST,
        )
        sense_broken = OcapiJobExecutionSensor(
            task_id="sense_broken", job_id="Broken", execution_id=broken.run_id, deferrable=deferrable, **FAST
        )
        start >> sense >> sense_broken
    states = run_dag(dag)
    assert states == {"start": "success", "sense": "success", "sense_broken": "failed"}
    assert task_xcom(dag, states, "sense")["state"] == "SUCCESS"
    assert task_xcom(dag, states, "start")["state"] in ("QUEUED", "RUNNING")


def test_ambiguous_start_finds_the_execution_instead_of_starting_again(sandbox):
    sandbox.ocapi.add_job("Quick", running=0.3)
    sandbox.fault("ocapi", r"/jobs/Quick/executions$", "drop_after", method="POST")
    dag = make_dag("ocapi_ambiguous")
    with dag:
        OcapiRunJobOperator(task_id="quick", job_id="Quick", deferrable=False, **FAST)
    states = run_dag(dag)
    assert states == {"quick": "success"}
    assert sandbox.ocapi.starts() == 1


def test_no_secret_in_logs_xcom_or_trigger(sandbox, monkeypatch, output):
    from airflow_provider_jobs.sandbox.ocapi import BM_USER

    use_connection(monkeypatch, sandbox, "ocapi", extra={"bm_user": BM_USER, "bm_password": BM_PASSWORD})
    sandbox.ocapi.add_job("Quick", running=0.2)
    sandbox.fault("ocapi", r"/executions/\d+$", "expire")  # OCAPI's 401 repeats the refused token
    dag = make_dag("ocapi_secrets")
    with dag:
        OcapiRunJobOperator(task_id="q", job_id="Quick", deferrable=True, **FAST)
        OcapiRunJobOperator(task_id="missing", job_id="Missing", deferrable=True, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"q": "success", "missing": "failed"}
    text = _text(logs, output)
    assert "job 'Missing' was not found" in text
    _, kwargs = (
        OcapiRunJobOperator(task_id="x", job_id="Quick")
        .make_trigger([JobRun.from_dict(task_xcom(dag, states, "q"))], None)
        .serialize()
    )
    assert json.loads(json.dumps(kwargs)) == kwargs  # plain JSON
    assert len(sandbox.ocapi.issued) == 2
    for secret in [CLIENT_SECRET, BM_PASSWORD, *sandbox.ocapi.issued]:
        assert_no_secret(secret, logs.records, text, task_xcom(dag, states, "q"), kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"job_id": ""}, "job_id"),
        ({"job_id": None}, "job_id"),
        ({"job_id": 1.5}, "job_id"),
        ({"job_id": "J", "parameters": [1]}, "parameters[0]"),
        ({"job_id": "J", "parameters": {"A": None}}, "parameters"),
        ({"job_id": "J", "parameters": "not json"}, "parameters"),
        ({"job_id": "J", "parameters": {"": 1}}, "parameters"),
        ({"job_id": "J", "if_running": "later"}, "if_running"),
        ({"job_id": "J", "poll_interval": 0}, "poll_interval"),
        ({"job_id": "J", "timeout": "1h"}, "timeout"),
        ({"job_id": "J", "conn_id": ""}, "conn_id"),
    ],
)
def test_bad_input_fails_at_construction(kwargs, field):
    with pytest.raises(ConfigurationError, match=f"^{re.escape(field)}"):
        OcapiRunJobOperator(task_id="bad", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"job_id": "J", "execution_id": ""}, "execution_id"),
        ({"job_id": "", "execution_id": "1"}, "job_id"),
        ({"job_id": "J", "execution_id": None}, "execution_id"),
    ],
)
def test_sensor_bad_input_fails_at_construction(kwargs, field):
    with pytest.raises(ConfigurationError, match=f"^{field}"):
        OcapiJobExecutionSensor(task_id="bad", **kwargs)


def test_templated_bad_input_fails_before_any_request(sandbox, output):
    dag = make_dag("ocapi_bad_template")
    with dag:
        OcapiRunJobOperator(task_id="bad", job_id="{{ '' }}", **FAST)
        OcapiRunJobOperator(task_id="bad_params", job_id="J", parameters={"A": "{{ 1 }}", "B": None}, **FAST)
    with captured_logs() as logs:
        assert run_dag(dag) == {"bad": "failed", "bad_params": "failed"}
    text = "\n".join(logs.records) + output()
    assert "ConfigurationError: job_id" in text and "ConfigurationError: parameters" in text
    assert sandbox.requests("ocapi") == []


@pytest.mark.parametrize("event", [None, {}, {"status": "done"}, "ok", {"status": "success", "runs": []}])
def test_execute_complete_rejects_foreign_events(event):
    op = OcapiRunJobOperator(task_id="x", job_id="J")
    with pytest.raises(JobProviderError, match="(Unexpected trigger event|without a run)"):
        op.execute_complete({}, event)


def test_apply_shared_variables_merges_under_own_parameters():
    op = OcapiRunJobOperator(task_id="x", job_id="J", parameters=[{"name": "A", "value": "own"}])
    assert op.apply_shared_variables({"A": "shared", "B": 2}) is True
    assert op.apply_shared_variables({"C": True}) is True
    assert op.start_options() == {
        "parameters": [
            {"name": "B", "value": "2"},
            {"name": "C", "value": "true"},
            {"name": "A", "value": "own"},
        ]
    }
    with pytest.raises(ConfigurationError, match="^variables"):
        op.apply_shared_variables(["not", "a", "dict"])


def test_example_dag_runs_against_the_demo_jobs(sandbox):
    load_demo_jobs(sandbox.ocapi)
    spec = importlib.util.spec_from_file_location("ocapi_example_dag", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    assert dag.dag_id == "ocapi_example"
    for task in dag.tasks:
        task.poll_interval = 0.1
    states = run_dag(dag)
    assert set(states.values()) == {"success"}, states
    assert all(task.deferrable for task in dag.tasks)
