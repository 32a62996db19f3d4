"""Request descriptions, the one retry policy and response classifier, and the two transports.

A vendor hook never does I/O. It describes a call as an :class:`ApiRequest`; an *operation* is a
generator that yields requests (and other :class:`Step` s) and receives their answers. The same
operation is driven by the sync driver (requests, on a worker) or the async one (aiohttp, in the
triggerer); only the drivers and the two transports know which side they are on.
"""

from __future__ import annotations

import asyncio
import email.utils
import enum
import json as jsonlib
import logging
import random
import re
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import aiohttp
import requests
import urllib3

from airflow_provider_jobs.core.errors import (
    AmbiguousStartError,
    ApiError,
    ConfigurationError,
    MalformedResponseError,
    TransientApiError,
    excerpt,
)
from airflow_provider_jobs.core.records import quick_init

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Same-host redirects followed for one call; a redirect to another host is never followed.
MAX_REDIRECTS = 5
#: The default cap on an answer read into memory: job APIs answer in kilobytes; a huge answer is a fault.
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
#: For a request that is not idempotent (a job start), these answers do not prove the vendor
#: did nothing: a gateway may have timed out while the backend started the job.
AMBIGUOUS_STATUSES = frozenset({500, 502, 504})

ReadAs = Literal["json", "text", "bytes", "none", "file"]


#: A segment made only of characters quote(safe="") leaves as they are.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+\Z").match


def path_segment(value: Any) -> str:
    """Encode one URL path segment: `/`, `?`, `#`, spaces cannot escape into another endpoint.

    An empty, `.` or `..` id is refused: HTTP clients decode `%2E%2E` and normalise the path, so no
    encoding keeps such an id from changing which endpoint is called.
    """
    text = value if type(value) is str else str(value)
    if _UNRESERVED(text) and text not in (".", ".."):
        return text  # what quote() would return, at a fraction of its cost (a poll encodes an id or two)
    if text in ("", ".", ".."):
        raise ConfigurationError(
            "id", f"{text!r} cannot be part of a URL path (it would name another endpoint)",
            "Give the real id of the job, task or run.",
        )
    quoted = _QUOTED.get(text)
    if quoted is None:
        quoted = quote(text, safe="")
        if len(_QUOTED) < _QUOTED_KEPT:
            _QUOTED[text] = quoted
    return quoted


#: Encoded segments that need encoding (NEXUS IC's `{GUID}` job ids), kept: every poll of a run encodes its id
#: again, and quote() is most of what path_segment costs (a GUID: 2.5 -> 0.2 us per call, once per NEXUS IC poll).
_QUOTED: dict[str, str] = {}
_QUOTED_KEPT = 20_000


@quick_init
@dataclass(frozen=True)
class ApiRequest:
    """One HTTP call, described; the core executes it.

    `path` is relative to the hook's base URL unless it starts with http:// or https://.
    `endpoint` names the call in errors and logs (never a URL with a secret in it).
    `accept` lists non-2xx statuses that are an answer to parse rather than an error.
    `base` says which of its base URLs the hook joins `path` to: None for its one default; a hook with
    several (Informatica's POD, OCAPI's SCAPI and token hosts) names them with its own StrEnum, which only
    that hook's base_url() and auth read.
    """

    method: str
    path: str
    endpoint: str = ""
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    authenticated: bool = True
    idempotent: bool | None = None
    accept: frozenset[int] = frozenset()
    read: ReadAs = "json"
    save_to: str | None = None
    timeout: float | None = None
    base: enum.StrEnum | None = None

    @property
    def is_idempotent(self) -> bool:
        if self.idempotent is not None:
            return self.idempotent
        return self.method.upper() in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")

    @property
    def label(self) -> str:
        return self.endpoint or f"{self.method.upper()} {self.path.split('?')[0]}"


