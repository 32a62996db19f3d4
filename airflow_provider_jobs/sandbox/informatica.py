"""Informatica Intelligent Cloud Services (Data Integration REST API), simulated (mounted at /informatica/).

The mount point plays the login host (dm-<region>.informaticacloud.com): `/ma/api/v2/user/login`,
`/saas/public/core/v3/login` and (as documented) `/saas/public/core/v3/logout`. A login answers a server
URL on a POD (`/informatica/<pod>/saas`, built from the request's host), where every other resource
lives: `/api/v2/job`, `/api/v2/job/stop`, `/api/v2/activity/activityMonitor`, `/api/v2/activity/activityLog`,
`/public/core/v3/lookup`, the v2 logout, and (under `/informatica/<pod>/active-bpel/`) taskflows published
as services: start, status (one run, or a list filtered by start time), terminate, resume.

Quirks kept from the real service: v2 calls need the `icSessionId` header and answer XML unless the
client accepts JSON; v3 and taskflow calls need `INFA-SESSION-ID`; a session unused for
`idle_timeout` seconds is gone (401); wrong credentials give HTTP 400 on the v2 login; `runId`
counts per task (two tasks both have a run 1); the activity monitor lists every running job of the
org and cannot be filtered; a finished run may be in neither the monitor nor the activity log for a
moment; the job stop is keyed by task, not by run; errors are `{"@type": "error", ...}` (v2) or
`{"error": {...}}` (v3).
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import string
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from airflow_provider_jobs.sandbox.core import Life, SandboxState, SimRun, json_response, session_user

USER = "integration.user"
PASSWORD = "iics-sandbox-password"
ORG_ID = "0100000"
ORG_NAME = "Sandbox Org"
USER_ID = "0100000300000000000A"
DEFAULT_POD = "na4"
TASK_TYPES = ("DMASK", "DRS", "DSS", "MTT", "PCS", "WORKFLOW")
MONITOR_WORDS = {"1": "COMPLETED", "2": "COMPLETED", "3": "FAILED"}
_ALNUM = string.ascii_letters + string.digits


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


_EASTERN = ZoneInfo("America/New_York")


def _eastern(epoch: float | None) -> str | None:
    """A time as the activity monitor's startTime / endTime show it: US Eastern wall clock, no offset."""
    if epoch is None:
        return None
    local = datetime.fromtimestamp(epoch, tz=_EASTERN)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f".{int(epoch * 1000) % 1000:03d}"


