"""CData Sync: the REST API v2 job management calls (jobs, tasks, runs, history) of one workspace.

Everything CData-specific lives here: the auth token (header or Basic), the error body
``{"error": {"code", "message"}}``, the state words, and how a run is found although executing a job
returns no run id.

How a run is identified (the rule; see also docs/cdata_sync.md):

1. Just before executing the job, the hook reads the job's history. The answer's ``Date`` header is the
   server's clock (our own clock only when the header is missing or unreadable), so clock skew between
   Airflow and the server does not matter. ``not_before`` = that moment minus ``clock_skew_tolerance``
   (connection extra, default 2 s) for servers that round or truncate start times.
2. Every history entry already present whose start is at or after ``not_before`` (or unknown) is
   remembered as NOT ours (``excluded_history_ids``).
3. Our run is the EARLIEST history entry that is not excluded and started at or after ``not_before``.
   Once found, its history id becomes the JobRun's ``run_id`` and later polls read that entry only.
4. Until the entry shows up, the job's status call stands in, if the run it describes is not an excluded
   one and did not start before ``not_before``; otherwise the run counts as not visible yet (the core's
   not-found grace applies).

Sync runs a job once at a time: if someone else executes the job at the same moment, one of the two
execute calls is refused as "already running" (ours then waits for, attaches to or fails on the other run,
as ``if_running`` says); if theirs is refused, ours is the only new entry. A run someone starts after ours
has ended is newer than ours, so "earliest" keeps ours.

The bodies of the v2 status and history calls are not published (UNCONFIRMED): they are read
defensively (keys compared without case, ``_`` or ``-``; lists bare or wrapped in value/items/data).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_jobs.connection_forms.cdata_sync import (
    API_VERSIONS,
    AUTH_STYLES,
    CONNECTION_FORM,
    DEFAULT_API_VERSION,
    DEFAULT_CLOCK_SKEW_TOLERANCE,
    DEFAULT_JOB_URL_TEMPLATE,
    DEFAULT_WORKSPACE,
)
from airflow_provider_jobs.core.auth import AuthStrategy, BasicAuth, HeaderTokenAuth
from airflow_provider_jobs.core.errors import (
    ApiError,
    ConfigurationError,
    JobAlreadyRunningError,
    MalformedResponseError,
    NotFoundError,
    excerpt,
)
from airflow_provider_jobs.core.hook import ConnectionSettings, JobApiHook, base_url_from, operation
from airflow_provider_jobs.core.http import ApiRequest, ApiResponse, Operation, error_for_status, path_segment
from airflow_provider_jobs.core.inputs import require_choice, require_id, require_mapping
from airflow_provider_jobs.core.runs import JobRun, JobState, StateVocabulary, id_text

VENDOR = "cdata_sync"
AUTH_HEADER = "x-cdata-authtoken"
JOB_TYPES = ("Standard", "SyncAll", "LoadFolder", "ChangeDataCapture", "ReverseETL")
LOOKUPS = ("id", "name")
__all__ = ["CONNECTION_FORM", "CDataSyncHook", "CDataSyncSettings", "forget_api_versions"]
#: History entries one v1 read asks for ($top), newest first: a run just started is among them.
V1_HISTORY_PAGE = 20
#: Statuses a v2 probe may get from a server without API v2 (answers, not errors).
_NO_V2_STATUSES = frozenset({400, 404, 405, 501})

# The API each connection's server has, detected once per process: {(conn_id, base_url): "v1" | "v2"}.
_detected_api: dict[tuple[str, str], str] = {}
_detected_lock = threading.Lock()


def forget_api_versions() -> None:
    """Forget every detected API version (the next call on each connection probes again)."""
    with _detected_lock:
        _detected_api.clear()

CDATA_SYNC_STATES = StateVocabulary(
    VENDOR,
    {
        "queued": JobState.QUEUED,
        "pending": JobState.QUEUED,
        "starting": JobState.QUEUED,
        "testing": JobState.RUNNING,
        "running": JobState.RUNNING,
        "in progress": JobState.RUNNING,
        "inprogress": JobState.RUNNING,
        "in_progress": JobState.RUNNING,
        "executing": JobState.RUNNING,
        "cancelling": JobState.RUNNING,
        "successful": JobState.SUCCESS,
        "success": JobState.SUCCESS,
        "succeeded": JobState.SUCCESS,
        "completed": JobState.SUCCESS,
        "warning": JobState.SUCCESS_WITH_WARNINGS,
        "warnings": JobState.SUCCESS_WITH_WARNINGS,
        "completed with warnings": JobState.SUCCESS_WITH_WARNINGS,
        "failed": JobState.FAILED,
        "failure": JobState.FAILED,
        "error": JobState.FAILED,
        "cancelled": JobState.CANCELLED,
        "canceled": JobState.CANCELLED,
        "aborted": JobState.CANCELLED,
    },
)
#: Status words that mean "no run going and none to report" (a job that never ran).
IDLE_WORDS = frozenset({"idle", "none", "never run", "neverrun", "not started", "notstarted", "ready"})

# Field names, compared after lowercasing and dropping '_', '-' and spaces.
_STATUS_KEYS = ("status", "state", "job_status", "run_status")
_START_KEYS = ("run_start_date", "start_date", "start_time", "started_at", "started", "start")
_END_KEYS = ("run_end_date", "end_date", "end_time", "ended_at", "ended", "end", "finished_at")
_RECORD_KEYS = ("records_affected", "rows_affected", "affected_records", "affected_rows", "records")
_MESSAGE_KEYS = ("message", "error_message", "error", "detail", "details")
_TASK_LIST_KEYS = ("tasks", "task_results", "task_runs", "query_results")
_ENTRY_ID_KEYS = ("history_id", "id", "run_id")
_STATUS_RUN_ID_KEYS = ("history_id", "run_id")
_RUNNING_CODES = frozenset({"jobrunning", "jobalreadyrunning", "taskrunning", "alreadyrunning"})
_NOT_RUNNING_CODES = frozenset({"jobnotrunning", "notrunning"})
_RUNNING_TEXT = re.compile(r"\b(already running|is running|while it is running|currently running|is in progress)\b",
                           re.I)
_NOT_RUNNING_TEXT = re.compile(r"\b(not running|no running|is not in progress)\b", re.I)
_ID_KEY = re.compile(r"(?:^id$|[_\-\s]id$|[a-z0-9]Id$|ID$)")
_IDS_KEY = re.compile(r"(?:^ids$|[_\-\s]ids$|[a-z0-9]Ids$|IDs$)")


# --- reading bodies defensively ------------------------------------------------------------------------------
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
#: Normalized field names by name (an answer's keys are a small set: each is normalized once per process,
#: not on every poll; a status read looks up ~150 keys). Bounded against a server that invents keys.
_NORMS: dict[str, str] = {}
_NORMS_KEPT = 4096
_WANTED: dict[tuple[str, ...], dict[str, int]] = {}


def _norm(key: Any) -> str:
    text = key if type(key) is str else str(key)
    norm = _NORMS.get(text)
    if norm is None:
        norm = _NOT_ALNUM.sub("", text.lower())
        if len(_NORMS) < _NORMS_KEPT:
            _NORMS[text] = norm
    return norm


def field_of(obj: Any, *names: str, default: Any = None) -> Any:
    """The first non-empty value of `obj` under any of `names` (case, '_', '-' and spaces ignored)."""
    if not isinstance(obj, dict):
        return default
    wanted = _WANTED.get(names)
    if wanted is None:  # each normalized name -> its rank (the first of the names wins)
        wanted = _WANTED[names] = {}
        for name in names:
            wanted.setdefault(_norm(name), len(wanted))
    # one pass over the keys: the best-ranked non-empty value, the first one of a rank
    norms = _NORMS
    found, rank = default, len(wanted)
    for key, value in obj.items():
        norm = norms.get(key)
        if norm is None:
            norm = _norm(key)
        this = wanted.get(norm)
        if this is not None and this < rank and value is not None and value != "":
            found, rank = value, this
            if this == 0:
                break
    return found


def fields_of(obj: Any) -> dict[str, Any]:
    """`obj`'s non-empty values by normalized key (the first of each), for several field_of-like reads of one
    object (`pick`): a status read takes a dozen fields of one entry."""
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        norms = _NORMS
        for key, value in obj.items():
            if value is None or value == "":
                continue
            norm = norms.get(key)
            if norm is None:
                norm = _norm(key)
            if norm not in out:
                out[norm] = value
    return out


def pick(fields: dict[str, Any], *names: str, default: Any = None) -> Any:
    """field_of(obj, *names) from fields_of(obj)."""
    wanted = _WANTED.get(names)
    if wanted is None:
        wanted = _WANTED[names] = {}
        for name in names:
            wanted.setdefault(_norm(name), len(wanted))
    for norm in wanted:
        value = fields.get(norm)
        if value is not None:
            return value
    return default


#: Per key: whether it names an id (1), a list of ids (2) or neither (0). Bounded as _NORMS.
_ID_KINDS: dict[str, int] = {}


def _id_kind(key: Any) -> int:
    text = str(key)
    kind = _ID_KINDS.get(text)
    if kind is None:
        kind = 1 if _ID_KEY.search(text) else 2 if _IDS_KEY.search(text) else 0
        if len(_ID_KINDS) < _NORMS_KEPT:
            _ID_KINDS[text] = kind
    return kind


def stringify_ids(value: Any) -> Any:
    """A copy of a JSON value with every integer id (keys like id, job_id, taskId) as a string."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        # kinds looked up inline: every poll stringifies an entry (timeit, 17 keys and a task: 6.5 -> 5.6 us)
        kinds = _ID_KINDS
        for key, item in value.items():
            kind = kinds.get(key) if type(key) is str else None
            if kind is None:
                kind = _id_kind(key)
            if kind:
                if kind == 1 and _is_int(item):
                    out[key] = str(item)
                    continue
                if kind == 2 and isinstance(item, list):
                    out[key] = [str(v) if _is_int(v) else v for v in item]
                    continue
            out[key] = stringify_ids(item) if isinstance(item, (dict, list)) else item
        return out
    if isinstance(value, list):
        return [stringify_ids(v) for v in value]
    return value


