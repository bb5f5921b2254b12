"""IMAP intake: watch mailboxes, store each mail once, recognise duplicates and replies.

    MailboxWatcher.run_forever()   connect (IMAPS or STARTTLS), SELECT, sync, IDLE (or poll),
                                   sync again on EXISTS; reconnect with backoff on any failure
    MailboxWatcher.sync()          fetch new UIDs with BODY.PEEK[] (the server's \\Seen is left
                                   alone until the mail is safely stored), store, flag
                                   (\\Seen + keyword) or move each one, then check it
    store_raw()                    one unit of work before any parsing: the blob, a STORED
                                   ledger message, the seen row and the mailbox cursor
    check_mail()                   parse headers and MIME (a failure: the message is FAILED
                                   with its reason, the next mail goes on), then recognise
                                   duplicates and replies; counts attempts, so a mail that
                                   stops the process ends FAILED after a few starts

Bookkeeping (connectors/models.py): ``channel_state`` keeps (UIDVALIDITY, last stored UID) per
mailbox and ``mail_seen`` every (mailbox, UIDVALIDITY, UID) stored, committed together with the
ledger message; the flag or move happens only after that commit. A crash before the commit
fetches the mail again (same bytes: the same ledger message); a crash after it flags the mail at
the next start. A UIDVALIDITY change starts the cursor over, and the content checks below keep
old mail from becoming new orders.

Idempotency: the same bytes (sha256), the same RFC 822 Message-ID (a re-send, or the original
inside a forward), or a mail whose every attachment was already ingested (a forward, a re-send
with a new Message-ID) is stored as a message marked as a duplicate, with no order. A mail whose
In-Reply-To/References name one of our replies (or the customer's original) threads onto that
order: a note on its history, and, when it carries a new document, a message read as usual
(the decision stage flags a changed PO as a revision of the existing order).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage, Message
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.models import ChannelStateRow, MailAttachmentRow, OutgoingMailRow, SeenMailRow
from intake.core.domain import Channel, RawMessage
from intake.core.errors import ConfigError
from intake.core.identity import authentication_verdict, mail_address
from intake.core.settings import ImapMailbox
from intake.core.states import MessageStatus
from intake.service import ledger
from intake.service.db import unit_of_work
from intake.service.models import MessageRow, OrderRow

__all__ = ["MailInfo", "StoreResult", "parse_mail", "store_raw", "check_mail", "store_mail", "MailboxWatcher", "connect",
           "reply_text"]

log = logging.getLogger("connectors.imap")

# Attachments that are never an order document: signatures and calendar/vcard noise.
_NOT_DOCUMENTS = ("application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature",
                  "text/calendar", "text/vcard", "text/x-vcard")


@dataclass
class MailInfo:
    """What the connector needs from a mail's headers and MIME structure (no extraction)."""

    sha256: str
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    sender: str | None  # the From address, lower case
    subject: str | None
    attachments: list[tuple[str, str | None]]  # (sha256, filename) of each document attachment
    inner_message_ids: list[str]  # Message-IDs of mails attached or forwarded inside (message/rfc822)
    text: str  # the plain-text body (for a reply's note)
    auto_submitted: bool  # an auto-reply, bounce or list mail: never answered
    from_addr: str | None = None  # the From address (what DKIM/DMARC align with)
    sender_verified: bool = False  # a trusted receiving server authenticated the From domain
    sender_auth: str | None = None  # that server's verdict


