"""Test setup: a throwaway AIRFLOW_HOME with SQLite, created before Airflow is imported."""

from __future__ import annotations

import importlib.metadata
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
