"""The fault matrix: every fault x every vendor, through the real operator (or trigger) and the sandbox.

Each cell asserts the outcome, that no job was started twice, that the run id reached XCom before any
wait could fail, and that no secret reached a log line (DEBUG), an XCom, the trigger's kwargs or an
exception. The results table is written to docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from airflow_provider_jobs.core.operator import BaseJobOperator
from tests.reliability import report
from tests.reliability.profiles import PROFILES, VendorProfile
from tests.support import (
    assert_no_secret,
    await_until,
    captured_logs,
    first_event,
    make_dag,
    run_dag,
    task_xcom,
    use_connection,
)

RESULTS = report.MATRIX


def inject(profile: VendorProfile, sandbox, *faults) -> None:
    """Faults on the vendor's poll route, after the calls the start itself makes there."""
    passes = [{"kind": "delay", "seconds": 0}] * profile.poll_skip
    sandbox.fault(profile.vendor, profile.poll, *passes, *faults)


FAST = {"poll_interval": 0.1, "deferrable": True}
_ORDINALS = {2: "2nd", 3: "3rd", 4: "4th", 5: "5th"}


def _served_as(served) -> str:
    """A faulted request as the cells name it: its status for a status fault, else the fault's kind."""
    return str(served.status) if served.fault == "status" else served.fault


class Cell:
    """One scenario run for one vendor: builds the DAG, runs it, checks the invariants."""

    def __init__(self, profile: VendorProfile, sandbox, monkeypatch, output, scenario: str, extra=None):
        self.p, self.sandbox, self.output, self.scenario = profile, sandbox, output, scenario
        use_connection(monkeypatch, sandbox, profile.vendor, extra=extra or {})

    def run(self, job, **kwargs):
        slug = "".join(ch if ch.isalnum() else "_" for ch in self.scenario)
        dag = make_dag(f"matrix_{slug}_{self.p.vendor}")
        with dag:
            op = self.p.make_operator("job", job, **{**FAST, **kwargs})
        with captured_logs() as logs:
            states = run_dag(dag)
        self.text = "\n".join(logs.records) + self.output()
        self.state = states["job"]
        self.xcoms = {k: task_xcom(dag, states, "job", k) for k in ("return_value", "run_id", "job_runs")}
        self.trigger_kwargs = op.make_trigger([], None).serialize()[1]
        return self

    def starts(self) -> int:
        return len(self.sandbox.requests(self.p.vendor, "POST", self.p.start))

    def check_invariants(self, started: int = 1) -> None:
        assert self.starts() == started, f"{self.starts()} start calls"
        if started:
            assert self.xcoms["run_id"], "the run id never reached XCom"
        for secret in self.p.secrets(self.sandbox):
            assert_no_secret(secret, self.text, self.xcoms, self.trigger_kwargs)

    def poll_log(self) -> list[Any]:
        """The sandbox's log of the poll route, the passes aimed past the start's own reads left out."""
        log = self.sandbox.requests(self.p.vendor, None, self.p.poll)
        passes = [i for i, s in enumerate(log) if s.fault][:self.p.poll_skip]
        return [s for i, s in enumerate(log) if i not in passes]

    def faults_served(self) -> list[str]:
        """The faults the poll route served, in order: "503", "429", "drop", "delay", "expire", "html" ..."""
        return [_served_as(s) for s in self.poll_log() if s.fault]

    def assert_retried(self, *faults: str) -> str:
        """Each fault was served on the poll route, one straight after the other, and the next request to that
        route, from the same client, succeeded: the call was retried through the faults, not given up on or
        answered some other way. Returns what the cell can claim, e.g. "3 attempts failed, the 4th succeeded"."""
        log = self.poll_log()
        trace = "\n".join(f"  {s.method} {s.path} -> {s.status} {s.fault or ''} [{s.agent}]" for s in log)
        hits = [i for i, s in enumerate(log) if s.fault]
        assert [_served_as(log[i]) for i in hits] == list(faults), f"faults served on {self.p.poll}:\n{trace}"
        assert hits == list(range(hits[0], hits[0] + len(hits))), f"the faulted calls were not retried:\n{trace}"
        faulted, after = log[hits[-1]], log[hits[-1] + 1:]
        assert after, f"no request to {self.p.poll} after the last fault:\n{trace}"
        retry = after[0]
        assert retry.fault is None and retry.status is not None and 200 <= retry.status < 300, \
            f"the call after the faults did not succeed:\n{trace}"
        assert retry.agent == faulted.agent, f"another client made the call after the faults:\n{trace}"
        n = len(faults)
        return f"{n} attempt{'s' if n > 1 else ''} failed, the {_ORDINALS[n + 1]} succeeded"

    def record(self, text: str) -> None:
        RESULTS[(self.scenario, self.p.vendor)] = text


