"""One measured client of the triggerer-scale benchmark, in its own process.

`python benchmarks/bench_clients.py SPEC.json OUT.json` runs one kind of client over the waits that
the orchestrator (triggerer_scale.py) prepared, all concurrently in ONE asyncio event loop (the
default loop, as the triggerer's), and writes its figures to OUT.json. Kinds:

ours   JobRunTriggers inflated from the kwargs the operators serialized, each iterated for its first
       event, as the triggerer runs them (one task per trigger).
peer   the real dbt Cloud provider trigger (DbtCloudRunJobTrigger of apache-airflow-providers-dbt-cloud,
       installed by `make bench` into a directory of its own, on this process's PYTHONPATH only),
       inflated from its serialized kwargs and iterated for its first event, polling the sandbox's
       dbt-Cloud-shaped route over TLS (its hook always builds https:// URLs; SSL_CERT_FILE names the
       sandbox's certificate). Its waits are dbt runs with the same lives as the others' vendor runs.
pattern  the same pattern re-implemented over our vendors' own routes, in plain HTTP: each wait creates
       its hook (a login, for a vendor with one) and per poll logs a line through Airflow's logging,
       builds a tenacity AsyncRetrying and opens a new aiohttp.ClientSession, as dbt's async hook does.
ideal  the floor: bare coroutines sharing one keep-alive aiohttp session (same pool size as ours),
       one login per vendor, a precomputed URL, json.loads and a state check per poll; no
       provider code.
ideal, in Airflow  the same bare coroutines in a process that has imported what a triggerer holds
       (Airflow, its task SDK, the provider's trigger and hook modules), as ours runs: what the host
       process's heap costs any client in it (the cyclic collector walks it), apart from ours' code.

All are started the way the triggerer's create_triggers() starts triggers, poll on the same
schedule (first poll at once, then every interval less up to 10% jitter, as WaitPolicy does; the dbt
trigger sleeps its exact interval, as it does) and are
measured the same way: CPU with time.process_time(), memory from /proc/self/statm, event-loop lag
from a 50 ms ticker, detection latency against each run's scripted end (from the sandbox). Requests,
logins and TCP connections are counted by the sandbox, not here: an aiohttp TraceConfig would add
~30% to a client's CPU per request.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import logging
import os
import random
import sys
import time
import urllib.request
from typing import Any
from urllib.parse import quote

import tenacity

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100.0 * (len(ordered) - 1))))
    return ordered[k]


def post_json(url: str, body: Any) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"},
                                 method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


# -- the hand-written clients (ideal and peer): what each vendor's poll looks like ------------------
def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class VendorWire:
    """A vendor's login and status call, by hand (no provider code)."""

    has_login = False

    def __init__(self, conn: dict[str, Any]) -> None:
        self.conn = conn
        self.host = conn["host"].rstrip("/")

    async def login(self, session: Any) -> Any:
        return None

    def poll(self, auth: Any, job: str, run_id: str) -> tuple[str, dict[str, str]]:
        raise NotImplementedError

    def done(self, body: Any) -> bool:
        raise NotImplementedError


class SpectrumWire(VendorWire):
    terminal = frozenset({"COMPLETED", "COMPLETED_WITH_WARNINGS", "ERROR", "CANCELED", "CANCELLED"})

    def poll(self, auth, job, run_id):
        return (f"{self.host}/rest/job-execution/job-details/{quote(run_id, safe='')}",
                {"Authorization": _basic(self.conn["login"], self.conn["password"])})

    def done(self, body):
        return str(body.get("jobStatus")).upper() in self.terminal


class OcapiWire(VendorWire):
    has_login = True
    terminal = frozenset({"finished", "aborted"})

    async def login(self, session):
        extra = self.conn.get("extra") or {}
        async with session.post(extra["token_url"], data={"grant_type": "client_credentials"},
                                headers={"Authorization": _basic(self.conn["login"], self.conn["password"])}) as resp:
            return (await resp.json())["access_token"]

    def poll(self, auth, job, run_id):
        version = (self.conn.get("extra") or {}).get("api_version", "v23_2")
        return (f"{self.host}/s/-/dw/data/{version}/jobs/{quote(job, safe='')}/executions/{quote(run_id, safe='')}",
                {"Authorization": f"Bearer {auth}"})

    def done(self, body):
        return str(body.get("execution_status")).lower() in self.terminal


class NexusWire(VendorWire):
    has_login = True
    terminal = frozenset({4, 5})

    async def login(self, session):
        async with session.post(f"{self.host}/security/login",
                                headers={"Authorization": _basic(self.conn["login"], self.conn["password"])}) as resp:
            return (await resp.json())["hash"]

    def poll(self, auth, job, run_id):
        return f"{self.host}/jobStatus/{quote(run_id, safe='')}?hash={auth}", {}

    def done(self, body):
        return body.get("status") in self.terminal