def _ids(value: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def _addr(value: str | None) -> str | None:
    name, addr = email.utils.parseaddr(value or "")
    return addr.strip().lower() or None


def parse_mail(data: bytes, trusted_authserv_ids: tuple[str, ...] | list[str] = ()) -> MailInfo:
    """Headers, attachment hashes and body text of a raw RFC 822 mail.

    May raise anything a hostile mail provokes (RecursionError for MIME nested thousands deep):
    ``check_mail`` turns that into a FAILED message.
    """
    msg = email.message_from_bytes(data, policy=email.policy.default)

    def header(m: Message, key: str) -> str | None:
        try:
            v = m.get(key)
        except Exception:  # a malformed header the policy cannot parse
            v = None
        return " ".join(str(v).split()) if v is not None else None

    attachments: list[tuple[str, str | None]] = []
    inner: list[str] = []
    texts: list[str] = []

    def walk(part: Message, level: int) -> None:
        if level > 20:
            return
        ctype = (part.get_content_type() or "text/plain").lower()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            for m in payload if isinstance(payload, list) else [payload]:
                if isinstance(m, Message):
                    inner.extend(_ids(header(m, "message-id"))[:1])
                    walk(m, level + 1)  # a forward's attachments count as the forward's
            return
        if part.is_multipart():
            subs = part.iter_parts() if isinstance(part, EmailMessage) else part.get_payload()
            for sub in subs:
                walk(sub, level + 1)
            return
        disposition = (part.get_content_disposition() or "").lower()
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            if ctype == "text/plain" and level <= 2:
                try:
                    texts.append(str(part.get_content()))
                except Exception:
                    pass
            return
        if ctype in _NOT_DOCUMENTS or (ctype.startswith("image/") and disposition == "inline" and part.get("content-id")):
            return  # a signature, or a logo referenced by the HTML body
        try:
            payload = part.get_payload(decode=True)
        except Exception:
            payload = None
        if isinstance(payload, bytes) and payload:
            attachments.append((hashlib.sha256(payload).hexdigest(), filename))

    walk(msg, 0)
    auto = (header(msg, "auto-submitted") or "no").lower() != "no" or (header(msg, "precedence") or "").lower() in (
        "bulk", "list", "junk") or bool(header(msg, "list-id"))
    from_addr = mail_address(header(msg, "from"))
    try:
        results = [str(v) for v in (msg.get_all("authentication-results") or [])]
    except Exception:  # a header the policy cannot parse: no verdict
        results = []
    verdict = authentication_verdict(results, from_addr, trusted_authserv_ids)
    return MailInfo(
        sha256=hashlib.sha256(data).hexdigest(),
        message_id=(_ids(header(msg, "message-id")) or [None])[0],
        in_reply_to=(_ids(header(msg, "in-reply-to")) or [None])[0],
        references=_ids(header(msg, "references")),
        sender=_addr(header(msg, "reply-to")) or _addr(header(msg, "from")),
        subject=header(msg, "subject"),
        attachments=attachments,
        inner_message_ids=inner,
        text="\n".join(texts),
        auto_submitted=auto,
        from_addr=from_addr,
        sender_verified=verdict.verified,
        sender_auth=verdict.summary,
    )


def reply_text(text: str, limit: int = 1000) -> str:
    """The new part of a reply: quoted lines and everything after "On ... wrote:" dropped."""
    out: list[str] = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(">"):
            continue
        if re.match(r"^(on .+ wrote:|-----\s*original message\s*-----|am .+ schrieb .+:|le .+ a écrit\s*:)$", s, re.I):
            break
        out.append(line.rstrip())
    body = "\n".join(out).strip()
    return body[:limit] + ("…" if len(body) > limit else "")


@dataclass
class StoreResult:
    """What happened to one mail: ``outcome`` stored (not yet checked) | ingested | duplicate |
    reply | failed (could not be parsed: the message is FAILED with the reason) | seen (already)."""

    outcome: str
    message_id: str | None  # the ledger message this mail is (or duplicates)
    reason: str | None = None
    order_id: str | None = None  # a reply: the order it threads onto
    new_message: bool = False  # a RECEIVED message that the pipeline must read
    extra: dict[str, Any] = field(default_factory=dict)


def _state(s: Session, key: str) -> ChannelStateRow | None:
    return s.get(ChannelStateRow, key)


def _advance(s: Session, key: str, uidvalidity: int, uid: int) -> None:
    row = s.get(ChannelStateRow, key)
    if row is None:
        s.add(ChannelStateRow(key=key, uidvalidity=uidvalidity, last_uid=uid))
    elif row.uidvalidity != uidvalidity:
        row.uidvalidity, row.last_uid = uidvalidity, uid
    elif uid > row.last_uid:
        row.last_uid = uid


def _thread_order(s: Session, info: MailInfo) -> str | None:
    """The order a reply belongs to: one of our replies, or the customer's original, is referenced."""
    refs = [r for r in ([info.in_reply_to] if info.in_reply_to else []) + list(reversed(info.references)) if r]
    if not refs:
        return None
    for ref in refs:  # the nearest reference first
        out = s.scalar(select(OutgoingMailRow.order_id).where(OutgoingMailRow.rfc822_message_id == ref,
                                                              OutgoingMailRow.order_id.is_not(None)))
        if out:
            return str(out)
        m = s.scalar(select(MessageRow).where(MessageRow.rfc822_message_id == ref).order_by(MessageRow.received_at))
        if m is not None:
            oid = s.scalar(select(OrderRow.id).where(OrderRow.message_id == m.id)
                           .order_by(OrderRow.document_index.desc()))
            if oid:
                return str(oid)
    return None


def _known_attachment(s: Session, sha: str) -> str | None:
    """The ledger message that already holds these bytes: as an attachment of a mail, or as a file."""
    mid = s.scalar(select(MailAttachmentRow.message_id).where(MailAttachmentRow.sha256 == sha).limit(1))
    if mid:
        return str(mid)
    mid = s.scalar(select(MessageRow.id).where(MessageRow.sha256 == sha))
    return str(mid) if mid else None


def store_raw(pipeline: Any, data: bytes, *, mailbox: str, uidvalidity: int, uid: int) -> StoreResult:
    """Store one fetched mail before anything reads it: the blob, a STORED ledger message, the
    seen row and the mailbox cursor, in one unit of work. Nothing here parses the mail, so no
    mail can stop the mailbox: ``check_mail`` reads it afterwards.

    Outcomes: ``seen`` (this UID was stored before), ``duplicate`` (the same bytes are already a
    message), ``stored`` (a new STORED message for ``check_mail``).
    """
    sha = hashlib.sha256(data).hexdigest()
    pipeline.blobs.put(data)
    with unit_of_work(pipeline.sm) as s:
        seen = s.scalar(select(SeenMailRow).where(SeenMailRow.mailbox == mailbox, SeenMailRow.uidvalidity == uidvalidity,
                                                  SeenMailRow.uid == uid))
        if seen is not None:
            return StoreResult("seen", seen.message_id, seen.reason)
        existing = s.scalar(select(MessageRow).where(MessageRow.sha256 == sha))
        if existing is not None:
            existing.duplicate_hits = (existing.duplicate_hits or 0) + 1
            res = StoreResult("duplicate", existing.id, f"same bytes as message {existing.id}")
        else:
            raw = RawMessage(sha256=sha, size=len(data), filename="mail.eml", content_type="message/rfc822",
                             channel=Channel.imap, received_at=datetime.now(timezone.utc))
            row, _ = ledger.record_message(s, raw, status=MessageStatus.STORED.value)
            res = StoreResult("stored", row.id)
        s.add(SeenMailRow(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid, sha256=sha, message_id=res.message_id,
                          outcome=res.outcome, reason=res.reason))
        _advance(s, mailbox, uidvalidity, uid)
    return res


def check_mail(pipeline: Any, message_id: str, *, actor: str = "imap") -> StoreResult:
    """Read the headers and MIME structure of a STORED mail, then recognise duplicates and replies
    (see the module docstring). Any failure to parse it (a RecursionError on MIME nested
    thousands deep, a mail over the size limit) ends the message FAILED with the reason.

    Each check counts an attempt first (committed): a mail whose check stops the process is
    tried at most ``Limits.max_read_attempts`` times, then ends FAILED, never read at every start.
    """
    limits = pipeline.settings.limits
    with unit_of_work(pipeline.sm) as s:
        m = s.get(MessageRow, message_id)
        if m is None or m.status != MessageStatus.STORED.value:
            return StoreResult("seen", message_id, m.reason if m is not None else "message vanished")
        if (m.attempts or 0) >= limits.max_read_attempts:
            reason = f"gave up after {m.attempts} attempts: checking this mail stopped the service every time"
            sha = None
        else:
            m.attempts = (m.attempts or 0) + 1
            sha, size, reason = m.sha256, m.size, None
    if reason is None and size > limits.max_upload_bytes:
        reason = f"the mail has {size} bytes, more than the limit of {limits.max_upload_bytes}"
    info: MailInfo | None = None
    if reason is None:
        try:
            data = pipeline.blobs.get(sha)
            info = parse_mail(data, pipeline.settings.identity.authserv_ids)
        except RecursionError:
            reason = "the mail could not be parsed: its MIME parts are nested too deeply"
        except MemoryError:
            reason = "the mail could not be parsed: it needs more memory than is available"
        except Exception as exc:  # whatever a hostile mail provokes: this mail fails, the mailbox goes on
            reason = f"the mail could not be parsed: {type(exc).__name__}: {exc}".splitlines()[0][:300]
    if info is None:
        pipeline.fail_message(message_id, reason or "the mail could not be parsed", actor=actor)
        _update_seen(pipeline, message_id, "failed", reason)
        log.warning("mail %s FAILED: %s", message_id, reason)
        return StoreResult("failed", message_id, reason)
    with unit_of_work(pipeline.sm) as s:
        row = s.get(MessageRow, message_id)
        if row is None or row.status != MessageStatus.STORED.value:
            return StoreResult("seen", message_id, row.reason if row is not None else None)
        row.sender, row.subject, row.rfc822_message_id, row.in_reply_to = (
            info.sender, info.subject, info.message_id, info.in_reply_to)
        row.from_addr, row.sender_verified, row.sender_auth = info.from_addr, info.sender_verified, info.sender_auth
        row.filename = (info.subject or "mail")[:200] + ".eml"
        res = _classify(s, row, info, actor)
        seen = s.scalar(select(SeenMailRow).where(SeenMailRow.message_id == message_id, SeenMailRow.outcome == "stored"))
        if seen is not None:
            seen.outcome, seen.reason, seen.rfc822_message_id = res.outcome, res.reason, info.message_id
    return res


def store_mail(pipeline: Any, data: bytes, *, mailbox: str, uidvalidity: int, uid: int,
               actor: str = "imap") -> StoreResult:
    """``store_raw`` then ``check_mail``: one fetched mail stored, then read (see the module docstring)."""
    res = store_raw(pipeline, data, mailbox=mailbox, uidvalidity=uidvalidity, uid=uid)
    if res.outcome != "stored" or res.message_id is None:
        return res
    return check_mail(pipeline, res.message_id, actor=actor)


def _update_seen(pipeline: Any, message_id: str, outcome: str, reason: str | None) -> None:
    with unit_of_work(pipeline.sm) as s:
        for seen in s.scalars(select(SeenMailRow).where(SeenMailRow.message_id == message_id,
                                                        SeenMailRow.outcome == "stored")):
            seen.outcome, seen.reason = outcome, reason


def _mark_done(row: MessageRow, reason: str) -> None:
    """A message that produces no order (a duplicate, a reply note): read, with the reason."""
    row.status, row.reason, row.processed_at = "PROCESSED", reason, datetime.now(timezone.utc)


def _to_read(row: MessageRow) -> None:
    """A mail that the pipeline reads: its own attempts budget starts now."""
    row.status, row.attempts = MessageStatus.RECEIVED.value, 0


def _classify(s: Session, row: MessageRow, info: MailInfo, actor: str) -> StoreResult:
    # 1. the same bytes were recognised by store_raw; 2. the same Message-ID (a re-send), or the
    # original mail inside a forward
    ids = [i for i in [info.message_id, *info.inner_message_ids] if i]
    if ids:
        dup = s.scalar(select(MessageRow).where(MessageRow.rfc822_message_id.in_(ids), MessageRow.id != row.id)
                       .order_by(MessageRow.received_at).limit(1))
        if dup is not None:
            return _duplicate(row, dup, f"same Message-ID {dup.rfc822_message_id} as message {dup.id}")
    # 3. a reply in one of our threads
    order_id = _thread_order(s, info)
    new_docs = [(sha, fn) for sha, fn in info.attachments if _known_attachment(s, sha) is None]
    if order_id is not None:
        note = reply_text(info.text)
        data = {"message_id": row.id, "from": info.sender, "subject": info.subject, "text": note}
        if new_docs:
            _remember_attachments(s, row.id, info)
            _to_read(row)
            ledger.add_event(s, order_id, None, None, actor, f"customer replied with a new document (message {row.id}); "
                             "it is read as a possible revision of this order", kind="note", data=data)
            return StoreResult("reply", row.id, f"reply to order {order_id} with a new document", order_id,
                               new_message=True)
        _mark_done(row, f"reply to order {order_id}: added to its history")
        ledger.add_event(s, order_id, None, None, actor, f"customer replied: {note[:200] or info.subject or ''}",
                         kind="note", data=data)
        return StoreResult("reply", row.id, row.reason, order_id)
    # 4. every document attachment was already ingested (a forward or re-send with a new Message-ID)
    if info.attachments and not new_docs:
        first = _known_attachment(s, info.attachments[0][0])
        dup = s.get(MessageRow, first) if first else None
        if dup is not None and dup.id != row.id:
            return _duplicate(row, dup, f"same attachment bytes as message {dup.id}")
    # 5. a new mail: read by the pipeline
    _remember_attachments(s, row.id, info)
    _to_read(row)
    return StoreResult("ingested", row.id, None, new_message=True)


def _duplicate(row: MessageRow, original: MessageRow, reason: str) -> StoreResult:
    """Keep the bytes (nothing is lost) as a message marked duplicate-of, with no order."""
    original.duplicate_hits = (original.duplicate_hits or 0) + 1
    _mark_done(row, "duplicate: " + reason)
    return StoreResult("duplicate", row.id, reason, extra={"duplicate_of": original.id})


def _remember_attachments(s: Session, message_id: str, info: MailInfo) -> None:
    for sha, fn in info.attachments:
        s.add(MailAttachmentRow(sha256=sha, message_id=message_id, filename=(fn or "")[:512] or None))


# --- the IMAP side ---------------------------------------------------------------------------

def _ssl_context(mb: ImapMailbox) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(mb.ca_file) if mb.ca_file else None)
    if mb.tls_verify is False:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(mb: ImapMailbox, timeout: float = 30.0) -> Any:
    """A logged-in IMAPClient for ``mb`` (IMAPS, or STARTTLS on a plain connection)."""
    from imapclient import IMAPClient, SocketTimeout

    if not mb.host:
        raise ConfigError("IMAP mailbox without a host (set INTAKE_IMAP_HOST)")
    ctx = _ssl_context(mb)
    client = IMAPClient(mb.host, port=mb.port, ssl=bool(mb.ssl), ssl_context=ctx if mb.ssl else None,
                        timeout=SocketTimeout(connect=timeout, read=max(timeout, 60.0)))
    try:
        if not mb.ssl and mb.starttls:
            client.starttls(ctx)
        client.login(mb.user or "", mb.password.get_secret_value() if mb.password else "")
    except BaseException:
        _close(client)
        raise
    return client


