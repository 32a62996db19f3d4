"""Datameer Spectrum's REST job commands, simulated (mounted at /spectrum/)."""

from __future__ import annotations

import itertools
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from airflow_provider_jobs.sandbox.core import Life, SandboxState, SimRun, decoded_authorization, json_response

USER = "airflow"
PASSWORD = "spectrum-sandbox-password"
SEQUENTIAL_PATH = "/api/job-execution/sequential-trigger"
NOT_ACCESSIBLE = "File doesn\u2019t exist or isn\u2019t accessible with current permissions"


def spectrum_time(epoch: float | None) -> str | None:
    """Spectrum's zone-less locale timestamps: 'Sep 28, 2018 6:44:56 PM'."""
    if epoch is None:
        return None
    t = time.localtime(epoch)
    hour = t.tm_hour % 12 or 12
    return time.strftime(f"%b %d, %Y {hour}:%M:%S %p", t)


@dataclass
class SpectrumFile:
    file_id: int
    path: str
    uuid: str
    configuration_id: int
    name: str
    life: Life
    downstream: list[int] = field(default_factory=list)
    data_id: int = 0
    data_state: str = "present"  # present | marked | gone
    success_count: int = 7
    failure_count: int = 0


class SpectrumRun(SimRun):
    """A run that may wait for a predecessor in a sequential plan."""

    def __init__(self, file: SpectrumFile, run_id: str, after: SpectrumRun | None = None, **attrs: Any):
        super().__init__(str(file.file_id), file.life, run_id, **attrs)
        self.file = file
        self.after = after
        self._anchored = after is None

    def state(self, now: float | None = None):
        if self.after is not None and not self._anchored and self.stopped_state is None:
            vendor_state, _, done = self.after.state(now)
            if not done:
                return "QUEUED", 0.0, False
            if vendor_state not in ("COMPLETED", "COMPLETED_WITH_WARNINGS"):
                self.stopped_state, self.stopped_at = "CANCELED", self.after.ended_at or time.time()
                return self.stopped_state, 0.0, True
            self.created = self.after.ended_at or time.time()
            self._anchored = True
        return super().state(now)


