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
