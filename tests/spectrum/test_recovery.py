"""One task, one run (Spectrum): an ambiguous trigger is recovered by the file's execution ids, never by a
second trigger; a sequential trigger (a whole plan) cannot be matched, so it fails clearly and starts nothing
more. And the connection: no scheme means https, and the settings never show the password."""

from __future__ import annotations

import pytest
from airflow.models.connection import Connection

from airflow_provider_jobs.hooks.spectrum import SpectrumHook, SpectrumSettings
from airflow_provider_jobs.operators.spectrum import SpectrumSequentialTriggerOperator, SpectrumTriggerJobOperator
from tests.support import captured_logs, make_dag, run_dag, task_xcom, use_connection

FAST = {"poll_interval": 0.1}
TRIGGER = r"/trigger$"


@pytest.fixture(autouse=True)
def spectrum_conn(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum", extra={"request_timeout": 0.5})


def _run_one(output, dag_id: str, path: str, adopted: bool = True, **kwargs):
    dag = make_dag(dag_id)
    with dag:
        SpectrumTriggerJobOperator(task_id="t", file=path, deferrable=False, **FAST, **kwargs)
    with captured_logs() as logs:
        states = run_dag(dag)
    text = "\n".join(logs.records) + output()
    assert ("Found the run the ambiguous start created" in text) is adopted, text[-2000:]
    return dag, states


def test_slow_answer_to_a_short_job_adopts_the_finished_run(sandbox, output):
    # (a) the trigger's answer comes after the request timeout; the job is done before recovery looks
    f = sandbox.spectrum.add_file("/Short", running=0.05)
    sandbox.spectrum.add_file("/Other", running=0.05)
    before = SpectrumHook().start_run("/Short")  # an earlier run: the marker is its id
    SpectrumHook().start_run("/Other")
    sandbox.fault("spectrum", TRIGGER, {"kind": "delay", "seconds": 1.0})
    dag, states = _run_one(output, "spectrum_recover_slow", "/Short")
    assert states == {"t": "success"}
    result = task_xcom(dag, states, "t")
    ours = [r for r in sandbox.spectrum.runs_of(f) if r.run_id != before.run_id]
    assert len(ours) == 1 and result["run_id"] == ours[0].run_id and result["state"] == "SUCCESS"
    assert len(sandbox.requests("spectrum", "POST", TRIGGER)) == 3  # two by hand, one by the task


def test_unreadable_answer_after_the_trigger_adopts_the_run(sandbox, output):
    # (b) the server triggered the run, then answered with a broken body
    f = sandbox.spectrum.add_file("/Broken answer", running=0.2)
    sandbox.fault("spectrum", TRIGGER, {"kind": "malformed", "after_handler": True})
    dag, states = _run_one(output, "spectrum_recover_malformed", "/Broken answer")
    assert states == {"t": "success"}
    (run,) = sandbox.spectrum.runs_of(f)
    assert task_xcom(dag, states, "t")["run_id"] == run.run_id
    assert len(sandbox.requests("spectrum", "POST", TRIGGER)) == 1


def test_a_run_that_shows_late_is_still_adopted(sandbox, output):
    # (c) the server shows a new run in the file's status only after a lag; the trigger's answer is lost
    f = sandbox.spectrum.add_file("/Lagging", running=0.2)
    sandbox.spectrum.visibility_lag = 1.0
    sandbox.fault("spectrum", TRIGGER, "drop_after")
    dag, states = _run_one(output, "spectrum_recover_lag", "/Lagging")
    assert states == {"t": "success"}
    (run,) = sandbox.spectrum.runs_of(f)
    assert task_xcom(dag, states, "t")["run_id"] == run.run_id
    assert len(sandbox.requests("spectrum", "POST", TRIGGER)) == 1


def test_nothing_started_means_one_more_trigger(sandbox, output):
    f = sandbox.spectrum.add_file("/Refused", running=0.05)
    sandbox.fault("spectrum", TRIGGER, 502)  # answered before the handler: nothing started
    dag, states = _run_one(output, "spectrum_recover_none", "/Refused", adopted=False)
    assert states == {"t": "success"}
    assert len(sandbox.spectrum.runs_of(f)) == 1
    assert len(sandbox.requests("spectrum", "POST", TRIGGER)) == 2


def test_find_started_run_picks_ours_when_someone_else_triggered_later(sandbox):
    f = sandbox.spectrum.add_file("/Shared", running=0.05)
    hook = SpectrumHook()
    old = hook.start_run("/Shared")
    marker = hook.start_marker("/Shared")
    assert marker["execution_id"] == old.run_id and isinstance(marker["at"], float)
    assert hook.find_started_run("/Shared", marker) is None
    ours = hook.start_run("/Shared")
    theirs = hook.start_run(str(f.file_id))  # someone else, later: the file's status now names theirs
    found = hook.find_started_run("/Shared", marker)
    assert found is not None and found.run_id == ours.run_id != theirs.run_id
    assert found.details["configuration_id"] == str(f.configuration_id)
    assert sandbox.requests("spectrum", "GET", "/job-history/")  # the history led back to ours


def test_find_started_run_on_a_file_that_never_ran(sandbox):
    sandbox.spectrum.add_file("/Fresh", running=0.05)
    hook = SpectrumHook()
    marker = hook.start_marker("/Fresh")
    assert marker["execution_id"] is None
    assert hook.find_started_run("/Fresh", marker) is None
    ours = hook.start_run("/Fresh")
    found = hook.find_started_run("/Fresh", marker)
    assert found is not None and found.run_id == ours.run_id


def test_async_twins(sandbox):
    import asyncio

    sandbox.spectrum.add_file("/Async", running=0.05)
    hook = SpectrumHook()

    async def go():
        marker = await hook.astart_marker("/Async")
        run = await hook.astart_run("/Async")
        return run, await hook.afind_started_run("/Async", marker)

    run, found = asyncio.run(go())
    assert found is not None and found.run_id == run.run_id


@pytest.mark.parametrize("fault", ["drop_after", {"kind": "malformed", "after_handler": True}])
def test_ambiguous_sequential_trigger_fails_clearly_and_starts_nothing_more(sandbox, fault, output):
    b = sandbox.spectrum.add_file("/Seq/B", running=0.05)
    a = sandbox.spectrum.add_file("/Seq/A", running=0.05, downstream=[b.file_id])
    sandbox.fault("spectrum", "/sequential-trigger$", fault)
    dag = make_dag(f"spectrum_seq_ambiguous_{isinstance(fault, dict)}")
    with dag:
        SpectrumSequentialTriggerOperator(task_id="seq", file_ids=[a.file_id], deferrable=False, retries=1,
                                          retry_delay=0, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"seq": "failed"}
    text = "\n".join(logs.records) + output()
    assert "cannot list the job's runs, so it is not started again" in text  # the first try
    assert "stopped before recording its run" in text  # the retry: it does not start the plan again
    assert len(sandbox.requests("spectrum", "POST", "/sequential-trigger$")) == 1
    assert sandbox.spectrum.triggers() == 2  # the one plan (A and B) the lost answer started


# -- the connection ------------------------------------------------------------------------------------------
def _conn(**fields) -> Connection:
    return Connection(conn_id="spectrum_x", conn_type="spectrum", login="analyst", password="s3cret-pw", **fields)


@pytest.mark.parametrize(
    ("fields", "base"),
    [
        ({"host": "spectrum.example.com", "port": 8080}, "https://spectrum.example.com:8080"),
        ({"host": "spectrum.example.com/dm"}, "https://spectrum.example.com/dm"),
        ({"host": "http://spectrum.example.com", "port": 8080}, "http://spectrum.example.com:8080"),
        ({"host": "spectrum.example.com", "schema": "http"}, "http://spectrum.example.com"),
        ({"host": "https://spectrum.example.com", "schema": "http"}, "https://spectrum.example.com"),
    ],
)
def test_no_scheme_means_https(fields, base):
    assert SpectrumHook("spectrum_x").configure(_conn(**fields)).base_url == base


def test_settings_never_show_the_password():
    settings = SpectrumHook("spectrum_x").configure(_conn(host="spectrum.example.com"))
    assert isinstance(settings, SpectrumSettings) and settings.password == "s3cret-pw"
    assert "s3cret-pw" not in repr(settings) and "s3cret-pw" not in str(settings)


def test_start_visibility_lag_from_the_connection():
    hook = SpectrumHook("spectrum_x")
    assert hook.start_visibility_lag == SpectrumHook.start_visibility_lag == 5.0
    hook.configure(_conn(host="h", extra='{"start_visibility_lag": 30}'))
    assert hook.start_visibility_lag == 30.0 and SpectrumHook.start_visibility_lag == 5.0
