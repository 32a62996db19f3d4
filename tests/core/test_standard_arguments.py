"""Airflow's standard sensor arguments keep their meaning, and default_args never set a run operator's deadline."""

from __future__ import annotations

import pytest

from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator
from airflow_provider_jobs.sensors.spectrum import SpectrumJobSensor
from tests.support import captured_logs, make_dag, run_dag, use_connection


def test_poke_interval_is_another_name_for_poll_interval():
    sensor = SpectrumJobSensor(task_id="s", job_execution_id="7", poke_interval=0.5)
    assert sensor.poll_interval == 0.5 and sensor.poke_interval == 0.5
    both = SpectrumJobSensor(task_id="b", job_execution_id="7", poke_interval=3, poll_interval=3)
    assert both.poll_interval == 3
    with pytest.raises(ConfigurationError, match="poke_interval: 2 differs from poll_interval 3. They are two names"):
        SpectrumJobSensor(task_id="x", job_execution_id="7", poke_interval=2, poll_interval=3)


def test_standard_sensor_arguments_from_default_args_and_on_the_task():
    dag = make_dag("std_sensor_args", default_args={"poke_interval": 42, "timeout": 600, "mode": "reschedule",
                                                    "soft_fail": True})
    with dag:
        inherited = SpectrumJobSensor(task_id="inherited", job_execution_id="7")
        named = SpectrumJobSensor(task_id="named", job_execution_id="7", poll_interval=5, timeout=60, mode="poke",
                                  exponential_backoff=True, max_wait=40)
    assert (inherited.poll_interval, inherited.poke_interval) == (42, 42)
    assert (inherited.wait_timeout, inherited.timeout) == (600, 600)
    assert inherited.mode == "reschedule" and inherited.soft_fail is True
    # named on the task wins over default_args
    assert (named.poll_interval, named.poke_interval, named.wait_timeout, named.mode) == (5, 5, 60, "poke")
    # exponential_backoff also lets a deferred wait's interval grow, up to max_wait
    assert named.exponential_backoff is True and named.max_poll_interval == 40
    with pytest.raises(ConfigurationError, match="soft_fail: is 'yes'. Use True or False"):
        SpectrumJobSensor(task_id="bad", job_execution_id="7", soft_fail="yes")


@pytest.mark.parametrize("deferrable", [True, False])
def test_soft_fail_skips_a_sensor_whose_run_failed(sandbox, monkeypatch, deferrable, output):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Broken", running=0.1, final="ERROR")
    dag = make_dag(f"std_soft_fail_{deferrable}")
    with dag:
        start = SpectrumTriggerJobOperator(task_id="start", file="/Broken", wait_for_completion=False,
                                           deferrable=False, poll_interval=0.1)
        soft = SpectrumJobSensor(task_id="soft", job_execution_id="{{ ti.xcom_pull('start', key='run_id') }}",
                                 poke_interval=0.1, soft_fail=True, deferrable=deferrable)
        hard = SpectrumJobSensor(task_id="hard", job_execution_id="{{ ti.xcom_pull('start', key='run_id') }}",
                                 poke_interval=0.1, deferrable=deferrable)
        start >> [soft, hard]
    with captured_logs() as logs:
        assert run_dag(dag) == {"start": "success", "soft": "skipped", "hard": "failed"}
    (run,) = sandbox.spectrum.runs.values()
    said = "\n".join(logs.records) + output()
    assert f"run {run.run_id} is FAILED (ERROR): Spectrum reports ERROR" in said  # skipped and failed on the run


def test_timeout_from_default_args_is_never_a_run_operators_deadline(sandbox, monkeypatch, output):
    """default_args={"timeout": ...} is meant for sensors: a run operator ignores it (and says so), so a run that
    outlasts it is not cancelled; timeout= named on the operator is still its deadline."""
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Long", running=1.0)
    with make_dag("std_timeout_names", default_args={"timeout": 0.2}):
        named = SpectrumTriggerJobOperator(task_id="named", file="/Long", timeout=30, poll_interval=0.1)
        sensor = SpectrumJobSensor(task_id="sensor", job_execution_id="7")
    assert named.wait_timeout == 30 and sensor.wait_timeout == 0.2
    dag = make_dag("std_timeout_default_args", default_args={"timeout": 0.2})
    with captured_logs() as logs, dag:
        run = SpectrumTriggerJobOperator(task_id="run", file="/Long", deferrable=True, poll_interval=0.1)
    assert run.wait_timeout is None
    said = "\n".join(logs.records) + output()
    assert "run: timeout=0.2 from default_args is not used as this run operator's deadline" in said
    assert "name timeout= on the operator to set one" in said
    assert run_dag(dag) == {"run": "success"}
    assert sandbox.requests("spectrum", "POST", "/stop$") == []
