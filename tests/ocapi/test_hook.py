"""OcapiHook over real HTTP to the sandbox: reference samples, every fault, tokens, SCAPI; sync and async."""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow_provider_jobs.core.errors import (
    AmbiguousStartError,
    AuthenticationError,
    ConfigurationError,
    JobAlreadyRunningError,
    JobProviderError,
    MalformedResponseError,
    NotFoundError,
)
from airflow_provider_jobs.core.http import ApiRequest, ApiResponse
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.hooks.ocapi import (
    OcapiBase,
    OcapiDeprecatedError,
    OcapiExecutionNotFinishedError,
    OcapiExecutionNotFoundError,
    OcapiHook,
    OcapiJobExecutionError,
    OcapiJobInvalidError,
    OcapiJobNotFoundError,
    OcapiJobNotRestartableError,
    OcapiJobRestartError,
    execution_state,
    parameter_list,
    scrub,
)
from airflow_provider_jobs.sandbox.ocapi import BM_PASSWORD, BM_USER, CLIENT_SECRET
from tests.ocapi import samples
from tests.support import age_credentials, assert_no_secret, captured_logs, use_connection, wait_until


def _ended(sandbox, run) -> None:
    wait_until(lambda: sandbox.ocapi.executions[run.run_id].finished, f"execution {run.run_id} ended")

SCAPI = {"backend": "scapi"}
EXECUTIONS = r"/jobs/[^/]+/executions$"


@pytest.fixture
def hook(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi")
    return OcapiHook()


def _sample(body: str, status: int = 200) -> dict:
    return {"kind": "status", "status": status, "body": body}


# --- the reference page's samples ------------------------------------------------------------------
def test_reference_sample_bodies_parse_to_the_right_runs(sandbox, hook):
    sandbox.fault("ocapi", r"/jobs/CustomerImportJob/executions$", _sample(samples.START_RUNNING))
    started = hook.start_run("CustomerImportJob")
    assert (started.run_id, started.job_id, started.state, started.vendor_state) == (
        "40605",
        "CustomerImportJob",
        JobState.RUNNING,
        "running",
    )
    assert started.started_at == "2016-05-20T12:00:33.117000+00:00" and not started.is_terminal  # UTC, with offset
    assert started.details["backend"] == "ocapi" and started.details["log_file"].endswith(".log")

    sandbox.fault("ocapi", r"/executions/90$", _sample(samples.READ_FINISHED), _sample(samples.READ_FINISHED))
    reference = JobRun("ocapi", "CustomerImportJob", "90", JobState.RUNNING, details={"caller_note": 1.0})
    for run in (hook.get_run(reference), asyncio.run(hook.aget_run(reference))):
        assert (run.run_id, run.state, run.vendor_state) == ("90", JobState.SUCCESS, "finished")
        assert (run.started_at, run.ended_at) == ("2016-05-20T11:54:46.035000+00:00",
                                                  "2016-05-20T11:54:46.220000+00:00")
        assert run.details["exit_code"] == "OK" and run.details["duration_ms"] == 185
        assert run.details["caller_note"] == 1.0  # the caller's own details are kept
        steps = run.details["steps"]
        assert [s["step_id"] for s in steps] == [
            "Step1",
            "Step2",
            "Step3 - Step1",
            "Step3 - Step2",
            "Step3 - Step1",
            "Step3 - Step2",
        ]
        assert steps[3] == {
            "step_id": "Step3 - Step2",
            "step_type_id": "ExecuteScriptModule",
            "execution_scope": "SiteGenesis-DE",
            "execution_status": "finished",
            "exit_code": "SUCCESS",
            "exit_status": "ok",
            "exit_message": "Step was successful!",
            "duration_ms": 14,
            "include_steps_from_job_id": "JobExecutionTestJob2",
        }
        assert "JobExecutionTestJob1" in run.details["log_file"]
        assert "CustomerImportJob" in run.url and "90" in run.url


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error", "text"),
    [
        (
            "POST",
            EXECUTIONS,
            samples.START_JOB_NOT_FOUND,
            404,
            OcapiJobNotFoundError,
            "job 'CustomerImportJob' was not found on 127.0.0.1:",
        ),
        (
            "POST",
            EXECUTIONS,
            samples.START_EXECUTION_FAILED_409,
            409,
            OcapiJobExecutionError,
            "job 'CustomerImportJob' could not be executed on",
        ),
        (
            "GET",
            r"/executions/90$",
            samples.READ_NOT_FOUND,
            404,
            OcapiExecutionNotFoundError,
            "execution 90 of job 'CustomerImportJob' was not found on",
        ),
        (
            "DELETE",
            r"/executions/85$",
            samples.DELETE_NOT_FOUND,
            404,
            OcapiExecutionNotFoundError,
            "execution 85 of job 'CustomerImportJob' was not found on",
        ),
    ],
)
def test_reference_fault_samples_give_clear_errors(sandbox, hook, method, path, body, status, error, text):
    sandbox.fault("ocapi", path, _sample(body, status), method=method)
    calls = {
        "POST": lambda: hook.start_run("CustomerImportJob"),
        "GET": lambda: hook.get_run(JobRun("ocapi", "CustomerImportJob", "90", JobState.RUNNING)),
        "DELETE": lambda: hook.delete_execution("CustomerImportJob", "85"),
    }
    with pytest.raises(error) as err:
        calls[method]()
    message = str(err.value)
    assert (
        text in message and f"OCAPI HTTP {status}" in message and json.loads(body)["fault"]["type"] in message
    )
    assert json.loads(body)["fault"]["message"].rstrip(".") in message