def _server_folder(client: Any, name: str) -> str:
    """``a/b`` with the server's hierarchy delimiter (Dovecot's maildir uses ".")."""
    if "/" not in name:
        return name
    try:
        ns = client.namespace()
        delim = ns.personal[0][1] if ns.personal else "/"
    except Exception:
        delim = "/"
    return name.replace("/", delim or "/")


def _close(client: Any) -> None:
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass


class MailboxWatcher:
    """One mailbox: a thread that keeps a connection, IDLEs and stores every new mail once."""

    def __init__(self, mailbox: ImapMailbox, pipeline: Any, *, submit: Callable[[str], None] | None = None,
                 idle_timeout_s: float = 600.0, connect_timeout_s: float = 30.0, reconnect_max_s: float = 60.0,
                 on_stored: Callable[[StoreResult], None] | None = None) -> None:
        self.mb, self.pipeline = mailbox, pipeline
        self.key = mailbox.name or f"{mailbox.user}@{mailbox.host}:{mailbox.port}/{mailbox.folder}"
        self.submit = submit
        self.on_stored = on_stored
        self.idle_timeout_s, self.connect_timeout_s, self.reconnect_max_s = idle_timeout_s, connect_timeout_s, reconnect_max_s
        self.keyword = (mailbox.keyword or "$Intake").encode()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._move_to = mailbox.move_to or ""
        self.connects = 0  # how many times a connection was made (reconnects show here)
        self.last_error: str | None = None

    # one pass --------------------------------------------------------------------------
    def _select(self, client: Any) -> int:
        info = client.select_folder(self.mb.folder or "INBOX")
        uidvalidity = int(info[b"UIDVALIDITY"])
        if self.mb.move_to:
            self._move_to = _server_folder(client, self.mb.move_to)
            if not client.folder_exists(self._move_to):
                client.create_folder(self._move_to)
        return uidvalidity

    def _cursor(self, uidvalidity: int) -> int:
        with self.pipeline.sm() as s:
            row = _state(s, self.key)
            if row is None:
                return 0
            if row.uidvalidity != uidvalidity:
                log.warning("mailbox %s: UIDVALIDITY changed (%s -> %s); every mail is checked again",
                            self.key, row.uidvalidity, uidvalidity)
                return 0
            return int(row.last_uid)

    def sync(self, client: Any, uidvalidity: int, *, reconcile: bool = False) -> list[StoreResult]:
        """Store every mail after the cursor (and, with ``reconcile``, finish stored ones whose
        flag or move did not happen). Returns what was stored, in UID order."""
        last = self._cursor(uidvalidity)
        crit: list[Any] = ["UID", f"{last + 1}:*"]
        if not self.mb.move_to:
            crit += ["UNKEYWORD", self.keyword.decode()]
        uids = [u for u in client.search(crit) if u > last]
        if reconcile and last:
            old: list[Any] = ["UID", f"1:{last}"] + ([] if self.mb.move_to else ["UNKEYWORD", self.keyword.decode()])
            uids = sorted(set(uids) | set(client.search(old)))
        out: list[StoreResult] = self.check_leftovers()
        for i in range(0, len(uids), 20):
            batch = uids[i:i + 20]
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                item = fetched.get(uid)
                if item is None or b"BODY[]" not in item:
                    continue  # expunged meanwhile
                res = store_raw(self.pipeline, bytes(item[b"BODY[]"]), mailbox=self.key,
                                uidvalidity=uidvalidity, uid=uid)
                self._finish(client, uid)  # stored: the mailbox moves on, whatever reading it does next
                if res.outcome == "stored" and res.message_id:
                    res = check_mail(self.pipeline, res.message_id)
                self._done(res)
                out.append(res)
                log.info("mailbox %s uid %s: %s %s", self.key, uid, res.outcome, res.reason or res.message_id)
        return out

    def _done(self, res: StoreResult) -> None:
        if res.new_message and self.submit is not None:
            self.submit(res.message_id)  # type: ignore[arg-type]
        if self.on_stored is not None:
            self.on_stored(res)

    def check_leftovers(self) -> list[StoreResult]:
        """Check the mails of this mailbox that were stored but never checked (the process stopped
        in between, perhaps because of that very mail: its attempts count)."""
        with self.pipeline.sm() as s:
            ids = list(s.scalars(select(SeenMailRow.message_id).join(MessageRow, MessageRow.id == SeenMailRow.message_id)
                                 .where(SeenMailRow.mailbox == self.key, SeenMailRow.outcome == "stored",
                                        MessageRow.status == MessageStatus.STORED.value).order_by(SeenMailRow.id)))
        out = []
        for mid in ids:
            res = check_mail(self.pipeline, mid)
            self._done(res)
            out.append(res)
            log.info("mailbox %s: stored mail %s checked after a restart: %s %s", self.key, mid, res.outcome,
                     res.reason or "")
        return out

    def _finish(self, client: Any, uid: int) -> None:
        """The mail is stored: flag it (\\Seen + keyword) or move it."""
        if self.mb.move_to:
            caps = client.capabilities()
            if b"MOVE" in caps:
                client.move([uid], self._move_to)
            else:
                client.copy([uid], self._move_to)
                client.add_flags([uid], [b"\\Deleted"])
                if b"UIDPLUS" in caps:
                    client.uid_expunge([uid])
                else:
                    client.expunge()
        else:
            client.add_flags([uid], [b"\\Seen", self.keyword])

    def poll_once(self) -> list[StoreResult]:
        """Connect, store what is new, disconnect (``intake mail poll``)."""
        client = connect(self.mb, self.connect_timeout_s)
        try:
            return self.sync(client, self._select(client), reconcile=True)
        finally:
            _close(client)

    # the loop --------------------------------------------------------------------------
    def _wait_for_news(self, client: Any) -> None:
        """Block until the server reports new mail, the IDLE period ends, or we are stopped."""
        use_idle = self.mb.idle is not False and b"IDLE" in client.capabilities()
        interval = self.mb.poll_interval_s or 30.0
        if not use_idle:  # polling fallback: NOOP keeps the session and reports EXISTS
            deadline = time.monotonic() + interval
            while not self._stop.is_set() and time.monotonic() < deadline:
                self._stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))
            if not self._stop.is_set():
                client.noop()
            return
        client.idle()
        try:
            deadline = time.monotonic() + min(self.idle_timeout_s, 29 * 60)
            empty_wakes = 0
            while not self._stop.is_set() and time.monotonic() < deadline:
                t = time.monotonic()
                responses = client.idle_check(timeout=1.0)
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    break
                if any(r and r[0] == b"BYE" for r in responses):
                    raise ConnectionError("server closed the IDLE session")
                # imapclient swallows EOF: a socket that is readable but yields nothing, again
                # and again, is a closed connection
                empty_wakes = empty_wakes + 1 if (not responses and time.monotonic() - t < 0.5) else 0
                if empty_wakes >= 3:
                    raise ConnectionError("the IDLE connection was closed")
        finally:
            client.idle_done()

    def run_forever(self) -> None:
        """Connect, sync, IDLE, sync... until stop(); reconnect with exponential backoff."""
        backoff = 1.0
        while not self._stop.is_set():
            client = None
            try:
                client = connect(self.mb, self.connect_timeout_s)
                self._client = client
                self.connects += 1
                uidvalidity = self._select(client)
                self.sync(client, uidvalidity, reconcile=True)
                backoff = 1.0
                self.last_error = None
                while not self._stop.is_set():
                    self._wait_for_news(client)
                    if self._stop.is_set():
                        break
                    info = client.folder_status(self.mb.folder or "INBOX", [b"UIDVALIDITY"])
                    if int(info[b"UIDVALIDITY"]) != uidvalidity:
                        uidvalidity = self._select(client)
                    self.sync(client, uidvalidity)
            except Exception as exc:  # network, TLS, login, server or database trouble: start over
                if self._stop.is_set():
                    break
                self.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                log.warning("mailbox %s: %s; reconnecting in %.0f s", self.key, self.last_error, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.reconnect_max_s)
            finally:
                self._client = None
                if client is not None:
                    _close(client)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name=f"imap-{self.key}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
