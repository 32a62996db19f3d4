"""e2e: five vendors' run operators that start from the trigger (Airflow 3.3+): no worker runs these tasks.

tests/e2e/run_e2e.py (scenario start_from_trigger) checks that each task went straight from scheduled to deferred
(no hostname, no pid: no task process), that its start came from the triggerer's HTTP client, and its XComs.
"""

from __future__ import annotations

import pendulum

from airflow_provider_jobs.operators.cdata_sync import CDataSyncRunJobOperator
from airflow_provider_jobs.operators.informatica import InformaticaRunTaskOperator
from airflow_provider_jobs.operators.nexus_ic import NexusICRunReportOperator
from airflow_provider_jobs.operators.ocapi import OcapiRunJobOperator
from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11: the operators run on a worker (start_from_trigger needs 3.3)
    from airflow import DAG

COMMON = {"deferrable": True, "start_from_trigger": True, "poll_interval": 1, "timeout": 600}
RUN_DAY_NODASH = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y%m%d') }}"

with DAG(
    dag_id="e2e_start_from_trigger",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["e2e"],
) as dag:
    load = InformaticaRunTaskOperator(task_id="load_customers", informatica_task_type="MTT",
                                      task_path="Sales/Daily/Load Customers", **COMMON)
    imp = OcapiRunJobOperator(task_id="import_customers", job_id="CustomerImportJob",  # rendered by the triggerer
                              parameters={"ImportFile": f"customers_{RUN_DAY_NODASH}.xml"}, **COMMON)
    sync = CDataSyncRunJobOperator(task_id="replicate_crm", job_name="Salesforce to Snowflake", **COMMON)
    report = NexusICRunReportOperator(task_id="inspection_summary", template_name="Inspection Summary",
                                      fetch_content=False, **COMMON)
    spectrum = SpectrumTriggerJobOperator(task_id="weblogs", file=101, **COMMON)
    load >> imp >> [sync, report, spectrum]
