"""e2e-cluster: the DAGs of tests/e2e_cluster/run_cluster.py's scenarios b, c and d.

The harness writes `e2e_cluster_cases.json` next to this file (the sandbox jobs it made for them); without
that file the DAGs are empty.

  e2e_cluster_failover      b. Spectrum runs of about a minute, waited on in the triggerers, one of which
                               the harness kills.
  e2e_cluster_worker_crash  c. one CData Sync run (retries=1) whose start the sandbox answers late, while
                               the harness kills the Celery worker that made it.
  e2e_cluster_shared_reads  d. many Spectrum runs at once: enough waits per triggerer for its shared
                               list-running call to pay (core/listing.py).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_jobs.operators.cdata_sync import CDataSyncRunJobOperator
from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator

CASES_FILE = Path(__file__).with_name("e2e_cluster_cases.json")
CASES = json.loads(CASES_FILE.read_text()) if CASES_FILE.exists() else {}
# A constant 1 s poll: the figures (calls per run) do not depend on how long a run took.
WAIT = {"deferrable": True, "poll_interval": 1, "max_poll_interval": 1, "timeout": 900}
START = pendulum.datetime(2026, 1, 1, tz="UTC")

for dag_id in ("e2e_cluster_failover", "e2e_cluster_shared_reads"):
    with DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False, tags=["e2e"]):
        for case in CASES.get(dag_id, []):
            SpectrumTriggerJobOperator(task_id=case["task_id"], file=case["file"], **WAIT)

with DAG(dag_id="e2e_cluster_worker_crash", schedule=None, start_date=START, catchup=False, tags=["e2e"]):
    case = CASES.get("e2e_cluster_worker_crash")
    if case:
        # One retry: the try whose worker dies fails by the scheduler's heartbeat check; the retry must
        # adopt the run the lost start made (reattach), not start a second one.
        CDataSyncRunJobOperator(task_id=case["task_id"], job_id=case["job_id"], retries=1,
                                retry_delay=timedelta(seconds=1), **WAIT)