# --- states ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("execution_status", "exit_status", "state"),
    [
        ("pending", None, JobState.QUEUED),
        ("PENDING", None, JobState.QUEUED),
        ("running", None, JobState.RUNNING),
        *[
            (w, None, JobState.RUNNING)
            for w in (
                "pausing",
                "paused",
                "resuming",
                "resumed",
                "restarting",
                "restarted",
                "retrying",
                "retried",
                "aborting",
                "unknown",
            )
        ],
        ("finished", {"code": "OK", "status": "ok"}, JobState.SUCCESS),
        ("finished", {"code": "NOTHING_TO_DO", "status": "OK"}, JobState.SUCCESS),
        ("finished", {"code": "ERROR", "status": "error"}, JobState.FAILED),
        ("finished", {"code": "PARTIAL", "status": "error"}, JobState.FAILED),
        ("running", {"code": "ERROR", "status": "error"}, JobState.FAILED),
        ("aborted", {"code": "OK", "status": "ok"}, JobState.FAILED),
        ("aborted", None, JobState.FAILED),
        ("finished", None, JobState.RUNNING),  # no exit status yet: keep waiting
        ("reindexing", None, JobState.RUNNING),
    ],
)
def test_execution_status_vocabulary(execution_status, exit_status, state):
    assert execution_state(execution_status, exit_status) == state


def test_pending_is_not_terminal_and_custom_ok_exit_succeeds(sandbox, hook):
    sandbox.ocapi.add_job("Slow", pending=30)
    run = hook.start_run("Slow")
    again = asyncio.run(hook.aget_run(run))
    assert (run.state, again.state, again.vendor_state, again.is_terminal) == (
        JobState.QUEUED,
        JobState.QUEUED,
        "pending",
        False,
    )
    sandbox.ocapi.add_job("Export", running=0.05, exit_code="NOTHING_TO_EXPORT", exit_message="No changes")
    done = hook.start_run("Export")
    _ended(sandbox, done)
    done = hook.get_run(done)
    assert done.state == JobState.SUCCESS and done.details["exit_code"] == "NOTHING_TO_EXPORT"
    assert done.details["steps"][-1]["exit_code"] == "NOTHING_TO_EXPORT"


def test_finished_with_error_fails_naming_the_step(sandbox, hook):
    sandbox.ocapi.add_job(
        "Broken",
        running=0.05,
        exit_code="ERROR",
        exit_status="error",
        exit_message="Import file missing",
        steps=["Fetch", "Import", "Index"],
        error_step=1,
    )
    run = hook.start_run("Broken")
    _ended(sandbox, run)
    run = hook.get_run(run)
    assert run.state == JobState.FAILED
    assert [s["step_id"] for s in run.details["steps"]] == ["Fetch", "Import"]  # Index never ran
    assert "exit status ERROR: Import file missing" in run.details["message"]
    assert "step 'Import'" in run.details["message"]


