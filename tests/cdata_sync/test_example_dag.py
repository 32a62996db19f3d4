"""The example DAG against the sandbox's demo job: update a task's query, run the job, read its history."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from airflow_provider_jobs.sandbox.cdata_sync import load_demo_jobs
from tests.support import run_dag, task_xcom

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "cdata_sync.py"


def test_example_dag_runs_against_the_demo_job(sandbox, sync, connect):
    connect()
    load_demo_jobs(sync)
    spec = importlib.util.spec_from_file_location("cdata_sync_example_dag", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    assert dag.dag_id == "cdata_sync_example"
    run_job = dag.get_task("run_job")
    assert run_job.deferrable and run_job.conn_id == "cdata_sync_default"
    run_job.poll_interval = 0.1
    states = run_dag(dag)
    assert states == {"only_live_accounts": "success", "run_job": "success", "read_history": "success"}
    job = sync.job_named("Salesforce to Snowflake")
    assert job.tasks[0].query.endswith("WHERE [IsDeleted] = false")
    (run,) = sync.runs
    assert run.tasks[0].query.endswith("WHERE [IsDeleted] = false")  # the run used the updated query
    history = task_xcom(dag, states, "read_history")
    assert history == {"history_id": str(run.history_id), "status": "Successful", "runs_in_history": 1}
    assert task_xcom(dag, states, "run_job")["details"]["records_affected"] == 517
