"""Replies to customers by SMTP, from templates an admin can edit.

    Notifier.scan_events()          new order events -> pending replies (one per order and kind):
                                    "received" when a mail's order is read, "approved" (with the
                                    confirmed lines) when it is approved
    Notifier.request_clarification  a CSR asks the customer about what is missing or ambiguous
    Notifier.send_pending()         sends pending replies over SMTP (smtplib), with retries

Replies go only to orders that came by mail, to the original sender (Reply-To, else From), and
carry In-Reply-To/References of the customer's mail and a Message-ID of ours that is stored, so
the customer's answer threads back onto the order (connectors/imap.py). Every reply is first
written as a pending row (``mail_outgoing``) in a transaction, then sent and marked sent: a crash
can repeat a send, never lose one. Mails that were themselves automatic (Auto-Submitted,
Precedence bulk/list, List-Id) get no reply, so two robots never talk to each other.

Templates: ``connectors/templates/<kind>.txt.j2`` (Jinja2, sandboxed, text), overridden by a file of
the same name in ``<data_dir>/templates/``. The first line is ``Subject: ...``, then a blank line,
then the body.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import email.utils
import logging
import smtplib
import ssl
import threading
import uuid
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.imap import _ids
from connectors.models import ChannelStateRow, OutgoingMailRow
from intake.service import ledger
from intake.service.blobstore import BlobStore
from intake.service.db import unit_of_work
from intake.core.errors import ConfigError, IntakeError
from intake.service.models import MessageRow, OrderEventRow, OrderRow, utcnow
from intake.core.settings import Settings

__all__ = ["Notifier", "NotAMailOrder", "render", "TEMPLATE_DIR", "KINDS"]

log = logging.getLogger("connectors.smtp")

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
KINDS = ("received", "approved", "clarification")
_CURSOR = "smtp:order_events"
_EVENT_KIND = {"EXTRACTED": "received", "APPROVED": "approved"}


class NotAMailOrder(IntakeError):
    """The order did not come by mail (or has no sender address): there is nobody to write to."""

    code = "not_a_mail_order"


def _environment(settings: Settings) -> Any:
    from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    # the admin's folder first; the sandbox keeps an edited template from reaching Python internals
    loader = ChoiceLoader([FileSystemLoader(str(settings.data_dir / "templates")), FileSystemLoader(str(TEMPLATE_DIR))])
    env = SandboxedEnvironment(loader=loader, autoescape=False, undefined=StrictUndefined,
                               keep_trailing_newline=True, trim_blocks=False)
    env.filters["num"] = _num
    return env


def _num(v: Any) -> str:
    """A quantity or amount as people write it: 10 not 10.0, 2.5, "-" when absent."""
    if v is None or v == "":
        return "-"
    if isinstance(v, (int, float)):
        return str(int(v)) if float(v).is_integer() else f"{v:.4f}".rstrip("0").rstrip(".")
    return str(v)


def render(settings: Settings, kind: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of the ``kind`` template. A broken template raises ConfigError."""
    from jinja2 import TemplateError

    try:
        text = _environment(settings).get_template(f"{kind}.txt.j2").render(**context)
    except TemplateError as exc:
        raise ConfigError(f"reply template {kind}.txt.j2: {exc}") from exc
    head, _, body = text.partition("\n")
    if not head.lower().startswith("subject:"):
        raise ConfigError(f"reply template {kind}.txt.j2 must start with a 'Subject: ...' line")
    return " ".join(head[len("subject:"):].split()), body.lstrip("\n")


