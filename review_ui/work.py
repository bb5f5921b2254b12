"""What a CSR does, over a Session: the queue, edits, approve, reject, hold.

The HTTP routes are thin wrappers around these functions. Nothing here commits: the caller's
unit of work does, so an approval, its training example, its learned cross-references and its
outbox row land together or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from extractors.email import mail_meta
from intake.core.domain import Problem
from intake.core.errors import IntakeError, InvalidTransition
from intake.core.states import OrderStatus
from intake.service import ledger
from intake.service.catalog import learn_xref
from intake.service.corrections import corrections_of, record_correction, save_training_example
from intake.service.decide import decision_score
from intake.service.models import MessageRow, OrderRow, utcnow
from review_ui.editing import Change, EditError, Evaluation, apply_ops, evaluate, load_matched
from review_ui.models import HoldRow
from review_ui.presence import viewers_by_order
from review_ui.problems import queue_groups

__all__ = [
    "StaleVersion", "QueueFilters", "QueueItem", "QueueView", "queue", "next_order_id", "save_edits", "approve",
    "reject", "hold", "release", "blocking_problems", "TABS", "mail_headers",
]

log = logging.getLogger("review_ui.work")
TABS = ("review", "held", "failed")
CONF_LIMITS = {"": None, "0.5": 0.5, "0.8": 0.8, "0.95": 0.95}


class StaleVersion(IntakeError):
    """Someone changed the order since this page was loaded."""

    code = "stale_version"


@dataclass
class QueueFilters:
    tab: str = "review"
    customer: str = ""  # a customer id, or "-" for orders with none
    channel: str = ""
    problem: str = ""  # a problem code
    max_conf: str = ""  # "", "0.5", "0.8", "0.95": show orders below that confidence
    sort: str = "oldest"  # oldest | newest | confidence

    def normalized(self) -> "QueueFilters":
        return QueueFilters(
            tab=self.tab if self.tab in TABS else "review", customer=self.customer.strip()[:128],
            channel=self.channel.strip()[:32], problem=self.problem.strip()[:64],
            max_conf=self.max_conf if self.max_conf in CONF_LIMITS else "",
            sort=self.sort if self.sort in ("oldest", "newest", "confidence") else "oldest",
        )

    def query(self) -> dict[str, str]:
        """The non-default filters, for links that keep them."""
        d = {"tab": self.tab, "customer": self.customer, "channel": self.channel, "problem": self.problem,
             "max_conf": self.max_conf, "sort": self.sort}
        defaults = QueueFilters()
        return {k: v for k, v in d.items() if v and v != getattr(defaults, k)}


@dataclass
class QueueItem:
    id: str
    po_number: str | None
    customer_id: str | None
    channel: str | None
    confidence: float
    created_at: Any
    problems: list[dict[str, Any]]
    sender: str | None
    subject: str | None
    filename: str | None
    reason: str | None
    lines: int
    total: Any
    held_by: str | None = None
    hold_reason: str | None = None
    customer_name: str = ""
    score: dict[str, Any] = field(default_factory=dict)  # intake.decide.DecisionScore as JSON
    groups: list[dict[str, Any]] = field(default_factory=list)  # problems by kind, in words
    viewers: list[Any] = field(default_factory=list)  # presence.Viewer: who has it open now


@dataclass
class QueueView:
    items: list[QueueItem]
    counts: dict[str, int]  # per tab
    problem_counts: dict[str, int]  # in the current tab, before the problem filter
    customers: list[tuple[str, str]]  # (id, name)
    channels: list[str]
    shown: int = 0
    total: int = 0
    filters: QueueFilters = field(default_factory=QueueFilters)


def _codes(problems: list[Any] | None) -> set[str]:
    return {p.get("code", "") for p in (problems or []) if isinstance(p, dict)}


def _score_of(row: OrderRow) -> dict[str, Any]:
    """The order's decision score (``intake.service.decide.decision_score``), from its stored match."""
    if not (row.matched or row.draft):
        return {"score": None, "read": None, "customer": None, "products": None, "weakest": "", "missing": []}
    try:
        m = load_matched(row.record, row.matched, row.draft)
    except (IntakeError, ValueError):
        return {"score": None, "read": None, "customer": None, "products": None, "weakest": "", "missing": []}
    return decision_score(m).to_json()


