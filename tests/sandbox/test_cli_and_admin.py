"""The sandbox as users drive it: the CLI, the admin HTTP API, and fault injection."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests


def test_cli_prints_its_url_and_connections_then_serves():
    proc = subprocess.Popen([sys.executable, "-m", "airflow_provider_jobs.sandbox", "--port", "0", "--demo-jobs",
                             "--print-connections"], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        export = proc.stdout.readline()
        assert export.startswith("export AIRFLOW_CONN_")
        index = requests.get(url + "/", timeout=10).json()
        assert "spectrum" in index["vendors"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_admin_api_adds_jobs_injects_faults_and_lists_requests(sandbox):
    base = sandbox.url
    created = requests.post(f"{base}/_admin/jobs", json={"vendor": "spectrum", "job": {"path": "/Admin/Job"}},
                            timeout=10).json()
    assert created["path"] == "/Admin/Job"
    requests.post(f"{base}/_admin/faults", json={"vendor": "spectrum", "path": "/status$", "faults": [503]},
                  timeout=10)
    auth = ("airflow", "spectrum-sandbox-password")
    first = requests.get(f"{base}/spectrum/api/job-execution/{created['file_id']}/status", auth=auth, timeout=10)
    second = requests.get(f"{base}/spectrum/api/job-execution/{created['file_id']}/status", auth=auth, timeout=10)
    assert (first.status_code, second.status_code) == (503, 200)
    log = requests.get(f"{base}/_admin/requests", params={"vendor": "spectrum"}, timeout=10).json()
    assert [(r["method"], r["status"], r["fault"]) for r in log] == [("GET", 503, "status"), ("GET", 200, None)]
    requests.post(f"{base}/_admin/reset", timeout=10)
    assert json.loads(requests.get(f"{base}/_admin/requests", timeout=10).text) == []


@pytest.mark.parametrize(("route", "body", "field", "problem"), [
    ("jobs", {"vendor": "spectrum", "job": {"final": "COMPLETED"}}, "job.path", "is missing"),
    ("jobs", {"vendor": "spectrum", "job": "/Sales/Report"}, "job", "is a str, not a JSON object"),
    ("jobs", {"job": {"path": "/X"}}, "vendor", "is missing"),
    ("jobs", ["not", "an", "object"], "body", "is a JSON list; send a JSON object"),
    ("jobs", {"vendor": "spectrum", "job": {"path": "/X", "steps": 5}}, "job", "has a field of the wrong shape"),
    ("faults", {"vendor": "spectrum", "path": "/status$"}, "faults", "is missing"),
    ("faults", {"vendor": "nobody", "path": "/x", "faults": [503]}, "vendor", "'nobody' is not one of"),
])
def test_a_malformed_admin_body_is_a_400_naming_the_field(sandbox, route, body, field, problem):
    answer = requests.post(f"{sandbox.url}/_admin/{route}", json=body, timeout=10)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field and answer.json()["error"].startswith(f"{field}: {problem}")


def test_an_admin_body_that_is_not_json_is_a_400(sandbox):
    answer = requests.post(f"{sandbox.url}/_admin/jobs", data=b"{oops", timeout=10)
    assert answer.status_code == 400 and answer.json()["error"] == "body: is not JSON; send a JSON object"
