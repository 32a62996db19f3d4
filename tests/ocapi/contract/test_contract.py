"""Contract tests (B2C Commerce): the hook's requests, as the sandbox received them, and the sandbox's answers,
against JSON Schemas transcribed from Salesforce's published OpenAPI specs (see each schema's "$comment")."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.hooks.ocapi import OcapiHook, OcapiJobNotFoundError
from airflow_provider_jobs.sandbox.ocapi import (
    BM_GRANT,
    BM_PASSWORD,
    BM_USER,
    CLIENT_ID,
    CLIENT_SECRET,
    JOBS_SCOPE,
    ORGANIZATION_ID,
    TENANT_SCOPE,
)
from tests.support import use_connection, wait_until

HERE = Path(__file__).parent
SCHEMAS = {json.loads(p.read_text())["$id"]: json.loads(p.read_text()) for p in sorted(HERE.glob("*.json"))}
REGISTRY = Registry().with_resources((uri, Resource.from_contents(schema)) for uri, schema in SCHEMAS.items())
#: RFC 3339 date-time (what OpenAPI's format: date-time means), checked here without an extra package
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
FORMATS = FormatChecker()


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or RFC3339.match(value) is not None


def check(schema_id: str, instance: Any) -> None:
    """Validate `instance` against one of the schemas; fail listing every violation."""
    validator = Draft202012Validator(
        SCHEMAS[schema_id], registry=REGISTRY, format_checker=FORMATS
    )
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{schema_id}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
    ) + f"\n{json.dumps(instance)[:1500]}"


def test_date_times_are_checked():
    with pytest.raises(AssertionError, match="start_time"):
        check("urn:apj:ocapi:job_execution",
              {"id": "1", "job_id": "J", "execution_status": "running", "status": "RUNNING", "start_time": "today"})


def test_schemas_are_valid_and_cite_their_source():
    assert len(SCHEMAS) >= 12
    for uri, schema in SCHEMAS.items():
        Draft202012Validator.check_schema(schema)
        assert "specs/" in schema["$comment"] or "RFC 6749" in schema["$comment"] or "oauth" in schema["$comment"], uri


# -- the hook's requests ---------------------------------------------------------------------------------------
def _exercise(sandbox) -> OcapiHook:
    """Every call the hook makes, once (with and without parameters; searches of each shape)."""
    site = sandbox.ocapi
    site.add_job("Import", pending=0.0, running=0.05, steps=["A", "B"])
    site.add_job("Nightly", pending=0.0, running=0.05)
    hook = OcapiHook()
    marker = hook.start_marker("Import")
    run = hook.start_run("Import", {"File": "a.xml", "SiteScope": {"all_storefront_sites": True}, "Limit": 3})
    assert hook.find_started_run("Import", marker).run_id == run.run_id
    hook.start_run("Nightly")
    hook.find_active_run("Nightly")
    hook.search_executions(None, ["RUNNING", "PENDING"], 25)
    hook.search_executions("Import", None, 5, "asc")
    hook.list_active_runs()
    wait_until(lambda: site.executions[run.run_id].finished, "the Import execution ended")
    assert hook.get_run(run).is_terminal
    assert hook.delete_execution("Import", run.run_id)
    return hook


def _validate_received(site, api: str) -> dict[str, int]:
    seen: dict[str, int] = {}
    for item in site.received:
        if item["api"] == "am_token":
            kind = "token"
            check("urn:apj:token:client_credentials_request", item["form"])
        elif item["api"] == "bm_token":
            kind = "bm_token"
            check("urn:apj:token:bm_grant_request", {"form": item["form"], "query": item["query"]})
        elif item["path"].endswith("/executions"):
            kind = "execute" if item["json"] is not None else "execute without body"
            if item["json"] is not None:
                check(f"urn:apj:{api}:execute_request", item["json"])
        else:
            kind = "search"
            check(f"urn:apj:{api}:search_request", item["json"])
        assert item["api"] in (api, "am_token", "bm_token"), item
        seen[kind] = seen.get(kind, 0) + 1
    return seen


def test_ocapi_requests_match_the_data_api_spec(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi")
    _exercise(sandbox)
    seen = _validate_received(sandbox.ocapi, "ocapi")
    assert seen["token"] == 1 and seen["execute"] == 1 and seen["execute without body"] == 1
    assert seen["search"] >= 6


def test_scapi_requests_match_the_jobs_api_spec(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi", extra={"backend": "scapi"})
    _exercise(sandbox)
    seen = _validate_received(sandbox.ocapi, "scapi")
    assert seen["token"] == 1 and seen["execute"] == 1 and seen["execute without body"] == 1
    assert seen["search"] >= 6
    (grant,) = [r for r in sandbox.ocapi.received if r["api"] == "am_token"]
    assert set(grant["form"]["scope"].split()) == {JOBS_SCOPE, TENANT_SCOPE}  # operations-jobs-v1.yaml AmOAuth2


def test_business_manager_grant_matches(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi", extra={"bm_user": BM_USER, "bm_password": BM_PASSWORD})
    sandbox.ocapi.add_job("Quick", running=0.05)
    OcapiHook().start_run("Quick")
    seen = _validate_received(sandbox.ocapi, "ocapi")
    assert seen == {"bm_token": 1, "execute without body": 1}


@pytest.mark.parametrize(
    ("parameters", "field"),
    [({"File": ""}, "parameters['File']"), ({"File": "   "}, "parameters['File']"),
     ({"File": "x" * 1001}, "parameters['File']"), ({"N" * 257: "x"}, "parameters")],
)
def test_parameters_the_spec_refuses_are_refused_before_any_request(sandbox, monkeypatch, parameters, field):
    use_connection(monkeypatch, sandbox, "ocapi")
    with pytest.raises(ConfigurationError) as err:
        OcapiHook().start_run("Import", parameters)
    assert str(err.value).startswith(field)
    assert sandbox.requests("ocapi") == []


def test_fault_arguments_in_the_spec_s_object_form_are_read(sandbox, monkeypatch):
    # data-api.json types fault arguments as {"type", "value"} objects; the reference pages show strings
    use_connection(monkeypatch, sandbox, "ocapi")
    body = {"_v": "23.2", "fault": {"type": "JobNotFoundException", "message": "No job with ID 'Gone' was found.",
                                    "arguments": {"jobId": {"type": "string", "value": "Gone"}}}}
    check("urn:apj:ocapi:fault", body)
    sandbox.fault("ocapi", r"/jobs/[^/]+/executions$", {"kind": "status", "status": 404, "body": json.dumps(body)})
    with pytest.raises(OcapiJobNotFoundError) as err:
        OcapiHook().start_run("Other")
    assert "job 'Gone' was not found" in str(err.value) and "{'type'" not in str(err.value)


# -- the sandbox's answers -------------------------------------------------------------------------------------
class Client:
    """Plain HTTP to the sandbox's B2C Commerce site, as a test sees it (no provider code in between)."""

    def __init__(self, sandbox, api: str) -> None:
        root = f"{sandbox.url}/ocapi"
        self.root = root
        self.api = api
        self.base = f"{root}/s/-/dw/data/v23_2" if api == "ocapi" else \
            f"{root}/scapi/operation/jobs/v1/organizations/{ORGANIZATION_ID}"
        form = {"grant_type": "client_credentials"}
        if api == "scapi":
            form["scope"] = f"{TENANT_SCOPE} {JOBS_SCOPE}"
        answer = requests.post(f"{root}/dwsso/oauth2/access_token", data=form, auth=(CLIENT_ID, CLIENT_SECRET),
                               timeout=10)
        assert answer.status_code == 200
        check("urn:apj:token:response", answer.json())
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def call(self, method: str, path: str, body: Any = None, headers: dict | None = None) -> requests.Response:
        return requests.request(method, f"{self.base}/{path}", json=body, timeout=10,
                                headers=self.headers if headers is None else headers)

    def search_path(self) -> str:
        return "job_execution_search" if self.api == "ocapi" else "job-execution-search"

    def query(self, **term: Any) -> dict[str, Any]:
        if self.api == "ocapi":
            return {"query": {"term_query": term}, "count": 50, "select": "(**)",
                    "sorts": [{"field": "start_time", "sort_order": "desc"}]}
        return {"query": {"termQuery": term}, "limit": 50, "sorts": [{"field": "start_time", "sortOrder": "desc"}]}


