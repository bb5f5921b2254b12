"""Pipeline orchestration: the stages and the persisted moves between them.

    ingest   bytes -> RawMessage, stored (blob + row) before anything else; same bytes -> same message
    read     RawMessage -> Documents -> OrderDrafts (extractors/dispatch.py: EDI parsed exactly, the rest
             by the layout model)
             -> one EXTRACTED order per draft, or one FAILED order carrying the one-line reason
    match    EXTRACTED -> MATCHED   (customer and products from master data)
    decide   MATCHED -> APPROVED (+ outbox row, same transaction) | NEEDS_REVIEW | DUPLICATE

Each stage reads its input from the ledger, computes without holding a transaction, and writes
its result and the transition in one unit of work guarded by the order's current status. A
stage run twice (after a crash, or by two workers) changes nothing the second time, and
``resume()`` picks up every order where it stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from extractors.dispatch import edi_drafts, extract_drafts
from extractors.edi_acks import acknowledgments
from intake.core.domain import Channel, Document, DocumentKind, MatchedOrder, OrderDraft, RawMessage
from intake.core.errors import IntakeError, InvalidTransition, ReadError, UnsupportedContentType
from intake.core.identity import origin_of
from intake.core.matching import match_order
from intake.core.settings import Settings
from intake.core.states import MessageStatus, OrderStatus
from intake.service import ledger, outbox
from intake.service.blobstore import BlobStore, sha256_hex
from intake.service.catalog import CatalogCache
from intake.service.db import make_engine, make_sessionmaker, unit_of_work
from intake.service.decide import build_record, decide_order, record_fingerprint
from intake.service.metrics import observe_stage
from intake.service.migrate import upgrade
from intake.service.models import MessageRow, OrderRow, OutboundDocRow, utcnow

__all__ = ["Pipeline", "IngestResult"]

log = logging.getLogger("intake.pipeline")


@dataclass
class IngestResult:
    message_id: str
    duplicate: bool
    status: str
    order_ids: list[str] = field(default_factory=list)
    reason: str | None = None


# --- the pipeline over the ledger ------------------------------------------------------------

class Pipeline:
    """Stages over the ledger. One instance per process; thread-safe."""

    def __init__(self, settings: Settings, sm: sessionmaker[Session] | None = None) -> None:
        self.settings = settings
        if sm is None:
            engine = make_engine(settings.db_url)
            upgrade(engine)
            sm = make_sessionmaker(engine)
        self.sm = sm
        self.blobs = BlobStore(settings.blob_dir)
        self._catalog: Any = None
        self._catalog_loaded_at = 0.0
        self._lock = threading.Lock()
        self.model_extract: Callable[[Document], OrderDraft] | None = None
        # the day dates are judged against ("requested date in the past"); a replay of old mail
        # (bench/e2e.py --as-of sent) sets it to the day each mail was sent
        self.today: Callable[[], date] = date.today
        self.actor = "pipeline"

    # ingest ------------------------------------------------------------------------------
    def ingest(self, data: bytes, *, filename: str | None = None, content_type: str | None = None,
               channel: Channel = Channel.upload, sender: str | None = None, subject: str | None = None,
               message_id: str | None = None, in_reply_to: str | None = None,
               trusted_partner: str | None = None) -> IngestResult:
        """Store the bytes first (blob, then ledger row). Same bytes again -> the same message.

        ``sender`` is a hint (what the sender typed); ``trusted_partner`` is the EDI partner the
        channel proves (the partner's folder, a key bound to the partner), see intake/core/identity.py.
        """
        digest = self.blobs.put(data)
        raw = RawMessage(sha256=digest, size=len(data), filename=filename, content_type=content_type,
                         channel=channel, received_at=datetime.now(timezone.utc), sender=sender,
                         subject=subject, message_id=message_id, in_reply_to=in_reply_to,
                         trusted_partner=trusted_partner)
        for attempt in range(3):
            try:
                with unit_of_work(self.sm) as s:
                    row, created = ledger.record_message(s, raw)
                    res = IngestResult(row.id, not created, row.status, ledger.message_order_ids(s, row.id), row.reason)
                return res
            except Exception as exc:  # a concurrent insert of the same bytes: read the winner's row
                if "unique" not in str(exc).lower() and "duplicate" not in str(exc).lower() or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def message_result(self, message_id: str) -> IngestResult:
        with self.sm() as s:
            m = ledger.get_message(s, message_id)
            return IngestResult(m.id, False, m.status, ledger.message_order_ids(s, m.id), m.reason)

    # read ---------------------------------------------------------------------------------
    @observe_stage("read", "message_id")  # latency, outcome and the message id on every log line
    def read_message(self, message_id: str, *, wait: bool = True) -> list[str]:
        """RECEIVED message -> orders. Idempotent: a processed message returns its orders.

        A read takes a lease and counts an attempt first (committed), so a message whose reading
        stops the process (a crash, the OOM killer) is tried at most ``max_read_attempts`` times
        and then ends FAILED instead of being read again at every restart. While another reader
        holds the lease, ``wait`` waits for its result (else the orders so far are returned).
        """
        claim = self._claim(message_id, wait=wait)
        if isinstance(claim, list):
            return claim
        sha, filename = claim  # (_claim put the message in _READING, before its lease was committed)
        try:
            drafts: list[OrderDraft] = []
            edi_results: list[Any] = []
            reason: str | None = None
            try:
                data = self.blobs.get(sha)
                if sha256_hex(data) != sha:
                    raise ReadError("stored message is damaged (sha256 mismatch)")
                read = extract_drafts(data, filename, self.settings.limits, model_extract=self.model_extract)
                drafts, edi_results = read.drafts, read.edi
            except IntakeError as exc:
                reason = exc.reason
            except RecursionError:
                reason = "the document is nested too deeply to read"
            except MemoryError:
                reason = "reading the document needs more memory than is available"
            except Exception as exc:  # never let one bad message stop the service
                if _is_db_error(exc):
                    raise
                log.exception("reading message %s failed", message_id)
                reason = f"internal error while reading: {type(exc).__name__}: {exc}".splitlines()[0][:500]
            return self._write_read(message_id, drafts, edi_results, reason)
        except BaseException:
            self._release(message_id)  # the database went away: this read did not happen
            raise
        finally:
            with _READING_LOCK:
                _READING.discard(message_id)

    def _release(self, message_id: str) -> None:
        """Give a read's lease back and take its attempt off (best effort: the database may be away;
        then the lease is this process's own and the next read here takes it over)."""
        try:
            with unit_of_work(self.sm) as s:
                m = s.get(MessageRow, message_id)
                if m is not None and m.status == MessageStatus.RECEIVED.value and m.lease_owner == LEASE_OWNER:
                    m.attempts = max(0, (m.attempts or 0) - 1)
                    m.lease_until = m.lease_owner = None
        except Exception:  # noqa: BLE001 - nothing more to do here; the lease is recognised as ours
            log.warning("could not give back the read lease of message %s", message_id)

    def _claim(self, message_id: str, *, wait: bool) -> list[str] | tuple[str, str | None]:
        """Take the read lease of a RECEIVED message: (sha256, filename) to read, or its order ids
        when there is nothing to do (already read, another reader holds the lease, out of attempts)."""
        limits = self.settings.limits
        lease = timedelta(seconds=max(limits.read_lease_s, 1.0))
        deadline = time.monotonic() + lease.total_seconds()
        while True:
            added: list[str] = []
            try:
                claim = self._try_claim(message_id, lease, limits.max_read_attempts, added)
            except BaseException:
                with _READING_LOCK:
                    _READING.difference_update(added)  # its lease was not committed after all
                raise
            if claim is not None:
                return claim
            if not wait or time.monotonic() > deadline:
                with self.sm() as s:
                    return ledger.message_order_ids(s, message_id)
            time.sleep(0.2)  # another reader is on it: its result is ours

    def _try_claim(self, message_id: str, lease: timedelta, max_attempts: int,
                   added: list[str]) -> list[str] | tuple[str, str | None] | None:
        """One try of ``_claim``: None while another reader holds the lease."""
        with unit_of_work(self.sm) as s:
            _lock_message(s, message_id)
            m = ledger.get_message(s, message_id)
            if m.status != MessageStatus.RECEIVED.value:
                return ledger.message_order_ids(s, m.id)
            now = utcnow()
            mine_stale = m.lease_owner == LEASE_OWNER and m.id not in _READING  # an aborted read of ours
            held = (m.lease_until is not None and _aware(m.lease_until) > now and not owner_dead(m.lease_owner)
                    and not mine_stale)
            if held:
                return None
            if (m.attempts or 0) >= max_attempts:
                reason = (f"gave up after {m.attempts} attempts: reading this message stopped the service or "
                          "ran out of time every time")
                return self._fail_message(s, m, reason)
            m.attempts = (m.attempts or 0) + 1
            m.lease_until, m.lease_owner = now + lease, LEASE_OWNER
            with _READING_LOCK:
                _READING.add(m.id)  # before the commit: no thread here takes it for an aborted read
            added.append(m.id)
            return m.sha256, m.filename

    def _write_read(self, message_id: str, drafts: list[OrderDraft], edi_results: list[Any],
                    reason: str | None) -> list[str]:
        with unit_of_work(self.sm) as s:
            # lock the message first: two readers of one message (an upload answered with wait, and
            # a worker sent by the sweep after a lease ran out) must not both write orders
            _lock_message(s, message_id)
            m = ledger.get_message(s, message_id)
            if m.status != MessageStatus.RECEIVED.value:
                return ledger.message_order_ids(s, m.id)
            if reason is not None:
                return self._fail_message(s, m, reason)
            m.processed_at = utcnow()
            m.lease_until = m.lease_owner = None
            base = _next_index(s, m.id)
            m.status = MessageStatus.PROCESSED.value
            ids = []
            for i, d in enumerate(drafts, base):
                o = ledger.create_order(
                    s, m, i, OrderStatus.RECEIVED, actor=self.actor, reason="message stored",
                    po_number=_s(d.po_number.value), extractor=d.extractor,
                    draft=d.model_dump(mode="json"), confidence=_draft_confidence(d),
                )
                ledger.transition(s, o, OrderStatus.EXTRACTED, actor=self.actor,
                                  reason=f"{len(d.lines)} line(s) extracted by {d.extractor}")
                ids.append(o.id)
            self._write_acks(s, m, edi_results, stage="receipt")
            return ids

    def _fail_message(self, s: Session, m: MessageRow, reason: str) -> list[str]:
        """The message ends FAILED with ``reason``: one FAILED order carries it (the CSR's failed tab)."""
        m.processed_at = utcnow()
        m.lease_until = m.lease_owner = None
        m.status, m.reason = MessageStatus.FAILED.value, reason
        o = ledger.create_order(s, m, _next_index(s, m.id), OrderStatus.RECEIVED, actor=self.actor,
                                reason="message stored")
        ledger.transition(s, o, OrderStatus.FAILED, actor=self.actor, reason=reason)
        return [o.id]

    def fail_message(self, message_id: str, reason: str, *, actor: str | None = None) -> list[str]:
        """Mark a stored message that its channel could not even open FAILED with ``reason``."""
        with unit_of_work(self.sm) as s:
            _lock_message(s, message_id)
            m = ledger.get_message(s, message_id)
            if m.status in (MessageStatus.PROCESSED.value, MessageStatus.FAILED.value):
                return ledger.message_order_ids(s, m.id)
            return self._fail_message(s, m, " ".join(reason.split())[:600])

    # match --------------------------------------------------------------------------------
    def catalog(self) -> Any:
        """The master-data catalog, rebuilt when the master data changed (checked every few seconds)."""
        with self._lock:
            now = time.monotonic()
            if self._catalog is None:
                self._catalog = CatalogCache()
            if now - self._catalog_loaded_at > 2.0 or self._catalog.current is None:
                with self.sm() as s:
                    self._catalog.get(s)
                self._catalog_loaded_at = now
            return self._catalog.current

    def invalidate_catalog(self) -> None:
        with self._lock:
            self._catalog_loaded_at = 0.0
            if self._catalog is not None:
                self._catalog.invalidate()

    @observe_stage("match")
    def match_order(self, order_id: str) -> None:
        with self.sm() as s:
            o = ledger.get_order(s, order_id)
            if o.status != OrderStatus.EXTRACTED.value:
                return
            draft = OrderDraft.model_validate(o.draft)
            origin = origin_of(s.get(MessageRow, o.message_id), draft)  # type: ignore[arg-type]
        matched = match_order(draft, self.catalog(), origin=origin, hint_score=self.settings.identity.hint_score)
        with unit_of_work(self.sm) as s:
            o = ledger.get_order(s, order_id, for_update=True)
            if o.status != OrderStatus.EXTRACTED.value:
                return
            o.matched = matched.model_dump(mode="json")
            o.customer_id = matched.customer_id
            why = (f"customer {matched.customer_id} ({matched.customer_via}, {matched.customer_score:.2f})"
                   if matched.customer_id else ("no master data loaded" if not matched.masters_loaded else "customer not identified"))
            ledger.transition(s, o, OrderStatus.MATCHED, actor=self.actor, reason=why)

    # decide -------------------------------------------------------------------------------
    @observe_stage("decide")
    def decide(self, order_id: str) -> None:
        with self.sm() as s:
            o = ledger.get_order(s, order_id)
            if o.status != OrderStatus.MATCHED.value:
                return
            matched = MatchedOrder.model_validate(o.matched)
        catalog = self.catalog()
        with unit_of_work(self.sm) as s:
            o = ledger.get_order(s, order_id, for_update=True)
            if o.status != OrderStatus.MATCHED.value:
                return
            verdict = decide_order(
                matched, catalog, self.settings.decision, today=self.today(),
                existing_po=lambda cust, po: ledger.po_exists(s, cust, po, exclude_order=order_id),
                duplicate_of=lambda cust, po, fp: _duplicate_of(s, cust, po, fp, order_id),
                revision_of=lambda cust, po: _revision_of(s, cust, po, order_id),
            )
            o.record = build_record(matched)
            if verdict.revision_of:
                o.record["revision_of"] = verdict.revision_of
                ledger.add_event(s, verdict.revision_of, None, None, self.actor,
                                 f"a revised PO arrived as order {order_id}", kind="note",
                                 data={"revised_by": order_id})
            o.problems = [p.model_dump(mode="json") for p in verdict.problems]
            o.confidence = verdict.confidence
            o.po_number = _s(o.record.get("po_number"))
            ledger.transition(s, o, verdict.status, actor=self.actor, reason=verdict.reason)
            if verdict.status == OrderStatus.APPROVED:
                self._on_approved(s, o)

    def _on_approved(self, s: Session, o: OrderRow) -> None:
        """Same transaction as the approval: the outbox row and the EDI order acknowledgment."""
        order = ledger.to_order(s, o)
        outbox.enqueue(s, o, order)
        if o.extractor and o.extractor.startswith("edi"):
            m = s.get(MessageRow, o.message_id)
            if m is not None:
                try:
                    _, res = edi_drafts(self.blobs.get(m.sha256))
                except IntakeError:
                    res = None
                if res is not None:
                    # acknowledge this order alone (an interchange may hold several)
                    mine = [d for i, d in enumerate(res.orders) if _s(d.po_number.value) == o.po_number
                            or (o.po_number is None and i == o.document_index)]
                    self._write_acks(s, m, [dataclasses.replace(res, orders=mine[:1])], stage="order", order=o)

    def approve(self, s: Session, o: OrderRow, *, actor: str, reason: str) -> None:
        """A person's approval (review UI / API): transition, outbox and acks in one transaction."""
        ledger.transition(s, o, OrderStatus.APPROVED, actor=actor, reason=reason)
        self._on_approved(s, o)

    # acknowledgments ---------------------------------------------------------------------
    def _write_acks(self, s: Session, m: MessageRow, results: list[Any], *, stage: str, order: OrderRow | None = None) -> None:
        """Put EDI acknowledgments in the outbox (same transaction): 997/CONTRL on receipt,
        855/ORDRSP when an order is approved. The relay writes their files (outbox.deliver_acks)."""
        for res in results:
            for fname, content, kind in _acks(res):
                functional = kind in ("997", "CONTRL")
                if stage == "receipt" and not functional:
                    continue
                if stage == "order" and functional:
                    continue
                unique = f"{m.id[:8]}_{fname}"
                if s.scalar(select(OutboundDocRow.id).where(OutboundDocRow.filename == unique)) is not None:
                    continue
                s.add(OutboundDocRow(message_id=m.id, order_id=order.id if order is not None else None, kind=kind,
                                     filename=unique, partner=m.sender, content=content, status="pending", attempts=0))
                if order is not None:
                    ledger.add_event(s, order.id, None, None, self.actor, f"{kind} acknowledgment queued: {unique}",
                                     kind="note")

    # driving ------------------------------------------------------------------------------
    def advance(self, order_id: str) -> None:
        """Run the order's remaining automatic stages. Safe to call any number of times."""
        for _ in range(4):
            with self.sm() as s:
                status = ledger.get_order(s, order_id).status
            try:
                if status == OrderStatus.EXTRACTED.value:
                    self.match_order(order_id)
                elif status == OrderStatus.MATCHED.value:
                    self.decide(order_id)
                else:
                    return
            except InvalidTransition:
                return  # another worker moved it
            except IntakeError as exc:
                self._fail(order_id, status, exc.reason)
                return
            except Exception as exc:
                if _is_db_error(exc):
                    raise  # the order stays where it was and is resumed
                log.exception("order %s failed in stage after %s", order_id, status)
                self._fail(order_id, status, f"internal error: {type(exc).__name__}: {exc}".splitlines()[0][:500])
                return

    def _fail(self, order_id: str, status: str, reason: str) -> None:
        with unit_of_work(self.sm) as s:
            o = ledger.get_order(s, order_id)
            if o.status == status:
                ledger.transition(s, o, OrderStatus.FAILED, actor=self.actor, reason=reason)

    def process_message(self, message_id: str) -> list[str]:
        ids = self.read_message(message_id)
        for oid in ids:
            self.advance(oid)
        return ids

    def pending_messages(self, limit: int = 100) -> list[str]:
        """RECEIVED messages that nobody is reading: no lease, one that ran out, or one held by a
        process of this host that is gone (a crash or a kill: taken over at once)."""
        now = utcnow()
        with self.sm() as s:
            rows = s.execute(select(MessageRow.id, MessageRow.lease_until, MessageRow.lease_owner).where(
                MessageRow.status == MessageStatus.RECEIVED.value).order_by(MessageRow.received_at)
                .limit(limit * 4)).all()
        out = [mid for mid, until, owner in rows
               if until is None or _aware(until) <= now or owner_dead(owner)
               or (owner == LEASE_OWNER and mid not in _READING)]  # a read of ours that was aborted
        return out[:limit]

    def pending_orders(self, limit: int = 100) -> list[str]:
        with self.sm() as s:
            return list(s.scalars(select(OrderRow.id).where(OrderRow.status.in_(
                [OrderStatus.EXTRACTED.value, OrderStatus.MATCHED.value])).order_by(OrderRow.created_at).limit(limit)))

    def resume(self) -> int:
        """Move every message and order that stopped midway. Returns how many were touched."""
        n = 0
        for mid in self.pending_messages():
            self.process_message(mid)
            n += 1
        for oid in self.pending_orders():
            self.advance(oid)
            n += 1
        return n

    def rerun(self, order_id: str, *, actor: str) -> list[str]:
        """A CSR re-runs a FAILED order: its message is read again from the stored bytes."""
        with unit_of_work(self.sm) as s:
            o = ledger.get_order(s, order_id)
            ledger.transition(s, o, OrderStatus.RECEIVED, actor=actor, reason="re-run requested")
            ledger.transition(s, o, OrderStatus.REJECTED, actor=actor, reason="superseded by the re-run")
            m = ledger.get_message(s, o.message_id)
            m.status, m.reason, m.attempts, m.lease_until, m.lease_owner = (
                MessageStatus.RECEIVED.value, None, 0, None, None)
            # the old orders of the message keep their history; read_message numbers new ones after them
            m_id = m.id
        return self.process_message(m_id)


def _acks(res: Any) -> list[tuple[str, bytes, str]]:
    """(filename, content, kind) of each acknowledgment of an interchange (extractors/edi_acks.py)."""
    out = []
    for fname, content in acknowledgments(res):
        kind = next((k for k in ("997", "855", "CONTRL", "ORDRSP") if fname.upper().startswith(k)), "ACK")
        out.append((fname, content, kind))
    return out


def _duplicate_of(s: Session, customer_id: str | None, po: str, fingerprint: str, exclude: str) -> str | None:
    stmt = select(OrderRow).where(OrderRow.po_number == po, OrderRow.id != exclude,
                                  OrderRow.status.notin_(["FAILED", "REJECTED", "DUPLICATE"]))
    stmt = stmt.where(OrderRow.customer_id == customer_id) if customer_id else stmt.where(OrderRow.customer_id.is_(None))
    for row in s.scalars(stmt):
        if row.record and record_fingerprint(row.record) == fingerprint:
            return row.id
    return None


def _revision_of(s: Session, customer_id: str | None, po: str, exclude: str) -> str | None:
    """The latest live order of this customer with this PO (not this one): what a new PO revises."""
    stmt = select(OrderRow.id).where(OrderRow.po_number == po, OrderRow.id != exclude,
                                     OrderRow.status.notin_(["FAILED", "REJECTED", "DUPLICATE", "RECEIVED", "EXTRACTED"]))
    stmt = stmt.where(OrderRow.customer_id == customer_id) if customer_id else stmt.where(OrderRow.customer_id.is_(None))
    return s.scalar(stmt.order_by(OrderRow.created_at.desc(), OrderRow.id).limit(1))


def _process_token(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc): tells a pid reused by
    another process from the one that took a lease."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


_READING: set[str] = set()  # messages this process is reading right now
_READING_LOCK = threading.Lock()
_HOST = socket.gethostname()[:60]
LEASE_OWNER = f"{_HOST}:{os.getpid()}:{_process_token(os.getpid()) or '0'}"
"""This process, as a read lease names its holder."""


def owner_dead(owner: str | None) -> bool:
    """Whether the process holding a lease is known to be gone: it ran on this host and no process
    with its pid and start time exists. A holder on another host is never judged from here."""
    if not owner:
        return False
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _HOST:
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return parts[2] != (_process_token(pid) or "0")
    token = _process_token(pid)
    if token is None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return not os.path.isdir("/proc")  # no /proc to compare start times: alive as far as we know
    return token != parts[2]


def _lock_message(s: Session, message_id: str) -> None:
    """A no-op UPDATE: the row lock on PostgreSQL, the write lock on SQLite (whose driver starts a
    transaction only at the first write), so a second reader of the message waits here."""
    s.execute(update(MessageRow).where(MessageRow.id == message_id).values(status=MessageRow.status)
              .execution_options(synchronize_session=False))


def _next_index(s: Session, message_id: str) -> int:
    last = s.scalar(select(func.max(OrderRow.document_index)).where(OrderRow.message_id == message_id))
    return 0 if last is None else last + 1  # a re-run numbers its orders after the old ones


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


def _draft_confidence(d: OrderDraft) -> float:
    vals = [f.confidence for f in (d.po_number,) if f.present] + [ln.confidence for ln in d.lines]
    return min(vals) if vals else 0.0


def _s(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def _is_db_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, OperationalError

    return isinstance(exc, (OperationalError, DBAPIError))


def default_pipeline(settings: Settings) -> Pipeline:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Pipeline(settings)

