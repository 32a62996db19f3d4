"""Datameer Spectrum operators: trigger one job, or a sequential trigger of a chain."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core.hook import JobApiHook
from airflow_provider_jobs.core.http import Operation
from airflow_provider_jobs.core.inputs import is_templated, require_id, require_list, require_mapping
from airflow_provider_jobs.core.lineage import LineageDataset
from airflow_provider_jobs.core.operator import BaseJobOperator
from airflow_provider_jobs.core.runs import JobRun
from airflow_provider_jobs.core.wait import WaitOutcome
from airflow_provider_jobs.hooks.spectrum import SpectrumHook, file_ref

PLAN_KEY = "execution_plan"


class SpectrumTriggerJobOperator(BaseJobOperator):
    """Trigger a Spectrum file's job (by file id, uuid or path) and wait for it.

    :param file: the workbook / import job / export job: file id, uuid or path ("/Sales/Daily Report").
    """

    hook_class = SpectrumHook
    template_fields: Sequence[str] = ("conn_id", "file")

    def __init__(self, *, file: str | int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.file = file
        if not is_templated(file):
            file_ref(file, "file")

    def validate_inputs(self) -> None:
        file_ref(self.file, "file")

    def job(self) -> str:
        return require_id("file", self.file)

    def lineage_counters(self, run: JobRun) -> dict[str, Any]:
        return spectrum_counters(run)

    def lineage_datasets(self, runs: list[JobRun], namespace: str
                         ) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """The file the task triggered (its path, id or uuid as the task names it) is the run's output: the data a
        workbook or import job produces in Spectrum. Its own sources are not in the job API."""
        return [], [LineageDataset(namespace, self.job(), runs[0].details.get("success_count") if runs else None)]


class SpectrumSequentialTriggerOperator(BaseJobOperator):
    """Trigger files and all their data-driven downstream jobs, in plan order, with variables.

    Waits for every execution in Spectrum's execution plan; fails naming each failed one; returns
    the plan with each run's final state:
    ``{"status", "execution-plan": [{job-configuration-name, job-configuration-id, trigger,
    job-execution-id, state, vendor_state}, ...]}``.

    :param file_ids: the files to trigger (numeric ids).
    :param variables: workbook variables set for every job in the plan.
    """

    hook_class = SpectrumHook
    template_fields: Sequence[str] = ("conn_id", "file_ids", "variables")
    #: Several runs from one start, and a start of its own: it starts on a worker (start_from_trigger is ignored).
    can_start_from_trigger = False

    def __init__(self, *, file_ids: list[int | str] | str, variables: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("if_running", "start")
        super().__init__(**kwargs)
        self.file_ids = file_ids
        self.variables = variables
        if not is_templated(file_ids):
            self._checked_ids()
        if not is_templated(variables):
            require_mapping("variables", variables)

    def _checked_ids(self) -> list[str]:
        ids = require_list("file_ids", self.file_ids)
        if not ids:
            from airflow_provider_jobs.core.errors import ConfigurationError

            raise ConfigurationError("file_ids", "is empty", "Give at least one Spectrum file id.")
        return [require_id(f"file_ids[{i}]", v, what="a numeric file id") for i, v in enumerate(ids)]

    def apply_shared_variables(self, variables: dict[str, Any]) -> bool:
        self.variables = {**variables, **(self.variables or {})}
        return True

    def validate_inputs(self) -> None:
        self._checked_ids()
        require_mapping("variables", self.variables)

    def job(self) -> str:
        return ",".join(self._checked_ids())

    def lineage_counters(self, run: JobRun) -> dict[str, Any]:
        return spectrum_counters(run)

    def start_marker(self) -> dict[str, Any]:
        return {"at": time.time()}

    def find_started_steps(self, hook: JobApiHook, marker: dict[str, Any]) -> Operation[JobRun | None]:
        # A sequential trigger starts a whole plan (the files and their downstream jobs): no listing tells which
        # of the runs begun since were this plan's, so an ambiguous answer fails the task instead of starting
        # the plan twice.
        raise NotImplementedError

    def start(self, hook: JobApiHook, context: Any) -> list[JobRun]:
        assert isinstance(hook, SpectrumHook)
        plan = hook.sequential_trigger(self._checked_ids(), self.variables or {})
        self._plan = plan
        if context is not None:
            context["ti"].xcom_push(key=PLAN_KEY, value=plan)
        runs = hook.plan_runs(plan)
        for entry in plan["execution-plan"]:
            self.log.info("Plan: %s (configuration %s) %s", entry.get("job-configuration-name"),
                          entry.get("job-configuration-id"),
                          f"run {entry['job-execution-id']}" if entry.get("trigger") else "not triggered")
        return runs

    def report(self, context: Any, outcome: WaitOutcome) -> None:
        super().report(context, outcome)
        plan = getattr(self, "_plan", None) or context["ti"].xcom_pull(task_ids=self.task_id, key=PLAN_KEY) or {}
        self._final_plan = final_plan(plan, outcome.runs)
        context["ti"].xcom_push(key=PLAN_KEY, value=self._final_plan)

    def result(self, runs: list[JobRun]) -> Any:
        plan = getattr(self, "_final_plan", None)
        return plan if plan is not None else final_plan(getattr(self, "_plan", {}) or {}, runs)


def final_plan(plan: dict[str, Any], runs: list[JobRun]) -> dict[str, Any]:
    """Spectrum's execution plan with each triggered run's final state added."""
    by_id = {r.run_id: r for r in runs}
    entries = []
    for entry in plan.get("execution-plan", []):
        item = dict(entry)
        run = by_id.get(str(entry.get("job-execution-id")))
        if run is not None:
            item["state"] = run.state.value
            item["vendor_state"] = run.vendor_state
        entries.append(item)
    ok = all(by_id[r].state.is_success for r in by_id) if by_id else True
    return {"status": "success" if ok else "failed", "execution-plan": entries}


def spectrum_counters(run: JobRun) -> dict[str, Any]:
    """Job details' successCount / failureCount as rows written / failed; its counters by their own names."""
    d = run.details
    counters: dict[str, Any] = d["counters"] if isinstance(d.get("counters"), dict) else {}
    return {**counters, "rowsWritten": d.get("success_count"), "rowsFailed": d.get("failure_count")}
