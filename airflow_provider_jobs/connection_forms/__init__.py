"""Connection forms, one module per vendor: plain data, importable without Airflow.

The settings every vendor's connection understands are defined once here (COMMON_FIELDS) and spread into each
vendor's form, so that every documented connection setting can be set in the UI form (the Extra field stays
hidden: nothing needs it).
"""

from typing import Any

#: The TLS field every vendor's connection form has (the core reads it: see ConnectionSettings.verify).
VERIFY_SSL_FIELD: dict[str, Any] = {
    "label": "Verify TLS certificate",
    "description": "Check the server's certificate (https). Turn off only for a server you trust; to trust a "
    "private CA, keep this on and give the CA bundle path below.",
    "schema": {"type": "boolean", "default": True},
}

#: The field of the vendors whose waits share a listing of active runs (see core/listing.py).
SHARE_STATUS_READS_FIELD: dict[str, Any] = {
    "label": "Share status reads",
    "description": "In the triggerer, let many waits on this connection read their runs' states from one "
    "listing of active runs instead of a call each (a run that ends is still read on its own).",
    "schema": {"type": "boolean", "default": True},
}


def _number(label: str, description: str, minimum: float = 0) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["number", "null"], "minimum": minimum}}


#: Settings the core reads from every vendor's connection (core/hook.py: JobApiHook._configure).
COMMON_FIELDS: dict[str, Any] = {
    "verify_ssl": VERIFY_SSL_FIELD,
    "ca_bundle": {
        "label": "CA bundle path",
        "description": "Path (on the workers and the triggerer) of a PEM CA bundle to verify the server's "
        "certificate with, for a server signed by a private CA. Empty: the system's trusted CAs.",
        "schema": {"type": ["string", "null"]},
    },
    "request_timeout": _number("Request timeout (seconds)", "Total time limit of one HTTP call. Default 60.",
                               minimum=0.001),
    "max_attempts": _number("Attempts per call", "Attempts for a call that fails in a retryable way (connection "
                            "errors, 429, 500, 502, 503, 504; never an unclear start). Default 5.", minimum=1),
    "retry_initial_delay": _number("First retry delay (seconds)", "The backoff starts here and doubles, with "
                                   "jitter; Retry-After wins. Default 1."),
    "retry_max_delay": _number("Longest retry delay (seconds)", "The backoff's cap. Default 30."),
    "max_response_bytes": _number("Largest answer (bytes)", "An answer larger than this is an error. Default "
                                  "8388608 (8 MiB)."),
}
