"""Contract tests: the request and answer shapes NexusICHook relies on, as JSON Schemas written from the
published IC-Web REST docs (docs.nexusic.com 6.8 / 6.9) and the two independent clients (pynexusic,
NexusPythonWrapper). Both sides are checked: the hook's requests as the sandbox received them, and the
sandbox's answers (fetched raw), plus the documented examples themselves."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from airflow_provider_jobs.hooks.nexus_ic import NexusICHook
from airflow_provider_jobs.sandbox.nexus_ic import PASSWORD, USER

HERE = Path(__file__).parent
SCHEMAS = {p.name: json.loads(p.read_text()) for p in HERE.glob("*.json")}
REGISTRY = Registry().with_resources(
    (name, Resource.from_contents(schema)) for name, schema in SCHEMAS.items())

#: The documented examples (docs.nexusic.com 6.9 ic-web.rest.jobs / 6.7 report pages).
DOC_SERVER_JOB = {"id": "{FAAF7FBC-0475-45ED-A148-02238E75C395}", "percentComplete": 35, "summary": "",
                  "status": 3}
DOC_CONTENT_HEADERS = {"content-type": "application/json", "content-disposition": 'attachment;filename="report.json"'}
DOC_REPORT_REQUEST = {"reportTemplate": 3, "outputType": "json",
                      "parameters": [{"parameterName": "Component_ID", "value": 12}]}


def check(schema: str, instance) -> None:
    errors = sorted(Draft202012Validator(SCHEMAS[schema], registry=REGISTRY).iter_errors(instance), key=str)
    assert not errors, f"{schema}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schemas_are_valid_and_accept_the_documented_examples():
    for schema in SCHEMAS.values():
        Draft202012Validator.check_schema(schema)
    check("server_job.json", DOC_SERVER_JOB)
    check("server_jobs.json", {"jobs": [DOC_SERVER_JOB, {**DOC_SERVER_JOB, "startClock": False, "endClock": False,
                                                         "dismissed": False, "canDismiss": False}]})
    check("job_content_headers.json", DOC_CONTENT_HEADERS)
    check("report_request.json", DOC_REPORT_REQUEST)
    # and refuse what the hook used to send: parameters as a dict, an unknown output type
    with pytest.raises(AssertionError, match="parameters"):
        check("report_request.json", {**DOC_REPORT_REQUEST, "parameters": {"Component_ID": 12}})
    with pytest.raises(AssertionError, match="outputType"):
        check("report_request.json", {**DOC_REPORT_REQUEST, "outputType": "docx"})
    with pytest.raises(AssertionError, match="RT_ID"):
        check("report_template_rows.json", {"rows": [{"Report_Template_Id": 3, "Name": "Test Report"}]})


@pytest.mark.parametrize("version", ["6.8", "6.9"])
def test_the_hooks_requests_match_the_contract(sandbox, nexus, connect, tmp_path, version):
    nexus.version = version
    connect(host=f"{sandbox.url}/nexus_ic/data/icweb.dll")
    nexus.add_template("Inspection Summary", key=12, running=0.05)
    hook = NexusICHook()
    marker = hook.start_marker("Inspection Summary", lookup_by_name=True)
    run = hook.start_run("Inspection Summary", lookup_by_name=True, output_type="pdf",
                         parameters={"Component_ID": 12, "Since": "2026-01-01"})
    while not run.is_terminal:
        run = hook.get_run(run)
    if version == "6.9":
        assert hook.find_started_run("Inspection Summary", marker, lookup_by_name=True).run_id == run.run_id
    hook.job_content(run.run_id, f"{tmp_path}/")

    for body in nexus.report_bodies:
        check("report_request.json", body)
    for header in nexus.bo_filters:
        check("x_nexus_filter.json", json.loads(header))
    served = nexus.state.requests("nexus_ic")
    titles = set()
    for s in served:
        record = {"method": s.method, "path": s.path, "query": dict(parse_qsl(s.query))}
        check("requests.json", record)
        titles.add(next(o["title"] for o in SCHEMAS["requests.json"]["oneOf"]
                        if not list(Draft202012Validator(o, registry=REGISTRY).iter_errors(record))))
    # the job listing is asked for before every start on both versions (before 6.9 it answers 404)
    expected = {"login", "license", "template lookup", "report start", "job content",
                "job listing (6.9+; a 404 before)"}
    if version == "6.9":
        expected |= {"job status, path form (6.9+)"}
    else:
        expected |= {"job status, query form (up to 6.8)"}
    assert titles == expected
    logins = [s for s in served if s.path.endswith("/security/login")]
    assert {s.method for s in logins} == {"POST" if version == "6.9" else "GET"}


@pytest.mark.parametrize("version", ["6.8", "6.9"])
def test_the_sandboxs_answers_match_the_contract(sandbox, nexus, version):
    nexus.version = version
    nexus.add_template("Inspection Summary", key=12, running=0.05)
    base = f"{sandbox.url}/nexus_ic/data/icweb.dll"
    auth = {"Authorization": "BASIC " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    login = requests.request("POST" if version == "6.9" else "GET", f"{base}/security/login", headers=auth,
                             timeout=10)
    check("login_response.json", login.json())
    token = {"hash": login.json()["hash"]}
    check("license_response.json", requests.get(f"{base}/license", params=token, timeout=10).json())
    rows = requests.get(f"{base}/bo/Report_Template", params=token, timeout=10, headers={
        "X-NEXUS-Filter": json.dumps({"where": [{"field": "Name", "value": "Inspection Summary"}]})}).json()
    check("report_template_rows.json", rows)
    started = requests.post(f"{base}/report/", params=token, json={
        "reportTemplate": rows["rows"][0]["RT_ID"], "outputType": "json",
        "parameters": [{"parameterName": "Component_ID", "value": 12}]}, timeout=10)
    check("server_job.json", started.json())
    job_id = started.json()["id"]
    if version == "6.9":
        status = requests.get(f"{base}/jobStatus/{job_id}", params=token, timeout=10)
        listing = requests.get(f"{base}/jobStatus", params=token, timeout=10)
        check("server_jobs.json", listing.json())
        assert [j["id"] for j in listing.json()["jobs"]] == [job_id]
    else:
        status = requests.get(f"{base}/jobStatus", params={**token, "id": job_id}, timeout=10)
        assert requests.get(f"{base}/jobStatus", params=token, timeout=10).status_code == 404  # no listing
        assert requests.get(f"{base}/jobStatus/{job_id}", params=token, timeout=10).status_code == 404
    check("server_job.json", status.json())
    while status.json()["status"] not in (4, 5):
        status = requests.get(f"{base}/jobStatus/{job_id}" if version == "6.9" else f"{base}/jobStatus",
                              params=token if version == "6.9" else {**token, "id": job_id}, timeout=10)
    content = requests.get(f"{base}/jobContent", params={**token, "id": job_id}, timeout=10)
    check("job_content_headers.json", {k.lower(): v for k, v in content.headers.items()})
    unknown = requests.get(f"{base}/jobContent", params={**token, "id": "{0}"}, timeout=10)
    assert unknown.status_code == 404 and unknown.text == "Job identified by id was not found."
