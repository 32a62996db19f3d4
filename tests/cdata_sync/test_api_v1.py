"""CData Sync servers without API v2 (24.x and before): the v1 job API, and detecting which API a server has."""

from __future__ import annotations

import pytest

from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.hooks.cdata_sync import V1_HISTORY_PAGE, CDataSyncHook
from airflow_provider_jobs.operators.cdata_sync import CDataSyncRunJobOperator
from airflow_provider_jobs.sensors.cdata_sync import CDataSyncJobSensor
from tests.cdata_sync.conftest import five_tasks
from tests.support import captured_logs, make_dag, run_dag, task_xcom

FAST = {"poll_interval": 0.1}
PROBE = r"^/api\.rsc/v2/workspaces/default/jobs$"


@pytest.fixture
def v1(sync, connect):
    """The sandbox as a v1-only server; the connection's api_version is auto."""
    sync.api_version = "v1"
    connect()
    return sync


def probes(sandbox):
    return sandbox.requests("cdata_sync", "GET", PROBE)


@pytest.mark.parametrize("deferrable", [False, True])
def test_operator_and_sensor_succeed_on_v1_with_one_detection(sandbox, v1, deferrable):
    job = v1.add_job("Nightly", five_tasks(records=3))
    dag = make_dag(f"cdata_v1_ok_{deferrable}")
    with dag:
        run = CDataSyncRunJobOperator(task_id="run", job_name="Nightly", deferrable=deferrable, **FAST)
        sense = CDataSyncJobSensor(task_id="sense", job_id=str(job.job_id),
                                   history_id="{{ ti.xcom_pull(task_ids='run', key='run_id') }}",
                                   deferrable=deferrable, **FAST)
        latest = CDataSyncJobSensor(task_id="latest", job_name="Nightly", deferrable=deferrable, **FAST)
        run >> sense >> latest
    states = run_dag(dag)
    assert states == {"run": "success", "sense": "success", "latest": "success"}
    result = task_xcom(dag, states, "run")
    (ours,) = v1.runs_of(job)
    assert result["run_id"] == str(ours.history_id) and result["state"] == "SUCCESS"
    assert result["details"]["records_affected"] == 15
    assert task_xcom(dag, states, "sense")["run_id"] == str(ours.history_id)
    assert task_xcom(dag, states, "latest")["run_id"] == str(ours.history_id)  # the latest run: ours
    assert len(probes(sandbox)) == 1  # detected once for the connection, whatever ran on it
    assert sandbox.requests("cdata_sync", path=r"^/api\.rsc/v2/jobs") == []
    (execute,) = sandbox.requests("cdata_sync", "POST", r"/executeJob$")
    assert execute.status == 200
    # polls ask for a page of the job's history, never all of it
    for read in sandbox.requests("cdata_sync", "GET", r"^/api\.rsc/history$"):
        assert "%24top=" in read.query or "$top=" in read.query
    assert ("POST", "/api.rsc/executeJob", {"JobName": "Nightly", "ExecutionType": "Run",
                                             "WaitForResults": "false"}) in v1.bodies


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_failed_run_fails_the_task_with_syncs_details_on_v1(v1, deferrable, output):
    v1.add_job("Five", five_tasks(failing=(1,)))
    dag = make_dag(f"cdata_v1_failed_{deferrable}")
    with dag:
        run = CDataSyncRunJobOperator(task_id="run", job_name="Five", deferrable=deferrable, **FAST)
        run >> CDataSyncJobSensor(task_id="sense", job_name="Five", deferrable=deferrable, trigger_rule="all_done",
                                  **FAST)
    with captured_logs() as logs:  # Airflow 2 logs the task through logging, Airflow 3 prints it
        states = run_dag(dag)
    assert states == {"run": "failed", "sense": "failed"}
    assert "[Contacts] destination refused the batch" in "\n".join(logs.records) + output()


