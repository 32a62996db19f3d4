"""Contract tests: the requests the hook sends (as the sandbox received them) and the sandbox's answers, validated
against JSON Schemas written from CData's published v1/v2 docs and examples (and CData's own MCP server)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import jsonschema
import pytest
import requests

from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook
from airflow_provider_jobs.sandbox.cdata_sync import TOKEN
from tests.support import wait_until

HERE = Path(__file__).parent
SCHEMAS = sorted(p.name for p in HERE.glob("*.json"))


def schema(name: str) -> dict:
    return json.loads((HERE / name).read_text())


def check(name: str, instance: object) -> None:
    jsonschema.validate(instance, schema(name), cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("name", SCHEMAS)
def test_schemas_are_valid_and_accept_their_documented_examples(name):
    body = schema(name)
    jsonschema.Draft202012Validator.check_schema(body)
    for example in body.get("examples", []):
        check(name, example)


def _follow_a_run(sync, version):
    """Start, poll and cancel one run through the hook; then the job is idle again."""
    job = sync.add_job("Contract job", [{"query": "REPLICATE [A]", "seconds": 30}])
    hook = CDataSyncHook()
    run = hook.start_run("Contract job", lookup="name")
    hook.get_run(run)
    assert hook.cancel_run(run) is True
    return job, hook.get_run(run)


def test_v1_requests_and_answers_match_the_documented_shapes(sandbox, sync, connect):
    sync.api_version = "v1"
    connect()
    job, run = _follow_a_run(sync, "v1")
    assert run.state.value == "CANCELLED"
    bodies = {path: body for _, path, body in sync.bodies}
    check("v1_execute_job_request.json", bodies["/api.rsc/executeJob"])
    assert bodies["/api.rsc/executeJob"]["WaitForResults"] == "false"  # else v1 answers only at the end
    for path in ("/api.rsc/cancelJob", "/api.rsc/getJobStatus"):
        check("v1_job_request.json", bodies[path])
    reads = sandbox.requests("cdata_sync", "GET", r"^/api\.rsc/history$")
    assert reads
    for read in reads:
        check("v1_history_query.json", dict(parse_qsl(read.query)))

    base, headers = f"{sandbox.url}/cdata_sync/api.rsc", {"x-cdata-authtoken": TOKEN}
    check("v1_jobs_response.json", requests.get(f"{base}/jobs", headers=headers, timeout=10).json())
    check("v1_history_response.json", requests.get(
        f"{base}/history", params={"$filter": "JobName eq 'Contract job'", "$top": "5"}, headers=headers,
        timeout=10).json())
    check("v1_job_status_response.json", requests.post(f"{base}/getJobStatus", json={"JobName": job.name},
                                                       headers=headers, timeout=10).json())
    sync.add_job("Waits", [{"query": "REPLICATE [B]", "seconds": 0.05}])
    started = requests.post(f"{base}/executeJob", json={"JobName": "Waits", "WaitForResults": "false"},
                            headers=headers, timeout=10).json()
    check("v1_execute_job_response.json", started)
    wait_until(lambda: sync.runs[-1].finished, "the run ended")
    waited = requests.post(f"{base}/executeJob", json={"JobName": "Waits", "ExecutionType": "Run"},
                           headers=headers, timeout=10).json()  # the default waits for the results
    check("v1_execute_job_response.json", waited)
    assert waited["value"][0]["Status"] == "SUCCESS" and waited["value"][0]["Query"] == "REPLICATE [B]"
    refused = requests.post(f"{base}/cancelJob", json={"JobName": "Waits"}, headers=headers, timeout=10)
    assert refused.status_code == 400
    check("error.json", refused.json())
    no_v2 = requests.get(f"{base}/v2/workspaces/default/jobs", headers=headers, timeout=10)
    assert no_v2.status_code == 404


def test_v2_requests_and_answers_match_the_documented_shapes(sandbox, sync, connect):
    connect()
    job, run = _follow_a_run(sync, "v2")
    assert run.state.value == "CANCELLED"
    (execute,) = [body for method, path, body in sync.bodies if path.endswith("/execute")]
    check("v2_execute_request.json", execute or {})
    hook = CDataSyncHook()
    hook.start_run(str(job.job_id), tasks=[str(job.tasks[0].task_id)])
    check("v2_execute_request.json", sync.bodies[-1][2])

    base, headers = f"{sandbox.url}/cdata_sync/api.rsc/v2", {"x-cdata-authtoken": TOKEN}
    check("v2_jobs_response.json", requests.get(f"{base}/workspaces/default/jobs", headers=headers,
                                                timeout=10).json())
    check("v2_status_response.json", requests.get(f"{base}/jobs/{job.job_id}/status", headers=headers,
                                                  timeout=10).json())
    check("v2_history_response.json", requests.get(f"{base}/jobs/{job.job_id}/history", headers=headers,
                                                   timeout=10).json())
    check("error.json", requests.get(f"{base}/jobs/1/status", headers=headers, timeout=10).json())
