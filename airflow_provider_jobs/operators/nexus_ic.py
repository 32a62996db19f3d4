"""Wood NEXUS IC operators: run a report (and keep its content), or fetch a finished job's content."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import ConfigurationError, JobProviderError, RunFailedError
from airflow_provider_jobs.core.inputs import is_templated, require_conn_id, require_id, require_mapping
from airflow_provider_jobs.core.lineage import LineageDataset
from airflow_provider_jobs.core.operator import BaseJobOperator
from airflow_provider_jobs.core.runs import JobRun
from airflow_provider_jobs.core.wait import SUCCESS, WaitOutcome, failure_message
from airflow_provider_jobs.hooks.nexus_ic import (
    BINARY_OUTPUT_TYPES,
    NexusICHook,
    report_parameters,
    require_output_type,
    require_template_id,
)

#: XCom key of a job's content when it is returned rather than saved to a file.
CONTENT_KEY = "content"


def check_output_path(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("output_path", f"is {value!r}",
                                 "Give a file path, or a directory ending in '/' (the server names the file)")
    return value.strip()


def check_max_paused(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigurationError(
            "max_paused_seconds", f"is {value!r}",
            "Give a number of seconds (0 for no limit), or leave it out for the connection's.")
    return float(value)


def _log_content(log: Any, info: dict[str, Any]) -> None:
    if not info.get("has_content"):
        log.info("NEXUS IC job %s has no content.", info["job_id"])
    elif info.get("path"):
        log.info("Saved the content of NEXUS IC job %s to %s (%s bytes, %s).", info["job_id"], info["path"],
                 info["size"], info.get("content_type") or "no Content-Type")
    else:
        log.info("Content of NEXUS IC job %s (%s bytes, %s, file name %s) is in XCom under '%s'.",
                 info["job_id"], info["size"], info.get("content_type") or "no Content-Type",
                 info.get("file_name"), CONTENT_KEY)


def _metadata(info: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if k != "content"}


class NexusICRunReportOperator(BaseJobOperator):
    """Generate a NEXUS IC report (a server job), wait for it, and keep its content.

    :param template_id: the report template's key (an integer); or
    :param template_name: its name (looked up in the Report_Template business object).
    :param output_type: json (default), html, xlsx, rtf or pdf.
    :param parameters: the report's parameters: a dict, e.g. {"Component_ID": 12}, or the documented list
        [{"parameterName": "Component_ID", "value": 12}]; sent as that list.
    :param output_path: save the content here: a file path, or a directory ending in '/' (the file is
        named as the server's Content-Disposition says). Without it, JSON or text content goes to XCom
        under the key "content" (xlsx and pdf need output_path).
    :param fetch_content: download the content once the job completes (default True).
    :param max_paused_seconds: how long the job may stay paused before the wait fails (0 = no limit;
        default: the connection's, else 3600).

    Returns the JobRun as a dict; `details["content"]` describes the content (file name, type, size,
    path). NEXUS IC has no cancel call and no list of a template's running jobs: `if_running` can only
    be "start", and a killed task or a deadline leaves the job running on the server.
    """

    hook_class = NexusICHook
    template_fields: Sequence[str] = (
        "conn_id", "template_id", "template_name", "output_type", "parameters", "output_path",
        "shared_variables",
    )
    template_fields_renderers = {"parameters": "json", "shared_variables": "json"}

    def __init__(
        self,
        *,
        template_id: int | str | None = None,
        template_name: str | None = None,
        output_type: str = "json",
        parameters: dict[str, Any] | list[dict[str, Any]] | str | None = None,
        output_path: str | None = None,
        fetch_content: bool = True,
        max_paused_seconds: float | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("if_running", "start")
        super().__init__(**kwargs)
        if self.if_running != "start":
            raise ConfigurationError(
                "if_running", f"{self.if_running!r} cannot be honoured: NEXUS IC has no call that lists the "
                "running jobs of a report template",
                "Leave it out (reports run side by side) or use 'start'.",
            )
        self.template_id = template_id
        self.template_name = template_name
        self.output_type = output_type
        self.parameters = parameters
        self.output_path = output_path
        if not isinstance(fetch_content, bool):
            raise ConfigurationError("fetch_content", f"is {fetch_content!r}", "Use True or False.")
        self.fetch_content = fetch_content
        self.max_paused_seconds = check_max_paused(max_paused_seconds)
        self.shared_variables: dict[str, Any] = {}
        self._content_info: dict[str, Any] | None = None
        self._check(construction=True)

    def _check(self, construction: bool = False) -> None:
        def ready(value: Any) -> bool:
            return not (construction and is_templated(value))

        if (self.template_id is None) == (self.template_name is None):
            raise ConfigurationError(
                "template_id", "and template_name are both given" if self.template_id is not None else
                "and template_name are both missing", "Give exactly one: the template's key or its name.",
            )
        if self.template_id is not None and ready(self.template_id):
            require_template_id(self.template_id)
        if self.template_name is not None and ready(self.template_name):
            require_id("template_name", self.template_name, what="a report template name")
        if ready(self.output_type):
            require_output_type(self.output_type)
        if ready(self.parameters):
            report_parameters(self.parameters)
        if ready(self.output_path):
            check_output_path(self.output_path)
        if (ready(self.output_type) and self.fetch_content and self.output_path is None
                and require_output_type(self.output_type) in BINARY_OUTPUT_TYPES):
            raise ConfigurationError(
                "output_path", f"is missing and output_type is {self.output_type!r} (binary content cannot "
                "go through XCom)", "Give output_path (a file, or a directory ending in '/'), or set "
                "fetch_content=False.",
            )

    def validate_inputs(self) -> None:
        self._check()
        require_mapping("shared_variables", self.shared_variables)

    def apply_shared_variables(self, variables: dict[str, Any]) -> bool:
        """Chain-wide variables become report parameters; the operator's own parameters win."""
        self.shared_variables = {**self.shared_variables, **require_mapping("variables", variables)}
        return True

    def hook_params(self) -> dict[str, Any]:
        return {} if self.max_paused_seconds is None else {"max_paused_seconds": self.max_paused_seconds}

    def job(self) -> str:
        if self.template_name is not None:
            return require_id("template_name", self.template_name, what="a report template name")
        return require_template_id(self.template_id)

    def start_options(self) -> dict[str, Any]:
        own = report_parameters(self.parameters)
        names = {p["parameterName"] for p in own}
        shared = [p for p in report_parameters(self.shared_variables, "shared_variables")
                  if p["parameterName"] not in names]
        return {"output_type": require_output_type(self.output_type), "parameters": shared + own,
                "lookup_by_name": self.template_name is not None}

    def finishes_in_trigger(self) -> bool:
        """The content is downloaded on a worker (to output_path, or XCom): with fetch_content the triggerer starts
        and waits, and a worker concludes."""
        return not self.fetch_content

    def report(self, context: Any, outcome: WaitOutcome) -> None:
        super().report(context, outcome)
        if outcome.status != SUCCESS or not self.fetch_content or not outcome.runs:
            return
        hook = self.hook
        assert isinstance(hook, NexusICHook)
        info = hook.job_content(str(outcome.runs[0].run_id), check_output_path(self.output_path))
        _log_content(self.log, info)
        if "content" in info and context is not None:
            context["ti"].xcom_push(key=CONTENT_KEY, value=info["content"])
        self._content_info = _metadata(info)

    def lineage_datasets(self, runs: list[JobRun], namespace: str
                         ) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """The report's content saved to output_path is its output (a file on the worker); a report reads NEXUS IC's
        own database, which the API does not name."""
        info = self._content_info or {}
        path = info.get("path") if isinstance(info, dict) else None
        if not path:
            return [], []
        import os
        import socket

        return [], [LineageDataset(f"file://{socket.gethostname()}", os.path.abspath(str(path)))]

    def result(self, runs: list[JobRun]) -> Any:
        data = runs[0].to_dict()
        if self._content_info is not None:
            data["details"] = {**data["details"], "content": self._content_info}
        return data


class NexusICJobContentOperator(compat.BaseOperator):
    """Fetch the content of a NEXUS IC server job that has completed (e.g. a report run earlier).

    :param job_id: the server job id (e.g. "{{ ti.xcom_pull('report', key='run_id') }}").
    :param output_path: a file path, or a directory ending in '/' (file named by the server); without
        it, JSON or text content goes to XCom under the key "content".

    Returns `{job_id, has_content, content_type, file_name, size, path?}`. Fails if the job has not
    completed, or failed.
    :param conn_id: the Airflow connection (default nexus_ic_default)
    """

    template_fields: Sequence[str] = ("conn_id", "job_id", "output_path")
    ui_color = "#e8f0fe"

    def __init__(self, *, job_id: str, output_path: str | None = None, conn_id: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = require_conn_id(conn_id, NexusICHook.default_conn_name)
        self.job_id = job_id
        self.output_path = output_path
        if not is_templated(job_id):
            require_id("job_id", job_id, what="a NEXUS IC server job id")
        if not is_templated(output_path):
            check_output_path(output_path)

    def execute(self, context: Any) -> Any:
        job_id = require_id("job_id", self.job_id, what="a NEXUS IC server job id")
        output_path = check_output_path(self.output_path)
        hook = NexusICHook(conn_id=self.conn_id)
        run = hook.job_status(job_id)
        if not run.is_terminal:
            raise JobProviderError(
                f"{run.describe()}: its content is available once it has completed. Wait for it first, e.g. "
                "with NexusICJobSensor."
            )
        if not run.state.is_success:
            raise RunFailedError(f"{failure_message(run)}; it has no content to fetch", run)
        info = hook.job_content(job_id, output_path)
        _log_content(self.log, info)
        if "content" in info:
            context["ti"].xcom_push(key=CONTENT_KEY, value=info["content"])
        return _metadata(info)
