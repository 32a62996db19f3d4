"""CData Sync's REST API v2 job management, simulated (mounted at /cdata_sync/, API under /api.rsc/).

Jobs live in workspaces and hold ordered tasks (queries). A run executes the job's active tasks (or a
chosen subset) one after the other; each task succeeds or fails on its own and the job goes on to the
next one (Continue_On_Error). The history keeps one entry per run. Like the real server it has no run
id in the execute answer, 64-bit ids (sent as JSON numbers), a per-user auth token (header or Basic),
and errors shaped {"error": {"code", "message"}}. The status and history bodies are not published:
this site answers with a plausible shape, mixing the vocabularies (status: RUNNING / SUCCESS / FAILED;
history: Running / Successful / Failed; tasks: In progress).

It also serves the v1 job API every Sync version has (the only one before v2, e.g. 24.x), as the v1 docs and
CData's MCP server use it: POST /api.rsc/executeJob, /cancelJob, /getJobStatus with JSON bodies naming JobName
or JobId, GET /api.rsc/jobs and GET /api.rsc/history with OData $filter / $orderby / $top. Set
``site.api_version = "v1"`` for a server without v2 (every v2 route answers 404).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from aiohttp import web

from airflow_provider_jobs.sandbox.core import Life, SandboxState, SimRun, decoded_authorization, json_response

USER = "airflow"
TOKEN = "cdata-sandbox-token-7Hq2pX"
#: 2**53 + 1: the first integer a float (or JavaScript) cannot hold; a float turns it into ...992.
FIRST_JOB_ID = 9007199254740993
FIRST_TASK_ID = 9007199254750001
FIRST_HISTORY_ID = 9007199254790001
JOB_TYPES = ("Standard", "SyncAll", "LoadFolder", "ChangeDataCapture", "ReverseETL")

#: The history's words and the status call's words for the same run state.
STATUS_WORDS = {"Starting": "STARTING", "Testing": "TESTING", "Running": "RUNNING", "Successful": "SUCCESS",
                "Failed": "FAILED", "Cancelled": "CANCELLED"}


def iso(epoch: float | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, as the history shows times."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SyncTask:
    """A task of a job: a query, and how the sandbox makes it behave when it runs."""

    task_id: int
    query: str
    is_active: bool = True
    seconds: float = 0.1
    outcome: str = "Successful"
    records: int = 10
    message: str | None = None

    def to_json(self, job: SyncJob) -> dict[str, Any]:
        return {"id": self.task_id, "job_id": job.job_id, "index": job.tasks.index(self), "query": self.query,
                "table": _table(self.query), "is_active": self.is_active}


@dataclass
class SyncJob:
    job_id: int
    name: str
    workspace: str
    job_type: str = "Standard"
    tasks: list[SyncTask] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    starting: float = 0.05
    testing: float = 0.05
    #: Fault scripting: the word a run reports while its tasks run, and when its history entry vanishes.
    running_word: str = "Running"
    vanish_after: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.job_id, "name": self.name, "type": self.job_type, "workspace_id": self.workspace,
                "task_count": len(self.tasks), **self.settings}


class SyncRun(SimRun):
    """One run of a job: Starting, Testing, then its tasks one by one."""

    def __init__(self, site: Site, job: SyncJob, history_id: int, tasks: list[SyncTask]) -> None:
        self.tasks = [replace(t) for t in tasks]  # what ran, as it was configured then
        final = "Failed" if any(t.outcome.lower() in ("failed", "error") for t in self.tasks) else "Successful"
        life = Life([("Starting", job.starting), ("Testing", job.testing),
                     (job.running_word, sum(t.seconds for t in self.tasks))], final,
                    vanish_after=job.vanish_after)
        super().__init__(str(job.job_id), life, str(history_id))
        self.site = site
        self.job = job
        self.history_id = history_id

    @property
    def tasks_begin(self) -> float:
        return self.job.starting + self.job.testing

    def task_states(self) -> list[dict[str, Any]]:
        """Each task's status, records and message at this moment."""
        word, _, finished = self.state()
        if self.stopped_at is not None:
            elapsed = self.elapsed(self.stopped_at)
        else:
            elapsed = float("inf") if finished else self.elapsed()
        begin = self.tasks_begin
        out = []
        for task in self.tasks:
            end = begin + task.seconds
            item: dict[str, Any] = {"task_id": task.task_id, "query": task.query, "table": _table(task.query),
                                    "records_affected": 0, "message": None,
                                    "run_start_date": None, "run_end_date": None}
            if elapsed >= end:
                failed = task.outcome.lower() in ("failed", "error")
                item.update(status=task.outcome, records_affected=0 if failed else task.records,
                            message=task.message or (f"Task failed: {task.query}" if failed else None))
                item["run_start_date"] = self.site.iso_at(self.created + begin)
                item["run_end_date"] = self.site.iso_at(self.created + end)
            elif self.stopped_state is not None:
                item.update(status="Cancelled", message="Cancelled by user request")
            elif elapsed >= begin and word == self.job.running_word:
                item.update(status="In progress", run_start_date=self.site.iso_at(self.created + begin))
            else:
                item["status"] = "Queued"
            out.append(item)
            begin = end
        return out

    def entry(self, with_tasks: bool = True) -> dict[str, Any]:
        """The run as a history entry."""
        word, _, done = self.state()
        tasks = self.task_states()
        failed = [t for t in tasks if str(t["status"]).lower() in ("failed", "error")]
        body: dict[str, Any] = {
            "id": self.history_id,
            "job_id": self.job.job_id,
            "job_name": self.job.name,
            "status": word,
            "run_start_date": self.site.iso_at(self.created),
            "run_end_date": self.site.iso_at(self.ended_at) if done else None,
            "records_affected": sum(t["records_affected"] for t in tasks),
            "message": (f"{len(failed)} of {len(tasks)} tasks failed" if failed and done else
                        "Cancelled by user request" if word == "Cancelled" else None),
        }
        if with_tasks:
            body["tasks"] = tasks
        return body


