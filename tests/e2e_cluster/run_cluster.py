#!/usr/bin/env python
"""`make e2e-cluster`: the provider on a production-shaped Airflow 3 on one machine.

PostgreSQL (metadata database) and Redis (Celery broker) from Debian's packages, on 127.0.0.1 and free
ports, run as an unprivileged user (tests/e2e_cluster/install_services.sh installs them and creates it),
their data in a temp dir; then Airflow with the CeleryExecutor: two Celery workers, two triggerers, the
scheduler, the DAG processor and the API server, and the vendor sandbox (a thread of this process).
The Airflow processes, the database and the broker are stopped and removed at the end, whatever happened
(also on Ctrl-C / SIGTERM).

  a. load       20 concurrent runs of the five-vendor chained DAG (deferrable): every DAG run succeeds,
                every vendor run was started once (sandbox start calls = distinct runs the tasks
                returned), and the waits ran in both triggerers (the trigger table's triggerer_id).
  b. failover   SIGKILL one triggerer while it waits on Spectrum runs: the other takes its triggers
                over (time reported), every run succeeds, none is started twice.
  c. worker     SIGKILL the Celery worker whose start call the sandbox holds unanswered: the scheduler
                fails the try (heartbeat timeout), the retry adopts the run the lost start made (one
                start call, one run) and succeeds.
  d. shared     48 Spectrum waits at once: each triggerer takes its own list-running listing (the sandbox
                tells the processes apart by their TCP ports); calls per run reported.

    python tests/e2e_cluster/run_cluster.py                  # all four
    python tests/e2e_cluster/run_cluster.py --only load --runs 10
    python tests/e2e_cluster/run_cluster.py --write-docs     # figures into docs/deployment.md

The deployment machinery (REST API, process control, checks) is tests/e2e/run_e2e.py's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e import run_e2e as e2e  # noqa: E402  (the single-machine harness: its helpers are reused)
from tests.e2e.run_e2e import (  # noqa: E402
    AIOHTTP_AGENT,
    REQUESTS_AGENT,
    START_CALLS,
    Budget,
    Deployment,
    Result,
    ScenarioFailed,
    check,
    free_port,
    matching,
    wait_for,
)

CLUSTER_DIR = Path(__file__).resolve().parent
DOCS = REPO / "docs" / "deployment.md"
DOCS_BEGIN = "<!-- e2e-cluster figures: begin (written by tests/e2e_cluster/run_cluster.py --write-docs) -->"
DOCS_END = "<!-- e2e-cluster figures: end -->"
E2E_USER = os.environ.get("E2E_USER", "apj-e2e")
CHAINED = "chained_vendor_jobs"
WORKERS = ("worker-1", "worker-2")
TRIGGERERS = ("triggerer-1", "triggerer-2")
WORKER_CONCURRENCY = 8
#: Triggers one triggerer runs at most: of the 48 waits of scenario d, each triggerer gets at least 22.
TRIGGERER_CAPACITY = 26
#: A triggerer whose heartbeat is older than this is dead to the others (Airflow's default: 30 s).
TRIGGERER_HEALTH_THRESHOLD = 10
#: A running task whose heartbeat is older than this is failed by the scheduler (default: 300 s).
TASK_HEARTBEAT_TIMEOUT = 30
SPECTRUM_STATUS = re.compile(r"^/rest/job-execution/job-details/([^/]+)$")
SPECTRUM_LISTING = re.compile(r"^/api/job-execution/list-running$")


# --- PostgreSQL and Redis -----------------------------------------------------------------------------------
def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise ScenarioFailed("PostgreSQL is not installed: run tests/e2e_cluster/install_services.sh")
    return found[-1].parent


@dataclass
class Services:
    """A PostgreSQL server and a Redis server of our own in `root`, on 127.0.0.1, as an unprivileged user."""

    root: Path
    pg_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_hex(16))
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def as_user(self) -> dict[str, Any]:
        """Popen arguments that drop root (PostgreSQL refuses to run as root); nothing when not root."""
        if os.getuid() != 0:
            return {}
        try:
            user = pwd.getpwnam(E2E_USER)
        except KeyError:
            raise ScenarioFailed(f"user {E2E_USER} is missing: run tests/e2e_cluster/install_services.sh") from None
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg2://airflow:{self.password}@127.0.0.1:{self.pg_port}/airflow"

    @property
    def broker_url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.redis_port}/0"

    def connect(self, database: str = "airflow") -> Any:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="airflow", password=self.password,
                                dbname=database, connect_timeout=5)
        conn.autocommit = True
        return conn

    def _chown(self, *paths: Path) -> None:
        drop = self.as_user
        for path in paths:
            if drop:
                os.chown(path, drop["user"], drop["group"])

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = (self.root / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, cwd=self.root, **self.as_user)
        log.close()

    def start(self) -> None:
        self._chown(self.root)
        pgbin = postgres_bin()
        data, sock, pwfile = self.root / "pgdata", self.root / "pgsock", self.root / "pgpass"
        sock.mkdir()
        pwfile.write_text(self.password + "\n")
        self._chown(sock, pwfile)
        init = subprocess.run([str(pgbin / "initdb"), "-D", str(data), "-U", "airflow", f"--pwfile={pwfile}",
                               "--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--no-sync"],
                              capture_output=True, text=True, cwd=self.root, timeout=120, **self.as_user)
        if init.returncode != 0:
            raise ScenarioFailed(f"initdb failed: {init.stdout[-1500:]}{init.stderr[-1500:]}")
        pwfile.unlink()
        # A throwaway database: durability off (fsync, full pages) makes the migration and the load faster.
        self._spawn("postgres", [str(pgbin / "postgres"), "-D", str(data), "-p", str(self.pg_port),
                                 "-k", str(sock), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                                 "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                                 "-c", "max_connections=300"])
        conf = self.root / "redis.conf"
        conf.write_text(f"bind 127.0.0.1\nport {self.redis_port}\nrequirepass {self.password}\nsave \"\"\n"
                        f"appendonly no\ndir {self.root}\nprotected-mode yes\n")
        conf.chmod(0o600)
        self._chown(conf)
        self._spawn("redis", ["redis-server", str(conf)])

        import psycopg2
        import redis

        def postgres_up() -> bool:
            self.check_alive()
            try:
                with contextlib.closing(self.connect("postgres")):
                    return True
            except psycopg2.OperationalError:  # not listening yet, or "the database system is starting up"
                return False

        def redis_up() -> bool:
            self.check_alive()
            try:
                return bool(redis.Redis(host="127.0.0.1", port=self.redis_port, password=self.password,
                                        socket_timeout=5).ping())
            except redis.exceptions.ConnectionError:
                return False

        wait_for("PostgreSQL", postgres_up, 60, 0.3)
        wait_for("Redis", redis_up, 60, 0.3)
        with contextlib.closing(self.connect("postgres")) as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE airflow")

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.root / f"{name}.log").read_text(errors="replace")[-2000:]
                raise ScenarioFailed(f"{name} exited with {proc.returncode}:\n{tail}")

    def stop(self) -> None:
        # PostgreSQL: SIGINT is its fast shutdown (SIGTERM would wait for every client to leave).
        for name, sig in (("redis", signal.SIGTERM), ("postgres", signal.SIGINT)):
            proc = self.procs.pop(name, None)
            if proc is None:
                continue
            if proc.poll() is None:
                proc.send_signal(sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(20)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)


# --- processes ----------------------------------------------------------------------------------------------
def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            table[int(entry)] = (int(fields[1]), int(fields[2]))
    return table


def process_tree(root: int) -> set[int]:
    """`root` and every process under it (whatever process group a descendant moved to)."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _) in _proc_table().items():
        children[ppid].append(pid)
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in tree:
            tree.add(pid)
            todo.extend(children.get(pid, ()))
    return tree