def test_aborted_execution_fails(sandbox, hook):
    sandbox.ocapi.add_job("Long", running=30, steps=["A", "B"])
    run = hook.start_run("Long")
    wait_until(lambda: sandbox.ocapi.executions[run.run_id].state()[0] == "running", "the execution is running")
    sandbox.ocapi.abort(run.run_id)
    run = hook.get_run(run)
    assert (run.state, run.vendor_state) == (JobState.FAILED, "aborted")
    assert "the execution was aborted" in run.details["message"]


# --- faults over the sandbox, on both APIs -------------------------------------------------------------
@pytest.mark.parametrize("extra", [{}, SCAPI], ids=["ocapi", "scapi"])
@pytest.mark.parametrize(
    ("refuse", "status", "error", "fault"),
    [
        ("invalid", None, OcapiJobInvalidError, "JobInvalidException"),
        ("restart", None, OcapiJobRestartError, "JobRestartException"),
        ("not_restartable", None, OcapiJobNotRestartableError, "JobNotRestartableException"),
        ("execution", 409, OcapiJobExecutionError, "JobExecutionException"),
        ("execution", 400, OcapiJobExecutionError, "JobExecutionException"),
    ],
)
def test_start_refusals_map_to_clear_errors(sandbox, monkeypatch, extra, refuse, status, error, fault):
    use_connection(monkeypatch, sandbox, "ocapi", extra=extra)
    sandbox.ocapi.add_job("Refused", refuse=refuse, refuse_status=status)
    with pytest.raises(error) as err:
        OcapiHook().start_run("Refused")
    api = "SCAPI" if extra else "OCAPI"
    assert "job 'Refused'" in str(err.value) and f"({api} HTTP {status or 400}, {fault})" in str(err.value)
    assert err.value.code == fault and not isinstance(err.value, NotFoundError)


@pytest.mark.parametrize("extra", [{}, SCAPI], ids=["ocapi", "scapi"])
def test_not_found_running_and_not_finished_faults(sandbox, monkeypatch, extra):
    use_connection(monkeypatch, sandbox, "ocapi", extra=extra)
    hook = OcapiHook()
    with pytest.raises(OcapiJobNotFoundError, match="job 'Nope' was not found on .*Check the job id"):
        hook.start_run("Nope")
    sandbox.ocapi.add_job("Busy", running=30)
    run = hook.start_run("Busy")
    with pytest.raises(JobAlreadyRunningError, match="job 'Busy' is already running.*if_running='wait'"):
        asyncio.run(hook.astart_run("Busy"))
    with pytest.raises(
        OcapiExecutionNotFinishedError, match=f"execution {run.run_id} of job 'Busy' is not finished"
    ):
        hook.delete_execution("Busy", run.run_id)
    with pytest.raises(OcapiExecutionNotFoundError, match="execution 1 of job 'Busy' was not found") as err:
        hook.get_run(JobRun("ocapi", "Busy", "1", JobState.RUNNING))
    assert isinstance(err.value, NotFoundError)  # the core's not-yet-visible grace applies
    assert sandbox.ocapi.starts() == 1


def test_delete_a_finished_execution_record(sandbox, hook):
    sandbox.ocapi.add_job("Quick", running=0.05)
    run = hook.start_run("Quick")
    _ended(sandbox, run)
    assert asyncio.run(hook.adelete_execution("Quick", run.run_id)) is True
    assert run.run_id not in sandbox.ocapi.executions
    with pytest.raises(OcapiExecutionNotFoundError, match=f"execution {run.run_id} of job 'Quick' was not found"):
        hook.get_run(run)


