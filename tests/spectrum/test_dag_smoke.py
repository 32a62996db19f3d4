from __future__ import annotations

from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator
from tests.support import make_dag, run_dag, task_xcom, use_connection


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
