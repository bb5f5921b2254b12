"""The HTTP API (FastAPI) under /api/v1, plus the service lifecycle for ``intake serve``.

Every route but ``/health`` needs ``Authorization: Bearer <api key>`` or a review-UI session, and
the scope it names (``intake/entry/api/auth.py``); OpenAPI docs included.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from intake.core.errors import ApprovalBlocked, IntakeError, LimitExceeded, NotFound, UnsupportedContentType
from intake.core.settings import Settings
from intake.entry.api.mail import router as channels_router
from intake.entry.api.routes import public_router, router
from intake.entry.bootstrap import Services
from review_ui.app import mount_review_ui

__all__ = ["create_app"]


_STATUS = {NotFound: 404, LimitExceeded: 413, UnsupportedContentType: 415, ApprovalBlocked: 409}


def create_app(settings: Settings, *, services: Services | None = None, start_workers: bool = True) -> FastAPI:
    svc = services or Services(settings, start_workers=start_workers)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        svc.start()
        try:
            yield
        finally:
            svc.stop()

    app = FastAPI(title="Order intake", version="0.1.0", lifespan=lifespan,
                  # 413 before a too-large body is read (declared length) or as soon as it passes the
                  # limit (chunked); without it a multipart upload is spooled to disk whole first
                  max_body_size=settings.limits.max_upload_bytes + 64 * 1024,
                  docs_url=None, redoc_url=None, openapi_url=None,
                  description="Purchase orders in, validated orders out over a signed webhook.")
    app.state.services = svc

    @app.exception_handler(IntakeError)
    async def _intake_error(_req: Request, exc: IntakeError) -> JSONResponse:
        code = next((c for t, c in _STATUS.items() if isinstance(exc, t)), 400)
        return JSONResponse({"error": exc.code, "detail": exc.reason}, status_code=code)

    app.include_router(public_router)
    app.include_router(router)
    app.include_router(channels_router)
    mount_review_ui(app, svc)  # the CSRs' pages under /review, and sign-in for people
    return app