class Notifier:
    """Queues and sends customer replies. ``run_forever`` is the background loop of ``intake serve``."""

    def __init__(self, settings: Settings, sm: sessionmaker[Session], blobs: BlobStore | None = None) -> None:
        self.settings, self.sm = settings, sm
        self.blobs = blobs or BlobStore(settings.blob_dir)
        self._stop = threading.Event()
        self._wake = threading.Event()

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp.host and self.settings.smtp.from_)

    @property
    def from_addr(self) -> str:
        return email.utils.parseaddr(self.settings.smtp.from_ or "")[1]

    # what to send ----------------------------------------------------------------------
    def _thread_headers(self, m: MessageRow) -> tuple[str | None, str | None, bool]:
        """(In-Reply-To, References, automatic) from the customer's stored mail."""
        refs: list[str] = []
        auto = False
        try:
            head = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(self.blobs.get(m.sha256))
            refs = _ids(str(head.get("references") or ""))
            auto = (str(head.get("auto-submitted") or "no")).lower() != "no" or str(
                head.get("precedence") or "").lower() in ("bulk", "list", "junk") or head.get("list-id") is not None
        except Exception:  # the headers are a courtesy; the stored row still has the Message-ID
            pass
        mid = m.rfc822_message_id
        if mid and mid not in refs:
            refs.append(mid)
        return mid, " ".join(refs[-20:]) or None, auto

    def _context(self, s: Session, o: OrderRow, m: MessageRow, **extra: Any) -> dict[str, Any]:
        order = ledger.order_json(ledger.to_order(s, o, with_history=False))
        from_name = email.utils.parseaddr(self.settings.smtp.from_ or "")[0] or self.from_addr
        return {"order": order, "po_number": order.get("po_number"), "original_subject": m.subject,
                "sender": m.sender, "from_name": from_name, "problems": order.get("problems", []),
                "note": None, **extra}

    def _enqueue(self, s: Session, o: OrderRow, kind: str, dedupe_key: str, **extra: Any) -> OutgoingMailRow | None:
        if s.scalar(select(OutgoingMailRow.id).where(OutgoingMailRow.dedupe_key == dedupe_key)) is not None:
            return None
        m = s.get(MessageRow, o.message_id)
        if m is None or o.channel != "imap" or not m.sender:
            return None
        if m.sender.lower() == self.from_addr.lower():
            return None  # our own mail came back: never answer ourselves
        in_reply_to, references, auto = self._thread_headers(m)
        if auto and kind != "clarification":
            return None
        subject, body = render(self.settings, kind, self._context(s, o, m, **extra))
        domain = self.from_addr.rpartition("@")[2] or "intake.invalid"
        row = OutgoingMailRow(order_id=o.id, kind=kind, dedupe_key=dedupe_key, to_addr=m.sender, subject=subject,
                              body=body, rfc822_message_id=email.utils.make_msgid("intake", domain=domain),
                              in_reply_to=in_reply_to, references=references, status="pending")
        s.add(row)
        s.flush()
        return row

    def scan_events(self) -> int:
        """Queue a reply for every new received/approved event of a mail order. Returns how many."""
        n = 0
        with unit_of_work(self.sm) as s:
            cur = s.get(ChannelStateRow, _CURSOR)
            top = int(s.scalar(select(func.max(OrderEventRow.id))) or 0)
            if cur is None:  # first start: answer what happens from now on, not the whole history
                s.add(ChannelStateRow(key=_CURSOR, uidvalidity=0, last_uid=top))
                return 0
            # a small look-back: on PostgreSQL a lower id can commit after a higher one
            start = max(0, int(cur.last_uid) - 50)
            rows = s.execute(
                select(OrderEventRow.id, OrderEventRow.to_status, OrderRow)
                .join(OrderRow, OrderRow.id == OrderEventRow.order_id)
                .where(OrderEventRow.id > start, OrderEventRow.id <= top, OrderEventRow.kind == "transition",
                       OrderEventRow.to_status.in_(list(_EVENT_KIND)), OrderRow.channel == "imap")
                .order_by(OrderEventRow.id)).all()
            for _eid, to_status, o in rows:
                kind = _EVENT_KIND[to_status]
                if kind == "received" and (not self.settings.smtp.send_received
                                           or o.status in ("DUPLICATE", "REJECTED", "FAILED")):
                    continue
                if kind == "approved" and not self.settings.smtp.send_approved:
                    continue
                if self._enqueue(s, o, kind, f"{o.id}:{kind}") is not None:
                    n += 1
            cur.last_uid = max(int(cur.last_uid), top)
        if n:
            self._wake.set()
        return n

    def request_clarification(self, order_id: str, actor: str, note: str | None = None) -> dict[str, Any]:
        """Queue a mail to the customer listing what is missing or ambiguous on the order.

        Raises NotFound, NotAMailOrder (not a mail order), ConfigError (SMTP not configured),
        IntakeError (nothing to ask: no problem on the order and no note).
        """
        if not self.configured:
            raise ConfigError("SMTP is not configured (set INTAKE_SMTP_HOST and INTAKE_SMTP_FROM)")
        note = (note or "").strip() or None
        with unit_of_work(self.sm) as s:
            o = ledger.get_order(s, order_id)
            m = s.get(MessageRow, o.message_id)
            if o.channel != "imap" or m is None or not m.sender:
                raise NotAMailOrder(f"order {order_id} came by {o.channel or 'an unknown channel'}, not by mail: "
                                    "there is no customer address to write to")
            if not (o.problems or note):
                raise IntakeError(f"order {order_id} has no open problem; write a note saying what to ask")
            problems = sorted(o.problems or [], key=lambda p: p.get("severity") != "error")
            row = self._enqueue(s, o, "clarification", f"{o.id}:clarification:{uuid.uuid4().hex}",
                                note=note, problems=problems)
            if row is None:
                raise NotAMailOrder(f"order {order_id}: its mail came from our own address; not answered")
            ledger.add_event(s, o.id, None, None, actor, f"clarification requested from {row.to_addr}"
                             + (f": {note}" if note else ""), kind="note",
                             data={"mail_message_id": row.rfc822_message_id, "problems": [p.get("message") for p in problems]})
            out = {"id": row.id, "order_id": o.id, "to": row.to_addr, "subject": row.subject,
                   "message_id": row.rfc822_message_id, "status": row.status}
        self._wake.set()
        return out

    # sending ---------------------------------------------------------------------------
    def _connect(self) -> smtplib.SMTP:
        c = self.settings.smtp
        if not c.host:
            raise ConfigError("SMTP is not configured (set INTAKE_SMTP_HOST)")
        ctx = ssl.create_default_context(cafile=str(c.ca_file) if c.ca_file else None)
        if not c.tls_verify:
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        smtp: smtplib.SMTP
        if c.ssl:
            smtp = smtplib.SMTP_SSL(c.host, c.effective_port, timeout=c.timeout_s, context=ctx)
        else:
            smtp = smtplib.SMTP(c.host, c.effective_port, timeout=c.timeout_s)
            if c.starttls:
                smtp.starttls(context=ctx)
        if c.user:
            smtp.login(c.user, c.password.get_secret_value() if c.password else "")
        return smtp

    def compose(self, row: OutgoingMailRow) -> EmailMessage:
        """The RFC 5322 message of a reply row."""
        msg = EmailMessage()
        msg["From"] = self.settings.smtp.from_ or ""
        msg["To"] = row.to_addr
        msg["Subject"] = row.subject
        msg["Date"] = email.utils.format_datetime(datetime.now(timezone.utc))
        msg["Message-ID"] = row.rfc822_message_id
        if row.in_reply_to:
            msg["In-Reply-To"] = row.in_reply_to
        if row.references:
            msg["References"] = row.references
        msg["Auto-Submitted"] = "auto-replied" if row.kind != "clarification" else "auto-generated"
        msg["X-Intake-Order"] = row.order_id or ""
        msg.set_content(row.body)
        return msg

    def send_pending(self, limit: int = 50) -> int:
        """Send due pending replies over one SMTP connection. Returns how many were sent."""
        now = utcnow()
        with self.sm() as s:
            ids = list(s.scalars(select(OutgoingMailRow.id).where(OutgoingMailRow.status == "pending",
                                                                   OutgoingMailRow.next_attempt_at <= now)
                                 .order_by(OutgoingMailRow.id).limit(limit)))
        if not ids:
            return 0
        sent = 0
        smtp: smtplib.SMTP | None = None
        try:
            for rid in ids:
                with unit_of_work(self.sm) as s:
                    # claim it: a lease of a minute, so a second `intake serve` does not send it too
                    # and a crash mid-send retries it after the lease
                    claimed = s.execute(
                        update(OutgoingMailRow)
                        .where(OutgoingMailRow.id == rid, OutgoingMailRow.status == "pending",
                               OutgoingMailRow.next_attempt_at <= now)
                        .values(next_attempt_at=utcnow() + timedelta(seconds=60))
                        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
                    row = s.get(OutgoingMailRow, rid)
                    if claimed != 1 or row is None:
                        continue
                    msg = self.compose(row)
                error: str | None = None
                try:
                    if smtp is None:
                        smtp = self._connect()
                    smtp.send_message(msg)
                except (smtplib.SMTPException, OSError, ConfigError) as exc:
                    error = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
                    if smtp is not None:
                        try:
                            smtp.close()
                        except Exception:
                            pass
                        smtp = None
                with unit_of_work(self.sm) as s:
                    row = s.get(OutgoingMailRow, rid)
                    assert row is not None
                    row.attempts += 1
                    if error is None:
                        row.status, row.sent_at, row.last_error = "sent", utcnow(), None
                        sent += 1
                        if row.order_id:
                            ledger.add_event(s, row.order_id, None, None, "smtp",
                                             f"{row.kind} mail sent to {row.to_addr}", kind="note",
                                             data={"mail_message_id": row.rfc822_message_id})
                    else:
                        row.last_error = error
                        if row.attempts >= self.settings.smtp.max_attempts:
                            row.status = "failed"
                            log.error("reply %s to %s failed for good: %s", rid, row.to_addr, error)
                        else:
                            row.next_attempt_at = utcnow() + timedelta(seconds=min(2 ** row.attempts, 600))
                            log.warning("reply %s to %s: %s; retrying", rid, row.to_addr, error)
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except Exception:
                    pass
        return sent

    def send_test(self, to: str) -> str:
        """Send a test mail now (``intake mail test-send``). Returns its Message-ID."""
        if not self.configured:
            raise ConfigError("SMTP is not configured (set INTAKE_SMTP_HOST and INTAKE_SMTP_FROM)")
        domain = self.from_addr.rpartition("@")[2] or "intake.invalid"
        row = OutgoingMailRow(order_id=None, kind="test", dedupe_key=f"test:{uuid.uuid4().hex}", to_addr=to,
                              subject="Order intake: test message", body="This is a test of the order intake's outgoing mail.\n",
                              rfc822_message_id=email.utils.make_msgid("intake", domain=domain), status="pending")
        msg = self.compose(row)
        try:
            smtp = self._connect()
            try:
                smtp.send_message(msg)
            finally:
                smtp.quit()
        except (smtplib.SMTPException, OSError) as exc:
            raise ConfigError(f"SMTP {self.settings.smtp.host}:{self.settings.smtp.effective_port}: {exc}") from exc
        return row.rfc822_message_id

    # loop ------------------------------------------------------------------------------
    def run_once(self) -> tuple[int, int]:
        """(queued, sent) of one pass."""
        return self.scan_events(), self.send_pending()

    def run_forever(self, interval: float = 0.5) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database or the SMTP server is away: try again later
                log.exception("notifier pass failed; retrying")
            self._wake.wait(interval)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
