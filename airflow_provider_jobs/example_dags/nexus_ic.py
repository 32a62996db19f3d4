"""Wood NEXUS IC: generate two reports, wait for them without a worker slot, keep their content.

Works against the sandbox (`airflow_provider_jobs.sandbox.nexus_ic.load_demo_jobs` creates the two
report templates) with the connection `nexus_ic_default`.

- inspection_summary: a JSON report found by template name; its content goes to XCom ("content").
- anomaly_register: an xlsx report, only started here (its job id goes to XCom as "run_id");
  wait_for_register waits for that server job, and save_register saves its file into the report
  directory (Airflow Variable `nexus_ic_report_dir`, default /tmp/nexus_ic_reports) under the name
  the server gives it.
"""

from __future__ import annotations

import pendulum

from airflow_provider_jobs.operators.nexus_ic import NexusICJobContentOperator, NexusICRunReportOperator
from airflow_provider_jobs.sensors.nexus_ic import NexusICJobSensor

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # pragma: no cover - Airflow 2.11
    from airflow import DAG

REPORT_DIR = "{{ var.value.get('nexus_ic_report_dir', '/tmp/nexus_ic_reports') }}/"

# The run's day. Not `{{ ds }}`: a run triggered without a logical date (Airflow 3) has none.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"

with DAG(
    dag_id="nexus_ic_example",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["nexus_ic", "example"],
) as dag:
    summary = NexusICRunReportOperator(
        task_id="inspection_summary",
        template_name="Inspection Summary",
        output_type="json",
        parameters={"Asset": "Platform A", "Since": RUN_DAY},
        deferrable=True,
        poll_interval=1.0,
        timeout=3600,
    )
    register = NexusICRunReportOperator(
        task_id="anomaly_register",
        template_name="Anomaly Register",
        output_type="xlsx",
        wait_for_completion=False,
        fetch_content=False,
    )
    wait_for_register = NexusICJobSensor(
        task_id="wait_for_register",
        job_id="{{ ti.xcom_pull(task_ids='anomaly_register', key='run_id') }}",
        max_paused_seconds=1800,
        deferrable=True,
        poll_interval=1.0,
        timeout=3600,
    )
    save_register = NexusICJobContentOperator(
        task_id="save_register",
        job_id="{{ ti.xcom_pull(task_ids='anomaly_register', key='run_id') }}",
        output_path=REPORT_DIR,
    )
    register >> wait_for_register >> save_register
