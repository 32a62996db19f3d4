"""Datameer Spectrum: trigger a workbook, then a sequential trigger of a data-driven chain.

Runs against a real Spectrum or the sandbox (`make demo`). Uses the `spectrum_default` connection.
"""

from __future__ import annotations

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_jobs.operators.spectrum import SpectrumSequentialTriggerOperator, SpectrumTriggerJobOperator
from airflow_provider_jobs.sensors.spectrum import SpectrumJobSensor

# The run's day. Not `{{ ds }}`: a run triggered without a logical date (Airflow 3) has none.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"

with DAG(
    dag_id="spectrum_example",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "spectrum"],
) as dag:
    daily_report = SpectrumTriggerJobOperator(
        task_id="daily_report",
        file="/Sales/Daily Report",  # a file id, uuid or path
        deferrable=True,
        poll_interval=1,
        timeout=600,
    )
    weblogs = SpectrumSequentialTriggerOperator(
        task_id="weblogs_chain",
        file_ids=[102],  # Apache Log; Spectrum adds its data-driven downstream jobs to the plan
        variables={"run_date": RUN_DAY},
        deferrable=True,
        poll_interval=1,
    )
    check_again = SpectrumJobSensor(
        task_id="daily_report_finished",
        job_execution_id="{{ ti.xcom_pull(task_ids='daily_report', key='run_id') }}",
        deferrable=True,
        poll_interval=1,
    )
    daily_report >> [weblogs, check_again]
