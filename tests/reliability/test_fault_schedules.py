"""The trust rules as properties: for each vendor, seeded random fault schedules through real DAG runs.

A schedule draws what goes wrong on the start call (a timeout, a dropped connection before or after the
vendor acted, a 5xx, a truncated or unreadable 2xx, a redirect to another host), on the polls (5xx, 429,
drops, timeouts, truncated answers, transient 404s, redirects), whether the worker is lost between the start
and its record, the wait's side (worker or triggerer) and a deadline. After each run it checks:

- at most one run started at the vendor for the task;
- no run cancelled unless the task started it and reached its deadline;
- no request reached any host but the connection's (another server stands by to be redirected to);
- no secret in any log line, exception, XCom or trigger kwargs;
- the task ended within its deadline plus a small slack;
- a task that succeeded saw its run succeed at the vendor, and a run it cancelled failed the task.

The seeds are fixed, so a failure names a schedule that reproduces. Set FAULT_SCHEDULES=N for more.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_jobs.core.operator import BaseJobOperator
from airflow_provider_jobs.sandbox.server import Sandbox
from tests.reliability import report
from tests.reliability.profiles import PROFILES, VendorProfile
from tests.support import assert_no_secret, captured_logs, make_dag, run_dag, task_xcom, use_connection

SCHEDULES_PER_VENDOR = int(os.environ.get("FAULT_SCHEDULES", "10"))
#: Seconds a task may run past its deadline: the cancel's own grace, retries and the DAG machinery.
SLACK = 45.0
REQUEST_TIMEOUT = 0.5
TRIED = report.SCHEDULES
VIOLATIONS = report.VIOLATIONS


@dataclass
class Schedule:
    seed: int
    start_fault: Any
    poll_faults: list[Any]
    deferrable: bool
    lost_worker: bool
    seconds: float
    timeout: float | None
    notes: list[str] = field(default_factory=list)


def draw(seed: int, elsewhere: str) -> Schedule:
    rng = random.Random(seed)
    redirect = {"kind": "redirect", "status": 307, "body": f"{elsewhere}/steal"}
    start = rng.choice([None, None, {"kind": "delay", "seconds": REQUEST_TIMEOUT + 0.7}, "drop_after", "drop", 502,
                        503, "malformed_after", "truncate", redirect])
    poll_menu = [503, {"kind": "status", "status": 429, "retry_after": "0.1"}, "drop",
                 {"kind": "delay", "seconds": REQUEST_TIMEOUT + 0.7}, "truncate", 404, redirect]
    polls = [rng.choice(poll_menu) for _ in range(rng.randint(0, 3))]
    timeout = rng.choice([None, None, 1.0, 2.5])
    return Schedule(seed, start, polls, rng.random() < 0.5, rng.random() < 0.25, rng.choice([0.2, 0.6, 2.0]),
                    timeout)


@pytest.fixture(scope="module")
def elsewhere():
    with Sandbox() as other:
        yield other


def sim_runs(profile: VendorProfile, sandbox) -> list[Any]:
    """The runs the vendor's sandbox site holds (each a SimRun)."""
    site = sandbox.site(profile.vendor)
    if profile.vendor == "ocapi":
        return list(site.executions.values())
    if profile.vendor == "nexus_ic":
        return [j for j in site.jobs.values() if getattr(j, "kind", "report") == "report"]
    runs = site.runs
    return list(runs.values()) if isinstance(runs, dict) else list(runs)


@pytest.fixture
def lose_worker_once(monkeypatch):
    """The worker is lost right after the start, before the run is recorded (the ledger holds the intent)."""
    original = BaseJobOperator._announce
    state = {"armed": False}

    def announce(self, context, runs, **kwargs):
        if state["armed"]:
            state["armed"] = False
            raise RuntimeError("worker lost between the start and its record")
        return original(self, context, runs, **kwargs)

    monkeypatch.setattr(BaseJobOperator, "_announce", announce)
    return state


