"""OpenLineage for every run operator: what ran on the vendor's side, as facets and datasets.

Airflow's OpenLineage provider (the optional extra ``[openlineage]``) calls the operators'
``get_openlineage_facets_on_start/complete/failure``; they end up here. Nothing in this module
imports OpenLineage at import time: the provider's classes are imported inside the functions it
calls, so without the provider installed nothing of it is ever imported.

What each run operator reports (docs/lineage.md):
- a custom run facet ``vendorJobRun`` (schema: ``schemas/VendorJobRunFacet.json``, shipped in the
  package, referenced by ``SCHEMA_URL``): vendor, job, the vendor's run id, its URL, state, times,
  row counters where the vendor reports them, the chain the step belongs to;
- ``externalQuery`` (the vendor's run id, its source the vendor's namespace) once a run exists;
- ``errorMessage`` on failure (the vendor's own message; Airflow's provider puts the task's
  exception there instead when it has one);
- input and output datasets where the vendor names them (each operator's ``lineage_datasets``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_jobs.core.runs import JobRun

#: The key of the custom run facet in an event's ``run.facets``.
FACET_KEY = "vendorJobRun"
FACET_VERSION = "1-0-0"
#: Where the facet's JSON schema is published; the same file ships in the package (`schema()`).
SCHEMA_URL = (
    "https://raw.githubusercontent.com/airflow-provider-jobs/airflow-provider-jobs/main/"
    "airflow_provider_jobs/core/schemas/VendorJobRunFacet.json#/$defs/VendorJobRunFacet"
)
PRODUCER = "https://github.com/airflow-provider-jobs/airflow-provider-jobs"
#: Counter names the facet knows (a vendor reports those it can; the rest of its numbers go under `vendorCounters`).
COUNTERS = ("rowsRead", "rowsWritten", "rowsFailed")


@dataclass(frozen=True)
class LineageDataset:
    """A dataset a vendor run reads or writes, in OpenLineage's naming (namespace + name)."""

    namespace: str
    name: str
    #: Rows written to it (an output's statistics), where the vendor reports them.
    row_count: int | None = None


def schema() -> dict[str, Any]:
    """The facet's JSON schema as shipped in the package."""
    text = resources.files("airflow_provider_jobs.core").joinpath("schemas/VendorJobRunFacet.json").read_text()
    return json.loads(text)


def vendor_namespace(vendor: str, base_url: str | None) -> str:
    """The OpenLineage namespace of a vendor instance: ``<vendor>://<host[:port]>`` (``cdata-sync://sync:8181``)."""
    scheme = vendor.replace("_", "-")
    netloc = urlsplit(base_url).netloc if base_url else ""
    return f"{scheme}://{netloc or 'unknown'}"


def chain_run_id(namespace: str, dag_id: str, dag_run_id: str, group_id: str) -> str:
    """The run id every step of one chain run names as its chain's (the same in every step's process)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{dag_id}/{dag_run_id}/{group_id}"))


def run_entry(run: JobRun, counters: Mapping[str, Any] | None) -> dict[str, Any]:
    """One vendor run as the facet records it (None values left out)."""
    known = {k: v for k, v in (counters or {}).items() if k in COUNTERS and v is not None}
    extra = {k: v for k, v in (counters or {}).items() if k not in COUNTERS and v is not None}
    entry: dict[str, Any] = {
        "jobId": run.job_id, "runId": run.run_id, "runUrl": run.url, "state": run.state.value,
        "vendorState": run.vendor_state, "startedAt": run.started_at, "endedAt": run.ended_at,
        "counters": known or None, "vendorCounters": extra or None,
        "message": _message(run),
    }
    return {k: v for k, v in entry.items() if v is not None}


def _message(run: JobRun) -> str | None:
    details = run.details or {}
    for key in ("message", "error_message", "warning"):
        if details.get(key):
            return str(details[key])
    return None


def facet_fields(
    *, vendor: str, job: str | None, namespace: str, runs: list[JobRun],
    counters: Callable[[JobRun], Mapping[str, Any]], chain: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The custom facet's fields: the first run at the top level, every run under `runs` when there are several."""
    fields: dict[str, Any] = {"vendor": vendor, "namespace": namespace, "jobId": job}
    entries = [run_entry(r, _safe(counters, r)) for r in runs]
    if entries:
        fields.update(entries[0])
        fields["jobId"] = job or entries[0].get("jobId")
    if len(entries) > 1:
        fields["runs"] = entries
    if chain:
        fields["chain"] = dict(chain)
    return {k: v for k, v in fields.items() if v is not None}


