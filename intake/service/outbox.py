"""Transactional outbox and its relay: webhooks and EDI acknowledgments.

``enqueue`` writes the webhook row in the same transaction as the order's approval. The relay
claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), posts them signed, marks them sent
only on a 2xx answer (and moves the order to DELIVERED in the same transaction), and otherwise
schedules a retry with exponential backoff and jitter, dead-lettering after the limit.

EDI acknowledgments (``outbound_documents`` rows the pipeline writes ``pending`` with their
bytes, in the transaction of the receipt or approval they acknowledge) are written to the
outbound folder by ``deliver_acks``, which the relay runs on every pass whether or not a webhook
is configured.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.core.domain import Order
from intake.core.errors import ConfigError, NotFound
from intake.core.settings import Settings
from intake.core.states import OrderStatus
from intake.service import ledger
from intake.service.models import OrderRow, OutboundDocRow, OutboxRow, utcnow
from intake.service.webhooks import check_url_allowed, signed_headers

__all__ = ["enqueue", "webhook_id_for", "Relay", "redrive", "outbox_json", "deliver_acks"]

log = logging.getLogger("intake.outbox")


def webhook_id_for(order_id: str, version: int) -> str:
    """Stable for one version of an order: the receiver's idempotency key."""
    return f"msg_{order_id}_v{version}"


def enqueue(session: Session, row: OrderRow, order: Order, *, event_type: str = "order.approved") -> OutboxRow:
    """Add the order's webhook to the outbox (idempotent per order version)."""
    wid = webhook_id_for(row.id, row.version)
    existing = session.scalar(select(OutboxRow).where(OutboxRow.webhook_id == wid))
    if existing is not None:
        return existing
    body = json.dumps(ledger.order_json(order), separators=(",", ":"), sort_keys=True)
    ob = OutboxRow(order_id=row.id, order_version=row.version, webhook_id=wid, event_type=event_type,
                   payload=body, status="pending", attempts=0, next_attempt_at=utcnow())
    session.add(ob)
    session.flush()
    return ob


def outbox_json(ob: OutboxRow) -> dict[str, Any]:
    return {
        "id": ob.id, "order_id": ob.order_id, "order_version": ob.order_version, "webhook_id": ob.webhook_id,
        "status": ob.status, "attempts": ob.attempts, "last_status_code": ob.last_status_code,
        "last_error": ob.last_error, "next_attempt_at": ob.next_attempt_at.isoformat() if ob.next_attempt_at else None,
        "created_at": ob.created_at.isoformat() if ob.created_at else None,
        "sent_at": ob.sent_at.isoformat() if ob.sent_at else None,
    }


def redrive(session: Session, outbox_id: int, *, actor: str) -> OutboxRow:
    """Put a dead-lettered (or pending) webhook back in line for an immediate attempt.

    ``actor`` is who asked (``user:<name>``, ``apikey:<name>``, ``cli:<os user>``): the history says so.
    """
    ob = session.get(OutboxRow, outbox_id)
    if ob is None:
        raise NotFound(f"outbox entry {outbox_id} not found")
    if ob.status == "sent":
        return ob
    ob.status, ob.attempts, ob.next_attempt_at, ob.last_error = "pending", 0, utcnow(), None
    ledger.add_event(session, ob.order_id, None, None, actor, f"webhook {ob.webhook_id} re-driven", kind="note")
    return ob


def deliver_acks(sm: sessionmaker[Session], outbound_dir: Path, *, batch: int = 100, actor: str = "outbox") -> int:
    """Write the pending EDI acknowledgments to ``outbound_dir`` (whole files: a temporary name,
    then a rename) and mark them written. Returns how many were written. A row whose file could
    not be written stays pending with the error, for the next pass."""
    written = 0
    while True:
        with sm() as session:
            stmt = (select(OutboundDocRow).where(OutboundDocRow.status == "pending")
                    .order_by(OutboundDocRow.id).limit(1))
            if session.get_bind().dialect.name != "sqlite":
                stmt = stmt.with_for_update(skip_locked=True)
            doc = session.scalar(stmt)
            if doc is None or written >= batch:
                session.rollback()
                return written
            doc.attempts = (doc.attempts or 0) + 1
            try:
                outbound_dir.mkdir(parents=True, exist_ok=True)
                path = outbound_dir / doc.filename
                tmp = path.with_suffix(path.suffix + ".tmp")
                tmp.write_bytes(doc.content or b"")
                tmp.replace(path)
            except OSError as exc:
                doc.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                session.commit()
                log.warning("acknowledgment not written", extra={"filename": doc.filename, "error": doc.last_error})
                return written  # the folder is not writable now: the next pass tries again
            doc.status, doc.written_at, doc.last_error = "written", utcnow(), None
            if doc.order_id is not None:
                ledger.add_event(session, doc.order_id, None, None, actor,
                                 f"{doc.kind} acknowledgment written: {doc.filename}", kind="note")
            session.commit()
            written += 1


