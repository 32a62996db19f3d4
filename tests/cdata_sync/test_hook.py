"""CDataSyncHook over real HTTP to the sandbox: every call, sync and async, each error, run identification."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_jobs.core.errors import (
    AmbiguousStartError,
    ApiError,
    AuthenticationError,
    ConfigurationError,
    JobAlreadyRunningError,
    MalformedResponseError,
    NotFoundError,
    TransientApiError,
)
from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.hooks.cdata_sync import (
    CDataSyncHook,
    parse_time,
    pick_entry,
    stringify_ids,
    task_id_list,
)
from airflow_provider_jobs.sandbox.cdata_sync import FIRST_JOB_ID, TOKEN, USER
from tests.cdata_sync.conftest import five_tasks
from tests.support import assert_no_secret, captured_logs, wait_until, wait_until_done


# --- vocabulary and parsing -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "state"),
    [("Starting", JobState.QUEUED), ("Testing", JobState.RUNNING), ("Running", JobState.RUNNING),
     ("In progress", JobState.RUNNING), ("RUNNING", JobState.RUNNING), ("Successful", JobState.SUCCESS),
     ("SUCCESS", JobState.SUCCESS), ("Failed", JobState.FAILED), ("FAILED", JobState.FAILED),
     ("error", JobState.FAILED), ("Cancelled", JobState.CANCELLED), ("CANCELED", JobState.CANCELLED),
     ("Warning", JobState.SUCCESS_WITH_WARNINGS), ("Reindexing", JobState.RUNNING)],
)
def test_state_words_case_insensitively(word, state):
    assert CDataSyncHook.states(word) == state


def test_timestamps_in_every_shape():
    assert parse_time("2026-01-02T03:04:05.123Z").isoformat() == "2026-01-02T03:04:05.123000+00:00"
    assert parse_time("2025-02-21T09:31:08-05:00").isoformat() == "2025-02-21T09:31:08-05:00"
    assert parse_time("2026-01-02T03:04:05").isoformat() == "2026-01-02T03:04:05+00:00"  # zone-less: UTC
    assert parse_time(1767323045123).year == 2026 and parse_time("/Date(1767323045123)/").year == 2026
    assert parse_time("yesterday") is None and parse_time(None) is None


def test_ids_become_strings_without_losing_digits():
    body = {"id": 9007199254740993, "JobId": 9007199254740995, "task_ids": [9007199254750001], "valid": True,
            "tasks": [{"task_id": 9007199254750003, "records": 5}], "index": 2}
    assert stringify_ids(body) == {"id": "9007199254740993", "JobId": "9007199254740995",
                                   "task_ids": ["9007199254750001"], "valid": True,
                                   "tasks": [{"task_id": "9007199254750003", "records": 5}], "index": 2}


def test_pick_entry_takes_the_earliest_new_entry_after_the_moment():
    start = parse_time("2026-01-01T10:00:00Z")
    entries = [
        {"id": "3", "run_start_date": "2026-01-01T10:00:05Z"},  # a later run (the scheduler's, after ours)
        {"id": "2", "run_start_date": "2026-01-01T10:00:01Z"},  # ours
        {"id": "1", "run_start_date": "2026-01-01T09:59:00Z"},  # before our moment
        {"id": "0", "run_start_date": "2026-01-01T10:00:00Z"},  # already there before we executed
    ]
    assert pick_entry(entries, start, ["0"])["id"] == "2"
    assert pick_entry(entries, None, [], latest=True)["id"] == "3"
    assert pick_entry(entries, parse_time("2026-01-02T00:00:00Z"), []) is None


@pytest.mark.parametrize("bad", [[], "1,2", ["1", "1"], [1.5], [None], [""], ("x\ty",), 7])
def test_task_lists_are_checked(bad):
    with pytest.raises(ConfigurationError, match=r"^tasks"):
        task_id_list(bad)


# --- connection -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["", "/api.rsc", "/api.rsc/", "/api.rsc/v2"])
def test_base_url_gets_api_rsc_once(sandbox, connect, suffix):
    connect(host=f"{sandbox.url}/cdata_sync{suffix}")
    hook = CDataSyncHook()
    assert hook.settings.base_url == f"{sandbox.url}/cdata_sync/api.rsc"
    assert hook.settings.ui_url == f"{sandbox.url}/cdata_sync"
    assert hook.list_jobs() == []


def test_basic_auth_and_header_auth(sync, connect):
    sync.add_job("J")
    connect(extra={"auth_style": "basic"})
    assert len(CDataSyncHook().list_jobs()) == 1
    assert sync.state.requests("cdata_sync")[-1].status == 200
    connect(login="", extra={"auth_style": "header"})  # the token alone is enough
    assert len(CDataSyncHook().list_jobs()) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"password": ""}, "password"), ({"login": "", "extra": {"auth_style": "basic"}}, "login"),
     ({"extra": {"auth_style": "oauth"}}, "auth_style"), ({"extra": {"clock_skew_tolerance": "soon"}},
                                                          "clock_skew_tolerance"),
     ({"extra": {"job_url_template": "{ui_url}/{job}"}}, "job_url_template"),
     ({"extra": {"ui_url": "sync.example.com"}}, "ui_url"), ({"host": "ftp://sync"}, "host")],
)
def test_connection_errors_name_the_field(sandbox, connect, overrides, field):
    connect(**overrides)
    with pytest.raises(ConfigurationError, match=field):
        CDataSyncHook().list_jobs()
    assert sandbox.requests("cdata_sync") == []


def test_workspace_override_and_unknown_workspace(sync, connect):
    sync.add_job("In finance", workspace="finance")
    connect(extra={"workspace": "finance"})
    assert [j["name"] for j in CDataSyncHook().list_jobs()] == ["In finance"]
    assert CDataSyncHook(workspace="default").list_jobs() == []
    with pytest.raises(NotFoundError, match=r"'nope' was not found.*HTTP 404, WORKSPACE_NOT_FOUND.*workspace"):
        CDataSyncHook(workspace="nope").list_jobs()
    with pytest.raises(ConfigurationError, match="^workspace"):
        CDataSyncHook(workspace="")


def test_wrong_token_is_clear_and_secret_free(sync, connect):
    connect(password="wrong-token-123")
    with captured_logs() as logs, pytest.raises(AuthenticationError) as err:
        CDataSyncHook().list_jobs()
    assert "connection 'cdata_sync_default'" in str(err.value) and "UNAUTHORIZED" in str(err.value)
    assert_no_secret("wrong-token-123", str(err.value), logs.records)
    connect(password="wrong-token-123", extra={"auth_style": "basic"})
    with pytest.raises(AuthenticationError, match="connection 'cdata_sync_default'.*UNAUTHORIZED"):
        asyncio.run(CDataSyncHook().alist_jobs())


def test_connection_test_button(sync, hook, connect):
    sync.add_job("J")
    ok, message = hook.test_connection()
    assert ok and "workspace 'default' has 1 job(s)" in message
    connect(password="nope")
    ok, message = CDataSyncHook().test_connection()
    assert not ok and "refused the credentials" in message


# --- jobs --------------------------------------------------------------------------------------------------
def test_job_calls_sync_and_async(sync, hook):
    created = hook.create_job("Accounts copy", "reverseetl", source_connection_id="src-1",
                              destination_connection_id="dst-1", queries=["REPLICATE [Accounts]"],
                              settings={"schedule": {"enabled": False, "cron": ""}})
    assert created["id"] == str(FIRST_JOB_ID) and created["type"] == "ReverseETL"
    assert sync.jobs[FIRST_JOB_ID].settings["source_connection_id"] == "src-1"
    jobs = asyncio.run(hook.alist_jobs())
    assert [(j["id"], j["name"]) for j in jobs] == [(str(FIRST_JOB_ID), "Accounts copy")]
    assert hook.find_job("accounts COPY")["id"] == str(FIRST_JOB_ID)  # exact first, then ignoring case
    updated = hook.update_job(created["id"], {"name": "Accounts mirror", "schedule": {"enabled": True,
                                                                                       "cron": "0 * * * *"}})
    assert updated["name"] == "Accounts mirror" and sync.jobs[FIRST_JOB_ID].settings["schedule"]["enabled"] is True
    asyncio.run(hook.adelete_job(created["id"]))
    assert sync.jobs == {}
    with pytest.raises(NotFoundError, match=r"Job '9007199254740993' was not found.*JOB_NOT_FOUND.*list_jobs"):
        hook.delete_job(created["id"])


def test_find_job_names_what_is_there(sync, hook):
    sync.add_job("Alpha")
    sync.add_job("Beta")
    with pytest.raises(NotFoundError, match=r"no job named 'Gamma' in workspace 'default'.*Alpha, Beta"):
        hook.find_job("Gamma")
    sync.add_job("Beta")
    with pytest.raises(ApiError, match="2 jobs are named 'Beta'.*Give job_id"):
        hook.find_job("Beta")


def test_create_job_errors(sync, hook):
    hook.create_job("Twice")
    with pytest.raises(ApiError, match=r"create job failed \(HTTP 400, JOB_EXISTS\): A job named 'Twice'"):
        hook.create_job("Twice")
    with pytest.raises(ConfigurationError, match="^job_type"):
        hook.create_job("Other", "Nightly")
    with pytest.raises(ConfigurationError, match="^name"):
        hook.create_job("  ")


def test_running_job_cannot_be_updated_or_deleted(sync, hook):
    job = sync.add_job("Busy", [{"query": "REPLICATE [A]", "seconds": 5}])
    busy = sync.start(job)
    jid = str(job.job_id)
    with pytest.raises(JobAlreadyRunningError, match=r"cannot update job '9007199254740993'.*while the job is "
                                                     r"running \(HTTP 409, JOB_RUNNING.*cancel it"):
        hook.update_job(jid, {"name": "New"})
    with pytest.raises(JobAlreadyRunningError, match=r"cannot delete job .*while the job is running"):
        asyncio.run(hook.adelete_job(jid))
    wait_until(lambda: busy.task_states()[0]["status"] == "In progress", "the run is past Starting and Testing")
    with pytest.raises(JobAlreadyRunningError, match=r"cannot delete a task of job .*TASK_RUNNING"):
        hook.delete_task(jid, str(job.tasks[0].task_id))
    with pytest.raises(JobAlreadyRunningError, match=r"job '9007199254740993' is already running.*if_running"):
        hook.execute_job(jid)
    assert job.name == "Busy" and job.job_id in sync.jobs and len(sync.runs) == 1


# --- runs --------------------------------------------------------------------------------------------------
def test_execute_status_history_and_cancel_calls(sync, hook):
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 5}])
    jid = str(job.job_id)
    assert hook.job_status(jid)["status"] == "IDLE"
    assert hook.cancel_job(jid) is False  # not running
    answer = hook.execute_job(jid)
    assert answer["job_id"] == jid  # no run id in the answer
    status = asyncio.run(hook.ajob_status(jid))
    assert status["status"] in ("STARTING", "TESTING", "RUNNING")
    assert status["history_id"] == str(sync.runs[0].history_id)
    assert asyncio.run(hook.acancel_job(jid)) is True
    (entry,) = hook.list_history(jid)
    assert entry["status"] == "Cancelled" and isinstance(entry["id"], str)
    full = asyncio.run(hook.aget_history(jid, entry["id"]))
    assert full["tasks"][0]["status"] == "Cancelled" and full["tasks"][0]["task_id"] == str(job.tasks[0].task_id)
    with pytest.raises(NotFoundError, match=r"HISTORY_NOT_FOUND.*list_history"):
        hook.get_history(jid, "1")


def test_start_run_by_id_and_name_with_a_task_subset(sync, hook):
    job = sync.add_job("Salesforce", five_tasks())
    chosen = [str(job.tasks[3].task_id), str(job.tasks[1].task_id)]
    run = hook.start_run("Salesforce", lookup="name", tasks=chosen)
    assert run.job_id == str(job.job_id) and run.details["job_name"] == "Salesforce"
    assert run.run_id == str(sync.runs[0].history_id)  # pinned at once: the entry was visible
    assert run.details["tasks_requested"] == chosen
    (execute,) = sync.state.requests("cdata_sync", "POST", "/execute$")
    assert [t.task_id for t in sync.runs[0].tasks] == [job.tasks[1].task_id, job.tasks[3].task_id]
    done = wait_until_done(hook, run)
    assert done.state == JobState.SUCCESS and done.details["records_affected"] == 20
    assert [t["task_id"] for t in done.details["tasks"]] == [str(job.tasks[1].task_id), str(job.tasks[3].task_id)]
    assert done.progress == 100.0 and done.ended_at and done.started_at
    assert done.url == f"{hook.settings.ui_url}/jobs/{job.job_id}"
    again = asyncio.run(hook.astart_run(str(job.job_id)))
    assert again.run_id != run.run_id and len(sync.runs[1].tasks) == 5


def test_unknown_task_or_job_in_a_start(sync, hook):
    job = sync.add_job("J")
    with pytest.raises(NotFoundError, match=r"Task '42' was not found in job 'J'.*TASK_NOT_FOUND.*list_tasks"):
        hook.start_run(str(job.job_id), tasks=["42"])
    with pytest.raises(NotFoundError, match=r"Job '1' was not found.*JOB_NOT_FOUND"):
        asyncio.run(hook.astart_run("1"))
    assert sync.runs == []


def test_job_link_template(sync, connect):
    job = sync.add_job("Daily Copy")
    connect(extra={"ui_url": "https://sync.example.com:8181/", "job_url_template":
                   "{ui_url}/ws/{workspace}/job/{job_name}?run={history_id}&id={job_id}"})
    run = CDataSyncHook().start_run("Daily Copy", lookup="name")
    assert run.url == (f"https://sync.example.com:8181/ws/default/job/Daily%20Copy?run={sync.runs[0].history_id}"
                       f"&id={job.job_id}")


def test_partial_failure_names_each_failed_task(sync, hook):
    job = sync.add_job("Five", five_tasks(failing=(1, 3)))
    run = wait_until_done(hook, hook.start_run(str(job.job_id)))
    assert run.state == JobState.FAILED and run.vendor_state == "Failed"
    assert run.details["failed_tasks"] == [str(job.tasks[1].task_id), str(job.tasks[3].task_id)]
    message = run.details["message"]
    assert message.startswith("2 of 5 tasks failed: ")
    assert "(Contacts) Failed" in message and "[Contacts] destination refused the batch" in message
    assert "(Opportunities) Failed" in message and "Accounts" not in message
    assert run.details["records_affected"] == 30


def test_a_run_sync_calls_successful_still_fails_when_a_task_failed(hook):
    entry = {"id": 7, "status": "Successful", "tasks": [{"id": 1, "status": "Successful", "records": 3},
                                                        {"id": 2, "status": "ERROR", "message": "boom"}]}
    run = hook.run_from_entry(JobRun("cdata_sync", "1", None, JobState.RUNNING), stringify_ids(entry), "7")
    assert run.state == JobState.FAILED and "task 2 ERROR: boom" in run.details["message"]
    assert run.details["records_affected"] == 3


def test_zero_rows_is_reported(sync, hook):
    job = sync.add_job("Empty", [{"query": "REPLICATE [A]", "records": 0}])
    run = wait_until_done(hook, hook.start_run(str(job.job_id)))
    assert run.state == JobState.SUCCESS and run.details["records_affected"] == 0
    assert "0 records affected" in run.summary


def test_someone_elses_earlier_run_is_never_taken_for_ours(sync, hook):
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 0.05}])
    theirs = sync.start(job)  # started and finished within our tolerance window, before our execute
    wait_until(lambda: theirs.finished, "their run ended")
    ours = wait_until_done(hook, hook.start_run(str(job.job_id)))
    assert str(theirs.history_id) in ours.details["excluded_history_ids"]
    assert ours.run_id == str(sync.runs[1].history_id)


def test_a_newer_run_after_ours_does_not_replace_it(sync, hook):
    sync.history_when_finished = True  # we only learn of runs once they ended
    sync.status_without_history_id = True
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 0.1}])
    ours = hook.start_run(str(job.job_id))
    assert ours.run_id is None  # not in the history yet: the status stands in
    wait_until(lambda: sync.runs[0].finished, "our run ended")
    newer = sync.start(job)  # the scheduler runs the job right after ours ended
    wait_until(lambda: newer.finished, "the newer run ended (and shows in the history)")
    found = hook.get_run(ours)
    assert found.run_id == str(sync.runs[0].history_id) and found.state == JobState.SUCCESS


def test_status_stands_in_until_the_history_shows_the_run(sync, hook):
    sync.history_when_finished = True
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 0.3}])
    run = hook.start_run(str(job.job_id))
    assert run.state in (JobState.QUEUED, JobState.RUNNING)
    assert run.run_id == str(sync.runs[0].history_id)  # the status named it
    running = asyncio.run(hook.aget_run(run))  # the entry 404s while running: the status answers
    assert not running.is_terminal
    done = wait_until_done(hook, running)
    assert done.state == JobState.SUCCESS and done.details["records_affected"] == 10


@pytest.mark.parametrize("offset", [-3600.0, 3600.0])
def test_clock_skew_uses_the_servers_clock(sync, hook, offset):
    sync.clock_offset = offset
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 0.05}])
    old = sync.start(job)
    wait_until(lambda: old.finished, "the earlier run ended")
    run = hook.start_run(str(job.job_id))
    assert run.details["clock"] == "server" and abs(run.details["server_clock_offset"] - offset) < 5
    assert wait_until_done(hook, run).run_id == str(sync.runs[1].history_id) != str(old.history_id)


def test_without_a_date_header_the_local_clock_and_the_exclusions_decide(sync, hook):
    sync.send_date_header = False
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 0.05}])
    old = sync.start(job)
    wait_until(lambda: old.finished, "the earlier run ended")
    run = hook.start_run(str(job.job_id))
    assert run.details["clock"] == "local"
    assert wait_until_done(hook, run).run_id == str(sync.runs[1].history_id)


def test_a_run_not_visible_anywhere_is_not_found(sync, hook):
    sync.history_when_finished = True
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 0.05}])
    pending = JobRun("cdata_sync", str(job.job_id), None, JobState.QUEUED,
                     details={"not_before": "2000-01-01T00:00:00+00:00", "excluded_history_ids": []})
    with pytest.raises(NotFoundError, match=r"no run of job '9007199254740993' that started at or after"):
        hook.get_run(pending)


def test_find_active_run_and_cancel_run(sync, hook):
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 5}])
    jid = str(job.job_id)
    assert hook.find_active_run(jid) is None
    theirs = sync.start(job)
    active = asyncio.run(hook.afind_active_run("J", lookup="name"))
    assert active.run_id == str(theirs.history_id) and not active.is_terminal
    assert hook.cancel_run(active) is True
    assert hook.get_run(active).state == JobState.CANCELLED
    assert asyncio.run(hook.acancel_run(active)) is False  # ended: no second cancel
    assert len(sync.state.requests("cdata_sync", "POST", "/cancel$")) == 1


def test_find_active_run_without_history_id_in_status(sync, hook):
    sync.status_without_history_id = True
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 0.3}])
    theirs = sync.start(job)
    active = hook.find_active_run(str(job.job_id))
    assert active.run_id is None and "not_before" in active.details
    assert wait_until_done(hook, active).run_id == str(theirs.history_id)


# --- tasks --------------------------------------------------------------------------------------------------
def test_task_calls_sync_and_async(sync, hook):
    job = sync.add_job("J", ["REPLICATE [A]", "REPLICATE [B]"])
    jid = str(job.job_id)
    tasks = hook.list_tasks(jid)
    assert [(t["id"], t["index"], t["query"]) for t in tasks] == [
        (str(job.tasks[0].task_id), 0, "REPLICATE [A]"), (str(job.tasks[1].task_id), 1, "REPLICATE [B]")]
    added = asyncio.run(hook.aadd_task(jid, "REPLICATE [C] SELECT * FROM [C]", is_active=False))
    assert added["index"] == 2 and added["is_active"] is False and isinstance(added["id"], str)
    got = hook.get_task(jid, added["id"])
    assert got["query"] == "REPLICATE [C] SELECT * FROM [C]"
    changed = hook.update_task(jid, added["id"], query="REPLICATE [C] SELECT * FROM [C] WHERE x = 1",
                               is_active=True, index=0)
    assert changed["index"] == 0 and job.tasks[0].query.endswith("WHERE x = 1") and job.tasks[0].is_active
    moved = hook.move_task(jid, added["id"], 0, 2)
    assert [t["id"] for t in moved][-1] == added["id"]
    with pytest.raises(ApiError, match=r"move task failed \(HTTP 400, INVALID_REQUEST\): from_index 0 is not"):
        hook.move_task(jid, added["id"], 0, 1)
    asyncio.run(hook.adelete_task(jid, added["id"]))
    assert len(job.tasks) == 2
    with pytest.raises(NotFoundError, match=r"TASK_NOT_FOUND.*list_tasks"):
        hook.get_task(jid, added["id"])


def test_tasks_last_run_and_task_history(sync, hook):
    job = sync.add_job("J", five_tasks(failing=(2,)))
    jid = str(job.job_id)
    wait_until_done(hook, hook.start_run(jid))
    wait_until_done(hook, hook.start_run(jid, tasks=[str(job.tasks[2].task_id)]))
    last = asyncio.run(hook.atasks_last_run(jid))
    assert [t["status"] for t in last] == ["Successful", "Successful", "Failed", "Successful", "Successful"]
    assert last[2]["history_id"] == str(sync.runs[1].history_id)
    history = hook.task_history(jid, str(job.tasks[2].task_id))
    assert [h["history_id"] for h in history] == [str(sync.runs[1].history_id), str(sync.runs[0].history_id)]
    assert history[0]["message"] == "[Leads] destination refused the batch: column too long"
    assert hook.task_history(jid, str(job.tasks[0].task_id))[0]["records_affected"] == 10


@pytest.mark.parametrize(
    ("call", "field"),
    [(lambda h: h.update_task("1", "2"), "update_task"), (lambda h: h.add_task("1", " "), "query"),
     (lambda h: h.add_task("1", "Q", is_active="yes"), "is_active"), (lambda h: h.move_task("1", "2", -1, 0),
                                                                      "from_index"),
     (lambda h: h.move_task("1", "2", 0, True), "to_index"), (lambda h: h.get_task("1", ""), "task_id"),
     (lambda h: h.list_tasks(None), "job_id"), (lambda h: h.get_history("1", 2.0), "history_id"),
     (lambda h: h.start_run("1", lookup="uuid"), "lookup"), (lambda h: h.start_run("1", tasks=[]), "tasks"),
     (lambda h: h.update_job("1", {}), "settings"), (lambda h: h.start_run(9.007e15), "job_id")],
)
def test_bad_input_fails_before_any_request(sandbox, hook, call, field):
    with pytest.raises(ConfigurationError, match=f"^{field}"):
        call(hook)
    assert sandbox.requests("cdata_sync", path="/v2/jobs") == []


def test_ids_cannot_reach_another_endpoint(sandbox, sync, hook):
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 5}])
    sync.start(job)
    with pytest.raises(NotFoundError, match=r"Job '9007199254740993/cancel' was not found"):
        hook.get_task(f"{job.job_id}/cancel", "../x")
    assert sandbox.requests("cdata_sync", "POST") == [] and not sync.runs[0].finished


# --- transport faults -------------------------------------------------------------------------------------------
def test_503_twice_then_success_and_5xx_budget(sync, hook):
    job = sync.add_job("J")
    sync.state.add_fault("cdata_sync", "/status$", [503, 503])
    assert hook.job_status(str(job.job_id))["status"] == "IDLE"
    sync.state.add_fault("cdata_sync", "/status$", [502] * 5)
    with pytest.raises(TransientApiError, match=r"job status failed \(HTTP 502\).*after 5 attempts"):
        hook.job_status(str(job.job_id))


def test_dropped_execute_is_not_resent(sync, hook):
    job = sync.add_job("J", [{"query": "REPLICATE [A]", "seconds": 5}])
    sync.state.add_fault("cdata_sync", "/execute$", ["drop_after"])
    with pytest.raises(AmbiguousStartError, match="not sent again blindly"):
        hook.start_run(str(job.job_id))
    assert len(sync.runs) == 1  # the server did start it
    assert hook.find_active_run(str(job.job_id)).run_id == str(sync.runs[0].history_id)


def test_malformed_answers_quote_an_excerpt(sync, hook):
    job = sync.add_job("J")
    sync.state.add_fault("cdata_sync", "/history$", ["malformed"])
    with pytest.raises(MalformedResponseError, match="not JSON"):
        hook.list_history(str(job.job_id))
    sync.state.add_fault("cdata_sync", "/jobs$", [{"kind": "status", "status": 200, "body": '{"jobs": 3}'}])
    with pytest.raises(MalformedResponseError, match="list jobs returned no list"):
        hook.list_jobs()


def test_token_never_in_logs_runs_or_errors(sync, hook):
    job = sync.add_job("J", five_tasks(failing=(0,)))
    with captured_logs() as logs:
        run = wait_until_done(hook, hook.start_run(str(job.job_id)))
        with pytest.raises(NotFoundError) as err:
            hook.get_task(str(job.job_id), "404")
    assert_no_secret(TOKEN, logs.records, run.to_dict(), str(err.value), repr(hook.settings))
    assert USER  # the user name is not a secret


def test_admin_api_adds_a_job_the_hook_then_sees(sandbox, hook):
    import requests

    made = requests.post(f"{sandbox.url}/_admin/jobs", json={"vendor": "cdata_sync", "job": {
        "name": "From admin", "tasks": ["REPLICATE [A]", "REPLICATE [B]"]}}, timeout=10).json()
    assert made["job_id"] == str(FIRST_JOB_ID) and len(made["task_ids"]) == 2
    assert hook.find_job("From admin")["task_count"] == 2
    assert [t["id"] for t in hook.list_tasks(made["job_id"])] == made["task_ids"]
