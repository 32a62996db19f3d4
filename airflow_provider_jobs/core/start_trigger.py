"""JobStartTrigger: a run operator's start and wait, both in the triggerer (Airflow 3.3+ `start_from_trigger`).

The scheduler defers such a task straight to this trigger (no worker, no task process). The triggerer renders the
operator's templated fields among the trigger's kwargs; the trigger rebuilds the operator from its constructor
arguments and those rendered fields, so job(), start_options(), validate_inputs(), publish() and result() are the
operator's own. The one-task-one-run rule holds as on a worker: before the start the ledger (a Variable: the
triggerer serves no task state store) records the intent with the vendor's start marker, a restarted trigger that
finds only the intent looks for the run with find_started_run() before it starts again, and one that finds the run
waits for it. Secrets never enter the kwargs: the connection id only.

What the trigger cannot do it hands to a worker (an event the operator's `execute_from_trigger` runs
`execute()` for): a run of the job already going with if_running "wait"/"attach"; an operator whose end needs the
worker (`finishes_in_trigger()` False, e.g. a NEXUS IC report whose content is downloaded) gets the usual
`execute_complete` with the wait's outcome.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import (
    AmbiguousStartError,
    ApiError,
    JobAlreadyRunningError,
    JobProviderError,
    MalformedResponseError,
)
from airflow_provider_jobs.core.runs import JobRun
from airflow_provider_jobs.core.trigger import ON_KILL_TIMEOUT
from airflow_provider_jobs.core.wait import (
    ERROR,
    FAILED,
    SUCCESS,
    TIMEOUT,
    WaitOutcome,
    log_progress,
    runs_to_cancel_on_kill,
    watch,
)

if TYPE_CHECKING:
    from airflow_provider_jobs.core.hook import JobApiHook
    from airflow_provider_jobs.core.operator import BaseJobOperator

#: The event key that hands the task to a worker (the operator's execute_from_trigger runs execute()).
HANDOFF = "handoff"
#: The trigger's own kwargs; every other kwarg is one of the operator's templated fields.
OWN_KWARGS = ("operator", "task_id", "init")


def trigger_args(op: BaseJobOperator) -> Any:
    """Airflow's StartTriggerArgs for a run operator, or None where it cannot start from the trigger: Airflow before
    3.3, deferrable off, an operator whose start is its own, an argument or templated field that is not plain JSON
    (an XComArg: its value exists only when the upstream task ran). Read when the DAG is serialized, so it sees what
    a chain set on the operator after construction."""
    from airflow.triggers.base import StartTriggerArgs

    from airflow_provider_jobs.core.operator import DEFERRAL_BACKSTOP, BaseJobOperator

    if not (compat.START_FROM_TRIGGER and type(op).can_start_from_trigger and getattr(op, "deferrable", False)):
        return None
    # What __init__ was called with, as Airflow keeps it (after default_args, and updated when an attribute of that
    # name is set later). Airflow has no public accessor for it (2.11 and 3.x alike; its own serializer reads this),
    # and our own record would have to copy Airflow's __init__ wrapping: where it is missing, a worker runs the task.
    given = getattr(op, "_BaseOperator__init_kwargs", None)
    if not given:
        return None
    own = {"timeout"}
    for cls in type(op).__mro__:
        if isinstance(cls, type) and issubclass(cls, BaseJobOperator):
            own.update(p for p, v in inspect.signature(cls.__init__).parameters.items()
                       if v.kind is inspect.Parameter.KEYWORD_ONLY)
    init = {k: v for k, v in given.items() if k in own and k != "start_from_trigger"}
    if isinstance(init.get("timeout"), timedelta):
        init["timeout"] = init["timeout"].total_seconds()
    try:
        fields = {name: getattr(op, name) for name in op.template_fields}
        json.dumps([init, fields])
    except (AttributeError, TypeError, ValueError):  # not constructed yet, or a value only a worker can resolve
        return None
    if set(fields) & set(OWN_KWARGS):
        return None
    timeout = timedelta(seconds=op.wait_timeout) + DEFERRAL_BACKSTOP if op.wait_timeout else None
    return StartTriggerArgs(
        trigger_cls=f"{JobStartTrigger.__module__}.{JobStartTrigger.__qualname__}",
        trigger_kwargs={"operator": f"{type(op).__module__}.{type(op).__qualname__}", "task_id": op.task_id,
                        "init": init, **fields},
        next_method="execute_from_trigger",
        next_kwargs=None,
        timeout=timeout,
    )


class _Collector:
    """The `ti` an operator's publish() pushes XComs to in the triggerer: kept, then sent."""

    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