def test_search_by_status_and_find_active_run(sandbox, hook):
    sandbox.ocapi.add_job("Busy", running=30)
    sandbox.ocapi.add_job("Quick", running=0.05)
    quick = hook.start_run("Quick")
    _ended(sandbox, quick)
    busy = sandbox.ocapi.start("Busy")  # started by someone else
    assert hook.find_active_run("Busy").run_id == busy.run_id
    assert asyncio.run(hook.afind_active_run("Quick")) is None
    finished = hook.search_executions("Quick", ["OK"])
    assert [r.run_id for r in finished] == [quick.run_id] and finished[0].state == JobState.SUCCESS
    everything = hook.search_executions(count=5)
    assert {r.run_id for r in everything} == {quick.run_id, busy.run_id}
    (search,) = sandbox.requests("ocapi", "POST", "job_execution_search$")[:1]
    assert search.status == 200
    with pytest.raises(ConfigurationError, match="^statuses"):
        hook.search_executions("Busy", "RUNNING")


def test_job_ids_cannot_escape_their_path_segment(sandbox, hook):
    with pytest.raises(OcapiJobNotFoundError, match="job '../job_execution_search' was not found"):
        hook.start_run("../job_execution_search")
    (served,) = sandbox.requests("ocapi", "POST", "/dw/data/")
    assert served.status == 404 and served.path.endswith("/jobs/../job_execution_search/executions")


# --- parameters --------------------------------------------------------------------------------------
def test_parameters_reach_the_job_as_strings(sandbox, hook):
    sandbox.ocapi.add_job("Import", running=0.05)
    hook.start_run(
        "Import", {"SiteScope": {"all_storefront_sites": True}, "Limit": 5, "Dry": False, "File": "a.xml"}
    )
    (execution,) = sandbox.ocapi.executions.values()
    assert execution.parameters == [
        {"name": "SiteScope", "value": '{"all_storefront_sites":true}'},
        {"name": "Limit", "value": "5"},
        {"name": "Dry", "value": "false"},
        {"name": "File", "value": "a.xml"},
    ]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"A": None}, "parameters['A']"),
        ([{"name": "A"}], "parameters[0]"),
        ("{not json", "parameters"),
        ({"": "x"}, "parameters"),
        (42, "parameters"),
        ([{"name": "A", "value": 1}, {"name": "A", "value": 2}], "parameters"),
        ({"A": object()}, "parameters['A']"),
    ],
)
def test_bad_parameters_are_refused_before_any_request(sandbox, hook, value, field):
    with pytest.raises(ConfigurationError) as err:
        hook.start_run("Import", value)
    assert str(err.value).startswith(field)
    assert sandbox.requests("ocapi") == []


def test_parameter_forms_agree():
    as_dict = parameter_list({"A": 1, "B": "x"})
    assert parameter_list([{"name": "A", "value": 1}, {"name": "B", "value": "x"}]) == as_dict
    assert parameter_list('{"A": 1, "B": "x"}') == as_dict
    assert parameter_list(None) == [] == parameter_list("")


# --- tokens ---------------------------------------------------------------------------------------------
def test_one_token_for_many_calls_sync_and_async(sandbox, hook):
    sandbox.ocapi.add_job("Quick", running=0.05)
    run = hook.start_run("Quick")
    hook.get_run(run)
    asyncio.run(hook.aget_run(run))
    OcapiHook().find_active_run("Quick")
    grants = sandbox.requests("ocapi", "POST", "oauth2/access_token$")
    assert len(grants) == 1 and sandbox.ocapi.grants[0] == {
        **sandbox.ocapi.grants[0],
        "kind": "am",
        "scopes": [],
    }


def test_token_is_renewed_before_it_expires(sandbox, hook):
    # renewed with a quarter of its lifetime left, at most 60 s: the token is aged to 30 s before its expiry
    # (still valid on the server) instead of waited for
    sandbox.ocapi.add_job("Quick", running=60)
    run = hook.start_run("Quick")
    first = sandbox.ocapi.issued[0]
    age_credentials(sandbox.ocapi.token_lifetime - 30, sandbox.ocapi, hook)
    hook.get_run(run)
    asyncio.run(hook.aget_run(run))
    assert len(sandbox.ocapi.grants) == 2 and first in sandbox.ocapi.tokens  # renewed while the old one still held
    assert [s.status for s in sandbox.requests("ocapi", "GET")] == [200, 200]  # no 401 on the way


