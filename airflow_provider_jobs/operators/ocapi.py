"""Salesforce B2C Commerce operator: execute a job (OCAPI, or SCAPI once OCAPI is off) and wait for it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core.inputs import is_templated, require_mapping
from airflow_provider_jobs.core.lineage import LineageDataset
from airflow_provider_jobs.core.operator import BaseJobOperator
from airflow_provider_jobs.core.runs import JobRun
from airflow_provider_jobs.core.wait import WaitOutcome
from airflow_provider_jobs.hooks.ocapi import OcapiHook, describe_step, job_ref, parameter_list


class OcapiRunJobOperator(BaseJobOperator):
    """Execute a B2C Commerce job with parameters and wait for the execution to end.

    Success is execution_status finished with exit_status.status ok (custom exit codes with status
    ok succeed); aborted, or exit_status.status error, fails. Each step execution's outcome is in
    the returned JobRun's details["steps"] and logged at the end. B2C Commerce has no cancel: when
    the task is killed or the deadline passes, the execution goes on and the log says so.

    :param job_id: the job's id in Business Manager (Administration > Operations > Jobs).
    :param parameters: job parameters, as a dict of names to values or a list of {"name", "value"}
        (values become strings; dicts and lists become JSON, e.g. SiteScope).
    :param if_running: what to do when the job already has an execution going: "wait" for it to end
        and then run ours (default), "attach" to it, "fail", or "start" anyway (B2C Commerce then
        refuses with JobAlreadyRunningException).
    """

    hook_class = OcapiHook
    template_fields: Sequence[str] = ("conn_id", "job_id", "parameters", "shared_parameters")
    template_fields_renderers = {"parameters": "json", "shared_parameters": "json"}

    def __init__(self, *, job_id: str, parameters: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.parameters = parameters
        self.shared_parameters: dict[str, Any] = {}
        if not is_templated(job_id):
            job_ref(job_id)
        if not _has_template(parameters):
            parameter_list(parameters)

    def validate_inputs(self) -> None:
        job_ref(self.job_id)
        parameter_list(self.parameters)
        parameter_list(self.shared_parameters, "shared_parameters")

    def job(self) -> str:
        return job_ref(self.job_id)

    def start_options(self) -> dict[str, Any]:
        own = parameter_list(self.parameters)
        names = {p["name"] for p in own}
        shared = parameter_list(self.shared_parameters, "shared_parameters")
        return {"parameters": [p for p in shared if p["name"] not in names] + own}

    def apply_shared_variables(self, variables: dict[str, Any]) -> bool:
        """Chain-wide variables become job parameters; the operator's own parameters win."""
        self.shared_parameters = {**self.shared_parameters, **require_mapping("variables", variables)}
        return True

    def lineage_datasets(self, runs: list[JobRun], namespace: str
                         ) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """Files the job's parameters name (a parameter called *File*, *Path* or *Directory*): an input when the
        parameter's or the job's name says import, an output when it says export; none when neither does."""
        inputs: list[LineageDataset] = []
        outputs: list[LineageDataset] = []
        job = self.job().lower()
        for param in self.start_options()["parameters"]:
            name, value = str(param.get("name", "")), param.get("value")
            if not value or not _FILE_PARAM.search(name):
                continue
            direction = _direction(name.lower()) or _direction(job)
            if direction == "input":
                inputs.append(LineageDataset(namespace, str(value)))
            elif direction == "output":
                outputs.append(LineageDataset(namespace, str(value)))
        return inputs, outputs

    def report(self, context: Any, outcome: WaitOutcome) -> None:
        super().report(context, outcome)
        for run in outcome.runs:
            steps = run.details.get("steps") or []
            if steps:
                self.log.info("Step executions of execution %s of job '%s':", run.run_id, run.job_id)
                for step in steps:
                    self.log.info("  %s", describe_step(step))


def _has_template(value: Any) -> bool:
    if is_templated(value):
        return True
    if isinstance(value, dict):
        return any(_has_template(v) or is_templated(k) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_template(v) for v in value)
    return False


_FILE_PARAM = re.compile(r"file|path|directory|folder", re.IGNORECASE)


def _direction(text: str) -> str | None:
    """'input' for an import, 'output' for an export, None when the text says neither (or both)."""
    imports = "import" in text or "source" in text
    exports = "export" in text or "target" in text or "output" in text
    if imports == exports:
        return None
    return "input" if imports else "output"
