"""Operations: one description of a call gives a visible sync method and a declared async twin."""

from __future__ import annotations

import inspect

import pytest

from airflow_provider_jobs.core.hook import JobApiHook, operation
from airflow_provider_jobs.core.http import Operation
from airflow_provider_jobs.hooks.cdata_sync import CDataSyncHook
from airflow_provider_jobs.hooks.informatica import InformaticaCloudHook
from airflow_provider_jobs.hooks.nexus_ic import NexusICHook
from airflow_provider_jobs.hooks.ocapi import OcapiHook
from airflow_provider_jobs.hooks.spectrum import SpectrumHook

HOOKS = [CDataSyncHook, InformaticaCloudHook, NexusICHook, OcapiHook, SpectrumHook]


@pytest.mark.parametrize("hook_class", HOOKS, ids=lambda c: c.__name__)
def test_every_operation_has_its_async_twin_on_the_class(hook_class):
    """Each operation a hook defines is a plain function on the class with its steps, and its `a<name>` twin is a
    coroutine function over the same steps (declared in the class body, so IDEs and mypy see it)."""
    operations = {n: f for n, f in vars(hook_class).items()
                  if getattr(f, "steps", None) is not None and not inspect.iscoroutinefunction(f)}
    assert {"start_run", "get_run"} <= set(operations)
    for name, sync in operations.items():
        twin = vars(hook_class)["a" + name]
        assert inspect.iscoroutinefunction(twin), name
        assert twin.steps is sync.steps, name
        assert twin.__name__ == "a" + name
        assert sync.__doc__ == sync.steps.__doc__


def test_an_operation_without_its_twin_is_refused_at_class_creation():
    with pytest.raises(TypeError, match=r"Forgetful.get_thing is an operation without its async twin: declare "
                                        r"'aget_thing = get_thing.asynchronous'"):
        class Forgetful(JobApiHook):
            @operation
            def get_thing(self) -> Operation[int]:
                return 1
                yield  # an operation


def test_a_twin_under_another_name_is_refused():
    # (Python 3.11 wraps an error of __set_name__ in a RuntimeError)
    with pytest.raises((TypeError, RuntimeError)) as raised:
        class Misnamed(JobApiHook):
            @operation
            def get_thing(self) -> Operation[int]:
                return 1
                yield  # an operation

            get_thing_async = get_thing.asynchronous
    error = raised.value.__cause__ or raised.value
    assert "the async twin of 'get_thing' must be named 'aget_thing'" in str(error)
