"""Informatica Intelligent Cloud Services: run tasks and a taskflow service, wait without a worker slot.

Works against the sandbox (`airflow_provider_jobs.sandbox.informatica.load_demo_jobs` creates the tasks
and the taskflow service) with the connection `informatica_cloud_default`.

- load_customers: a mapping task (MTT) named by its path in a project folder (found with the v3 lookup).
- sync_accounts: a synchronization task (DSS) in the Default folder, named by its name.
- refresh_dashboard: a taskflow published as a service, run with inputs once both loads have succeeded.
- nightly_load: a linear taskflow (WORKFLOW), only started here; wait_for_nightly_load waits for that run
  (run id and task id from XCom).
"""

from __future__ import annotations

import pendulum

from airflow_provider_jobs.operators.informatica import InformaticaRunTaskOperator
from airflow_provider_jobs.sensors.informatica import InformaticaTaskRunSensor

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # pragma: no cover - Airflow 2.11
    from airflow import DAG

# The run's day. Not `{{ ds }}`: a run triggered without a logical date (Airflow 3) has none.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"

with DAG(
    dag_id="informatica_example",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["informatica", "example"],
) as dag:
    load_customers = InformaticaRunTaskOperator(
        task_id="load_customers",
        informatica_task_type="MTT",
        task_path="Sales/Daily/Load Customers",
        deferrable=True,
        poll_interval=1.0,
        timeout=3600,
        clean_stop=True,
    )
    sync_accounts = InformaticaRunTaskOperator(
        task_id="sync_accounts",
        informatica_task_type="DSS",
        task_name="Sync Accounts",
        fail_on_warnings=True,
        deferrable=True,
        poll_interval=1.0,
        timeout=3600,
    )
    refresh_dashboard = InformaticaRunTaskOperator(
        task_id="refresh_dashboard",
        informatica_task_type="TASKFLOW_SERVICE",
        task_name="Refresh_Dashboard",
        inputs={"region": "EMEA", "as_of": RUN_DAY},
        deferrable=True,
        poll_interval=1.0,
        timeout=3600,
    )
    nightly_load = InformaticaRunTaskOperator(
        task_id="nightly_load",
        informatica_task_type="WORKFLOW",
        task_name="Nightly Load",
        wait_for_completion=False,
    )
    wait_for_nightly_load = InformaticaTaskRunSensor(
        task_id="wait_for_nightly_load",
        run_id="{{ ti.xcom_pull(task_ids='nightly_load', key='run_id') }}",
        informatica_task_id="{{ ti.xcom_pull(task_ids='nightly_load', key='informatica_task_id') }}",
        deferrable=True,
        poll_interval=1.0,
        timeout=3600,
    )
    [load_customers, sync_accounts] >> refresh_dashboard
    nightly_load >> wait_for_nightly_load
