"""The exception family. Every message says what happened and, where it can, what to do."""

from __future__ import annotations

from typing import Any

from airflow.exceptions import AirflowException


class JobProviderError(AirflowException):
    """Base of every error this provider raises."""


class ConfigurationError(JobProviderError, ValueError):
    """Bad input from a DAG or a connection, found before any network call."""

    def __init__(self, field: str, problem: str, fix: str | None = None) -> None:
        self.field = field
        message = f"{field}: {problem}"
        if fix:
            message += f". {fix}"
        super().__init__(message)


class ApiError(JobProviderError):
    """The vendor answered with an error (after retries, where retrying made sense)."""

    def __init__(
        self,
        message: str,
        *,
        vendor: str = "",
        endpoint: str = "",
        status: int | None = None,
        code: str | None = None,
        body_excerpt: str | None = None,
    ) -> None:
        self.vendor = vendor
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.body_excerpt = body_excerpt
        super().__init__(message)

    @classmethod
    def from_response(
        cls, vendor: str, endpoint: str, status: int | None, code: str | None, detail: str | None, **kw: Any
    ) -> ApiError:
        where = f"{vendor} {endpoint}".strip()
        parts = [f"HTTP {status}" if status else None, code]
        tag = ", ".join(p for p in parts if p)
        text = f"{where} failed"
        if tag:
            text += f" ({tag})"
        if detail:
            text += f": {detail}"
        return cls(text, vendor=vendor, endpoint=endpoint, status=status, code=code, **kw)


class AuthenticationError(ApiError):
    """Credentials were refused, even after one fresh login."""


class NotFoundError(ApiError):
    """The job or run does not exist (or is not visible to these credentials)."""


class JobAlreadyRunningError(ApiError):
    """The vendor refused to start the job because a run of it is already going."""


class TransientApiError(ApiError):
    """A retryable failure (5xx, 429, connection) that outlasted the retry budget."""


class AmbiguousStartError(ApiError):
    """A start request may or may not have reached the vendor (timeout, reset connection)."""


class MalformedResponseError(ApiError):
    """The vendor's answer could not be read (HTML error page, broken JSON, missing field)."""


class RunFailedError(JobProviderError):
    """The remote run ended in a failed or cancelled state."""

    def __init__(self, message: str, run: Any = None) -> None:
        self.run = run
        super().__init__(message)


class DeadlineExceededError(JobProviderError):
    """The wait reached its deadline before the run ended."""


class DeadlineReached(JobProviderError):
    """Raised into an operation whose next sleep would end past its deadline (see http.Deadline)."""


def excerpt(text: str | bytes | None, limit: int = 160) -> str:
    """A short, single-line excerpt of a response body, for error messages."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
