#!/usr/bin/env python
"""`make e2e`: the provider on a REAL Airflow 3 deployment, and its UI in a real browser.

Starts the vendor sandbox (a thread of this process) and, in a throwaway AIRFLOW_HOME on 127.0.0.1,
`airflow db migrate` then a scheduler (LocalExecutor), a triggerer, a DAG processor and an API server
as separate processes, every one with an AIRFLOW_CONN_* variable per sandbox vendor. Then:

  a. deferred   triggers the DAG through the REST API; it must succeed, every run task must have been
                deferred (Airflow's own task log: paused as DEFERRED, then the trigger ran in the
                triggerer; and the sandbox saw the status polls come from aiohttp, the triggerer's
                client), and the sandbox must have seen exactly one start call per run task.
  b. triggerer  while run tasks are deferred, stops the triggerer (SIGTERM, then SIGKILL), starts a
                new one: the DAG still succeeds and no job is started twice.
  c. cancel     marks deferred tasks waiting on long vendor runs failed through the REST API: the
                trigger's on_kill (Airflow 3.3+) must cancel each remote run (the vendor's stop call).
  e. events     a DAG scheduled on a CData Sync job's runs (AssetWatcher + JobRunFinishedTrigger): a run
                started through the sandbox's CData API, outside Airflow, makes exactly one DAG run, whose
                triggering asset event carries that run's id.
  f. start_from_trigger  five vendors' run tasks start and wait in the triggerer (Airflow 3.3+): no task process.
  g. start_from_trigger_restart  the triggerer is stopped while the sandbox holds two such tasks' start calls: the
                new triggerer adopts the runs those starts made (one start, one run per task).
  h. start_from_trigger_kill  such a task marked failed while it waits: the start trigger's on_kill cancels the run.
  d. ui         headless Chromium (Debian's, driven by Playwright): the add-connection form offers
                every connection type of the provider with its own extra fields (screenshot), and a
                finished run task's "Vendor job run" extra link is the run's URL.

Every scenario prints PASS/FAIL; the script exits non-zero when one fails, and always stops every
process it started (also on Ctrl-C / SIGTERM). The Airflow home is removed after a passing run
(`--keep` leaves it, with every component's log); screenshots go to their own temp dir.

    python tests/e2e/run_e2e.py                      # chained_vendor_jobs (else spectrum_example)
    python tests/e2e/run_e2e.py --dag ocapi_example --only deferred,ui
    python tests/e2e/run_e2e.py --dag my_chain --extra-dags path/to/my_chain.py

Vendor specifics live in three tables below: START_CALLS, CANCEL_CALLS and LONG_RUNS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

REPO = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
EXAMPLE_DAGS = REPO / "example_dags"
CHROMIUM = "/usr/bin/chromium"
LINK_NAME = "Vendor job run"  # the provider's extra link (core.operator.JobRunLink)
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# --- what each vendor's sandbox site sees -------------------------------------------------------------------
# Paths are relative to the vendor's mount point (/<vendor>/), as in `sandbox.requests()`.
# Extend these tables when a vendor is added.

#: The calls that START a run. Each run task must make exactly one of them.
START_CALLS: dict[str, list[tuple[str, str]]] = {
    "spectrum": [("POST", r"^/api/job-execution/.+/trigger$"), ("POST", r"^/api/job-execution/sequential-trigger$")],
    "informatica": [("POST", r"/saas/api/v2/job$"), ("POST", r"/active-bpel/rt/")],
    "ocapi": [("POST", r"/jobs/[^/]+/executions$")],
    "cdata_sync": [("POST", r"/v2/jobs/[^/]+/execute$")],
    "nexus_ic": [("POST", r"/report/?$")],
}

#: The calls that CANCEL a run (scenario c).
CANCEL_CALLS: dict[str, list[tuple[str, str]]] = {
    "spectrum": [("POST", r"^/api/job-execution/.+/stop$")],
    "informatica": [("POST", r"/api/v2/job/stop$")],
    "cdata_sync": [("POST", r"/v2/jobs/[^/]+/cancel$")],
}


def _spectrum_long_run(sandbox: Any) -> tuple[str, dict[str, Any]]:
    sandbox.spectrum.add_file("/E2E/Long", running=600)
    return "airflow_provider_jobs.operators.spectrum.SpectrumTriggerJobOperator", {"file": "/E2E/Long"}


def _informatica_long_run(sandbox: Any) -> tuple[str, dict[str, Any]]:
    task = sandbox.informatica.add_task("E2E Long", task_type="MTT", running=600)
    return ("airflow_provider_jobs.operators.informatica.InformaticaRunTaskOperator",
            {"informatica_task_type": "MTT", "informatica_task_id": task.task_id})


def _cdata_sync_long_run(sandbox: Any) -> tuple[str, dict[str, Any]]:
    job = sandbox.cdata_sync.add_job("E2E Long", [{"query": "REPLICATE [Accounts]", "seconds": 600}])
    return "airflow_provider_jobs.operators.cdata_sync.CDataSyncRunJobOperator", {"job_id": str(job.job_id)}


#: Scenario c, per vendor that can cancel: add a job that runs for minutes to the sandbox and return
#: (run operator class path, its kwargs) to wait on it. Used for the vendors the sandbox has.
LONG_RUNS: dict[str, Callable[[Any], tuple[str, dict[str, Any]]]] = {
    "spectrum": _spectrum_long_run,
    "informatica": _informatica_long_run,
    "cdata_sync": _cdata_sync_long_run,
}

#: Scenario e: the CData Sync job the DAG e2e_on_runs (tests/e2e/dags/) is scheduled on.
EVENTS_DAG = "e2e_on_runs"
EVENTS_JOB = "E2E Events"

#: A client's User-Agent tells the triggerer (aiohttp) from a worker (requests).
AIOHTTP_AGENT = re.compile(r"aiohttp/")
REQUESTS_AGENT = re.compile(r"python-requests/")

# --- time budget (seconds; generous: other jobs share the 2 cores) ------------------------------------------
MIGRATE_TIMEOUT = 240
STARTUP_TIMEOUT = 240
DAG_RUN_TIMEOUT = 300
DEFERRED_TIMEOUT = 180
CANCEL_TIMEOUT = 90
STOP_TIMEOUT = 20
HTTP_TIMEOUT = 30


class Budget:
    """The whole run's time limit (`--budget`): every wait ends by it, whatever its own timeout."""

    deadline = float("inf")  # time.monotonic() value

    @classmethod
    def cap(cls, timeout: float) -> float:
        return max(1.0, min(timeout, cls.deadline - time.monotonic()))


