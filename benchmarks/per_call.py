"""Per-call cost benchmark (issue 20, items 1 and 3): what one status check costs, vendor by vendor.

    python benchmarks/per_call.py                  # every vendor, N=1,000 waits polling every 1 s (make bench)
    python benchmarks/per_call.py -n 300 --vendors nexus_ic,ocapi --no-write   # while iterating

For each vendor it waits on N runs at once in one event loop twice, in separate client processes:
`ours` (JobRunTriggers built by the vendor's run operator, the connection extra `share_status_reads`
off, so that every check is an HTTP call of its own), `ideal` (bare coroutines over one shared
aiohttp session, one login per vendor, a precomputed URL, json.loads and a state check per poll) and
`ideal, in Airflow` (the same bare coroutines in a process that has imported what a triggerer holds,
as ours' process has: what the host's heap costs any client, apart from ours' code).
It reports the CPU per check (time.process_time() of the client / status checks), the event loop's
lag (a 50 ms ticker), and the progress log lines per run of ours, then writes benchmarks/PER_CALL.md
with the targets met or not per vendor: CPU per check <= 1.3 x ideal's, lag max <= 2 x ideal's.

It reuses the triggerer-scale benchmark's pieces (triggerer_scale.py: the sandbox process, how runs
are started through the hooks and triggers serialized by the operators; bench_clients.py: the
clients and their measurement) and adds only what they do not have yet: a bare-client wire for
Informatica (taskflow status) and CData Sync (history entry), and the sandbox definitions of CData
Sync jobs (run as `per_call.py --serve`, which is bench_sandbox.py with those added).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from typing import Any
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

VENDORS = ("informatica", "ocapi", "cdata_sync", "nexus_ic", "spectrum")
NAMES = {"informatica": "Informatica", "ocapi": "OCAPI", "cdata_sync": "CData Sync", "nexus_ic": "NEXUS IC",
         "spectrum": "Spectrum"}
DEFAULT_CONN = {"informatica": "informatica_cloud_default"}
CPU_TARGET = 1.3
LAG_TARGET = 2.0
OURS = "ours, own calls"
HOST = "ideal, in Airflow"  # bench_clients.IDEAL_IN_AIRFLOW


# -- the sandbox side: bench_sandbox.py, plus the vendors it does not define yet ---------------------
def serve(argv: list[str]) -> int:
    import bench_sandbox

    define, start, runs = bench_sandbox._define, bench_sandbox._start, bench_sandbox._runs

    def _define(vendor: str, site: Any, index: int, queued: float, running: float, final: str | None) -> str:
        try:
            return define(vendor, site, index, queued, running, final)
        except KeyError:
            if vendor != "cdata_sync":
                raise
        made = site.admin_add_job({"name": f"bench_job_{index}",
                                   "tasks": [{"query": "REPLICATE [Accounts]", "seconds": running,
                                              "outcome": "Failed" if final else "Successful"}]})
        return str(made["job_id"])

    def _start(vendor: str, site: Any, ref: str) -> str:
        try:
            return start(vendor, site, ref)
        except KeyError:
            if vendor == "cdata_sync":
                return str(site.start(site.jobs[int(ref)]).history_id)
            if vendor == "informatica":
                return site.start_taskflow_elsewhere(ref).run_id
            raise

    def _runs(vendor: str, site: Any) -> dict[str, Any]:
        try:
            return runs(vendor, site)
        except KeyError:
            if vendor != "cdata_sync":
                raise
            return {str(r.history_id): r for r in site.runs}

    bench_sandbox._define, bench_sandbox._start, bench_sandbox._runs = _define, _start, _runs
    bench_sandbox.BENCH_VENDORS = tuple(sorted({*bench_sandbox.BENCH_VENDORS, *VENDORS}))
    return bench_sandbox.main(argv)


# -- the client side: bench_clients.py, plus bare wires for the vendors it does not poll yet ----------
def _wires() -> dict[str, Any]:
    from bench_clients import VendorWire

    class InformaticaWire(VendorWire):
        """A taskflow's status (`GET <pod>/active-bpel/services/tf/status/<runId>`), after a v2 login."""

        has_login = True
        terminal = frozenset({"SUCCESS", "WARNING", "FAILED", "STOPPED", "ABORTED", "COMPLETED", "ERROR"})

        async def login(self, session: Any) -> Any:
            async with session.post(f"{self.host}/ma/api/v2/user/login",
                                    json={"@type": "login", "username": self.conn["login"],
                                          "password": self.conn["password"]},
                                    headers={"Accept": "application/json"}) as resp:
                body = await resp.json()
            return body["serverUrl"].removesuffix("/saas"), body["icSessionId"]

        def poll(self, auth: Any, job: str, run_id: str) -> tuple[str, dict[str, str]]:
            pod, session_id = auth
            return f"{pod}/active-bpel/services/tf/status/{quote(run_id, safe='')}", {"INFA-SESSION-ID": session_id}

        def done(self, body: Any) -> bool:
            return str(body.get("status")).upper() in self.terminal

    class CDataWire(VendorWire):
        """A run's history entry (`GET /api.rsc/v2/jobs/<job>/history/<id>`), with the auth token header."""

        terminal = frozenset({"successful", "failed", "cancelled", "completed with warnings", "warning"})

        def poll(self, auth: Any, job: str, run_id: str) -> tuple[str, dict[str, str]]:
            return (f"{self.host}/v2/jobs/{quote(job, safe='')}/history/{quote(run_id, safe='')}",
                    {"x-cdata-authtoken": self.conn["password"]})

        def done(self, body: Any) -> bool:
            return str(body.get("status")).lower() in self.terminal

    return {"informatica": InformaticaWire, "cdata_sync": CDataWire}


