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
import signal
import sys
import time
from typing import Any

from aiohttp import web

from airflow_provider_jobs.sandbox.core import Served
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
    if vendor == "informatica":
        made = site.admin_add_job({"kind": "taskflow", "name": f"bench_flow_{index}", "final": final or "SUCCESS",
                                   "steps": [["RUNNING", queued], ["RUNNING", running]]})
        return made["name"]
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
    raise KeyError(vendor)


def _logins(vendor: str, site: Any) -> int:
    if vendor == "ocapi":
        return len(site.grants)
    return int(getattr(site, "logins", 0))


BENCH_VENDORS = ("spectrum", "ocapi", "nexus_ic", "informatica")


#: TCP connections accepted since the start (see serve()).
accepted = [0]


def build_bench_app(state: SandboxState) -> web.Application:
    app = build_app(state)
    counts: collections.Counter[str] = collections.Counter()

    def record(served: Served) -> None:  # instead of keeping every request in a list
        counts[served.vendor] += 1

    state.record = record  # type: ignore[method-assign]

    async def jobs(request: web.Request) -> web.Response:
        body = await request.json()
        vendor = body["vendor"]
        site = state.sites[vendor]
        start = int(body.get("first_index", 0))
        refs = [_define(vendor, site, start + i, float(q), float(r), f) for i, (q, r, f) in
                enumerate(body["lives"])]
        runs = [_start(vendor, site, ref) for ref in refs] if body.get("start") else []
        return web.json_response({"jobs": refs, "runs": runs})

    async def anchor(request: web.Request) -> web.Response:
        body = await request.json()
        now = time.time()
        ends: dict[str, dict[str, float]] = {}
        for vendor, remaining in body["runs"].items():
            runs = _runs(vendor, state.sites[vendor])
            mine = ends[vendor] = {}
            for run_id, seconds in remaining.items():
                run = runs[str(run_id)]
                (first, queued), (then, _) = run.life.steps[0], run.life.steps[-1]
                run.life = dataclasses.replace(run.life, steps=[(first, queued), (then, float(seconds))])
                run.created = now - queued  # past its first step: it keeps the state it has now
                mine[str(run_id)] = now + float(seconds)
        return web.json_response({"now": now, "ends": ends})

    async def stats(request: web.Request) -> web.Response:
        logins = {v: _logins(v, s) for v, s in state.sites.items() if v in BENCH_VENDORS}
        return web.json_response({"requests": dict(counts), "logins": logins, "connections": accepted[0]})

    async def connections(request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return web.json_response({v: s.connection(f"{base}/{v}") for v, s in state.sites.items()})

    app.router.add_post("/_bench/jobs", jobs)
    app.router.add_post("/_bench/anchor", anchor)
    app.router.add_get("/_bench/stats", stats)
    app.router.add_get("/_bench/connections", connections)
    return app


async def serve(host: str, port: int) -> None:
    state = SandboxState()
    runner = web.AppRunner(build_bench_app(state), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    handler = runner.server

    def protocol() -> Any:  # one per accepted TCP connection
        accepted[0] += 1
        return handler()

    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, host, port, backlog=4096, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    print(f"http://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
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
