"""BaseJobOperator: start a vendor job, then wait in the worker or defer to the triggerer."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import (
    AmbiguousStartError,
    ConfigurationError,
    DeadlineExceededError,
    JobAlreadyRunningError,
    JobProviderError,
    RunFailedError,
)
from airflow_provider_jobs.core.hook import JobApiHook
from airflow_provider_jobs.core.inputs import optional_seconds, require_choice
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.core.trigger import JobRunTrigger, hook_path
from airflow_provider_jobs.core.wait import (
    ERROR,
    EVENT_STATUSES,
    FAILED,
    SUCCESS,
    TIMEOUT,
    WaitOutcome,
    WaitPolicy,
    log_progress,
    watch,
)

IF_RUNNING_CHOICES = ("wait", "attach", "fail", "start")
RUN_ID_KEY = "run_id"
RUN_URL_KEY = "run_url"
#: The final JobRuns of a task, pushed before the task succeeds or fails (chains read it).
JOB_RUNS_KEY = "job_runs"
#: Extra time Airflow gives a deferral past our own deadline before it gives up on the trigger.
DEFERRAL_BACKSTOP = timedelta(minutes=10)


class JobRunLink(compat.BaseOperatorLink):
    """Extra link to the run in the vendor's UI (the URL the operator pushed to XCom)."""

    name = "Vendor job run"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        url = getattr(operator, "_run_url", None)
        if url:
            return url
        try:
            return compat.xcom_value(ti_key=ti_key, key=RUN_URL_KEY) or ""
        except Exception:
            return ""


def conclude(outcome: WaitOutcome, fail_on_warnings: bool) -> list[JobRun]:
    """The runs of a finished wait, or the exception that says why the task fails."""
    if outcome.status == SUCCESS:
        warned = [r for r in outcome.runs if r.state == JobState.SUCCESS_WITH_WARNINGS]
        if fail_on_warnings and warned:
            raise RunFailedError(
                "fail_on_warnings is set and the run ended with warnings: "
                + "; ".join(r.describe() for r in warned),
                warned[0],
            )
        return outcome.runs
    if outcome.status == FAILED:
        raise RunFailedError(outcome.message, outcome.runs[0] if outcome.runs else None)
    if outcome.status == TIMEOUT:
        raise DeadlineExceededError(outcome.message)
    raise JobProviderError(outcome.message or "the wait ended with an error")


def outcome_from_event(event: Any) -> WaitOutcome:
    """Read a trigger event strictly: anything but our four statuses is rejected."""
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
        raise JobProviderError(f"Unexpected trigger event {event!r}: expected a status in {sorted(EVENT_STATUSES)}")
    raw_runs = event.get("runs") or ([event["run"]] if event.get("run") else [])
    try:
        runs = [JobRun.from_dict(r) for r in raw_runs]
    except (TypeError, ValueError) as exc:
        raise JobProviderError(f"Malformed trigger event runs: {exc}") from None
    if not runs and event["status"] in (SUCCESS, FAILED):
        raise JobProviderError(f"Trigger event without a run: {event!r}")
    return WaitOutcome(event["status"], runs, str(event.get("message") or ""), int(event.get("polls") or 0))


