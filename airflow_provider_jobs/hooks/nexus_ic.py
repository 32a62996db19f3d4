"""Wood NEXUS IC (IC-Web REST API): report jobs, server job status and job content.

Everything NEXUS-specific lives here: the BASIC / APIKEY login that returns a temporary `hash`
carried as a query parameter on every later call, the two login and status styles (up to 6.8 and
from 6.9), the licence check, report templates found by name, the 1-6 status codes (6, paused, is
not terminal) and the job content download.
"""

from __future__ import annotations

import base64
import email.message
import hashlib
import json
import mimetypes
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_jobs.connection_forms.nexus_ic import (
    CONNECTION_FORM,
    DEFAULT_API_VERSION,
    DEFAULT_MAX_PAUSED_SECONDS,
    DEFAULT_SESSION_IDLE_TIMEOUT,
    DEFAULT_SESSION_MAX_AGE,
    DEFAULT_TEMPLATE_KEY_FIELD,
    JOB_STATUS_FORMS,
)
from airflow_provider_jobs.core.auth import AuthStrategy, Credential, LoginAuth, credential_cache, merged
from airflow_provider_jobs.core.compat import mask_secret
from airflow_provider_jobs.core.errors import (
    AmbiguousStartError,
    ApiError,
    AuthenticationError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    excerpt,
)
from airflow_provider_jobs.core.hook import ConnectionSettings, JobApiHook, base_url_from, operation
from airflow_provider_jobs.core.http import (
    ApiRequest,
    ApiResponse,
    Login,
    Operation,
    error_for_status,
    path_segment,
)
from airflow_provider_jobs.core.inputs import require_choice, require_id, require_mapping
from airflow_provider_jobs.core.runs import JobRun, JobState, StateVocabulary

VENDOR = "nexus_ic"
__all__ = ["CONNECTION_FORM", "OUTPUT_TYPES", "NexusICHook", "NexusICLicenceError", "report_parameters"]

#: The report output types of IC-Web 6.9's report resource (pdf included; pynexusic's docstring names the
#: first four only).
OUTPUT_TYPES = ("json", "html", "xlsx", "rtf", "pdf")
#: Output types whose content is binary: they can only be saved to a file, not passed through XCom.
BINARY_OUTPUT_TYPES = ("xlsx", "pdf")
#: The documented 404 text of jobStatus / jobContent for an unknown job (any other 404 is a missing route).
JOB_NOT_FOUND_TEXT = "job identified by id was not found"
#: Where a host is given without a path: the hosted (SaaS) layout, the only one with server jobs, which both
#: independent clients (pynexusic, NexusPythonWrapper) use.
HOSTED_PATH = "data/icweb.dll"
TEMPLATE_TABLE = "Report_Template"
TEMPLATE_NAME_FIELD = "Name"

WAITING, STARTING, RUNNING, COMPLETED, FAILED, PAUSED = 1, 2, 3, 4, 5, 6
STATUS_NAMES = {
    WAITING: "Waiting to Start",
    STARTING: "Starting",
    RUNNING: "Running",
    COMPLETED: "Completed",
    FAILED: "Failed",
    PAUSED: "Paused",
}
_STATE_OF_CODE = {
    WAITING: JobState.QUEUED,
    STARTING: JobState.RUNNING,
    RUNNING: JobState.RUNNING,
    COMPLETED: JobState.SUCCESS,
    FAILED: JobState.FAILED,
    PAUSED: JobState.RUNNING,  # paused is not terminal: a paused job may be resumed
}
NEXUS_IC_STATES = StateVocabulary(
    VENDOR,
    {**{STATUS_NAMES[c]: s for c, s in _STATE_OF_CODE.items()},
     **{str(c): s for c, s in _STATE_OF_CODE.items()}},
)

#: details keys that describe one poll only; dropped before the next answer is read.
_PER_POLL_KEYS = ("message", "percent_complete_raw", "status_code")
_TEXT_TYPES = ("application/rtf", "application/xml", "application/javascript", "application/csv")
_EXTENSIONS = {
    "application/json": ".json", "text/html": ".html", "application/rtf": ".rtf", "text/rtf": ".rtf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx", "application/pdf": ".pdf",
}


# --- the hash never reaches a log line ---------------------------------------------------------------
_HASH_IN_URL = re.compile(r"([?&]hash=)[^&#\s\"']+", re.IGNORECASE)


def redact_hash(text: str) -> str:
    """`text` with any `hash=<value>` query parameter replaced by `hash=***`."""
    return _HASH_IN_URL.sub(r"\1***", text)


# --- small parsers -----------------------------------------------------------------------------------
def parse_api_version(value: Any, where: str = "api_version") -> tuple[int, int]:
    """'6.9' / '6.10' / '6.8.1234' / 7 as (major, minor)."""
    text = str(value).strip()
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.\d+)*", text)
    if not match:
        raise ConfigurationError(where, f"{value!r} is not a version",
                                 'Give the IC-Web version, e.g. "6.9" or "6.8".')
    return int(match.group(1)), int(match.group(2) or 0)


def require_template_id(value: Any, field_name: str = "template_id") -> str:
    """A report template key: an integer (kept as a string)."""
    text = require_id(field_name, value, what="a report template key (an integer)")
    if not text.isdigit():
        raise ConfigurationError(
            field_name, f"{text!r} is not an integer key",
            "Give the template's key (e.g. 12), or give its name as template_name.",
        )
    return text


