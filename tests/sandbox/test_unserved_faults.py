"""A fault that never fires must not let its test pass: the `jobs_sandbox` fixture fails it at teardown."""

from __future__ import annotations

import requests

pytest_plugins = ["pytester"]

#: The fixtures are opt-in: installing the package does not load them into every pytest session.
OPT_IN = ("-p", "airflow_provider_jobs.sandbox.pytest_plugin")

AUTH = ("airflow", "spectrum-sandbox-password")

INNER = '''
import requests

AUTH = ("airflow", "spectrum-sandbox-password")


def {name}(jobs_sandbox):
    created = requests.post(f"{{jobs_sandbox.url}}/_admin/jobs", json={{"vendor": "spectrum", "job": {{"path": "/J"}}}},
                            timeout=10).json()
    # aimed at /stop, but the test only ever reads the status
    jobs_sandbox.fault("spectrum", r"/stop$", 503, "drop", method="POST"{optional})
    status = requests.get(f"{{jobs_sandbox.url}}/spectrum/api/job-execution/{{created['file_id']}}/status",
                          auth=AUTH, timeout=10)
    assert status.status_code == 200
'''


def test_a_fault_never_served_fails_the_test_that_armed_it(pytester):
    pytester.makepyfile(INNER.format(name="test_aims_wrong", optional=""))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly", *OPT_IN)
    result.assert_outcomes(passed=1, errors=1)  # the call passed; its teardown did not
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_aims_wrong*",
        "*faults armed in the sandbox were never served*",
        "*spectrum POST '/stop$': 2 of 2 fault(s) never served: 503, drop*",
    ])


def test_an_optional_fault_may_go_unserved(pytester):
    pytester.makepyfile(INNER.format(name="test_aims_optional", optional=", optional=True"))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly", *OPT_IN)
    result.assert_outcomes(passed=1)


def test_reset_reports_what_was_left_and_partly_served_rules(sandbox):
    created = sandbox.spectrum.add_file("/Partly")
    sandbox.fault("spectrum", r"/status$", 503, {"kind": "status", "status": 429, "retry_after": "1"})
    sandbox.fault("spectrum", r"/stop$", "drop", optional=True)
    requests.get(f"{sandbox.url}/spectrum/api/job-execution/{created.file_id}/status", auth=AUTH, timeout=10)
    assert sandbox.unserved_faults() == [{"vendor": "spectrum", "path": "/status$", "method": None, "served": 1,
                                          "unserved": ["429 (Retry-After 1)"]}]
    assert sandbox.reset() == [  # the reset reports them, then forgets them
        {"vendor": "spectrum", "path": "/status$", "method": None, "served": 1, "unserved": ["429 (Retry-After 1)"]}]
    assert sandbox.unserved_faults() == [] and sandbox.reset() == []


def test_admin_api_takes_optional_faults_and_its_reset_reports_the_unserved(sandbox):
    base = sandbox.url
    requests.post(f"{base}/_admin/faults", json={"vendor": "spectrum", "path": "/status$", "faults": [503, 502],
                                                 "method": "GET"}, timeout=10)
    requests.post(f"{base}/_admin/faults", json={"vendor": "spectrum", "path": "/stop$", "faults": [500],
                                                 "optional": True}, timeout=10)
    assert requests.get(f"{base}/_admin/faults/unserved", timeout=10).json() == [
        {"vendor": "spectrum", "path": "/status$", "method": "GET", "served": 0, "unserved": ["503", "502"]}]
    answer = requests.post(f"{base}/_admin/reset", timeout=10).json()
    assert answer == {"ok": True, "unserved": [
        {"vendor": "spectrum", "path": "/status$", "method": "GET", "served": 0, "unserved": ["503", "502"]}]}
    assert requests.post(f"{base}/_admin/reset", timeout=10).json() == {"ok": True, "unserved": []}


def test_the_report_names_each_rule_and_counts_repeated_faults():
    from airflow_provider_jobs.sandbox.core import describe_unserved

    assert describe_unserved([
        {"vendor": "ocapi", "path": r"/executions/\d+$", "method": "GET", "served": 1,
         "unserved": ["502", "502", "502", "drop"]},
        {"vendor": "nexus_ic", "path": "/jobStatus", "method": None, "served": 0, "unserved": ["delay:1.5"]},
    ]).splitlines() == [
        r"ocapi GET '/executions/\\d+$': 4 of 5 fault(s) never served: 502 (x3), drop",
        "nexus_ic any method '/jobStatus': 1 of 1 fault(s) never served: delay:1.5",
    ]


def test_the_fixture_is_opt_in(pytester):
    """Installing the package loads nothing into a pytest session that did not ask for the plugin."""
    pytester.makepyfile(INNER.format(name="test_without_plugin", optional=""))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'jobs_sandbox' not found*"])