class JobWaitMixin:
    """The wait settings every run operator and sensor accepts, validated once."""

    hook_class: ClassVar[type[JobApiHook]]

    def _init_wait(
        self,
        *,
        conn_id: str | None,
        deferrable: bool | None,
        poll_interval: float | None,
        max_poll_interval: float | None,
        wait_timeout: Any,
        fail_on_warnings: bool,
        not_found_grace: float,
    ) -> None:
        self.conn_id = self.hook_class.default_conn_name if conn_id is None else conn_id
        if not isinstance(self.conn_id, str) or not self.conn_id.strip():
            raise ConfigurationError(
                "conn_id", f"is {conn_id!r}",
                f"Give the id of an Airflow connection, or leave it out to use '{self.hook_class.default_conn_name}'.",
            )
        self.deferrable = compat.default_deferrable() if deferrable is None else bool(deferrable)
        self.poll_interval = optional_seconds(
            "poll_interval", self.hook_class.default_poll_interval if poll_interval is None else poll_interval,
            allow_none=False,
        )
        self.max_poll_interval = optional_seconds("max_poll_interval", max_poll_interval)
        if self.max_poll_interval is not None and self.max_poll_interval < self.poll_interval:
            raise ConfigurationError(
                "max_poll_interval", f"{max_poll_interval!r} is below poll_interval {self.poll_interval:g}",
                "Give a value at least as large as poll_interval, or leave it unset.",
            )
        self.wait_timeout = optional_seconds("timeout", wait_timeout)
        if not isinstance(fail_on_warnings, bool):
            raise ConfigurationError("fail_on_warnings", f"is {fail_on_warnings!r}", "Use True or False.")
        self.fail_on_warnings = fail_on_warnings
        self.not_found_grace = optional_seconds("not_found_grace", not_found_grace, allow_none=False, minimum=0.0)

    @property
    def hook(self) -> JobApiHook:
        if getattr(self, "_hook", None) is None:
            self._hook = self.make_hook()
        return self._hook

    def make_hook(self) -> JobApiHook:
        return self.hook_class(conn_id=self.conn_id, **self.hook_params())

    def hook_params(self) -> dict[str, Any]:
        """JSON-safe keyword arguments for the hook (also given to the trigger)."""
        return {}

    def wait_policy(self, deadline: float | None) -> WaitPolicy:
        return WaitPolicy(
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            deadline=deadline,
            not_found_grace=self.not_found_grace,
            cancel_on_deadline=getattr(self, "cancel_on_kill", True),
        )

    def make_trigger(
        self, runs: Sequence[JobRun], deadline: float | None, resume: dict[str, Any] | None = None
    ) -> JobRunTrigger:
        return JobRunTrigger(
            hook=hook_path(self.hook_class),
            conn_id=self.conn_id,
            runs=[r.to_dict() for r in runs],
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            deadline=deadline,
            not_found_grace=self.not_found_grace,
            cancel_on_deadline=getattr(self, "cancel_on_kill", True),
            cancel_on_kill=getattr(self, "cancel_on_kill", True),
            hook_params=self.hook_params(),
            resume=resume,
        )

    def defer_timeout(self, deadline: float | None) -> timedelta | None:
        if deadline is None:
            return None
        return timedelta(seconds=max(0.0, deadline - time.time())) + DEFERRAL_BACKSTOP

    def wait_here(self, runs: list[JobRun], deadline: float | None) -> WaitOutcome:
        """Wait in this worker, reusing the hook's keep-alive session for every poll."""
        return self.hook.run_operation(watch(self.hook, runs, self.wait_policy(deadline), log_progress(self.log)))


