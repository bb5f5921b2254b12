"""Mount the review UI on the service's FastAPI app: ``mount_review_ui(app, services)``.

Adds the session middleware (which also lets a signed-in person's browser call /api/v1), the
static files and the pages under /review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from review_ui import admin, routes
from review_ui.auth import LoginRequired, LoginThrottle, SessionMiddleware
from extractors.render import Renderer
from review_ui.routes import render

__all__ = ["mount_review_ui", "ReviewUI", "HERE"]

HERE = Path(__file__).resolve().parent


def _fmt_num(v: Any) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else f"{v:,.4f}".rstrip("0").rstrip(".")
    return str(v)


def _age(t: Any) -> str:
    from datetime import datetime, timezone

    if t is None:
        return ""
    t = t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)
    s = (datetime.now(timezone.utc) - t).total_seconds()
    if s < 90:
        return "just now"
    if s < 5400:
        return f"{int(s // 60)} min"
    if s < 172800:
        return f"{int(s // 3600)} h"
    return f"{int(s // 86400)} days"


def _hhmm(t: Any) -> str:
    """A time of today as HH:MM, another day's as YYYY-MM-DD HH:MM (local time)."""
    from datetime import datetime, timezone

    if t is None:
        return ""
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    t = (t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)).astimezone()
    return t.strftime("%H:%M") if t.date() == datetime.now().astimezone().date() else t.strftime("%Y-%m-%d %H:%M")


def _sender(v: Any) -> str:
    """A mail's From as a person reads it: the name, else the address."""
    from email.utils import parseaddr

    if not v:
        return ""
    name, addr = parseaddr(str(v))
    return name or addr or str(v)


def make_templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _fmt_num
    env.filters["age"] = _age
    env.filters["pct"] = lambda v: "" if v is None else f"{v * 100:.0f}%"
    env.filters["hhmm"] = _hhmm
    env.filters["sender"] = _sender
    env.filters["who"] = lambda a: a.split(":", 1)[1] if isinstance(a, str) and a.startswith("user:") else a
    # a date input shows nothing for a value it cannot parse: such a value stays a text input
    env.tests["isodate"] = lambda v: v == "" or bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(v)))
    env.globals["static_version"] = str(int(max(p.stat().st_mtime for p in (HERE / "static").iterdir())))
    return env


@dataclass
class ReviewUI:
    services: Any
    templates: jinja2.Environment
    renderer: Renderer
    throttle: LoginThrottle


def mount_review_ui(app: FastAPI, services: Any) -> ReviewUI:
    """Add the review UI to ``app``. Call before the app starts (it adds a middleware)."""
    settings = services.settings
    admin.load_decision_overrides(settings)
    ui = ReviewUI(services=services, templates=make_templates(),
                  renderer=Renderer(settings.data_dir, services.pipeline.blobs, settings.limits),
                  throttle=LoginThrottle())
    app.state.review_ui = ui
    app.add_middleware(SessionMiddleware, sm_getter=lambda: services.pipeline.sm)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if exc.json:
            return JSONResponse({"error": "unauthorized", "detail": "sign in first"}, status_code=401)
        from urllib.parse import quote

        return RedirectResponse("/review/login?next=" + quote(exc.next_url, safe=""), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        path = request.url.path
        if path.startswith("/review") and not path.startswith("/review/api/") and exc.status_code in (403, 404, 405):
            return render(request, "error.html", {"status": exc.status_code, "detail": exc.detail},
                          status_code=exc.status_code)
        return await http_exception_handler(request, exc)

    app.mount("/review/static", StaticFiles(directory=str(HERE / "static")), name="review_static")
    app.include_router(routes.start)
    app.include_router(routes.router)
    app.include_router(admin.router)
    return ui
