"""Routes of /api/v1. Dependencies give each request a session and the caller's identity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from intake.core.domain import Channel
from intake.core.errors import ApprovalBlocked, NotFound
from intake.core.states import OrderStatus
from intake.entry.api.auth import Principal, authenticate, caller_actor, require
from intake.service import ledger, outbox
from intake.service.db import unit_of_work
from intake.service.decide import blocking_problems
from intake.service.metrics import CONTENT_TYPE, render
from intake.service.models import OutboundDocRow

__all__ = ["router", "public_router", "require_key", "Caller", "SessionDep", "Read", "Ingest", "Review", "Admin"]


def services(request: Request) -> Any:
    return request.app.state.services


def get_session(request: Request) -> Iterator[Session]:
    with unit_of_work(services(request).pipeline.sm) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
# integer row ids: bounded to the column's range, so a huge id is a 422, not a database overflow (500)
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


require_key = authenticate  # kept for the routers of other packages: any authenticated caller
Caller = Annotated[str, Depends(caller_actor)]
Read = Depends(require("read"))
Ingest = Depends(require("ingest"))
Review = Depends(require("review"))
Admin = Depends(require("admin"))

public_router = APIRouter()
router = APIRouter(dependencies=[Depends(authenticate)])


@public_router.get("/health", tags=["service"])
def health(request: Request) -> dict[str, Any]:
    """Liveness and readiness: the database answers."""
    from sqlalchemy import text

    with services(request).pipeline.sm() as s:
        s.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/openapi.json", include_in_schema=False, dependencies=[Read])
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


# Swagger UI from the fastapi-offline package's files (pinned in pyproject): nothing from a CDN
_DOCS_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript", "favicon.png": "image/png"}
_DOCS_CSP = ("default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'; "
             "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
_DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Order intake API</title>
<link rel="icon" href="/docs/assets/favicon.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script></body></html>
"""
_DOCS_INIT = ("window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,"
              " layout: 'BaseLayout', presets: [SwaggerUIBundle.presets.apis]});\n")


def _docs_dir() -> Any:
    from importlib.resources import files

    return files("fastapi_offline") / "static"


@router.get("/docs", include_in_schema=False, dependencies=[Read])
def docs() -> HTMLResponse:
    """The API's Swagger UI, served with its own files (a strict CSP: scripts from this site only)."""
    return HTMLResponse(_DOCS_HTML, headers={"Content-Security-Policy": _DOCS_CSP, "Cache-Control": "no-store"})


@router.get("/docs/assets/{name}", include_in_schema=False, dependencies=[Read])
def docs_asset(name: str) -> Response:
    if name == "init.js":
        return Response(_DOCS_INIT, media_type="text/javascript")
    if name not in _DOCS_ASSETS:
        raise NotFound(f"no docs asset {name!r}")
    data = (_docs_dir() / name).read_bytes()
    return Response(data, media_type=_DOCS_ASSETS[name], headers={"Cache-Control": "private, max-age=86400"})


class MessageOut(BaseModel):
    message_id: str
    status: str
    duplicate: bool
    order_ids: list[str]
    reason: str | None = None


@router.post("/api/v1/messages", status_code=202, response_model=MessageOut, tags=["messages"])
async def upload_message(request: Request, file: UploadFile, caller: Annotated[Principal, Ingest],
                         wait: Annotated[bool, Query(description="read the message before answering")] = True) -> Any:
    """Upload an order: an .eml, PDF, image, spreadsheet or EDI file (multipart field ``file``).

    Needs the ``ingest`` scope. The bytes are stored first. With ``wait`` (default) the message is
    read before the answer, so the answer carries the orders it produced, or FAILED with the
    reason; matching, the decision and delivery continue in the background.

    Identity: an ``X-Intake-Sender`` header is kept as a hint (it never approves an order on its
    own); a key bound to an EDI partner (``intake apikey create --partner``) proves that partner.
    """
    svc = services(request)
    limit = svc.settings.limits.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        return JSONResponse({"error": "limit_exceeded", "detail": f"file is larger than the limit of {limit} bytes"},
                            status_code=413)
    from starlette.concurrency import run_in_threadpool

    pipe = svc.pipeline
    hint = (request.headers.get("x-intake-sender") or "").strip()[:512] or None
    res = await run_in_threadpool(pipe.ingest, data, filename=file.filename, content_type=file.content_type,
                                  channel=Channel.upload, sender=hint, trusted_partner=caller.partner)
    if not res.duplicate:
        if wait:
            await run_in_threadpool(pipe.read_message, res.message_id)
            res = await run_in_threadpool(pipe.message_result, res.message_id)
            if svc.workers is not None:
                for oid in res.order_ids:
                    svc.workers.submit_order(oid)
        elif svc.workers is not None:
            svc.workers.submit_message(res.message_id)
    return MessageOut(message_id=res.message_id, status=res.status, duplicate=res.duplicate,
                      order_ids=res.order_ids, reason=res.reason)


@router.get("/api/v1/messages/{message_id}", response_model=MessageOut, tags=["messages"], dependencies=[Read])
def get_message(message_id: str, session: SessionDep) -> Any:
    m = ledger.get_message(session, message_id)
    return MessageOut(message_id=m.id, status=m.status, duplicate=False,
                      order_ids=ledger.message_order_ids(session, m.id), reason=m.reason)