class JobStartTrigger(compat.BaseTrigger):
    """Start a run operator's job and wait for it, in the triggerer.

    :param operator: the operator's class path
    :param task_id: the task id (the rebuilt operator's)
    :param init: the operator's JSON constructor arguments (no secret: a connection is named, never read here)
    :param fields: the operator's templated fields, rendered by the triggerer
    """

    def __init__(self, *, operator: str, task_id: str, init: dict[str, Any], **fields: Any) -> None:
        super().__init__()
        self.operator = operator
        self.op_task_id = task_id
        self.init = dict(init)
        self.fields = sorted(fields)
        for name, value in fields.items():  # Airflow renders the attributes named like the task's template fields
            setattr(self, name, value)
        self._live: list[JobRun] = []
        self._owned = False
        self._op: BaseJobOperator | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {"operator": self.operator, "task_id": self.op_task_id, "init": self.init}
        kwargs.update({name: getattr(self, name) for name in self.fields})
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    # -- the operator, rebuilt ------------------------------------------------------------------------
    def build_operator(self) -> BaseJobOperator:
        from airflow_provider_jobs.core.operator import BaseJobOperator

        module, _, name = self.operator.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        if not (isinstance(cls, type) and issubclass(cls, BaseJobOperator)):
            raise JobProviderError(f"{self.operator} is not a run operator")
        op = cls(task_id=self.op_task_id, **{**self.init, "start_from_trigger": False})
        for name in self.fields:
            setattr(op, name, getattr(self, name))
        return op

    def ledger_key(self) -> str:
        ti = self.task_instance
        if ti is None:
            raise JobProviderError("JobStartTrigger runs only for a task instance (start_from_trigger)")
        return compat.ledger_key(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))

    # -- run ---------------------------------------------------------------------------------------------
    async def run(self) -> AsyncIterator[compat.TriggerEvent]:
        try:
            event = await self._start_and_wait()
        except Exception as exc:  # never let a bug kill the task silently: fail it, saying why
            if not isinstance(exc, (ApiError, JobProviderError)):
                self.log.exception("JobStartTrigger failed unexpectedly")
            else:
                self.log.error("%s", exc)
            event = compat.task_end_event(False, {})
        yield event

    async def _start_and_wait(self) -> compat.TriggerEvent:
        op = self._op = self.build_operator()
        op.validate_inputs()
        hook = op.make_hook()
        key = self.ledger_key()
        ledger = await compat.aledger_get(key) or {}
        deadline = ledger.get("deadline")
        if deadline is None and op.wait_timeout:
            deadline = time.time() + op.wait_timeout
        runs = await self._recorded(op, hook, key, ledger)
        owned = bool(ledger.get("owned", True)) if runs else True
        verb = "Following" if not owned else "Reattached to"
        if runs is None:
            verb = "Started"
            started = await self._start(op, hook, key, deadline)
            if isinstance(started, str):
                return compat.TriggerEvent({HANDOFF: started})
            runs = started
            await compat.aledger_set(key, {"runs": [r.to_dict() for r in runs], "owned": True, "deadline": deadline})
        self._live, self._owned = list(runs), owned
        await self._announce(op, runs, verb)
        if not op.wait_for_completion:
            await compat.aledger_delete(key)
            return self._end(op, WaitOutcome(SUCCESS, runs, "started"), wait=False)
        if all(r.is_terminal for r in runs):
            status = SUCCESS if all(r.state.is_success for r in runs) else FAILED
            outcome = WaitOutcome(status, runs, "; ".join(r.describe() for r in runs))
        else:
            report = log_progress(self.log, final=True, interval=op.progress_log_interval)
            outcome = await hook.arun_operation(watch(hook, runs, op.wait_policy(deadline, owned=owned), report))
        self._live = outcome.runs
        if not op.finishes_in_trigger():  # the worker concludes (and forgets the ledger) in execute_complete
            event = outcome.to_event()
            event["resume"] = {"phase": "run", "deadline": deadline, "owned": owned}
            return compat.TriggerEvent(event)
        if outcome.status in (SUCCESS, FAILED) or (outcome.status == TIMEOUT and all(r.is_terminal for r in runs)):
            await compat.aledger_delete(key)
        return self._end(op, outcome)

    def _end(self, op: BaseJobOperator, outcome: WaitOutcome, *, wait: bool = True) -> compat.TriggerEvent:
        from airflow_provider_jobs.core.operator import JOB_RUNS_KEY, conclude

        job_runs = [r.to_dict() for r in outcome.runs]
        try:
            value = op.result(conclude(outcome, op.fail_on_warnings) if wait else outcome.runs)
        except JobProviderError as exc:
            self.log.error("Wait ended %s: %s", outcome.status, exc)
            return compat.task_end_event(False, {JOB_RUNS_KEY: job_runs})
        self.log.info("Wait ended %s: %s", outcome.status, outcome.message)
        return compat.task_end_event(True, {"return_value": value, JOB_RUNS_KEY: job_runs})

    async def _announce(self, op: BaseJobOperator, runs: list[JobRun], verb: str) -> None:
        """run_id (and run_url, and the vendor's own XComs) to XCom as soon as the run exists, as on a worker."""
        from airflow_provider_jobs.core.operator import RUN_ID_KEY, RUN_URL_KEY

        ti = _Collector()
        ids = [r.run_id for r in runs]
        ti.xcom_push(RUN_ID_KEY, ids[0] if len(ids) == 1 else ids)
        url = next((r.url for r in runs if r.url), None)
        if url:
            ti.xcom_push(RUN_URL_KEY, url)
        op.publish({"ti": ti}, runs)
        for name, value in ti.xcoms.items():
            await compat.axcom_push(self.task_instance, name, value)
        for run in runs:
            self.log.info("%s %s%s", verb, run.describe(), f" — {url}" if url else "")

    # -- the ledger: reattach, or recover a start a lost trigger sent --------------------------------------------
    async def _recorded(self, op: BaseJobOperator, hook: JobApiHook, key: str,
                        ledger: dict[str, Any]) -> list[JobRun] | None:
        runs = await hook.arun_operation(op.follow_record(hook, ledger, lambda: compat.aledger_delete(key), self.log))
        if runs is not None and not ledger.get("runs"):  # adopted: recorded before anything else
            await compat.aledger_set(key, {"runs": [r.to_dict() for r in runs], "owned": True,
                                           "deadline": ledger.get("deadline")})
        return runs

    # -- the start -------------------------------------------------------------------------------------------------
    async def _start(self, op: BaseJobOperator, hook: JobApiHook, key: str,
                     deadline: float | None) -> list[JobRun] | str:
        """The started runs, or why a worker must take over (a string)."""
        job, options = op.job(), op.start_options()
        if op.if_running != "start":
            try:
                active = await hook.afind_active_run(job, **options)
            except NotImplementedError:
                active = None
            if active is not None:
                if op.if_running == "fail":
                    raise JobAlreadyRunningError(
                        f"{active.describe()} is already going and if_running='fail'. Wait for it, or set "
                        "if_running to 'wait', 'attach' or 'start'.", vendor=hook.vendor)
                return f"{active.describe()} is already going (if_running={op.if_running!r})"
        marker = await hook.astart_marker(job, **options)
        await compat.aledger_set(key, {"starting": {"at": time.time(), "marker": marker}, "deadline": deadline})

        async def start() -> list[JobRun]:
            return [await op.astart(hook, marker)]

        try:
            return await start()
        except (AmbiguousStartError, MalformedResponseError) as exc:
            return await hook.arun_operation(op.recover_ambiguous_start(hook, marker, exc, start, self.log))
        except JobAlreadyRunningError:
            await compat.aledger_delete(key)
            if op.if_running == "fail":
                raise
            return "the vendor says a run of the job is already going"

    async def on_kill(self) -> None:
        """Cancel the run this task started when a user kills the deferred task (Airflow 3.3+)."""
        op = self._op
        if op is None or not any(not r.is_terminal for r in self._live):
            return
        hook = op.make_hook()
        for run in runs_to_cancel_on_kill(hook, self._live, self.log, owned=self._owned,
                                          cancel_on_kill=op.cancel_on_kill):
            try:
                await asyncio.wait_for(hook.acancel_run(run), ON_KILL_TIMEOUT)
                self.log.info("Cancelled %s because the task was killed.", run.describe())
            except Exception as exc:
                self.log.warning("Could not cancel %s: %s", run.describe(), exc)


__all__ = ["ERROR", "HANDOFF", "JobStartTrigger"]
