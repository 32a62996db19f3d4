"""What the fault matrix needs to know about each vendor: how to script a job in the sandbox, how to
build the run operator, which routes start, poll and cancel, and which values are secrets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class VendorProfile:
    vendor: str
    #: (sandbox, final_state_kind, seconds, unknown_state, vanish_after) -> job reference for the operator
    make_job: Callable[..., Any]
    #: (task_id, job reference, **common kwargs) -> a run operator
    make_operator: Callable[..., Any]
    start: str  # regex of the start route (POST)
    poll: str  # regex of the status route polled while waiting
    cancel: str | None  # regex of the cancel route, None when the vendor has none
    secrets: Callable[[Any], list[str]]
    has_session: bool
    revoke: Callable[[Any], None]
    login: str | None = None  # regex of the login route
    poll_skip: int = 0  # calls to the poll route the start itself makes (faults are aimed past them)
    notes: dict[str, str] = field(default_factory=dict)


def _spectrum_job(sandbox, final="ok", seconds=0.3, unknown=False, vanish_after=None):
    steps = [("QUEUED", 0.05), ("REINDEXING" if unknown else "RUNNING", seconds)]
    final_word = {"ok": "COMPLETED", "failed": "ERROR"}[final]
    f = sandbox.spectrum.add_file(f"/Matrix/Job {len(sandbox.spectrum.files)}", steps=steps, final=final_word,
                                  vanish_after=vanish_after)
    return f.path


def _spectrum_operator(task_id, job, **kwargs):
    from airflow_provider_jobs.operators.spectrum import SpectrumTriggerJobOperator

    return SpectrumTriggerJobOperator(task_id=task_id, file=job, **kwargs)


def _spectrum_secrets(sandbox):
    from airflow_provider_jobs.sandbox.spectrum import PASSWORD

    return [PASSWORD]


def _spectrum_revoke(sandbox):
    sandbox.spectrum.users.clear()


SPECTRUM = VendorProfile(
    vendor="spectrum",
    make_job=_spectrum_job,
    make_operator=_spectrum_operator,
    start=r"/trigger$",
    poll=r"/job-details/",
    cancel=r"/stop$",
    secrets=_spectrum_secrets,
    has_session=False,
    revoke=_spectrum_revoke,
    notes={"expire": "HTTP Basic on every call: no session to expire"},
)

PROFILES: list[VendorProfile] = [SPECTRUM]


def _nexus_job(sandbox, final="ok", seconds=0.3, unknown=False, vanish_after=None):
    site = sandbox.nexus_ic
    template = site.add_template(f"Matrix {len(site.templates)}", steps=[("1", 0.05), ("9" if unknown else "3",
                                 seconds)], final={"ok": "4", "failed": "5"}[final], no_content=True)
    template.life.vanish_after = vanish_after
    return str(template.key)


def _nexus_operator(task_id, job, **kwargs):
    from airflow_provider_jobs.operators.nexus_ic import NexusICRunReportOperator

    return NexusICRunReportOperator(task_id=task_id, template_id=job, fetch_content=False, **kwargs)


def _nexus_secrets(sandbox):
    import base64

    from airflow_provider_jobs.sandbox.nexus_ic import API_KEY, PASSWORD, USER

    return [PASSWORD, API_KEY, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
            *sandbox.nexus_ic.issued_hashes]


def _nexus_revoke(sandbox):
    sandbox.nexus_ic.users.clear()
    sandbox.nexus_ic.api_keys.clear()


NEXUS_IC = VendorProfile(
    vendor="nexus_ic",
    make_job=_nexus_job,
    make_operator=_nexus_operator,
    start=r"/report/?$",
    poll=r"/jobStatus/",  # the 6.9 status read; not the job listing (jobStatus without an id) taken before a start
    cancel=None,
    secrets=_nexus_secrets,
    has_session=True,
    revoke=_nexus_revoke,
    login=r"/security/login$",
)

PROFILES.append(NEXUS_IC)


def _ocapi_job(sandbox, final="ok", seconds=0.3, unknown=False, vanish_after=None):
    site = sandbox.ocapi
    job_id = f"MatrixJob{len(site.jobs)}"
    site.add_job(job_id, states=[("pending", 0.05), ("reindexing" if unknown else "running", seconds)],
                 exit_code={"ok": "OK", "failed": "ERROR"}[final], exit_status={"ok": "ok", "failed": "error"}[final],
                 vanish_after=vanish_after)
    return job_id


def _ocapi_operator(task_id, job, **kwargs):
    from airflow_provider_jobs.operators.ocapi import OcapiRunJobOperator

    return OcapiRunJobOperator(task_id=task_id, job_id=job, **kwargs)


def _ocapi_secrets(sandbox):
    from airflow_provider_jobs.sandbox.ocapi import BM_PASSWORD, CLIENT_SECRET

    return [CLIENT_SECRET, BM_PASSWORD, *sandbox.ocapi.issued]


def _ocapi_revoke(sandbox):
    sandbox.ocapi.clients.clear()
    sandbox.ocapi.tokens.clear()


OCAPI = VendorProfile(
    vendor="ocapi",
    make_job=_ocapi_job,
    make_operator=_ocapi_operator,
    start=r"/jobs/[^/]+/executions$",
    poll=r"/jobs/[^/]+/executions/[^/]+$",
    cancel=None,
    secrets=_ocapi_secrets,
    has_session=True,
    revoke=_ocapi_revoke,
    login=r"oauth2/access_token$",
)

PROFILES.append(OCAPI)


def _informatica_job(sandbox, final="ok", seconds=0.3, unknown=False, vanish_after=None):
    site = sandbox.informatica
    steps = [("QUEUED", 0.05), ("REBALANCING" if unknown else "RUNNING", seconds)]
    task = site.add_task(f"Matrix {len(site.tasks)}", steps=steps, final={"ok": "1", "failed": "3"}[final])
    task.life.vanish_after = vanish_after
    return task.task_id


def _informatica_operator(task_id, job, **kwargs):
    from airflow_provider_jobs.operators.informatica import InformaticaRunTaskOperator

    # if_running="start": the faults aimed at the poll route must not hit the pre-start monitor check
    return InformaticaRunTaskOperator(task_id=task_id, informatica_task_type="MTT", informatica_task_id=job,
                                      if_running="start", **kwargs)


def _informatica_secrets(sandbox):
    from airflow_provider_jobs.sandbox.informatica import PASSWORD

    return [PASSWORD, *sandbox.informatica.issued_sessions]


def _informatica_revoke(sandbox):
    sandbox.informatica.users.clear()


INFORMATICA = VendorProfile(
    vendor="informatica",
    make_job=_informatica_job,
    make_operator=_informatica_operator,
    start=r"/api/v2/job$",
    poll=r"/activityMonitor$",
    cancel=r"/api/v2/job/stop$",
    secrets=_informatica_secrets,
    has_session=True,
    revoke=_informatica_revoke,
    login=r"/login$",
    poll_skip=1,  # start_marker reads the activity monitor just before the start
)

PROFILES.insert(0, INFORMATICA)


def _cdata_job(sandbox, final="ok", seconds=0.3, unknown=False, vanish_after=None):
    site = sandbox.cdata_sync
    job = site.add_job(f"Matrix {len(site.jobs)}", [{"query": "REPLICATE [Accounts]", "seconds": seconds,
                                                     "outcome": {"ok": "Successful", "failed": "Failed"}[final]}])
    job.running_word = "Rebalancing" if unknown else "Running"
    job.vanish_after = vanish_after
    return str(job.job_id)


def _cdata_operator(task_id, job, **kwargs):
    from airflow_provider_jobs.operators.cdata_sync import CDataSyncRunJobOperator

    return CDataSyncRunJobOperator(task_id=task_id, job_id=job, **kwargs)


def _cdata_secrets(sandbox):
    from airflow_provider_jobs.sandbox.cdata_sync import TOKEN

    return [TOKEN]


def _cdata_revoke(sandbox):
    sandbox.cdata_sync.tokens.clear()


CDATA_SYNC = VendorProfile(
    vendor="cdata_sync",
    make_job=_cdata_job,
    make_operator=_cdata_operator,
    start=r"/execute$",
    poll=r"/history/\d+$",
    cancel=r"/cancel$",
    secrets=_cdata_secrets,
    has_session=False,
    revoke=_cdata_revoke,
    poll_skip=1,  # the start reads its new history entry once
    notes={"expire": "a static auth token on every call: no session to expire"},
)

PROFILES.insert(2, CDATA_SYNC)
