"""Datameer Spectrum: REST API job commands (trigger, status, details, history, stop, sequential trigger).

Everything Spectrum-specific lives here: Basic auth, how a file is named in a URL, the error body
that may come with HTTP 200, the state words and how a run is read.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote_plus

import pendulum

from airflow_provider_jobs.connection_forms.spectrum import CONNECTION_FORM, DEFAULT_RUN_URL_TEMPLATE
from airflow_provider_jobs.core.auth import AuthStrategy, BasicAuth
from airflow_provider_jobs.core.errors import ApiError, ConfigurationError, MalformedResponseError, NotFoundError
from airflow_provider_jobs.core.hook import ConnectionSettings, JobApiHook, base_url_from, operation
from airflow_provider_jobs.core.http import ApiRequest, ApiResponse, Operation, error_for_status, path_segment
from airflow_provider_jobs.core.inputs import require_id, require_mapping
from airflow_provider_jobs.core.runs import JobRun, JobState, StateVocabulary, id_text, utc_iso

log = logging.getLogger(__name__)

VENDOR = "spectrum"
#: Seconds a triggered run may take to show in the file's status and the job history. The reference names
#: no lag (the trigger answers with the run's id, and status names the file's latest run), so this only
#: covers a slow server; a connection's extra start_visibility_lag overrides it.
DEFAULT_START_VISIBILITY_LAG = 5.0
#: Pages of job history (HISTORY_PAGE runs each) recovery reads back to the marker at most.
HISTORY_PAGE = 10
HISTORY_PAGES = 5
DEFAULT_SEQUENTIAL_TRIGGER_PATH = "/api/job-execution/sequential-trigger"
__all__ = ["CONNECTION_FORM", "SpectrumHook"]

SPECTRUM_STATES = StateVocabulary(
    VENDOR,
    {
        "_NONE": JobState.QUEUED,  # never run: nothing to wait for yet
        "QUEUED": JobState.QUEUED,
        "RUNNING": JobState.RUNNING,
        "COMPLETED": JobState.SUCCESS,
        "COMPLETED_WITH_WARNINGS": JobState.SUCCESS_WITH_WARNINGS,
        "ERROR": JobState.FAILED,
        "CANCELED": JobState.CANCELLED,
        "CANCELLED": JobState.CANCELLED,
    },
)

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NOT_FOUND_WORDS = ("not found", "doesn't exist", "doesn\u2019t exist", "does not exist", "isn't accessible",
                    "isn\u2019t accessible", "not accessible")
_TIME_FORMATS = ("%b %d, %Y %I:%M:%S %p", "%b %d, %Y, %I:%M:%S %p")


def _file_in(path: str) -> str | None:
    """The file a /api/job-execution/<file>/<action> call names, as the user wrote it (for messages)."""
    prefix = "/api/job-execution/"
    if not path.startswith(prefix) or path.count("/") < 4:
        return None
    ref = path[len(prefix):].rsplit("/", 1)[0]
    if ref.isdigit() or _UUID.match(ref):
        return ref
    return "/" + "/".join(unquote_plus(seg) for seg in ref.split("/"))


def file_ref(value: Any, field: str = "file") -> str:
    """A Spectrum file as it appears in a URL: an id, a uuid, or a path.

    In a path each segment is URL-encoded with spaces as '+'; '.' and '..' segments are refused
    so that a path cannot reach another endpoint.
    """
    text = require_id(field, value, what="a file id, uuid or path")
    if text.isdigit() or _UUID.match(text):
        return text
    segments = text.strip("/").split("/")
    if any(seg in ("", ".", "..") for seg in segments):
        raise ConfigurationError(
            field, f"{text!r} has an empty, '.' or '..' segment", "Give the file's full path, e.g. /Sales/Report"
        )
    return "/".join(quote(seg, safe="").replace("%20", "+") for seg in segments)


def _zone(s: ConnectionSettings) -> str:
    """The connection's server_timezone (an IANA name), checked."""
    name = s.text("server_timezone", "UTC") or "UTC"
    try:
        pendulum.timezone(name)
    except Exception:
        raise ConfigurationError(s.where("server_timezone"), f"{name!r} is not a time zone",
                                 "Give the Spectrum server's IANA time zone, e.g. Europe/Berlin, or UTC.") from None
    return name