def _sort_score(it: QueueItem) -> float:
    s = it.score.get("score")
    return -1.0 if s is None else float(s)


def queue(session: Session, f: QueueFilters, *, limit: int = 500, catalog: Any = None,
          blobs: Any = None) -> QueueView:
    """The orders of one tab (waiting for review, held, failed), filtered and sorted.

    Each item carries the customer's name (with ``catalog``), the decision score, the mail's
    From and Subject (read from the stored mail with ``blobs`` when the message row has none),
    its problems grouped in words, and who has it open now.
    """
    f = f.normalized()
    holds = {h.order_id: h for h in session.scalars(select(HoldRow))}
    base = (select(OrderRow, MessageRow).join(MessageRow, MessageRow.id == OrderRow.message_id))
    review_rows = list(session.execute(base.where(OrderRow.status == OrderStatus.NEEDS_REVIEW.value)))
    failed_rows = list(session.execute(base.where(OrderRow.status == OrderStatus.FAILED.value)))
    by_tab = {
        "review": [r for r in review_rows if r[0].id not in holds],
        "held": [r for r in review_rows if r[0].id in holds],
        "failed": failed_rows,
    }
    counts = {t: len(v) for t, v in by_tab.items()}
    rows = by_tab[f.tab]

    def name_of(cid: str | None) -> str:
        c = catalog.customer(cid) if (catalog is not None and cid) else None
        return c.name if c is not None else ""

    customers = sorted({(r[0].customer_id, name_of(r[0].customer_id)) for r in rows if r[0].customer_id},
                       key=lambda c: ((c[1] or c[0]).lower(), c[0]))
    channels = sorted({r[0].channel for r in rows if r[0].channel})
    if f.customer:
        rows = [r for r in rows if (r[0].customer_id or "-") == f.customer]
    if f.channel:
        rows = [r for r in rows if r[0].channel == f.channel]
    scores = {r[0].id: _score_of(r[0]) for r in rows}
    lim = CONF_LIMITS.get(f.max_conf)
    if lim is not None:
        rows = [r for r in rows if (scores[r[0].id].get("score") or 0.0) < lim]
    problem_counts: dict[str, int] = {}
    for r in rows:
        for c in _codes(r[0].problems):
            problem_counts[c] = problem_counts.get(c, 0) + 1
    if f.problem:
        rows = [r for r in rows if f.problem in _codes(r[0].problems)]
    present = viewers_by_order(session)
    items = []
    for o, m in rows:
        rec = o.record or {}
        h = holds.get(o.id)
        sender, subject = m.sender, m.subject
        if (not sender or not subject) and blobs is not None:
            hdr = mail_headers(blobs, m)
            sender, subject = sender or hdr.get("from"), subject or hdr.get("subject")
        items.append(QueueItem(
            id=o.id, po_number=o.po_number, customer_id=o.customer_id, channel=o.channel,
            confidence=o.confidence or 0.0, created_at=o.created_at, problems=list(o.problems or []),
            sender=sender, subject=subject, filename=m.filename, reason=o.reason,
            lines=len(rec.get("lines") or []), total=rec.get("total"),
            held_by=h.actor if h else None, hold_reason=h.reason if h else None,
            customer_name=name_of(o.customer_id), score=scores[o.id], groups=queue_groups(list(o.problems or [])),
            viewers=present.get(o.id, []),
        ))
    if f.sort == "newest":
        items.sort(key=lambda it: (it.created_at, it.id), reverse=True)
    elif f.sort == "confidence":
        items.sort(key=lambda it: (_sort_score(it), it.created_at, it.id))
    else:
        items.sort(key=lambda it: (it.created_at, it.id))
    return QueueView(items=items[:limit], counts=counts, problem_counts=dict(sorted(problem_counts.items())),
                     customers=customers, channels=channels, shown=min(len(items), limit), total=len(items), filters=f)


