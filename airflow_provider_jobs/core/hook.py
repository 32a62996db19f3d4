"""JobApiHook: a connection turned into transports, and operations run sync or async.

A vendor hook subclasses JobApiHook and writes each call once, as an operation (a generator of
ApiRequests that parses the answers). Decorating it with :func:`operation` gives the hook both
`name(...)` (sync, requests) and `aname(...)` (async, aiohttp): no hand-written twins.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
import weakref
from collections.abc import Callable, Coroutine, Hashable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, Generic, ParamSpec, Protocol, TypeVar, overload
from urllib.parse import urlsplit

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.auth import AuthStrategy, Credential, credential_cache
from airflow_provider_jobs.core.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    DeadlineReached,
    JobProviderError,
    NotFoundError,
    TransientApiError,
)
from airflow_provider_jobs.core.http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    MAX_REDIRECTS,
    ApiRequest,
    ApiResponse,
    AsyncTransport,
    Deadline,
    Login,
    Operation,
    ReloadConnection,
    RetryPolicy,
    SharedListing,
    Sleep,
    SyncTransport,
    Transmit,
    TransportFailure,
    Verdict,
    ambiguous,
    classify,
    classify_failure,
    error_for_status,
    follow_redirect,
    join_url,
    origin_of,
    parse_retry_after,
    redirect_target,
    with_timeout,
)
from airflow_provider_jobs.core.inputs import require_conn_id
from airflow_provider_jobs.core.listing import shared_active_runs
from airflow_provider_jobs.core.runs import JobRun, StateVocabulary

if TYPE_CHECKING:
    from airflow.sdk import Connection

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
#: A vendor hook's settings object (what its configure() returns).
SettingsT = TypeVar("SettingsT")
log = logging.getLogger(__name__)


class BoundOperation(Protocol[P, R_co]):
    """What `hook.<name>` is: the sync call, with the operation's steps reachable for composing
    (`result = yield from self.get_run.steps(self, run)`)."""

    @property
    def steps(self) -> Callable[Concatenate[Any, P], Operation[R_co]]: ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


class AsyncBoundOperation(Protocol[P, R_co]):
    """What `hook.a<name>` is: the async call, with the operation's steps reachable."""

    @property
    def steps(self) -> Callable[Concatenate[Any, P], Operation[R_co]]: ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R_co]: ...


class OperationMethod(Generic[P, R]):
    """A hook operation (what :func:`operation` makes): `hook.name(...)` runs it with the sync driver.

    Its async twin is declared next to it, visible to readers, IDEs and type checkers::

        @operation
        def get_run(self, run: JobRun) -> Operation[JobRun]: ...
        aget_run = get_run.asynchronous

    At class creation both become plain functions on the class (no descriptor call on the per-poll path).
    """

    def __init__(self, steps: Callable[Concatenate[Any, P], Operation[R]]) -> None:
        self.steps = steps
        self.name = steps.__name__
        self.__doc__ = steps.__doc__

    @property
    def asynchronous(self) -> AsyncOperationMethod[P, R]:
        """The async twin, `await hook.a<name>(...)`: declare it as `a<name> = <name>.asynchronous`."""
        return AsyncOperationMethod(self)

    def __set_name__(self, owner: type, name: str) -> None:
        steps = self.steps

        @functools.wraps(steps)
        def sync(hook: JobApiHook, *args: Any, **kwargs: Any) -> Any:
            return hook.run_operation(steps(hook, *args, **kwargs))

        sync.steps = steps  # type: ignore[attr-defined]
        setattr(owner, name, sync)

    @overload
    def __get__(self, hook: None, owner: type | None = None) -> OperationMethod[P, R]: ...

    @overload
    def __get__(self, hook: object, owner: type | None = None) -> BoundOperation[P, R]: ...

    def __get__(self, hook: object, owner: type | None = None) -> Any:  # pragma: no cover - replaced at class creation
        raise TypeError(f"operation {self.name!r} was not set on a class")

    def __call__(self, hook: Any, *args: P.args, **kwargs: P.kwargs) -> R:  # pragma: no cover - typing only
        """`Hook.name(hook, ...)`, called on the class."""
        raise TypeError(f"operation {self.name!r} was not set on a class")


class AsyncOperationMethod(Generic[P, R]):
    """The async twin of an operation: `await hook.a<name>(...)` runs it with the async driver."""

    def __init__(self, op: OperationMethod[P, R]) -> None:
        self.op = op
        self.steps = op.steps

    def __set_name__(self, owner: type, name: str) -> None:
        if name != "a" + self.op.name:
            raise TypeError(f"{owner.__qualname__}.{name}: the async twin of {self.op.name!r} must be named "
                            f"'a{self.op.name}'")
        steps = self.steps

        @functools.wraps(steps)
        async def async_(hook: JobApiHook, *args: Any, **kwargs: Any) -> Any:
            return await hook.arun_operation(steps(hook, *args, **kwargs))

        async_.steps = steps  # type: ignore[attr-defined]
        async_.__name__ = async_.__qualname__ = name
        setattr(owner, name, async_)

    @overload
    def __get__(self, hook: None, owner: type | None = None) -> AsyncOperationMethod[P, R]: ...

    @overload
    def __get__(self, hook: object, owner: type | None = None) -> AsyncBoundOperation[P, R]: ...

    def __get__(self, hook: object, owner: type | None = None) -> Any:  # pragma: no cover - replaced at class creation
        raise TypeError(f"operation {self.op.name!r} was not set on a class")

    async def __call__(self, hook: Any, *args: P.args, **kwargs: P.kwargs) -> R:  # pragma: no cover - typing only
        raise TypeError(f"operation {self.op.name!r} was not set on a class")


