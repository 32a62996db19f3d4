"""Salesforce B2C Commerce: the OCAPI Data API Jobs resource, and the SCAPI Jobs API that succeeds it.

Everything B2C Commerce-specific lives here: the Account Manager client-credentials grant and the
Business Manager user grant, the fault documents (OCAPI) and problem+json bodies (SCAPI), the
execution_status vocabulary, and the switch to SCAPI when an instance answers that OCAPI is
deprecated. The hook keeps the API it talks to (`hook.backend`) and each run records it in
`details["backend"]`, so a run started on OCAPI keeps being polled through SCAPI once OCAPI is off.
"""

from __future__ import annotations

import base64
import enum
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from airflow_provider_jobs.connection_forms.ocapi import (
    BACKENDS,
    CONNECTION_FORM,
    DEFAULT_API_VERSION,
    DEFAULT_BM_URL_TEMPLATE,
    DEFAULT_SCAPI_SCOPE,
    DEFAULT_SITE_PREFIX,
    DEFAULT_TOKEN_URL,
)
from airflow_provider_jobs.core.auth import AuthStrategy, Credential, LoginAuth, credential_cache, merged
from airflow_provider_jobs.core.compat import mask_secret
from airflow_provider_jobs.core.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    JobAlreadyRunningError,
    JobProviderError,
    MalformedResponseError,
    NotFoundError,
    excerpt,
)
from airflow_provider_jobs.core.hook import ConnectionSettings, JobApiHook, base_url_from, operation
from airflow_provider_jobs.core.http import ApiRequest, ApiResponse, Operation, error_for_status, path_segment
from airflow_provider_jobs.core.inputs import is_templated, require_id
from airflow_provider_jobs.core.runs import JobRun, JobState, StateVocabulary, id_text

VENDOR = "ocapi"


class OcapiBase(enum.StrEnum):
    """Where a request goes besides the instance's own URL: the OCAPI Data API, the SCAPI Jobs API, Account
    Manager's token endpoint, or the instance's Business Manager token endpoint."""

    OCAPI = "ocapi"
    SCAPI = "scapi"
    TOKEN = "token"
    BM_TOKEN = "bm_token"

__all__ = [
    "CONNECTION_FORM",
    "OcapiDeprecatedError",
    "OcapiExecutionNotFinishedError",
    "OcapiExecutionNotFoundError",
    "OcapiHook",
    "OcapiJobExecutionError",
    "OcapiJobInvalidError",
    "OcapiJobNotFoundError",
    "OcapiJobNotRestartableError",
    "OcapiJobRestartError",
]

log = logging.getLogger(__name__)

SCAPI_HOST_TEMPLATE = "https://{short_code}.api.commercecloud.salesforce.com"
SCAPI_JOBS_PATH = "/operation/jobs/v1/organizations/{organization_id}"
ORGANIZATION_PREFIX = "f_ecom_"
TENANT_SCOPE_PREFIX = "SALESFORCE_COMMERCE_API:"
BM_GRANT_TYPE = "urn:demandware:params:oauth:grant-type:client-id:dwsid:dwsecuretoken"
#: job_execution `status` values of an execution that is still going (what job_execution_search filters on).
ACTIVE_STATUSES = ("RUNNING", "PENDING")
#: The most hits job_execution_search returns in one page.
SEARCH_PAGE = 200
#: Pages a listing of active executions reads at most (executions past them are read one by one).
LISTING_PAGES = 50
CANNOT_CANCEL = "Salesforce B2C Commerce cannot cancel a running job"
#: The longest parameter name and value job_execution_parameter / JobParameter allow (data-api.json and
#: operations-jobs-v1.yaml).
PARAMETER_NAME_MAX = 256
PARAMETER_VALUE_MAX = 1000
#: Seconds a just-started execution may take to show in job_execution_search. Salesforce names no lag (the
#: execute call answers with the execution it created, and the search reads the same records), so this only
#: covers a slow instance; a connection's extra start_visibility_lag overrides it.
DEFAULT_START_VISIBILITY_LAG = 10.0
#: Executions of a job a start marker and recovery read (the newest by start time, and every active one).
MARKER_PAGE = 50

OCAPI_STATES = StateVocabulary(
    VENDOR,
    {
        "pending": JobState.QUEUED,
        "running": JobState.RUNNING,
        "pausing": JobState.RUNNING,
        "paused": JobState.RUNNING,
        "resuming": JobState.RUNNING,
        "resumed": JobState.RUNNING,
        "restarting": JobState.RUNNING,
        "restarted": JobState.RUNNING,
        "retrying": JobState.RUNNING,
        "retried": JobState.RUNNING,
        "aborting": JobState.RUNNING,
        "aborted": JobState.FAILED,
        "finished": JobState.SUCCESS,  # only with exit_status.status ok: see execution_state()
        "unknown": JobState.RUNNING,
    },
)


# --- errors ---------------------------------------------------------------------------------------
class OcapiJobNotFoundError(NotFoundError):
    """JobNotFoundException: no job with that id on the instance."""


class OcapiExecutionNotFoundError(NotFoundError):
    """JobExecutionNotFoundException: no execution with that id for that job."""


class OcapiJobInvalidError(ApiError):
    """JobInvalidException: the job is invalid and therefore not executable."""


class OcapiJobRestartError(ApiError):
    """JobRestartException: the job could not be restarted."""


class OcapiJobNotRestartableError(ApiError):
    """JobNotRestartableException: the job does not support restarting."""


class OcapiJobExecutionError(ApiError):
    """JobExecutionException (HTTP 400 or 409): the job could not be executed."""


class OcapiExecutionNotFinishedError(ApiError):
    """JobExecutionNotFinishedException: a running execution cannot be deleted."""


class OcapiDeprecatedError(ApiError):
    """OcapiDeprecatedException: OCAPI is switched off on the instance (the SCAPI Jobs API is the way on)."""


@dataclass(frozen=True)
class _Fault:
    cls: type[ApiError]
    subject: str
    fix: str