@dataclass
class ApiResponse:
    """A vendor's answer, read according to the request's `read`."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    request: ApiRequest
    saved_to: str | None = None
    vendor: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode(self.charset, "replace")

    @property
    def charset(self) -> str:
        ctype = self.header("content-type") or ""
        for part in ctype.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return None

    def json(self, *, allow_empty: bool = False) -> Any:
        """The body as JSON; a clear MalformedResponseError (with a short excerpt) otherwise.

        Parsed once: a vendor's error_from() and its parser may both read the same answer.
        """
        parsed = self.__dict__.get("_parsed")
        if parsed is not None:
            return parsed
        if not self.body.strip():
            if allow_empty:
                return None
            raise MalformedResponseError(
                f"{self.vendor} {self.request.label} returned an empty body (HTTP {self.status}) "
                "where JSON was expected",
                vendor=self.vendor,
                endpoint=self.request.label,
                status=self.status,
            )
        try:
            parsed = self._parsed = jsonlib.loads(self.body)
            return parsed
        except ValueError:
            snippet = excerpt(self.body)
            raise MalformedResponseError(
                f"{self.vendor} {self.request.label} returned a body that is not JSON "
                f"(HTTP {self.status}, Content-Type {self.header('content-type') or 'unset'}): {snippet!r}",
                vendor=self.vendor,
                endpoint=self.request.label,
                status=self.status,
                body_excerpt=snippet,
            ) from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (dict); MalformedResponseError for anything else."""
        data = self.json()
        if not isinstance(data, dict):
            raise MalformedResponseError(
                f"{self.vendor} {self.request.label} returned JSON that is not an object: "
                f"{excerpt(self.body)!r}",
                vendor=self.vendor,
                endpoint=self.request.label,
                status=self.status,
            )
        return data


# --- steps an operation can yield besides an ApiRequest ------------------------------------------
@quick_init
@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds (time.sleep on a worker, asyncio.sleep in the triggerer)."""

    seconds: float


@dataclass(frozen=True)
class Login:
    """Obtain a credential for the hook (from the process-wide cache, or by logging in).

    `stale` is the credential a 401 just refused: it is replaced, unless another caller already
    replaced it.
    """

    stale: Any = None


@dataclass(frozen=True)
class Deadline:
    """From now on, no sleep of this operation ends past `at` (epoch seconds; None: no limit). A retry's sleep
    (Retry-After too) that would is cut at `at`, and DeadlineReached is raised into the operation there."""

    at: float | None


@dataclass(frozen=True)
class ReloadConnection:
    """Read the hook's connection again (after a 401): answered True when its credentials changed."""


@dataclass(frozen=True)
class SharedListing:
    """The connection's active runs from a listing shared by the waits of the event loop, no older than
    `max_age` seconds (core/listing.py); None where there is none to share (a worker's sync wait)."""

    max_age: float


@quick_init
@dataclass(frozen=True)
class Transmit:
    """A fully resolved HTTP exchange for a transport."""

    method: str
    url: str
    params: Mapping[str, Any] | None
    headers: Mapping[str, str]
    json: Any
    data: Any
    timeout: float
    read: ReadAs
    save_to: str | None
    origin: ApiRequest = field(repr=False, compare=False, default=None)  # type: ignore[assignment]
    #: The largest answer body read into memory (a file download streams to disk instead).
    max_bytes: int = 0


class TransportFailure(Exception):
    """No HTTP answer. `sent` tells whether the request may have reached the server."""

    def __init__(self, kind: str, sent: bool, detail: str) -> None:
        self.kind = kind
        self.sent = sent
        self.detail = detail
        super().__init__(f"{kind}: {detail}")


Operation = Generator[Any, Any, T]


# --- the one retry policy and classifier --------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, honouring Retry-After."""

    max_attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 300.0
    jitter: float = 0.25

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 1)."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.max_retry_after))
        base = min(self.max_delay, self.initial_delay * (2 ** (attempt - 1)))
        spread = base * self.jitter
        return max(0.0, base + random.uniform(-spread, spread))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class Verdict:
    OK = "ok"
    RETRY = "retry"
    REAUTH = "reauth"
    FAIL = "fail"
    AMBIGUOUS = "ambiguous"


def classify(status: int, request: ApiRequest) -> str:
    """What to do with an HTTP status. The same answer on the sync and async sides."""
    if 200 <= status < 300 or status in request.accept:
        return Verdict.OK
    if status == 401 and request.authenticated:
        return Verdict.REAUTH
    if status in RETRYABLE_STATUSES:
        if not request.is_idempotent and status in AMBIGUOUS_STATUSES:
            return Verdict.AMBIGUOUS
        return Verdict.RETRY
    return Verdict.FAIL


#: Failures that do not heal by sending the same request again.
PERMANENT_FAILURES = frozenset({"TLS error", "invalid request", "response too large"})


