"""Ledger operations over a Session. Nothing here commits: the caller's unit of work does."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from intake.core.domain import HistoryEntry, Order, OrderLine, Problem, RawMessage
from intake.core.errors import ConfigError, InvalidTransition, NotFound
from intake.core.states import OrderStatus, check_transition
from intake.service.models import ApiKeyRow, MessageRow, OrderEventRow, OrderRow, OutboundDocRow, OutboxRow, utcnow

__all__ = [
    "new_id", "record_message", "get_message", "create_order", "get_order", "transition",
    "add_event", "order_history", "to_order", "list_orders", "message_order_ids",
    "create_api_key", "verify_api_key", "list_api_keys", "revoke_api_key", "parse_scopes", "SCOPES",
    "DEFAULT_SCOPES", "po_exists", "order_json", "outbound_docs", "outbox_rows",
]


def new_id() -> str:
    return str(uuid.uuid4())


def record_message(session: Session, raw: RawMessage, *, status: str = "RECEIVED") -> tuple[MessageRow, bool]:
    """Insert the message unless the same bytes are already there. Returns (row, created)."""
    existing = session.scalar(select(MessageRow).where(MessageRow.sha256 == raw.sha256))
    if existing is not None:
        existing.duplicate_hits = (existing.duplicate_hits or 0) + 1
        return existing, False
    row = MessageRow(
        id=new_id(), sha256=raw.sha256, size=raw.size, filename=raw.filename,
        content_type=raw.content_type, channel=raw.channel.value, sender=raw.sender,
        subject=raw.subject, rfc822_message_id=raw.message_id, in_reply_to=raw.in_reply_to,
        status=status, received_at=raw.received_at, from_addr=raw.from_addr, sender_verified=raw.sender_verified,
        sender_auth=raw.sender_auth, trusted_partner=raw.trusted_partner, attempts=0,
    )
    session.add(row)
    session.flush()
    return row, True


def get_message(session: Session, message_id: str) -> MessageRow:
    row = session.get(MessageRow, message_id)
    if row is None:
        raise NotFound(f"message {message_id} not found")
    return row


def message_order_ids(session: Session, message_id: str) -> list[str]:
    return list(session.scalars(
        select(OrderRow.id).where(OrderRow.message_id == message_id).order_by(OrderRow.document_index)
    ))


def create_order(session: Session, message: MessageRow, document_index: int, status: OrderStatus,
                 *, actor: str, reason: str, **values: Any) -> OrderRow:
    row = OrderRow(id=new_id(), message_id=message.id, document_index=document_index,
                   status=status.value, channel=message.channel, problems=[], **values)
    session.add(row)
    session.flush()
    add_event(session, row.id, None, status.value, actor, reason)
    return row


def get_order(session: Session, order_id: str, *, for_update: bool = False) -> OrderRow:
    stmt = select(OrderRow).where(OrderRow.id == order_id)
    if for_update and session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(f"order {order_id} not found")
    return row


def add_event(session: Session, order_id: str, from_status: str | None, to_status: str | None,
              actor: str, reason: str, *, kind: str = "transition", data: dict[str, Any] | None = None) -> None:
    session.add(OrderEventRow(order_id=order_id, from_status=from_status, to_status=to_status,
                              actor=actor, reason=" ".join((reason or "").split()), kind=kind, data=data))


def transition(session: Session, order: OrderRow, to: OrderStatus, *, actor: str, reason: str = "") -> None:
    """Move ``order`` to ``to`` if the table allows it and nobody moved it meanwhile.

    The UPDATE is guarded by the current status, so two workers racing on one order cannot
    both move it: the loser gets InvalidTransition and rolls back its unit of work.
    """
    frm = order.status
    check_transition(frm, to)
    res = session.execute(
        update(OrderRow).where(OrderRow.id == order.id, OrderRow.status == frm)
        .values(status=to.value, updated_at=utcnow(), reason=reason if to == OrderStatus.FAILED else None)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransition(frm, to.value + " (the order was moved by someone else)")
    order.status = to.value
    if to == OrderStatus.FAILED:
        order.reason = reason
    add_event(session, order.id, frm, to.value, actor, reason)


def order_history(session: Session, order_id: str) -> list[HistoryEntry]:
    rows = session.scalars(select(OrderEventRow).where(OrderEventRow.order_id == order_id).order_by(OrderEventRow.id))
    return [HistoryEntry(at=r.at, kind=r.kind, from_status=r.from_status, to_status=r.to_status,
                         actor=r.actor, reason=r.reason, data=r.data) for r in rows]


def _date(v: Any) -> date | None:
    if not v:
        return None
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def to_order(session: Session, row: OrderRow, *, with_history: bool = True) -> Order:
    rec = row.record or {}
    lines = [OrderLine.model_validate(ln) for ln in rec.get("lines", [])]
    return Order(
        id=row.id, status=row.status, channel=row.channel, message_id=row.message_id,
        customer_id=row.customer_id, po_number=row.po_number,
        order_date=_date(rec.get("order_date")), requested_date=_date(rec.get("requested_date")),
        buyer=rec.get("buyer"), supplier=rec.get("supplier"), ship_to=rec.get("ship_to"),
        bill_to=rec.get("bill_to"), currency=rec.get("currency"), payment_terms=rec.get("payment_terms"),
        total=rec.get("total"), lines=lines, confidence=row.confidence or 0.0,
        problems=[Problem.model_validate(p) for p in (row.problems or [])]
        + ([Problem(code="failed", message=row.reason)] if row.status == "FAILED" and row.reason else []),
        history=order_history(session, row.id) if with_history else [],
        version=row.version, created_at=row.created_at, updated_at=row.updated_at,
    )


def order_json(order: Order) -> dict[str, Any]:
    """The order as JSON for the API, the webhook and ``ingest --json``."""
    return order.model_dump(mode="json")


def list_orders(session: Session, *, status: str | None = None, customer_id: str | None = None,
                limit: int = 50, offset: int = 0) -> tuple[list[OrderRow], int]:
    stmt = select(OrderRow)
    count = select(func.count()).select_from(OrderRow)
    if status:
        stmt = stmt.where(OrderRow.status == status)
        count = count.where(OrderRow.status == status)
    if customer_id:
        stmt = stmt.where(OrderRow.customer_id == customer_id)
        count = count.where(OrderRow.customer_id == customer_id)
    rows = list(session.scalars(stmt.order_by(OrderRow.created_at.desc(), OrderRow.id).limit(limit).offset(offset)))
    return rows, int(session.scalar(count) or 0)


def po_exists(session: Session, customer_id: str | None, po_number: str, *, exclude_order: str | None = None) -> bool:
    """Whether another live order of this customer carries this PO number."""
    stmt = select(func.count()).select_from(OrderRow).where(
        OrderRow.po_number == po_number,
        OrderRow.status.notin_(["FAILED", "REJECTED", "DUPLICATE"]),
    )
    stmt = stmt.where(OrderRow.customer_id == customer_id) if customer_id else stmt.where(OrderRow.customer_id.is_(None))
    if exclude_order:
        stmt = stmt.where(OrderRow.id != exclude_order)
    return bool(session.scalar(stmt))


# --- API keys -----------------------------------------------------------------------------

def _hash_key(key: str) -> str:
    # API keys are 256-bit random tokens, so a plain SHA-256 is a safe, fast lookup hash
    # (a slow password hash buys nothing against brute force of a 256-bit secret).
    return hashlib.sha256(key.encode()).hexdigest()


SCOPES = ("read", "ingest", "review", "admin")
"""read: orders, messages, deliveries, metrics, docs; ingest: upload messages; review: approve,
reject, re-run, ask the customer; admin: everything, re-drive webhooks included."""
DEFAULT_SCOPES = ("read", "ingest", "review")


def parse_scopes(values: Any) -> tuple[str, ...]:
    """Scopes from a list or a comma-separated string, checked and in canonical order."""
    items = values.split(",") if isinstance(values, str) else list(values or [])
    wanted = {str(v).strip().lower() for v in items if str(v).strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}: use {', '.join(SCOPES)}")
    if not wanted:
        raise ValueError(f"a key needs at least one scope ({', '.join(SCOPES)})")
    return tuple(sc for sc in SCOPES if sc in wanted)


def create_api_key(session: Session, name: str, *, scopes: Any = DEFAULT_SCOPES, partner: str | None = None) -> str:
    """A new key (returned once; only its hash is kept) with ``scopes`` and an optional ``partner``.

    A partner key is an EDI partner's channel: its uploads carry that partner as proven identity.
    """
    name = " ".join((name or "").split())
    if not name or len(name) > 128:
        raise ConfigError("an API key needs a name of 1-128 characters")
    try:
        scope_list = parse_scopes(scopes)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    partner = (partner or "").strip() or None
    if partner is not None and len(partner) > 128:
        raise ConfigError("a partner id has at most 128 characters")
    key = "oik_" + secrets.token_urlsafe(32)
    session.add(ApiKeyRow(name=name, prefix=key[:10], key_hash=_hash_key(key), scopes=",".join(scope_list),
                          partner=partner))
    session.flush()
    return key


def verify_api_key(session: Session, key: str) -> ApiKeyRow | None:
    if not key or len(key) > 200:
        return None
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == _hash_key(key), ApiKeyRow.revoked_at.is_(None)))
    if row is not None:
        row.last_used_at = utcnow()
    return row


def list_api_keys(session: Session, *, include_revoked: bool = True) -> list[ApiKeyRow]:
    stmt = select(ApiKeyRow).order_by(ApiKeyRow.id)
    if not include_revoked:
        stmt = stmt.where(ApiKeyRow.revoked_at.is_(None))
    return list(session.scalars(stmt))


def revoke_api_key(session: Session, ref: str) -> list[ApiKeyRow]:
    """Revoke the live key(s) named by ``ref``: an id, a prefix (``oik_AbCdEf``) or a name.

    A name shared by several live keys is refused (say which one by id or prefix).
    """
    ref = (ref or "").strip()
    live = list_api_keys(session, include_revoked=False)
    hits = [r for r in live if str(r.id) == ref] or [r for r in live if ref.startswith("oik_") and r.prefix == ref[:10]]
    if not hits:
        hits = [r for r in live if r.name == ref]
        if len(hits) > 1:
            ids = ", ".join(f"{r.id} ({r.prefix})" for r in hits)

            raise ConfigError(f"{len(hits)} live keys are named {ref!r}: revoke one by id or prefix: {ids}")
    if not hits:
        raise NotFound(f"no live API key {ref!r} (give its id, prefix or name; `intake apikey list` shows them)")
    now = utcnow()
    for r in hits:
        r.revoked_at = now
    session.flush()
    return hits


def outbound_docs(session: Session, message_id: str | None = None) -> list[OutboundDocRow]:
    stmt = select(OutboundDocRow).order_by(OutboundDocRow.id)
    if message_id:
        stmt = stmt.where(OutboundDocRow.message_id == message_id)
    return list(session.scalars(stmt))


def outbox_rows(session: Session, order_id: str | None = None, status: str | None = None) -> list[OutboxRow]:
    stmt = select(OutboxRow).order_by(OutboxRow.id)
    if order_id:
        stmt = stmt.where(OutboxRow.order_id == order_id)
    if status:
        stmt = stmt.where(OutboxRow.status == status)
    return list(session.scalars(stmt))
