"""`make demo`: the example DAGs against the sandbox, in a throwaway Airflow home.

Starts the sandbox on 127.0.0.1, points every vendor connection at it through AIRFLOW_CONN_*
variables, runs each DAG with `airflow dags test`, and prints what ran.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_DAGS = ("chained_vendor_jobs",)


def _env(home: str, dags_folder: str, sandbox: Any) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": dags_folder,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    })
    for vendor in sandbox.state.sites:
        name, value = sandbox.connection_env(vendor)
        env[name] = value
    return env


def _summary(env: dict[str, str], dag_id: str) -> dict[str, Any]:
    """Each task's JobRun(s) from the last DAG run, read in a child process (its own Airflow home)."""
    code = f"""
import json
from airflow.models import DagRun, TaskInstance
from airflow.utils.session import create_session
try:
    from airflow.models.xcom import XComModel as XCom
except ImportError:
    from airflow.models import XCom
with create_session() as s:
    dr = s.query(DagRun).filter(DagRun.dag_id == {dag_id!r}).order_by(DagRun.id.desc()).first()
    rows = []
    for ti in s.query(TaskInstance).filter(TaskInstance.dag_id == dr.dag_id, TaskInstance.run_id == dr.run_id):
        x = s.query(XCom).filter(XCom.dag_id == dr.dag_id, XCom.run_id == dr.run_id, XCom.task_id == ti.task_id,
                                 XCom.key == "return_value").first()
        value = x.value if x is not None else None
        if isinstance(value, (bytes, str)):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        rows.append({{"task": ti.task_id, "state": str(ti.state), "duration": ti.duration, "value": value}})
    print("SUMMARY" + json.dumps({{"state": str(dr.state), "tasks": rows}}, default=str))
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out[out.index("SUMMARY") + 7:])


def _print_summary(dag_id: str, summary: dict[str, Any], seconds: float) -> None:
    print(f"\n== {dag_id}: {summary['state'].split('.')[-1]} in {seconds:.1f}s")
    header = f"{'task':<24} {'vendor':<12} {'job':<30} {'run id':<40} {'state':<22} {'duration':>8}"
    print(header)
    print("-" * len(header))
    plans = []
    for row in sorted(summary["tasks"], key=lambda r: r["task"]):
        value = row["value"]
        duration = f"{row['duration']:.1f}s" if row["duration"] else "-"
        entries = value.get("execution-plan") if isinstance(value, dict) else None
        if entries and all("vendor" in e for e in entries):  # a cross-vendor chain's plan: printed below
            plans.append((row["task"], value))
            continue
        if entries:  # a Spectrum sequential trigger: one line per execution
            for e in entries:
                print(f"{row['task']:<24} {'spectrum':<12} {str(e.get('job-configuration-name'))[:30]:<30} "
                      f"{str(e.get('job-execution-id') or '-'):<40} {str(e.get('state') or '-'):<22} {duration:>8}")
        elif isinstance(value, dict) and "vendor" in value:
            print(f"{row['task']:<24} {value['vendor']:<12} {str(value['job_id'])[:30]:<30} "
                  f"{str(value['run_id']):<40} {value['state']:<22} {duration:>8}")
        else:
            state = row["state"].split(".")[-1]
            print(f"{row['task']:<24} {'':<12} {'':<30} {'':<40} {state:<22} {duration:>8}")
    for task, plan in plans:
        print(f"\nExecution plan ({task}): status {plan['status']}")
        header = f"{'#':>2}  {'vendor':<12} {'job':<30} {'trigger':<8} {'run id':<40} {'state':<22} {'variables':<9}"
        print(header)
        print("-" * len(header))
        for n, e in enumerate(plan["execution-plan"], 1):
            print(f"{n:>2}  {e['vendor']:<12} {str(e.get('name'))[:30]:<30} {str(e['trigger']).lower():<8} "
                  f"{str(e.get('run_id') or '-'):<40} {str(e.get('state') or '-'):<22} "
                  f"{'yes' if e.get('variables') else 'no':<9}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dag_ids", nargs="*", help=f"DAGs to run (default: {' '.join(DEFAULT_DAGS)})")
    parser.add_argument("--dags-folder", default=str(Path.cwd() / "example_dags"))
    args = parser.parse_args(argv)

    from airflow_provider_jobs.sandbox import Sandbox
    from airflow_provider_jobs.sandbox.demo import load_demo_jobs

    dags_folder = str(Path(args.dags_folder).resolve())
    available = {p.stem for p in Path(dags_folder).glob("*.py")}
    dag_ids = args.dag_ids or [d for d in DEFAULT_DAGS if d in available] or ["spectrum_example"]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="apj-demo-") as home, Sandbox() as sandbox:
        load_demo_jobs(sandbox)
        env = _env(home, dags_folder, sandbox)
        print(f"sandbox: {sandbox.url}  (vendors: {', '.join(sandbox.state.sites)})")
        print(f"airflow home: {home} (SQLite, examples off)")
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for dag_id in dag_ids:
            started = time.time()
            proc = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", dag_id], env=env,
                                  capture_output=True, text=True)
            seconds = time.time() - started
            log_path = Path(home) / f"{dag_id}.log"
            log_path.write_text(proc.stdout + proc.stderr)
            try:
                summary = _summary(env, dag_id)
            except Exception:
                print(proc.stdout[-3000:], proc.stderr[-3000:])
                failures += 1
                continue
            _print_summary(dag_id, summary, seconds)
            if "success" not in summary["state"]:
                failures += 1
                print((proc.stdout + proc.stderr)[-4000:])
        starts = [s for s in sandbox.requests() if s.method == "POST"]
        print(f"\nsandbox served {len(sandbox.requests())} requests ({len(starts)} POST)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
