"""Sign-in for people: session cookies, CSRF tokens, roles and the security headers.

- ``SessionMiddleware`` (pure ASGI) reads the session cookie on every request and sets
  ``request.state.user`` (the name the API's ``require_key`` accepts) and
  ``request.state.identity``. A state-changing call outside ``/review`` that rides on the
  cookie (no ``Authorization`` header: with one, the API judges the request by it alone) must
  carry the session's CSRF token in ``X-CSRF-Token``: a browser never sends that header
  cross-site without CORS, which this service does not allow. The pages under ``/review`` check
  their forms' tokens themselves (``check_csrf``).
- Every HTML response gets a strict Content-Security-Policy: no inline script or style, no
  remote content, no framing, forms only to this site.
- Forms carry the session's CSRF token (``csrf_token``); fetch() calls send it as a header.
  The login form, which has no session yet, uses a double-submit cookie.
- ``LoginThrottle`` slows password guessing with a growing wait per name and address, and never
  locks an account.
"""

from __future__ import annotations

import secrets
import threading
import time
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable
from urllib.parse import quote

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from intake.service.users import Identity, session_identity

__all__ = [
    "SESSION_COOKIE", "LOGIN_CSRF_COOKIE", "CSRF_HEADER", "CSP", "SECURITY_HEADERS", "SessionMiddleware",
    "LoginRequired", "identity_of", "require_user", "require_admin", "check_csrf", "set_session_cookie",
    "clear_session_cookie", "LoginThrottle", "safe_next", "new_login_token", "set_login_csrf",
]

SESSION_COOKIE = "intake_session"
LOGIN_CSRF_COOKIE = "intake_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
CSP = ("default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict[str, Any]]], Callable[[dict[str, Any]], Awaitable[None]]],
                   Awaitable[None]]