class _Refusal(Exception):
    """An error answer raised from a helper (unknown job or task, bad body): the route returns it."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


class Site:
    """The CData Sync site: workspaces, jobs, tasks, runs and their history."""

    vendor = "cdata_sync"

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.reset()

    def reset(self) -> None:
        self.tokens = {USER: TOKEN}
        self.workspaces: set[str] = {"default"}
        self.jobs: dict[int, SyncJob] = {}
        self.runs: list[SyncRun] = []
        self._job_ids = itertools.count(FIRST_JOB_ID)
        self._task_ids = itertools.count(FIRST_TASK_ID)
        self._history_ids = itertools.count(FIRST_HISTORY_ID)
        #: Seconds the server's clock is ahead of ours (negative: behind). Shows in times and the Date header.
        self.clock_offset = 0.0
        #: Quirks of some servers: history entries only once a run ended; no history id in the status;
        #: an empty Date header.
        self.history_when_finished = False
        self.status_without_history_id = False
        self.send_date_header = True
        #: "v2": both APIs (as Sync 25+); "v1": only the v1 routes (as 24.x and before), v2 routes answer 404.
        self.api_version = "v2"
        #: Seconds a new run stays out of the history and the status (a slow server's lag).
        self.visibility_lag = 0.0
        #: Every request body the site received: (method, path, parsed JSON or None).
        self.bodies: list[tuple[str, str, Any]] = []

    def expire_credentials(self) -> None:
        """Auth tokens are static: nothing expires."""

    def connection(self, base_url: str) -> dict[str, Any]:
        return {"conn_type": "cdata_sync", "host": f"{base_url}/api.rsc", "login": USER, "password": TOKEN,
                "extra": {}}

    def now(self) -> float:
        """The server's clock."""
        return time.time() + self.clock_offset

    def iso_at(self, local_epoch: float | None) -> str | None:
        return iso(None if local_epoch is None else local_epoch + self.clock_offset)

    # -- Python API for tests and the demo ----------------------------------------------------------------
    def add_job(
        self,
        name: str,
        tasks: Sequence[str | dict[str, Any]] = ("REPLICATE [Accounts]",),
        *,
        workspace: str = "default",
        job_type: str = "Standard",
        starting: float = 0.05,
        testing: float = 0.05,
        **settings: Any,
    ) -> SyncJob:
        """A job whose tasks are queries, or dicts with query, seconds, outcome, records, message, is_active."""
        self.workspaces.add(workspace)
        job = SyncJob(next(self._job_ids), name, workspace, job_type, settings=dict(settings),
                      starting=starting, testing=testing)
        for spec in tasks:
            job.tasks.append(self.make_task(spec))
        self.jobs[job.job_id] = job
        return job

    def make_task(self, spec: str | dict[str, Any]) -> SyncTask:
        if isinstance(spec, str):
            spec = {"query": spec}
        return SyncTask(next(self._task_ids), spec["query"], bool(spec.get("is_active", True)),
                        float(spec.get("seconds", 0.1)), spec.get("outcome", "Successful"),
                        int(spec.get("records", 10)), spec.get("message"))

    def admin_add_job(self, job: dict[str, Any]) -> dict[str, Any]:
        added = self.add_job(job["name"], job.get("tasks") or ["REPLICATE [Accounts]"],
                             workspace=job.get("workspace", "default"))
        return {"job_id": str(added.job_id), "name": added.name,
                "task_ids": [str(t.task_id) for t in added.tasks]}

    def job_named(self, name: str) -> SyncJob:
        return next(j for j in self.jobs.values() if j.name == name)

    def runs_of(self, job: SyncJob) -> list[SyncRun]:
        return [r for r in self.runs if r.job is job]

    def active_run(self, job: SyncJob) -> SyncRun | None:
        return next((r for r in self.runs_of(job) if not r.finished), None)

    def start(self, job: SyncJob, tasks: list[SyncTask] | None = None) -> SyncRun:
        """Run a job as someone else would (the scheduler, a user in the console)."""
        chosen = tasks if tasks is not None else [t for t in job.tasks if t.is_active]
        run = SyncRun(self, job, next(self._history_ids), chosen)
        self.runs.append(run)
        return run

    # -- HTTP -----------------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        app.on_response_prepare.append(self._server_clock)
        r = app.router
        v2 = "/api.rsc/v2"
        r.add_get(v2 + "/workspaces/{ws}/jobs", self._answered(self.list_jobs))
        r.add_post(v2 + "/workspaces/{ws}/jobs", self._answered(self.create_job))
        r.add_put(v2 + "/jobs/{job}", self._answered(self.update_job))
        r.add_delete(v2 + "/jobs/{job}", self._answered(self.delete_job))
        r.add_post(v2 + "/jobs/{job}/execute", self._answered(self.execute))
        r.add_post(v2 + "/jobs/{job}/cancel", self._answered(self.cancel))
        r.add_get(v2 + "/jobs/{job}/status", self._answered(self.status))
        r.add_get(v2 + "/jobs/{job}/history", self._answered(self.history))
        r.add_get(v2 + "/jobs/{job}/history/{hid}", self._answered(self.history_entry))
        r.add_get(v2 + "/jobs/{job}/tasks/last-run", self._answered(self.tasks_last_run))
        r.add_get(v2 + "/jobs/{job}/tasks", self._answered(self.list_tasks))
        r.add_post(v2 + "/jobs/{job}/tasks", self._answered(self.add_task))
        r.add_get(v2 + "/jobs/{job}/tasks/{task}", self._answered(self.get_task))
        r.add_put(v2 + "/jobs/{job}/tasks/{task}", self._answered(self.update_task))
        r.add_delete(v2 + "/jobs/{job}/tasks/{task}", self._answered(self.delete_task))
        r.add_post(v2 + "/jobs/{job}/tasks/{task}/move", self._answered(self.move_task))
        r.add_get(v2 + "/jobs/{job}/tasks/{task}/history", self._answered(self.task_history))
        v1 = "/api.rsc"
        r.add_get(v1 + "/jobs", self._answered(self.v1_jobs, v2=False))
        r.add_post(v1 + "/executeJob", self._answered(self.v1_execute, v2=False))
        r.add_post(v1 + "/cancelJob", self._answered(self.v1_cancel, v2=False))
        r.add_post(v1 + "/getJobStatus", self._answered(self.v1_status, v2=False))
        r.add_get(v1 + "/history", self._answered(self.v1_history, v2=False))

    async def _server_clock(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Date"] = formatdate(self.now(), usegmt=True) if self.send_date_header else ""

    # -- helpers ---------------------------------------------------------------------------------------------
    def _authorised(self, request: web.Request) -> bool:
        token = request.headers.get("x-cdata-authtoken")
        if token is not None:
            return token in self.tokens.values()
        basic = decoded_authorization(request)
        if basic is None:
            return False
        user, _, secret = basic.partition(":")
        return self.tokens.get(user) == secret

    @staticmethod
    def _error(status: int, code: str, message: str) -> web.Response:
        return json_response({"error": {"code": code, "message": message}}, status=status)

    def _deny(self) -> web.Response:
        return self._error(401, "UNAUTHORIZED", "Authentication failed: the auth token is missing or invalid.")

    def _job(self, request: web.Request) -> SyncJob:
        raw = request.match_info["job"]
        job = self.jobs.get(int(raw)) if raw.isdigit() else None
        if job is None:
            raise _Refusal(self._error(404, "JOB_NOT_FOUND", f"Job '{raw}' was not found."))
        return job

    def _task(self, job: SyncJob, raw: str) -> SyncTask:
        task = next((t for t in job.tasks if str(t.task_id) == raw), None)
        if task is None:
            raise _Refusal(self._error(404, "TASK_NOT_FOUND", f"Task '{raw}' was not found in job '{job.name}'."))
        return task

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if not request.body_exists:
            return {}
        try:
            body = json.loads(await request.text() or "{}")
        except ValueError:
            raise _Refusal(Site._error(400, "INVALID_REQUEST", "The request body is not valid JSON.")) from None
        if not isinstance(body, dict):
            raise _Refusal(Site._error(400, "INVALID_REQUEST", "The request body must be a JSON object."))
        return body

    def _answered(self, handler: Callable[[web.Request], Awaitable[web.Response]], v2: bool = True) -> Any:
        """A route's handler behind the auth check, answering a _Refusal with its error response (a v2 route
        answers 404 while the site plays a v1-only server)."""

        async def answer(request: web.Request) -> web.Response:
            if request.body_exists:
                raw = await request.text()
                try:
                    parsed = json.loads(raw) if raw.strip() else None
                except ValueError:
                    parsed = raw
                self.bodies.append((request.method, request.path.removeprefix("/cdata_sync"), parsed))
            if v2 and self.api_version == "v1":
                return self._error(404, "NOT_FOUND", f"The resource '{request.path}' was not found.")
            if not self._authorised(request):
                return self._deny()
            try:
                return await handler(request)
            except _Refusal as refusal:
                return refusal.response

        return answer

    def _running(self, job: SyncJob, doing: str) -> web.Response:
        return self._error(409, "JOB_RUNNING", f"Cannot {doing} job '{job.name}' while it is running.")

    def _visible(self, run: SyncRun) -> bool:
        return (not self.history_when_finished or run.finished) and not run.vanished() and self._shown(run)

    def _shown(self, run: SyncRun) -> bool:
        """Past the visibility lag (a new run shows nowhere before)."""
        return time.time() - run.created >= self.visibility_lag

    # -- jobs ----------------------------------------------------------------------------------------------------
    async def list_jobs(self, request: web.Request) -> web.Response:
        ws = request.match_info["ws"]
        if ws not in self.workspaces:
            return self._error(404, "WORKSPACE_NOT_FOUND", f"Workspace '{ws}' was not found.")
        return json_response({"value": [j.to_json() for j in self.jobs.values() if j.workspace == ws]})

    async def create_job(self, request: web.Request) -> web.Response:
        ws = request.match_info["ws"]
        if ws not in self.workspaces:
            return self._error(404, "WORKSPACE_NOT_FOUND", f"Workspace '{ws}' was not found.")
        body = await self._body(request)
        name = str(body.pop("name", "") or "").strip()
        job_type = str(body.pop("type", "Standard"))
        if not name:
            return self._error(400, "INVALID_REQUEST", "The job name is required.")
        if job_type not in JOB_TYPES:
            return self._error(400, "INVALID_REQUEST", f"Unknown job type '{job_type}'.")
        if any(j.name.lower() == name.lower() for j in self.jobs.values()):
            return self._error(400, "JOB_EXISTS", f"A job named '{name}' already exists.")
        queries = body.pop("queries", None) or []
        if not isinstance(queries, list) or not all(isinstance(q, str) and q.strip() for q in queries):
            return self._error(400, "INVALID_REQUEST", "queries must be a list of query strings.")
        job = self.add_job(name, queries, workspace=ws, job_type=job_type)
        job.settings.update(body)
        return json_response(job.to_json(), status=201)

    async def update_job(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if self.active_run(job):
            return self._running(job, "update")
        body = await self._body(request)
        if "name" in body:
            job.name = str(body.pop("name"))
        body.pop("id", None)
        job.settings.update(body)
        return json_response(job.to_json())

    async def delete_job(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if self.active_run(job):
            return self._running(job, "delete")
        del self.jobs[job.job_id]
        return web.Response(status=204)

    # -- runs --------------------------------------------------------------------------------------------------
    async def execute(self, request: web.Request) -> web.Response:
        job = self._job(request)
        body = await self._body(request)
        if self.active_run(job):
            return self._error(409, "JOB_RUNNING", f"Job '{job.name}' is already running.")
        wanted = body.get("tasks")
        if wanted is None:
            chosen = [t for t in job.tasks if t.is_active]
        else:
            if not isinstance(wanted, list) or not wanted:
                return self._error(400, "INVALID_REQUEST", "tasks must be a non-empty list of task ids.")
            chosen = []
            for raw in wanted:
                task = self._task(job, str(raw))
                chosen.append(task)
            chosen.sort(key=job.tasks.index)
        if not chosen:
            return self._error(400, "NO_TASKS", f"Job '{job.name}' has no active tasks to run.")
        self.start(job, chosen)
        return json_response({"job_id": job.job_id, "job_name": job.name, "status": "Starting"})

    async def cancel(self, request: web.Request) -> web.Response:
        job = self._job(request)
        run = self.active_run(job)
        if run is None:
            return self._error(400, "JOB_NOT_RUNNING", f"Job '{job.name}' is not running.")
        run.stop("Cancelled")
        return json_response({"job_id": job.job_id, "status": "Cancelled"})

    async def status(self, request: web.Request) -> web.Response:
        job = self._job(request)
        runs = [r for r in self.runs_of(job) if not r.vanished() and self._shown(r)]
        if not runs:
            return json_response({"job_id": job.job_id, "job_name": job.name, "status": "IDLE"})
        run = runs[-1]
        word = run.state()[0]
        body = {"job_id": job.job_id, "job_name": job.name, "status": STATUS_WORDS.get(word, word.upper()),
                "history_id": run.history_id, "run_start_date": self.iso_at(run.created),
                "tasks": run.task_states()}
        if self.status_without_history_id:
            del body["history_id"]
        return json_response(body)

    async def history(self, request: web.Request) -> web.Response:
        job = self._job(request)
        entries = [r.entry(with_tasks=False) for r in reversed(self.runs_of(job)) if self._visible(r)]
        return json_response({"value": entries})

    async def history_entry(self, request: web.Request) -> web.Response:
        job = self._job(request)
        raw = request.match_info["hid"]
        run = next((r for r in self.runs_of(job) if str(r.history_id) == raw and self._visible(r)), None)
        if run is None:
            return self._error(404, "HISTORY_NOT_FOUND", f"History '{raw}' of job '{job.name}' was not found.")
        return json_response(run.entry())

    # -- API v1 ---------------------------------------------------------------------------------------------------
    def _v1_job(self, body: dict[str, Any]) -> SyncJob:
        """The job a v1 body names by JobId or JobName (400 when it names none, 404 when unknown)."""
        job_id, name = body.get("JobId"), body.get("JobName")
        if job_id in (None, "") and name in (None, ""):
            raise _Refusal(self._error(400, "INVALID_REQUEST", "JobName or JobId is required."))
        if job_id not in (None, ""):
            job = self.jobs.get(int(job_id)) if str(job_id).isdigit() else None
        else:
            job = next((j for j in self.jobs.values() if j.name == name), None)
        if job is None:
            raise _Refusal(self._error(404, "JOB_NOT_FOUND", f"Job '{name or job_id}' was not found."))
        return job

    def v1_entry(self, run: SyncRun) -> dict[str, Any]:
        """A run as a v1 history row: Id, JobId, JobName, RunStartDate, Status, Details, Runtime, RecordsAffected."""
        word, _, done = run.state()
        end = run.ended_at if done else None
        tasks = run.task_states()
        failed = [t for t in tasks if str(t["status"]).lower() in ("failed", "error")]
        details = ("; ".join(str(t["message"]) for t in failed) if failed and done else
                   "Cancelled by user request" if word == "Cancelled" else "Completed" if done else "Running")
        return {"Id": run.history_id, "JobId": str(run.job.job_id), "JobName": run.job.name,
                "RunStartDate": self.iso_at(run.created), "Status": STATUS_WORDS.get(word, word.upper()),
                "Details": details, "Runtime": int(((end or time.time()) - run.created) * 1000),
                "RecordsAffected": sum(t["records_affected"] for t in tasks)}

    @staticmethod
    def _odata(value: Any) -> dict[str, Any]:
        return {"@odata.context": "/api.rsc/$metadata#Collection(CData.Sync)", "value": value}

    async def v1_jobs(self, request: web.Request) -> web.Response:
        ws = request.query.get("workspaceId", "default")
        return json_response(self._odata([{"JobId": str(j.job_id), "JobName": j.name, "Type": j.job_type,
                                           "Scheduled": "false"} for j in self.jobs.values() if j.workspace == ws]))

    async def v1_execute(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        job = self._v1_job(body)
        if self.active_run(job):
            return self._error(409, "JOB_RUNNING", f"Job '{job.name}' is already running.")
        chosen = [t for t in job.tasks if t.is_active]
        if not chosen:
            return self._error(400, "NO_TASKS", f"Job '{job.name}' has no active tasks to run.")
        run = self.start(job, chosen)
        if str(body.get("WaitForResults", "true")).lower() != "false":  # the documented default: wait
            limit = float(body.get("Timeout") or 0) or None
            remaining = max(0.0, run.created + run.life.total() - time.time())
            await asyncio.sleep(min(remaining, limit) if limit else remaining)
            rows = [{"JobName": job.name, "Query": t["query"],
                     "Status": STATUS_WORDS.get(str(t["status"]), str(t["status"]).upper()),
                     "Result": t["message"], "Detail": f"{t['records_affected']} records affected",
                     "RunStartDate": self.iso_at(run.created)} for t in run.task_states()]
            return json_response(self._odata(rows))
        return json_response(self._odata([{"JobName": job.name, "Query": None, "Status": "RUNNING", "Result": None,
                                           "Detail": "The job was started.",
                                           "RunStartDate": self.iso_at(run.created)}]))

    async def v1_cancel(self, request: web.Request) -> web.Response:
        job = self._v1_job(await self._body(request))
        run = self.active_run(job)
        if run is None:
            return self._error(400, "JOB_NOT_RUNNING", f"Job '{job.name}' is not running.")
        run.stop("Cancelled")
        return json_response(self._odata([{"JobName": job.name, "Status": "CANCELLED"}]))

    async def v1_status(self, request: web.Request) -> web.Response:
        job = self._v1_job(await self._body(request))
        runs = [r for r in self.runs_of(job) if not r.vanished() and self._shown(r)]
        word = STATUS_WORDS.get(runs[-1].state()[0], runs[-1].state()[0].upper()) if runs else "IDLE"
        return json_response({"JobId": str(job.job_id), "JobName": job.name, "Status": word,
                              "Detail": self.v1_entry(runs[-1])["Details"] if runs else "Never run"})

    async def v1_history(self, request: web.Request) -> web.Response:
        rows = [self.v1_entry(r) for r in self.runs if self._visible(r)]
        try:
            rows = [r for r in rows if _odata_match(r, request.query.get("$filter", ""))]
            order = request.query.get("$orderby", "").split()
            if order:
                key = _field(rows[0], order[0]) if rows else order[0]
                descending = len(order) > 1 and order[1].lower() == "desc"
                rows.sort(key=lambda r: (r[key] is None, r[key], r["Id"]), reverse=descending)
            top = request.query.get("$top")
            if top is not None:
                rows = rows[: int(top)]
        except (ValueError, KeyError) as exc:
            return self._error(400, "INVALID_QUERY", f"The OData query cannot be read: {exc}")
        return json_response(self._odata(rows))

    # -- tasks -------------------------------------------------------------------------------------------------
    async def list_tasks(self, request: web.Request) -> web.Response:
        job = self._job(request)
        return json_response([t.to_json(job) for t in job.tasks])

    async def get_task(self, request: web.Request) -> web.Response:
        job = self._job(request)
        task = self._task(job, request.match_info["task"])
        return json_response(task.to_json(job))

    async def add_task(self, request: web.Request) -> web.Response:
        job = self._job(request)
        body = await self._body(request)
        query = str(body.get("query") or "").strip()
        if not query:
            return self._error(400, "INVALID_REQUEST", "The task query is required.")
        task = self.make_task({"query": query, "is_active": body.get("is_active", True)})
        job.tasks.append(task)
        return json_response(task.to_json(job), status=201)

    async def update_task(self, request: web.Request) -> web.Response:
        job = self._job(request)
        task = self._task(job, request.match_info["task"])
        body = await self._body(request)
        if "query" in body:
            if not str(body["query"] or "").strip():
                return self._error(400, "INVALID_REQUEST", "The task query cannot be empty.")
            task.query = str(body["query"])
        if "is_active" in body:
            task.is_active = bool(body["is_active"])
        if "index" in body:
            index = body["index"]
            if not isinstance(index, int) or not 0 <= index < len(job.tasks):
                return self._error(400, "INVALID_REQUEST", f"index {index!r} is out of range.")
            job.tasks.remove(task)
            job.tasks.insert(index, task)
        return json_response(task.to_json(job))

    async def delete_task(self, request: web.Request) -> web.Response:
        job = self._job(request)
        task = self._task(job, request.match_info["task"])
        run = self.active_run(job)
        if run is not None and any(t["task_id"] == task.task_id and t["status"] == "In progress"
                                   for t in run.task_states()):
            return self._error(409, "TASK_RUNNING", f"Cannot delete task '{task.task_id}' while it is running.")
        job.tasks.remove(task)
        return web.Response(status=204)

    async def move_task(self, request: web.Request) -> web.Response:
        job = self._job(request)
        task = self._task(job, request.match_info["task"])
        body = await self._body(request)
        source, target = body.get("from_index"), body.get("to_index")
        if source != job.tasks.index(task):
            return self._error(400, "INVALID_REQUEST",
                               f"from_index {source!r} is not the task's index {job.tasks.index(task)}.")
        if not isinstance(target, int) or not 0 <= target < len(job.tasks):
            return self._error(400, "INVALID_REQUEST", f"to_index {target!r} is out of range.")
        job.tasks.remove(task)
        job.tasks.insert(target, task)
        return json_response([t.to_json(job) for t in job.tasks])

    async def tasks_last_run(self, request: web.Request) -> web.Response:
        job = self._job(request)
        last: dict[int, dict[str, Any]] = {}
        for run in self.runs_of(job):
            for item in run.task_states():
                last[item["task_id"]] = {**item, "history_id": run.history_id}
        return json_response([last[t.task_id] for t in job.tasks if t.task_id in last])

    async def task_history(self, request: web.Request) -> web.Response:
        job = self._job(request)
        task = self._task(job, request.match_info["task"])
        items = [{**item, "history_id": run.history_id} for run in reversed(self.runs_of(job)) if self._visible(run)
                 for item in run.task_states() if item["task_id"] == task.task_id]
        return json_response(items)


_CONDITION = re.compile(r"^\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+('(?:[^']|'')*'|-?\d+(?:\.\d+)?)\s*$", re.I)


def _field(row: dict[str, Any], name: str) -> str:
    """The key of `row` called `name` without regard to case (OData names as the docs write them: runstartdate)."""
    for key in row:
        if key.lower() == name.lower():
            return key
    raise KeyError(f"unknown property {name!r}")


def _odata_match(row: dict[str, Any], expression: str) -> bool:
    """`row` passes a $filter of conditions joined by 'and' (Field op 'text' | number)."""
    if not expression.strip():
        return True
    for part in re.split(r"\s+and\s+", expression.strip(), flags=re.I):
        match = _CONDITION.match(part)
        if match is None:
            raise ValueError(f"unsupported condition {part!r}")
        name, op, literal = match.groups()
        value = row[_field(row, name)]
        if literal.startswith("'"):
            wanted: Any = literal[1:-1].replace("''", "'")
            value = "" if value is None else str(value)
        else:
            wanted = float(literal)
            value = float(value) if value is not None else float("nan")
        ok = {"eq": value == wanted, "ne": value != wanted, "gt": value > wanted, "ge": value >= wanted,
              "lt": value < wanted, "le": value <= wanted}[op.lower()]
        if not ok:
            return False
    return True


def _table(query: str) -> str | None:
    """The table a REPLICATE query writes: 'REPLICATE [Accounts] SELECT ...' -> 'Accounts'."""
    words = query.split()
    if len(words) >= 2 and words[0].upper() == "REPLICATE":
        return words[1].strip("[]\"`")
    return None


def load_demo_jobs(site: Site) -> None:
    """The job example_dags/cdata_sync.py runs: three tasks, about two seconds in all."""
    site.add_job("Salesforce to Snowflake", [
        {"query": "REPLICATE [Accounts] SELECT * FROM [Accounts]", "seconds": 0.6, "records": 120},
        {"query": "REPLICATE [Contacts] SELECT * FROM [Contacts]", "seconds": 0.6, "records": 340},
        {"query": "REPLICATE [Opportunities] SELECT * FROM [Opportunities]", "seconds": 0.6, "records": 57},
    ])
