"""HTTP routes of the channels (included by ``intake.api.app.create_app``).

    POST /api/v1/orders/{order_id}/clarify   ask the customer (by mail) about what is missing
    GET  /api/v1/orders/{order_id}/mails     the replies sent (or pending) for an order
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import select

from connectors.models import OutgoingMailRow
from connectors.smtp import Notifier
from intake.entry.api.routes import Caller, Read, Review, SessionDep, require_key
from intake.service import ledger

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(require_key)])


class ClarifyIn(BaseModel):
    note: str | None = None  # what the CSR adds to the listed problems


@router.post("/api/v1/orders/{order_id}/clarify", status_code=202, tags=["orders"], dependencies=[Review])
def clarify(order_id: str, body: ClarifyIn, request: Request, caller: Caller) -> dict[str, Any]:
    """Mail the customer a clarification request listing the order's problems and the note.

    Only for orders that came by mail. The reply is queued (sent by the notifier within a
    second or so); the customer's answer threads back onto the order.
    """
    svc = request.app.state.services
    return Notifier(svc.settings, svc.pipeline.sm, svc.pipeline.blobs).request_clarification(
        order_id, caller, body.note)


@router.get("/api/v1/orders/{order_id}/mails", tags=["orders"], dependencies=[Read])
def order_mails(order_id: str, session: SessionDep) -> list[dict[str, Any]]:
    """The customer replies of an order: kind, recipient, Message-ID, status."""
    ledger.get_order(session, order_id)  # 404 when unknown
    rows = session.scalars(select(OutgoingMailRow).where(OutgoingMailRow.order_id == order_id).order_by(OutgoingMailRow.id))
    return [{"id": r.id, "kind": r.kind, "to": r.to_addr, "subject": r.subject, "message_id": r.rfc822_message_id,
             "in_reply_to": r.in_reply_to, "status": r.status, "attempts": r.attempts, "last_error": r.last_error,
             "created_at": r.created_at, "sent_at": r.sent_at} for r in rows]