def client(argv: list[str]) -> int:
    import bench_clients

    for vendor, wire in _wires().items():
        bench_clients.WIRES.setdefault(vendor, wire)
    if os.environ.get("PERCALL_FREEZE"):  # for digging: what the collector's walks of Airflow's heap cost ours
        import gc

        warm_up = bench_clients.warm_up

        async def frozen(waits: list[dict[str, Any]]) -> None:
            await warm_up(waits)
            gc.collect()
            gc.freeze()

        bench_clients.warm_up = frozen
    if os.environ.get("PERCALL_GCLOG"):  # for digging: when each collection ran, how long, of which generation
        import gc

        pauses: list[tuple[float, int, float]] = []
        began = [0.0]

        def record(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                began[0] = time.perf_counter()
            else:
                pauses.append((began[0], info["generation"], time.perf_counter() - began[0]))

        gc.callbacks.append(record)
        try:
            return bench_clients.main(["bench_clients.py", *argv])
        finally:
            with open(argv[1] + ".gc.json", "w") as fh:
                json.dump(pauses, fh)
    return bench_clients.main(["bench_clients.py", *argv])


def log_lines(path: str) -> int:
    """The provider's log lines in a client's output (Airflow 3 writes them through structlog, one a line,
    naming the logger: the wait's state and progress lines are the trigger's)."""
    with open(path, errors="replace") as fh:
        return sum(1 for line in fh if "airflow_provider_jobs" in line and "loc=" in line)


# -- the orchestrator -------------------------------------------------------------------------------
class _InformaticaStarter:
    """What triggerer_scale.start_runs() calls `astart_run(ref)` on: a taskflow started by its name."""

    def __init__(self) -> None:
        from airflow_provider_jobs.hooks.informatica import InformaticaCloudHook

        self.hook = InformaticaCloudHook()

    async def astart_run(self, ref: str) -> Any:
        return await self.hook.astart_run(ref, task_type="TASKFLOW_SERVICE", by="name")

    astart_taskflow = astart_run  # what triggerer_scale.start_runs() calls for Informatica now


def vendor_drivers() -> dict[str, Any]:
    """vendor -> (hook factory with astart_run(ref), operator factory), as triggerer_scale.ACTIVE holds them."""
    import triggerer_scale

    from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook
    from airflow_provider_jobs.operators.cdata_sync import CDataSyncRunJobOperator
    from airflow_provider_jobs.operators.informatica import InformaticaRunTaskOperator

    found = triggerer_scale.provider_vendors(["spectrum", "ocapi", "nexus_ic"])
    found.setdefault("informatica", (_InformaticaStarter, lambda ref, **kw: InformaticaRunTaskOperator(
        informatica_task_type="TASKFLOW_SERVICE", task_name=ref, **kw)))
    found.setdefault("cdata_sync", (CDataSyncHook, lambda ref, **kw: CDataSyncRunJobOperator(job_id=ref, **kw)))
    return found


class Sandbox:
    """triggerer_scale.SandboxProcess, started as `per_call.py --serve` (bench_sandbox with CData Sync)."""

    def __new__(cls) -> Any:
        import triggerer_scale

        class _Process(triggerer_scale.SandboxProcess):
            def __init__(self) -> None:
                self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve"],
                                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
                line = self.proc.stdout.readline().strip() if self.proc.stdout else ""
                if not line.startswith("http"):
                    raise RuntimeError(f"the sandbox did not start (said {line!r})")
                self.url = line

        return _Process()


def run_client(spec_path: str, env: dict[str, str]) -> dict[str, Any]:
    out = spec_path.replace("spec-", "result-")
    log_path = spec_path.replace("spec-", "log-").replace(".json", ".txt")
    cmd = [sys.executable, os.path.abspath(__file__), "--client", spec_path, out]
    if os.environ.get("BENCH_PYSPY"):  # for digging: py-spy's raw (collapsed) stacks of the client
        cmd = ["py-spy", "record", "--format", "raw", "-r", "250", "-o", spec_path.replace(".json", ".spy"), "--", *cmd]
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=900)
    if proc.returncode != 0:
        with open(log_path) as fh:
            raise RuntimeError(f"client {spec_path} failed:\n{fh.read()[-3000:]}")
    with open(out) as fh:
        result = json.load(fh)
    result["log_lines"] = log_lines(log_path)
    return result