@functools.lru_cache(maxsize=4096)
def _in_zone(naive_iso: str, zone: str) -> str | None:
    return utc_iso(pendulum.parse(naive_iso, tz=zone))


def parse_spectrum_time(raw: Any) -> str | None:
    """Spectrum's locale timestamp (no zone) as naive ISO 8601; None when unparseable."""
    if raw in (None, ""):
        return None
    if isinstance(raw, (int, float)):  # list-running gives epoch milliseconds
        return datetime.utcfromtimestamp(raw / 1000).isoformat()
    return _parse_locale_time(str(raw).strip())


@functools.lru_cache(maxsize=4096)
def _parse_locale_time(text: str) -> str | None:
    # cached: every status poll of a run carries the same start time (strptime is slow)
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).isoformat()
        except ValueError:
            continue
    return None


def parse_estimate(raw: Any) -> float | None:
    """'11s' / '2m' / '1h' / 11 as seconds."""
    if raw in (None, ""):
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(raw))
    if not m:
        return None
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


@dataclass(frozen=True)
class SpectrumSettings:
    base_url: str
    login: str
    password: str = field(repr=False)
    verify: bool | str = True
    sequential_trigger_path: str = DEFAULT_SEQUENTIAL_TRIGGER_PATH
    run_url_template: str = DEFAULT_RUN_URL_TEMPLATE
    server_timezone: str = "UTC"
    start_visibility_lag: float = DEFAULT_START_VISIBILITY_LAG


