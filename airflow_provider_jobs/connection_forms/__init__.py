"""Connection forms, one module per vendor: plain data, importable without Airflow."""

from typing import Any

#: The TLS field every vendor's connection form has (the core reads it: see ConnectionSettings.verify).
VERIFY_SSL_FIELD: dict[str, Any] = {
    "label": "Verify TLS certificate",
    "description": "Check the server's certificate (https). Turn off only for a server you trust; "
    "or give a CA bundle path in the extra as verify_ssl.",
    "schema": {"type": "boolean", "default": True},
}
