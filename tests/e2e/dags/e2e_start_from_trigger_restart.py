"""e2e: start_from_trigger tasks whose start is in flight when the triggerer stops (Airflow 3.3+).

tests/e2e/run_e2e.py (scenario start_from_trigger_restart) adds the two sandbox jobs, makes the sandbox hold each
start call, stops the triggerer while both are held and starts a new one: each task must end with the one run its
first start made (the new trigger finds it through the ledger's "starting" record and adopts it). In
e2e_start_from_trigger_kill (scenario start_from_trigger_kill) a task waiting on a long run is marked failed: the
start trigger's on_kill cancels the run.
"""

from __future__ import annotations

import pendulum

from airflow_provider_jobs.operators.cdata_sync import CDataSyncRunJobOperator
from airflow_provider_jobs.operators.ocapi import OcapiRunJobOperator

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11: the operators run on a worker (start_from_trigger needs 3.3)
    from airflow import DAG

COMMON = {"deferrable": True, "start_from_trigger": True, "poll_interval": 1, "timeout": 600}

with DAG(
    dag_id="e2e_start_from_trigger_restart",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["e2e"],
) as dag:
    OcapiRunJobOperator(task_id="import_restart", job_id="E2ERestartJob", **COMMON)
    CDataSyncRunJobOperator(task_id="replicate_restart", job_name="E2E Restart", **COMMON)

with DAG(
    dag_id="e2e_start_from_trigger_kill",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["e2e"],
) as kill_dag:
    CDataSyncRunJobOperator(task_id="replicate_long", job_name="E2E Kill Long", cancel_on_kill=True, **COMMON)
