"""The typed objects that flow through the pipeline.

``RawMessage`` -> ``Document`` (pages of ``Word``) -> ``OrderDraft`` (every value a
``Field`` with confidence and source) -> ``MatchedOrder`` -> ``Order`` (the ledger record
that the API shows and the webhook sends).

This module imports nothing that does I/O: stages pass these objects, never dicts.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field as PField

__all__ = [
    "Box",
    "Channel",
    "DocumentKind",
    "RawMessage",
    "Word",
    "Page",
    "Document",
    "SourceRef",
    "Field",
    "LineDraft",
    "OrderDraft",
    "MatchCandidate",
    "MatchedLine",
    "MatchedOrder",
    "Origin",
    "Problem",
    "OrderLine",
    "HistoryEntry",
    "Order",
    "TRUTH_HEADER_KEYS",
    "TRUTH_LINE_KEYS",
]

Box = tuple[float, float, float, float]
"""(x0, y0, x1, y1) in page units (PDF points, pixels for images, grid units for text)."""


class Channel(str, enum.Enum):
    upload = "upload"  # HTTP API
    cli = "cli"  # intake ingest
    imap = "imap"
    edi_folder = "edi_folder"
    demo = "demo"


class DocumentKind(str, enum.Enum):
    pdf = "pdf"  # PDF with a text layer
    scan = "scan"  # scanned PDF or image, read by OCR
    email_body = "email_body"  # text/plain or text/html body of a mail
    xlsx = "xlsx"
    csv = "csv"
    text = "text"  # plain text file
    x12 = "x12"
    edifact = "edifact"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RawMessage(_Model):
    """What arrived, before anything was read from it. Stored first, content-addressed."""

    sha256: str
    size: int
    filename: str | None = None
    content_type: str | None = None
    channel: Channel = Channel.upload
    received_at: datetime
    sender: str | None = None  # what the sender typed (mail Reply-To/From, X-Intake-Sender): a hint
    subject: str | None = None
    message_id: str | None = None  # RFC 822 Message-ID
    in_reply_to: str | None = None
    from_addr: str | None = None  # a mail's From address
    sender_verified: bool = False  # the receiving server authenticated the From domain (DKIM/SPF/DMARC)
    sender_auth: str | None = None  # that server's verdict, for the CSR
    trusted_partner: str | None = None  # the EDI partner the channel proves (its folder, a partner key)


class Word(_Model):
    text: str
    box: Box
    page: int = 0
    conf: float | None = None  # OCR confidence 0..1, None for a text layer


class Page(_Model):
    index: int
    width: float
    height: float
    words: list[Word] = PField(default_factory=list)


class Document(_Model):
    """One readable document: words with positions on pages.

    An email gives several (its body and each attachment); EDI documents carry their raw
    text in ``text`` and are parsed exactly rather than read as words.
    """

    kind: DocumentKind
    name: str | None = None  # file or attachment name
    pages: list[Page] = PField(default_factory=list)
    text: str | None = None  # the plain text, where the format has one (EDI, mail body)
    locale: str | None = None  # hint such as "de", "fr" when known
    meta: dict[str, Any] = PField(default_factory=dict)

    @property
    def words(self) -> list[Word]:
        return [w for p in self.pages for w in p.words]


class SourceRef(_Model):
    """Where a value was read: page and box (a union of the words' boxes)."""

    page: int
    box: Box


class Field(_Model):
    """A value with its confidence (0..1) and where it came from."""

    value: Any = None
    raw: str | None = None  # the text as printed
    confidence: float = 0.0
    source: list[SourceRef] = PField(default_factory=list)

    @classmethod
    def exact(cls, value: Any, raw: str | None = None) -> "Field":
        """A value parsed exactly (EDI): confidence 1.0, or 1.0 that it is absent."""
        return cls(value=value, raw=raw if raw is not None else (None if value is None else str(value)), confidence=1.0)

    @property
    def present(self) -> bool:
        return self.value is not None and self.value != ""


class LineDraft(_Model):
    line_no: Field = PField(default_factory=Field)
    sku: Field = PField(default_factory=Field)  # the item code as printed (customer's or ours)
    description: Field = PField(default_factory=Field)
    quantity: Field = PField(default_factory=Field)
    uom: Field = PField(default_factory=Field)
    unit_price: Field = PField(default_factory=Field)
    amount: Field = PField(default_factory=Field)
    product_ids: dict[str, str] = PField(default_factory=dict)  # qualifier -> id (EDI: VN, BP, EN…)
    requested_date: Field = PField(default_factory=Field)

    @property
    def confidence(self) -> float:
        vals = [f.confidence for f in (self.sku, self.description, self.quantity, self.unit_price) if f.present]
        return min(vals) if vals else 0.0


class OrderDraft(_Model):
    """What extraction found in one document: not yet matched or validated."""

    po_number: Field = PField(default_factory=Field)
    order_date: Field = PField(default_factory=Field)  # value: ISO date string
    requested_date: Field = PField(default_factory=Field)
    buyer: Field = PField(default_factory=Field)
    supplier: Field = PField(default_factory=Field)
    ship_to: Field = PField(default_factory=Field)
    bill_to: Field = PField(default_factory=Field)
    currency: Field = PField(default_factory=Field)
    payment_terms: Field = PField(default_factory=Field)
    total: Field = PField(default_factory=Field)
    lines: list[LineDraft] = PField(default_factory=list)

    extractor: str = ""  # "edi-x12", "edi-edifact", "model:<version>"
    model_version: str | None = None
    document_kind: DocumentKind | None = None
    document_name: str | None = None
    document_index: int = 0  # which document of the message
    sender: str | None = None  # mail address or EDI sender id
    partner_ids: dict[str, str] = PField(default_factory=dict)  # role -> id: BY, SU, ST, ISA sender…
    meta: dict[str, Any] = PField(default_factory=dict)  # EDI control numbers etc. for acknowledgments

    HEADER_FIELDS: ClassVar[tuple[str, ...]] = (
        "po_number", "order_date", "requested_date", "buyer", "supplier", "ship_to",
        "bill_to", "currency", "payment_terms", "total",
    )

    def header_confidence(self) -> dict[str, float]:
        return {k: getattr(self, k).confidence for k in self.HEADER_FIELDS}

    def to_truth(self) -> dict[str, Any]:
        """The order in the realdocs truth schema plus a ``confidence`` object."""
        def v(f: Field) -> Any:
            return f.value

        lines = []
        for i, ln in enumerate(self.lines, 1):
            no = ln.line_no.value
            try:
                no = int(no) if no is not None else i
            except (TypeError, ValueError):
                no = i
            lines.append({
                "line_no": no,
                "sku": v(ln.sku),
                "description": v(ln.description),
                "quantity": v(ln.quantity),
                "uom": v(ln.uom),
                "unit_price": v(ln.unit_price),
                "amount": v(ln.amount),
            })
        conf: dict[str, Any] = {k: round(getattr(self, k).confidence, 4) for k in self.HEADER_FIELDS}
        conf["lines"] = [round(ln.confidence, 4) for ln in self.lines]
        return {
            "po_number": v(self.po_number),
            "order_date": v(self.order_date),
            "requested_date": v(self.requested_date),
            "buyer": v(self.buyer),
            "supplier": v(self.supplier),
            "ship_to": v(self.ship_to),
            "bill_to": v(self.bill_to),
            "currency": v(self.currency),
            "payment_terms": v(self.payment_terms),
            "total": v(self.total),
            "lines": lines,
            "confidence": conf,
        }


TRUTH_HEADER_KEYS = ("po_number", "order_date", "buyer", "supplier", "ship_to", "currency", "total")
TRUTH_LINE_KEYS = ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount")


class MatchCandidate(_Model):
    sku: str
    score: float  # 0..1
    description: str | None = None
    via: str = ""  # cross_ref, sku, normalized_sku, description, learned


class MatchedLine(_Model):
    draft: LineDraft
    sku: str | None = None  # the seller's SKU
    score: float = 0.0
    via: str = ""
    candidates: list[MatchCandidate] = PField(default_factory=list)
    quantity: float | None = None  # in the product's unit
    uom: str | None = None
    unit_price: float | None = None  # per product unit
    list_price: float | None = None


class Origin(_Model):
    """Where an order came from and what proves who sent it (``intake/core/identity.py``).

    ``sender`` is typed by the sender (a mail's From, an upload's X-Intake-Sender header): a
    hint, never proof. ``trusted_partner`` is proven by the channel (the partner's own EDI
    folder, an API key bound to the partner). ``sender_verified``: the receiving mail server
    authenticated the From domain (DKIM, SPF or DMARC pass, from a trusted authserv-id).
    """

    channel: str = "upload"
    sender: str | None = None
    mail: bool = False  # the order came in a mail (IMAP, or an uploaded .eml)
    sender_verified: bool = False
    sender_auth: str | None = None
    trusted_partner: str | None = None


class MatchedOrder(_Model):
    draft: OrderDraft
    customer_id: str | None = None
    customer_score: float = 0.0
    customer_via: str = ""
    ship_to_code: str | None = None
    ship_to_unknown: bool = False  # the order names a ship-to that is none of the customer's
    lines: list[MatchedLine] = PField(default_factory=list)
    masters_loaded: bool = False
    origin: Origin | None = None  # None: matched before origins were kept (no identity checks)
    identity_notes: list[str] = PField(default_factory=list)  # claims that disagree (EDI id vs channel)


class Problem(_Model):
    code: str  # e.g. missing_field, low_confidence, unknown_sku, price_mismatch
    message: str
    line: int | None = None  # line_no, None for the header
    field: str | None = None
    severity: str = "error"  # error: blocks approval; warning: shown only


class OrderLine(_Model):
    line_no: int
    customer_sku: str | None = None
    sku: str | None = None
    description: str | None = None
    quantity: float | None = None
    uom: str | None = None
    unit_price: float | None = None
    amount: float | None = None
    confidence: float = 0.0
    candidates: list[MatchCandidate] = PField(default_factory=list)


class HistoryEntry(_Model):
    """A transition (who, when, why), a correction or a note on the order's history."""

    at: datetime
    kind: str = "transition"  # transition | correction | note
    from_status: str | None = None
    to_status: str | None = None
    actor: str
    reason: str = ""
    data: dict[str, Any] | None = None


class Order(_Model):
    """The validated record: what the ledger stores, the API shows and the webhook sends."""

    id: str
    status: str
    channel: str | None = None
    message_id: str | None = None
    customer_id: str | None = None
    po_number: str | None = None
    order_date: date | None = None
    requested_date: date | None = None
    buyer: str | None = None
    supplier: str | None = None
    ship_to: str | None = None
    bill_to: str | None = None
    currency: str | None = None
    payment_terms: str | None = None
    total: float | None = None
    lines: list[OrderLine] = PField(default_factory=list)
    confidence: float = 0.0
    problems: list[Problem] = PField(default_factory=list)
    history: list[HistoryEntry] = PField(default_factory=list)
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None