@pytest.mark.timeout(900)  # one test runs all of a vendor's schedules
@pytest.mark.parametrize("profile", PROFILES, ids=[p.vendor for p in PROFILES])
def test_fault_schedules_keep_the_rules(profile, sandbox, monkeypatch, output, elsewhere, lose_worker_once):
    run_schedules(profile, sandbox, monkeypatch, elsewhere, "worker", 0, draw,
                  lambda s: check_schedule(profile, sandbox, elsewhere, output, s, lose_worker_once))


def run_schedules(profile, sandbox, monkeypatch, elsewhere, side: str, seed_base: int, drawer, check) -> None:
    """SCHEDULES_PER_VENDOR seeded schedules of one side for one vendor; every violation is recorded and named."""
    tag = f"{profile.vendor} {side}"
    for index in range(SCHEDULES_PER_VENDOR):
        seed = seed_base + 1000 * PROFILES.index(profile) + index
        schedule = drawer(seed, elsewhere.url)
        sandbox.reset()
        elsewhere.reset()
        use_connection(monkeypatch, sandbox, profile.vendor,
                       extra={"request_timeout": REQUEST_TIMEOUT, "retry_initial_delay": 0.01,
                              "retry_max_delay": 0.05})
        try:
            check(schedule)
        except AssertionError as exc:
            VIOLATIONS.append(f"{tag} seed {seed} ({schedule}): {exc}")
        TRIED[profile.vendor] = TRIED.get(profile.vendor, 0) + 1
    mine = [v for v in VIOLATIONS if v.startswith(tag + " ")]
    assert not mine, "\n".join(mine)


def check_schedule(profile, sandbox, elsewhere, output, s: Schedule, lose_worker_once) -> None:
    job = profile.make_job(sandbox, seconds=s.seconds)
    if s.start_fault is not None:
        sandbox.fault(profile.vendor, profile.start, s.start_fault, method="POST", optional=True)
    if s.poll_faults:
        passes = [{"kind": "delay", "seconds": 0}] * profile.poll_skip
        sandbox.fault(profile.vendor, profile.poll, *passes, *s.poll_faults, optional=True)
    lose_worker_once["armed"] = s.lost_worker
    dag = make_dag(f"schedule_{profile.vendor}_{s.seed}")
    with dag:
        op = profile.make_operator("job", job, poll_interval=0.1, deferrable=s.deferrable, timeout=s.timeout,
                                   retries=1 if s.lost_worker else 0, retry_delay=0, not_found_grace=5)
    began = time.monotonic()
    with captured_logs() as logs:
        states = run_dag(dag)
    elapsed = time.monotonic() - began
    text = "\n".join(logs.records) + output()
    state = states["job"]
    xcoms = {k: task_xcom(dag, states, "job", k) for k in ("return_value", "run_id", "job_runs")}
    runs = sim_runs(profile, sandbox)

    assert len(runs) <= 1, f"{len(runs)} runs started at the vendor for one task"
    stopped = [r for r in runs if getattr(r, "stopped_state", None) is not None]
    if stopped:
        assert s.timeout is not None and "Deadline reached" in text, "a run was cancelled without a deadline"
        assert state == "failed", "the task cancelled its run and still succeeded"
    assert elsewhere.requests() == [], "a request reached another host"
    trigger_kwargs = op.make_trigger([], None).serialize()[1]
    for secret in profile.secrets(sandbox):
        assert_no_secret(secret, text, xcoms, trigger_kwargs)
    if s.timeout is not None:
        assert elapsed <= s.timeout + SLACK + (REQUEST_TIMEOUT + 1) * 6, f"ran {elapsed:.1f}s past its deadline"
    if state == "success":
        assert runs and all(r.finished and getattr(r, "stopped_state", None) is None for r in runs), \
            "the task succeeded but the vendor's run did not"
        final = xcoms["return_value"] or {}
        if isinstance(final, dict) and final.get("state"):
            assert final["state"] in ("SUCCESS", "SUCCESS_WITH_WARNINGS")


