"""The sandbox's vendor-neutral machinery: scripted job lives, fault injection, request log.

The sandbox is "the other side": it imports nothing of the provider.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


# --- scripted lives --------------------------------------------------------------------------------
@dataclass
class Life:
    """How a simulated run unfolds: vendor states with durations, then a final state.

    `steps` is a list of (vendor_state, seconds). Progress rises linearly over the steps whose
    state is in `progress_states` (all but the first by default). A run can be stopped
    (`stop()`), paused and resumed by the test, or made to vanish (`vanish_after`).
    """

    steps: list[tuple[str, float]]
    final: str
    progress_states: tuple[str, ...] | None = None
    vanish_after: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def total(self) -> float:
        return sum(seconds for _, seconds in self.steps)


class SimRun:
    """One simulated run of a job (vendor-neutral bookkeeping)."""

    _ids = itertools.count(1)

    def __init__(self, job_key: str, life: Life, run_id: str | None = None, **attrs: Any) -> None:
        self.job_key = job_key
        self.life = life
        self.run_id = run_id or str(next(SimRun._ids))
        self.created = time.time()
        self.stopped_state: str | None = None
        self.stopped_at: float | None = None
        self.attrs: dict[str, Any] = dict(attrs)
        self.paused_total = 0.0
        self.paused_since: float | None = None

    def elapsed(self, now: float | None = None) -> float:
        now = time.time() if now is None else now
        paused = self.paused_total + ((now - self.paused_since) if self.paused_since else 0.0)
        return max(0.0, now - self.created - paused)

    def state(self, now: float | None = None) -> tuple[str, float, bool]:
        """(vendor_state, progress 0-100, finished)."""
        if self.stopped_state is not None:
            return self.stopped_state, self._progress(self.elapsed(self.stopped_at)), True
        elapsed = self.elapsed(now)
        if self.paused_since is not None:
            return self.life.extra.get("paused_state", "PAUSED"), self._progress(elapsed), False
        acc = 0.0
        for vendor_state, seconds in self.life.steps:
            acc += seconds
            if elapsed < acc:
                return vendor_state, self._progress(elapsed), False
        return self.life.final, 100.0, True

    def _progress(self, elapsed: float) -> float:
        states = self.life.progress_states
        steps = self.life.steps
        if states is None:
            states = tuple(s for s, _ in steps[1:]) or tuple(s for s, _ in steps)
        span = sum(sec for s, sec in steps if s in states)
        if span <= 0:
            return 100.0 if elapsed >= self.life.total() else 0.0
        done = 0.0
        acc = 0.0
        for vendor_state, seconds in steps:
            if vendor_state in states:
                done += max(0.0, min(seconds, elapsed - acc))
            acc += seconds
        return round(100.0 * done / span, 1)

    @property
    def finished(self) -> bool:
        return self.state()[2]

    @property
    def ended_at(self) -> float | None:
        if self.stopped_at is not None:
            return self.stopped_at
        if self.finished:
            return self.created + self.paused_total + self.life.total()
        return None

    def vanished(self) -> bool:
        return self.life.vanish_after is not None and time.time() - self.created >= self.life.vanish_after

    def stop(self, state: str) -> None:
        if not self.finished:
            self.stopped_state = state
            self.stopped_at = time.time()

    def pause(self) -> None:
        if self.paused_since is None and not self.finished:
            self.paused_since = time.time()

    def resume(self) -> None:
        if self.paused_since is not None:
            self.paused_total += time.time() - self.paused_since
            self.paused_since = None


# --- faults ----------------------------------------------------------------------------------------
@dataclass
class Fault:
    """One injected misbehaviour, applied to one matching request.

    kind: "status" (answer `status`, optional Retry-After and body), "drop" (close the
    connection without an answer; with `after_handler` the request is processed first),
    "delay" (sleep `seconds`, then answer normally), "malformed" (200 with a broken body; with
    `after_handler` the request is processed first, so a start really starts), "truncate" (the
    request is processed, then its answer is cut off halfway: the headers promise the whole body),
    "html" (an HTML error page with `status`), "expire" (invalidate the vendor's sessions, then
    answer normally), "redirect" (answer `status`, default 302, with `body` as the Location),
    "trickle" (answer 200 one byte every `seconds`, for as long as the client reads).
    """

    kind: str
    status: int = 500
    retry_after: str | None = None
    body: str | None = None
    seconds: float = 0.0
    after_handler: bool = False

    @classmethod
    def parse(cls, spec: Any) -> Fault:
        """A Fault from an int status, a dict, or a short string ("503", "drop", "delay:2")."""
        if isinstance(spec, Fault):
            return spec
        if isinstance(spec, int):
            return cls("status", status=spec)
        if isinstance(spec, dict):
            return cls(**spec)
        text = str(spec)
        if text.isdigit():
            return cls("status", status=int(text))
        kind, _, arg = text.partition(":")
        if kind == "delay":
            return cls("delay", seconds=float(arg or 1))
        if kind == "html":
            return cls("html", status=int(arg or 502))
        if kind == "drop_after":
            return cls("drop", after_handler=True)
        if kind == "malformed_after":
            return cls("malformed", after_handler=True)
        return cls(kind)

    def describe(self) -> str:
        """A short text for reports: "503", "429 (Retry-After 0.2)", "drop", "delay:1.5", "html:502"."""
        if self.kind == "status":
            return f"{self.status}" + (f" (Retry-After {self.retry_after})" if self.retry_after else "")
        if self.kind == "delay":
            return f"delay:{self.seconds:g}"
        if self.kind == "html":
            return f"html:{self.status}"
        if self.kind == "drop" and self.after_handler:
            return "drop_after"
        return self.kind


@dataclass
class FaultRule:
    """Faults armed on one route: each matching request consumes the next one, in order.

    A rule that is not `optional` must be used up: faults still armed when the sandbox is reset are
    reported (`SandboxState.unserved_faults()`), and the `jobs_sandbox` fixture fails the test that armed them.
    """

    vendor: str
    method: str | None
    pattern: re.Pattern[str]
    faults: list[Fault]
    optional: bool = False
    served: int = 0  # faults of this rule already applied

    def matches(self, vendor: str, method: str, path: str) -> bool:
        return (
            self.vendor == vendor
            and (self.method is None or self.method == method)
            and self.pattern.search(path) is not None
        )

    def unserved_report(self) -> dict[str, Any]:
        """What a reset reports of this rule: where it was aimed, and the faults never served."""
        return {"vendor": self.vendor, "path": self.pattern.pattern, "method": self.method,
                "served": self.served, "unserved": [f.describe() for f in self.faults]}


def describe_unserved(reports: Iterable[dict[str, Any]]) -> str:
    """One line per rule, e.g. `spectrum GET /status$: 2 of 3 faults never served: 503, 502`."""
    lines = []
    for r in reports:
        total = r["served"] + len(r["unserved"])
        runs = [(text, len(list(group))) for text, group in itertools.groupby(r["unserved"])]
        left = ", ".join(text if n == 1 else f"{text} (x{n})" for text, n in runs)
        lines.append(f"{r['vendor']} {r['method'] or 'any method'} {r['path']!r}: {len(r['unserved'])} of {total} "
                     f"fault(s) never served: {left}")
    return "\n".join(lines)


@dataclass
class Served:
    """One request the sandbox received, in order of arrival; `status` is None until it is answered (and
    stays None for a dropped connection)."""

    vendor: str
    method: str
    path: str
    query: str
    status: int | None
    at: float
    fault: str | None = None
    agent: str = ""  # the client's User-Agent: tells requests (a worker) from aiohttp (the triggerer)
    peer: str = ""  # the client's "host:port": tells one client process from another (make e2e-cluster)


class SandboxState:
    """What every vendor site shares: faults, the request log, and a lock for both."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.log: list[Served] = []
        self.lock = threading.Lock()
        self.sites: dict[str, Any] = {}

    def add_fault(
        self, vendor: str, path_regex: str, faults: Iterable[Any], method: str | None = None,
        optional: bool = False,
    ) -> FaultRule:
        rule = FaultRule(vendor, method.upper() if method else None, re.compile(path_regex),
                         [Fault.parse(f) for f in faults], optional=optional)
        with self.lock:
            self.rules.append(rule)
        return rule

    def next_fault(self, vendor: str, method: str, path: str) -> Fault | None:
        with self.lock:
            for rule in self.rules:
                if rule.faults and rule.matches(vendor, method, path):
                    fault = rule.faults.pop(0)
                    rule.served += 1
                    if not rule.faults:
                        self.rules.remove(rule)
                    return fault
        return None

    def unserved_faults(self) -> list[dict[str, Any]]:
        """The armed faults no request has consumed yet, per rule (optional rules left out)."""
        with self.lock:
            return [rule.unserved_report() for rule in self.rules if rule.faults and not rule.optional]

    def clear_faults(self) -> list[dict[str, Any]]:
        """Drop every armed fault; returns those that were required and never served."""
        with self.lock:
            unserved = [rule.unserved_report() for rule in self.rules if rule.faults and not rule.optional]
            self.rules.clear()
        return unserved

    def record(self, served: Served) -> None:
        with self.lock:
            self.log.append(served)

    def requests(
        self, vendor: str | None = None, method: str | None = None, path_regex: str | None = None
    ) -> list[Served]:
        with self.lock:
            items = list(self.log)
        pattern = re.compile(path_regex) if path_regex else None
        return [
            s
            for s in items
            if (vendor is None or s.vendor == vendor)
            and (method is None or s.method == method.upper())
            and (pattern is None or pattern.search(s.path))
        ]


