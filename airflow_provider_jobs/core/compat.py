"""The only module that knows Airflow 2.11 from Airflow 3.x."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from airflow import __version__ as AIRFLOW_VERSION_STRING
from airflow.triggers.base import BaseTrigger, TriggerEvent
from packaging.version import Version

AIRFLOW_VERSION = Version(Version(AIRFLOW_VERSION_STRING).base_version)
AIRFLOW_V3 = AIRFLOW_VERSION >= Version("3.0.0")
#: Airflow 3.3 keeps a per-task-instance state store that survives retries.
TASK_STATE_STORE = AIRFLOW_VERSION >= Version("3.3.0")
#: Airflow 3.3 renders a start-from-trigger task's templated trigger kwargs in the triggerer (3.0-3.2 did not, and
#: 2.x ran such triggers without the task's context): the run operators start from the trigger only from 3.3 on.
START_FROM_TRIGGER = AIRFLOW_VERSION >= Version("3.3.0")
#: Before Airflow 3.2 the UI builds connection forms from hook methods, not provider metadata.
LEGACY_CONNECTION_FORMS = AIRFLOW_VERSION < Version("3.2.0")

if AIRFLOW_V3:
    from airflow.sdk import (
        BaseHook,
        BaseOperator,
        BaseOperatorLink,
        BaseSensorOperator,
        PokeReturnValue,
        TaskGroup,
    )
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, TaskDeferred
else:  # pragma: no cover - exercised by the Airflow 2.11 matrix run
    from airflow.exceptions import AirflowFailException, AirflowSkipException, TaskDeferred
    from airflow.hooks.base import BaseHook
    from airflow.models import BaseOperator, BaseOperatorLink
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue
    from airflow.utils.task_group import TaskGroup

try:  # Airflow 3: triggers for event-driven scheduling (AssetWatcher)
    from airflow.triggers.base import BaseEventTrigger
except ImportError:  # pragma: no cover - Airflow 2.11 has none
    BaseEventTrigger = None  # type: ignore[assignment,misc]
#: Airflow 3.3+: event triggers with the same shared_stream_key() share one poll in the triggerer.
SHARED_STREAMS = BaseEventTrigger is not None and hasattr(BaseEventTrigger, "filter_shared_stream")

if TYPE_CHECKING:
    from airflow.sdk import Connection

__all__ = [
    "AIRFLOW_V3",
    "AirflowFailException",
    "AirflowSkipException",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "BaseTrigger",
    "PokeReturnValue",
    "TaskDeferred",
    "TaskGroup",
    "TriggerEvent",
]

log = logging.getLogger(__name__)


def mask_secret(value: Any) -> None:
    """Register a value with Airflow's secrets masker (task and supervisor processes).

    A string this process's masker already hides is not registered again: every hook a trigger makes
    registers its connection's secrets, and Airflow's mask_secret() does real work (and, in a task,
    messages the supervisor) even for a secret it knows.
    """
    if value in (None, ""):
        return
    if isinstance(value, str) and _already_masked(value):
        return
    if AIRFLOW_V3:
        from airflow.sdk.log import mask_secret as _mask
    else:  # pragma: no cover
        from airflow.utils.log.secrets_masker import mask_secret as _mask
    _mask(value)


def _already_masked(value: str) -> bool:
    """Whether this process's masker holds the value's pattern (escaped as the masker escapes it)."""
    try:
        if AIRFLOW_V3:
            from airflow.sdk.log import _secrets_masker

            escape = re.escape
        else:  # pragma: no cover - Airflow 2's masker escapes with re2
            import re2
            from airflow.utils.log.secrets_masker import _secrets_masker

            escape = re2.escape
        patterns = _secrets_masker().patterns
    except Exception:  # a masker without the attribute: register every time, as before
        return False
    # A different escaping can only miss (and register again), never match another secret.
    return isinstance(patterns, (set, frozenset)) and escape(value) in patterns


def get_connection(conn_id: str) -> Connection:
    """Read a connection (sync)."""
    return BaseHook.get_connection(conn_id)


async def aget_connection(conn_id: str) -> Connection:
    """Read a connection without blocking the event loop."""
    if hasattr(BaseHook, "aget_connection"):
        return await BaseHook.aget_connection(conn_id)
    # Airflow 2.11: the lookup hits the metadata DB synchronously; run it in a thread.
    return await asyncio.to_thread(BaseHook.get_connection, conn_id)  # pragma: no cover


def default_deferrable() -> bool:
    """Airflow's `[operators] default_deferrable`."""
    from airflow.configuration import conf

    return conf.getboolean("operators", "default_deferrable", fallback=False)


# ---------------------------------------------------------------------------------------------
# Remembering a started run across task retries.
#
# XCom is cleared when a task instance starts a new try, so the run id pushed there cannot be
# read back by the retry. Airflow 3.3+ has a task state store that survives retries; before
# that, an Airflow Variable keyed by the task instance does the same job and is deleted once the
# run is finished.
# ---------------------------------------------------------------------------------------------
def _ledger_variable_key(context: Any) -> str:
    ti = context["ti"]
    return ledger_key(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))


_LEDGER_KEY = "airflow_provider_jobs.run"


def remember_run(context: Any, run: dict[str, Any]) -> None:
    """Record the run this task instance started, so that a retry can reattach to it."""
    store = context.get("task_state_store") if TASK_STATE_STORE else None
    if store is not None:
        try:
            store.set(_LEDGER_KEY, run)
            return
        except Exception as exc:  # a store may be disabled; fall back to a Variable
            log.debug("task_state_store unavailable (%s); using a Variable", exc)
    _variable_set(_ledger_variable_key(context), run)