def measure(sandbox: Any, spec_path: str, env: dict[str, str]) -> dict[str, Any]:
    """One client; its checks (ours: counted by the triggers; ideal: the HTTP calls the sandbox served)."""
    before = sandbox.get("/_bench/stats")
    r = run_client(spec_path, env)
    after = sandbox.get("/_bench/stats")
    calls = sum(after["requests"].values()) - sum(before["requests"].values())
    calls -= sum(after["logins"].values()) - sum(before["logins"].values())
    r["calls"] = calls
    r["checks"] = r["event_polls"] if r["kind"].startswith("ours") else calls
    r["cpu_ms_per_check"] = 1000.0 * r["cpu_s"] / max(1, r["checks"])
    r["log_lines_per_run"] = r.get("log_lines", 0) / max(1, r["n"])
    return r


def python_per_poll(sandbox: Any, vendor: str, driver: Any, polls: int = 2000) -> float:
    """Microseconds of the provider's own Python per status check, without I/O: one trigger's wait loop driven
    by hand, each HTTP call answered with a recorded answer of the sandbox for a running run (the wait, the
    vendor's read and parsing, the exchange, the JobRun; not aiohttp, the event loop or the collector)."""
    import asyncio
    import copy

    import triggerer_scale

    from airflow_provider_jobs.core import hook as core_hook
    from airflow_provider_jobs.core.http import SharedListing, Transmit
    from airflow_provider_jobs.core.trigger import JobRunTrigger
    from airflow_provider_jobs.core.wait import log_progress, watch

    made = sandbox.post("/_bench/jobs", {"vendor": vendor, "first_index": 900000, "lives": [[0.2, 3600.0, None]]})
    run = asyncio.run(triggerer_scale.start_runs([(vendor, made["jobs"][0])]))[0]
    operator = driver[1](made["jobs"][0], task_id="python_per_poll", poll_interval=1.0, deferrable=True)
    trigger = JobRunTrigger(**json.loads(json.dumps(operator.make_trigger([run], None).serialize()[1])))
    hook = trigger.make_hook()
    answers: list[Any] = []

    async def record() -> None:
        await hook.aload_settings()
        await asyncio.sleep(0.5)  # past the queued step: a running run's answer
        send = hook.async_transport.send

        async def keep(wire: Any, name: str) -> Any:
            answers.append(await send(wire, name))
            return answers[-1]

        hook.async_transport.send = keep  # type: ignore[method-assign]
        await hook.aget_run(run)

    asyncio.run(record())
    answer = answers[-1]
    report = log_progress(logging.getLogger("per_call.python_per_poll"), final=False)

    def drive(n: int) -> None:
        walk = core_hook._Walk(watch(hook, [run], trigger.policy(), report))
        value: Any = None
        while n:
            step, value = hook._next_step(walk, value, None)
            if type(step) is Transmit:
                value = copy.copy(answer)
                value.__dict__.pop("_parsed", None)  # parsed again, as a new answer would be
                n -= 1
            elif type(step) is SharedListing or step is not None:
                value = None

    drive(50)
    best = float("inf")
    for _ in range(3):
        began = time.process_time()
        drive(polls)
        best = min(best, (time.process_time() - began) / polls)
    return best * 1e6


