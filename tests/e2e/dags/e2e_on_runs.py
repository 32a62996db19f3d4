"""e2e: a DAG scheduled on a CData Sync job's runs (an AssetWatcher with JobRunFinishedTrigger).

tests/e2e/run_e2e.py adds the job `E2E Events` to the sandbox, starts a run of it through the sandbox's CData API
(as Sync's own scheduler would) and checks that exactly one DAG run follows, carrying that run. Airflow 3 only:
on Airflow 2 this file defines no DAG.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_jobs.core.compat import AIRFLOW_V3

JOB_NAME = "E2E Events"

if AIRFLOW_V3:
    import pendulum
    from airflow.sdk import DAG, Asset, AssetWatcher, task

    from airflow_provider_jobs.core.events import JobRunFinishedTrigger

    runs = Asset(f"cdata-sync://cdata_sync_default/{JOB_NAME}", watchers=[AssetWatcher(
        name="e2e_events_runs",
        trigger=JobRunFinishedTrigger(hook="airflow_provider_jobs.hooks.cdata_sync.CDataSyncHook",
                                      conn_id="cdata_sync_default", job=JOB_NAME, options={"lookup": "name"},
                                      poll_interval=2),
    )])

    with DAG(dag_id="e2e_on_runs", schedule=[runs], start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
             catchup=False, tags=["e2e"]) as dag:

        @task
        def run_ids(triggering_asset_events: Any = None) -> list[Any]:
            """The CData Sync run ids that triggered this DAG run."""
            events = [event for listed in (triggering_asset_events or {}).values() for event in listed]
            return [event.extra.get("payload", {}).get("run", {}).get("run_id") for event in events]

        run_ids()
