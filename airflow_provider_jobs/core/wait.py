"""The wait loop, written once: polled by the operator on a worker and by the trigger.

`watch()` is an operation (a generator of requests and sleeps), so the sync driver runs it with
time.sleep and requests, and the trigger runs it with asyncio.sleep and aiohttp.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_jobs.core.errors import ApiError, DeadlineReached, NotFoundError
from airflow_provider_jobs.core.http import Deadline, Operation, Sleep
from airflow_provider_jobs.core.listing import listing_age
from airflow_provider_jobs.core.runs import JobRun, JobState

if TYPE_CHECKING:
    from airflow_provider_jobs.core.hook import JobApiHook

log = logging.getLogger(__name__)

SUCCESS, FAILED, TIMEOUT, ERROR = "success", "failed", "timeout", "error"
#: Seconds the cancel calls at a deadline may take, retries included.
CANCEL_GRACE = 30.0
EVENT_STATUSES = frozenset({SUCCESS, FAILED, TIMEOUT, ERROR})


@dataclass(frozen=True)
class WaitPolicy:
    """How to wait: poll cadence, absolute deadline (epoch seconds), grace for unseen runs."""

    poll_interval: float = 15.0
    max_poll_interval: float | None = None
    deadline: float | None = None
    not_found_grace: float = 60.0
    cancel_on_deadline: bool = True
    jitter: float = 0.1

    @property
    def listing_age(self) -> float:
        """How old a listing of active runs shared with other waits may be to answer a status read."""
        return listing_age(self.poll_interval)

    def next_interval(self, polls: int, eta: float | None) -> float:
        """Seconds to the next poll: grows from poll_interval to max_poll_interval for long runs,
        follows the vendor's estimate where it gives one, with jitter against lockstep (up to `jitter` of the
        interval earlier, never later)."""
        ceiling = max(self.poll_interval, self.max_poll_interval or self.poll_interval)
        interval = self.poll_interval
        if ceiling > interval and polls > 3:
            # the exponent is capped: 1.5 ** polls overflows a float after ~1,750 polls (a long run)
            interval = min(ceiling, interval * 1.5 ** min(polls - 3, 64))
        if eta is not None and eta > interval:
            interval = min(ceiling, eta)
        # Jitter only shortens the gap: polls never fall into lockstep, and a run's end is still seen within
        # one interval (symmetric jitter let 1% of ends at 30 s +-10% wait past 31 s).
        return max(0.05, interval - random.uniform(0.0, interval * self.jitter))


@dataclass
class WaitOutcome:
    """How a wait ended: status in EVENT_STATUSES, the runs' last known states, and why."""

    status: str
    runs: list[JobRun]
    message: str = ""
    polls: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def to_event(self) -> dict[str, Any]:
        runs = [r.to_dict() for r in self.runs]
        return {
            "status": self.status,
            "message": self.message,
            "run": runs[0] if runs else None,
            "runs": runs,
            "polls": self.polls,
        }


def failure_message(run: JobRun) -> str:
    """One line saying which run ended badly and why."""
    text = run.describe()
    reason = run.details.get("message") or run.details.get("error")
    if reason:
        text += f": {reason}"
    return text


