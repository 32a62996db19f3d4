"""Event-driven scheduling on a vendor's own runs (Airflow 3): `JobRunFinishedTrigger` for an `AssetWatcher`.

    from airflow.sdk import Asset, AssetWatcher, DAG
    from airflow_provider_jobs.core.events import JobRunFinishedTrigger

    trigger = JobRunFinishedTrigger(hook="airflow_provider_jobs.hooks.cdata_sync.CDataSyncHook",
                                    conn_id="cdata_sync_default", job="Salesforce to Snowflake",
                                    options={"lookup": "name"})
    asset = Asset("cdata-sync://sync/Salesforce to Snowflake",
                  watchers=[AssetWatcher(name="sync_runs", trigger=trigger)])
    with DAG("after_sync", schedule=[asset]): ...

The trigger lists the job's recent runs (the hook's `list_recent_runs`) every `poll_interval` seconds and yields
one event per run that ENDS while it watches, in one of `states` (default: the two success states). The event's
payload is ``{"status": "success", "run": <the run's JobRun dict>}``. It never fires for a run twice: the first
listing after it starts (also after a triggerer restart) is its baseline, and a run ended by then is not fired,
unless `since` (ISO 8601 time) asks for runs ended since then to fire from the baseline too. Its kwargs hold no
time of their own making, so a DAG file parsed again gives the same trigger.

On Airflow 3.3+ the watchers of one job on one connection (same hook, hook_params and poll_interval) share one
listing through Airflow's shared-stream mechanism for event triggers; earlier 3.x each watcher lists alone. On
Airflow 2.11 (no event-driven scheduling) constructing it fails saying so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Hashable
from datetime import datetime
from typing import Any

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.errors import ApiError, ConfigurationError, JobProviderError
from airflow_provider_jobs.core.inputs import optional_seconds, require_id
from airflow_provider_jobs.core.runs import TERMINAL_STATES, JobRun, JobState
from airflow_provider_jobs.core.trigger import load_hook_class

DEFAULT_STATES = (JobState.SUCCESS.value, JobState.SUCCESS_WITH_WARNINGS.value)
_Base: Any = compat.BaseEventTrigger if compat.BaseEventTrigger is not None else compat.BaseTrigger


def _time(value: Any) -> float | None:
    """ISO 8601 (as JobRun keeps times) or epoch seconds -> epoch seconds; None when absent or unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class JobRunFinishedTrigger(_Base):
    """Fires once for every run of a vendor job that ends while it watches (for an AssetWatcher).

    :param hook: the hook class path, e.g. "airflow_provider_jobs.hooks.cdata_sync.CDataSyncHook".
    :param conn_id: the Airflow connection.
    :param job: the job as the hook's start_run names it (CData Sync: a job id, or a name with options lookup=name).
    :param options: keyword arguments for the hook's list_recent_runs (plain JSON).
    :param states: the final states that fire (JobState names); default SUCCESS and SUCCESS_WITH_WARNINGS.
    :param poll_interval: seconds between listings.
    :param since: also fire for runs that ended at or after this time (ISO 8601) before the trigger started.
    :param hook_params: keyword arguments for the hook (plain JSON).
    """

    def __init__(
        self,
        *,
        hook: str,
        conn_id: str,
        job: str,
        options: dict[str, Any] | None = None,
        states: list[str] | tuple[str, ...] = DEFAULT_STATES,
        poll_interval: float = 30.0,
        since: str | None = None,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        if compat.BaseEventTrigger is None:
            raise JobProviderError(
                f"JobRunFinishedTrigger schedules DAGs on vendor runs through AssetWatcher, which needs Airflow 3 "
                f"(this is Airflow {compat.AIRFLOW_VERSION}). On Airflow 2, wait for the run with the vendor's "
                "sensor instead.")
        super().__init__()
        load_hook_class(hook)  # a wrong path fails at parse time, naming it
        self.hook = hook
        self.conn_id = require_id("conn_id", conn_id, what="an Airflow connection id")
        self.job = require_id("job", job, what="the job to watch")
        self.options = dict(options or {})
        known = {s.value for s in TERMINAL_STATES}
        chosen = [str(s).upper() for s in (states or ())]
        if not chosen or any(s not in known for s in chosen):
            raise ConfigurationError("states", f"is {states!r}", f"Give final states among {sorted(known)}.")
        self.states = sorted(set(chosen))
        self.poll_interval = optional_seconds("poll_interval", poll_interval, allow_none=False, minimum=0.01)
        if since is not None and _time(since) is None:
            raise ConfigurationError("since", f"is {since!r}", "Give an ISO 8601 time, e.g. 2026-01-01T00:00:00+00:00.")
        self.since = since
        self.hook_params = dict(hook_params or {})
        json.dumps(self.serialize()[1])  # plain JSON only

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"hook": self.hook, "conn_id": self.conn_id, "job": self.job, "options": self.options,
             "states": list(self.states), "poll_interval": self.poll_interval, "since": self.since,
             "hook_params": self.hook_params},
        )

    # -- the shared listing (Airflow 3.3+ shares it between watchers with the same key) ------------------
    def shared_stream_key(self) -> Hashable | None:
        """Watchers of the same job through the same connection and cadence share one listing."""
        return ("airflow_provider_jobs.recent-runs", self.hook, self.conn_id, json.dumps(self.hook_params,
                sort_keys=True), self.job, json.dumps(self.options, sort_keys=True), self.poll_interval)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """List the job's recent runs every poll_interval: one snapshot ({"runs"} or {"error"}) per listing."""
        hook = load_hook_class(kwargs["hook"])(conn_id=kwargs["conn_id"], **(kwargs.get("hook_params") or {}))
        while True:
            try:
                runs = await hook.alist_recent_runs(kwargs["job"], **(kwargs.get("options") or {}))
                yield {"runs": [r.to_dict() for r in runs]}
            except NotImplementedError:
                raise JobProviderError(f"{hook.vendor} cannot list a job's runs, so JobRunFinishedTrigger cannot "
                                       "watch it (docs/events.md lists the vendors that can).") from None
            except ApiError as exc:  # a listing that failed: the next one may not (retries are in the hook)
                yield {"error": str(exc)}
            await asyncio.sleep(float(kwargs["poll_interval"]))

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """One event per run that ended since the baseline (the first listing), in one of our states."""
        seen: set[str] | None = None
        floor = _time(self.since)
        async for snapshot in shared_stream:
            if "error" in snapshot:
                self.log.warning("Listing the runs of %s job '%s' failed: %s", self.hook.rsplit(".", 1)[-1],
                                 self.job, snapshot["error"])
                continue
            ended = [r for r in (JobRun.from_dict(d) for d in snapshot.get("runs") or []) if r.is_terminal and r.run_id]
            if seen is None:
                seen = {str(r.run_id) for r in ended if floor is None or (_time(r.ended_at) or float("-inf")) < floor}
            for run in ended:
                if str(run.run_id) in seen:
                    continue
                seen.add(str(run.run_id))
                if run.state.value in self.states:
                    self.log.info("%s ended: firing.", run.describe())
                    yield compat.TriggerEvent({"status": "success", "run": run.to_dict()})

    async def run(self) -> AsyncIterator[Any]:
        """Watching alone (before Airflow 3.3, or a watcher the triggerer does not share)."""
        async for event in self.filter_shared_stream(type(self).open_shared_stream(self.serialize()[1])):
            yield event
