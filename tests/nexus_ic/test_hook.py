"""NexusICHook over real HTTP to the sandbox: login styles, hash lifetime, status, content, errors."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time

import pytest

from airflow_provider_jobs.core.errors import (
    AmbiguousStartError,
    ApiError,
    AuthenticationError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    TransientApiError,
)
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.hooks.nexus_ic import (
    NexusICHook,
    NexusICLicenceError,
    file_name_from,
    parse_api_version,
    redact_hash,
)
from airflow_provider_jobs.sandbox.nexus_ic import API_KEY, PASSWORD, USER
from tests.support import assert_no_secret, captured_logs, idle_for, wait_until, wait_until_done


def secrets_of(nexus) -> list[str]:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return [PASSWORD, API_KEY, basic, base64.b64encode(API_KEY.encode()).decode(), *nexus.issued_hashes]


@pytest.mark.parametrize(
    ("word", "state"),
    [("1", JobState.QUEUED), ("Waiting to Start", JobState.QUEUED), ("2", JobState.RUNNING),
     ("running", JobState.RUNNING), ("4", JobState.SUCCESS), ("Completed", JobState.SUCCESS),
     ("5", JobState.FAILED), ("6", JobState.RUNNING), ("Paused", JobState.RUNNING), ("9", JobState.RUNNING)],
)
def test_state_mapping(word, state):
    assert NexusICHook.states(word) == state
    assert NexusICHook.states.knows(word) == (word != "9")


@pytest.mark.parametrize(("text", "parsed"), [("6.9", (6, 9)), ("6.10", (6, 10)), ("6.8.1234.5", (6, 8)),
                                              (7, (7, 0))])
def test_api_version_parsing(text, parsed):
    assert parse_api_version(text) == parsed


def test_content_disposition_file_names():
    assert file_name_from('attachment;filename="report.json"') == "report.json"
    assert file_name_from("attachment;filename*=UTF-8''%C3%9Cberblick%20%C3%96l.json") == "Überblick Öl.json"
    assert file_name_from('attachment;filename="../../etc/passwd"') == "passwd"
    assert file_name_from('attachment;filename="..\\\\evil.rtf"') == "evil.rtf"
    assert file_name_from('attachment;filename=".."') is None
    assert file_name_from(None) is None


def test_redact_hash():
    assert redact_hash("/icweb.dll/license?hash=ABC123&x=1") == "/icweb.dll/license?hash=***&x=1"


@pytest.mark.parametrize("version", ["6.8", "6.9"])
def test_each_version_logs_in_and_reads_status_in_its_own_style(nexus, connect, version):
    nexus.version = version
    connect()
    nexus.add_template("Inspection Summary", running=0.2)
    hook = NexusICHook()
    run = hook.start_run("Inspection Summary", lookup_by_name=True)
    assert run.state == JobState.QUEUED and run.run_id.startswith("{")
    sync_view = hook.get_run(run)
    async_view = asyncio.run(hook.aget_run(run))
    assert sync_view.run_id == async_view.run_id == run.run_id
    assert wait_until_done(hook, run).state == JobState.SUCCESS

    (login,) = nexus.state.requests("nexus_ic", path_regex="/security/login$")
    assert login.method == ("GET" if version == "6.8" else "POST")
    status = nexus.state.requests("nexus_ic", path_regex="/jobStatus")
    if version == "6.8":
        assert {s.path for s in status} == {"/icweb.dll/jobStatus"}
        assert all("id=" in s.query and "hash=" in s.query for s in status)
    else:
        assert {s.path for s in status} == {f"/icweb.dll/jobStatus/{run.run_id}"}
    assert all(s.status == 200 for s in status)
    assert nexus.logins == 1  # one hash for the sync and the async calls


@pytest.mark.parametrize(("server", "connection"), [("6.8", "6.9"), ("6.9", "6.8")])
def test_version_mismatch_says_to_set_api_version(nexus, connect, server, connection):
    nexus.version = server
    connect(extra={"api_version": connection})
    with pytest.raises(ApiError, match=r"HTTP 405 .*set the extra api_version") as err:
        NexusICHook().licence()
    assert f"api_version is {connection}" in str(err.value)


def test_data_prefix_and_missing_icweb_dll(sandbox, nexus, connect):
    connect(host=f"{sandbox.url}/nexus_ic/data/icweb.dll")
    assert NexusICHook().licence()["saas"] is True
    connect(host=f"{sandbox.url}/nexus_ic/data")
    hook = NexusICHook()
    assert hook.settings.base_url.endswith("/nexus_ic/data/icweb.dll")
    assert hook.licence()["saas"] is True
    assert {s.path for s in nexus.state.requests("nexus_ic")} == {"/data/icweb.dll/security/login",
                                                                  "/data/icweb.dll/license"}


def test_api_key_login(nexus, connect):
    connect(login="", password=API_KEY, extra={"auth_type": "apikey"})
    with captured_logs() as logs:
        ok, message = NexusICHook().test_connection()
    assert ok and f"as {USER}" in message
    connect(login="", password="not-the-key-42", extra={"auth_type": "apikey"})
    refused = pytest.raises(AuthenticationError, match="Check the connection's API key")
    with captured_logs() as more, refused as err:
        NexusICHook().licence()
    assert_no_secret("not-the-key-42", str(err.value), more.records)
    for secret in secrets_of(nexus):
        assert_no_secret(secret, str(err.value), logs.records, more.records, message)


def test_wrong_password_is_clear_and_secret_free(nexus, connect):
    connect(password="wrong-password-123")
    with captured_logs() as logs, pytest.raises(AuthenticationError) as err:
        NexusICHook().licence()
    text = str(err.value)
    assert "refused the login of connection 'nexus_ic_default'" in text and f"user name ({USER})" in text
    basic = base64.b64encode(f"{USER}:wrong-password-123".encode()).decode()
    assert_no_secret("wrong-password-123", text, logs.records)
    assert_no_secret(basic, text, logs.records)


def test_hash_is_cached_across_hooks_and_event_loops(nexus, hook):
    hook.licence()
    NexusICHook().licence()
    asyncio.run(NexusICHook().alicence())
    assert nexus.logins == 1
    assert all("hash=" in s.query for s in nexus.state.requests("nexus_ic", path_regex="/license$"))


def test_hash_dropped_by_the_server_means_one_new_login(nexus, hook):
    nexus.add_template("R", running=5)
    run = hook.start_run("7")
    nexus.expire_credentials()
    assert hook.get_run(run).run_id == run.run_id
    nexus.expire_credentials()
    assert asyncio.run(hook.aget_run(run)).run_id == run.run_id
    assert nexus.logins == 3
    statuses = [s.status for s in nexus.state.requests("nexus_ic", path_regex="/jobStatus")]
    assert statuses == [401, 200, 401, 200]


def test_new_login_before_the_idle_timeout(nexus, connect):
    nexus.idle_timeout = 30.0
    connect(extra={"session_idle_timeout": 30})
    hook = NexusICHook()
    hook.licence()
    first = nexus.logins
    idle_for(28.0, nexus, hook)  # still open on the server; within the hook's margin (3 s) of its idle timeout
    hook.licence()
    assert nexus.logins == first + 1
    assert 401 not in [s.status for s in nexus.state.requests("nexus_ic")]  # renewed before, not after


def test_licence_without_server_jobs_is_a_clear_error(nexus, hook):
    nexus.saas = False
    nexus.add_template("R")
    with pytest.raises(NexusICLicenceError, match="licence does not allow server jobs.*hosted SaaS"):
        hook.start_run("7")
    assert nexus.state.requests("nexus_ic", "POST", "/report") == []
    ok, message = hook.test_connection()
    assert ok and "does NOT allow server jobs" in message


def test_licence_is_checked_once_per_hook(nexus, hook):
    nexus.add_template("R")
    hook.start_run("7")
    hook.start_run("7")
    asyncio.run(hook.astart_run("7"))
    assert len(nexus.state.requests("nexus_ic", path_regex="/license$")) == 1
    assert nexus.starts() == 3


def test_template_by_name_sends_the_filter_header(nexus, hook):
    nexus.add_template("Anomaly Register", key=31)
    nexus.add_template("Other")
    assert hook.template_id("Anomaly Register") == "31"
    assert asyncio.run(hook.atemplate_id("anomaly register")) == "31"  # the database ignores case
    with pytest.raises(NotFoundError, match="no report template named 'Nope'.*give template_id"):
        hook.template_id("Nope")
    nexus.add_template("Anomaly Register", key=32)
    with pytest.raises(ApiError, match="2 report templates are named 'Anomaly Register'.*31, 32"):
        hook.template_id("Anomaly Register")


def test_template_key_field_is_configurable(nexus, connect):
    nexus.add_template("R", key=12)
    connect(extra={"template_key_field": "Template_Key"})
    with pytest.raises(MalformedResponseError, match="no 'Template_Key' field.*template_key_field"):
        NexusICHook().template_id("R")
    nexus.templates[12].extra_fields["Template_Key"] = 99
    assert NexusICHook().template_id("R") == "99"


def test_start_sends_template_output_type_and_parameters(nexus, hook):
    nexus.add_template("R", key=12)
    run = hook.start_run("12", output_type="HTML", parameters={"Component_ID": 4, "Asset": "A-1"})
    job = nexus.jobs[run.run_id]
    assert (job.template.key, job.output_type) == (12, "html")
    assert job.parameters == {"Component_ID": 4, "Asset": "A-1"}
    assert run.details["parameter_names"] == ["Asset", "Component_ID"] and run.job_id == "12"
    # a dict from the DAG author goes out as the documented Parameter[] list
    assert nexus.report_bodies[-1] == {"reportTemplate": 12, "outputType": "html", "parameters": [
        {"parameterName": "Component_ID", "value": 4}, {"parameterName": "Asset", "value": "A-1"}]}
    with pytest.raises(NotFoundError, match="report template 99 was not found.*Check template_id"):
        hook.start_run("99")
    with pytest.raises(ConfigurationError, match="^output_type"):
        hook.start_run("12", output_type="docx")


def test_parameters_as_the_documented_list_are_sent_as_they_are(nexus, hook):
    nexus.add_template("R", key=12)
    given = [{"parameterName": "Component_ID", "value": [4, 5]}, {"parameterName": "Since", "value": None,
                                                                  "displayName": "Since (ignored)"}]
    run = hook.start_run("12", parameters=given)
    assert nexus.report_bodies[-1]["parameters"] == [{"parameterName": "Component_ID", "value": [4, 5]},
                                                     {"parameterName": "Since", "value": None}]
    assert nexus.jobs[run.run_id].parameters == {"Component_ID": [4, 5], "Since": None}
    assert run.details["parameter_names"] == ["Component_ID", "Since"]


@pytest.mark.parametrize(("parameters", "match"), [
    ([{"value": 1}], r"^parameters\[0\]\.parameterName: is None"),
    ([{"parameterName": "A", "value": 1}, {"parameterName": " ", "value": 2}], r"^parameters\[1\]\.parameterName"),
    ([{"parameterName": "A"}], r"^parameters\[0\]\.value: is missing"),
    ([{"parameterName": "A", "value": 1}, {"parameterName": "A", "value": 2}], r"'A' is given twice"),
    (["A=1"], r"^parameters\[0\]: is a str, not a Parameter object"),
    ("A=1", r"^parameters: is a str.*parameterName"),
    ({"": 1}, r"^parameters: has keys that are not names"),
])
def test_bad_parameters_fail_naming_the_field_before_any_request(nexus, hook, parameters, match):
    nexus.add_template("R", key=12)
    with pytest.raises(ConfigurationError, match=match):
        hook.start_run("12", parameters=parameters)
    assert nexus.state.requests("nexus_ic") == []


def test_sandbox_refuses_parameters_that_are_not_the_documented_list(sandbox, nexus, hook):
    import requests

    nexus.add_template("R", key=12)
    hook.licence()
    token = nexus.issued_hashes[-1]
    url = f"{sandbox.url}/nexus_ic/icweb.dll/report/?hash={token}"
    for body, said in [({"reportTemplate": 12, "parameters": {"Asset": "A"}}, "must be a Parameter[] array"),
                       ({"reportTemplate": 12, "parameters": [{"value": 1}]}, "parameters[0] has no parameterName"),
                       ({"reportTemplate": 12, "parameters": [{"parameterName": "A"}]}, "(A) has no value")]:
        answer = requests.post(url, json=body, timeout=10)
        assert answer.status_code == 400 and said in answer.text
    assert nexus.starts() == 0


def test_pdf_reports_are_binary_content_saved_to_a_file(nexus, hook, tmp_path):
    nexus.add_template("Summary", key=12, running=0.05)
    run = wait_until_done(hook, hook.start_run("12", output_type="pdf"))
    assert nexus.report_bodies[-1]["outputType"] == "pdf"
    with pytest.raises(ConfigurationError, match="^output_path: .*application/pdf.*cannot go through XCom"):
        hook.job_content(run.run_id)
    info = hook.job_content(run.run_id, f"{tmp_path}/")
    assert info["file_name"] == "Summary.pdf" and (tmp_path / "Summary.pdf").read_bytes().startswith(b"%PDF")


def test_template_rows_are_keyed_rt_id_by_default(nexus, hook):
    nexus.add_template("Anomaly Register", key=31)
    assert hook.settings.template_key_field == "RT_ID"
    run = hook.start_run("Anomaly Register", lookup_by_name=True)
    assert run.details["template_id"] == "31" and nexus.report_bodies[-1]["reportTemplate"] == 31
    assert nexus.bo_filters == ['{"where": [{"field": "Name", "value": "Anomaly Register"}]}']


@pytest.mark.parametrize(("host", "base"), [
    ("https://nexus.example.com", "https://nexus.example.com/data/icweb.dll"),
    ("nexus.example.com", "https://nexus.example.com/data/icweb.dll"),
    ("https://nexus.example.com/", "https://nexus.example.com/data/icweb.dll"),
    ("https://nexus.example.com/data/icweb.dll", "https://nexus.example.com/data/icweb.dll"),
    ("https://nexus.example.com/data/icweb.dll/", "https://nexus.example.com/data/icweb.dll"),
    ("https://nexus.example.com/icweb.dll", "https://nexus.example.com/icweb.dll"),
    ("https://nexus.example.com/data", "https://nexus.example.com/data/icweb.dll"),
    ("http://10.0.0.5:8080/IC/icweb.dll", "http://10.0.0.5:8080/IC/icweb.dll"),
])
def test_base_url_from_the_host(sandbox, nexus, connect, host, base):
    connect(host=host)
    assert NexusICHook().settings.base_url == base
    assert nexus.state.requests("nexus_ic") == []


@pytest.mark.parametrize("prefix", ["/icweb.dll", "/data/icweb.dll"])
def test_both_base_paths_work(sandbox, nexus, connect, prefix):
    connect(host=f"{sandbox.url}/nexus_ic{prefix}")
    nexus.add_template("R", key=12, running=0.05)
    hook = NexusICHook()
    assert wait_until_done(hook, hook.start_run("12")).state == JobState.SUCCESS
    assert all(s.path.startswith(prefix + "/") for s in nexus.state.requests("nexus_ic"))


def test_unknown_job_id_is_a_clear_not_found(nexus, connect):
    for version in ("6.8", "6.9"):
        nexus.version = version
        connect()
        hook = NexusICHook()
        with pytest.raises(NotFoundError) as err:
            hook.job_status("{00000000-0000-0000-0000-000000000000}")
        text = str(err.value)
        assert "job '{00000000-0000-0000-0000-000000000000}' was not found" in text
        assert "Job identified by id was not found." in text and "Check the job id" in text
        with pytest.raises(NotFoundError, match="was not found"):
            asyncio.run(hook.ajob_status("{0}"))


def test_progress_is_clamped_summary_kept_and_eta_estimated(nexus, hook):
    nexus.add_template("R", running=0.8, percent_scale=1.5)
    run = hook.start_run("7")
    seen = []
    run = wait_until_done(hook, run, seen=seen)
    assert all(r.progress is None or 0 <= r.progress <= 100 for r in seen)
    assert any(r.details.get("percent_complete_raw", 0) > 100 for r in seen)
    assert any("rows processed" in (r.summary or "") for r in seen)
    assert any(r.eta_seconds is not None for r in seen if r.vendor_state == "Running")
    assert run.state == JobState.SUCCESS and run.progress == 100
    assert run.eta_seconds is None and run.summary == "Report generated in 00:00:01"
    assert run.started_at and run.ended_at  # 6.9 gives startClock / endClock


def test_paused_is_not_terminal_and_resumes(nexus, hook):
    nexus.add_template("R", running=1.0)  # long enough to be paused before it ends, on a loaded machine too
    run = hook.start_run("7")
    wait_until(lambda: nexus.jobs[run.run_id].state()[0] == "3", "the job is running")
    nexus.pause(run.run_id)
    paused = hook.get_run(run)
    assert (paused.state, paused.vendor_state) == (JobState.RUNNING, "Paused")
    assert "Paused after" in paused.summary and paused.details["paused_since"]
    nexus.resume(run.run_id)
    resumed = hook.get_run(paused)
    assert "paused_since" not in resumed.details
    assert wait_until_done(hook, resumed).state == JobState.SUCCESS


def test_paused_too_long_fails_saying_so(nexus, connect):
    nexus.add_template("R", steps=[("1", 0.05), ("6", 300)])
    connect(extra={"max_paused_seconds": 60})
    hook = NexusICHook()
    run = hook.start_run("7")
    wait_until(lambda: nexus.jobs[run.run_id].state()[0] == "6", "the job is paused")
    first = hook.get_run(run)
    assert (first.state, first.vendor_state) == (JobState.RUNNING, "Paused")
    first.details["paused_since"] -= 61  # first seen paused 61 s ago, without waiting them
    later = hook.get_run(first)
    assert later.state == JobState.FAILED and later.vendor_state == "Paused"
    assert "paused for 61s, longer than max_paused_seconds (60s)" in later.details["message"]
    assert "no cancel" in later.details["message"]
    # the hook's own argument wins over the connection's; 0 means no limit
    assert NexusICHook(max_paused_seconds=0).get_run(later).state == JobState.RUNNING
    # a fresh reference (a sensor's poke) still counts from when this hook first saw the pause
    fresh_ref = JobRun("nexus_ic", run.run_id, run.run_id, JobState.RUNNING)
    assert hook.get_run(fresh_ref).state == JobState.FAILED


def test_failed_job_carries_the_summary(nexus, hook):
    nexus.add_template("R", running=0.1, final="5", failure="Report generation failed: no such asset 'A-9'")
    run = wait_until_done(hook, hook.start_run("7"))
    assert run.state == JobState.FAILED
    assert run.details["message"] == (
        "NEXUS IC reports the job failed: Report generation failed: no such asset 'A-9'")


def test_content_returned_as_json_or_text(nexus, hook):
    nexus.add_template("Inspection Summary", key=12, running=0.05)
    run = wait_until_done(hook, hook.start_run("12", parameters={"Asset": "A-1"}))
    info = hook.job_content(run.run_id)
    assert info["has_content"] and info["content_type"] == "application/json"
    assert info["file_name"] == "Inspection Summary.json"
    assert info["content"]["elements"][1]["data"]["text"][0]["value"] == '{"Asset": "A-1"}'
    html = wait_until_done(hook, hook.start_run("12", output_type="html"))
    assert asyncio.run(hook.ajob_content(html.run_id))["content"].startswith("<html>")
    xlsx = wait_until_done(hook, hook.start_run("12", output_type="xlsx"))
    with pytest.raises(ConfigurationError, match="^output_path: .*cannot go through XCom"):
        hook.job_content(xlsx.run_id)


def test_content_streamed_to_a_directory_with_the_served_name(nexus, hook, tmp_path):
    nexus.add_template("Anomaly Register", key=12, running=0.05)
    run = wait_until_done(hook, hook.start_run("12", output_type="xlsx"))
    info = hook.job_content(run.run_id, f"{tmp_path}/reports/")
    expected, _, _ = nexus.content_of(nexus.jobs[run.run_id])
    assert info["path"] == str(tmp_path / "reports" / "Anomaly Register.xlsx")
    assert (tmp_path / "reports" / "Anomaly Register.xlsx").read_bytes() == expected
    assert info["size"] == len(expected) and "content" not in info
    assert os.listdir(tmp_path / "reports") == ["Anomaly Register.xlsx"]  # no partial file left behind
    renamed = hook.job_content(run.run_id, str(tmp_path / "mine.xlsx"))
    assert renamed["file_name"] == "mine.xlsx" and (tmp_path / "mine.xlsx").read_bytes() == expected


def test_content_file_names_from_the_server_are_made_safe(nexus, hook, tmp_path):
    nexus.add_template("U", key=12, running=0.05, file_name="Überblick Ölfeld.json")
    nexus.add_template("T", key=13, running=0.05, file_name="../../escape.json")
    first = wait_until_done(hook, hook.start_run("12"))
    second = wait_until_done(hook, hook.start_run("13"))
    assert hook.job_content(first.run_id, f"{tmp_path}/")["file_name"] == "Überblick Ölfeld.json"
    escaped = hook.job_content(second.run_id, f"{tmp_path}/out/")
    assert escaped["path"] == str(tmp_path / "out" / "escape.json")
    assert sorted(os.listdir(tmp_path)) == ["out", "Überblick Ölfeld.json"]


def test_job_without_content(nexus, hook, tmp_path):
    nexus.add_template("Empty", key=12, running=0.05, no_content=True)
    run = wait_until_done(hook, hook.start_run("12"))
    assert hook.job_content(run.run_id)["has_content"] is False
    saved = hook.job_content(run.run_id, f"{tmp_path}/")
    assert saved["has_content"] is False and "path" not in saved and os.listdir(tmp_path) == []


def test_content_of_an_unknown_or_unfinished_job(nexus, hook, tmp_path):
    with pytest.raises(NotFoundError, match="job '{nope}' was not found"):
        hook.job_content("{nope}", f"{tmp_path}/")
    assert os.listdir(tmp_path) == []
    nexus.add_template("Slow", key=12, running=30)
    run = hook.start_run("12")
    with pytest.raises(ApiError, match="HTTP 400.*has not completed"):
        hook.job_content(run.run_id)


def test_transient_errors_are_retried_and_named(nexus, hook):
    nexus.add_template("R", running=5)
    run = hook.start_run("7")
    nexus.state.add_fault("nexus_ic", "/jobStatus", [503, 503])
    assert hook.get_run(run).run_id == run.run_id
    nexus.state.add_fault("nexus_ic", "/jobStatus", [502] * 5)
    budget = pytest.raises(TransientApiError, match=r"job status failed \(HTTP 502\)")
    with captured_logs() as logs, budget as err:
        hook.get_run(run)
    for secret in secrets_of(nexus):
        assert_no_secret(secret, str(err.value), logs.records)


def test_dropped_start_is_not_resent(nexus, hook):
    nexus.add_template("R", running=5)
    hook.licence()  # the licence check and the login are not part of the drop
    nexus.state.add_fault("nexus_ic", "/report/$", ["drop_after"])
    with pytest.raises(AmbiguousStartError, match="not sent again blindly"):
        hook.start_run("7")
    assert nexus.starts() == 1


def test_no_hash_password_or_key_in_any_log_line_or_error(nexus, hook, tmp_path):
    nexus.add_template("R", key=12, running=0.1)
    with captured_logs() as logs:
        run = wait_until_done(hook, hook.start_run("12"))
        asyncio.run(hook.aget_run(run))
        hook.job_content(run.run_id, f"{tmp_path}/")
        errors = []
        for call in (lambda: hook.job_status("{x}"), lambda: hook.start_run("99"),
                     lambda: hook.job_content("{x}")):
            with pytest.raises(ApiError) as err:
                call()
            errors.append(str(err.value))
    text = "\n".join(logs.records)
    assert "?<query redacted>" in text  # urllib3 logged the URLs, with the query (and its hash) redacted
    assert nexus.issued_hashes
    for secret in secrets_of(nexus):
        assert_no_secret(secret, text, errors, run.to_dict(), repr(hook.settings))


def test_connection_test_button(nexus, hook, connect):
    ok, message = hook.test_connection()
    assert ok and message.startswith("Connected to NEXUS IC at 127.0.0.1") and "allows server jobs" in message
    connect(password="nope-nope")
    ok, message = NexusICHook().test_connection()
    assert not ok and "refused the login" in message


@pytest.mark.parametrize(
    ("overrides", "match"),
    [({"host": ""}, "host: is empty"),
     ({"login": ""}, "login: is empty.*auth_type to apikey"),
     ({"password": ""}, "password: is empty"),
     ({"extra": {"auth_type": "token"}}, "extra field 'auth_type': 'token' is not one of basic, apikey"),
     ({"extra": {"api_version": "six"}}, "extra field 'api_version': 'six' is not a version"),
     ({"extra": {"max_paused_seconds": "-1"}}, "extra field 'max_paused_seconds': '-1' is negative"),
     ({"extra": {"session_idle_timeout": 0}}, "extra field 'session_idle_timeout'")],
)
def test_connection_errors_name_the_field(sandbox, nexus, connect, overrides, match):
    connect(**overrides)
    with pytest.raises(ConfigurationError, match=match):
        NexusICHook().licence()
    assert nexus.state.requests("nexus_ic") == []


@pytest.mark.parametrize("bad", [True, -1, "10"])
def test_hook_rejects_a_bad_pause_limit(bad):
    with pytest.raises(ConfigurationError, match="^max_paused_seconds"):
        NexusICHook(max_paused_seconds=bad)


def test_sandbox_admin_api_adds_templates_and_jobs(sandbox, hook):
    import requests

    made = requests.post(f"{sandbox.url}/_admin/jobs", timeout=10,
                         json={"vendor": "nexus_ic", "job": {"name": "Via Admin", "running": 0.05}}).json()
    assert hook.template_id("Via Admin") == str(made["template_id"])
    job = requests.post(f"{sandbox.url}/_admin/jobs", timeout=10,
                        json={"vendor": "nexus_ic", "job": {"kind": "import", "running": 0.05}}).json()
    assert hook.job_status(job["job_id"]).run_id == job["job_id"]


# --- IC-Web 6.9's job listing: what recovery after an ambiguous start compares with -----------------------
def test_the_job_listing_exists_from_6_9_only(nexus, connect):
    nexus.add_template("R", key=12, running=5)
    connect()
    hook = NexusICHook()
    started = hook.start_run("12")
    assert [j["id"] for j in hook.list_jobs()] == [started.run_id]
    assert [j["id"] for j in asyncio.run(hook.alist_jobs())] == [started.run_id]
    nexus.version = "6.8"
    connect()
    assert NexusICHook().list_jobs() is None  # jobStatus without an id: 404, no listing


def test_find_started_run_is_the_job_that_appeared_since_the_marker(nexus, hook):
    nexus.add_template("R", key=12, running=0.05)
    nexus.add_template("S", key=13, running=0.05)
    old = hook.start_run("13")
    marker = hook.start_marker("R", lookup_by_name=True)
    assert marker["listing"] is True and len(marker["seen"]) == 1 and marker["at"] <= time.time()
    assert old.run_id not in json.dumps(marker)  # digests, not ids
    assert hook.find_started_run("R", marker, lookup_by_name=True) is None
    started = hook.start_run("R", lookup_by_name=True, parameters={"Asset": "A"})
    wait_until(lambda: nexus.jobs[started.run_id].finished, "the short job ended")  # finished when recovery looks
    found = hook.find_started_run("R", marker, lookup_by_name=True, parameters={"Asset": "A"})
    assert (found.run_id, found.job_id, found.state) == (started.run_id, "12", JobState.SUCCESS)
    assert found.details["template_name"] == "R" and found.details["parameter_names"] == ["Asset"]
    assert found.details["adopted"] is True
    again = asyncio.run(hook.afind_started_run("R", marker, lookup_by_name=True))
    assert again.run_id == started.run_id


def test_two_new_jobs_of_the_user_are_not_guessed_between(nexus, hook):
    nexus.add_template("R", key=12, running=5)
    marker = hook.start_marker("12")
    first, second = hook.start_run("12"), hook.start_run("12")
    with pytest.raises(AmbiguousStartError, match="2 server jobs .* adopts none and starts nothing more") as err:
        hook.find_started_run("12", marker)
    assert first.run_id in str(err.value) and second.run_id in str(err.value)


def test_no_listing_before_6_9_means_recovery_cannot_look(nexus, connect):
    nexus.version = "6.8"
    connect()
    nexus.add_template("R", key=12)
    hook = NexusICHook()
    marker = hook.start_marker("12")
    assert marker["listing"] is False and "seen" not in marker
    hook.start_run("12")
    with pytest.raises(NotImplementedError, match="no job listing"):
        hook.find_started_run("12", marker)


def test_a_failing_listing_does_not_stop_the_start(nexus, hook, output):
    nexus.add_template("R", key=12)
    hook.licence()
    nexus.state.add_fault("nexus_ic", "/jobStatus$", [500] * 5)
    with captured_logs() as logs:
        marker = hook.start_marker("12")
    assert marker["listing"] is None and "the job listing failed" in "\n".join(logs.records) + output()
    with pytest.raises(NotImplementedError, match="gave no job listing just before the start"):
        hook.find_started_run("12", marker)


def test_status_form_falls_back_when_the_server_does_not_know_it(nexus, connect, output):
    nexus.add_template("R", key=12, running=5)
    # an IC-Web 6.8 told to read jobStatus/{id}: that route is a 404 "Not Found", so the hook reads ?id=
    nexus.version = "6.8"
    connect(extra={"api_version": "6.8", "job_status_form": "path"})
    hook = NexusICHook()
    run = hook.start_run("12")
    with captured_logs() as logs:
        assert hook.get_run(run).run_id == run.run_id
        assert hook.get_run(run).run_id == run.run_id
    assert hook.status_form == "query" and "reading jobs with jobStatus?id=" in "\n".join(logs.records) + output()
    paths = [s.path for s in nexus.state.requests("nexus_ic", path_regex="/jobStatus")]
    assert paths[-3:] == [f"/icweb.dll/jobStatus/{run.run_id}", "/icweb.dll/jobStatus", "/icweb.dll/jobStatus"]
    # an unknown job on that server is still a clear not-found, not a loop
    with pytest.raises(NotFoundError, match="was not found"):
        NexusICHook().job_status("{0}")


def test_a_6_9_server_read_with_the_old_form_answers_from_its_listing(nexus, connect):
    nexus.add_template("R", key=12, running=5)
    connect(extra={"job_status_form": "query"})  # a 6.9 server ignores ?id= and lists every job
    hook = NexusICHook()
    run = hook.start_run("12")
    assert hook.get_run(run).run_id == run.run_id and hook.status_form == "path"
    assert hook.get_run(run).run_id == run.run_id
    paths = [s.path for s in nexus.state.requests("nexus_ic", path_regex="/jobStatus")]
    assert paths == ["/icweb.dll/jobStatus", f"/icweb.dll/jobStatus/{run.run_id}"]
    with pytest.raises(NotFoundError, match="not in the user's job list"):
        NexusICHook().job_status("{0}")


def test_job_status_form_setting_is_checked(connect, nexus):
    connect(extra={"job_status_form": "slash"})
    with pytest.raises(ConfigurationError, match="extra field 'job_status_form': 'slash' is not one of path, query"):
        NexusICHook().licence()


def test_sandbox_job_dismiss_is_6_9_only_and_for_finished_jobs(sandbox, nexus, connect, hook):
    import requests

    nexus.add_template("R", key=12, running=0.05)
    run = hook.start_run("12")
    token = {"hash": nexus.issued_hashes[-1]}
    url = f"{sandbox.url}/nexus_ic/icweb.dll/jobDismiss/{run.run_id}"
    wait_until_done(hook, run)
    assert requests.post(url, params=token, timeout=10).json()["dismissed"] is True
    (listed,) = hook.list_jobs()
    assert listed["dismissed"] is True and listed["canDismiss"] is False
    nexus.version = "6.8"
    assert requests.post(url, params=token, timeout=10).status_code == 404
