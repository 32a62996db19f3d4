"""Salesforce B2C Commerce: import customers with parameters, then export the catalog and wait for it.

Runs against a real instance or the sandbox (`make demo`). Uses the `ocapi_default` connection; when
the instance has OCAPI switched off, the same tasks go on through the SCAPI Jobs API.
"""

from __future__ import annotations

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_jobs.operators.ocapi import OcapiRunJobOperator
from airflow_provider_jobs.sensors.ocapi import OcapiJobExecutionSensor

# The run's day. Not `{{ ds }}`: a run triggered without a logical date (Airflow 3) has none.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"
RUN_DAY_NODASH = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y%m%d') }}"

with DAG(
    dag_id="ocapi_example",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "ocapi", "b2c-commerce"],
) as dag:
    import_customers = OcapiRunJobOperator(
        task_id="import_customers",
        job_id="CustomerImportJob",
        parameters={
            "ImportFile": f"customers_{RUN_DAY_NODASH}.xml",
            "SiteScope": {"named_sites": ["RefArch"]},  # sent as JSON text
        },
        if_running="wait",  # a scheduled execution is going: wait for it, then run ours
        deferrable=True,
        poll_interval=2,
        timeout=3600,
    )
    export_catalog = OcapiRunJobOperator(
        task_id="export_catalog",
        job_id="CatalogExport",
        wait_for_completion=False,  # start it; the sensor below waits
        deferrable=True,
    )
    export_finished = OcapiJobExecutionSensor(
        task_id="export_finished",
        job_id="CatalogExport",
        execution_id="{{ ti.xcom_pull(task_ids='export_catalog', key='run_id') }}",
        deferrable=True,
        poll_interval=2,
    )
    import_customers >> export_catalog >> export_finished
