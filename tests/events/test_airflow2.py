from __future__ import annotations

import pytest

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import JobProviderError


@pytest.mark.skipif(compat.AIRFLOW_V3, reason="Airflow 2 only")
def test_on_airflow_2_the_trigger_says_it_needs_airflow_3():
    from airflow_provider_jobs.core.events import JobRunFinishedTrigger

    with pytest.raises(JobProviderError, match="needs Airflow 3"):
        JobRunFinishedTrigger(hook="airflow_provider_jobs.hooks.cdata_sync.CDataSyncHook", conn_id="c", job="j")


def test_the_example_dag_loads_and_serializes():
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "example_dags" / "cdata_sync_on_runs.py"
    defined = runpy.run_path(str(path))
    if not compat.AIRFLOW_V3:
        assert "dag" not in defined  # event-driven scheduling is Airflow 3 only
        return
    from airflow.serialization import serialized_objects

    serializer = getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG
    data = serializer.to_dict(defined["dag"])
    assert "JobRunFinishedTrigger" in str(data)