class BaseJobOperator(JobWaitMixin, compat.BaseOperator):
    """Start a vendor job and wait for it (in this worker, or deferred to the triggerer).

    Subclasses set `hook_class` and implement `job()` and `start_options()`.
    Returns the run as a JobRun dict; pushes `run_id` (and `run_url`) to XCom as soon as the
    run exists. `if_running` says what to do when the job already has a run going:
    "wait" for it to end then start ours, "attach" to it, "fail", or "start" regardless.
    """

    template_fields: Sequence[str] = ("conn_id",)
    operator_extra_links = (JobRunLink(),)
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        deferrable: bool | None = None,
        poll_interval: float | None = None,
        max_poll_interval: float | None = None,
        timeout: float | timedelta | None = None,
        fail_on_warnings: bool = False,
        wait_for_completion: bool = True,
        cancel_on_kill: bool = True,
        if_running: str = "wait",
        not_found_grace: float = 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._init_wait(
            conn_id=conn_id,
            deferrable=deferrable,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            wait_timeout=timeout,
            fail_on_warnings=fail_on_warnings,
            not_found_grace=not_found_grace,
        )
        self.wait_for_completion = bool(wait_for_completion)
        self.cancel_on_kill = bool(cancel_on_kill)
        self.if_running = require_choice("if_running", if_running, IF_RUNNING_CHOICES)
        self._runs: list[JobRun] = []
        self._run_url: str | None = None

    # -- for subclasses ----------------------------------------------------------------------------
    def job(self) -> str:
        """The job to start (rendered)."""
        raise NotImplementedError

    def start_options(self) -> dict[str, Any]:
        """Vendor options for hook.start_run (rendered and validated)."""
        return {}

    def validate_inputs(self) -> None:
        """Check rendered inputs; raise ConfigurationError before any network call."""

    def start(self, hook: JobApiHook, context: Any) -> list[JobRun]:
        """Start the job; a subclass that starts several runs at once returns them all."""
        return [hook.start_run(self.job(), **self.start_options())]

    def result(self, runs: list[JobRun]) -> Any:
        """The XCom return value for the finished runs."""
        return runs[0].to_dict()

    def apply_shared_variables(self, variables: dict[str, Any]) -> bool:
        """Take a chain's shared variables through the vendor's own mechanism (the step's own values
        win). Returns False when this job cannot take variables (the chain's plan records that)."""
        return False

    # -- execution --------------------------------------------------------------------------------
    def execute(self, context: Any) -> Any:
        self.validate_inputs()
        deadline = time.time() + self.wait_timeout if self.wait_timeout else None
        runs = self._reattach(context)
        if runs is None:
            blocker = self._blocking_run()
            if blocker is not None:
                return self._wait_for_blocker(context, blocker, deadline)
            runs = self._start_now(context)
        return self._follow(context, runs, deadline)

    def execute_complete(
        self, context: Any, event: Any = None, phase: str | None = None, deadline: float | None = None
    ) -> Any:
        """Resume after the trigger fired: accept only our own event shape."""
        outcome = outcome_from_event(event)
        echoed = event.get("resume") or {}
        phase = phase or echoed.get("phase") or "run"
        deadline = deadline if deadline is not None else echoed.get("deadline")
        if phase == "blocker":
            # The run that was in the way has ended (however it ended): now start ours.
            self.log.info("The run that was already going has ended: %s", outcome.message)
            blocker = self._blocking_run()
            if blocker is not None:
                return self._wait_for_blocker(context, blocker, deadline)
            return self._follow(context, self._start_now(context), deadline)
        self._runs = outcome.runs
        self._run_url = next((r.url for r in outcome.runs if r.url), None)
        return self._conclude(context, outcome)

    def on_kill(self) -> None:
        live = [r for r in self._runs if not r.is_terminal]
        if not live:
            return
        if not self.cancel_on_kill:
            for run in live:
                self.log.info("cancel_on_kill is off: %s goes on.", run.describe())
            return
        if not self.hook.can_cancel:
            for run in live:
                self.log.warning("%s.", self.hook.no_cancel_message(run))
            return
        for run in live:
            try:
                self.hook.cancel_run(run)
                self.log.info("Cancelled %s because the task was killed.", run.describe())
            except Exception as exc:
                self.log.warning("Could not cancel %s: %s", run.describe(), exc)

    # -- steps --------------------------------------------------------------------------------------
    def _reattach(self, context: Any) -> list[JobRun] | None:
        remembered = compat.recall_run(context)
        if not remembered:
            return None
        runs = [JobRun.from_dict(r) for r in remembered.get("runs", [])]
        if not runs:
            return None
        fresh = [r if r.is_terminal else self.hook.get_run(r) for r in runs]
        if all(r.is_terminal for r in fresh) and not all(r.state.is_success for r in fresh):
            self.log.info("The previous try's run ended badly; starting a new run: %s",
                          "; ".join(r.describe() for r in fresh))
            compat.forget_run(context)
            return None
        self.log.info("Reattaching to the run a previous try started: %s", "; ".join(r.describe() for r in fresh))
        self._announce(context, fresh)
        return fresh

    def _blocking_run(self) -> JobRun | None:
        if self.if_running == "start":
            return None
        try:
            active = self.hook.find_active_run(self.job(), **self.start_options())
        except NotImplementedError:
            return None
        if active is None:
            return None
        if self.if_running == "fail":
            raise JobAlreadyRunningError(
                f"{active.describe()} is already going and if_running='fail'. Wait for it, or set "
                "if_running to 'wait', 'attach' or 'start'.",
                vendor=self.hook.vendor,
            )
        return active

    def _wait_for_blocker(self, context: Any, blocker: JobRun, deadline: float | None) -> Any:
        if self.if_running == "attach":
            self.log.info("Attaching to the run that is already going: %s", blocker.describe())
            return self._follow(context, [blocker], deadline)
        self.log.info("Waiting for the run that is already going before starting ours: %s", blocker.describe())
        if self.deferrable:
            resume = {"phase": "blocker", "deadline": deadline}
            self.defer(
                trigger=self.make_trigger([blocker], deadline, resume),
                method_name="execute_complete",
                kwargs=resume,
                timeout=self.defer_timeout(deadline),
            )
        outcome = self.wait_here([blocker], deadline)
        if outcome.status in (TIMEOUT, ERROR):
            conclude(outcome, self.fail_on_warnings)
        return self._follow(context, self._start_now(context), deadline)

    def _start_now(self, context: Any) -> list[JobRun]:
        try:
            runs = self.start(self.hook, context)
        except AmbiguousStartError as exc:
            runs = self._recover_ambiguous_start(exc)
        except JobAlreadyRunningError:
            if self.if_running not in ("wait", "attach"):
                raise
            active = self.hook.find_active_run(self.job(), **self.start_options())
            if active is None:
                raise
            self.log.info("The vendor says a run is already going; attaching to %s", active.describe())
            runs = [active]
        submitted = time.time()
        runs = [r.with_(details={**r.details, "submitted_at": r.details.get("submitted_at", submitted)}) for r in runs]
        self._announce(context, runs)
        return runs

    def _recover_ambiguous_start(self, exc: AmbiguousStartError) -> list[JobRun]:
        self.log.warning("%s. Looking for a run of it before starting again.", exc)
        try:
            active = self.hook.find_active_run(self.job(), **self.start_options())
        except NotImplementedError:
            raise exc from None
        if active is not None:
            self.log.info("Found the run the ambiguous start created: %s", active.describe())
            return [active]
        self.log.info("No run of the job is going: starting it again, once.")
        return self.start(self.hook, None)

    def _announce(self, context: Any, runs: list[JobRun]) -> None:
        """Make the run ids known before any wait: XCom now, and the retry ledger."""
        self._runs = list(runs)
        ti = context["ti"]
        ids = [r.run_id for r in runs]
        ti.xcom_push(key=RUN_ID_KEY, value=ids[0] if len(ids) == 1 else ids)
        self._run_url = next((r.url for r in runs if r.url), None)
        if self._run_url:
            ti.xcom_push(key=RUN_URL_KEY, value=self._run_url)
        compat.remember_run(context, {"runs": [r.to_dict() for r in runs]})
        for run in runs:
            self.log.info("Started %s%s", run.describe(), f" — {run.url}" if run.url else "")

    def _follow(self, context: Any, runs: list[JobRun], deadline: float | None) -> Any:
        if not self.wait_for_completion:
            compat.forget_run(context)
            context["ti"].xcom_push(key=JOB_RUNS_KEY, value=[r.to_dict() for r in runs])
            return self.result(runs)
        if all(r.is_terminal for r in runs):
            return self._conclude(context, WaitOutcome(SUCCESS if all(r.state.is_success for r in runs) else FAILED,
                                                       runs, "; ".join(r.describe() for r in runs)))
        if self.deferrable:
            resume = {"phase": "run", "deadline": deadline}
            self.defer(
                trigger=self.make_trigger(runs, deadline, resume),
                method_name="execute_complete",
                kwargs=resume,
                timeout=self.defer_timeout(deadline),
            )
        outcome = self.wait_here(runs, deadline)
        self._runs = outcome.runs
        return self._conclude(context, outcome)

    def _conclude(self, context: Any, outcome: WaitOutcome) -> Any:
        if outcome.status in (SUCCESS, FAILED) or (
            outcome.status == TIMEOUT and all(r.is_terminal for r in outcome.runs)
        ):
            compat.forget_run(context)
        self.report(context, outcome)
        context["ti"].xcom_push(key=JOB_RUNS_KEY, value=[r.to_dict() for r in outcome.runs])
        return self.result(conclude(outcome, self.fail_on_warnings))

    def report(self, context: Any, outcome: WaitOutcome) -> None:
        """Log how the wait ended (vendors add detail, e.g. step executions)."""
        log = self.log.info if outcome.status == SUCCESS else self.log.error
        log("Wait ended %s: %s", outcome.status, outcome.message)

