"""EDI purchase orders, parsed exactly: ANSI X12 850 and UN/EDIFACT ORDERS.

Public entry points:

* :func:`sniff_edi` says from the content whether bytes are X12, EDIFACT or neither.
* :func:`read_edi` reads a whole interchange into an :class:`EdiResult` (orders *and* the
  transaction sets / messages that are not orders), raising only on unreadable input.
* :func:`parse_edi` is :func:`read_edi` for order intake: it raises
  :class:`~intake.errors.NotAnOrder` when the interchange holds no order.

Every value of every :class:`~intake.domain.OrderDraft` is a ``Field.exact`` (confidence 1.0):
EDI needs no model. The syntax-specific readers live in :mod:`extractors.x12` and
:mod:`extractors.edifact`; this module holds what they share (result types, number and date
conversion, address formatting) and the one place where unexpected exceptions become
:class:`~intake.errors.EdiError`, so that callers only ever see named intake errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from intake.core.domain import Field, OrderDraft
from intake.core.errors import EdiError, EmptyDocument, IntakeError, NotAnOrder

__all__ = [
    "EdiResult",
    "NonOrder",
    "sniff_edi",
    "read_edi",
    "parse_edi",
    "decode_edi",
]


class NonOrder(NamedTuple):
    """A transaction set / message in the interchange that is not an order (810, INVOIC...)."""

    type: str  # "810", "856", "INVOIC", ...
    control_number: str  # ST02 / UNH 0062
    description: str  # one line, e.g. "810 invoice"


@dataclass
class EdiResult:
    """Everything read from one interchange.

    ``envelope`` holds sender, receiver, control numbers, version, the delimiters in use and
    (X12) the functional groups with their transaction sets or (EDIFACT) the messages: what the
    acknowledgments in :mod:`extractors.edi_acks` need.
    """

    syntax: str  # "x12" | "edifact"
    orders: list[OrderDraft] = field(default_factory=list)
    non_orders: list[NonOrder] = field(default_factory=list)
    envelope: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Sniffing and decoding

_BOM = "\ufeff"
_LEADING = " \t\r\n\x00\ufeff\u00a0"


def _head(data: bytes) -> bytes:
    head = data[:4096]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.lstrip(b" \t\r\n\x00")


def sniff_edi(data: bytes) -> str | None:
    """Say by content whether ``data`` is an X12 interchange ("x12"), EDIFACT ("edifact") or neither.

    Looks at the first tag after a UTF-8 BOM and whitespace: ``ISA`` followed by a separator
    means X12; ``UNA``, ``UNB`` (or a bare ``UNH``) followed by a separator means EDIFACT.
    """
    head = _head(data)
    if len(head) < 4:
        return None
    tag, sep = head[:3], head[3:4]
    if sep.isalnum() or sep in (b" ", b"\r", b"\n"):
        return None
    if tag == b"ISA":
        return "x12"
    if tag == b"UNA" or tag in (b"UNB", b"UNH"):
        return "edifact"
    return None


# EDIFACT syntax identifiers -> Python codecs (used only when the bytes are not valid UTF-8).
_EDIFACT_CHARSETS = {
    "UNOA": "latin-1", "UNOB": "latin-1", "UNOC": "latin-1", "UNOD": "iso8859-2",
    "UNOE": "iso8859-5", "UNOF": "iso8859-7", "UNOG": "iso8859-3", "UNOH": "iso8859-4",
    "UNOI": "iso8859-6", "UNOJ": "iso8859-8", "UNOK": "iso8859-9", "UNOW": "utf-8",
    "UNOY": "utf-8",
}


def decode_edi(data: bytes) -> str:
    """Bytes to text: UTF-8 first (files declared Latin-1 are often UTF-8), else the charset
    the EDIFACT UNB declares, else Latin-1 (which decodes anything). A BOM is dropped."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        m = re.search(rb"UNB.(UNO[A-Z])", data[:4096])
        codec = _EDIFACT_CHARSETS.get(m.group(1).decode("ascii"), "latin-1") if m else "cp1252"
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            text = data.decode("latin-1")
    return text.lstrip(_BOM)


# ---------------------------------------------------------------------------------------------
# Value helpers shared by the X12 and EDIFACT readers


def to_number(raw: str | None, decimal_mark: str = ".") -> int | float | None:
    """An EDI numeric as int when integral, else float; None when absent or not a number.

    Accepts the declared decimal mark and, because senders mix them, a lone comma too.
    """
    if raw is None:
        return None
    s = raw.strip().replace(" ", "")
    if not s:
        return None
    if decimal_mark != ".":
        s = s.replace(decimal_mark, ".")
    elif "," in s and "." not in s and s.count(",") == 1:
        s = s.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", s):
        return None
    try:
        f = float(s)
    except ValueError:
        return None
    if f != f or f in (float("inf"), float("-inf")):
        return None
    if f.is_integer() and abs(f) < 1e15:
        return int(f)
    return f