def require_output_type(value: Any, field_name: str = "output_type") -> str:
    return require_choice(field_name, value, OUTPUT_TYPES)


_PARAMETER_FIX = ('Give parameters as a dict of names to values, e.g. {"Component_ID": 12}, or as the documented '
                  'list [{"parameterName": "Component_ID", "value": 12}].')


def report_parameters(value: Any, field_name: str = "parameters") -> list[dict[str, Any]]:
    """Report parameters as IC-Web's documented `Parameter[]`: `[{"parameterName": .., "value": ..}]`.

    A dict of names to values is converted; a list is checked item by item (only `parameterName` and `value`
    are sent). Raises ConfigurationError naming the field (e.g. `parameters[1].parameterName`).
    """
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [{"parameterName": k, "value": v} for k, v in require_mapping(field_name, value).items()]
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ConfigurationError(field_name, f"is a {type(value).__name__}", _PARAMETER_FIX)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        where = f"{field_name}[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigurationError(where, f"is a {type(item).__name__}, not a Parameter object", _PARAMETER_FIX)
        name = item.get("parameterName")
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"{where}.parameterName", f"is {name!r}",
                                     "Give the parameter's name (as GET /report/{key} lists it) as a string.")
        if "value" not in item:
            raise ConfigurationError(f"{where}.value", "is missing",
                                     f'Give the value of {name!r}: {{"parameterName": {name!r}, "value": ...}}.')
        if name in seen:
            raise ConfigurationError(f"{where}.parameterName", f"{name!r} is given twice",
                                     "Give each parameter once (a multi-select value is a list).")
        seen.add(name)
        out.append({"parameterName": name, "value": item["value"]})
    return out


def parameter_names(parameters: list[dict[str, Any]]) -> list[str]:
    return sorted(p["parameterName"] for p in parameters)


def _job_digest(job_id: Any) -> str:
    """A short, stable digest of a server job id (what a start marker keeps of the jobs seen before)."""
    return hashlib.sha1(str(job_id).strip().upper().encode()).hexdigest()[:12]


def file_name_from(disposition: str | None) -> str | None:
    """The file name of a Content-Disposition header (filename* or filename), reduced to a bare name."""
    if not disposition:
        return None
    message = email.message.Message()
    message["content-disposition"] = disposition
    try:
        name = message.get_filename()
    except Exception:  # a malformed header: fall back to a generated name
        return None
    return safe_file_name(name) if name else None


def safe_file_name(name: str) -> str | None:
    """A file name with any directory part removed; None when nothing usable is left."""
    base = re.split(r"[\\/]", str(name))[-1].strip().strip("\0")
    base = "".join(ch for ch in base if ch >= " ")
    if base in ("", ".", ".."):
        return None
    return base


def default_file_name(job_id: str, content_type: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "", job_id) or "content"
    ext = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type or "") or ".bin"
    return f"nexus_ic_job_{stem}{ext}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _status_code(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def _clock(value: Any) -> str | None:
    # startClock / endClock are strings when known (the reference gives "False" as their default)
    return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class NexusICSettings:
    base_url: str
    host: str
    api_version: tuple[int, int]
    auth_type: str
    login: str | None
    secret: str = field(repr=False)
    verify: bool | str = True
    max_paused_seconds: float | None = DEFAULT_MAX_PAUSED_SECONDS
    session_idle_timeout: float = DEFAULT_SESSION_IDLE_TIMEOUT
    session_max_age: float = DEFAULT_SESSION_MAX_AGE
    template_key_field: str = DEFAULT_TEMPLATE_KEY_FIELD
    #: "path" or "query" when the connection says; None: from api_version.
    job_status_form: str | None = None

    @property
    def post_login(self) -> bool:
        """6.9 and later log in with POST; earlier versions with GET."""
        return self.api_version >= (6, 9)

    @property
    def status_in_path(self) -> bool:
        """The status form tried first: the connection's job_status_form, else jobStatus/{id} from 6.9 and
        jobStatus?id= before."""
        if self.job_status_form is not None:
            return self.job_status_form == "path"
        return self.api_version >= (6, 9)

    @property
    def version_text(self) -> str:
        return f"{self.api_version[0]}.{self.api_version[1]}"


class NexusICLicenceError(ApiError):
    """The licence of the connection's user does not include server jobs (hosted SaaS only)."""


