"""Informatica Intelligent Cloud Services (Data Integration REST API): tasks, linear taskflows and taskflows
published as services.

Everything IICS-specific lives here: the v2 / v3 login whose answer names the server URL (the POD) that
every later call goes to, the session id carried as `icSessionId` (v2) or `INFA-SESSION-ID` (v3,
taskflows), the job resource (start and stop keyed by task), run status read from the activity monitor
(the org's running jobs, filtered here on our task AND run) and then the activity log (`runId` +
`taskId`), the federated id of a task found from its path with the v3 lookup, and the two error shapes.
"""

from __future__ import annotations

import base64
import enum
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from airflow_provider_jobs.connection_forms.informatica import (
    CONNECTION_FORM,
    DEFAULT_API_VERSION,
    DEFAULT_MONITOR_URL_TEMPLATE,
    DEFAULT_SESSION_IDLE_TIMEOUT,
    DEFAULT_START_VISIBILITY_LAG,
)
from airflow_provider_jobs.core.auth import AuthStrategy, Credential, LoginAuth, credential_cache, merged
from airflow_provider_jobs.core.compat import mask_secret
from airflow_provider_jobs.core.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    JobAlreadyRunningError,
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
    join_url,
    path_segment,
)
from airflow_provider_jobs.core.inputs import require_choice, require_id, require_mapping
from airflow_provider_jobs.core.runs import JobRun, JobState, StateVocabulary, id_text

VENDOR = "informatica"


class InformaticaBase(enum.StrEnum):
    """Where a request goes besides the default (the v2 API on the login's server URL, or the login host for
    the login itself): the v3 API on that server (session as INFA-SESSION-ID), or its POD root (taskflows)."""

    V3 = "v3"
    POD = "pod"

__all__ = ["CONNECTION_FORM", "RESUME_MODES", "RUN_TASK_TYPES", "TASKFLOW_SERVICE", "TASK_TYPES",
           "InformaticaCloudHook"]

#: Task types of the job resource: masking, replication, synchronization, mapping, PowerCenter, linear taskflow.
TASK_TYPES = ("DMASK", "DRS", "DSS", "MTT", "PCS", "WORKFLOW")
#: This provider's name for a taskflow published as a service (started through /active-bpel/rt/<name>).
TASKFLOW_SERVICE = "TASKFLOW_SERVICE"
RUN_TASK_TYPES = (*TASK_TYPES, TASKFLOW_SERVICE)
#: How a suspended taskflow is resumed: the faulted step again, or from the step after it.
RESUME_MODES = {"retry": "resumeWithFaultRetry", "skip": "resumeWithFaultSkip"}
#: How a task is named when it is started or stopped.
TASK_REFERENCES = ("id", "federated_id", "name", "path")
#: Activity log `state`: 1 success, 2 success with warnings (row errors), 3 failed (a stopped run: 3 with isStopped).
LOG_STATE_NAMES = {1: "SUCCESS", 2: "WARNING", 3: "FAILED"}

INFORMATICA_STATES = StateVocabulary(
    VENDOR,
    {
        # activity monitor executionState
        "QUEUED": JobState.QUEUED,
        "INITIALIZED": JobState.QUEUED,
        "RUNNING": JobState.RUNNING,
        "STOPPING": JobState.RUNNING,
        # The job has ended but is not in the activity log yet: success or warnings is not known.
        "COMPLETED": JobState.RUNNING,
        "FAILED": JobState.FAILED,
        # activity log state, by name and by number
        "SUCCESS": JobState.SUCCESS,
        "WARNING": JobState.SUCCESS_WITH_WARNINGS,
        "1": JobState.SUCCESS,
        "2": JobState.SUCCESS_WITH_WARNINGS,
        "3": JobState.FAILED,
        # taskflow status (SUCCESS, WARNING, FAILED above): a suspended taskflow waits for someone to resume it
        "SUSPENDED": JobState.FAILED,
        # a terminated taskflow; an activity log entry with isStopped
        "STOPPED": JobState.CANCELLED,
    },
)

#: details keys that describe one poll only; dropped before the next answer is read.
_PER_POLL_KEYS = ("message", "warning", "error_message")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
#: The v3 login page's POD table: POD name -> the login host's prefix (https://<prefix>.informaticacloud.com).
POD_LOGIN_HOSTS = {
    "USW1": "dm-us", "USE2": "dm-us", "USW3": "dm-us", "USE4": "dm-us", "USW5": "dm-us", "USE6": "dm-us",
    "USW1-1": "dm1-us", "USW3-1": "dm1-us", "USW1-2": "dm2-us", "CAC1": "dm-na", "APSE1": "dm-ap",
    "APSE2": "dm1-apse", "APNE1": "dm1-ap", "APNE2": "dm-apne", "APAUC1": "dm1-apau", "EMW1": "dm-em",
    "EMC1": "dm1-em", "UK1": "dm-uk",
}
KNOWN_LOGIN_HOSTS = tuple(dict.fromkeys(POD_LOGIN_HOSTS.values()))
_LOGIN_PREFIX = re.compile(r"^dm\d?-[a-z]+$")
_REGION_CODE = re.compile(r"^[a-z]+$")
_LOGIN_PATHS = ("/ma/api/v2/user/login", "/saas/public/core/v3/login", "/ma", "/saas")
_RUN_ID_KEYS = ("RunId", "runId", "run_id", "RunID")


# --- checks of DAG-author input ---------------------------------------------------------------------
def require_task_type(value: Any, field_name: str = "task_type", *, allow_service: bool = True) -> str:
    """A task type code (case-insensitive), upper-cased."""
    allowed = RUN_TASK_TYPES if allow_service else TASK_TYPES
    if value is None or not isinstance(value, str):
        raise ConfigurationError(field_name, f"is {value!r}", f"Give one of {', '.join(allowed)}.")
    return require_choice(field_name, value, allowed)


def require_task_path(value: Any, field_name: str = "task_path") -> str:
    """A task's path from its project: 'Project/Folder/Task' (a task in the Default folder: 'Default/Task')."""
    text = require_id(field_name, value, what="the task's path, e.g. 'Sales/Daily/Load Customers'")
    segments = text.strip("/").split("/")
    if len(segments) < 2 or any(seg.strip() in ("", ".", "..") for seg in segments):
        raise ConfigurationError(
            field_name, f"{text!r} is not a path from a project to a task",
            "Give 'Project/Folder/Task name' as shown in Explore, e.g. 'Sales/Daily/Load Customers' "
            "(a task in the Default folder: 'Default/Task name')",
        )
    return "/".join(seg.strip() for seg in segments)


def require_task_reference(by: str, value: Any, field_name: str | None = None) -> str:
    """A task id, federated id, name or path, checked for its kind."""
    name = field_name or {"id": "informatica_task_id", "federated_id": "task_federated_id",
                          "name": "task_name", "path": "task_path"}[by]
    if by == "path":
        return require_task_path(value, name)
    if by == "name":
        return require_id(name, value, what="the task's name")
    text = require_id(name, value, what="the task's id" if by == "id" else "the task's federated id")
    if not _SAFE_ID.match(text):
        raise ConfigurationError(
            name, f"{text!r} is not an Informatica id (letters and digits only)",
            "Give the id as Informatica shows it, e.g. '0100000Z000000000002'; for a task's name use task_name, "
            "for its path task_path",
        )
    return text


def require_optional_text(field_name: str, value: Any) -> str | None:
    """An optional one-line string (parameter file name or directory)."""
    if value is None:
        return None
    return require_id(field_name, value, what="a name")


def require_callback_url(value: Any) -> str | None:
    if value is None:
        return None
    text = require_id("callback_url", value, what="a URL")
    if not text.startswith(("http://", "https://")):
        raise ConfigurationError("callback_url", f"{text!r} is not an http(s) URL",
                                 "Give a publicly reachable URL, e.g. https://example.com/iics-callback")
    return text


