"""A loopback simulator of the five vendor job APIs, with faults on demand.

    from airflow_provider_jobs.sandbox import Sandbox
    with Sandbox() as sandbox:
        sandbox.spectrum.add_file("/Sales/Daily Report", final="COMPLETED")
        ...

It is "the other side" of the provider and imports nothing from it.
"""

from airflow_provider_jobs.sandbox.core import Fault, Life
from airflow_provider_jobs.sandbox.server import Sandbox, build_app

__all__ = ["Fault", "Life", "Sandbox", "build_app"]