class NexusICHook(JobApiHook[NexusICSettings]):
    """NEXUS IC IC-Web REST API: report jobs, job status, job content (login hash on every call).

    :param max_paused_seconds: how long a job may stay paused before a wait fails (overrides the
        connection's extra; 0 means no limit).
    """

    default_conn_name = "nexus_ic_default"
    conn_type = "nexus_ic"
    hook_name = "Wood NEXUS IC"
    vendor = VENDOR
    states = NEXUS_IC_STATES
    can_cancel = False
    default_poll_interval = 10.0
    lists_active_runs = True  # GET /jobStatus (IC-Web 6.9+): the triggerer's waits on one connection share it
    listing_entry_cost = 0.02  # a flat Server Job of ~200 bytes, as jobStatus/{id} answers it
    #: POST /report/ answers the server job it created, and IC-Web 6.9 lists a user's jobs from memory: the
    #: docs name no lag. 10 s covers a gateway (502/504) that answered before the server had made the job.
    start_visibility_lag = 10.0

    def __init__(self, conn_id: str | None = None, *, max_paused_seconds: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        if max_paused_seconds is not None and (
            isinstance(max_paused_seconds, bool) or not isinstance(max_paused_seconds, (int, float))
            or max_paused_seconds < 0
        ):
            raise ConfigurationError("max_paused_seconds", f"is {max_paused_seconds!r}",
                                     "Give a number of seconds (0 for no limit), or leave it out.")
        self._max_paused_override = max_paused_seconds
        self._licence_checked = False
        #: When each job was first seen paused (for waits whose JobRun is rebuilt on each poke).
        self._paused_since: dict[str, float] = {}
        #: The job status form the server was found to answer, when it differs from the configured one.
        self._status_form: str | None = None

    # -- connection ------------------------------------------------------------------------------------
    def configure(self, conn) -> NexusICSettings:
        s = ConnectionSettings(conn, self.conn_type)
        base = base_url_from(conn, default_scheme="https").rstrip("/")
        path = base.partition("://")[2].partition("/")[2]
        if not path:
            # No path at all: the hosted layout, where server jobs live (both independent clients use it).
            self.log.info("Connection '%s': the host has no path; assuming the hosted IC-Web at %s/%s (give "
                          "<host>/icweb.dll for a server without the /data prefix).", conn.conn_id, base, HOSTED_PATH)
            base = f"{base}/{HOSTED_PATH}"
        elif not base.lower().endswith("/icweb.dll"):
            self.log.info("Connection '%s': the host has no /icweb.dll; using %s/icweb.dll", conn.conn_id, base)
            base = base + "/icweb.dll"
        auth_type = s.choice("auth_type", ("basic", "apikey"), "basic")
        if auth_type == "basic":
            s.require(conn.login, "login", "Set the NEXUS IC user name in the connection's Login field "
                      "(or set the extra auth_type to apikey and put the API key in the Password field).")
            s.require(conn.password, "password",
                      "Set the user's password in the connection's Password field.")
        else:
            s.require(conn.password, "password",
                      "Put the NEXUS IC API key in the connection's Password field.")
            if conn.login:
                self.log.info("Connection '%s' uses an API key: its Login (%s) is not sent.", conn.conn_id,
                              conn.login)
        version = parse_api_version(s.text("api_version", DEFAULT_API_VERSION), s.where("api_version"))
        paused = s.number("max_paused_seconds", DEFAULT_MAX_PAUSED_SECONDS)
        idle = s.number("session_idle_timeout", DEFAULT_SESSION_IDLE_TIMEOUT)
        if not idle:
            raise ConfigurationError(s.where("session_idle_timeout"), "is 0",
                                     "Give a number of seconds above 0.")
        key_field = s.text("template_key_field", DEFAULT_TEMPLATE_KEY_FIELD)
        status_form = s.choice("job_status_form", JOB_STATUS_FORMS, "") or None
        return NexusICSettings(
            base_url=base,
            host=base.split("://", 1)[-1].split("/", 1)[0],
            api_version=version,
            auth_type=auth_type,
            login=conn.login or None,
            secret=conn.password,
            verify=s.verify(),
            max_paused_seconds=paused or None,
            session_idle_timeout=idle,
            session_max_age=s.number("session_max_age", DEFAULT_SESSION_MAX_AGE) or DEFAULT_SESSION_MAX_AGE,
            template_key_field=key_field,
            job_status_form=status_form,
        )

    @property
    def max_paused_seconds(self) -> float | None:
        """The pause limit in force: the hook's argument, else the connection's (None: no limit)."""
        if self._max_paused_override is not None:
            return self._max_paused_override or None
        return self.settings.max_paused_seconds

    def _authorization(self) -> str:
        st = self.settings
        if st.auth_type == "apikey":
            token = base64.b64encode(st.secret.encode()).decode()
            return f"APIKEY {token}"
        token = base64.b64encode(f"{st.login}:{st.secret}".encode()).decode()
        return f"BASIC {token}"

    def auth_strategy(self) -> AuthStrategy:
        st = self.settings
        header = self._authorization()
        mask_secret(header.split(" ", 1)[1])
        return LoginAuth(
            identity=(st.base_url, st.auth_type, st.login, st.secret),
            login=self._login,
            apply=lambda request, credential: merged(request, params={"hash": credential.secret}),
            secrets=(st.secret,),
        )

    def _login(self) -> Operation[Credential]:
        """Log in (GET up to 6.8, POST from 6.9) and return the hash as a cached credential."""
        st = self.settings
        resp = yield ApiRequest(
            "POST" if st.post_login else "GET", "/security/login", endpoint="login",
            headers={"Authorization": self._authorization()}, authenticated=False, idempotent=True,
        )
        try:
            body = json.loads(resp.body)
        except ValueError:
            body = None
        # Never quote the login answer: it carries the hash.
        token = body.get("hash") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            fields = sorted(body) if isinstance(body, dict) else []
            raise MalformedResponseError(
                f"{VENDOR} login on {st.host} returned no hash (HTTP {resp.status}, Content-Type "
                f"{resp.header('content-type') or 'unset'}, fields {fields}). Check that the connection's "
                "host is the IC-Web URL ending in /icweb.dll.",
                vendor=VENDOR, endpoint="login", status=resp.status,
            )
        mask_secret(token)
        now = time.time()
        idle = st.session_idle_timeout
        return Credential(
            secret=token,
            extra={"user_id": None if body.get("id") is None else str(body.get("id")),
                   "username": body.get("username"), "license": body.get("license")},
            expires_at=now + st.session_max_age,
            idle_timeout=idle,
            refresh_margin=min(60.0, idle * 0.1),
        )

    def _scrub(self, text: str) -> str:
        """`text` without the connection's secrets or the current hash."""
        st = self.settings
        text = redact_hash(text)
        secrets = [st.secret, base64.b64encode(st.secret.encode()).decode(),
                   base64.b64encode(f"{st.login}:{st.secret}".encode()).decode()]
        current = credential_cache.get(self._cache_key())
        if current is not None:
            secrets.append(current.secret)
        for secret in secrets:
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _detail(self, response: ApiResponse) -> str | None:
        """The error text of an answer: a JSON message, or a short excerpt of the plain text."""
        if not response.body:
            return None
        detail: Any = None
        try:
            body = json.loads(response.body)
        except ValueError:
            body = None
        if isinstance(body, dict):
            detail = next((body[k] for k in ("message", "Message", "error", "errorMessage", "description")
                           if isinstance(body.get(k), str)), None)
        elif isinstance(body, str):
            detail = body
        if detail is None:
            detail = excerpt(response.body)
        return self._scrub(excerpt(detail)) or None

    def error_from(self, response: ApiResponse) -> ApiError | None:
        """IC-Web answers errors with a plain-text (sometimes JSON) body; name the fix where known."""
        if response.ok or response.status in response.request.accept:
            return None
        label = response.request.label
        status = response.status
        detail = self._detail(response)
        st = self.settings
        if label == "login" and status in (401, 403):
            what = "API key" if st.auth_type == "apikey" else f"user name ({st.login}) and password"
            return AuthenticationError(
                f"{VENDOR} refused the login of connection '{self.conn_id}' on {st.host} (HTTP {status}"
                f"{': ' + detail if detail else ''}). Check the connection's {what}"
                f"{'' if st.auth_type == 'apikey' else ', or set auth_type to apikey for an API key'}.",
                vendor=VENDOR, endpoint=label, status=status,
            )
        if label == "login" and status in (404, 405):
            method = "POST" if st.post_login else "GET"
            other = "6.8" if st.post_login else "6.9"
            return ApiError(
                f"{VENDOR} answered HTTP {status} to {method} /security/login on {st.host}: the connection's "
                f"api_version is {st.version_text}, which logs in with {method}. If the server runs IC-Web "
                f"{'6.8 or older' if st.post_login else '6.9 or newer'}, set the extra api_version to it "
                f'(e.g. "{other}"); else check the host: <host>/data/icweb.dll for hosted IC-Web, '
                "<host>/icweb.dll for a server without the /data prefix.",
                vendor=VENDOR, endpoint=label, status=status,
            )
        error = error_for_status(VENDOR, response, None, detail)
        error.body_excerpt = detail  # scrubbed, unlike the raw body
        return error

    # -- parsing ------------------------------------------------------------------------------------------
    def run_from_job(self, job: str, job_id: str, body: dict[str, Any],
                     previous: JobRun | None = None) -> JobRun:
        """A JobRun from a serverJob `{id, status, percentComplete, summary, startClock?, endClock?}`."""
        raw_status = body.get("status")
        code = _status_code(raw_status)
        if raw_status is None:
            hint = ""
            if "jobs" in body:
                hint = (" (this is the list of all jobs, which IC-Web 6.9+ answers to jobStatus without an "
                        f"id: the connection's api_version {self.settings.version_text} may be older than "
                        "the server)")
            raise MalformedResponseError(
                f"{VENDOR} status of job {job_id} has no 'status' field; fields: {sorted(body)}{hint}",
                vendor=VENDOR, endpoint="job status",
            )
        vendor_state = STATUS_NAMES.get(code, str(raw_status)) if code is not None else str(raw_status)
        state = self.states(vendor_state)
        now = time.time()
        details = {k: v for k, v in (previous.details if previous else {}).items() if k not in _PER_POLL_KEYS}
        details["status_code"] = code if code is not None else str(raw_status)
        raw_summary = body.get("summary")
        summary = raw_summary.strip() or None if isinstance(raw_summary, str) else None
        eta: float | None = None
        raw_percent = _number(body.get("percentComplete"))
        if raw_percent is not None and raw_percent > 100:
            details["percent_complete_raw"] = raw_percent  # NEXUS can underestimate its row count
        progress = None if raw_percent is None else max(0.0, min(100.0, raw_percent))

        if code == PAUSED:
            since = details.get("paused_since") or self._paused_since.get(job_id) or now
            details["paused_since"] = since
            self._paused_since[job_id] = since
            details.pop("progress_origin", None)
            limit = self.max_paused_seconds
            if limit and now - since > limit:
                state = JobState.FAILED
                details["message"] = (
                    f"the job has been paused for {now - since:.0f}s, longer than max_paused_seconds "
                    f"({limit:g}s); NEXUS IC has no cancel call, so it stays paused on the server. Resume it "
                    "in NEXUS IC, or raise max_paused_seconds (0 = no limit)"
                )
        else:
            details.pop("paused_since", None)
            self._paused_since.pop(job_id, None)

        if code == RUNNING and progress is not None:
            origin = details.get("progress_origin")
            if not origin or progress < origin[1]:
                details["progress_origin"] = [now, progress]
            elif progress > origin[1] and now > origin[0]:
                rate = (progress - origin[1]) / (now - origin[0])
                eta = round(max(0.0, (100.0 - progress) / rate), 1)
        elif code != PAUSED:
            details.pop("progress_origin", None)

        if code == FAILED:
            reason = summary or "no summary given"
            details["message"] = f"NEXUS IC reports the job failed: {reason}"
        return JobRun(VENDOR, job, job_id, state, vendor_state, _clock(body.get("startClock")),
                      _clock(body.get("endClock")), progress=progress, details=details, eta_seconds=eta,
                      summary=summary)

    # -- calls ----------------------------------------------------------------------------------------
    @operation
    def licence(self) -> Operation[dict[str, Any]]:
        """The server's licence description (`GET /license`)."""
        resp = yield ApiRequest("GET", "/license", endpoint="licence")
        return resp.json_object()

    alicence = licence.asynchronous

    @operation
    def check_licence(self) -> Operation[dict[str, Any]]:
        """Fail clearly unless the licence allows server jobs (`saas: true`); once per hook."""
        body = yield from self.licence.steps(self)
        saas = body.get("saas")
        if saas is False or (isinstance(saas, str) and saas.strip().lower() in ("false", "0", "no")):
            raise NexusICLicenceError(
                f"{VENDOR} on {self.settings.host}: the licence does not allow server jobs (license saas is "
                "false). Report and import jobs, jobStatus and jobContent are only available to hosted SaaS "
                "clients: ask Wood to enable hosted jobs, or connect to the hosted IC-Web.",
                vendor=VENDOR, endpoint="licence", code="saas",
            )
        if saas is None:
            self.log.warning("%s on %s: the licence answer has no 'saas' field (fields %s); assuming server "
                             "jobs are allowed.", VENDOR, self.settings.host, sorted(body))
        self._licence_checked = True
        return body

    acheck_licence = check_licence.asynchronous

    @operation
    def find_templates(self, name: str) -> Operation[list[dict[str, Any]]]:
        """Report_Template rows whose Name is `name` (X-NEXUS-Filter).

        :param name: the report template's name
        """
        text = require_id("template_name", name, what="a report template name")
        where = {"where": [{"field": TEMPLATE_NAME_FIELD, "value": text}]}
        resp = yield ApiRequest("GET", f"/bo/{TEMPLATE_TABLE}", endpoint="report template lookup",
                                headers={"X-NEXUS-Filter": json.dumps(where)})
        body = resp.json()
        rows = body.get("rows") if isinstance(body, dict) else body
        if rows is None:
            return []
        if not isinstance(rows, list):
            raise MalformedResponseError(
                f"{VENDOR} {TEMPLATE_TABLE} rows are not a list: {excerpt(resp.body)!r}",
                vendor=VENDOR, endpoint="report template lookup")
        return [r for r in rows if isinstance(r, dict)]

    afind_templates = find_templates.asynchronous

    @operation
    def template_id(self, name: str) -> Operation[str]:
        """The key of the report template named `name`.

        :param name: the report template's name
        """
        rows = yield from self.find_templates.steps(self, name)
        text = str(name).strip()
        exact = [r for r in rows if str(r.get(TEMPLATE_NAME_FIELD, "")) == text]
        candidates = exact or rows
        if not candidates:
            raise NotFoundError(
                f"{VENDOR}: no report template named {text!r} on {self.settings.host}. Check the name (as "
                "shown in NEXUS IC) and that the connection's user may see it, or give template_id.",
                vendor=VENDOR, endpoint="report template lookup", status=200,
            )
        key_field = self.settings.template_key_field
        keys = []
        for row in candidates:
            key = row.get(key_field)
            if key is None:
                raise MalformedResponseError(
                    f"{VENDOR} {TEMPLATE_TABLE} row for {text!r} has no {key_field!r} field (fields "
                    f"{sorted(row)}): set the connection's extra template_key_field to the key field's name.",
                    vendor=VENDOR, endpoint="report template lookup",
                )
            keys.append(str(int(key)) if isinstance(key, float) and key.is_integer() else str(key))
        if len(keys) > 1:
            raise ApiError(
                f"{VENDOR}: {len(keys)} report templates are named {text!r} on {self.settings.host} (keys "
                f"{', '.join(keys)}). Give template_id instead.",
                vendor=VENDOR, endpoint="report template lookup", code="ambiguous",
            )
        return keys[0]

    atemplate_id = template_id.asynchronous

    def _report_details(self, output: str, params: list[dict[str, Any]]) -> dict[str, Any]:
        return {"kind": "report", "output_type": output, "parameter_names": parameter_names(params)}

    @operation
    def start_run(self, template: str, *, output_type: str = "json",
                  parameters: Mapping[str, Any] | list[Mapping[str, Any]] | None = None,
                  lookup_by_name: bool = False) -> Operation[JobRun]:
        """Start a report job from a template (its key, or its name when `lookup_by_name`).

        `parameters`: a dict of names to values, or the documented `[{"parameterName", "value"}]` list; it is
        sent as that list.

        :param template: the report template's key (or its name, with lookup_by_name)
        :param output_type: the report's output type, e.g. json, csv, pdf (default json)
        :param parameters: report parameters: a dict of names to values, or the documented [{"parameterName",
            "value"}] list
        :param lookup_by_name: True when `template` is the template's name rather than its key
        """
        output = require_output_type(output_type)
        params = report_parameters(parameters)
        if lookup_by_name:
            name = require_id("template_name", template, what="a report template name")
        else:
            key = require_template_id(template)
        if not self._licence_checked:
            yield from self.check_licence.steps(self)
        details = self._report_details(output, params)
        if lookup_by_name:
            key = yield from self.template_id.steps(self, name)
            details["template_name"] = name
        details["template_id"] = key
        try:
            body = {"reportTemplate": int(key), "outputType": output, "parameters": params}
            resp = yield ApiRequest("POST", "/report/", endpoint="start report", json=body)
        except NotFoundError as exc:
            raise NotFoundError(
                f"{VENDOR}: report template {key} was not found on {self.settings.host} (HTTP 404"
                f"{': ' + exc.body_excerpt if exc.body_excerpt else ''}). Check template_id, or give "
                "template_name.",
                vendor=VENDOR, endpoint="start report", status=404,
            ) from None
        body = resp.json_object()
        job_id = body.get("id")
        if job_id in (None, ""):
            raise MalformedResponseError(f"{VENDOR} start report answer has no job id; fields {sorted(body)}",
                                         vendor=VENDOR, endpoint="start report")
        job_id = str(job_id)
        if body.get("status") is None:
            body = {**body, "status": WAITING}
        seed = JobRun(VENDOR, key, job_id, JobState.QUEUED, details=details)
        return self.run_from_job(key, job_id, body, seed)

    astart_run = start_run.asynchronous

    @property
    def status_form(self) -> str:
        """The job status form in use: "path" (jobStatus/{id}) or "query" (jobStatus?id=)."""
        if self._status_form is not None:
            return self._status_form
        return "path" if self.settings.status_in_path else "query"

    @staticmethod
    def _status_request(job_id: str, form: str) -> ApiRequest:
        if form == "path":
            return ApiRequest("GET", f"/jobStatus/{path_segment(job_id)}", endpoint="job status")
        return ApiRequest("GET", "/jobStatus", params={"id": job_id}, endpoint="job status")

    def _switch_status_form(self, form: str, why: str) -> None:
        if self._status_form != form:
            self.log.info("%s on %s: %s; reading jobs with %s from now on (set the connection's extra "
                          "job_status_form to %r to start with it).", VENDOR, self.settings.host, why,
                          "jobStatus/{id}" if form == "path" else "jobStatus?id=", form)
        self._status_form = form

    @operation
    def job_status(self, job_id: str, job: str | None = None, previous: JobRun | None = None
                   ) -> Operation[JobRun]:
        """Any server job (report, import) by its id: `jobStatus/{id}` (6.9+) or `jobStatus?id=` (up to 6.8).

        The form comes from the connection (job_status_form, else api_version); when the server does not know
        it (a 404 that is not the documented "job not found", or a 405), the other form is tried once and
        kept. A 6.9 server that answers `jobStatus?id=` with its job listing is read from that listing.

        :param job_id: the server job's id
        :param job: the job's name for JobRun.job_id (default: job_id)
        :param previous: the run as last read, whose details carry over
        """
        jid = require_id("job_id", job_id, what="a NEXUS IC server job id")
        form = self.status_form
        try:
            resp = yield self._status_request(jid, form)
        except ApiError as exc:
            if not self._unknown_route(exc):
                if isinstance(exc, NotFoundError):
                    raise self._job_not_found(jid, exc, "job status") from None
                raise
            other = "query" if form == "path" else "path"
            try:
                resp = yield self._status_request(jid, other)
            except NotFoundError as again:
                raise self._job_not_found(jid, again, "job status") from None
            self._switch_status_form(other, f"jobStatus answered HTTP {exc.status} to the {form} form")
        body = resp.json_object()
        if body.get("status") is None and isinstance(body.get("jobs"), list):
            # IC-Web 6.9 ignores ?id= and lists every job of the user
            entry = next((j for j in body["jobs"] if isinstance(j, dict) and _same_id(j.get("id"), jid)), None)
            if entry is None:
                raise NotFoundError(
                    f"{VENDOR} job '{jid}' was not found on {self.settings.host}: it is not in the user's job "
                    "list (jobStatus without an id). Check the job id (server jobs exist only on hosted IC-Web "
                    "and only for the user who started them).",
                    vendor=VENDOR, endpoint="job status", status=404,
                )
            self._switch_status_form("path", "jobStatus?id= answered the job listing (IC-Web 6.9+)")
            body = entry
        return self.run_from_job(job or jid, jid, body, previous)

    ajob_status = job_status.asynchronous

    @staticmethod
    def _unknown_route(exc: ApiError) -> bool:
        """Whether an error says the server has no such jobStatus route (not that the job is unknown). A 400 is
        not taken for one: it is an answer about the request, and fails the read as it says."""
        if exc.status == 405:
            return True
        if exc.status == 404:
            return JOB_NOT_FOUND_TEXT not in (exc.body_excerpt or "").lower()
        return False

    @operation
    def list_jobs(self) -> Operation[list[dict[str, Any]] | None]:
        """Every server job of the connection's user (`GET /jobStatus` without an id, IC-Web 6.9+); None where
        the server has no such listing (before 6.9 it answers 404 or 400, or a body without `jobs`)."""
        resp = yield ApiRequest("GET", "/jobStatus", endpoint="job listing", accept=frozenset({400, 404, 405}))
        if resp.status in (400, 404, 405):
            return None
        body = resp.json()
        jobs = body.get("jobs") if isinstance(body, dict) else None
        if not isinstance(jobs, list):
            return None
        return [j for j in jobs if isinstance(j, dict) and j.get("id") not in (None, "")]

    alist_jobs = list_jobs.asynchronous

    # -- shared status reads: the user's job listing answers the triggerer's waits on one connection ------------
    @property
    def share_status_reads(self) -> bool:
        """As the connection says, and only from IC-Web 6.9 (earlier servers have no job listing)."""
        return super().share_status_reads and self.settings.api_version >= (6, 9)

    @operation
    def list_active_runs(self) -> Operation[dict[str, dict[str, Any]]]:
        """Every server job of the connection's user by its id (upper case), running or ended, as `GET /jobStatus`
        lists them (the same Server Job objects jobStatus/{id} answers). Raises NotImplementedError where the server
        has no such listing (before 6.9)."""
        jobs = yield from self.list_jobs.steps(self)
        if jobs is None:
            raise NotImplementedError(
                f"{VENDOR} on {self.settings.host} has no job listing (GET jobStatus without an id, IC-Web 6.9+)")
        return {str(j["id"]).strip().upper(): j for j in jobs}

    alist_active_runs = list_active_runs.asynchronous

    def listing_key(self, run: JobRun) -> str | None:
        return str(run.run_id).strip().upper() if run.run_id else None

    def run_from_listing(self, run: JobRun, entry: dict[str, Any]) -> JobRun | None:
        """The run as its Server Job in the listing shows it (an ended one too: the object is jobStatus/{id}'s)."""
        if entry.get("status") is None:
            return None
        return self.run_from_job(run.job_id, str(run.run_id), entry, run)

    @operation
    def start_marker(self, job: str, **options: Any) -> Operation[dict[str, Any]]:
        """The user's server jobs just before a start (digests of their ids: job ids are GUIDs, not ordered),
        with our clock. `listing` is False where the server has no job listing (before 6.9).

        :param job: the report template
        """
        marker: dict[str, Any] = {"at": time.time()}
        try:
            jobs = yield from self.list_jobs.steps(self)
        except (AuthenticationError, NexusICLicenceError):
            raise
        except ApiError as exc:
            self.log.warning("%s on %s: the job listing failed (%s); if this start gets no clear answer, it "
                             "cannot be looked for.", VENDOR, self.settings.host, exc)
            marker["listing"] = None
            return marker
        if jobs is None:
            marker["listing"] = False
            return marker
        marker["listing"] = True
        marker["seen"] = sorted({_job_digest(j["id"]) for j in jobs})
        return marker

    astart_marker = start_marker.asynchronous

    @operation
    def find_started_run(self, job: str, marker: Mapping[str, Any], *, output_type: str = "json",
                         parameters: Mapping[str, Any] | list[Mapping[str, Any]] | None = None,
                         lookup_by_name: bool = False) -> Operation[JobRun | None]:
        """The server job that appeared in the user's job listing since `marker`, in whatever state it is now;
        None when there is none. More than one new job (another client of the same user started one) is an
        AmbiguousStartError naming them: the task cannot tell which is its own. Raises NotImplementedError
        where the server has no job listing (IC-Web before 6.9).

        :param job: the report template
        :param marker: what start_marker() returned just before the start
        :param output_type: the report's output type, e.g. json, csv, pdf (default json)
        :param parameters: report parameters: a dict of names to values, or the documented [{"parameterName",
            "value"}] list
        :param lookup_by_name: True when `template` is the template's name rather than its key
        """
        seen = marker.get("seen")
        if marker.get("listing") is not True or not isinstance(seen, list):
            raise NotImplementedError(
                f"{VENDOR} on {self.settings.host} gave no job listing just before the start (GET jobStatus "
                "without an id exists from IC-Web 6.9): check the user's jobs in NEXUS IC by hand")
        jobs = yield from self.list_jobs.steps(self)
        if jobs is None:
            raise NotImplementedError(f"{VENDOR} on {self.settings.host} has no job listing (IC-Web 6.9+)")
        known = set(seen)
        new = [j for j in jobs if _job_digest(j["id"]) not in known]
        if not new:
            return None
        output = require_output_type(output_type)
        params = report_parameters(parameters)
        details = self._report_details(output, params)
        if lookup_by_name:
            key = yield from self.template_id.steps(self, job)
            details["template_name"] = str(job).strip()
        else:
            key = require_template_id(job)
        details["template_id"] = key
        # The documented listing carries no template; where an entry names one, it must be ours.
        new = [j for j in new if j.get("reportTemplate") is None or str(j.get("reportTemplate")) == key]
        if not new:
            return None
        if len(new) > 1:
            ids = ", ".join(str(j["id"]) for j in new)
            raise AmbiguousStartError(
                f"{VENDOR} on {self.settings.host}: {len(new)} server jobs of the connection's user appeared since "
                f"just before the start of report template {key} ({ids}), and the job listing does not say which "
                "report each one is: this task adopts none and starts nothing more. Check those jobs in NEXUS IC; "
                "give Airflow a NEXUS IC user of its own so that its starts cannot be mistaken for others'.",
                vendor=VENDOR, endpoint="job listing",
            )
        entry = new[0]
        job_id = str(entry["id"])
        seed = JobRun(VENDOR, key, job_id, JobState.QUEUED, details={**details, "adopted": True})
        return self.run_from_job(key, job_id, entry, seed)

    afind_started_run = find_started_run.asynchronous

    @operation
    def get_run(self, run: JobRun) -> Operation[JobRun]:
        """Read one run (a server job) again.

        :param run: the run to act on, as start_run() or get_run() returned it (its ids and details)
        """
        if not run.run_id:
            raise ConfigurationError("run_id", "is empty", "Give the NEXUS IC server job id.")
        fresh = yield from self.job_status.steps(self, run.run_id, run.job_id, run)
        return fresh

    aget_run = get_run.asynchronous

    def _job_not_found(self, job_id: str, exc: NotFoundError, endpoint: str) -> NotFoundError:
        said = f": {exc.body_excerpt}" if exc.body_excerpt else ""
        style = "jobStatus/{id}" if self.status_form == "path" else "jobStatus?id="
        return NotFoundError(
            f"{VENDOR} job '{job_id}' was not found on {self.settings.host} (HTTP 404{said}). Check the job "
            "id (server jobs exist only on hosted IC-Web and only for the user who started them); jobs are "
            f"read with {style} (connection api_version {self.settings.version_text}).",
            vendor=VENDOR, endpoint=endpoint, status=404, body_excerpt=exc.body_excerpt,
        )

    @operation
    def job_content(self, job_id: str, output_path: str | None = None) -> Operation[dict[str, Any]]:
        """A finished job's content: saved to `output_path` (a file, or a directory: the file name comes
        from Content-Disposition), or returned as JSON / text under "content".

        Returns `{job_id, has_content, content_type, file_name, size, path?, content?}`.

        :param job_id: the finished server job's id
        :param output_path: a file or directory to save the content to (default: return it)
        """
        jid = require_id("job_id", job_id, what="a NEXUS IC server job id")
        info: dict[str, Any] = {"job_id": jid, "has_content": False, "content_type": None, "file_name": None,
                                "size": 0}
        request = ApiRequest("GET", "/jobContent", params={"id": jid}, endpoint="job content", read="bytes")
        if output_path is None:
            try:
                resp = yield request
            except NotFoundError as exc:
                raise self._job_not_found(jid, exc, "job content") from None
            ctype = _content_type(resp)
            served_name = file_name_from(resp.header("content-disposition"))
            info.update(content_type=ctype or None, file_name=served_name, size=len(resp.body))
            if resp.status == 204 or not resp.body:
                return info
            info["has_content"] = True
            info["content"] = _inline_content(resp, ctype, jid)
            return info

        if not isinstance(output_path, str) or not output_path.strip():
            raise ConfigurationError(
                "output_path", f"is {output_path!r}",
                "Give a file path, or a directory ending in '/' (the server names the file)")
        directory, fixed_name = content_target(output_path.strip())
        os.makedirs(directory, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=".nexus_ic-", suffix=".part", dir=directory)
        os.close(fd)
        try:
            try:
                resp = yield ApiRequest("GET", "/jobContent", params={"id": jid}, endpoint="job content",
                                        read="file", save_to=partial)
            except NotFoundError as exc:
                raise self._job_not_found(jid, exc, "job content") from None
            ctype = _content_type(resp)
            size = os.path.getsize(partial) if resp.saved_to else len(resp.body)
            served_name = file_name_from(resp.header("content-disposition"))
            info.update(content_type=ctype or None, file_name=served_name, size=size)
            if resp.status == 204 or size == 0:
                return info
            if not resp.saved_to:  # an answer the transport did not stream (not 2xx but accepted)
                with open(partial, "wb") as fh:
                    fh.write(resp.body)
            name = fixed_name or served_name or default_file_name(jid, ctype)
            target = os.path.join(directory, name)
            os.replace(partial, target)
            info.update(has_content=True, file_name=name, path=target)
            return info
        finally:
            if os.path.exists(partial):
                os.remove(partial)

    ajob_content = job_content.asynchronous

    def connection_test_steps(self) -> Operation[str]:
        credential = yield Login()
        body = yield from self.licence.steps(self)
        saas = body.get("saas")
        user = credential.extra.get("username") or self.settings.login or "the API key's user"
        jobs = ("allows server jobs" if saas is True else "does NOT allow server jobs (saas false)" if saas is False
                else "says nothing of server jobs")
        st = self.settings
        return f"Connected to NEXUS IC at {st.host} (IC-Web {st.version_text}) as {user}; the licence {jobs}."


def _same_id(a: Any, b: Any) -> bool:
    return a is not None and str(a).strip().upper() == str(b).strip().upper()


def content_target(output_path: str) -> tuple[str, str | None]:
    """(directory, fixed file name or None) for an output_path: a trailing separator or an existing
    directory means "this directory, with the server's file name"."""
    path = os.path.expanduser(str(output_path))
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        return path.rstrip("/" + os.sep) or os.sep, None
    directory, name = os.path.split(path)
    return directory or ".", name


def _content_type(resp: ApiResponse) -> str:
    return (resp.header("content-type") or "").split(";")[0].strip().lower()


def _inline_content(resp: ApiResponse, ctype: str, job_id: str) -> Any:
    if ctype == "application/json" or ctype.endswith("+json"):
        return resp.json()
    if ctype.startswith("text/") or ctype in _TEXT_TYPES:
        return resp.text
    if not ctype:
        try:
            return resp.body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    raise ConfigurationError(
        "output_path",
        f"the content of NEXUS IC job '{job_id}' is {ctype or 'binary'} ({len(resp.body)} bytes), which "
        "cannot go through XCom",
        "Give output_path (a file, or a directory ending in '/') to save it.",
    )
