"""Authentication strategies and the process-wide credential cache.

A strategy either decorates each request with a static secret (Basic, API token), or logs in
through an *operation* (a generator of ApiRequests, like every vendor call) and then decorates
requests with the credential it obtained. Credentials are cached per (connection, secret) for
the whole process, refreshed before they expire, and obtained by one caller at a time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_jobs.core.compat import mask_secret
from airflow_provider_jobs.core.http import ApiRequest, Operation


@dataclass
class Credential:
    """A secret obtained by logging in, with what is known of its lifetime.

    `secret` is the value sent on each call (session id, token, hash); `extra` carries
    non-secret facts from the login answer (a server URL, a user id).
    """

    secret: str
    extra: dict[str, Any] = field(default_factory=dict)
    expires_at: float | None = None
    idle_timeout: float | None = None
    refresh_margin: float = 60.0
    last_used: float = field(default_factory=time.time)

    def is_fresh(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        if self.expires_at is not None and now >= self.expires_at - self.refresh_margin:
            return False
        if self.idle_timeout is not None and now - self.last_used >= self.idle_timeout - self.refresh_margin:
            return False
        return True

    def touch(self) -> None:
        self.last_used = time.time()

    def __repr__(self) -> str:  # never show the secret
        return f"Credential(extra={self.extra!r}, expires_at={self.expires_at!r})"


class AuthStrategy:
    """How a vendor authenticates. Subclasses set `needs_login` and implement the hooks below."""

    needs_login: bool = False

    def cache_identity(self) -> str:
        """What identifies the secret behind this strategy (hashed; never the secret itself)."""
        return ""

    def login(self) -> Operation[Credential]:
        """Obtain a credential: yield unauthenticated ApiRequests, return a Credential."""
        raise NotImplementedError
        yield  # pragma: no cover

    def logout(self, credential: Credential) -> Operation[None]:
        """End a session, where the vendor has a call for it."""
        return None
        yield  # pragma: no cover

    def apply(
        self, request: ApiRequest, credential: Credential | None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """Headers and query parameters that authenticate `request`."""
        return dict(request.headers), dict(request.params or {})

    def base_url(self, credential: Credential | None, request: ApiRequest) -> str | None:
        """A base URL that the login decided (e.g. a regional server), if any."""
        return None


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


class BasicAuth(AuthStrategy):
    """HTTP Basic on every call; no session."""

    def __init__(self, login: str, password: str, scheme: str = "Basic") -> None:
        self.login_name = login
        self._password = password
        self.scheme = scheme
        self._header = scheme + " " + base64.b64encode(f"{login}:{password}".encode()).decode()
        mask_secret(password)
        mask_secret(self._header.split(" ", 1)[1])

    def cache_identity(self) -> str:
        return _digest("basic", self.login_name, self._password)

    def apply(self, request, credential):
        headers, params = super().apply(request, credential)
        headers.setdefault("Authorization", self._header)
        return headers, params


class HeaderTokenAuth(AuthStrategy):
    """A static token in a header on every call."""

    def __init__(self, header: str, token: str) -> None:
        self.header = header
        self._token = token
        mask_secret(token)

    def cache_identity(self) -> str:
        return _digest("header", self.header, self._token)

    def apply(self, request, credential):
        headers, params = super().apply(request, credential)
        headers.setdefault(self.header, self._token)
        return headers, params


class LoginAuth(AuthStrategy):
    """A strategy that logs in; vendors pass the login operation and how to apply the credential."""

    needs_login = True

    def __init__(
        self,
        identity: tuple[Any, ...],
        login: Callable[[], Operation[Credential]],
        apply: Callable[[ApiRequest, Credential], tuple[dict[str, str], dict[str, Any]]],
        base_url: Callable[[Credential, ApiRequest], str | None] | None = None,
        logout: Callable[[Credential], Operation[None]] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._identity = _digest("login", *identity)
        self._login = login
        self._apply = apply
        self._base_url = base_url
        self._logout = logout
        for secret in secrets:
            mask_secret(secret)

    def cache_identity(self) -> str:
        return self._identity

    def login(self) -> Operation[Credential]:
        return self._login()

    def logout(self, credential: Credential) -> Operation[None]:
        if self._logout is None:
            return super().logout(credential)
        return self._logout(credential)

    def apply(self, request, credential):
        if credential is None:
            return super().apply(request, credential)
        return self._apply(request, credential)

    def base_url(self, credential, request):
        if credential is None or self._base_url is None:
            return None
        return self._base_url(credential, request)


def merged(request: ApiRequest, headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None):
    """Request headers and params with extra ones added (helper for `apply` callables)."""
    h = dict(request.headers)
    h.update(headers or {})
    p = dict(request.params or {})
    p.update(params or {})
    return h, p


class CredentialCache:
    """Process-wide credentials, keyed by (vendor, connection, secret identity).

    One login at a time per key: a threading lock for workers, an asyncio lock per event loop
    for the triggerer. Callers re-check the cache after taking the lock, so a crowd of triggers
    whose credential expired produce one login, not one each.
    """

    def __init__(self) -> None:
        self._values: dict[str, Credential] = {}
        self._guard = threading.Lock()
        self._thread_locks: dict[str, threading.Lock] = {}
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
            weakref.WeakKeyDictionary()
        )
        self.logins = 0

    def get(self, key: str) -> Credential | None:
        return self._values.get(key)

    def put(self, key: str, credential: Credential) -> None:
        mask_secret(credential.secret)
        with self._guard:
            self._values[key] = credential
            self.logins += 1

    def drop(self, key: str, credential: Credential | None = None) -> None:
        """Forget the credential (only if it is still `credential`, when given)."""
        with self._guard:
            current = self._values.get(key)
            if current is not None and (credential is None or current is credential):
                del self._values[key]

    def usable(self, key: str, stale: Credential | None) -> Credential | None:
        """The cached credential if it is fresh and not the one just refused."""
        current = self._values.get(key)
        if current is None or current is stale or not current.is_fresh():
            return None
        return current

    def thread_lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._thread_locks.setdefault(key, threading.Lock())

    def loop_lock(self, key: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._guard:
            locks = self._loop_locks.setdefault(loop, {})
            return locks.setdefault(key, asyncio.Lock())

    def clear(self) -> None:
        with self._guard:
            self._values.clear()


credential_cache = CredentialCache()