def _cookie(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    for k, v in headers:
        if k == b"cookie":
            c: SimpleCookie = SimpleCookie()
            try:
                c.load(v.decode("latin-1"))
            except Exception:  # a malformed Cookie header is as good as none
                continue
            if name in c:
                return c[name].value
    return None


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for k, v in headers:
        if k == name:
            return v.decode("latin-1")
    return None


class SessionMiddleware:
    """Identify the person behind a session cookie, guard cookie-borne API writes, add headers."""

    def __init__(self, app: ASGIApp, sm_getter: Callable[[], sessionmaker[Session]]) -> None:
        self.app = app
        self.sm_getter = sm_getter

    def _lookup(self, token: str) -> Identity | None:
        sm = self.sm_getter()
        with sm() as s:
            ident = session_identity(s, token)
            s.commit()  # the idle timer refresh, or the removal of an expired session
            return ident

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        token = _cookie(headers, SESSION_COOKIE)
        ident: Identity | None = None
        if token:
            from starlette.concurrency import run_in_threadpool

            ident = await run_in_threadpool(self._lookup, token)
        state = scope.setdefault("state", {})
        state["identity"] = ident
        if ident is not None:
            state["user"] = ident.name
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        if (ident is not None and method not in _SAFE_METHODS and not path.startswith("/review/")
                and _header(headers, b"authorization") is None):
            sent = _header(headers, CSRF_HEADER.encode()) or ""
            if not secrets.compare_digest(sent.encode(), ident.csrf.encode()):
                await _send_json(send, 403, b'{"error":"csrf","detail":"missing or wrong X-CSRF-Token header"}')
                return
        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}  # a route's own CSP (/docs) stays
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in have]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _send_json(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, JSON endpoints answer 401."""

    def __init__(self, next_url: str, json: bool) -> None:
        super().__init__("login required")
        self.next_url = next_url
        self.json = json


def identity_of(request: Request) -> Identity | None:
    ident = getattr(request.state, "identity", None)
    return ident if isinstance(ident, Identity) else None


def require_user(request: Request) -> Identity:
    """The signed-in person, or LoginRequired."""
    ident = identity_of(request)
    if ident is None:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(nxt, json=request.url.path.startswith("/review/api/") or request.method != "GET")
    return ident


def require_admin(request: Request) -> Identity:
    ident = require_user(request)
    if not ident.is_admin:
        raise HTTPException(status_code=403, detail="this page is for admins")
    return ident


async def check_csrf(request: Request) -> Identity:
    """The signed-in person, if the request carries their session's CSRF token (form field or header)."""
    ident = require_user(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        v = form.get(CSRF_FIELD)
        sent = v if isinstance(v, str) else None
    if not sent or not secrets.compare_digest(sent.encode(), ident.csrf.encode()):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token: reload the page and try again")
    return ident


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(response: Any, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")


def clear_session_cookie(response: Any, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def set_login_csrf(response: Any, request: Request, token: str) -> None:
    """The double-submit cookie of the login form (the form carries the same token)."""
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=_secure(request), path="/review/login")


def safe_next(url: str | None) -> str:
    """Only a local path may be a redirect target after login (no open redirect)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url or url.startswith("/review/login"):
        return "/review"
    return quote(url, safe="/?=&%-_.~:")


class LoginThrottle:
    """Slows password guessing down without ever locking the real user out (no account lockout).

    Each failed sign-in makes the next attempt of the same name from the same address wait:
    nothing for the first ``free`` failures, then 1, 2, 4 ... seconds up to ``max_delay_s``.
    An address failing for many names (password spraying) backs off the same way after
    ``ip_free`` failures. A name failing from many addresses backs off (at most
    ``name_max_delay_s``) only for addresses it never signed in from: the real user's usual
    address keeps working while someone else hammers their name. Failures are forgotten after
    ``window_s`` without one. Keys are ``name:<name>`` and ``ip:<address>``; memory is bounded.
    """

    def __init__(self, free: int = 3, ip_free: int = 20, name_free: int = 10, max_delay_s: float = 300.0,
                 name_max_delay_s: float = 60.0, window_s: float = 900.0, known_good_s: float = 30 * 86400.0,
                 max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.free, self.ip_free, self.name_free = free, ip_free, name_free
        self.max_delay_s, self.name_max_delay_s, self.window_s = max_delay_s, name_max_delay_s, window_s
        self.known_good_s, self.max_entries = known_good_s, max_entries
        self._fails: dict[str, tuple[int, float]] = {}  # key -> (failures, time of the last one)
        self._good: dict[str, float] = {}  # "name|ip" -> time of the last successful sign-in
        self._lock = threading.Lock()

    @staticmethod
    def _split(keys: tuple[str, ...]) -> tuple[str, str]:
        name = next((k[5:] for k in keys if k.startswith("name:")), "")
        ip = next((k[3:] for k in keys if k.startswith("ip:")), "")
        return name, ip

    def _delay(self, key: str, free: int, cap: float, now: float) -> float:
        n, last = self._fails.get(key, (0, 0.0))
        if n and now - last > self.window_s:
            self._fails.pop(key, None)
            return 0.0
        if n < free:
            return 0.0
        return max(0.0, last + min(2.0 ** (n - free), cap) - now)

    def retry_after(self, *keys: str) -> float:
        """Seconds until this name may try again from this address (0: now)."""
        name, ip = self._split(keys)
        now = self.clock()
        with self._lock:
            waits = [self._delay(f"pair:{name}|{ip}", self.free, self.max_delay_s, now),
                     self._delay(f"ip:{ip}", self.ip_free, self.max_delay_s, now)]
            good = self._good.get(f"{name}|{ip}")
            if good is None or now - good > self.known_good_s:
                waits.append(self._delay(f"name:{name}", self.name_free, self.name_max_delay_s, now))
            return max(waits)

    def blocked(self, *keys: str) -> bool:
        return self.retry_after(*keys) > 0

    def fail(self, *keys: str) -> None:
        name, ip = self._split(keys)
        now = self.clock()
        with self._lock:
            for key in (f"pair:{name}|{ip}", f"ip:{ip}", f"name:{name}"):
                n, last = self._fails.get(key, (0, 0.0))
                self._fails[key] = (1 if now - last > self.window_s else n + 1, now)
            self._bound(now)

    def clear(self, *keys: str) -> None:
        """A successful sign-in: this name's failures from this address are forgotten and the
        address becomes one the name is known to use."""
        name, ip = self._split(keys)
        now = self.clock()
        with self._lock:
            self._fails.pop(f"pair:{name}|{ip}", None)
            if ip:
                self._good[f"{name}|{ip}"] = now
            self._bound(now)

    def _bound(self, now: float) -> None:
        for store, age in ((self._fails, self.window_s), (self._good, self.known_good_s)):
            if len(store) <= self.max_entries:
                continue
            items = store.items()
            stale = [k for k, v in items if now - (v[1] if isinstance(v, tuple) else v) > age]
            for k in stale:
                store.pop(k, None)
            if len(store) > self.max_entries:  # still too many: drop the oldest half
                order = sorted(store, key=lambda k: store[k][1] if isinstance(store[k], tuple) else store[k])
                for k in order[: len(order) // 2]:
                    store.pop(k, None)