def _safe(counters: Callable[[JobRun], Mapping[str, Any]], run: JobRun) -> Mapping[str, Any]:
    try:
        return counters(run) or {}
    except Exception:
        return {}


@cache
def _facet_class() -> type:
    """The custom facet as an OpenLineage RunFacet (built on first use: OpenLineage is imported only then)."""
    import attr
    from openlineage.client.facet_v2 import RunFacet

    @attr.define
    class VendorJobRunFacet(RunFacet):
        """What ran on the vendor's side (airflow-provider-jobs)."""

        vendor: str
        namespace: str
        jobId: str | None = None
        runId: str | None = None
        runUrl: str | None = None
        state: str | None = None
        vendorState: str | None = None
        startedAt: str | None = None
        endedAt: str | None = None
        counters: dict[str, Any] | None = None
        vendorCounters: dict[str, Any] | None = None
        message: str | None = None
        runs: list[dict[str, Any]] | None = None
        chain: dict[str, Any] | None = None

        @staticmethod
        def _get_schema() -> str:
            return SCHEMA_URL

    return VendorJobRunFacet


def operator_lineage(
    *, vendor: str, job: str | None, namespace: str, runs: list[JobRun],
    counters: Callable[[JobRun], Mapping[str, Any]],
    datasets: tuple[Iterable[LineageDataset], Iterable[LineageDataset]] = ((), ()),
    chain: Mapping[str, Any] | None = None, failed: bool = False,
) -> Any:
    """The OperatorLineage Airflow's OpenLineage provider expects back from get_openlineage_facets_on_*."""
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.facet_v2 import (
        error_message_run,
        external_query_run,
        output_statistics_output_dataset,
    )

    fields = facet_fields(vendor=vendor, job=job, namespace=namespace, runs=runs, counters=counters, chain=chain)
    run_facets: dict[str, Any] = {FACET_KEY: _facet_class()(**fields)}
    first = runs[0] if runs else None
    if first is not None and first.run_id:
        run_facets["externalQuery"] = external_query_run.ExternalQueryRunFacet(
            externalQueryId=str(first.run_id), source=namespace)
    if failed:
        bad = next((r for r in runs if r.is_terminal and not r.state.is_success), first)
        message = _message(bad) if bad is not None else None
        if message or bad is not None:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=message or (bad.describe() if bad is not None else ""), programmingLanguage="python")
    inputs, outputs = datasets
    in_sets = [InputDataset(namespace=d.namespace, name=d.name) for d in inputs]
    out_sets = []
    for d in outputs:
        facets: dict[str, Any] = {}
        if d.row_count is not None:
            facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=int(d.row_count))
        out_sets.append(OutputDataset(namespace=d.namespace, name=d.name, outputFacets=facets))
    return OperatorLineage(inputs=in_sets, outputs=out_sets, run_facets=run_facets)


def for_operator(op: Any, task_instance: Any, phase: str) -> Any:
    """The lineage of a run operator (BaseJobOperator) at `phase` ("start", "complete" or "failure").

    The runs are the ones the operator followed in this process; a resumed or retried task that has none in
    memory reads the runs it pushed to XCom. Datasets and counters come from the operator's hook-points
    (`lineage_datasets`, `lineage_counters`); an error in them costs only that part, never the event.
    """
    runs: list[JobRun] = list(getattr(op, "_runs", None) or [])
    if not runs and task_instance is not None and phase != "start":
        runs = _runs_from_xcom(op, task_instance)
    vendor = op.hook_class.vendor
    try:
        namespace = vendor_namespace(vendor, op.hook.settings.base_url)
    except Exception:  # no connection readable here: the events still say what ran
        namespace = vendor_namespace(vendor, None)
    job: str | None
    try:
        job = str(op.job())
    except Exception:  # e.g. unrendered template at start
        job = runs[0].job_id if runs else None
    try:
        datasets = op.lineage_datasets(runs, namespace)
    except Exception as exc:
        op.log.debug("No lineage datasets: %s", exc)
        datasets = ((), ())
    return operator_lineage(vendor=vendor, job=job, namespace=namespace, runs=runs, counters=op.lineage_counters,
                            datasets=datasets, chain=chain_of(op, task_instance, namespace),
                            failed=phase == "failure")


