"""CData Sync: change a task's query, run the job (deferred), then read the run's history.

Runs against a real Sync server or the sandbox (`make demo`). Uses the `cdata_sync_default` connection.
"""

from __future__ import annotations

from typing import Any

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task

from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook
from airflow_provider_jobs.operators.cdata_sync import CDataSyncRunJobOperator

JOB_NAME = "Salesforce to Snowflake"

with DAG(
    dag_id="cdata_sync_example",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "cdata_sync"],
) as dag:

    @task
    def only_live_accounts() -> dict[str, str]:
        """Filter the job's first task to accounts that are not deleted (a job cannot change while it runs)."""
        hook = CDataSyncHook()
        job = hook.find_job(JOB_NAME)
        first = hook.list_tasks(job["id"])[0]
        hook.update_task(job["id"], first["id"],
                         query="REPLICATE [Accounts] SELECT * FROM [Accounts] WHERE [IsDeleted] = false")
        return {"job_id": job["id"], "task_id": first["id"]}  # ids stay strings (64-bit)

    run_job = CDataSyncRunJobOperator(
        task_id="run_job",
        job_name=JOB_NAME,  # or job_id="9007199254740993"; tasks=[...] runs only some tasks
        fail_on_zero_rows=True,
        deferrable=True,
        poll_interval=1,
        timeout=3600,  # then the run is cancelled and the task fails
    )

    @task
    def read_history(run: dict[str, Any]) -> dict[str, Any]:
        """The run's history entry and the job's recent runs."""
        hook = CDataSyncHook()
        entry = hook.get_history(run["job_id"], run["run_id"])
        runs = hook.list_history(run["job_id"])
        print(f"Run {run['run_id']}: {entry.get('status')}, {run['details']['records_affected']} records affected; "
              f"the job has {len(runs)} run(s) in its history.")
        return {"history_id": run["run_id"], "status": entry.get("status"), "runs_in_history": len(runs)}

    only_live_accounts() >> run_job
    read_history(run_job.output)
