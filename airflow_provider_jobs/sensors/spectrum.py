"""Datameer Spectrum sensor: wait for a job execution by its id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core.inputs import is_templated, require_id
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.core.sensor import BaseJobSensor
from airflow_provider_jobs.hooks.spectrum import VENDOR, SpectrumHook, file_ref


class SpectrumJobSensor(BaseJobSensor):
    """Wait for a Spectrum job execution to end.

    :param job_execution_id: the run to wait for (e.g. from SpectrumTriggerJobOperator's XCom).
    :param file: optional file id, uuid or path of that run (used to stop it on timeout).
    """

    hook_class = SpectrumHook
    template_fields: Sequence[str] = ("conn_id", "job_execution_id", "file")

    def __init__(self, *, job_execution_id: str | int, file: str | int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_execution_id = job_execution_id
        self.file = file
        if not is_templated(job_execution_id):
            require_id("job_execution_id", job_execution_id)
        if file is not None and not is_templated(file):
            file_ref(file, "file")

    def validate_inputs(self) -> None:
        require_id("job_execution_id", self.job_execution_id)
        if self.file is not None:
            file_ref(self.file, "file")

    def run_reference(self) -> JobRun:
        run_id = require_id("job_execution_id", self.job_execution_id)
        return JobRun(VENDOR, str(self.file or run_id), run_id, JobState.RUNNING)
