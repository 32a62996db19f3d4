"""Cross-vendor chains with Spectrum's sequential-trigger semantics.

`sequential_trigger(group_id, steps, variables)` puts run operators of any vendor in a TaskGroup, in plan
order (each step starts only after the one before succeeded), gives every step that can take them the
shared variables through its vendor's own mechanism (the step's own values win), and ends with a task
that returns an execution plan shaped like Spectrum's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_jobs.core import compat, lineage
from airflow_provider_jobs.core.errors import ConfigurationError
from airflow_provider_jobs.core.inputs import require_mapping
from airflow_provider_jobs.core.operator import JOB_RUNS_KEY, RUN_ID_KEY, BaseJobOperator

PLAN_TASK_ID = "execution_plan"


class ExecutionPlanOperator(compat.BaseOperator):
    """The last task of a chain: what ran, in plan order, and how it ended.

    Returns ``{"status": "success" | "failed", "execution-plan": [{name, vendor, task_id, trigger, run_id,
    state, vendor_state, variables}, ...]}``. Steps never reached are marked ``trigger: false``; a Spectrum
    sequential trigger contributes one entry per execution in its own plan.

    :param steps: the chain's steps in plan order, as sequential_trigger() builds them (each with its
        ``task_id``, ``name``, ``vendor`` and ``variables``)
    :param chain_name: the chain's name (its TaskGroup id), which each step's lineage names as its parent
    """

    ui_color = "#fff4d6"

    def __init__(self, *, steps: list[dict[str, Any]], chain_name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.steps = steps
        self.chain_name = chain_name
        self._entries: list[dict[str, Any]] = []

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The chain's own run: its job and run id (the parent every step names) and each step's vendor run."""
        return lineage.for_chain(self, task_instance)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        return lineage.for_chain(self, task_instance)

    def execute(self, context: Any) -> dict[str, Any]:
        ti = context["ti"]
        entries: list[dict[str, Any]] = []
        for step in self.steps:
            entries.extend(plan_entries(step, ti.xcom_pull(task_ids=step["task_id"], key=JOB_RUNS_KEY),
                                        ti.xcom_pull(task_ids=step["task_id"], key="execution_plan"),
                                        ti.xcom_pull(task_ids=step["task_id"], key=RUN_ID_KEY)))
        self._entries = entries
        ok = all(e["trigger"] and str(e.get("state")) in ("SUCCESS", "SUCCESS_WITH_WARNINGS") for e in entries)
        plan = {"status": "success" if ok else "failed", "execution-plan": entries}
        for e in entries:
            self.log.info("%-10s %-30s %-8s run %-14s %s", e["vendor"], e["name"], "ran" if e["trigger"] else
                          "not run", e.get("run_id") or "-", e.get("state") or "-")
        if not ok:
            # The plan is written first (it says what ran); then the chain's failure fails this task, the
            # group's leaf, and so the DAG run.
            ti.xcom_push(key="return_value", value=plan)
            failed = [f"{e['name']} ({e.get('state') or 'no final state'})" for e in entries
                      if e["trigger"] and str(e.get("state")) not in ("SUCCESS", "SUCCESS_WITH_WARNINGS")]
            skipped = [str(e["name"]) for e in entries if not e["trigger"]]
            raise compat.AirflowFailException(
                "The chain did not succeed: "
                + "; ".join(filter(None, [f"failed: {', '.join(failed)}" if failed else "",
                                          f"not triggered: {', '.join(skipped)}" if skipped else ""]))
                + f". Its execution plan is in this task's XCom ({PLAN_TASK_ID})."
            )
        return plan


def plan_entries(step: dict[str, Any], job_runs: Any, spectrum_plan: Any, run_id: Any) -> list[dict[str, Any]]:
    """The plan entries of one step, from what it pushed to XCom (nothing: it was never reached)."""
    base = {"task_id": step["task_id"], "vendor": step["vendor"], "variables": step["variables"]}
    if isinstance(spectrum_plan, dict) and spectrum_plan.get("execution-plan"):
        out = []
        for item in spectrum_plan["execution-plan"]:
            out.append({**base, "name": item.get("job-configuration-name"), "trigger": bool(item.get("trigger")),
                        "run_id": item.get("job-execution-id"), "state": item.get("state"),
                        "vendor_state": item.get("vendor_state")})
        return out
    if job_runs:
        return [{**base, "name": step["name"], "trigger": True, "run_id": r.get("run_id"),
                 "state": r.get("state"), "vendor_state": r.get("vendor_state")} for r in job_runs]
    if run_id:  # started, but ended without a final state (e.g. an error while waiting)
        return [{**base, "name": step["name"], "trigger": True, "run_id": run_id, "state": None,
                 "vendor_state": None}]
    return [{**base, "name": step["name"], "trigger": False, "run_id": None, "state": None,
             "vendor_state": None}]


def sequential_trigger(
    group_id: str, steps: Sequence[BaseJobOperator], variables: dict[str, Any] | None = None
) -> Any:
    """Chain run operators of any vendor in plan order, with shared variables; return the TaskGroup.

    Create the steps in the DAG first (their task ids are kept, so later steps can template on
    ``{{ ti.xcom_pull(task_ids='<earlier step>') }}``, an earlier step's JobRun), then call this.
    The group's last task, ``<group_id>.execution_plan``, returns the plan.
    """
    if not isinstance(group_id, str) or not group_id.strip():
        raise ConfigurationError("group_id", f"is {group_id!r}", "Give the TaskGroup a name.")
    steps = list(steps or [])
    if not steps:
        raise ConfigurationError("steps", "is empty", "Give the run operators to chain, in order.")
    for index, step in enumerate(steps):
        if not isinstance(step, BaseJobOperator):
            raise ConfigurationError(
                f"steps[{index}]", f"is a {type(step).__name__}",
                "Give run operators of this provider (e.g. SpectrumTriggerJobOperator).",
            )
    dags = {id(step.dag) for step in steps}
    if len(dags) != 1 or steps[0].dag is None:
        raise ConfigurationError("steps", "are not all in one DAG", "Create every step inside the same DAG.")
    shared = require_mapping("variables", variables)
    described = []
    for step in steps:
        takes = step.apply_shared_variables(shared) if shared else False
        described.append({"task_id": step.task_id, "vendor": step.hook_class.vendor,
                          "name": _step_name(step), "variables": takes})
    for position, step in enumerate(steps):  # each step's lineage names the chain as its parent
        step._lineage_chain = {"group_id": group_id, "position": position, "steps": len(steps)}
    with compat.TaskGroup(group_id, dag=steps[0].dag) as group:
        for step in steps:
            group.add(step)
        plan = ExecutionPlanOperator(task_id=PLAN_TASK_ID, steps=described, chain_name=group_id)
    for before, after in zip(steps, steps[1:], strict=False):
        before >> after
    for step in steps:
        step >> plan
    return group


def _step_name(step: BaseJobOperator) -> str:
    try:
        return str(step.job())
    except Exception:  # a templated job name: the task id says enough
        return step.task_id