def classify_failure(failure: TransportFailure, request: ApiRequest) -> str:
    """What to do when no usable answer came: retry, unless a non-idempotent request may have landed.

    A TLS failure (an untrusted certificate), a request the client refused to send, or an answer over the
    size cap does not heal by retrying; a start whose answer could not be read is still ambiguous.
    """
    if failure.sent and not request.is_idempotent:
        return Verdict.AMBIGUOUS
    if failure.kind in PERMANENT_FAILURES:
        return Verdict.FAIL
    return Verdict.RETRY


def origin_of(url: str) -> tuple[str, str]:
    """(scheme, host:port) of a URL, lower-cased: what "the same host" means for credentials."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, f"{(parts.hostname or '').lower()}:{port}"


def redirect_target(wire: Transmit, response: ApiResponse) -> str | None:
    """The absolute URL a 3xx answer points to, or None when the answer is not a redirect."""
    if response.status not in REDIRECT_STATUSES:
        return None
    location = response.header("Location")
    return urljoin(wire.url, location.strip()) if location else None


def follow_redirect(wire: Transmit, status: int, target: str) -> Transmit:
    """The same call sent to a same-host redirect target (303, and 301/302 after a POST, become a GET)."""
    method = wire.method
    body_kept = status in (307, 308)
    if not body_kept and (status == 303 or method == "POST"):
        method = "GET"
    has_query = bool(urlsplit(target).query)
    return replace(wire, method=method, url=target, params=None if has_query else wire.params,
                   json=wire.json if body_kept else None, data=wire.data if body_kept else None)


# --- the two transports ---------------------------------------------------------------------------
def _tls_verify(verify: bool | str) -> bool | str:
    return verify


_QUERY = re.compile(r"\?[^\s\"']*")


class QueryRedactingFilter(logging.Filter):
    """Drop query strings from HTTP client log records: a vendor may carry a secret there (NEXUS `hash`),
    and urllib3 logs every request line at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "?" in record.msg:
            record.msg = _QUERY.sub("?<query redacted>", record.msg)
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "?" in a for a in record.args):
            record.args = tuple(_QUERY.sub("?<query redacted>", a) if isinstance(a, str) else a for a in record.args)
        return True


