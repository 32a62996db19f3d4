"""Test setup: a throwaway AIRFLOW_HOME with SQLite, created before Airflow is imported."""

from __future__ import annotations

import importlib.metadata
import json
import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="apj-airflow-home-")
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = os.path.join(_HOME, "dags")
os.makedirs(os.environ["AIRFLOW__CORE__DAGS_FOLDER"], exist_ok=True)
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
# OpenLineage (the [openlineage] extra, in the test extra): events go to a file, and only for DAGs a test
# enables with enable_lineage(dag) (tests/lineage), so other DAG runs pay nothing for it.
os.environ["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
    {"type": "file", "log_file_path": os.path.join(_HOME, "openlineage.jsonl"), "append": True})
os.environ["AIRFLOW__OPENLINEAGE__SELECTIVE_ENABLE"] = "True"
os.environ["AIRFLOW__OPENLINEAGE__NAMESPACE"] = "apj-tests"
if importlib.metadata.version("apache-airflow").startswith("2."):
    # Airflow 2 refuses SQLite with its LocalExecutor; dag.test() runs tasks in-process anyway.
    os.environ["AIRFLOW__CORE__EXECUTOR"] = "SequentialExecutor"

import pytest  # noqa: E402

from tests.support import *  # noqa: E402,F403


@pytest.fixture(scope="session", autouse=True)
def airflow_db():
    """Create the metadata database once (dag.test() needs one)."""
    from airflow.utils import db

    if hasattr(db, "resetdb"):
        db.resetdb()
    else:  # pragma: no cover
        db.initdb()
    yield