def test_kill_cancels_the_run_on_v1(sandbox, v1):
    job = v1.add_job("Long", [{"query": "REPLICATE [A]", "seconds": 30}])
    op = CDataSyncRunJobOperator(task_id="x", job_id=str(job.job_id), **FAST)
    op._runs = [CDataSyncHook().start_run(str(job.job_id))]  # as execute() leaves it after the start
    op.on_kill()
    assert v1.runs[0].state()[0] == "Cancelled"
    (cancel,) = sandbox.requests("cdata_sync", "POST", r"/cancelJob$")
    assert cancel.status == 200
    assert ("POST", "/api.rsc/cancelJob", {"JobName": "Long"}) in v1.bodies
    assert CDataSyncHook().cancel_job(str(job.job_id)) is False  # nothing running any more


@pytest.mark.parametrize("deferrable", [False, True])
def test_deadline_cancels_on_v1(sandbox, v1, deferrable, output):
    job = v1.add_job("Slow", [{"query": "REPLICATE [A]", "seconds": 30}])
    dag = make_dag(f"cdata_v1_deadline_{deferrable}")
    with dag:
        CDataSyncRunJobOperator(task_id="slow", job_id=str(job.job_id), deferrable=deferrable, timeout=0.5, **FAST)
    with captured_logs() as logs:
        assert run_dag(dag) == {"slow": "failed"}
    assert "Deadline reached while waiting for cdata_sync job" in "\n".join(logs.records) + output()
    assert v1.runs[0].state()[0] == "Cancelled"
    assert len(sandbox.requests("cdata_sync", "POST", r"/cancelJob$")) == 1


def test_auto_picks_v2_on_a_v2_server_once_per_connection(sandbox, sync, connect):
    job = sync.add_job("J", five_tasks())
    connect()
    dag = make_dag("cdata_v2_detect")
    with dag:
        run = CDataSyncRunJobOperator(task_id="run", job_id=str(job.job_id), deferrable=True, **FAST)
        run >> CDataSyncJobSensor(task_id="sense", job_id=str(job.job_id), deferrable=True, **FAST)
    assert run_dag(dag) == {"run": "success", "sense": "success"}
    assert CDataSyncHook().api_version() == "v2"
    assert len(probes(sandbox)) == 1
    assert sandbox.requests("cdata_sync", path=r"^/api\.rsc/(executeJob|getJobStatus|history|jobs)$") == []


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_an_explicit_api_version_skips_the_probe(sandbox, sync, connect, version):
    sync.api_version = version
    job = sync.add_job("J")
    connect(extra={"api_version": version.upper()})
    hook = CDataSyncHook()
    run = hook.start_run(str(job.job_id))
    assert hook.api_version() == version and run.run_id == str(sync.runs[0].history_id)
    assert probes(sandbox) == []


def test_v1_history_reads_a_page(sandbox, v1):
    job = v1.add_job("J", [{"query": "REPLICATE [A]", "seconds": 0}])
    for _ in range(V1_HISTORY_PAGE + 5):
        v1.start(job).stop("Failed")
    entries = CDataSyncHook().list_history(str(job.job_id))
    assert len(entries) == V1_HISTORY_PAGE
    assert entries[0]["Id"] == v1.runs[-1].history_id  # newest first


def test_v2_only_calls_say_so_on_v1(sandbox, v1):
    job = v1.add_job("J", five_tasks())
    hook = CDataSyncHook()
    with pytest.raises(ConfigurationError, match=r"^api_version.*task management needs CData Sync REST API v2"):
        hook.list_tasks(str(job.job_id))
    with pytest.raises(ConfigurationError, match=r"^tasks.*API v1 executes a whole job only"):
        hook.start_run(str(job.job_id), tasks=[str(job.tasks[0].task_id)])
    assert sandbox.requests("cdata_sync", "POST") == []


def test_a_bad_api_version_names_the_field(sandbox, connect):
    connect(extra={"api_version": "v3"})
    with pytest.raises(ConfigurationError, match=r"api_version.*'v3' is not one of auto, v1, v2"):
        CDataSyncHook().list_jobs()
    assert sandbox.requests("cdata_sync") == []
