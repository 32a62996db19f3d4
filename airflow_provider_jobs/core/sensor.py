"""BaseJobSensor: wait for a vendor run someone else started (poke, reschedule or deferrable)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import NotFoundError
from airflow_provider_jobs.core.operator import JobWaitMixin, conclude, outcome_from_event
from airflow_provider_jobs.core.runs import JobRun
from airflow_provider_jobs.core.wait import FAILED, SUCCESS, WaitOutcome, failure_message

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
    """

    template_fields: Sequence[str] = ("conn_id",)

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        deferrable: bool | None = None,
        poll_interval: float | None = None,
        max_poll_interval: float | None = None,
        timeout: float | timedelta | None = None,
        fail_on_warnings: bool = False,
        not_found_grace: float = 60.0,
        **kwargs: Any,
    ) -> None:
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        poke = poll_interval if poll_interval is not None else self.hook_class.default_poll_interval
        super().__init__(
            timeout=NO_LIMIT if seconds is None else seconds,
            poke_interval=poke if isinstance(poke, (int, float)) and not isinstance(poke, bool) else 60,
            **kwargs,
        )
        self._init_wait(
            conn_id=conn_id,
            deferrable=deferrable,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            wait_timeout=timeout,
            fail_on_warnings=fail_on_warnings,
            not_found_grace=not_found_grace,
        )
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
        conclude(outcome, self.fail_on_warnings)
        self._result = run.to_dict()
        return compat.PokeReturnValue(is_done=True, xcom_value=self._result)

    def execute_complete(self, context: Any, event: Any = None) -> Any:
        outcome = outcome_from_event(event)
        return conclude(outcome, self.fail_on_warnings)[0].to_dict()