#: Every fault of the Jobs resource, keyed by its OCAPI fault type. SCAPI problem+json bodies are
#: matched to the same entries by their type slug ("job-not-found") or title ("Job Not Found").
FAULTS: dict[str, _Fault] = {
    "JobNotFoundException": _Fault(
        OcapiJobNotFoundError,
        "job {job} was not found on {host}",
        "Check the job id in Business Manager (Administration > Operations > Jobs) and that the API client "
        "may use the jobs resource.",
    ),
    "JobAlreadyRunningException": _Fault(
        JobAlreadyRunningError,
        "job {job} is already running on {host}",
        "Wait for that execution, or let the operator do it with if_running='wait' or 'attach'.",
    ),
    "JobInvalidException": _Fault(
        OcapiJobInvalidError,
        "job {job} is invalid and cannot be executed on {host}",
        "Open the job in Business Manager and fix its flows, steps and parameters.",
    ),
    "JobRestartException": _Fault(
        OcapiJobRestartError,
        "job {job} could not be restarted on {host}",
        "Look at the log of its last execution in Business Manager, or start a new execution.",
    ),
    "JobNotRestartableException": _Fault(
        OcapiJobNotRestartableError,
        "job {job} does not support restarting on {host}",
        "Start a new execution of the job instead.",
    ),
    "JobExecutionException": _Fault(
        OcapiJobExecutionError,
        "job {job} could not be executed on {host}",
        "The job may be invalid or use step types that are not found: check it in Business Manager.",
    ),
    "JobExecutionNotFoundException": _Fault(
        OcapiExecutionNotFoundError,
        "execution {execution} of job {job} was not found on {host}",
        "Check the job id and execution id; a deleted execution record is gone for good.",
    ),
    "JobExecutionNotFinishedException": _Fault(
        OcapiExecutionNotFinishedError,
        "execution {execution} of job {job} is not finished on {host}, so its record cannot be deleted",
        "Delete it after the execution has ended.",
    ),
    "OcapiDeprecatedException": _Fault(OcapiDeprecatedError, "OCAPI is switched off on {host}", ""),
    "InvalidAccessTokenException": _Fault(
        AuthenticationError,
        "B2C Commerce refused the access token on {host}",
        "Check the connection's client id and secret, and the API client's OCAPI settings.",
    ),
}
_SCAPI_KEYS = {re.sub(r"(?<!^)(?=[A-Z])", "-", k.removesuffix("Exception")).lower(): k for k in FAULTS}
_TOKEN_TEXT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?|(token\s+)'[^']*'", re.I)
#: The parser's own details keys: replaced, never merged, on each read.
_RUN_KEYS = frozenset(
    {
        "backend",
        "execution_status",
        "exit_code",
        "exit_status",
        "exit_message",
        "steps",
        "duration_ms",
        "log_file",
        "is_restart",
        "message",
        "parameters",
    }
)


def scrub(text: str | None, *secrets: str | None) -> str:
    """A vendor message without access tokens (OCAPI repeats a refused token in its fault message)."""
    if not text:
        return ""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")

    def redact(match: re.Match[str]) -> str:
        return match.group(1) + "'<redacted>'" if match.group(1) else "<redacted>"

    return _TOKEN_TEXT.sub(redact, text)


# --- input helpers ----------------------------------------------------------------------------------
def job_ref(value: Any, field: str = "job_id") -> str:
    """A B2C Commerce job id (as in Business Manager), checked."""
    return require_id(field, value, what="the job id from Business Manager")


def parameter_list(value: Any, field: str = "parameters") -> list[dict[str, str]]:
    """Job parameters as OCAPI takes them: [{"name", "value"}] with string values.

    Accepts a dict of names to values, a list of {"name", "value"} dicts, or either as a JSON
    string (what a template renders to). Numbers and booleans become strings; dicts and lists
    become compact JSON (e.g. SiteScope); None is refused.
    """
    if value is None:
        return []
    if isinstance(value, str):
        if is_templated(value):
            raise ConfigurationError(
                field, f"{value!r} was not rendered", "Give a dict, or a template rendering one."
            )
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            raise ConfigurationError(
                field, f"{value[:80]!r} is not JSON", "Give a dict of parameter names to values."
            ) from None
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        pairs = []
        for index, item in enumerate(value):
            if not isinstance(item, Mapping) or "name" not in item or "value" not in item:
                raise ConfigurationError(
                    f"{field}[{index}]", f"is {item!r}", 'Give {"name": ..., "value": ...}.'
                )
            pairs.append((item["name"], item["value"]))
    else:
        raise ConfigurationError(
            field, f"is a {type(value).__name__}", "Give a dict of parameter names to values."
        )
    result: list[dict[str, str]] = []
    seen: set[str] = set()
    for name, raw in pairs:
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(field, f"has the parameter name {name!r}", "Use non-empty string names.")
        if name in seen:
            raise ConfigurationError(field, f"names {name!r} twice", "Give each parameter once.")
        seen.add(name)
        if len(name) > PARAMETER_NAME_MAX:
            raise ConfigurationError(
                field, f"has the parameter name {name[:40]!r}... ({len(name)} characters)",
                f"B2C Commerce takes names of at most {PARAMETER_NAME_MAX} characters.",
            )
        value = parameter_value(f"{field}[{name!r}]", raw)
        if not value.strip():
            raise ConfigurationError(
                f"{field}[{name!r}]", "is blank",
                "B2C Commerce refuses a blank parameter value (job_execution_parameter pattern \\S): give a value "
                "or leave the parameter out, and the job's default applies.",
            )
        if len(value) > PARAMETER_VALUE_MAX:
            raise ConfigurationError(
                f"{field}[{name!r}]", f"has {len(value)} characters",
                f"B2C Commerce takes parameter values of at most {PARAMETER_VALUE_MAX} characters.",
            )
        result.append({"name": name, "value": value})
    return result


def parameter_value(field: str, raw: Any) -> str:
    if raw is None:
        raise ConfigurationError(
            field, "is None", "Give a value (a string, number or boolean), or leave it out."
        )
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, float, str)):
        return str(raw)
    if isinstance(raw, (Mapping, list, tuple)):
        return json.dumps(raw, separators=(",", ":"))
    raise ConfigurationError(
        field, f"is a {type(raw).__name__}", "Give a string, number, boolean, dict or list."
    )


def normalize_version(value: str, where: str) -> str:
    match = re.fullmatch(r"v?(\d+)[._](\d+)", value.strip())
    if not match:
        raise ConfigurationError(where, f"{value!r} is not an OCAPI version", "Give it like v23_2.")
    return f"v{match.group(1)}_{match.group(2)}"


def execution_state(execution_status: Any, exit_status: Any) -> JobState:
    """success = finished with exit_status.status ok; failure = aborted, or exit_status.status error;
    anything else is still going (pending is QUEUED)."""
    word = str(execution_status or "").strip().lower()
    outcome = (
        str((exit_status or {}).get("status") or "").strip().lower() if isinstance(exit_status, dict) else ""
    )
    if word == "aborted" or outcome == "error":
        return JobState.FAILED
    if word == "finished":
        return JobState.SUCCESS if outcome == "ok" else JobState.RUNNING
    return OCAPI_STATES(word)