def test_revoked_token_is_replaced_once_and_never_shown(sandbox, hook):
    sandbox.ocapi.add_job("Quick", running=5)
    run = hook.start_run("Quick")
    first_token = sandbox.ocapi.issued[0]
    sandbox.fault("ocapi", r"/executions/\d+$", "expire")
    with captured_logs() as logs:
        fresh = hook.get_run(run)
    assert fresh.run_id == run.run_id
    assert [s.status for s in sandbox.requests("ocapi", "GET")] == [401, 200]
    assert len(sandbox.ocapi.issued) == 2
    assert any("HTTP 401, logging in again once" in line for line in logs.records)
    assert_no_secret(first_token, logs.records)


def test_invalid_token_message_is_scrubbed_from_errors(sandbox, hook):
    sandbox.ocapi.add_job("Quick", running=5)
    run = hook.start_run("Quick")
    # Every token is refused: the second 401 surfaces, and OCAPI's message repeats the token.
    sandbox.fault("ocapi", r"/executions/\d+$", "expire", "expire")
    with captured_logs() as logs, pytest.raises(AuthenticationError) as err:
        hook.get_run(run)
    assert "InvalidAccessTokenException" in str(err.value)
    for token in sandbox.ocapi.issued:
        assert_no_secret(token, str(err.value), logs.records)
    # The fault document itself, as the hook reads it:
    token = sandbox.ocapi.issued[-1]
    body = json.dumps(
        {
            "_v": "23.2",
            "fault": {
                "type": "InvalidAccessTokenException",
                "message": f"The request is unauthorized, the access token '{token}' is invalid.",
            },
        }
    ).encode()
    request = ApiRequest("GET", "jobs/Quick/executions/1", endpoint="read", base=OcapiBase.OCAPI)
    error = hook.error_from(ApiResponse(401, {}, body, request, vendor="ocapi"))
    assert isinstance(error, AuthenticationError) and "the access token '<redacted>' is invalid" in str(error)
    assert_no_secret(token, str(error), error.body_excerpt)


def test_scrub_removes_tokens():
    assert scrub("the access token 'abc.def' is invalid") == "the access token '<redacted>' is invalid"
    assert scrub("bearer eyJhbGciOi.eyJzdWIiOi.sig here") == "bearer <redacted> here"
    assert scrub("secret s3cr3t inside", "s3cr3t") == "secret <redacted> inside"


