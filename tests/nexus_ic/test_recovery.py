"""One task, one run: a report start without a clear answer is looked for in IC-Web 6.9's job listing and
adopted, never sent twice; before 6.9 (no listing) the task fails saying what to check by hand."""

from __future__ import annotations

import re

import pytest

from airflow_provider_jobs.operators.nexus_ic import NexusICRunReportOperator
from tests.support import captured_logs, make_dag, run_dag, task_xcom

FAST = {"poll_interval": 0.1}


@pytest.fixture(autouse=True)
def nexus_conn(connect):
    connect()


def report_dag(dag_id: str, **kwargs):
    dag = make_dag(dag_id)
    with dag:
        NexusICRunReportOperator(task_id="report", template_id=12, deferrable=False, **FAST, **kwargs)
    return dag


def starts_sent(nexus) -> int:
    return len(nexus.state.requests("nexus_ic", "POST", r"/report/?$"))


def adopted(nexus, dag, output, logs) -> dict:
    states = run_dag(dag)
    assert states == {"report": "success"}
    assert nexus.starts() == 1 and len(nexus.jobs) == 1  # exactly one job at the vendor
    (job,) = nexus.jobs
    result = task_xcom(dag, states, "report")
    assert result["run_id"] == job and result["state"] == "SUCCESS"
    assert result["details"]["adopted"] is True and result["details"]["template_id"] == "12"
    assert "Found the run the ambiguous start created" in "\n".join(logs.records) + output()
    assert nexus.state.requests("nexus_ic", path_regex="jobDismiss") == []  # the provider never dismisses
    return result


def test_a_start_slower_than_the_request_timeout_adopts_the_short_job(nexus, connect, output):
    """(a) The answer comes after the request timeout; the job is short and has finished by the time the
    recovery finds it in the listing."""
    connect(extra={"request_timeout": 0.5})
    nexus.add_template("R", key=12, running=0.05, waiting=0.01, starting=0.01)
    nexus.state.add_fault("nexus_ic", r"/report/$", [{"kind": "delay", "seconds": 1.0}], method="POST")
    dag = report_dag("nexus_recover_slow_start")
    with captured_logs() as logs:
        adopted(nexus, dag, output, logs)
    assert starts_sent(nexus) == 1


def test_an_unreadable_answer_to_a_start_that_started_adopts_the_job(nexus, output):
    """(b) The start made its job, then answered a truncated 200."""
    nexus.add_template("R", key=12, running=0.2)
    nexus.state.add_fault("nexus_ic", r"/report/$", [{"kind": "malformed", "after_handler": True}], method="POST")
    dag = report_dag("nexus_recover_malformed")
    with captured_logs() as logs:
        adopted(nexus, dag, output, logs)
    assert starts_sent(nexus) == 1


def test_a_job_that_shows_in_the_listing_late_is_still_adopted(nexus, output):
    """(c) The listing shows the new job only after a lag (shorter than start_visibility_lag)."""
    nexus.listing_lag = 1.5
    nexus.add_template("R", key=12, running=0.1)
    nexus.state.add_fault("nexus_ic", r"/report/$", ["truncate"], method="POST")
    dag = report_dag("nexus_recover_listing_lag")
    with captured_logs() as logs:
        adopted(nexus, dag, output, logs)
    assert starts_sent(nexus) == 1
    listings = nexus.state.requests("nexus_ic", "GET", r"/jobStatus$")
    assert len(listings) >= 3  # the marker, a look that found nothing yet, the look that found it


def test_a_gateway_502_after_the_start_on_6_9_adopts_the_job(nexus, output):
    nexus.add_template("R", key=12, running=0.3)
    nexus.fail_after_start(502)
    dag = report_dag("nexus_recover_502")
    with captured_logs() as logs:
        adopted(nexus, dag, output, logs)
    assert starts_sent(nexus) == 1


def test_a_502_before_6_9_fails_naming_the_template_and_the_time_and_starts_nothing_more(nexus, connect, output):
    nexus.version = "6.8"
    connect()
    nexus.add_template("R", key=12, running=0.3)
    nexus.fail_after_start(502)
    dag = report_dag("nexus_recover_502_old", retries=1, retry_delay=0)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"report": "failed"}
    assert starts_sent(nexus) == 1 and nexus.starts() == 1  # the job the gateway hid; nothing more
    text = "\n".join(logs.records) + output()
    assert "The start of nexus_ic job '12' had no clear answer" in text
    assert "cannot list the job's runs, so it is not started again" in text
    assert re.search(r"whether a run began at \d{4}-\d\d-\d\d", text)


def test_no_new_job_in_the_listing_means_one_more_start(nexus, output):
    """A 502 from a gateway that never reached IC-Web: nothing new in the listing, so the job is started
    once more (and only once)."""
    nexus.add_template("R", key=12, running=0.1)
    nexus.state.add_fault("nexus_ic", r"/report/$", [502], method="POST")
    from airflow_provider_jobs.hooks.nexus_ic import NexusICHook

    lag = NexusICHook.start_visibility_lag
    NexusICHook.start_visibility_lag = 0.5
    try:
        dag = report_dag("nexus_recover_nothing_started")
        with captured_logs() as logs:
            states = run_dag(dag)
    finally:
        NexusICHook.start_visibility_lag = lag
    assert states == {"report": "success"}
    assert starts_sent(nexus) == 2 and nexus.starts() == 1
    assert "starting it again, once" in "\n".join(logs.records) + output()