def operation(steps: Callable[Concatenate[Any, P], Operation[R]]) -> OperationMethod[P, R]:
    """Turn a generator method (its steps: requests it yields, answers it parses) into a hook operation:
    `hook.name(...)` runs it in a worker; declare `aname = name.asynchronous` for `await hook.aname(...)`.

    The steps stay reachable as `Hook.name.steps` so that operations compose
    (`result = yield from self.get_run.steps(self, run)`).
    """
    return OperationMethod(steps)


def _check_async_twins(cls: type) -> None:
    """Every operation a class defines has its async twin declared in the same class (so it is visible and
    calls that class's steps)."""
    for name, value in vars(cls).items():
        steps = getattr(value, "steps", None)
        if steps is None or inspect.iscoroutinefunction(value):
            continue
        twin = vars(cls).get("a" + name)
        if getattr(twin, "steps", None) is not steps:
            raise TypeError(f"{cls.__qualname__}.{name} is an operation without its async twin: declare "
                            f"'a{name} = {name}.asynchronous' right after it")


#: Parsed extras of the Connection objects read lately, by identity. The triggers of one event loop share
#: one Connection object (see _shared_connection_lookup), and Airflow parses (and masks) the extra JSON on
#: every extra_dejson: thousands of hooks on one connection parse it once.
_EXTRAS_KEPT = 64
_extras_by_conn: dict[int, tuple[Any, Any, dict[str, Any]]] = {}


def _extras_of(conn: Connection) -> dict[str, Any]:
    hit = _extras_by_conn.get(id(conn))
    if hit is not None and hit[0] is conn and hit[1] == conn.extra:
        return hit[2]
    try:
        parsed: dict[str, Any] = conn.extra_dejson or {}
    except Exception:  # pragma: no cover - extra_dejson already guards
        parsed = {}
    while len(_extras_by_conn) >= _EXTRAS_KEPT:
        _extras_by_conn.pop(next(iter(_extras_by_conn)), None)
    _extras_by_conn[id(conn)] = (conn, conn.extra, parsed)
    return parsed


class ConnectionSettings:
    """Read typed values from a Connection's extra, naming the field on bad input.

    Accepts both plain keys and the `extra__<conn_type>__<field>` keys older UIs write.
    """

    def __init__(self, conn: Connection, conn_type: str) -> None:
        self.conn = conn
        self.conn_type = conn_type
        self.extra: dict[str, Any] = _extras_of(conn)  # read only: shared with other readers of conn

    def _raw(self, name: str) -> Any:
        for key in (name, f"extra__{self.conn_type}__{name}"):
            value = self.extra.get(key)
            if isinstance(value, str):
                value = value.strip("\r\n")  # a value pasted or mounted from a file with its line break
            if value not in (None, ""):
                return value
        return None

    def where(self, name: str) -> str:
        return f"connection '{self.conn.conn_id}' extra field '{name}'"

    def get(self, name: str, default: Any = None) -> Any:
        value = self._raw(name)
        return default if value is None else value

    @overload
    def text(self, name: str, default: str) -> str: ...

    @overload
    def text(self, name: str, default: None = None) -> str | None: ...

    def text(self, name: str, default: str | None = None) -> str | None:
        """The field as a stripped string, else `default`."""
        value = self._raw(name)
        return default if value is None else str(value).strip()

    def flag(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ConfigurationError(self.where(name), f"{value!r} is not true or false", "Use true or false.")

    @overload
    def number(self, name: str, default: float) -> float: ...

    @overload
    def number(self, name: str, default: None) -> float | None: ...

    def number(self, name: str, default: float | None) -> float | None:
        """The field as a number of seconds (or a count), not negative, else `default`."""
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigurationError(
                self.where(name), f"{value!r} is not a number", "Give a number of seconds."
            ) from None
        if number < 0:
            raise ConfigurationError(self.where(name), f"{value!r} is negative", "Give a positive number.")
        return number

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self._raw(name)
        if value is None:
            return default
        text = str(value).strip().lower()
        if text not in allowed:
            raise ConfigurationError(
                self.where(name), f"{value!r} is not one of {', '.join(allowed)}", "Pick one of those."
            )
        return text

    def verify(self) -> bool | str:
        """TLS verification: on by default; a CA bundle path (verify_ssl itself, or ca_bundle), or false, only
        when the connection says."""
        value = self._raw("verify_ssl")
        if value is None:
            value = self._raw("verify")
        bundle = self.text("ca_bundle")
        if value is None or value is True:
            return bundle or True
        if value is False:
            return False
        text = str(value).strip()
        if text.lower() in ("true", "1", "yes", "on"):
            return bundle or True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        return text  # a CA bundle path

    def require(self, value: Any, field: str, fix: str) -> Any:
        if value in (None, ""):
            raise ConfigurationError(f"connection '{self.conn.conn_id}' {field}", "is empty", fix)
        return value


#: Connection lookups per event loop, shared: triggers that start together (a triggerer picking up a
#: batch, or restarting with thousands) read their connection once, instead of queueing one lookup
#: each on the secrets backends (whose sync parts run one at a time in a worker thread). A finished
#: lookup still serves callers for LOOKUP_REUSE_SECONDS; a failed one is not reused.
LOOKUP_REUSE_SECONDS = 1.0
_shared_lookups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, tuple[asyncio.Task, list[float]]]] = (
    weakref.WeakKeyDictionary()
)


