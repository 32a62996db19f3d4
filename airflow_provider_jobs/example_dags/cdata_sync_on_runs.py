"""Airflow 3: a DAG that runs whenever a run of a CData Sync job (on Sync's own schedule) succeeds.

No sensor holds anything: an AssetWatcher's JobRunFinishedTrigger lists the job's history in the triggerer and
records an asset event per run that ends; the event's extra carries the trigger's payload under "payload" (as
Airflow stores a watcher's event), whose "run" is the run's JobRun (run id, records affected,
each task's result). On Airflow 2 this file defines no DAG (event-driven scheduling is Airflow 3 only).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_jobs.core.compat import AIRFLOW_V3

JOB_NAME = "Salesforce to Snowflake"

if AIRFLOW_V3:
    from airflow.sdk import DAG, Asset, AssetWatcher, task

    from airflow_provider_jobs.core.events import JobRunFinishedTrigger

    sync_runs = Asset(
        "cdata-sync://cdata_sync_default/Salesforce to Snowflake",
        watchers=[AssetWatcher(
            name="salesforce_to_snowflake_runs",
            trigger=JobRunFinishedTrigger(
                hook="airflow_provider_jobs.hooks.cdata_sync.CDataSyncHook", conn_id="cdata_sync_default",
                job=JOB_NAME, options={"lookup": "name"}, poll_interval=30,
            ),
        )],
    )

    with DAG(dag_id="cdata_sync_on_runs", schedule=[sync_runs], catchup=False,
             tags=["example", "cdata_sync", "events"]) as dag:

        @task
        def after_sync(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
            """The runs that triggered this DAG run (one per asset event)."""
            runs = [event.extra.get("payload", {}).get("run", {}) for events in (triggering_asset_events or {}).values()
                    for event in events]
            for run in runs:
                print(f"CData Sync run {run.get('run_id')} of job {run.get('job_id')} ended {run.get('state')}: "
                      f"{run.get('details', {}).get('records_affected')} records affected")
            return runs

        after_sync()
