"""Informatica Intelligent Cloud Services operators: run a task (or a taskflow published as a service) and
wait for it; stop a task or terminate a taskflow run; resume a suspended taskflow run.

Airflow's BaseOperator owns the names `task_id` and `task_type`, so the Informatica task's id and type are
given as `informatica_task_id` and `informatica_task_type`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.core.inputs import is_templated, require_choice, require_conn_id, require_id, require_mapping
from airflow_provider_jobs.core.lineage import LineageDataset
from airflow_provider_jobs.core.operator import BaseJobOperator
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.core.wait import WaitOutcome
from airflow_provider_jobs.hooks.informatica import (
    RESUME_MODES,
    TASKFLOW_SERVICE,
    VENDOR,
    InformaticaCloudHook,
    require_callback_url,
    require_optional_text,
    require_task_reference,
    require_task_type,
)

#: XCom key of the Informatica task id of the run (for InformaticaTaskRunSensor).
TASK_ID_KEY = "informatica_task_id"
#: The operator arguments that name a task, by the kind of reference each is.
REFERENCE_ARGS = {"informatica_task_id": "id", "task_federated_id": "federated_id", "task_name": "name",
                  "task_path": "path"}


def check_clean_stop(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError("clean_stop", f"is {value!r}", "Use True or False.")
    return value


class _TaskReference:
    """The four ways to name a task; exactly one is given."""

    informatica_task_id: Any
    task_federated_id: Any
    task_name: Any
    task_path: Any
    informatica_task_type: Any

    def _reference(self, construction: bool = False) -> tuple[str, str] | None:
        """(by, value) of the one reference given, checked (None while a template is unrendered)."""
        given = {arg: getattr(self, arg) for arg in REFERENCE_ARGS if getattr(self, arg) is not None}
        if len(given) != 1:
            raise ConfigurationError(
                "informatica_task_id",
                f"and {', '.join(a for a in REFERENCE_ARGS if a != 'informatica_task_id')} "
                + (f"are given together ({', '.join(given)})" if given else "are all missing"),
                "Give exactly one: the task's id, federated id, name or path.",
            )
        (arg, value), = given.items()
        by = REFERENCE_ARGS[arg]
        if construction and is_templated(value):
            return None
        return by, require_task_reference(by, value, arg)

    def _task_type(self, construction: bool = False) -> str | None:
        if construction and is_templated(self.informatica_task_type):
            return None
        return require_task_type(self.informatica_task_type, "informatica_task_type")


class InformaticaRunTaskOperator(_TaskReference, BaseJobOperator):
    """Run an Informatica Cloud task, linear taskflow or taskflow published as a service, and wait for it.

    :param informatica_task_type: DMASK (masking), DRS (replication), DSS (synchronization), MTT (mapping),
        PCS (PowerCenter), WORKFLOW (linear taskflow), or TASKFLOW_SERVICE (a taskflow published as a service).
    :param informatica_task_id: the task's id (a task in the Default folder); or
    :param task_federated_id: its federated id (a task in any folder); or
    :param task_name: its name (for TASKFLOW_SERVICE: the API name of its service URL); or
    :param task_path: its path from the project, e.g. "Sales/Daily/Load Customers" (found with the v3 lookup).
    :param callback_url: passed to Informatica as callbackURL (it posts the job's status there when it ends).
    :param parameter_file_name: passed as the job runtime's parameterFileName ("runtime": {"@type": "mtTaskRuntime"}).
    :param parameter_file_dir: passed as the job runtime's parameterFileDir.
    :param inputs: the JSON body of a TASKFLOW_SERVICE run (its input fields; shared variables of a chain).
    :param clean_stop: stop with cleanStop=true when the task is killed or its timeout is reached.

    Returns the JobRun dict (details: task_id, task_name, task_type, rows read and failed, error_message);
    pushes `run_id` and `informatica_task_id` as soon as the run exists. A run of a taskflow published as a
    service is terminated on kill or at the timeout; its runs cannot be listed by name, so for it
    `if_running` is "start".
    """

    hook_class = InformaticaCloudHook
    template_fields: Sequence[str] = (
        "conn_id", "informatica_task_type", "informatica_task_id", "task_federated_id", "task_name", "task_path",
        "callback_url", "parameter_file_name", "parameter_file_dir", "inputs",
    )
    template_fields_renderers = {"inputs": "json"}

    def __init__(
        self,
        *,
        informatica_task_type: str,
        informatica_task_id: str | None = None,
        task_federated_id: str | None = None,
        task_name: str | None = None,
        task_path: str | None = None,
        callback_url: str | None = None,
        parameter_file_name: str | None = None,
        parameter_file_dir: str | None = None,
        inputs: dict[str, Any] | str | None = None,
        clean_stop: bool = False,
        **kwargs: Any,
    ) -> None:
        self._if_running_given = "if_running" in kwargs
        super().__init__(**kwargs)
        self.informatica_task_type = informatica_task_type
        self.informatica_task_id = informatica_task_id
        self.task_federated_id = task_federated_id
        self.task_name = task_name
        self.task_path = task_path
        self.callback_url = callback_url
        self.parameter_file_name = parameter_file_name
        self.parameter_file_dir = parameter_file_dir
        self.inputs = inputs
        self.clean_stop = check_clean_stop(clean_stop)
        self.shared_variables: dict[str, Any] = {}
        self._check(construction=True)

    def _check(self, construction: bool = False) -> None:
        def ready(value: Any) -> bool:
            return not (construction and is_templated(value))

        kind = self._task_type(construction)
        self._reference(construction)
        if ready(self.callback_url):
            require_callback_url(self.callback_url)
        for name in ("parameter_file_name", "parameter_file_dir"):
            if ready(getattr(self, name)):
                require_optional_text(name, getattr(self, name))
        if ready(self.inputs):
            require_mapping("inputs", self.inputs)
        if kind is None:
            return
        if kind == TASKFLOW_SERVICE:
            if self.task_name is None:
                raise ConfigurationError(
                    "task_name", f"is missing: a {TASKFLOW_SERVICE} is started by the API name of its service URL",
                    "Give task_name (and leave out informatica_task_id, task_federated_id and task_path).")
            for name in ("callback_url", "parameter_file_name", "parameter_file_dir"):
                if getattr(self, name) is not None:
                    raise ConfigurationError(name, f"does not apply to a {TASKFLOW_SERVICE}",
                                             "Pass the taskflow's input fields as inputs.")
            if self.if_running != "start":
                if self._if_running_given:
                    raise ConfigurationError(
                        "if_running", f"{self.if_running!r} cannot be honoured: the runs of a taskflow published as "
                        "a service cannot be listed by its API name", "Leave it out or use 'start'.")
                self.if_running = "start"
        elif self.inputs not in (None, {}) and ready(self.inputs):
            raise ConfigurationError("inputs", f"only a {TASKFLOW_SERVICE} takes inputs",
                                     "Give a task's parameters in a parameter file (parameter_file_name).")

    def validate_inputs(self) -> None:
        self._check()
        require_mapping("shared_variables", self.shared_variables)

    def apply_shared_variables(self, variables: dict[str, Any]) -> bool:
        """A TASKFLOW_SERVICE takes chain-wide variables as inputs (its own inputs win). Other tasks take
        parameters only from a parameter file, so they return False."""
        if is_templated(self.informatica_task_type) or \
                require_task_type(self.informatica_task_type, "informatica_task_type") != TASKFLOW_SERVICE:
            return False
        self.shared_variables = {**self.shared_variables, **require_mapping("variables", variables)}
        return True

    def hook_params(self) -> dict[str, Any]:
        return {"clean_stop": True} if self.clean_stop else {}

    def lineage_counters(self, run: JobRun) -> dict[str, Any]:
        d = run.details
        failed = [d[k] for k in ("failed_source_rows", "failed_target_rows") if isinstance(d.get(k), int)]
        return {"rowsRead": d.get("success_source_rows"), "rowsWritten": d.get("success_target_rows"),
                "rowsFailed": sum(failed) if failed else None}

    def lineage_datasets(self, runs: list[JobRun], namespace: str
                         ) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """The source object the activity monitor names for the run (objectName), as an input. Informatica's job
        and monitoring APIs name no target object."""
        objects = {str(r.details["object_name"]) for r in runs if r.details.get("object_name")}
        return [LineageDataset(namespace, name) for name in sorted(objects)], []

    def job(self) -> str:
        reference = self._reference()
        assert reference is not None
        return reference[1]

    def start_options(self) -> dict[str, Any]:
        kind = self._task_type()
        by, _ = self._reference()  # type: ignore[misc]
        if kind == TASKFLOW_SERVICE:
            return {"task_type": kind, "by": by,
                    "inputs": {**self.shared_variables, **require_mapping("inputs", self.inputs)}}
        return {
            "task_type": kind, "by": by, "callback_url": require_callback_url(self.callback_url),
            "parameter_file_name": require_optional_text("parameter_file_name", self.parameter_file_name),
            "parameter_file_dir": require_optional_text("parameter_file_dir", self.parameter_file_dir),
        }

    def publish(self, context: Any, runs: list[JobRun]) -> None:
        # The sensor needs the task id with the run id, however the run became known (started, adopted after an
        # ambiguous start, reattached).
        task_id = runs[0].details.get("task_id") if runs else None
        if task_id:
            context["ti"].xcom_push(key=TASK_ID_KEY, value=task_id)

    def report(self, context: Any, outcome: WaitOutcome) -> None:
        super().report(context, outcome)
        for run in outcome.runs:
            if run.summary:
                self.log.info("Informatica run %s summary: %s", run.run_id, run.summary)
            for key in ("warning", "error_message"):
                if run.details.get(key):
                    self.log.info("Informatica run %s %s: %s", run.run_id, key.replace("_", " "), run.details[key])


class InformaticaStopTaskOperator(_TaskReference, compat.BaseOperator):
    """Stop an Informatica Cloud task's running job (`POST /api/v2/job/stop`, keyed by task), or terminate a run
    of a taskflow published as a service (`PUT <pod>/active-bpel/services/tf/terminate`, keyed by run id).

    :param informatica_task_type: DMASK, DRS, DSS, MTT, PCS, WORKFLOW, or TASKFLOW_SERVICE.
    :param informatica_task_id: the task's id; or
    :param task_federated_id: its federated id; or
    :param task_name: its name; or
    :param task_path: its path. Give exactly one of the four; for a TASKFLOW_SERVICE only run_id is needed
        (task_name, if given, names it in the log).
    :param run_id: stop only if this run of the task is running (needs informatica_task_id, the id the run
        operator pushes as `informatica_task_id`); without it, whatever the task runs is stopped. Required for a
        TASKFLOW_SERVICE (the run operator pushes it as `run_id`): a running or suspended run is terminated.
    :param clean_stop: send cleanStop=true (tasks only).

    Returns {"task", "task_type", "run_id", "clean_stop", "stopped"}; `stopped` is False when nothing ran.
    :param conn_id: the Airflow connection (default informatica_cloud_default)
    """

    template_fields: Sequence[str] = (
        "conn_id", "informatica_task_type", "informatica_task_id", "task_federated_id", "task_name", "task_path",
        "run_id",
    )
    ui_color = "#fde8e8"

    def __init__(
        self,
        *,
        informatica_task_type: str,
        informatica_task_id: str | None = None,
        task_federated_id: str | None = None,
        task_name: str | None = None,
        task_path: str | None = None,
        run_id: str | int | None = None,
        clean_stop: bool = False,
        conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = require_conn_id(conn_id, InformaticaCloudHook.default_conn_name)
        self.informatica_task_type = informatica_task_type
        self.informatica_task_id = informatica_task_id
        self.task_federated_id = task_federated_id
        self.task_name = task_name
        self.task_path = task_path
        self.run_id = run_id
        self.clean_stop = check_clean_stop(clean_stop)
        self._check(construction=True)

    def _check(self, construction: bool = False) -> None:
        kind = None if construction and is_templated(self.informatica_task_type) else \
            require_task_type(self.informatica_task_type, "informatica_task_type")
        if kind == TASKFLOW_SERVICE:
            others = [a for a in ("informatica_task_id", "task_federated_id", "task_path") if getattr(self, a)]
            if others:
                raise ConfigurationError(others[0], f"does not apply to a {TASKFLOW_SERVICE}",
                                         "Give run_id (and task_name, optionally, to name it in the log).")
            if self.run_id is None:
                raise ConfigurationError("run_id", f"is missing: a {TASKFLOW_SERVICE} run is terminated by its run id",
                                         "Give the run id the run operator pushed as 'run_id'.")
            if not (construction and is_templated(self.run_id)):
                require_id("run_id", self.run_id, what="the taskflow's run id")
            return
        self._reference(construction)
        if self.run_id is not None:
            if not (construction and is_templated(self.run_id)):
                require_id("run_id", self.run_id, what="the run id")
            if self.informatica_task_id is None:
                raise ConfigurationError("informatica_task_id", "is missing while run_id is given",
                                         "Give the task id of the run (the run operator pushes it as "
                                         "'informatica_task_id'), or leave out run_id to stop any run of the task.")

    def execute(self, context: Any) -> dict[str, Any]:
        self._check()
        kind = require_task_type(self.informatica_task_type, "informatica_task_type")
        hook = InformaticaCloudHook(conn_id=self.conn_id, clean_stop=self.clean_stop)
        run_id = None if self.run_id is None else require_id("run_id", self.run_id, what="the run id")
        if kind == TASKFLOW_SERVICE:
            assert run_id is not None
            name = str(self.task_name or run_id)
            run = JobRun(VENDOR, name, run_id, JobState.RUNNING,
                         details={"kind": "taskflow_service", "task_type": kind, "taskflow": name})
            stopped = hook.cancel_run(run)
            what = f"taskflow {name} run {run_id}"
            self.log.info("Terminated %s." if stopped else "Nothing to terminate: %s has ended.", what)
            return {"task": name, "task_type": kind, "run_id": run_id, "clean_stop": False, "stopped": bool(stopped)}
        by, ref = self._reference()  # type: ignore[misc]
        if run_id is not None:
            run = JobRun(VENDOR, ref, run_id, JobState.RUNNING, details={"kind": "task", "task_id": ref,
                                                                         "task_type": kind})
            stopped = hook.cancel_run(run)
        else:
            stopped = hook.stop_task(ref, task_type=kind, by=by, clean_stop=self.clean_stop)
        what = f"{kind} task {ref}" + (f" run {run_id}" if run_id else "")
        if stopped:
            self.log.info("Asked Informatica to stop %s%s.", what, " (clean stop)" if self.clean_stop else "")
        else:
            self.log.info("Nothing to stop: %s is not running.", what)
        return {"task": ref, "task_type": kind, "run_id": run_id, "clean_stop": self.clean_stop,
                "stopped": bool(stopped)}


class InformaticaResumeTaskflowOperator(compat.BaseOperator):
    """Resume a SUSPENDED run of a taskflow published as a service.

    :param run_id: the taskflow's run id (the run operator pushes it as `run_id`).
    :param mode: "retry" (resumeWithFaultRetry: run the faulted step again) or "skip" (resumeWithFaultSkip: go on
        from the step after it).

    Fails, saying so, when the run is not suspended. Returns {"run_id", "mode", "state", "vendor_state"} as the
    taskflow's status shows it just after the resume; follow it with InformaticaTaskRunSensor
    (informatica_task_type="TASKFLOW_SERVICE").
    :param conn_id: the Airflow connection (default informatica_cloud_default)
    """

    template_fields: Sequence[str] = ("conn_id", "run_id", "mode")
    ui_color = "#e8fde8"

    def __init__(self, *, run_id: str | int, mode: str = "retry", conn_id: str | None = None, **kwargs: Any
                 ) -> None:
        super().__init__(**kwargs)
        self.conn_id = require_conn_id(conn_id, InformaticaCloudHook.default_conn_name)
        self.run_id = run_id
        self.mode = mode
        self._check(construction=True)

    def _check(self, construction: bool = False) -> None:
        if not (construction and is_templated(self.run_id)):
            require_id("run_id", self.run_id, what="the taskflow's run id")
        if not (construction and is_templated(self.mode)):
            require_choice("mode", self.mode, tuple(RESUME_MODES))

    def execute(self, context: Any) -> dict[str, Any]:
        self._check()
        mode = require_choice("mode", self.mode, tuple(RESUME_MODES))
        run = InformaticaCloudHook(conn_id=self.conn_id).resume_taskflow(str(self.run_id).strip(), mode=mode)
        self.log.info("Resumed (%s) %s", RESUME_MODES[mode], run.describe())
        return {"run_id": run.run_id, "mode": mode, "state": run.state.value, "vendor_state": run.vendor_state}


__all__ = ["InformaticaResumeTaskflowOperator", "InformaticaRunTaskOperator", "InformaticaStopTaskOperator"]