SCENARIOS = [
    "5xx burst within budget", "5xx burst beyond budget", "429 with Retry-After", "429 without Retry-After",
    "connection reset", "slower than request timeout", "credentials expire mid-wait", "credentials revoked",
    "HTML error page", "malformed JSON", "unknown state", "run disappears", "killed after start",
    "trigger re-created mid-wait",
]

ids = [p.vendor for p in PROFILES]


@pytest.fixture(params=PROFILES, ids=ids)
def profile(request):
    return request.param


@pytest.fixture
def cell(profile, sandbox, monkeypatch, output):
    def make(scenario, extra=None):
        return Cell(profile, sandbox, monkeypatch, output, scenario, extra)

    return make


def test_5xx_burst_within_budget(cell, profile, sandbox):
    c = cell("5xx burst within budget")
    job = profile.make_job(sandbox)
    inject(profile, sandbox, 503, 502, 504)
    c.run(job)
    assert c.state == "success"
    retried = c.assert_retried("503", "502", "504")
    c.check_invariants()
    c.record(f"pass: retried ({retried}), run succeeded")


def test_5xx_burst_beyond_budget(cell, profile, sandbox):
    c = cell("5xx burst beyond budget")
    job = profile.make_job(sandbox, seconds=5)
    inject(profile, sandbox, *[503] * 5)
    c.run(job)
    assert c.state == "failed"
    assert "HTTP 503" in c.text and "after 5 attempts" in c.text
    assert c.faults_served() == ["503"] * 5
    c.check_invariants()
    c.record("pass: fails naming endpoint and HTTP 503 after 5 attempts")


def test_429_with_retry_after(cell, profile, sandbox):
    c = cell("429 with Retry-After")
    job = profile.make_job(sandbox)
    inject(profile, sandbox, *[{"kind": "status", "status": 429, "retry_after": "0.2"}] * 2)
    c.run(job)
    assert c.state == "success" and "(Retry-After)" in c.text
    retried = c.assert_retried("429", "429")
    c.check_invariants()
    c.record(f"pass: waited as told ({retried}), run succeeded")


def test_429_without_retry_after(cell, profile, sandbox):
    c = cell("429 without Retry-After")
    job = profile.make_job(sandbox)
    inject(profile, sandbox, 429, 429)
    c.run(job)
    assert c.state == "success"
    retried = c.assert_retried("429", "429")
    c.check_invariants()
    c.record(f"pass: backed off ({retried}), run succeeded")


def test_connection_reset(cell, profile, sandbox):
    c = cell("connection reset")
    job = profile.make_job(sandbox)
    inject(profile, sandbox, "drop", "drop")
    c.run(job)
    assert c.state == "success" and "connection reset" in c.text
    retried = c.assert_retried("drop", "drop")
    c.check_invariants()
    c.record(f"pass: retried ({retried}), run succeeded")


def test_slower_than_request_timeout(cell, profile, sandbox):
    c = cell("slower than request timeout", extra={"request_timeout": 0.5})
    job = profile.make_job(sandbox)
    inject(profile, sandbox, "delay:1.5")
    c.run(job)
    assert c.state == "success" and "read timeout" in c.text
    retried = c.assert_retried("delay")
    c.check_invariants()
    c.record(f"pass: timed out, retried ({retried}), run succeeded")


def test_credentials_expire_mid_wait(cell, profile, sandbox):
    c = cell("credentials expire mid-wait")
    if not profile.has_session:
        c.record(f"n/a: {profile.notes.get('expire', 'no session')}")
        pytest.skip(profile.notes.get("expire", "no session"))
    job = profile.make_job(sandbox, seconds=0.6)
    inject(profile, sandbox, "expire")
    c.run(job)
    assert c.state == "success"
    assert len(sandbox.requests(profile.vendor, None, profile.login)) == 2  # the first login and one more
    c.assert_retried("expire")  # refused (401), logged in again, the same call again succeeded
    assert [s.status for s in c.poll_log() if s.fault] == [401]
    c.check_invariants()
    c.record("pass: logged in again once, the refused call succeeded, run succeeded")