def _error_check(client: Client, answer: requests.Response, status: int, kind: str) -> None:
    assert answer.status_code == status, answer.text
    if client.api == "ocapi":
        assert answer.headers["Content-Type"].startswith("application/json")
        check("urn:apj:ocapi:fault", answer.json())
        assert answer.json()["fault"]["type"] == kind
    else:
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        check("urn:apj:scapi:error", answer.json())
        assert answer.json()["type"].endswith("/" + kind)


@pytest.mark.parametrize("api", ["ocapi", "scapi"])
def test_sandbox_answers_match_the_specs(sandbox, api):
    site = sandbox.ocapi
    site.add_job("Import", pending=0.0, running=0.1, steps=["A", "B"])
    site.add_job("Broken", pending=0.0, running=0.05, steps=["A", "B"], exit_code="ERROR", exit_status="error",
                 exit_message="boom")
    site.add_job("Slow", pending=30)
    site.add_job("Invalid", refuse="invalid")
    client = Client(sandbox, api)
    execution = f"urn:apj:{api}:job_execution"

    started = client.call("POST", "jobs/Import/executions", {"parameters": [{"name": "File", "value": "a.xml"}]})
    assert started.status_code == 200
    check(execution, started.json())
    _error_check(client, client.call("POST", "jobs/Import/executions"), 400,
                 "JobAlreadyRunningException" if api == "ocapi" else "job-already-running")
    pending = client.call("POST", "jobs/Slow/executions")
    check(execution, pending.json())
    broken = client.call("POST", "jobs/Broken/executions").json()
    wait_until(lambda: all(site.executions[str(d["id"])].finished for d in (started.json(), broken)),
               "the Import and Broken executions ended")
    for job, document in (("Import", started.json()), ("Broken", broken), ("Slow", pending.json())):
        answer = client.call("GET", f"jobs/{job}/executions/{document['id']}")
        assert answer.status_code == 200
        check(execution, answer.json())
    aborted = site.start("Import")
    site.abort(aborted.run_id)
    check(execution, client.call("GET", f"jobs/Import/executions/{aborted.run_id}").json())

    for body in (client.query(fields=["job_id"], operator="is", values=["Import"]),
                 client.query(fields=["status"], operator="one_of", values=["RUNNING", "PENDING"])):
        check(f"urn:apj:{api}:search_request", body)
        answer = client.call("POST", client.search_path(), body)
        assert answer.status_code == 200
        check(f"urn:apj:{api}:search_result", answer.json())
        assert answer.json()["hits"]

    deleted = client.call("DELETE", f"jobs/Import/executions/{started.json()['id']}")
    assert deleted.status_code == 204 and deleted.content == b""

    not_found = "JobNotFoundException" if api == "ocapi" else "job-not-found"
    _error_check(client, client.call("POST", "jobs/Missing/executions"), 404, not_found)
    _error_check(client, client.call("POST", "jobs/Invalid/executions"), 400,
                 "JobInvalidException" if api == "ocapi" else "job-invalid")
    _error_check(client, client.call("GET", "jobs/Import/executions/999999"), 404,
                 "JobExecutionNotFoundException" if api == "ocapi" else "job-execution-not-found")
    _error_check(client, client.call("DELETE", f"jobs/Slow/executions/{pending.json()['id']}"), 403,
                 "JobExecutionNotFinishedException" if api == "ocapi" else "job-execution-not-finished")
    _error_check(client, client.call("GET", f"jobs/Slow/executions/{pending.json()['id']}", headers={}), 401,
                 "InvalidAccessTokenException" if api == "ocapi" else "unauthorized")
    _error_check(client, client.call("POST", client.search_path(),
                                     client.query(fields=["nope"], operator="is", values=["x"])), 400,
                 "SearchQueryFieldNotSearchableException" if api == "ocapi" else "malformed-search-query")
    if api == "ocapi":
        site.switch_off_ocapi()
        _error_check(client, client.call("GET", f"jobs/Slow/executions/{pending.json()['id']}"), 403,
                     "OcapiDeprecatedException")