@pytest.fixture(scope="module", autouse=True)
def closing_line():
    yield
    print("\n" + report.schedules_line())


# --- the triggerer's side: restarts mid-wait, kills and deadlines ---------------------------------------
@dataclass
class TriggerSchedule:
    seed: int
    poll_faults: list[Any]
    restarts: list[float]  # seconds each triggerer runs before it dies (then a new one rebuilds the trigger)
    kill: bool  # the last triggerer's task is killed by a user (on_kill) instead of waiting to the end
    seconds: float
    deadline_in: float | None


def draw_trigger(seed: int, elsewhere: str) -> TriggerSchedule:
    rng = random.Random(seed)
    poll_menu = [503, {"kind": "status", "status": 429, "retry_after": "0.1"}, "drop", "truncate", 404,
                 {"kind": "redirect", "status": 302, "body": f"{elsewhere}/steal"}]
    return TriggerSchedule(seed, [rng.choice(poll_menu) for _ in range(rng.randint(0, 3))],
                           [rng.choice([0.1, 0.3, 0.6]) for _ in range(rng.randint(0, 2))], rng.random() < 0.3,
                           rng.choice([0.3, 1.0, 3.0]), rng.choice([None, None, 1.5]))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("profile", PROFILES, ids=[p.vendor for p in PROFILES])
def test_trigger_schedules_keep_the_rules(profile, sandbox, monkeypatch, elsewhere):
    run_schedules(profile, sandbox, monkeypatch, elsewhere, "trigger", 50_000, draw_trigger,
                  lambda s: check_trigger_schedule(profile, sandbox, elsewhere, s))


def check_trigger_schedule(profile, sandbox, elsewhere, s: TriggerSchedule) -> None:
    import asyncio
    import json

    from airflow_provider_jobs.core.trigger import JobRunTrigger

    op = profile.make_operator("t", profile.make_job(sandbox, seconds=s.seconds), poll_interval=0.1)
    run = op.hook.start_run(op.job(), **op.start_options())
    if s.poll_faults:
        sandbox.fault(profile.vendor, profile.poll, *s.poll_faults, optional=True)
    deadline = time.time() + s.deadline_in if s.deadline_in else None
    kwargs = json.loads(json.dumps(op.make_trigger([run], deadline, owned=True).serialize()[1]))  # as stored
    for secret in profile.secrets(sandbox):
        assert_no_secret(secret, kwargs)

    async def scenario() -> dict[str, Any] | None:
        for lifetime in s.restarts:  # each triggerer dies mid-wait; the next rebuilds from the stored kwargs
            task = asyncio.ensure_future(_first(JobRunTrigger(**kwargs)))
            done, _ = await asyncio.wait({task}, timeout=lifetime)
            if done:
                return task.result()
            task.cancel()
        last = JobRunTrigger(**kwargs)
        if s.kill:
            task = asyncio.ensure_future(_first(last))
            done, _ = await asyncio.wait({task}, timeout=0.2)
            if done:
                return task.result()
            task.cancel()
            await last.on_kill()
            return None
        return await asyncio.wait_for(_first(last), 60)

    event = asyncio.run(scenario())
    runs = sim_runs(profile, sandbox)
    assert len(runs) == 1, f"{len(runs)} runs at the vendor"
    stopped = [r for r in runs if getattr(r, "stopped_state", None) is not None]
    if stopped:
        assert s.kill or (event is not None and event["status"] == "timeout"), "cancelled without kill or deadline"
    assert elsewhere.requests() == [], "a request reached another host"
    if event is not None:
        for secret in profile.secrets(sandbox):
            assert_no_secret(secret, event)
        if event["status"] == "success":
            assert runs[0].finished and not stopped, "success reported for a run that did not succeed"


async def _first(trigger) -> dict[str, Any]:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")
