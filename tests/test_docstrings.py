"""Every public hook operation, operator and sensor argument is documented with `:param name:`."""

from __future__ import annotations

import importlib
import inspect

from airflow_provider_jobs.core.hook import JobApiHook

VENDORS = ("cdata_sync", "informatica", "nexus_ic", "ocapi", "spectrum")
MODULES = [f"airflow_provider_jobs.{kind}.{vendor}" for kind in ("hooks", "operators", "sensors") for vendor in VENDORS]
MODULES += ["airflow_provider_jobs.operators.sequence", "airflow_provider_jobs.core.operator",
            "airflow_provider_jobs.core.sensor"]


def _documented_callables():
    """(where, function, docstring) for each public hook operation and each operator's or sensor's __init__."""
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name, cls in vars(module).items():
            if not inspect.isclass(cls) or cls.__module__ != module_name or name.startswith("_"):
                continue
            if issubclass(cls, JobApiHook):
                for op_name, func in vars(cls).items():
                    steps = getattr(func, "steps", None)
                    if steps is not None and not op_name.startswith("_") and not inspect.iscoroutinefunction(func):
                        yield f"{name}.{op_name}", steps, steps.__doc__ or ""
            elif "__init__" in vars(cls) and hasattr(cls, "execute"):
                yield f"{name}()", cls.__init__, f"{cls.__doc__ or ''}\n{cls.__init__.__doc__ or ''}"


def test_every_public_argument_has_a_param_line():
    missing = []
    checked = 0
    for where, func, doc in _documented_callables():
        for param in inspect.signature(func).parameters.values():
            if param.name == "self" or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                continue
            checked += 1
            if f":param {param.name}:" not in doc:
                missing.append(f"{where}: {param.name}")
    assert checked > 200
    assert not missing, "undocumented arguments:\n" + "\n".join(missing)
