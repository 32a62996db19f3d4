"""Informatica Intelligent Cloud Services sensor: wait for a run of a task (or of a taskflow service)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.core.inputs import is_templated, require_id
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.core.sensor import BaseJobSensor
from airflow_provider_jobs.hooks.informatica import (
    TASKFLOW_SERVICE,
    VENDOR,
    InformaticaCloudHook,
    require_task_reference,
    require_task_type,
)


class InformaticaTaskRunSensor(BaseJobSensor):
    """Wait for an Informatica Cloud run to end; fail if it failed (state 3) or, with fail_on_warnings, if it
    ended with warnings (state 2).

    :param run_id: the run id (e.g. "{{ ti.xcom_pull('start', key='run_id') }}").
    :param informatica_task_id: the task id of the run ("{{ ti.xcom_pull('start', key='informatica_task_id') }}"):
        run ids count per task, so the run is found by both.
    :param informatica_task_type: optional; TASKFLOW_SERVICE for a run of a taskflow published as a service
        (then only run_id is needed).

    Returns the JobRun as a dict. At its timeout the sensor fails; it never stops the run (it did not start it).
    """

    hook_class = InformaticaCloudHook
    template_fields: Sequence[str] = ("conn_id", "run_id", "informatica_task_id", "informatica_task_type")

    def __init__(self, *, run_id: str | int, informatica_task_id: str | None = None,
                 informatica_task_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.informatica_task_id = informatica_task_id
        self.informatica_task_type = informatica_task_type
        self._check(construction=True)

    def _check(self, construction: bool = False) -> tuple[str | None, str | None] | None:
        def ready(value: Any) -> bool:
            return not (construction and is_templated(value))

        if ready(self.run_id):
            require_id("run_id", self.run_id, what="the run id")
        kind = None
        if self.informatica_task_type is not None:
            if not ready(self.informatica_task_type):
                return None
            kind = require_task_type(self.informatica_task_type, "informatica_task_type")
        if kind == TASKFLOW_SERVICE:
            return kind, None
        if self.informatica_task_id is None:
            raise ConfigurationError(
                "informatica_task_id", "is missing", "Give the task id of the run (the run operator pushes it as "
                "'informatica_task_id'); run ids count per task.")
        if not ready(self.informatica_task_id):
            return None
        return kind, require_task_reference("id", self.informatica_task_id, "informatica_task_id")

    def validate_inputs(self) -> None:
        self._check()

    def run_reference(self) -> JobRun:
        kind, task_id = self._check() or (None, None)
        run_id = require_id("run_id", self.run_id, what="the run id")
        if kind == TASKFLOW_SERVICE:
            return JobRun(VENDOR, run_id, run_id, JobState.RUNNING,
                          details={"kind": "taskflow_service", "task_type": kind})
        return JobRun(VENDOR, str(task_id), run_id, JobState.RUNNING,
                      details={"kind": "task", "task_id": task_id, "task_type": kind})
