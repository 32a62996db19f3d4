"""Five vendors, one chain with Spectrum's sequential-trigger semantics.

Informatica loads customers -> B2C Commerce imports them -> CData Sync replicates the CRM -> NEXUS IC
builds the inspection summary -> Spectrum runs the web-log chain (its own sequential trigger). Each step
starts only after the one before succeeded; the shared variables reach every step that can take them
(Informatica taskflow inputs, OCAPI job parameters, NEXUS report parameters, Spectrum variables); the last
task returns the execution plan. Deferrable throughout: no worker slot is held while a job runs.

`make demo` runs it against the sandbox and prints the plan as a table.
"""

from __future__ import annotations

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_jobs.operators.cdata_sync import CDataSyncRunJobOperator
from airflow_provider_jobs.operators.informatica import InformaticaRunTaskOperator
from airflow_provider_jobs.operators.nexus_ic import NexusICRunReportOperator
from airflow_provider_jobs.operators.ocapi import OcapiRunJobOperator
from airflow_provider_jobs.operators.sequence import sequential_trigger
from airflow_provider_jobs.operators.spectrum import SpectrumSequentialTriggerOperator

# The run's day. Not `{{ ds }}`: a run triggered without a logical date (Airflow 3) has none.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"
RUN_DAY_NODASH = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y%m%d') }}"

COMMON = {"deferrable": True, "poll_interval": 1, "timeout": 1800}

with DAG(
    dag_id="chained_vendor_jobs",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "chain"],
) as dag:
    refresh = InformaticaRunTaskOperator(
        task_id="refresh_dashboard",
        informatica_task_type="TASKFLOW_SERVICE",  # a taskflow published as a service: it takes inputs
        task_name="Refresh_Dashboard",
        **COMMON,
    )
    load_customers = InformaticaRunTaskOperator(
        task_id="load_customers",
        informatica_task_type="MTT",
        task_path="Sales/Daily/Load Customers",
        **COMMON,
    )
    import_customers = OcapiRunJobOperator(
        task_id="import_customers",
        job_id="CustomerImportJob",
        parameters={"ImportFile": f"customers_{RUN_DAY_NODASH}.xml"},
        **COMMON,
    )
    replicate_crm = CDataSyncRunJobOperator(task_id="replicate_crm", job_name="Salesforce to Snowflake", **COMMON)
    inspection_summary = NexusICRunReportOperator(
        task_id="inspection_summary",
        template_name="Inspection Summary",
        output_type="json",
        **COMMON,
    )
    weblogs = SpectrumSequentialTriggerOperator(task_id="weblogs", file_ids=[102], **COMMON)

    sequential_trigger(
        "nightly",
        [refresh, load_customers, import_customers, replicate_crm, inspection_summary, weblogs],
        variables={"run_date": RUN_DAY, "region": "EU"},
    )