def watch(
    hook: JobApiHook,
    runs: list[JobRun],
    policy: WaitPolicy,
    on_update: Callable[[JobRun, JobRun | None], None] | None = None,
) -> Operation[WaitOutcome]:
    """Poll every run in `runs` (updated in place) until all are terminal or the deadline passes.

    A run the vendor does not show (HTTP 404 and the like) is given `not_found_grace` seconds counted from the
    last time it was seen; a wait that starts (a trigger rebuilt after a restart, too) counts as a sighting,
    since the run was known when the wait was set up. No sleep, retries' included, outlasts the deadline.
    """
    polls = 0
    started = time.time()
    last_seen: dict[int, float] = {}
    reported_unknown: set[int] = set()
    max_age = policy.listing_age
    yield Deadline(policy.deadline)
    while True:
        eta: float | None = None
        for index, run in enumerate(runs):
            if run.is_terminal:
                continue
            try:
                fresh: JobRun = yield from hook.read_run(run, max_age)
            except NotFoundError as exc:
                now = time.time()
                since = last_seen.get(index, started)
                if now - since <= policy.not_found_grace:
                    log.info("%s: not visible yet (%s); waiting", run.describe(), exc.code or "HTTP 404")
                    continue
                return WaitOutcome(
                    ERROR,
                    list(runs),
                    f"{run.describe()} was not found for {now - since:.0f}s since it was last seen "
                    f"(grace {policy.not_found_grace:.0f}s): {exc}",
                    polls,
                )
            except DeadlineReached:
                return (yield from _at_deadline(hook, runs, policy, polls))
            except ApiError as exc:
                return WaitOutcome(ERROR, list(runs), str(exc), polls)
            last_seen[index] = time.time()
            polls += 1
            if (
                fresh.vendor_state is not None
                and not hook.states.knows(fresh.vendor_state)
                and index not in reported_unknown
            ):
                reported_unknown.add(index)
                log.warning(
                    "%s reports the state %r, which this provider does not know; treating it as "
                    "still running until the run ends or the deadline passes.",
                    fresh.describe(),
                    fresh.vendor_state,
                )
            if on_update is not None:
                on_update(fresh, run)
            runs[index] = fresh
            hint = fresh.eta_seconds
            if hint is not None and hint > 0:
                eta = hint if eta is None else min(eta, hint)

        if all(r.is_terminal for r in runs):
            return _verdict(runs, polls)

        now = time.time()
        if policy.deadline is not None and now >= policy.deadline:
            outcome = yield from _at_deadline(hook, runs, policy, polls)
            return outcome

        interval = policy.next_interval(polls // max(1, len(runs)), eta)
        if policy.deadline is not None:
            interval = min(interval, max(0.0, policy.deadline - now))
        yield Sleep(interval)


def _at_deadline(hook: JobApiHook, runs: list[JobRun], policy: WaitPolicy, polls: int) -> Operation[WaitOutcome]:
    """Cancel what is still running (where the vendor can and the user wants) and say so."""
    # The cancel calls get a little time of their own past the deadline (their retries too), no more.
    yield Deadline(time.time() + CANCEL_GRACE)
    pending = [(i, r) for i, r in enumerate(runs) if not r.is_terminal]
    waiting_for = ", ".join(f"{r.vendor} job '{r.job_id}' run {r.run_id} (last seen {r.vendor_state or r.state.value})"
                            for _, r in pending)
    if not hook.can_cancel:
        tail = "; ".join(hook.no_cancel_message(r) for _, r in pending)
    elif not policy.cancel_on_deadline:
        tail = "the remote run was left running (this task did not start it, or cancel_on_kill is off)"
    else:
        cancelled, failed = [], []
        for index, run in pending:
            try:
                stopped = yield from hook.cancel_run.steps(hook, run)
                if stopped is False:  # it had ended, or it is not ours to stop
                    failed.append(f"{run.run_id} (the vendor had nothing of ours to stop)")
                    continue
                cancelled.append(str(run.run_id))
                runs[index] = run.with_(state=JobState.CANCELLED)
            except (ApiError, DeadlineReached) as exc:
                failed.append(f"{run.run_id} ({exc})")
        tail = f"the remote run {', '.join(cancelled)} was cancelled" if cancelled else ""
        if failed:
            tail += ("; " if tail else "") + f"could not cancel {', '.join(failed)}"
    return WaitOutcome(TIMEOUT, list(runs), f"Deadline reached while waiting for {waiting_for}; {tail}.", polls)


def _verdict(runs: list[JobRun], polls: int) -> WaitOutcome:
    bad = [r for r in runs if not r.state.is_success]
    if bad:
        return WaitOutcome(FAILED, list(runs), "; ".join(failure_message(r) for r in bad), polls)
    return WaitOutcome(SUCCESS, list(runs), "; ".join(r.describe() for r in runs), polls)


def runs_to_cancel_on_kill(
    hook: JobApiHook, runs: list[JobRun], logger: logging.Logger | Any, *, owned: bool = True,
    cancel_on_kill: bool = True,
) -> list[JobRun]:
    """The runs a kill (the operator's on_kill, the trigger's) cancels: those still going, when this task started
    them, the user lets it cancel, and the vendor can. Logs why the others go on."""
    live = [r for r in runs if not r.is_terminal]
    if not live:
        return []
    if not owned:
        for run in live:
            logger.info("%s goes on: this task did not start it, so it does not cancel it.", run.describe())
        return []
    if not cancel_on_kill:
        for run in live:
            logger.info("cancel_on_kill is off: %s goes on.", run.describe())
        return []
    if not hook.can_cancel:
        for run in live:
            logger.warning("%s.", hook.no_cancel_message(run))
        return []
    return live


#: Progress lines of a run: at most one per this many percent of progress...
PROGRESS_LOG_STEP = 25.0
#: ...and at most one per this many seconds (the default of the operators' `progress_log_interval`).
PROGRESS_LOG_INTERVAL = 60.0


def log_progress(
    logger: logging.Logger | Any,
    *,
    final: bool = True,
    interval: float | None = PROGRESS_LOG_INTERVAL,
    step: float = PROGRESS_LOG_STEP,
    clock: Callable[[], float] = time.monotonic,
) -> Callable[[JobRun, JobRun | None], None]:
    """An on_update callback that logs every state change of a run, and its progress at most once per `step`
    percent AND once per `interval` seconds (whichever is rarer): a vendor that reports progress changes it on
    almost every poll, and thousands of waits each logging every few percent flood the triggerer's log.

    `interval=None` logs no progress lines (state changes still). `final=False` leaves out the terminal state:
    the trigger's event carries it, the triggerer logs the event and the task logs how the wait ended when it
    resumes. `clock` is for tests.
    """
    started = clock()
    #: per run (by run id): (the progress step of its last line, when that line was logged)
    last: dict[Any, tuple[int, float]] = {}

    def report(fresh: JobRun, previous: JobRun | None) -> None:
        progress = fresh.progress
        if previous is not None and fresh.state is previous.state and fresh.vendor_state == previous.vendor_state:
            # no state change: a progress line, if the run crossed a step and the interval passed since its last
            if progress is None or interval is None:
                return
            key = fresh.run_id
            logged_step, logged_at = last.get(key) or (_step_of(previous.progress, step), started)
            if int(progress // step) <= logged_step:
                return
            now = clock()
            if now - logged_at < interval:
                return
            last[key] = (int(progress // step), now)
        else:
            if not final and fresh.is_terminal:
                return
            last[fresh.run_id] = (_step_of(progress, step), clock())
        text = fresh.describe()
        if progress is not None:
            text += f", {progress:.0f}% complete"
        summary = fresh.summary
        if summary:
            text += f" ({summary})"
        logger.info("%s", text)

    return report


def _step_of(progress: float | None, step: float) -> int:
    return -1 if progress is None else int(progress // step)