class ScenarioFailed(AssertionError):
    """A check of a scenario did not hold."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


def wait_for(what: str, predicate: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + Budget.cap(timeout)
    last_error: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (requests.RequestException, ValueError, KeyError) as exc:  # not up yet, or a bad answer
            last_error = exc
        if time.monotonic() >= deadline:
            suffix = f" (last error: {last_error})" if last_error else ""
            spent = " (the run's --budget is spent)" if time.monotonic() >= Budget.deadline else ""
            raise ScenarioFailed(f"timed out waiting for {what}{spent}{suffix}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def matching(served: list[Any], calls: list[tuple[str, str]]) -> list[Any]:
    return [s for s in served if any(s.method == m and re.search(p, s.path) for m, p in calls)]


# --- the DAG as the provider sees it (read in a child process with the deployment's environment) ------------
@dataclass
class RunTask:
    """A task of this provider's run operators."""

    task_id: str
    vendor: str
    operator: str
    deferrable: bool
    wait_for_completion: bool

    @property
    def defers(self) -> bool:
        return self.deferrable and self.wait_for_completion


def describe_main(dag_id: str) -> int:
    """Child-process mode (`--describe DAG`): print the DAG's run tasks and the provider's connection forms."""
    from airflow_provider_jobs import get_provider_info
    from airflow_provider_jobs.core.operator import BaseJobOperator

    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # older layouts
        from airflow.models.dagbag import DagBag

    bag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])  # examples are off in the environment
    dag = bag.get_dag(dag_id)
    if dag is None:
        print(json.dumps({"error": f"DAG {dag_id!r} not found; import errors: {bag.import_errors}"}))
        return 1
    tasks = [
        {
            "task_id": t.task_id,
            "vendor": t.hook_class.vendor,
            "operator": type(t).__name__,
            "deferrable": bool(t.deferrable),
            "wait_for_completion": bool(t.wait_for_completion),
        }
        for t in dag.tasks
        if isinstance(t, BaseJobOperator)
    ]
    forms = [
        {"type": c["connection-type"], "name": c["hook-name"],
         "fields": [spec.get("label", name) for name, spec in c["conn-fields"].items()],
         "relabeled": sorted(set(c["ui-field-behaviour"].get("relabeling", {}).values()))}
        for c in get_provider_info()["connection-types"]
    ]
    print("DESCRIBE" + json.dumps({"tasks": tasks, "forms": forms}))
    return 0


