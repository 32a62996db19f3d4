"""Wood NEXUS IC's IC-Web REST API, simulated (mounted at /nexus_ic/: /icweb.dll and /data/icweb.dll).

It behaves like one IC-Web server of one version (`site.version`): up to 6.8 the login is a GET and
a job is read with `jobStatus?id=` (there is no job listing: `jobStatus` without an id is a 404); from
6.9 the login is a POST, a job is read with `jobStatus/{id}`, `jobStatus` without an id (or with a
`?id=`, which 6.9 ignores) lists the user's jobs, and `jobDismiss/{id}` dismisses a finished one.
Every call but the login needs `?hash=`; a hash unused for `idle_timeout` seconds is dropped (401).
Errors are plain text, as on the real server. `Report_Template` rows are keyed `RT_ID`; a report start
takes its parameters as the documented `Parameter[]` (`[{"parameterName", "value"}]`) and answers
400 naming the problem otherwise. `listing_lag` hides a new job from the listing for that long.
The bodies of report starts and the X-NEXUS-Filter headers are recorded (`report_bodies`,
`bo_filters`) for the contract tests.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web

from airflow_provider_jobs.sandbox.core import (
    Life,
    SandboxState,
    SimRun,
    decoded_authorization,
    json_response,
    session_user,
)

USER = "inspector"
PASSWORD = "nexus-sandbox-password"
API_KEY = "nexus-sandbox-api-key-0123456789"
USER_ID = 4
DEFAULT_VERSION = "6.9"
PREFIXES = ("/icweb.dll", "/data/icweb.dll")
CONTENT_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "rtf": "application/rtf",
    "pdf": "application/pdf",
}
NOT_FOUND = "Job identified by id was not found."


def _version(text: str) -> tuple[int, int]:
    major, _, minor = str(text).partition(".")
    return int(major), int((minor.split(".") or ["0"])[0] or 0)


def _clock(epoch: float | None) -> str | None:
    return None if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(epoch))


def _text(body: str, status: int) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/plain")


@dataclass
class ReportTemplate:
    key: int
    name: str
    life: Life
    content: bytes | None = None
    content_type: str | None = None
    file_name: str | None = None
    no_content: bool = False
    percent_scale: float = 1.0
    total_rows: int = 100
    failure: str = "Report generation failed: the template's query timed out"
    extra_fields: dict[str, Any] = field(default_factory=dict)


class ServerJob(SimRun):
    """One server job (a report, or an import started elsewhere)."""

    def __init__(self, life: Life, *, kind: str, template: ReportTemplate | None = None,
                 output_type: str = "json", parameters: dict[str, Any] | None = None) -> None:
        super().__init__(str(template.key) if template else kind, life,
                         "{" + str(uuid.uuid4()).upper() + "}")
        self.kind = kind
        self.template = template
        self.output_type = output_type
        self.parameters = dict(parameters or {})
        self.dismissed = False

    def status(self) -> tuple[int, float, bool]:
        code, progress, done = self.state()
        return int(code), progress, done


class Site:
    """The NEXUS IC site: users, login hashes, report templates, server jobs and their content."""

    vendor = "nexus_ic"

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.reset()

    def reset(self) -> None:
        self.version = DEFAULT_VERSION
        self.idle_timeout = 600.0
        self.saas = True
        self.users = {USER: PASSWORD}
        self.api_keys = {API_KEY: USER}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.issued_hashes: list[str] = []
        self.logins = 0
        self.templates: dict[int, ReportTemplate] = {}
        self.jobs: dict[str, ServerJob] = {}
        self._keys = itertools.count(7)
        #: Seconds a new job stays out of the job listing (as if the listing were refreshed late).
        self.listing_lag = 0.0
        self.report_bodies: list[Any] = []
        #: Statuses the next report starts answer AFTER making their job (a gateway's 502/504).
        self.statuses_after_start: list[int] = []
        self.bo_filters: list[str | None] = []

    def expire_credentials(self) -> None:
        """Drop every login hash (as the server does after 10 idle minutes)."""
        self.sessions.clear()

    def connection(self, base_url: str) -> dict[str, Any]:
        return {"conn_type": "nexus_ic", "host": f"{base_url}/icweb.dll", "login": USER, "password": PASSWORD,
                "extra": {"api_version": self.version, "auth_type": "basic"}}

    # -- Python API for tests and the demo ------------------------------------------------------
    @property
    def post_login(self) -> bool:
        return _version(self.version) >= (6, 9)

    def add_template(
        self,
        name: str,
        *,
        final: str = "4",
        waiting: float = 0.05,
        starting: float = 0.05,
        running: float = 0.3,
        steps: list[tuple[str, float]] | None = None,
        content: bytes | str | None = None,
        content_type: str | None = None,
        file_name: str | None = None,
        no_content: bool = False,
        percent_scale: float = 1.0,
        failure: str | None = None,
        key: int | None = None,
    ) -> ReportTemplate:
        """A report template; its jobs follow `steps` of (status code, seconds), then `final`."""
        life = Life(steps or [("1", waiting), ("2", starting), ("3", running)], str(final),
                    progress_states=("3",), extra={"paused_state": "6"})
        template = ReportTemplate(
            key if key is not None else next(self._keys), name, life,
            content.encode() if isinstance(content, str) else content, content_type, file_name, no_content,
            percent_scale,
        )
        if failure:
            template.failure = failure
        self.templates[template.key] = template
        return template

    def add_job(self, *, kind: str = "import", final: str = "4", running: float = 0.3,
                steps: list[tuple[str, float]] | None = None) -> ServerJob:
        """A server job started elsewhere (e.g. an import): for sensors."""
        life = Life(steps or [("1", 0.05), ("3", running)], str(final), progress_states=("3",),
                    extra={"paused_state": "6"})
        job = ServerJob(life, kind=kind)
        self.jobs[job.run_id] = job
        return job

    def admin_add_job(self, job: dict[str, Any]) -> dict[str, Any]:
        steps = [tuple(s) for s in job["steps"]] if job.get("steps") else None
        if job.get("kind", "report") != "report":
            made = self.add_job(kind=job["kind"], final=str(job.get("final", "4")), steps=steps,
                                running=float(job.get("running", 0.3)))
            return {"job_id": made.run_id}
        template = self.add_template(job["name"], final=str(job.get("final", "4")), steps=steps,
                                     running=float(job.get("running", 0.3)), content=job.get("content"),
                                     content_type=job.get("content_type"), file_name=job.get("file_name"))
        return {"template_id": template.key, "name": template.name}

    def fail_after_start(self, status: int = 502, times: int = 1) -> None:
        """The next `times` report starts make their job, then answer `status` (as a gateway that gave up
        waiting for IC-Web would)."""
        self.statuses_after_start.extend([status] * times)

    def pause(self, job_id: str) -> None:
        self.jobs[job_id].pause()

    def resume(self, job_id: str) -> None:
        self.jobs[job_id].resume()

    def starts(self) -> int:
        """How many report jobs were started through the API."""
        return sum(1 for j in self.jobs.values() if j.kind == "report")

    def content_of(self, job: ServerJob) -> tuple[bytes, str, str] | None:
        """(bytes, content type, file name) of a completed job, None when it has no content."""
        t = job.template
        if t is None or t.no_content:
            return None
        out = job.output_type
        ctype = t.content_type or CONTENT_TYPES[out]
        name = t.file_name or f"{t.name}.{out}"
        if t.content is not None:
            return t.content, ctype, name
        if out == "json":
            body = {"elements": [
                {"type": "table", "caption": t.name, "data": {
                    "sourceBusinessObject": "Task",
                    "columns": [{"caption": "Asset"}, {"caption": "Event Type"}, {"caption": "Workpack"}],
                    "rows": [{"sourceKey": 1, "cells": [{"value": "Test Asset"}, {"value": "GVI"},
                                                        {"value": "Workpack A"}]}]}},
                {"type": "paragraph",
                 "data": {"text": [{"value": json.dumps(job.parameters, sort_keys=True)}]}},
            ]}
            return json.dumps(body).encode(), ctype, name
        if out == "html":
            return f"<html><body><h1>{t.name}</h1></body></html>".encode(), ctype, name
        if out == "rtf":
            return ("{\\rtf1\\ansi " + t.name + "\\par}").encode(), ctype, name
        if out == "pdf":
            return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + t.name.encode() + b"\n%%EOF\n", ctype, name
        return b"PK\x03\x04" + bytes(range(256)) + t.name.encode(), ctype, name

    # -- HTTP ---------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        r = app.router
        for p in PREFIXES:
            r.add_route("*", f"{p}/security/login", self.login)
            r.add_get(f"{p}/license", self.license)
            r.add_get(f"{p}/bo/{{table}}", self.bo_rows)
            r.add_get(f"{p}/bo/{{table}}/", self.bo_rows)
            r.add_post(f"{p}/report/", self.start_report)
            r.add_post(f"{p}/report", self.start_report)
            r.add_get(f"{p}/jobStatus", self.job_status_query)
            r.add_get(f"{p}/jobStatus/", self.job_status_query)
            r.add_get(f"{p}/jobStatus/{{job_id:[^/]+}}", self.job_status_path)
            r.add_get(f"{p}/jobContent", self.job_content)
            r.add_route("*", f"{p}/jobDismiss/{{job_id:[^/]+}}", self.job_dismiss)

    def _user(self, request: web.Request) -> str | None:
        return session_user(self.sessions, request.query.get("hash"), self.idle_timeout)

    @staticmethod
    def _deny() -> web.Response:
        return _text("Invalid or expired security hash; log in again.", 401)

    async def login(self, request: web.Request) -> web.Response:
        wanted = "POST" if self.post_login else "GET"
        if request.method != wanted:
            return _text(f"Method {request.method} not allowed", 405)
        user = None
        basic, api_key = decoded_authorization(request), decoded_authorization(request, "apikey")
        if basic is not None:
            name, _, password = basic.partition(":")
            user = name if self.users.get(name) == password else None
        elif api_key is not None:
            user = self.api_keys.get(api_key)
        if user is None:
            return _text("An attempt was made to validate an invalid token/apiKey/username and password.",
                         401)
        token = secrets.token_hex(50).upper()
        self.sessions[token] = {"user": user, "last_used": time.time()}
        self.issued_hashes.append(token)
        self.logins += 1
        body = {"hash": token, "id": USER_ID, "username": user, "license": "write"}
        if _version(self.version) >= (6, 6):
            body["allowPasswordChange"] = False
        return json_response(body)

    async def license(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return self._deny()
        return json_response({"name": "NEXUS IC", "edition": "hosted" if self.saas else "on premises",
                              "saas": self.saas, "expiry": "2027-12-31"})

    async def bo_rows(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return self._deny()
        if request.match_info["table"] != "Report_Template":
            return _text(f"Business object {request.match_info['table']} does not exist", 404)
        rows = list(self.templates.values())
        raw = request.headers.get("X-NEXUS-Filter")
        self.bo_filters.append(raw)
        if raw:
            try:
                filters = json.loads(raw).get("where") or []
            except (ValueError, AttributeError):
                return _text("X-NEXUS-Filter is not a valid BusinessObjectFilters object", 400)
            for f in filters:
                if f.get("field") != "Name" or f.get("method", "eq") != "eq":
                    return _text(f"Unsupported filter {f!r}", 400)
                value = str(f.get("value", "")).lower()  # the database compares case-insensitively
                rows = [t for t in rows if t.name.lower() == value]
        data = [{"RT_ID": t.key, "Name": t.name, "Description": f"{t.name} report",
                 **t.extra_fields} for t in rows]
        return json_response({"stamp": uuid.uuid4().hex, "startRow": 0, "pageSize": 100,
                              "totalRows": len(data), "rows": data})

    async def start_report(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return self._deny()
        if not self.saas:
            return _text("Reports can only be generated by hosted SaaS clients", 403)
        try:
            body = await request.json()
        except ValueError:
            return _text("Request body is not JSON", 400)
        self.report_bodies.append(body)
        if not isinstance(body, dict):
            return _text("Request body is not a report request object", 400)
        key = body.get("reportTemplate")
        template = self.templates.get(key) if isinstance(key, int) else None
        if template is None:
            return _text(f"Report template {key} was not found", 404)
        output = body.get("outputType", "json")
        if output not in CONTENT_TYPES:
            return _text(f"Unknown outputType {output!r}", 400)
        parameters, problem = _parameters(body.get("parameters"))
        if problem:
            return _text(problem, 400)
        job = ServerJob(template.life, kind="report", template=template, output_type=output,
                        parameters=parameters)
        self.jobs[job.run_id] = job
        if self.statuses_after_start:
            status = self.statuses_after_start.pop(0)
            return web.Response(text=f"<html><body><h1>{status} Bad Gateway</h1></body></html>", status=status,
                                content_type="text/html")
        return json_response(self._server_job(job, with_clock=False))

    def _server_job(self, job: ServerJob, with_clock: bool) -> dict[str, Any]:
        code, progress, done = job.status()
        scale = job.template.percent_scale if job.template else 1.0
        total = job.template.total_rows if job.template else 100
        rows = int(total * progress / 100)
        if code == 5:
            percent = int(progress * 0.4)
            summary = job.template.failure if job.template else "Import failed: row 17 has no asset"
        else:
            percent = int(progress * scale)
            summary = {
                1: "Waiting to start",
                2: "Starting",
                3: f"{rows} of {total} rows processed",
                4: "Report generated in 00:00:01" if job.kind == "report" else f"{total} rows imported",
                6: f"Paused after {rows} of {total} rows",
            }.get(code, "Unavailable")
        body: dict[str, Any] = {"id": job.run_id, "percentComplete": percent, "summary": summary,
                                "status": code}
        if with_clock:
            body.update(startClock=_clock(job.created), endClock=_clock(job.ended_at) if done else False,
                        dismissed=job.dismissed, canDismiss=done and not job.dismissed)
        return body

    def _job(self, job_id: str | None) -> ServerJob | None:
        job = self.jobs.get(job_id or "")
        return None if job is None or job.vanished() else job

    def listed_jobs(self) -> list[ServerJob]:
        """The jobs the 6.9 listing shows now (a job younger than listing_lag is not in it yet)."""
        now = time.time()
        return [j for j in self.jobs.values() if not j.vanished() and now - j.created >= self.listing_lag]

    async def job_status_query(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return self._deny()
        if self.post_login:
            # 6.9+: without an id in the path, the answer is every job of the user (the query is ignored)
            return json_response({"jobs": [self._server_job(j, True) for j in self.listed_jobs()]})
        job = self._job(request.query.get("id"))
        if job is None:
            return _text(NOT_FOUND, 404)
        return json_response(self._server_job(job, with_clock=False))

    async def job_status_path(self, request: web.Request) -> web.Response:
        if not self.post_login:
            return _text("Not Found", 404)  # up to 6.8 there is no jobStatus/{id} route
        if self._user(request) is None:
            return self._deny()
        job = self._job(request.match_info["job_id"])
        if job is None:
            return _text(NOT_FOUND, 404)
        return json_response(self._server_job(job, with_clock=True))

    async def job_dismiss(self, request: web.Request) -> web.Response:
        if not self.post_login:
            return _text("Not Found", 404)  # jobDismiss exists from 6.9
        if self._user(request) is None:
            return self._deny()
        job = self._job(request.match_info["job_id"])
        if job is None:
            return _text(NOT_FOUND, 404)
        if not job.status()[2]:
            return _text(f"Job {job.run_id} cannot be dismissed until it has finished", 400)
        job.dismissed = True
        return json_response(self._server_job(job, with_clock=True))

    async def job_content(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return self._deny()
        job = self._job(request.query.get("id"))
        if job is None:
            return _text(NOT_FOUND, 404)
        code, _, done = job.status()
        if not done:
            return _text(f"Job {job.run_id} has not completed", 400)
        if code != 4:
            return _text(f"Job {job.run_id} failed and has no content", 400)
        content = self.content_of(job)
        if content is None:
            return web.Response(status=204)
        data, ctype, name = content
        try:
            name.encode("ascii")
            disposition = f'attachment;filename="{name}"'
        except UnicodeEncodeError:
            disposition = f"attachment;filename*=UTF-8''{quote(name)}"
        return web.Response(body=data, status=200, headers={"Content-Type": ctype,
                                                              "Content-Disposition": disposition})


def _parameters(value: Any) -> tuple[dict[str, Any], str | None]:
    """The documented Parameter[] as {name: value}, or the 400 text that names what is wrong with it."""
    if value is None:
        return {}, None
    if not isinstance(value, list):
        return {}, (f"parameters must be a Parameter[] array of {{parameterName, value}} objects, not "
                    f"{type(value).__name__}")
    out: dict[str, Any] = {}
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            return {}, f"parameters[{i}] is not a Parameter object"
        name = item.get("parameterName")
        if not isinstance(name, str) or not name:
            return {}, f"parameters[{i}] has no parameterName"
        if "value" not in item:
            return {}, f"parameters[{i}] ({name}) has no value"
        out[name] = item["value"]
    return out, None


def load_demo_jobs(site: Site) -> dict[str, Any]:
    """The report templates the example DAG (example_dags/nexus_ic.py) uses."""
    summary = site.add_template("Inspection Summary", waiting=0.2, starting=0.2, running=1.5)
    register = site.add_template("Anomaly Register", waiting=0.2, starting=0.2, running=2.0,
                                 file_name="Anomaly Register.xlsx")
    return {"Inspection Summary": summary.key, "Anomaly Register": register.key}