def items_of(body: Any, what: str, *keys: str) -> list[dict[str, Any]]:
    """The objects of a list answer: a bare list, or one wrapped in value / items / data / `keys`."""
    data = field_of(body, "value", "items", "data", "results", *keys) if isinstance(body, dict) else body
    if not isinstance(data, list):
        raise MalformedResponseError(
            f"{VENDOR} {what} returned no list: {excerpt(repr(body))!r}", vendor=VENDOR, endpoint=what
        )
    return [stringify_ids(item) for item in data if isinstance(item, dict)]


def parse_time(raw: Any) -> datetime | None:
    """A timestamp as an aware datetime: ISO 8601 (zone-less taken as UTC), epoch (s or ms), /Date(ms)/."""
    if raw in (None, "") or isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        seconds = raw / 1000 if raw > 1e11 else raw
        return datetime.fromtimestamp(seconds, UTC)
    text = str(raw).strip()
    legacy = re.fullmatch(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/", text)
    if legacy:
        return datetime.fromtimestamp(int(legacy.group(1)) / 1000, UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def task_id_list(tasks: Any, field_name: str = "tasks") -> list[str] | None:
    """Task ids to execute, as strings (None: every active task of the job)."""
    if tasks is None:
        return None
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, (list, tuple)):
        raise ConfigurationError(field_name, f"is a {type(tasks).__name__}",
                                 "Give a list of task ids, e.g. ['9007199254750001'], or None for every active task. "
                                 "A template that renders a list needs render_template_as_native_obj=True.")
    if not tasks:
        raise ConfigurationError(field_name, "is an empty list", "Give at least one task id, or None for every "
                                 "active task of the job.")
    ids = [require_id(f"{field_name}[{i}]", t, what="a task id") for i, t in enumerate(tasks)]
    twice = sorted({t for t in ids if ids.count(t) > 1})
    if twice:
        raise ConfigurationError(field_name, f"lists {', '.join(twice)} more than once", "Give each task once.")
    return ids


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str(value: Any) -> str | None:
    return None if isinstance(value, bool) else id_text(value)  # a flag where an id should be is no id


def _count(value: Any) -> int | None:
    if _is_int(value):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


#: Run page URLs by what fills them in: every poll of a run sets its url, and four quote() calls and a
#: format() were ~10% of a status check's Python.
_RUN_URLS: dict[tuple[Any, ...], str] = {}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _id_order(value: str) -> tuple[int, int, str]:
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


@dataclass(frozen=True)
class CDataSyncSettings:
    """A validated cdata_sync connection."""

    base_url: str
    ui_url: str
    verify: bool | str
    auth_style: str
    login: str | None
    workspace: str
    clock_skew_tolerance: float
    job_url_template: str
    token: str = field(repr=False)
    api_version: str = DEFAULT_API_VERSION


class CDataSyncHook(JobApiHook[CDataSyncSettings]):
    """CData Sync REST API v2: manage jobs and tasks of a workspace, execute, follow and cancel runs.

    :param conn_id: a `cdata_sync` connection (host ending in /api.rsc, the auth token as password).
    :param workspace: a workspace id instead of the connection's `workspace` extra.
    """

    default_conn_name = "cdata_sync_default"
    conn_type = "cdata_sync"
    hook_name = "CData Sync"
    vendor = VENDOR
    states = CDATA_SYNC_STATES
    can_cancel = True
    default_poll_interval = 10.0
    #: Sync writes a run's history entry when the run begins (v1 and v2 docs publish no delay): 10 s covers a
    #: busy server's queue; recovery after an ambiguous start looks this long before it starts again.
    start_visibility_lag = 10.0

    def __init__(self, conn_id: str | None = None, *, workspace: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        self._names: dict[str, tuple[str, str]] = {}
        self._v1_names: dict[str, str] = {}
        self.workspace_override = None if workspace is None else require_id("workspace", workspace,
                                                                             what="a workspace id")

    # -- connection ----------------------------------------------------------------------------------------
    def configure(self, conn: Any) -> CDataSyncSettings:
        s = ConnectionSettings(conn, self.conn_type)
        base = base_url_from(conn, default_scheme="https")
        parts = urlsplit(base)
        path = re.sub(r"/api\.rsc(?:/v2)?/?$", "", parts.path, flags=re.I).rstrip("/")
        origin = f"{parts.scheme}://{parts.netloc}"
        base = f"{origin}{path}/api.rsc"
        auth_style = s.choice("auth_style", AUTH_STYLES, "header")
        api_version = s.choice("api_version", API_VERSIONS, DEFAULT_API_VERSION)
        token = s.require(conn.password, "password",
                          "Set the Sync user's auth token (admin console: Settings > Users) in the Password field.")
        if auth_style == "basic":
            s.require(conn.login, "login", "Basic auth needs the Sync user name in the Login field (or set the "
                      "extra auth_style to header).")
        workspace = self.workspace_override or s.text("workspace", DEFAULT_WORKSPACE)
        if any(ch in workspace for ch in "\r\n\t\0") or not workspace:
            raise ConfigurationError(s.where("workspace"), f"{workspace!r} is not a workspace id",
                                     f"Give a workspace id, e.g. {DEFAULT_WORKSPACE}.")
        tolerance = s.number("clock_skew_tolerance", DEFAULT_CLOCK_SKEW_TOLERANCE)
        ui_url = (s.text("ui_url") or f"{origin}{path}").rstrip("/")
        if not ui_url.lower().startswith(("http://", "https://")):
            raise ConfigurationError(s.where("ui_url"), f"{ui_url!r} is not an http(s) URL",
                                     "Give the admin console's address, e.g. https://sync.example.com:8181")
        template = s.text("job_url_template", DEFAULT_JOB_URL_TEMPLATE)
        try:
            template.format(ui_url="u", workspace="w", job_id="1", job_name="n", history_id="2")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigurationError(s.where("job_url_template"), f"{template!r} cannot be filled in ({exc!r})",
                                     "Use only {ui_url}, {workspace}, {job_id}, {job_name} and {history_id}.") from None
        return CDataSyncSettings(base_url=base, ui_url=ui_url, verify=s.verify(), auth_style=auth_style,
                                 login=conn.login or None, workspace=workspace, clock_skew_tolerance=float(tolerance),
                                 job_url_template=template, token=token, api_version=api_version)

    def auth_strategy(self) -> AuthStrategy:
        settings: CDataSyncSettings = self.settings
        if settings.auth_style == "basic":
            return BasicAuth(settings.login or "", settings.token)
        return HeaderTokenAuth(AUTH_HEADER, settings.token)

    def error_from(self, response: ApiResponse) -> ApiError | None:
        """CData Sync's {"error": {"code", "message"}} as a typed error that says what to do."""
        if response.ok or response.status in response.request.accept:
            return None
        code, message = _error_body(response)
        label = response.request.label
        host = urlsplit(self.settings.base_url).netloc
        job = _job_in_path(response.request.path)
        if job == "?" and isinstance(response.request.json, dict):  # v1 names the job in the body
            job = str(field_of(response.request.json, "job_name", "job_id", default="?"))
        tag = f"HTTP {response.status}" + (f", {code}" if code else "")
        norm_code = _norm(code or "")
        text = message or ""
        if norm_code in _RUNNING_CODES or (response.status in (400, 409, 423) and _RUNNING_TEXT.search(text)):
            doing = {"update job": "update", "delete job": "delete", "delete task": "delete a task of",
                     "update task": "update a task of"}.get(label)
            if doing is None:
                fix = ("Wait for that run to end (if_running='wait'), follow it (if_running='attach'), or cancel it "
                       "(CDataSyncCancelJobOperator).")
                what = f"CData Sync job '{job}' is already running on {host}"
            else:
                fix = ("Change the job before running it, or wait for the run to end (CDataSyncJobSensor) or "
                       "cancel it (CDataSyncCancelJobOperator) first.")
                what = f"CData Sync cannot {doing} job '{job}' on {host} while the job is running"
            return JobAlreadyRunningError(f"{what} ({tag}: {text or 'refused'}). {fix}", vendor=VENDOR,
                                          endpoint=label, status=response.status, code=code)
        if response.status == 404 and code is None and message is None:
            # no Sync error in the answer: not the Sync API that said it (a wrong server URL), not a workspace
            return NotFoundError(
                f"{VENDOR} {label}: {host} answered HTTP 404 without a CData Sync error "
                f"({excerpt(response.body, 80) or 'empty answer'!r}), so {self.settings.base_url} is probably not "
                "the Sync API. Check the connection's Server URL: the Sync server with /api.rsc, e.g. "
                "https://sync.example.com:8181/api.rsc.",
                vendor=VENDOR, endpoint=label, status=404)
        if response.status == 404:
            what = _not_found_hint(code, response.request.path, self.settings.workspace)
            return NotFoundError(f"{VENDOR} {label} on {host}: {text or 'not found'} ({tag}). {what}",
                                 vendor=VENDOR, endpoint=label, status=404, code=code)
        return error_for_status(VENDOR, response, code, message)

    def run_url(self, run: JobRun) -> str | None:
        """The job's page in the Sync admin console (template from the connection)."""
        return self._url_of(run.job_id, run.run_id, run.details)

    def _url_of(self, job_id: str, run_id: str | None, details: dict[str, Any]) -> str:
        settings: CDataSyncSettings = self.settings
        key = (settings.job_url_template, settings.ui_url, settings.workspace, details.get("workspace"), job_id,
               details.get("job_name"), run_id)
        url = _RUN_URLS.get(key)
        if url is None:
            url = settings.job_url_template.format(
                ui_url=settings.ui_url,
                workspace=quote(str(details.get("workspace") or settings.workspace), safe=""),
                job_id=quote(str(job_id), safe=""),
                job_name=quote(str(details.get("job_name") or ""), safe=""),
                history_id=quote(str(run_id or ""), safe=""),
            )
            if len(_RUN_URLS) >= _NORMS_KEPT:
                _RUN_URLS.clear()
            _RUN_URLS[key] = url
        return url

    # -- which API the server has -------------------------------------------------------------------------------
    @operation
    def api_version(self) -> Operation[str]:
        """"v1" or "v2": the REST API this hook uses on the connection's server (see _api)."""
        return (yield from self._api())

    aapi_version = api_version.asynchronous

    def _api(self) -> Operation[str]:
        """"v1" or "v2": the connection's api_version, or (auto) what the server showed to one probe, once per
        connection per process: GET the workspace's v2 job list; 400/404/405/501 without a workspace error
        means the server has no API v2."""
        settings: CDataSyncSettings = self.settings
        if settings.api_version != "auto":
            return settings.api_version
        key = (str(self.conn_id), settings.base_url)
        with _detected_lock:
            known = _detected_api.get(key)
        if known is not None:
            return known
        probe = yield ApiRequest("GET", self._workspace_path(None), endpoint="detect API version",
                                 accept=_NO_V2_STATUSES)
        version = "v2"
        if not probe.ok:
            code, _ = _error_body(probe)
            if "workspace" not in _norm(code or ""):  # an unknown workspace is a v2 answer
                version = "v1"
        with _detected_lock:
            _detected_api[key] = version
        self.log.info("CData Sync at %s has REST API %s (detected; set the connection extra api_version to skip "
                      "the probe).", urlsplit(settings.base_url).netloc, version)
        return version

    def _v2_only(self, what: str) -> Operation[None]:
        """Raise a clear error when the server has only API v1 (`what` needs v2)."""
        if (yield from self._api()) == "v1":
            raise ConfigurationError(
                "api_version", f"is v1 on {urlsplit(self.settings.base_url).netloc}, and {what} needs CData Sync "
                "REST API v2", "Upgrade the Sync server to a version with API v2 (25.x or later), or do this in "
                "the admin console. v1 can execute, cancel and follow jobs.")

    # -- paths ------------------------------------------------------------------------------------------------
    def _workspace_path(self, workspace: str | None) -> str:
        ws = self.settings.workspace if workspace is None else require_id("workspace", workspace,
                                                                          what="a workspace id")
        return f"/v2/workspaces/{path_segment(ws)}/jobs"

    @staticmethod
    def _job_path(job_id: Any, *rest: Any) -> str:
        parts = [path_segment(require_id("job_id", job_id, what="a job id"))]
        parts += [r if r in ("execute", "cancel", "status", "history", "tasks", "last-run", "move") else
                  path_segment(r) for r in rest]
        return "/v2/jobs/" + "/".join(parts)

    # -- jobs --------------------------------------------------------------------------------------------------
    @operation
    def list_jobs(self, workspace: str | None = None) -> Operation[list[dict[str, Any]]]:
        """Every job of the workspace (the connection's unless given), ids as strings.

        :param workspace: the CData Sync workspace (default: the connection's)
        """
        path = self._workspace_path(workspace)
        if (yield from self._api()) == "v1":
            ws = workspace or self.settings.workspace
            params = {"workspaceId": ws} if ws != DEFAULT_WORKSPACE else None
            resp = yield ApiRequest("GET", "/jobs", params=params, endpoint="list jobs")
            return items_of(resp.json(), "list jobs", "jobs")
        resp = yield ApiRequest("GET", path, endpoint="list jobs")
        return items_of(resp.json(), "list jobs", "jobs")

    alist_jobs = list_jobs.asynchronous

    @operation
    def find_job(self, job_name: str, workspace: str | None = None) -> Operation[dict[str, Any]]:
        """The job called `job_name` in the workspace (exact name first, then ignoring case).

        :param job_name: the job's name
        :param workspace: the CData Sync workspace (default: the connection's)
        """
        name = require_id("job_name", job_name, what="a job name")
        jobs = yield from self.list_jobs.steps(self, workspace)
        named = [j for j in jobs if str(field_of(j, "name", "job_name", default="")) == name]
        if not named:
            named = [j for j in jobs if str(field_of(j, "name", "job_name", default="")).lower() == name.lower()]
        ws = workspace or self.settings.workspace
        if not named:
            known = ", ".join(sorted(str(field_of(j, "name", "job_name", default="?")) for j in jobs)[:10])
            raise NotFoundError(
                f"{VENDOR}: no job named '{name}' in workspace '{ws}' on "
                f"{urlsplit(self.settings.base_url).netloc}" + (f" (jobs there: {known})" if known else " (no jobs)")
                + ". Check the name, or the connection's workspace extra.",
                vendor=VENDOR, endpoint="list jobs")
        if len(named) > 1:
            raise ApiError(f"{VENDOR}: {len(named)} jobs are named '{name}' in workspace '{ws}' (ids "
                           f"{', '.join(str(field_of(j, 'id', 'job_id')) for j in named)}). Give job_id instead.",
                           vendor=VENDOR, endpoint="list jobs")
        return named[0]

    afind_job = find_job.asynchronous

    def _resolve(self, job: Any, lookup: str = "id") -> Operation[tuple[str, str | None]]:
        """(job id, job name if known) for a job given by id or by name."""
        how = require_choice("lookup", lookup, LOOKUPS)
        if how == "id":
            return require_id("job_id", job, what="a job id"), None
        name = require_id("job_name", job, what="a job name")
        if name in self._names:  # one lookup per hook (the operator asks before and at the start)
            return self._names[name]
        found = yield from self.find_job.steps(self, name)
        job_id = _str(field_of(found, "id", "job_id"))
        if job_id is None:
            raise MalformedResponseError(f"{VENDOR} job '{name}' in the job list has no id: {excerpt(repr(found))!r}",
                                         vendor=VENDOR, endpoint="list jobs")
        self._names[name] = (job_id, str(field_of(found, "name", "job_name", default=name)))
        return self._names[name]

    @operation
    def create_job(
        self,
        name: str,
        job_type: str = "Standard",
        *,
        source_connection_id: str | None = None,
        destination_connection_id: str | None = None,
        queries: list[str] | None = None,
        workspace: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Operation[dict[str, Any]]:
        """Create a job in the workspace. `settings` adds body fields as the API names them
        (e.g. {"schedule": {"enabled": False, "cron": ""}, "continue_on_error": True}).

        :param name: the new job's name
        :param job_type: Sync's job type (default "Standard")
        :param source_connection_id: the Sync connection to read from
        :param destination_connection_id: the Sync connection to write to
        :param queries: task queries to add, e.g. ["REPLICATE [Accounts]"]
        :param workspace: the CData Sync workspace (default: the connection's)
        :param settings: more body fields, as the API names them
        """
        body: dict[str, Any] = {"name": require_id("name", name, what="a job name"),
                                "type": require_choice("job_type", job_type, JOB_TYPES)}
        if source_connection_id is not None:
            body["source_connection_id"] = require_id("source_connection_id", source_connection_id)
        if destination_connection_id is not None:
            body["destination_connection_id"] = require_id("destination_connection_id", destination_connection_id)
        if queries is not None:
            if not isinstance(queries, (list, tuple)) or not all(isinstance(q, str) and q.strip() for q in queries):
                raise ConfigurationError("queries", f"is {queries!r}", "Give a list of query strings.")
            body["queries"] = list(queries)
        body.update(require_mapping("settings", settings))
        path = self._workspace_path(workspace)
        yield from self._v2_only("creating a job")
        resp = yield ApiRequest("POST", path, json=body, endpoint="create job")
        return stringify_ids(resp.json_object())

    acreate_job = create_job.asynchronous

    @operation
    def update_job(self, job_id: str, settings: dict[str, Any]) -> Operation[dict[str, Any]]:
        """Change a job's settings (body fields as the API names them, e.g. {"name": ..., "schedule": {...}}).

        Sync refuses while the job runs: that raises JobAlreadyRunningError saying so.

        :param job_id: the job's id
        :param settings: body fields to change, as the API names them
        """
        body = require_mapping("settings", settings)
        if not body:
            raise ConfigurationError("settings", "is empty", "Give the job fields to change, e.g. {'name': 'New'}.")
        path = self._job_path(job_id)
        yield from self._v2_only("changing a job")
        resp = yield ApiRequest("PUT", path, json=body, endpoint="update job")
        return stringify_ids(resp.json(allow_empty=True) or {})

    aupdate_job = update_job.asynchronous

    @operation
    def delete_job(self, job_id: str) -> Operation[None]:
        """Delete a job (refused while it runs: JobAlreadyRunningError).

        :param job_id: the job's id
        """
        path = self._job_path(job_id)
        yield from self._v2_only("deleting a job")
        yield ApiRequest("DELETE", path, endpoint="delete job", read="none")

    adelete_job = delete_job.asynchronous

    @operation
    def execute_job(self, job_id: str, tasks: list[str] | None = None) -> Operation[dict[str, Any]]:
        """Execute a job (all its active tasks, or the given task ids) and return the raw answer.

        There is no run id in it: use start_run() to get a run that can be followed.

        :param job_id: the job's id
        :param tasks: task ids to run (default: all the job's active tasks)
        """
        path = self._job_path(job_id, "execute")
        ids = task_id_list(tasks)
        if (yield from self._api()) == "v1":
            if ids:
                raise ConfigurationError("tasks", f"is {ids!r}, but API v1 executes a whole job only",
                                         "Leave tasks out (every active task runs), or use a server with API v2.")
            name = yield from self._v1_job_name(job_id)
            # WaitForResults false: v1 otherwise answers only when the job has ended (the request would time out).
            resp = yield ApiRequest("POST", "/executeJob", json={"JobName": name, "ExecutionType": "Run",
                                                                 "WaitForResults": "false"},
                                    endpoint="execute job")
        else:
            resp = yield ApiRequest("POST", path, json={"tasks": ids} if ids else {}, endpoint="execute job")
        try:
            answer = resp.json(allow_empty=True)
        except MalformedResponseError as exc:
            self.log.warning("The execute answer of job '%s' is not JSON (%s); the job was started.", job_id, exc)
            answer = None
        if isinstance(answer, dict) and isinstance(field_of(answer, "value"), list):
            rows = [r for r in answer["value"] if isinstance(r, dict)]  # v1: executeJobOutput rows
            answer = rows[0] if rows else {}
        return stringify_ids(answer) if isinstance(answer, dict) else {}

    aexecute_job = execute_job.asynchronous

    @operation
    def cancel_job(self, job_id: str) -> Operation[bool]:
        """Cancel the job's run: True if Sync took the cancel, False if the job was not running.

        :param job_id: the job's id
        """
        path = self._job_path(job_id, "cancel")
        try:
            if (yield from self._api()) == "v1":
                name = yield from self._v1_job_name(job_id)
                yield ApiRequest("POST", "/cancelJob", json={"JobName": name}, endpoint="cancel job",
                                 idempotent=True, read="none")
            else:
                yield ApiRequest("POST", path, endpoint="cancel job", idempotent=True, read="none")
        except ApiError as exc:
            if exc.status in (400, 409) and (_norm(exc.code or "") in _NOT_RUNNING_CODES
                                             or _NOT_RUNNING_TEXT.search(str(exc))):
                return False
            raise
        return True

    acancel_job = cancel_job.asynchronous

    @operation
    def job_status(self, job_id: str) -> Operation[dict[str, Any]]:
        """The job's status answer (UNCONFIRMED shape), ids as strings.

        :param job_id: the job's id
        """
        path = self._job_path(job_id, "status")
        if (yield from self._api()) == "v1":
            name = yield from self._v1_job_name(job_id)
            resp = yield ApiRequest("POST", "/getJobStatus", json={"JobName": name, "PushOnQuery": "true"},
                                    endpoint="job status", idempotent=True)
            return _v1_status(resp.json(), name)
        resp = yield ApiRequest("GET", path, endpoint="job status")
        return stringify_ids(resp.json_object())

    ajob_status = job_status.asynchronous

    @operation
    def list_history(self, job_id: str) -> Operation[list[dict[str, Any]]]:
        """The job's history entries (runs), ids as strings (v1: the newest V1_HISTORY_PAGE only).

        :param job_id: the job's id
        """
        _, entries = yield from self._history_page(job_id)
        return entries

    alist_history = list_history.asynchronous

    def _history_page(self, job_id: str) -> Operation[tuple[ApiResponse, list[dict[str, Any]]]]:
        """(the raw answer, for its Date header; the entries) of the job's history: v2 every entry, v1 the newest
        V1_HISTORY_PAGE through $filter / $orderby / $top."""
        path = self._job_path(job_id, "history")
        if (yield from self._api()) == "v1":
            name = yield from self._v1_job_name(job_id)
            params = {"$filter": f"JobName eq {_odata_text(name)}", "$orderby": "RunStartDate desc",
                      "$top": str(V1_HISTORY_PAGE)}
            resp = yield ApiRequest("GET", "/history", params=params, endpoint="list job history")
        else:
            resp = yield ApiRequest("GET", path, endpoint="list job history")
        return resp, items_of(resp.json(), "list job history", "history")

    @operation
    def get_history(self, job_id: str, history_id: str) -> Operation[dict[str, Any]]:
        """One history entry of the job, with its tasks' results where Sync gives them.

        :param job_id: the job's id
        :param history_id: the history entry's id
        """
        hid = require_id("history_id", history_id, what="a history id")
        path = self._job_path(job_id, "history", hid)
        if (yield from self._api()) == "v1":
            literal = hid if hid.isdigit() else _odata_text(hid)
            resp = yield ApiRequest("GET", "/history", params={"$filter": f"Id eq {literal}", "$top": "1"},
                                    endpoint="get job history entry")
            entries = items_of(resp.json(), "get job history entry", "history")
            if not entries:
                raise NotFoundError(f"{VENDOR} history entry '{hid}' of job '{job_id}' was not found on "
                                    f"{urlsplit(self.settings.base_url).netloc} (API v1 history). "
                                    + _not_found_hint("history", "/history/", self.settings.workspace),
                                    vendor=VENDOR, endpoint="get job history entry", status=404,
                                    code="HISTORY_NOT_FOUND")
            return entries[0]
        resp = yield ApiRequest("GET", path, endpoint="get job history entry")
        return _single(resp.json(), "get job history entry")

    aget_history = get_history.asynchronous

    def _v1_job_name(self, job_id: str) -> Operation[str]:
        """The name of the job with this id (API v1 addresses jobs and filters history by name), looked up once
        per hook."""
        known = self._v1_names.get(job_id) or next((n for i, n in self._names.values() if i == job_id), None)
        if known is not None:
            return known
        jobs = yield from self.list_jobs.steps(self)
        for job in jobs:
            if _str(field_of(job, "id", "job_id")) == job_id:
                name = _str(field_of(job, "name", "job_name"))
                if name:
                    self._v1_names[job_id] = name
                    return name
        raise NotFoundError(f"{VENDOR}: no job with id '{job_id}' in the job list of "
                            f"{urlsplit(self.settings.base_url).netloc} (API v1). Check the job id, or give "
                            "job_name instead.", vendor=VENDOR, endpoint="list jobs", status=404)

    # -- tasks -------------------------------------------------------------------------------------------------
    @operation
    def list_tasks(self, job_id: str) -> Operation[list[dict[str, Any]]]:
        """The job's tasks in order, ids as strings.

        :param job_id: the job's id
        """
        path = self._job_path(job_id, "tasks")
        yield from self._v2_only("task management")
        resp = yield ApiRequest("GET", path, endpoint="list tasks")
        return items_of(resp.json(), "list tasks", "tasks")

    alist_tasks = list_tasks.asynchronous

    @operation
    def get_task(self, job_id: str, task_id: str) -> Operation[dict[str, Any]]:
        """One task of the job.

        :param job_id: the job's id
        :param task_id: the task's id
        """
        tid = require_id("task_id", task_id, what="a task id")
        path = self._job_path(job_id, "tasks", tid)
        yield from self._v2_only("task management")
        resp = yield ApiRequest("GET", path, endpoint="get task")
        return _single(resp.json(), "get task")

    aget_task = get_task.asynchronous

    @operation
    def add_task(self, job_id: str, query: str, is_active: bool = True,
                 fields: dict[str, Any] | None = None) -> Operation[dict[str, Any]]:
        """Add a task (a query such as "REPLICATE [Accounts] SELECT * FROM [Accounts]") to the job.

        :param job_id: the job's id
        :param query: the task's query
        :param is_active: whether the task runs with the job (default True)
        :param fields: more task fields, as the API names them
        """
        body = {"query": _query(query), "is_active": _flag("is_active", is_active),
                **require_mapping("fields", fields)}
        path = self._job_path(job_id, "tasks")
        yield from self._v2_only("task management")
        resp = yield ApiRequest("POST", path, json=body, endpoint="add task")
        return _single(resp.json(), "add task")

    aadd_task = add_task.asynchronous

    @operation
    def update_task(self, job_id: str, task_id: str, *, query: str | None = None, is_active: bool | None = None,
                    index: int | None = None, fields: dict[str, Any] | None = None) -> Operation[dict[str, Any]]:
        """Change a task's query, whether it is active, or its position (only what is given is sent).

        :param job_id: the job's id
        :param task_id: the task's id
        :param query: a new query
        :param is_active: whether the task runs with the job
        :param index: a new 0-based position
        :param fields: more task fields, as the API names them
        """
        tid = require_id("task_id", task_id, what="a task id")
        body = dict(require_mapping("fields", fields))
        if query is not None:
            body["query"] = _query(query)
        if is_active is not None:
            body["is_active"] = _flag("is_active", is_active)
        if index is not None:
            body["index"] = _index("index", index)
        if not body:
            raise ConfigurationError("update_task", "has nothing to change", "Give query, is_active, index or fields.")
        path = self._job_path(job_id, "tasks", tid)
        yield from self._v2_only("task management")
        resp = yield ApiRequest("PUT", path, json=body, endpoint="update task")
        return stringify_ids(resp.json(allow_empty=True) or {})

    aupdate_task = update_task.asynchronous

    @operation
    def delete_task(self, job_id: str, task_id: str) -> Operation[None]:
        """Delete a task (refused while it runs: JobAlreadyRunningError).

        :param job_id: the job's id
        :param task_id: the task's id
        """
        tid = require_id("task_id", task_id, what="a task id")
        path = self._job_path(job_id, "tasks", tid)
        yield from self._v2_only("task management")
        yield ApiRequest("DELETE", path, endpoint="delete task", read="none")

    adelete_task = delete_task.asynchronous

    @operation
    def move_task(self, job_id: str, task_id: str, from_index: int, to_index: int) -> Operation[Any]:
        """Move a task from position `from_index` to `to_index` (0-based); returns Sync's answer.

        :param job_id: the job's id
        :param task_id: the task's id
        :param from_index: its 0-based position now
        :param to_index: its 0-based position after the move
        """
        tid = require_id("task_id", task_id, what="a task id")
        body = {"from_index": _index("from_index", from_index), "to_index": _index("to_index", to_index)}
        path = self._job_path(job_id, "tasks", tid, "move")
        yield from self._v2_only("task management")
        resp = yield ApiRequest("POST", path, json=body, endpoint="move task")
        return stringify_ids(resp.json(allow_empty=True))

    amove_task = move_task.asynchronous

    @operation
    def tasks_last_run(self, job_id: str) -> Operation[list[dict[str, Any]]]:
        """The last run of each task of the job.

        :param job_id: the job's id
        """
        path = self._job_path(job_id, "tasks", "last-run")
        yield from self._v2_only("task management")
        resp = yield ApiRequest("GET", path, endpoint="tasks last run")
        return items_of(resp.json(), "tasks last run", "tasks")

    atasks_last_run = tasks_last_run.asynchronous

    @operation
    def task_history(self, job_id: str, task_id: str) -> Operation[list[dict[str, Any]]]:
        """Every run of one task.

        :param job_id: the job's id
        :param task_id: the task's id
        """
        tid = require_id("task_id", task_id, what="a task id")
        path = self._job_path(job_id, "tasks", tid, "history")
        yield from self._v2_only("task management")
        resp = yield ApiRequest("GET", path, endpoint="task history")
        return items_of(resp.json(), "task history", "history")

    atask_history = task_history.asynchronous

    # -- the standard job calls ----------------------------------------------------------------------------
    @operation
    def start_marker(self, job: str, *, lookup: str = "id", tasks: list[str] | None = None
                     ) -> Operation[dict[str, Any]]:
        """What the job's history shows just before a start (see the module docstring): the server's clock,
        ``not_before``, the entries that are NOT ours (``excluded_history_ids``), the newest entry's id and start;
        on API v1 also whether the job was busy (its status names no run id to tell runs apart).

        :param job: the job's id (or its name, with lookup="name")
        :param lookup: "id" (default) or "name": how `job` names the job
        :param tasks: task ids to run (default: all the job's active tasks)
        """
        job_id, job_name = yield from self._resolve(job, lookup)
        task_ids = task_id_list(tasks)
        version = yield from self._api()
        if version == "v1" and task_ids:
            raise ConfigurationError("tasks", f"is {task_ids!r}, but API v1 executes a whole job only",
                                     "Leave tasks out (every active task runs), or use a server with API v2.")
        before, entries = yield from self._history_page(job_id)
        moment, clock, offset = _server_moment(before)
        not_before = moment - timedelta(seconds=self.settings.clock_skew_tolerance)
        excluded, latest = [], None
        for entry in entries:
            hid = _str(field_of(entry, *_ENTRY_ID_KEYS))
            start = parse_time(field_of(entry, *_START_KEYS))
            if hid is not None and (start is None or start >= not_before):
                excluded.append(hid)
            if hid is not None and (latest is None or _id_order(hid) > _id_order(latest[0])):
                latest = (hid, start)
        if clock == "server" and abs(offset) > self.settings.clock_skew_tolerance:
            self.log.info("CData Sync's clock is %+.0fs from ours; runs are matched on the server's clock.", offset)
        marker: dict[str, Any] = {
            "at": time.time(), "job_id": job_id, "job_name": job_name, "api_version": version,
            "not_before": _iso(not_before), "clock": clock, "server_clock_offset": round(offset, 3),
            "excluded_history_ids": excluded, "latest_history_id": latest[0] if latest else None,
            "latest_start": _iso(latest[1]) if latest else None,
        }
        if version == "v1":
            status = yield from self.job_status.steps(self, job_id)
            word = _str(field_of(status, *_STATUS_KEYS))
            marker["busy"] = not (word is None or word.strip().lower() in IDLE_WORDS or self.states(word).is_terminal)
        return marker

    astart_marker = start_marker.asynchronous

    @operation
    def find_started_run(self, job: str, marker: Mapping[str, Any], *, lookup: str = "id",
                         tasks: list[str] | None = None) -> Operation[JobRun | None]:
        """The run of `job` that began after `marker` was taken, as it is now (also when it has already ended:
        it is looked for in the history first); None when Sync shows no such run.

        :param job: the job's id (or its name, with lookup="name")
        :param marker: what start_marker() returned just before the start
        :param lookup: "id" (default) or "name": how `job` names the job
        :param tasks: task ids to run (default: all the job's active tasks)
        """
        run = self._run_after(marker, (yield from self._resolve(job, lookup)), task_id_list(tasks))
        return (yield from self._locate(run, strict=True))

    afind_started_run = find_started_run.asynchronous

    @operation
    def start_run(self, job: str, *, lookup: str = "id", tasks: list[str] | None = None,
                  marker: Mapping[str, Any] | None = None) -> Operation[JobRun]:
        """Execute the job (by id, or by name with lookup="name"), optionally only some tasks; the run as
        far as it is visible (see the module docstring for how it is identified). `marker`: a start_marker() of
        this job taken just now (else one is taken here).

        :param job: the job's id (or its name, with lookup="name")
        :param lookup: "id" (default) or "name": how `job` names the job
        :param tasks: task ids to run (default: all the job's active tasks)
        :param marker: a start_marker() of this job taken just now (else one is taken here)
        """
        job_id, job_name = yield from self._resolve(job, lookup)
        task_ids = task_id_list(tasks)
        if marker is None or str(marker.get("job_id")) != job_id or "not_before" not in marker:
            marker = yield from self.start_marker.steps(self, job_id, tasks=task_ids)
        answer = yield from self.execute_job.steps(self, job_id, task_ids)
        run = self._run_after(marker, (job_id, job_name or _str(field_of(answer, "job_name", "name"))), task_ids)
        run = run.with_(run_id=_str(field_of(answer, *_STATUS_RUN_ID_KEYS)),
                        vendor_state=_str(field_of(answer, *_STATUS_KEYS)))
        run = run.with_(url=self.run_url(run))
        try:
            return (yield from self.get_run.steps(self, run))
        except ApiError as exc:  # the job started: never fail the start on the first look at it
            self.log.info("Job '%s' was executed; its run is not visible yet (%s).", job_id, exc)
            return run

    astart_run = start_run.asynchronous

    def _run_after(self, marker: Mapping[str, Any], job: tuple[str, str | None], tasks: list[str] | None) -> JobRun:
        """The run begun after `marker`, not yet identified: what get_run() needs to find it."""
        job_id, job_name = job
        details = {"job_name": job_name or marker.get("job_name"), "workspace": self.settings.workspace,
                   "not_before": marker.get("not_before"), "clock": marker.get("clock"),
                   "server_clock_offset": marker.get("server_clock_offset"),
                   "excluded_history_ids": list(marker.get("excluded_history_ids") or []),
                   "tasks_requested": tasks}
        if marker.get("busy") is not None:
            details["busy_before"] = bool(marker["busy"])
        run = JobRun(VENDOR, job_id, None, JobState.QUEUED, None,
                     details={k: v for k, v in details.items() if v is not None})
        return run.with_(url=self.run_url(run))

    @operation
    def list_recent_runs(self, job: str, *, lookup: str = "id", **options: Any) -> Operation[list[JobRun]]:
        """The job's history (v2 every entry, v1 the newest page) as JobRuns, oldest first.

        :param job: the job's id, or its name with lookup="name"
        :param lookup: "id" or "name": how `job` names the job
        """
        job_id, job_name = yield from self._resolve(job, lookup)
        _, entries = yield from self._history_page(job_id)
        runs = []
        for entry in entries:
            hid = _str(field_of(entry, *_ENTRY_ID_KEYS))
            if hid is None:
                continue
            seed = JobRun(VENDOR, job_id, hid, JobState.RUNNING, details={"job_name": job_name} if job_name else {})
            runs.append(self.run_from_entry(seed, entry, hid))
        return sorted(runs, key=lambda r: (r.started_at or "", r.run_id or ""))
    alist_recent_runs = list_recent_runs.asynchronous

    @operation
    def get_run(self, run: JobRun) -> Operation[JobRun]:
        """The run now: its history entry (once known), else the job's history and status, as described in the
        module.

        :param run: the run to act on, as start_run() or get_run() returned it (its ids and details)
        """
        if run.details.get("lookup") == "name":
            job_id, job_name = yield from self._resolve(run.job_id, "name")
            rest = {k: v for k, v in run.details.items() if k != "lookup"}
            run = run.with_(job_id=job_id, details={**rest, "job_name": job_name})
        if run.details.get("job_name") and run.job_id:
            self._v1_names.setdefault(str(run.job_id), str(run.details["job_name"]))
        history_id = run.run_id or run.details.get("history_id")
        if history_id:
            try:
                entry = yield from self.get_history.steps(self, run.job_id, history_id)
            except NotFoundError:
                # Some servers list a run only once it ended: while the status names it, it is going.
                status = yield from self.job_status.steps(self, run.job_id)
                if _str(field_of(status, *_STATUS_RUN_ID_KEYS)) != str(history_id):
                    raise
                entry = status
            return self.run_from_entry(run, entry, str(history_id))
        fresh = yield from self._locate(run, strict=False)
        if fresh is None:
            since = run.details.get("not_before")
            raise NotFoundError(
                f"{VENDOR}: no run of job '{run.job_id}'" + (f" that started at or after {since}" if since else "")
                + " is visible in its history or status yet", vendor=VENDOR, endpoint="list job history",
                code="RUN_NOT_VISIBLE")
        return fresh

    aget_run = get_run.asynchronous

    def _locate(self, run: JobRun, *, strict: bool) -> Operation[JobRun | None]:
        """Our run among the job's history entries (finished or not), else from the job's status; None if
        neither shows it. `strict`: adopt a status that names no run id and no start time only if the job was
        idle when the marker was taken (else it may be someone else's run)."""
        if run.details.get("job_name"):
            self._v1_names.setdefault(str(run.job_id), str(run.details["job_name"]))
        entries = yield from self.list_history.steps(self, run.job_id)
        chosen = pick_entry(entries, parse_time(run.details.get("not_before")),
                            run.details.get("excluded_history_ids") or (), latest=bool(run.details.get("latest")))
        if chosen is not None:
            history_id = str(field_of(chosen, *_ENTRY_ID_KEYS))
            summary = field_of(chosen, *_TASK_LIST_KEYS) is None or field_of(chosen, *_STATUS_KEYS) is None
            if summary and (yield from self._api()) == "v2":
                try:  # the list may hold summaries: read the entry itself for its tasks
                    chosen = yield from self.get_history.steps(self, run.job_id, history_id)
                except NotFoundError:
                    pass
            return self.run_from_entry(run, chosen, history_id)
        status = yield from self.job_status.steps(self, run.job_id)
        fresh = self._run_from_status(run, status)
        if (fresh is not None and strict and fresh.run_id is None
                and parse_time(field_of(status, *_START_KEYS)) is None and run.details.get("busy_before") is not False):
            return None
        return fresh

    @operation
    def find_active_run(self, job: str, *, lookup: str = "id", tasks: list[str] | None = None
                        ) -> Operation[JobRun | None]:
        """The job's run that is going now, if any (Sync runs a job once at a time).

        :param job: the job's id (or its name, with lookup="name")
        :param lookup: "id" (default) or "name": how `job` names the job
        :param tasks: ignored (a job runs as a whole)
        """
        job_id, job_name = yield from self._resolve(job, lookup)
        status = yield from self.job_status.steps(self, job_id)
        word = _str(field_of(status, *_STATUS_KEYS))
        if word is None or word.strip().lower() in IDLE_WORDS or self.states(word).is_terminal:
            return None
        start = parse_time(field_of(status, *_START_KEYS))
        history_id = _str(field_of(status, *_STATUS_RUN_ID_KEYS))
        details: dict[str, Any] = {"job_name": job_name or _str(field_of(status, "job_name", "name")),
                                   "workspace": self.settings.workspace, "attached": True}
        if history_id is None:
            if start is not None:
                details["not_before"] = _iso(start - timedelta(seconds=self.settings.clock_skew_tolerance))
            else:
                details["latest"] = True
        run = JobRun(VENDOR, job_id, history_id, self.states(word), word,
                     details={k: v for k, v in details.items() if v is not None})
        return self.run_from_entry(run, status, history_id)

    afind_active_run = find_active_run.asynchronous

    @operation
    def cancel_run(self, run: JobRun) -> Operation[bool]:
        """Cancel the run if it is still going (Sync cancels the job's one running run, which is ours then).

        :param run: the run to act on, as start_run() or get_run() returned it (its ids and details)
        """
        try:
            fresh = yield from self.get_run.steps(self, run)
        except NotFoundError:
            fresh = None  # not visible yet: the job may still be starting
        if fresh is not None and fresh.is_terminal:
            return False
        return (yield from self.cancel_job.steps(self, run.job_id))

    acancel_run = cancel_run.asynchronous

    def connection_test_steps(self) -> Operation[str]:
        jobs = yield from self.list_jobs.steps(self)
        return (f"Connected to CData Sync at {self.settings.base_url}; workspace '{self.settings.workspace}' "
                f"has {len(jobs)} job(s).")

    # -- parsing ---------------------------------------------------------------------------------------------
    def _run_from_status(self, run: JobRun, status: dict[str, Any]) -> JobRun | None:
        """The run from the job's status, if that status is about our run (None: it is not, or no run)."""
        word = _str(field_of(status, *_STATUS_KEYS))
        if word is None or word.strip().lower() in IDLE_WORDS:
            return None
        history_id = _str(field_of(status, *_STATUS_RUN_ID_KEYS))
        if history_id is not None and history_id in (run.details.get("excluded_history_ids") or ()):
            return None
        start = parse_time(field_of(status, *_START_KEYS))
        not_before = parse_time(run.details.get("not_before"))
        if not_before is not None and start is not None and start < not_before:
            return None
        if self.states(word).is_terminal and not_before is not None and start is None and history_id is None:
            return None  # a finished run we cannot tell from an older one: wait for the history
        return self.run_from_entry(run, status, history_id)

    def run_from_entry(self, run: JobRun, entry: dict[str, Any], history_id: str | None) -> JobRun:
        """A JobRun from a history entry (or a status answer): job state, task results, records affected.

        A run fails if any task failed, even when Sync calls the whole run successful.
        """
        fields = fields_of(entry)
        word = _str(pick(fields, *_STATUS_KEYS))
        raw_tasks = pick(fields, *_TASK_LIST_KEYS)
        tasks = [self.task_result(t) for t in raw_tasks if isinstance(t, dict)] if isinstance(raw_tasks, list) else []
        state = self.states(word) if word is not None else JobState.RUNNING
        failed = [t for t in tasks if t["state"] == JobState.FAILED.value]
        warned = [t for t in tasks if t["state"] == JobState.SUCCESS_WITH_WARNINGS.value]
        if state.is_success and failed:
            state = JobState.FAILED
        elif state == JobState.SUCCESS and warned:
            state = JobState.SUCCESS_WITH_WARNINGS
        records = _count(pick(fields, *_RECORD_KEYS))
        if records is None and tasks and any(t["records_affected"] is not None for t in tasks):
            records = sum(t["records_affected"] or 0 for t in tasks)
        done = [t for t in tasks if JobState(t["state"]).is_terminal]
        details = {k: v for k, v in run.details.items() if k not in ("message", "failed_tasks")}
        details.update({"history_id": history_id, "tasks": tasks, "records_affected": records})
        if failed:
            details["failed_tasks"] = [t["task_id"] for t in failed]
        summary = f"{len(done)}/{len(tasks)} tasks done" if tasks else (word or "no status yet")
        summary += f", {records} records affected" if records is not None else ""
        entry_message = _str(pick(fields, *_MESSAGE_KEYS))
        if state == JobState.FAILED:
            if failed:
                details["message"] = f"{len(failed)} of {len(tasks)} tasks failed: " + "; ".join(
                    describe_task(t) for t in failed)
            else:
                details["message"] = f"CData Sync reports {word}" + (f": {entry_message}" if entry_message else "")
        elif state == JobState.CANCELLED:
            details["message"] = "the run was cancelled" + (f": {entry_message}" if entry_message else "")
        if tasks and not state.is_terminal:
            progress: float | None = 100.0 * len(done) / len(tasks)
        else:
            progress = 100.0 if state.is_terminal else None
        run_id = history_id if history_id is not None else run.run_id
        details = {k: v for k, v in details.items() if v is not None or k == "records_affected"}
        return run.with_(  # one JobRun per poll, its url (kept per run) included
            run_id=run_id,
            state=state,
            vendor_state=word,
            started_at=_iso(parse_time(pick(fields, *_START_KEYS))) or run.started_at,
            ended_at=_iso(parse_time(pick(fields, *_END_KEYS))) if state.is_terminal else None,
            progress=progress,
            details=details,
            summary=summary,
            url=self._url_of(run.job_id, run_id, details),
        )

    def task_result(self, item: dict[str, Any]) -> dict[str, Any]:
        """One task's result in a run, in plain JSON: ids as strings, the state word mapped."""
        fields = fields_of(item)
        word = _str(pick(fields, *_STATUS_KEYS))
        state = self.states(word) if word is not None else JobState.QUEUED
        query = _str(pick(fields, "query", "task_query"))
        return {
            "task_id": _str(pick(fields, "task_id", "id")),
            "table": _str(pick(fields, "table", "table_name", "task_name", "name")),
            "query": query,
            "status": word,
            "state": state.value,
            "records_affected": _count(pick(fields, *_RECORD_KEYS)),
            "message": _str(pick(fields, *_MESSAGE_KEYS)),
        }


def pick_entry(entries: Iterable[dict[str, Any]], not_before: datetime | None, excluded: Iterable[str],
               *, latest: bool = False) -> dict[str, Any] | None:
    """Our run among history entries: the earliest one not excluded that started at or after `not_before`
    (`latest`: the newest entry, for a sensor given no history id)."""
    skip = {str(x) for x in excluded}
    ranked = []
    for entry in entries:
        hid = _str(field_of(entry, *_ENTRY_ID_KEYS))
        if hid is None or hid in skip:
            continue
        start = parse_time(field_of(entry, *_START_KEYS))
        if not_before is not None and start is not None and start < not_before:
            continue
        ranked.append((start, hid, entry))
    if not ranked:
        return None
    if latest:
        return max(ranked, key=lambda r: (r[0] is not None, r[0] or datetime.min.replace(tzinfo=UTC),
                                          _id_order(r[1])))[2]
    return min(ranked, key=lambda r: (r[0] is None, r[0] or datetime.min.replace(tzinfo=UTC), _id_order(r[1])))[2]


def describe_task(task: dict[str, Any]) -> str:
    """'task 9007199254750002 (Contacts): <message>' for logs and failure messages."""
    what = task.get("table") or task.get("query")
    text = f"task {task.get('task_id') or '?'}" + (f" ({what})" if what else "")
    text += f" {task.get('status') or task.get('state')}"
    if task.get("records_affected") is not None:
        text += f", {task['records_affected']} records affected"
    if task.get("message"):
        text += f": {task['message']}"
    return text


# --- small helpers -------------------------------------------------------------------------------------------
def _server_moment(response: ApiResponse) -> tuple[datetime, str, float]:
    """(the server's time, "server" or "local", server minus local seconds) from a response's Date header."""
    local = datetime.now(UTC)
    raw = response.header("Date")
    try:
        moment = parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError, IndexError):
        moment = None
    if moment is None:
        return local, "local", 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, "server", (moment - local).total_seconds()


def _error_body(response: ApiResponse) -> tuple[str | None, str | None]:
    """(code, message) from {"error": {"code", "message"}} and its looser variants."""
    try:
        body = response.json()
    except MalformedResponseError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = field_of(body, "error")
    if isinstance(error, dict):
        return _str(field_of(error, "code")), _str(field_of(error, "message", "detail"))
    if isinstance(error, str):
        return _str(field_of(body, "code")), error
    return _str(field_of(body, "code")), _str(field_of(body, "message", "detail"))


def _odata_text(value: str) -> str:
    """A string literal for an OData $filter: quoted, quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def _v1_status(body: Any, name: str) -> dict[str, Any]:
    """The v1 getJobStatus answer as one object: a bare object, or OData {"value": [rows]} where the job's own row
    (no Query) wins, else the first row naming the job (UNCONFIRMED shape)."""
    if isinstance(body, dict) and isinstance(field_of(body, "value"), list):
        rows = [r for r in field_of(body, "value") if isinstance(r, dict)]
        mine = [r for r in rows if str(field_of(r, "job_name", default=name)) == name] or rows
        job_rows = [r for r in mine if field_of(r, "query") is None]
        if not (job_rows or mine):
            return {}
        return stringify_ids((job_rows or mine)[0])
    return _single(body, "job status")


def _job_in_path(path: str) -> str:
    match = re.search(r"/v2/jobs/([^/?]+)", path)
    return match.group(1) if match else "?"


def _not_found_hint(code: str | None, path: str, workspace: str) -> str:
    norm = _norm(code or "")
    if "workspace" in norm or ("/workspaces/" in path and "job" not in norm):
        return (f"Check the workspace id (the connection's workspace extra is '{workspace}'; the API key's user "
                "must be a member).")
    if "task" in norm or "/tasks/" in path:
        return "Check the task id (CDataSyncHook.list_tasks(job_id) lists the job's tasks)."
    if "history" in norm or "/history/" in path:
        return "Check the history id (CDataSyncHook.list_history(job_id) lists the job's runs)."
    return "Check the job id (CDataSyncHook.list_jobs() lists the workspace's jobs), or give job_name instead."


def _single(body: Any, what: str) -> dict[str, Any]:
    """One object, also when wrapped as {"value": [obj]}."""
    if isinstance(body, dict):
        wrapped = field_of(body, "value")
        if isinstance(wrapped, list) and len(wrapped) == 1 and isinstance(wrapped[0], dict) and len(body) <= 2:
            return stringify_ids(wrapped[0])
        return stringify_ids(body)
    raise MalformedResponseError(f"{VENDOR} {what} returned JSON that is not an object: {excerpt(repr(body))!r}",
                                 vendor=VENDOR, endpoint=what)


def _query(query: Any) -> str:
    if not isinstance(query, str) or not query.strip():
        raise ConfigurationError("query", f"is {query!r}",
                                 "Give the task's query, e.g. 'REPLICATE [Accounts] SELECT * FROM [Accounts]'.")
    return query


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(name, f"is {value!r}", "Use True or False.")
    return value


def _index(name: str, value: Any) -> int:
    if not _is_int(value) or value < 0:
        raise ConfigurationError(name, f"is {value!r}", "Give a task position: an integer from 0.")
    return value
