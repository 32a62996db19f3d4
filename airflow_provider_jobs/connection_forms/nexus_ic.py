"""The Wood NEXUS IC (IC-Web) connection form (data only: read by get_provider_info without imports)."""

from typing import Any

from airflow_provider_jobs.connection_forms import COMMON_FIELDS, SHARE_STATUS_READS_FIELD

DEFAULT_API_VERSION = "6.9"
DEFAULT_MAX_PAUSED_SECONDS = 3600
DEFAULT_SESSION_IDLE_TIMEOUT = 600
DEFAULT_SESSION_MAX_AGE = 3600
#: Report_Template rows are keyed RT_ID (pynexusic reads rows[0]["RT_ID"]).
DEFAULT_TEMPLATE_KEY_FIELD = "RT_ID"
#: How a job is read: "path" (jobStatus/{id}, IC-Web 6.9+) or "query" (jobStatus?id=, up to 6.8).
JOB_STATUS_FORMS = ("path", "query")

#: The connection form (Airflow's declarative conn-fields + ui-field-behaviour).
CONNECTION_FORM: dict[str, Any] = {
    "connection-type": "nexus_ic",
    "hook-name": "Wood NEXUS IC",
    "conn-fields": {
        "api_version": {
            "label": "IC-Web version",
            "description": "The server's NEXUS IC version, e.g. 6.8 or 6.9. Up to 6.8 the login is a GET and "
            "job status is read with jobStatus?id=; from 6.9 the login is a POST, jobStatus/{id}, and "
            "jobStatus without an id lists the user's jobs.",
            "schema": {"type": ["string", "null"], "default": DEFAULT_API_VERSION},
        },
        "auth_type": {
            "label": "Authentication",
            "description": "basic: user name and password; apikey: the API key in the Password field.",
            "schema": {"type": ["string", "null"], "enum": ["basic", "apikey", None], "default": "basic"},
        },
        "max_paused_seconds": {
            "label": "Longest pause (seconds)",
            "description": "How long a job may stay paused (status 6) before the wait fails; 0 = no limit. "
            f"Default {DEFAULT_MAX_PAUSED_SECONDS}.",
            "schema": {"type": ["number", "null"], "minimum": 0},
        },
        "session_idle_timeout": {
            "label": "Session idle timeout (seconds)",
            "description": "The server drops a login hash unused for this long; the hook logs in again "
            f"before. Default {DEFAULT_SESSION_IDLE_TIMEOUT}.",
            "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
        },
        "session_max_age": {
            "label": "Session maximum age (seconds)",
            "description": "A new login after this long in any case. "
            f"Default {DEFAULT_SESSION_MAX_AGE}.",
            "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
        },
        "job_status_form": {
            "label": "Job status form",
            "description": "path: jobStatus/{id} (IC-Web 6.9+); query: jobStatus?id= (up to 6.8). Default: "
            "from the IC-Web version; the hook switches to the other form if the server does not know the "
            "one it tried.",
            "schema": {"type": ["string", "null"], "enum": [*JOB_STATUS_FORMS, None]},
        },
        "template_key_field": {
            "label": "Report template key field",
            "description": "Field of the Report_Template business object holding its key (used to find a "
            f"template by name; default {DEFAULT_TEMPLATE_KEY_FIELD}).",
            "schema": {"type": ["string", "null"], "default": DEFAULT_TEMPLATE_KEY_FIELD},
        },
        "share_status_reads": SHARE_STATUS_READS_FIELD,
        **COMMON_FIELDS,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "extra"],
        "relabeling": {"host": "IC-Web URL (…/data/icweb.dll hosted, …/icweb.dll on premises)",
                       "login": "User (basic)", "password": "Password or API key"},
        "placeholders": {
            "host": "https://nexus.example.com/data/icweb.dll",
            "login": "inspector",
        },
    },
}