def install_query_redaction(logger_name: str = "urllib3.connectionpool") -> None:
    """Attach the redacting filter once to a logger that writes request URLs."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, QueryRedactingFilter) for f in logger.filters):
        logger.addFilter(QueryRedactingFilter())


# The sync side's total time limit: requests has connect and read timeouts only, so a server that trickles a
# byte at a time would hold a worker for ever. Each call runs under a timer that, when the total limit passes,
# shuts the socket of the connection the call is using (recorded by the connection classes below).
_calls = threading.local()


def _note_connection(conn: Any) -> None:
    box = getattr(_calls, "box", None)
    if box is not None:
        box["conn"] = conn


class _TimedHTTPConnection(urllib3.connection.HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> Any:
        _note_connection(self)
        return super().request(*args, **kwargs)


class _TimedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> Any:
        _note_connection(self)
        return super().request(*args, **kwargs)


class _TimedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _TimedHTTPConnection


class _TimedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _TimedHTTPSConnection


class _TimedAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _TimedHTTPPool, "https": _TimedHTTPSPool}


def _cut_off(box: dict[str, Any]) -> None:
    box["expired"] = True
    sock = getattr(box.get("conn"), "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


#: Seconds a sync call may take to connect, at most (the rest of its limit is for the answer).
CONNECT_TIMEOUT = 10.0


class SyncTransport:
    """requests.Session with a keep-alive pool, one per hook instance; every call has a total time limit."""

    def __init__(self, verify: bool | str = True, pool_size: int = 10) -> None:
        install_query_redaction()
        self.session = requests.Session()
        adapter = _TimedAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.verify = _tls_verify(verify)

    def send(self, wire: Transmit, vendor: str) -> ApiResponse:
        box: dict[str, Any] = {"conn": None, "expired": False}
        timer = threading.Timer(wire.timeout, _cut_off, (box,))
        timer.daemon = True
        _calls.box = box
        timer.start()
        try:
            return self._send(wire, vendor)
        except TransportFailure:
            if box["expired"]:
                raise TransportFailure("total time limit", True, f"no whole answer within {wire.timeout:g}s") from None
            raise
        finally:
            timer.cancel()
            _calls.box = None

    def _send(self, wire: Transmit, vendor: str) -> ApiResponse:
        request = wire.origin
        try:
            with self.session.request(
                wire.method,
                wire.url,
                params=wire.params,
                headers=dict(wire.headers),
                json=wire.json,
                data=wire.data,
                timeout=(min(CONNECT_TIMEOUT, wire.timeout), wire.timeout),
                verify=self.verify,
                stream=True,
                allow_redirects=False,
            ) as resp:
                saved = None
                if wire.read == "file" and 200 <= resp.status_code < 300 and wire.save_to:
                    with open(wire.save_to, "wb") as fh:
                        for chunk in resp.iter_content(chunk_size=65536):
                            fh.write(chunk)
                    body = b""
                    saved = wire.save_to
                else:
                    _check_declared_size(resp.headers.get("Content-Length"), wire.max_bytes)
                    parts: list[bytes] = []
                    size = 0
                    for chunk in resp.iter_content(chunk_size=65536):
                        size += len(chunk)
                        if wire.max_bytes and size > wire.max_bytes:
                            raise _too_large(wire.max_bytes)
                        parts.append(chunk)
                    body = b"".join(parts)
                return ApiResponse(resp.status_code, dict(resp.headers), body, request, saved, vendor)
        except requests.exceptions.ConnectTimeout as exc:
            raise TransportFailure("connect timeout", False, _short(exc)) from None
        except requests.exceptions.ReadTimeout as exc:
            raise TransportFailure("read timeout", True, _short(exc)) from None
        except requests.exceptions.SSLError as exc:
            raise TransportFailure("TLS error", False, _short(exc)) from None
        except requests.exceptions.ConnectionError as exc:
            text = repr(exc)
            refused = "NewConnectionError" in text or "Failed to establish" in text
            raise TransportFailure(
                "connection refused" if refused else "connection reset", not refused, _short(exc)
            ) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
                urllib3.exceptions.HTTPError) as exc:
            raise TransportFailure("connection reset", True, _short(exc)) from None
        except ValueError as exc:  # InvalidHeader, InvalidURL, ... (requests' errors are OSErrors too)
            # e.g. a header value with a line break (a secret read with its trailing newline): the client
            # refused to send it. Only the class name is kept: the library's message quotes the value.
            raise TransportFailure("invalid request", False, _short(exc)) from None
        except OSError as exc:  # any other RequestException, or the socket shut at the time limit
            raise TransportFailure("connection reset", True, _short(exc)) from None

    def close(self) -> None:
        self.session.close()


def _too_large(limit: int) -> TransportFailure:
    return TransportFailure("response too large", True, f"the answer is larger than {limit} bytes")


def _check_declared_size(declared: str | None, limit: int) -> None:
    if limit and declared and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit)


def _short(exc: BaseException) -> str:
    # Exceptions from HTTP clients may repeat the URL, which can carry a secret query
    # parameter: keep only the exception's class name.
    return type(exc).__name__


_ssl_contexts: dict[str, ssl.SSLContext] = {}


def _aiohttp_ssl(verify: bool | str) -> bool | ssl.SSLContext:
    if verify is False:
        return False
    if verify is True:
        return True
    ctx = _ssl_contexts.get(verify)
    if ctx is None:
        ctx = ssl.create_default_context(cafile=verify)
        _ssl_contexts[verify] = ctx
    return ctx


#: aiohttp connection pool size shared by every trigger of one event loop.
ASYNC_POOL_SIZE = 100

_loop_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
    weakref.WeakKeyDictionary()
)
_loop_keepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()


async def _session_keeper(session: aiohttp.ClientSession):
    # An async generator parked at its yield: when the loop shuts down its async generators
    # (asyncio.run does), the finally clause closes the shared session.
    try:
        yield
    finally:
        await session.close()


async def loop_session() -> aiohttp.ClientSession:
    """The one aiohttp session of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    session = _loop_sessions.get(loop)
    if session is None or session.closed:
        connector = aiohttp.TCPConnector(limit=ASYNC_POOL_SIZE, keepalive_timeout=30)
        session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        _loop_sessions[loop] = session
        keeper = _session_keeper(session)
        await keeper.asend(None)
        _loop_keepers[loop] = keeper
    return session


#: aiohttp.ClientTimeout objects by total seconds (immutable; one per distinct timeout, not per call).
_timeouts: dict[float | None, aiohttp.ClientTimeout] = {}


