"""The sandbox server: every vendor site under its own prefix, plus a small admin API."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import threading
from typing import Any

from aiohttp import web

from airflow_provider_jobs.sandbox.core import Fault, SandboxState, fault_middleware, json_response

#: Vendor site modules, mounted at /<name>/ when present.
SITE_MODULES = ("spectrum", "informatica", "ocapi", "cdata_sync", "nexus_ic")


def load_sites(state: SandboxState) -> dict[str, Any]:
    sites: dict[str, Any] = {}
    for name in SITE_MODULES:
        try:
            module = importlib.import_module(f"airflow_provider_jobs.sandbox.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"airflow_provider_jobs.sandbox.{name}":
                continue
            raise
        sites[name] = module.Site(state)
    return sites


def build_app(state: SandboxState) -> web.Application:
    """The whole sandbox as one aiohttp application."""
    app = web.Application()
    state.sites = load_sites(state)
    for name, site in state.sites.items():
        sub = web.Application(middlewares=[fault_middleware(state, name, site.expire_credentials)])
        site.add_routes(sub)
        app.add_subapp(f"/{name}/", sub)
    _add_admin_routes(app, state)
    return app


def reset_state(state: SandboxState) -> list[dict[str, Any]]:
    """No faults, an empty request log, no jobs. Returns the required faults that were never served."""
    unserved = state.clear_faults()
    with state.lock:
        state.log.clear()
    for site in state.sites.values():
        site.reset()
    return unserved


def _bad(field: str, problem: str) -> web.Response:
    """400 naming the field of an admin request that is wrong."""
    return json_response({"error": f"{field}: {problem}", "field": field}, status=400)


async def _admin_body(request: web.Request, required: dict[str, type]) -> dict[str, Any] | web.Response:
    """The JSON object of an admin request with its required fields, or a 400 naming what is wrong."""
    try:
        body = await request.json()
    except ValueError:
        return _bad("body", "is not JSON; send a JSON object")
    if not isinstance(body, dict):
        return _bad("body", f"is a JSON {type(body).__name__}; send a JSON object")
    for name, kind in required.items():
        if name not in body:
            return _bad(name, "is missing")
        if not isinstance(body[name], kind):
            wanted = "JSON object" if kind is dict else kind.__name__
            return _bad(name, f"is a {type(body[name]).__name__}, not a {wanted}")
    return body


def _add_admin_routes(app: web.Application, state: SandboxState) -> None:
    async def requests_(request: web.Request) -> web.Response:
        q = request.query
        served = state.requests(q.get("vendor"), q.get("method"), q.get("path"))
        return json_response([s.__dict__ for s in served])

    async def faults(request: web.Request) -> web.Response:
        body = await _admin_body(request, {"vendor": str, "path": str, "faults": list})
        if isinstance(body, web.Response):
            return body
        if body["vendor"] not in state.sites:
            return _bad("vendor", f"{body['vendor']!r} is not one of {', '.join(sorted(state.sites))}")
        try:
            state.add_fault(body["vendor"], body["path"], body["faults"], body.get("method"),
                            optional=bool(body.get("optional", False)))
        except (TypeError, ValueError, KeyError, re.error) as exc:
            return _bad("faults", f"cannot be armed: {exc}")
        return json_response({"ok": True})

    async def jobs(request: web.Request) -> web.Response:
        body = await _admin_body(request, {"vendor": str, "job": dict})
        if isinstance(body, web.Response):
            return body
        site = state.sites.get(body["vendor"])
        if site is None:
            return json_response({"error": f"unknown vendor {body['vendor']!r}; the vendors are "
                                           f"{', '.join(sorted(state.sites))}"}, status=404)
        try:
            return json_response(site.admin_add_job(body["job"]))
        except KeyError as exc:
            return _bad(f"job.{exc.args[0]}", "is missing")
        except (TypeError, ValueError, AttributeError) as exc:
            return _bad("job", f"has a field of the wrong shape ({exc})")

    async def unserved(request: web.Request) -> web.Response:
        return json_response(state.unserved_faults())

    async def reset(request: web.Request) -> web.Response:
        # faults armed (not optional) and never served: the caller's scenario did not happen as planned
        return json_response({"ok": True, "unserved": reset_state(state)})

    async def index(request: web.Request) -> web.Response:
        return json_response({"vendors": sorted(state.sites), "admin": ["/_admin/requests", "/_admin/faults",
                                                                         "/_admin/faults/unserved", "/_admin/jobs",
                                                                         "/_admin/reset"]})

    app.router.add_get("/_admin/requests", requests_)
    app.router.add_post("/_admin/faults", faults)
    app.router.add_get("/_admin/faults/unserved", unserved)
    app.router.add_post("/_admin/jobs", jobs)
    app.router.add_post("/_admin/reset", reset)
    app.router.add_get("/", index)


class Sandbox:
    """A running sandbox on 127.0.0.1, driven from Python.

    Use as a context manager, or `start()` / `stop()`. It runs its own event loop in a thread so
    that sync code, `dag.test()` and async code under test can all talk to it.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, ssl_context: Any = None) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.state = SandboxState()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        self._thread = threading.Thread(target=self._serve, name="jobs-sandbox", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_site())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        if self._runner is not None:
            loop.run_until_complete(self._runner.cleanup())
        loop.close()

    async def _start_site(self) -> None:
        app = build_app(self.state)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- driving it ------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def site(self, vendor: str) -> Any:
        return self.state.sites[vendor]

    def __getattr__(self, name: str) -> Any:
        state = self.__dict__.get("state")
        sites = state.sites if state is not None else {}
        if name in sites:
            return sites[name]
        raise AttributeError(name)

    def fault(self, vendor: str, path_regex: str, *faults: Any, method: str | None = None,
              optional: bool = False) -> None:
        """Inject faults: each matching request consumes the next one, in order.

        Every fault must be served before the next reset, or the reset reports it (and the `jobs_sandbox`
        fixture fails the test); `optional=True` arms faults the scenario may or may not reach.
        """
        self.state.add_fault(vendor, path_regex, faults, method, optional=optional)

    def unserved_faults(self) -> list[dict[str, Any]]:
        """Required faults armed and not served yet: {vendor, path, method, served, unserved}, one per rule."""
        return self.state.unserved_faults()

    def requests(self, vendor: str | None = None, method: str | None = None, path: str | None = None):
        return self.state.requests(vendor, method, path)

    def reset(self) -> list[dict[str, Any]]:
        """No faults, an empty request log, no jobs. Returns the required faults that were never served."""
        return reset_state(self.state)

    def connection(self, vendor: str, **overrides: Any) -> dict[str, Any]:
        """An Airflow connection (as a dict) pointing at this sandbox's site for `vendor`."""
        conn = self.site(vendor).connection(f"{self.url}/{vendor}")
        extra = dict(conn.get("extra", {}))
        extra.update(overrides.pop("extra", {}))
        conn.update(overrides)
        conn["extra"] = extra
        return conn

    def connection_env(self, vendor: str, conn_id: str | None = None, **overrides: Any) -> tuple[str, str]:
        """(`AIRFLOW_CONN_<ID>`, JSON value) for this vendor's site."""
        conn = self.connection(vendor, **overrides)
        conn_id = conn_id or f"{conn['conn_type']}_default"
        return f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn)


__all__ = ["Fault", "Sandbox", "build_app"]
