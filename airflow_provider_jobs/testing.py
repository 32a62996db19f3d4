"""pytest plugin for users of the provider: run your own DAGs end to end against the vendor sandbox.

Opt in (it is not loaded by merely installing the package), in your top-level ``conftest.py``::

    pytest_plugins = ["airflow_provider_jobs.testing"]

or on the command line: ``pytest -p airflow_provider_jobs.testing``.

What it gives:

* a throwaway Airflow home with a SQLite metadata database, set up when the plugin is imported (so before
  Airflow is: declare ``pytest_plugins`` before your conftest imports Airflow) and created on first use;
* ``jobs_sandbox``: the sandbox (one server per session), reset for each test; a test that arms a fault which
  is never served fails (``optional=True`` for a fault the scenario may not reach);
* ``jobs_connections``: every vendor's default connection (``spectrum_default``, ...) pointed at the sandbox;
* ``run_jobs_dag(dag_or_file, dag_id=None)``: runs a DAG object, or a DAG from a DAG file, with
  ``dag.test()`` on Airflow 2.11 and 3.x (on 3.x it is serialized to the database first, as the scheduler
  would), and returns a :class:`DagRunResult` (task states and XComs).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_jobs.sandbox.pytest_plugin import (  # noqa: F401 - fixtures and hook of this plugin
    jobs_sandbox,
    jobs_sandbox_server,
    pytest_runtest_makereport,
)

#: Set to 1 to keep the Airflow configuration of the environment (AIRFLOW_HOME and its database) instead.
KEEP_HOME_ENV = "AIRFLOW_PROVIDER_JOBS_KEEP_AIRFLOW_HOME"
_OWN_HOME: str | None = None


def use_throwaway_airflow_home() -> str | None:
    """Point Airflow at a new temporary home with a SQLite database; None when that cannot be done safely
    (Airflow already imported, or KEEP_HOME_ENV set)."""
    global _OWN_HOME
    if _OWN_HOME is not None:
        return _OWN_HOME
    if os.environ.get(KEEP_HOME_ENV) == "1" or "airflow" in sys.modules:
        return None
    home = tempfile.mkdtemp(prefix="apj-airflow-home-")
    os.environ.update({
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": os.path.join(home, "dags"),
    })
    os.makedirs(os.environ["AIRFLOW__CORE__DAGS_FOLDER"], exist_ok=True)
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
    if importlib.metadata.version("apache-airflow").startswith("2."):
        # Airflow 2 refuses SQLite with its LocalExecutor; dag.test() runs tasks in-process anyway.
        os.environ["AIRFLOW__CORE__EXECUTOR"] = "SequentialExecutor"
    _OWN_HOME = home
    return home


use_throwaway_airflow_home()


@pytest.fixture(scope="session")
def jobs_airflow_db() -> Iterator[str]:
    """The throwaway Airflow home, with its metadata database created (once per session)."""
    if _OWN_HOME is None and os.environ.get(KEEP_HOME_ENV) != "1":
        pytest.fail(
            "airflow_provider_jobs.testing was loaded after Airflow was imported, so it could not give the tests "
            "a throwaway Airflow home (and will not reset the database Airflow is configured with). Load it "
            "first: `pytest -p airflow_provider_jobs.testing`, or `pytest_plugins = [\"airflow_provider_jobs."
            f"testing\"]` before any Airflow import in your conftest.py; or set {KEEP_HOME_ENV}=1 to use (and "
            "reset) the configured database.", pytrace=False)
    from airflow.utils import db

    if hasattr(db, "resetdb"):
        db.resetdb()
    else:  # pragma: no cover
        db.initdb()
    yield os.environ["AIRFLOW_HOME"]


@pytest.fixture
def jobs_connections(jobs_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:  # noqa: F811
    """Every vendor's default connection pointed at the sandbox (a connection the test set itself is kept).

    Returns {vendor: conn_id}.
    """
    from airflow_provider_jobs.core.auth import credential_cache

    ids = {}
    for vendor in jobs_sandbox.state.sites:
        name, value = jobs_sandbox.connection_env(vendor)
        if name not in os.environ:
            monkeypatch.setenv(name, value)
        ids[vendor] = name[len("AIRFLOW_CONN_"):].lower()
    credential_cache.clear()  # the sandbox forgot its sessions when it was reset
    return ids


@dataclass
class DagRunResult:
    """How a DAG run ended: `state` of the run, `states` {task_id: "success" | "failed" | ...}."""

    dag_id: str
    run_id: str
    state: str
    states: dict[str, str]

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        """An XCom of a task of this run (None when it pushed none)."""
        from airflow.utils.session import create_session

        from airflow_provider_jobs.core.compat import AIRFLOW_V3

        if AIRFLOW_V3:
            from airflow.models.xcom import XComModel as XCom
        else:  # pragma: no cover
            from airflow.models import XCom
        with create_session() as session:
            row = (session.query(XCom).filter(XCom.dag_id == self.dag_id, XCom.run_id == self.run_id,
                                              XCom.task_id == task_id, XCom.key == key).first())
            value = None if row is None else row.value
        if isinstance(value, (bytes, str)):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        return value


def load_dag(dag_file: str | os.PathLike[str], dag_id: str | None = None) -> Any:
    """The DAG `dag_id` of a DAG file (its only DAG when not given); import errors are raised, not swallowed."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    path = Path(dag_file).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"DAG file {path} does not exist")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bag = DagBag(dag_folder=str(path))
    if bag.import_errors:
        raise RuntimeError(f"{path} does not import:\n" + "\n".join(bag.import_errors.values()))
    if dag_id is None:
        if len(bag.dags) != 1:
            raise ValueError(f"{path} defines {len(bag.dags)} DAGs ({', '.join(sorted(bag.dags))}): give dag_id")
        (dag_id,) = bag.dags
    if dag_id not in bag.dags:
        raise KeyError(f"{path} has no DAG {dag_id!r}; it defines {', '.join(sorted(bag.dags)) or 'none'}")
    return bag.dags[dag_id]


def register_dag(dag: Any) -> None:
    """Airflow 3 runs only serialized DAGs: write the DAG to the metadata database (nothing to do on 2.x)."""
    from airflow_provider_jobs.core.compat import AIRFLOW_V3

    if not AIRFLOW_V3:  # pragma: no cover
        return
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)


def run_dag(dag_or_file: Any, dag_id: str | None = None) -> DagRunResult:
    """Run a DAG (object, or from a DAG file) once with dag.test(); the run's state and each task's state."""
    dag = load_dag(dag_or_file, dag_id) if isinstance(dag_or_file, (str, os.PathLike)) else dag_or_file
    register_dag(dag)
    dr = dag.test()
    states = {ti.task_id: str(ti.state).split(".")[-1].lower() for ti in dr.get_task_instances()}
    return DagRunResult(dag.dag_id, dr.run_id, str(dr.state).split(".")[-1].lower(), states)


@pytest.fixture
def run_jobs_dag(jobs_airflow_db: str, jobs_connections: dict[str, str]) -> Callable[..., DagRunResult]:
    """`run_jobs_dag(dag_or_file, dag_id=None)`: run a DAG end to end against the sandbox (see run_dag)."""
    return run_dag