class AsyncTransport:
    """aiohttp over the event loop's shared session."""

    def __init__(self, verify: bool | str = True) -> None:
        self.ssl = _aiohttp_ssl(verify)

    async def send(self, wire: Transmit, vendor: str) -> ApiResponse:
        request = wire.origin
        session = _loop_sessions.get(asyncio.get_running_loop())  # no coroutine per call once it exists
        if session is None or session.closed:
            session = await loop_session()
        params = {k: str(v) for k, v in wire.params.items()} if wire.params else None
        timeout = _timeouts.get(wire.timeout)
        if timeout is None:
            timeout = _timeouts[wire.timeout] = aiohttp.ClientTimeout(total=wire.timeout)
        try:
            async with session.request(
                wire.method,
                wire.url,
                params=params,
                headers=wire.headers,  # a fresh dict from the auth strategy: aiohttp only reads it
                json=wire.json,
                data=wire.data,
                timeout=timeout,
                ssl=self.ssl,
                allow_redirects=False,
            ) as resp:
                saved = None
                if wire.read == "file" and 200 <= resp.status < 300 and wire.save_to:
                    # Local disk writes are small and buffered; content downloads run on workers.
                    with open(wire.save_to, "wb") as fh:  # noqa: ASYNC230
                        async for chunk in resp.content.iter_chunked(65536):
                            fh.write(chunk)
                    body = b""
                    saved = wire.save_to
                elif wire.max_bytes and not resp.headers.get("Content-Length"):
                    # no declared length (chunked): read in pieces, counting
                    parts: list[bytes] = []
                    size = 0
                    async for chunk in resp.content.iter_any():
                        size += len(chunk)
                        if size > wire.max_bytes:
                            raise _too_large(wire.max_bytes)
                        parts.append(chunk)
                    body = b"".join(parts)
                else:
                    _check_declared_size(resp.headers.get("Content-Length"), wire.max_bytes)
                    body = await resp.read()
                return ApiResponse(resp.status, dict(resp.headers), body, request, saved, vendor)
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
            raise TransportFailure("TLS error", False, _short(exc)) from None
        except aiohttp.ClientConnectorError as exc:
            raise TransportFailure("connection refused", False, _short(exc)) from None
        except TimeoutError as exc:
            raise TransportFailure("read timeout", True, _short(exc)) from None
        except aiohttp.ClientResponseError as exc:
            raise TransportFailure("malformed response", True, _short(exc)) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError) as exc:
            # ServerDisconnectedError, ClientOSError, ClientConnectionResetError, ...: no whole answer
            raise TransportFailure("connection reset", True, _short(exc)) from None
        except (aiohttp.ClientError, ValueError) as exc:
            # e.g. a header value with a line break: aiohttp refused to send it (its message quotes the value)
            raise TransportFailure("invalid request", False, _short(exc)) from None


# --- URL helpers ----------------------------------------------------------------------------------
def join_url(base: str, path: str) -> str:
    """Join a base URL and a relative path (absolute URLs pass through)."""
    if path.startswith(("http://", "https://")):
        return path
    return base.rstrip("/") + "/" + path.lstrip("/")


def with_timeout(request: ApiRequest, default: float) -> float:
    return request.timeout if request.timeout is not None else default


def error_for_status(vendor: str, response: ApiResponse, code: str | None, detail: str | None) -> ApiError:
    """The exception class for an error answer, by HTTP status."""
    from airflow_provider_jobs.core import errors

    status = response.status
    if detail is None and response.body:
        detail = repr(excerpt(response.body, 120))
    cls: type[ApiError]
    if status in (401, 403) and code is None:
        cls = errors.AuthenticationError if status == 401 else ApiError
    elif status == 401:
        cls = errors.AuthenticationError
    elif status == 404:
        cls = errors.NotFoundError
    elif status in RETRYABLE_STATUSES:
        cls = TransientApiError
    else:
        cls = ApiError
    return cls.from_response(
        vendor,
        response.request.label,
        status,
        code,
        detail,
        body_excerpt=excerpt(response.body) if response.body else None,
    )


def ambiguous(vendor: str, request: ApiRequest, what: str) -> AmbiguousStartError:
    return AmbiguousStartError(
        f"{vendor} {request.label}: {what}; the request may have reached the server, so it is "
        "not sent again blindly",
        vendor=vendor,
        endpoint=request.label,
    )
