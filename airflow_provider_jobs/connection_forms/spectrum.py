"""The Datameer Spectrum connection form (data only: read by get_provider_info without imports)."""

from typing import Any

from airflow_provider_jobs.connection_forms import SHARE_STATUS_READS_FIELD, VERIFY_SSL_FIELD

DEFAULT_SEQUENTIAL_TRIGGER_PATH = "/api/job-execution/sequential-trigger"

#: The connection form (Airflow's declarative conn-fields + ui-field-behaviour).
CONNECTION_FORM: dict[str, Any] = {
    "connection-type": "spectrum",
    "hook-name": "Datameer Spectrum",
    "conn-fields": {
        "verify_ssl": VERIFY_SSL_FIELD,
        "sequential_trigger_path": {
            "label": "Sequential trigger path",
            "description": "Path of the sequential-trigger endpoint (not in the public reference; "
            "default /api/job-execution/sequential-trigger).",
            "schema": {"type": ["string", "null"], "default": DEFAULT_SEQUENTIAL_TRIGGER_PATH},
        },
        "run_url_template": {
            "label": "Run link template",
            "description": "Link shown on the task for a run; {base_url}, {run_id} and {job_id} are filled in.",
            "schema": {"type": ["string", "null"]},
        },
        "share_status_reads": SHARE_STATUS_READS_FIELD,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "extra"],
        "relabeling": {"host": "Server URL", "login": "User", "password": "Password"},
        "placeholders": {"host": "https://spectrum.example.com", "port": "8080", "login": "analyst"},
    },
}