# --- the deployment -----------------------------------------------------------------------------------------
@dataclass
class Component:
    """One running Airflow process (the leader of its own process group)."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path


@dataclass
class Deployment:
    """A real Airflow 3 deployment in a temporary AIRFLOW_HOME, every process on 127.0.0.1."""

    home: Path
    sandbox: Any
    port: int = field(default_factory=free_port)
    components: dict[str, Component] = field(default_factory=dict)
    token: str | None = None
    generation: Counter[str] = field(default_factory=Counter)  # starts per component: names its log
    _secrets: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dags_folder(self) -> Path:
        return self.home / "dags"

    def prepare(self, cancel_cases: list[dict[str, Any]], extra_dags: Sequence[Path] = ()) -> None:
        """The dags folder: the example DAGs, the e2e ones and any extra DAG files, and the cases the
        cancel DAG builds."""
        self.dags_folder.mkdir(parents=True)
        sources = [*EXAMPLE_DAGS.glob("*.py"), *(E2E_DIR / "dags").glob("*.py")]
        for extra in extra_dags:
            sources.extend(sorted(extra.glob("*.py")) if extra.is_dir() else [extra])
        for source in sources:
            shutil.copy(source, self.dags_folder / source.name)
        (self.dags_folder / "e2e_cancel_cases.json").write_text(json.dumps(cancel_cases, indent=2))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home}/airflow.db",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__EXPOSE_CONFIG": "False",
            "AIRFLOW__API__SECRET_KEY": self._secret("api"),
            "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            # The task supervisor's select() wakes at least this often (default 5 s). A short wait closes
            # an Airflow 3.3 race: when a vendor run ends within seconds of the deferral, the trigger can
            # resume the task before the scheduler has seen the deferring process exit, and that late
            # "success" event then fails the resumed try (see Deployment.diagnose()).
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
        })
        for vendor in self.sandbox.state.sites:
            name, value = self.sandbox.connection_env(vendor)
            env[name] = value
        return env

    def _secret(self, name: str) -> str:
        return self._secrets.setdefault(name, secrets.token_urlsafe(32))

    # -- processes -------------------------------------------------------------------------------------------
    def migrate(self) -> None:
        log = self.home / "db-migrate.log"
        with log.open("wb") as out:
            proc = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=self.env(),
                                  stdout=out, stderr=subprocess.STDOUT, timeout=Budget.cap(MIGRATE_TIMEOUT))
        if proc.returncode != 0:
            raise ScenarioFailed(f"airflow db migrate failed:\n{log.read_text()[-3000:]}")
        if not self.env()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
            return  # a server database (tests/e2e_cluster)
        # WAL lets the API server read while the scheduler writes (the setting stays with the file).
        import sqlite3

        with contextlib.closing(sqlite3.connect(self.home / "airflow.db")) as db:
            db.execute("PRAGMA journal_mode=WAL")

    def start(self, name: str, *args: str, key: str | None = None) -> Component:
        """Start `airflow <name> <args>` in its own process group, its output in <home>/<key>-<n>.log; `key`
        (default: `name`) names the component, e.g. one of several triggerers."""
        key = key or name
        self.generation[key] += 1
        log_path = self.home / f"{key}-{self.generation[key]}.log"
        with log_path.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "airflow", name, *args], env=self.env(), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        component = Component(key, proc, log_path)
        self.components[key] = component
        return component

    def start_all(self) -> None:
        self.start("api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1")
        self.start("scheduler", "--skip-serve-logs")
        self.start("dag-processor")
        self.start("triggerer", "--skip-serve-logs")

    def stop(self, name: str, timeout: float = STOP_TIMEOUT) -> str:
        """SIGTERM the component (it shuts its own children down), SIGKILL its process group if it is still
        there after `timeout`; then whatever is left of the group (workers, supervisors) goes too."""
        component = self.components.pop(name, None)
        if component is None:
            return "not running"
        proc = component.proc
        how = f"had exited ({proc.returncode})" if proc.poll() is not None else "SIGTERM"
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                how = "SIGTERM, then SIGKILL"
        # start_new_session: the group id is the component's pid; the group holds only what it started.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        return how

    def stop_all(self) -> None:
        # Scheduler first (no new tasks), the API server last (running tasks report to it).
        for name in ("scheduler", "triggerer", "dag-processor", "api-server"):
            self.stop(name)
        for name in list(self.components):
            self.stop(name)

    def check_alive(self) -> None:
        for component in self.components.values():
            code = component.proc.poll()
            if code is not None:
                tail = component.log_path.read_text(errors="replace")[-3000:]
                raise ScenarioFailed(f"airflow {component.name} exited with {code}:\n{tail}")

    def diagnose(self) -> str:
        """What the Airflow logs say about a failed run, for known causes outside the provider."""
        notes = []
        for log in sorted(self.home.glob("scheduler-*.log")):
            for line in log.read_text(errors="replace").splitlines():
                if "but the task instance's state attribute is" in line:
                    notes.append("Airflow race: the scheduler failed a resumed task on the late executor event "
                                 "of its deferral: " + line[:300])
        return ("; " + "; ".join(notes)) if notes else ""

    # -- the REST API ----------------------------------------------------------------------------------------
    def api(self, method: str, path: str, missing_ok: bool = False, **kwargs: Any) -> Any:
        """One REST API call with the admin JWT: the JSON answer (None for a 404 when `missing_ok`)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(kwargs.pop("headers", {}))
        resp = requests.request(method, f"{self.url}{path}", headers=headers, timeout=HTTP_TIMEOUT, **kwargs)
        if missing_ok and resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            raise ScenarioFailed(f"{method} {path} -> HTTP {resp.status_code}: {resp.text[:500]}")
        return resp.json() if resp.content else None

    def wait_ready(self, dag_ids: list[str]) -> None:
        def api_up() -> bool:
            self.check_alive()
            return requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).status_code == 200

        wait_for("the API server", api_up, STARTUP_TIMEOUT)
        # Simple auth manager with all admins: GET /auth/token hands out an admin JWT.
        self.token = requests.get(f"{self.url}/auth/token", timeout=HTTP_TIMEOUT).json()["access_token"]

        def healthy() -> bool:
            self.check_alive()
            health = self.api("GET", "/api/v2/monitor/health")
            return all(health.get(c, {}).get("status") == "healthy"
                       for c in ("metadatabase", "scheduler", "triggerer", "dag_processor"))

        wait_for("scheduler, triggerer and DAG processor to report healthy", healthy, STARTUP_TIMEOUT)
        for dag_id in dag_ids:
            wait_for(f"DAG {dag_id} to be parsed", lambda d=dag_id: self._dag_ready(d), STARTUP_TIMEOUT, 2)

    def _dag_ready(self, dag_id: str) -> bool:
        self.check_alive()
        dags = self.api("GET", "/api/v2/dags", params={"dag_id_pattern": dag_id})["dags"]
        dag = next((d for d in dags if d["dag_id"] == dag_id), None)
        if dag is None:
            return False
        if dag["is_paused"]:
            self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        return True

    @staticmethod
    def ti_path(dag_id: str, run_id: str, task_id: str) -> str:
        """The REST API path of a task instance (a run id has '+' and ':' in it)."""
        return (f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
                f"/taskInstances/{quote(task_id, safe='')}")

    def trigger(self, dag_id: str) -> str:
        # With a logical date, as the UI's trigger form sends by default (without one, `{{ ds }}` is undefined).
        now = datetime.now(UTC).isoformat()
        run = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": now, "conf": {}})
        return run["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")["state"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances",
                        params={"limit": 1000})["task_instances"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.api("GET", self.ti_path(dag_id, run_id, task_id))

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """The whole log of one try as text (the worker's part and the triggerer's part)."""
        body = self.api("GET", f"{self.ti_path(dag_id, run_id, task_id)}/logs/{try_number}",
                        params={"full_content": "true"}, headers={"Accept": "application/json"})
        return "\n".join(json.dumps(line) if isinstance(line, dict) else str(line) for line in body["content"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str) -> Any:
        """One XCom value of a task instance; None when the task pushed none under `key`."""
        entry = self.api("GET", f"{self.ti_path(dag_id, run_id, task_id)}/xcomEntries/{key}", missing_ok=True,
                         params={"deserialize": "true", "stringify": "false"})
        return None if entry is None else entry["value"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float = DAG_RUN_TIMEOUT) -> str:
        """Wait for a DAG run to end: its final state."""
        def ended() -> str | None:
            self.check_alive()
            state = self.run_state(dag_id, run_id)
            return state if state in ("success", "failed") else None

        return wait_for(f"DAG run {dag_id}/{run_id} to end", ended, timeout, 1.0)


# --- scenarios ----------------------------------------------------------------------------------------------
@dataclass
class Result:
    """How one scenario went."""

    name: str
    ok: bool
    seconds: float
    detail: str


@dataclass
class E2E:
    """The scenarios, against one deployment and one sandbox."""

    deployment: Deployment
    sandbox: Any
    dag_id: str
    tasks: list[RunTask]
    forms: list[dict[str, Any]]
    shots: Path = field(default_factory=Path)  # the screenshot folder (a temp dir, made by the UI scenario)
    results: list[Result] = field(default_factory=list)
    finished_run: str | None = None

    def scenario(self, name: str, body: Callable[[], str]) -> None:
        started = time.monotonic()
        try:
            detail = body()
            ok = True
        except ScenarioFailed as exc:
            ok, detail = False, str(exc)
        except Exception as exc:  # a bug in the harness or an unexpected answer: still a FAIL, with the trace
            ok, detail = False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        seconds = time.monotonic() - started
        self.results.append(Result(name, ok, seconds, detail))
        print(f"{'PASS' if ok else 'FAIL'} {name} ({seconds:.0f}s): {detail}", flush=True)

    # -- shared checks ---------------------------------------------------------------------------------------
    def check_success(self, run_id: str, state: str) -> None:
        if state != "success":
            states = self.deployment.task_states(self.dag_id, run_id)
            raise ScenarioFailed(f"run {run_id} ended {state}: {states}{self.deployment.diagnose()}")

    def starts_since(self, mark: int) -> dict[str, list[Any]]:
        served = self.sandbox.requests()[mark:]
        return {vendor: matching([s for s in served if s.vendor == vendor], calls)
                for vendor, calls in START_CALLS.items()}

    def check_one_start_per_task(self, mark: int) -> str:
        expected = Counter(t.vendor for t in self.tasks)
        seen = {vendor: len(calls) for vendor, calls in self.starts_since(mark).items() if calls or vendor in expected}
        bad = {v: (seen.get(v, 0), expected.get(v, 0)) for v in set(seen) | set(expected)
               if seen.get(v, 0) != expected.get(v, 0)}
        check(not bad, "start calls seen != run tasks, per vendor (seen, expected): " + json.dumps(bad))
        # A start is the worker's job (requests); only the waiting moves to the triggerer.
        agents = {s.agent for calls in self.starts_since(mark).values() for s in calls}
        check(all(REQUESTS_AGENT.search(a) for a in agents), f"start calls not from a worker: agents {agents}")
        return ", ".join(f"{v} {n}" for v, n in sorted(seen.items()))

    def check_deferred(self, run_id: str, mark: int) -> str:
        """Every deferring run task was paused as DEFERRED by its worker and its wait ran as a trigger
        (Airflow's own task log, whose trigger part the triggerer writes); the status polls of its vendor
        reached the sandbox from aiohttp, the triggerer's HTTP client (a worker uses requests)."""
        problems = []
        deferring = [t for t in self.tasks if t.defers]
        for task in deferring:
            ti = self.deployment.task_instance(self.dag_id, run_id, task.task_id)
            log = self.deployment.task_log(self.dag_id, run_id, task.task_id, ti["try_number"])
            if "Pausing task as DEFERRED" not in log:
                problems.append(f"{task.task_id}: its log does not say it was paused as DEFERRED")
            elif "Trigger fired event" not in log:
                problems.append(f"{task.task_id}: its log has no trigger part (no 'Trigger fired event')")
        served = self.sandbox.requests()[mark:]
        starts = {id(s) for calls in self.starts_since(mark).values() for s in calls}
        polls = Counter(s.vendor for s in served if id(s) not in starts and AIOHTTP_AGENT.search(s.agent))
        for vendor in sorted({t.vendor for t in deferring}):
            if not polls[vendor]:
                agents = sorted({s.agent for s in served if s.vendor == vendor})
                problems.append(f"{vendor}: no status call came from aiohttp (agents seen: {agents})")
        check(not problems, "; ".join(problems))
        return (f"{len(deferring)} run tasks paused as DEFERRED and waited in a trigger (task logs); "
                "status calls from aiohttp: " + ", ".join(f"{v} {n}" for v, n in sorted(polls.items())))

    # -- a. deferred -----------------------------------------------------------------------------------------
    def deferred(self) -> str:
        mark = len(self.sandbox.requests())
        run_id = self.deployment.trigger(self.dag_id)
        state = self.deployment.wait_run(self.dag_id, run_id)
        self.check_success(run_id, state)
        self.finished_run = run_id
        proof = self.check_deferred(run_id, mark)
        starts = self.check_one_start_per_task(mark)
        return f"run {run_id} succeeded; {proof}; one start per run task ({starts})"

    # -- b. triggerer restart --------------------------------------------------------------------------------
    def triggerer_restart(self) -> str:
        mark = len(self.sandbox.requests())
        run_id = self.deployment.trigger(self.dag_id)

        def claimed() -> list[str]:
            """Run tasks deferred and claimed by the running triggerer (their trigger is being waited on)."""
            self.deployment.check_alive()
            tis = self.deployment.task_instances(self.dag_id, run_id)
            waited = [ti["task_id"] for ti in tis if ti["state"] == "deferred"
                      and (ti.get("trigger") or {}).get("triggerer_id") is not None]
            if not waited and self.deployment.run_state(self.dag_id, run_id) in ("success", "failed"):
                raise ScenarioFailed(f"inconclusive: run {run_id} ended before the triggerer could be stopped "
                                     "while its trigger was being waited on")
            return waited

        # Stop the triggerer while it waits on a run. If the trigger fires during the triggerer's graceful
        # shutdown, nothing is left for the new one: then try again on the next deferral of the run.
        rounds = []
        for _ in range(3):
            waited = wait_for("a run task being waited on by the triggerer", claimed, DEFERRED_TIMEOUT, 0.3)
            how = self.deployment.stop("triggerer")
            # With the triggerer gone, what is still deferred can only be finished by the new one.
            orphans = [t for t, state in self.deployment.task_states(self.dag_id, run_id).items()
                       if state == "deferred"]
            self.deployment.start("triggerer", "--skip-serve-logs")
            rounds.append(f"stopped the triggerer ({how}) while it waited on {', '.join(waited)}")
            if orphans:
                break
        state = self.deployment.wait_run(self.dag_id, run_id)
        self.check_success(run_id, state)
        check(bool(orphans), f"inconclusive: {'; '.join(rounds)}; but every trigger fired before it exited")
        starts = self.check_one_start_per_task(mark)
        return (f"{'; '.join(rounds)}; the new triggerer finished {', '.join(orphans)}; run {run_id} "
                f"succeeded; no job started twice ({starts})")

    # -- c. cancel -------------------------------------------------------------------------------------------
    def cancel(self, cases: list[dict[str, Any]]) -> str:
        check(bool(cases), "no vendor with a cancel call has a long sandbox run in LONG_RUNS")
        dag_id = "e2e_cancel"
        mark = len(self.sandbox.requests())
        run_id = self.deployment.trigger(dag_id)
        task_ids = [c["task_id"] for c in cases]

        def all_waited_on() -> bool:
            """Every task deferred, its trigger claimed by the triggerer and already polling its vendor
            (Airflow calls on_kill only for a trigger that runs: one still unclaimed is just deleted)."""
            self.deployment.check_alive()
            tis = {ti["task_id"]: ti for ti in self.deployment.task_instances(dag_id, run_id)}
            ended = {t: ti["state"] for t, ti in tis.items() if ti["state"] in ("failed", "upstream_failed", "success")}
            check(not ended, f"tasks ended before they could be marked failed: {ended}")
            polled = {s.vendor for s in self.sandbox.requests()[mark:] if AIOHTTP_AGENT.search(s.agent)}
            return all(tis.get(c["task_id"], {}).get("state") == "deferred"
                       and (tis[c["task_id"]].get("trigger") or {}).get("triggerer_id") is not None
                       and c["vendor"] in polled for c in cases)

        wait_for("every long run task to be waited on in the triggerer", all_waited_on, DEFERRED_TIMEOUT, 0.5)
        for task_id in task_ids:
            self.deployment.api("PATCH", self.deployment.ti_path(dag_id, run_id, task_id),
                                json={"new_state": "failed"})
        details = []
        for case in cases:
            vendor, calls = case["vendor"], CANCEL_CALLS[case["vendor"]]

            def cancelled(v: str = vendor, c: list[tuple[str, str]] = calls) -> list[Any]:
                return matching([s for s in self.sandbox.requests()[mark:] if s.vendor == v], c)

            seen = wait_for(f"the {vendor} cancel call", cancelled, CANCEL_TIMEOUT, 0.5)
            # The task was deferred: no worker runs it, so the trigger's on_kill (aiohttp) must have cancelled.
            check(all(AIOHTTP_AGENT.search(s.agent) for s in seen),
                  f"the {vendor} cancel did not come from the triggerer: agents {[s.agent for s in seen]}")
            check(all(s.status is not None and s.status < 400 for s in seen),
                  f"the {vendor} cancel was answered {[s.status for s in seen]}")
            details.append(f"{vendor}: {seen[0].method} {seen[0].path} -> {seen[0].status}")
        states = self.deployment.task_states(dag_id, run_id)
        check(all(states.get(t) == "failed" for t in task_ids), f"task states after the PATCH: {states}")
        return f"marked {', '.join(task_ids)} failed while deferred; remote runs cancelled: {'; '.join(details)}"

    # -- e. events ------------------------------------------------------------------------------------------
    def events(self) -> str:
        """A run of a CData Sync job started outside Airflow (the vendor's scheduler, here an HTTP call to the
        sandbox) schedules exactly one run of the DAG watching that job, and the run's id reaches it."""
        site = self.sandbox.cdata_sync
        job = next(j for j in site.jobs.values() if j.name == EVENTS_JOB)
        history = re.compile(rf"/jobs/{job.job_id}/history$")

        def listings() -> int:
            return sum(1 for s in self.sandbox.requests("cdata_sync", "GET")
                       if history.search(s.path) and AIOHTTP_AGENT.search(s.agent))

        def dag_runs() -> list[dict[str, Any]]:
            self.deployment.check_alive()
            return self.deployment.api("GET", f"/api/v2/dags/{EVENTS_DAG}/dagRuns")["dag_runs"]

        # The watcher's baseline: the triggerer listed the job's history twice (the first listing is kept).
        wait_for("the triggerer's watcher to list the job's history", lambda: listings() >= 2, DEFERRED_TIMEOUT, 0.5)
        check(dag_runs() == [], f"DAG {EVENTS_DAG} ran before any run of {EVENTS_JOB!r} ended: {dag_runs()}")
        connection = self.sandbox.connection("cdata_sync")
        resp = requests.post(f"{connection['host']}/v2/jobs/{job.job_id}/execute", json={}, timeout=HTTP_TIMEOUT,
                             headers={"x-cdata-authtoken": connection["password"]})
        check(resp.ok, f"starting {EVENTS_JOB!r} in the sandbox: HTTP {resp.status_code} {resp.text[:300]}")
        run = next(r for r in reversed(site.runs) if r.job is job)
        wait_for(f"the sandbox run of {EVENTS_JOB!r} to end", lambda: run.state()[2], 60, 0.5)
        first = wait_for(f"a run of DAG {EVENTS_DAG}", dag_runs, DAG_RUN_TIMEOUT, 1.0)[0]["dag_run_id"]
        state = self.deployment.wait_run(EVENTS_DAG, first)
        check(state == "success", f"DAG run {first} ended {state}")
        # Later listings show the same ended run: no second DAG run.
        seen = listings()
        wait_for("two more listings", lambda: listings() >= seen + 2, 60, 0.5)
        runs = dag_runs()
        check(len(runs) == 1, f"expected exactly one run of {EVENTS_DAG}, got {[r['dag_run_id'] for r in runs]}")
        events = self.deployment.api(
            "GET", f"/api/v2/dags/{EVENTS_DAG}/dagRuns/{quote(first, safe='')}/upstreamAssetEvents")["asset_events"]
        carried = [((e.get("extra") or {}).get("payload") or {}).get("run", {}) for e in events]  # as Airflow stores it
        check([r.get("run_id") for r in carried] == [str(run.history_id)],
              f"the triggering asset events carry runs {carried}, expected run {run.history_id}")
        check(carried[0].get("state") == "SUCCESS", f"the asset event's run is {carried[0].get('state')}")
        pushed = self.deployment.xcom(EVENTS_DAG, first, "run_ids", "return_value")
        check(pushed == [str(run.history_id)], f"the DAG's task saw run ids {pushed}")
        return (f"run {run.history_id} of {EVENTS_JOB!r} started outside Airflow -> exactly one DAG run ({first}); "
                "its asset event and task carry the run")

    # -- d. UI -----------------------------------------------------------------------------------------------
    def ui(self) -> str:
        from playwright.sync_api import sync_playwright

        check(self.finished_run is not None, "needs the successful run of scenario a")
        self.shots = Path(tempfile.mkdtemp(prefix="apj-e2e-screenshots-"))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            try:
                # All admins: /auth/token/login sets the JWT cookie, then goes on to the connections list.
                page.goto(f"{self.deployment.url}/auth/token/login?next={self.deployment.url}/connections")
                forms = self._connection_forms(page)
                links = self._extra_links(page)
            except Exception:
                shot = self.shots / "failure.png"
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(shot), full_page=True)
                    print(f"  screenshot of the failure: {shot}", flush=True)
                raise
            finally:
                browser.close()
        return f"{forms}; {links}"

    def _connection_forms(self, page: Any) -> str:
        """Each of the provider's connection types is offered, and shows its own fields (only its own)."""
        page.get_by_role("button", name="Add Connection").click()
        dialog = page.get_by_role("dialog")
        all_labels = Counter(label for form in self.forms for label in set(form["fields"]))
        connection_type = dialog.get_by_role("combobox", name=re.compile(r"^\s*Connection Type"))

        def label(text: str) -> Any:  # a field's label (a required one ends with " *")
            return dialog.get_by_text(re.compile(rf"^\s*{re.escape(text)}\s*\*?\s*$"))

        checked = []
        for form in self.forms:
            connection_type.click()
            page.get_by_role("option", name=form["name"], exact=True).click()
            # The form's sections are an accordion with one section open at a time: the standard fields
            # (relabeled for the vendor) first, then the vendor's extra fields.
            for section, texts in (("Standard Fields", form["relabeled"]), ("Extra Fields", form["fields"])):
                button = dialog.get_by_role("button", name=section, exact=True)
                if button.get_attribute("aria-expanded") != "true":
                    button.click()
                for text in texts:
                    label(text).first.wait_for(state="visible")
            # Another vendor's own fields must not show (labels several vendors share are fine).
            foreign = [text for other in self.forms if other is not form for text in other["fields"]
                       if all_labels[text] == 1 and text not in form["fields"]]
            shown = [text for text in foreign if label(text).count()]
            check(not shown, f"the {form['name']} form shows other vendors' fields: {shown}")
            shot = self.shots / f"add-connection-{form['type']}.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"  screenshot: {shot}", flush=True)
            checked.append(f"{form['name']} ({', '.join(form['fields'])})")
        page.keyboard.press("Escape")
        return "the add-connection form offers " + "; ".join(checked)

    def _extra_links(self, page: Any) -> str:
        """Each run task's "Vendor job run" link is the run URL it pushed (XCom run_url): through the REST
        API, and as the link its Details tab shows. A vendor without run pages gives no URL and no link."""
        run_id = self.finished_run
        assert run_id is not None
        linked, unlinked = [], []
        for task in self.tasks:
            url = self.deployment.xcom(self.dag_id, run_id, task.task_id, "run_url") or None
            links = self.deployment.api("GET", f"{self.deployment.ti_path(self.dag_id, run_id, task.task_id)}/links")
            got = links["extra_links"].get(LINK_NAME) or None
            check(got == url, f"{task.task_id}: the API's {LINK_NAME!r} link is {got!r}, the run URL {url!r}")
            if url is None:
                unlinked.append(f"{task.task_id} ({task.vendor})")
                continue
            page.goto(f"{self.deployment.url}/dags/{quote(self.dag_id, safe='')}/runs/{quote(run_id, safe='')}"
                      f"/tasks/{quote(task.task_id, safe='')}/details")
            link = page.get_by_role("link", name=LINK_NAME, exact=True)
            link.wait_for(state="visible")
            href = link.get_attribute("href")
            shot = self.shots / f"extra-link-{task.task_id}.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"  screenshot: {shot}", flush=True)
            check(href == url, f"{task.task_id}: the UI's {LINK_NAME!r} link is {href!r}, the run URL {url!r}")
            linked.append(task.task_id)
        done = f"{LINK_NAME!r} = the run URL for {', '.join(linked)} (REST API and UI)" if linked else ""
        if unlinked:
            done += f"{'; ' if done else ''}no run URL and no link for {', '.join(unlinked)}"
        return done


# --- main ---------------------------------------------------------------------------------------------------
# --- e. start from the trigger (Airflow 3.3+) ------------------------------------------------------------------
START_FROM_TRIGGER_DAG = "e2e_start_from_trigger"  # tests/e2e/dags/e2e_start_from_trigger.py
START_FROM_TRIGGER_TASKS = {"load_customers": "informatica", "import_customers": "ocapi",
                            "replicate_crm": "cdata_sync", "inspection_summary": "nexus_ic", "weblogs": "spectrum"}


def no_task_process(deployment: Deployment, dag_id: str, run_id: str, task_id: str,
                    problems: list[str]) -> dict[str, Any]:
    """The task instance, with a problem noted if a task process ran it (Airflow records its hostname and pid)
    or it took more than one try."""
    ti = deployment.task_instance(dag_id, run_id, task_id)
    if ti.get("hostname") or ti.get("pid"):
        problems.append(f"{task_id}: ran on a worker (hostname {ti.get('hostname')!r}, pid {ti.get('pid')})")
    if ti.get("try_number") != 1:
        problems.append(f"{task_id}: try_number {ti.get('try_number')}")
    return ti


def start_from_trigger(e2e: E2E) -> str:
    """Five vendors' run tasks with start_from_trigger: no worker ran them. Airflow records a task process on the
    task instance (hostname, pid); a task deferred straight from the scheduler to its trigger has neither, and its
    one try went from scheduled to deferred to success. The start calls came from aiohttp (the triggerer), one
    per task, and each task's return_value names the run its run_id XCom announced."""
    dag_id, deployment = START_FROM_TRIGGER_DAG, e2e.deployment
    mark = len(e2e.sandbox.requests())
    run_id = deployment.trigger(dag_id)
    state = deployment.wait_run(dag_id, run_id)
    if state != "success":
        raise ScenarioFailed(f"run {run_id} ended {state}: {deployment.task_states(dag_id, run_id)}"
                             f"{deployment.diagnose()}")
    problems = []
    for task_id in START_FROM_TRIGGER_TASKS:
        no_task_process(deployment, dag_id, run_id, task_id, problems)
        result = deployment.xcom(dag_id, run_id, task_id, "return_value")
        announced = deployment.xcom(dag_id, run_id, task_id, "run_id")
        if not isinstance(result, dict) or result.get("state") != "SUCCESS" or str(result.get("run_id")) != str(
                announced):
            problems.append(f"{task_id}: return_value {result!r} does not match run_id XCom {announced!r}")
    served = e2e.sandbox.requests()[mark:]
    starts = {v: matching([s for s in served if s.vendor == v], START_CALLS[v])
              for v in set(START_FROM_TRIGGER_TASKS.values())}
    for vendor, calls in sorted(starts.items()):
        if len(calls) != 1:
            problems.append(f"{vendor}: {len(calls)} start calls, expected 1")
        elif not AIOHTTP_AGENT.search(calls[0].agent):
            problems.append(f"{vendor}: the start came from {calls[0].agent!r}, not the triggerer (aiohttp)")
    # The OCAPI task's parameter is a template: the triggerer renders it (3.3+), so the vendor gets the file name.
    ocapi_run = str(deployment.xcom(dag_id, run_id, "import_customers", "run_id"))
    execution = e2e.sandbox.state.sites["ocapi"].executions.get(ocapi_run)
    sent = [p.get("value", "") for p in (execution.parameters if execution else [])]
    if not any(re.fullmatch(r"customers_\d{8}\.xml", v) for v in sent):
        problems.append(f"import_customers: the vendor got parameters {sent!r}, not a rendered customers_<date>.xml")
    check(not problems, "; ".join(problems))
    return (f"run {run_id} succeeded; {len(START_FROM_TRIGGER_TASKS)} run tasks with no hostname/pid (no task "
            "process), try 1; one start each from aiohttp (the triggerer); templates rendered by the triggerer; "
            "return_value matches run_id XCom")


# --- g. a triggerer restart while a start from the trigger is in flight (Airflow 3.3+) ---------------------------
RESTART_DAG = "e2e_start_from_trigger_restart"  # tests/e2e/dags/e2e_start_from_trigger_restart.py
RESTART_OCAPI_JOB, RESTART_CDATA_JOB = "E2ERestartJob", "E2E Restart"  # the DAG names them
#: Seconds the sandbox holds each start before processing it: the triggerer is stopped inside this window.
START_HOLD = 8.0
LEDGER_PREFIX = "airflow_provider_jobs.run::"  # core.compat.ledger_key


def start_from_trigger_restart(e2e: E2E) -> str:
    """Two start_from_trigger tasks (OCAPI, CData Sync: both find a lost start by the vendor's run ids) whose start
    calls the sandbox holds: with both held (the ledger says "starting"), the triggerer is stopped, then a new one
    started. The held starts are processed after the first triggerer is gone; the new triggers find only the
    "starting" record, look for the run and adopt it. Exactly one start call per task reached the vendor, exactly one
    run of each job exists, each task's return_value names it, the ledger is gone, and no task process ran."""
    dag_id, deployment, sandbox = RESTART_DAG, e2e.deployment, e2e.sandbox
    sandbox.ocapi.add_job(RESTART_OCAPI_JOB, running=2)
    cdata_job = sandbox.cdata_sync.add_job(RESTART_CDATA_JOB, [{"query": "REPLICATE [Accounts]", "seconds": 2}])
    routes = {"ocapi": rf"/jobs/{RESTART_OCAPI_JOB}/executions$", "cdata_sync": rf"/jobs/{cdata_job.job_id}/execute$"}
    tasks = {"import_restart": "ocapi", "replicate_restart": "cdata_sync"}
    for vendor, route in routes.items():
        sandbox.fault(vendor, route, f"delay:{START_HOLD:g}", method="POST")
    mark = len(sandbox.requests())

    def starts() -> dict[str, list[Any]]:
        served = sandbox.requests()[mark:]
        return {v: [s for s in served if s.vendor == v and s.method == "POST" and re.search(r, s.path)]
                for v, r in routes.items()}

    run_id = deployment.trigger(dag_id)

    def held() -> dict[str, list[Any]]:
        deployment.check_alive()
        seen = starts()
        answered = {v: s[0].status for v, s in seen.items() if s and s[0].status is not None}
        check(not answered, f"inconclusive: a start was answered before the triggerer could be stopped: {answered}")
        return seen if all(seen.values()) else {}

    wait_for("both start calls to reach the sandbox (held there)", held, DEFERRED_TIMEOUT, 0.2)
    ledgers = {}
    for task_id in tasks:
        key = f"{LEDGER_PREFIX}{dag_id}::{run_id}::{task_id}::-1"
        entry = deployment.api("GET", f"/api/v2/variables/{quote(key, safe='')}", missing_ok=True)
        ledgers[task_id] = json.loads(entry["value"]) if entry else None
    # Still held as SIGTERM goes out. The triggerer cancels its triggers at once, but its process may take longer
    # than the hold to exit: that the old trigger never got an answer shows in the new one's log, which adopts the
    # run ("Adopting ...": one that found the run recorded would say "Reattaching").
    answered = {v: s[0].status for v, s in starts().items() if s[0].status is not None}
    how = deployment.stop("triggerer")
    deployment.start("triggerer", "--skip-serve-logs")
    state = deployment.wait_run(dag_id, run_id)
    if state != "success":
        raise ScenarioFailed(f"run {run_id} ended {state}: {deployment.task_states(dag_id, run_id)}"
                             f"{deployment.diagnose()}")
    problems = []
    if answered:
        problems.append(f"inconclusive: starts answered before the triggerer was stopped: {answered}")
    for task_id, ledger in ledgers.items():
        if not (isinstance(ledger, dict) and "starting" in ledger and not ledger.get("runs")):
            problems.append(f"{task_id}: its ledger while the start was held was {ledger!r}, not 'starting'")
    calls = starts()
    runs = {"ocapi": [e.run_id for e in sandbox.ocapi.executions.values() if e.job.job_id == RESTART_OCAPI_JOB],
            "cdata_sync": [str(r.history_id) for r in sandbox.cdata_sync.runs_of(cdata_job)]}
    for task_id, vendor in tasks.items():
        if len(calls[vendor]) != 1:
            problems.append(f"{task_id}: {len(calls[vendor])} start calls reached {vendor}, expected 1")
        if len(runs[vendor]) != 1:
            problems.append(f"{task_id}: {vendor} has {len(runs[vendor])} runs of the job ({runs[vendor]}), expected 1")
        ti = no_task_process(deployment, dag_id, run_id, task_id, problems)
        result = deployment.xcom(dag_id, run_id, task_id, "return_value")
        if not isinstance(result, dict) or result.get("state") != "SUCCESS" or [str(result.get("run_id"))] != runs[
                vendor]:
            problems.append(f"{task_id}: return_value {result!r} does not name the one run {runs[vendor]}")
        log = deployment.task_log(dag_id, run_id, task_id, ti.get("try_number") or 1)
        if "Adopting the run the lost start made" not in log:
            problems.append(f"{task_id}: its log does not show the new trigger adopting the run")
        key = f"{LEDGER_PREFIX}{dag_id}::{run_id}::{task_id}::-1"
        if deployment.api("GET", f"/api/v2/variables/{quote(key, safe='')}", missing_ok=True) is not None:
            problems.append(f"{task_id}: its ledger Variable outlived the task")
    check(not problems, "; ".join(problems))
    return (f"stopped the triggerer ({how}) while both starts were held by the sandbox (ledger 'starting'); the new "
            f"triggerer adopted the runs the held starts made; run {run_id} succeeded; one start call and one run "
            f"per task ({', '.join(f'{v} {runs[v][0]}' for v in tasks.values())}), return_value names it, ledger "
            "gone, no task process")


# --- h. mark failed while a start trigger waits -> its on_kill cancels the run (Airflow 3.3+) ------------------
KILL_DAG, KILL_TASK, KILL_JOB = "e2e_start_from_trigger_kill", "replicate_long", "E2E Kill Long"


def start_from_trigger_kill(e2e: E2E) -> str:
    """A start_from_trigger task waiting on a long CData Sync run is marked failed through the REST API: the start
    trigger's on_kill cancels the run it started (the vendor's cancel call, from aiohttp: no worker was involved)."""
    deployment, sandbox = e2e.deployment, e2e.sandbox
    job = sandbox.cdata_sync.add_job(KILL_JOB, [{"query": "REPLICATE [Accounts]", "seconds": 600}])
    mark = len(sandbox.requests())
    run_id = deployment.trigger(KILL_DAG)

    def waited_on() -> bool:
        """Deferred, claimed by the triggerer, its run started and announced, and the trigger polling it."""
        deployment.check_alive()
        ti = deployment.task_instance(KILL_DAG, run_id, KILL_TASK)
        check(ti["state"] not in ("success", "failed", "upstream_failed"), f"{KILL_TASK} ended {ti['state']}")
        if ti["state"] != "deferred" or (ti.get("trigger") or {}).get("triggerer_id") is None:
            return False
        if deployment.xcom(KILL_DAG, run_id, KILL_TASK, "run_id") is None:
            return False
        polls = [s for s in sandbox.requests()[mark:]
                 if s.vendor == "cdata_sync" and s.method == "GET" and AIOHTTP_AGENT.search(s.agent)]
        return bool(polls and sandbox.cdata_sync.runs_of(job))

    wait_for(f"{KILL_TASK}'s start trigger to wait on its run", waited_on, DEFERRED_TIMEOUT, 0.5)
    deployment.api("PATCH", deployment.ti_path(KILL_DAG, run_id, KILL_TASK), json={"new_state": "failed"})

    def cancelled() -> list[Any]:
        return matching([s for s in sandbox.requests()[mark:] if s.vendor == "cdata_sync"], CANCEL_CALLS["cdata_sync"])

    seen = wait_for("the CData Sync cancel call", cancelled, CANCEL_TIMEOUT, 0.5)
    check(all(AIOHTTP_AGENT.search(s.agent) for s in seen), f"the cancel did not come from the triggerer: {seen}")
    check(all(s.status is not None and s.status < 400 for s in seen), f"the cancel was answered {seen}")
    runs = sandbox.cdata_sync.runs_of(job)
    check(len(runs) == 1, f"{len(runs)} runs of {KILL_JOB!r}, expected 1")
    check(runs[0].finished, f"run {runs[0].history_id} still going after the cancel: {runs[0].state()}")
    announced = deployment.xcom(KILL_DAG, run_id, KILL_TASK, "run_id")
    check(str(announced) == str(runs[0].history_id), f"run_id XCom {announced!r}, the run {runs[0].history_id}")
    ti = deployment.task_instance(KILL_DAG, run_id, KILL_TASK)
    check(ti["state"] == "failed" and not ti.get("hostname") and not ti.get("pid"),
          f"{KILL_TASK}: state {ti['state']}, hostname {ti.get('hostname')!r}, pid {ti.get('pid')}")
    return (f"marked {KILL_TASK} failed while its start trigger waited on run {runs[0].history_id}; the trigger's "
            f"on_kill cancelled it ({seen[0].method} {seen[0].path} -> {seen[0].status}, aiohttp); no task process")


def default_dag() -> str:
    return "chained_vendor_jobs" if (EXAMPLE_DAGS / "chained_vendor_jobs.py").exists() else "spectrum_example"


def describe(deployment: Deployment, dag_id: str) -> tuple[list[RunTask], list[dict[str, Any]]]:
    proc = subprocess.run([sys.executable, __file__, "--describe", dag_id], env=deployment.env(),
                          capture_output=True, text=True, timeout=Budget.cap(STARTUP_TIMEOUT))
    out = proc.stdout
    if proc.returncode != 0 or "DESCRIBE" not in out:
        raise ScenarioFailed(f"could not read DAG {dag_id}: {out[-2000:]}{proc.stderr[-2000:]}")
    data = json.loads(out[out.index("DESCRIBE") + len("DESCRIBE"):])
    return [RunTask(**t) for t in data["tasks"]], data["forms"]


@contextlib.contextmanager
def terminating_on_signals() -> Iterator[None]:
    """SIGTERM/SIGHUP end the script like Ctrl-C, so that `finally` stops every process."""
    def raise_interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {s: signal.signal(s, raise_interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def print_summary(results: list[Result], total: float, home: Path, dag_id: str) -> None:
    print(f"\n== e2e summary: DAG {dag_id}, Airflow home {home}")
    width = max(len(r.name) for r in results) if results else 10
    print(f"{'scenario':<{width}}  result  seconds")
    print(f"{'-' * width}  ------  -------")
    for r in results:
        print(f"{r.name:<{width}}  {'PASS' if r.ok else 'FAIL':<6}  {r.seconds:7.0f}")
    print(f"{'total':<{width}}  {'PASS' if results and all(r.ok for r in results) else 'FAIL':<6}  {total:7.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dag", default=None, help=f"the DAG of scenarios a, b, d (default: {default_dag()})")
    parser.add_argument("--only", default="deferred,triggerer,cancel,events,ui,start_from_trigger,"
                        "start_from_trigger_restart,start_from_trigger_kill",
                        help="comma-separated scenarios to run (deferred, triggerer, cancel, events, ui, "
                             "start_from_trigger, start_from_trigger_restart, start_from_trigger_kill)")
    parser.add_argument("--extra-dags", type=Path, action="append", default=[], metavar="PATH",
                        help="a DAG file or folder to deploy besides example_dags (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the Airflow home (logs) after the run")
    parser.add_argument("--budget", type=float, default=540,
                        help="seconds the whole run may take; every wait ends by then (default: 540)")
    parser.add_argument("--describe", metavar="DAG", help=argparse.SUPPRESS)  # child-process mode
    args = parser.parse_args(argv)
    if args.describe:
        return describe_main(args.describe)

    from airflow_provider_jobs.sandbox import Sandbox
    from airflow_provider_jobs.sandbox.demo import load_demo_jobs

    dag_id = args.dag or default_dag()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    started = time.monotonic()
    Budget.deadline = started + args.budget
    home = Path(tempfile.mkdtemp(prefix="apj-e2e-"))
    results: list[Result] = []
    with terminating_on_signals(), Sandbox() as sandbox:
        deployment = Deployment(home, sandbox)
        try:
            load_demo_jobs(sandbox)
            if "cdata_sync" in sandbox.state.sites:  # scenario e's job: a run of it schedules e2e_on_runs
                sandbox.cdata_sync.add_job(EVENTS_JOB, [{"query": "REPLICATE [Accounts]", "records": 5, "seconds": 1}])
            cases = []
            for vendor, make in LONG_RUNS.items():
                if vendor in sandbox.state.sites:
                    operator, kwargs = make(sandbox)
                    cases.append({"task_id": f"{vendor}_long", "vendor": vendor, "operator": operator,
                                  "kwargs": kwargs})
            deployment.prepare(cases, args.extra_dags)
            print(f"sandbox {sandbox.url} (vendors: {', '.join(sandbox.state.sites)}); Airflow home {home}; "
                  f"API server {deployment.url}", flush=True)
            t0 = time.monotonic()
            deployment.migrate()
            tasks, forms = describe(deployment, dag_id)
            check(bool(tasks), f"DAG {dag_id} has no run task of this provider")
            print(f"DAG {dag_id}: run tasks " + ", ".join(
                f"{t.task_id} ({t.operator}{'' if t.defers else ', does not defer'})" for t in tasks), flush=True)
            deployment.start_all()
            deployment.wait_ready([dag_id, "e2e_cancel", *([EVENTS_DAG] if "events" in only else []),
                                   *([START_FROM_TRIGGER_DAG] if "start_from_trigger" in only else []),
                                   *([RESTART_DAG] if "start_from_trigger_restart" in only else []),
                                   *([KILL_DAG] if "start_from_trigger_kill" in only else [])])
            results.append(Result("deployment up (migrate + 4 components)", True, time.monotonic() - t0, ""))
            print(f"deployment up in {time.monotonic() - t0:.0f}s "
                  f"(db migrate, api-server, scheduler, dag-processor, triggerer)", flush=True)

            e2e = E2E(deployment, sandbox, dag_id, tasks, forms, results=results)
            if "deferred" in only:
                e2e.scenario("a. deferred, one start per run task", e2e.deferred)
            if "triggerer" in only:
                e2e.scenario("b. triggerer restart mid-wait", e2e.triggerer_restart)
            if "cancel" in only:
                e2e.scenario("c. mark failed -> remote cancel", lambda: e2e.cancel(cases))
            if "events" in only:
                e2e.scenario("e. vendor run outside Airflow -> one DAG run", e2e.events)
            if "ui" in only:
                e2e.scenario("d. UI: connection forms, extra link", e2e.ui)
            if "start_from_trigger" in only:
                e2e.scenario("f. five vendors start from the trigger, no worker", lambda: start_from_trigger(e2e))
            if "start_from_trigger_restart" in only:
                e2e.scenario("g. triggerer restart during a start from the trigger",
                             lambda: start_from_trigger_restart(e2e))
            if "start_from_trigger_kill" in only:
                e2e.scenario("h. mark failed -> the start trigger's on_kill cancels the run",
                             lambda: start_from_trigger_kill(e2e))
        except ScenarioFailed as exc:
            results.append(Result("deployment", False, time.monotonic() - started, str(exc)))
            print(f"FAIL deployment: {exc}", flush=True)
        except Exception as exc:  # e.g. a subprocess timeout: still a FAIL with the trace, and a clean stop
            results.append(Result("deployment", False, time.monotonic() - started, repr(exc)))
            print(f"FAIL deployment: {exc!r}\n{traceback.format_exc()}", flush=True)
        except KeyboardInterrupt as exc:
            results.append(Result("interrupted", False, time.monotonic() - started, str(exc)))
            print(f"FAIL interrupted: {exc}", flush=True)
        finally:
            deployment.stop_all()
    print_summary(results, time.monotonic() - started, home, dag_id)
    ok = bool(results) and all(r.ok for r in results)
    if not ok or args.keep:
        print(f"logs kept in {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
