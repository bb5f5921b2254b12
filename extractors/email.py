"""Email reader (RFC 822 / MIME): the body and every attachment, recursively.

The body (text/plain, else text/html turned into text without running anything) becomes a
``DocumentKind.email_body`` document on the synthetic text grid; every attachment goes back
through the registry (so a PDF attachment is read as a PDF, a forwarded ``message/rfc822``
as a mail). Every document carries the mail's headers in ``meta``. The body comes first,
then the attachments in MIME order; the pipeline decides which one holds the order
(``looks_like_order_text`` helps it skip a pure cover note).
"""

from __future__ import annotations

import contextvars
import email
import email.policy
import re
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import Any

from extractors.spreadsheet import decode_text
from extractors.text import layout_text
from intake.core.domain import Document, DocumentKind
from intake.core.errors import EmptyDocument, LimitExceeded, ReadError
from intake.core.settings import Limits

__all__ = ["EmailReader", "html_to_text", "looks_like_order_text", "part_text", "mail_meta"]

# Depth of message/rfc822 nesting across registry round trips (an attachment that is a mail
# comes back to this reader through the registry).
_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("mime_depth", default=0)

_BLOCK_TAGS = {
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "thead", "tbody", "tfoot", "h1", "h2", "h3",
    "h4", "h5", "h6", "blockquote", "pre", "hr", "section", "article", "header", "footer", "address",
    "dt", "dd", "dl", "caption", "form", "fieldset",
}
_SKIP_TAGS = {"script", "style", "head", "title", "template", "noscript", "svg", "object", "iframe"}


class _HtmlText(HTMLParser):
    """Collects the visible text of an HTML document; table cells are tab-separated."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.pre = 0
        self.cell_open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in ("td", "th"):
            if self.cell_open:
                self.parts.append("\t")
            self.cell_open = True
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
            if tag == "tr":
                self.cell_open = False
            if tag == "pre":
                self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            if tag == "tr":
                self.cell_open = False

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            self.parts.append(data)
        else:
            # HTML whitespace is insignificant outside <pre>
            collapsed = re.sub(r"\s+", " ", data.replace("\u00a0", " "))
            if collapsed.strip() or (self.parts and not self.parts[-1].endswith((" ", "\n", "\t"))):
                self.parts.append(collapsed)


def html_to_text(html: str) -> str:
    """Visible text of HTML: scripts and styles dropped, table rows as tab-separated lines."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; anything left is best effort
        pass
    text = "".join(parser.parts)
    lines = ["\t".join(cell.strip(" ") for cell in ln.split("\t")).strip("\t") for ln in text.split("\n")]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip("\n")


_QTY = re.compile(r"(?i)\b(qty|quantity|menge|quantit[ée]|pcs|pieces|units?|ea|each|stk|st[üu]ck|x\s*\d)\b")
_PRICE = re.compile(r"(?i)(\b(price|preis|prix|unit|amount|total|betrag)\b|[$€£¥]\s?\d|\d[.,]\d{2}\b\s*(eur|usd|gbp|chf)?)")
_CODE = re.compile(r"\b(?=[A-Z0-9-]{4,}\b)(?=[^\s]*\d)[A-Z]{0,6}[-]?[A-Z0-9-]*\d[A-Z0-9-]*\b")
_ORDER_WORD = re.compile(r"(?i)\b(p\.?o\.?|purchase order|order|bestellung|commande|pedido|ordine)\b")
_LINE_ITEM = re.compile(r"(?m)^\s*(\d+\s*(x|pcs|units?|ea|stk)\b|[-*•]?\s*\d+\s+\S+.*\d[.,]\d{2})")


def looks_like_order_text(text: str) -> bool:
    """Whether a text (mail body) holds order content: quantities, item codes or prices.

    A cover note ("please find our order attached") has none of these beyond perhaps the
    PO number; an order typed into the body has at least two of: quantity words or
    "N x" lines, item-code-like tokens, prices.
    """
    if not text or not text.strip():
        return False
    signals = 0
    if _QTY.search(text) or _LINE_ITEM.search(text):
        signals += 1
    if _PRICE.search(text):
        signals += 1
    codes = {m.group() for m in _CODE.finditer(text)}
    if len(codes) >= 2:
        signals += 1
    if _ORDER_WORD.search(text) and signals >= 1 and len(codes) >= 1:
        signals += 1
    return signals >= 2


def _header(msg: Message, key: str) -> str | None:
    try:
        value = msg.get(key)
    except Exception:  # a malformed header the policy cannot parse
        value = None
    if value is None:
        try:
            raw = msg.get_all(key, failobj=None) if hasattr(msg, "get_all") else None
        except Exception:
            raw = None
        if raw:
            value = raw[0]
    if value is None:
        return None
    return " ".join(str(value).split()) or None


