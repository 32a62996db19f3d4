"""BaseJobOperator: start a vendor job, then wait in the worker or defer to the triggerer."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_jobs.core import compat, lineage
from airflow_provider_jobs.core.errors import (
    AmbiguousStartError,
    ConfigurationError,
    DeadlineExceededError,
    JobAlreadyRunningError,
    JobProviderError,
    MalformedResponseError,
    NotFoundError,
    RunFailedError,
)
from airflow_provider_jobs.core.hook import Call, JobApiHook
from airflow_provider_jobs.core.http import Operation
from airflow_provider_jobs.core.inputs import optional_seconds, require_bool, require_choice, require_conn_id
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.core.trigger import JobRunTrigger, hook_path
from airflow_provider_jobs.core.wait import (
    ERROR,
    EVENT_STATUSES,
    FAILED,
    PROGRESS_LOG_INTERVAL,
    SUCCESS,
    TIMEOUT,
    WaitOutcome,
    WaitPolicy,
    log_progress,
    runs_to_cancel_on_kill,
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
        if hasattr(operator, "_run_url"):
            # The operator that ran (Airflow 3 asks it when the task ends): it knows its run's URL, and a task that
            # failed before starting a run has none, so there is no XCom to read (and no "XCom not found" line).
            return operator._run_url or ""
        try:  # a deserialized operator (Airflow 2's webserver): what the task pushed
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
    if TYPE_CHECKING:
        @property
        def log(self) -> Any: ...  # the operator's or sensor's own

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
        progress_log_interval: float | None = PROGRESS_LOG_INTERVAL,
    ) -> None:
        self.conn_id = require_conn_id(conn_id, self.hook_class.default_conn_name)
        self.deferrable = compat.default_deferrable() if deferrable is None else require_bool("deferrable", deferrable)
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
        self.fail_on_warnings = require_bool("fail_on_warnings", fail_on_warnings)
        self.not_found_grace = optional_seconds("not_found_grace", not_found_grace, allow_none=False, minimum=0.0)
        self.progress_log_interval = (  # 0 is allowed: a line each 25% step
            0.0 if progress_log_interval == 0 and type(progress_log_interval) is not bool
            else optional_seconds("progress_log_interval", progress_log_interval)
        )

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

    def may_cancel(self, owned: bool | None = None) -> bool:
        """Whether a wait may cancel its runs (on kill, at the deadline): only runs this task started (`owned`;
        by default what the task last announced), and only when the user allows it. A sensor starts nothing,
        so it cancels nothing."""
        if owned is None:
            owned = getattr(self, "_owned", False)
        return bool(owned) and bool(getattr(self, "cancel_on_kill", False))

    def wait_policy(self, deadline: float | None, *, owned: bool | None = None) -> WaitPolicy:
        return WaitPolicy(
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            deadline=deadline,
            not_found_grace=self.not_found_grace,
            cancel_on_deadline=self.may_cancel(owned),
        )

    def make_trigger(
        self, runs: Sequence[JobRun], deadline: float | None, resume: dict[str, Any] | None = None,
        *, owned: bool | None = None,
    ) -> JobRunTrigger:
        return JobRunTrigger(
            hook=hook_path(self.hook_class),
            conn_id=self.conn_id,
            runs=[r.to_dict() for r in runs],
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            deadline=deadline,
            not_found_grace=self.not_found_grace,
            cancel_on_deadline=self.may_cancel(owned),
            cancel_on_kill=self.may_cancel(owned),
            hook_params=self.hook_params(),
            resume=resume,
            progress_log_interval=self.progress_log_interval,
        )

    def defer_timeout(self, deadline: float | None) -> timedelta | None:
        if deadline is None:
            return None
        return timedelta(seconds=max(0.0, deadline - time.time())) + DEFERRAL_BACKSTOP

    def wait_here(self, runs: list[JobRun], deadline: float | None, *, owned: bool | None = None) -> WaitOutcome:
        """Wait in this worker, reusing the hook's keep-alive session for every poll."""
        policy = self.wait_policy(deadline, owned=owned)
        return self.hook.run_operation(watch(self.hook, runs, policy,
                                            log_progress(self.log, interval=self.progress_log_interval)))


