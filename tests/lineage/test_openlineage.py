"""OpenLineage: real DAG runs with Airflow's OpenLineage provider (file transport, tests/conftest.py), asserting on
the events it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("airflow.providers.openlineage", reason="the [openlineage] extra is not installed")

from airflow_provider_jobs.core import lineage
from tests.support import make_dag, run_dag, task_xcom, use_connection

EVENTS = Path(json.loads(os.environ["AIRFLOW__OPENLINEAGE__TRANSPORT"])["log_file_path"])  # tests/conftest.py
FAST = {"poll_interval": 0.1}


def lineage_dag(dag_id: str):
    from airflow.providers.openlineage.utils.selective_enable import enable_lineage

    return enable_lineage(make_dag(dag_id))


def events_of(dag_id: str, task_id: str) -> list[dict]:
    """Every event the provider wrote for one task of a DAG, in order."""
    if not EVENTS.exists():
        return []
    out = []
    for line in EVENTS.read_text().splitlines():
        event = json.loads(line)
        if event["job"]["name"] == f"{dag_id}.{task_id}":
            out.append(event)
    return out


def final_event(dag_id: str, task_id: str) -> dict:
    ends = [e for e in events_of(dag_id, task_id) if e["eventType"] in ("COMPLETE", "FAIL")]
    assert ends, f"no COMPLETE/FAIL event for {dag_id}.{task_id}"
    return ends[-1]


def validator(definition: str = "VendorJobRunFacet"):
    """The shipped schema (its OpenLineage base RunFacet left out: checked by the client) as a validator."""
    import jsonschema

    doc = lineage.schema()
    for d in doc["$defs"].values():
        if "allOf" in d:
            d["allOf"] = [part for part in d["allOf"] if not part.get("$ref", "").startswith("https://")]
    return jsonschema.Draft202012Validator({**doc, "$ref": f"#/$defs/{definition}"})


def check_facet(facet: dict, definition: str = "VendorJobRunFacet") -> None:
    validator(definition).validate(facet)
    assert facet["_schemaURL"].startswith(lineage.schema()["$id"] + "#/$defs/" + definition)


def test_cdata_sync_run_names_its_tables_and_counts_rows(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "cdata_sync")
    sandbox.cdata_sync.add_job("CRM to Warehouse", [
        {"query": "REPLICATE [Accounts] SELECT * FROM [Account]", "records": 10},
        {"query": "REPLICATE [Leads]", "records": 5},
    ], source="Salesforce", destination="Snowflake")
    from airflow_provider_jobs.operators.cdata_sync import CDataSyncRunJobOperator

    dag = lineage_dag("ol_cdata")
    with dag:
        CDataSyncRunJobOperator(task_id="sync", job_name="CRM to Warehouse", deferrable=True, **FAST)
    assert run_dag(dag) == {"sync": "success"}
    run_id = task_xcom(dag, None, "sync", "run_id")

    start = events_of("ol_cdata", "sync")[0]
    assert start["eventType"] == "START"
    assert start["run"]["facets"]["vendorJobRun"]["jobId"] == "CRM to Warehouse"
    event = final_event("ol_cdata", "sync")
    assert event["eventType"] == "COMPLETE"
    facet = event["run"]["facets"]["vendorJobRun"]
    check_facet(facet)
    assert (facet["vendor"], facet["runId"], facet["state"]) == ("cdata_sync", run_id, "SUCCESS")
    assert facet["counters"] == {"rowsWritten": 15}
    assert facet["namespace"] == f"cdata-sync://{sandbox.url.split('://')[1]}"
    assert event["run"]["facets"]["externalQuery"]["externalQueryId"] == run_id
    ns = facet["namespace"]
    assert {(d["namespace"], d["name"]) for d in event["inputs"]} == {
        (f"{ns}/Salesforce", "Account"), (f"{ns}/Salesforce", "Leads")}
    assert {(d["namespace"], d["name"], d["outputFacets"]["outputStatistics"]["rowCount"])
            for d in event["outputs"]} == {(f"{ns}/Snowflake", "Accounts", 10), (f"{ns}/Snowflake", "Leads", 5)}


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "worker"])
def test_failed_informatica_run_gives_the_vendor_error_and_row_counters(sandbox, monkeypatch, deferrable):
    use_connection(monkeypatch, sandbox, "informatica")
    sandbox.informatica.add_task("Load Customers", final="3", running=0.4)
    from airflow_provider_jobs.operators.informatica import InformaticaRunTaskOperator

    dag = lineage_dag(f"ol_iics_{deferrable}")
    with dag:
        InformaticaRunTaskOperator(task_id="load", informatica_task_type="MTT", task_name="Load Customers",
                                   deferrable=deferrable, **FAST)
    assert run_dag(dag) == {"load": "failed"}
    event = final_event(dag.dag_id, "load")
    assert event["eventType"] == "FAIL"
    facet = event["run"]["facets"]["vendorJobRun"]
    check_facet(facet)
    assert facet["vendor"] == "informatica" and facet["state"] == "FAILED"
    assert facet["runId"] == task_xcom(dag, None, "load", "run_id")
    assert "Invalid object name" in facet["message"]
    assert facet["counters"]["rowsRead"] == 50 and facet["counters"]["rowsWritten"] == 0
    assert event["run"]["facets"]["errorMessage"]["message"]
    assert [(d["name"]) for d in event["inputs"]] == ["dbo.Customers"]


def test_spectrum_file_is_the_output_and_b2c_import_file_the_input(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    use_connection(monkeypatch, sandbox, "ocapi")
    sandbox.spectrum.add_file("/Sales/Daily Report", running=0.2)
    sandbox.ocapi.add_job("CustomerImportJob", running=0.2)
    from airflow_provider_jobs.operators.ocapi import OcapiRunJobOperator
    from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator

    dag = lineage_dag("ol_files")
    with dag:
        SpectrumTriggerJobOperator(task_id="report", file="/Sales/Daily Report", deferrable=True, **FAST)
        OcapiRunJobOperator(task_id="import", job_id="CustomerImportJob", deferrable=False,
                            parameters={"ImportFile": "customers.xml", "Mode": "merge"}, **FAST)
    assert run_dag(dag) == {"report": "success", "import": "success"}

    spectrum = final_event("ol_files", "report")
    facet = spectrum["run"]["facets"]["vendorJobRun"]
    check_facet(facet)
    assert facet["runUrl"] and facet["runId"] == task_xcom(dag, None, "report", "run_id")
    assert [(d["namespace"], d["name"]) for d in spectrum["outputs"]] == [(facet["namespace"], "/Sales/Daily Report")]
    assert spectrum["inputs"] == []

    b2c = final_event("ol_files", "import")
    facet = b2c["run"]["facets"]["vendorJobRun"]
    check_facet(facet)
    assert facet["vendor"] == "ocapi" and facet["state"] == "SUCCESS"
    assert [(d["namespace"], d["name"]) for d in b2c["inputs"]] == [(facet["namespace"], "customers.xml")]
    assert b2c["outputs"] == []


def test_chain_steps_name_the_chain_run_as_their_parent(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, "spectrum")
    use_connection(monkeypatch, sandbox, "nexus_ic")
    sandbox.spectrum.add_file("/Ops/Extract", running=0.1)
    sandbox.nexus_ic.add_template("Inspection Summary", key=12, running=0.1)
    from airflow_provider_jobs.operators.nexus_ic import NexusICRunReportOperator
    from airflow_provider_jobs.operators.sequence import sequential_trigger
    from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator

    dag = lineage_dag("ol_chain")
    with dag:
        extract = SpectrumTriggerJobOperator(task_id="extract", file="/Ops/Extract", deferrable=True, **FAST)
        report = NexusICRunReportOperator(task_id="report", template_name="Inspection Summary", output_type="json",
                                          deferrable=False, **FAST)
        sequential_trigger("nightly", [extract, report])
    states = run_dag(dag)
    assert set(states.values()) == {"success"}

    chains = []
    for position, task_id in enumerate(["extract", "report"]):
        facet = final_event("ol_chain", task_id)["run"]["facets"]["vendorJobRun"]
        check_facet(facet)
        assert facet["chain"]["position"] == position and facet["chain"]["steps"] == 2
        assert facet["chain"]["job"] == {"namespace": "apj-tests", "name": "ol_chain.nightly"}
        chains.append(facet["chain"]["run"]["runId"])
    assert chains[0] == chains[1]
    plan = final_event("ol_chain", "nightly.execution_plan")["run"]["facets"]["vendorJobChain"]
    check_facet(plan, "VendorJobChainRunFacet")
    assert plan["chain"]["run"]["runId"] == chains[0]
    assert [(s["vendor"], s["state"]) for s in plan["steps"]] == [("spectrum", "SUCCESS"), ("nexus_ic", "SUCCESS")]
    nexus = final_event("ol_chain", "report")["run"]["facets"]["vendorJobRun"]
    assert nexus["vendor"] == "nexus_ic" and nexus["runId"] == task_xcom(dag, None, "report", "run_id")


@pytest.mark.timeout(240)
def test_without_the_provider_nothing_of_openlineage_is_imported_and_dags_run(sandbox, tmp_path):
    """The provider made unimportable (as when the extra is absent): the package imports and a DAG runs, and
    no OpenLineage module was ever imported."""
    name, value = sandbox.connection_env("spectrum", None, extra={})
    sandbox.spectrum.add_file("/Sales/Daily Report", running=0.1)
    script = textwrap.dedent(f"""
        import os, sys, tempfile
        class Absent:
            def find_spec(self, name, path=None, target=None):
                if name == "openlineage" or name.startswith(("openlineage.", "airflow.providers.openlineage")):
                    raise ModuleNotFoundError(name)
        sys.meta_path.insert(0, Absent())
        def hide(md):  # the distributions too, so Airflow's providers manager does not see them
            everything = md.distributions
            md.distributions = lambda **kw: [d for d in everything(**kw)
                                             if "openlineage" not in (d.metadata["Name"] or "").lower()]
        import importlib.metadata
        hide(importlib.metadata)
        try:
            import importlib_metadata  # Airflow 3 reads the backport
            hide(importlib_metadata)
        except ImportError:
            pass
        home = tempfile.mkdtemp(dir={str(tmp_path)!r})
        os.environ.update(AIRFLOW_HOME=home, AIRFLOW__CORE__LOAD_EXAMPLES="False",
                          AIRFLOW__CORE__UNIT_TEST_MODE="True",
                          AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///" + home + "/airflow.db",
                          AIRFLOW__CORE__DAGS_FOLDER=home + "/dags")
        os.makedirs(home + "/dags")
        import importlib.metadata
        if importlib.metadata.version("apache-airflow").startswith("2."):
            os.environ["AIRFLOW__CORE__EXECUTOR"] = "SequentialExecutor"
        os.environ[{name!r}] = {value!r}
        import airflow_provider_jobs.operators.spectrum as spectrum
        import airflow_provider_jobs.operators.sequence, airflow_provider_jobs.core.lineage  # noqa
        from airflow.utils import db
        db.resetdb() if hasattr(db, "resetdb") else db.initdb()
        from tests.support import make_dag, run_dag
        dag = make_dag("no_ol")
        with dag:
            spectrum.SpectrumTriggerJobOperator(task_id="run", file="/Sales/Daily Report", deferrable=False,
                                                poll_interval=0.1)
        assert run_dag(dag) == {{"run": "success"}}, "the DAG did not succeed"
        # (Airflow's own compat shims, e.g. airflow.providers.common.compat.openlineage, are not the provider)
        loaded = sorted(m for m in sys.modules
                        if m.split(".")[0] == "openlineage" or m.startswith("airflow.providers.openlineage"))
        assert not loaded, loaded
        print("OK")
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "OPENLINEAGE"))}
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2], env=env,
                          capture_output=True, text=True, timeout=220)
    assert done.returncode == 0 and done.stdout.strip().endswith("OK"), done.stdout[-3000:] + done.stderr[-3000:]