def recall_run(context: Any) -> dict[str, Any] | None:
    """The run an earlier try of this task instance started, if any."""
    store = context.get("task_state_store") if TASK_STATE_STORE else None
    if store is not None:
        try:
            value = store.get(_LEDGER_KEY)
            if value:
                return value
        except Exception as exc:
            log.debug("task_state_store unavailable (%s); using a Variable", exc)
    return _variable_get(_ledger_variable_key(context))


def forget_run(context: Any) -> None:
    """Drop the record once the run has reached a terminal state."""
    store = context.get("task_state_store") if TASK_STATE_STORE else None
    if store is not None:
        try:
            store.delete(_LEDGER_KEY)
        except Exception:
            pass
    _variable_delete(_ledger_variable_key(context))


def _variable_cls():
    if AIRFLOW_V3:
        from airflow.sdk import Variable
    else:  # pragma: no cover
        from airflow.models import Variable
    return Variable


def _variable_set(key: str, value: dict[str, Any]) -> None:
    _variable_cls().set(key, value, serialize_json=True)


def _variable_get(key: str, *, strict: bool = False) -> dict[str, Any] | None:
    """A JSON Variable, None when there is none. A read that fails is None too unless `strict` (then it raises)."""
    # The Task SDK's Variable.get names its fallback `default`; Airflow 2's names it `default_var`.
    fallback = {"default": None} if AIRFLOW_V3 else {"default_var": None}
    try:
        return _variable_cls().get(key, deserialize_json=True, **fallback)
    except Exception as exc:
        if strict:
            raise
        log.warning("Could not read Variable %s (%s); going on as if there were none.", key, exc)
        return None


def _variable_delete(key: str) -> None:
    try:
        _variable_cls().delete(key)
    except Exception:
        pass


# The ledger and XComs of a task that starts from the trigger (Airflow 3.3+). The triggerer's supervisor serves
# Variables and XComs to a trigger but not the task state store (GetTaskStateStore is not among the messages it
# takes: airflow/jobs/triggerer_job_runner.py, ToTriggerSupervisor), so a trigger keeps the ledger in the same
# Variable a task uses before 3.3; recall_run() on a worker reads it too.
def ledger_key(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """The Variable that holds the ledger of one task instance."""
    return f"airflow_provider_jobs.run::{dag_id}::{run_id}::{task_id}::{map_index}"


async def aledger_get(key: str) -> dict[str, Any] | None:
    """Read a ledger Variable from a trigger (a thread: the sync call goes through the triggerer's comms). Raises
    if it cannot: a ledger that cannot be read must not pass for none (the trigger would start the job again)."""
    return await asyncio.to_thread(_variable_get, key, strict=True)


async def aledger_set(key: str, value: dict[str, Any]) -> None:
    """Write a ledger Variable from a trigger; raises if it cannot (a start must not go out unrecorded)."""
    await asyncio.to_thread(_variable_set, key, value)


async def aledger_delete(key: str) -> None:
    await asyncio.to_thread(_variable_delete, key)


async def axcom_push(ti: Any, key: str, value: Any) -> None:
    """Push an XCom of the task instance a trigger runs for (Airflow 3.3+ triggerer)."""
    from airflow.sdk.execution_time.xcom import XCom

    await XCom.aset(key, value, dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id,
                    map_index=getattr(ti, "map_index", -1))


def task_end_event(success: bool, xcoms: dict[str, Any]) -> TriggerEvent:
    """An event that ends the task in the triggerer, without a worker (Airflow 2.10+)."""
    from airflow.triggers.base import TaskFailedEvent, TaskSuccessEvent

    return (TaskSuccessEvent if success else TaskFailedEvent)(xcoms=xcoms)


def xcom_value(ti_key: Any, key: str) -> Any:
    """Read one XCom of a finished task instance (for extra links)."""
    if AIRFLOW_V3:
        from airflow.sdk.execution_time.xcom import XCom
    else:  # pragma: no cover
        from airflow.models import XCom
    return XCom.get_value(ti_key=ti_key, key=key)


def legacy_form_widgets(conn_fields: dict[str, Any]) -> dict[str, Any]:
    """wtforms widgets for the connection form of Airflow < 3.2, from declarative conn-fields."""
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from wtforms import BooleanField, PasswordField, StringField

    widgets: dict[str, Any] = {}
    for name, spec in conn_fields.items():
        schema = spec.get("schema", {})
        kinds = schema.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        label = spec.get("label", name)
        description = spec.get("description", "")
        if "boolean" in kinds:
            widgets[name] = BooleanField(label, description=description, default=schema.get("default", False))
        elif schema.get("format") == "password":
            widgets[name] = PasswordField(label, widget=BS3PasswordFieldWidget(), description=description)
        else:
            widgets[name] = StringField(label, widget=BS3TextFieldWidget(), description=description,
                                        default=schema.get("default"))
    return widgets


def legacy_field_behaviour(behaviour: dict[str, Any]) -> dict[str, Any]:
    """The hook-method form of a declarative ui-field-behaviour."""
    return {
        "hidden_fields": list(behaviour.get("hidden-fields", [])),
        "relabeling": dict(behaviour.get("relabeling", {})),
        "placeholders": dict(behaviour.get("placeholders", {})),
    }
