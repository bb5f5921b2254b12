"""Who is calling the HTTP API, and what they may do.

    Authorization: Bearer <key>   a machine: the key's scopes (``intake apikey create --scope``)
    the review UI's session cookie a person: the scopes of their role, as in the UI

A request that carries an ``Authorization`` header is judged by it alone: a wrong, revoked or
malformed key is a 401, never a fall-back to a cookie the browser also sent. A cookie
authenticates only requests without that header, and every state-changing one must carry the
session's CSRF token (``X-CSRF-Token``).

Scopes: ``read`` (orders, messages, deliveries, metrics, docs), ``ingest`` (upload messages),
``review`` (approve, reject, re-run, ask the customer), ``admin`` (all of them, and re-driving
webhooks). A CSR has read and review, an admin all four, as in the UI. History records the
caller as ``apikey:<name>`` or ``user:<name>``: never a role.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable

from fastapi import HTTPException, Request

from intake.service import ledger

__all__ = ["Principal", "ROLE_SCOPES", "authenticate", "require", "caller_actor"]

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "csr": frozenset({"read", "review"}),
    "admin": frozenset(ledger.SCOPES),
}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: ``kind`` apikey | user, its name, scopes and (keys) partner."""

    kind: str
    name: str
    scopes: frozenset[str]
    partner: str | None = None

    @property
    def actor(self) -> str:
        """How the caller appears in an order's history."""
        return f"{self.kind}:{self.name}"

    def has(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def authenticate(request: Request) -> Principal:
    """The caller, or 401. Cached on the request (several dependencies ask)."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("the Authorization header must be 'Bearer <api key>'")
        sm = request.app.state.services.pipeline.sm
        with sm() as s:
            row = ledger.verify_api_key(s, token)
            if row is None:
                raise _unauthorized("invalid or revoked API key")
            principal = Principal("apikey", row.name, frozenset(ledger.parse_scopes(row.scopes or "read")),
                                  row.partner)
            s.commit()  # last_used_at
    else:
        ident = getattr(request.state, "identity", None)  # set by review_ui.auth.SessionMiddleware
        if ident is None:
            raise _unauthorized("missing API key (Authorization: Bearer <key>) or review-UI session")
        if request.method not in _SAFE_METHODS:
            # the middleware refuses these already; checked again here so no route depends on its path rules
            sent = request.headers.get("x-csrf-token") or ""
            if not secrets.compare_digest(sent.encode(), str(ident.csrf).encode()):
                raise HTTPException(status_code=403, detail="missing or wrong X-CSRF-Token header")
        principal = Principal("user", ident.name, ROLE_SCOPES.get(ident.role, frozenset()))
    request.state.principal = principal
    return principal


def require(scope: str) -> Callable[[Request], Principal]:
    """A dependency: the caller, who must hold ``scope`` (403 otherwise)."""

    def dependency(request: Request) -> Principal:
        p = authenticate(request)
        if not p.has(scope):
            what = f"role {request.state.identity.role}" if p.kind == "user" else f"API key {p.name!r}"
            raise HTTPException(status_code=403, detail=f"{what} may not do this: it needs the {scope!r} scope")
        return p

    dependency.__name__ = f"require_{scope}"
    return dependency


def caller_actor(request: Request) -> str:
    """The authenticated caller as the history names it."""
    return authenticate(request).actor
