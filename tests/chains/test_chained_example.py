"""The five-vendor example chain, run through dag.test() against the sandbox's demo jobs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from airflow_provider_jobs.sandbox.demo import load_demo_jobs
from tests.support import run_dag, task_xcom, use_connection

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def test_chained_vendor_jobs_runs_every_vendor_in_plan_order(sandbox, monkeypatch):
    for vendor in sandbox.state.sites:
        use_connection(monkeypatch, sandbox, vendor)
    load_demo_jobs(sandbox)
    dag = load_example("chained_vendor_jobs")
    for task in dag.tasks:  # the demo's cadence, quicker
        if hasattr(task, "poll_interval"):
            task.poll_interval = 0.2
    states = run_dag(dag)
    assert set(states.values()) == {"success"}, states
    plan = task_xcom(dag, states, "nightly.execution_plan")
    assert plan["status"] == "success"
    assert [e["vendor"] for e in plan["execution-plan"]] == [
        "informatica", "informatica", "ocapi", "cdata_sync", "nexus_ic", "spectrum", "spectrum"]
    assert [e["variables"] for e in plan["execution-plan"]] == [True, False, True, False, True, True, True]
    start_routes = {"informatica": r"/api/v2/job$|/active-bpel/rt/", "ocapi": r"/jobs/[^/]+/executions$",
                    "cdata_sync": r"/execute$", "nexus_ic": r"/report/?$", "spectrum": r"/trigger$|sequential-trigger$"}
    starts = {v: len(sandbox.requests(v, "POST", route)) for v, route in start_routes.items()}
    assert starts == {"informatica": 2, "ocapi": 1, "cdata_sync": 1, "nexus_ic": 1, "spectrum": 1}
    # the shared variables arrived through each vendor's own mechanism, the step's own values winning
    ocapi_run = next(iter(sandbox.ocapi.executions.values()))
    names = {p["name"] for p in ocapi_run.parameters}
    assert {"run_date", "region", "ImportFile"} <= names
    spectrum_runs = list(sandbox.spectrum.runs.values())
    assert all(r.attrs["variables"]["region"] == "EU" for r in spectrum_runs)
