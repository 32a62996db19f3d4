"""The sandbox in its own process, for the benchmarks (benchmarks/ only; nothing here ships).

`python benchmarks/bench_sandbox.py` serves the provider's sandbox (every vendor site it has) on
127.0.0.1 and prints its URL. On top of the sandbox's own admin API it adds a few routes under
`/_bench/` so that a run of thousands of waits can be set up in one call and measured exactly:

  POST /_bench/jobs     {"vendor", "lives": [[queued_s, running_s, final], ...], "start": false}
                        -> {"jobs": [<job reference the vendor's operator takes>, ...], "runs": [...]}
                        Defines one job per life, through the site's own admin_add_job. With
                        "start", also starts one run of each here, in the sandbox (for the reference
                        clients, which need runs but no trigger kwargs): "runs" are their ids.
  POST /_bench/anchor   {"runs": {vendor: {run_id: seconds, ...}}}
                        -> {"now": epoch, "ends": {vendor: {run_id: epoch the run ends}}}
                        Each of these runs (started with a long life) now runs for that many more
                        seconds, then ends in its scripted final state. A client anchors once all
                        its waits are up, so every client of a phase sees the same schedule however
                        long its start took; the answer is each run's end, which the client compares
                        with the moment its trigger fired (detection latency).
  GET  /_bench/stats    -> {"requests": {vendor: n}, "logins": {vendor: n}, "connections": n}
                        Counted here rather than in the clients: an aiohttp TraceConfig in a client
                        costs it ~30% more CPU per request, which would blur what is measured.
  GET  /_bench/connections -> {vendor: Airflow connection dict}
  GET  /_bench/dbt      -> {"connection": <the dbt Cloud connection>, "account_id": n, "cert": <PEM path>}

A dbt-Cloud-shaped route, for the real dbt Cloud provider's trigger (the benchmark's peer):
`GET /api/v2/accounts/{account_id}/runs/{run_id}/` with `Authorization: Token <api token>`, answering
dbt Cloud's "Retrieve run" envelope `{"status": {...}, "data": {"id", "status": <int>, ...}}` with its
run status codes (1 queued, 3 running, 10 success, 20 error, 30 cancelled). The provider's hook builds
`https://{connection host}/api/v2/accounts/...` (the scheme is fixed), so this route is also served over
TLS on a second port, with a self-signed certificate for 127.0.0.1 made at start (the dbt client is given
it as SSL_CERT_FILE). "dbt" is a vendor of /_bench/jobs and /_bench/anchor like the others.

The status routes the benchmark polls are served from an index (run id -> run) rather than the sites'
linear scans over every run, which are fine for tests and quadratic at 30,000 runs.

The request log of the sandbox (every request kept in a list, for tests) is replaced by a counter:
a benchmark sends hundreds of thousands of requests. The server runs on uvloop when it is
installed (it is, as an Airflow dependency): the sandbox is "the other side", and the benchmark
must measure the client, not a slow server.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import datetime
import itertools
import os
import signal
import ssl
import sys
import tempfile
import time
from typing import Any

from aiohttp import web

from airflow_provider_jobs.sandbox.core import Life, Served, SimRun
from airflow_provider_jobs.sandbox.server import SandboxState, build_app


# -- per-vendor knowledge of the sandbox's sites (how to define a job, where its runs live) --------
def _define(vendor: str, site: Any, index: int, queued: float, running: float, final: str | None) -> str:
    """Define one job with the given life; return the reference its run operator takes."""
    if vendor == "spectrum":
        made = site.admin_add_job({"path": f"/Bench/job {index}", "final": final or "COMPLETED",
                                   "steps": [["QUEUED", queued], ["RUNNING", running]]})
        return str(made["file_id"])
    if vendor == "ocapi":
        job_id = f"bench-job-{index}"
        failure = {"exit_code": "ERROR", "exit_status": "error"} if final == "error" else {}
        site.admin_add_job({"job_id": job_id, "final": "finished", **failure,
                            "states": [["pending", queued], ["running", running]]})
        return job_id
    if vendor == "nexus_ic":
        made = site.admin_add_job({"name": f"Bench report {index}", "final": final or "4",
                                   "steps": [["1", queued], ["3", running]]})
        return str(made["template_id"])
    if vendor == "informatica":  # a taskflow published as a service: one status call per run
        made = site.admin_add_job({"kind": "taskflow", "name": f"bench_flow_{index}", "final": final or "SUCCESS",
                                   "steps": [["RUNNING", queued], ["RUNNING", running]]})
        return made["name"]
    if vendor == "cdata_sync":  # one task; the run fails when it does (its outcome)
        job = site.add_job(f"bench_job_{index}", [{"query": "REPLICATE [Accounts]", "seconds": running,
                                                    "outcome": final or "Successful"}], starting=queued)
        return str(job.job_id)
    if vendor == "dbt":
        return str(index)
    raise KeyError(vendor)


def _start(vendor: str, site: Any, ref: str) -> str:
    """Start a run of a job as its API would (without a client); its run id."""
    if vendor == "spectrum":
        return site._start(site.files[int(ref)]).run_id
    if vendor == "ocapi":
        return site.start(ref).run_id
    if vendor == "nexus_ic":
        from airflow_provider_jobs.sandbox.nexus_ic import ServerJob

        template = site.templates[int(ref)]
        job = ServerJob(template.life, kind="report", template=template, output_type="json")
        site.jobs[job.run_id] = job
        return job.run_id
    if vendor == "informatica":
        return site.start_taskflow_elsewhere(ref).run_id
    if vendor == "cdata_sync":
        return str(site.start(site.jobs[int(ref)]).history_id)
    if vendor == "dbt":
        return site.start(ref)
    raise KeyError(vendor)


def _runs(vendor: str, site: Any) -> dict[str, Any]:
    """The site's runs by id."""
    if vendor == "spectrum":
        return site.runs
    if vendor == "ocapi":
        return site.executions
    if vendor == "nexus_ic":
        return site.jobs
    if vendor == "informatica":
        return {r.run_id: r for flow in site.taskflows.values() for r in flow.runs}
    if vendor == "cdata_sync":
        return {str(r.history_id): r for r in site.runs}
    if vendor == "dbt":
        return site.runs
    raise KeyError(vendor)


