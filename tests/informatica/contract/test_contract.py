"""Contract tests: the request and answer shapes of the Informatica resources this provider uses, as JSON
Schemas written from Informatica's documented examples (the .json files beside this module).

Both sides are checked: the hook's requests as the sandbox received them (the site records each JSON body),
and the sandbox's answers (fetched here with plain HTTP), so neither can drift from the documented shapes.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import requests

from airflow_provider_jobs.hooks.informatica import InformaticaCloudHook
from airflow_provider_jobs.sandbox.informatica import PASSWORD, USER
from tests.support import wait_until

HERE = Path(__file__).parent
SCHEMAS = {p.stem: json.loads(p.read_text()) for p in HERE.glob("*.json")}
#: Which schema a request body received at a path must satisfy.
REQUESTS = {
    r"/ma/api/v2/user/login$": "login_v2_request",
    r"/saas/public/core/v3/login$": "login_v3_request",
    r"/saas/api/v2/job$": "job_start_request",
    r"/saas/api/v2/job/stop$": "job_stop_request",
    r"/active-bpel/services/tf/terminate$": "taskflow_terminate_request",
}


def check(schema: str, instance) -> None:
    jsonschema.validate(instance, SCHEMAS[schema], cls=jsonschema.Draft202012Validator)


def test_schemas_are_valid_and_name_their_source():
    for name, schema in SCHEMAS.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema.get("title"), name
    assert set(REQUESTS.values()) < set(SCHEMAS)


def test_the_schemas_reject_what_the_docs_rule_out():
    job = {"@type": "job", "taskId": "0100000Z1", "taskType": "MTT"}
    check("job_start_request", job)
    for bad in ({**job, "parameterFileName": "p.param"},  # a runtime property, not a job field
                {**job, "runtime": {"@type": "mtTaskRuntime", "parameterFile": "x"}},
                {**job, "taskType": "TASKFLOW"}, {"@type": "job", "taskType": "MTT"}):
        with pytest.raises(jsonschema.ValidationError):
            check("job_start_request", bad)
    with pytest.raises(jsonschema.ValidationError):
        check("taskflow_terminate_request", {"runid": 7645954072982472420})  # ids are strings in a list
    with pytest.raises(jsonschema.ValidationError):
        check("taskflow_status_response", {"assetName": "a", "assetType": "TASKFLOW", "runId": 1, "status": "DONE"})


def _hook_traffic(iics, connect) -> None:
    """Every request shape the hook sends, once at least."""
    connect(extra={"api_version": "v2"})
    hook = InformaticaCloudHook()
    task = iics.add_task("Load", task_type="MTT", path="Sales/Load", running=30, allow_concurrent=True)
    run = hook.start_run(task.task_id, task_type="MTT", callback_url="https://example.com/cb",
                         parameter_file_name="load.param", parameter_file_dir="/agent/params")
    hook.start_run("Sales/Load", task_type="MTT", by="path")
    hook.start_run("Load", task_type="MTT", by="name")
    assert hook.cancel_run(run) is True
    hook.stop_task("Load", task_type="MTT", by="name")
    iics.add_taskflow("Flow", running=30)
    flow_run = hook.start_run("Flow", task_type="TASKFLOW_SERVICE", by="name", inputs={"region": "EU"})
    assert hook.cancel_run(flow_run) is True
    connect(extra={"api_version": "v3"})
    InformaticaCloudHook().activity_monitor()


def test_the_hooks_requests_as_the_sandbox_received_them(iics, connect):
    import re

    _hook_traffic(iics, connect)
    seen = set()
    for received in iics.received:
        for pattern, schema in REQUESTS.items():
            if re.search(pattern, received["path"]):
                check(schema, received["body"])
                seen.add(schema)
    assert seen == set(REQUESTS.values())
    starts = [r["body"] for r in iics.received if r["path"].endswith("/api/v2/job")]
    assert starts[0]["runtime"] == {"@type": "mtTaskRuntime", "parameterFileName": "load.param",
                                    "parameterFileDir": "/agent/params"}
    assert {next(k for k in ("taskId", "taskFederatedId", "taskName") if k in s) for s in starts} == {
        "taskId", "taskFederatedId", "taskName"}


def test_the_sandbox_answers(sandbox, iics):
    base = f"{sandbox.url}/informatica"
    v2 = requests.post(f"{base}/ma/api/v2/user/login", timeout=5, headers={"Accept": "application/json"},
                       json={"@type": "login", "username": USER, "password": PASSWORD})
    check("login_v2_response", v2.json())
    v3 = requests.post(f"{base}/saas/public/core/v3/login", timeout=5,
                       json={"username": USER, "password": PASSWORD})
    check("login_v3_response", v3.json())
    server, session = v2.json()["serverUrl"], v2.json()["icSessionId"]
    pod = server.removesuffix("/saas")
    h2 = {"icSessionId": session, "Accept": "application/json"}
    h3 = {"INFA-SESSION-ID": v3.json()["userInfo"]["sessionId"], "Accept": "application/json"}

    done = iics.add_task("Done", running=0.05, queued=0.01)
    stopped = iics.add_task("Stopped", task_type="DSS", running=30, stopping=0.01)
    long = iics.add_task("Long", task_type="DRS", running=30)
    started = requests.post(f"{server}/api/v2/job", timeout=5, headers=h2, json={
        "@type": "job", "taskId": done.task_id, "taskType": "MTT",
        "runtime": {"@type": "mtTaskRuntime", "parameterFileName": "p.param"}})
    check("job_start_response", started.json())
    iics.start_elsewhere(long)
    requests.post(f"{server}/api/v2/job", timeout=5, headers=h2,
                  json={"@type": "job", "taskName": "Stopped", "taskType": "DSS"})
    monitor = requests.get(f"{server}/api/v2/activity/activityMonitor", timeout=5, headers=h2,
                           params={"details": "false"}).json()
    check("activity_monitor_response", monitor)
    assert len(monitor) == 3 and all(e["startTimeUtc"] for e in monitor)
    requests.post(f"{server}/api/v2/job/stop", timeout=5, headers=h2,
                  json={"@type": "job", "taskId": stopped.task_id, "taskType": "DSS"})
    wait_until(lambda: all(r.finished for task in (done, stopped) for r in iics.runs_of(task)),
               "the two runs end (0.06 s and the 0.01 s stop)")
    log = requests.get(f"{server}/api/v2/activity/activityLog", timeout=5, headers=h2,
                       params={"rowLimit": 10}).json()
    check("activity_log_response", log)
    assert sorted((e["objectName"], e["state"], e["isStopped"]) for e in log) == [
        ("Done", 1, False), ("Stopped", 3, True)]

    iics.add_taskflow("Flow", running=30)
    flow = requests.post(f"{pod}/active-bpel/rt/Flow", timeout=5, headers=h3, json={"region": "EU"})
    check("taskflow_start_response", flow.json())
    run_id = str(flow.json().get("RunId") or flow.json().get("runId"))
    status = requests.get(f"{pod}/active-bpel/services/tf/status/{run_id}", timeout=5, headers=h3)
    check("taskflow_status_response", status.json())
    listed = requests.get(f"{pod}/active-bpel/services/tf/status", timeout=5, headers=h3,
                          params={"startTime": "2020-01-01T00:00:00Z", "rowLimit": 50})
    for entry in listed.json():
        check("taskflow_status_response", entry)
    terminated = requests.put(f"{pod}/active-bpel/services/tf/terminate", timeout=5, headers=h3,
                              json={"runid": [run_id]})
    assert terminated.status_code == 200
    check("taskflow_status_response",
          requests.get(f"{pod}/active-bpel/services/tf/status/{run_id}", timeout=5, headers=h3).json())

    # error shapes: v2 (job resource), v3 (lookup, taskflow resources)
    missing = requests.post(f"{server}/api/v2/job", timeout=5, headers=h2,
                            json={"@type": "job", "taskId": "0100000Z9", "taskType": "MTT"})
    assert missing.status_code == 404
    check("error_v2", missing.json())
    misplaced = requests.post(f"{server}/api/v2/job", timeout=5, headers=h2, json={
        "@type": "job", "taskId": done.task_id, "taskType": "MTT", "parameterFileName": "p.param"})
    assert misplaced.status_code == 400
    check("error_v2", misplaced.json())
    unknown = requests.get(f"{pod}/active-bpel/services/tf/status/1", timeout=5, headers=h3)
    assert unknown.status_code == 404
    check("error_v3", unknown.json())
    check("error_v3", requests.post(f"{server}/public/core/v3/lookup", timeout=5, headers=h3,
                                    json={"objects": [{"path": "No/Such", "type": "MTT"}]}).json())
