"""The Salesforce B2C Commerce (OCAPI / SCAPI) connection form (data only: read by get_provider_info)."""

from typing import Any

from airflow_provider_jobs.connection_forms import COMMON_FIELDS, SHARE_STATUS_READS_FIELD

DEFAULT_API_VERSION = "v23_2"
DEFAULT_TOKEN_URL = "https://account.demandware.com/dwsso/oauth2/access_token"
#: The site path in front of /dw/data/ (UNCONFIRMED which instances need it; "" drops it).
DEFAULT_SITE_PREFIX = "/s/-"
DEFAULT_SCAPI_SCOPE = "sfcc.jobs.rw"
#: Link to an execution in Business Manager (UNCONFIRMED deep link; configurable).
DEFAULT_BM_URL_TEMPLATE = (
    "{instance_url}/on/demandware.store/Sites-Site/default/ViewApplication-BM"
    "?SelectedMenuItem=operations&CurrentMenuItemId=operations&screen=job"
    "#/?job#editor!id!{job_id}!config!history!execution!{execution_id}"
)
BACKENDS = ("auto", "ocapi", "scapi")

#: The connection form (Airflow's declarative conn-fields + ui-field-behaviour).
CONNECTION_FORM: dict[str, Any] = {
    "connection-type": "ocapi",
    "hook-name": "Salesforce B2C Commerce (OCAPI / SCAPI jobs)",
    "conn-fields": {
        "api_version": {
            "label": "OCAPI version",
            "description": "Data API version in the URL, e.g. v23_2 (default).",
            "schema": {"type": ["string", "null"], "default": DEFAULT_API_VERSION},
        },
        "token_url": {
            "label": "Token URL",
            "description": "Account Manager token endpoint for the client-credentials grant "
            f"(default {DEFAULT_TOKEN_URL}).",
            "schema": {"type": ["string", "null"]},
        },
        "site_prefix": {
            "label": "Data API site prefix",
            "description": "Path before /dw/data/ (default /s/-; give / to put /dw/data/ at the root).",
            "schema": {"type": ["string", "null"], "default": DEFAULT_SITE_PREFIX},
        },
        "bm_user": {
            "label": "Business Manager user (optional)",
            "description": "Use the Business Manager user grant instead of the client-credentials grant.",
            "schema": {"type": ["string", "null"]},
        },
        "bm_password": {
            "label": "Business Manager password or access key",
            "description": "Password of the Business Manager user (with bm_user).",
            "schema": {"type": ["string", "null"], "format": "password"},
        },
        "bm_token_url": {
            "label": "Business Manager token URL (override)",
            "description": "Token URL of the Business Manager user grant (default <instance>/dw/oauth2/access_token).",
            "schema": {"type": ["string", "null"]},
        },
        "backend": {
            "label": "API",
            "description": "auto (OCAPI, switching to the SCAPI Jobs API when the instance says OCAPI is "
            "deprecated), ocapi, or scapi.",
            "schema": {"type": ["string", "null"], "enum": list(BACKENDS), "default": "auto"},
        },
        "short_code": {
            "label": "SCAPI short code",
            "description": "SCAPI short code (Business Manager > Salesforce Commerce API Settings).",
            "schema": {"type": ["string", "null"]},
        },
        "organization_id": {
            "label": "SCAPI organization id",
            "description": "f_ecom_<realm>_<instance>, e.g. f_ecom_zzxy_prd (or the tenant id zzxy_prd).",
            "schema": {"type": ["string", "null"]},
        },
        "scapi_scope": {
            "label": "SCAPI scope",
            "description": f"SCAPI role scope (default {DEFAULT_SCAPI_SCOPE}); the tenant scope is always added.",
            "schema": {"type": ["string", "null"], "default": DEFAULT_SCAPI_SCOPE},
        },
        "start_visibility_lag": {
            "label": "Start visibility lag (seconds)",
            "description": "After a start whose answer was lost, how long to look for the execution in the job "
            "execution search before starting again. Default 10.",
            "schema": {"type": ["number", "null"], "minimum": 0},
        },
        "scapi_base_url": {
            "label": "SCAPI base URL (override)",
            "description": "Instead of https://<short code>.api.commercecloud.salesforce.com.",
            "schema": {"type": ["string", "null"]},
        },
        "bm_url_template": {
            "label": "Business Manager link template",
            "description": "Link shown on the task, with {instance_url}, {job_id}, {execution_id}.",
            "schema": {"type": ["string", "null"]},
        },
        **COMMON_FIELDS,
        "share_status_reads": SHARE_STATUS_READS_FIELD,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "extra"],
        "relabeling": {"host": "Instance URL", "login": "Client ID", "password": "Client secret"},
        "placeholders": {
            "host": "https://dev01-realm-customer.demandware.net",
            "login": "API client id from Account Manager",
        },
    },
}
