"""JobRunFinishedTrigger on Spectrum, Informatica and B2C Commerce (OCAPI), run as a triggerer runs an event
trigger against the sandbox: each vendor's list_recent_runs behind the same guarantees as CData Sync's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_jobs.core import compat
from tests.events.test_job_run_finished import Watching
from tests.support import use_connection, wait_until, wait_until_done

pytestmark = pytest.mark.skipif(not compat.AIRFLOW_V3, reason="event-driven scheduling is Airflow 3 only")


@dataclass
class Vendor:
    name: str
    hook: str
    #: add a job to the sandbox (failing when asked): (the trigger's `job`, its `options`)
    add: Callable[[Any, bool], tuple[str, dict[str, Any]]]
    #: (method, path regex, query regex) of the call list_recent_runs lists with
    listing: tuple[str, str, str]

    def hook_class(self) -> Any:
        from airflow_provider_jobs.core.trigger import load_hook_class

        return load_hook_class(self.hook)


def _spectrum(sandbox, failing: bool) -> tuple[str, dict[str, Any]]:
    sandbox.spectrum.add_file("/Sales/Nightly Load", final="ERROR" if failing else "COMPLETED", running=0.1)
    return "/Sales/Nightly Load", {}  # by path, as SpectrumTriggerJobOperator accepts it


def _informatica(sandbox, failing: bool) -> tuple[str, dict[str, Any]]:
    task = sandbox.informatica.add_task("Nightly Load", task_type="MTT", final="3" if failing else "1", running=0.1)
    return task.task_id, {"task_type": "MTT"}


def _ocapi(sandbox, failing: bool) -> tuple[str, dict[str, Any]]:
    sandbox.ocapi.add_job("nightly-export", running=0.1, **({"exit_status": "error", "exit_code": "ERROR"}
                                                           if failing else {}))
    return "nightly-export", {}


VENDORS = [
    Vendor("spectrum", "airflow_provider_jobs.hooks.spectrum.SpectrumHook", _spectrum,
           ("GET", r"/rest/job-configuration/job-history/", "")),
    Vendor("informatica", "airflow_provider_jobs.hooks.informatica.InformaticaCloudHook", _informatica,
           ("GET", r"/api/v2/activity/activityLog$", r"rowLimit=")),
    Vendor("ocapi", "airflow_provider_jobs.hooks.ocapi.OcapiHook", _ocapi, ("POST", r"job_execution_search", "")),
]


@pytest.fixture(params=VENDORS, ids=lambda v: v.name)
def vendor(request, sandbox, monkeypatch) -> Vendor:
    use_connection(monkeypatch, sandbox, request.param.name)
    return request.param


def listings(sandbox, vendor: Vendor) -> int:
    method, path, query = vendor.listing
    return sum(1 for s in sandbox.requests(vendor.name, method, path) if query in s.query or not query)


def trigger(vendor: Vendor, job: str, options: dict[str, Any], **kwargs):
    from airflow_provider_jobs.core.events import JobRunFinishedTrigger

    return JobRunFinishedTrigger(hook=vendor.hook, conn_id=vendor.hook_class().default_conn_name, job=job,
                                 options=options, poll_interval=0.05, **kwargs)


def run_outside_airflow(vendor: Vendor, job: str, options: dict[str, Any]):
    """A run started as another client would (the hook's own start call, no Airflow task), to its end."""
    hook = vendor.hook_class()()
    return wait_until_done(hook, hook.start_run(job, **options))


def test_a_run_that_ends_while_watching_fires_once_and_earlier_runs_never(sandbox, vendor):
    job, options = vendor.add(sandbox, False)
    earlier = run_outside_airflow(vendor, job, options)  # ended before anyone watched
    with Watching(trigger(vendor, job, options)) as watching:
        wait_until(lambda: listings(sandbox, vendor) >= 1, "the trigger took its baseline listing")
        ours = run_outside_airflow(vendor, job, options)
        wait_until(lambda: watching.events, "the trigger fired")
        seen = listings(sandbox, vendor)
        wait_until(lambda: listings(sandbox, vendor) >= seen + 3, "three more listings")
    assert [e["run"]["run_id"] for e in watching.events] == [ours.run_id]
    fired = watching.events[0]["run"]
    assert fired["state"] == "SUCCESS" and fired["vendor"] == ours.vendor and fired["job_id"] == job
    # the run as the operator's wait ends with it: its times (UTC ISO 8601) and its link
    assert fired["started_at"] == ours.started_at and fired["ended_at"] == ours.ended_at
    assert fired["ended_at"].endswith(("Z", "+00:00")) and fired["url"] == ours.url and ours.url
    assert earlier.run_id != ours.run_id

    # A triggerer restart: the trigger rebuilt from its serialized form. Both runs ended before it.
    path, kwargs = watching.trigger.serialize()
    rebuilt = type(watching.trigger)(**kwargs)
    with Watching(rebuilt) as again:
        wait_until(lambda: listings(sandbox, vendor) >= seen + 6, "three listings after the restart")
    assert again.events == []


def test_states_choose_what_fires(sandbox, vendor):
    job, options = vendor.add(sandbox, True)
    run_outside_airflow(vendor, job, options)  # a history to list (Spectrum finds the file's job from it)
    with Watching(trigger(vendor, job, options)) as success_only, \
            Watching(trigger(vendor, job, options, states=["FAILED"])) as failures:
        wait_until(lambda: listings(sandbox, vendor) >= 2, "both triggers took their baseline listing")
        failed = run_outside_airflow(vendor, job, options)
        assert failed.state.value == "FAILED"
        wait_until(lambda: failures.events, "the trigger asking for failures fired")
        seen = listings(sandbox, vendor)
        wait_until(lambda: listings(sandbox, vendor) >= seen + 4, "more listings")
    assert [e["run"]["run_id"] for e in failures.events] == [failed.run_id]
    assert failures.events[0]["run"]["state"] == "FAILED"
    assert success_only.events == []  # the default states: a failed run never fires


def test_list_recent_runs_oldest_first_with_final_states(sandbox, vendor):
    job, options = vendor.add(sandbox, False)
    hook = vendor.hook_class()()
    assert hook.list_recent_runs(job, **options) == []
    first = run_outside_airflow(vendor, job, options)
    second = run_outside_airflow(vendor, job, options)
    runs = hook.list_recent_runs(job, **options)
    assert [r.run_id for r in runs] == [first.run_id, second.run_id]
    assert all(r.state.value == "SUCCESS" and r.started_at and r.ended_at for r in runs)


def test_spectrum_reads_each_ended_run_once(sandbox, monkeypatch):
    """Job History names only ids and states: an ended run's details are read once, not on every listing."""
    use_connection(monkeypatch, sandbox, "spectrum")
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook

    job, _ = _spectrum(sandbox, False)
    run = run_outside_airflow(VENDORS[0], job, {})
    hook = SpectrumHook()
    before = len(sandbox.requests("spectrum", "GET", r"/job-details/"))
    for _ in range(3):
        assert [r.run_id for r in hook.list_recent_runs(job)] == [run.run_id]
    assert len(sandbox.requests("spectrum", "GET", r"/job-details/")) - before == 2  # configuration + the run
    assert len(sandbox.requests("spectrum", "GET", r"/status$")) == 1  # the configuration is found once


def test_informatica_by_name_keeps_only_the_task_and_refuses_taskflow_services(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "informatica")
    from airflow_provider_jobs.core.errors import ConfigurationError
    from airflow_provider_jobs.hooks.informatica import InformaticaCloudHook

    job, options = _informatica(sandbox, False)
    other = sandbox.informatica.add_task("Other Load", task_type="MTT", running=0.1)
    mine = run_outside_airflow(VENDORS[1], job, options)
    run_outside_airflow(VENDORS[1], other.task_id, options)
    hook = InformaticaCloudHook()
    assert [r.run_id for r in hook.list_recent_runs("Nightly Load", task_type="MTT", by="name")] == [mine.run_id]
    with pytest.raises(ConfigurationError, match="task_type"):
        hook.list_recent_runs("my_flow", task_type="TASKFLOW_SERVICE", by="name")
