"""Connection forms, one module per vendor: plain data, importable without Airflow."""

from typing import Any

#: The TLS field every vendor's connection form has (the core reads it: see ConnectionSettings.verify).
VERIFY_SSL_FIELD: dict[str, Any] = {
    "label": "Verify TLS certificate",
    "description": "Check the server's certificate (https). Turn off only for a server you trust; "
    "or give a CA bundle path in the extra as verify_ssl.",
    "schema": {"type": "boolean", "default": True},
}

#: The field of the vendors whose waits share a listing of active runs (see core/listing.py).
SHARE_STATUS_READS_FIELD: dict[str, Any] = {
    "label": "Share status reads",
    "description": "In the triggerer, let many waits on this connection read their runs' states from one "
    "listing of active runs instead of a call each (a run that ends is still read on its own).",
    "schema": {"type": "boolean", "default": True},
}
