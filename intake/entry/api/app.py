"""The HTTP API (FastAPI) under /api/v1, plus the service lifecycle for ``intake serve``.

Every route but ``/health`` needs ``Authorization: Bearer <api key>`` or a review-UI session, and
the scope it names (``intake/api/auth.py``); OpenAPI docs included.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from intake.core.errors import ApprovalBlocked, IntakeError, LimitExceeded, NotFound, UnsupportedContentType
from intake.service.outbox import Relay
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from intake.entry.workers import make_workers

__all__ = ["create_app", "Services"]


class Services:
    """What the app needs, built once: the pipeline, workers and the webhook relay."""

    def __init__(self, settings: Settings, *, start_workers: bool = True, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline or Pipeline(settings)
        # in-process threads, or Celery tasks when INTAKE_BROKER_URL is set
        self.workers: Any = make_workers(self.pipeline, settings) if start_workers else None
        self.relay = Relay(settings, self.pipeline.sm) if start_workers else None
        self._relay_thread: threading.Thread | None = None
        self.channels: Any = None  # connectors.service.Channels when a mailbox, EDI folder or SMTP is set
        self.learner: Any = None  # training.background.Learner: retrains after INTAKE_RETRAIN_AFTER corrections

    def start(self) -> None:
        if self.workers is not None:
            self.workers.start()
            from connectors.service import Channels

            if Channels.configured(self.settings):
                self.channels = Channels(self.settings, self.pipeline, submit=self.workers.submit_message)
                self.channels.start()
            from training.background import start_learner

            self.learner = start_learner(self.settings, self.pipeline.sm)
        if self.relay is not None:
            self._relay_thread = threading.Thread(target=self.relay.run_forever, args=(self.settings.poll_interval_s,),
                                                  name="intake-relay", daemon=True)
            self._relay_thread.start()

    def stop(self) -> None:
        if self.learner is not None:
            self.learner.stop()
        if self.channels is not None:
            self.channels.stop()
        if self.relay is not None:
            self.relay.stop()
        if self.workers is not None:
            self.workers.stop()
        if self._relay_thread is not None:
            self._relay_thread.join(timeout=5)


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

    from intake.entry.api.routes import router, public_router

    app.include_router(public_router)
    app.include_router(router)
    from intake.entry.api.mail import router as channels_router

    app.include_router(channels_router)
    from review_ui.app import mount_review_ui

    mount_review_ui(app, svc)  # the CSRs' pages under /review, and sign-in for people
    return app