def test_sandbox_token_answers_match(sandbox):
    root = f"{sandbox.url}/ocapi"
    grant = {"grant_type": "client_credentials"}
    bad_secret = requests.post(f"{root}/dwsso/oauth2/access_token", data=grant, auth=(CLIENT_ID, "wrong"), timeout=10)
    assert bad_secret.status_code == 401
    check("urn:apj:token:error", bad_secret.json())
    bad_grant = requests.post(f"{root}/dwsso/oauth2/access_token", data={"grant_type": "password"},
                              auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    assert bad_grant.status_code == 400
    check("urn:apj:token:error", bad_grant.json())
    bad_scope = requests.post(f"{root}/dwsso/oauth2/access_token", data={**grant, "scope": "sfcc.orders"},
                              auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    assert bad_scope.status_code == 400 and bad_scope.json()["error"] == "invalid_scope"
    check("urn:apj:token:error", bad_scope.json())
    bm = requests.post(f"{root}/dw/oauth2/access_token", params={"client_id": CLIENT_ID},
                       data={"grant_type": BM_GRANT}, auth=(f"{BM_USER}:{BM_PASSWORD}", CLIENT_SECRET), timeout=10)
    assert bm.status_code == 200
    check("urn:apj:token:response", bm.json())
    bm_bad = requests.post(f"{root}/dw/oauth2/access_token", params={"client_id": CLIENT_ID},
                           data={"grant_type": BM_GRANT}, auth=(f"{BM_USER}:wrong", CLIENT_SECRET), timeout=10)
    assert bm_bad.status_code == 401
    check("urn:apj:token:error", bm_bad.json())


def test_sandbox_answers_what_the_reference_samples_show():
    """The schemas accept the Data API 17.4 reference page's own samples (tests/ocapi/samples.py)."""
    from tests.ocapi import samples

    for name in dir(samples):
        value = getattr(samples, name)
        if not isinstance(value, str) or not value.lstrip().startswith("{"):
            continue
        body = json.loads(value)
        check("urn:apj:ocapi:fault" if "fault" in body else "urn:apj:ocapi:job_execution", body)
