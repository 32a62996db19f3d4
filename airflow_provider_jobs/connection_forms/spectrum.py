"""The Datameer Spectrum connection form (data only: read by get_provider_info without imports)."""

from typing import Any

from airflow_provider_jobs.connection_forms import COMMON_FIELDS, SHARE_STATUS_READS_FIELD

DEFAULT_SEQUENTIAL_TRIGGER_PATH = "/api/job-execution/sequential-trigger"
#: The task's "Vendor job run" link. Datameer documents no address for one job execution's page, so by default
#: the link opens the Spectrum web UI (its File Browser: File > Job details shows the runs); the REST resource
#: /rest/job-execution/job-details/{run_id} is JSON, not a page. A server with a run page sets its own template.
DEFAULT_RUN_URL_TEMPLATE = "{base_url}/"
#: Seconds an ambiguous start's recovery looks for the run it may have made.
DEFAULT_START_VISIBILITY_LAG = 5.0

#: The connection form (Airflow's declarative conn-fields + ui-field-behaviour).
CONNECTION_FORM: dict[str, Any] = {
    "connection-type": "spectrum",
    "hook-name": "Datameer Spectrum",
    "conn-fields": {
        **COMMON_FIELDS,
        "sequential_trigger_path": {
            "label": "Sequential trigger path",
            "description": "Path of the sequential-trigger endpoint (not in the public reference; "
            "default /api/job-execution/sequential-trigger).",
            "schema": {"type": ["string", "null"], "default": DEFAULT_SEQUENTIAL_TRIGGER_PATH},
        },
        "run_url_template": {
            "label": "Run link template",
            "description": "Link shown on the task for a run; {base_url}, {run_id} and {job_id} are filled in. "
            "Default: the Spectrum web UI ({base_url}/; Datameer documents no page address for one run).",
            "schema": {"type": ["string", "null"]},
        },
        "server_timezone": {
            "label": "Server time zone",
            "description": "The IANA time zone of the Spectrum server's clock (its API gives local times without a "
            "zone), e.g. Europe/Berlin. Results carry UTC times. Default UTC.",
            "schema": {"type": ["string", "null"], "default": "UTC"},
        },
        "start_visibility_lag": {
            "label": "Start visibility lag (seconds)",
            "description": "After a trigger whose answer was lost, how long to look for the run it may have made "
            f"before triggering again. Default {DEFAULT_START_VISIBILITY_LAG:g}.",
            "schema": {"type": ["number", "null"], "minimum": 0},
        },
        "share_status_reads": SHARE_STATUS_READS_FIELD,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "extra"],
        "relabeling": {"host": "Server URL", "login": "User", "password": "Password"},
        "placeholders": {"host": "https://spectrum.example.com", "port": "8080", "login": "analyst"},
    },
}

