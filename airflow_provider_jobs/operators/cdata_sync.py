"""CData Sync operators: run a job (all its tasks or some) and wait for it; cancel a job's run."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import ConfigurationError, JobProviderError, RunFailedError
from airflow_provider_jobs.core.inputs import is_templated, optional_seconds, require_conn_id, require_id
from airflow_provider_jobs.core.lineage import LineageDataset
from airflow_provider_jobs.core.operator import BaseJobOperator
from airflow_provider_jobs.core.runs import JobRun
from airflow_provider_jobs.core.wait import WaitOutcome
from airflow_provider_jobs.hooks.cdata_sync import (
    IDLE_WORDS,
    CDataSyncHook,
    describe_task,
    field_of,
    task_id_list,
)


def job_reference(job_id: Any, job_name: Any, *, construction: bool = False) -> tuple[str, str] | None:
    """("id" | "name", value) from exactly one of job_id and job_name (None: still templated)."""
    if (job_id is None) == (job_name is None):
        raise ConfigurationError("job_id", "and job_name are both " + ("missing" if job_id is None else "given"),
                                 "Give exactly one: job_id (e.g. '9007199254740993') or job_name.")
    if construction and (is_templated(job_id) or is_templated(job_name)):
        return None
    if job_id is not None:
        return "id", require_id("job_id", job_id, what="a job id")
    return "name", require_id("job_name", job_name, what="a job name")


def workspace_ref(value: Any) -> str | None:
    """A workspace id given to an operator or sensor (None: the connection's)."""
    return None if value is None else require_id("workspace", value, what="a workspace id")


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(name, f"is {value!r}", "Use True or False.")
    return value


class CDataSyncRunJobOperator(BaseJobOperator):
    """Execute a CData Sync job and wait for it (in the worker, or deferred to the triggerer).

    The task fails if any task of the run fails, naming each failed task with its message. The
    returned JobRun's details hold every task's result and ``records_affected`` (the run's total).
    Killing the task, or reaching `timeout`, cancels the run (unless cancel_on_kill=False).

    :param job_id: the job's id (64-bit ids are fine as strings or integers).
    :param job_name: the job's name instead of its id (looked up in the workspace's job list).
    :param tasks: only these task ids (default: every active task of the job).
    :param fail_on_zero_rows: fail when the run succeeded but affected no records.
    :param workspace: a workspace id instead of the connection's `workspace` extra.
    """

    hook_class = CDataSyncHook
    template_fields: Sequence[str] = ("conn_id", "job_id", "job_name", "tasks", "workspace")

    def __init__(
        self,
        *,
        job_id: str | int | None = None,
        job_name: str | None = None,
        tasks: list[str | int] | str | None = None,
        fail_on_zero_rows: bool = False,
        workspace: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.job_name = job_name
        self.tasks = tasks
        self.workspace = workspace
        self.fail_on_zero_rows = _bool("fail_on_zero_rows", fail_on_zero_rows)
        job_reference(job_id, job_name, construction=True)
        if not _has_template(tasks):
            task_id_list(tasks)
        if not is_templated(workspace):
            workspace_ref(workspace)

    def validate_inputs(self) -> None:
        job_reference(self.job_id, self.job_name)
        task_id_list(self.tasks)
        workspace_ref(self.workspace)

    def hook_params(self) -> dict[str, Any]:
        return {"workspace": workspace_ref(self.workspace)} if self.workspace is not None else {}

    def job(self) -> str:
        _, value = job_reference(self.job_id, self.job_name)  # type: ignore[misc]
        return value

    def start_options(self) -> dict[str, Any]:
        lookup, _ = job_reference(self.job_id, self.job_name)  # type: ignore[misc]
        return {"lookup": lookup, "tasks": task_id_list(self.tasks)}

    def start_marker(self) -> dict[str, Any]:
        """The history snapshot taken just before the start; start() hands it to the hook (one snapshot per start)."""
        self._fresh_marker: dict[str, Any] | None = super().start_marker()
        return self._fresh_marker

    def start(self, hook: Any, context: Any) -> list[JobRun]:
        marker, self._fresh_marker = getattr(self, "_fresh_marker", None), None  # a second start takes its own
        return [hook.start_run(self.job(), marker=marker, **self.start_options())]

    async def astart(self, hook: Any, marker: dict[str, Any]) -> JobRun:
        return await hook.astart_run(self.job(), marker=marker, **self.start_options())

    def apply_shared_variables(self, variables: dict[str, Any]) -> bool:
        """A Sync job takes no variables through the API (execute takes task ids only): False."""
        return False

    def report(self, context: Any, outcome: WaitOutcome) -> None:
        super().report(context, outcome)
        for run in outcome.runs:
            tasks = run.details.get("tasks") or []
            if tasks:
                self.log.info("Tasks of run %s of job '%s':", run.run_id, run.job_id)
                for task in tasks:
                    self.log.info("  %s", describe_task(task))
            self.log.info("Records affected: %s", run.details.get("records_affected", "not reported"))

    def lineage_counters(self, run: JobRun) -> dict[str, Any]:
        return {"rowsWritten": run.details.get("records_affected")}

    def lineage_datasets(self, runs: list[JobRun], namespace: str
                         ) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """Each task of the run: the source connection's table -> the destination connection's table, with the
        task's records affected as the output's row count. The connections come from the job's definition (one
        job listing, read only when OpenLineage asks)."""
        tasks = [t for r in runs for t in (r.details.get("tasks") or []) if isinstance(t, dict)]
        if not tasks:
            return [], []
        source, destination = self._job_connections(runs[0])
        inputs: list[LineageDataset] = []
        outputs: list[LineageDataset] = []
        for task in tasks:
            src, dest = replicated_tables(task.get("query"), task.get("table"))
            if src:
                inputs.append(LineageDataset(f"{namespace}/{source or 'source'}", src))
            if dest:
                outputs.append(LineageDataset(f"{namespace}/{destination or 'destination'}", dest,
                                              task.get("records_affected")))
        return inputs, outputs

    def _job_connections(self, run: JobRun) -> tuple[str | None, str | None]:
        """The job's source and destination connection names, from its definition (None where it names none)."""
        name = run.details.get("job_name")
        hook = self.hook
        assert isinstance(hook, CDataSyncHook)
        for job in hook.list_jobs():
            if str(field_of(job, "id", "job_id", default="")) == run.job_id or (
                    name and str(field_of(job, "name", "job_name", default="")) == name):
                src = field_of(job, "source", "source_connection", "source_connection_id")
                dest = field_of(job, "destination", "destination_connection", "destination_connection_id")
                return (str(src) if src else None), (str(dest) if dest else None)
        return None, None

    def result(self, runs: list[JobRun]) -> Any:
        run = runs[0]
        if self.fail_on_zero_rows and run.state.is_success:
            records = run.details.get("records_affected")
            if records is None:
                raise RunFailedError(f"fail_on_zero_rows is set and CData Sync reported no records-affected count "
                                     f"for {run.describe()}.", run)
            if records == 0:
                raise RunFailedError(f"fail_on_zero_rows is set and {run.describe()} affected 0 records.", run)
        return run.to_dict()


class CDataSyncCancelJobOperator(compat.BaseOperator):
    """Cancel the run a CData Sync job has going.

    Returns ``{"job_id", "job_name", "cancelled", "status"}``: ``cancelled`` is False when the job was
    not running (the task then fails only if `fail_if_not_running`).

    :param job_id: the job's id; or
    :param job_name: its name.
    :param wait_for_termination: wait until Sync reports the job no longer running.
    :param poll_interval: seconds between status reads while waiting.
    :param timeout: seconds to wait for the job to stop (None: no limit).
    :param conn_id: the Airflow connection (default cdata_sync_default)
    :param workspace: the CData Sync workspace (default: the connection's)
    :param fail_if_not_running: fail the task when the job had no run going
    """

    template_fields: Sequence[str] = ("conn_id", "job_id", "job_name", "workspace")
    ui_color = "#fde8e8"

    def __init__(
        self,
        *,
        job_id: str | int | None = None,
        job_name: str | None = None,
        conn_id: str | None = None,
        workspace: str | None = None,
        fail_if_not_running: bool = False,
        wait_for_termination: bool = True,
        poll_interval: float = 2.0,
        timeout: float | None = 300.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = require_conn_id(conn_id, CDataSyncHook.default_conn_name)
        self.job_id = job_id
        self.job_name = job_name
        self.workspace = workspace
        self.fail_if_not_running = _bool("fail_if_not_running", fail_if_not_running)
        self.wait_for_termination = _bool("wait_for_termination", wait_for_termination)
        self.poll_interval = optional_seconds("poll_interval", poll_interval, allow_none=False)
        self.wait_timeout = optional_seconds("timeout", timeout)
        job_reference(job_id, job_name, construction=True)
        if not is_templated(workspace):
            workspace_ref(workspace)

    def execute(self, context: Any) -> dict[str, Any]:
        lookup, value = job_reference(self.job_id, self.job_name)  # type: ignore[misc]
        hook = CDataSyncHook(self.conn_id, workspace=workspace_ref(self.workspace))
        if lookup == "name":
            found = hook.find_job(value)
            job_id, job_name = str(field_of(found, "id", "job_id")), value
        else:
            job_id, job_name = value, None
        cancelled = hook.cancel_job(job_id)
        if not cancelled:
            message = f"CData Sync job '{job_name or job_id}' was not running: nothing to cancel."
            if self.fail_if_not_running:
                raise JobProviderError(message + " (fail_if_not_running is set)")
            self.log.info("%s", message)
        status = hook.job_status(job_id)
        word = field_of(status, "status", "state")
        if cancelled and self.wait_for_termination:
            deadline = time.monotonic() + self.wait_timeout if self.wait_timeout else None
            while _still_running(hook, word):
                if deadline is not None and time.monotonic() >= deadline:
                    raise JobProviderError(f"CData Sync job '{job_name or job_id}' still reports {word!r} "
                                           f"{self.wait_timeout:g}s after the cancel.")
                time.sleep(self.poll_interval)
                word = field_of(hook.job_status(job_id), "status", "state")
        if cancelled:
            self.log.info("Cancelled the run of CData Sync job '%s'; it now reports %r.", job_name or job_id, word)
        return {"job_id": job_id, "job_name": job_name, "cancelled": cancelled,
                "status": None if word is None else str(word)}


def _still_running(hook: CDataSyncHook, word: Any) -> bool:
    if word is None or str(word).strip().lower() in IDLE_WORDS:
        return False
    return not hook.states(word).is_terminal


def _has_template(value: Any) -> bool:
    if is_templated(value):
        return True
    if isinstance(value, (list, tuple)):
        return any(is_templated(v) for v in value)
    return False



_REPLICATE = re.compile(r"^\s*REPLICATE\s+(\[[^\]]+\]|\S+)(?:\s+SELECT\s.*?\sFROM\s+(\[[^\]]+\]|\S+))?",
                        re.IGNORECASE | re.DOTALL)


def replicated_tables(query: Any, table: Any) -> tuple[str | None, str | None]:
    """(source table, destination table) of a Sync task: ``REPLICATE [Dest] SELECT ... FROM [Src]``, or
    ``REPLICATE [Table]`` (the same name on both sides). Falls back to the task's table for both."""
    match = _REPLICATE.match(str(query or ""))
    if match:
        dest = match.group(1).strip("[]")
        src = (match.group(2) or match.group(1)).strip("[]")
        return src, dest
    name = str(table) if table else None
    return name, name