def test_wrong_client_secret_is_clear_and_secret_free(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi", password="wrong-secret-4711")
    with captured_logs() as logs, pytest.raises(AuthenticationError) as err:
        OcapiHook().find_active_run("Any")
    text = str(err.value)
    assert "Account Manager token grant" in text and "invalid_client" in text
    assert "connection 'ocapi_default'" in text and "client secret" in text
    assert_no_secret("wrong-secret-4711", text, logs.records)
    assert not sandbox.requests("ocapi", "POST", "job_execution_search")


def test_business_manager_user_grant(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi", extra={"bm_user": BM_USER, "bm_password": BM_PASSWORD})
    sandbox.ocapi.add_job("Quick", running=0.05)
    with captured_logs() as logs:
        run = OcapiHook().start_run("Quick")
        asyncio.run(OcapiHook().aget_run(run))
    (grant,) = sandbox.requests("ocapi", "POST", "oauth2/access_token$")
    assert grant.path == "/dw/oauth2/access_token" and "client_id=" in grant.query
    assert sandbox.ocapi.grants[0]["kind"] == "bm"
    assert_no_secret(BM_PASSWORD, logs.records, run.to_dict())
    use_connection(monkeypatch, sandbox, "ocapi", extra={"bm_user": BM_USER, "bm_password": "nope-123"})
    with pytest.raises(AuthenticationError, match="Business Manager user grant.*invalid_grant.*bm_user"):
        OcapiHook().get_run(run)


# --- SCAPI ---------------------------------------------------------------------------------------------
def test_forced_scapi_uses_camel_case_api_and_scoped_token(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi", extra=SCAPI)
    sandbox.ocapi.add_job("Quick", running=0.05, steps=["One"])
    hook = OcapiHook()
    run = hook.start_run("Quick", {"A": 1})
    _ended(sandbox, run)
    done = asyncio.run(hook.aget_run(run))
    assert done.state == JobState.SUCCESS and done.details["backend"] == "scapi"
    assert done.details["steps"][0]["step_id"] == "One" and done.details["log_file"].startswith(
        "/Sites/LOGS/"
    )
    assert hook.find_active_run("Quick") is None
    assert not sandbox.requests("ocapi", path="/dw/data/")
    assert sandbox.ocapi.grants[0]["scopes"] == ["SALESFORCE_COMMERCE_API:zzzz_001", "sfcc.jobs.rw"]


def test_ocapi_switched_off_before_start_goes_through_scapi(sandbox, hook):
    sandbox.ocapi.add_job("Quick", running=0.05)
    sandbox.ocapi.switch_off_ocapi()
    with captured_logs() as logs:
        run = hook.start_run("Quick")
    assert run.details["backend"] == "scapi" and hook.backend == "scapi"
    assert sandbox.ocapi.starts() == 1
    assert [s.status for s in sandbox.requests("ocapi", "POST", EXECUTIONS)] == [403, 200]
    assert any("OCAPI is switched off" in line and "SCAPI Jobs API" in line for line in logs.records)


def test_run_known_to_be_on_scapi_is_read_there_directly(sandbox, hook):
    sandbox.ocapi.add_job("Quick", running=5)
    sandbox.ocapi.switch_off_ocapi()
    run = OcapiHook().start_run("Quick")
    fresh = asyncio.run(hook.aget_run(run))  # a new hook (as in the triggerer)
    assert fresh.details["backend"] == "scapi"
    assert len(sandbox.requests("ocapi", "GET", "/dw/data/")) == 0


def test_ocapi_off_without_scapi_settings_says_what_to_set(sandbox, monkeypatch):
    use_connection(
        monkeypatch,
        sandbox,
        "ocapi",
        extra={"short_code": None, "scapi_base_url": None, "organization_id": None},
    )
    sandbox.ocapi.switch_off_ocapi()
    with pytest.raises(OcapiDeprecatedError, match="OCAPI is switched off.*short_code and organization_id"):
        OcapiHook().start_run("Quick")
    use_connection(monkeypatch, sandbox, "ocapi", extra={"backend": "ocapi"})
    with pytest.raises(OcapiDeprecatedError, match="forces backend 'ocapi'"):
        OcapiHook().start_run("Quick")


def test_scapi_scope_refused_is_clear(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi", extra={**SCAPI, "scapi_scope": "sfcc.everything"})
    with pytest.raises(
        AuthenticationError, match="invalid_scope.*sfcc.everything and SALESFORCE_COMMERCE_API:"
    ):
        OcapiHook().find_active_run("Quick")


def test_scapi_forbidden_names_the_scopes(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi", extra={**SCAPI, "scapi_scope": "sfcc.jobs"})
    sandbox.ocapi.add_job("Quick")
    with pytest.raises(
        JobProviderError, match="HTTP 403.*scopes sfcc.jobs and SALESFORCE_COMMERCE_API:zzzz_001"
    ):
        OcapiHook().start_run("Quick")  # a read-only scope cannot start a job


# --- connection -------------------------------------------------------------------------------------------
def test_site_prefix_and_version_are_configurable(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "ocapi", extra={"site_prefix": "/", "api_version": "24.1"})
    sandbox.ocapi.add_job("Quick")
    OcapiHook().start_run("Quick")
    (served,) = sandbox.requests("ocapi", "POST", EXECUTIONS)
    assert served.path == "/dw/data/v24_1/jobs/Quick/executions"


def test_bm_link_template_is_configurable(sandbox, monkeypatch):
    use_connection(
        monkeypatch, sandbox, "ocapi", extra={"bm_url_template": "https://bm.example/{job_id}/{execution_id}"}
    )
    sandbox.ocapi.add_job("Quick job")
    run = OcapiHook().start_run("Quick job")
    assert run.url == f"https://bm.example/Quick%20job/{run.run_id}"


@pytest.mark.parametrize(
    ("conn", "field"),
    [
        ({"login": ""}, "connection 'ocapi_default' login"),
        ({"password": ""}, "connection 'ocapi_default' password"),
        ({"extra": {"api_version": "latest"}}, "extra field 'api_version'"),
        ({"extra": {"site_prefix": "s/-"}}, "extra field 'site_prefix'"),
        ({"extra": {"token_url": "account.demandware.com"}}, "extra field 'token_url'"),
        ({"extra": {"bm_user": "someone"}}, "extra field 'bm_password'"),
        ({"extra": {"backend": "graphql"}}, "extra field 'backend'"),
        ({"extra": {"organization_id": "not an org"}}, "extra field 'organization_id'"),
        ({"extra": {"backend": "scapi", "organization_id": None}}, "extra field 'organization_id'"),
        ({"extra": {"bm_url_template": "{host}/{execution_id}"}}, "extra field 'bm_url_template'"),
        ({"extra": {"short_code": "a/b"}}, "extra field 'short_code'"),
    ],
)
def test_connection_errors_name_the_field(sandbox, monkeypatch, conn, field):
    use_connection(monkeypatch, sandbox, "ocapi", **conn)
    with pytest.raises(ConfigurationError) as err:
        OcapiHook().find_active_run("Any")
    assert field in str(err.value)
    assert sandbox.requests("ocapi") == []


def test_connection_test_button(sandbox, hook, monkeypatch):
    ok, message = hook.test_connection()
    assert ok and "through OCAPI v23_2" in message
    sandbox.ocapi.switch_off_ocapi()
    ok, message = OcapiHook().test_connection()
    assert ok and "SCAPI Jobs API (organization f_ecom_zzzz_001)" in message
    use_connection(monkeypatch, sandbox, "ocapi", password="nope")
    ok, message = OcapiHook().test_connection()
    assert not ok and "invalid_client" in message


# --- transport faults (the core's policy, seen through this hook) ----------------------------------
def test_transient_poll_errors_are_retried(sandbox, hook):
    sandbox.ocapi.add_job("Quick", running=5)
    run = hook.start_run("Quick")
    sandbox.fault("ocapi", r"/executions/\d+$", 503, "drop", 502)
    assert hook.get_run(run).run_id == run.run_id


def test_dropped_start_is_not_resent_blindly(sandbox, hook):
    sandbox.ocapi.add_job("Quick", running=5)
    sandbox.fault("ocapi", EXECUTIONS, "drop_after", method="POST")
    with pytest.raises(AmbiguousStartError, match="not sent again blindly"):
        hook.start_run("Quick")
    assert sandbox.ocapi.starts() == 1
    assert hook.find_active_run("Quick") is not None  # what the operator does next


def test_malformed_execution_is_a_clear_error(sandbox, hook):
    sandbox.fault("ocapi", EXECUTIONS, _sample('{"_v": "23.2", "id": "7"}'))
    with pytest.raises(MalformedResponseError, match="carries no execution_status"):
        hook.start_run("Quick")


def test_cancel_is_refused_saying_why(hook):
    assert OcapiHook.can_cancel is False
    with pytest.raises(JobProviderError, match="cannot cancel a running job: execution 7 of job 'J' goes on"):
        hook.cancel_run(JobRun("ocapi", "J", "7", JobState.RUNNING))


def test_no_secret_in_runs_errors_or_logs(sandbox, hook):
    sandbox.ocapi.add_job("Quick", running=0.05)
    with captured_logs() as logs:
        run = hook.start_run("Quick")
        asyncio.run(hook.aget_run(run))
        with pytest.raises(OcapiJobNotFoundError) as err:
            hook.start_run("Missing")
    for secret in [CLIENT_SECRET, *sandbox.ocapi.issued]:
        assert_no_secret(secret, logs.records, run.to_dict(), str(err.value), repr(hook.settings))


def test_settings_never_show_the_client_secret_or_bm_password():
    from airflow.models.connection import Connection

    conn = Connection(conn_id="ocapi_x", conn_type="ocapi", host="dev01.example.com", login="client-id",
                      password="client-secret-123",
                      extra=json.dumps({"bm_user": "me@example.com", "bm_password": "bm-pass-456"}))
    settings = OcapiHook("ocapi_x").configure(conn)
    assert settings.client_secret == "client-secret-123" and settings.bm_password == "bm-pass-456"
    assert settings.base_url == "https://dev01.example.com"  # no scheme means https
    for secret in ("client-secret-123", "bm-pass-456"):
        assert secret not in repr(settings) and secret not in str(settings)
