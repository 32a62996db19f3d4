"""The "Vendor job run" extra link: no run, no link, and no error line about it."""

from __future__ import annotations

from airflow_provider_jobs.core.operator import JobRunLink
from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator
from tests.support import captured_logs, make_dag, run_dag, task_xcom, use_connection


def test_a_task_that_fails_before_starting_a_run_logs_nothing_about_its_link(sandbox, monkeypatch, output):
    use_connection(monkeypatch, sandbox, "spectrum")
    dag = make_dag("link_no_run")
    with dag:
        SpectrumTriggerJobOperator(task_id="missing", file="/No/Such File", poll_interval=0.1)
    with captured_logs() as logs:
        assert run_dag(dag) == {"missing": "failed"}
    said = "\n".join(logs.records) + output()
    assert "spectrum file '/No/Such File' was not found" in said  # the task did run and fail
    assert "XCom not found" not in said and "run_url" not in said


def test_the_link_is_the_run_url_the_task_pushed(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Fine", running=0.1)
    dag = make_dag("link_run")
    with dag:
        task = SpectrumTriggerJobOperator(task_id="fine", file="/Fine", poll_interval=0.1)
    states = run_dag(dag)
    assert states == {"fine": "success"}
    url = task_xcom(dag, states, "fine", "run_url")
    assert url and url == task_xcom(dag, states, "fine")["url"]
    # the operator that ran knows its run's link; one that started no run has none, without asking XCom
    assert JobRunLink().get_link(task, ti_key=None) == ""
