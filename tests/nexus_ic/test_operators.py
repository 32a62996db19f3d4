"""NEXUS IC operators, sensor and trigger through real DAG runs (dag.test()) against the sandbox."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
from pathlib import Path

import pytest

from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.hooks.nexus_ic import NexusICHook
from airflow_provider_jobs.operators.nexus_ic import NexusICJobContentOperator, NexusICRunReportOperator
from airflow_provider_jobs.sandbox.nexus_ic import API_KEY, PASSWORD, USER, load_demo_jobs
from airflow_provider_jobs.sensors.nexus_ic import NexusICJobSensor
from tests.support import assert_no_secret, captured_logs, make_dag, run_dag, task_xcom

FAST = {"poll_interval": 0.1}
MODES = [pytest.param(True, id="deferrable"), pytest.param(False, id="worker")]
PASS = {"kind": "delay", "seconds": 0}  # a fault that changes nothing: lets later faults hit later calls
RUN_ID = "{{ ti.xcom_pull('report', key='run_id') }}"


@pytest.fixture(autouse=True)
def nexus_conn(connect):
    connect()


def logged(logs, output) -> str:
    return "\n".join(logs.records) + "\n" + output()


def secrets_of(nexus) -> list[str]:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return [PASSWORD, API_KEY, basic, *nexus.issued_hashes]


@pytest.mark.parametrize("deferrable", MODES)
@pytest.mark.parametrize("version", ["6.8", "6.9"])
def test_report_by_name_returns_its_json_content(nexus, connect, deferrable, version, output):
    nexus.version = version
    connect()
    nexus.add_template("Inspection Summary", key=12, running=0.6, percent_scale=1.4)
    dag = make_dag(f"nexus_report_{version}_{deferrable}")
    with dag:
        NexusICRunReportOperator(task_id="report", template_name="Inspection Summary",
                                 parameters={"Asset": "{{ dag.dag_id }}"}, deferrable=deferrable,
                                 progress_log_interval=0, **FAST)  # a line per 25% step, however short the run
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"report": "success"}
    assert nexus.starts() == 1 and nexus.logins == 1
    result = task_xcom(dag, states, "report")
    assert result["state"] == "SUCCESS" and result["job_id"] == "12" and result["progress"] == 100
    assert result["run_id"] == task_xcom(dag, states, "report", "run_id")
    assert result["details"]["template_name"] == "Inspection Summary"
    assert result["details"]["content"] == {"job_id": result["run_id"], "has_content": True,
                                            "content_type": "application/json",
                                            "file_name": "Inspection Summary.json",
                                            "size": result["details"]["content"]["size"]}
    content = task_xcom(dag, states, "report", "content")
    assert content["elements"][1]["data"]["text"][0]["value"] == json.dumps({"Asset": dag.dag_id})
    # progress appears in the log, percent by percent, clamped, with the summary
    text = logged(logs, output)
    progress = [line for line in text.splitlines() if "% complete (" in line and "rows processed" in line]
    assert len({line.split("% complete")[0][-4:] for line in progress}) >= 2
    assert not any(f"{n}% complete" in text for n in range(101, 200))


@pytest.mark.parametrize("deferrable", MODES)
def test_content_saved_with_the_served_file_name_and_bytes(nexus, deferrable, tmp_path):
    nexus.add_template("Anomaly Register", key=12, running=0.2)
    dag = make_dag(f"nexus_save_{deferrable}")
    with dag:
        NexusICRunReportOperator(task_id="report", template_id=12, output_type="xlsx",
                                 output_path=f"{tmp_path}/{{{{ ds }}}}/", deferrable=deferrable, **FAST)
    states = run_dag(dag)
    assert states == {"report": "success"}
    result = task_xcom(dag, states, "report")
    (job,) = nexus.jobs.values()
    expected, ctype, _ = nexus.content_of(job)
    saved = Path(result["details"]["content"]["path"])
    assert saved.name == "Anomaly Register.xlsx" and saved.parent.parent == tmp_path
    assert saved.read_bytes() == expected and result["details"]["content"]["content_type"] == ctype
    assert task_xcom(dag, states, "report", "content") is None


@pytest.mark.parametrize("deferrable", MODES)
def test_hash_expiring_mid_wait_means_one_new_login(sandbox, nexus, deferrable):
    nexus.add_template("R", key=12, running=0.6)
    sandbox.fault("nexus_ic", "/jobStatus", PASS, PASS, "expire")
    dag = make_dag(f"nexus_expire_{deferrable}")
    with dag:
        NexusICRunReportOperator(task_id="report", template_id=12, deferrable=deferrable, **FAST)
    assert run_dag(dag) == {"report": "success"}
    assert nexus.logins == 2 and nexus.starts() == 1
    assert [s.status for s in sandbox.requests("nexus_ic", path="/jobStatus")].count(401) == 1


@pytest.mark.parametrize("deferrable", MODES)
def test_paused_then_resumed_keeps_waiting(nexus, deferrable, output):
    nexus.add_template("R", key=12, steps=[("1", 0.05), ("3", 0.2), ("6", 0.5), ("3", 0.2)])
    dag = make_dag(f"nexus_pause_{deferrable}")
    with dag:
        NexusICRunReportOperator(task_id="report", template_id=12, deferrable=deferrable,
                                 max_paused_seconds=5, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"report": "success"}
    text = logged(logs, output)
    assert "is RUNNING (Paused)" in text and "Paused after" in text
    assert task_xcom(dag, states, "report")["state"] == "SUCCESS"


@pytest.mark.parametrize("deferrable", MODES)
def test_paused_longer_than_allowed_fails_saying_so(nexus, deferrable, output):
    nexus.add_template("R", key=12, steps=[("1", 0.05), ("3", 0.1), ("6", 30)])
    dag = make_dag(f"nexus_pause_long_{deferrable}")
    with dag:
        NexusICRunReportOperator(task_id="report", template_id=12, deferrable=deferrable,
                                 max_paused_seconds=0.3, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"report": "failed"}
    assert "longer than max_paused_seconds (0.3s)" in logged(logs, output)


@pytest.mark.parametrize("deferrable", MODES)
def test_failed_report_fails_with_the_servers_summary(nexus, deferrable, output):
    nexus.add_template("R", key=12, running=0.2, final="5",
                       failure="Report generation failed: asset A-9 is gone")
    dag = make_dag(f"nexus_failed_{deferrable}")
    with dag:
        NexusICRunReportOperator(task_id="report", template_id=12, deferrable=deferrable, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"report": "failed"}
    text = logged(logs, output)
    line = next(m for m in text.splitlines() if "Wait ended failed" in m)
    assert "is FAILED" in line and "asset A-9 is gone" in line
    assert nexus.state.requests("nexus_ic", path_regex="/jobContent") == []


@pytest.mark.parametrize("deferrable", MODES)
def test_deadline_says_there_is_no_cancel_and_the_job_goes_on(nexus, deferrable, output):
    nexus.add_template("Slow", key=12, running=30)
    dag = make_dag(f"nexus_deadline_{deferrable}")
    with dag:
        NexusICRunReportOperator(task_id="slow", template_id=12, deferrable=deferrable, timeout=0.5, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"slow": "failed"}
    (job,) = nexus.jobs.values()
    text = logged(logs, output)
    assert f"Deadline reached while waiting for nexus_ic job '12' run {job.run_id}" in text
    assert "Wood NEXUS IC has no cancel call" in text
    assert not job.finished


def test_on_kill_logs_that_the_job_goes_on(nexus, output):
    nexus.add_template("Slow", key=12, running=30)
    op = NexusICRunReportOperator(task_id="x", template_id=12, **FAST)
    run = NexusICHook().start_run("12")
    op._runs = [run]  # as execute() leaves it after the start
    trigger = op.make_trigger([run], None)
    with captured_logs() as logs:
        op.on_kill()
        asyncio.run(trigger.on_kill())
    text = logged(logs, output)
    lines = [m for m in text.splitlines() if "Wood NEXUS IC has no cancel call" in m and run.run_id in m]
    assert len(lines) == 2 and all("goes on remotely" in m for m in lines)
    assert not nexus.jobs[run.run_id].finished


@pytest.mark.parametrize("deferrable", MODES)
def test_sensor_waits_for_an_import_started_elsewhere(nexus, deferrable):
    good = nexus.add_job(kind="import", running=0.3)
    bad = nexus.add_job(kind="import", running=0.1, final="5")
    dag = make_dag(f"nexus_sensor_{deferrable}")
    with dag:
        NexusICJobSensor(task_id="good", job_id=good.run_id, deferrable=deferrable, **FAST)
        NexusICJobSensor(task_id="bad", job_id=bad.run_id, deferrable=deferrable, **FAST)
    states = run_dag(dag)
    assert states == {"good": "success", "bad": "failed"}
    result = task_xcom(dag, states, "good")
    assert (result["run_id"], result["state"], result["details"]["summary"]) == (good.run_id, "SUCCESS",
                                                                                "100 rows imported")


@pytest.mark.parametrize("deferrable", MODES)
def test_sensor_on_an_unknown_job_fails_clearly(nexus, deferrable, output):
    dag = make_dag(f"nexus_sensor_unknown_{deferrable}")
    with dag:
        NexusICJobSensor(task_id="ghost", job_id="{DEADBEEF-0000-0000-0000-000000000000}",
                         deferrable=deferrable, not_found_grace=0.3, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"ghost": "failed"}
    assert "job '{DEADBEEF-0000-0000-0000-000000000000}' was not found" in logged(logs, output)


@pytest.mark.parametrize("deferrable", MODES)
def test_sensor_fails_when_paused_too_long(nexus, deferrable, output):
    job = nexus.add_job(steps=[("1", 0.05), ("6", 30)])
    dag = make_dag(f"nexus_sensor_paused_{deferrable}")
    with dag:
        NexusICJobSensor(task_id="paused", job_id=job.run_id, deferrable=deferrable, max_paused_seconds=0.3,
                         **FAST)
    with captured_logs() as logs:
        assert run_dag(dag) == {"paused": "failed"}
    assert "longer than max_paused_seconds (0.3s)" in logged(logs, output)


def test_content_fetched_by_a_later_task(nexus, tmp_path):
    nexus.add_template("Anomaly Register", key=12, running=0.2, file_name="register.rtf")
    pending = nexus.add_template("Slow", key=13, running=30)
    slow_run = NexusICHook().start_run(str(pending.key))
    dag = make_dag("nexus_content_later")
    with dag:
        report = NexusICRunReportOperator(task_id="report", template_id=12, output_type="rtf",
                                          fetch_content=False, deferrable=True, **FAST)
        save = NexusICJobContentOperator(task_id="save", job_id=RUN_ID, output_path=f"{tmp_path}/")
        inline = NexusICJobContentOperator(task_id="inline", job_id=RUN_ID)
        NexusICJobContentOperator(task_id="early", job_id=slow_run.run_id)
        report >> [save, inline]
    states = run_dag(dag)
    assert states == {"report": "success", "save": "success", "inline": "success", "early": "failed"}
    assert "content" not in task_xcom(dag, states, "report")["details"]
    saved = task_xcom(dag, states, "save")
    assert saved["path"] == str(tmp_path / "register.rtf") and saved["content_type"] == "application/rtf"
    assert (tmp_path / "register.rtf").read_text().startswith("{\\rtf1")
    assert task_xcom(dag, states, "inline", "content").startswith("{\\rtf1")
    assert len(nexus.state.requests("nexus_ic", path_regex="/jobContent")) == 2  # "early" never asked


def test_shared_variables_become_report_parameters(nexus):
    nexus.add_template("R", key=12, running=0.1)
    dag = make_dag("nexus_shared_variables")
    with dag:
        op = NexusICRunReportOperator(task_id="report", template_id=12, parameters={"Component_ID": 12},
                                      **FAST)
    assert op.apply_shared_variables({"region": "EU", "Component_ID": 1}) is True
    assert run_dag(dag) == {"report": "success"}
    (job,) = nexus.jobs.values()
    assert job.parameters == {"region": "EU", "Component_ID": 12}
    assert nexus.report_bodies[-1]["parameters"] == [{"parameterName": "region", "value": "EU"},
                                                     {"parameterName": "Component_ID", "value": 12}]


def test_parameters_given_as_the_documented_list(nexus, tmp_path):
    nexus.add_template("R", key=12, running=0.1)
    dag = make_dag("nexus_parameter_list")
    with dag:
        op = NexusICRunReportOperator(
            task_id="report", template_id=12, output_type="pdf", output_path=f"{tmp_path}/",
            parameters=[{"parameterName": "Component_ID", "value": "{{ 6 * 2 }}"}], **FAST)
    op.apply_shared_variables({"Component_ID": 1, "region": "EU"})
    assert run_dag(dag) == {"report": "success"}
    assert nexus.report_bodies[-1] == {"reportTemplate": 12, "outputType": "pdf", "parameters": [
        {"parameterName": "region", "value": "EU"}, {"parameterName": "Component_ID", "value": "12"}]}
    assert (tmp_path / "R.pdf").read_bytes().startswith(b"%PDF")


def test_retry_reattaches_instead_of_starting_again(sandbox, nexus, output):
    nexus.add_template("R", key=12, running=0.8)
    # the first status read (not the job listing taken before the start) fails the try; the retry reattaches
    sandbox.fault("nexus_ic", "/jobStatus/", {"kind": "status", "status": 403, "body": "proxy hiccup"})
    dag = make_dag("nexus_reattach")
    with dag:
        NexusICRunReportOperator(task_id="report", template_id=12, deferrable=False, retries=1, retry_delay=0,
                                 **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"report": "success"}
    assert nexus.starts() == 1
    assert "Reattaching to the run this task recorded" in logged(logs, output)


@pytest.mark.parametrize("auth_type", ["basic", "apikey"])
def test_no_hash_password_or_key_in_logs_xcom_or_trigger(nexus, connect, auth_type, tmp_path, output):
    if auth_type == "apikey":
        connect(login="", password=API_KEY, extra={"auth_type": "apikey"})
    nexus.add_template("R", key=12, running=0.3)
    import_job = nexus.add_job(running=0.2)
    dag = make_dag(f"nexus_secrets_{auth_type}")
    with dag:
        report = NexusICRunReportOperator(task_id="report", template_id=12, deferrable=True, **FAST)
        sense = NexusICJobSensor(task_id="sense", job_id=import_job.run_id, deferrable=False, **FAST)
        save = NexusICJobContentOperator(task_id="save", job_id=RUN_ID, output_path=f"{tmp_path}/")
        report >> sense >> save
    with captured_logs() as logs:
        states = run_dag(dag)
    assert states == {"report": "success", "sense": "success", "save": "success"}
    assert len(nexus.issued_hashes) == 1
    xcoms = [task_xcom(dag, states, t) for t in states] + [task_xcom(dag, states, "report", "content")]
    _, kwargs = report.make_trigger([], None).serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    text = logged(logs, output)
    for secret in secrets_of(nexus):
        assert_no_secret(secret, text, xcoms, kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({}, "template_id"), ({"template_id": 1, "template_name": "x"}, "template_id"),
     ({"template_id": "abc"}, "template_id"), ({"template_id": 1.5}, "template_id"),
     ({"template_name": ""}, "template_name"), ({"template_id": 1, "output_type": "docx"}, "output_type"),
     ({"template_id": 1, "parameters": ["a"]}, "parameters"),
     ({"template_id": 1, "parameters": [{"parameterName": "A"}]}, r"parameters\[0\]\.value"),
     ({"template_id": 1, "output_type": "pdf"}, "output_path"),
     ({"template_id": 1, "output_type": "xlsx"}, "output_path"),
     ({"template_id": 1, "output_path": ""}, "output_path"),
     ({"template_id": 1, "if_running": "fail"}, "if_running"),
     ({"template_id": 1, "max_paused_seconds": -1}, "max_paused_seconds"),
     ({"template_id": 1, "fetch_content": "yes"}, "fetch_content"),
     ({"template_id": 1, "poll_interval": 0}, "poll_interval"),
     ({"template_id": 1, "conn_id": ""}, "conn_id")],
)
def test_report_bad_input_fails_at_construction(kwargs, field):
    with pytest.raises(ConfigurationError, match=f"^{field}"):
        NexusICRunReportOperator(task_id="bad", **kwargs)


def test_sensor_and_content_operator_bad_input():
    for bad in ("", None, " "):
        with pytest.raises(ConfigurationError, match="^job_id"):
            NexusICJobSensor(task_id="s", job_id=bad)
        with pytest.raises(ConfigurationError, match="^job_id"):
            NexusICJobContentOperator(task_id="c", job_id=bad)
    with pytest.raises(ConfigurationError, match="^output_path"):
        NexusICJobContentOperator(task_id="c", job_id="{x}", output_path="")
    with pytest.raises(ConfigurationError, match="^max_paused_seconds"):
        NexusICJobSensor(task_id="s", job_id="{x}", max_paused_seconds="1h")


def test_bad_rendered_input_fails_before_any_request(nexus):
    dag = make_dag("nexus_bad_rendered")
    with dag:
        NexusICRunReportOperator(task_id="report", template_id="{{ 'twelve' }}", **FAST)
        NexusICJobSensor(task_id="sense", job_id="{{ ti.xcom_pull('nowhere') }}", **FAST)
    assert run_dag(dag) == {"report": "failed", "sense": "failed"}
    assert nexus.state.requests("nexus_ic") == []


def test_example_dag_runs_against_the_demo_jobs(nexus, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_NEXUS_IC_REPORT_DIR", str(tmp_path))
    load_demo_jobs(nexus)
    path = Path(__file__).resolve().parents[2] / "example_dags" / "nexus_ic.py"
    spec = importlib.util.spec_from_file_location("nexus_ic_example_dag", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    states = run_dag(module.dag)
    assert states == {"inspection_summary": "success", "anomaly_register": "success",
                      "wait_for_register": "success", "save_register": "success"}
    assert os.listdir(tmp_path) == ["Anomaly Register.xlsx"]
    assert task_xcom(module.dag, states, "inspection_summary", "content")["elements"]
