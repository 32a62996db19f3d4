from __future__ import annotations

from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator
from tests.support import captured_logs, make_dag, run_dag, task_xcom, use_connection


def test_deferrable_operator_runs_to_success(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Sales/Daily Report", running=0.3)
    dag = make_dag("spectrum_smoke")
    with dag:
        SpectrumTriggerJobOperator(task_id="run", file="/Sales/Daily Report", deferrable=True, poll_interval=0.1)
    states = run_dag(dag)
    assert states == {"run": "success"}
    result = task_xcom(dag, states, "run")
    assert result["state"] == "SUCCESS"
    assert result["run_id"] == task_xcom(dag, states, "run", "run_id")


def test_sensor_follows_a_started_run_and_a_worker_wait_fails_with_a_broken_one(sandbox, monkeypatch, output):
    from airflow_provider_jobs.sensors.spectrum import SpectrumJobSensor

    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Sales/Broken", running=0.2, final="ERROR")
    sandbox.spectrum.add_file("/Sales/Fine", running=0.2)
    dag = make_dag("spectrum_smoke_2")
    with dag:
        start = SpectrumTriggerJobOperator(task_id="start", file="/Sales/Fine", deferrable=False,
                                           poll_interval=0.1, wait_for_completion=False)
        sense = SpectrumJobSensor(task_id="sense", job_execution_id="{{ ti.xcom_pull('start', key='run_id') }}",
                          deferrable=True, poll_interval=0.1)
        broken = SpectrumTriggerJobOperator(task_id="broken", file="/Sales/Broken", deferrable=False,
                                            poll_interval=0.1)
        start >> sense >> broken
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"start": "success", "sense": "success", "broken": "failed"}
    assert task_xcom(dag, states, "sense")["run_id"] == task_xcom(dag, states, "start", "run_id")  # the started run
    (broken_run,) = [r for r in sandbox.spectrum.runs.values() if r.file.path == "/Sales/Broken"]
    text = "\n".join(logs.records) + output()
    assert f"spectrum job '/Sales/Broken' run {broken_run.run_id} is FAILED (ERROR): Spectrum reports ERROR" in text