def _epoch(text: str) -> float:
    """A UTC ISO 8601 query value ('2021-06-10T05:48:28Z') as epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(length: int = 22) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def v2_error(status: int, code: str, description: str) -> web.Response:
    return json_response({"@type": "error", "code": code, "description": description, "statusCode": status},
                         status=status)


def v3_error(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": {"code": code, "message": message, "requestId": uuid.uuid4().hex[:22],
                                    "details": None}}, status=status)


def _xml(data: Any) -> str:
    def render(value: Any, tag: str) -> str:
        if isinstance(value, dict):
            inner = "".join(render(v, str(k).lstrip("@")) for k, v in value.items())
        elif isinstance(value, list):
            inner = "".join(render(v, "item") for v in value)
        else:
            inner = "" if value is None else str(value)
        return f"<{tag}>{inner}</{tag}>"

    return '<?xml version="1.0" encoding="UTF-8"?>' + render(data, "root")


@dataclass
class Task:
    """A Data Integration task (or linear taskflow) of the org."""

    task_id: str
    federated_id: str
    name: str
    path: str
    task_type: str
    life: Life
    rows: int = 100
    failed_rows: int = 3
    error: str = "FATAL: [SQL Server]Invalid object name 'dbo.Customers'."
    warning: str = "3 rows were rejected by the target."
    allow_concurrent: bool = False
    visible_after: float = 0.0
    monitor_linger: float = 0.0
    log_delay: float = 0.0
    stopping: float = 0.05
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))


class TaskRun(SimRun):
    """One run of a task; `runId` counts per task."""

    def __init__(self, task: Task, *, started_by: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(task.task_id, task.life, str(next(task.counter)))
        self.task = task
        self.started_by = started_by
        self.body = dict(body or {})
        self.stop_requested_at: float | None = None
        self.clean_stop: bool | None = None
        self.log_id = uuid.uuid4().hex[:20]
        runtime = given if isinstance(given := self.body.get("runtime"), dict) else {}
        #: (parameterFileName, parameterFileDir) the run was started with, as the job's runtime gave them
        self.parameter_file = (runtime.get("parameterFileName"), runtime.get("parameterFileDir"))

    def state(self, now: float | None = None) -> tuple[str, float, bool]:
        now = time.time() if now is None else now
        if self.stop_requested_at is not None and self.stopped_state is None:
            if now - self.stop_requested_at < self.task.stopping:
                return "STOPPING", self._progress(self.elapsed(now)), False
            self.stopped_state = "3"
            self.stopped_at = self.stop_requested_at + self.task.stopping
        return super().state(now)

    @property
    def ended_at(self) -> float | None:
        self.state()  # settles a stop whose STOPPING phase is over
        return super().ended_at

    def request_stop(self, clean: bool) -> bool:
        if self.finished or self.stop_requested_at is not None:
            return False
        self.stop_requested_at = time.time()
        self.clean_stop = clean
        return True

    @property
    def stopped(self) -> bool:
        return self.stop_requested_at is not None

    def place(self, now: float | None = None) -> str:
        """Where the org sees the run now: 'hidden' (not yet, or vanished), 'monitor', 'gap' (in neither list)
        or 'log'."""
        now = time.time() if now is None else now
        if now - self.created < self.task.visible_after or self.vanished():
            return "hidden"
        if not self.finished:
            return "monitor"
        ended = self.ended_at or now
        if now < ended + self.task.monitor_linger:
            return "monitor"
        if now < ended + self.task.monitor_linger + self.task.log_delay:
            return "gap"
        return "log"

    def rows(self) -> dict[str, int]:
        vendor_state, progress, done = self.state()
        task = self.task
        read = task.rows if done and vendor_state in ("1", "2") else int(task.rows * progress / 100)
        if done and vendor_state == "3" and not self.stopped:
            read = task.rows // 2  # a failed run stops part way, writing nothing
        written = 0 if done and vendor_state == "3" and not self.stopped else read
        failed = task.failed_rows if done and vendor_state == "2" else 0
        return {"successSourceRows": read, "failedSourceRows": 0, "successTargetRows": written - failed,
                "failedTargetRows": failed}

    def error_message(self) -> str | None:
        vendor_state, _, done = self.state()
        if not done:
            return None
        if self.stopped:
            return f"The job was stopped by {USER}."
        return {"2": self.task.warning, "3": self.task.error}.get(vendor_state)


@dataclass
class Taskflow:
    """A taskflow published as a service (`/active-bpel/rt/<name>`)."""

    name: str
    federated_id: str
    location: str
    life: Life
    error: str = "Fault in step 'Load Orders': the mapping task failed."
    resume_running: float = 0.2
    resume_final: str = "SUCCESS"
    runs: list[TaskflowRun] = field(default_factory=list)


class TaskflowRun(SimRun):
    """One run of a taskflow service: it can be terminated (STOPPED) while running or suspended, and a
    SUSPENDED one resumed (RUNNING for `flow.resume_running` seconds, then `flow.resume_final`)."""

    def __init__(self, flow: Taskflow, run_id: str, inputs: dict[str, Any]) -> None:
        super().__init__(flow.name, flow.life, run_id)
        self.flow = flow
        self.inputs = dict(inputs)
        self.terminated_at: float | None = None
        self.resumed: tuple[str, float] | None = None  # (resource, when)

    def state(self, now: float | None = None) -> tuple[str, float, bool]:
        now = time.time() if now is None else now
        if self.terminated_at is not None:
            return "STOPPED", 0.0, True
        if self.resumed is not None:
            if now - self.resumed[1] < self.flow.resume_running:
                return "RUNNING", 50.0, False
            return self.flow.resume_final, 100.0, True
        return super().state(now)

    @property
    def ended_at(self) -> float | None:
        if self.terminated_at is not None:
            return self.terminated_at
        if self.resumed is not None:
            return self.resumed[1] + self.flow.resume_running if self.finished else None
        return super().ended_at


class Site:
    """The IICS site: users and sessions, tasks and their runs, taskflow services."""

    vendor = "informatica"

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.reset()

    def reset(self) -> None:
        self.pod = DEFAULT_POD
        self.idle_timeout = 1800.0
        #: seconds a JWT session token lives (None: classic session ids, which expire only when idle)
        self.jwt_lifetime: float | None = None
        self.users = {USER: PASSWORD}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.issued_sessions: list[str] = []
        self.logins = 0
        self.logouts = 0
        #: the JSON bodies the site received: {"method", "path", "body"} (passwords as "***")
        self.received: list[dict[str, Any]] = []
        #: where each logout arrived: {"version", "host", "path"}
        self.logout_requests: list[dict[str, str]] = []
        self.tasks: dict[str, Task] = {}
        self.runs: list[TaskRun] = []
        self.taskflows: dict[str, Taskflow] = {}
        self.lookups: list[dict[str, Any]] = []
        self.stop_requests: list[dict[str, Any]] = []
        #: terminate and resume calls on taskflow runs: {"action", "run_ids", "status"}
        self.taskflow_actions: list[dict[str, Any]] = []
        self._task_numbers = itertools.count(2)
        self._flow_run_ids = itertools.count(734265423412345678, 7919)

    def expire_credentials(self) -> None:
        """End every session (as 30 idle minutes do)."""
        self.sessions.clear()

    def connection(self, base_url: str) -> dict[str, Any]:
        return {"conn_type": "informatica_cloud", "host": base_url, "login": USER, "password": PASSWORD,
                "extra": {"api_version": "v2"}}

    # -- Python API for tests and the demo ------------------------------------------------------
    def add_task(
        self,
        name: str,
        *,
        task_type: str = "MTT",
        path: str | None = None,
        final: str = "1",
        queued: float = 0.05,
        running: float = 0.3,
        steps: list[tuple[str, float]] | None = None,
        task_id: str | None = None,
        federated_id: str | None = None,
        **options: Any,
    ) -> Task:
        """A task; its runs go through `steps` of (executionState, seconds), then log state `final`
        (1 success, 2 success with warnings, 3 failed). `options` set Task fields (rows, error,
        allow_concurrent, visible_after, monitor_linger, log_delay, stopping, ...)."""
        if task_type not in TASK_TYPES:
            raise ValueError(f"task_type {task_type!r} is not one of {TASK_TYPES}")
        life = Life(steps or [("QUEUED", queued), ("RUNNING", running)], str(final))
        task = Task(task_id or f"{ORG_ID}Z{next(self._task_numbers):012d}", federated_id or _token(),
                    name, (path or f"Default/{name}").strip("/"), task_type, life, **options)
        self.tasks[task.task_id] = task
        return task

    def add_taskflow(self, name: str, *, final: str = "SUCCESS", running: float = 0.3,
                     steps: list[tuple[str, float]] | None = None, location: str = "Default",
                     error: str | None = None, resume_running: float = 0.2, resume_final: str = "SUCCESS"
                     ) -> Taskflow:
        """A taskflow published as a service under the API name `name`; its runs end in `final` (SUCCESS,
        WARNING, FAILED or SUSPENDED); a suspended run that is resumed runs `resume_running` seconds more and
        ends in `resume_final`."""
        flow = Taskflow(name, _token(), location, Life(steps or [("RUNNING", running)], final),
                        resume_running=resume_running, resume_final=resume_final)
        if error:
            flow.error = error
        self.taskflows[name] = flow
        return flow

    def start_elsewhere(self, task: Task) -> TaskRun:
        """A run started outside the API (a schedule, the UI): it shows in the monitor too."""
        run = TaskRun(task, started_by="scheduler", body={})
        self.runs.append(run)
        return run

    def start_taskflow_elsewhere(self, name: str) -> TaskflowRun:
        """A run of a taskflow service started outside this client (another caller of its service URL)."""
        flow = self.taskflows[name]
        run = TaskflowRun(flow, str(next(self._flow_run_ids)), {})
        flow.runs.append(run)
        return run

    def admin_add_job(self, job: dict[str, Any]) -> dict[str, Any]:
        steps = [tuple(s) for s in job["steps"]] if job.get("steps") else None
        if job.get("kind") == "taskflow":
            flow = self.add_taskflow(job["name"], final=job.get("final", "SUCCESS"), steps=steps,
                                     running=float(job.get("running", 0.3)))
            return {"name": flow.name, "federated_id": flow.federated_id}
        task = self.add_task(job["name"], task_type=job.get("type", "MTT"), path=job.get("path"),
                             final=str(job.get("final", "1")), steps=steps, running=float(job.get("running", 0.3)),
                             visible_after=float(job.get("visible_after", 0.0)))
        return {"task_id": task.task_id, "federated_id": task.federated_id, "name": task.name, "path": task.path,
                "type": task.task_type}

    def runs_of(self, task: Task) -> list[TaskRun]:
        return [r for r in self.runs if r.task is task]

    def starts(self) -> int:
        """How many runs the job resource started."""
        return sum(1 for r in self.runs if r.started_by == USER)

    # -- HTTP ---------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/ma/api/v2/user/login", self.login_v2)
        r.add_post("/saas/public/core/v3/login", self.login_v3)
        r.add_post("/{pod}/saas/api/v2/user/logout", self.logout_v2)
        r.add_post("/saas/public/core/v3/logout", self.logout_v3)  # on the login host, not the POD
        r.add_post("/{pod}/saas/api/v2/job", self.start_job)
        r.add_post("/{pod}/saas/api/v2/job/stop", self.stop_job)
        r.add_get("/{pod}/saas/api/v2/activity/activityMonitor", self.activity_monitor)
        r.add_get("/{pod}/saas/api/v2/activity/activityLog", self.activity_log)
        r.add_post("/{pod}/saas/public/core/v3/lookup", self.lookup)
        r.add_post("/{pod}/active-bpel/rt/{name}", self.start_taskflow)
        r.add_get("/{pod}/active-bpel/services/tf/status/{run_id}", self.taskflow_status)
        r.add_get("/{pod}/active-bpel/services/tf/status", self.taskflow_status_list)
        r.add_put("/{pod}/active-bpel/services/tf/terminate", self.terminate_taskflows)
        r.add_put("/{pod}/active-bpel/management/runtime/v1/{action}/{run_id}", self.resume_taskflow)

    def _server_url(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}/{self.vendor}/{self.pod}/saas"

    def _session(self, token: str | None) -> str | None:
        return session_user(self.sessions, token, self.idle_timeout)

    def _new_session(self, user: str) -> str:
        """A session id; with `jwt_lifetime` set (an org that uses JWT session tokens), a JWT whose `exp` is a
        hard expiry, however much the session is used."""
        now = time.time()
        session: dict[str, Any] = {"user": user, "last_used": now}
        if self.jwt_lifetime is not None:
            session["expires"] = now + self.jwt_lifetime
            claims = {"sub": USER_ID, "org": ORG_ID, "iat": int(now), "exp": session["expires"], "jti": _token(8)}
            token = ".".join(_b64url(json.dumps(part).encode()) for part in ({"alg": "RS256", "typ": "JWT"}, claims))
            token += "." + _b64url(secrets.token_bytes(32))
        else:
            token = _token()
        self.sessions[token] = session
        self.issued_sessions.append(token)
        self.logins += 1
        return token

    def _wrong_pod(self, request: web.Request) -> bool:
        return request.match_info.get("pod") != self.pod

    @staticmethod
    def _v2(request: web.Request, data: Any, status: int = 200) -> web.Response:
        """v2 answers XML unless the client accepts JSON."""
        if "json" in request.headers.get("Accept", ""):
            return json_response(data, status=status)
        return web.Response(text=_xml(data), status=status, content_type="application/xml")

    def _v2_user(self, request: web.Request) -> str | None:
        return self._session(request.headers.get("icSessionId"))

    def _v3_user(self, request: web.Request) -> str | None:
        return self._session(request.headers.get("INFA-SESSION-ID"))

    @staticmethod
    def _v2_deny() -> web.Response:
        return v2_error(401, "UI_10000", "Invalid or expired session ID; log in again.")

    @staticmethod
    def _v3_deny() -> web.Response:
        return v3_error(401, "AUTH_01", "Invalid or expired session ID.")

    async def _body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        # what each request carried, for contract tests (a password is kept as its type, not its value)
        kept = {k: ("***" if k == "password" else v) for k, v in body.items()} if isinstance(body, dict) else body
        self.received.append({"method": request.method, "path": request.path, "body": kept})
        return body if isinstance(body, dict) else None

    async def login_v2(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if body is None or body.get("@type") != "login":
            return v2_error(400, "UI_10000", "The request body must be a login object with \"@type\": \"login\".")
        name, password = body.get("username"), body.get("password")
        if not name or self.users.get(name) != password:
            return v2_error(400, "UI_10000", "Invalid user name or password.")
        token = self._new_session(name)
        return self._v2(request, {"@type": "user", "id": USER_ID, "orgId": ORG_ID, "orgUuid": uuid.uuid4().hex,
                                  "name": name, "firstName": "Integration", "lastName": "User",
                                  "timezone": "America/New_York", "icSessionId": token,
                                  "serverUrl": self._server_url(request), "spiUrl": None, "uuid": uuid.uuid4().hex})

    async def login_v3(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if body is None:
            return v3_error(400, "APP_60001", "The request body is not a JSON object.")
        name, password = body.get("username"), body.get("password")
        if not name or self.users.get(name) != password:
            return v3_error(401, "AUTH_01", "Invalid user name or password.")
        token = self._new_session(name)
        return json_response({
            "products": [{"name": "Integration Cloud", "baseApiUrl": self._server_url(request)}],
            "userInfo": {"sessionId": token, "id": USER_ID, "name": name, "parentOrgId": ORG_ID, "orgId": ORG_ID,
                         "orgName": ORG_NAME, "groups": {}, "status": "Active"},
        })

    async def logout_v2(self, request: web.Request) -> web.Response:
        if self._wrong_pod(request):
            return web.Response(status=404)
        self.logout_requests.append({"version": "v2", "host": request.host, "path": request.path})
        token = request.headers.get("icSessionId") or ""
        if self._session(token) is None:
            return self._v2_deny()
        del self.sessions[token]
        self.logouts += 1
        return web.Response(status=200)

    async def logout_v3(self, request: web.Request) -> web.Response:
        self.logout_requests.append({"version": "v3", "host": request.host, "path": request.path})
        token = request.headers.get("INFA-SESSION-ID") or ""
        if self._session(token) is None:
            return self._v3_deny()
        del self.sessions[token]
        self.logouts += 1
        return web.Response(status=200)

    # -- tasks ----------------------------------------------------------------------------------
    def _find_task(self, body: dict[str, Any]) -> Task | None:
        kind = str(body.get("taskType") or "").upper()
        for task in self.tasks.values():
            if task.task_type != kind:
                continue
            if body.get("taskId") and body["taskId"] == task.task_id:
                return task
            if body.get("taskFederatedId") and body["taskFederatedId"] == task.federated_id:
                return task
            if body.get("taskName") and not body.get("taskId") and not body.get("taskFederatedId") \
                    and body["taskName"] == task.name:
                return task
        return None

    async def _job_body(self, request: web.Request) -> tuple[dict[str, Any] | None, web.Response | None]:
        body = await self._body(request)
        if body is None or body.get("@type") != "job":
            return None, v2_error(400, "UI_10000", "The request body must be a job object with \"@type\": \"job\".")
        kind = str(body.get("taskType") or "").upper()
        if kind not in TASK_TYPES:
            return None, v2_error(400, "UI_10000", f"Invalid taskType '{body.get('taskType')}'.")
        if not (body.get("taskId") or body.get("taskFederatedId") or body.get("taskName")):
            return None, v2_error(400, "UI_10000", "taskId, taskFederatedId or taskName is required.")
        return body, None

    async def start_job(self, request: web.Request) -> web.Response:
        if self._wrong_pod(request):
            return web.Response(status=404)
        if self._v2_user(request) is None:
            return self._v2_deny()
        body, problem = await self._job_body(request)
        if problem is not None or body is None:
            return problem or web.Response(status=400)
        callback = body.get("callbackURL")
        if callback is not None and not str(callback).startswith(("http://", "https://")):
            return v2_error(400, "UI_10000", f"Invalid callbackURL '{callback}'.")
        misplaced = sorted(k for k in ("parameterFileName", "parameterFileDir") if k in body)
        if misplaced:  # "Starting a job": they are runtime properties
            return v2_error(400, "UI_10000", f"Unrecognized field(s) {', '.join(misplaced)} in the job object; "
                            "parameter files are given in runtime (@type mtTaskRuntime).")
        runtime = body.get("runtime")
        if runtime is not None and (not isinstance(runtime, dict) or runtime.get("@type") != "mtTaskRuntime"):
            return v2_error(400, "UI_10000", "runtime must be an object with \"@type\": \"mtTaskRuntime\".")
        task = self._find_task(body)
        if task is None:
            ref = body.get("taskId") or body.get("taskFederatedId") or body.get("taskName")
            return v2_error(404, "UI_10000", f"Task '{ref}' of type {body['taskType']} was not found.")
        if not task.allow_concurrent and any(not r.finished for r in self.runs_of(task)):
            return v2_error(403, "CMN_3021", f"The task '{task.name}' is already running.")
        run = TaskRun(task, started_by=USER, body=body)
        self.runs.append(run)
        return self._v2(request, {"@type": "job", "taskId": task.task_id, "taskFederatedId": task.federated_id,
                                  "taskName": task.name, "taskType": task.task_type, "runId": int(run.run_id),
                                  "callbackURL": callback})

    async def stop_job(self, request: web.Request) -> web.Response:
        if self._wrong_pod(request):
            return web.Response(status=404)
        if self._v2_user(request) is None:
            return self._v2_deny()
        body, problem = await self._job_body(request)
        if problem is not None or body is None:
            return problem or web.Response(status=400)
        task = self._find_task(body)
        if task is None:
            ref = body.get("taskId") or body.get("taskFederatedId") or body.get("taskName")
            return v2_error(404, "UI_10000", f"Task '{ref}' of type {body['taskType']} was not found.")
        clean = request.query.get("cleanStop", "false").lower() == "true"
        stopped = [r for r in self.runs_of(task) if r.request_stop(clean)]
        self.stop_requests.append({"task_id": task.task_id, "clean_stop": clean,
                                   "run_ids": [r.run_id for r in stopped]})
        if not stopped:
            return v2_error(403, "UI_10000", f"The task '{task.name}' is not running.")
        return self._v2(request, {"@type": "success", "description": "The stop request was sent."})

    def _monitor_entry(self, run: TaskRun) -> dict[str, Any]:
        vendor_state, _, done = run.state()
        word = MONITOR_WORDS.get(vendor_state, vendor_state) if done else vendor_state
        return {"@type": "activityMonitorEntry", "id": run.log_id, "type": run.task.task_type,
                "taskId": run.task.task_id, "taskName": run.task.name, "objectName": "dbo.Customers",
                "runId": int(run.run_id), "startTime": _eastern(run.created), "startTimeUtc": _iso(run.created),
                "endTime": _eastern(run.ended_at) if done else None,
                "endTimeUtc": _iso(run.ended_at) if done else None, "executionState": word,
                **run.rows(), "errorMsg": run.error_message(), "startedBy": run.started_by,
                "runContextType": "REST_API" if run.started_by == USER else "SCHEDULER", "scheduleName": None,
                "callbackURL": run.body.get("callbackURL"), "orgId": ORG_ID}

    def _flow_monitor_entry(self, run: TaskflowRun) -> dict[str, Any]:
        return {"@type": "activityMonitorEntry", "id": run.run_id, "type": "TASKFLOW",
                "taskId": run.flow.federated_id, "taskName": run.flow.name, "objectName": "",
                "runId": int(run.run_id), "startTime": _eastern(run.created), "startTimeUtc": _iso(run.created),
                "endTime": None, "endTimeUtc": None,
                "executionState": "RUNNING", "successSourceRows": 0, "failedSourceRows": 0,
                "successTargetRows": 0, "failedTargetRows": 0, "errorMsg": None, "startedBy": USER,
                "runContextType": "REST_API", "orgId": ORG_ID}

    async def activity_monitor(self, request: web.Request) -> web.Response:
        if self._wrong_pod(request):
            return web.Response(status=404)
        if self._v2_user(request) is None:
            return self._v2_deny()
        entries = [self._monitor_entry(r) for r in self.runs if r.place() == "monitor"]
        for flow in self.taskflows.values():
            entries.extend(self._flow_monitor_entry(r) for r in flow.runs if not r.finished)
        return self._v2(request, entries)

    def _log_entry(self, run: TaskRun) -> dict[str, Any]:
        vendor_state, _, _ = run.state()
        task = run.task
        return {"@type": "activityLogEntry", "id": run.log_id, "type": task.task_type, "objectId": task.task_id,
                "objectName": task.name, "runId": int(run.run_id), "startTime": _eastern(run.created),
                "endTime": _eastern(run.ended_at), "startTimeUtc": _iso(run.created), "endTimeUtc": _iso(run.ended_at),
                "state": int(vendor_state), "isStopped": run.stopped,
                "success": 1 if vendor_state in ("1", "2") else 0, **run.rows(),
                "errorMsg": run.error_message(), "startedBy": run.started_by,
                "runContextType": "REST_API" if run.started_by == USER else "SCHEDULER", "entries": []}

    async def activity_log(self, request: web.Request) -> web.Response:
        if self._wrong_pod(request):
            return web.Response(status=404)
        if self._v2_user(request) is None:
            return self._v2_deny()
        q = request.query
        if q.get("runId") and not q.get("taskId"):
            return v2_error(400, "UI_10000", "taskId is required when runId is given.")
        runs = [r for r in self.runs if r.place() == "log"]
        if q.get("taskId"):
            runs = [r for r in runs if r.task.task_id == q["taskId"]]
        if q.get("runId"):
            runs = [r for r in runs if r.run_id == q["runId"]]
        runs.sort(key=lambda r: r.ended_at or 0, reverse=True)
        offset, limit = int(q.get("offset", 0)), int(q.get("rowLimit", 200))
        return self._v2(request, [self._log_entry(r) for r in runs[offset:offset + limit]])

    async def lookup(self, request: web.Request) -> web.Response:
        if self._wrong_pod(request):
            return web.Response(status=404)
        if self._v3_user(request) is None:
            return self._v3_deny()
        body = await self._body(request)
        objects = body.get("objects") if body else None
        if not isinstance(objects, list) or not objects:
            return v3_error(400, "APP_60001", "The request must list objects to look up.")
        found = []
        for item in objects:
            self.lookups.append(dict(item))
            kind = str(item.get("type") or "").upper()
            match = None
            for task in self.tasks.values():
                if task.task_type == kind and (item.get("path") == task.path or item.get("id") == task.federated_id):
                    match = task
            if match is None:
                ref = item.get("path") or item.get("id")
                return v3_error(404, "CORE_10004", f"Object '{ref}' of type {item.get('type')} was not found.")
            found.append({"id": match.federated_id, "path": match.path, "type": match.task_type,
                          "description": "", "updateTime": _iso(time.time())})
        return json_response({"objects": found})

    # -- taskflows published as services ------------------------------------------------------------
    async def start_taskflow(self, request: web.Request) -> web.Response:
        if self._wrong_pod(request):
            return web.Response(status=404)
        if self._v3_user(request) is None:
            return self._v3_deny()
        flow = self.taskflows.get(request.match_info["name"])
        if flow is None:
            return v3_error(404, "AE_10001", f"No taskflow is published as '{request.match_info['name']}'.")
        inputs: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            body = await self._body(request)
            if body is None:
                return v3_error(400, "AE_10002", "The taskflow input is not a JSON object.")
            inputs.update(body)
        run = TaskflowRun(flow, str(next(self._flow_run_ids)), inputs)
        flow.runs.append(run)
        return json_response({"RunId": int(run.run_id)})

    def _flow_status(self, run: TaskflowRun) -> dict[str, Any]:
        status, _, done = run.state()
        return {
            "assetName": run.flow.name, "assetType": "TASKFLOW", "location": run.flow.location,
            "runId": int(run.run_id), "status": status, "startTime": _iso(run.created),
            "endTime": _iso(run.ended_at) if done else None,
            "duration": str(int((run.ended_at or time.time()) - run.created)),
            "errorMessage": run.flow.error if done and status not in ("SUCCESS", "STOPPED") else None,
            "runtimeEnv": "Informatica Cloud Hosted Agent", "startedBy": USER, "subtasks": 1,
        }

    def _flow_run(self, run_id: str) -> TaskflowRun | None:
        run = next((r for f in self.taskflows.values() for r in f.runs if r.run_id == run_id), None)
        return None if run is None or run.vanished() else run

    async def taskflow_status(self, request: web.Request) -> web.Response:
        if self._wrong_pod(request):
            return web.Response(status=404)
        if self._v3_user(request) is None:
            return self._v3_deny()
        run_id = request.match_info["run_id"]
        run = self._flow_run(run_id)
        if run is None:
            return v3_error(404, "AE_10003", f"No taskflow run has the id {run_id}.")
        return json_response(self._flow_status(run))

    async def taskflow_status_list(self, request: web.Request) -> web.Response:
        """`?runId, runStatus, startTime, endTime (UTC), offset, rowLimit` (max 50, default 10), newest first."""
        if self._wrong_pod(request):
            return web.Response(status=404)
        if self._v3_user(request) is None:
            return self._v3_deny()
        q = request.query
        try:
            since = _epoch(q["startTime"]) if q.get("startTime") else None
            until = _epoch(q["endTime"]) if q.get("endTime") else None
            offset, limit = int(q.get("offset", 0)), int(q.get("rowLimit", 10))
        except ValueError as exc:
            return v3_error(400, "AE_10004", f"Invalid query parameter: {exc}.")
        if limit > 50:
            return v3_error(400, "AE_10004", "rowLimit cannot be more than 50.")
        runs = [r for f in self.taskflows.values() for r in f.runs if not r.vanished()]
        if q.get("runId"):
            runs = [r for r in runs if r.run_id == q["runId"]]
        if q.get("runStatus"):
            runs = [r for r in runs if r.state()[0].lower() == q["runStatus"].lower()]
        if since is not None:
            runs = [r for r in runs if r.created >= since]
        if until is not None:
            runs = [r for r in runs if (r.ended_at or time.time()) <= until]
        runs.sort(key=lambda r: r.created, reverse=True)
        return json_response([self._flow_status(r) for r in runs[offset:offset + limit]])


    async def terminate_taskflows(self, request: web.Request) -> web.Response:
        """`PUT .../active-bpel/services/tf/terminate` `{"runid": ["<id>", ...]}` (at most 200). The answer's
        shape is not published: this one lists each run id with what became of it."""
        if self._wrong_pod(request):
            return web.Response(status=404)
        if self._v3_user(request) is None:
            return self._v3_deny()
        body = await self._body(request)
        ids = body.get("runid") if body else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            return v3_error(400, "AE_10005", 'The body must be {"runid": ["<run id>", ...]} with the ids as strings.')
        if len(ids) > 200:
            return v3_error(400, "AE_10005", "At most 200 taskflows can be terminated at a time.")
        runs = {i: self._flow_run(i) for i in ids}
        unknown = [i for i, r in runs.items() if r is None]
        if unknown:
            self.taskflow_actions.append({"action": "terminate", "run_ids": ids, "status": 400})
            return v3_error(400, "AE_10003", f"The run ID(s) {', '.join(unknown)} do not exist or are not valid.")
        results = []
        for run_id, run in runs.items():
            assert run is not None  # the unknown ones were answered above
            word = run.state()[0]
            if word in ("RUNNING", "SUSPENDED"):
                run.terminated_at = time.time()
                results.append({"runId": run_id, "status": "terminated"})
            else:
                results.append({"runId": run_id, "status": f"not terminated: the run is {word}"})
        self.taskflow_actions.append({"action": "terminate", "run_ids": ids, "status": 200})
        return json_response(results)

    async def resume_taskflow(self, request: web.Request) -> web.Response:
        """`PUT .../management/runtime/v1/resumeWithFaultRetry|resumeWithFaultSkip/<runId>` → 204."""
        if self._wrong_pod(request):
            return web.Response(status=404)
        action, run_id = request.match_info["action"], request.match_info["run_id"]
        if action not in ("resumeWithFaultRetry", "resumeWithFaultSkip"):
            return v3_error(404, "AE_10006", f"No resource {action}.")
        if self._v3_user(request) is None:
            return self._v3_deny()
        run = self._flow_run(run_id)
        if run is None:
            return v3_error(404, "AE_10003", f"No taskflow run has the id {run_id}.")
        word = run.state()[0]
        if word != "SUSPENDED":
            self.taskflow_actions.append({"action": action, "run_ids": [run_id], "status": 400})
            return v3_error(400, "AE_10007", f"The taskflow run {run_id} is {word}, not suspended.")
        run.resumed = (action, time.time())
        self.taskflow_actions.append({"action": action, "run_ids": [run_id], "status": 204})
        return web.Response(status=204)


def load_demo_jobs(site: Site) -> dict[str, Any]:
    """The tasks and the taskflow service example_dags/informatica.py uses."""
    customers = site.add_task("Load Customers", task_type="MTT", path="Sales/Daily/Load Customers", running=1.0)
    accounts = site.add_task("Sync Accounts", task_type="DSS", running=1.0)
    nightly = site.add_task("Nightly Load", task_type="WORKFLOW", running=1.5)
    site.add_taskflow("Refresh_Dashboard", running=1.0, location="Sales/Flows")
    return {"Load Customers": customers.task_id, "Sync Accounts": accounts.task_id, "Nightly Load": nightly.task_id}


__all__ = ["PASSWORD", "USER", "Site", "load_demo_jobs"]