def login_host_prefix(region: str, field_name: str = "region") -> str:
    """The login host's prefix for a connection's `region`: a region code ("us" -> dm-us), a login host prefix
    ("dm1-us", any dm<digit>-<code>), or a POD name from the v3 login page ("USW1-1" -> dm1-us)."""
    text = region.strip()
    if text.upper() in POD_LOGIN_HOSTS:
        return POD_LOGIN_HOSTS[text.upper()]
    low = text.lower().removesuffix(".informaticacloud.com")
    if _LOGIN_PREFIX.match(low):
        return low
    if _REGION_CODE.match(low):
        return f"dm-{low}"
    raise ConfigurationError(
        field_name, f"{region!r} is not a region code, a login host or a POD name",
        f"Give a region code (us, em, ap, ...), the login host's prefix (known: {', '.join(KNOWN_LOGIN_HOSTS)}; "
        "any dm<digit>-<code> is accepted), or the POD name (e.g. USW1-1); or set the Host field instead.",
    )


def session_expiry(token: str) -> float | None:
    """When a JWT session id expires (its `exp` claim), or None for a classic session id. Orgs that use JWT
    session tokens ("Session IDs") get a token with a hard expiry, whether or not it is used. The token is
    only read here, never verified: the server does that."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def pod_url(server_url: str) -> str:
    """The POD's root URL (where /active-bpel and the UI live): the server URL without its /saas."""
    url = server_url.rstrip("/")
    return url[: -len("/saas")] if url.endswith("/saas") else url


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


#: The activity monitor's `startTime` / `endTime` are US Eastern ("Uses Eastern Time Zone (ET)").
_EASTERN = ZoneInfo("America/New_York")
#: Seconds of clock difference allowed when a vendor time is compared with the marker taken before a start.
CLOCK_SKEW = 30.0


def _parse_time(text: Any, *, naive_zone: Any = UTC) -> datetime | None:
    """An ISO 8601 time; without an explicit offset its wall-clock digits are read in `naive_zone` (a bare
    `Z` counts as "no offset" for the Eastern fields, which some answers mark with Z regardless)."""
    raw = _text(text)
    if raw is None:
        return None
    digits = raw[:-1] if raw.endswith(("Z", "z")) else raw
    try:
        parsed = datetime.fromisoformat(digits.replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_zone)
    return parsed.astimezone(UTC)