@router.get("/api/v1/orders", tags=["orders"], dependencies=[Read])
def list_orders(session: SessionDep, status: OrderStatus | None = None, customer_id: str | None = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> dict[str, Any]:
    """Orders, newest first; filter by status or customer."""
    # an unknown status is refused by validation (a documented 422 like every other bad parameter)
    rows, total = ledger.list_orders(session, status=status.value if status else None, customer_id=customer_id,
                                     limit=limit, offset=offset)
    return {"total": total, "orders": [ledger.order_json(ledger.to_order(session, r, with_history=False)) for r in rows]}


@router.get("/api/v1/orders/{order_id}", tags=["orders"], dependencies=[Read])
def get_order(order_id: str, session: SessionDep) -> dict[str, Any]:
    """One order with its status, history, problems and delivery state."""
    row = ledger.get_order(session, order_id)
    out = ledger.order_json(ledger.to_order(session, row))
    out["deliveries"] = [outbox.outbox_json(ob) for ob in ledger.outbox_rows(session, order_id=order_id)]
    return out


class Decision(BaseModel):
    reason: str = ""
    override: bool = Field(False, description="approve although problems that block approval remain (as the "
                                              "review UI's 'approve anyway'); noted on the order's history")


class Rejection(BaseModel):
    reason: str = Field(min_length=1, pattern=r"\S", description="why the order is rejected (required)")


@router.post("/api/v1/orders/{order_id}/approve", tags=["orders"], dependencies=[Review])
def approve_order(order_id: str, body: Decision, request: Request, caller: Caller, session: SessionDep) -> dict[str, Any]:
    """Approve an order waiting for review: it is delivered through the outbox like any other.

    Needs the ``review`` scope. An order whose problems block approval (the ones the review UI
    asks a CSR to fix) is refused with 409 unless ``override`` is true; then, as in the UI, the
    history says it was approved despite them.
    """
    row = ledger.get_order(session, order_id, for_update=True)
    blocking = blocking_problems(row.problems)
    why = " ".join(body.reason.split()) or "approved by a person"
    if blocking:
        if not body.override:
            raise ApprovalBlocked(f"{len(blocking)} problem(s) remain ({blocking[0].get('message')}): fix them or "
                                  "approve with \"override\": true")
        why += f" (despite {len(blocking)} problem(s))"
    services(request).pipeline.approve(session, row, actor=caller, reason=why)
    return ledger.order_json(ledger.to_order(session, row))


@router.post("/api/v1/orders/{order_id}/reject", tags=["orders"], dependencies=[Review])
def reject_order(order_id: str, body: Rejection, caller: Caller, session: SessionDep) -> dict[str, Any]:
    """Reject an order; the reason is required (a blank one is refused with 422)."""
    row = ledger.get_order(session, order_id, for_update=True)
    ledger.transition(session, row, OrderStatus.REJECTED, actor=caller, reason=body.reason)
    return ledger.order_json(ledger.to_order(session, row))


@router.post("/api/v1/orders/{order_id}/rerun", tags=["orders"], dependencies=[Review])
def rerun_order(order_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    """Read a FAILED order's message again (after a fix or a new model)."""
    ids = services(request).pipeline.rerun(order_id, actor=caller)
    return {"order_ids": ids}


@router.get("/api/v1/outbox", tags=["delivery"], dependencies=[Read])
def list_outbox(session: SessionDep, status: str | None = None, order_id: str | None = None) -> dict[str, Any]:
    """Webhook deliveries: pending, sent or dead (dead-lettered)."""
    return {"deliveries": [outbox.outbox_json(ob) for ob in ledger.outbox_rows(session, order_id=order_id, status=status)]}


@router.post("/api/v1/outbox/{outbox_id}/redrive", tags=["delivery"], dependencies=[Admin])
def redrive(outbox_id: RowId, caller: Caller, session: SessionDep) -> dict[str, Any]:
    """Put a dead-lettered webhook back in line (``admin`` scope: an admin, or an admin key)."""
    return outbox.outbox_json(outbox.redrive(session, outbox_id, actor=caller))


def _ack_json(r: OutboundDocRow) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "filename": r.filename, "message_id": r.message_id, "order_id": r.order_id,
            "partner": r.partner, "created_at": r.created_at.isoformat() if r.created_at else None,
            "status": r.status, "written_at": r.written_at.isoformat() if r.written_at else None}


@router.get("/api/v1/acknowledgments", tags=["delivery"], dependencies=[Read])
def list_acks(session: SessionDep, message_id: str | None = None) -> dict[str, Any]:
    """EDI acknowledgments written to the outbound folder (997, 855, CONTRL, ORDRSP)."""
    return {"acknowledgments": [_ack_json(r) for r in ledger.outbound_docs(session, message_id)]}


@router.get("/api/v1/acknowledgments/{ack_id}", response_class=PlainTextResponse, tags=["delivery"],
            dependencies=[Read])
def get_ack(ack_id: RowId, request: Request, session: SessionDep) -> str:
    r = session.get(OutboundDocRow, ack_id)
    if r is None:
        raise NotFound(f"acknowledgment {ack_id} not found")
    if r.content is not None:  # kept with the row from the moment it was queued
        return r.content.decode("utf-8", errors="replace")
    return (services(request).settings.outbound_dir / r.filename).read_text(encoding="utf-8", errors="replace")


@router.get("/metrics", response_class=PlainTextResponse, tags=["service"], dependencies=[Read])
def metrics(request: Request) -> PlainTextResponse:
    """Prometheus metrics (text format). Needs ``Authorization: Bearer <key>`` like every route:
    configure the scrape job with ``authorization: {credentials: <api key>}``."""
    svc = services(request)
    return PlainTextResponse(render(svc.pipeline.sm, svc.settings), media_type=CONTENT_TYPE)