class Site:
    """The Spectrum site: files (workbooks, import jobs), their runs, and the job commands."""

    vendor = "spectrum"

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.sequential_path = SEQUENTIAL_PATH
        self.reset()

    def reset(self) -> None:
        self.users = {USER: PASSWORD}
        self.files: dict[int, SpectrumFile] = {}
        self.runs: dict[str, SpectrumRun] = {}
        self._file_ids = itertools.count(40)
        self._run_ids = itertools.count(11)
        self._config_ids = itertools.count(3)
        #: Seconds a new run stays out of the file's status, the job history and list-running (a slow
        #: server's lag; job details by id see it at once).
        self.visibility_lag = 0.0
        #: Request bodies the site received: {"method", "path", "json"} (contract tests check them).
        self.received: list[dict[str, Any]] = []

    def expire_credentials(self) -> None:
        """Spectrum has no sessions: nothing expires."""

    def connection(self, base_url: str) -> dict[str, Any]:
        return {"conn_type": "spectrum", "host": base_url, "login": USER, "password": PASSWORD, "extra": {}}

    # -- Python API for tests and the demo ------------------------------------------------------
    def add_file(
        self,
        path: str,
        *,
        final: str = "COMPLETED",
        queued: float = 0.05,
        running: float = 0.3,
        steps: list[tuple[str, float]] | None = None,
        downstream: list[int] | tuple[int, ...] = (),
        file_id: int | None = None,
        vanish_after: float | None = None,
    ) -> SpectrumFile:
        fid = file_id if file_id is not None else next(self._file_ids)
        life = Life(steps or [("QUEUED", queued), ("RUNNING", running)], final, vanish_after=vanish_after)
        name = path.rstrip("/").rsplit("/", 1)[-1]
        f = SpectrumFile(fid, "/" + path.strip("/"), str(uuidlib.uuid4()), next(self._config_ids), name, life,
                         list(downstream), data_id=fid + 1000)
        self.files[fid] = f
        return f

    def admin_add_job(self, job: dict[str, Any]) -> dict[str, Any]:
        steps = [tuple(s) for s in job["steps"]] if job.get("steps") else None
        f = self.add_file(job["path"], final=job.get("final", "COMPLETED"), steps=steps,
                          running=float(job.get("running", 0.3)), downstream=job.get("downstream", ()))
        return {"file_id": f.file_id, "uuid": f.uuid, "path": f.path, "configuration_id": f.configuration_id}

    def runs_of(self, file: SpectrumFile) -> list[SpectrumRun]:
        return [r for r in self.runs.values() if r.file is file]

    def _visible(self, run: SpectrumRun) -> bool:
        return self.visibility_lag <= 0 or time.time() - run.created >= self.visibility_lag

    def triggers(self) -> int:
        """How many trigger calls started a run (sequential ones included)."""
        return len(self.runs)

    # -- HTTP ---------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/api/job-execution/list-running", self.list_running)
        r.add_post(self.sequential_path, self.sequential_trigger)
        r.add_post("/api/job-execution/{ref:.+}/trigger", self.trigger)
        r.add_get("/api/job-execution/{ref:.+}/status", self.status)
        r.add_post("/api/job-execution/{ref:.+}/stop", self.stop)
        r.add_get("/rest/job-execution/job-details/{run_id}", self.job_details)
        r.add_get("/rest/job-configuration/job-history/{cid}", self.history)
        r.add_delete("/rest/data/{data_id}", self.delete_data)

    def _authorised(self, request: web.Request) -> bool:
        basic = decoded_authorization(request)
        if basic is None:
            return False
        user, _, password = basic.partition(":")
        return self.users.get(user) == password

    @staticmethod
    def _deny() -> web.Response:
        return json_response({"status": "failure", "reason": "Unauthorized"}, status=401)

    def _ref(self, request: web.Request) -> str:
        # Decode by hand: in a Spectrum path '+' is a space, and %2B a literal plus.
        raw = request.raw_path.split("?", 1)[0]
        marker = "/api/job-execution/"
        start = raw.index(marker) + len(marker)
        end = raw.rindex("/")
        return "/".join(unquote(seg.replace("+", " ")) for seg in raw[start:end].split("/"))

    def _file(self, ref: str) -> SpectrumFile | None:
        if ref.isdigit():
            return self.files.get(int(ref))
        for f in self.files.values():
            if ref == f.uuid or "/" + ref.strip("/") == f.path:
                return f
        return None

    def _latest(self, f: SpectrumFile) -> SpectrumRun | None:
        runs = [r for r in self.runs_of(f) if self._visible(r)]
        return max(runs, key=lambda r: int(r.run_id)) if runs else None

    def _start(self, f: SpectrumFile, after: SpectrumRun | None = None) -> SpectrumRun:
        run = SpectrumRun(f, str(next(self._run_ids)), after=after)
        self.runs[run.run_id] = run
        return run

    async def trigger(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._deny()
        f = self._file(self._ref(request))
        if f is None:
            return json_response({"status": "failure", "reason": NOT_ACCESSIBLE})
        run = self._start(f)
        return json_response({"status": "success", "job-execution-id": int(run.run_id),
                              "job-execution-user": USER, "job-execution-trigger": "RESTAPI"})

    async def status(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._deny()
        f = self._file(self._ref(request))
        if f is None:
            return json_response({"status": "failure", "reason": NOT_ACCESSIBLE})
        run = self._latest(f)
        if run is None:
            return json_response({"status": "success", "job-status": "_NONE"})
        vendor_state, progress, done = run.state()
        body: dict[str, Any] = {
            "status": "success",
            "file-id": f.file_id,
            "job-execution-id": int(run.run_id),
            "job-status": vendor_state,
            "start-time": None if vendor_state == "QUEUED" else spectrum_time(run.created),
        }
        if done:
            body["stop-time"] = spectrum_time(run.ended_at)
        elif vendor_state != "QUEUED":
            remaining = max(0, int(run.life.total() - run.elapsed()))
            body["estimate-time"] = f"{remaining}s"
            body["job-progress"] = str(int(progress))
        return json_response(body)

    async def stop(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._deny()
        f = self._file(self._ref(request))
        if f is None:
            return json_response({"status": "failure", "reason": NOT_ACCESSIBLE})
        run = self._latest(f)
        if run is not None:
            run.stop("CANCELED")
        return web.Response(status=200)

    async def job_details(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._deny()
        run = self.runs.get(request.match_info["run_id"])
        if run is None or run.vanished():
            return json_response(
                {"status": "failure",
                 "reason": f"Entity of type 'JobExecution' with id '{request.match_info['run_id']}' not found."},
                status=404)
        vendor_state, _, done = run.state()
        f = run.file
        body = {
            "startTime": None if vendor_state == "QUEUED" else spectrum_time(run.created),
            "stopTime": spectrum_time(run.ended_at) if done else None,
            "jobStatus": vendor_state,
            "jobConfigurationId": f.configuration_id,
            "file": {"id": f.file_id, "uuid": f.uuid},
            "successCount": f.success_count if done else 0,
            "failureCount": f.failure_count if done else 0,
            "counters": {"IMPORT_RECORDS": f.success_count if done else 0, "IMPORT_DROPPED_RECORDS": 0},
        }
        return json_response(body)

    async def history(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._deny()
        cid = int(request.match_info["cid"])
        start = int(request.query.get("start", 0))
        length = int(request.query.get("length", 10))
        runs = sorted((r for r in self.runs.values() if r.file.configuration_id == cid and self._visible(r)),
                      key=lambda r: -int(r.run_id))
        return json_response([{"id": int(r.run_id), "jobStatus": r.state()[0]} for r in runs[start:start + length]])

    async def list_running(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._deny()
        items = []
        for run in self.runs.values():
            vendor_state, _, done = run.state()
            if done or not self._visible(run):
                continue
            f = run.file
            items.append({"jobStatus": vendor_state, "fileName": f.name, "jobName": f"{f.name} job",
                          "fileId": f.file_id, "uuid": f.uuid, "creationDate": int(run.created * 1000),
                          "jobExecutionId": int(run.run_id), "dapJobConfigurationId": f.configuration_id,
                          "estimatedTime": 0, "startTime": int(run.created * 1000)})
        return json_response(items)

    async def sequential_trigger(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._deny()
        try:
            body = await request.json()
        except Exception:
            return json_response({"status": "failure", "reason": "Request body is not JSON"}, status=400)
        self.received.append({"method": request.method, "path": request.path, "json": body})
        ids = body.get("fileIds") or []
        variables = body.get("variables") or {}
        order: list[SpectrumFile] = []

        def visit(fid: int) -> bool:
            f = self.files.get(int(fid))
            if f is None:
                return False
            if f not in order:
                order.append(f)
            return all(visit(d) for d in f.downstream)

        for fid in ids:
            if not str(fid).isdigit() or not visit(int(fid)):
                return json_response({"status": "failure", "reason": NOT_ACCESSIBLE})
        plan = []
        previous: SpectrumRun | None = None
        for f in order:
            if f.life.extra.get("skip_in_plan"):
                plan.append({"job-configuration-name": f.name, "job-configuration-id": f.configuration_id,
                             "trigger": False})
                continue
            run = self._start(f, after=previous)
            run.attrs["variables"] = dict(variables)
            previous = run
            plan.append({"job-configuration-name": f.name, "job-configuration-id": f.configuration_id,
                         "trigger": True, "job-execution-id": int(run.run_id)})
        return json_response({"status": "success", "execution-plan": plan})

    async def delete_data(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._deny()
        data_id = request.match_info["data_id"]
        for f in self.files.values():
            if str(f.data_id) == data_id and f.data_state != "gone":
                if f.data_state == "marked":
                    return json_response({"status": False})
                f.data_state = "marked"
                return json_response({"status": True})
        return json_response({"status": "failure", "reason": f"Entity of type 'Data' with id '{data_id}' not found."})


def load_demo_jobs(site: Site) -> None:
    """The files example_dags/spectrum.py and the chained DAG use."""
    site.add_file("/Sales/Daily Report", running=2.0, file_id=101)
    categorize = site.add_file("/Weblogs/Categorization", running=1.5, file_id=103)
    site.add_file("/Weblogs/Apache Log", running=1.5, file_id=102, downstream=[categorize.file_id])
