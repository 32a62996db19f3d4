"""Sync path (issue 9 item 4): status calls per second of the sync hook beside a plain requests loop.

    python benchmarks/sync_throughput.py            # starts its own sandbox process
    (triggerer_scale.py calls measure() against the sandbox it already runs)

A worker that waits without deferring polls through `SpectrumHook().get_run(run)`, which reuses the
hook's one keep-alive requests.Session. The reference is the plainest client there is: one
requests.Session, the same GET with the same Basic header, json() and a look at jobStatus.
Both run in this process, one after the other, for the same number of seconds.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.request
from typing import Any


def _post(url: str, body: Any) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"},
                                 method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _loop(call, seconds: float) -> tuple[float, float]:
    """(calls per second, CPU ms per call) of `call` repeated for `seconds`."""
    call()  # warm: the connection is open and the credentials are read
    count, cpu, start = 0, time.process_time(), time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        call()
        count += 1
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return count / wall, 1000.0 * cpu / count


def measure(base_url: str, spectrum_conn: dict[str, Any], seconds: float = 8.0) -> dict[str, Any]:
    import requests

    os.environ["AIRFLOW_CONN_SPECTRUM_DEFAULT"] = json.dumps(spectrum_conn)
    from airflow_provider_jobs.hooks.spectrum import SpectrumHook

    made = _post(base_url + "/_admin/jobs", {"vendor": "spectrum", "job": {"path": "/Bench/sync", "running": 3600}})
    hook = SpectrumHook()
    run = hook.start_run(str(made["file_id"]))

    def provider() -> None:
        fresh = hook.get_run(run)
        assert not fresh.is_terminal

    session = requests.Session()
    url = f"{spectrum_conn['host'].rstrip('/')}/rest/job-execution/job-details/{run.run_id}"
    auth = "Basic " + base64.b64encode(f"{spectrum_conn['login']}:{spectrum_conn['password']}".encode()).decode()

    def plain() -> None:
        resp = session.get(url, headers={"Authorization": auth}, timeout=60)
        resp.raise_for_status()
        assert resp.json()["jobStatus"] == "RUNNING"

    # Alternate, so that a noisy neighbour hurts both alike.
    half = seconds / 2
    p1, pc1 = _loop(provider, half)
    r1, rc1 = _loop(plain, half)
    p2, pc2 = _loop(provider, half)
    r2, rc2 = _loop(plain, half)
    hook_rate, plain_rate = (p1 + p2) / 2, (r1 + r2) / 2
    hook_cpu, plain_cpu = (pc1 + pc2) / 2, (rc1 + rc2) / 2
    hook.close()
    session.close()
    text = (f"sync status calls/s: SpectrumHook.get_run {hook_rate:.0f}/s ({hook_cpu:.3f} ms CPU/call), "
            f"plain requests.Session {plain_rate:.0f}/s ({plain_cpu:.3f} ms CPU/call): "
            f"ratio {hook_rate / plain_rate:.2f}")
    return {"hook_calls_per_s": hook_rate, "plain_calls_per_s": plain_rate, "ratio": hook_rate / plain_rate,
            "hook_cpu_ms": hook_cpu, "plain_cpu_ms": plain_cpu, "text": text}


def markdown(r: dict[str, Any]) -> str:
    """The RESULTS.md section for one measure() result."""
    return "\n".join([
        "One worker thread polling one Spectrum run, back to back, against the same sandbox process:", "",
        "| client | calls per second | client CPU ms per call |", "|---|---|---|",
        f"| `SpectrumHook().get_run(run)` (one keep-alive session) | {r['hook_calls_per_s']:.0f} | "
        f"{r['hook_cpu_ms']:.3f} |",
        f"| plain `requests.Session` loop | {r['plain_calls_per_s']:.0f} | {r['plain_cpu_ms']:.3f} |",
        f"| ratio hook / plain | {r['ratio']:.2f} | {r['hook_cpu_ms'] / r['plain_cpu_ms']:.2f} |",
    ])


def main() -> int:
    import subprocess
    import tempfile

    here = os.path.dirname(os.path.abspath(__file__))
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="apj-bench-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    sys.path.insert(0, os.path.dirname(here))
    proc = subprocess.Popen([sys.executable, os.path.join(here, "bench_sandbox.py")], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip() if proc.stdout else ""
        with urllib.request.urlopen(url + "/_bench/connections", timeout=30) as resp:
            conns = json.loads(resp.read())
        print(measure(url, conns["spectrum"])["text"])
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