def snake_keys(value: Any) -> Any:
    """SCAPI's camelCase document in OCAPI's snake_case, so that one parser reads both."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


@dataclass(frozen=True)
class OcapiSettings:
    base_url: str  # the instance
    data_url: str  # <instance><site prefix>/dw/data/<version>
    api_version: str
    client_id: str
    client_secret: str = field(repr=False)
    token_url: str = DEFAULT_TOKEN_URL
    bm_user: str | None = None
    bm_password: str | None = field(default=None, repr=False)
    bm_token_url: str = ""
    backend: str = "auto"
    scapi_url: str | None = None  # <scapi base>/operation/jobs/v1/organizations/<organization id>
    organization_id: str | None = None
    tenant_id: str | None = None
    scapi_scope: str = DEFAULT_SCAPI_SCOPE
    bm_url_template: str = DEFAULT_BM_URL_TEMPLATE
    verify: bool | str = True

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1]


class OcapiHook(JobApiHook[OcapiSettings]):
    """Salesforce B2C Commerce jobs: execute, read, search and delete job executions.

    Talks to the OCAPI Data API, or to the SCAPI Jobs API when the connection says so or when the
    instance answers 403 OcapiDeprecatedException (then for the rest of this hook's life). B2C
    Commerce has no call that cancels a running execution.
    """

    default_conn_name = "ocapi_default"
    conn_type = "ocapi"
    hook_name = "Salesforce B2C Commerce (OCAPI / SCAPI jobs)"
    vendor = VENDOR
    states = OCAPI_STATES
    can_cancel = False
    default_poll_interval = 5.0
    lists_active_runs = True  # job_execution_search: the triggerer's waits on one connection share it
    # a whole job_execution document: ~700 bytes, ~20 us to parse and keep (see _kept_hit) beside ~400 us
    # for a call
    listing_entry_cost = 0.05
    start_visibility_lag = DEFAULT_START_VISIBILITY_LAG

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        self._active_backend: str | None = None
        self._auths: dict[str, AuthStrategy] = {}

    # -- connection --------------------------------------------------------------------------------
    def configure(self, conn) -> OcapiSettings:
        s = ConnectionSettings(conn, self.conn_type)
        base = base_url_from(conn)
        s.require(
            conn.login, "login", "Set the API client id (Account Manager) in the connection's Login field."
        )
        s.require(
            conn.password, "password", "Set the API client's secret in the connection's Password field."
        )
        version = normalize_version(s.text("api_version", DEFAULT_API_VERSION), s.where("api_version"))
        prefix = s.text("site_prefix", None)
        prefix = DEFAULT_SITE_PREFIX if prefix is None else prefix.rstrip("/")
        if prefix and not prefix.startswith("/"):
            raise ConfigurationError(
                s.where("site_prefix"),
                f"{prefix!r} does not start with '/'",
                "Give /s/- (the default), or / for none.",
            )
        token_url = _url(s, "token_url", s.text("token_url", DEFAULT_TOKEN_URL))
        bm_user, bm_password = s.text("bm_user"), s.get("bm_password")
        if bool(bm_user) != bool(bm_password):
            raise ConfigurationError(
                s.where("bm_password" if bm_user else "bm_user"),
                "is empty",
                "The Business Manager user grant needs both bm_user and bm_password.",
            )
        backend = s.choice("backend", BACKENDS, "auto")
        organization_id, tenant_id = _organization(s)
        short_code = s.text("short_code")
        if short_code and not re.fullmatch(r"[A-Za-z0-9]+", short_code):
            raise ConfigurationError(
                s.where("short_code"),
                f"{short_code!r} is not a short code",
                "Copy it from Business Manager > Salesforce Commerce API Settings.",
            )
        scapi_base = s.text("scapi_base_url")
        if scapi_base:
            scapi_base = _url(s, "scapi_base_url", scapi_base).rstrip("/")
        elif short_code:
            scapi_base = SCAPI_HOST_TEMPLATE.format(short_code=short_code)
        scapi_url = None
        if scapi_base and organization_id:
            scapi_url = scapi_base + SCAPI_JOBS_PATH.format(organization_id=quote(organization_id, safe=""))
        if backend == "scapi" and scapi_url is None:
            missing = "organization_id" if not organization_id else "short_code"
            raise ConfigurationError(
                s.where(missing),
                "is empty",
                "backend 'scapi' needs short_code (or scapi_base_url) and organization_id.",
            )
        template = s.text("bm_url_template", DEFAULT_BM_URL_TEMPLATE)
        try:
            template.format(instance_url=base, job_id="J", execution_id="1")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigurationError(
                s.where("bm_url_template"),
                f"has an unknown placeholder ({exc})",
                "Use only {instance_url}, {job_id} and {execution_id}.",
            ) from None
        lag = s.number("start_visibility_lag", DEFAULT_START_VISIBILITY_LAG)
        # the connection's extra wins over the class default for this hook (recovery reads it after a marker)
        self.start_visibility_lag = float(lag if lag is not None else DEFAULT_START_VISIBILITY_LAG)
        mask_secret(conn.password)
        mask_secret(bm_password)
        return OcapiSettings(
            base_url=base,
            data_url=f"{base}{prefix}/dw/data/{version}",
            api_version=version,
            client_id=conn.login.strip(),
            client_secret=conn.password,
            token_url=token_url,
            bm_user=bm_user,
            bm_password=bm_password,
            bm_token_url=_url(s, "bm_token_url", s.text("bm_token_url", f"{base}/dw/oauth2/access_token")),
            backend=backend,
            scapi_url=scapi_url,
            organization_id=organization_id,
            tenant_id=tenant_id,
            scapi_scope=s.text("scapi_scope", DEFAULT_SCAPI_SCOPE),
            bm_url_template=template,
            verify=s.verify(),
        )

    @property
    def backend(self) -> str:
        """The API this hook talks to now: 'ocapi' or 'scapi'."""
        if self._active_backend is None:
            self._active_backend = "scapi" if self.settings.backend == "scapi" else "ocapi"
        return self._active_backend

    @property
    def auth(self) -> AuthStrategy:
        """The token grant of the API in use (OCAPI and SCAPI tokens are cached separately)."""
        backend = self.backend
        if backend not in self._auths:
            self._auths[backend] = self._strategy(backend)
        return self._auths[backend]

    def auth_strategy(self) -> AuthStrategy:
        return self._strategy(self.backend)

    def _strategy(self, backend: str) -> AuthStrategy:
        s = self.settings
        if backend == "scapi":
            scope = f"{TENANT_SCOPE_PREFIX}{s.tenant_id} {s.scapi_scope}"
            return LoginAuth(
                identity=("am", s.token_url, s.client_id, s.client_secret, scope),
                login=lambda: self._client_credentials(scope),
                apply=_bearer,
                secrets=(s.client_secret,),
            )
        if s.bm_user:
            return LoginAuth(
                identity=("bm", s.bm_token_url, s.client_id, s.client_secret, s.bm_user, s.bm_password),
                login=self._business_manager_grant,
                apply=_bearer,
                secrets=(s.client_secret, s.bm_password or ""),
            )
        return LoginAuth(
            identity=("am", s.token_url, s.client_id, s.client_secret, ""),
            login=lambda: self._client_credentials(None),
            apply=_bearer,
            secrets=(s.client_secret,),
        )

    def base_url(self, request: ApiRequest) -> str:
        if request.base == OcapiBase.SCAPI:
            return self.settings.scapi_url or self.settings.base_url
        if request.base == OcapiBase.OCAPI:
            return self.settings.data_url
        return self.settings.base_url

    def run_url(self, run: JobRun) -> str | None:
        return self._url_of(run.job_id, run.run_id)

    def _url_of(self, job_id: str, run_id: str | None) -> str | None:
        if not run_id:
            return None
        settings = self.settings
        key = (settings.bm_url_template, settings.base_url, job_id, run_id)
        url = _RUN_URLS.get(key)
        if url is None:
            url = settings.bm_url_template.format(
                instance_url=settings.base_url,
                job_id=quote(job_id, safe=""),
                execution_id=quote(str(run_id), safe=""),
            )
            if len(_RUN_URLS) >= 20_000:
                _RUN_URLS.clear()
            _RUN_URLS[key] = url
        return url

    # -- tokens --------------------------------------------------------------------------------------
    def _client_credentials(self, scope: str | None) -> Operation[Credential]:
        """Account Manager client-credentials grant (with the SCAPI scopes when given)."""
        s = self.settings
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        resp = yield ApiRequest(
            "POST",
            s.token_url,
            endpoint="Account Manager token grant",
            data=form,
            headers={"Authorization": _basic(s.client_id, s.client_secret)},
            authenticated=False,
            idempotent=True,
            base=OcapiBase.TOKEN,
        )
        return _credential(resp, scope)

    def _business_manager_grant(self) -> Operation[Credential]:
        """Business Manager user grant: Basic bm_user:bm_password:client_secret on the instance."""
        s = self.settings
        resp = yield ApiRequest(
            "POST",
            s.bm_token_url,
            endpoint="Business Manager user grant",
            params={"client_id": s.client_id},
            data={"grant_type": BM_GRANT_TYPE},
            headers={"Authorization": _basic(s.bm_user or "", s.bm_password or "", s.client_secret)},
            authenticated=False,
            idempotent=True,
            base=OcapiBase.BM_TOKEN,
        )
        return _credential(resp, None)

    # -- errors --------------------------------------------------------------------------------------
    def error_from(self, response: ApiResponse) -> ApiError | None:
        """OCAPI fault documents, SCAPI problem+json and OAuth errors as clear, secret-free exceptions."""
        if response.ok or response.status in response.request.accept:
            return None
        request = response.request
        body: Any = None
        try:
            body = json.loads(response.body) if response.body.strip() else None
        except ValueError:
            body = None
        if request.base in (OcapiBase.TOKEN, OcapiBase.BM_TOKEN):
            return self._token_error(response, body if isinstance(body, dict) else {})
        fault_type, message, arguments = _fault_of(body)
        secret = self._current_token()
        message = scrub(message, secret)
        ids = _ids_from_path(request.path)
        job = arguments.get("jobId") or ids.get("job")
        execution = arguments.get("executionId") or ids.get("execution")
        api = "SCAPI" if request.base == OcapiBase.SCAPI else "OCAPI"
        host = (
            urlsplit(self.settings.scapi_url).netloc
            if request.base == OcapiBase.SCAPI and self.settings.scapi_url
            else self.settings.host
        )
        known = FAULTS.get(fault_type or "")
        body_excerpt = scrub(excerpt(response.body), secret) if response.body else None
        if known is not None:
            subject = known.subject.format(
                job=f"'{job}'" if job else "(unknown)", execution=execution or "?", host=host
            )
            fix = self._deprecated_fix() if known.cls is OcapiDeprecatedError else known.fix
            text = f"{subject} ({api} HTTP {response.status}, {fault_type})"
            if message:
                text += f": {message.rstrip('.')}"
            if fix:
                text += f". {fix}"
            return known.cls(
                text,
                vendor=VENDOR,
                endpoint=request.label,
                status=response.status,
                code=fault_type,
                body_excerpt=body_excerpt,
            )
        detail = message or (repr(scrub(excerpt(response.body, 120), secret)) if response.body else None)
        if response.status == 403:
            detail = (detail + ". " if detail else "") + (
                "Check that the API client is allowed this call: in Business Manager > Open Commerce API "
                "Settings (Data API) for OCAPI"
                if api == "OCAPI"
                else f"Check that the API client has the scopes {self.settings.scapi_scope} and "
                f"{TENANT_SCOPE_PREFIX}{self.settings.tenant_id} in Account Manager"
            )
        error = error_for_status(VENDOR, response, fault_type, detail)
        error.body_excerpt = body_excerpt
        return error

    def _token_error(self, response: ApiResponse, body: dict[str, Any]) -> ApiError:
        request = response.request
        code = body.get("error") if isinstance(body.get("error"), str) else None
        description = scrub(str(body.get("error_description") or ""), self.settings.client_secret)
        if request.base == OcapiBase.BM_TOKEN:
            fix = (
                "Check the extra's bm_user and bm_password (password or access key), the client secret, and "
                "that the Business Manager user may use this API client"
            )
        else:
            fix = "Check the connection's Login (client id) and Password (client secret)"
            if code == "invalid_scope":
                fix = (
                    f"Give the API client the scopes {self.settings.scapi_scope} and "
                    f"{TENANT_SCOPE_PREFIX}{self.settings.tenant_id} in Account Manager (needed by SCAPI)"
                )
        if response.status in (400, 401, 403) and code:
            text = (
                f"{request.label} at {urlsplit(str(request.path)).netloc or self.settings.host} refused the "
                f"credentials of connection '{self.conn_id}' (HTTP {response.status}, {code})"
            )
            if description:
                text += f": {description}"
            return AuthenticationError(
                f"{text}. {fix}.", vendor=VENDOR, endpoint=request.label, status=response.status, code=code
            )
        body_text = scrub(excerpt(response.body, 120), self.settings.client_secret) if response.body else ""
        detail = description or (repr(body_text) if body_text else None)
        return error_for_status(VENDOR, response, code, detail)

    def _deprecated_fix(self) -> str:
        if self.settings.backend == "ocapi":
            return (
                "The connection forces backend 'ocapi': set its extra backend to auto or scapi, with "
                "short_code and organization_id, to use the SCAPI Jobs API"
            )
        if self.settings.scapi_url is None:
            return (
                "Set the connection's extra short_code and organization_id (or scapi_base_url) so that the "
                "SCAPI Jobs API is used instead"
            )
        return ""

    def _current_token(self) -> str | None:
        try:
            credential = credential_cache.get(self._cache_key())
        except Exception:
            return None
        return credential.secret if credential is not None else None

    # -- the backend switch ----------------------------------------------------------------------------
    def _via_backend(
        self, build: Callable[[OcapiBase], ApiRequest], prefer: str | None = None
    ) -> Operation[tuple[str, ApiResponse]]:
        """One call, built by `build(api)` for 'ocapi' or 'scapi'. On OcapiDeprecatedException (and with
        backend auto and SCAPI configured) the hook switches to SCAPI for good and sends it there."""
        if prefer == "scapi" and self.settings.backend == "auto" and self.settings.scapi_url:
            self._active_backend = "scapi"
        if self.backend == "ocapi":
            try:
                resp = yield build(OcapiBase.OCAPI)
                return "ocapi", resp
            except OcapiDeprecatedError:
                if self.settings.backend != "auto" or self.settings.scapi_url is None:
                    raise
                log.warning(
                    "OCAPI is switched off on %s (403 OcapiDeprecatedException): using the SCAPI Jobs API "
                    "(organization %s) from now on.",
                    self.settings.host,
                    self.settings.organization_id,
                )
                self._active_backend = "scapi"
        resp = yield build(OcapiBase.SCAPI)
        return "scapi", resp

    # -- parsing -------------------------------------------------------------------------------------
    def run_from_execution(
        self, body: Mapping[str, Any], backend: str = "ocapi", job: str | None = None
    ) -> JobRun:
        """A JobRun from a job_execution document (OCAPI snake_case or SCAPI camelCase)."""
        doc = snake_keys(dict(body)) if backend == "scapi" else dict(body)
        run_id = id_text(doc.get("id"))
        status_word = doc.get("execution_status")
        if run_id is None or status_word is None:
            missing = "id" if run_id is None else "execution_status"
            raise MalformedResponseError(
                f"{VENDOR} job execution of job '{job or doc.get('job_id')}' carries no {missing}: "
                f"{excerpt(json.dumps(body, default=str), 200)!r}",
                vendor=VENDOR,
            )
        job_id = id_text(doc.get("job_id")) or job or "?"
        exit_status = doc.get("exit_status") if isinstance(doc.get("exit_status"), dict) else None
        steps = [_step(s) for s in doc.get("step_executions") or [] if isinstance(s, dict)]
        state = execution_state(status_word, exit_status)
        details: dict[str, Any] = {
            "backend": backend,
            "execution_status": status_word,
            "exit_code": (exit_status or {}).get("code"),
            "exit_status": (exit_status or {}).get("status"),
            "exit_message": (exit_status or {}).get("message") or None,
            "steps": steps,
            "duration_ms": doc.get("duration"),
            "log_file": doc.get("log_file_name") or doc.get("log_file_path"),
            "is_restart": doc.get("is_restart"),
            "parameters": [p.get("name") for p in doc.get("parameters") or [] if isinstance(p, dict)] or None,
        }
        if state == JobState.FAILED:
            details["message"] = _failure(status_word, exit_status, steps)
        # one JobRun, its url filled in (not a second one from with_(url=...)), the URL kept per run: OCAPI's
        # provider Python per check 55-61 -> 40-50 us (interleaved noisy runs), with _carry_details' copy only
        # when there is something to carry
        return JobRun(
            VENDOR,
            job_id,
            run_id,
            state,
            str(status_word),
            doc.get("start_time"),
            doc.get("end_time"),
            url=self._url_of(job_id, run_id),
            details={k: v for k, v in details.items() if v is not None},
            summary=_summary(steps, status_word, exit_status) or None,
        )

    def _search_page(
        self, terms: list[dict[str, Any]], count: int, sort_order: str, start: int = 0
    ) -> Operation[tuple[str, list[Any], Any]]:
        """One page of job_execution_search: (the API that answered, its hits as they came, its `total`)."""

        def build(api: OcapiBase) -> ApiRequest:
            # The two APIs name the endpoint and the query types differently (bool_query / boolQuery).
            return ApiRequest(
                "POST",
                "job-execution-search" if api == "scapi" else "job_execution_search",
                endpoint="job execution search",
                json=_search_body(terms, count, sort_order, scapi=api == "scapi", start=start),
                base=api,
                idempotent=True,
            )

        backend, resp = yield from self._via_backend(build)
        body = resp.json_object()
        hits = body.get("hits") or []
        if not isinstance(hits, list):
            raise MalformedResponseError(
                f"{VENDOR} job execution search answer has no list of hits", vendor=VENDOR
            )
        return backend, hits, body.get("total")

    # -- calls -----------------------------------------------------------------------------------------
    @operation
    def start_run(self, job: str, parameters: Any = None) -> Operation[JobRun]:
        """Execute a job (POST /jobs/{job_id}/executions), with parameters; returns the new execution.

        :param job: the job id as Business Manager names it
        :param parameters: job parameters: a dict of names to values, or the documented [{"name", "value"}] list
        """
        job_id = job_ref(job)
        params = parameter_list(parameters)
        path = f"jobs/{path_segment(job_id)}/executions"
        body = {"parameters": params} if params else None
        backend, resp = yield from self._via_backend(
            lambda api: ApiRequest("POST", path, endpoint=f"execute job '{job_id}'", json=body, base=api)
        )
        return self.run_from_execution(resp.json_object(), backend, job_id)

    astart_run = start_run.asynchronous

    @operation
    def get_run(self, run: JobRun) -> Operation[JobRun]:
        """Read an execution (GET /jobs/{job_id}/executions/{id}) through the API that last answered.

        :param run: the run to act on, as start_run() or get_run() returned it (its ids and details)
        """
        job_id = job_ref(run.job_id)
        execution_id = require_id("execution_id", run.run_id)
        path = f"jobs/{path_segment(job_id)}/executions/{path_segment(execution_id)}"
        label = f"read execution {execution_id} of job '{job_id}'"
        backend, resp = yield from self._via_backend(
            lambda api: ApiRequest("GET", path, endpoint=label, base=api), prefer=run.details.get("backend")
        )
        return _carry_details(run, self.run_from_execution(resp.json_object(), backend, job_id))

    aget_run = get_run.asynchronous

    @operation
    def list_active_runs(self) -> Operation[dict[tuple[str, str], tuple[str, dict, str | None]]]:
        """Every pending or running execution of the instance, by (job id, execution id): the API that
        answered and its document (see _kept_hit); job_execution_search, a page of SEARCH_PAGE at a time."""
        terms = [{"field": "status", "operator": "one_of", "values": list(ACTIVE_STATUSES)}]
        listed: dict[tuple[str, str], tuple[str, dict, str | None]] = {}
        start = 0
        for _ in range(LISTING_PAGES):
            backend, hits, total = yield from self._search_page(terms, SEARCH_PAGE, "asc", start)
            for hit in hits:
                if isinstance(hit, dict):
                    job_id, run_id = id_text(hit.get("job_id", hit.get("jobId"))), id_text(hit.get("id"))
                    if job_id is not None and run_id is not None:
                        listed[(job_id, run_id)] = _kept_hit(backend, hit)
            start += len(hits)
            if len(hits) < SEARCH_PAGE or not isinstance(total, int) or start >= total:
                break
        return listed

    alist_active_runs = list_active_runs.asynchronous

    def listing_key(self, run: JobRun) -> tuple[str, str]:
        return (str(run.job_id), str(run.run_id))

    def run_from_listing(self, run: JobRun, entry: tuple[str, dict, str | None]) -> JobRun:
        """The run as the search found it (the same document get_run reads)."""
        backend, plain, nested = entry
        hit = {**plain, **json.loads(nested)} if nested else plain
        return _carry_details(run, self.run_from_execution(hit, backend, run.job_id))

    @operation
    def search_executions(
        self,
        job: str | None = None,
        statuses: Sequence[str] | None = None,
        count: int = 25,
        sort_order: str = "desc",
    ) -> Operation[list[JobRun]]:
        """Executions of a job (or of every job), filtered by job_execution `status` (e.g. RUNNING,
        PENDING), sorted by start time.

        :param job: a job id (default: every job)
        :param statuses: execution statuses to keep, e.g. ["RUNNING", "PENDING"] (default: all)
        :param count: executions at most (default 25)
        :param sort_order: "desc" (newest first, default) or "asc"
        """
        terms = []
        if job is not None:
            terms.append({"field": "job_id", "operator": "is", "values": [job_ref(job, "job")]})
        if statuses:
            if isinstance(statuses, str) or not all(isinstance(v, str) and v.strip() for v in statuses):
                raise ConfigurationError(
                    "statuses", f"is {statuses!r}", "Give a list such as ['RUNNING', 'PENDING']."
                )
            terms.append(
                {"field": "status", "operator": "one_of", "values": [v.strip().upper() for v in statuses]}
            )
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 200:
            raise ConfigurationError("count", f"is {count!r}", "Give a number from 1 to 200.")
        if sort_order not in ("asc", "desc"):
            raise ConfigurationError("sort_order", f"is {sort_order!r}", "Use 'asc' or 'desc'.")

        backend, hits, _ = yield from self._search_page(terms, count, sort_order)
        return [self.run_from_execution(h, backend) for h in hits if isinstance(h, dict)]

    asearch_executions = search_executions.asynchronous

    @operation
    def list_recent_runs(self, job: str, *, count: int = 25, **_start_options: Any) -> Operation[list[JobRun]]:
        """The job's newest executions (job_execution_search on job_id, by start time descending, one page),
        oldest first: what an event trigger watches. Each hit is the whole execution document (status, exit
        status, steps), read as get_run reads it.

        :param job: the job id as Business Manager names it
        :param count: executions read (default 25, at most 200)
        """
        job_id = job_ref(job)
        runs = yield from self.search_executions.steps(self, job_id, None, count, "desc")
        mine = [r for r in runs if r.job_id == job_id]  # the search matches ids without regard to case
        return sorted(mine, key=_start_order)

    alist_recent_runs = list_recent_runs.asynchronous

    @operation
    def find_active_run(self, job: str, parameters: Any = None) -> Operation[JobRun | None]:
        """The job's execution that is pending or running now (job_execution_search), if any.

        :param job: the job id as Business Manager names it
        :param parameters: ignored (any running execution counts)
        """
        runs = yield from self.search_executions.steps(self, job, ACTIVE_STATUSES, 10, "asc")
        active = [r for r in runs if not r.is_terminal and r.job_id == job_ref(job)]
        return active[0] if active else None

    afind_active_run = find_active_run.asynchronous

    def _executions_of(self, job_id: str) -> Operation[list[JobRun]]:
        """The job's executions job_execution_search shows: the newest by start time, and every pending or
        running one (a pending execution may have no start time yet, so a sort on it need not show it)."""
        by_job = {"field": "job_id", "operator": "is", "values": [job_id]}
        active = {"field": "status", "operator": "one_of", "values": list(ACTIVE_STATUSES)}
        found: dict[str, JobRun] = {}
        for terms, order in (([by_job], "desc"), ([by_job, active], "asc")):
            backend, hits, _ = yield from self._search_page(terms, MARKER_PAGE, order)
            for hit in hits:
                if isinstance(hit, dict):
                    run = self.run_from_execution(hit, backend, job_id)
                    if run.job_id == job_id:  # the search matches ids without regard to case
                        found.setdefault(str(run.run_id), run)
        return list(found.values())

    @operation
    def start_marker(self, job: str, **options: Any) -> Operation[dict[str, Any]]:
        """The job's executions just before a start: their ids, the highest numeric id and the newest start
        time (all the vendor's own values: no clock of ours is compared with the instance's).

        :param job: the job id as Business Manager names it
        """
        job_id = job_ref(job)
        at = time.time()
        try:
            runs = yield from self._executions_of(job_id)
        except (OcapiDeprecatedError, AuthenticationError, NotFoundError):
            raise
        except ApiError as exc:
            if exc.status != 403:
                raise
            log.warning(
                "The API client may not search job executions (%s): an unclear answer to the start of job '%s' "
                "cannot be checked, so it would fail the task instead of starting again. Allow POST "
                "/job_execution_search in the instance's OCAPI settings (or the sfcc.jobs scope for SCAPI).",
                exc, job_id,
            )
            return {"at": at, "searchable": False}
        numbers = [int(r.run_id) for r in runs if r.run_id is not None and r.run_id.isdigit()]
        starts = [r.started_at for r in runs if r.started_at]
        return {
            "at": at,
            "backend": self.backend,
            "execution_ids": sorted(str(r.run_id) for r in runs),
            "max_id": str(max(numbers)) if numbers else None,
            "latest_start": max(starts) if starts else None,
        }

    astart_marker = start_marker.asynchronous

    @operation
    def find_started_run(self, job: str, marker: Mapping[str, Any], **options: Any) -> Operation[JobRun | None]:
        """The first execution of the job that the search shows as begun since `marker`, whatever its state
        (a short job may have finished): a higher execution id than any before it (ids count up), or, where
        ids are not numbers, one the marker did not list that started no earlier than the newest it did.

        :param job: the job id as Business Manager names it
        :param marker: what start_marker() returned just before the start
        """
        if marker.get("searchable") is False:
            raise NotImplementedError("job_execution_search is not allowed for this API client")
        job_id = job_ref(job)
        known = {str(i) for i in marker.get("execution_ids") or ()}
        max_id = marker.get("max_id")
        latest_start = marker.get("latest_start")
        runs = yield from self._executions_of(job_id)

        def began_since(run: JobRun) -> bool:
            if str(run.run_id) in known:
                return False
            if max_id is not None and run.run_id is not None and run.run_id.isdigit() and str(max_id).isdigit():
                return int(run.run_id) > int(max_id)
            if latest_start and run.started_at:
                return str(run.started_at) >= str(latest_start)
            return True  # not listed before, and nothing to order it by (e.g. pending, without a start time)

        new = sorted((r for r in runs if began_since(r)), key=_start_order)
        if len(new) > 1:
            log.warning(
                "%d executions of job '%s' began since just before the start (%s): adopting the first, %s.",
                len(new), job_id, ", ".join(str(r.run_id) for r in new), new[0].run_id,
            )
        return new[0] if new else None

    afind_started_run = find_started_run.asynchronous

    @operation
    def delete_execution(self, job: str, execution_id: str) -> Operation[bool]:
        """Delete a finished execution's record (DELETE /jobs/{job_id}/executions/{id}).

        A running execution cannot be deleted: OcapiExecutionNotFinishedError.

        :param job: the job id as Business Manager names it
        :param execution_id: the finished execution's id
        """
        job_id = job_ref(job)
        eid = require_id("execution_id", execution_id)
        path = f"jobs/{path_segment(job_id)}/executions/{path_segment(eid)}"
        label = f"delete execution {eid} of job '{job_id}'"
        yield from self._via_backend(lambda api: ApiRequest("DELETE", path, endpoint=label, base=api, read="none"))
        return True

    adelete_execution = delete_execution.asynchronous

    def no_cancel_message(self, run: JobRun) -> str:
        text = f"{CANNOT_CANCEL}: execution {run.run_id} of job '{run.job_id}' goes on"
        return text + (f" ({run.url})" if run.url else "")

    @operation
    def cancel_run(self, run: JobRun) -> Operation[bool]:
        """B2C Commerce has no cancel call: always raises.

        :param run: the run to act on, as start_run() or get_run() returned it (its ids and details)
        """
        raise JobProviderError(f"{CANNOT_CANCEL}: execution {run.run_id} of job '{run.job_id}' goes on.")
        yield  # an operation

    acancel_run = cancel_run.asynchronous

    def connection_test_steps(self) -> Operation[str]:
        runs = yield from self.search_executions.steps(self, None, ACTIVE_STATUSES, 25)
        api = (
            f"OCAPI {self.settings.api_version}"
            if self.backend == "ocapi"
            else (f"the SCAPI Jobs API (organization {self.settings.organization_id})")
        )
        return (
            f"Connected to Salesforce B2C Commerce at {self.settings.host} through {api}: "
            f"{len(runs)} job execution(s) pending or running."
        )


# --- helpers ------------------------------------------------------------------------------------------
def _basic(*parts: str) -> str:
    value = base64.b64encode(":".join(parts).encode()).decode()
    mask_secret(value)
    return "Basic " + value


def _bearer(request: ApiRequest, credential: Credential) -> tuple[dict[str, str], dict[str, Any]]:
    return merged(request, {"Authorization": f"Bearer {credential.secret}"})


def _credential(resp: ApiResponse, scope: str | None) -> Credential:
    body = resp.json_object()
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise MalformedResponseError(
            f"{VENDOR} {resp.request.label} answered without an access_token (keys: {sorted(body)})",
            vendor=VENDOR,
            endpoint=resp.request.label,
        )
    mask_secret(token)
    expires_in = body.get("expires_in")
    try:
        lifetime = float(expires_in) if expires_in is not None else None
    except (TypeError, ValueError):
        lifetime = None
    # Renew when a quarter of the lifetime is left (at most 60 s before expiry for the usual 1799 s).
    margin = 60.0 if lifetime is None else min(60.0, lifetime * 0.25)
    return Credential(
        secret=token,
        extra={"token_type": body.get("token_type"), "scope": body.get("scope") or scope},
        expires_at=time.time() + lifetime if lifetime else None,
        refresh_margin=margin,
    )


def _url(s: ConnectionSettings, name: str, value: str | None) -> str:
    text = (value or "").strip()
    if not re.match(r"^https?://[^/\s]+", text):
        raise ConfigurationError(
            s.where(name), f"{text!r} is not an http(s) URL", "Give a full https:// URL."
        )
    return text


def _organization(s: ConnectionSettings) -> tuple[str | None, str | None]:
    raw = s.text("organization_id") or s.text("tenant_id")
    if not raw:
        return None, None
    tenant = raw.removeprefix(ORGANIZATION_PREFIX)
    if not re.fullmatch(r"[a-z0-9]+_[a-z0-9]+", tenant, re.I):
        raise ConfigurationError(
            s.where("organization_id"),
            f"{raw!r} is not an organization id",
            "Give f_ecom_<realm>_<instance>, e.g. f_ecom_zzxy_prd.",
        )
    return ORGANIZATION_PREFIX + tenant, tenant


def _fault_of(body: Any) -> tuple[str | None, str, dict[str, Any]]:
    """(OCAPI fault type, message, arguments) from an OCAPI fault or a SCAPI problem+json body."""
    if not isinstance(body, dict):
        return None, "", {}
    fault = body.get("fault")
    if isinstance(fault, dict):
        arguments: dict[str, Any] = v if isinstance(v := fault.get("arguments"), dict) else {}
        return (
            id_text(fault.get("type")),
            str(fault.get("message") or ""),
            {k: _argument(v) for k, v in arguments.items()},
        )
    if "type" in body or "title" in body:
        slug = str(body.get("type") or "").rstrip("/").rsplit("/", 1)[-1].lower()
        title = re.sub(r"[^a-z]+", "-", str(body.get("title") or "").lower()).strip("-")
        known = _SCAPI_KEYS.get(slug) or _SCAPI_KEYS.get(title)
        arguments = {k: str(v) for k, v in body.items() if k in ("jobId", "executionId")}
        message = str(body.get("detail") or body.get("title") or "")
        return known or (slug or title or None), message, arguments
    return None, str(body.get("message") or ""), {}


def _argument(value: Any) -> str:
    """A fault argument as text: the reference pages show plain strings ({"jobId": "X"}), the Data API's
    OpenAPI spec (data-api.json, schema fault) objects ({"jobId": {"type": "string", "value": "X"}})."""
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    return "" if value is None else str(value)


def _ids_from_path(path: str) -> dict[str, str]:
    match = re.search(r"jobs/([^/]+)/executions(?:/([^/?]+))?", path)
    if not match:
        return {}
    ids = {"job": unquote(match.group(1))}
    if match.group(2):
        ids["execution"] = unquote(match.group(2))
    return ids


def _kept_hit(backend: str, hit: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
    """A search hit as a listing keeps it until the next one: its plain fields, and its nested ones (steps,
    exit status, parameters) as JSON text, parsed again for the run that is read. Thousands of documents
    kept as nested dicts and lists are objects the garbage collector walks on every full collection, and
    they made a triggerer with 10,000 waits collect twice as often; text and flat dicts of plain values it
    does not track."""
    plain = {k: v for k, v in hit.items() if not isinstance(v, (dict, list))}
    nested = {k: v for k, v in hit.items() if isinstance(v, (dict, list))}
    return backend, plain, (json.dumps(nested) if nested else None)


def _start_order(run: JobRun) -> tuple[int, int, str]:
    """Executions in the order they began: numeric ids first by number, then by start time."""
    run_id = str(run.run_id)
    return (0, int(run_id), "") if run_id.isdigit() else (1, 0, str(run.started_at or "~"))


def _carry_details(run: JobRun, fresh: JobRun) -> JobRun:
    """`fresh` with the details `run` had that the parser does not set (the operator's own)."""
    kept = {k: v for k, v in run.details.items() if k not in _RUN_KEYS}
    if not kept:
        return fresh
    return fresh.with_(details={**kept, **fresh.details})


#: Business Manager URLs of runs by what fills them in (every poll of a run sets its url). Bounded.
_RUN_URLS: dict[tuple[str, ...], str] = {}


def _search_body(
    terms: list[dict[str, Any]], count: int, sort_order: str, *, scapi: bool, start: int = 0
) -> dict[str, Any]:
    if scapi:
        queries = [
            {"termQuery": {"fields": [t["field"]], "operator": t["operator"], "values": t["values"]}}
            for t in terms
        ]
        query: dict[str, Any] = (
            (queries[0] if len(queries) == 1 else {"boolQuery": {"must": queries}})
            if queries
            else {"matchAllQuery": {}}
        )
        return {
            "query": query,
            "limit": count,
            "offset": start,
            "sorts": [{"field": "start_time", "sortOrder": sort_order}],
        }
    queries = [
        {"term_query": {"fields": [t["field"]], "operator": t["operator"], "values": t["values"]}}
        for t in terms
    ]
    query = (
        (queries[0] if len(queries) == 1 else {"bool_query": {"must": queries}})
        if queries
        else {"match_all_query": {}}
    )
    return {
        "query": query,
        "select": "(**)",
        "count": count,
        "start": start,
        "sorts": [{"field": "start_time", "sort_order": sort_order}],
    }


def _step(doc: dict[str, Any]) -> dict[str, Any]:
    exit_status: dict[str, Any] = v if isinstance(v := doc.get("exit_status"), dict) else {}
    step = {
        "step_id": doc.get("step_id"),
        "step_type_id": doc.get("step_type_id"),
        "execution_scope": doc.get("execution_scope"),
        "execution_status": doc.get("execution_status"),
        "exit_code": exit_status.get("code"),
        "exit_status": exit_status.get("status"),
        "exit_message": exit_status.get("message") or None,
        "duration_ms": doc.get("duration"),
        "include_steps_from_job_id": doc.get("include_steps_from_job_id"),
    }
    return {k: v for k, v in step.items() if v is not None}


def describe_step(step: Mapping[str, Any]) -> str:
    """One line about a step execution: id, type, scope, status, exit status, duration."""
    text = f"step '{step.get('step_id', '?')}'"
    extras = [str(step[k]) for k in ("step_type_id", "execution_scope") if step.get(k)]
    if extras:
        text += f" ({', '.join(extras)})"
    text += f": {step.get('execution_status', '?')}"
    if step.get("exit_code"):
        text += f", exit {step['exit_code']} ({step.get('exit_status', '?')})"
    if step.get("exit_message"):
        text += f" {step['exit_message']!r}"
    if step.get("duration_ms") is not None:
        text += f" in {step['duration_ms']} ms"
    return text


def _summary(steps: list[dict[str, Any]], status_word: Any, exit_status: dict[str, Any] | None) -> str | None:
    if exit_status is not None:
        code = exit_status.get("code") or "?"
        message = exit_status.get("message")
        text = f"exit {code} ({exit_status.get('status', '?')})" + (f": {message}" if message else "")
        return text + (f"; {len(steps)} step(s)" if steps else "")
    if str(status_word).lower() == "finished":
        return "finished without an exit status yet"
    if not steps:
        return None
    done = sum(1 for s in steps if str(s.get("execution_status", "")).lower() == "finished")
    current = steps[-1]
    return f"{done} step(s) finished; now step '{current.get('step_id')}' ({current.get('execution_status')})"


def _failure(status_word: Any, exit_status: dict[str, Any] | None, steps: list[dict[str, Any]]) -> str:
    parts = []
    if str(status_word).lower() == "aborted":
        parts.append("the execution was aborted")
    if exit_status:
        code = exit_status.get("code") or "?"
        message = exit_status.get("message")
        parts.append(f"exit status {code}" + (f": {message}" if message else ""))
    failed = [
        s
        for s in steps
        if str(s.get("exit_status", "")).lower() == "error"
        or str(s.get("execution_status", "")).lower() == "aborted"
    ]
    if failed:
        parts.append("failed step(s): " + "; ".join(describe_step(s) for s in failed))
    return "; ".join(parts) or f"execution status {status_word}"
