"""CData Sync sensor: wait for a run of a job (a given history entry, or the job's latest run)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core.inputs import is_templated, require_id
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.core.sensor import BaseJobSensor
from airflow_provider_jobs.hooks.cdata_sync import VENDOR, CDataSyncHook
from airflow_provider_jobs.operators.cdata_sync import job_reference, workspace_ref


class CDataSyncJobSensor(BaseJobSensor):
    """Wait for a CData Sync run to end; fail if any of its tasks failed or it was cancelled.

    :param job_id: the job's id; or :param job_name: its name.
    :param history_id: the run to wait for (e.g. CDataSyncRunJobOperator's `run_id` XCom). Without it,
        the job's most recent run (the one going now, if any).
    :param workspace: a workspace id instead of the connection's `workspace` extra (for job_name).
    """

    hook_class = CDataSyncHook
    template_fields: Sequence[str] = ("conn_id", "job_id", "job_name", "history_id", "workspace")

    def __init__(
        self,
        *,
        job_id: str | int | None = None,
        job_name: str | None = None,
        history_id: str | int | None = None,
        workspace: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.job_name = job_name
        self.history_id = history_id
        self.workspace = workspace
        job_reference(job_id, job_name, construction=True)
        if history_id is not None and not is_templated(history_id):
            require_id("history_id", history_id, what="a history id")
        if not is_templated(workspace):
            workspace_ref(workspace)

    def validate_inputs(self) -> None:
        job_reference(self.job_id, self.job_name)
        if self.history_id is not None:
            require_id("history_id", self.history_id, what="a history id")
        workspace_ref(self.workspace)

    def hook_params(self) -> dict[str, Any]:
        return {"workspace": workspace_ref(self.workspace)} if self.workspace is not None else {}

    def run_reference(self) -> JobRun:
        lookup, job = job_reference(self.job_id, self.job_name)  # type: ignore[misc]
        history_id = None if self.history_id is None else require_id("history_id", self.history_id)
        details: dict[str, Any] = {"lookup": "name"} if lookup == "name" else {}
        if history_id is None:
            details["latest"] = True
        return JobRun(VENDOR, job, history_id, JobState.RUNNING, details=details)
