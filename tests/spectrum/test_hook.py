"""SpectrumHook over real HTTP to the sandbox: every call, sync and async, and the faults."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_jobs.core.errors import (
    AmbiguousStartError,
    AuthenticationError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    TransientApiError,
)
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.hooks.spectrum import SpectrumHook, file_ref, parse_spectrum_time
from airflow_provider_jobs.sandbox.spectrum import PASSWORD
from tests.support import assert_no_secret, captured_logs, use_connection


@pytest.fixture
def hook(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    return SpectrumHook()


@pytest.mark.parametrize(
    ("word", "state"),
    [("_NONE", JobState.QUEUED), ("queued", JobState.QUEUED), ("Running", JobState.RUNNING),
     ("COMPLETED", JobState.SUCCESS), ("completed_with_warnings", JobState.SUCCESS_WITH_WARNINGS),
     ("ERROR", JobState.FAILED), ("canceled", JobState.CANCELLED), ("MYSTERY", JobState.RUNNING)],
)
def test_state_mapping(word, state):
    assert SpectrumHook.states(word) == state


@pytest.mark.parametrize(
    ("given", "in_url"),
    [(48, "48"), ("f8d450cd-f065-4abb-a232-27cd20c48c2b", "f8d450cd-f065-4abb-a232-27cd20c48c2b"),
     ("/Sales/Daily Report", "Sales/Daily+Report"), ("/A/b+c?d", "A/b%2Bc%3Fd")],
)
def test_file_reference_encoding(given, in_url):
    assert file_ref(given) == in_url


@pytest.mark.parametrize("bad", ["/a/../b", "", "/a//b", None, 1.5])
def test_file_reference_rejects_escapes(bad):
    with pytest.raises(ConfigurationError, match="^file"):
        file_ref(bad)


def test_timestamps_keep_raw_text():
    assert parse_spectrum_time("Sep 28, 2018 6:44:56 PM") == "2018-09-28T18:44:56"
    assert parse_spectrum_time("28.09.2018 18:44") is None


def test_trigger_by_path_uuid_and_id_sync_and_async(sandbox, hook):
    f = sandbox.spectrum.add_file("/Sales/Daily Report", running=0.2)
    by_path = hook.start_run("/Sales/Daily Report")
    by_uuid = hook.start_run(f.uuid)
    by_id = asyncio.run(hook.astart_run(str(f.file_id)))
    assert len({by_path.run_id, by_uuid.run_id, by_id.run_id}) == 3
    assert [s.path for s in sandbox.requests("spectrum", "POST")] == [
        "/api/job-execution/Sales/Daily+Report/trigger", f"/api/job-execution/{f.uuid}/trigger",
        f"/api/job-execution/{f.file_id}/trigger"]
    sync_view = hook.get_run(by_id)
    async_view = asyncio.run(hook.aget_run(by_id))
    assert sync_view.run_id == async_view.run_id == by_id.run_id
    assert async_view.details["file_id"] == str(f.file_id)


def test_status_history_running_list_stop_and_delete(sandbox, hook):
    f = sandbox.spectrum.add_file("/Ops/Load", running=5)
    assert hook.job_status("/Ops/Load") is None  # _NONE: never ran
    run = hook.start_run("/Ops/Load")
    assert hook.find_active_run("/Ops/Load").run_id == run.run_id
    running = hook.list_running()
    assert [r["jobExecutionId"] for r in running] == [run.run_id]
    assert hook.cancel_run(run) is True
    assert hook.get_run(run).state == JobState.CANCELLED
    history = asyncio.run(hook.ajob_history(str(f.configuration_id)))
    assert history == [{"id": run.run_id, "jobStatus": "CANCELED"}]
    assert hook.delete_data(str(f.data_id)) is True
    assert hook.delete_data(str(f.data_id)) is False
    with pytest.raises(NotFoundError, match="not found"):
        hook.delete_data("999999")


def test_estimate_from_the_file_status_is_not_carried_past_the_next_poll(sandbox, hook):
    sandbox.spectrum.add_file("/Ops/Estimate", queued=0, running=30)
    hook.start_run("/Ops/Estimate")
    attached = hook.find_active_run("/Ops/Estimate")  # read through the file's status: with an estimate
    assert attached.eta_seconds is not None and attached.eta_seconds > 0
    polled = hook.get_run(attached)  # job details: no estimate, so none is kept
    assert polled.eta_seconds is None and polled.details["file_id"]


def test_cancel_does_not_stop_someone_elses_newer_run(sandbox, hook):
    sandbox.spectrum.add_file("/Ops/Shared", running=5)
    ours = hook.start_run("/Ops/Shared")
    theirs = hook.start_run("/Ops/Shared")
    assert hook.cancel_run(ours) is False
    assert hook.get_run(theirs).state != JobState.CANCELLED
    assert not sandbox.requests("spectrum", "POST", "/stop$")


def test_sequential_trigger_with_variables(sandbox, hook):
    last = sandbox.spectrum.add_file("/Chain/Categorize", running=0.1)
    first = sandbox.spectrum.add_file("/Chain/Apache Log", running=0.1, downstream=[last.file_id])
    plan = hook.sequential_trigger([first.file_id], {"region": "EU", "day": 3})
    entries = plan["execution-plan"]
    assert [e["job-configuration-name"] for e in entries] == ["Apache Log", "Categorize"]
    assert all(isinstance(e["job-execution-id"], str) for e in entries)
    runs = hook.plan_runs(plan)
    assert [sandbox.spectrum.runs[r.run_id].attrs["variables"] for r in runs] == [{"region": "EU", "day": "3"}] * 2


def test_sequential_trigger_path_is_configurable(sandbox, monkeypatch):
    sandbox.spectrum.add_file("/X", running=0.1)
    use_connection(monkeypatch, sandbox, "spectrum", extra={"sequential_trigger_path": "/custom/seq"})
    with pytest.raises(NotFoundError, match="404"):  # the sandbox serves the default path only
        SpectrumHook().sequential_trigger([40])
    assert sandbox.requests("spectrum", "POST", "^/custom/seq$")


def test_failure_body_with_http_200_is_an_error(sandbox, hook):
    with pytest.raises(NotFoundError) as err:
        hook.start_run("/Nope")
    assert "File doesn" in str(err.value) and "HTTP 200" in str(err.value)


def test_503_twice_then_success(sandbox, hook):
    sandbox.spectrum.add_file("/R", running=0.1)
    sandbox.fault("spectrum", "/trigger$", 503, 503)
    run = hook.start_run("/R")
    assert run.run_id
    assert [s.status for s in sandbox.requests("spectrum", "POST")] == [503, 503, 200]


def test_429_with_retry_after_is_honoured(sandbox, hook):
    sandbox.spectrum.add_file("/R", running=0.1)
    sandbox.fault("spectrum", "/status$", {"kind": "status", "status": 429, "retry_after": "0.2"})
    with captured_logs() as logs:
        hook.job_status("/R")
    assert any("HTTP 429" in m and "retrying in 0.2s (Retry-After)" in m for m in logs.records)


def test_5xx_longer_than_budget_names_endpoint_and_status(sandbox, hook):
    sandbox.spectrum.add_file("/R", running=0.1)
    sandbox.fault("spectrum", "/status$", *[502] * 5)
    with pytest.raises(TransientApiError, match=r"job status failed \(HTTP 502\).*after 5 attempts"):
        hook.job_status("/R")


def test_dropped_connection_on_a_read_is_retried(sandbox, hook):
    sandbox.spectrum.add_file("/R", running=0.1)
    run = hook.start_run("/R")
    sandbox.fault("spectrum", "/job-details/", "drop")
    assert asyncio.run(hook.aget_run(run)).run_id == run.run_id
    assert hook.get_run(run).run_id == run.run_id


def test_dropped_start_is_not_blindly_resent(sandbox, hook):
    sandbox.spectrum.add_file("/R", running=0.1)
    sandbox.fault("spectrum", "/trigger$", "drop_after")
    with pytest.raises(AmbiguousStartError, match="not sent again blindly"):
        hook.start_run("/R")
    assert len(sandbox.spectrum.runs) == 1  # the server did start it


def test_malformed_and_html_answers_quote_an_excerpt(sandbox, hook):
    sandbox.spectrum.add_file("/R", running=0.1)
    sandbox.fault("spectrum", "/status$", "malformed")
    with pytest.raises(MalformedResponseError, match="not JSON.*'\\{\"status\": \"succ'"):
        hook.job_status("/R")
    sandbox.fault("spectrum", "/list-running$", *["html:502"] * 5)
    with pytest.raises(TransientApiError, match="502"):
        hook.list_running()


def test_wrong_password_is_clear_and_secret_free(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum", password="wrong-password-123")
    with captured_logs() as logs, pytest.raises(AuthenticationError) as err:
        SpectrumHook().list_running()
    assert "connection 'spectrum_default'" in str(err.value)
    assert_no_secret("wrong-password-123", str(err.value), logs.records)


def test_connection_test_button(sandbox, hook, monkeypatch):
    ok, message = hook.test_connection()
    assert ok and "Connected to Datameer Spectrum" in message
    use_connection(monkeypatch, sandbox, "spectrum", password="nope")
    ok, message = SpectrumHook().test_connection()
    assert not ok and "refused the credentials" in message


def test_connection_errors_name_the_field(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SPECTRUM_DEFAULT", '{"conn_type": "spectrum", "host": "", "login": "a"}')
    with pytest.raises(ConfigurationError, match="connection 'spectrum_default' host: is empty"):
        SpectrumHook().list_running()
    monkeypatch.setenv("AIRFLOW_CONN_SPECTRUM_DEFAULT",
                       '{"conn_type": "spectrum", "host": "ftp://x", "login": "a", "password": "b"}')
    with pytest.raises(ConfigurationError, match="Use http:// or https://"):
        SpectrumHook().list_running()


def test_no_password_anywhere(sandbox, hook):
    sandbox.spectrum.add_file("/R", running=0.1)
    with captured_logs() as logs:
        run = hook.start_run("/R")
        hook.get_run(run)
    assert_no_secret(PASSWORD, logs.records, run.to_dict())


def test_unknown_run_is_not_found(hook):
    with pytest.raises(NotFoundError, match="JobExecution"):
        hook.get_run(JobRun("spectrum", "/R", "424242", JobState.RUNNING))