def least_disturbed(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One client's figures from its rounds: noise from the shared machine only ever adds CPU and lag, so the
    round with the least CPU per check, and the least lag max and p99 of any round."""
    best = dict(min(rounds, key=lambda r: r["cpu_ms_per_check"]))
    for key in ("lag_max_ms", "lag_p99_ms"):
        best[key] = min(r[key] for r in rounds)
    best["rounds"] = len(rounds)
    return best


def verdicts(results: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    out = {}
    for vendor, by_kind in results.items():
        ours, ideal, host = by_kind[OURS], by_kind["ideal"], by_kind[HOST]
        cpu = ours["cpu_ms_per_check"] / ideal["cpu_ms_per_check"]
        lag = ours["lag_max_ms"] / max(1e-9, ideal["lag_max_ms"])
        complete = all(k["events"] == k["n"] for k in (ours, ideal, host))
        out[vendor] = {"cpu_ratio": cpu, "lag_ratio": lag, "cpu_met": cpu <= CPU_TARGET and complete,
                       "lag_met": lag <= LAG_TARGET and complete, "complete": complete,
                       "cpu_ratio_host": ours["cpu_ms_per_check"] / host["cpu_ms_per_check"],
                       "lag_ratio_host": ours["lag_max_ms"] / max(1e-9, host["lag_max_ms"])}
    return out


def table(results: dict[str, dict[str, dict[str, Any]]], checks: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| vendor | ours CPU ms/check | ideal CPU ms/check | ratio (<= 1.3) | ours lag max ms | "
             "ideal lag max ms | ratio (<= 2) | ours lag p99 ms | provider Python us/check | checks/run | "
             "log lines/run | events | met | ideal in Airflow CPU ms/check, gc s | ours gc s | ratio to it "
             "(CPU, lag max) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for vendor, by_kind in results.items():
        o, i, h, c = by_kind[OURS], by_kind["ideal"], by_kind[HOST], checks[vendor]
        met = "met" if c["cpu_met"] and c["lag_met"] else "NOT met (" + ", ".join(
            w for w, ok in (("CPU", c["cpu_met"]), ("lag", c["lag_met"]), ("events", c["complete"])) if not ok) + ")"
        lines.append(f"| {NAMES[vendor]} | {o['cpu_ms_per_check']:.3f} | {i['cpu_ms_per_check']:.3f} | "
                     f"{c['cpu_ratio']:.2f}x | {o['lag_max_ms']:.0f} | {i['lag_max_ms']:.0f} | {c['lag_ratio']:.2f}x | "
                     f"{o['lag_p99_ms']:.1f} | {o.get('python_us', float('nan')):.0f} | "
                     f"{o['checks'] / o['n']:.1f} | {o['log_lines_per_run']:.1f} | "
                     f"{o['events']}/{o['n']} | {met} | {h['cpu_ms_per_check']:.3f}, {h['gc_s']:.2f} | "
                     f"{o['gc_s']:.2f} | {c['cpu_ratio_host']:.2f}x, {c['lag_ratio_host']:.2f}x |")
    return lines


def write_report(path: str, info: dict[str, str], args: Any, results: dict[str, Any], checks: dict[str, Any],
                 wall: float) -> None:
    lines = ["# Per-call cost (issue 20, items 1 and 3)", "",
             "Written by `benchmarks/per_call.py` (run by `make bench` after triggerer_scale.py); the numbers below "
             "are from its last whole run.", "", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += [f"- benchmark wall time: {wall:.0f} s", "", "## Setup", "",
              f"- Per vendor, N = {args.n} runs waited on at once in ONE event loop, polling every {args.interval:g} s "
              f"(less up to 10% jitter); each run ends {args.ends[0]:g}-{args.ends[1]:g} s after its client's waits "
              f"are up. Ours and ideal are measured {args.rounds} times each, interleaved (ideal in Airflow once); the "
              "tables show each client's round with the least CPU per check, and the least lag of any round (the "
              "shared machine's noise only adds to either). "
              "Each client runs in its own process against the benchmark sandbox (its own process, on uvloop).",
              "- `ours, own calls`: JobRunTriggers built from the kwargs the vendor's run operator serializes, with "
              "the "
              "connection extra `share_status_reads` off, so every status check is an HTTP call of its own. "
              "`ideal`: bare coroutines over one keep-alive aiohttp session (same pool size), one login per vendor, "
              "a precomputed URL, json.loads and a state check per poll (benchmarks/bench_clients.py). "
              "`ideal in Airflow`: the same bare coroutines in a process that has imported what ours' process "
              "holds (Airflow, its task SDK, the provider's trigger and hook modules): the host's cost to any "
              "client, apart from ours' code. The targets are judged against `ideal`, as the issue sets them; the "
              "ratio to `ideal in Airflow` is shown beside them.",
              "- CPU per check: `time.process_time()` of the client over the whole wait (the triggers' start "
              "included) / status checks (ours: counted by the triggers; ideal: HTTP calls counted by the sandbox). "
              "Lag: a 50 ms ticker in the same loop. Log lines: every line the provider logged at INFO or above "
              "during the wait (state changes and progress among them), per run.",
              "- Targets: CPU per check <= 1.3 x ideal's; lag max <= 2 x ideal's; every wait gets its event.", "",
              "## Results", ""]
    lines += table(results, checks)
    lines += ["", "## Targets", "", "| vendor | CPU per check <= 1.3x ideal | lag max <= 2x ideal |", "|---|---|---|"]
    for vendor, c in checks.items():
        lines.append(f"| {NAMES[vendor]} | {'met' if c['cpu_met'] else 'NOT met'} ({c['cpu_ratio']:.2f}x) | "
                     f"{'met' if c['lag_met'] else 'NOT met'} ({c['lag_ratio']:.2f}x) |")
    lines += ["", "## Before the per-call work (one run, for comparison)", "", BEFORE_TEXT, "",
              "| vendor | CPU ratio | lag max ratio | log lines/run |", "|---|---|---|---|"]
    lines += [f"| {NAMES[v]} | {cpu:.2f}x | {lag:.2f}x | {logs:.1f} |" for v, (cpu, lag, logs) in BEFORE.items()]
    lines += ["", "## Reading the figures", ""] + [f"- {n}" for n in NOTES] + [""]
    with open(path, "w") as fh:
        fh.write("\n".join(lines))


#: The same benchmark (N=1,000, 1 s) run on the code before issue 20 (commit 5d277a0): CPU ratio, lag max ratio,
#: log lines per run, per vendor. Not re-measured: kept for comparison.
BEFORE_TEXT = ("Commit 5d277a0 (before issue 20), the same benchmark at N = 1,000 and 1 s, 2026-12-02, load average "
               "3.2-3.9 (the figures above vary by about 10% between runs).")
BEFORE = {"informatica": (1.47, 5.95, 1.0), "ocapi": (1.55, 0.33, 1.0), "cdata_sync": (2.10, 0.98, 1.0),
          "nexus_ic": (1.61, 48.78, 6.0), "spectrum": (1.41, 3.88, 1.0)}


#: What the profiles behind these figures showed (cProfile and py-spy of the clients, the hand-driven wait loop,
#: the collector's own callbacks; 2026-12-02, load average 2-4 on the 2-core VM): the figures in the tables are
#: re-measured on every run, this text is not.
NOTES = [
    "**What the ratio is made of.** The bare client's whole cost per check (an aiohttp call over a keep-alive "
    "session, the event loop, json.loads) is about 170-200 us here, so 1.3x leaves ~50-60 us for everything "
    "ours adds; it adds ~65-110 us. (1) The provider's own Python per check, measured hot without I/O in the "
    "column `provider Python us/check` (the wait loop, read_run, the vendor's get_run and parsing, exchange "
    "with its auth and retry policy, the request/run objects): 28-57 us. In place, between the event loop's "
    "and aiohttp's work for 1,000 waits, the same code costs about twice that: a hook's aget_run in 1,000 "
    "concurrent loops against the sandbox costs ~58 us more per call than its transport's send of the same "
    "request (NEXUS IC, third pass), where the whole wait loop driven by hand costs 28 us (caches are cold "
    "at each poll). (2) The transport's work beyond the bare call: ~12 us (the query parameters encoded on "
    "every call, a per-request timeout, the answer's headers copied). (3) Coroutine frames between the wait "
    "and aiohttp: ~2 us for four levels (measured; earlier estimated at 20-30 us). (4) The collector: see "
    "the next point.",
    "**The collector's extra time is the host's, not ours'** (third pass, corrects the second): the bare "
    "client in a process that has imported what a triggerer holds (`ideal in Airflow`) runs the collector "
    "as long as ours (~0.24 s per ~9,500 checks, against ~0.07 s outside Airflow): the extra is the walks of "
    "Airflow's ~170,000 objects, which any client in a triggerer pays. The second pass read it as ours' "
    "objects outliving a poll; that was wrong. Yet the bare client in Airflow's process measured 10-20% "
    "less CPU per check than outside it despite that (not understood; allocator state is a guess), so the "
    "ratio to it is the stricter one: 1.7-1.9x where the ratio to `ideal` is 1.4-1.6x.",
    "**Lag.** Ours runs inside Airflow (as a triggerer does): ~170,000 objects from Airflow's imports that "
    "every full collection walks; the bare client's process has none. A full collection in the window pauses "
    "the loop 130-200 ms, and that is ours' lag max when it happens (PERCALL_GCLOG=1 logs each collection); "
    "the bare client in Airflow's process shows the same. With gc.freeze() after the waits' start "
    "(PERCALL_FREEZE=1, a diagnostic only: a provider must not freeze its host's collector) the lag ratio was "
    "0.1-1.1x for NEXUS IC, CData Sync and OCAPI while the CPU ratio did not move (1.45-1.63x)."
    " CData Sync (third pass, PERCALL_GCLOG=1): ours and the bare client in Airflow ran the same collections "
    "(~520 vs ~480 young, 4-5 full); ours' fifth full collection (80 ms: each walks a heap that grows as the "
    "waits start) fell inside the window, which is its lag max of 40-110 ms in some runs and 3-6 ms in others.",
    "**What was cut** (before -> after, same machine): CData Sync's parsing (each history entry indexed once, "
    "key names normalized once per process instead of a regex per key per read: 128 -> ~75 us of Python per "
    "check, CPU ratio 2.10x -> ~1.6x); progress lines (NEXUS IC logged ~6 per run, now 1; its lag p99 151 -> "
    "~30-80 ms); the async driver runs the call and the sleep itself, the loop's session without a coroutine, "
    "plain ids without quote(). The other vendors' ratios moved by less than the run-to-run variation. Then "
    "(second pass): a run's page URL kept per run instead of formatted with four quote() calls on every poll "
    "(Informatica, CData Sync, OCAPI), one JobRun per poll instead of two or three (OCAPI, Spectrum, CData Sync: "
    "the url and carried details given to the constructor, not added by with_()), NEXUS IC's GUID job ids "
    "encoded once (path_segment keeps what it encoded): provider Python per check down ~10-25% for those "
    "vendors (interleaved hand-driven runs; ~5-15 us). A generator level less (the wait calling get_run "
    "directly when it has no listing to share) measured nothing and was not kept. Third pass: the frozen "
    "records of a poll built through their __dict__ (quick_init) and a fresh credential looked up in place: "
    "~5-10 us per call in a 1,000-caller loop; ratios 1.39-1.59x -> 1.37-1.61x, within the noise.",
    "**What would close the gap**: ours builds each request afresh on every poll (the vendor's get_run, then "
    "exchange() applying the credential, joining the URL and describing the call for the transport) and walks "
    "it through one generator per level, so that a rotated credential, a changed status form or a redirect "
    "applies at the next call and the sync and async paths share one body. The bare client sends a URL and "
    "headers computed once. Closing the remaining ~40-60 us means a steady-state fast path that does the same "
    "(a prepared request per run, re-prepared when the credential or form changes; the answer parsed straight "
    "into the run): a second way through every vendor's read, which the design exists to avoid. Not done; "
    "each smaller cut tried in the second pass was worth 5-15 us.",
    "**Informatica under load.** With the machine's load average at 5-6 (other jobs on the 2 cores) the start "
    "of its 1,000 waits stretched to 3-9 s and its lag p99 to 600+ ms, before and after this work alike; at "
    "load 2.2 the same client measured p99 39 ms, max 185 ms (CPU ratio 1.56x). Not understood yet: the "
    "other vendors' clients do not show it under the same load.",
    "The lag max of a 1,000-wait client is one or two samples (a full collection, the start of the waits): the "
    "bare client's varies from ~2 to ~240 ms between runs on this shared VM, so read the lag ratio with the p99; "
    "single runs of the CPU ratio varied by 10-25% (1.35x-1.85x for NEXUS IC in one morning), hence the rounds.",
]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        return serve(argv[1:])
    if argv[:1] == ["--client"]:
        return client(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="concurrent waits per vendor (default 1000)")
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval, seconds (default 1)")
    parser.add_argument("--vendors", help=f"comma-separated, of {', '.join(VENDORS)} (default: all)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measure ours and ideal this many times, interleaved, and keep the least disturbed "
                             "(default 2)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave PER_CALL.md alone")
    args = parser.parse_args(argv)
    args.ends = (4.0, 9.0)
    vendors = args.vendors.split(",") if args.vendors else list(VENDORS)
    started = time.time()

    import triggerer_scale

    tmp, env = triggerer_scale.bench_environment("apj-percall-")
    logging.getLogger("airflow_provider_jobs").setLevel(logging.WARNING)  # the setup's own chatter
    sandbox = Sandbox()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        triggerer_scale.CONNECTIONS.update(sandbox.get("/_bench/connections"))
        for vendor, conn in triggerer_scale.CONNECTIONS.items():
            # the vendor's default connection id (Informatica's is informatica_cloud_default)
            for conn_id in {f"{vendor}_default", DEFAULT_CONN.get(vendor, f"{vendor}_default")}:
                name = f"AIRFLOW_CONN_{conn_id.upper()}"
                os.environ[name] = env[name] = json.dumps(conn)
            # what the clients set the connection from (triggerer_scale.main() fills it for its own vendors)
            triggerer_scale.CONN_ENV[vendor] = f"AIRFLOW_CONN_{DEFAULT_CONN.get(vendor, f'{vendor}_default').upper()}"
        drivers = vendor_drivers()
        info = triggerer_scale.machine()
        print(f"sandbox {sandbox.url}; N={args.n} per vendor, interval {args.interval:g} s; "
              f"load average {info['load average at start']}", flush=True)
        phase = triggerer_scale.Phase(f"per call N={args.n}", args.n, args.interval, args.ends)
        for index, vendor in enumerate(vendors):
            # triggerer_scale.prepare() draws the vendor of each wait from ACTIVE/MIX: one vendor at a time here
            triggerer_scale.ACTIVE.clear()
            triggerer_scale.ACTIVE[vendor] = drivers[vendor]
            triggerer_scale.MIX.setdefault(vendor, 1.0)
            triggerer_scale.FAILED_STATE.setdefault(vendor, {"informatica": "FAILED"}.get(vendor))
            rounds: dict[str, list[dict[str, Any]]] = {}
            # interleaved; the in-Airflow baseline (context for the ratio, not a target) once
            for kind in ["ideal", HOST, OURS] + ["ideal", OURS] * (args.rounds - 1):
                triggerer_scale.reset(sandbox)
                t0 = time.time()
                spec = triggerer_scale.prepare(sandbox, phase, kind, seed=200 + index, tmp=tmp)
                setup = time.time() - t0
                r = measure(sandbox, spec, env)
                rounds.setdefault(kind, []).append(r)
                print(f"{NAMES[vendor]:>12} {kind:>17}: setup {setup:4.1f}s wall {r['wall_s']:4.1f}s "
                      f"cpu/check {r['cpu_ms_per_check']:.3f} ms, checks {r['checks']}, lag p50/p99/max "
                      f"{r['lag_p50_ms']:.0f}/{r['lag_p99_ms']:.0f}/{r['lag_max_ms']:.0f} ms, log lines/run "
                      f"{r['log_lines_per_run']:.1f}, events {r['events']}/{r['n']} {r['statuses']}, "
                      f"gc {r['gc_s']:.2f}s; load {os.getloadavg()[0]:.2f}", flush=True)
            results[vendor] = {kind: least_disturbed(rs) for kind, rs in rounds.items()}
            triggerer_scale.reset(sandbox)
            results[vendor][OURS]["python_us"] = python_per_poll(sandbox, vendor, drivers[vendor])
            print(f"{NAMES[vendor]:>12} provider Python per check, without I/O: "
                  f"{results[vendor][OURS]['python_us']:.0f} us", flush=True)
    finally:
        sandbox.stop()
    checks = verdicts(results)
    print()
    for line in table(results, checks):
        print(line)
    wall = time.time() - started
    print(f"\nper-call benchmark wall time {wall:.0f} s; load average at the end "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if not args.no_write and not args.vendors:
        write_report(os.path.join(HERE, "PER_CALL.md"), info, args, results, checks, wall)
        print("wrote benchmarks/PER_CALL.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
