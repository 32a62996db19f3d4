"""One task, one run (B2C Commerce, OCAPI and SCAPI): an unclear answer to POST /jobs/{id}/executions is
recovered from job_execution_search by execution ids, in any state, never by a second start."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_jobs.hooks.ocapi import OcapiHook
from airflow_provider_jobs.operators.ocapi import OcapiRunJobOperator
from tests.support import captured_logs, make_dag, run_dag, task_xcom, use_connection

FAST = {"poll_interval": 0.1}
START = r"/jobs/[^/]+/executions$"
APIS = pytest.mark.parametrize("backend", ["ocapi", "scapi"])


def _connect(sandbox, monkeypatch, backend: str = "ocapi", **extra) -> None:
    use_connection(monkeypatch, sandbox, "ocapi", extra={"request_timeout": 0.5, "backend": backend, **extra})


def _starts_sent(sandbox) -> int:
    return len(sandbox.requests("ocapi", "POST", START))


def _run(output, dag_id: str, job: str, adopted: bool = True, **kwargs):
    dag = make_dag(dag_id)
    with dag:
        OcapiRunJobOperator(task_id="t", job_id=job, deferrable=False, **FAST, **kwargs)
    with captured_logs() as logs:
        states = run_dag(dag)
    text = "\n".join(logs.records) + output()
    assert ("Found the run the ambiguous start created" in text) is adopted, text[-3000:]
    return dag, states, text


@APIS
def test_slow_answer_to_a_short_job_adopts_the_finished_execution(sandbox, monkeypatch, backend, output):
    # (a) the answer comes after the request timeout, and the job has finished when recovery looks
    _connect(sandbox, monkeypatch, backend)
    site = sandbox.ocapi
    site.add_job("Short", pending=0.0, running=0.05)
    site.add_job("Other", pending=0.0, running=0.05)
    earlier = site.start("Short")
    earlier.stop("finished")
    site.start("Other").stop("finished")
    sandbox.fault("ocapi", START, {"kind": "delay", "seconds": 1.0}, method="POST")
    dag, states, _ = _run(output, f"ocapi_recover_slow_{backend}", "Short")
    assert states == {"t": "success"}
    result = task_xcom(dag, states, "t")
    ours = [e for e in site.executions.values() if e.job.job_id == "Short" and e is not earlier]
    assert len(ours) == 1 and result["run_id"] == ours[0].run_id and result["state"] == "SUCCESS"
    assert result["details"]["backend"] == backend
    assert site.starts() == 1 and _starts_sent(sandbox) == 1


@APIS
def test_unreadable_answer_after_the_start_adopts_the_execution(sandbox, monkeypatch, backend, output):
    # (b) the instance started the execution, then its answer could not be read
    _connect(sandbox, monkeypatch, backend)
    sandbox.ocapi.add_job("Quick", running=0.2)
    sandbox.fault("ocapi", START, {"kind": "malformed", "after_handler": True}, method="POST")
    dag, states, _ = _run(output, f"ocapi_recover_malformed_{backend}", "Quick")
    assert states == {"t": "success"}
    (execution,) = sandbox.ocapi.executions.values()
    assert task_xcom(dag, states, "t")["run_id"] == execution.run_id
    assert sandbox.ocapi.starts() == 1 and _starts_sent(sandbox) == 1


def test_an_execution_the_search_shows_late_is_still_adopted(sandbox, monkeypatch, output):
    # (c) the search shows a new execution only after a lag; the start's connection dropped
    _connect(sandbox, monkeypatch)
    sandbox.ocapi.add_job("Lagging", running=0.2)
    sandbox.ocapi.search_lag = 1.0
    sandbox.fault("ocapi", START, "drop_after", method="POST")
    dag, states, _ = _run(output, "ocapi_recover_lag", "Lagging")
    assert states == {"t": "success"}
    (execution,) = sandbox.ocapi.executions.values()
    assert task_xcom(dag, states, "t")["run_id"] == execution.run_id
    assert sandbox.ocapi.starts() == 1 and _starts_sent(sandbox) == 1


def test_nothing_started_means_one_more_start(sandbox, monkeypatch, output):
    _connect(sandbox, monkeypatch)
    sandbox.ocapi.add_job("Refused", running=0.05)
    sandbox.fault("ocapi", START, 502, method="POST")  # answered before the handler: nothing started
    _, states, _ = _run(output, "ocapi_recover_none", "Refused", adopted=False)
    assert states == {"t": "success"}
    assert sandbox.ocapi.starts() == 1 and _starts_sent(sandbox) == 2


def test_without_search_permission_an_unclear_start_fails_and_is_not_repeated(sandbox, monkeypatch, output):
    _connect(sandbox, monkeypatch)
    sandbox.ocapi.add_job("Quick", running=0.05)
    refused = '{"_v": "23.2", "fault": {"type": "AccessWithoutRequiredPermissionException", "message": "no"}}'
    sandbox.fault("ocapi", "job_execution_search$", {"kind": "status", "status": 403, "body": refused})
    sandbox.fault("ocapi", START, "drop_after", method="POST")
    _, states, text = _run(output, "ocapi_recover_no_search", "Quick", adopted=False, if_running="start")
    assert states == {"t": "failed"}
    assert "may not search job executions" in text and "is not started again" in text
    assert sandbox.ocapi.starts() == 1 and _starts_sent(sandbox) == 1


def test_a_clear_start_needs_no_search_permission(sandbox, monkeypatch, output):
    _connect(sandbox, monkeypatch)
    sandbox.ocapi.add_job("Quick", running=0.05)
    refused = '{"_v": "23.2", "fault": {"type": "AccessWithoutRequiredPermissionException", "message": "no"}}'
    sandbox.fault("ocapi", "job_execution_search$", {"kind": "status", "status": 403, "body": refused})
    _, states, _ = _run(output, "ocapi_no_search_clear", "Quick", adopted=False, if_running="start")
    assert states == {"t": "success"}


def test_find_started_run_takes_the_first_execution_since_the_marker(sandbox, monkeypatch):
    _connect(sandbox, monkeypatch)
    site = sandbox.ocapi
    site.add_job("Nightly", running=0.05)
    site.add_job("nightly", running=0.05)  # another job whose id differs only in case
    site.start("Nightly").stop("finished")
    hook = OcapiHook()
    marker = hook.start_marker("Nightly")
    assert marker["max_id"] is not None and marker["backend"] == "ocapi" and isinstance(marker["at"], float)
    assert hook.find_started_run("Nightly", marker) is None
    site.start("nightly").stop("finished")
    assert hook.find_started_run("Nightly", marker) is None
    ours = hook.start_run("Nightly")
    site.executions[ours.run_id].stop("finished")
    theirs = site.start("Nightly")  # someone else, later, still running
    found = hook.find_started_run("Nightly", marker)
    assert found is not None and found.run_id == ours.run_id != theirs.run_id
    # where ids cannot be ordered, the start times of what the marker did not list decide
    by_time = {"execution_ids": marker["execution_ids"], "max_id": None, "latest_start": marker["latest_start"]}
    assert hook.find_started_run("Nightly", by_time).run_id == ours.run_id


def test_a_pending_execution_without_a_start_time_is_found(sandbox, monkeypatch):
    _connect(sandbox, monkeypatch)
    sandbox.ocapi.add_job("Waiting", pending=30, running=0.05)
    hook = OcapiHook()
    marker = hook.start_marker("Waiting")
    assert marker["execution_ids"] == [] and marker["max_id"] is None
    ours = hook.start_run("Waiting")
    found = hook.find_started_run("Waiting", marker)
    assert found is not None and found.run_id == ours.run_id and found.vendor_state == "pending"


def test_async_twins(sandbox, monkeypatch):
    _connect(sandbox, monkeypatch)
    sandbox.ocapi.add_job("Async", running=0.05)
    hook = OcapiHook()

    async def go():
        marker = await hook.astart_marker("Async")
        run = await hook.astart_run("Async")
        return run, await hook.afind_started_run("Async", marker)

    run, found = asyncio.run(go())
    assert found is not None and found.run_id == run.run_id


def test_start_visibility_lag_from_the_connection(sandbox, monkeypatch):
    _connect(sandbox, monkeypatch, start_visibility_lag=3)
    hook = OcapiHook()
    assert hook.start_visibility_lag == 10.0  # the class default until the connection is read
    hook.settings  # noqa: B018
    assert hook.start_visibility_lag == 3.0 and OcapiHook.start_visibility_lag == 10.0
