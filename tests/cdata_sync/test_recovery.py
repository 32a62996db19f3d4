"""One task, one run: an ambiguous execute adopts the run it made (also when that run already ended), on API v1
and v2, through real DAG runs against the sandbox."""

from __future__ import annotations

import time

import pytest

from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook
from airflow_provider_jobs.operators.cdata_sync import CDataSyncRunJobOperator
from tests.support import make_dag, run_dag, task_xcom, wait_until

FAST = {"poll_interval": 0.1}
#: The execute route of each API version (what a fault hits).
EXECUTE = {"v1": r"/executeJob$", "v2": r"/execute$"}
SHORT = [{"query": "REPLICATE [A]", "seconds": 0.1}]


@pytest.fixture(params=["v2", "v1"])
def api(request, sync, connect):
    """The sandbox as a server with API v2 (v1 too) or v1 only; the connection detects which (auto)."""
    sync.api_version = request.param
    connect(extra={"request_timeout": 0.5})
    return request.param


def executes(sandbox, api):
    return sandbox.requests("cdata_sync", "POST", EXECUTE[api])


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_start_answered_too_late_adopts_the_short_run_that_already_ended(sandbox, sync, api, deferrable):
    """(a) The execute answer comes after the request timeout; the job is so short that it has ended when
    recovery looks: the task adopts that run (from the history), and the job ran once."""
    job = sync.add_job("Short", SHORT)
    sandbox.fault("cdata_sync", EXECUTE[api], {"kind": "delay", "seconds": 1.0})
    dag = make_dag(f"cdata_late_{api}_{deferrable}")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_name="Short", deferrable=deferrable, **FAST)
    states = run_dag(dag)
    assert states == {"run": "success"}
    (run,) = sync.runs_of(job)
    assert task_xcom(dag, states, "run")["run_id"] == str(run.history_id)
    assert task_xcom(dag, states, "run")["state"] == "SUCCESS"
    assert len(executes(sandbox, api)) == 1


def test_b_an_unreadable_2xx_to_the_start_adopts_the_run(sandbox, sync, api):
    """(b) Sync started the job, then its answer was cut to unreadable JSON: adopt, do not start again."""
    job = sync.add_job("J", SHORT)
    sandbox.fault("cdata_sync", EXECUTE[api], {"kind": "malformed", "after_handler": True})
    dag = make_dag(f"cdata_malformed_{api}")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_id=str(job.job_id), **FAST)
    states = run_dag(dag)
    assert states == {"run": "success"}
    (run,) = sync.runs_of(job)
    assert task_xcom(dag, states, "run")["run_id"] == str(run.history_id)
    assert len(executes(sandbox, api)) == 1


def test_c_a_run_that_shows_only_after_a_lag_is_still_adopted(sandbox, sync, api):
    """(c) The server lists a new run only a second after it began (history and status): recovery keeps looking
    for up to start_visibility_lag and adopts it."""
    job = sync.add_job("J", SHORT)
    sync.visibility_lag = 1.0
    sandbox.fault("cdata_sync", EXECUTE[api], "drop_after")
    dag = make_dag(f"cdata_lag_{api}")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_id=str(job.job_id), **FAST)
    states = run_dag(dag)
    assert states == {"run": "success"}
    (run,) = sync.runs_of(job)
    assert task_xcom(dag, states, "run")["run_id"] == str(run.history_id)
    assert len(executes(sandbox, api)) == 1


def test_a_start_that_never_reached_sync_is_sent_once_more(sandbox, sync, api, monkeypatch):
    """The connection dropped before Sync saw the execute: no run appears within the lag, so the task starts
    the job again, once; one run in all."""
    monkeypatch.setattr(CDataSyncHook, "start_visibility_lag", 0.5)
    job = sync.add_job("J", SHORT)
    sandbox.fault("cdata_sync", EXECUTE[api], "drop")
    dag = make_dag(f"cdata_never_{api}")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_id=str(job.job_id), **FAST)
    states = run_dag(dag)
    assert states == {"run": "success"}
    assert len(sync.runs_of(job)) == 1 and len(executes(sandbox, api)) == 2


def test_find_started_run_sees_a_finished_run_and_not_older_ones(sync, api):
    """The bug this fixes: recovery looked only for an active run. A run begun after the marker is found in
    whatever state it is now; runs from before the marker never are."""
    job = sync.add_job("J", SHORT)
    before = sync.start(job)  # someone else's run, ended before ours
    wait_until(lambda: before.finished, "the earlier run ended")
    hook = CDataSyncHook()
    marker = hook.start_marker(str(job.job_id))
    assert marker["latest_history_id"] == str(before.history_id) and marker["at"] <= time.time()
    assert marker["api_version"] == api
    assert hook.find_started_run(str(job.job_id), marker) is None
    ours = sync.start(job)  # as if our execute reached Sync and its answer was lost
    wait_until(lambda: ours.finished, "our run ended")
    found = hook.find_started_run(str(job.job_id), marker)
    assert found is not None and found.run_id == str(ours.history_id) and found.state.value == "SUCCESS"
    assert hook.find_active_run(str(job.job_id)) is None  # what the old recovery looked at


def test_start_run_reuses_the_operators_marker(sandbox, sync, api):
    """One history snapshot per start: the operator's marker goes to start_run, which takes none of its own."""
    job = sync.add_job("J", SHORT)
    dag = make_dag(f"cdata_one_snapshot_{api}")
    with dag:
        CDataSyncRunJobOperator(task_id="run", job_id=str(job.job_id), wait_for_completion=False, **FAST)
    assert run_dag(dag) == {"run": "success"}
    reads = sandbox.requests("cdata_sync", "GET", r"/history$")
    # the marker's snapshot, then the first look at the new run (v2 then reads its entry by id)
    assert len(reads) == 2