def _logins(vendor: str, site: Any) -> int:
    if vendor == "ocapi":
        return len(site.grants)
    return int(getattr(site, "logins", 0))


BENCH_VENDORS = ("spectrum", "ocapi", "nexus_ic", "informatica", "cdata_sync", "dbt")


# -- dbt Cloud, for the peer (the dbt Cloud provider's own trigger) ----------------------------------
DBT_ACCOUNT = 70403103924373
DBT_TOKEN = "dbtc_bench_token"
DBT_WORDS = {1: "Queued", 2: "Starting", 3: "Running", 10: "Success", 20: "Error", 30: "Cancelled"}


class DbtSite:
    """Runs of dbt Cloud jobs, answered as its v2 "Retrieve run" does (only what the provider's trigger reads
    and the envelope around it)."""

    vendor = "dbt"

    def __init__(self) -> None:
        self.runs: dict[str, SimRun] = {}
        self._ids = itertools.count(90000001)

    def reset(self) -> None:
        self.runs.clear()

    def start(self, job: str) -> str:
        """One run of job `job` (queued 0.5 s, then running for an hour: the anchor gives its real end)."""
        final = DBT_FINAL.pop(job, "10")
        run = SimRun(job, Life([("1", 0.5), ("3", 3600.0)], final), str(next(self._ids)))
        self.runs[run.run_id] = run
        return run.run_id

    async def retrieve_run(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") not in (f"Token {DBT_TOKEN}", f"Bearer {DBT_TOKEN}"):
            return web.json_response({"status": {"code": 401, "is_success": False, "user_message": "Invalid token.",
                                                 "developer_message": None}, "data": None}, status=401)
        run = self.runs.get(request.match_info["run_id"])
        if run is None or request.match_info["account_id"] != str(DBT_ACCOUNT):
            return web.json_response({"status": {"code": 404, "is_success": False, "user_message": "Not found.",
                                                 "developer_message": None}, "data": None}, status=404)
        word, _, done = run.state()
        code = int(word)
        data = {"id": int(run.run_id), "account_id": DBT_ACCOUNT, "job_definition_id": int(run.job_key),
                "status": code, "status_humanized": DBT_WORDS.get(code, str(code)), "in_progress": not done,
                "is_complete": done, "is_success": code == 10, "is_error": code == 20, "is_cancelled": code == 30,
                "created_at": _dbt_time(run.created), "finished_at": _dbt_time(run.ended_at) if done else None,
                "href": f"https://{request.host}/deploy/{DBT_ACCOUNT}/projects/1/runs/{run.run_id}/"}
        return web.json_response({"status": {"code": 200, "is_success": True, "user_message": "Success!",
                                             "developer_message": ""}, "data": data})


#: job -> final status code of its next run ("20" error), set by /_bench/jobs
DBT_FINAL: dict[str, str] = {}


def _dbt_time(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")


def self_signed(directory: str) -> tuple[str, ssl.SSLContext]:
    """A certificate for 127.0.0.1 (its PEM path) and the server's TLS context."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, "dbt-cert.pem"), os.path.join(directory, "dbt-key.pem")
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return cert_path, context


def index_status_routes(state: SandboxState) -> None:
    """Answer the polled status routes of CData Sync and Informatica taskflows from an index by run id."""
    cdata, infa = state.sites.get("cdata_sync"), state.sites.get("informatica")
    if cdata is not None:
        by_job: dict[int, list[Any]] = {}
        seen = [None, 0]  # the runs list indexed, how many of its runs

        def runs_of(job: Any) -> list[Any]:
            if seen[0] is not cdata.runs:
                by_job.clear()
                seen[:] = [cdata.runs, 0]
            for run in cdata.runs[seen[1]:]:
                by_job.setdefault(run.job.job_id, []).append(run)
            seen[1] = len(cdata.runs)
            return list(by_job.get(job.job_id, ()))

        cdata.runs_of = runs_of
    if infa is not None:
        flows: dict[str, Any] = {}
        indexed: list[Any] = [None]  # the taskflows dict indexed (a reset makes a new one)

        def flow_run(run_id: str) -> Any:
            run = flows.get(run_id) if indexed[0] is infa.taskflows else None
            if run is None:
                indexed[0] = infa.taskflows
                flows.clear()
                flows.update((r.run_id, r) for f in infa.taskflows.values() for r in f.runs)
                run = flows.get(run_id)
            return None if run is None or run.vanished() else run

        infa._flow_run = flow_run


#: TCP connections accepted since the start (see serve()).
accepted = [0]


def build_bench_app(state: SandboxState, dbt: DbtSite, tls: dict[str, Any]) -> web.Application:
    app = build_app(state)
    app._client_max_size = 64 * 2**20  # an anchor or a job list of 30,000 runs is a few MB of JSON
    index_status_routes(state)
    sites = {**state.sites, "dbt": dbt}
    counts: collections.Counter[str] = collections.Counter()

    def record(served: Served) -> None:  # instead of keeping every request in a list
        counts[served.vendor] += 1

    state.record = record  # type: ignore[method-assign]

    async def jobs(request: web.Request) -> web.Response:
        body = await request.json()
        vendor = body["vendor"]
        site = sites[vendor]
        start = int(body.get("first_index", 0))
        if vendor == "dbt":
            DBT_FINAL.update({str(start + i): f for i, (_, _, f) in enumerate(body["lives"]) if f})
        refs = [_define(vendor, site, start + i, float(q), float(r), f) for i, (q, r, f) in
                enumerate(body["lives"])]
        runs = [_start(vendor, site, ref) for ref in refs] if body.get("start") else []
        return web.json_response({"jobs": refs, "runs": runs})

    async def anchor(request: web.Request) -> web.Response:
        body = await request.json()
        now = time.time()
        ends: dict[str, dict[str, float]] = {}
        for vendor, remaining in body["runs"].items():
            runs = _runs(vendor, sites[vendor])
            mine = ends[vendor] = {}
            for run_id, seconds in remaining.items():
                run = runs[str(run_id)]
                (first, queued), (then, _) = run.life.steps[0], run.life.steps[-1]
                run.life = dataclasses.replace(run.life, steps=[(first, queued), (then, float(seconds))])
                run.created = now - queued  # past its first step: it keeps the state it has now
                if vendor == "cdata_sync":  # its one task ends with it
                    run.tasks[0].seconds = queued + float(seconds) - run.tasks_begin
                mine[str(run_id)] = now + float(seconds)
        return web.json_response({"now": now, "ends": ends})

    async def stats(request: web.Request) -> web.Response:
        logins = {v: _logins(v, s) for v, s in state.sites.items() if v in BENCH_VENDORS}
        return web.json_response({"requests": dict(counts), "logins": logins, "connections": accepted[0]})

    async def reset(request: web.Request) -> web.Response:
        dbt.reset()
        return web.json_response({})

    async def retrieve_run(request: web.Request) -> web.Response:
        counts["dbt"] += 1
        return await dbt.retrieve_run(request)

    async def dbt_info(request: web.Request) -> web.Response:
        conn = {"conn_type": "dbt_cloud", "host": f"127.0.0.1:{tls['port']}", "login": str(DBT_ACCOUNT),
                "password": DBT_TOKEN}
        return web.json_response({"connection": conn, "account_id": DBT_ACCOUNT, "cert": tls["cert"]})

    async def connections(request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return web.json_response({v: s.connection(f"{base}/{v}") for v, s in state.sites.items()})

    app.router.add_post("/_bench/jobs", jobs)
    app.router.add_post("/_bench/anchor", anchor)
    app.router.add_get("/_bench/stats", stats)
    app.router.add_get("/_bench/connections", connections)
    app.router.add_get("/_bench/dbt", dbt_info)
    app.router.add_post("/_bench/dbt/reset", reset)
    app.router.add_get("/api/v2/accounts/{account_id}/runs/{run_id}/", retrieve_run)
    return app


async def serve(host: str, port: int) -> None:
    state = SandboxState()
    tls: dict[str, Any] = {}
    runner = web.AppRunner(build_bench_app(state, DbtSite(), tls), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    handler = runner.server

    def protocol() -> Any:  # one per accepted TCP connection
        accepted[0] += 1
        return handler()

    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, host, port, backlog=4096, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    # the same app over TLS, for the dbt Cloud provider's hook (it always builds https:// URLs)
    tls["cert"], context = self_signed(tempfile.mkdtemp(prefix="apj-bench-tls-"))
    secure = await loop.create_server(protocol, host, 0, backlog=4096, reuse_address=True, ssl=context)
    tls["port"] = secure.sockets[0].getsockname()[1]
    print(f"http://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    secure.close()
    server.close()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - plain asyncio then
        asyncio.run(serve(args.host, args.port))
    else:
        uvloop.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