def test_credentials_revoked(cell, profile, sandbox):
    c = cell("credentials revoked")
    job = profile.make_job(sandbox)
    profile.revoke(sandbox)
    c.run(job)
    assert c.state == "failed"
    assert re.search(r"AuthenticationError: .*connection '\w+'", c.text), "no auth failure naming the connection"
    if profile.login:
        assert len(sandbox.requests(profile.vendor, None, profile.login)) <= 2  # no login loop
    c.check_invariants(started=0)
    c.record("pass: clear failure naming the connection, no login loop, nothing started")


def test_html_error_page(cell, profile, sandbox):
    c = cell("HTML error page")
    job = profile.make_job(sandbox, seconds=5)
    inject(profile, sandbox, *["html:502"] * 5)
    c.run(job)
    assert c.state == "failed" and "502 Bad Gateway" in c.text
    assert c.faults_served() == ["html"] * 5
    c.check_invariants()
    c.record("pass: fails quoting the page's text")


def test_malformed_json(cell, profile, sandbox):
    c = cell("malformed JSON")
    job = profile.make_job(sandbox, seconds=5)
    inject(profile, sandbox, "malformed")
    c.run(job)
    assert c.state == "failed" and "not JSON" in c.text and '{"status": "succ' in c.text
    assert c.faults_served() == ["malformed"]
    c.check_invariants()
    c.record("pass: fails quoting an excerpt of the body")


def test_unknown_state(cell, profile, sandbox):
    c = cell("unknown state")
    job = profile.make_job(sandbox, seconds=30, unknown=True)
    c.run(job, timeout=1.5)
    assert c.state == "failed" and "does not know" in c.text and "Deadline reached" in c.text
    if profile.cancel:
        assert sandbox.requests(profile.vendor, "POST", profile.cancel)
    c.check_invariants()
    c.record("pass: kept waiting, failed at the deadline" + (" and cancelled the run" if profile.cancel else
                                                           " (no cancel call: the run goes on)"))


def test_run_disappears(cell, profile, sandbox):
    c = cell("run disappears")
    job = profile.make_job(sandbox, seconds=30, vanish_after=0.3)
    c.run(job, not_found_grace=0.5)
    assert c.state == "failed" and "was not found for" in c.text
    c.check_invariants()
    c.record("pass: fails once it has been missing longer than the grace period")


def test_killed_after_start(cell, profile, sandbox, monkeypatch):
    c = cell("killed after start")
    job = profile.make_job(sandbox, seconds=1.0)
    announce, killed = BaseJobOperator._announce, []

    def killed_once_recorded(self, context, runs, **kwargs):  # the worker dies once its run is started and recorded
        announce(self, context, runs, **kwargs)
        if not killed:
            killed.append([r.run_id for r in runs])
            raise RuntimeError("the worker was killed after the start")

    monkeypatch.setattr(BaseJobOperator, "_announce", killed_once_recorded)
    c.run(job, retries=1, retry_delay=0, deferrable=False)
    assert killed and "the worker was killed after the start" in c.text  # the first try did die
    assert c.state == "success" and "Reattaching to the run this task recorded" in c.text
    assert not (profile.cancel and sandbox.requests(profile.vendor, path=profile.cancel)), "the run was cancelled"
    c.check_invariants()
    c.record("pass: the retry reattached; exactly one start")


def test_trigger_recreated_mid_wait(cell, profile, sandbox):
    c = cell("trigger re-created mid-wait")
    job = profile.make_job(sandbox, seconds=2.0)
    op = profile.make_operator("job", job, **FAST)
    from airflow_provider_jobs.core.trigger import JobRunTrigger

    run = op.hook.start_run(op.job(), **op.start_options())
    _, kwargs = op.make_trigger([run], None).serialize()
    wire = json.loads(json.dumps(kwargs))  # what the triggerer stores

    async def first_triggerer_dies_after_its_first_poll() -> None:
        first = asyncio.ensure_future(first_event(JobRunTrigger(**wire)))
        polls = lambda: sandbox.requests(profile.vendor, path=profile.poll)  # noqa: E731
        await await_until(lambda: any("aiohttp" in s.agent for s in polls()), "the first triggerer polled", limit=30)
        assert not first.done(), "the run ended before the first triggerer died"
        first.cancel()

    asyncio.run(first_triggerer_dies_after_its_first_poll())
    event = asyncio.run(first_event(JobRunTrigger(**wire)))
    assert event["status"] == "success" and event["run"]["run_id"] == run.run_id
    assert c.starts() == 1
    for secret in profile.secrets(sandbox):
        assert_no_secret(secret, wire, event)
    c.record("pass: resumed from its kwargs; exactly one start")
