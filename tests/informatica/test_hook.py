"""InformaticaCloudHook over real HTTP to the sandbox: logins, sessions, start, status, stop, errors."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest
import requests

from airflow_provider_jobs.core.auth import credential_cache
from airflow_provider_jobs.core.errors import (
    AmbiguousStartError,
    ApiError,
    AuthenticationError,
    ConfigurationError,
    JobAlreadyRunningError,
    NotFoundError,
    TransientApiError,
)
from airflow_provider_jobs.core.runs import JobState
from airflow_provider_jobs.hooks.informatica import (
    TASK_TYPES,
    InformaticaCloudHook,
    pod_url,
    require_task_path,
)
from airflow_provider_jobs.sandbox.informatica import PASSWORD, USER
from tests.support import age_credentials, assert_no_secret, captured_logs, idle_for, wait_until, wait_until_done

PASS = {"kind": "delay", "seconds": 0}  # a fault that changes nothing: lets later faults hit later calls



def job_bodies(iics) -> list[dict]:
    return [r.body for r in iics.runs if r.started_by == USER]


@pytest.mark.parametrize(
    ("word", "state"),
    [("QUEUED", JobState.QUEUED), ("INITIALIZED", JobState.QUEUED), ("RUNNING", JobState.RUNNING),
     ("STOPPING", JobState.RUNNING), ("COMPLETED", JobState.RUNNING), ("FAILED", JobState.FAILED),
     ("SUCCESS", JobState.SUCCESS), ("WARNING", JobState.SUCCESS_WITH_WARNINGS), ("1", JobState.SUCCESS),
     ("2", JobState.SUCCESS_WITH_WARNINGS), ("3", JobState.FAILED), ("suspended", JobState.FAILED),
     ("PAUSED", JobState.RUNNING)],
)
def test_state_mapping(word, state):
    assert InformaticaCloudHook.states(word) == state
    assert InformaticaCloudHook.states.knows(word) == (word != "PAUSED")


def test_pod_url_and_paths():
    assert pod_url("https://na4.dm-us.informaticacloud.com/saas") == "https://na4.dm-us.informaticacloud.com"
    assert pod_url("https://na4.dm-us.informaticacloud.com/saas/") == "https://na4.dm-us.informaticacloud.com"
    assert require_task_path("/Sales/ Daily /Load Customers/") == "Sales/Daily/Load Customers"
    for bad in ("Load", "Sales//Load", "Sales/../Load", ""):
        with pytest.raises(ConfigurationError, match="^task_path"):
            require_task_path(bad)


def test_v2_login_sends_every_call_to_the_server_url_of_the_answer(iics, hook):
    task = iics.add_task("Load", running=0.1)
    run = hook.start_run(task.task_id, task_type="MTT")
    assert asyncio.run(hook.aget_run(run)).run_id == run.run_id
    assert wait_until_done(hook, run).state == JobState.SUCCESS
    served = iics.state.requests("informatica")
    assert served[0].path == "/ma/api/v2/user/login"
    assert {s.path.split("/saas/")[0] for s in served[1:]} == {"/na4"}
    assert iics.logins == 1  # one session for sync and async calls
    assert run.details["server_url"].endswith("/informatica/na4/saas")
    # a login on another POD moves every call there
    iics.pod = "eu7"
    credential_cache.clear()
    assert InformaticaCloudHook().get_run(run).state == JobState.SUCCESS
    assert {s.path.split("/saas/")[0] for s in iics.state.requests("informatica", path_regex="activity")[-2:]} \
        == {"/eu7"}


def test_v3_login_session_works_for_v2_and_v3_calls(iics, connect):
    connect(extra={"api_version": "v3"})
    hook = InformaticaCloudHook()
    task = iics.add_task("Load Customers", path="Sales/Daily/Load Customers", running=0.1)
    run = hook.start_run("Sales/Daily/Load Customers", task_type="MTT", by="path")
    assert wait_until_done(hook, run).state == JobState.SUCCESS
    assert [s.path for s in iics.state.requests("informatica", path_regex="login")] == ["/saas/public/core/v3/login"]
    assert iics.lookups == [{"path": "Sales/Daily/Load Customers", "type": "MTT"}]
    assert job_bodies(iics) == [{"@type": "job", "taskType": "MTT", "taskFederatedId": task.federated_id}]
    assert all(s.status == 200 for s in iics.state.requests("informatica"))


def test_each_task_type_is_started_with_its_type_code(iics, hook):
    runs = []
    for code in TASK_TYPES:
        task = iics.add_task(f"{code} task", task_type=code, running=0.1)
        runs.append(hook.start_run(task.task_id, task_type=code.lower()))
    assert [b["taskType"] for b in job_bodies(iics)] == list(TASK_TYPES)
    assert all(wait_until_done(hook, r).state == JobState.SUCCESS for r in runs)
    assert {r.details["task_type"] for r in runs} == set(TASK_TYPES)


def test_each_way_of_naming_a_task(iics, hook):
    task = iics.add_task("Sync Accounts", task_type="DSS", path="CRM/Nightly/Sync Accounts", running=5,
                         allow_concurrent=True)
    by_id = hook.start_run(task.task_id, task_type="DSS")
    by_fid = hook.start_run(task.federated_id, task_type="DSS", by="federated_id")
    by_name = hook.start_run("Sync Accounts", task_type="DSS", by="name")
    by_path = hook.start_run("CRM/Nightly/Sync Accounts", task_type="DSS", by="path")
    assert [b.get("taskId") or b.get("taskFederatedId") or b.get("taskName") for b in job_bodies(iics)] == [
        task.task_id, task.federated_id, "Sync Accounts", task.federated_id]
    assert [r.run_id for r in (by_id, by_fid, by_name, by_path)] == ["1", "2", "3", "4"]
    assert {r.details["task_id"] for r in (by_id, by_fid, by_name, by_path)} == {task.task_id}
    assert by_path.job_id == "CRM/Nightly/Sync Accounts" and by_path.details["task_path"] == task.path


def test_callback_url_and_parameter_files_are_passed_through(iics, hook):
    task = iics.add_task("Load", running=0.1, allow_concurrent=True)
    run = hook.start_run(task.task_id, task_type="MTT", callback_url="https://example.com/iics",
                         parameter_file_name="load.param", parameter_file_dir="/agent/params")
    (body,) = job_bodies(iics)
    assert body == {"@type": "job", "taskType": "MTT", "taskId": task.task_id,
                    "callbackURL": "https://example.com/iics",
                    "runtime": {"@type": "mtTaskRuntime", "parameterFileName": "load.param",
                                "parameterFileDir": "/agent/params"}}
    assert run.details["callback_url"] == "https://example.com/iics"
    assert iics.runs[0].parameter_file == ("load.param", "/agent/params")
    hook.start_run(task.task_id, task_type="MTT", parameter_file_name="only.param")
    assert job_bodies(iics)[1]["runtime"] == {"@type": "mtTaskRuntime", "parameterFileName": "only.param"}
    with pytest.raises(ConfigurationError, match="^callback_url"):
        hook.start_run(task.task_id, task_type="MTT", callback_url="ftp://x")
    with pytest.raises(ConfigurationError, match="^inputs"):
        hook.start_run(task.task_id, task_type="MTT", inputs={"a": 1})


def test_sandbox_refuses_parameter_files_outside_runtime(iics, hook, sandbox):
    """As "Starting a job" documents them: a top-level parameterFileName is not a field of the job object."""
    task = iics.add_task("Load", running=0.1, allow_concurrent=True)
    hook.start_run(task.task_id, task_type="MTT")  # logs in
    session = iics.issued_sessions[0]
    url = f"{sandbox.url}/informatica/na4/saas/api/v2/job"
    headers = {"icSessionId": session, "Accept": "application/json"}
    bad = requests.post(url, headers=headers, timeout=5, json={
        "@type": "job", "taskId": task.task_id, "taskType": "MTT", "parameterFileName": "load.param"})
    assert bad.status_code == 400 and "runtime" in bad.json()["description"]
    wrong = requests.post(url, headers=headers, timeout=5, json={
        "@type": "job", "taskId": task.task_id, "taskType": "MTT", "runtime": {"parameterFileName": "x"}})
    assert wrong.status_code == 400
    assert len(iics.runs) == 1


def test_unknown_task_or_path_is_a_clear_error(iics, hook):
    iics.add_task("Load", path="Sales/Load")
    with pytest.raises(NotFoundError, match=r"MTT task id '0100000Z999' was not found.*task_path"):
        hook.start_run("0100000Z999", task_type="MTT")
    with pytest.raises(NotFoundError, match=r"no MTT task at the path 'Sales/Nope'.*Explore"):
        hook.start_run("Sales/Nope", task_type="MTT", by="path")
    with pytest.raises(NotFoundError, match=r"no DSS task at the path 'Sales/Load'"):  # right path, wrong type
        asyncio.run(hook.astart_run("Sales/Load", task_type="DSS", by="path"))
    assert iics.starts() == 0


@pytest.mark.parametrize(
    ("final", "state", "key", "text"),
    [("1", JobState.SUCCESS, None, None),
     ("2", JobState.SUCCESS_WITH_WARNINGS, "warning", "3 rows were rejected by the target."),
     ("3", JobState.FAILED, "message", "FATAL: [SQL Server]Invalid object name 'dbo.Customers'.")],
)
def test_final_state_rows_and_error_message_from_the_activity_log(iics, hook, final, state, key, text):
    task = iics.add_task("Load", running=0.1, final=final, rows=250)
    run = wait_until_done(hook, hook.start_run(task.task_id, task_type="MTT"))
    assert (run.state, run.details["log_state"]) == (state, int(final))
    assert run.details["success_source_rows"] == (125 if final == "3" else 250)
    assert run.details["success_target_rows"] == {"1": 250, "2": 247, "3": 0}[final]
    assert run.details["failed_target_rows"] == (3 if final == "2" else 0)
    assert run.started_at and run.ended_at and run.progress is None  # IICS gives no percent complete
    if key:
        assert run.details[key] == text == run.details["error_message"]
    else:
        assert "error_message" not in run.details and "message" not in run.details


def test_entry_times_prefer_utc_and_convert_eastern():
    from airflow_provider_jobs.hooks.informatica import entry_time

    assert entry_time({"startTime": "2026-07-01T08:00:00.000", "startTimeUtc": "2026-07-01T12:00:00.000Z"},
                      "startTime") == "2026-07-01T12:00:00.000Z"
    # the Eastern field alone: daylight saving (UTC-4) in July, standard time (UTC-5) in January
    assert entry_time({"startTime": "2026-07-01T08:00:00.000"}, "startTime") == "2026-07-01T12:00:00.000Z"
    assert entry_time({"startTime": "2026-01-15T08:00:00.000Z"}, "startTime") == "2026-01-15T13:00:00.000Z"
    assert entry_time({"endTime": "2026-01-15T08:00:00-05:00"}, "endTime") == "2026-01-15T13:00:00.000Z"
    assert entry_time({"endTime": None}, "endTime") is None
    assert entry_time({"startTime": "yesterday"}, "startTime") == "yesterday"  # kept as given


def test_monitor_times_are_read_in_utc(iics, hook):
    task = iics.add_task("Timed", running=0.4, queued=0.01)
    run = hook.start_run(task.task_id, task_type="MTT")
    (sim,) = iics.runs
    entry = next(e for e in hook.activity_monitor() if e["taskId"] == task.task_id)
    assert entry["startTime"] != entry["startTimeUtc"]  # Eastern wall clock beside UTC
    going = hook.get_run(run)
    expected = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sim.created))
    assert going.started_at.startswith(expected) and going.started_at.endswith("+00:00")
    done = wait_until_done(hook, run)
    assert done.ended_at.startswith(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sim.ended_at)))
    assert done.started_at == going.started_at


def test_another_job_of_the_org_with_the_same_run_id_is_not_ours(iics, hook):
    other = iics.add_task("Other", running=30, final="3")
    elsewhere = iics.start_elsewhere(other)
    ours_task = iics.add_task("Ours", running=0.2, allow_concurrent=True)
    before = iics.start_elsewhere(ours_task)  # run 1 of our task, started by a schedule
    ours = hook.start_run(ours_task.task_id, task_type="MTT")
    assert (elsewhere.run_id, before.run_id, ours.run_id) == ("1", "1", "2")
    before.request_stop(False)
    done = wait_until_done(hook, ours)
    assert done.state == JobState.SUCCESS and done.details["success_source_rows"] == 100
    assert not elsewhere.finished
    monitor = requests.get(f"{done.details['server_url']}/api/v2/activity/activityMonitor", timeout=5,
                           headers={"icSessionId": iics.issued_sessions[-1], "Accept": "application/json"}).json()
    assert [(e["taskName"], e["runId"]) for e in monitor] == [("Other", 1)]


def test_a_run_not_yet_visible_and_one_between_monitor_and_log(iics, hook):
    late = iics.add_task("Late", running=1.0, visible_after=0.5)
    run = hook.start_run(late.task_id, task_type="MTT")
    with pytest.raises(NotFoundError, match="in neither the activity monitor nor the activity log yet"):
        hook.get_run(run)
    (sim,) = iics.runs_of(late)
    wait_until(lambda: sim.place() != "hidden", "the late run shows in the activity monitor")
    assert not hook.get_run(run).is_terminal

    gap = iics.add_task("Gap", running=0.2, log_delay=0.6)
    run = hook.start_run(gap.task_id, task_type="MTT")
    seen = hook.get_run(run)
    (sim,) = iics.runs_of(gap)
    wait_until(lambda: sim.place() == "gap", "the run has left the monitor (and not reached the log)")
    gone = time.time()
    between = hook.get_run(seen)
    assert between.state == JobState.RUNNING and between.vendor_state is None
    assert between.summary == "between the activity monitor and the activity log"
    # the wait's not-found grace now counts from when the run left the monitor, not from its start
    assert between.details["absent_since"] >= gone > sim.created
    with pytest.raises(NotFoundError, match="it left the monitor and has not reached the log"):
        hook.get_run(between)
    wait_until(lambda: sim.place() == "log", "the run reaches the activity log")
    done = hook.get_run(between)
    assert done.state == JobState.SUCCESS and "absent_since" not in done.details


def test_completed_in_the_monitor_waits_for_the_log_and_failed_is_final(iics, hook):
    warned = iics.add_task("Warned", running=0.1, final="2", monitor_linger=1.0)
    run = hook.start_run(warned.task_id, task_type="MTT")
    (sim,) = iics.runs_of(warned)
    wait_until(lambda: sim.finished, "the simulated run 'Warned' finishes")
    completing = hook.get_run(run)
    assert (completing.state, completing.vendor_state) == (JobState.RUNNING, "COMPLETED")
    assert "waiting for its activity log entry" in completing.summary
    assert wait_until_done(hook, completing).state == JobState.SUCCESS_WITH_WARNINGS

    failed = iics.add_task("Failed", running=0.1, final="3", monitor_linger=5)
    run = hook.start_run(failed.task_id, task_type="MTT")
    (sim,) = iics.runs_of(failed)
    wait_until(lambda: sim.finished, "the simulated run 'Failed' finishes")
    done = hook.get_run(run)
    assert (done.state, done.vendor_state) == (JobState.FAILED, "FAILED")
    assert done.details["message"].startswith("FATAL")


def test_expired_session_means_one_new_login(iics, hook):
    task = iics.add_task("Long", running=5)
    run = hook.start_run(task.task_id, task_type="MTT")
    iics.expire_credentials()
    assert not hook.get_run(run).is_terminal
    iics.expire_credentials()
    assert not asyncio.run(hook.aget_run(run)).is_terminal
    assert iics.logins == 3
    monitor = [s.status for s in iics.state.requests("informatica", path_regex="activityMonitor")]
    assert monitor == [401, 200, 401, 200]


def test_new_login_before_the_idle_timeout(iics, connect):
    iics.idle_timeout = 30.0
    connect(extra={"session_idle_timeout": 30})
    hook = InformaticaCloudHook()
    hook.activity_monitor()
    idle_for(28.0, iics, hook)  # still open on the server; within the hook's margin (3 s) of its idle timeout
    hook.activity_monitor()
    assert iics.logins == 2
    assert 401 not in [s.status for s in iics.state.requests("informatica")]  # renewed before, not after


@pytest.mark.parametrize(("version", "status"), [("v2", 400), ("v3", 401)])
def test_wrong_credentials_name_the_connection_never_the_password(iics, connect, version, status):
    connect(password="wrong-password-123", extra={"api_version": version})
    with captured_logs() as logs, pytest.raises(AuthenticationError) as err:
        InformaticaCloudHook().activity_monitor()
    text = str(err.value)
    assert re.search(rf"refused the login of connection 'informatica_cloud_default' on 127.0.0.1:\d+ \(HTTP "
                     rf"{status}, (UI_10000|AUTH_01): Invalid user name or password\.\)", text)
    assert f"user name ({USER}) and password" in text
    assert len(iics.state.requests("informatica")) == 1  # no retry of a refused login
    assert_no_secret("wrong-password-123", text, logs.records)


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_logout_ends_the_session(iics, connect, version):
    connect(extra={"api_version": version})
    hook = InformaticaCloudHook()
    hook.activity_monitor()
    hook.logout()
    assert iics.logouts == 1 and iics.sessions == {}
    hook.logout()  # nothing cached: nothing to do
    assert iics.logouts == 1
    hook.activity_monitor()
    assert iics.logins == 2
    # v3: on the login host (https://dm-<pod>.informaticacloud.com/saas/public/core/v3/logout); v2: on serverUrl
    expected = "/saas/public/core/v3/logout" if version == "v3" else "/na4/saas/api/v2/user/logout"
    assert [s.path for s in iics.state.requests("informatica", path_regex="logout")] == [expected]
    (where,) = iics.logout_requests
    login_host = hook.settings.base_url.split("://", 1)[1].split("/", 1)[0]
    assert (where["version"], where["host"], where["path"]) == (version, login_host, "/informatica" + expected)


def test_both_error_shapes_are_quoted(iics, hook, sandbox):
    sandbox.fault("informatica", "/api/v2/job$", {"kind": "status", "status": 400, "body": json.dumps(
        {"@type": "error", "code": "UI_10000", "description": "Field taskType is invalid.", "statusCode": 400})})
    with pytest.raises(ApiError, match=r"start job failed \(HTTP 400, UI_10000\): Field taskType is invalid"):
        hook.start_run("0100000Z1", task_type="MTT")
    sandbox.fault("informatica", "/lookup$", {"kind": "status", "status": 403, "body": json.dumps(
        {"error": {"code": "CORE_403", "message": "No permission on the folder.", "requestId": "x1"}})})
    with pytest.raises(ApiError, match=r"lookup failed \(HTTP 403, CORE_403\): No permission on the folder"):
        hook.lookup("Sales/Load", "MTT")


def test_taskflow_service_start_inputs_and_status(iics, hook):
    flow = iics.add_taskflow("Refresh_Dashboard", running=0.6)
    run = hook.start_run("Refresh_Dashboard", task_type="TASKFLOW_SERVICE", by="name",
                         inputs={"region": "EMEA", "limit": 5})
    (flow_run,) = flow.runs
    assert flow_run.inputs == {"region": "EMEA", "limit": 5}
    assert run.run_id == flow_run.run_id and len(run.run_id) == 18  # a 64-bit id kept exact, as a string
    assert run.details["input_names"] == ["limit", "region"]
    assert asyncio.run(hook.aget_run(run)).state == JobState.RUNNING
    done = wait_until_done(hook, run)
    assert (done.state, done.details["location"]) == (JobState.SUCCESS, "Default")
    (start,) = iics.state.requests("informatica", path_regex="/rt/")
    assert start.path == "/na4/active-bpel/rt/Refresh_Dashboard"

    iics.add_taskflow("Stuck", running=0.1, final="SUSPENDED")
    stuck = wait_until_done(hook, hook.start_run("Stuck", task_type="TASKFLOW_SERVICE", by="name"))
    assert stuck.state == JobState.FAILED and "suspended" in stuck.details["message"]
    assert "resume it in Monitor" in stuck.details["message"] and "resume_taskflow" in stuck.details["message"]
    with pytest.raises(NotFoundError, match="no taskflow is published as the service 'Nope'.*Publish"):
        hook.start_run("Nope", task_type="TASKFLOW_SERVICE", by="name")
    with pytest.raises(NotImplementedError, match="published as a service cannot be listed by name"):
        hook.find_active_run("Stuck", task_type="TASKFLOW_SERVICE", by="name")


@pytest.mark.parametrize("word", ["SUCCESS", "WARNING", "FAILED", "SUSPENDED", "STOPPED"])
def test_taskflow_status_words(iics, hook, word):
    iics.add_taskflow("Flow", running=0.05, final=word)
    done = wait_until_done(hook, hook.start_run("Flow", task_type="TASKFLOW_SERVICE", by="name"))
    expected = {"SUCCESS": JobState.SUCCESS, "WARNING": JobState.SUCCESS_WITH_WARNINGS, "FAILED": JobState.FAILED,
                "SUSPENDED": JobState.FAILED, "STOPPED": JobState.CANCELLED}[word]
    assert (done.state, done.vendor_state) == (expected, word)


def test_taskflow_terminate_and_resume(iics, hook):
    iics.add_taskflow("Long", running=30)
    run = hook.start_run("Long", task_type="TASKFLOW_SERVICE", by="name")
    assert hook.cancel_run(run) is True
    (terminate,) = iics.state.requests("informatica", "PUT", "terminate")
    assert (terminate.path, terminate.status) == ("/na4/active-bpel/services/tf/terminate", 200)
    assert iics.taskflow_actions == [{"action": "terminate", "run_ids": [run.run_id], "status": 200}]
    stopped = hook.get_run(run)
    assert (stopped.state, stopped.vendor_state) == (JobState.CANCELLED, "STOPPED")
    assert hook.cancel_run(run) is False  # ended: nothing sent
    assert len(iics.taskflow_actions) == 1

    iics.add_taskflow("Faulty", running=0.05, final="SUSPENDED", resume_running=0.1)
    for mode, resource in (("retry", "resumeWithFaultRetry"), ("SKIP", "resumeWithFaultSkip")):
        suspended = wait_until_done(hook, hook.start_run("Faulty", task_type="TASKFLOW_SERVICE", by="name"))
        assert suspended.vendor_state == "SUSPENDED"
        resumed = hook.resume_taskflow(suspended.run_id, mode=mode)
        assert (resumed.state, resumed.vendor_state) == (JobState.RUNNING, "RUNNING")
        assert iics.taskflow_actions[-1] == {"action": resource, "run_ids": [suspended.run_id], "status": 204}
        (put,) = iics.state.requests("informatica", "PUT", resource)
        assert put.path == f"/na4/active-bpel/management/runtime/v1/{resource}/{suspended.run_id}"
        assert wait_until_done(hook, resumed).state == JobState.SUCCESS
    with pytest.raises(ApiError, match="is SUCCESS, not SUSPENDED: only a suspended taskflow can be resumed"):
        hook.resume_taskflow(suspended.run_id)
    with pytest.raises(ConfigurationError, match="^mode"):
        hook.resume_taskflow(suspended.run_id, mode="again")
    # a suspended run can be terminated too
    held = wait_until_done(hook, hook.start_run("Faulty", task_type="TASKFLOW_SERVICE", by="name"))
    assert hook.cancel_run(held) is True and hook.get_run(held).vendor_state == "STOPPED"


def test_cancel_stops_only_a_run_that_is_ours_and_running(iics, connect):
    connect()
    hook = InformaticaCloudHook(clean_stop=True)
    task = iics.add_task("Long", running=30, stopping=0.5)
    run = hook.start_run(task.task_id, task_type="MTT")
    assert hook.cancel_run(run) is True
    assert iics.stop_requests == [{"task_id": task.task_id, "clean_stop": True, "run_ids": ["1"]}]
    (stop,) = iics.state.requests("informatica", path_regex="/job/stop$")
    assert stop.query == "cleanStop=true"
    assert hook.get_run(run).vendor_state == "STOPPING"
    assert hook.cancel_run(run) is False  # already stopping: no second stop
    stopped = wait_until_done(hook, run)
    # logged as state 3 with isStopped: a stopped run is cancelled, not failed
    assert (stopped.state, stopped.vendor_state) == (JobState.CANCELLED, "STOPPED")
    assert "stopped" in stopped.details["message"]
    assert asyncio.run(hook.acancel_run(stopped)) is False  # not in the monitor any more
    assert len(iics.stop_requests) == 1


def test_stop_task_by_path_and_when_nothing_runs(iics, hook):
    task = iics.add_task("Load", task_type="WORKFLOW", path="Ops/Load", running=30)
    assert hook.stop_task("Ops/Load", task_type="WORKFLOW", by="path") is False
    hook.start_run("Ops/Load", task_type="WORKFLOW", by="path")
    assert hook.stop_task("Ops/Load", task_type="WORKFLOW", by="path") is True
    assert [r["run_ids"] for r in iics.stop_requests] == [[], ["1"]]
    assert iics.state.requests("informatica", path_regex="/job/stop$")[-1].query == ""
    assert iics.runs_of(task)[0].stopped


def test_find_active_run_by_each_reference(iics, hook):
    task = iics.add_task("Busy", task_type="PCS", path="Ops/Busy", running=30)
    assert hook.find_active_run(task.task_id, task_type="PCS") is None
    started = hook.start_run(task.task_id, task_type="PCS")
    for ref, by in ((task.task_id, "id"), (task.federated_id, "federated_id"), ("Busy", "name"),
                    ("Ops/Busy", "path")):
        found = hook.find_active_run(ref, task_type="PCS", by=by)
        assert (found.run_id, found.details["task_id"], found.job_id) == (started.run_id, task.task_id, ref)
    assert hook.find_active_run("Busy", task_type="MTT", by="name") is None  # another type


def test_second_start_of_a_running_task_says_it_is_already_running(iics, hook):
    task = iics.add_task("Busy", running=30)
    hook.start_run(task.task_id, task_type="MTT")
    with pytest.raises(JobAlreadyRunningError, match="already running"):
        hook.start_run(task.task_id, task_type="MTT")


def test_transient_errors_are_retried_and_a_dropped_start_is_not_resent(iics, hook, sandbox):
    task = iics.add_task("Long", running=30)
    run = hook.start_run(task.task_id, task_type="MTT")
    sandbox.fault("informatica", "activityMonitor", 503, 502)
    assert not hook.get_run(run).is_terminal
    sandbox.fault("informatica", "activityMonitor", *[504] * 5)
    with pytest.raises(TransientApiError, match=r"activity monitor failed \(HTTP 504"):
        hook.get_run(run)
    other = iics.add_task("Other", running=30)
    sandbox.fault("informatica", "/api/v2/job$", "drop_after")
    with pytest.raises(AmbiguousStartError, match="not sent again blindly"):
        hook.start_run(other.task_id, task_type="MTT")
    assert len(iics.runs_of(other)) == 1
    flow = iics.add_taskflow("Flow", running=30)
    sandbox.fault("informatica", "/rt/Flow$", 502)
    with pytest.raises(AmbiguousStartError, match="start taskflow: HTTP 502"):
        hook.start_run("Flow", task_type="TASKFLOW_SERVICE", by="name")
    assert flow.runs == []


def test_connection_test_button(iics, hook, connect):
    iics.start_elsewhere(iics.add_task("Busy", running=30))
    ok, message = hook.test_connection()
    assert ok and message.startswith(f"Connected to Informatica Cloud as {USER} (org 0100000, v2 login)")
    assert message.endswith("1 job(s) running.")
    connect(password="nope-nope")
    ok, message = InformaticaCloudHook().test_connection()
    assert not ok and "refused the login" in message and "nope-nope" not in message


@pytest.mark.parametrize(
    ("overrides", "match"),
    [({"host": ""}, "host: is empty.*region"),
     ({"login": ""}, "login: is empty"),
     ({"password": ""}, "password: is empty"),
     ({"extra": {"api_version": "v4"}}, "extra field 'api_version': 'v4' is not one of v2, v3"),
     ({"extra": {"region": "us"}}, "extra field 'region': 'us' names the login host https://dm-us"),
     ({"extra": {"region": "u s"}}, "extra field 'region': 'u s' is not a region code"),
     ({"extra": {"session_idle_timeout": 0}}, "extra field 'session_idle_timeout': is 0"),
     ({"extra": {"monitor_url_template": "{pod}/x"}}, "extra field 'monitor_url_template'.*unknown placeholder")],
)
def test_connection_errors_name_the_field(iics, connect, overrides, match):
    connect(**overrides)
    with pytest.raises(ConfigurationError, match=match):
        InformaticaCloudHook().activity_monitor()
    assert iics.state.requests("informatica") == []


def test_region_and_login_urls_in_the_host(connect):
    connect(host="", extra={"region": "EM"})
    assert InformaticaCloudHook().settings.base_url == "https://dm-em.informaticacloud.com"
    # login host prefixes and POD names of the v3 login page's table
    for region, host in (("dm1-us", "dm1-us"), ("DM2-US", "dm2-us"), ("dm1-apse", "dm1-apse"),
                         ("dm1-apau", "dm1-apau"), ("dm1-em", "dm1-em"), ("dm-us", "dm-us"), ("USW1-1", "dm1-us"),
                         ("apauc1", "dm1-apau"), ("UK1", "dm-uk"), ("dm3-xy", "dm3-xy"),
                         ("dm1-ap.informaticacloud.com", "dm1-ap")):
        connect(host="", extra={"region": region})
        assert InformaticaCloudHook().settings.base_url == f"https://{host}.informaticacloud.com", region
    connect(host="", extra={"region": "dm-1us"})
    with pytest.raises(ConfigurationError, match="'dm-1us' is not a region code.*dm1-us, dm2-us.*dm1-apau.*USW1-1"):
        InformaticaCloudHook().settings  # noqa: B018
    connect(host="https://dm-us.informaticacloud.com/ma/api/v2/user/login", extra={"region": "us"})
    assert InformaticaCloudHook().settings.base_url == "https://dm-us.informaticacloud.com"
    connect(extra={"api_version": "3"})
    assert InformaticaCloudHook().settings.api_version == "v3"
    with pytest.raises(ConfigurationError, match="^clean_stop"):
        InformaticaCloudHook(clean_stop="yes")


def test_jwt_session_token_is_renewed_before_its_hard_expiry(iics, connect):
    """An org with JWT session tokens: the token dies at its exp however busy it is. The hook logs in again
    before then (no 401 on the way)."""
    iics.jwt_lifetime = 600.0
    connect()
    hook = InformaticaCloudHook()
    hook.activity_monitor()
    credential = credential_cache.get(hook._cache_key())
    assert credential.secret.count(".") == 2 and credential.expires_at is not None
    assert credential.expires_at - time.time() <= 600.0
    first = iics.issued_sessions[0]
    # used all along, so never idle: aged to 10 s before its hard expiry (within the hook's 60 s margin, still
    # valid on the server) instead of waited for
    age_credentials(590.0, iics, hook)
    hook.activity_monitor()
    assert iics.logins == 2 and first in iics.sessions  # logged in again while the old token still held
    assert [s.status for s in iics.state.requests("informatica", path_regex="activityMonitor")].count(401) == 0
    # a classic session id has no hard expiry
    iics.jwt_lifetime = None
    connect()
    fresh = InformaticaCloudHook()
    fresh.activity_monitor()
    assert credential_cache.get(fresh._cache_key()).expires_at is None


def test_monitor_link_follows_the_template(iics, connect):
    connect(extra={"monitor_url_template": "{pod_url}/monitor/{task_type}/{task_id}/{run_id}?job={job}"})
    hook = InformaticaCloudHook()
    task = iics.add_task("Load Customers", path="Sales/Load Customers", running=0.1)
    run = hook.start_run("Sales/Load Customers", task_type="MTT", by="path")
    pod = run.details["server_url"].removesuffix("/saas")
    assert run.url == f"{pod}/monitor/MTT/{task.task_id}/1?job=Sales%2FLoad%20Customers"
    assert wait_until_done(hook, run).url == run.url


def test_no_session_id_or_password_in_any_log_line_or_error(iics, hook, sandbox):
    task = iics.add_task("Load", running=0.1, final="3")
    iics.add_taskflow("Flow", running=0.1)
    with captured_logs() as logs:
        run = wait_until_done(hook, hook.start_run(task.task_id, task_type="MTT"))
        asyncio.run(hook.aget_run(run))
        flow = wait_until_done(hook, hook.start_run("Flow", task_type="TASKFLOW_SERVICE", by="name"))
        iics.expire_credentials()
        hook.get_run(run)
        errors = []
        for call in (lambda: hook.start_run("0100000Z9", task_type="MTT"),
                     lambda: hook.lookup("A/B", "MTT"), lambda: hook.resume_taskflow(flow.run_id)):
            with pytest.raises(ApiError) as err:
                call()
            errors.append(str(err.value))
        hook.logout()
    assert len(iics.issued_sessions) == 2
    for secret in [PASSWORD, *iics.issued_sessions]:
        assert_no_secret(secret, "\n".join(logs.records), errors, run.to_dict(), flow.to_dict(),
                         repr(hook.settings))


def test_sandbox_fidelity_xml_without_accept_and_admin_api(sandbox, iics, hook):
    hook.activity_monitor()
    server = f"{sandbox.url}/informatica/na4/saas"
    xml = requests.get(f"{server}/api/v2/activity/activityMonitor", headers={"icSessionId": iics.issued_sessions[0]},
                       timeout=5)
    assert xml.headers["Content-Type"].startswith("application/xml")
    wrong_header = requests.get(f"{server}/api/v2/activity/activityMonitor", timeout=5,
                                headers={"INFA-SESSION-ID": iics.issued_sessions[0], "Accept": "application/json"})
    assert wrong_header.status_code == 401 and wrong_header.json()["@type"] == "error"
    made = requests.post(f"{sandbox.url}/_admin/jobs", timeout=5, json={
        "vendor": "informatica", "job": {"name": "Via Admin", "type": "DRS", "path": "Ops/Via Admin",
                                         "running": 0.05}}).json()
    assert hook.lookup("Ops/Via Admin", "DRS")["id"] == made["federated_id"]
    flow = requests.post(f"{sandbox.url}/_admin/jobs", timeout=5, json={
        "vendor": "informatica", "job": {"kind": "taskflow", "name": "Admin_Flow"}}).json()
    assert flow["name"] == "Admin_Flow" and "Admin_Flow" in iics.taskflows
