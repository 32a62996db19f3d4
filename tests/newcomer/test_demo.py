"""`make demo` / `python -m airflow_provider_jobs.demo`: every example DAG by default, progress, logs kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_jobs.demo import EXAMPLE_DAGS, example_dag_ids, main

REPO = Path(__file__).resolve().parents[2]


def test_every_example_dag_is_packaged_and_found():
    found = example_dag_ids(EXAMPLE_DAGS)
    assert set(found) == {"cdata_sync_example", "chained_vendor_jobs", "informatica_example", "nexus_ic_example",
                          "ocapi_example", "spectrum_example"}
    # example_dags/ at the top of the repository is the same folder (make e2e and the docs use it)
    assert (REPO / "example_dags").resolve() == EXAMPLE_DAGS


def test_an_unknown_dag_is_refused_naming_the_examples(capsys):
    assert main(["no_such_dag"]) == 2
    err = capsys.readouterr().err
    assert "Unknown DAG(s) no_such_dag; the examples are: cdata_sync_example, chained_vendor_jobs" in err


def test_a_folder_without_dags_says_where_they_ship(tmp_path, capsys):
    assert main(["--dags-folder", str(tmp_path)]) == 2
    assert "They ship inside the package (airflow_provider_jobs/example_dags)" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_demo_shows_progress_and_keeps_its_logs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    proc = subprocess.run([sys.executable, "-m", "airflow_provider_jobs.demo", "--home", str(tmp_path / "home"),
                           "spectrum"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=280)
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-3000:]
    assert "daily_report: started" in out and "daily_report: ended" in out
    assert "daily_report:   Started spectrum job '/Sales/Daily Report' run" in out
    assert "== spectrum_example: success" in out
    log = tmp_path / "home" / "spectrum_example.log"
    assert f"Logs kept in {tmp_path / 'home'}" in out and "[DAG TEST] end task" in log.read_text()