class InformaticaWire(VendorWire):
    """A taskflow published as a service: v3 login, then its status by run id on the POD."""

    has_login = True
    terminal = frozenset({"SUCCESS", "WARNING", "FAILED", "STOPPED", "SUSPENDED"})

    async def login(self, session):
        async with session.post(f"{self.host}/saas/public/core/v3/login",
                                json={"username": self.conn["login"], "password": self.conn["password"]}) as resp:
            body = await resp.json()
        return body["userInfo"]["sessionId"], body["products"][0]["baseApiUrl"].removesuffix("/saas")

    def poll(self, auth, job, run_id):
        session_id, pod = auth
        return f"{pod}/active-bpel/services/tf/status/{quote(run_id, safe='')}", {"INFA-SESSION-ID": session_id}

    def done(self, body):
        return str(body.get("status")).upper() in self.terminal


class CDataWire(VendorWire):
    """API v2: the run's history entry, with the static auth token."""

    terminal = frozenset({"successful", "failed", "cancelled"})

    def poll(self, auth, job, run_id):
        return (f"{self.host}/v2/jobs/{quote(job, safe='')}/history/{quote(run_id, safe='')}",
                {"x-cdata-authtoken": self.conn["password"]})

    def done(self, body):
        return str(body.get("status")).lower() in self.terminal


WIRES = {"spectrum": SpectrumWire, "ocapi": OcapiWire, "nexus_ic": NexusWire, "informatica": InformaticaWire,
         "cdata_sync": CDataWire}


# -- the measurement -------------------------------------------------------------------------------
class Measure:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.interval = float(spec["interval"])
        self.lags: list[float] = []
        self.peak_rss = 0
        self.fired: list[tuple[str, str, float, str]] = []  # vendor, run_id, epoch, status
        self.running = True
        self.t0 = time.perf_counter()
        self.ramp_s = float("nan")
        self.anchored_at = float("nan")
        self.unfinished = 0
        self.event_polls = 0  # ours: the status reads each trigger's event reports
        self.vendor_polls: dict[str, int] = {}  # ours: the same, by vendor

    async def ticker(self) -> None:
        loop = asyncio.get_running_loop()
        while self.running:
            before = loop.time()
            await asyncio.sleep(0.05)
            self.lags.append(max(0.0, loop.time() - before - 0.05))
            self.peak_rss = max(self.peak_rss, rss())

    def sleep_for(self) -> float:
        return max(0.05, self.interval - random.uniform(0.0, 0.1 * self.interval))  # as WaitPolicy


async def harness(m: Measure, spec: dict[str, Any], start: Any) -> dict[str, Any]:
    """Start one wait per entry as the triggerer's create_triggers() does (one at a time, yielding to
    the loop around each), let them all poll for an interval, then give the runs their scripted ends
    (anchor) and wait for every wait to finish, or for the phase's time limit (from the anchor; the
    start of the waits has the same limit). Returns the anchor's answer."""
    m.t0 = time.perf_counter()
    cutoff = m.t0 + spec["limit_s"]
    tick = asyncio.create_task(m.ticker())
    tasks = []
    for w in spec["waits"]:
        await asyncio.sleep(0)
        coro = start(w)
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(coro))
        if time.perf_counter() > cutoff:  # a client that cannot even start its waits in time
            break
    m.ramp_s = time.perf_counter() - m.t0
    await asyncio.sleep(max(1.0, m.interval))
    body: dict[str, dict[str, float]] = {}
    for w in spec["waits"]:
        body.setdefault(w["vendor"], {})[w["run_id"]] = w["seconds"]
    anchored = await asyncio.to_thread(post_json, spec["base"] + "/_bench/anchor", {"runs": body})
    m.anchored_at = time.perf_counter() - m.t0
    cutoff = time.perf_counter() + spec["limit_s"]  # the runs' ends are due within the limit from now
    done, pending = await asyncio.wait(tasks, timeout=max(1.0, cutoff - time.perf_counter()))
    for task in pending:
        task.cancel()
    m.unfinished = len(pending) + len(spec["waits"]) - len(tasks)
    m.running = False
    await asyncio.gather(tick, *pending, return_exceptions=True)
    for task in done:
        task.result()  # a wait that crashed fails the benchmark
    return anchored


def profiled(call: Any) -> Any:
    """Run the measured part, under cProfile when BENCH_PROFILE names an output file (for digging)."""
    target = os.environ.get("BENCH_PROFILE")
    if not target:
        return call()
    import cProfile

    profile = cProfile.Profile()
    try:
        return profile.runcall(call)
    finally:
        profile.dump_stats(target)


