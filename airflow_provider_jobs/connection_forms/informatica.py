"""The Informatica Cloud connection form (data only: read by get_provider_info without imports)."""

from typing import Any

from airflow_provider_jobs.connection_forms import COMMON_FIELDS, SHARE_STATUS_READS_FIELD

DEFAULT_API_VERSION = "v2"
DEFAULT_SESSION_IDLE_TIMEOUT = 1800
#: Seconds an ambiguous start's recovery looks for the run (a run "can be briefly absent from both" lists).
DEFAULT_START_VISIBILITY_LAG = 20.0
#: The Monitor page a run links to. {pod_url} is the server URL without its /saas suffix.
DEFAULT_MONITOR_URL_TEMPLATE = "{pod_url}/cloudUI/products/monitor/main/RunningJobs/di?taskId={task_id}&runId={run_id}"

#: The connection form (Airflow's declarative conn-fields + ui-field-behaviour).
CONNECTION_FORM: dict[str, Any] = {
    "connection-type": "informatica_cloud",
    "hook-name": "Informatica Intelligent Cloud Services",
    "conn-fields": {
        "api_version": {
            "label": "Login API version",
            "description": "v2 (POST /ma/api/v2/user/login, answers icSessionId and serverUrl) or v3 "
            "(POST /saas/public/core/v3/login, answers a sessionId and baseApiUrl). Both sessions work for "
            "every call this provider makes.",
            "schema": {"type": ["string", "null"], "enum": ["v2", "v3", None], "default": DEFAULT_API_VERSION},
        },
        "region": {
            "label": "Region or POD (instead of the login host)",
            "description": "The login host's region code (us, em, ap: https://dm-<region>.informaticacloud.com), "
            "its prefix for PODs such as dm1-us, dm2-us, dm1-apse, dm1-apau, dm1-em (any dm<digit>-<code>), or "
            "the POD name of the v3 login page (e.g. USW1-1). Leave empty when the Host field is set.",
            "schema": {"type": ["string", "null"]},
        },
        "session_idle_timeout": {
            "label": "Session idle timeout (seconds)",
            "description": "Informatica ends a session unused for 30 minutes; the hook logs in again shortly "
            f"before. Default {DEFAULT_SESSION_IDLE_TIMEOUT}.",
            "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
        },
        "start_visibility_lag": {
            "label": "Start visibility lag (seconds)",
            "description": "After a start whose answer was lost, how long to look in the activity monitor and "
            f"log for the run it may have made before starting again. Default {DEFAULT_START_VISIBILITY_LAG:g}.",
            "schema": {"type": ["number", "null"], "minimum": 0},
        },
        "monitor_url_template": {
            "label": "Monitor link template",
            "description": "Link shown on the task for a run; {pod_url}, {server_url}, {task_id}, {run_id}, "
            "{task_type} and {job} are filled in.",
            "schema": {"type": ["string", "null"]},
        },
        "share_status_reads": SHARE_STATUS_READS_FIELD,
        **COMMON_FIELDS,
    },
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "extra"],
        "relabeling": {"host": "Login host", "login": "User name", "password": "Password"},
        "placeholders": {"host": "https://dm-us.informaticacloud.com", "login": "integration.user"},
    },
}
