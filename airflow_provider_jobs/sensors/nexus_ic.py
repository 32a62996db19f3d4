"""Wood NEXUS IC sensor: wait for any server job (a report, an import started elsewhere) by its id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core.inputs import is_templated, require_id
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.core.sensor import BaseJobSensor
from airflow_provider_jobs.hooks.nexus_ic import VENDOR, NexusICHook
from airflow_provider_jobs.operators.nexus_ic import check_max_paused


class NexusICJobSensor(BaseJobSensor):
    """Wait for a NEXUS IC server job to complete; fail if it failed or stayed paused too long.

    :param job_id: the server job id, e.g. "{FAAF7FBC-0475-45ED-A148-02238E75C395}".
    :param max_paused_seconds: how long the job may stay paused (status 6) before the sensor fails
        (0 = no limit; default: the connection's, else 3600).

    Returns the JobRun as a dict (progress, summary in details). Fetch the content afterwards with
    NexusICJobContentOperator.
    """

    hook_class = NexusICHook
    template_fields: Sequence[str] = ("conn_id", "job_id")

    def __init__(self, *, job_id: str, max_paused_seconds: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.max_paused_seconds = check_max_paused(max_paused_seconds)
        if not is_templated(job_id):
            require_id("job_id", job_id, what="a NEXUS IC server job id")

    def validate_inputs(self) -> None:
        require_id("job_id", self.job_id, what="a NEXUS IC server job id")

    def hook_params(self) -> dict[str, Any]:
        return {} if self.max_paused_seconds is None else {"max_paused_seconds": self.max_paused_seconds}

    def run_reference(self) -> JobRun:
        job_id = require_id("job_id", self.job_id, what="a NEXUS IC server job id")
        return JobRun(VENDOR, job_id, job_id, JobState.RUNNING, details={"kind": "server job"})
