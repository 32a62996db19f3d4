"""e2e: long vendor runs that tests/e2e/run_e2e.py marks failed while they are deferred.

The harness writes `e2e_cancel_cases.json` next to this file: one run operator per vendor that can
cancel, each waiting on a sandbox job that runs for minutes. Without that file the DAG is empty.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

CASES_FILE = Path(__file__).with_name("e2e_cancel_cases.json")


def _operator_class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


with DAG(
    dag_id="e2e_cancel",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["e2e"],
) as dag:
    cases = json.loads(CASES_FILE.read_text()) if CASES_FILE.exists() else []
    for case in cases:
        # e.g. {"task_id": "spectrum_long", "operator": "airflow_provider_jobs.operators.spectrum.Spectrum...",
        #       "kwargs": {"file": "/E2E/Long"}}
        _operator_class(case["operator"])(
            task_id=case["task_id"], deferrable=True, poll_interval=1, cancel_on_kill=True, **case["kwargs"]
        )