class _StartFromTrigger:
    """Airflow's `start_trigger_args` / `start_from_trigger` of a run operator, computed per task when the DAG is
    serialized (core/start_trigger.py: trigger_args). Read on the class (a mapped task), they are None / False:
    a mapped task runs on a worker."""

    def __init__(self, *, args: bool) -> None:
        self.args = args

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None or not getattr(obj, "_start_in_trigger", False):
            return None if self.args else False
        from airflow_provider_jobs.core.start_trigger import trigger_args

        computed = trigger_args(obj)
        return computed if self.args else computed is not None

    def __set__(self, obj: Any, value: Any) -> None:
        """Airflow may assign its defaults; the value is computed."""


class BaseJobOperator(JobWaitMixin, compat.BaseOperator):
    """Start a vendor job and wait for it (in this worker, or deferred to the triggerer).

    Subclasses set `hook_class` and implement `job()` and `start_options()`.
    Returns the run as a JobRun dict; pushes `run_id` (and `run_url`) to XCom as soon as the
    run exists. `timeout` (seconds to wait; at the deadline the remote run is cancelled) is taken only when
    named on the operator, never from default_args. `if_running` says what to do when the job already has a run going:
    "wait" for it to end then start ours, "attach" to it, "fail", or "start" regardless.

    :param conn_id: the Airflow connection (default: the vendor's `<conn_type>_default`)
    :param deferrable: wait in the triggerer (default: Airflow's [operators] default_deferrable)
    :param poll_interval: seconds between status polls (default: the vendor's)
    :param max_poll_interval: longest interval the polls of a long run grow to (default: poll_interval, no growth)
    :param timeout: seconds (or a timedelta) to wait for the run, None for no limit; at the deadline a run this task
        started is cancelled where the vendor can
    :param fail_on_warnings: fail when the run ends SUCCESS_WITH_WARNINGS
    :param not_found_grace: seconds a run may be invisible to the vendor (since it was last seen) before the wait
        fails
    :param progress_log_interval: seconds between two progress lines of a run while waiting (default 60; there is
        also at most one per 25% of progress); 0 logs each 25% step, None logs no progress lines. State changes are
        always logged
    :param wait_for_completion: wait for the run to end (default True); False returns once it started
    :param cancel_on_kill: cancel the remote run when the task is killed or reaches its deadline (runs it started
        only)
    :param if_running: when the job already has a run going: "wait" for it then start, "attach" to it, "fail", or
        "start" regardless
    :param start_from_trigger: on Airflow 3.3+, start the run in the triggerer as well as wait there, so the task
        uses no worker slot (see docs/deployment.md); needs deferrable. Where it cannot (Airflow < 3.3, an XComArg
        input, a mapped task) the task runs on a worker as usual.
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
        fail_on_warnings: bool = False,
        wait_for_completion: bool = True,
        cancel_on_kill: bool = True,
        if_running: str = "wait",
        not_found_grace: float = 60.0,
        start_from_trigger: bool = False,
        progress_log_interval: float | None = PROGRESS_LOG_INTERVAL,
        **kwargs: Any,
    ) -> None:
        # `timeout` (seconds; at the deadline the remote run is cancelled) counts only when named on the operator.
        # It is deliberately not a named parameter: Airflow fills named parameters from default_args before
        # __init__ runs, and a sensor's default_args={"timeout": 600} must not cancel every run at 10 minutes.
        timeout = kwargs.pop("timeout", None)
        inherited = (kwargs.get("default_args") or {}).get("timeout")
        super().__init__(**kwargs)
        if timeout is None and inherited is not None:
            self.log.info(
                "%s: timeout=%r from default_args is not used as this run operator's deadline (a deadline cancels "
                "the remote run); name timeout= on the operator to set one.", self.task_id, inherited,
            )
        self._init_wait(
            conn_id=conn_id,
            deferrable=deferrable,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            wait_timeout=timeout,
            fail_on_warnings=fail_on_warnings,
            not_found_grace=not_found_grace,
            progress_log_interval=progress_log_interval,
        )
        self.wait_for_completion = require_bool("wait_for_completion", wait_for_completion)
        self.cancel_on_kill = require_bool("cancel_on_kill", cancel_on_kill)
        self.if_running = require_choice("if_running", if_running, IF_RUNNING_CHOICES)
        self._start_in_trigger = require_bool("start_from_trigger", start_from_trigger)
        self._runs: list[JobRun] = []
        #: Whether this task started self._runs (only then may it cancel them).
        self._owned = True
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

    def start_marker(self) -> dict[str, Any]:
        """What the vendor shows of the job just before a start (see JobApiHook.start_marker)."""
        return self.hook.start_marker(self.job(), **self.start_options())

    def find_started_steps(self, hook: JobApiHook, marker: dict[str, Any]) -> Operation[JobRun | None]:
        """The steps that find the run the vendor shows as begun since `marker`, looking for up to the hook's
        visibility lag (JobApiHook.find_run_started_since): one body for a worker (hook.run_operation) and the
        start trigger (hook.arun_operation). Raises NotImplementedError where no run can be matched to this start."""
        return hook.find_run_started_since.steps(hook, self.job(), marker, **self.start_options())

    def publish(self, context: Any, runs: list[JobRun]) -> None:
        """Push the vendor's own XComs for runs that became known (started, adopted after an ambiguous start,
        or reattached): a subclass overrides this; the default pushes nothing more."""

    # -- starting from the trigger (Airflow 3.3+; core/start_trigger.py) --------------------------------------
    #: False where the trigger cannot start the run (an operator whose start() is its own, several runs at once).
    can_start_from_trigger: ClassVar[bool] = True

    async def astart(self, hook: JobApiHook, marker: dict[str, Any]) -> JobRun:
        """The start, in the triggerer (`marker`: what start_marker() read just before)."""
        return await hook.astart_run(self.job(), **self.start_options())

    def finishes_in_trigger(self) -> bool:
        """Whether the trigger may end the task (True), or a worker must conclude (execute_complete), e.g. to
        download what the run produced."""
        return True

    start_trigger_args = _StartFromTrigger(args=True)
    start_from_trigger = _StartFromTrigger(args=False)

    def execute_from_trigger(self, context: Any, event: Any = None, **kwargs: Any) -> Any:
        """Where a task that started from the trigger resumes on a worker: the trigger handed it over (run it as
        usual), or the wait ended and this operator concludes on a worker (execute_complete)."""
        if isinstance(event, dict) and "handoff" in event:
            self.log.info("The triggerer hands this task to a worker: %s", event["handoff"])
            return self.execute(context)
        return self.execute_complete(context, event, **kwargs)

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
        self, context: Any, event: Any = None, phase: str | None = None, deadline: float | None = None,
        owned: bool | None = None,
    ) -> Any:
        """Resume after the trigger fired: accept only our own event shape. The keywords are the `resume`
        kwargs the deferral passed (a real triggerer hands them back; `owned` too)."""
        outcome = outcome_from_event(event)
        echoed = event.get("resume") or {}
        phase = phase or echoed.get("phase") or "run"
        deadline = deadline if deadline is not None else echoed.get("deadline")
        if phase == "blocker":
            return self._after_blocker(context, outcome, deadline)
        self._runs = outcome.runs
        self._owned = bool(owned if owned is not None else echoed.get("owned", True))
        self._run_url = next((r.url for r in outcome.runs if r.url), None)
        return self._conclude(context, outcome)

    def on_kill(self) -> None:
        if not any(not r.is_terminal for r in self._runs):
            return
        live = runs_to_cancel_on_kill(self.hook, self._runs, self.log, owned=self._owned,
                                      cancel_on_kill=self.cancel_on_kill)
        for run in live:
            try:
                self.hook.cancel_run(run)
                self.log.info("Cancelled %s because the task was killed.", run.describe())
            except Exception as exc:
                self.log.warning("Could not cancel %s: %s", run.describe(), exc)

    # -- steps --------------------------------------------------------------------------------------
    def _reattach(self, context: Any) -> list[JobRun] | None:
        """The runs an earlier try of this task instance recorded (or started and did not record), when there are
        any to follow."""
        remembered = compat.recall_run(context)
        if not remembered:
            return None
        runs = self.hook.run_operation(
            self.follow_record(self.hook, remembered, lambda: compat.forget_run(context), self.log))
        if runs is None:
            return None
        self._announce(context, runs, owned=bool(remembered.get("owned", True)) if remembered.get("runs") else True)
        return runs

    def follow_record(self, hook: JobApiHook, record: dict[str, Any], forget: Callable[[], Any],
                      log: Any) -> Operation[list[JobRun] | None]:
        """The runs this task's ledger record says to follow, or None to start anew; one body for a worker
        (hook.run_operation: a retry's record) and the start trigger (hook.arun_operation: the record a restarted
        trigger finds).

        Recorded runs are read as the vendor shows them now; a run the vendor no longer knows is reported once and
        the record forgotten, and runs that all ended, not all well, are forgotten too (a new run starts). A record
        of a start sent but not recorded (the task was lost in between) adopts the run the vendor shows as begun
        since the start's marker. `forget` drops the record, run as a Call step (the worker's returns, the
        trigger's is awaited); `log` is the caller's logger.
        """
        runs = [JobRun.from_dict(r) for r in record.get("runs") or []]
        if not runs:
            starting = record.get("starting")
            if not isinstance(starting, dict):
                return None
            return (yield from self._adopt_lost_start(hook, starting, forget, log))
        fresh: list[JobRun] = []
        try:
            for run in runs:
                fresh.append(run if run.is_terminal else (yield from hook.read_recorded_run.steps(hook, run)))
        except NotFoundError as exc:
            # Reported once and forgotten: the next start is a new run, and no later try trips over it again.
            yield Call(forget)
            raise JobProviderError(
                f"The run this task recorded is no longer known to {hook.vendor} ({exc}). The record is forgotten: "
                "the next try starts a new run."
            ) from None
        if all(r.is_terminal for r in fresh) and not all(r.state.is_success for r in fresh):
            log.info("The run this task recorded ended badly; starting a new run: %s",
                     "; ".join(r.describe() for r in fresh))
            yield Call(forget)
            return None
        log.info("Reattaching to the run this task recorded: %s", "; ".join(r.describe() for r in fresh))
        return fresh

    def _adopt_lost_start(self, hook: JobApiHook, starting: dict[str, Any], forget: Callable[[], Any],
                          log: Any) -> Operation[list[JobRun] | None]:
        """A start was sent and the task lost before it recorded the run: the run the vendor shows as started
        since, or None (start anew) when it shows none."""
        since = _when(starting.get("at"))
        log.warning("This task sent a start at %s and stopped before recording the run; looking for that run "
                    "before starting again.", since)
        try:
            found = yield from self.find_started_steps(hook, starting.get("marker") or {})
        except NotImplementedError:
            yield Call(forget)
            raise JobProviderError(
                f"This task sent a start of {hook.vendor} job '{self.job()}' at {since} and stopped before "
                f"recording its run, and {hook.vendor} cannot list the job's runs. Check on the vendor's side "
                "whether that run exists before clearing this task: the record is forgotten, so the next try "
                "starts a new run."
            ) from None
        if found is None:
            log.info("%s shows no run of job '%s' started since %s: starting it now.", hook.vendor, self.job(), since)
            return None
        log.info("Adopting the run the lost start made: %s", found.describe())
        return [found]

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
        """Attach to a run someone else started, or wait for it to end before starting ours. Either way the run
        is not this task's: it is never cancelled by it."""
        if self.if_running == "attach":
            self.log.info("Attaching to the run that is already going (this task will not cancel it): %s",
                          blocker.describe())
            self._announce(context, [blocker], owned=False)
            return self._follow(context, [blocker], deadline)
        self.log.info("Waiting for the run that is already going before starting ours: %s", blocker.describe())
        if self.deferrable:
            resume = {"phase": "blocker", "deadline": deadline}
            self.defer(
                trigger=self.make_trigger([blocker], deadline, resume, owned=False),
                method_name="execute_complete",
                kwargs=resume,
                timeout=self.defer_timeout(deadline),
            )
        return self._after_blocker(context, self.wait_here([blocker], deadline, owned=False), deadline)

    def _after_blocker(self, context: Any, outcome: WaitOutcome, deadline: float | None) -> Any:
        """The wait for a run that was in the way ended: start ours only if it ended (however it ended)."""
        if outcome.status in (TIMEOUT, ERROR):
            reason = "reached the deadline" if outcome.status == TIMEOUT else "failed"
            raise (DeadlineExceededError if outcome.status == TIMEOUT else JobProviderError)(
                f"The wait for the run that was already going {reason}, so this task started nothing "
                f"(that run was not cancelled: this task did not start it): {outcome.message}"
            )
        self.log.info("The run that was already going has ended: %s", outcome.message)
        blocker = self._blocking_run()
        if blocker is not None:
            return self._wait_for_blocker(context, blocker, deadline)
        return self._follow(context, self._start_now(context), deadline)

    def _start_now(self, context: Any) -> list[JobRun]:
        """Start the job once. The ledger records the intent first, so that a worker lost between the start and
        the record leaves its successor enough to find the run instead of starting a second one."""
        marker = self.start_marker()
        compat.remember_run(context, {"starting": {"at": time.time(), "marker": marker}})
        owned = True
        try:
            runs = self.start(self.hook, context)
        except (AmbiguousStartError, MalformedResponseError) as exc:
            runs = self.hook.run_operation(self.recover_ambiguous_start(
                self.hook, marker, exc, lambda: self.start(self.hook, None), self.log))
        except JobAlreadyRunningError:
            if self.if_running not in ("wait", "attach"):
                compat.forget_run(context)
                raise
            active = self.hook.find_active_run(self.job(), **self.start_options())
            if active is None:
                compat.forget_run(context)
                raise
            self.log.info("The vendor says a run is already going; following it (this task will not cancel it): %s",
                          active.describe())
            runs, owned = [active], False
        self._announce(context, runs, owned=owned)
        return runs

    def recover_ambiguous_start(self, hook: JobApiHook, marker: dict[str, Any], error: Exception,
                                start_again: Callable[[], Any], log: Any) -> Operation[list[JobRun]]:
        """The start may or may not have reached the vendor (`error`: its unclear answer): adopt the run it made,
        else start again once; if that answer is unclear too, adopt what it made, else fail saying what to check.

        One body for a worker (driven by hook.run_operation) and the start trigger (hook.arun_operation). Each
        gives its own start as `start_again`, run as a Call step: the worker's returns the started runs, the
        trigger's is a coroutine function that does. `log` is the caller's logger."""
        what = f"{hook.vendor} job '{self.job()}'"
        log.warning("%s. Looking for a run of it started since just before, before starting again.", error)
        try:
            found = yield from self.find_started_steps(hook, marker)
        except NotImplementedError:
            raise AmbiguousStartError(
                f"The start of {what} had no clear answer ({error}), and {hook.vendor} cannot list the job's "
                f"runs, so it is not started again. Check on the vendor's side whether a run began at "
                f"{_when(marker.get('at'))} before clearing this task.",
                vendor=hook.vendor,
            ) from None
        if found is not None:
            log.info("Found the run the ambiguous start created: %s", found.describe())
            return [found]
        log.info("%s shows no run of it started since: starting it again, once.", hook.vendor)
        try:
            runs: list[JobRun] = yield Call(start_again)
            return runs
        except (AmbiguousStartError, MalformedResponseError) as again:
            found = yield from self.find_started_steps(hook, marker)
            if found is not None:
                log.info("Found the run the second start created: %s", found.describe())
                return [found]
            raise AmbiguousStartError(
                f"Two starts of {what} had no clear answer ({again}), and no run of it is visible yet. Check on the "
                f"vendor's side for a run begun since {_when(marker.get('at'))} before clearing this task.",
                vendor=hook.vendor,
            ) from None

    def _announce(self, context: Any, runs: list[JobRun], *, owned: bool = True) -> None:
        """Make the run ids known before any wait: the retry ledger first (a lost worker's successor reads it),
        then XCom."""
        self._runs = list(runs)
        self._owned = owned
        compat.remember_run(context, {"runs": [r.to_dict() for r in runs], "owned": owned})
        ti = context["ti"]
        ids = [r.run_id for r in runs]
        ti.xcom_push(key=RUN_ID_KEY, value=ids[0] if len(ids) == 1 else ids)
        self._run_url = next((r.url for r in runs if r.url), None)
        if self._run_url:
            ti.xcom_push(key=RUN_URL_KEY, value=self._run_url)
        self.publish(context, runs)
        for run in runs:
            self.log.info("%s %s%s", "Started" if owned else "Following", run.describe(),
                          f" — {run.url}" if run.url else "")

    def _follow(self, context: Any, runs: list[JobRun], deadline: float | None) -> Any:
        owned = self._owned
        if not self.wait_for_completion:
            compat.forget_run(context)
            context["ti"].xcom_push(key=JOB_RUNS_KEY, value=[r.to_dict() for r in runs])
            return self.result(runs)
        if all(r.is_terminal for r in runs):
            return self._conclude(context, WaitOutcome(SUCCESS if all(r.state.is_success for r in runs) else FAILED,
                                                       runs, "; ".join(r.describe() for r in runs)))
        if self.deferrable:
            resume = {"phase": "run", "deadline": deadline, "owned": owned}
            self.defer(
                trigger=self.make_trigger(runs, deadline, resume, owned=owned),
                method_name="execute_complete",
                kwargs=resume,
                timeout=self.defer_timeout(deadline),
            )
        outcome = self.wait_here(runs, deadline, owned=owned)
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

    # -- OpenLineage (called only by Airflow's OpenLineage provider; see core/lineage.py) ---------------
    def lineage_datasets(
        self, runs: list[JobRun], namespace: str
    ) -> tuple[list[lineage.LineageDataset], list[lineage.LineageDataset]]:
        """(inputs, outputs) the vendor names for these runs; `namespace` is the vendor instance's. Default: none."""
        return [], []

    def lineage_counters(self, run: JobRun) -> dict[str, Any]:
        """Row counters of a run (rowsRead, rowsWritten, rowsFailed; other numbers by their own names)."""
        return {}

    def get_openlineage_facets_on_start(self) -> Any:
        return lineage.for_operator(self, None, "start")

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return lineage.for_operator(self, task_instance, "complete")

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        return lineage.for_operator(self, task_instance, "failure")


def _when(at: Any) -> str:
    """An epoch time from the ledger as UTC ISO 8601 (for messages)."""
    try:
        return datetime.fromtimestamp(float(at), tz=UTC).isoformat(timespec="seconds")
    except (TypeError, ValueError):
        return "an unknown time"