def chain_of(op: Any, task_instance: Any, namespace: str) -> dict[str, Any] | None:
    """The chain (operators/sequence.py) a step belongs to, naming the chain's job and run (its parent)."""
    chain = getattr(op, "_lineage_chain", None)
    if not chain:
        return None
    dag_id = getattr(op, "dag_id", None) or ""
    dag_run_id = str(getattr(task_instance, "run_id", "") or "") if task_instance is not None else ""
    out = {"name": chain["group_id"], "position": chain["position"], "steps": chain["steps"],
           "job": {"namespace": namespace_of_airflow(), "name": f"{dag_id}.{chain['group_id']}"}}
    if dag_run_id:
        out["run"] = {"runId": chain_run_id(namespace_of_airflow(), dag_id, dag_run_id, chain["group_id"])}
    return out


def namespace_of_airflow() -> str:
    """The OpenLineage namespace Airflow's provider gives DAGs and tasks (`[openlineage] namespace`)."""
    try:
        from airflow.providers.openlineage.conf import namespace

        return namespace()
    except Exception:
        return "default"


def _runs_from_xcom(op: Any, task_instance: Any) -> list[JobRun]:
    from airflow_provider_jobs.core.operator import JOB_RUNS_KEY

    try:
        raw = task_instance.xcom_pull(task_ids=op.task_id, key=JOB_RUNS_KEY) or []
        return [JobRun.from_dict(r) for r in raw if isinstance(r, dict)]
    except Exception:
        return []


CHAIN_FACET_KEY = "vendorJobChain"
CHAIN_SCHEMA_URL = SCHEMA_URL.replace("#/$defs/VendorJobRunFacet", "#/$defs/VendorJobChainRunFacet")


@cache
def _chain_facet_class() -> type:
    import attr
    from openlineage.client.facet_v2 import RunFacet

    @attr.define
    class VendorJobChainRunFacet(RunFacet):
        """A cross-vendor chain's run (airflow-provider-jobs): the parent its steps name, and what each step ran."""

        chain: dict[str, Any]
        steps: list[dict[str, Any]]

        @staticmethod
        def _get_schema() -> str:
            return CHAIN_SCHEMA_URL

    return VendorJobChainRunFacet


def for_chain(plan_op: Any, task_instance: Any) -> Any:
    """The lineage of a chain's execution_plan task: the chain's job and run id, and each step's vendor run."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    name = plan_op.chain_name or plan_op.task_group.group_id
    dag_id = getattr(plan_op, "dag_id", None) or ""
    dag_run_id = str(getattr(task_instance, "run_id", "") or "")
    ns = namespace_of_airflow()
    chain: dict[str, Any] = {"name": name, "steps": len(plan_op.steps),
                             "job": {"namespace": ns, "name": f"{dag_id}.{name}"}}
    if dag_run_id:
        chain["run"] = {"runId": chain_run_id(ns, dag_id, dag_run_id, name)}
    steps = []
    for e in getattr(plan_op, "_entries", None) or []:
        item = {"taskId": e.get("task_id"), "vendor": e.get("vendor"), "name": e.get("name"),
                "triggered": bool(e.get("trigger")), "runId": e.get("run_id"), "state": e.get("state")}
        steps.append({k: (str(v) if k in ("runId", "name") and v is not None else v) for k, v in item.items()
                      if v is not None})
    return OperatorLineage(run_facets={CHAIN_FACET_KEY: _chain_facet_class()(chain=chain, steps=steps)})