def kill_tree(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def socket_ports(pids: set[int], remote_port: int) -> set[int]:
    """The local ports of the TCP connections these processes hold to 127.0.0.1:`remote_port`."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    ports = set()
    with contextlib.suppress(OSError), open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            cols = line.split()
            local, remote, inode = cols[1], cols[2], cols[9]
            if inode in inodes and int(remote.split(":")[1], 16) == remote_port:
                ports.add(int(local.split(":")[1], 16))
    return ports


class ClusterDeployment(Deployment):
    """run_e2e's Deployment on PostgreSQL and the CeleryExecutor, with two workers and two triggerers."""

    def __init__(self, home: Path, sandbox: Any, services: Services) -> None:
        super().__init__(home, sandbox)
        self.services = services
        self.job_ids: dict[str, int] = {}  # triggerer component -> its TriggererJob id
        self.trees: dict[str, set[int]] = {}

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update({
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.services.database_url,
            "AIRFLOW__CELERY__BROKER_URL": self.services.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.services.database_url,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "AIRFLOW__CORE__PARALLELISM": "64",
            "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "64",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "128",
            "AIRFLOW__API__WORKERS": "2",
            # The DAG files never change during the run: parse each once, not every 30 s (CPU for the tasks).
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            # Two triggerers: a dead one is noticed in seconds (both heartbeat every second).
            "AIRFLOW__TRIGGERER__CAPACITY": str(TRIGGERER_CAPACITY),
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_THRESHOLD),
            # A lost worker's task is failed (then retried) within a minute, not five.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(TASK_HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
        })
        return env

    def db(self) -> Any:
        return self.services.connect()

    def triggerer_jobs(self) -> list[int]:
        with contextlib.closing(self.db()) as conn, conn.cursor() as cur:
            cur.execute("SELECT id FROM job WHERE job_type = 'TriggererJob' AND state = 'running' ORDER BY id")
            return [row[0] for row in cur.fetchall()]

    def start_triggerer(self, key: str) -> int:
        """Start a triggerer and wait for its job row: its id is how the trigger table names it."""
        known = set(self.triggerer_jobs()) | set(self.job_ids.values())
        self.start("triggerer", "--skip-serve-logs", key=key)

        def new_job() -> int | None:
            self.check_alive()
            fresh = [j for j in self.triggerer_jobs() if j not in known]
            return fresh[0] if fresh else None

        self.job_ids[key] = wait_for(f"{key}'s job row", new_job, e2e.STARTUP_TIMEOUT, 0.5)
        return self.job_ids[key]

    def start_worker(self, key: str) -> None:
        self.start("celery", "worker", "--celery-hostname", f"{key}@%h", "--skip-serve-logs", "--without-mingle",
                   "--without-gossip", "--pid", str(self.home / f"{key}.pid"), key=key)

    def start_all(self) -> None:
        self.start("api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "2")
        self.start("scheduler", "--skip-serve-logs")
        self.start("dag-processor")
        for key in WORKERS:
            self.start_worker(key)
        for key in TRIGGERERS:  # one at a time: each one's job id is then known
            self.start_triggerer(key)

    def wait_workers(self) -> None:
        def ready() -> bool:
            self.check_alive()
            return all(" ready." in self.components[k].log_path.read_text(errors="replace") for k in WORKERS)

        wait_for("both Celery workers to be ready", ready, e2e.STARTUP_TIMEOUT)

    def kill(self, key: str) -> float:
        """SIGKILL a component and everything under it at once, as if its machine died: the time of the kill."""
        component = self.components.pop(key)
        tree = process_tree(component.proc.pid)
        kill_tree(tree)
        at = time.time()
        with contextlib.suppress(subprocess.TimeoutExpired):
            component.proc.wait(10)
        return at

    def stop(self, name: str, timeout: float = e2e.STOP_TIMEOUT) -> str:
        # A task process may have moved to a session of its own: after the process group, the rest of the tree.
        component = self.components.get(name)
        tree = process_tree(component.proc.pid) if component else set()
        how = super().stop(name, timeout)
        kill_tree(tree)
        return how

    def stop_all(self) -> None:
        for name in ("scheduler", *TRIGGERERS, *WORKERS, "dag-processor", "api-server"):
            self.stop(name)
        for name in list(self.components):
            self.stop(name)


# --- what the trigger table and the sockets show, sampled in the background --------------------------------
class Watch(threading.Thread):
    """Every half second: which triggerer holds each deferred task's trigger (trigger table), and which
    local ports each triggerer's processes use to reach the sandbox."""

    def __init__(self, deployment: ClusterDeployment, sandbox_port: int) -> None:
        super().__init__(daemon=True, name="cluster-watch")
        self.deployment = deployment
        self.sandbox_port = sandbox_port
        self.lock = threading.Lock()
        self.holders: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)  # ti -> {job: first seen}
        self.port_owner: dict[int, str] = {}
        self.deferred_max: Counter[str] = Counter()  # dag_id -> most tasks deferred at once
        self.errors = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        conn = None
        while not self.stopped.wait(0.5):
            try:
                if conn is None:
                    conn = self.deployment.db()
                with conn.cursor() as cur:
                    cur.execute("SELECT ti.dag_id, ti.run_id, ti.task_id, t.triggerer_id FROM task_instance ti "
                                "JOIN trigger t ON ti.trigger_id = t.id WHERE ti.state = 'deferred'")
                    rows = cur.fetchall()
                now = time.time()
                per_dag = Counter(r[0] for r in rows)
                with self.lock:
                    for dag_id, run_id, task_id, job in rows:
                        if job is not None:
                            self.holders[(dag_id, run_id, task_id)].setdefault(job, now)
                    for dag_id, n in per_dag.items():
                        self.deferred_max[dag_id] = max(self.deferred_max[dag_id], n)
                for key, component in list(self.deployment.components.items()):
                    if key.startswith("triggerer"):
                        for port in socket_ports(process_tree(component.proc.pid), self.sandbox_port):
                            with self.lock:
                                self.port_owner[port] = key
            except Exception:  # a hiccup of the database under load: count it, sample again
                self.errors += 1
                with contextlib.suppress(Exception):
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def owner(self, peer: str) -> str | None:
        with self.lock:
            return self.port_owner.get(int(peer.rsplit(":", 1)[1])) if ":" in peer else None

    def triggerers_of(self, dag_id: str, run_ids: set[str]) -> dict[tuple[str, str, str], dict[int, float]]:
        with self.lock:
            return {k: dict(v) for k, v in self.holders.items() if k[0] == dag_id and k[1] in run_ids}


