"""The trust rules (DESIGN.md, "Rules the core enforces"), each as a regression test against the sandbox:
a task cancels only runs it started, credentials go only to the connection's host, every call is bounded in
time and size, the deadline bounds every sleep, a rotated secret is picked up, grace counts from the last
sighting, a vanished recorded run is forgotten, ids cannot change the endpoint, a failed chain fails its DAG."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pendulum
import pytest

from airflow_provider_jobs.core.errors import ApiError, ConfigurationError
from airflow_provider_jobs.core.http import ApiRequest, AsyncTransport, SyncTransport, Transmit, TransportFailure
from airflow_provider_jobs.core.trigger import JobRunTrigger
from airflow_provider_jobs.hooks.spectrum import SpectrumHook
from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator
from airflow_provider_jobs.sandbox.server import Sandbox
from airflow_provider_jobs.sensors.spectrum import SpectrumJobSensor
from tests.reliability.profiles import PROFILES
from tests.support import (
    assert_no_secret,
    await_until,
    captured_logs,
    make_dag,
    run_dag,
    task_xcom,
    use_connection,
    wait_until,
)

FAST = {"poll_interval": 0.1}


def first_event(trigger: JobRunTrigger, limit: float = 60.0) -> dict:
    async def consume():
        async for event in trigger.run():
            return event.payload

    return asyncio.run(asyncio.wait_for(consume(), limit))


# --- 1. a task cancels only runs it started ------------------------------------------------------------
@pytest.mark.parametrize("deferrable", [False, True])
def test_waiting_for_a_blocker_never_cancels_it_and_starts_nothing_at_the_deadline(
    sandbox, monkeypatch, output, deferrable
):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Busy", running=30)
    SpectrumHook().start_run("/Busy")  # someone else's run
    dag = make_dag(f"trust_blocker_{deferrable}")
    with dag:
        SpectrumTriggerJobOperator(task_id="t", file="/Busy", if_running="wait", timeout=0.6,
                                   deferrable=deferrable, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    text = "\n".join(logs.records) + output()
    assert states == {"t": "failed"}
    assert "this task started nothing" in text and "reached the deadline" in text
    assert sandbox.requests("spectrum", "POST", "/stop$") == []
    assert len(sandbox.requests("spectrum", "POST", "/trigger$")) == 1  # only the other party's
    (run,) = sandbox.spectrum.runs.values()
    assert not run.finished


@pytest.mark.parametrize("deferrable", [False, True])
def test_an_attached_run_is_not_cancelled_at_the_deadline(sandbox, monkeypatch, output, deferrable):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Busy", running=30)
    SpectrumHook().start_run("/Busy")
    dag = make_dag(f"trust_attach_{deferrable}")
    with dag:
        SpectrumTriggerJobOperator(task_id="t", file="/Busy", if_running="attach", timeout=0.6,
                                   deferrable=deferrable, **FAST)
    with captured_logs() as logs:
        assert run_dag(dag) == {"t": "failed"}
    assert "Deadline reached" in "\n".join(logs.records) + output()
    assert sandbox.requests("spectrum", "POST", "/stop$") == []


def test_an_attached_run_is_not_cancelled_when_the_deferred_task_is_killed(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Busy", running=30)
    run = SpectrumHook().start_run("/Busy")
    op = SpectrumTriggerJobOperator(task_id="t", file="/Busy", if_running="attach", **FAST)
    trigger = op.make_trigger([run], None, owned=False)
    asyncio.run(trigger.on_kill())
    assert sandbox.requests("spectrum", "POST", "/stop$") == []


def test_a_deferred_sensor_never_cancels_the_run_it_watches(sandbox, monkeypatch, output):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Busy", running=30)
    run = SpectrumHook().start_run("/Busy")
    dag = make_dag("trust_sensor_deadline")
    with dag:
        SpectrumJobSensor(task_id="s", job_execution_id=run.run_id, timeout=0.6, deferrable=True, **FAST)
    assert run_dag(dag) == {"s": "failed"}
    assert sandbox.requests("spectrum", "POST", "/stop$") == []


# --- 2. credentials go only to the connection's host --------------------------------------------------
@pytest.fixture(scope="module")
def elsewhere():
    """Another server (another port is another origin): it must never be sent anything."""
    with Sandbox() as other:
        yield other


@pytest.mark.parametrize("profile", PROFILES, ids=[p.vendor for p in PROFILES])
@pytest.mark.parametrize("side", ["sync", "async"])
def test_a_redirect_to_another_host_is_not_followed(sandbox, monkeypatch, elsewhere, profile, side):
    use_connection(monkeypatch, sandbox, profile.vendor)
    op = profile.make_operator("t", profile.make_job(sandbox, seconds=5))
    run = op.hook.start_run(op.job(), **op.start_options())
    elsewhere.reset()
    sandbox.fault(profile.vendor, profile.poll, {"kind": "redirect", "status": 307, "body": f"{elsewhere.url}/steal"})
    hook = profile.make_operator("t", op.job()).hook
    with pytest.raises(ApiError) as caught:
        hook.get_run(run) if side == "sync" else asyncio.run(hook.aget_run(run))
    message = str(caught.value)
    assert f"127.0.0.1:{sandbox.port}" in message and f"127.0.0.1:{elsewhere.port}" in message
    assert "not followed" in message
    assert elsewhere.requests() == []
    for secret in profile.secrets(sandbox):
        assert_no_secret(secret, message)


@pytest.mark.parametrize("side", ["sync", "async"])
def test_a_redirect_on_the_same_host_is_followed(sandbox, monkeypatch, side):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/R", running=5)
    hook = SpectrumHook()
    run = hook.start_run("/R")
    path = f"/spectrum/rest/job-execution/job-details/{run.run_id}"
    sandbox.fault("spectrum", "/job-details/", {"kind": "redirect", "status": 302, "body": path})
    fresh = hook.get_run(run) if side == "sync" else asyncio.run(hook.aget_run(run))
    assert fresh.run_id == run.run_id
    assert [s.status for s in sandbox.requests("spectrum", "GET", "/job-details/")] == [302, 200]


# --- 6. secrets with line breaks; raw client errors -------------------------------------------------------
def test_a_password_with_a_trailing_newline_works(sandbox, monkeypatch):
    from airflow_provider_jobs.sandbox.spectrum import PASSWORD

    use_connection(monkeypatch, sandbox, "spectrum", password=PASSWORD + "\n")
    sandbox.spectrum.add_file("/R", running=0.1)
    assert SpectrumHook().start_run("/R").run_id


def test_a_control_character_in_a_secret_is_refused_without_showing_it(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum", password="top\x07secret")
    with pytest.raises(ConfigurationError, match="password: holds a control character") as caught:
        SpectrumHook().start_run("/R")
    assert "secret" not in str(caught.value).replace("spectrum_default", "")
    assert sandbox.requests("spectrum") == []


def _wire(url: str, headers: dict) -> Transmit:
    request = ApiRequest("GET", url, endpoint="probe")
    return Transmit("GET", url, None, headers, None, None, 5.0, "json", None, origin=request)


@pytest.mark.parametrize("side", ["sync", "async"])
def test_a_header_the_client_refuses_becomes_our_error_without_the_value(sandbox, side):
    wire = _wire(f"{sandbox.url}/spectrum/api/job-execution/list-running", {"X-Token": "s3cr3t-value\nX: y"})
    with pytest.raises(TransportFailure) as caught:
        if side == "sync":
            SyncTransport().send(wire, "spectrum")
        else:
            asyncio.run(AsyncTransport().send(wire, "spectrum"))
    assert caught.value.kind == "invalid request"
    assert "s3cr3t" not in str(caught.value)


# --- 7, 13. every call is bounded in time and size --------------------------------------------------------
@pytest.mark.parametrize("side", ["sync", "async"])
def test_a_trickling_answer_is_cut_at_the_calls_time_limit(sandbox, monkeypatch, side):
    use_connection(monkeypatch, sandbox, "spectrum", extra={"request_timeout": 1, "max_attempts": 1})
    sandbox.spectrum.add_file("/R", running=5)
    hook = SpectrumHook()
    run = hook.start_run("/R")
    sandbox.fault("spectrum", "/job-details/", {"kind": "trickle", "seconds": 0.2})
    with pytest.raises(ApiError, match="total time limit|read timeout") as caught:
        hook.get_run(run) if side == "sync" else asyncio.run(hook.aget_run(run))
    assert "on all 1 attempts" in str(caught.value)


@pytest.mark.parametrize("side", ["sync", "async"])
def test_an_answer_over_the_size_cap_is_an_error(sandbox, monkeypatch, side):
    use_connection(monkeypatch, sandbox, "spectrum", extra={"max_response_bytes": 2000})
    sandbox.spectrum.add_file("/R", running=5)
    hook = SpectrumHook()
    run = hook.start_run("/R")
    huge = json.dumps({"jobStatus": "RUNNING", "padding": "x" * 50_000})
    sandbox.fault("spectrum", "/job-details/", {"kind": "status", "status": 200, "body": huge})
    with pytest.raises(ApiError, match="response too large.*max_response_bytes"):
        hook.get_run(run) if side == "sync" else asyncio.run(hook.aget_run(run))
    assert len(sandbox.requests("spectrum", "GET", "/job-details/")) == 1  # not retried: it would be again


def test_an_oversized_answer_to_a_start_is_ambiguous(sandbox, monkeypatch):
    from airflow_provider_jobs.core.errors import AmbiguousStartError

    use_connection(monkeypatch, sandbox, "spectrum", extra={"max_response_bytes": 2000})
    sandbox.spectrum.add_file("/R", running=5)
    sandbox.fault("spectrum", "/trigger$", {"kind": "status", "status": 200, "body": "x" * 50_000})
    reason = r"response too large \(.*max_response_bytes.*\); the request may have reached the server"
    with pytest.raises(AmbiguousStartError, match=reason):
        SpectrumHook().start_run("/R")


# --- 8. the deadline bounds every sleep ---------------------------------------------------------------
def test_retry_after_past_the_deadline_goes_to_the_deadline_and_cancels(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Slow", running=60)
    run = SpectrumHook().start_run("/Slow")
    # the deadline comes during the first one's wait: the others are never served
    sandbox.fault("spectrum", "/job-details/", *[{"kind": "status", "status": 429, "retry_after": "30"}] * 4,
                  optional=True)
    trigger = JobRunTrigger(hook="airflow_provider_jobs.hooks.spectrum.SpectrumHook", conn_id="spectrum_default",
                            runs=[run.to_dict()], poll_interval=0.1, deadline=time.time() + 1.0)
    event = first_event(trigger)
    assert event["status"] == "timeout", event["message"]
    assert "was cancelled" in event["message"]
    assert len(sandbox.requests("spectrum", "POST", "/stop$")) == 1


# --- 9. grace counts from the last sighting -----------------------------------------------------------
@pytest.mark.parametrize("deferrable", [False, True])
def test_a_transient_404_late_in_a_run_is_waited_out(sandbox, monkeypatch, deferrable):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Long", running=60)  # ended by the scenario below

    def reads() -> list:
        return sandbox.requests("spectrum", "GET", "/job-details/")

    failures: list[BaseException] = []

    def late_404s_then_the_end() -> None:
        try:
            scenario_steps()
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    def scenario_steps() -> None:
        # sightings for longer than the grace since the wait began, then two 404s, then sightings again
        wait_until(lambda: (seen := reads()) and seen[-1].at - seen[0].at > 1.5, "the run was seen for 1.5 s",
                   limit=60)
        sandbox.fault("spectrum", "/job-details/", 404, 404)
        wait_until(lambda: [s.status for s in reads()][-3:] == [404, 404, 200], "the run was seen after the 404s",
                   limit=60)
        (sim,) = sandbox.spectrum.runs.values()
        sim.stop("COMPLETED")

    scenario = threading.Thread(target=late_404s_then_the_end, daemon=True)
    dag = make_dag(f"trust_late_404_{deferrable}")
    with dag:
        SpectrumTriggerJobOperator(task_id="t", file="/Long", not_found_grace=1.0, deferrable=deferrable, **FAST)
    scenario.start()
    assert run_dag(dag) == {"t": "success"}
    scenario.join(10)
    assert not failures, failures
    assert [s.status for s in reads()].count(404) == 2


def test_a_rebuilt_trigger_gives_a_run_its_grace_again(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Long", running=1.0)
    run = SpectrumHook().start_run("/Long")
    wire = json.loads(json.dumps(SpectrumTriggerJobOperator(task_id="t", file="/Long", not_found_grace=0.4, **FAST)
                                 .make_trigger([run], None).serialize()[1]))
    # the triggerer restarts later than the grace after the start (an hour, without waiting it): the grace counts
    # from the rebuilt wait's start, not from the run's
    wire["runs"][0]["started_at"] = pendulum.now("UTC").subtract(hours=1).isoformat()
    sandbox.fault("spectrum", "/job-details/", 404)
    event = first_event(JobRunTrigger(**wire))
    assert event["status"] == "success", event["message"]


# --- 10. a vanished recorded run is reported once and forgotten -------------------------------------------
def test_a_vanished_recorded_run_is_forgotten_and_a_later_try_starts_anew(sandbox, monkeypatch, output):
    use_connection(monkeypatch, sandbox, "spectrum", extra={"start_visibility_lag": 0})  # (the connection's lag wins)
    sandbox.spectrum.add_file("/R", running=0.3)
    # try 1: the wait fails (a 400 on its first read); try 2: the recorded run is gone (404); try 3: a new run
    sandbox.fault("spectrum", "/job-details/", 400, 404)
    dag = make_dag("trust_vanished")
    with dag:
        SpectrumTriggerJobOperator(task_id="t", file="/R", retries=2, retry_delay=0, deferrable=False, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    text = "\n".join(logs.records) + output()
    assert states == {"t": "success"}
    assert text.count("is no longer known to spectrum") >= 1 and "the next try starts a new run" in text
    assert len(sandbox.requests("spectrum", "POST", "/trigger$")) == 2


def test_a_recorded_run_briefly_out_of_sight_is_reattached_not_forgotten(sandbox, monkeypatch, output):
    use_connection(monkeypatch, sandbox, "spectrum")
    monkeypatch.setattr(SpectrumHook, "start_visibility_lag", 5.0)
    sandbox.spectrum.add_file("/R", running=0.5)
    # try 1: the wait fails (a 400); try 2: the recorded run is not shown once (404), then is again
    sandbox.fault("spectrum", "/job-details/", 400, 404)
    dag = make_dag("trust_out_of_sight")
    with dag:
        SpectrumTriggerJobOperator(task_id="t", file="/R", retries=1, retry_delay=0, deferrable=False, **FAST)
    with captured_logs() as logs:
        states = run_dag(dag)
    text = "\n".join(logs.records) + output()
    assert states == {"t": "success"}
    assert "Reattaching to the run this task recorded" in text and "no longer known" not in text
    assert len(sandbox.requests("spectrum", "POST", "/trigger$")) == 1


# --- 11. ids never change the endpoint ----------------------------------------------------------------
@pytest.mark.parametrize("bad", ["..", ".", ""])
def test_an_id_that_would_name_another_endpoint_is_refused_before_any_request(sandbox, monkeypatch, bad):
    from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook

    use_connection(monkeypatch, sandbox, "cdata_sync")
    with pytest.raises(ConfigurationError, match="cannot be part of a URL path|task_id: is empty"):
        CDataSyncHook().delete_task("5", bad)
    assert sandbox.requests("cdata_sync", "DELETE") == []


# --- 12. a reset connection on a status read is retried ---------------------------------------------------
def test_a_reset_connection_is_a_transport_failure_on_both_sides():
    import socket
    import struct
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]

    def reset_each() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # the test closed the server
                return
            conn.recv(65536)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()  # RST

    threading.Thread(target=reset_each, daemon=True).start()
    wire = _wire(f"http://127.0.0.1:{port}/status", {})
    for send in (lambda: SyncTransport().send(wire, "x"), lambda: asyncio.run(AsyncTransport().send(wire, "x"))):
        with pytest.raises(TransportFailure) as caught:
            send()
        assert caught.value.kind == "connection reset" and caught.value.sent
    server.close()


# --- 14. a rotated password is picked up by a deferred wait -------------------------------------------------
def test_a_rotated_password_does_not_fail_a_deferred_wait(sandbox, monkeypatch):
    from airflow_provider_jobs.sandbox.spectrum import USER

    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/Long", running=60)  # ended by the test once the rotation is seen through
    run = SpectrumHook().start_run("/Long")
    trigger = JobRunTrigger(hook="airflow_provider_jobs.hooks.spectrum.SpectrumHook", conn_id="spectrum_default",
                            runs=[run.to_dict()], poll_interval=0.1)

    def statuses() -> list[int | None]:
        return [s.status for s in sandbox.requests("spectrum", "GET", "/job-details/")]

    async def rotate_midway():
        task = asyncio.ensure_future(_consume(trigger))
        await await_until(lambda: 200 in statuses(), "the wait has read the run with the old password")
        sandbox.spectrum.users[USER] = "rotated-password"
        use_connection(monkeypatch, sandbox, "spectrum", password="rotated-password")
        await await_until(lambda: 401 in statuses() and statuses()[-1] == 200, "the wait has read it with the new one")
        sandbox.spectrum.runs[run.run_id].stop("COMPLETED")
        return await asyncio.wait_for(task, 30)

    event = asyncio.run(rotate_midway())
    assert event["status"] == "success", event["message"]
    assert 401 in [s.status for s in sandbox.requests("spectrum", "GET", "/job-details/")]


async def _consume(trigger: JobRunTrigger) -> dict:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


# --- 15. no scheme means https ----------------------------------------------------------------------------
@pytest.mark.parametrize("profile", PROFILES, ids=[p.vendor for p in PROFILES])
def test_a_host_without_a_scheme_means_https(sandbox, monkeypatch, profile):
    use_connection(monkeypatch, sandbox, profile.vendor, host="jobs.example.com")
    hook = profile.make_operator("t", profile.make_job(sandbox)).hook
    urls = [v for v in vars(hook.settings).values() if isinstance(v, str) and "://jobs.example.com" in v]
    assert urls and all(u.startswith("https://") for u in urls), urls


def test_spectrum_settings_do_not_show_the_password(sandbox, monkeypatch):
    from airflow_provider_jobs.sandbox.spectrum import PASSWORD

    use_connection(monkeypatch, sandbox, "spectrum")
    assert PASSWORD not in repr(SpectrumHook().settings)


# --- 17. a failed chain fails its DAG run ---------------------------------------------------------------
def test_a_chain_whose_middle_step_fails_fails_the_dag_run_and_still_writes_the_plan(sandbox, monkeypatch):
    from airflow_provider_jobs.operators.sequence import PLAN_TASK_ID, sequential_trigger

    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/A", running=0.1)
    sandbox.spectrum.add_file("/B", running=0.1, final="ERROR")
    sandbox.spectrum.add_file("/C", running=0.1)
    dag = make_dag("trust_chain_fails")
    with dag:
        steps = [SpectrumTriggerJobOperator(task_id=n, file=f"/{n.upper()}", **FAST) for n in ("a", "b", "c")]
        sequential_trigger("chain", steps)
    states = run_dag(dag)
    assert states[f"chain.{PLAN_TASK_ID}"] == "failed"
    assert states["b"] == "failed" and states["c"] == "upstream_failed"
    plan = task_xcom(dag, states, f"chain.{PLAN_TASK_ID}")
    assert plan["status"] == "failed"
    by_task = {e["task_id"]: e for e in plan["execution-plan"]}
    assert by_task["b"]["state"] == "FAILED" and by_task["c"]["trigger"] is False

    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        dr = session.query(DagRun).filter(DagRun.dag_id == dag.dag_id).order_by(DagRun.id.desc()).first()
        assert str(dr.state).split(".")[-1].lower() == "failed"


# --- booleans are checked the same way everywhere (issue 18, item 14) ------------------------------------
@pytest.mark.parametrize("name", ["deferrable", "fail_on_warnings", "wait_for_completion", "cancel_on_kill"])
@pytest.mark.parametrize("value", ["yes", "no", 1, 0])
def test_every_flag_takes_only_true_or_false(name, value):
    with pytest.raises(ConfigurationError, match=f"^{name}: is .*Use True or False"):
        SpectrumTriggerJobOperator(task_id="t", file="/R", **{name: value})


def test_execute_complete_takes_every_kwarg_the_deferral_hands_back(sandbox, monkeypatch):
    # A real triggerer resumes the task with the deferral's kwargs (dag.test does not): each must be accepted.
    import inspect

    from airflow_provider_jobs.core.compat import TaskDeferred

    use_connection(monkeypatch, sandbox, "spectrum")
    sandbox.spectrum.add_file("/R", running=5)
    run = SpectrumHook().start_run("/R")
    op = SpectrumTriggerJobOperator(task_id="t", file="/R", deferrable=True, **FAST)
    for phase in ("run", "blocker"):
        with pytest.raises(TaskDeferred) as deferred:
            op._follow({}, [run], None) if phase == "run" else op._wait_for_blocker({}, run, None)
        kwargs = deferred.value.kwargs or {}
        assert kwargs.get("phase") == phase
        inspect.signature(op.execute_complete).bind({}, event={}, **kwargs)  # a TypeError is the bug