_HEADER_CACHE: dict[str, dict[str, str | None]] = {}
_HEADER_CACHE_MAX = 4096


def mail_headers(blobs: Any, msg: MessageRow) -> dict[str, str | None]:
    """From and Subject of a stored mail (an uploaded .eml keeps them only in its bytes).

    Only the header block is parsed; the answer is cached per content hash (blobs never change).
    """
    looks_like_mail = (msg.filename or "").lower().endswith((".eml", ".msg.eml")) or \
        (msg.content_type or "").lower() in ("message/rfc822", "message/global")
    if not looks_like_mail:
        return {}
    hit = _HEADER_CACHE.get(msg.sha256)
    if hit is not None:
        return hit
    import email.parser
    import email.policy

    try:
        data = blobs.get(msg.sha256)
    except (OSError, IntakeError):
        return {}
    end = min([i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0] or [len(data)])
    try:
        parsed = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(data[: end + 4])
        meta = mail_meta(parsed)
    except Exception:  # a header block the parser refuses: the queue shows the file name instead
        meta = {}
    out = {"from": meta.get("from"), "subject": meta.get("subject"), "to": meta.get("to"), "date": meta.get("date")}
    if len(_HEADER_CACHE) >= _HEADER_CACHE_MAX:
        _HEADER_CACHE.clear()
    _HEADER_CACHE[msg.sha256] = out
    return out


def next_order_id(session: Session, f: QueueFilters, after: str | None = None) -> str | None:
    """The order to open next in this queue view: the one after ``after``, else the first."""
    view = queue(session, f)
    ids = [it.id for it in view.items]
    if after and after in ids:
        i = ids.index(after)
        rest = ids[i + 1:] + ids[:i]
        return rest[0] if rest else None
    return ids[0] if ids else None


def _load_for_edit(session: Session, order_id: str, version: int | None) -> OrderRow:
    row = ledger.get_order(session, order_id, for_update=True)
    if row.status != OrderStatus.NEEDS_REVIEW.value:
        raise EditError(f"the order is {row.status}: only an order waiting for review can be changed")
    if version is not None and version != row.version:
        raise StaleVersion(f"the order changed since you opened it (version {row.version}, yours {version}): reload")
    return row


def save_edits(session: Session, pipeline: Any, order_id: str, version: int | None, ops: list[dict[str, Any]],
               actor: str) -> tuple[OrderRow, Evaluation, list[Change]]:
    """Apply a CSR's edits, store each as a correction, and re-validate the order.

    The record, problems and confidence are updated; the version goes up by one when anything
    changed (the webhook id is per version).
    """
    row = _load_for_edit(session, order_id, version)
    m = load_matched(row.record, row.matched, row.draft)
    catalog = pipeline.catalog()
    changes = apply_ops(m, ops, catalog)
    ev = evaluate(m, catalog, pipeline.settings.decision, today=getattr(pipeline, "today", date.today)(),
                  existing_po=lambda c, p: ledger.po_exists(session, c, p, exclude_order=row.id))
    if changes:
        # guarded like a transition: two CSRs saving at once cannot both win
        res = session.execute(update(OrderRow).where(OrderRow.id == row.id, OrderRow.version == row.version,
                                                     OrderRow.status == OrderStatus.NEEDS_REVIEW.value)
                              .values(version=row.version + 1).execution_options(synchronize_session=False))
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleVersion("the order was changed by someone else meanwhile: reload")
        row.version = row.version + 1
    row.matched = m.model_dump(mode="json")
    row.draft = m.draft.model_dump(mode="json")
    row.record = ev.record
    row.problems = [p.model_dump(mode="json") for p in ev.problems]
    row.confidence = ev.confidence
    po = ev.record.get("po_number")
    row.po_number = None if po in (None, "") else str(po)
    row.customer_id = m.customer_id
    row.updated_at = utcnow()
    for c in changes:
        record_correction(session, row, c.field, c.old, c.new, actor, data={**c.data, "version": row.version})
    return row, ev, changes


