"""The provider as Airflow sees it: metadata, CLI, connection forms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import airflow
import jsonschema
import pytest

from airflow_provider_jobs import get_provider_info

AIRFLOW_DIR = Path(airflow.__file__).parent


def test_provider_info_is_valid_against_airflows_schema():
    schema = json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    yaml_schema_path = AIRFLOW_DIR / "provider.yaml.schema.json"
    if yaml_schema_path.exists():  # Airflow 3.2+: check the declarative connection forms too
        conn_schema = json.loads(yaml_schema_path.read_text())["properties"]["connection-types"]
        jsonschema.validate(info["connection-types"], conn_schema)


def test_everything_listed_imports():
    import importlib

    info = get_provider_info()
    for section in ("hooks", "operators", "sensors", "triggers"):
        for item in info[section]:
            for module in item["python-modules"]:
                importlib.import_module(module)
    for conn in info["connection-types"]:
        module, _, cls = conn["hook-class-name"].rpartition(".")
        hook = getattr(importlib.import_module(module), cls)
        assert hook.conn_type == conn["connection-type"]
    for link in info["extra-links"]:
        module, _, cls = link.rpartition(".")
        getattr(importlib.import_module(module), cls)


def _airflow(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AIRFLOW__CORE__UNIT_TEST_MODE": "False"}
    return subprocess.run([sys.executable, "-m", "airflow", *args], capture_output=True, text=True, env=env,
                          timeout=180)


@pytest.mark.slow
def test_airflow_cli_lists_the_provider_and_creates_connections():
    listed = _airflow("providers", "list", "--output", "json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    names = {p["package_name"] for p in json.loads(listed.stdout[listed.stdout.index("["):])}
    assert "airflow-provider-jobs" in names
    created = _airflow("connections", "add", "spectrum_cli", "--conn-type", "spectrum", "--conn-host",
                       "https://spectrum.example.com", "--conn-login", "analyst", "--conn-password", "pw-cli-123")
    assert created.returncode == 0, created.stderr[-2000:]
    got = _airflow("connections", "get", "spectrum_cli", "--output", "json")
    assert got.returncode == 0 and '"conn_type": "spectrum"' in got.stdout.replace("'", '"')


def test_connection_forms_reach_airflow():
    from airflow.providers_manager import ProvidersManager

    pm = ProvidersManager()
    hooks = pm.hooks
    assert "spectrum" in hooks
    widgets = pm.connection_form_widgets
    assert any(key.endswith("sequential_trigger_path") for key in widgets)
    assert pm.field_behaviours["spectrum"]["hidden_fields"] == ["schema", "extra"]


def test_the_package_is_typed_and_licensed():
    import importlib.resources
    import tomllib
    from pathlib import Path

    assert importlib.resources.files("airflow_provider_jobs").joinpath("py.typed").is_file()
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert {"Framework :: Apache Airflow", "Framework :: Apache Airflow :: Provider"} <= set(project["classifiers"])
    assert (Path(__file__).resolve().parents[1] / "LICENSE").read_text().startswith(" " * 30 + "Apache License")


def test_the_cross_vendor_chain_is_an_integration_of_its_own():
    info = get_provider_info()
    assert "Cross-vendor job chains" in {i["integration-name"] for i in info["integrations"]}
    chains = [o for o in info["operators"] if o["integration-name"] == "Cross-vendor job chains"]
    assert chains == [{"integration-name": "Cross-vendor job chains",
                       "python-modules": ["airflow_provider_jobs.operators.sequence"]}]


def test_every_documented_connection_setting_is_in_every_form():
    """The Extra field is hidden, so each setting the README documents for every connection is a form field, from
    one shared definition (connection_forms.COMMON_FIELDS), and so is each vendor's documented extra."""
    import re

    from airflow_provider_jobs.connection_forms import COMMON_FIELDS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme[readme.index("Every connection also understands these settings"):]
    table = table[: table.index("\n\n", table.index("| extra"))]
    documented = set(re.findall(r"^\| `(\w+)`(?: / `(\w+)`)?", table, re.M))
    documented = {name for pair in documented for name in pair if name} - {"share_status_reads"}
    assert documented == set(COMMON_FIELDS)
    vendor_extras = {"spectrum": {"start_visibility_lag", "run_url_template", "share_status_reads"},
                     "ocapi": {"bm_token_url", "scapi_scope", "start_visibility_lag", "share_status_reads"},
                     "nexus_ic": {"session_max_age", "share_status_reads"},
                     "informatica_cloud": {"start_visibility_lag", "share_status_reads"},
                     "cdata_sync": {"clock_skew_tolerance"}}
    for conn in get_provider_info()["connection-types"]:
        fields = conn["conn-fields"]
        assert set(COMMON_FIELDS) <= set(fields), conn["connection-type"]
        assert all(fields[name] is COMMON_FIELDS[name] for name in COMMON_FIELDS)  # one definition, not five
        assert vendor_extras[conn["connection-type"]] <= set(fields)
        assert "extra" in conn["ui-field-behaviour"]["hidden-fields"]
