"""BaseJobSensor: wait for a vendor run someone else started (poke, reschedule or deferrable)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import ConfigurationError, JobProviderError, NotFoundError
from airflow_provider_jobs.core.inputs import require_bool
from airflow_provider_jobs.core.operator import JobWaitMixin, conclude, outcome_from_event
from airflow_provider_jobs.core.runs import JobRun
from airflow_provider_jobs.core.wait import FAILED, PROGRESS_LOG_INTERVAL, SUCCESS, WaitOutcome, failure_message

#: BaseSensorOperator needs a number; `timeout=None` (no limit) is stored as this many seconds.
NO_LIMIT = float(timedelta(days=3650).total_seconds())


class BaseJobSensor(JobWaitMixin, compat.BaseSensorOperator):
    """Wait until a vendor run reaches a terminal state; fail if it failed or was cancelled.

    Subclasses set `hook_class` and implement `run_reference()`. Returns the run as a JobRun dict.

    :param conn_id: the Airflow connection (default: the vendor's `<conn_type>_default`)
    :param deferrable: wait in the triggerer (default: Airflow's [operators] default_deferrable)
    :param poll_interval: seconds between status polls (default: the vendor's)
    :param max_poll_interval: longest interval the polls of a long run grow to (default: poll_interval, no growth)
    :param timeout: seconds (or a timedelta) to wait for the run, None for no limit; at the deadline a run this task
        started is cancelled where the vendor can
    :param fail_on_warnings: fail when the run ends SUCCESS_WITH_WARNINGS
    :param not_found_grace: seconds a run may be invisible to the vendor (since it was last seen) before the wait
        fails
    :param progress_log_interval: seconds between two progress lines of the run while waiting in the triggerer
        (default 60; there is also at most one per 25% of progress); 0 logs each 25% step, None logs no progress
        lines. State changes are always logged
    :param poke_interval: Airflow's name for poll_interval (either may come from default_args; one named on the
        task wins)
    """

    template_fields: Sequence[str] = ("conn_id",)

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        deferrable: bool | None = None,
        poll_interval: float | timedelta | None = None,
        max_poll_interval: float | timedelta | None = None,
        timeout: float | timedelta | None = None,
        fail_on_warnings: bool = False,
        not_found_grace: float = 60.0,
        progress_log_interval: float | None = PROGRESS_LOG_INTERVAL,
        poke_interval: float | timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        # Airflow's own sensor arguments keep their meaning: poke_interval is another name for poll_interval;
        # mode, soft_fail, exponential_backoff and max_wait go to BaseSensorOperator (and are honoured when
        # deferred too). Either interval may come from default_args; one named on the task wins over it.
        defaults = kwargs.get("default_args") or {}
        interval = _pick_interval(poll_interval, poke_interval, defaults)
        self._init_wait_values = dict(
            conn_id=conn_id,
            deferrable=deferrable,
            poll_interval=interval,
            max_poll_interval=max_poll_interval,
            wait_timeout=timeout,
            fail_on_warnings=fail_on_warnings,
            not_found_grace=not_found_grace,
            progress_log_interval=progress_log_interval,
        )
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        poke = interval.total_seconds() if isinstance(interval, timedelta) else interval
        if poke is None:
            poke = self.hook_class.default_poll_interval
        super().__init__(
            timeout=NO_LIMIT if seconds is None else seconds,
            poke_interval=poke if isinstance(poke, (int, float)) and not isinstance(poke, bool) and poke >= 0 else 60,
            **kwargs,
        )
        self._init_wait(**self._init_wait_values)
        del self._init_wait_values
        self.soft_fail = require_bool("soft_fail", self.soft_fail)
        self.exponential_backoff = require_bool("exponential_backoff", self.exponential_backoff)
        if self.exponential_backoff and self.max_poll_interval is None:
            # Deferred, the trigger grows its interval the provider's way: up to max_wait, else 10 x the interval.
            max_wait = getattr(self, "max_wait", None)
            max_wait = max_wait.total_seconds() if isinstance(max_wait, timedelta) else max_wait
            self.max_poll_interval = max(self.poll_interval, float(max_wait or 10 * self.poll_interval))
        self._first_poke: float | None = None

    def run_reference(self) -> JobRun:
        """The run to wait for, as a JobRun in a non-terminal state (rendered ids)."""
        raise NotImplementedError

    def validate_inputs(self) -> None:
        """Check rendered inputs; raise ConfigurationError before any network call."""

    def execute(self, context: Any) -> Any:
        self.validate_inputs()
        if not self.deferrable:
            return super().execute(context)
        deadline = time.time() + self.wait_timeout if self.wait_timeout else None
        self.defer(
            trigger=self.make_trigger([self.run_reference()], deadline),
            method_name="execute_complete",
            timeout=self.defer_timeout(deadline),
        )

    def poke(self, context: Any) -> Any:
        # Between pokes in one process, pass the last polled run on: it carries what the vendor module
        # keeps in JobRun.details (e.g. since when a run is paused).
        reference = getattr(self, "_last_run", None) or self.run_reference()
        try:
            run = self.hook.get_run(reference)
        except NotFoundError as exc:
            self._first_poke = self._first_poke or time.time()
            if time.time() - self._first_poke <= self.not_found_grace:
                self.log.info("%s: not visible yet (%s)", reference.describe(), exc)
                return False
            raise
        self._first_poke = None  # seen again: a later gap starts its own grace period
        self.log.info("%s", run.describe() + (f", {run.progress:.0f}% complete" if run.progress is not None else ""))
        if not run.is_terminal:
            self._last_run = run
            return False
        outcome = WaitOutcome(SUCCESS if run.state.is_success else FAILED, [run], run.describe())
        if outcome.status == FAILED:
            outcome.message = failure_message(run)
        self._conclude(outcome)
        self._result = run.to_dict()
        return compat.PokeReturnValue(is_done=True, xcom_value=self._result)

    def execute_complete(self, context: Any, event: Any = None) -> Any:
        outcome = outcome_from_event(event)
        return self._conclude(outcome)[0].to_dict()

    def _conclude(self, outcome: WaitOutcome) -> list[JobRun]:
        """The runs, or why the sensor fails; with soft_fail a failure (or the deadline) skips the task instead,
        as Airflow's sensors do."""
        try:
            return conclude(outcome, self.fail_on_warnings)
        except JobProviderError as exc:
            if not self.soft_fail:
                raise
            raise compat.AirflowSkipException(f"soft_fail is set, so the task is skipped: {exc}") from exc



def _pick_interval(poll: Any, poke: Any, defaults: dict[str, Any]) -> Any:
    """poll_interval (the provider's name) or poke_interval (Airflow's), whichever the user gave.

    Airflow fills both from default_args before __init__ runs; a value named on the task wins over one from
    default_args, and two different values named on the task are refused.
    """
    if poll is None or poke is None or poll == poke:
        return poke if poll is None else poll
    poll_default = "poll_interval" in defaults and defaults["poll_interval"] == poll
    poke_default = "poke_interval" in defaults and defaults["poke_interval"] == poke
    if poll_default and not poke_default:
        return poke
    if poke_default and not poll_default:
        return poll
    raise ConfigurationError(
        "poke_interval", f"{poke!r} differs from poll_interval {poll!r}",
        "They are two names for the seconds between status checks: give one of them.",
    )
