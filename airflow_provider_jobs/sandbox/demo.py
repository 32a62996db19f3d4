"""Preload the jobs the example DAGs use, on every vendor site that has them."""

from __future__ import annotations

import importlib
from typing import Any


def load_demo_jobs(sandbox: Any) -> None:
    for name, site in sandbox.state.sites.items():
        module = importlib.import_module(f"airflow_provider_jobs.sandbox.{name}")
        loader = getattr(module, "load_demo_jobs", None)
        if loader is not None:
            loader(site)
