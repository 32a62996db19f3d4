"""Salesforce B2C Commerce, simulated (mounted at /ocapi/): Account Manager and Business Manager token
grants, the OCAPI Data API Jobs resource and job execution search, and the SCAPI Jobs API.

OCAPI can be switched off (every Data API call then answers 403 OcapiDeprecatedException, as a
retired instance does), immediately or after a number of Data API calls.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from airflow_provider_jobs.sandbox.core import Life, SandboxState, SimRun, decoded_authorization, json_response

CLIENT_ID = "5f2c7a1e-9b4d-4e8a-a6c3-sandbox0cap1"
CLIENT_SECRET = "ocapi-sandbox-client-secret-7Qx2"
BM_USER = "integration@example.com"
BM_PASSWORD = "bm-sandbox-access-key-9Lp4"
TENANT_ID = "zzzz_001"
ORGANIZATION_ID = f"f_ecom_{TENANT_ID}"
SHORT_CODE = "sbx0001"
JOBS_SCOPE = "sfcc.jobs.rw"
JOBS_READ_SCOPE = "sfcc.jobs"
TENANT_SCOPE = f"SALESFORCE_COMMERCE_API:{TENANT_ID}"
ALLOWED_SCOPES = {JOBS_SCOPE, JOBS_READ_SCOPE, TENANT_SCOPE}
BM_GRANT = "urn:demandware:params:oauth:grant-type:client-id:dwsid:dwsecuretoken"
ERROR_TYPE_BASE = "https://api.commercecloud.salesforce.com/documentation/error/v1/errors/"
DEPRECATED_MESSAGE = "OCAPI has been deprecated. Access is not available for this instance."
#: Data API paths are served with and without the /s/- site prefix.
DATA_PREFIXES = ("/s/-/dw/data/{version}", "/dw/data/{version}")
SCAPI_PREFIX = "/scapi/operation/jobs/v1/organizations/{organization_id}"
SEARCHABLE_FIELDS = ("id", "job_id", "status", "execution_status", "client_id")

#: How a refused start answers: fault type, HTTP status, message.
START_REFUSALS = {
    "invalid": (
        "JobInvalidException",
        400,
        "The job with ID '{job}' is invalid and is therefore not executable.",
    ),
    "restart": ("JobRestartException", 400, "The job with ID '{job}' could not be restarted."),
    "not_restartable": (
        "JobNotRestartableException",
        400,
        "The job with ID '{job}' does not support restarting.",
    ),
    "execution": ("JobExecutionException", 409, "The job with ID '{job}' could not be executed."),
}


def iso(epoch: float | None) -> str | None:
    """B2C Commerce's timestamps: UTC with milliseconds and a Z."""
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_keys(value: Any) -> Any:
    """SCAPI's camelCase view of an OCAPI document (without the _v / _type / _resource_state keys)."""
    if isinstance(value, dict):
        return {camel(k): camel_keys(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


@dataclass
class OcapiJob:
    """A job as Business Manager defines it, plus how its executions unfold in the sandbox."""

    job_id: str
    life: Life
    exit_code: str = "OK"
    exit_status: str = "ok"
    exit_message: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    error_step: int | None = None
    refuse: str | None = None
    refuse_status: int | None = None


@dataclass
class Token:
    kind: str  # "am" (Account Manager client credentials) or "bm" (Business Manager user grant)
    scopes: frozenset[str]
    expires_at: float


class Execution(SimRun):
    """One execution of a job: its life, its steps, its parameters."""

    def __init__(
        self, job: OcapiJob, execution_id: str, parameters: list[dict[str, str]], client_id: str
    ) -> None:
        super().__init__(job.job_id, job.life, execution_id)
        self.job = job
        self.parameters = parameters
        self.client_id = client_id
        self.finish_after_reads: int | None = None
        self.stamp = (
            time.strftime("%Y%m%d%H%M%S", time.gmtime(self.created))
            + f"{int(self.created * 1000) % 1000:03d}"
        )

    def state(self, now: float | None = None) -> tuple[str, float, bool]:
        if self.finish_after_reads is not None and self.stopped_state is None:
            return "running", 50.0, False  # held until read (see Site.start)
        return super().state(now)

    def count_read(self) -> None:
        """One read by id; finishes the execution when its finish_after_reads runs out."""
        if self.finish_after_reads is None:
            return
        self.finish_after_reads -= 1
        if self.finish_after_reads <= 0:
            self.finish_after_reads = None
            self.stop("finished")

    @property
    def log_file_name(self) -> str:
        return f"Job-{self.job.job_id}-{self.stamp}.log"

    @property
    def log_file_path(self) -> str:
        return f"/Sites/LOGS/jobs/{self.job.job_id}/{self.log_file_name}"

    def _running_from(self) -> float:
        """Seconds from creation until the job left 'pending'."""
        offset = 0.0
        for vendor_state, seconds in self.life.steps:
            if vendor_state != "pending":
                break
            offset += seconds
        return offset

    def document(self, version: str, *, full: bool = True) -> dict[str, Any]:
        """The OCAPI job_execution document as the Data API returns it (without `full`: its plain fields
        only, which is what a search matches and sorts on)."""
        vendor_state, _, done = self.state()
        now = self.ended_at if done else time.time()
        began = self.created + self._running_from()
        doc: dict[str, Any] = {
            "_v": version.lstrip("v").replace("_", "."),
            "_type": "job_execution",
            "client_id": self.client_id,
            "duration": int(max(0.0, (now or time.time()) - began) * 1000)
            if vendor_state != "pending"
            else 0,
            "execution_status": vendor_state,
            "id": self.run_id,
            "is_log_file_existing": vendor_state != "pending",
            "is_restart": False,
            "job_id": self.job.job_id,
            # the Data API's current spec (25.6) names the WebDAV path; 17.4 named the file (log_file_name)
            "log_file_path": self.log_file_path,
            "modification_time": iso(now),
        }
        if vendor_state != "pending":
            doc["start_time"] = iso(began)
        if not full:
            exit_status = self.exit_status(vendor_state, done)
            doc["status"] = exit_status["code"] if exit_status is not None else vendor_state.upper()
            return doc
        if self.parameters:
            doc["parameters"] = [dict(p) for p in self.parameters]
        steps = self.step_documents(vendor_state, done)
        if steps:
            doc["step_executions"] = steps
        exit_status = self.exit_status(vendor_state, done)
        if done:
            doc["end_time"] = iso(self.ended_at)
        if exit_status is not None:
            doc["exit_status"] = exit_status
            doc["status"] = exit_status["code"]
        else:
            doc["status"] = vendor_state.upper()
        doc["_resource_state"] = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
        return doc

    def exit_status(self, vendor_state: str, done: bool) -> dict[str, Any] | None:
        if not done:
            return None
        if self.stopped_state == "aborted" or vendor_state == "aborted":
            return {
                "_type": "status",
                "code": "ERROR",
                "message": "The job execution was aborted.",
                "status": "error",
            }
        status = {"_type": "status", "code": self.job.exit_code, "status": self.job.exit_status}
        if self.job.exit_message:
            status["message"] = self.job.exit_message
        return status

    def step_documents(self, vendor_state: str, done: bool) -> list[dict[str, Any]]:
        steps = self.job.steps
        if not steps or vendor_state == "pending":
            return []
        start = self._running_from()
        span = max(1e-6, self.life.total() - start)
        share = span / len(steps)
        elapsed = self.elapsed(self.stopped_at) if self.stopped_at else self.elapsed()
        failed_at = self.job.error_step if self.job.exit_status == "error" else None
        completed = done and self.stopped_state != "aborted"  # ran to its end (or was finished early)
        documents = []
        for index, step in enumerate(steps):
            step_start = start + index * share
            if elapsed < step_start and not completed:
                break
            step_end = step_start + share
            finished = elapsed >= step_end or completed
            doc: dict[str, Any] = {
                "_type": "job_step_execution",
                "execution_scope": step.get("execution_scope", "Organization"),
                "id": f"{self.run_id}{index + 1:02d}",
                "start_time": iso(self.created + step_start),
                "step_description": step.get("step_description", ""),
                "step_id": step["step_id"],
                "step_type_id": step.get("step_type_id", "ExecuteScriptModule"),
            }
            if step.get("include_steps_from_job_id"):
                doc["include_steps_from_job_id"] = step["include_steps_from_job_id"]
            if finished:
                code, status, message = (
                    step.get("exit_code", "OK"),
                    step.get("exit_status", "ok"),
                    step.get("exit_message", ""),
                )
                if failed_at is not None and index == failed_at:
                    code, status, message = self.job.exit_code, "error", self.job.exit_message
                elif index == len(steps) - 1 and self.job.exit_status == "ok" and self.job.exit_code != "OK":
                    code, message = self.job.exit_code, self.job.exit_message
                doc.update(
                    {
                        "duration": int(share * 1000),
                        "end_time": iso(self.created + step_end),
                        "execution_status": "finished",
                        "status": code,
                        "exit_status": {
                            "_type": "status",
                            "code": code,
                            "message": message,
                            "status": status,
                        },
                    }
                )
            elif done:  # aborted during this step
                doc.update(
                    {
                        "execution_status": "aborted",
                        "status": "ERROR",
                        "end_time": iso(self.stopped_at),
                        "exit_status": {
                            "_type": "status",
                            "code": "ERROR",
                            "message": "aborted",
                            "status": "error",
                        },
                    }
                )
            else:
                doc.update({"execution_status": "running", "status": "RUNNING"})
            documents.append(doc)
            if failed_at is not None and index == failed_at and finished:
                break
        return documents


class Site:
    """The B2C Commerce site: token endpoints, OCAPI Data API jobs, SCAPI Jobs API."""

    vendor = "ocapi"

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.reset()

    def reset(self) -> None:
        self.jobs: dict[str, OcapiJob] = {}
        self.executions: dict[str, Execution] = {}
        self.tokens: dict[str, Token] = {}
        self.ocapi_enabled = True
        self.ocapi_off_after: int | None = None
        self.data_calls = 0
        self.token_lifetime = 1799.0
        self.bm_token_lifetime = 900.0
        self.grants: list[dict[str, Any]] = []
        self.issued: list[str] = []  # every access token handed out (tests check none leaks)
        self.clients = {CLIENT_ID: CLIENT_SECRET}  # API clients in Account Manager (clear() revokes them)
        self.bm_users = {BM_USER: BM_PASSWORD}
        self._execution_ids = itertools.count(40605)
        #: Seconds a new execution stays out of job_execution_search (a slow instance's lag; a read by id
        #: sees it at once).
        self.search_lag = 0.0
        #: What the site received with a body: {"api", "method", "path", "query", "json" | "form"}
        #: (contract tests check them against the published schemas).
        self.received: list[dict[str, Any]] = []

    def _receive(self, request: web.Request, api: str, **body: Any) -> None:
        self.received.append(
            {"api": api, "method": request.method, "path": request.path, "query": dict(request.query), **body}
        )

    def expire_credentials(self) -> None:
        """Revoke every access token (the next call with one answers 401 InvalidAccessTokenException)."""
        self.tokens.clear()

    def connection(self, base_url: str) -> dict[str, Any]:
        return {
            "conn_type": "ocapi",
            "host": base_url,
            "login": CLIENT_ID,
            "password": CLIENT_SECRET,
            "extra": {
                "api_version": "v23_2",
                "token_url": f"{base_url}/dwsso/oauth2/access_token",
                "short_code": SHORT_CODE,
                "organization_id": ORGANIZATION_ID,
                "scapi_base_url": f"{base_url}/scapi",
            },
        }

    # -- Python API for tests and the demo ------------------------------------------------------
    def add_job(
        self,
        job_id: str,
        *,
        pending: float = 0.05,
        running: float = 0.3,
        final: str = "finished",
        exit_code: str = "OK",
        exit_status: str = "ok",
        exit_message: str = "",
        steps: list[dict[str, Any]] | list[str] | None = None,
        error_step: int | None = None,
        states: list[tuple[str, float]] | None = None,
        refuse: str | None = None,
        refuse_status: int | None = None,
        vanish_after: float | None = None,
    ) -> OcapiJob:
        """Define a job. `states` replaces the pending/running life; `refuse` makes every start fail
        with one of START_REFUSALS; `error_step` is the step that fails when exit_status is error;
        `vanish_after` makes executions unreadable (404) that many seconds after they started."""
        if refuse is not None and refuse not in START_REFUSALS:
            raise ValueError(f"refuse must be one of {sorted(START_REFUSALS)}")
        life = Life(
            states or [("pending", pending), ("running", running)],
            final,
            vanish_after=vanish_after,
            extra={"paused_state": "paused"},
        )
        step_list = [s if isinstance(s, dict) else {"step_id": s} for s in (steps or ["Step1"])]
        if error_step is None and exit_status == "error":
            error_step = len(step_list) - 1
        job = OcapiJob(
            job_id, life, exit_code, exit_status, exit_message, step_list, error_step, refuse, refuse_status
        )
        self.jobs[job_id] = job
        return job

    def admin_add_job(self, job: dict[str, Any]) -> dict[str, Any]:
        spec = dict(job)
        if spec.get("states"):
            spec["states"] = [tuple(s) for s in spec["states"]]
        created = self.add_job(spec.pop("job_id"), **spec)
        return {"job_id": created.job_id}

    def start(
        self,
        job_id: str,
        parameters: list[dict[str, str]] | None = None,
        finish_after_reads: int | None = None,
    ) -> Execution:
        """Start an execution directly (as a schedule or a Business Manager user would).

        With `finish_after_reads`, it stays running until it has been read that many times by id, then
        finishes with the job's exit status: a test can wait on it without racing a clock.
        """
        execution = Execution(self.jobs[job_id], str(next(self._execution_ids)), list(parameters or []), "bm")
        execution.finish_after_reads = finish_after_reads
        self.executions[execution.run_id] = execution
        return execution

    def switch_off_ocapi(self, after_calls: int = 0) -> None:
        """Retire OCAPI now, or after `after_calls` more Data API calls (SCAPI keeps working)."""
        if after_calls <= 0:
            self.ocapi_enabled = False
        else:
            self.ocapi_off_after = self.data_calls + after_calls

    def abort(self, execution_id: str) -> None:
        self.executions[execution_id].stop("aborted")

    def starts(self) -> int:
        """How many executions were started through either API."""
        return sum(1 for e in self.executions.values() if e.client_id != "bm")

    # -- HTTP ---------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/dwsso/oauth2/access_token", self.account_manager_token)
        r.add_post("/dw/oauth2/access_token", self.business_manager_token)
        for prefix in DATA_PREFIXES:
            r.add_post(prefix + "/jobs/{job_id}/executions", self.ocapi_execute)
            r.add_get(prefix + "/jobs/{job_id}/executions/{execution_id}", self.ocapi_read)
            r.add_delete(prefix + "/jobs/{job_id}/executions/{execution_id}", self.ocapi_delete)
            r.add_post(prefix + "/job_execution_search", self.ocapi_search)
        r.add_post(SCAPI_PREFIX + "/jobs/{job_id}/executions", self.scapi_execute)
        r.add_get(SCAPI_PREFIX + "/jobs/{job_id}/executions/{execution_id}", self.scapi_read)
        r.add_delete(SCAPI_PREFIX + "/jobs/{job_id}/executions/{execution_id}", self.scapi_delete)
        r.add_post(SCAPI_PREFIX + "/job-execution-search", self.scapi_search)

    # tokens
    def _issue(self, kind: str, scopes: frozenset[str], lifetime: float) -> dict[str, Any]:
        claims = base64.urlsafe_b64encode(json.dumps({"sub": CLIENT_ID, "scope": sorted(scopes)}).encode())
        token = "eyJhbGciOiJSUzI1NiJ9." + claims.decode().rstrip("=") + "." + secrets.token_urlsafe(24)
        self.tokens[token] = Token(kind, scopes, time.time() + lifetime)
        self.issued.append(token)
        self.grants.append({"kind": kind, "scopes": sorted(scopes), "at": time.time()})
        answer: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(lifetime) if lifetime >= 1 else lifetime,
        }
        if scopes:
            answer["scope"] = " ".join(sorted(scopes))
        return answer

    @staticmethod
    def _basic(request: web.Request) -> list[str] | None:
        basic = decoded_authorization(request)
        return None if basic is None else basic.split(":")

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> web.Response:
        return json_response({"error": error, "error_description": description}, status=status)

    async def account_manager_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self._receive(request, "am_token", form=dict(form))
        parts = self._basic(request)
        if parts is None or len(parts) != 2 or self.clients.get(parts[0]) != parts[1]:
            return self._oauth_error(401, "invalid_client", "Client authentication failed")
        if form.get("grant_type") != "client_credentials":
            return self._oauth_error(400, "unsupported_grant_type", "Unsupported grant type")
        scopes = frozenset(str(form.get("scope") or "").split())
        if not scopes <= ALLOWED_SCOPES:
            return self._oauth_error(
                400, "invalid_scope", f"Invalid scope: {' '.join(sorted(scopes - ALLOWED_SCOPES))}"
            )
        return json_response(self._issue("am", scopes, self.token_lifetime))

    async def business_manager_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self._receive(request, "bm_token", form=dict(form))
        parts = self._basic(request)
        client_id = request.query.get("client_id", "")
        if client_id not in self.clients:
            return self._oauth_error(400, "invalid_request", "client_id is missing or unknown")
        if (
            parts is None
            or len(parts) != 3
            or self.bm_users.get(parts[0]) != parts[1]
            or parts[2] != self.clients[client_id]
        ):
            return self._oauth_error(401, "invalid_grant", "Business Manager user authentication failed")
        if form.get("grant_type") != BM_GRANT:
            return self._oauth_error(400, "unsupported_grant_type", "Unsupported grant type")
        return json_response(self._issue("bm", frozenset(), self.bm_token_lifetime))

    def _token(self, request: web.Request) -> tuple[str | None, Token | None]:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None, None
        value = header[7:].strip()
        token = self.tokens.get(value)
        if token is not None and time.time() >= token.expires_at:
            del self.tokens[value]
            token = None
        return value, token

    # OCAPI Data API
    @staticmethod
    def _fault(
        status: int, fault_type: str, message: str, version: str = "v23_2", **arguments: Any
    ) -> web.Response:
        fault: dict[str, Any] = {"type": fault_type, "message": message}
        if arguments:
            fault["arguments"] = arguments
        return json_response({"_v": version.lstrip("v").replace("_", "."), "fault": fault}, status=status)

    def _ocapi_gate(self, request: web.Request) -> web.Response | None:
        """Retired OCAPI, version check and token check, in the order the platform applies them."""
        self.data_calls += 1
        if self.ocapi_off_after is not None and self.data_calls > self.ocapi_off_after:
            self.ocapi_enabled = False
        version = request.match_info["version"]
        if not self.ocapi_enabled:
            return self._fault(403, "OcapiDeprecatedException", DEPRECATED_MESSAGE, version)
        if not re.fullmatch(r"v\d+_\d+", version):
            return self._fault(
                404, "UnknownVersionException", f"The version '{version}' is unknown.", version
            )
        value, token = self._token(request)
        if value is None:
            return self._fault(
                401,
                "InvalidAccessTokenException",
                "The request is unauthorized. No access token was given.",
                version,
            )
        if token is None:
            # The platform's own quirk: the message repeats the refused token verbatim.
            return self._fault(
                401,
                "InvalidAccessTokenException",
                f"The request is unauthorized, the access token '{value}' is invalid.",
                version,
            )
        return None

    async def _parameters(self, request: web.Request) -> tuple[list[dict[str, str]] | None, str | None]:
        api = "scapi" if "/operation/jobs/" in request.path else "ocapi"
        if not request.can_read_body:
            self._receive(request, api, json=None)
            return [], None
        try:
            body = await request.json()
        except Exception:
            return None, "The request body is not a JSON document."
        self._receive(request, api, json=body)
        if body is None:
            return [], None
        params = body.get("parameters", []) if isinstance(body, dict) else None
        if not isinstance(params, list) or not all(
            isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("value"), str)
            for p in params
        ):
            return None, "parameters must be a list of {name, value} with string values."
        return [{"name": p["name"], "value": p["value"]} for p in params], None

    def _execute(self, job_id: str, parameters: list[dict[str, str]]) -> tuple[str, Any]:
        """('ok', Execution) or (fault type, (status, message))."""
        job = self.jobs.get(job_id)
        if job is None:
            return "JobNotFoundException", (404, f"No job with ID '{job_id}' was found.")
        if job.refuse is not None:
            fault_type, status, message = START_REFUSALS[job.refuse]
            return fault_type, (job.refuse_status or status, message.format(job=job_id))
        if any(e.job is job and not e.finished for e in self.executions.values()):
            return "JobAlreadyRunningException", (400, f"The job with ID '{job_id}' is already running.")
        execution = Execution(job, str(next(self._execution_ids)), parameters, CLIENT_ID)
        self.executions[execution.run_id] = execution
        return "ok", execution

    def _find(self, job_id: str, execution_id: str) -> Execution | None:
        execution = self.executions.get(execution_id)
        return execution if execution is not None and execution.job.job_id == job_id else None

    async def ocapi_execute(self, request: web.Request) -> web.Response:
        denied = self._ocapi_gate(request)
        if denied is not None:
            return denied
        version = request.match_info["version"]
        parameters, problem = await self._parameters(request)
        if problem is not None:
            return self._fault(400, "MalformedDocumentException", problem, version)
        job_id = request.match_info["job_id"]
        outcome, value = self._execute(job_id, parameters or [])
        if outcome != "ok":
            status, message = value
            return self._fault(status, outcome, message, version, jobId=job_id)
        return json_response(value.document(version))

    async def ocapi_read(self, request: web.Request) -> web.Response:
        denied = self._ocapi_gate(request)
        if denied is not None:
            return denied
        version = request.match_info["version"]
        execution = self._find(request.match_info["job_id"], request.match_info["execution_id"])
        if execution is not None:
            execution.count_read()
        if execution is None or execution.vanished():
            eid = request.match_info["execution_id"]
            return self._fault(
                404,
                "JobExecutionNotFoundException",
                f"No Job execution with ID '{eid}' was found.",
                version,
                executionId=eid,
            )
        return json_response(execution.document(version))

    async def ocapi_delete(self, request: web.Request) -> web.Response:
        denied = self._ocapi_gate(request)
        if denied is not None:
            return denied
        version = request.match_info["version"]
        eid = request.match_info["execution_id"]
        execution = self._find(request.match_info["job_id"], eid)
        if execution is None:
            return self._fault(
                404,
                "JobExecutionNotFoundException",
                f"No Job execution with ID '{eid}' was found.",
                version,
                executionId=eid,
            )
        if not execution.finished:
            return self._fault(
                403,
                "JobExecutionNotFinishedException",
                f"The job execution with ID '{eid}' is not finished.",
                version,
                executionId=eid,
            )
        del self.executions[eid]
        return web.Response(status=204)

    async def ocapi_search(self, request: web.Request) -> web.Response:
        denied = self._ocapi_gate(request)
        if denied is not None:
            return denied
        version = request.match_info["version"]
        try:
            body = await request.json()
            self._receive(request, "ocapi", json=body)
            hits, total = self._search(
                body.get("query"),
                body.get("sorts") or [],
                int(body.get("count", 25)),
                int(body.get("start", 0)),
                version,
                "sort_order",
            )
        except SearchError as exc:
            return self._fault(400, exc.fault_type, str(exc), version)
        except Exception:
            return self._fault(400, "MalformedDocumentException", "The search request is not valid.", version)
        return json_response(
            {
                "_v": version.lstrip("v").replace("_", "."),
                "_type": "job_execution_search_result",
                "count": len(hits),
                "hits": hits,
                "query": body.get("query"),
                "select": body.get("select"),
                "start": int(body.get("start", 0)),
                "total": total,
            }
        )

    def _search(
        self, query: Any, sorts: list[dict[str, Any]], count: int, start: int, version: str, order_key: str
    ) -> tuple[list[dict[str, Any]], int]:
        matcher = compile_query(query)
        # matched and sorted on the plain fields; the whole document is built for the page only (an
        # instance with thousands of executions answers a page without building thousands of them)
        hidden = time.time() - self.search_lag if self.search_lag > 0 else None
        found = [
            (d, e)
            for e in self.executions.values()
            if (hidden is None or e.created <= hidden) and matcher(d := e.document(version, full=False))
        ]
        for sort in reversed(sorts):
            key = sort.get("field", "start_time")
            found.sort(key=functools.partial(_sort_key, key), reverse=sort.get(order_key, "asc") == "desc")
        return [e.document(version) for _, e in found[start : start + count]], len(found)

    # SCAPI Jobs API
    @staticmethod
    def _problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> web.Response:
        body = {"type": ERROR_TYPE_BASE + slug, "title": title, "detail": detail, **extra}
        return web.Response(text=json.dumps(body), status=status, content_type="application/problem+json")

    def _scapi_gate(self, request: web.Request, write: bool) -> web.Response | None:
        value, token = self._token(request)
        if token is None:
            return self._problem(
                401,
                "unauthorized",
                "Unauthorized",
                "Your access token is invalid or expired and can\u2019t be used to identify a user.",
            )
        wanted = {JOBS_SCOPE} if write else {JOBS_SCOPE, JOBS_READ_SCOPE}
        tenant = request.match_info["organization_id"].removeprefix("f_ecom_")
        if not (token.scopes & wanted) or f"SALESFORCE_COMMERCE_API:{tenant}" not in token.scopes:
            return self._problem(
                403,
                "forbidden",
                "Forbidden",
                "Your access token is valid, but you don\u2019t have the required permissions "
                "to access the resource.",
            )
        if request.match_info["organization_id"] != ORGANIZATION_ID:
            return self._problem(
                404,
                "organization-not-found",
                "Organization Not Found",
                f"No organization with ID '{request.match_info['organization_id']}' was found.",
            )
        return None

    async def scapi_execute(self, request: web.Request) -> web.Response:
        denied = self._scapi_gate(request, write=True)
        if denied is not None:
            return denied
        parameters, problem = await self._parameters(request)
        if problem is not None:
            return self._problem(400, "malformed-document", "Malformed Document", problem)
        job_id = request.match_info["job_id"]
        outcome, value = self._execute(job_id, parameters or [])
        if outcome != "ok":
            status, message = value
            slug = kebab(outcome.removesuffix("Exception"))
            return self._problem(status, slug, title_of(outcome), message, jobId=job_id)
        return json_response(camel_keys(self._scapi_document(value)))

    @staticmethod
    def _scapi_document(execution: Execution) -> dict[str, Any]:
        return execution.document("v23_2")

    async def scapi_read(self, request: web.Request) -> web.Response:
        denied = self._scapi_gate(request, write=False)
        if denied is not None:
            return denied
        eid = request.match_info["execution_id"]
        execution = self._find(request.match_info["job_id"], eid)
        if execution is not None:
            execution.count_read()
        if execution is None or execution.vanished():
            return self._problem(
                404,
                "job-execution-not-found",
                "Job Execution Not Found",
                f"No Job execution with ID '{eid}' was found.",
                executionId=eid,
            )
        return json_response(camel_keys(self._scapi_document(execution)))

    async def scapi_delete(self, request: web.Request) -> web.Response:
        denied = self._scapi_gate(request, write=True)
        if denied is not None:
            return denied
        eid = request.match_info["execution_id"]
        execution = self._find(request.match_info["job_id"], eid)
        if execution is None:
            return self._problem(
                404,
                "job-execution-not-found",
                "Job Execution Not Found",
                f"No Job execution with ID '{eid}' was found.",
                executionId=eid,
            )
        if not execution.finished:
            return self._problem(
                403,
                "job-execution-not-finished",
                "Job Execution Not Finished",
                f"The job execution with ID '{eid}' is not finished.",
                executionId=eid,
            )
        del self.executions[eid]
        return web.Response(status=204)

    async def scapi_search(self, request: web.Request) -> web.Response:
        denied = self._scapi_gate(request, write=False)
        if denied is not None:
            return denied
        try:
            body = await request.json()
            self._receive(request, "scapi", json=body)
            sorts = [
                {"field": s.get("field"), "sortOrder": s.get("sortOrder", "asc")}
                for s in body.get("sorts") or []
            ]
            hits, total = self._search(
                body.get("query"),
                sorts,
                int(body.get("limit", 25)),
                int(body.get("offset", 0)),
                "v23_2",
                "sortOrder",
            )
        except SearchError as exc:
            return self._problem(400, "malformed-search-query", "Malformed Search Query", str(exc))
        except Exception:
            return self._problem(
                400, "malformed-search-query", "Malformed Search Query", "The search request is not valid."
            )
        docs = [camel_keys(hit) for hit in hits]
        return json_response(
            {
                "limit": int(body.get("limit", 25)),
                "offset": int(body.get("offset", 0)),
                "total": total,
                "query": body.get("query"),
                "hits": docs,
            }
        )