def utc_text(value: datetime | None) -> str | None:
    """UTC ISO 8601 with milliseconds and Z (as the vendor's *Utc fields)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def entry_time(entry: Mapping[str, Any], name: str) -> str | None:
    """`startTime` / `endTime` of a monitor or log entry in UTC: the `<name>Utc` field when it is there, else
    the Eastern `<name>` converted (a value with an explicit offset is taken as it says)."""
    utc = _parse_time(entry.get(f"{name}Utc"))
    if utc is not None:
        return utc_text(utc)
    eastern = _parse_time(entry.get(name), naive_zone=_EASTERN)
    return utc_text(eastern) if eastern is not None else _text(entry.get(name))


def _epoch(text: Any) -> float | None:
    parsed = _parse_time(text)
    return parsed.timestamp() if parsed is not None else None


@dataclass(frozen=True)
class InformaticaSettings:
    base_url: str  # the login host
    host: str
    api_version: str
    login: str
    password: str = field(repr=False)
    verify: bool | str = True
    session_idle_timeout: float = DEFAULT_SESSION_IDLE_TIMEOUT
    monitor_url_template: str = DEFAULT_MONITOR_URL_TEMPLATE
    start_visibility_lag: float = DEFAULT_START_VISIBILITY_LAG



def _entries(resp: ApiResponse, what: str, *, one_allowed: bool = False) -> list[dict[str, Any]]:
    """The JSON objects of a list answer (activity monitor, activity log; the log may answer one entry bare)."""
    entries = resp.json()
    if one_allowed and isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise MalformedResponseError(f"{VENDOR} {what} is not a list: {excerpt(resp.body)!r}",
                                     vendor=VENDOR, endpoint=what)
    return [e for e in entries if isinstance(e, dict)]

class InformaticaCloudHook(JobApiHook[InformaticaSettings]):
    """Informatica Intelligent Cloud Services: start, follow and stop tasks, linear taskflows and taskflows
    published as services (session login; the login answer names the server every call goes to).

    :param clean_stop: stop runs with `cleanStop=true` (on kill, at a deadline).
    """

    default_conn_name = "informatica_cloud_default"
    conn_type = "informatica_cloud"
    hook_name = "Informatica Intelligent Cloud Services"
    vendor = VENDOR
    states = INFORMATICA_STATES
    can_cancel = True
    default_poll_interval = 15.0
    lists_active_runs = True  # the activity monitor: the triggerer's waits on one connection share it
    # every status read parses the whole monitor already (it cannot be filtered): its entries cost a listing nothing
    # that the reads it answers would not have cost
    listing_entry_cost = 0.0

    def __init__(self, conn_id: str | None = None, *, clean_stop: bool = False, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        if not isinstance(clean_stop, bool):
            raise ConfigurationError("clean_stop", f"is {clean_stop!r}", "Use True or False.")
        self.clean_stop = clean_stop
        #: lookup_id answers of this hook: {(federated id, type): {id, path, type}}
        self._paths: dict[tuple[str, str], dict[str, Any]] = {}

    # -- connection ------------------------------------------------------------------------------------
    def configure(self, conn) -> InformaticaSettings:
        s = ConnectionSettings(conn, self.conn_type)
        region = s.text("region")
        region_host = f"https://{login_host_prefix(region, s.where('region'))}.informaticacloud.com" \
            if region else None
        if (conn.host or "").strip():
            base = base_url_from(conn, default_scheme="https")
            for suffix in _LOGIN_PATHS:
                if base.lower().endswith(suffix):
                    self.log.info("Connection '%s': the host ends in %s; using the login host %s.", conn.conn_id,
                                  suffix, base[: -len(suffix)])
                    base = base[: -len(suffix)]
                    break
            if region_host and base.rstrip("/") != region_host:
                raise ConfigurationError(
                    s.where("region"), f"{region!r} names the login host {region_host}, but the Host field is {base}",
                    "Give the login host or the region, not two different ones.",
                )
        elif region_host:
            base = region_host
        else:
            raise ConfigurationError(
                f"connection '{conn.conn_id}' host", "is empty",
                "Set the login host (e.g. https://dm-us.informaticacloud.com) in the Host field, or the extra "
                "region (e.g. us).",
            )
        s.require(conn.login, "login", "Set the Informatica user name in the connection's Login field.")
        s.require(conn.password, "password", "Set the user's password in the connection's Password field.")
        version = s.choice("api_version", ("v2", "v3", "2", "3"), DEFAULT_API_VERSION)
        idle = s.number("session_idle_timeout", DEFAULT_SESSION_IDLE_TIMEOUT)
        if not idle:
            raise ConfigurationError(s.where("session_idle_timeout"), "is 0", "Give a number of seconds above 0.")
        lag = s.number("start_visibility_lag", DEFAULT_START_VISIBILITY_LAG)
        template = s.text("monitor_url_template", DEFAULT_MONITOR_URL_TEMPLATE)
        try:
            template.format(pod_url="p", server_url="s", task_id="t", run_id="r", task_type="MTT", job="j")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigurationError(
                s.where("monitor_url_template"), f"{template!r} has an unknown placeholder ({exc})",
                "Use only {pod_url}, {server_url}, {task_id}, {run_id}, {task_type} and {job}.",
            ) from None
        return InformaticaSettings(
            base_url=base.rstrip("/"),
            host=base.split("://", 1)[-1].split("/", 1)[0],
            api_version=version if version.startswith("v") else f"v{version}",
            login=conn.login,
            password=conn.password,
            verify=s.verify(),
            session_idle_timeout=idle,
            monitor_url_template=template,
            start_visibility_lag=float(lag if lag is not None else DEFAULT_START_VISIBILITY_LAG),
        )

    def auth_strategy(self) -> AuthStrategy:
        st = self.settings
        return LoginAuth(
            identity=(st.base_url, st.api_version, st.login, st.password),
            login=self._login,
            apply=self._apply_session,
            base_url=self._server_base,
            logout=self._logout,
            secrets=(st.password,),
        )

    @staticmethod
    def _apply_session(request: ApiRequest, credential: Credential) -> tuple[dict[str, str], dict[str, Any]]:
        """v2 resources take the session as `icSessionId`; v3 and taskflow resources as `INFA-SESSION-ID`."""
        header = "INFA-SESSION-ID" if request.base in (InformaticaBase.V3, InformaticaBase.POD) else "icSessionId"
        return merged(request, headers={header: credential.secret})

    @staticmethod
    def _server_base(credential: Credential, request: ApiRequest) -> str | None:
        """Where an authenticated call goes: the server URL of the login answer (its POD root for taskflows)."""
        server = credential.extra.get("server_url")
        if not server:
            return None
        return pod_url(server) if request.base == InformaticaBase.POD else server

    @staticmethod
    def _request(method: str, path: str, endpoint: str, *, base: InformaticaBase | None = None,
                 **kwargs: Any) -> ApiRequest:
        """A request that takes JSON answers, to the server URL of the login (or to `base`)."""
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        return ApiRequest(method, path, endpoint=endpoint, base=base, headers=headers, **kwargs)

    def _login(self) -> Operation[Credential]:
        """Log in (v2 or v3, as the connection says); the answer gives the session and the server URL."""
        st = self.settings
        if st.api_version == "v3":
            request = self._request("POST", "/saas/public/core/v3/login", "login", authenticated=False,
                                 idempotent=True, json={"username": st.login, "password": st.password})
        else:
            request = self._request("POST", "/ma/api/v2/user/login", "login", authenticated=False, idempotent=True,
                                 json={"@type": "login", "username": st.login, "password": st.password})
        resp = yield request
        # Never quote the login answer: it carries the session id.
        try:
            body = json.loads(resp.body)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise MalformedResponseError(
                f"{VENDOR} login on {st.host} returned something that is not a JSON object (HTTP {resp.status}, "
                f"Content-Type {resp.header('content-type') or 'unset'}). Check that the Host is the login host, "
                "e.g. https://dm-us.informaticacloud.com.",
                vendor=VENDOR, endpoint="login", status=resp.status,
            )
        if st.api_version == "v3":
            info: dict[str, Any] = v if isinstance(v := body.get("userInfo"), dict) else {}
            token = info.get("sessionId")
            products = [p for p in body.get("products") or [] if isinstance(p, dict) and p.get("baseApiUrl")]
            product = next((p for p in products if "integration" in str(p.get("name", "")).lower()),
                           products[0] if products else {})
            server = product.get("baseApiUrl")
            user, org = info.get("name"), info.get("orgId")
            missing = "userInfo.sessionId" if not token else "products[].baseApiUrl"
        else:
            token, server = body.get("icSessionId"), body.get("serverUrl")
            user, org = body.get("name"), body.get("orgId")
            missing = "icSessionId" if not token else "serverUrl"
        if not isinstance(token, str) or not token or not isinstance(server, str) or \
                not server.startswith(("http://", "https://")):
            raise MalformedResponseError(
                f"{VENDOR} {st.api_version} login on {st.host} answered without {missing} (fields {sorted(body)}). "
                f"Check the connection's api_version ({st.api_version}) and that the Host is the login host.",
                vendor=VENDOR, endpoint="login", status=resp.status,
            )
        mask_secret(token)
        self.log.info("Logged in to Informatica Cloud as %s (org %s, %s login); server %s", user, org,
                      st.api_version, server)
        idle = st.session_idle_timeout
        margin = min(60.0, idle * 0.1)
        expires_at = session_expiry(token)
        if expires_at is not None:  # a JWT session token: log in again before its hard expiry, not only on idle
            lifetime = max(0.0, expires_at - time.time())
            margin = min(margin, lifetime * 0.2)
            self.log.info("The session is a JWT token; it expires in %.0f s and is renewed before then.", lifetime)
        return Credential(
            secret=token,
            extra={"server_url": server.rstrip("/"), "api_version": st.api_version, "user": user,
                   "org_id": id_text(org)},
            expires_at=expires_at,
            idle_timeout=idle,
            refresh_margin=margin,
        )

    def _logout(self, credential: Credential) -> Operation[None]:
        """End the session (an expired one counts as ended): v3 `POST https://dm-<pod>.informaticacloud.com/saas/
        public/core/v3/logout` on the login host, as its page documents; v2 `POST <serverUrl>/api/v2/user/logout`."""
        if credential.extra.get("api_version") == "v3":
            url, header = join_url(self.settings.base_url, "/saas/public/core/v3/logout"), "INFA-SESSION-ID"
        else:
            server = credential.extra.get("server_url")
            if not server:
                return
            url, header = join_url(server, "/api/v2/user/logout"), "icSessionId"
        yield self._request("POST", url, "logout", authenticated=False, idempotent=True,
                         read="none", accept=frozenset({401}), headers={header: credential.secret})

    def _scrub(self, text: str) -> str:
        """`text` without the password or the current session id."""
        secrets = [self.settings.password]
        current = credential_cache.get(self._cache_key())
        if current is not None:
            secrets.append(current.secret)
        for secret in secrets:
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _error_fields(self, response: ApiResponse) -> tuple[str | None, str | None]:
        """(code, description) of a v2 `{"@type": "error", ...}` or v3 `{"error": {...}}` body."""
        try:
            body = json.loads(response.body) if response.body else None
        except ValueError:
            body = None
        code = detail = None
        if isinstance(body, dict):
            inner: dict[str, Any] = v if isinstance(v := body.get("error"), dict) else body
            code = id_text(inner.get("code"))
            detail = next((inner[k] for k in ("description", "message", "errorMessage", "error")
                           if isinstance(inner.get(k), str)), None)
        if detail is None and response.body:
            detail = excerpt(response.body)
        return code, (self._scrub(excerpt(detail)) if detail else None)

    def error_from(self, response: ApiResponse) -> ApiError | None:
        """IICS errors: v2 `{"@type": "error", "code", "description", "statusCode"}`, v3 `{"error": {...}}`."""
        if response.ok or response.status in response.request.accept:
            return None
        label, status = response.request.label, response.status
        code, detail = self._error_fields(response)
        st = self.settings
        said = f"{', ' + code if code else ''}{': ' + detail if detail else ''}"
        if label == "login" and status in (400, 401, 403):
            return AuthenticationError(
                f"{VENDOR} refused the login of connection '{self.conn_id}' on {st.host} (HTTP {status}{said}). "
                f"Check the connection's user name ({st.login}) and password, and that the login host (or region) "
                f"is the one of the user's organisation ({st.api_version} login).",
                vendor=VENDOR, endpoint=label, status=status, code=code,
            )
        if detail and "already running" in detail.lower():
            return JobAlreadyRunningError.from_response(VENDOR, label, status, code, detail)
        error = error_for_status(VENDOR, response, code, detail)
        error.body_excerpt = detail  # scrubbed, unlike the raw body
        return error

    def run_url(self, run: JobRun) -> str | None:
        server = run.details.get("server_url")
        if not server or not run.run_id:
            return None
        template = self.settings.monitor_url_template
        task_id, task_type = run.details.get("task_id") or run.job_id, run.details.get("task_type") or ""
        # kept per run: every poll sets the run's url, and four quote() calls and a format() were ~15% of a
        # status check's Python (provider Python per check 49-54 -> 42-47 us, interleaved noisy runs)
        key: tuple[Any, ...] | None = (template, server, task_id, run.run_id, task_type, run.job_id)
        try:
            url = _RUN_URLS.get(key)  # type: ignore[arg-type]
        except TypeError:  # a details value that is not a string (unhashable): not kept
            url, key = None, None
        if url is None:
            values = {k: quote(str(v), safe="") for k, v in {
                "task_id": task_id, "run_id": run.run_id, "task_type": task_type, "job": run.job_id}.items()}
            url = template.format(pod_url=pod_url(server), server_url=server, **values)
            if key is not None:
                if len(_RUN_URLS) >= 20_000:
                    _RUN_URLS.clear()
                _RUN_URLS[key] = url
        return url

    # -- parsing ------------------------------------------------------------------------------------------
    def _carried(self, run: JobRun, server_url: str | None) -> dict[str, Any]:
        details = {k: v for k, v in run.details.items() if k not in _PER_POLL_KEYS}
        if server_url and not details.get("server_url"):
            details["server_url"] = server_url
        return details

    @staticmethod
    def _rows(entry: dict[str, Any], details: dict[str, Any]) -> str | None:
        """Copy the entry's row counts into `details`; the summary line they make, if any."""
        names = {"successSourceRows": "success_source_rows", "failedSourceRows": "failed_source_rows",
                 "successTargetRows": "success_target_rows", "failedTargetRows": "failed_target_rows"}
        for vendor_key, key in names.items():
            value = _int(entry.get(vendor_key))
            if value is not None:
                details[key] = value
        if "success_source_rows" in details or "success_target_rows" in details:
            return (
                f"{details.get('success_source_rows', '?')} source rows read "
                f"({details.get('failed_source_rows', 0)} failed), {details.get('success_target_rows', '?')} "
                f"target rows written ({details.get('failed_target_rows', 0)} failed)"
            )
        return None

    def run_from_monitor(self, run: JobRun, entry: dict[str, Any], server_url: str | None = None) -> JobRun:
        """A JobRun from an activityMonitorEntry of our task and run."""
        word = _text(id_text(entry.get("executionState"))) or None
        word = word.upper() if word else None
        details = self._carried(run, server_url)
        details.pop("absent_since", None)
        details["seen"] = True
        # objectName: the activity monitor's "source object used in the task" (kept for lineage)
        for key, vendor_key in (("task_type", "type"), ("task_name", "taskName"), ("object_name", "objectName")):
            if not details.get(key) and entry.get(vendor_key):
                details[key] = id_text(entry.get(vendor_key))
        summary = self._rows(entry, details)
        error = _text(entry.get("errorMsg"))
        if error:
            details["error_message"] = error
        state = self.states(word)
        if word == "COMPLETED":
            summary = "the job has ended; waiting for its activity log entry"
        if state == JobState.FAILED:
            details["message"] = error or "the activity monitor reports the job FAILED"
        # startTime / endTime are US Eastern; startTimeUtc / endTimeUtc (same entry) are UTC
        fresh = JobRun(VENDOR, run.job_id, run.run_id, state, word, entry_time(entry, "startTime"),
                       entry_time(entry, "endTime"), progress=None, details=details, summary=summary)
        return fresh.with_(url=self.run_url(fresh))

    def run_from_log(self, run: JobRun, entry: dict[str, Any], server_url: str | None = None) -> JobRun:
        """A JobRun from the run's activityLogEntry (its final state)."""
        raw = entry.get("state")
        code = _int(raw)
        word = LOG_STATE_NAMES.get(code, id_text(raw)) if code is not None else id_text(raw)
        stopped = entry.get("isStopped") is True or str(entry.get("isStopped")).lower() == "true"
        if stopped:  # a stopped run is logged as state 3 with isStopped: it was cancelled, it did not fail
            word = "STOPPED"
        details = self._carried(run, server_url)
        details.pop("absent_since", None)
        details["seen"] = True
        details["log_state"] = code if code is not None else id_text(raw)
        summary = self._rows(entry, details)
        error = _text(entry.get("errorMsg"))
        if error:
            details["error_message"] = error
        state = self.states(word)
        if stopped:
            details["message"] = error or "the run was stopped (activity log isStopped)"
        elif state == JobState.FAILED:
            details["message"] = error or "the activity log reports state 3 (failed) without a message"
        elif state == JobState.SUCCESS_WITH_WARNINGS:
            details["warning"] = error or "the activity log reports state 2 (success with row errors)"
        fresh = JobRun(VENDOR, run.job_id, run.run_id, state, word, entry_time(entry, "startTime"),
                       entry_time(entry, "endTime"), details=details, summary=summary)
        return fresh.with_(url=self.run_url(fresh))

    def run_from_taskflow(self, run: JobRun, body: dict[str, Any], server_url: str | None = None) -> JobRun:
        """A JobRun from the taskflow status resource."""
        word = _text(id_text(body.get("status")))
        word = word.upper() if word else None
        if word is None:
            raise MalformedResponseError(
                f"{VENDOR} taskflow status of run {run.run_id} has no 'status' field; fields {sorted(body)}",
                vendor=VENDOR, endpoint="taskflow status")
        details = self._carried(run, server_url)
        for vendor_key, key in (("assetName", "asset_name"), ("location", "location"), ("duration", "duration")):
            if body.get(vendor_key) not in (None, ""):
                details[key] = id_text(body.get(vendor_key))
        error = _text(body.get("errorMessage"))
        if error:
            details["error_message"] = error
        state = self.states(word)
        if word == "SUSPENDED":
            details["message"] = (
                f"the taskflow is suspended{': ' + error if error else ''}. It waits for someone to resume it in "
                "Monitor, or with InformaticaResumeTaskflowOperator / hook.resume_taskflow(run_id, mode='retry' or "
                "'skip') (resumeWithFaultRetry / resumeWithFaultSkip)"
            )
        elif word == "STOPPED":
            details["message"] = error or "the taskflow was terminated"
        elif state == JobState.FAILED:
            details["message"] = error or f"the taskflow status is {word}"
        fresh = JobRun(VENDOR, run.job_id, run.run_id, state, word, _text(body.get("startTime")),
                       _text(body.get("endTime")), details=details)
        return fresh.with_(url=self.run_url(fresh))

    # -- calls ----------------------------------------------------------------------------------------
    def _server_url(self) -> Operation[str | None]:
        credential = yield Login()
        return credential.extra.get("server_url")

    @operation
    def lookup(self, path: str, task_type: str) -> Operation[dict[str, Any]]:
        """A task's federated id from its path, with the v3 lookup resource: {id, path, type}.

        :param path: the task's path, e.g. "Default/My task"
        :param task_type: DMASK, DRS, DSS, MTT, PCS, WORKFLOW, or TASKFLOW_SERVICE
        """
        ref = require_task_path(path)
        kind = require_task_type(task_type, allow_service=False)
        try:
            resp = yield self._request("POST", "/public/core/v3/lookup", "lookup", base=InformaticaBase.V3,
                                       idempotent=True, json={"objects": [{"path": ref, "type": kind}]})
        except NotFoundError as exc:
            raise self._no_task_at(ref, kind, exc.body_excerpt) from None
        body = resp.json_object()
        objects = body.get("objects")
        found = next((o for o in objects if isinstance(o, dict) and o.get("id")), None) \
            if isinstance(objects, list) else None
        if found is None:
            raise self._no_task_at(ref, kind, None)
        return {"id": str(found["id"]), "path": id_text(found.get("path")) or ref,
                "type": id_text(found.get("type")) or kind}

    alookup = lookup.asynchronous

    @operation
    def lookup_id(self, federated_id: str, task_type: str) -> Operation[dict[str, Any]]:
        """A task's path from its federated id, with the v3 lookup resource: {id, path, type}.

        :param federated_id: the task's federated id
        :param task_type: DMASK, DRS, DSS, MTT, PCS, WORKFLOW, or TASKFLOW_SERVICE
        """
        fid = require_task_reference("federated_id", federated_id)
        kind = require_task_type(task_type, allow_service=False)
        known = self._paths.get((fid, kind))
        if known is not None:  # a task's path does not change between the marker, the start and the wait
            return dict(known)
        resp = yield self._request("POST", "/public/core/v3/lookup", "lookup", base=InformaticaBase.V3, idempotent=True,
                                json={"objects": [{"id": fid, "type": kind}]})
        objects = resp.json_object().get("objects")
        found = next((o for o in objects if isinstance(o, dict) and o.get("path")), None) \
            if isinstance(objects, list) else None
        if found is None:
            raise NotFoundError(f"{VENDOR}: no {kind} task has the federated id '{fid}' on {self.settings.host}",
                                vendor=VENDOR, endpoint="lookup")
        self._paths[(fid, kind)] = {"id": fid, "path": str(found["path"]), "type": id_text(found.get("type")) or kind}
        return dict(self._paths[(fid, kind)])

    alookup_id = lookup_id.asynchronous

    def _no_task_at(self, path: str, kind: str, said: str | None) -> NotFoundError:
        return NotFoundError(
            f"{VENDOR}: no {kind} task at the path '{path}' on {self.settings.host}"
            f"{' (' + said + ')' if said else ''}. Check the project/folder path as shown in Explore (e.g. "
            "'Sales/Daily/Load Customers') and the task type.",
            vendor=VENDOR, endpoint="lookup", status=404,
        )

    def _job_body(self, job: str, kind: str, by: str) -> Operation[tuple[dict[str, Any], dict[str, Any]]]:
        """The job object naming a task (a path is turned into its federated id), and what it says."""
        if by not in TASK_REFERENCES:
            raise ConfigurationError("by", f"{by!r} is not one of {', '.join(TASK_REFERENCES)}", "Use one of those.")
        ref = require_task_reference(by, job)
        body: dict[str, Any] = {"@type": "job", "taskType": kind}
        details: dict[str, Any] = {"kind": "task", "task_type": kind, "task_reference": by}
        if by == "path":
            found = yield from self.lookup.steps(self, ref, kind)
            body["taskFederatedId"] = found["id"]
            details.update(task_path=ref, task_federated_id=found["id"])
        elif by == "federated_id":
            body["taskFederatedId"] = ref
            details["task_federated_id"] = ref
        elif by == "name":
            body["taskName"] = ref
            details["task_name"] = ref
        else:
            body["taskId"] = ref
            details["task_id"] = ref
        return body, details

    @operation
    def start_run(
        self,
        job: str,
        *,
        task_type: str,
        by: str = "id",
        callback_url: str | None = None,
        parameter_file_name: str | None = None,
        parameter_file_dir: str | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> Operation[JobRun]:
        """Start a task (by id, federated id, name or path) or a taskflow published as a service (by name).

        :param job: the task: its id, federated id, name or path (as `by` says), or a taskflow service's name
        :param task_type: DMASK, DRS, DSS, MTT, PCS, WORKFLOW, or TASKFLOW_SERVICE
        :param by: how `job` names the task: "id" (default), "federated_id", "name" or "path"
        :param callback_url: a URL Informatica calls when the job ends (tasks only)
        :param parameter_file_name: the parameter file the run uses (tasks only)
        :param parameter_file_dir: the directory of that parameter file (tasks only)
        :param inputs: the taskflow's input fields (TASKFLOW_SERVICE only)
        """
        kind = require_task_type(task_type)
        if kind == TASKFLOW_SERVICE:
            if by != "name":
                raise ConfigurationError("task_name", f"a {TASKFLOW_SERVICE} is started by its API name, not by {by}",
                                         "Give task_name (the name in the taskflow's service URL).")
            if callback_url or parameter_file_name or parameter_file_dir:
                raise ConfigurationError("callback_url", "and parameter files apply to tasks, not to taskflows "
                                         "published as services", "Pass the taskflow's inputs as inputs.")
            run = yield from self.start_taskflow.steps(self, job, inputs)
            return run
        if inputs:
            raise ConfigurationError("inputs", f"only a {TASKFLOW_SERVICE} takes inputs",
                                     "Give task parameters to a task in a parameter file (parameter_file_name).")
        body, details = yield from self._job_body(job, kind, by)
        callback = require_callback_url(callback_url)
        if callback is not None:
            body["callbackURL"] = callback
        # "Starting a job": the parameter file is a runtime property, not a field of the job object
        runtime = {key: value for key, value in (
            ("parameterFileName", require_optional_text("parameter_file_name", parameter_file_name)),
            ("parameterFileDir", require_optional_text("parameter_file_dir", parameter_file_dir)))
            if value is not None}
        if runtime:
            body["runtime"] = {"@type": "mtTaskRuntime", **runtime}
        try:
            resp = yield self._request("POST", "/api/v2/job", "start job", json=body)
        except NotFoundError as exc:
            raise NotFoundError(
                f"{VENDOR}: the {kind} task {by.replace('_', ' ')} '{job}' was not found on {self.settings.host} "
                f"(HTTP 404{': ' + exc.body_excerpt if exc.body_excerpt else ''}). Check it and the task type; a task "
                "outside the Default folder is started by task_path or task_federated_id.",
                vendor=VENDOR, endpoint="start job", status=404, code=exc.code,
            ) from None
        answer = resp.json_object()
        run_id = id_text(answer.get("runId"))
        task_id = id_text(answer.get("taskId")) or details.get("task_id")
        if run_id is None or task_id is None:
            raise MalformedResponseError(
                f"{VENDOR} start job answer has no {'runId' if run_id is None else 'taskId'} (fields {sorted(answer)}):"
                " the run cannot be followed", vendor=VENDOR, endpoint="start job")
        details.update(task_id=task_id, task_name=id_text(answer.get("taskName")) or details.get("task_name"))
        if answer.get("taskFederatedId"):
            details["task_federated_id"] = id_text(answer.get("taskFederatedId"))
        if "callbackURL" in body:
            details["callback_url"] = body["callbackURL"]
        details["server_url"] = yield from self._server_url()
        run = JobRun(VENDOR, str(job), run_id, JobState.QUEUED, "QUEUED", details=details)
        return run.with_(url=self.run_url(run))

    astart_run = start_run.asynchronous

    @operation
    def start_taskflow(self, name: str, inputs: dict[str, Any] | None = None) -> Operation[JobRun]:
        """Run a taskflow published as a service: `POST <pod>/active-bpel/rt/<name>` with the inputs as JSON.

        :param name: the taskflow's service name (API name)
        :param inputs: the taskflow's input fields
        """
        api_name = require_id("task_name", name, what="the taskflow's API name (from its service URL)")
        values = require_mapping("inputs", inputs)
        try:
            resp = yield self._request("POST", f"/active-bpel/rt/{path_segment(api_name)}", "start taskflow",
                                    base=InformaticaBase.POD, json=values)
        except NotFoundError as exc:
            raise NotFoundError(
                f"{VENDOR}: no taskflow is published as the service '{api_name}' on {self.settings.host}'s POD "
                f"(HTTP 404{': ' + exc.body_excerpt if exc.body_excerpt else ''}). Publish the taskflow and give the "
                "API name of its service URL (Actions > Properties Detail).",
                vendor=VENDOR, endpoint="start taskflow", status=404, code=exc.code,
            ) from None
        body = resp.json_object()
        run_id = next((id_text(body[k]) for k in _RUN_ID_KEYS if body.get(k) not in (None, "")), None)
        if run_id is None:
            raise MalformedResponseError(
                f"{VENDOR} taskflow '{api_name}' answered without a run id (fields {sorted(body)}): the taskflow "
                "may not be published to run asynchronously", vendor=VENDOR, endpoint="start taskflow")
        details: dict[str, Any] = {"kind": "taskflow_service", "task_type": TASKFLOW_SERVICE, "taskflow": api_name,
                                   "input_names": sorted(values)}
        details["server_url"] = yield from self._server_url()
        run = JobRun(VENDOR, api_name, run_id, JobState.RUNNING, None, details=details)
        return run.with_(url=self.run_url(run))

    astart_taskflow = start_taskflow.asynchronous

    @operation
    def activity_monitor(self) -> Operation[list[dict[str, Any]]]:
        """Every running job of the org (the monitor cannot be filtered)."""
        resp = yield self._request("GET", "/api/v2/activity/activityMonitor", "activity monitor",
                                params={"details": "false"})
        return _entries(resp, "activity monitor")

    aactivity_monitor = activity_monitor.asynchronous

    @operation
    def activity_log_entry(self, task_id: str, run_id: str) -> Operation[dict[str, Any] | None]:
        """The activity log entry of one run of one task (None while it has none).

        :param task_id: the task's id
        :param run_id: the run's id (run ids count per task)
        """
        resp = yield self._request("GET", "/api/v2/activity/activityLog", "activity log",
                                params={"runId": run_id, "taskId": task_id})
        for entry in _entries(resp, "activity log", one_allowed=True):
            if id_text(entry.get("runId")) != run_id:
                continue
            owner = id_text(entry.get("objectId")) or id_text(entry.get("taskId"))
            if owner in (None, task_id):
                return entry
        return None

    aactivity_log_entry = activity_log_entry.asynchronous

    @operation
    def get_run(self, run: JobRun) -> Operation[JobRun]:
        """Read a run: the activity monitor while it runs, then the activity log (its final state).

        :param run: the run to act on, as start_run() or get_run() returned it (its ids and details)
        """
        if not run.run_id:
            raise ConfigurationError("run_id", "is empty", "Give the run id of the Informatica job.")
        if run.details.get("kind") == "taskflow_service":
            fresh = yield from self.taskflow_status.steps(self, run)
            return fresh
        task_id = str(run.details.get("task_id") or run.job_id)
        run_id = str(run.run_id)
        server = run.details.get("server_url") or (yield from self._server_url())
        entries = yield from self.activity_monitor.steps(self)
        mine = next((e for e in entries if id_text(e.get("taskId")) == task_id and id_text(e.get("runId")) == run_id),
                    None)
        word = str(mine.get("executionState") or "").upper() if mine else None
        if mine is not None and word not in ("COMPLETED", "FAILED"):
            return self.run_from_monitor(run, mine, server)
        logged = yield from self.activity_log_entry.steps(self, task_id, run_id)
        if logged is not None:
            return self.run_from_log(run, logged, server)
        if mine is not None:
            return self.run_from_monitor(run, mine, server)
        return self._absent(run, task_id, server)

    aget_run = get_run.asynchronous

    def _absent(self, run: JobRun, task_id: str, server: str | None) -> JobRun:
        """A run in neither list: not yet visible, or between the monitor and the log.

        Either way NotFoundError lets the wait's not-found grace apply. A run already seen is reported once
        as still running (the wait's not-found grace counts from that last sighting), with `absent_since`.
        """
        where = f"{VENDOR} run {run.run_id} of task {task_id} is in neither the activity monitor nor the activity log"
        if not run.details.get("seen"):
            raise NotFoundError(f"{where} yet", vendor=VENDOR, endpoint="activity log", code="in neither list")
        if run.details.get("absent_since"):
            raise NotFoundError(f"{where}: it left the monitor and has not reached the log", vendor=VENDOR,
                                endpoint="activity log", code="between monitor and log")
        now = time.time()
        details = self._carried(run, server)
        details["absent_since"] = now
        # It has left the monitor, so it ran; its final state is not known until the log has it.
        return run.with_(state=JobState.RUNNING, vendor_state=None, details=details, eta_seconds=None,
                         summary="between the activity monitor and the activity log")

    # -- shared status reads: the org's activity monitor answers the triggerer's waits on one connection ---------
    @operation
    def list_active_runs(self) -> Operation[dict[tuple[str, str], dict[str, Any]]]:
        """Every job of the org in the activity monitor, by (task id, run id): one call."""
        entries = yield from self.activity_monitor.steps(self)
        listed: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in entries:
            task_id, run_id = id_text(entry.get("taskId")), id_text(entry.get("runId"))
            if task_id is not None and run_id is not None:
                listed[(task_id, run_id)] = entry
        return listed

    alist_active_runs = list_active_runs.asynchronous

    def listing_key(self, run: JobRun) -> tuple[str, str] | None:
        """(task id, run id) as the monitor shows them; None for a taskflow service run (read by its status)."""
        if run.details.get("kind") == "taskflow_service" or not run.run_id:
            return None
        return str(run.details.get("task_id") or run.job_id), str(run.run_id)

    def run_from_listing(self, run: JobRun, entry: dict[str, Any]) -> JobRun | None:
        """The run as the monitor shows it while it runs; None once it ended (get_run reads the activity log)."""
        word = str(entry.get("executionState") or "").upper()
        if not word or word in ("COMPLETED", "FAILED"):
            return None
        return self.run_from_monitor(run, entry, run.details.get("server_url"))

    @operation
    def taskflow_status(self, run: JobRun) -> Operation[JobRun]:
        """Read a run of a taskflow published as a service: `GET <pod>/active-bpel/services/tf/status/<runId>`.

        :param run: the run to act on, as start_run() or get_run() returned it (its ids and details)
        """
        try:
            resp = yield self._request("GET", f"/active-bpel/services/tf/status/{path_segment(run.run_id)}",
                                    "taskflow status", base=InformaticaBase.POD)
        except NotFoundError as exc:
            raise NotFoundError(
                f"{VENDOR} taskflow run {run.run_id} of '{run.job_id}' was not found on {self.settings.host}'s POD "
                f"(HTTP 404{': ' + exc.body_excerpt if exc.body_excerpt else ''})",
                vendor=VENDOR, endpoint="taskflow status", status=404, code=exc.code,
            ) from None
        server = run.details.get("server_url") or (yield from self._server_url())
        return self.run_from_taskflow(run, resp.json_object(), server)

    ataskflow_status = taskflow_status.asynchronous

    def _task_key(self, job: str, kind: str, by: str) -> Operation[tuple[str, str]]:
        """How the task's entries are recognised in the monitor: ("taskId", id) for a task named by id, else
        ("taskName", name) (the monitor and the log show no paths or federated ids)."""
        ref = require_task_reference(by, job)
        if by == "id":
            return "taskId", ref
        if by == "federated_id":
            found = yield from self.lookup_id.steps(self, ref, kind)
            return "taskName", found["path"].rsplit("/", 1)[-1]
        if by == "path":
            return "taskName", ref.rsplit("/", 1)[-1]
        return "taskName", ref

    @staticmethod
    def _of_task(entry: Mapping[str, Any], key: tuple[str, str], kind: str) -> bool:
        """Whether a monitor entry (taskId, taskName) or a log entry (objectId, objectName) is of the task."""
        field_name, value = key
        alias = "objectId" if field_name == "taskId" else "objectName"
        shown = id_text(entry.get(field_name)) or id_text(entry.get(alias))
        return shown == value and str(entry.get("type") or kind).upper() == kind

    @operation
    def find_active_run(self, job: str, *, task_type: str, by: str = "id", **_start_options: Any
                        ) -> Operation[JobRun | None]:
        """The task's run in the activity monitor, if it has one going (the newest).

        A task named by id is matched on its id; by name, path or federated id, on its name (the monitor
        shows no paths). Taskflows published as services cannot be found this way.

        :param job: the task: its id, federated id, name or path (as `by` says), or a taskflow service's name
        :param task_type: DMASK, DRS, DSS, MTT, PCS, WORKFLOW, or TASKFLOW_SERVICE
        :param by: how `job` names the task: "id" (default), "federated_id", "name" or "path"
        """
        kind = require_task_type(task_type)
        if kind == TASKFLOW_SERVICE:
            raise NotImplementedError("the runs of a taskflow published as a service cannot be listed by name")
        key = yield from self._task_key(job, kind, by)
        entries = yield from self.activity_monitor.steps(self)
        mine = [e for e in entries if self._of_task(e, key, kind)
                and str(e.get("executionState") or "").upper() not in ("COMPLETED", "FAILED")]
        if not mine:
            return None
        entry = max(mine, key=lambda e: _int(e.get("runId")) or 0)
        server = yield from self._server_url()
        return self.run_from_monitor(self._seed(job, kind, by, entry, server), entry, server)

    afind_active_run = find_active_run.asynchronous

    def _seed(self, job: str, kind: str, by: str, entry: Mapping[str, Any], server: str | None) -> JobRun:
        """A JobRun of the task's run shown by a monitor or log entry (before the entry is read into it)."""
        details: dict[str, Any] = {
            "kind": "task", "task_type": kind, "task_reference": by,
            "task_id": id_text(entry.get("taskId")) or id_text(entry.get("objectId")),
            "task_name": id_text(entry.get("taskName")) or id_text(entry.get("objectName")), "server_url": server}
        if by == "path":
            details["task_path"] = str(job)
        elif by == "federated_id":
            details["task_federated_id"] = str(job)
        return JobRun(VENDOR, str(job), id_text(entry.get("runId")), JobState.RUNNING, details=details)

    # -- one task, one run: recovering an ambiguous start ---------------------------------------------------
    @property
    def start_visibility_lag(self) -> float:  # type: ignore[override]
        """Seconds recovery looks for a run it may have started. The docs say a run "can be briefly absent from
        both" the activity monitor and the activity log, without a figure: DEFAULT_START_VISIBILITY_LAG, or the
        connection's extra `start_visibility_lag`."""
        return float(self.settings.start_visibility_lag)

    @operation
    def task_log(self, key: tuple[str, str], *, limit: int = 50) -> Operation[list[dict[str, Any]]]:
        """The newest activity log entries of a task: by `taskId` when the task is known by id, else the org's
        newest entries (the log cannot be filtered by name), `limit` rows at most.

        :param key: ("id", task id) or ("name", task name)
        :param limit: rows at most (default 50)
        """
        params: dict[str, Any] = {"rowLimit": limit}
        if key[0] == "taskId":
            params["taskId"] = key[1]
        resp = yield self._request("GET", "/api/v2/activity/activityLog", "activity log", params=params)
        return _entries(resp, "activity log", one_allowed=True)

    atask_log = task_log.asynchronous

    @operation
    def list_recent_runs(self, job: str, *, task_type: str, by: str = "id", limit: int = 50,
                         **_start_options: Any) -> Operation[list[JobRun]]:
        """The task's newest ended runs from the activity log, oldest first: what an event trigger watches.

        A task named by id is read with `taskId`; by name, path or federated id the log cannot be filtered (it
        shows no paths), so the org's newest `limit` entries are read and the task's kept by name. The log holds
        ended runs only, each with its final state, row counts and UTC times.

        :param job: the task: its id, federated id, name or path (as `by` says)
        :param task_type: DMASK, DRS, DSS, MTT, PCS or WORKFLOW
        :param by: how `job` names the task: "id" (default), "federated_id", "name" or "path"
        :param limit: log entries read (rowLimit; default 50)
        """
        kind = require_task_type(task_type)
        if kind == TASKFLOW_SERVICE:
            raise ConfigurationError("task_type", f"a {TASKFLOW_SERVICE}'s runs are not in the activity log",
                                     "Watch a task (DMASK, DRS, DSS, MTT, PCS or WORKFLOW).")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigurationError("limit", f"is {limit!r}", "Give a whole number of log entries, e.g. 50.")
        key = yield from self._task_key(job, kind, by)
        entries = yield from self.task_log.steps(self, key, limit=limit)
        server = yield from self._server_url()
        runs = [self.run_from_log(self._seed(job, kind, by, e, server), e, server) for e in entries
                if self._of_task(e, key, kind) and id_text(e.get("runId")) is not None]
        return sorted(runs, key=lambda r: (_int(r.run_id) or 0, r.started_at or ""))

    alist_recent_runs = list_recent_runs.asynchronous

    @operation
    def start_marker(self, job: str, *, task_type: str, by: str = "id", **_options: Any
                     ) -> Operation[dict[str, Any]]:
        """What Informatica shows of the task just before a start: its highest run id in the activity monitor
        and the activity log (run ids count up per task), with our clock; for a taskflow published as a
        service, the ids of its runs that started lately and the server's clock.

        :param job: the task: its id, federated id, name or path (as `by` says), or a taskflow service's name
        :param task_type: DMASK, DRS, DSS, MTT, PCS, WORKFLOW, or TASKFLOW_SERVICE
        :param by: how `job` names the task: "id" (default), "federated_id", "name" or "path"
        """
        kind = require_task_type(task_type)
        if kind == TASKFLOW_SERVICE:
            marker = yield from self._taskflow_marker(job)
            return marker
        at = time.time()
        key = yield from self._task_key(job, kind, by)
        monitor = yield from self.activity_monitor.steps(self)
        logged = yield from self.task_log.steps(self, key)
        ids = [_int(e.get("runId")) for e in (*monitor, *logged) if self._of_task(e, key, kind)]
        known = [i for i in ids if i is not None]
        return {"at": at, "key": list(key), "task_type": kind, "max_run_id": max(known) if known else None}

    astart_marker = start_marker.asynchronous

    @operation
    def find_started_run(self, job: str, marker: Mapping[str, Any], *, task_type: str, by: str = "id",
                         **_options: Any) -> Operation[JobRun | None]:
        """The task's first run begun since `marker`, in whatever state it is: from the activity log when it has
        already ended, else from the monitor. A run is newer when its run id is above the marker's highest;
        when the marker saw no run at all, when its start (startTimeUtc) is not before the marker's time less
        CLOCK_SKEW.

        :param job: the task: its id, federated id, name or path (as `by` says), or a taskflow service's name
        :param marker: what start_marker() returned just before the start
        :param task_type: DMASK, DRS, DSS, MTT, PCS, WORKFLOW, or TASKFLOW_SERVICE
        :param by: how `job` names the task: "id" (default), "federated_id", "name" or "path"
        """
        kind = require_task_type(task_type)
        if kind == TASKFLOW_SERVICE:
            found = yield from self._find_started_taskflow(job, marker)
            return found
        raw_key = marker.get("key")
        key = (str(raw_key[0]), str(raw_key[1])) if isinstance(raw_key, list | tuple) and len(raw_key) == 2 \
            else (yield from self._task_key(job, kind, by))
        floor = _int(marker.get("max_run_id"))
        since = float(marker.get("at") or 0.0) - CLOCK_SKEW

        def newer(entry: Mapping[str, Any]) -> bool:
            run_id = _int(entry.get("runId"))
            if run_id is None or not self._of_task(entry, key, kind):
                return False
            if floor is not None:
                return run_id > floor
            started = _epoch(entry_time(entry, "startTime"))
            return started is None or started >= since

        logged = [e for e in (yield from self.task_log.steps(self, key)) if newer(e)]
        monitor = [e for e in (yield from self.activity_monitor.steps(self)) if newer(e)]
        if not logged and not monitor:
            return None
        first = min(_int(e.get("runId")) or 0 for e in (*logged, *monitor))
        server = yield from self._server_url()
        entry = next((e for e in logged if _int(e.get("runId")) == first), None)
        if entry is not None:
            return self.run_from_log(self._seed(job, kind, by, entry, server), entry, server)
        entry = next(e for e in monitor if _int(e.get("runId")) == first)
        return self.run_from_monitor(self._seed(job, kind, by, entry, server), entry, server)

    afind_started_run = find_started_run.asynchronous

    @operation
    def taskflow_runs(self, since: float) -> Operation[tuple[list[dict[str, Any]], float | None]]:
        """Taskflow runs that started at or after `since` (epoch seconds), with the server's clock (its Date
        header): `GET <pod>/active-bpel/services/tf/status?startTime=..&rowLimit=50` (50 is the documented
        maximum).

        :param since: epoch seconds
        """
        stamp = datetime.fromtimestamp(since, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        resp = yield self._request("GET", "/active-bpel/services/tf/status", "taskflow status",
                                   base=InformaticaBase.POD, params={"startTime": stamp, "rowLimit": 50})
        body = resp.json()
        if isinstance(body, dict):  # one run, or a wrapper around the list
            body = next((v for v in body.values() if isinstance(v, list)), [body])
        if not isinstance(body, list):
            raise MalformedResponseError(f"{VENDOR} taskflow status list is not a list: {excerpt(resp.body)!r}",
                                         vendor=VENDOR, endpoint="taskflow status")
        server_at = None
        date = resp.header("Date")
        if date:
            try:
                server_at = parsedate_to_datetime(date).timestamp()
            except (TypeError, ValueError, IndexError):
                server_at = None
        return [e for e in body if isinstance(e, dict)], server_at

    ataskflow_runs = taskflow_runs.asynchronous

    @staticmethod
    def _same_taskflow(entry: Mapping[str, Any], api_name: str) -> bool:
        """Whether a taskflow status entry is of the taskflow published as `api_name` (its assetName; the API
        name defaults to the taskflow's name, spaces as underscores)."""
        def norm(text: Any) -> str:
            return str(text or "").strip().lower().replace(" ", "_")
        return norm(entry.get("assetName")) == norm(api_name)

    def _taskflow_marker(self, name: str) -> Operation[dict[str, Any]]:
        api_name = require_id("task_name", name, what="the taskflow's API name (from its service URL)")
        at = time.time()
        entries, server_at = yield from self.taskflow_runs.steps(self, at - CLOCK_SKEW)
        known = sorted(i for i in (id_text(e.get("runId")) for e in entries if self._same_taskflow(e, api_name))
                       if i)
        return {"at": at, "server_at": server_at, "taskflow": api_name, "run_ids": known}

    def _find_started_taskflow(self, name: str, marker: Mapping[str, Any]) -> Operation[JobRun | None]:
        """The taskflow's first run that started since the marker (by the server's clock, less CLOCK_SKEW) and
        that the marker did not already list."""
        api_name = require_id("task_name", name, what="the taskflow's API name (from its service URL)")
        clock = marker.get("server_at") or marker.get("at")
        if not isinstance(clock, int | float):
            raise NotImplementedError("the marker taken before the start has no time to compare with")
        known = {str(i) for i in marker.get("run_ids") or []}
        entries, _ = yield from self.taskflow_runs.steps(self, float(clock) - CLOCK_SKEW)
        fresh = [e for e in entries if self._same_taskflow(e, api_name) and id_text(e.get("runId"))
                 and id_text(e.get("runId")) not in known]
        if not fresh:
            return None
        entry = min(fresh, key=lambda e: (_epoch(e.get("startTime")) or 0.0, _int(e.get("runId")) or 0))
        server = yield from self._server_url()
        details = {"kind": "taskflow_service", "task_type": TASKFLOW_SERVICE, "taskflow": api_name,
                   "server_url": server}
        seed = JobRun(VENDOR, api_name, id_text(entry.get("runId")), JobState.RUNNING, None, details=details)
        return self.run_from_taskflow(seed, entry, server)

    @operation
    def cancel_run(self, run: JobRun) -> Operation[bool]:
        """Stop the run. The stop is keyed by task: it is sent only while this run is in the monitor. A run of a
        taskflow published as a service is terminated by its run id, while it is running or suspended.

        :param run: the run to act on, as start_run() or get_run() returned it (its ids and details)
        """
        if run.details.get("kind") == "taskflow_service":
            stopped = yield from self._terminate_if_going(run)
            return stopped
        task_id = str(run.details.get("task_id") or run.job_id)
        entries = yield from self.activity_monitor.steps(self)
        of_task = [e for e in entries if id_text(e.get("taskId")) == task_id]
        mine = next((e for e in of_task if id_text(e.get("runId")) == str(run.run_id)), None)
        if mine is None or str(mine.get("executionState") or "").upper() in ("COMPLETED", "FAILED", "STOPPING"):
            self.log.info("Not stopping %s: it is not running (%s).", run.describe(),
                          "not in the activity monitor" if mine is None else mine.get("executionState"))
            return False
        others = [id_text(e.get("runId")) for e in of_task if e is not mine]
        if others:
            self.log.warning("Stopping task %s stops all its runs: besides run %s, run(s) %s.", task_id, run.run_id,
                             ", ".join(str(o) for o in others))
        kind = require_task_type(run.details.get("task_type") or mine.get("type"), allow_service=False)
        stopped = yield from self._stop(task_id, kind, "id")
        return stopped

    acancel_run = cancel_run.asynchronous

    def _terminate_if_going(self, run: JobRun) -> Operation[bool]:
        fresh = yield from self.taskflow_status.steps(self, run)
        if fresh.is_terminal and fresh.vendor_state != "SUSPENDED":
            self.log.info("Not terminating %s: it has ended.", fresh.describe())
            return False
        terminated = yield from self.terminate_taskflow.steps(self, str(run.run_id))
        return terminated

    @operation
    def terminate_taskflow(self, run_id: str) -> Operation[bool]:
        """Terminate a run of a taskflow published as a service ("Terminating taskflows through an API"):
        `PUT <pod>/active-bpel/services/tf/terminate` with `{"runid": ["<runId>"]}`.

        :param run_id: the taskflow run's id
        """
        rid = require_id("run_id", run_id, what="the taskflow's run id")
        try:
            yield self._request("PUT", "/active-bpel/services/tf/terminate", "terminate taskflow",
                                base=InformaticaBase.POD, json={"runid": [rid]}, read="text")
        except NotFoundError as exc:
            raise NotFoundError(
                f"{VENDOR} taskflow run {rid} was not found on {self.settings.host}'s POD"
                f"{' (' + exc.body_excerpt + ')' if exc.body_excerpt else ''}",
                vendor=VENDOR, endpoint="terminate taskflow", status=404, code=exc.code) from None
        return True

    aterminate_taskflow = terminate_taskflow.asynchronous

    @operation
    def resume_taskflow(self, run_id: str, mode: str = "retry") -> Operation[JobRun]:
        """Resume a SUSPENDED run of a taskflow published as a service ("Resume a suspended taskflow"):
        `PUT <pod>/active-bpel/management/runtime/v1/resumeWithFaultRetry/<runId>` (mode "retry": run the
        faulted step again) or `.../resumeWithFaultSkip/<runId>` (mode "skip": go on from the next step).
        Returns the run as its status shows it afterwards.

        :param run_id: the suspended taskflow run's id
        :param mode: "retry" (default) or "skip"
        """
        rid = require_id("run_id", run_id, what="the taskflow's run id")
        how = require_choice("mode", mode, RESUME_MODES)
        seed = JobRun(VENDOR, rid, rid, JobState.RUNNING, details={"kind": "taskflow_service",
                                                                   "task_type": TASKFLOW_SERVICE})
        before = yield from self.taskflow_status.steps(self, seed)
        if before.vendor_state != "SUSPENDED":
            raise ApiError(
                f"{VENDOR} taskflow run {rid} is {before.vendor_state}, not SUSPENDED: only a suspended taskflow can "
                "be resumed. Start a new run for one that failed or was stopped.",
                vendor=VENDOR, endpoint="resume taskflow")
        resource = RESUME_MODES[how]
        yield self._request("PUT", f"/active-bpel/management/runtime/v1/{resource}/{path_segment(rid)}",
                         "resume taskflow", base=InformaticaBase.POD, read="none")
        self.log.info("Resumed taskflow run %s with %s.", rid, resource)
        after = yield from self.taskflow_status.steps(self, before)
        return after

    aresume_taskflow = resume_taskflow.asynchronous

    def _stop(self, ref: str, kind: str, by: str, clean_stop: bool | None = None) -> Operation[bool]:
        body, _ = yield from self._job_body(ref, kind, by)
        clean = self.clean_stop if clean_stop is None else clean_stop
        try:
            yield self._request("POST", "/api/v2/job/stop", "stop job", json=body, idempotent=True, read="none",
                             params={"cleanStop": "true"} if clean else None)
        except ApiError as exc:
            if "not running" in str(exc).lower():
                self.log.info("%s: the task %s is not running; nothing to stop.", VENDOR, ref)
                return False
            raise
        return True

    @operation
    def stop_task(self, job: str, *, task_type: str, by: str = "id", clean_stop: bool | None = None
                  ) -> Operation[bool]:
        """Stop whatever the task has running (True), or say it had nothing running (False).

        :param job: the task: its id, federated id, name or path (as `by` says), or a taskflow service's name
        :param task_type: DMASK, DRS, DSS, MTT, PCS, WORKFLOW, or TASKFLOW_SERVICE
        :param by: how `job` names the task: "id" (default), "federated_id", "name" or "path"
        :param clean_stop: send cleanStop=true (None: leave it to Informatica)
        """
        kind = require_task_type(task_type, allow_service=False)
        stopped = yield from self._stop(job, kind, by, clean_stop)
        return stopped

    astop_task = stop_task.asynchronous

    def connection_test_steps(self) -> Operation[str]:
        credential = yield Login()
        entries = yield from self.activity_monitor.steps(self)
        extra = credential.extra
        return (f"Connected to Informatica Cloud as {extra.get('user') or self.settings.login} (org "
                f"{extra.get('org_id')}, {self.settings.api_version} login); server {extra.get('server_url')}; "
                f"{len(entries)} job(s) running.")


#: Monitor URLs of runs by what fills them in (InformaticaCloudHook.run_url). Bounded.
_RUN_URLS: dict[tuple[Any, ...], str] = {}
