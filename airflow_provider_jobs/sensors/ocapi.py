"""Salesforce B2C Commerce sensor: wait for a job execution by job id and execution id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core.inputs import is_templated, require_id
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.core.sensor import BaseJobSensor
from airflow_provider_jobs.hooks.ocapi import VENDOR, OcapiHook, job_ref


class OcapiJobExecutionSensor(BaseJobSensor):
    """Wait for a B2C Commerce job execution to end; fail if it was aborted or exited with an error.

    :param job_id: the job's id in Business Manager.
    :param execution_id: the execution to wait for (e.g. OcapiRunJobOperator's `run_id` XCom).
    """

    hook_class = OcapiHook
    template_fields: Sequence[str] = ("conn_id", "job_id", "execution_id")

    def __init__(self, *, job_id: str, execution_id: str | int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.execution_id = execution_id
        if not is_templated(job_id):
            job_ref(job_id)
        if not is_templated(execution_id):
            require_id("execution_id", execution_id)

    def validate_inputs(self) -> None:
        job_ref(self.job_id)
        require_id("execution_id", self.execution_id)

    def run_reference(self) -> JobRun:
        execution_id = require_id("execution_id", self.execution_id)
        return JobRun(VENDOR, job_ref(self.job_id), execution_id, JobState.RUNNING)
