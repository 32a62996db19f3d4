"""airflow-provider-jobs: start and wait on jobs in five enterprise SaaS tools from Apache Airflow."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

__version__ = "0.1.0"

PACKAGE = "airflow_provider_jobs"

#: (module name, integration name, hook class, docs URL) for each vendor.
VENDORS: tuple[tuple[str, str, str, str], ...] = (
    ("informatica", "Informatica Intelligent Cloud Services", "InformaticaCloudHook",
     "https://docs.informatica.com/integration-cloud/data-integration/current-version/rest-api-reference.html"),
    ("ocapi", "Salesforce B2C Commerce OCAPI", "OcapiHook",
     "https://developer.salesforce.com/docs/commerce/b2c-commerce/references/b2c-commerce-ocapi/jobs.html"),
    ("cdata_sync", "CData Sync", "CDataSyncHook", "https://cdn.cdata.com/help/ASJ/sync/REST-API.htm"),
    ("nexus_ic", "Wood NEXUS IC", "NexusICHook", "https://www.woodplc.com/nexus"),
    ("spectrum", "Datameer Spectrum", "SpectrumHook", "https://datameer.atlassian.net/wiki/spaces/DAS/"),
)


#: sequential_trigger(...): steps of any vendor in Spectrum's plan order (operators/sequence.py).
CHAINS_INTEGRATION = "Cross-vendor job chains"
CHAINS_DOC_URL = "https://datameer.atlassian.net/wiki/spaces/DAS/"


def _present(kind: str, module: str) -> bool:
    return importlib.util.find_spec(f"{PACKAGE}.{kind}.{module}") is not None


def get_provider_info() -> dict[str, Any]:
    """Provider metadata for Airflow's providers manager (entry point `apache_airflow_provider`)."""
    vendors = [v for v in VENDORS if _present("hooks", v[0])]
    connection_types = []
    for module, _, hook_class, _ in vendors:
        form = importlib.import_module(f"{PACKAGE}.connection_forms.{module}").CONNECTION_FORM
        connection_types.append(
            {
                "connection-type": form["connection-type"],
                "hook-class-name": f"{PACKAGE}.hooks.{module}.{hook_class}",
                "hook-name": form["hook-name"],
                "conn-fields": form["conn-fields"],
                "ui-field-behaviour": form["ui-field-behaviour"],
            }
        )

    def modules(kind: str) -> list[dict[str, Any]]:
        return [
            {"integration-name": name, "python-modules": [f"{PACKAGE}.{kind}.{module}"]}
            for module, name, _, _ in vendors
            if _present(kind, module)
        ]

    operators = modules("operators")
    integrations = [
        {"integration-name": name, "external-doc-url": url, "tags": ["service"]} for _, name, _, url in vendors
    ]
    if _present("operators", "sequence"):  # cross-vendor, so an integration of its own
        integrations.append({"integration-name": CHAINS_INTEGRATION, "external-doc-url": CHAINS_DOC_URL,
                             "tags": ["software"]})
        operators.append({"integration-name": CHAINS_INTEGRATION, "python-modules": [f"{PACKAGE}.operators.sequence"]})
    return {
        "package-name": "airflow-provider-jobs",
        "name": "Jobs (Informatica, B2C Commerce, CData Sync, NEXUS IC, Spectrum)",
        "description": "Start jobs in enterprise SaaS tools and wait for them without holding a worker slot.",
        "versions": [__version__],
        "integrations": integrations,
        "hooks": modules("hooks"),
        "operators": operators,
        "sensors": modules("sensors"),
        "triggers": [
            {"integration-name": vendors[0][1] if vendors else "Datameer Spectrum",
             "python-modules": [f"{PACKAGE}.core.trigger"]}
        ],
        "connection-types": connection_types,
        "extra-links": [f"{PACKAGE}.core.operator.JobRunLink"],
    }