def mail_meta(msg: Message) -> dict[str, Any]:
    """The headers every document of a mail carries."""
    return {
        "from": _header(msg, "from"),
        "to": _header(msg, "to"),
        "subject": _header(msg, "subject"),
        "message_id": _header(msg, "message-id"),
        "in_reply_to": _header(msg, "in-reply-to"),
        "date": _header(msg, "date"),
    }


def part_text(part: Message) -> str:
    """Decoded text of a text/* part; bad or lying charset labels fall back to detection."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if payload is None:
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    if not isinstance(payload, bytes):
        return str(payload)
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text, _enc = decode_text(payload, charset)
    return text


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return " ".join(name.split()) if name else None


class EmailReader:
    """RFC 822 / MIME messages (``.eml``)."""

    name = "email"
    content_types = ("eml",)

    def is_available(self) -> bool:
        return True

    def read(self, data: bytes, limits: Limits, name: str | None = None) -> list[Document]:
        """Body first, then every attachment read through the registry, recursively."""
        depth = _DEPTH.get()
        if depth > limits.max_mime_depth:
            raise LimitExceeded(f"messages nested deeper than {limits.max_mime_depth} levels")
        msg = email.message_from_bytes(data, policy=email.policy.default)
        token = _DEPTH.set(depth + 1)
        try:
            docs = _read_message(msg, limits, name, depth)
        finally:
            _DEPTH.reset(token)
        if not docs:
            raise EmptyDocument("the message has no body text and no readable attachment")
        return docs


def _read_message(msg: Message, limits: Limits, name: str | None, depth: int) -> list[Document]:
    from extractors.registry import read_bytes

    meta = mail_meta(msg)
    plain: list[str] = []
    html: list[str] = []
    attachments: list[tuple[bytes, str | None, str]] = []  # (bytes, filename, content type)
    skipped: list[dict[str, str | None]] = []
    docs: list[Document] = []
    nested: list[Message] = []

    def walk(part: Message, level: int) -> None:
        if level > limits.max_mime_depth:
            raise LimitExceeded(f"MIME parts nested deeper than {limits.max_mime_depth} levels")
        ctype = (part.get_content_type() or "text/plain").lower()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner_list = inner if isinstance(inner, list) else [inner]
            for m in inner_list:
                if isinstance(m, Message):
                    nested.append(m)
            return
        if part.is_multipart():
            for sub in part.iter_parts() if isinstance(part, EmailMessage) else part.get_payload():
                walk(sub, level + 1)
            return
        is_attachment = disposition == "attachment" or (filename is not None and disposition != "inline") or not (
            ctype.startswith("text/") or ctype.startswith("multipart/")
        )
        if ctype in ("text/plain", "text/html") and not (disposition == "attachment" or filename):
            (plain if ctype == "text/plain" else html).append(part_text(part))
            return
        if is_attachment or filename:
            if ctype.startswith("image/") and disposition == "inline" and part.get("content-id"):
                return  # a logo or signature image referenced by the HTML body
            try:
                payload = part.get_payload(decode=True)
            except Exception:
                payload = None
            if isinstance(payload, bytes) and payload:
                attachments.append((payload, filename, ctype))

    walk(msg, 0)
    if len(attachments) > limits.max_attachments:
        raise LimitExceeded(f"the message has {len(attachments)} attachments, more than {limits.max_attachments}")

    body = "\n\n".join(t for t in plain if t.strip())
    if not body.strip() and html:
        body = "\n\n".join(html_to_text(h) for h in html if h.strip())
    if body.strip():
        doc = layout_text(body, name=name, kind=DocumentKind.email_body)
        doc.meta.update(meta, part="body", filename=None)
        docs.append(doc)

    for payload, filename, ctype in attachments:
        try:
            found = read_bytes(payload, filename=filename, limits=limits)
        except LimitExceeded:
            raise
        except ReadError as exc:
            # an unreadable attachment (a logo, a .docx) must not lose the rest of the mail
            skipped.append({"filename": filename, "content_type": ctype, "reason": exc.reason})
            continue
        for d in found:
            if d.kind == DocumentKind.email_body or d.meta.get("part") in ("body", "attachment"):
                # a mail attached as a file keeps its own headers
                d.meta.setdefault("filename", filename)
                d.meta["part"] = d.meta.get("part", "attachment")
            else:
                d.meta.update(meta, part="attachment", filename=filename)
            docs.append(d)

    for inner in nested:
        if depth + 1 > limits.max_mime_depth:
            raise LimitExceeded(f"messages nested deeper than {limits.max_mime_depth} levels")
        token = _DEPTH.set(depth + 2)
        try:
            inner_docs = _read_message(inner, limits, name, depth + 1)
        finally:
            _DEPTH.reset(token)
        for d in inner_docs:
            d.meta.setdefault("forwarded_in", meta.get("message_id"))
        docs.extend(inner_docs)

    if skipped and docs:
        docs[0].meta["skipped_attachments"] = skipped
    return docs
