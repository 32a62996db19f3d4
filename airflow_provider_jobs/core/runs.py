"""JobState, JobRun (the one result shape every vendor returns) and state vocabularies."""

from __future__ import annotations

import copy
import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pendulum
import pendulum.parsing.exceptions

from airflow_provider_jobs.core.records import quick_init


class JobState(enum.StrEnum):
    """Vendor-neutral state of one job run."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    SUCCESS_WITH_WARNINGS = "SUCCESS_WITH_WARNINGS"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def is_success(self) -> bool:
        return self in (JobState.SUCCESS, JobState.SUCCESS_WITH_WARNINGS)


TERMINAL_STATES = frozenset(
    {JobState.SUCCESS, JobState.SUCCESS_WITH_WARNINGS, JobState.FAILED, JobState.CANCELLED}
)


def id_text(value: Any) -> str | None:
    """A vendor's id as the string JobRun keeps (a float such as 11.0 read as 11); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


class StateVocabulary:
    """A vendor's state words mapped to JobState, compared case-insensitively.

    An unknown word maps to RUNNING ("keep waiting until the deadline"); `knows()` lets the
    caller log it once.
    """

    def __init__(self, vendor: str, words: Mapping[str, JobState]) -> None:
        self.vendor = vendor
        self._words = {str(k).strip().lower(): v for k, v in words.items()}

    def knows(self, word: Any) -> bool:
        return word is not None and str(word).strip().lower() in self._words

    def __call__(self, word: Any) -> JobState:
        if word is None:
            return JobState.RUNNING
        return self._words.get(str(word).strip().lower(), JobState.RUNNING)

    def words(self) -> list[str]:
        return sorted(self._words)


@quick_init
@dataclass(frozen=True)
class JobRun:
    """One run of one vendor job, as every hook, trigger and operator sees it.

    Ids are strings (vendors use 64-bit integers). `vendor_state` keeps the vendor's own word;
    `progress` is a percentage 0-100 when the vendor reports one; `details` holds
    vendor-specific facts (rows, steps, messages) as plain JSON values.

    What the wait reads besides the state is typed here, not left to keys of `details`: `eta_seconds`
    (the vendor's estimate of the seconds left: the next poll comes no sooner, within the wait's ceiling)
    and `summary` (one line of what the run is doing, logged with its state). Both describe the poll that
    read them. In the dict form (XCom, trigger kwargs, events) they travel inside `details` under the
    same names, as they always have.
    """

    vendor: str
    job_id: str
    run_id: str | None
    state: JobState
    vendor_state: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    url: str | None = None
    progress: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    eta_seconds: float | None = None
    summary: str | None = None

    def __post_init__(self) -> None:
        # Normalised in place; the type checks skip the work for values that are already right
        # (every status poll builds a JobRun or two).
        values = self.__dict__
        if type(self.state) is not JobState:
            values["state"] = JobState(self.state)
        if type(self.job_id) is not str:
            values["job_id"] = str(self.job_id)
        if self.run_id is not None and type(self.run_id) is not str:
            values["run_id"] = str(self.run_id)
        progress = self.progress
        if progress is not None and (type(progress) is not float or not 0.0 <= progress <= 100.0):
            values["progress"] = max(0.0, min(100.0, float(progress)))
        # Times are UTC ISO 8601 with an explicit offset for every vendor ("...+00:00"); a time without a zone is
        # UTC (a hook whose vendor answers in another zone converts first, e.g. Spectrum's server_timezone).
        for name in ("started_at", "ended_at"):
            when = values[name]
            if when is not None and not (type(when) is str and when.endswith("+00:00")):
                values[name] = utc_iso(when)

    @property
    def is_terminal(self) -> bool:
        return self.state.is_terminal

    def with_(self, **changes: Any) -> JobRun:
        """A copy with some fields changed (dataclasses.replace, without its generic machinery:
        hooks call this on every status poll)."""
        unknown = changes.keys() - _FIELD_NAMES
        if unknown:
            return replace(self, **changes)  # raises the usual TypeError
        changed = object.__new__(JobRun)
        changed.__dict__.update(self.__dict__)
        changed.__dict__.update(changes)
        changed.__post_init__()
        return changed

    def to_dict(self) -> dict[str, Any]:
        """The run as plain JSON values: {vendor, job_id, run_id, state, vendor_state, started_at, ended_at, url,
        progress, details}, with eta_seconds and summary (when set) inside details."""
        # What dataclasses.asdict gives (details deep-copied), without its per-value recursion.
        data = {name: getattr(self, name) for name in _DICT_FIELDS}
        data["state"] = self.state.value
        details = data["details"] = _deep_copy(self.details)
        for name in _IN_DETAILS:
            value = getattr(self, name)
            if value is not None:
                details[name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobRun:
        """The run from to_dict()'s form (also one written before eta_seconds and summary were fields)."""
        known: dict[str, Any] = {k: data.get(k) for k in _DICT_FIELDS if k in data}
        details = dict(known.get("details") or {})
        for name in _IN_DETAILS:
            value = details.pop(name, None)
            if value is None:
                value = data.get(name)
            known[name] = value
        known["details"] = details
        return cls(**known)

    @property
    def job_name(self) -> str:
        """The job as the user named it: the name a vendor module keeps in details (job_name, template_name,
        task_name) when the job's id is a number the user never wrote, else the job id."""
        details = self.details
        name = details.get("job_name") or details.get("template_name") or details.get("task_name")
        return str(name) if name else self.job_id

    def describe(self) -> str:
        """A one-line human description: vendor, job (by the name the user gave, with its id), run, state."""
        name = self.job_name
        job = f"'{self.job_id}'" if name == self.job_id else f"'{name}' (id {self.job_id})"
        text = f"{self.vendor} job {job} run {self.run_id or '?'} is {self.state.value}"
        if self.vendor_state and self.vendor_state.upper() != self.state.value:
            text += f" ({self.vendor_state})"
        return text


_FIELD_NAMES = frozenset(JobRun.__dataclass_fields__)
#: Fields that travel inside `details` in the dict form (where they were before they became fields).
_IN_DETAILS = ("eta_seconds", "summary")
_DICT_FIELDS = tuple(name for name in JobRun.__dataclass_fields__ if name not in _IN_DETAILS)


def _deep_copy(value: Any) -> Any:
    """copy.deepcopy for the plain JSON values details hold, without its memo machinery."""
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    if value is None or isinstance(value, (str, int, float)):
        return value
    return copy.deepcopy(value)


def utc_iso(value: Any) -> str | None:
    """A time as UTC ISO 8601 with its offset ("2026-01-02T03:04:05+00:00"); naive times are taken as UTC.

    Accepts ISO 8601 text ("Z" or any offset, converted to UTC), a datetime, or epoch seconds; text that is no
    time is kept as it is (a vendor's odd value is shown rather than lost).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _utc_of(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC).isoformat()
    return _utc_text(str(value))


@functools.lru_cache(maxsize=4096)
def _utc_text(text: str) -> str:
    # cached: every status poll of a run carries the same start time
    try:
        parsed = pendulum.parse(text, tz=UTC)
        return _utc_of(parsed) if isinstance(parsed, datetime) else text
    except (ValueError, TypeError, pendulum.parsing.exceptions.ParserError):
        return text


def _utc_of(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return datetime.fromtimestamp(when.timestamp(), tz=UTC).isoformat()