class Relay:
    """Posts due outbox rows to the webhook URL. Thread-safe to run one per process."""

    def __init__(self, settings: Settings, sm: sessionmaker[Session], *, transport: httpx.BaseTransport | None = None,
                 batch: int = 20) -> None:
        self.settings, self.sm, self.batch = settings, sm, batch
        self.client = httpx.Client(transport=transport, timeout=settings.webhook_timeout_s, follow_redirects=False)
        self._stop = threading.Event()

    def backoff(self, attempts: int) -> float:
        base = min(self.settings.webhook_backoff_max_s, self.settings.webhook_backoff_base_s * (2 ** max(0, attempts - 1)))
        return base * random.uniform(0.5, 1.0)  # "equal jitter": spreads retries of many orders

    def run_once(self) -> int:
        """Try every due row once. Returns how many were attempted."""
        url = self.settings.webhook_url
        secret = self.settings.webhook_secret.get_secret_value() if self.settings.webhook_secret else ""
        if not url or not secret:
            return 0
        attempted = 0
        while True:
            with self.sm() as session:
                stmt = (select(OutboxRow).where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= utcnow())
                        .order_by(OutboxRow.next_attempt_at, OutboxRow.id).limit(1))
                if session.get_bind().dialect.name != "sqlite":
                    stmt = stmt.with_for_update(skip_locked=True)
                ob = session.scalar(stmt)
                if ob is None:
                    session.rollback()
                    return attempted
                attempted += 1
                self._attempt(session, ob, url, secret)
                session.commit()
            if attempted >= self.batch:
                return attempted

    def _attempt(self, session: Session, ob: OutboxRow, url: str, secret: str) -> None:
        ob.attempts += 1
        error: str | None = None
        code: int | None = None
        try:
            check_url_allowed(url, self.settings.webhook_allowed_hosts)
            ts = int(time.time())
            resp = self.client.post(url, content=ob.payload.encode(), headers=signed_headers(secret, ob.webhook_id, ts, ob.payload))
            code = resp.status_code
            if 200 <= code < 300:
                ob.status, ob.sent_at, ob.last_status_code, ob.last_error = "sent", utcnow(), code, None
                order = session.get(OrderRow, ob.order_id)
                if order is not None and order.status == OrderStatus.APPROVED.value:
                    ledger.transition(session, order, OrderStatus.DELIVERED, actor="webhook",
                                      reason=f"webhook {ob.webhook_id} answered {code}")
                log.info("webhook delivered", extra={"order_id": ob.order_id, "webhook_id": ob.webhook_id})
                return
            error = f"HTTP {code}"
        except ConfigError as exc:
            error = exc.reason
            ob.attempts = max(ob.attempts, self.settings.webhook_max_attempts)  # a refused URL will not heal by retrying
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        ob.last_status_code, ob.last_error = code, error
        if ob.attempts >= self.settings.webhook_max_attempts:
            ob.status = "dead"
            ledger.add_event(session, ob.order_id, None, None, "webhook",
                             f"webhook {ob.webhook_id} dead-lettered after {ob.attempts} attempts: {error}", kind="note")
            log.warning("webhook dead-lettered", extra={"order_id": ob.order_id, "error": error})
        else:
            ob.next_attempt_at = utcnow() + timedelta(seconds=self.backoff(ob.attempts))
            log.info("webhook retry scheduled", extra={"order_id": ob.order_id, "error": error, "attempts": ob.attempts})

    def write_acks(self) -> int:
        """Write the pending EDI acknowledgments to the outbound folder. Returns how many."""
        return deliver_acks(self.sm, self.settings.outbound_dir, batch=self.batch)

    def run_forever(self, interval: float = 0.5) -> None:
        while not self._stop.is_set():
            try:
                n = self.write_acks() + self.run_once()
            except Exception:  # the relay must outlive a dropped database connection
                log.exception("relay pass failed; retrying")
                n = 0
            if n == 0:
                self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()
