"""Contract tests (Spectrum): the reference page's examples, the hook's requests (as the sandbox received them)
and the sandbox's answers, against JSON Schemas written from the stored reference page "REST API Job Commands"
(see each schema's "$comment")."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from airflow_provider_jobs.hooks.spectrum import SpectrumHook
from airflow_provider_jobs.sandbox.spectrum import PASSWORD, USER
from tests.support import use_connection, wait_until

HERE = Path(__file__).parent
SCHEMAS = {json.loads(p.read_text())["$id"]: json.loads(p.read_text()) for p in sorted(HERE.glob("*.json"))}
REGISTRY = Registry().with_resources((uri, Resource.from_contents(schema)) for uri, schema in SCHEMAS.items())
FORMATS = FormatChecker()
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@FORMATS.checks("uuid")
def _uuid(value: object) -> bool:
    return not isinstance(value, str) or UUID.match(value) is not None


def check(name: str, instance: Any) -> None:
    validator = Draft202012Validator(SCHEMAS[f"urn:apj:spectrum:{name}"], registry=REGISTRY, format_checker=FORMATS)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{name}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
    ) + f"\n{json.dumps(instance)[:1500]}"


#: The reference page's own example responses ("REST API Job Commands"), verbatim.
REFERENCE_EXAMPLES = [
    ("status_answer", {"status": "success", "job-status": "_NONE"}),
    ("status_answer", {"status": "success", "file-id": 48, "job-execution-id": 3, "job-status": "RUNNING",
                       "start-time": "Sep 28, 2018 6:44:56 PM", "estimate-time": "11s", "job-progress": "0"}),
    ("status_answer", {"status": "success", "file-id": 48, "job-execution-id": 3, "job-status": "COMPLETED",
                       "start-time": "Sep 28, 2018 6:44:56 PM", "stop-time": "Sep 28, 2018 6:44:58 PM"}),
    ("status_answer", {"status": "success", "file-id": 46, "job-execution-id": 4,
                       "job-status": "COMPLETED_WITH_WARNINGS", "start-time": "Sep 28, 2018 10:09:47 AM",
                       "stop-time": "Sep 28, 2018 10:09:52 AM"}),
    ("status_answer", {"status": "success", "file-id": 48, "job-execution-id": 4, "job-status": "QUEUED",
                       "start-time": None}),
    ("status_answer", {"status": "success", "file-id": 48, "job-execution-id": 4, "job-status": "CANCELED",
                       "start-time": None, "stop-time": "Sep 28, 2018 6:58:41 PM"}),
    ("trigger_answer", {"status": "success", "job-execution-id": 3, "job-execution-user": "analyst",
                        "job-execution-trigger": "RESTAPI"}),
    ("trigger_answer", {"status": "success", "job-execution-id": 11, "job-execution-user": "admin",
                        "job-execution-trigger": "RESTAPI"}),
    ("failure", {"status": "failure", "reason": "File doesn\u2019t exist or isn\u2019t accessible with current "
                                                "permissions"}),
    ("job_history_answer", [{"id": 30, "jobStatus": "COMPLETED"}, {"id": 27, "jobStatus": "COMPLETED"},
                            {"id": 23, "jobStatus": "COMPLETED"}]),
    ("job_details_answer", {"startTime": "Jul 18, 2018 1:46:38 PM", "stopTime": "Jul 18, 2018 1:47:03 PM",
                            "jobStatus": "COMPLETED", "jobConfigurationId": 4,
                            "file": {"id": 6, "uuid": "f8d450cd-f065-4abb-a232-27cd20c48c2b"},
                            "successCount": 7, "failureCount": 0,
                            "counters": {"IMPORT_RECORDS": 7, "IMPORT_PREVIEW_RECORDS": 7, "IMPORT_OUTPUT_BYTES": 4167,
                                         "IMPORT_DROPPED_SPLITS": 0, "IMPORT_DROPPED_RECORDS": 0}}),
    ("list_running_answer", [{"jobStatus": "RUNNING", "fileName": "Workbook1", "jobName": "Workbook job",
                              "fileId": 5, "uuid": "73b2800b-ed90-47ef-abdc-ce516a980173",
                              "creationDate": 1580808994422, "jobExecutionId": 3, "dapJobConfigurationId": 4,
                              "estimatedTime": 0, "startTime": 1582878238075}]),
    ("sequential_trigger_request", {"variables": {"foo": "fooValue"}, "fileIds": [4]}),
    ("sequential_trigger_answer", {"status": "success", "execution-plan": [
        {"job-configuration-name": "apache_log", "job-configuration-id": 3, "trigger": True, "job-execution-id": 16},
        {"job-configuration-name": "categorization", "job-configuration-id": 4, "trigger": True,
         "job-execution-id": 17}]}),
    ("failure", {"status": "failure", "reason": "Entity of type 'Data' with id '272' not found."}),
    ("delete_data_answer", {"status": False}),
    ("delete_data_answer", {"status": True}),
]


def test_schemas_are_valid_and_cite_the_reference():
    for uri, schema in SCHEMAS.items():
        Draft202012Validator.check_schema(schema)
        assert "REST API Job Commands" in schema["$comment"], uri


@pytest.mark.parametrize(("name", "example"), REFERENCE_EXAMPLES)
def test_the_reference_examples_fit_the_schemas(name, example):
    check(name, example)


def test_the_schemas_refuse_what_the_reference_does_not_show():
    for name, bad in [
        ("trigger_answer", {"status": "success", "job-execution-id": "11"}),
        ("status_answer", {"status": "success", "job-status": "RUNNING"}),
        ("status_answer", {"status": "success", "file-id": 1, "job-execution-id": 2, "job-status": "RUNNING",
                           "start-time": "2018-09-28T18:44:56"}),
        ("sequential_trigger_request", {"variables": {"n": 1}, "fileIds": ["4"]}),
        ("sequential_trigger_answer", {"status": "success", "execution-plan": [
            {"job-configuration-name": "a", "job-configuration-id": 3, "trigger": True}]}),
    ]:
        with pytest.raises(AssertionError):
            check(name, bad)


# -- the hook's requests ---------------------------------------------------------------------------------------
def test_hook_requests_match(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    site = sandbox.spectrum
    b = site.add_file("/Seq/B", running=0.05)
    a = site.add_file("/Seq/A", running=0.05, downstream=[b.file_id])
    hook = SpectrumHook()
    plan = hook.sequential_trigger([a.file_id, str(b.file_id)], {"env": "prod", "n": 3, "on": True})
    check("sequential_trigger_answer", {**plan, "execution-plan": [
        {k: (int(v) if k in ("job-configuration-id", "job-execution-id") else v) for k, v in e.items()}
        for e in plan["execution-plan"]]})
    (received,) = site.received
    check("sequential_trigger_request", received["json"])
    assert received["json"] == {"variables": {"env": "prod", "n": "3", "on": "True"},
                                "fileIds": [a.file_id, b.file_id]}
    marker = hook.start_marker("/Seq/A")
    run = hook.start_run("/Seq/A")
    hook.find_started_run("/Seq/A", marker)
    hook.get_run(run)
    hook.list_running()
    hook.cancel_run(run)
    # every other call is a bodiless GET or POST on a documented path
    documented = re.compile(r"^/api/job-execution/(list-running|sequential-trigger|[^/].*/(trigger|status|stop))$"
                            r"|^/rest/job-execution/job-details/\d+$|^/rest/job-configuration/job-history/\d+$")
    served = sandbox.requests("spectrum")
    assert served and all(documented.match(s.path) for s in served), [s.path for s in served]
    history = [s for s in served if "job-history" in s.path]
    assert all(re.fullmatch(r"start=\d+&length=\d+", s.query) for s in history)


# -- the sandbox's answers -------------------------------------------------------------------------------------
def test_sandbox_answers_match(sandbox):
    site = sandbox.spectrum
    root = f"{sandbox.url}/spectrum"
    auth = (USER, PASSWORD)
    quick = site.add_file("/Sales/Daily Report", running=0.05)
    slow = site.add_file("/Slow", queued=0.0, running=30)
    queued = site.add_file("/Queued", queued=30)
    never = site.add_file("/Never")
    b = site.add_file("/Seq/B", running=0.05)
    a = site.add_file("/Seq/A", running=0.05, downstream=[b.file_id])

    def get(path: str, **kw: Any) -> requests.Response:
        return requests.get(f"{root}{path}", auth=auth, timeout=10, **kw)

    def post(path: str, **kw: Any) -> requests.Response:
        return requests.post(f"{root}{path}", auth=auth, timeout=10, **kw)

    check("status_answer", get(f"/api/job-execution/{never.file_id}/status").json())
    for f in (quick, slow, queued):
        answer = post(f"/api/job-execution/{f.uuid}/trigger")
        assert answer.status_code == 200
        check("trigger_answer", answer.json())
    wait_until(lambda: all(r.finished for r in site.runs_of(quick)), "the quick run ended")
    for path in ("/Sales/Daily+Report", str(slow.file_id), str(queued.file_id)):
        check("status_answer", get(f"/api/job-execution/{path}/status").json())
    running = get("/api/job-execution/list-running").json()
    assert {r["fileId"] for r in running} == {slow.file_id, queued.file_id}
    check("list_running_answer", running)
    for run in site.runs.values():
        check("job_details_answer", get(f"/rest/job-execution/job-details/{run.run_id}").json())
    check("job_history_answer", get(f"/rest/job-configuration/job-history/{quick.configuration_id}",
                                    params={"start": 0, "length": 10}).json())
    stopped = post(f"/api/job-execution/{slow.file_id}/stop")
    assert stopped.status_code == 200 and stopped.content == b""
    check("status_answer", get(f"/api/job-execution/{slow.file_id}/status").json())  # canceled
    plan = post("/api/job-execution/sequential-trigger", json={"variables": {"foo": "fooValue"},
                                                                 "fileIds": [a.file_id]})
    check("sequential_trigger_answer", plan.json())
    check("delete_data_answer", requests.delete(f"{root}/rest/data/{quick.data_id}", auth=auth, timeout=10).json())
    check("delete_data_answer", requests.delete(f"{root}/rest/data/{quick.data_id}", auth=auth, timeout=10).json())
    for answer in (requests.delete(f"{root}/rest/data/1", auth=auth, timeout=10),
                   post("/api/job-execution/404404/trigger"), get("/api/job-execution/No+Such/status"),
                   get("/rest/job-execution/job-details/999999"),
                   requests.get(f"{root}/api/job-execution/list-running", auth=(USER, "wrong"), timeout=10)):
        check("failure", answer.json())
