"""Test setup: the provider's own pytest plugin (opt-in, as for users) gives a throwaway AIRFLOW_HOME with SQLite,
set before Airflow is imported, the sandbox fixtures and the DAG runner."""

from __future__ import annotations

import json
import os
import tempfile

import pytest

# OpenLineage (the [openlineage] extra, in the test extra): events go to a file, and only for DAGs a test
# enables with enable_lineage(dag) (tests/lineage), so other DAG runs pay nothing for it. Set before the plugin
# below imports Airflow.
os.environ["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
    {"type": "file", "log_file_path": os.path.join(tempfile.mkdtemp(prefix="apj-lineage-"), "openlineage.jsonl"),
     "append": True})
os.environ["AIRFLOW__OPENLINEAGE__SELECTIVE_ENABLE"] = "True"
os.environ["AIRFLOW__OPENLINEAGE__NAMESPACE"] = "apj-tests"

pytest_plugins = ["airflow_provider_jobs.testing"]

from tests.support import *  # noqa: E402,F403


@pytest.fixture(scope="session", autouse=True)
def airflow_db(jobs_airflow_db):
    """Create the metadata database once (dag.test() needs one)."""
    yield