def blocking_problems(problems: list[Any]) -> list[dict[str, Any]]:
    """Problems a CSR must fix (or knowingly override) before approving.

    Low extraction confidence is what review is for: a person looking at the order settles it.
    """
    out = []
    for p in problems or []:
        d = p.model_dump(mode="json") if isinstance(p, Problem) else p
        if d.get("severity", "error") == "error" and d.get("code") != "low_confidence":
            out.append(d)
    return out


def approve(session: Session, pipeline: Any, order_id: str, version: int | None, actor: str, *,
            reason: str = "", override: bool = False) -> tuple[OrderRow, bool]:
    """Approve an order waiting for review: delivered through the outbox like any other.

    If a person corrected it, its corrected values become a training example and every product a
    person picked becomes a learned cross-reference. Returns (order, whether it was corrected).
    """
    row = _load_for_edit(session, order_id, version)
    blocking = blocking_problems(row.problems)
    if blocking and not override:
        raise EditError(f"{len(blocking)} problem(s) remain ({blocking[0].get('message')}): fix them or approve anyway")
    corrected = bool(corrections_of(session, row.id))
    if corrected and (row.draft or row.matched):
        m = load_matched(row.record, row.matched, row.draft)
        save_training_example(session, row, m.draft.to_truth(), "review_ui", actor)
        _learn(session, m)
    session.execute(delete(HoldRow).where(HoldRow.order_id == row.id))
    why = reason.strip() or ("approved by a person after corrections" if corrected else "approved by a person")
    if blocking:
        why += f" (despite {len(blocking)} problem(s))"
    pipeline.approve(session, row, actor=actor, reason=why)
    return row, corrected


def _learn(session: Session, m: Any) -> None:
    """A product a CSR picked for a line becomes a learned cross-reference for that customer."""
    for ml in m.lines:
        if ml.via != "csr" or not ml.sku:
            continue
        key = ml.draft.sku.value or ml.draft.description.value
        if key in (None, ""):
            continue
        try:
            with session.begin_nested():
                learn_xref(session, m.customer_id, str(key), ml.sku)
        except IntakeError as exc:  # no master data, or a product typed by hand that is not in it
            log.info("not learning %r -> %s: %s", key, ml.sku, exc.reason)


def reject(session: Session, order_id: str, actor: str, reason: str) -> OrderRow:
    """Reject an order waiting for review or a FAILED one; a reason is required."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise EditError("a rejection needs a reason")
    row = ledger.get_order(session, order_id, for_update=True)
    if row.status not in (OrderStatus.NEEDS_REVIEW.value, OrderStatus.FAILED.value):
        raise InvalidTransition(row.status, "REJECTED")
    session.execute(delete(HoldRow).where(HoldRow.order_id == row.id))
    ledger.transition(session, row, OrderStatus.REJECTED, actor=actor, reason=reason)
    return row


def hold(session: Session, order_id: str, actor: str, reason: str) -> OrderRow:
    """Park an order waiting for review in the "held" tab (it stays NEEDS_REVIEW)."""
    row = ledger.get_order(session, order_id)
    if row.status != OrderStatus.NEEDS_REVIEW.value:
        raise EditError(f"the order is {row.status}: only an order waiting for review can be held")
    reason = " ".join((reason or "").split())[:500]
    h = session.get(HoldRow, row.id)
    if h is None:
        session.add(HoldRow(order_id=row.id, actor=actor, reason=reason))
    else:
        h.actor, h.reason, h.at = actor, reason, utcnow()
    ledger.add_event(session, row.id, None, None, actor, "held" + (f": {reason}" if reason else ""), kind="note",
                     data={"hold": True})
    return row


def release(session: Session, order_id: str, actor: str) -> OrderRow:
    row = ledger.get_order(session, order_id)
    if session.get(HoldRow, row.id) is not None:
        session.execute(delete(HoldRow).where(HoldRow.order_id == row.id))
        ledger.add_event(session, row.id, None, None, actor, "released from hold", kind="note", data={"hold": False})
    return row


def is_held(session: Session, order_id: str) -> HoldRow | None:
    return session.get(HoldRow, order_id)
