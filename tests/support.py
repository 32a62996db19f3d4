"""Shared test helpers: sandbox connections, running DAGs, capturing every log line."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pendulum
import pytest

FAST_RETRIES = {"retry_initial_delay": 0.01, "retry_max_delay": 0.05}

T = TypeVar("T")


# --- bounded waits: a test that waits for something that never happens fails, naming it -------------------
def wait_until(condition: Callable[[], T], what: str, limit: float = 10.0, interval: float = 0.02) -> T:
    """Poll `condition` until it returns something truthy (and return that); fail the test after `limit` s."""
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {limit} s waiting until {what}", pytrace=False)
        time.sleep(interval)


async def await_until(condition: Callable[[], T], what: str, limit: float = 10.0, interval: float = 0.02) -> T:
    """`wait_until` inside an event loop (beside triggers under test): polls without blocking the loop."""
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {limit} s waiting until {what}", pytrace=False)
        await asyncio.sleep(interval)


def wait_until_done(hook: Any, run: Any, limit: float = 10.0, interval: float = 0.05,
                    seen: list[Any] | None = None) -> Any:
    """Read `run` through `hook` until it is terminal and return it; fail the test if it is not after `limit` s.

    Every reading on the way is appended to `seen` when given.
    """
    deadline = time.monotonic() + limit
    while not run.is_terminal:
        if time.monotonic() >= deadline:
            pytest.fail(f"{run.vendor} job {run.job_id!r} run {run.run_id} is still {run.state.value} "
                        f"({run.vendor_state}) after {limit} s", pytrace=False)
        time.sleep(interval)
        run = hook.get_run(run)
        if seen is not None:
            seen.append(run)
    return run


async def first_event(trigger: Any, limit: float = 30.0) -> dict[str, Any]:
    """The payload of the first event `trigger` yields; fails the test if none comes within `limit` s."""

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        pytest.fail(f"{type(trigger).__name__} ended without an event", pytrace=False)

    try:
        return await asyncio.wait_for(first(), limit)
    except TimeoutError:
        pytest.fail(f"{type(trigger).__name__} yielded no event within {limit} s", pytrace=False)


def first_events(triggers: list[Any], limit: float = 30.0) -> list[dict[str, Any]]:
    """Run the triggers side by side on one event loop (as a triggerer does); the first event of each."""

    async def everything() -> list[dict[str, Any]]:
        return await asyncio.gather(*(first_event(t, limit) for t in triggers))

    return asyncio.run(everything())


@pytest.fixture
def sandbox(jobs_sandbox):
    """The session sandbox, reset for this test."""
    return jobs_sandbox


def use_connection(monkeypatch, sandbox, vendor: str, conn_id: str | None = None, **overrides: Any) -> str:
    """Point `conn_id` (default: the vendor's default) at the sandbox; fast retries unless overridden."""
    extra = {**FAST_RETRIES, **overrides.pop("extra", {})}
    name, value = sandbox.connection_env(vendor, conn_id, extra=extra, **overrides)
    monkeypatch.setenv(name, value)
    from airflow_provider_jobs.core.auth import credential_cache

    credential_cache.clear()
    return json.loads(value)["conn_type"]


def make_dag(dag_id: str, **kwargs: Any):
    from airflow_provider_jobs.core.compat import AIRFLOW_V3

    if AIRFLOW_V3:
        from airflow.sdk import DAG
    else:  # pragma: no cover
        from airflow import DAG
    return DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
               **kwargs)


def run_dag(dag) -> dict[str, str]:
    """dag.test() and the final state of each task instance (the users' plugin's runner)."""
    from airflow_provider_jobs.testing import run_dag as run

    return run(dag).states


def task_xcom(dag, dr_states, task_id: str, key: str = "return_value") -> Any:
    """XCom of a task in the latest run of `dag`."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    from airflow_provider_jobs.core.compat import AIRFLOW_V3

    if AIRFLOW_V3:
        from airflow.models.xcom import XComModel as XCom
    else:  # pragma: no cover
        from airflow.models import XCom

    with create_session() as session:
        dr = session.query(DagRun).filter(DagRun.dag_id == dag.dag_id).order_by(DagRun.id.desc()).first()
        row = (session.query(XCom).filter(XCom.dag_id == dag.dag_id, XCom.run_id == dr.run_id,
                                          XCom.task_id == task_id, XCom.key == key).first())
        if row is None:
            return None
        return row.value


@pytest.fixture
def output(capfd):
    """Everything printed to stdout/stderr so far in this test (Airflow 3's task logs go there)."""

    def read() -> str:
        out, err = capfd.readouterr()
        return out + err

    return read


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.records.append(text)


@contextmanager
def captured_logs() -> Iterator[_Collect]:
    """Every log line at DEBUG and above, from every logger, while the block runs."""
    handler = _Collect()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


def assert_no_secret(secret: str, *haystacks: Any) -> None:
    for hay in haystacks:
        text = hay if isinstance(hay, str) else json.dumps(hay, default=str)
        assert secret not in text, f"secret leaked: ...{text[max(0, text.find(secret) - 80):text.find(secret) + 80]}..."


def idle_for(seconds: float, site: Any, hook: Any) -> None:
    """`seconds` of quiet without waiting them: the vendor site's sessions and the hook's cached credential
    were last used that long ago (deterministic where a sleep races a loaded machine)."""
    from airflow_provider_jobs.core.auth import credential_cache

    for session in site.sessions.values():
        session["last_used"] -= seconds
    credential = credential_cache.get(hook._cache_key())
    assert credential is not None, "the hook has not logged in yet"
    credential.last_used -= seconds


def age_credentials(seconds: float, site: Any, hook: Any) -> None:
    """The hook's cached credential and the vendor site's tokens and sessions were issued `seconds` earlier
    (their hard expiry is that much nearer) without waiting them; their last use stays now, so only the
    expiry can make the hook log in again (deterministic where a sleep until near the expiry races a loaded
    machine)."""
    from airflow_provider_jobs.core.auth import credential_cache

    for token in getattr(site, "tokens", {}).values():  # OAuth tokens (OCAPI)
        token.expires_at -= seconds
    for session in getattr(site, "sessions", {}).values():  # sessions with a hard expiry (Informatica's JWTs)
        if "expires" in session:
            session["expires"] -= seconds
    credential = credential_cache.get(hook._cache_key())
    assert credential is not None and credential.expires_at is not None, "the hook holds no expiring credential"
    credential.expires_at -= seconds