def to_date(raw: str | None) -> str | None:
    """CCYYMMDD, YYMMDD or CCYYMMDDHHMM[SS] (times dropped) to ISO "YYYY-MM-DD"; else None."""
    if not raw:
        return None
    s = raw.strip()
    if not s.isdigit():
        return None
    try:
        if len(s) == 6:
            yy = int(s[:2])
            # Two-digit years: a 1970..2069 window covers every order we can receive.
            year = 2000 + yy if yy < 70 else 1900 + yy
            return date(year, int(s[2:4]), int(s[4:6])).isoformat()
        if len(s) in (8, 10, 12, 14):
            return date(int(s[:4]), int(s[4:6]), int(s[6:8])).isoformat()
        if len(s) == 16:  # a CCYYMMDD-CCYYMMDD range: its start
            return date(int(s[:4]), int(s[4:6]), int(s[6:8])).isoformat()
    except ValueError:
        return None
    return None


def num_field(raw: str | None, decimal_mark: str = ".") -> Field:
    """A numeric Field: exact when the text is a number; raw kept at confidence 0 when not."""
    if raw is None or not raw.strip():
        return Field()
    n = to_number(raw, decimal_mark)
    if n is None:
        return Field(value=None, raw=raw, confidence=0.0)
    return Field.exact(n, raw)


def date_field(raw: str | None) -> Field:
    if raw is None or not raw.strip():
        return Field()
    d = to_date(raw)
    if d is None:
        return Field(value=None, raw=raw, confidence=0.0)
    return Field.exact(d, raw)


def text_field(value: str | None) -> Field:
    if value is None:
        return Field()
    v = value.strip()
    return Field.exact(v, v) if v else Field()


def format_address(name: str | None, lines: list[str], city_line: list[str]) -> str | None:
    """"NAME, LINE1, LINE2, CITY ST ZIP CC": the one-string form the truth files use."""
    parts = [p.strip() for p in [name or "", *lines] if p and p.strip()]
    tail = " ".join(p.strip() for p in city_line if p and p.strip())
    if tail:
        parts.append(tail)
    return ", ".join(parts) if parts else None


def pick_id(ids: dict[str, str], priority: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The first id whose qualifier appears in ``priority``; else the first id at all."""
    for q in priority:
        if ids.get(q):
            return q, ids[q]
    for q, v in ids.items():
        if v:
            return q, v
    return None, None


# ---------------------------------------------------------------------------------------------
# Entry points


def read_edi(data: bytes) -> EdiResult:
    """Read a whole X12 or EDIFACT interchange, orders and non-orders alike.

    Raises :class:`EmptyDocument` on empty input and :class:`EdiError` (one-line reason) on
    anything that is not a readable interchange; never any other exception.
    """
    if not data or not data.strip(b" \t\r\n\x00"):
        raise EmptyDocument("empty EDI document")
    if data.startswith(b"\xef\xbb\xbf") and not data[3:].strip(b" \t\r\n\x00"):
        raise EmptyDocument("empty EDI document (only a byte-order mark)")
    try:
        text = decode_edi(data)
        syntax = sniff_edi(data)
        if syntax is None:
            # The header may follow junk (a mail preamble, NBSP padding): look a little further.
            stripped = text.lstrip(_LEADING)
            if re.match(r"ISA[^A-Za-z0-9\s]", stripped[:8]):
                syntax = "x12"
            elif re.match(r"UN[ABH][^A-Za-z0-9\s]", stripped[:8]):
                syntax = "edifact"
        if syntax == "x12":
            from extractors.x12 import read_x12

            return read_x12(text)
        if syntax == "edifact":
            from extractors.edifact import read_edifact

            return read_edifact(text)
        raise EdiError("not an EDI interchange: no ISA, UNA or UNB header at the start")
    except IntakeError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: only named intake errors leave here
        raise EdiError(f"malformed EDI: {type(exc).__name__}: {exc}"[:300]) from exc


def parse_edi(data: bytes) -> EdiResult:
    """Parse an X12 850 / EDIFACT ORDERS interchange into typed orders.

    Returns an :class:`EdiResult` with at least one order. Raises :class:`NotAnOrder` when the
    interchange is valid but holds no 850 / ORDERS (the reason names what it holds),
    :class:`EdiError` on malformed or truncated EDI and :class:`EmptyDocument` on empty input.
    """
    result = read_edi(data)
    if not result.orders:
        raise NotAnOrder(describe_non_orders(result))
    for order in result.orders:
        _exact_absence(order)
    return result


def _exact_absence(order: OrderDraft) -> None:
    """EDI is read exactly: a value the message does not carry is known to be absent (1.0)."""
    for name in OrderDraft.HEADER_FIELDS:
        f = getattr(order, name)
        if not f.present and f.confidence < 1.0:
            setattr(order, name, Field.exact(None))
    for ln in order.lines:
        for name in ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount", "requested_date"):
            f = getattr(ln, name)
            if not f.present and f.confidence < 1.0:
                setattr(ln, name, Field.exact(None))


def describe_non_orders(result: EdiResult) -> str:
    """One line such as "X12 interchange holds 810 invoice(s), no 850 purchase order"."""
    kinds: list[str] = []
    for n in result.non_orders:
        label = f"{n.description}(s)"
        if label not in kinds:
            kinds.append(label)
    if result.syntax == "x12":
        what = ", ".join(kinds) if kinds else "no transaction set"
        return f"X12 interchange holds {what}, no 850 purchase order"
    what = ", ".join(kinds) if kinds else "no message"
    return f"EDIFACT interchange holds {what}, no ORDERS purchase order"
