"""The CData Sync connection form (data only: read by get_provider_info without imports)."""

from typing import Any

from airflow_provider_jobs.connection_forms import COMMON_FIELDS

DEFAULT_WORKSPACE = "default"
AUTH_STYLES = ("header", "basic")
#: Which REST API the server has: v2 (/api.rsc/v2/..., Sync 25+), v1 (executeJob, getJobStatus, history: every
#: version, the only one before v2), or auto (probe v2 once per connection and process, fall back to v1).
API_VERSIONS = ("auto", "v1", "v2")
DEFAULT_API_VERSION = "auto"
#: Seconds subtracted from the server's clock reading when deciding which history entry is ours.
DEFAULT_CLOCK_SKEW_TOLERANCE = 2.0
#: Link to a job in the Sync admin console (UNCONFIRMED deep link; configurable).
DEFAULT_JOB_URL_TEMPLATE = "{ui_url}/jobs/{job_id}"

#: The connection form (Airflow's declarative conn-fields + ui-field-behaviour).
CONNECTION_FORM: dict[str, Any] = {
    "connection-type": "cdata_sync",
    "hook-name": "CData Sync",
    "conn-fields": {
        "workspace": {
            "label": "Workspace",
            "description": f"Workspace id whose jobs are listed and created (default '{DEFAULT_WORKSPACE}').",
            "schema": {"type": ["string", "null"], "default": DEFAULT_WORKSPACE},
        },
        "auth_style": {
            "label": "Authentication",
            "description": "header: the auth token in the x-cdata-authtoken header (the User may be empty); "
            "basic: HTTP Basic with the User and the auth token as password.",
            "schema": {"type": ["string", "null"], "enum": [*AUTH_STYLES, None], "default": "header"},
        },
        "api_version": {
            "label": "API version",
            "description": "auto (default): probe the v2 job API once and fall back to v1 where the server has no v2 "
            "(before Sync 25); v1: executeJob / getJobStatus / cancelJob / history only (no task management, no "
            "task subsets); v2: /api.rsc/v2 job management.",
            "schema": {"type": ["string", "null"], "enum": [*API_VERSIONS, None], "default": DEFAULT_API_VERSION},
        },
        "clock_skew_tolerance": {
            "label": "Clock tolerance (seconds)",
            "description": "A run is the history entry that started at or after the server's time when the job "
            f"was executed, minus this margin (default {DEFAULT_CLOCK_SKEW_TOLERANCE:g}).",
            "schema": {"type": ["number", "null"], "default": DEFAULT_CLOCK_SKEW_TOLERANCE},
        },
        "ui_url": {
            "label": "Admin console URL",
            "description": "Base URL of the Sync admin console (default: the server URL without /api.rsc).",
            "schema": {"type": ["string", "null"]},
        },
        "job_url_template": {
            "label": "Job link template",
            "description": "Link shown on the task; {ui_url}, {workspace}, {job_id}, {job_name} and "
            f"{{history_id}} are filled in (default {DEFAULT_JOB_URL_TEMPLATE}).",
            "schema": {"type": ["string", "null"]},
        },
        **COMMON_FIELDS,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "extra"],
        "relabeling": {"host": "Server URL (…/api.rsc)", "login": "User", "password": "Auth token"},
        "placeholders": {"host": "https://sync.example.com:8181/api.rsc", "port": "8181", "login": "admin"},
    },
}