def run_ours(spec: dict[str, Any], m: Measure) -> dict[str, Any]:
    for vendor, conn in spec["connections"].items():
        os.environ[spec["conn_env"][vendor]] = json.dumps(conn)
    from airflow_provider_jobs.core.auth import credential_cache
    from airflow_provider_jobs.core.trigger import JobRunTrigger

    asyncio.run(warm_up(spec["waits"]))
    gc.collect()
    base = rss()

    async def one(w: dict[str, Any]) -> None:
        trigger = JobRunTrigger(**w["kwargs"])  # inflated from its kwargs, as the triggerer does
        async for event in trigger.run():
            m.fired.append((w["vendor"], w["run_id"], time.time(), event.payload["status"]))
            m.event_polls += event.payload["polls"]
            m.vendor_polls[w["vendor"]] = m.vendor_polls.get(w["vendor"], 0) + event.payload["polls"]
            return

    cpu, wall = time.process_time(), time.perf_counter()
    anchored = profiled(lambda: asyncio.run(harness(m, spec, one)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return summarize(spec, m, anchored, base, cpu, wall, credential_cache.logins)


async def warm_up(waits: list[dict[str, Any]]) -> None:
    """What a triggerer that has been up for a while has done already: import what the first trigger
    imports lazily (Airflow's connection and secrets-masking machinery, the vendor's hook module).
    No request is sent and no credential is obtained."""
    from airflow_provider_jobs.core.runs import JobRun
    from airflow_provider_jobs.core.trigger import JobRunTrigger

    seen = set()
    for w in waits:
        if w["vendor"] in seen:
            continue
        seen.add(w["vendor"])
        trigger = JobRunTrigger(**w["kwargs"])
        hook = trigger.make_hook()
        await hook.aload_settings()
        hook.auth  # noqa: B018
        trigger.policy()
        JobRun.from_dict(w["kwargs"]["runs"][0]).to_dict()


peer_log = logging.getLogger("airflow.providers.peer.hooks")
#: The peer's retry arguments (dbt Cloud's defaults: a few attempts with exponential back-off).
PEER_RETRY: dict[str, Any] = {}
IDEAL_IN_AIRFLOW = "ideal, in Airflow"


def run_hand(spec: dict[str, Any], m: Measure, kind: str) -> dict[str, Any]:
    import aiohttp

    if kind == "pattern":
        # The peer runs in a triggerer too: its log lines go through Airflow's logging, as ours do.
        import airflow  # noqa: F401 - configures logging as in the triggerer

        PEER_RETRY.update(stop=tenacity.stop_after_attempt(3), reraise=True,
                          wait=tenacity.wait_exponential(min=1, max=10),
                          retry=tenacity.retry_if_exception_type(aiohttp.ClientResponseError))

    if kind == IDEAL_IN_AIRFLOW:
        import importlib

        # what ours' process has loaded before its waits begin
        for module in ("airflow.sdk", "airflow_provider_jobs.core.trigger",
                       *(f"airflow_provider_jobs.hooks.{vendor}" for vendor in spec["connections"])):
            importlib.import_module(module)
    wires = {v: WIRES[v](c) for v, c in spec["connections"].items() if v in WIRES}
    gc.collect()
    base = rss()
    logins = 0
    session: Any = None
    auths: dict[str, Any] = {}

    async def ideal_wait(w: dict[str, Any]) -> None:
        nonlocal logins
        vendor = w["vendor"]
        wire = wires[vendor]
        if vendor not in auths:  # one login per vendor, shared by every wait
            auths[vendor] = asyncio.ensure_future(wire.login(session))
            logins += wire.has_login
        url, headers = wire.poll(await auths[vendor], w["job"], w["run_id"])
        while True:
            async with session.get(url, headers=headers) as resp:
                body = json.loads(await resp.read())
            if wire.done(body):
                m.fired.append((vendor, w["run_id"], time.time(), "done"))
                return
            await asyncio.sleep(m.sleep_for())

    async def pattern_wait(w: dict[str, Any]) -> None:
        nonlocal logins
        vendor = w["vendor"]
        wire = wires[vendor]
        auth = None
        if wire.has_login:  # the hook logs in, once per hook (per trigger)
            async with aiohttp.ClientSession() as login_session:
                auth = await wire.login(login_session)
            logins += 1
        while True:
            # As the dbt Cloud provider's async get_job_status(): a log line, a tenacity retry object,
            # a new session (and TCP connection) for every poll.
            peer_log.info("Getting the status of job run %s.", w["run_id"])
            url, headers = wire.poll(auth, w["job"], w["run_id"])
            async with aiohttp.ClientSession() as poll_session:
                async for attempt in tenacity.AsyncRetrying(**PEER_RETRY):
                    with attempt:
                        async with poll_session.get(url, headers=headers) as resp:
                            resp.raise_for_status()
                            body = await resp.json(content_type=None)
            if wire.done(body):
                m.fired.append((vendor, w["run_id"], time.time(), "done"))
                return
            await asyncio.sleep(m.sleep_for())

    async def main() -> dict[str, Any]:
        nonlocal session
        if kind in ("ideal", IDEAL_IN_AIRFLOW):
            connector = aiohttp.TCPConnector(limit=spec["pool"], keepalive_timeout=30)
            session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        try:
            return await harness(m, spec, pattern_wait if kind == "pattern" else ideal_wait)
        finally:
            if session is not None:
                await session.close()

    cpu, wall = time.process_time(), time.perf_counter()
    anchored = profiled(lambda: asyncio.run(main()))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return summarize(spec, m, anchored, base, cpu, wall, logins)


def run_dbt(spec: dict[str, Any], m: Measure) -> dict[str, Any]:
    """The dbt Cloud provider's own trigger, as the triggerer runs it (inflated from its serialized kwargs)."""
    dbt = spec["dbt"]
    os.environ["AIRFLOW_CONN_DBT_CLOUD_DEFAULT"] = json.dumps(dbt["connection"])
    from airflow.providers.dbt.cloud.triggers.dbt import DbtCloudRunJobTrigger

    def kwargs(run_id: str) -> dict[str, Any]:
        trigger = DbtCloudRunJobTrigger(conn_id="dbt_cloud_default", run_id=int(run_id), account_id=dbt["account_id"],
                                        end_time=time.time() + 7200, poll_interval=m.interval)
        return json.loads(json.dumps(trigger.serialize()[1]))

    gc.collect()
    base = rss()

    async def one(w: dict[str, Any]) -> None:
        trigger = DbtCloudRunJobTrigger(**kwargs(w["run_id"]))
        async for event in trigger.run():
            m.fired.append((w["vendor"], w["run_id"], time.time(), event.payload["status"]))
            return

    cpu, wall = time.process_time(), time.perf_counter()
    anchored = profiled(lambda: asyncio.run(harness(m, spec, one)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return summarize(spec, m, anchored, base, cpu, wall, 0)


def summarize(spec: dict[str, Any], m: Measure, anchored: dict[str, Any], base_rss: int, cpu: float, wall: float,
              logins: int) -> dict[str, Any]:
    n = len(spec["waits"])
    ends = anchored["ends"]
    latencies = [at - ends[vendor][run_id] for vendor, run_id, at, _ in m.fired]
    statuses: dict[str, int] = {}
    for *_, status in m.fired:
        statuses[status] = statuses.get(status, 0) + 1
    if os.environ.get("BENCH_DUMP"):
        with open(os.environ["BENCH_DUMP"], "w") as fh:
            json.dump({"fired": m.fired, "ends": ends, "lags": m.lags, "now": anchored["now"]}, fh)
    return {
        "kind": spec["kind"],
        "n": n,
        "interval": m.interval,
        "vendors": sorted({w["vendor"] for w in spec["waits"]}),
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_base_mb": base_rss / 2**20,
        "rss_peak_mb": m.peak_rss / 2**20,
        "kb_per_wait": (m.peak_rss - base_rss) / 1024.0 / max(1, n),
        "logins": logins,
        "lag_p50_ms": 1000 * percentile(m.lags, 50),
        "lag_p99_ms": 1000 * percentile(m.lags, 99),
        "lag_max_ms": 1000 * max(m.lags, default=float("nan")),
        "detect_p50_s": percentile(latencies, 50),
        "detect_p99_s": percentile(latencies, 99),
        "detect_max_s": max(latencies, default=float("nan")),
        "events": len(m.fired),
        "unfinished": m.unfinished,
        "event_polls": m.event_polls,
        "vendor_polls": m.vendor_polls,
        "ramp_s": m.ramp_s,
        "anchored_at_s": m.anchored_at,
        "statuses": statuses,
    }


class GcClock:
    """CPU seconds the cyclic garbage collector took, and its collections per generation."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started
            self.collections[info["generation"]] += 1


def main(argv: list[str]) -> int:
    spec_path, out_path = argv[1], argv[2]
    with open(spec_path) as fh:
        spec = json.load(fh)
    m = Measure(spec)
    clock = GcClock()
    if spec["kind"].startswith("ours"):
        result = run_ours(spec, m)
    elif spec["kind"] == "peer":
        result = run_dbt(spec, m)
    else:
        result = run_hand(spec, m, spec["kind"])
    result["gc_s"], result["gc_collections"] = clock.seconds, clock.collections
    with open(out_path, "w") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