# --- scenarios ----------------------------------------------------------------------------------------------
@dataclass
class Cluster:
    deployment: ClusterDeployment
    sandbox: Any
    watch: Watch
    cases: dict[str, Any]
    tasks: list[e2e.RunTask]
    results: list[Result] = field(default_factory=list)
    figures: dict[str, list[str]] = field(default_factory=dict)
    refused: int = 0  # start calls the vendor refused as "already running" (last check_started_once)

    def scenario(self, name: str, body: Any) -> None:
        started = time.monotonic()
        try:
            detail, ok = body(), True
        except ScenarioFailed as exc:
            ok, detail = False, str(exc)
        except Exception as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        seconds = time.monotonic() - started
        self.results.append(Result(name, ok, seconds, detail))
        print(f"{'PASS' if ok else 'FAIL'} {name} ({seconds:.0f}s): {detail}", flush=True)

    def figure(self, scenario: str, line: str) -> None:
        self.figures.setdefault(scenario, []).append(line)
        print(f"  {line}", flush=True)

    def name_of(self, job: int) -> str:
        return next((k for k, j in self.deployment.job_ids.items() if j == job), f"triggerer job {job}")

    # -- helpers ---------------------------------------------------------------------------------------------
    def trigger_runs(self, dag_id: str, n: int) -> list[str]:
        return [self.deployment.trigger(dag_id) for _ in range(n)]

    def wait_runs(self, dag_id: str, run_ids: list[str], timeout: float) -> dict[str, str]:
        def ended() -> dict[str, str] | None:
            self.deployment.check_alive()
            self.deployment.services.check_alive()
            runs = self.deployment.api("GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 1000})["dag_runs"]
            states = {r["dag_run_id"]: r["state"] for r in runs if r["dag_run_id"] in run_ids}
            return states if all(states.get(r) in ("success", "failed") for r in run_ids) else None

        states = wait_for(f"{len(run_ids)} runs of {dag_id} to end", ended, timeout, 2.0)
        failed = [r for r, s in states.items() if s != "success"]
        if failed:
            detail = {r: self.deployment.task_states(dag_id, r) for r in failed[:3]}
            raise ScenarioFailed(f"{len(failed)} of {len(run_ids)} runs of {dag_id} failed: {detail}"
                                 f"{self.deployment.diagnose()}")
        return states

    def returned_runs(self, dag_id: str, run_ids: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
        """(run id, task id) -> the JobRun the task returned (XCom return_value, from the database)."""
        with contextlib.closing(self.deployment.db()) as conn, conn.cursor() as cur:
            cur.execute("SELECT run_id, task_id, value FROM xcom WHERE dag_id = %s AND key = 'return_value' "
                        "AND run_id = ANY(%s)", (dag_id, list(run_ids)))
            out = {}
            run_tasks = {t.task_id for t in self.tasks} if dag_id == CHAINED else None
            for run_id, task_id, value in cur.fetchall():
                if run_tasks is not None and task_id not in run_tasks:
                    continue  # the chain's own summary task (nightly.execution_plan) starts nothing
                value = json.loads(value) if isinstance(value, str | bytes) else value
                if isinstance(value, dict) and "run_id" in value:
                    out[(run_id, task_id)] = value
                elif isinstance(value, dict) and "execution-plan" in value:
                    # Spectrum's sequential trigger: one start call, a plan of runs; the plan is its identity.
                    vendor = next((t.vendor for t in self.tasks if t.task_id == task_id), "spectrum")
                    out[(run_id, task_id)] = {"vendor": vendor, "run_id": json.dumps(value, sort_keys=True),
                                              "state": "plan"}
            return out

    def starts(self, mark: int) -> dict[str, list[Any]]:
        served = self.sandbox.requests()[mark:]
        return {v: matching([s for s in served if s.vendor == v], calls) for v, calls in START_CALLS.items()}

    def check_started_once(self, dag_id: str, run_ids: list[str], mark: int) -> tuple[dict[str, int], int]:
        """Each vendor run the tasks returned was started by exactly one start call, from a worker; a task
        that found its job already running waited on that run (if_running='wait'): counted, not started."""
        returned = self.returned_runs(dag_id, run_ids)
        run_tasks = len(run_ids) * len(self.tasks) if dag_id == CHAINED else None
        if run_tasks is not None:
            check(len(returned) == run_tasks, f"{len(returned)} run tasks returned a JobRun, expected {run_tasks}")
        distinct: dict[str, set[str]] = defaultdict(set)
        for run in returned.values():
            distinct[run["vendor"]].add(str(run["run_id"]))
        starts = self.starts(mark)
        # A start the vendor refused (4xx: "already running", when two DAG runs start the same job at the same
        # moment) started nothing: that task follows the run that is going. Only accepted starts make runs.
        accepted = {v: [s for s in calls if s.status is not None and s.status < 300] for v, calls in starts.items()}
        seen = {v: len(calls) for v, calls in accepted.items() if calls or v in distinct}
        bad = {v: (seen.get(v, 0), len(distinct.get(v, ()))) for v in set(seen) | set(distinct)
               if seen.get(v, 0) != len(distinct.get(v, ()))}
        check(not bad, "accepted start calls != distinct vendor runs the tasks returned, per vendor: "
              + json.dumps(bad))
        other = [(s.vendor, s.status) for calls in starts.values() for s in calls
                 if s.status is None or s.status >= 500]
        check(not other, f"start calls without a clear answer: {other}")
        agents = {s.agent for calls in starts.values() for s in calls}
        check(all(REQUESTS_AGENT.search(a) for a in agents), f"start calls not from a worker: {agents}")
        self.refused = sum(len(calls) - len(accepted[v]) for v, calls in starts.items())
        shared = len(returned) - sum(len(ids) for ids in distinct.values())
        return seen, shared

    # -- a. load ---------------------------------------------------------------------------------------------
    def load(self, n: int) -> str:
        mark = len(self.sandbox.requests())
        t0 = time.monotonic()
        run_ids = self.trigger_runs(CHAINED, n)
        self.wait_runs(CHAINED, run_ids, e2e.DAG_RUN_TIMEOUT + 300)
        wall = time.monotonic() - t0
        seen, shared = self.check_started_once(CHAINED, run_ids, mark)
        holders = self.watch.triggerers_of(CHAINED, set(run_ids))
        per_triggerer = Counter(self.name_of(j) for h in holders.values() for j in h)
        deferring = len(run_ids) * sum(t.defers for t in self.tasks)
        check(len(per_triggerer) >= 2, f"the waits did not spread over both triggerers: {dict(per_triggerer)}")
        served = self.sandbox.requests()[mark:]
        start_ids = {id(s) for calls in self.starts(mark).values() for s in calls}
        polls = Counter(s.vendor for s in served if id(s) not in start_ids and AIOHTTP_AGENT.search(s.agent))
        runs_per_vendor = Counter(t.vendor for t in self.tasks)
        self.figure("a", f"{n} concurrent runs of {CHAINED} ({len(self.tasks)} run tasks each, "
                         f"{len(self.tasks) * n} in all): all succeeded in {wall:.0f} s "
                         f"({n * 60 / wall:.1f} DAG runs/min; at most "
                         f"{self.watch.deferred_max[CHAINED]} tasks deferred at once)")
        self.figure("a", "accepted start calls per vendor (= distinct vendor runs the tasks returned): "
                         + ", ".join(f"{v} {k}" for v, k in sorted(seen.items()))
                         + (f"; {shared} tasks followed a run another DAG run had started (their job was already "
                            f"running: {self.refused} start calls refused by the vendor as such)" if shared else ""))
        self.figure("a", f"run tasks seen deferred in the trigger table (sampled every 0.5 s): {len(holders)} of "
                         f"{deferring}; tasks each triggerer held (a task deferred twice may count for both): "
                         + ", ".join(f"{k} {v}" for k, v in sorted(per_triggerer.items())))
        self.figure("a", "triggerer status calls per run task: " + ", ".join(
            f"{v} {polls[v] / (runs_per_vendor[v] * n):.1f}" for v in sorted(runs_per_vendor)))
        return (f"{n} runs succeeded in {wall:.0f}s; starts {dict(seen)}; waits per triggerer "
                f"{dict(per_triggerer)}")

    # -- b. triggerer failover -------------------------------------------------------------------------------
    def failover(self) -> str:
        dag_id = "e2e_cluster_failover"
        mark = len(self.sandbox.requests())
        expected = len(self.cases[dag_id])
        run_id = self.trigger_runs(dag_id, 1)[0]

        def all_held() -> dict[tuple[str, str, str], dict[int, float]] | None:
            self.deployment.check_alive()
            states = self.deployment.task_states(dag_id, run_id)
            check(not [t for t, s in states.items() if s in ("success", "failed")],
                  f"inconclusive: tasks ended before the kill: {states}")
            current = self.current_holders(dag_id, run_id)
            return current if len(current) == expected and all(j is not None for j in current.values()) else None

        current = wait_for(f"the {expected} waits of {dag_id} to be held by triggerers", all_held,
                           e2e.DEFERRED_TIMEOUT, 0.5)
        per_job = Counter(current.values())
        held_by = ", ".join(f"{self.name_of(j)} {k}" for j, k in sorted(per_job.items()))  # before any restart
        victim_job = per_job.most_common(1)[0][0]
        victim = self.name_of(victim_job)
        orphans = {t for t, j in current.items() if j == victim_job}
        survivor = next(k for k in TRIGGERERS if k != victim)
        killed_at = self.deployment.kill(victim)
        survivor_job = self.deployment.job_ids[survivor]

        def taken_over() -> float | None:
            now = self.current_holders(dag_id, run_id)
            ended = {t for t, s in self.deployment.task_states(dag_id, run_id).items() if s != "deferred"}
            if all(now.get(t) == survivor_job or t in ended for t in orphans):
                return time.time()
            return None

        took_at = wait_for(f"{survivor} to take over {len(orphans)} triggers", taken_over,
                           TRIGGERER_HEALTH_THRESHOLD * 6, 0.2)
        # The first status call of each orphaned run that the survivor's sockets made after the kill.
        run_of = {task: str(run["run_id"]) for (_, task), run in self.returned_run_ids(dag_id, run_id).items()}
        self.wait_runs(dag_id, [run_id], e2e.DAG_RUN_TIMEOUT)
        first_poll = []
        for task in orphans:
            calls = [s for s in self.sandbox.requests()[mark:] if s.vendor == "spectrum" and s.at > killed_at
                     and (m := SPECTRUM_STATUS.match(s.path)) and m.group(1) == run_of.get(task)
                     and self.watch.owner(s.peer) == survivor]
            if calls:
                first_poll.append(calls[0].at - killed_at)
        seen, _ = self.check_started_once(dag_id, [run_id], mark)
        check(seen.get("spectrum") == expected, f"spectrum start calls {seen}, expected {expected}")
        self.deployment.start_triggerer(victim)  # the cluster whole again for what follows
        takeover = took_at - killed_at
        self.figure("b", f"{expected} Spectrum waits held by {held_by}; SIGKILL {victim} "
            f"(holding {len(orphans)}); {survivor} held them all {takeover:.1f} s later "
            f"(heartbeat 1 s, health threshold {TRIGGERER_HEALTH_THRESHOLD} s)")
        if first_poll:
            spread = f"{min(first_poll):.1f}" + (f"-{max(first_poll):.1f}" if max(first_poll) > min(first_poll) + 0.05
                                                  else "")
            self.figure("b", f"first status call of a taken-over run from {survivor}: {spread} s after the kill "
                             f"({len(first_poll)} of {len(orphans)} runs still running then)")
        self.figure("b", f"run succeeded; {seen.get('spectrum')} start calls for {expected} tasks (none twice)")
        return f"{victim} killed, {survivor} took over {len(orphans)} triggers in {takeover:.1f}s; no run lost"

    def current_holders(self, dag_id: str, run_id: str) -> dict[str, int | None]:
        with contextlib.closing(self.deployment.db()) as conn, conn.cursor() as cur:
            cur.execute("SELECT ti.task_id, t.triggerer_id FROM task_instance ti JOIN trigger t "
                        "ON ti.trigger_id = t.id WHERE ti.dag_id = %s AND ti.run_id = %s AND ti.state = 'deferred'",
                        (dag_id, run_id))
            return dict(cur.fetchall())

    def returned_run_ids(self, dag_id: str, run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        """(run, task) -> {"run_id": the vendor run id the task pushed as soon as its run existed}."""
        with contextlib.closing(self.deployment.db()) as conn, conn.cursor() as cur:
            cur.execute("SELECT task_id, value FROM xcom WHERE dag_id = %s AND run_id = %s AND key = 'run_id'",
                        (dag_id, run_id))
            return {(run_id, task): {"run_id": json.loads(v) if isinstance(v, str | bytes) else v}
                    for task, v in cur.fetchall()}

    # -- c. worker crash during a start ----------------------------------------------------------------------
    def worker_crash(self) -> str:
        dag_id = "e2e_cluster_worker_crash"
        case = self.cases[dag_id]
        start_path = rf"/v2/jobs/{re.escape(case['job_id'])}/execute$"  # under the API prefix (/api.rsc)
        # The start reaches the sandbox, which holds its answer while the worker is killed; the start itself
        # then goes through (the server has the whole request): a run the worker never heard of.
        self.sandbox.fault("cdata_sync", start_path, f"delay:{case['hold']}", method="POST")
        mark = len(self.sandbox.requests())
        run_id = self.trigger_runs(dag_id, 1)[0]

        def start_in_flight() -> Any:
            self.deployment.check_alive()
            calls = [s for s in self.sandbox.requests()[mark:]
                     if s.vendor == "cdata_sync" and s.method == "POST" and re.search(start_path, s.path)]
            return calls[0] if calls else None

        call = wait_for("the start call to reach the sandbox", start_in_flight, e2e.DEFERRED_TIMEOUT, 0.1)
        ti = self.deployment.task_instance(dag_id, run_id, case["task_id"])
        worker = self.worker_of(ti.get("pid"))
        killed_at = self.deployment.kill(worker)
        check(call.status is None, f"the start was answered ({call.status}) before the worker was killed")
        self.wait_runs(dag_id, [run_id], TASK_HEARTBEAT_TIMEOUT * 4 + 120)
        ti = self.deployment.task_instance(dag_id, run_id, case["task_id"])
        starts = [s for s in self.starts(mark)["cdata_sync"]]
        check(len(starts) == 1, f"{len(starts)} start calls; expected the one the killed worker made")
        returned = self.returned_runs(dag_id, [run_id]).get((run_id, case["task_id"]))
        check(returned is not None, "the task returned no JobRun")
        log = self.deployment.task_log(dag_id, run_id, case["task_id"], ti["try_number"])
        check(ti["try_number"] == 2, f"try number {ti['try_number']}; expected the retry (2)")
        retry_start = ti.get("start_date")
        adopted = next((line for line in log.splitlines() if re.search(r"adopt|reattach", line, re.I)), "")
        adopted = (m.group(1) if (m := re.search(r'"event": ?"([^"]*)"', adopted)) else adopted)
        self.figure("c", f"start call reached the sandbox {killed_at - call.at:.1f} s before the SIGKILL of "
                         f"{worker} (answer held {case['hold']} s); the scheduler failed try 1 by its heartbeat "
                         f"timeout ({TASK_HEARTBEAT_TIMEOUT} s); try 2 succeeded "
                         f"{time.time() - killed_at:.0f} s after the kill")
        self.figure("c", f"1 start call, 1 vendor run (run {returned['run_id']}, {returned['state']}); the retry "
                         f"adopted it: {adopted.strip()[:160] or '(no adopt line in the log)'}")
        check(bool(adopted), "the retry's log does not say it adopted the run the lost start made")
        self.deployment.start_worker(worker)
        return f"killed {worker} mid-start; try 2 (started {retry_start}) adopted run {returned['run_id']}"

    def worker_of(self, pid: int | None) -> str:
        """The Celery worker whose process tree holds the task process `pid`."""
        for key in WORKERS:
            component = self.deployment.components.get(key)
            if component and pid and pid in process_tree(component.proc.pid):
                return key
        raise ScenarioFailed(f"no Celery worker runs the task process {pid}")

    # -- d. shared reads -------------------------------------------------------------------------------------
    def shared_reads(self) -> str:
        dag_id = "e2e_cluster_shared_reads"
        n = len(self.cases[dag_id])
        mark = len(self.sandbox.requests())
        t0 = time.monotonic()
        run_id = self.trigger_runs(dag_id, 1)[0]
        self.wait_runs(dag_id, [run_id], e2e.DAG_RUN_TIMEOUT + 120)
        wall = time.monotonic() - t0
        seen, _ = self.check_started_once(dag_id, [run_id], mark)
        check(seen.get("spectrum") == n, f"spectrum start calls {seen}, expected {n}")
        holders = self.watch.triggerers_of(dag_id, {run_id})
        waits = Counter(self.name_of(next(iter(h))) for h in holders.values() if h)
        served = [s for s in self.sandbox.requests()[mark:] if s.vendor == "spectrum" and AIOHTTP_AGENT.search(s.agent)]
        listings: Counter[str] = Counter()
        reads: Counter[str] = Counter()
        for s in served:
            who = self.watch.owner(s.peer) or "unattributed"
            if SPECTRUM_LISTING.match(s.path):
                listings[who] += 1
            elif SPECTRUM_STATUS.match(s.path):
                reads[who] += 1
        run_seconds = self.cases["shared_reads_seconds"]
        for key in TRIGGERERS:
            self.figure("d", f"{key}: {waits[key]} waits, {listings[key]} list-running calls, "
                             f"{reads[key]} single status reads")
        total = sum(listings.values()) + sum(reads.values())
        self.figure("d", f"{n} runs of ~{run_seconds} s, polled every 1 s: {total / n:.1f} triggerer calls per run "
                         f"(one by one: ~{run_seconds:.0f}); all succeeded in {wall:.0f} s")
        if listings["unattributed"] or reads["unattributed"]:
            self.figure("d", f"calls not attributed to a triggerer: {listings['unattributed']} listings, "
                             f"{reads['unattributed']} reads")
        check(all(listings[k] > 0 for k in TRIGGERERS),
              f"not every triggerer took its own listing: {dict(listings)} (waits {dict(waits)})")
        return f"listings per triggerer {dict(listings)}; {total / n:.1f} calls per run"


# --- main ---------------------------------------------------------------------------------------------------
def make_cases(sandbox: Any, failover: int, shared: int, shared_seconds: float) -> dict[str, Any]:
    cases: dict[str, Any] = {"shared_reads_seconds": shared_seconds}
    cases["e2e_cluster_failover"] = []
    for i in range(failover):
        path = f"/E2E/Failover/{i:02d}"
        sandbox.spectrum.add_file(path, running=60)
        cases["e2e_cluster_failover"].append({"task_id": f"wait_{i:02d}", "file": path})
    cases["e2e_cluster_shared_reads"] = []
    for i in range(shared):
        path = f"/E2E/Shared/{i:02d}"
        sandbox.spectrum.add_file(path, running=shared_seconds)
        cases["e2e_cluster_shared_reads"].append({"task_id": f"wait_{i:02d}", "file": path})
    job = sandbox.cdata_sync.add_job("E2E Worker Crash", [{"query": "REPLICATE [Accounts]", "seconds": 5}])
    cases["e2e_cluster_worker_crash"] = {"task_id": "replicate", "job_id": str(job.job_id), "hold": 8}
    return cases


def write_docs(cluster: Cluster, total: float, ok: bool) -> None:
    text = DOCS.read_text()
    if DOCS_BEGIN not in text or DOCS_END not in text:
        raise SystemExit(f"{DOCS} has no figure markers")
    lines = [DOCS_BEGIN, "",
             f"`make e2e-cluster` on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}: "
             f"{'all scenarios passed' if ok else 'NOT all scenarios passed'}, {total:.0f} s in all.", ""]
    names = {"a": "a. Load", "b": "b. Triggerer failover", "c": "c. Worker crash during a start",
             "d": "d. Shared reads across triggerers"}
    for key, title in names.items():
        if key in cluster.figures:
            lines.append(f"**{title}**")
            lines.append("")
            lines.extend(f"- {line}" for line in cluster.figures[key])
            lines.append("")
    lines.append(DOCS_END)
    before, rest = text.split(DOCS_BEGIN, 1)
    after = rest.split(DOCS_END, 1)[1]
    DOCS.write_text(before + "\n".join(lines) + after)
    print(f"figures written into {DOCS}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="load,shared,failover,worker",
                        help="comma-separated scenarios (load, shared, failover, worker)")
    parser.add_argument("--runs", type=int, default=20, help="concurrent DAG runs of scenario a (default 20)")
    parser.add_argument("--shared-waits", type=int, default=48, help="Spectrum waits of scenario d (default 48)")
    parser.add_argument("--failover-waits", type=int, default=8, help="Spectrum waits of scenario b (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep the Airflow home (logs) after the run")
    parser.add_argument("--write-docs", action="store_true", help=f"write the figures into {DOCS.name}")
    parser.add_argument("--budget", type=float, default=1200, help="seconds the whole run may take (default 1200)")
    args = parser.parse_args(argv)

    from airflow_provider_jobs.sandbox import Sandbox
    from airflow_provider_jobs.sandbox.demo import load_demo_jobs

    only = {s.strip() for s in args.only.split(",") if s.strip()}
    started = time.monotonic()
    Budget.deadline = started + args.budget
    home = Path(tempfile.mkdtemp(prefix="apj-e2e-cluster-"))
    services = Services(Path(tempfile.mkdtemp(prefix="apj-e2e-cluster-db-")))
    results: list[Result] = []
    cluster: Cluster | None = None
    watch: Watch | None = None
    with e2e.terminating_on_signals(), Sandbox() as sandbox:
        deployment = ClusterDeployment(home, sandbox, services)
        try:
            load_demo_jobs(sandbox)
            cases = make_cases(sandbox, args.failover_waits, args.shared_waits, 75)
            deployment.prepare([], [CLUSTER_DIR / "dags"])
            (deployment.dags_folder / "e2e_cluster_cases.json").write_text(json.dumps(cases, indent=2))
            t0 = time.monotonic()
            services.start()
            print(f"PostgreSQL on 127.0.0.1:{services.pg_port}, Redis on 127.0.0.1:{services.redis_port} "
                  f"(data in {services.root}, as {E2E_USER if os.getuid() == 0 else 'this user'}); "
                  f"sandbox {sandbox.url}; Airflow home {home}", flush=True)
            deployment.migrate()
            tasks, _ = e2e.describe(deployment, CHAINED)
            deployment.start_all()
            deployment.wait_ready([CHAINED, "e2e_cluster_failover", "e2e_cluster_worker_crash",
                                   "e2e_cluster_shared_reads"])
            deployment.wait_workers()
            up = time.monotonic() - t0
            results.append(Result("deployment up (PG, Redis, migrate, 7 components)", True, up, ""))
            triggerers = ", ".join(f"{k} (job {deployment.job_ids[k]})" for k in TRIGGERERS)
            print(f"deployment up in {up:.0f}s: api-server, scheduler, dag-processor, {', '.join(WORKERS)} "
                  f"(concurrency {WORKER_CONCURRENCY}), {triggerers}", flush=True)
            watch = Watch(deployment, urlsplit(sandbox.url).port or 0)
            watch.start()
            cluster = Cluster(deployment, sandbox, watch, cases, tasks, results=results)
            if "load" in only:
                cluster.scenario(f"a. load: {args.runs} concurrent chained runs", lambda: cluster.load(args.runs))
            if "shared" in only:
                cluster.scenario("d. shared reads across triggerers", cluster.shared_reads)
            if "failover" in only:
                cluster.scenario("b. triggerer failover (SIGKILL)", cluster.failover)
            if "worker" in only:
                cluster.scenario("c. worker crash during a start", cluster.worker_crash)
        except ScenarioFailed as exc:
            results.append(Result("deployment", False, time.monotonic() - started, str(exc)))
            print(f"FAIL deployment: {exc}", flush=True)
        except Exception as exc:
            results.append(Result("deployment", False, time.monotonic() - started, repr(exc)))
            print(f"FAIL deployment: {exc!r}\n{traceback.format_exc()}", flush=True)
        except KeyboardInterrupt as exc:
            results.append(Result("interrupted", False, time.monotonic() - started, str(exc)))
            print(f"FAIL interrupted: {exc}", flush=True)
        finally:
            if watch is not None:
                watch.stopped.set()
                watch.join(5)
            deployment.stop_all()
            services.stop()
            shutil.rmtree(services.root, ignore_errors=True)
    total = time.monotonic() - started
    e2e.print_summary(results, total, home, "chained_vendor_jobs + e2e_cluster_*")
    ok = bool(results) and all(r.ok for r in results)
    if cluster is not None:
        print("\n== figures")
        for key in sorted(cluster.figures):
            for line in cluster.figures[key]:
                print(f"{key}. {line}")
        if args.write_docs:
            write_docs(cluster, total, ok)
    if not ok or args.keep:
        print(f"logs kept in {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
