"""sequential_trigger() with Spectrum steps: order, variables, the execution plan."""

from __future__ import annotations

import pytest

from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.operators.sequence import sequential_trigger
from airflow_provider_jobs.operators.spectrum import SpectrumSequentialTriggerOperator, SpectrumTriggerJobOperator
from tests.support import make_dag, run_dag, task_xcom, use_connection

FAST = {"poll_interval": 0.1, "deferrable": True}


@pytest.fixture(autouse=True)
def conn(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")


def test_chain_runs_in_order_with_variables_and_returns_the_plan(sandbox):
    sandbox.spectrum.add_file("/A", running=0.1)
    down = sandbox.spectrum.add_file("/C", running=0.1)
    seq = sandbox.spectrum.add_file("/B", running=0.1, downstream=[down.file_id])
    dag = make_dag("chain_spectrum_ok")
    with dag:
        a = SpectrumTriggerJobOperator(task_id="a", file="/A", **FAST)
        b = SpectrumSequentialTriggerOperator(task_id="b", file_ids=[seq.file_id], variables={"own": "1"}, **FAST)
        sequential_trigger("chain", [a, b], variables={"env": "prod", "own": "shared"})
    states = run_dag(dag)
    assert states == {"a": "success", "b": "success", "chain.execution_plan": "success"}
    plan = task_xcom(dag, states, "chain.execution_plan")
    assert plan["status"] == "success"
    assert [(e["name"], e["trigger"], e["state"], e["variables"]) for e in plan["execution-plan"]] == [
        ("/A", True, "SUCCESS", False), ("B", True, "SUCCESS", True), ("C", True, "SUCCESS", True)]
    b_runs = [r for r in sandbox.spectrum.runs.values() if r.file.path in ("/B", "/C")]
    assert all(r.attrs["variables"] == {"env": "prod", "own": "1"} for r in b_runs)  # the step's own value wins
    a_run = next(r for r in sandbox.spectrum.runs.values() if r.file.path == "/A")
    assert a_run.ended_at <= min(r.created for r in b_runs)  # plan order


def test_a_failed_step_stops_the_chain_and_the_plan_says_so(sandbox):
    sandbox.spectrum.add_file("/A", running=0.1, final="ERROR")
    sandbox.spectrum.add_file("/B", running=0.1)
    dag = make_dag("chain_spectrum_fail")
    with dag:
        a = SpectrumTriggerJobOperator(task_id="a", file="/A", **FAST)
        b = SpectrumTriggerJobOperator(task_id="b", file="/B", **FAST)
        sequential_trigger("chain", [a, b])
    states = run_dag(dag)
    assert states["a"] == "failed" and states["b"] == "upstream_failed"
    assert states["chain.execution_plan"] == "failed"  # a failed chain fails its DAG run
    plan = task_xcom(dag, states, "chain.execution_plan")
    assert plan["status"] == "failed"
    assert [(e["name"], e["trigger"], e["state"]) for e in plan["execution-plan"]] == [
        ("/A", True, "FAILED"), ("/B", False, None)]
    assert len(sandbox.requests("spectrum", "POST", "/trigger$")) == 1


def test_later_steps_template_on_earlier_runs(sandbox):
    from airflow_provider_jobs.sensors.spectrum import SpectrumJobSensor  # noqa: F401

    sandbox.spectrum.add_file("/A", running=0.1)
    sandbox.spectrum.add_file("/A 2", running=0.1)
    dag = make_dag("chain_spectrum_template")
    with dag:
        a = SpectrumTriggerJobOperator(task_id="a", file="/A", **FAST)
        b = SpectrumTriggerJobOperator(task_id="b", file="{{ ti.xcom_pull(task_ids='a')['job_id'] }} 2", **FAST)
        sequential_trigger("chain", [a, b])
    states = run_dag(dag)
    assert states["b"] == "success"
    assert task_xcom(dag, states, "b")["job_id"] == "/A 2"


def test_bad_chains_are_refused():
    with pytest.raises(ConfigurationError, match="^steps"):
        sequential_trigger("g", [])
    dag = make_dag("chain_bad")
    with dag:
        a = SpectrumTriggerJobOperator(task_id="a", file="/A")
    with pytest.raises(ConfigurationError, match=r"^steps\[1\]"):
        sequential_trigger("g", [a, "not an operator"])
    with pytest.raises(ConfigurationError, match="^variables"):
        sequential_trigger("g", [a], variables=[1])