async def _shared_connection_lookup(conn_id: str) -> Connection:
    """compat.aget_connection(conn_id), shared with the callers of the same moment."""
    loop = asyncio.get_running_loop()
    lookups = _shared_lookups.setdefault(loop, {})
    entry = lookups.get(conn_id)
    if entry is not None:
        task, finished = entry
        if task.done() and (task.cancelled() or task.exception() is not None
                            or loop.time() - finished[0] > LOOKUP_REUSE_SECONDS):
            entry = None
    if entry is None:
        task = loop.create_task(compat.aget_connection(conn_id))
        finished = [0.0]
        entry = lookups[conn_id] = (task, finished)

        def done(_: asyncio.Task, finished: list[float] = finished) -> None:
            finished[0] = loop.time()

        task.add_done_callback(done)
    # shield: a caller that is cancelled does not cancel the lookup the others wait for
    return await asyncio.shield(entry[0])


def base_url_from(conn: Connection, default_scheme: str = "https", default_path: str = "") -> str:
    """An absolute base URL from a connection's host (which may already hold scheme and path)."""
    host = (conn.host or "").strip()
    if not host:
        raise ConfigurationError(
            f"connection '{conn.conn_id}' host",
            "is empty",
            "Set it to the server's address, e.g. https://host.example.com",
        )
    if "://" in host:
        scheme, _, rest = host.partition("://")
        if scheme.lower() not in ("http", "https"):
            raise ConfigurationError(
                f"connection '{conn.conn_id}' host",
                f"has the scheme {scheme!r}",
                "Use http:// or https://",
            )
    else:
        scheme = (conn.schema or "").strip().lower() if (conn.schema or "") in ("http", "https") else ""
        scheme = scheme or default_scheme
        rest = host
    netloc, _, path = rest.partition("/")
    if conn.port and ":" not in netloc:
        netloc = f"{netloc}:{conn.port}"
    path = path.strip("/")
    if not path and default_path:
        path = default_path.strip("/")
    return f"{scheme}://{netloc}" + (f"/{path}" if path else "")


def clean_credentials(conn: Connection) -> None:
    """A secret read from a file often ends with a line break, which HTTP refuses in a header (and whose
    client error quotes the value): strip line breaks around the login and password; refuse other control
    characters in them, naming the field but never the value."""
    for name in ("login", "password"):
        value = getattr(conn, name, None)
        if not isinstance(value, str) or not value:
            continue
        stripped = value.strip("\r\n")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in stripped):
            raise ConfigurationError(
                f"connection '{conn.conn_id}' {name}", "holds a control character (not shown)",
                "Set it again without line breaks, tabs or other control characters.",
            )
        if stripped != value:
            setattr(conn, name, stripped)


@dataclass(frozen=True)
class Call:
    """A step that runs a caller's own primitive inside an operation, one not written as steps (e.g. an operator's
    start, whose worker and triggerer forms differ): the sync driver answers `fn()`, the async driver `await fn()`
    (so a worker's drive is given a plain function, the triggerer's a coroutine function). What it raises is
    raised into the operation."""

    fn: Callable[[], Any]


@dataclass(frozen=True)
class _SleepToDeadline:
    """A sleep cut at the operation's deadline; then DeadlineReached is raised into the operation."""

    seconds: float
    at: float

    def reached(self) -> DeadlineReached:
        return DeadlineReached(f"the deadline ({self.at:.0f}) came during a retry's wait")


def _bounded(step: Any, deadline: float) -> Any:
    """A step that cannot outlast `deadline`: a sleep past it is cut there; a call's time limit is cut to the
    time left (at least a second, so that a call can still be made at the deadline)."""
    kind = type(step)
    if kind is Sleep:
        left = deadline - time.time()
        if step.seconds > left + 0.05:  # (a sleep that ends at the deadline, as the wait's own does, is kept)
            return _SleepToDeadline(max(0.0, left), deadline)
    elif kind is Transmit:
        left = max(1.0, deadline - time.time())
        if step.timeout > left:
            return replace(step, timeout=left)
    return step


#: Longest pause between two looks for a run that may not be visible yet (read_recorded_run,
#: find_run_started_since: they look for up to the hook's start_visibility_lag).
VISIBILITY_LOOK_INTERVAL = 2.0


#: JobApiHook._next_step()'s marker for "the outermost operation returned".
_DONE = object()


class _Walk:
    """One drive of an operation: the stack of operations in progress and the deadline they set."""

    __slots__ = ("deadline", "stack")

    def __init__(self, op: Operation[Any]) -> None:
        self.stack: list[Any] = [op]
        self.deadline: float | None = None


