from __future__ import annotations

import pytest

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import JobProviderError


@pytest.mark.skipif(compat.AIRFLOW_V3, reason="Airflow 2 only")
def test_on_airflow_2_the_trigger_says_it_needs_airflow_3():
    from airflow_provider_jobs.core.events import JobRunFinishedTrigger

    with pytest.raises(JobProviderError, match="needs Airflow 3"):
        JobRunFinishedTrigger(hook="airflow_provider_jobs.hooks.cdata_sync.CDataSyncHook", conn_id="c", job="j")
