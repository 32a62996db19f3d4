"""`make demo` / `python -m airflow_provider_jobs.demo [DAG_ID ...]`: the example DAGs against the sandbox.

Starts the sandbox on 127.0.0.1, points every vendor connection at it through AIRFLOW_CONN_* variables, runs
each example DAG (all of them by default) with `airflow dags test` in a new Airflow home, prints each task as
it starts and ends and each vendor job as it is started, then a summary of every run. The Airflow home and
each DAG's full output are kept where the summary says. The example DAGs ship inside the package
(airflow_provider_jobs/example_dags), so this works from an installed wheel too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: The example DAGs, packaged with the provider.
EXAMPLE_DAGS = Path(__file__).resolve().parent / "example_dags"
#: The lines of `airflow dags test` output shown while a DAG runs: tasks starting and ending (Airflow 2.11 and
#: 3.x log these), and the provider's own lines naming the jobs it starts and how each wait ended.
_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
_TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")
_PROVIDER = re.compile(
    r"((?:Started|Following|Adopting) (?:" + "|".join(("spectrum", "informatica", "ocapi", "cdata_sync", "nexus_ic"))
    + r") job .+?|Reattaching to the run .+?|Wait ended \w+: .+?)(?:\s+\[airflow\..*)?$"
)


def example_dag_ids(folder: Path) -> dict[str, Path]:
    """{dag_id: file} of the DAG files in `folder` (their literal dag_id=...). A DAG scheduled by an
    AssetWatcher runs when the vendor's own run ends, not on demand: the demo leaves it out."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.py")):
        text = path.read_text()
        if "AssetWatcher(" in text:
            continue
        for dag_id in re.findall(r"dag_id=[\"']([\w.-]+)[\"']", text):
            found[dag_id] = path
    return found


def _env(home: str, dags_folder: str, sandbox: Any) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": dags_folder,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",  # the task and job lines shown as progress
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
            details = value.get("details") or {}
            job = details.get("job_name") or details.get("template_name") or details.get("task_name") or value["job_id"]
            print(f"{row['task']:<24} {value['vendor']:<12} {str(job)[:30]:<30} "
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


def _run_dag(env: dict[str, str], dag_id: str, log_path: Path) -> int:
    """`airflow dags test`, streaming: its whole output to `log_path`, task progress and job starts to the screen."""
    started = time.time()
    with open(log_path, "w") as log, subprocess.Popen(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, bufsize=1,
    ) as proc:
        task, last = "?", ""
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            stamp = f"{time.time() - started:6.1f}s"
            if match := _TASK_START.search(line):
                task = match.group(1)
                print(f"  {stamp}  {task}: started", flush=True)
            elif match := _TASK_END.search(line):
                print(f"  {stamp}  {match.group(1)}: ended", flush=True)
            elif match := _PROVIDER.search(line.rstrip()):
                text = match.group(1).split(" [airflow.", 1)[0].strip()
                if text != last:  # Airflow 2 prints a task's log line twice
                    print(f"  {stamp}  {task}:   {text[:150]}", flush=True)
                last = text
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dag_ids", nargs="*", help="DAG ids (or example file names) to run; default: all of them")
    parser.add_argument("--dags-folder", default=str(EXAMPLE_DAGS), help="default: the packaged example DAGs")
    parser.add_argument("--home", help="the Airflow home to create (default: a new directory under the temp dir)")
    args = parser.parse_args(argv)

    dags_folder = Path(args.dags_folder).resolve()
    available = example_dag_ids(dags_folder) if dags_folder.is_dir() else {}
    if not available:
        print(f"No example DAGs in {dags_folder}. They ship inside the package (airflow_provider_jobs/example_dags); "
              "give --dags-folder for DAGs of your own.", file=sys.stderr)
        return 2
    stems = {path.stem: dag_id for dag_id, path in available.items()}
    unknown = [d for d in args.dag_ids if d not in available and d not in stems]
    if unknown:
        print(f"Unknown DAG(s) {', '.join(unknown)}; the examples are: {', '.join(available)}", file=sys.stderr)
        return 2
    dag_ids = [stems.get(d, d) for d in args.dag_ids] or list(available)

    from airflow_provider_jobs.sandbox import Sandbox
    from airflow_provider_jobs.sandbox.demo import load_demo_jobs

    home = Path(args.home).resolve() if args.home else Path(tempfile.mkdtemp(prefix="apj-demo-"))
    home.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    with Sandbox() as sandbox:
        load_demo_jobs(sandbox)
        env = _env(str(home), str(dags_folder), sandbox)
        print(f"sandbox: {sandbox.url}  (vendors: {', '.join(sandbox.state.sites)})")
        print(f"airflow home: {home} (SQLite, examples off); DAGs: {dags_folder}")
        print("creating the metadata database ...", flush=True)
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results = []
        for n, dag_id in enumerate(dag_ids, 1):
            print(f"\n[{n}/{len(dag_ids)}] {dag_id} ({available[dag_id].name})", flush=True)
            log_path = home / f"{dag_id}.log"
            started = time.time()
            code = _run_dag(env, dag_id, log_path)
            seconds = time.time() - started
            try:
                summary = _summary(env, dag_id)
            except Exception:
                print(f"  {dag_id} did not run (exit {code}); its output is in {log_path}")
                failures.append(dag_id)
                continue
            results.append((dag_id, summary, seconds))
            if "success" not in summary["state"]:
                failures.append(dag_id)
        for dag_id, summary, seconds in results:
            _print_summary(dag_id, summary, seconds)
        starts = [s for s in sandbox.requests() if s.method == "POST"]
        print(f"\nsandbox served {len(sandbox.requests())} requests ({len(starts)} POST)")
    print(f"\nLogs kept in {home}: <dag_id>.log is each DAG's full `airflow dags test` output; "
          f"the metadata database is {home / 'airflow.db'}.")
    if failures:
        print(f"FAILED: {', '.join(failures)} (see {', '.join(str(home / f'{d}.log') for d in failures)})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