class JobApiHook(compat.BaseHook, Generic[SettingsT]):
    """Base of the five vendor hooks: connection parsing, auth, retries, sync + async I/O.

    Subclasses set the class attributes, implement `configure()` (connection -> settings,
    validated) and `auth_strategy()`, and declare their calls with :func:`operation`.
    """

    conn_name_attr = "conn_id"
    default_conn_name: ClassVar[str] = ""
    conn_type: ClassVar[str] = ""
    hook_name: ClassVar[str] = ""
    #: The vendor's short name, as in JobRun.vendor.
    vendor: ClassVar[str] = ""
    #: The vendor's state words.
    states: ClassVar[StateVocabulary]
    #: Whether the vendor has a call that cancels a running job.
    can_cancel: ClassVar[bool] = False
    #: Default seconds between status polls for this vendor.
    default_poll_interval: ClassVar[float] = 15.0
    #: Whether the vendor lists every queued or running run in one call (list_active_runs): the waits of
    #: one event loop on the same connection then share that call (core/listing.py).
    lists_active_runs: ClassVar[bool] = False
    #: What one entry of that listing costs the client, as a share of one status call: a listing is
    #: taken only when the reads it answers outweigh its entries.
    listing_entry_cost: ClassVar[float] = 0.05

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_async_twins(cls)
        # Airflow < 3.2 reads connection forms from methods defined on the hook class itself.
        form = getattr(inspect.getmodule(cls), "CONNECTION_FORM", None)
        if compat.LEGACY_CONNECTION_FORMS and form and form.get("connection-type") == cls.conn_type:
            cls.get_connection_form_widgets = classmethod(  # type: ignore[method-assign,assignment]
                lambda c: compat.legacy_form_widgets(form["conn-fields"])
            )
            cls.get_ui_field_behaviour = classmethod(  # type: ignore[method-assign,assignment]
                lambda c: compat.legacy_field_behaviour(form["ui-field-behaviour"])
            )

    def __init__(
        self,
        conn_id: str | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        request_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs) if kwargs else super().__init__()
        self.conn_id = require_conn_id(conn_id or None, self.default_conn_name)
        self._retry_policy = retry_policy
        self._request_timeout = request_timeout
        self._settings: SettingsT | None = None
        self._auth: AuthStrategy | None = None
        self._cache_key_of: AuthStrategy | None = None
        self._cache_key_value = ""
        self._sync: SyncTransport | None = None
        self._async: AsyncTransport | None = None
        self._listing_scope: str | None = None

    # -- to implement ---------------------------------------------------------------------------
    def configure(self, conn: Connection) -> SettingsT:
        """Validate the connection and return this vendor's settings object."""
        raise NotImplementedError

    def auth_strategy(self) -> AuthStrategy:
        """The auth strategy for the configured settings."""
        raise NotImplementedError

    def base_url(self, request: ApiRequest) -> str:
        """The base URL a relative request path is joined to (by default the settings' `base_url`)."""
        settings: Any = self.settings
        return settings.base_url

    def error_from(self, response: ApiResponse) -> ApiError | None:
        """The vendor's error for an answer, or None if it is not one.

        Called for every answer: vendors that report failures with HTTP 200 check the body here.
        The default parses nothing and classifies by status.
        """
        if response.ok or response.status in response.request.accept:
            return None
        return error_for_status(self.vendor, response, None, None)

    def run_url(self, run: JobRun) -> str | None:
        """A link to the run in the vendor's UI."""
        return None

    def no_cancel_message(self, run: JobRun) -> str:
        """What the log says when a run cannot be cancelled (the vendor has no cancel call)."""
        return f"{self.hook_name or self.vendor} has no cancel call: {run.describe()} goes on remotely"

    # -- the standard job calls (vendors declare them with @operation) --------------------------
    @operation
    def start_run(self, *args: Any, **options: Any) -> Operation[JobRun]:  # pragma: no cover
        """`(job, **options)`: start a run of `job`; returns it (usually QUEUED or RUNNING)."""
        raise NotImplementedError
        yield  # an operation

    astart_run = start_run.asynchronous

    @operation
    def get_run(self, run: JobRun) -> Operation[JobRun]:  # pragma: no cover - overridden
        """`run` as the vendor shows it now."""
        raise NotImplementedError
        yield  # an operation

    aget_run = get_run.asynchronous

    @operation
    def find_active_run(self, *args: Any, **options: Any) -> Operation[JobRun | None]:  # pragma: no cover
        """`(job, **options)`: a run of `job` that is queued or running now, if the vendor can tell."""
        raise NotImplementedError
        yield  # an operation

    afind_active_run = find_active_run.asynchronous

    @operation
    def cancel_run(self, run: JobRun) -> Operation[bool]:  # pragma: no cover - overridden where possible
        """Cancel `run`: True when the vendor took the cancel, False when there was nothing of ours to stop."""
        raise NotImplementedError
        yield  # an operation

    acancel_run = cancel_run.asynchronous

    # -- one task, one run: what recovery after an ambiguous start compares with -----------------------
    #: Seconds a run that was just started may take to show in the vendor's listings: recovery after an
    #: ambiguous start (or a worker lost between the start and its record) looks for it this long before it
    #: concludes that nothing started.
    start_visibility_lag: float = 10.0

    @operation
    def start_marker(self, *args: Any, **options: Any) -> Operation[dict[str, Any]]:
        """`(job, **options)`: what the vendor shows of `job` just before a start (its latest run id, history id
        or start time), as plain JSON values: find_started_run() compares with it. The default records only our
        clock."""
        return {"at": time.time()}
        yield  # pragma: no cover - an operation

    astart_marker = start_marker.asynchronous

    @operation
    def find_started_run(self, *args: Any, **options: Any) -> Operation[JobRun | None]:
        """`(job, marker, **options)`: the run of `job` that began after `marker` was taken, in whatever state it
        is now (a short job may have finished already); None when the vendor shows no such run. Raises
        NotImplementedError where the vendor has no way to tell."""
        raise NotImplementedError
        yield  # pragma: no cover - an operation

    afind_started_run = find_started_run.asynchronous

    @operation
    def read_recorded_run(self, run: JobRun) -> Operation[JobRun]:
        """A run recorded earlier (a retry's ledger), as the vendor shows it now. A run the vendor does not show is
        read again for up to start_visibility_lag (a vendor may hide a run briefly, e.g. between two listings)
        before its NotFoundError is raised: forgetting a run that was only out of sight would start a second one.

        :param run: the recorded run (its ids and details, as the ledger kept them)
        """
        give_up = time.time() + self.start_visibility_lag
        while True:
            try:
                return (yield from self.get_run.steps(self, run))
            except NotFoundError:
                left = give_up - time.time()
                if left <= 0:
                    raise
                yield Sleep(min(VISIBILITY_LOOK_INTERVAL, left))

    aread_recorded_run = read_recorded_run.asynchronous

    @operation
    def find_run_started_since(self, job: str, marker: Mapping[str, Any], **options: Any) -> Operation[JobRun | None]:
        """find_started_run(), looked for again until it finds the run or start_visibility_lag is over (a run
        just started may take that long to show in the vendor's listings): the run of `job` begun since `marker`,
        or None when the vendor still shows none. Raises NotImplementedError where the vendor has no way to tell.

        :param job: the job, as start_run() takes it
        :param marker: what start_marker() returned just before the start
        :param options: the start's vendor options, as start_run() takes them
        """
        give_up = time.time() + self.start_visibility_lag
        while True:
            found = yield from self.find_started_run.steps(self, job, marker, **options)
            left = give_up - time.time()
            if found is not None or left <= 0:
                return found
            yield Sleep(min(VISIBILITY_LOOK_INTERVAL, left))

    afind_run_started_since = find_run_started_since.asynchronous

    @operation
    def list_recent_runs(self, job: str, **options: Any) -> Operation[list[JobRun]]:
        """The job's recent runs (running and ended) as the vendor lists them, oldest first: what an event
        trigger (core/events.py) watches. Raises NotImplementedError where the vendor lists no runs of a job."""
        raise NotImplementedError
        yield  # pragma: no cover - an operation

    alist_recent_runs = list_recent_runs.asynchronous

    # -- shared status reads (vendors with lists_active_runs implement the three below) ------------
    @operation
    def list_active_runs(self) -> Operation[Mapping[Any, Any]]:  # pragma: no cover - overridden where listed
        """Every queued or running run the connection sees, as {listing_key: the vendor's entry}."""
        raise NotImplementedError
        yield  # an operation

    alist_active_runs = list_active_runs.asynchronous

    def listing_key(self, run: JobRun) -> Hashable:
        """The key of `run` in list_active_runs(); None for a run no listing shows (it is read on its own)."""
        return run.run_id

    def run_from_listing(self, run: JobRun, entry: Any) -> JobRun | None:  # pragma: no cover
        """`run` as its listing entry shows it; None if the entry does not say (get_run reads it then)."""
        raise NotImplementedError

    def listing_scope(self) -> str:
        """Whose listing this hook may share: the same hook class, connection and credential."""
        if self._listing_scope is None:
            self._listing_scope = f"{type(self).__module__}.{type(self).__qualname__}:{self._cache_key()}"
        return self._listing_scope

    def read_run(self, run: JobRun, max_age: float = 0.0) -> Operation[JobRun]:
        """The run's state: in the triggerer, from the connection's shared listing of active runs where
        the vendor has one (no older than `max_age` seconds); else, and for a run the listing does not
        show, from get_run."""
        key = self.listing_key(run) if max_age > 0 and self.lists_active_runs and self.share_status_reads else None
        if key is not None:
            entries = yield SharedListing(max_age)
            if entries is not None:
                entry = entries.get(key)
                if entry is not None:
                    fresh = self.run_from_listing(run, entry)
                    if fresh is not None:
                        return fresh
        return (yield from self.get_run.steps(self, run))

    # -- settings ---------------------------------------------------------------------------------
    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy given to the hook, else one from the connection's extra, else the default."""
        if self._retry_policy is None:
            self._retry_policy = getattr(self, "_connection_retry_policy", None) or RetryPolicy()
        return self._retry_policy

    @property
    def share_status_reads(self) -> bool:
        """Whether the connection lets waits share a listing of active runs (extra share_status_reads)."""
        self.settings  # noqa: B018 - the connection's extra sets it
        return self._share_status_reads

    @property
    def request_timeout(self) -> float:
        if self._request_timeout is None:
            self._request_timeout = getattr(self, "_connection_request_timeout", None) or 60.0
        return self._request_timeout

    @property
    def settings(self) -> SettingsT:
        """This vendor's settings from the connection (read, checked and kept on first use)."""
        if self._settings is None:
            self._settings = self._configure(compat.get_connection(self.conn_id))
        return self._settings

    async def aload_settings(self) -> SettingsT:
        """The settings, reading the connection without blocking the event loop."""
        if self._settings is None:
            self._settings = self._configure(await _shared_connection_lookup(self.conn_id))
        return self._settings

    def _configure(self, conn: Connection) -> SettingsT:
        if conn.conn_type and self.conn_type and conn.conn_type != self.conn_type:
            log.warning(
                "Connection '%s' has type %r; %s expects %r.",
                self.conn_id,
                conn.conn_type,
                type(self).__name__,
                self.conn_type,
            )
        common = ConnectionSettings(conn, self.conn_type)
        default = RetryPolicy()
        self._connection_retry_policy = RetryPolicy(
            max_attempts=int(common.number("max_attempts", default.max_attempts) or 1),
            initial_delay=common.number("retry_initial_delay", default.initial_delay),
            max_delay=common.number("retry_max_delay", default.max_delay),
        )
        self._connection_request_timeout = common.number("request_timeout", 60.0)
        self._share_status_reads = common.flag("share_status_reads", True)
        self._max_response_bytes = int(common.number("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES) or 0)
        clean_credentials(conn)
        settings = self.configure(conn)
        verify = getattr(settings, "verify", True)
        if verify is False:
            log.warning(
                "TLS certificate verification is OFF for connection '%s' (its extra says so): "
                "only use this against a server you trust on a network you trust.",
                self.conn_id,
            )
        return settings

    def _reload(self, conn: Connection) -> bool:
        """Take the connection as it is now; True when its credentials differ from the ones in use (a rotated
        secret), so that the caller logs in with the new ones."""
        before = self.auth.cache_identity()
        settings = self._configure(conn)
        self._settings, self._auth, self._listing_scope = settings, None, None
        changed = self.auth.cache_identity() != before
        if changed:
            log.info("Connection '%s' has new credentials since this hook read it; using them.", self.conn_id)
        return changed

    @property
    def max_response_bytes(self) -> int:
        """The largest answer read into memory (connection extra max_response_bytes)."""
        return getattr(self, "_max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES)

    @property
    def auth(self) -> AuthStrategy:
        if self._auth is None:
            self._auth = self.auth_strategy()
        return self._auth

    def _cache_key(self) -> str:
        """The credential cache's key: vendor, connection and a digest of the secret, kept per auth strategy (a
        re-read connection replaces it; a hook may switch strategies, as OCAPI does between OCAPI and SCAPI)."""
        auth = self.auth
        if self._cache_key_of is not auth:
            self._cache_key_value, self._cache_key_of = f"{self.vendor}:{self.conn_id}:{auth.cache_identity()}", auth
        return self._cache_key_value

    # -- the exchange: one request, with auth, retries and classification (sans I/O) -------------
    def exchange(self, request: ApiRequest) -> Operation[ApiResponse]:
        """Send one request through the retry policy; return the answer or raise an ApiError.

        Same-host redirects are followed; a redirect to another host fails (credentials go only to the
        connection's host). A 401 re-reads the connection (a rotated secret) and logs in again, once.
        """
        policy = self.retry_policy
        attempt = 0
        reauthenticated = False
        credential: Credential | None = None
        if request.authenticated and self.auth.needs_login:
            # A fresh cached credential is a lookup, not a step: only a login goes through the driver.
            credential = credential_cache.usable(self._cache_key(), None)
            if credential is None:
                credential = yield Login()
        while True:
            attempt += 1
            wire = self._wire(request, credential)
            redirects = 0
            try:
                while True:
                    response: ApiResponse = yield wire
                    target = redirect_target(wire, response)
                    if target is None:
                        break
                    self._check_redirect(request, wire, target, redirects)
                    redirects += 1
                    wire = follow_redirect(wire, response.status, target)
            except TransportFailure as failure:
                verdict = classify_failure(failure, request)
                if verdict == Verdict.FAIL:
                    raise ApiError(
                        f"{self.vendor} {request.label}: {failure.kind} talking to {_host(wire.url)}"
                        f"{self._failure_hint(failure)}",
                        vendor=self.vendor,
                        endpoint=request.label,
                    ) from None
                if verdict == Verdict.AMBIGUOUS:
                    # the fix for an answer too large is the same whether or not the request was a start
                    what = failure.kind + (f" ({failure.detail}; raise the connection '{self.conn_id}' extra "
                                           "max_response_bytes if such an answer is expected)"
                                           if failure.kind == "response too large" else "")
                    raise ambiguous(self.vendor, request, what) from None
                if attempt >= policy.max_attempts:
                    raise TransientApiError(
                        f"{self.vendor} {request.label}: {failure.kind} on all {attempt} attempts "
                        f"(host {_host(wire.url)})",
                        vendor=self.vendor,
                        endpoint=request.label,
                    ) from None
                delay = policy.delay(attempt)
                log.warning(
                    "%s %s: %s; attempt %d of %d, retrying in %.1fs",
                    self.vendor, request.label, failure.kind, attempt, policy.max_attempts, delay,
                )
                yield Sleep(delay)
                continue
            if credential is not None:
                credential.touch()
            verdict = classify(response.status, request)
            if verdict == Verdict.OK:
                error = self.error_from(response)
                if error is None:
                    return response
                raise error
            if verdict == Verdict.REAUTH:
                if not self.auth.needs_login or reauthenticated:
                    if not reauthenticated and (yield ReloadConnection()):
                        # the secret was rotated since this hook read it: one more try with the new one
                        reauthenticated = True
                        credential = (yield Login()) if self.auth.needs_login else None
                        continue
                    error = self.error_from(response) or error_for_status(self.vendor, response, None, None)
                    raise AuthenticationError(
                        f"{self.vendor} refused the credentials of connection '{self.conn_id}' "
                        f"on {request.label} (HTTP 401){_detail(error)}. Check the connection's login "
                        "and secret.",
                        vendor=self.vendor,
                        endpoint=request.label,
                        status=401,
                    )
                reauthenticated = True
                log.info("%s %s: HTTP 401, logging in again once", self.vendor, request.label)
                if (yield ReloadConnection()):
                    credential = yield Login()
                else:
                    credential = yield Login(stale=credential)
                continue
            if verdict == Verdict.AMBIGUOUS:
                raise ambiguous(self.vendor, request, f"HTTP {response.status}")
            if verdict == Verdict.RETRY and attempt < policy.max_attempts:
                retry_after = parse_retry_after(response.header("Retry-After"))
                delay = policy.delay(attempt, retry_after)
                log.warning(
                    "%s %s: HTTP %d; attempt %d of %d, retrying in %.1fs%s",
                    self.vendor, request.label, response.status, attempt, policy.max_attempts, delay,
                    " (Retry-After)" if retry_after is not None else "",
                )
                yield Sleep(delay)
                continue
            error = self.error_from(response) or error_for_status(self.vendor, response, None, None)
            if verdict == Verdict.RETRY:
                error.args = (f"{error.args[0]} (after {attempt} attempts)",)
            if response.status == 404 and error.code is None and _host(wire.url) not in str(error):
                # a 404 without the vendor's own error code: the object, or the whole endpoint, is not there
                path = urlsplit(wire.url).path
                error.args = (f"{error.args[0]}. {_host(wire.url)} has nothing at {path}: if the id is right, check "
                              f"that connection '{self.conn_id}' points at the {self.vendor} API (its host, and "
                              "any path prefix the server needs).",)
            raise error

    def _check_redirect(self, request: ApiRequest, wire: Transmit, target: str, followed: int) -> None:
        """A redirect may be followed only to the same scheme, host and port, and only a few times."""
        if origin_of(target) != origin_of(wire.url):
            raise ApiError(
                f"{self.vendor} {request.label}: {_host(wire.url)} redirected the call to {_host(target)}. "
                f"Credentials are sent only to the connection's own host, so the redirect was not followed. If "
                f"{_host(target)} is the real server, set connection '{self.conn_id}' to it.",
                vendor=self.vendor,
                endpoint=request.label,
            )
        if followed >= MAX_REDIRECTS:
            raise ApiError(
                f"{self.vendor} {request.label}: more than {MAX_REDIRECTS} redirects on {_host(wire.url)}; "
                f"check the host and path of connection '{self.conn_id}'.",
                vendor=self.vendor,
                endpoint=request.label,
            )

    def _failure_hint(self, failure: TransportFailure) -> str:
        """What to do about a failure that retrying does not heal."""
        if failure.kind == "TLS error":
            return (f" (the server's certificate is not trusted). Set the connection '{self.conn_id}' extra "
                    "verify_ssl to the path of a CA bundle that signs it, or to false (not recommended).")
        if failure.kind == "invalid request":
            return (f": the HTTP client refused to send the request ({failure.detail}): a header or URL holds a "
                    f"character HTTP does not allow. Check connection '{self.conn_id}' (login, secret, host) for "
                    "line breaks or control characters.")
        if failure.kind == "response too large":
            return (f": {failure.detail}. Raise the connection '{self.conn_id}' extra max_response_bytes if "
                    "such an answer is expected.")
        return f" ({failure.detail})"

    def _wire(self, request: ApiRequest, credential: Credential | None) -> Transmit:
        headers, params = (
            self.auth.apply(request, credential)
            if request.authenticated
            else (dict(request.headers), dict(request.params or {}))
        )
        base = self.auth.base_url(credential, request) if request.authenticated else None
        url = join_url(base or self.base_url(request), request.path)
        return Transmit(
            method=request.method.upper(),
            url=url,
            params=params or None,
            headers=headers,
            json=request.json,
            data=request.data,
            timeout=with_timeout(request, self.request_timeout),
            read=request.read,
            save_to=request.save_to,
            origin=request,
            max_bytes=self.max_response_bytes,
        )

    # -- the drivers ------------------------------------------------------------------------------
    def run_operation(self, op: Operation[T]) -> T:
        """Drive an operation with the sync transport (a worker)."""
        self.settings  # noqa: B018 - load and validate the connection before any step
        return self._drive_sync(op)

    def _next_step(self, walk: _Walk, value: Any, error: BaseException | None) -> tuple[Any, Any]:
        """Resume the innermost operation with a value (or an error) until one yields a step to run.

        Both drivers walk an operation and what it yields on one explicit stack: an ApiRequest becomes the
        exchange() that sends it and a generator is a nested operation, pushed here; a finished inner
        operation hands its result (or its exception) to the one that yielded it. A poll goes three
        operations deep, and a coroutine frame per level would cost every poll. A Deadline is taken here
        too, and every later step is cut to it (_bounded): the drivers only run steps.
        Returns (step, None), or (_DONE, result) when the outermost one returns; its exception propagates.
        """
        stack = walk.stack
        while True:
            gen = stack[-1]
            try:
                step = gen.throw(error) if error is not None else gen.send(value)
            except StopIteration as stop:
                stack.pop()
                if not stack:
                    return _DONE, stop.value
                value, error = stop.value, None
                continue
            except Exception as exc:
                stack.pop()
                if not stack:
                    raise
                value, error = None, exc
                continue
            value, error = None, None
            if isinstance(step, ApiRequest):
                stack.append(self.exchange(step))
            elif inspect.isgenerator(step):
                stack.append(step)
            elif type(step) is Deadline:
                walk.deadline = step.at
            elif walk.deadline is not None:
                return _bounded(step, walk.deadline), None
            else:
                return step, None

    def _drive_sync(self, op: Operation[T]) -> T:
        walk = _Walk(op)
        value: Any = None
        error: BaseException | None = None
        while True:
            step, value = self._next_step(walk, value, error)
            if step is _DONE:
                return value
            try:
                value, error = self._sync_step(step), None
            except Exception as exc:  # handed to the operation, which may handle it
                value, error = None, exc

    def _sync_step(self, step: Any) -> Any:
        if isinstance(step, Transmit):
            return self.sync_transport.send(step, self.vendor)
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            return None
        if isinstance(step, _SleepToDeadline):
            time.sleep(step.seconds)
            raise step.reached()
        if isinstance(step, SharedListing):  # a worker waits on its own runs: nothing to share
            return None
        if isinstance(step, Call):
            return step.fn()
        if isinstance(step, ReloadConnection):
            return self._reload(compat.get_connection(self.conn_id))
        if isinstance(step, Login):
            key = self._cache_key()
            cached = credential_cache.usable(key, step.stale)
            if cached is not None:
                return cached
            with credential_cache.thread_lock(key):
                cached = credential_cache.usable(key, step.stale)
                if cached is not None:
                    return cached
                credential = self._drive_sync(self.auth.login())
                credential_cache.put(key, credential)
                return credential
        raise JobProviderError(f"unknown step {step!r}")

    async def arun_operation(self, op: Operation[T]) -> T:
        """Drive an operation with the async transport (the triggerer's event loop)."""
        if self._settings is None:
            await self.aload_settings()
        return await self._drive_async(op)

    async def _drive_async(self, op: Operation[T]) -> T:
        walk = _Walk(op)
        value: Any = None
        error: BaseException | None = None
        transport = self.async_transport
        while True:
            step, value = self._next_step(walk, value, error)
            if step is _DONE:
                return value
            try:
                # The two steps of every poll are run here, one coroutine frame less for each of their awaits
                # (every resumption of the wait passes through each frame between the loop and aiohttp).
                kind = type(step)
                if kind is Transmit:
                    value, error = await transport.send(step, self.vendor), None
                elif kind is Sleep:
                    await asyncio.sleep(step.seconds)
                    value, error = None, None
                else:
                    value, error = await self._async_step(step), None
            except Exception as exc:  # handed to the operation, which may handle it
                value, error = None, exc

    async def _async_step(self, step: Any) -> Any:
        if isinstance(step, Transmit):
            return await self.async_transport.send(step, self.vendor)
        if isinstance(step, Sleep):
            await asyncio.sleep(step.seconds)
            return None
        if isinstance(step, _SleepToDeadline):
            await asyncio.sleep(step.seconds)
            raise step.reached()
        if isinstance(step, SharedListing):
            return await shared_active_runs(self, step.max_age)
        if isinstance(step, Call):
            return await step.fn()
        if isinstance(step, ReloadConnection):
            return self._reload(await compat.aget_connection(self.conn_id))
        if isinstance(step, Login):
            key = self._cache_key()
            cached = credential_cache.usable(key, step.stale)
            if cached is not None:
                return cached
            async with credential_cache.loop_lock(key):
                cached = credential_cache.usable(key, step.stale)
                if cached is not None:
                    return cached
                credential = await self._drive_async(self.auth.login())
                credential_cache.put(key, credential)
                return credential
        raise JobProviderError(f"unknown step {step!r}")

    @property
    def sync_transport(self) -> SyncTransport:
        if self._sync is None:
            self._sync = SyncTransport(verify=getattr(self.settings, "verify", True))
        return self._sync

    @property
    def async_transport(self) -> AsyncTransport:
        if self._async is None:
            self._async = AsyncTransport(verify=getattr(self.settings, "verify", True))
        return self._async

    def logout(self) -> None:
        """End the cached session, where the vendor has a session and a logout call."""
        key = self._cache_key()
        credential = credential_cache.get(key)
        if credential is None:
            return
        op = self.auth.logout(credential)
        if op is not None:
            try:
                self.run_operation(op)
            finally:
                credential_cache.drop(key, credential)

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    # -- Airflow connection test --------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Airflow's "Test" button and `airflow connections test`: a cheap authenticated call, tried once (a test
        says at once what failed, instead of retrying for the connection's whole retry budget)."""
        given = self._retry_policy
        self._retry_policy = RetryPolicy(max_attempts=1)
        try:
            message = self.run_operation(self.connection_test_steps())
            return True, message
        except Exception as exc:
            return False, f"{exc} (tried once, without retries)"
        finally:
            self._retry_policy = given

    def connection_test_steps(self) -> Operation[str]:
        raise NotImplementedError
        yield  # pragma: no cover


def _host(url: str) -> str:
    """host[:port] of a URL, for messages (never the query, which may carry a secret)."""
    return urlsplit(url).netloc or url


def _detail(error: ApiError | None) -> str:
    if error is None:
        return ""
    code = f" {error.code}" if error.code else ""
    return f":{code}" if code else ""