class SpectrumHook(JobApiHook[SpectrumSettings]):
    """Datameer Spectrum REST API: start, read, stop and chain jobs (HTTP Basic on every call)."""

    default_conn_name = "spectrum_default"
    conn_type = "spectrum"
    hook_name = "Datameer Spectrum"
    vendor = VENDOR
    states = SPECTRUM_STATES
    can_cancel = True
    default_poll_interval = 10.0
    lists_active_runs = True  # list-running: the triggerer's waits on one connection share it
    listing_entry_cost = 0.02  # a flat entry of ~260 bytes: ~5 us to parse beside ~400 us for a call
    start_visibility_lag = DEFAULT_START_VISIBILITY_LAG

    # -- connection ------------------------------------------------------------------------------------
    def configure(self, conn) -> SpectrumSettings:
        s = ConnectionSettings(conn, self.conn_type)
        # No scheme means https (Basic credentials go with every call): http only when the host or the
        # connection's schema field says so.
        base = base_url_from(conn)
        s.require(conn.login, "login", "Set the Spectrum user name in the connection's Login field.")
        s.require(conn.password, "password", "Set the user's password in the connection's Password field.")
        path = s.text("sequential_trigger_path", DEFAULT_SEQUENTIAL_TRIGGER_PATH)
        if not path.startswith("/"):
            raise ConfigurationError(s.where("sequential_trigger_path"), f"{path!r} does not start with '/'",
                                     "Give a path such as /api/job-execution/sequential-trigger")
        lag = s.number("start_visibility_lag", DEFAULT_START_VISIBILITY_LAG)
        # the connection's extra wins over the class default for this hook (recovery reads it after a marker)
        self.start_visibility_lag = float(lag if lag is not None else DEFAULT_START_VISIBILITY_LAG)
        return SpectrumSettings(
            base_url=base,
            login=conn.login,
            password=conn.password,
            verify=s.verify(),
            sequential_trigger_path=path,
            run_url_template=s.text("run_url_template", DEFAULT_RUN_URL_TEMPLATE),
            server_timezone=_zone(s),
            start_visibility_lag=self.start_visibility_lag,
        )

    def auth_strategy(self) -> AuthStrategy:
        return BasicAuth(self.settings.login, self.settings.password)

    def error_from(self, response: ApiResponse) -> ApiError | None:
        """Spectrum reports failures as {"status": "failure", "reason": ...}, sometimes with HTTP 200."""
        body: Any = None
        if response.body and (response.header("content-type") or "").startswith("application/json"):
            try:
                body = response.json()
            except MalformedResponseError:
                body = None
        reason = body.get("reason") if isinstance(body, dict) and body.get("status") == "failure" else None
        if response.ok and reason is None:
            return None
        if reason is not None and any(w in reason.lower() for w in _NOT_FOUND_WORDS):
            host = self.settings.base_url.split("://", 1)[-1]
            file = _file_in(response.request.path)
            what = (f"{VENDOR} file {file!r} was not found on {host}" if file
                    else f"{VENDOR} {response.request.label} on {host}")
            return NotFoundError(
                f"{what} ({response.request.label}: {reason}, HTTP {response.status}). "
                "Check the file id, uuid or path, and that the connection's user may access it.",
                vendor=VENDOR, endpoint=response.request.label, status=response.status, code="failure",
            )
        if reason is not None:
            return ApiError.from_response(VENDOR, response.request.label, response.status, "failure", reason)
        return error_for_status(VENDOR, response, None, None)

    def run_url(self, run: JobRun) -> str | None:
        return self._url_of(run.job_id, run.run_id)

    def _url_of(self, job_id: str, run_id: str | None) -> str | None:
        if not run_id:
            return None
        return self.settings.run_url_template.format(base_url=self.settings.base_url, run_id=run_id, job_id=job_id)

    # -- parsing ------------------------------------------------------------------------------------------
    def spectrum_time(self, raw: Any) -> str | None:
        """A Spectrum time as UTC ISO 8601 with its offset. Its locale times carry no zone: they are the server's
        local time, in the connection's server_timezone (default UTC); epoch milliseconds are UTC already."""
        text = parse_spectrum_time(raw)
        zone = self.settings.server_timezone
        if text is None or isinstance(raw, (int, float)) or zone == "UTC":
            return utc_iso(text)
        return _in_zone(text, zone)

    def run_from_details(self, job: str, run_id: str, body: dict[str, Any],
                         carried: dict[str, Any] | None = None) -> JobRun:
        """A JobRun from /rest/job-execution/job-details/<id>; `carried`: details of the run as it was, kept
        where the answer does not set them."""
        vendor_state = body.get("jobStatus")
        if vendor_state is None:
            raise MalformedResponseError(f"{VENDOR} job details for run {run_id} carry no jobStatus: {body!r}"[:300],
                                         vendor=VENDOR)
        file = body.get("file") or {}
        details = {
            "file_id": id_text(file.get("id")),
            "file_uuid": file.get("uuid"),
            "configuration_id": id_text(body.get("jobConfigurationId")),
            "success_count": body.get("successCount"),
            "failure_count": body.get("failureCount"),
            "counters": body.get("counters") or {},
            "start_time_raw": body.get("startTime"),
            "stop_time_raw": body.get("stopTime"),
        }
        state = self.states(vendor_state)
        if state == JobState.FAILED:
            details["message"] = f"Spectrum reports {vendor_state}; {body.get('failureCount', '?')} records failed"
        kept = {k: v for k, v in details.items() if v is not None}
        # one JobRun per poll, its url and carried details included, not three (with_(url), with_(details)):
        # provider Python per check 44-48 -> 38-43 us (interleaved noisy runs)
        return JobRun(VENDOR, job, run_id, state, vendor_state,
                      self.spectrum_time(body.get("startTime")), self.spectrum_time(body.get("stopTime")),
                      url=self._url_of(str(job), run_id), details={**carried, **kept} if carried else kept)

    def run_from_status(self, job: str, body: dict[str, Any]) -> JobRun | None:
        """A JobRun from /api/job-execution/<file>/status (the file's LATEST run); None if never run."""
        vendor_state = body.get("job-status")
        run_id = id_text(body.get("job-execution-id"))
        if vendor_state is None or str(vendor_state).upper() == "_NONE" or run_id is None:
            return None
        progress = body.get("job-progress")
        details: dict[str, Any] = {"file_id": id_text(body.get("file-id")), "start_time_raw": body.get("start-time"),
                                   "stop_time_raw": body.get("stop-time")}
        run = JobRun(VENDOR, job, run_id, self.states(vendor_state), vendor_state,
                     self.spectrum_time(body.get("start-time")), self.spectrum_time(body.get("stop-time")),
                     progress=float(progress) if progress is not None and _is_number(progress) else None,
                     details={k: v for k, v in details.items() if v is not None},
                     eta_seconds=parse_estimate(body.get("estimate-time")))
        return run.with_(url=self.run_url(run))

    # -- calls ----------------------------------------------------------------------------------------
    @operation
    def start_run(self, job: str) -> Operation[JobRun]:
        """Trigger a file's job (by file id, uuid or path); returns the new run.

        :param job: the Spectrum file: its id, uuid or path
        """
        ref = file_ref(job, "file")
        resp = yield ApiRequest("POST", f"/api/job-execution/{ref}/trigger", endpoint="trigger job")
        body = resp.json_object()
        run_id = id_text(body.get("job-execution-id"))
        if run_id is None:
            raise MalformedResponseError(f"{VENDOR} trigger answer has no job-execution-id: {body!r}"[:300],
                                         vendor=VENDOR, endpoint="trigger job")
        run = JobRun(VENDOR, str(job), run_id, JobState.QUEUED, "QUEUED",
                     details={"triggered_by": body.get("job-execution-user"),
                              "trigger": body.get("job-execution-trigger")})
        return run.with_(url=self.run_url(run))

    astart_run = start_run.asynchronous

    @operation
    def get_run(self, run: JobRun) -> Operation[JobRun]:
        """Read one run by its execution id (job details), whoever ran the file since.

        :param run: the run to act on, as start_run() or get_run() returned it (its ids and details)
        """
        resp = yield ApiRequest("GET", f"/rest/job-execution/job-details/{path_segment(run.run_id)}",
                                endpoint="job details")
        # job details carry no estimate (the run read has none): one read from the file's status earlier is stale
        return self.run_from_details(run.job_id, str(run.run_id), resp.json_object(), carried=run.details)

    aget_run = get_run.asynchronous

    @operation
    def job_status(self, job: str) -> Operation[JobRun | None]:
        """The file's latest run (None if it never ran).

        :param job: the Spectrum file: its id, uuid or path
        """
        resp = yield ApiRequest("GET", f"/api/job-execution/{file_ref(job, 'file')}/status", endpoint="job status")
        return self.run_from_status(str(job), resp.json_object())

    ajob_status = job_status.asynchronous

    @operation
    def find_active_run(self, job: str) -> Operation[JobRun | None]:
        """The file's run that is queued or running now, if any.

        :param job: the Spectrum file: its id, uuid or path
        """
        latest = yield from self.job_status.steps(self, job)
        return latest if latest is not None and not latest.is_terminal else None

    afind_active_run = find_active_run.asynchronous

    @operation
    def start_marker(self, job: str, **options: Any) -> Operation[dict[str, Any]]:
        """The file's latest execution id just before a trigger (None when it never ran), and our clock.

        :param job: the Spectrum file: its id, uuid or path
        """
        at = time.time()
        latest = yield from self.job_status.steps(self, job)
        return {"at": at, "execution_id": latest.run_id if latest is not None else None}

    astart_marker = start_marker.asynchronous

    @operation
    def find_started_run(self, job: str, marker: Mapping[str, Any], **options: Any) -> Operation[JobRun | None]:
        """The first run of the file with an execution id above the marker's, in whatever state it is now.

        The file's status names its LATEST run only: when someone else triggered the file after us, the job
        history (newest first) leads back to the first run since the marker, which is ours. Each run is read
        with job details, so a run that already ended is found with its final state.

        :param job: the Spectrum file: its id, uuid or path
        :param marker: what start_marker() returned just before the start
        """
        before = marker.get("execution_id")
        before = None if before is None else str(before)
        latest = yield from self.job_status.steps(self, job)
        if latest is None or latest.run_id == before:
            return None
        latest_order, before_order = _order(latest.run_id), _order(before)
        if latest_order is None or (before is not None and before_order is None):
            # ids that are not numbers cannot be ordered: the file's latest run is new since the marker
            return (yield from self.get_run.steps(self, latest))
        if before_order is not None and latest_order <= before_order:
            return None
        newest = yield from self.get_run.steps(self, latest)
        since = {latest_order}
        configuration = newest.details.get("configuration_id")
        if configuration is not None:
            for page in range(HISTORY_PAGES):
                items = yield from self.job_history.steps(self, configuration, page * HISTORY_PAGE, HISTORY_PAGE)
                orders = [o for o in (_order(item.get("id")) for item in items) if o is not None]
                since.update(o for o in orders if before_order is None or o > before_order)
                if len(items) < HISTORY_PAGE or (before_order is not None and any(o <= before_order for o in orders)):
                    break
        first = min(since)
        if len(since) > 1:
            log.warning("%d runs of Spectrum file '%s' began since just before the trigger (execution ids %s): "
                        "adopting the first, %s; the later ones were triggered by someone else.",
                        len(since), job, ", ".join(str(o) for o in sorted(since)), first)
        if first == latest_order:
            return newest
        ours = JobRun(VENDOR, str(job), str(first), JobState.QUEUED, "QUEUED")
        return (yield from self.get_run.steps(self, ours))

    afind_started_run = find_started_run.asynchronous

    @operation
    def cancel_run(self, run: JobRun) -> Operation[bool]:
        """Stop the run. Spectrum stops a FILE's current run: stop only if that run is ours.

        :param run: the run to act on, as start_run() or get_run() returned it (its ids and details)
        """
        ref = run.details.get("file_id") or run.job_id
        latest = yield from self.job_status.steps(self, ref)
        if latest is None or latest.run_id != run.run_id:
            self.log.warning("Not stopping %s: the file's current run is %s.", run.describe(),
                             latest.run_id if latest else "none")
            return False
        if latest.is_terminal:
            return False
        yield ApiRequest("POST", f"/api/job-execution/{file_ref(ref, 'file')}/stop", endpoint="stop job",
                         read="none", idempotent=True)
        return True

    acancel_run = cancel_run.asynchronous

    @operation
    def job_history(self, configuration_id: str, start: int = 0, length: int = 10) -> Operation[list[dict]]:
        """Recent runs of a job configuration: [{"id", "jobStatus"}, ...] with ids as strings.

        :param configuration_id: the job configuration's id
        :param start: entries to skip (newest first)
        :param length: entries at most (default 10)
        """
        cid = require_id("configuration_id", configuration_id)
        resp = yield ApiRequest("GET", f"/rest/job-configuration/job-history/{path_segment(cid)}",
                                params={"start": int(start), "length": int(length)}, endpoint="job history")
        items = resp.json()
        if not isinstance(items, list):
            raise MalformedResponseError(f"{VENDOR} job history is not a list", vendor=VENDOR)
        return [{**item, "id": id_text(item.get("id"))} for item in items]

    ajob_history = job_history.asynchronous

    @operation
    def list_recent_runs(self, job: str, *, configuration_id: str | None = None,
                         length: int = HISTORY_PAGE, **_options: Any) -> Operation[list[JobRun]]:
        """The file's newest runs from its Job History, oldest first: what an event trigger watches.

        The history names each run's id and state only: a run that ended is read once with job details (its
        start and stop times, counts), then kept while the history shows it; a running one is taken as listed.
        The file's job configuration is found from its latest run (status, then job details) once per hook.

        :param job: the Spectrum file: its id, uuid or path
        :param configuration_id: the file's job configuration id, when known (skips finding it)
        :param length: history entries read (newest first; default 10)
        """
        ref = file_ref(job, "file")
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ConfigurationError("length", f"is {length!r}", "Give a whole number of history entries, e.g. 10.")
        configurations: dict[str, str] = self.__dict__.setdefault("_configurations", {})
        cid = id_text(configuration_id) or configurations.get(ref)
        if cid is None:
            latest = yield from self.job_status.steps(self, job)
            if latest is None:
                return []  # never ran: no history yet
            read = yield from self.get_run.steps(self, latest)
            cid = read.details.get("configuration_id")
            if cid is None:
                raise MalformedResponseError(f"{VENDOR} job details of run {latest.run_id} of file '{job}' name no "
                                             "jobConfigurationId: give configuration_id", vendor=VENDOR,
                                             endpoint="job details")
            configurations[ref] = str(cid)
        items = yield from self.job_history.steps(self, cid, 0, length)
        ended: dict[str, JobRun] = self.__dict__.get("_ended_runs", {})
        kept: dict[str, JobRun] = {}
        runs = []
        for item in items:
            run_id, word = item.get("id"), item.get("jobStatus")
            if run_id is None or not word:
                continue
            run = JobRun(VENDOR, str(job), run_id, self.states(word), word,
                         details={"configuration_id": str(cid)})
            if run.is_terminal:
                done = ended.get(run_id)
                if done is None:
                    done = yield from self.get_run.steps(self, run)
                if done.is_terminal:
                    kept[run_id] = done
                run = done
            runs.append(run.with_(url=self.run_url(run)) if run.url is None else run)
        self.__dict__["_ended_runs"] = kept  # only what the history still shows
        return sorted(runs, key=lambda r: (_order(r.run_id) is None, _order(r.run_id) or 0, r.started_at or ""))

    alist_recent_runs = list_recent_runs.asynchronous

    @operation
    def list_running(self) -> Operation[list[dict]]:
        """Every active job on the server (ids as strings)."""
        items = yield from self._running_items()
        id_keys = ("fileId", "jobExecutionId", "dapJobConfigurationId")
        return [{k: (id_text(v) if k in id_keys else v) for k, v in item.items()} for item in items]

    alist_running = list_running.asynchronous

    def _running_items(self) -> Operation[list]:
        """list-running's answer as it came (a list, checked)."""
        resp = yield ApiRequest("GET", "/api/job-execution/list-running", endpoint="list running jobs")
        items = resp.json()
        if not isinstance(items, list):
            raise MalformedResponseError(f"{VENDOR} list-running is not a list", vendor=VENDOR)
        return items

    @operation
    def list_active_runs(self) -> Operation[dict[str, dict]]:
        """Every active job on the server by its job-execution id (list-running, one call)."""
        items = yield from self._running_items()
        listed = {}
        for item in items:
            if isinstance(item, dict):
                run_id = id_text(item.get("jobExecutionId"))
                if run_id is not None:
                    listed[run_id] = item
        return listed

    alist_active_runs = list_active_runs.asynchronous

    def run_from_listing(self, run: JobRun, entry: dict[str, Any]) -> JobRun | None:
        """The run as list-running shows it (its state; the details it had are kept)."""
        vendor_state = entry.get("jobStatus")
        if not vendor_state:
            return None
        state = self.states(vendor_state)
        if state.is_terminal:  # job details carry the counters and the failure count of an ended run
            return None
        # the start time as job details gave it (server-local text) wins over the listing's epoch
        started = run.started_at or self.spectrum_time(entry.get("startTime"))
        if state == run.state and vendor_state == run.vendor_state and started == run.started_at:
            return run  # nothing new: no copy
        return run.with_(state=state, vendor_state=vendor_state, started_at=started)

    @operation
    def sequential_trigger(self, file_ids: list[Any], variables: dict[str, Any] | None = None
                           ) -> Operation[dict[str, Any]]:
        """Trigger files and their data-driven downstream jobs in plan order, with variables.

        Returns Spectrum's answer with ids as strings: {"status", "execution-plan": [...]}.

        :param file_ids: numeric file ids, in plan order
        :param variables: names to values, given to every job of the plan
        """
        if not isinstance(file_ids, (list, tuple)) or not file_ids:
            raise ConfigurationError("file_ids", f"is {file_ids!r}", "Give a non-empty list of Spectrum file ids.")
        ids = [require_id(f"file_ids[{i}]", v, what="a numeric file id") for i, v in enumerate(file_ids)]
        bad = [v for v in ids if not v.isdigit()]
        if bad:
            raise ConfigurationError("file_ids", f"{bad!r} are not numeric file ids",
                                     "The sequential trigger takes file ids (numbers), not paths.")
        variables = require_mapping("variables", variables)
        resp = yield ApiRequest("POST", self.settings.sequential_trigger_path, endpoint="sequential trigger",
                                json={"variables": {k: str(v) for k, v in variables.items()},
                                      "fileIds": [int(v) for v in ids]})
        body = resp.json_object()
        plan = body.get("execution-plan")
        if not isinstance(plan, list):
            raise MalformedResponseError(f"{VENDOR} sequential trigger answer has no execution-plan: {body!r}"[:300],
                                         vendor=VENDOR, endpoint="sequential trigger")
        entries = []
        for item in plan:
            entry = dict(item)
            for key in ("job-configuration-id", "job-execution-id"):
                if key in entry:
                    entry[key] = id_text(entry[key])
            entries.append(entry)
        return {"status": body.get("status", "success"), "execution-plan": entries}

    asequential_trigger = sequential_trigger.asynchronous

    @operation
    def stop_job(self, job: str) -> Operation[None]:
        """Stop whatever run the file has going (no check of whose run it is).

        :param job: the Spectrum file: its id, uuid or path
        """
        yield ApiRequest("POST", f"/api/job-execution/{file_ref(job, 'file')}/stop", endpoint="stop job",
                         read="none", idempotent=True)

    astop_job = stop_job.asynchronous

    @operation
    def delete_data(self, data_id: str) -> Operation[bool]:
        """Mark a job's data for deletion: True if marked now, False if it already was.

        :param data_id: the job data's id
        """
        did = require_id("data_id", data_id)
        resp = yield ApiRequest("DELETE", f"/rest/data/{path_segment(did)}", endpoint="delete data")
        body = resp.json_object()
        return body.get("status") is True

    adelete_data = delete_data.asynchronous

    def connection_test_steps(self) -> Operation[str]:
        running = yield from self.list_running.steps(self)
        return f"Connected to Datameer Spectrum at {self.settings.base_url}; {len(running)} job(s) running."

    def plan_runs(self, plan: dict[str, Any]) -> list[JobRun]:
        """The runs a sequential trigger's execution plan started (entries with trigger true)."""
        runs = []
        for entry in plan.get("execution-plan", []):
            if entry.get("trigger") and entry.get("job-execution-id"):
                job = entry.get("job-configuration-name") or entry.get("job-configuration-id")
                run = JobRun(VENDOR, str(job), str(entry["job-execution-id"]), JobState.QUEUED, "QUEUED",
                             details={"configuration_id": entry.get("job-configuration-id")})
                runs.append(run.with_(url=self.run_url(run)))
        return runs


def _order(run_id: Any) -> int | None:
    """An execution id as a number, to order runs by (Spectrum counts them up); None when it is not one."""
    text = id_text(run_id)
    return int(text) if text is not None and text.isdigit() else None


def _is_number(value: Any) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False