class SearchError(ValueError):
    def __init__(self, fault_type: str, message: str) -> None:
        self.fault_type = fault_type
        super().__init__(message)


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def title_of(fault_type: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", fault_type.removesuffix("Exception"))


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def compile_query(query: Any):
    """A predicate over job_execution documents from an OCAPI (snake_case) or SCAPI (camelCase) query."""
    if not isinstance(query, dict) or len(query) != 1:
        raise SearchError("MalformedSearchQueryException", "A query must have exactly one query type.")
    ((kind, spec),) = query.items()
    kind = _snake(kind)
    if kind == "match_all_query":
        return lambda doc: True
    if kind == "bool_query":
        spec = {_snake(k): v for k, v in (spec or {}).items()}
        must = [compile_query(q) for q in spec.get("must", [])]
        must_not = [compile_query(q) for q in spec.get("must_not", [])]
        should = [compile_query(q) for q in spec.get("should", [])]
        return lambda doc: (
            all(m(doc) for m in must)
            and not any(m(doc) for m in must_not)
            and (not should or any(m(doc) for m in should))
        )
    if kind == "term_query":
        fields = spec.get("fields") or []
        operator = spec.get("operator")
        values = [str(v).lower() for v in spec.get("values") or []]
        unknown = [f for f in fields if f not in SEARCHABLE_FIELDS]
        if not fields or unknown:
            raise SearchError(
                "SearchQueryFieldNotSearchableException",
                f"The field(s) {unknown or fields} are not searchable.",
            )
        if operator not in ("is", "one_of", "not_in", "neq"):
            raise SearchError("MalformedSearchQueryException", f"Unsupported operator {operator!r}.")

        def term(doc: dict[str, Any]) -> bool:
            present = any(str(doc.get(f, "")).lower() in values for f in fields)
            return present if operator in ("is", "one_of") else not present

        return term
    raise SearchError("MalformedSearchQueryException", f"Unsupported query type {kind!r}.")


def load_demo_jobs(site: Site) -> None:
    """The jobs example_dags/ocapi.py runs."""
    site.add_job(
        "CustomerImportJob",
        running=2.0,
        steps=[
            {"step_id": "ImportCustomers", "step_type_id": "ImportCustomers"},
            {"step_id": "RebuildIndexes", "step_type_id": "ExecuteScriptModule"},
        ],
    )
    site.add_job(
        "CatalogExport",
        running=1.5,
        exit_code="NOTHING_TO_EXPORT",
        exit_message="No changes since last run",
        steps=[{"step_id": "ExportCatalog", "step_type_id": "ExportCatalog"}],
    )


def _sort_key(field: str, entry: tuple[dict[str, Any], Any]) -> str:
    """A search hit's sort value: its document's `field` as text."""
    return str(entry[0].get(field) or "")
