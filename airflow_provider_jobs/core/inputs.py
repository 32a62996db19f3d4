"""Checks of DAG-author input, raising ConfigurationError that names the field and the fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, overload

from airflow_provider_jobs.core.errors import ConfigurationError


def is_templated(value: Any) -> bool:
    """True for a string still holding a Jinja expression (checked again after rendering)."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def require_id(field: str, value: Any, *, what: str = "an id") -> str:
    """A non-empty id, kept as a string (64-bit integers stay exact)."""
    if isinstance(value, bool) or value is None:
        raise ConfigurationError(field, f"is {value!r}", f"Give {what} as a string or an integer.")
    if isinstance(value, float):
        raise ConfigurationError(
            field, f"is the float {value!r}", f"Give {what} as a string or an integer (floats lose digits)."
        )
    if not isinstance(value, (str, int)):
        raise ConfigurationError(field, f"is a {type(value).__name__}", f"Give {what} as a string.")
    text = str(value).strip()
    if not text:
        raise ConfigurationError(field, "is empty", f"Give {what}.")
    if text in ("None", "null"):
        raise ConfigurationError(
            field, f"is {text!r}", f"Give {what}; if it comes from a template or XCom, check that the upstream "
            "task pushed a value."
        )
    if any(ch in text for ch in "\r\n\t\0"):
        raise ConfigurationError(field, f"{text!r} contains control characters", f"Give {what} on one line.")
    return text


def require_conn_id(value: Any, default: str) -> str:
    """An Airflow connection id, or `default` (the vendor's) when none is given."""
    conn_id = default if value is None else value
    if not isinstance(conn_id, str) or not conn_id.strip():
        raise ConfigurationError(
            "conn_id", f"is {value!r}", f"Give the id of an Airflow connection, or leave it out to use '{default}'."
        )
    return conn_id


def require_bool(field: str, value: Any) -> bool:
    """A real boolean: "yes", "no", 0 and 1 are refused alike, so no flag means something by accident."""
    if not isinstance(value, bool):
        raise ConfigurationError(field, f"is {value!r}", "Use True or False.")
    return value


def require_choice(field: str, value: Any, allowed: Iterable[str], *, case_insensitive: bool = True) -> str:
    options = list(allowed)
    text = str(value).strip() if value is not None else ""
    for option in options:
        if text == option or (case_insensitive and text.lower() == option.lower()):
            return option
    raise ConfigurationError(field, f"{value!r} is not one of {', '.join(options)}", "Use one of those values.")


@overload
def optional_seconds(field: str, value: Any, *, allow_none: Literal[False], minimum: float = 0.0) -> float: ...


@overload
def optional_seconds(field: str, value: Any, *, allow_none: bool = True, minimum: float = 0.0) -> float | None: ...


def optional_seconds(field: str, value: Any, *, allow_none: bool = True, minimum: float = 0.0) -> float | None:
    """A number of seconds (a timedelta too) above `minimum` (above 0 when minimum is 0); None when allowed."""
    if value is None:
        if allow_none:
            return None
        raise ConfigurationError(field, "is None", "Give a number of seconds.")
    if hasattr(value, "total_seconds"):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(field, f"{value!r} is not a number of seconds", "Give a number, e.g. 30.")
    if value < minimum or (minimum == 0.0 and value <= 0):
        raise ConfigurationError(field, f"{value!r} is too small", f"Give a number above {minimum:g}.")
    return float(value)


def require_mapping(field: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(field, f"is a {type(value).__name__}", "Give a dict of names to values.")
    bad = [k for k in value if not isinstance(k, str) or not k.strip()]
    if bad:
        raise ConfigurationError(field, f"has keys that are not names: {bad!r}", "Use non-empty string keys.")
    return dict(value)


def require_list(field: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ConfigurationError(field, f"is a {type(value).__name__}", "Give a list.")
    return list(value)