def decoded_authorization(request: web.Request, scheme: str = "basic") -> str | None:
    """The base64 value of an `Authorization: <scheme> <base64>` header, decoded (e.g. "user:password");
    None when the header is absent, of another scheme, or not base64 text."""
    kind, _, value = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != scheme.lower():
        return None
    try:
        return base64.b64decode(value.strip()).decode()
    except Exception:
        return None


def session_user(sessions: dict[str, dict[str, Any]], token: str | None, idle_timeout: float) -> str | None:
    """The user of a live session, its use recorded; None for an unknown token or a session that was idle
    longer than `idle_timeout` or is past its hard `expires` (either is dropped)."""
    session = sessions.get(token or "")
    if session is None:
        return None
    now = time.time()
    if now - session["last_used"] > idle_timeout or now >= session.get("expires", float("inf")):
        sessions.pop(token or "", None)
        return None
    session["last_used"] = now
    return session["user"]


def json_response(data: Any, status: int = 200, **kwargs: Any) -> web.Response:
    return web.Response(
        text=json.dumps(data), status=status, content_type="application/json", **kwargs
    )


def fault_middleware(state: SandboxState, vendor: str, on_expire: Callable[[], None]):
    """aiohttp middleware for one vendor site: logs each request and applies injected faults."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        path = request.path
        # path relative to the vendor's mount point
        prefix = f"/{vendor}"
        rel = path[len(prefix):] if path.startswith(prefix) else path
        fault = state.next_fault(vendor, request.method, rel)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        served = Served(vendor, request.method, rel, request.query_string, None, time.time(),
                        fault.kind if fault else None, request.headers.get("User-Agent", ""),
                        f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "")
        # logged on arrival (status None until answered): a request the client gave up on (a delay past its
        # timeout) is in the log of the test that made it, not in a later test's after a reset
        state.record(served)
        try:
            if fault is not None:
                if fault.kind == "delay":
                    if request.body_exists:  # received before the wait, as a server would have it
                        await request.read()
                    await asyncio.sleep(fault.seconds)
                elif fault.kind == "expire":
                    on_expire()
                elif fault.kind == "status":
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    body = fault.body if fault.body is not None else json.dumps({"error": "injected fault"})
                    served.status = fault.status
                    return web.Response(text=body, status=fault.status, headers=headers,
                                        content_type="application/json")
                elif fault.kind == "redirect":
                    status = fault.status if 300 <= fault.status < 400 else 302
                    served.status = status
                    return web.Response(status=status, headers={"Location": fault.body or "/"})
                elif fault.kind == "trickle":
                    served.status = 200
                    slow = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
                    slow.content_length = 1_000_000
                    await slow.prepare(request)
                    for _ in range(int(600 / max(fault.seconds, 0.01))):  # bounded: at most ten minutes
                        if request.transport is None or request.transport.is_closing():
                            break
                        await slow.write(b" ")
                        await asyncio.sleep(fault.seconds)
                    return slow
                elif fault.kind == "html":
                    served.status = fault.status
                    return web.Response(
                        text="<html><head><title>Bad Gateway</title></head><body><h1>502 Bad Gateway"
                        "</h1><p>The upstream server did not answer.</p></body></html>",
                        status=fault.status, content_type="text/html")
                elif fault.kind == "malformed":
                    if fault.after_handler:
                        await handler(request)
                    served.status = 200
                    return web.Response(text='{"status": "succ', status=200, content_type="application/json")
                elif fault.kind == "truncate":
                    answer = await handler(request)
                    cut_body = answer.body if isinstance(answer.body, bytes) else b""
                    served.status = answer.status
                    cut = web.StreamResponse(status=answer.status, headers={"Content-Type": answer.content_type})
                    cut.content_length = max(2, len(cut_body))
                    await cut.prepare(request)
                    await cut.write(cut_body[: len(cut_body) // 2])
                    if request.transport is not None:
                        request.transport.abort()
                    raise ConnectionResetError("injected truncation")
                elif fault.kind == "drop":
                    if fault.after_handler:
                        await handler(request)
                    served.status = None
                    transport = request.transport
                    if transport is not None:
                        transport.abort()
                    raise ConnectionResetError("injected drop")
            response = await handler(request)
            served.status = response.status
            return response
        except web.HTTPException as exc:
            served.status = exc.status
            raise

    return middleware
