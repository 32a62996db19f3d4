from __future__ import annotations

import json

import pytest

from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.core.inputs import optional_seconds, require_choice, require_id
from airflow_provider_jobs.core.runs import JobRun, JobState, StateVocabulary


def test_jobrun_round_trips_through_json_with_string_ids():
    run = JobRun("v", 9007199254740993, 9007199254740995, "RUNNING", "Running", progress=140, details={"a": 1})
    data = json.loads(json.dumps(run.to_dict()))
    assert data["job_id"] == "9007199254740993" and data["run_id"] == "9007199254740995"
    assert data["progress"] == 100.0  # clamped
    assert JobRun.from_dict(data) == run
    assert set(data) == {"vendor", "job_id", "run_id", "state", "vendor_state", "started_at", "ended_at", "url",
                         "progress", "details"}


def test_wait_hints_are_typed_fields_and_travel_inside_details():
    """eta_seconds and summary are fields (the wait reads them, not dict keys a parser may drop); the dict form
    (XCom, trigger kwargs, events) keeps them inside details, as before they were fields, both ways."""
    run = JobRun("v", "j", "1", JobState.RUNNING, details={"rows": 3}, eta_seconds=12.5, summary="3 rows")
    data = json.loads(json.dumps(run.to_dict()))
    assert data["details"] == {"rows": 3, "eta_seconds": 12.5, "summary": "3 rows"}
    assert "eta_seconds" not in data and "summary" not in data
    back = JobRun.from_dict(data)
    assert back == run and back.details == {"rows": 3}
    # a dict written by an older release (or a trigger serialized before an upgrade) reads the same
    old = {"vendor": "v", "job_id": "j", "run_id": "1", "state": "RUNNING",
           "details": {"summary": "3 rows", "eta_seconds": 12.5, "rows": 3}}
    assert JobRun.from_dict(old) == run
    # a run without hints adds nothing to details
    assert JobRun("v", "j", "1", JobState.RUNNING).to_dict()["details"] == {}


def test_progress_log_reads_the_summary_field():
    import logging

    from airflow_provider_jobs.core.wait import log_progress

    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger("test_progress_log_reads_the_summary_field")
    logger.addHandler(Capture())
    logger.setLevel(logging.INFO)
    report = log_progress(logger)
    report(JobRun("v", "j", "1", JobState.RUNNING, progress=40.0, summary="40 of 100 rows"), None)
    assert lines == ["v job 'j' run 1 is RUNNING, 40% complete (40 of 100 rows)"]


def test_vocabulary_is_case_insensitive_and_unknown_keeps_running():
    vocab = StateVocabulary("v", {"COMPLETED": JobState.SUCCESS, "canceled": JobState.CANCELLED})
    assert vocab("completed") == JobState.SUCCESS
    assert vocab(" CANCELED ") == JobState.CANCELLED
    assert vocab("SOMETHING_NEW") == JobState.RUNNING and not vocab.knows("SOMETHING_NEW")
    assert vocab.knows("Completed")


def test_terminal_and_success_sets():
    assert {s for s in JobState if s.is_terminal} == {
        JobState.SUCCESS, JobState.SUCCESS_WITH_WARNINGS, JobState.FAILED, JobState.CANCELLED}
    assert not JobState.CANCELLED.is_success


@pytest.mark.parametrize("bad", ["", "  ", None, True, 1.5, "None", "a\nb", ["x"]])
def test_require_id_names_the_field(bad):
    with pytest.raises(ConfigurationError, match="^job_id: "):
        require_id("job_id", bad)


def test_require_choice_and_seconds():
    assert require_choice("if_running", "WAIT", ("wait", "fail")) == "wait"
    with pytest.raises(ConfigurationError, match="if_running: 'later' is not one of wait, fail"):
        require_choice("if_running", "later", ("wait", "fail"))
    with pytest.raises(ConfigurationError, match="poll_interval"):
        optional_seconds("poll_interval", 0, allow_none=False)
    with pytest.raises(ConfigurationError, match="timeout"):
        optional_seconds("timeout", "10")


@pytest.mark.parametrize(("given", "expected"), [
    ("2016-05-20T12:00:33.117Z", "2016-05-20T12:00:33.117000+00:00"),  # OCAPI, Informatica
    ("2026-01-02T03:04:05", "2026-01-02T03:04:05+00:00"),  # naive: UTC
    ("2026-01-02T05:04:05+02:00", "2026-01-02T03:04:05+00:00"),  # another offset: converted
    ("2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05+00:00"),  # CData
    ("not a time", "not a time"),  # kept, not lost
])
def test_run_times_are_utc_iso_8601_with_an_offset(given, expected):
    run = JobRun("x", "j", "1", JobState.RUNNING, started_at=given, ended_at=given)
    assert (run.started_at, run.ended_at) == (expected, expected)
    assert JobRun.from_dict(run.to_dict()) == run


def test_spectrum_times_are_utc_in_the_servers_zone(sandbox, monkeypatch):
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook
    from tests.support import use_connection, wait_until_done

    sandbox.spectrum.add_file("/T", running=0.05)
    use_connection(monkeypatch, sandbox, "spectrum")
    done = wait_until_done(SpectrumHook(), SpectrumHook().start_run("/T"))
    assert done.started_at.endswith("+00:00") and done.ended_at.endswith("+00:00")
    use_connection(monkeypatch, sandbox, "spectrum", extra={"server_timezone": "Europe/Berlin"})
    hook = SpectrumHook()
    assert hook.spectrum_time("Jan 2, 2026 4:04:05 AM") == "2026-01-02T03:04:05+00:00"
    assert hook.spectrum_time(1767323045000) == "2026-01-02T03:04:05+00:00"  # epoch ms: UTC already
    use_connection(monkeypatch, sandbox, "spectrum", extra={"server_timezone": "Mars/Olympus"})
    with pytest.raises(ConfigurationError, match="server_timezone'?: 'Mars/Olympus' is not a time zone"):
        SpectrumHook().settings  # noqa: B018


def test_runs_are_described_by_the_name_the_user_gave():
    by_name = JobRun("cdata_sync", "9007199254740993", "5", JobState.RUNNING,
                     details={"job_name": "Salesforce to Snowflake"})
    assert by_name.describe() == "cdata_sync job 'Salesforce to Snowflake' (id 9007199254740993) run 5 is RUNNING"
    report = JobRun("nexus_ic", "7", "{A}", JobState.SUCCESS, details={"template_name": "Inspection Summary"})
    assert report.job_name == "Inspection Summary"
    assert JobRun("spectrum", "/Sales/Daily Report", "11", JobState.QUEUED).describe() == (
        "spectrum job '/Sales/Daily Report' run 11 is QUEUED")
