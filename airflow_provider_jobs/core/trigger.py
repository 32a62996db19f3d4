"""JobRunTrigger: the one deferrable trigger, for every vendor."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from typing import Any

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import ApiError, JobProviderError
from airflow_provider_jobs.core.hook import JobApiHook
from airflow_provider_jobs.core.runs import JobRun
from airflow_provider_jobs.core.wait import (
    ERROR,
    PROGRESS_LOG_INTERVAL,
    WaitOutcome,
    WaitPolicy,
    log_progress,
    runs_to_cancel_on_kill,
    watch,
)

#: Seconds on_kill may spend cancelling remote runs.
ON_KILL_TIMEOUT = 30.0


def hook_path(hook_class: type[JobApiHook]) -> str:
    return f"{hook_class.__module__}.{hook_class.__qualname__}"


def load_hook_class(path: str) -> type[JobApiHook]:
    module, _, name = path.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, JobApiHook)):
        raise JobProviderError(f"{path} is not a JobApiHook")
    return cls


class JobRunTrigger(compat.BaseTrigger):
    """Wait in the triggerer for one or more vendor runs to reach a terminal state.

    Its kwargs are plain JSON (hook class path, connection id, runs as dicts, an absolute
    deadline in epoch seconds): never a secret. It yields exactly one event whose `status` is
    success, failed, timeout or error, with the runs' last known JobRuns.
    """

    def __init__(
        self,
        *,
        hook: str,
        conn_id: str,
        runs: list[dict[str, Any]],
        poll_interval: float = 15.0,
        max_poll_interval: float | None = None,
        deadline: float | None = None,
        not_found_grace: float = 60.0,
        cancel_on_deadline: bool = True,
        cancel_on_kill: bool = True,
        hook_params: dict[str, Any] | None = None,
        resume: dict[str, Any] | None = None,
        progress_log_interval: float | None = PROGRESS_LOG_INTERVAL,
    ) -> None:
        super().__init__()
        self.hook = hook
        self.conn_id = conn_id
        self.runs = [dict(r) for r in runs]
        self.poll_interval = float(poll_interval)
        self.max_poll_interval = float(max_poll_interval) if max_poll_interval else None
        self.deadline = float(deadline) if deadline is not None else None
        self.not_found_grace = float(not_found_grace)
        self.cancel_on_deadline = bool(cancel_on_deadline)
        self.cancel_on_kill = bool(cancel_on_kill)
        self.hook_params = dict(hook_params or {})
        #: What the task needs when it resumes (phase, deadline): echoed in the event, because not every
        #: way of running a trigger hands the deferral's kwargs back (dag.test() does not).
        self.resume = dict(resume or {})
        #: Seconds between two progress lines of a run (also at most one per 25% step); None: none.
        self.progress_log_interval = float(progress_log_interval) if progress_log_interval is not None else None
        self._live: list[JobRun] = []

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "hook": self.hook,
                "conn_id": self.conn_id,
                "runs": self.runs,
                "poll_interval": self.poll_interval,
                "max_poll_interval": self.max_poll_interval,
                "deadline": self.deadline,
                "not_found_grace": self.not_found_grace,
                "cancel_on_deadline": self.cancel_on_deadline,
                "cancel_on_kill": self.cancel_on_kill,
                "hook_params": self.hook_params,
                "resume": self.resume,
                "progress_log_interval": self.progress_log_interval,
            },
        )

    def make_hook(self) -> JobApiHook:
        return load_hook_class(self.hook)(conn_id=self.conn_id, **self.hook_params)

    def policy(self) -> WaitPolicy:
        return WaitPolicy(
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            deadline=self.deadline,
            not_found_grace=self.not_found_grace,
            cancel_on_deadline=self.cancel_on_deadline,
        )

    async def run(self) -> AsyncIterator[compat.TriggerEvent]:
        self._live = [JobRun.from_dict(r) for r in self.runs]
        try:
            hook = self.make_hook()
            # the event carries the final state
            report = log_progress(self.log, final=False, interval=self.progress_log_interval)
            outcome = await hook.arun_operation(watch(hook, self._live, self.policy(), report))
        except (ApiError, JobProviderError) as exc:
            outcome = WaitOutcome(ERROR, list(self._live), str(exc))
        except Exception as exc:  # never let a bug kill the wait silently
            self.log.exception("JobRunTrigger failed unexpectedly")
            outcome = WaitOutcome(ERROR, list(self._live), f"{type(exc).__name__}: {exc}")
        event = outcome.to_event()
        event["resume"] = self.resume
        yield compat.TriggerEvent(event)

    async def on_kill(self) -> None:
        """Cancel the remote runs when a user kills the deferred task (Airflow 3.3+)."""
        runs = self._live or [JobRun.from_dict(r) for r in self.runs]
        if not any(not r.is_terminal for r in runs):
            return
        hook = self.make_hook()
        for run in runs_to_cancel_on_kill(hook, runs, self.log, cancel_on_kill=self.cancel_on_kill):
            try:
                await asyncio.wait_for(hook.acancel_run(run), ON_KILL_TIMEOUT)
                self.log.info("Cancelled %s because the task was killed.", run.describe())
            except Exception as exc:
                self.log.warning("Could not cancel %s: %s", run.describe(), exc)
