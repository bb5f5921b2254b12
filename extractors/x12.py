"""ANSI X12 interchanges: a delimiter-agnostic tokenizer and the 850 purchase-order reader.

The ISA header declares the delimiters: the element separator is the character right after
"ISA", the component separator is ISA16 and the segment terminator is the character after
ISA16. Real files pad the ISA with non-breaking spaces, single spaces or nothing, so the header
is read by counting 16 element separators rather than by fixed offsets. Line breaks after (or
instead of) the terminator are tolerated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from extractors.edi import (
    EdiResult,
    NonOrder,
    date_field,
    format_address,
    num_field,
    pick_id,
    text_field,
    to_date,
    to_number,
)
from intake.core.domain import DocumentKind, Field, LineDraft, OrderDraft
from intake.core.errors import EdiError

__all__ = ["X12Delimiters", "tokenize_x12", "read_x12", "SKU_PRIORITY", "TRANSACTION_SETS"]

Segment = list[str]  # [tag, element1, element2, ...]

# Which PO1 product id becomes the line's sku. The seller's own number first (it is what the
# seller's order system knows), then the buyer's numbers, then trade-item numbers (GTIN family)
# that a cross-reference can resolve.
SKU_PRIORITY: tuple[str, ...] = (
    "VN", "VP", "VA", "MG", "MF",  # vendor's item / part / style, manufacturer's part number
    "BP", "IN", "CB", "SK", "PI", "PN", "BL",  # buyer's part / item / catalogue number, SKU
    "ST", "SN",  # style number, serial
    "UP", "EN", "UK", "UA", "UI", "UD", "UN", "EO", "EA",  # UPC / EAN / GTIN-14 variants
)

TRANSACTION_SETS: dict[str, str] = {
    "810": "810 invoice", "820": "820 payment order", "824": "824 application advice",
    "830": "830 planning schedule", "832": "832 price/sales catalog", "846": "846 inventory advice",
    "850": "850 purchase order", "852": "852 product activity data",
    "855": "855 purchase order acknowledgment", "856": "856 ship notice",
    "860": "860 purchase order change", "865": "865 purchase order change acknowledgment",
    "875": "875 grocery purchase order", "880": "880 grocery invoice",
    "940": "940 warehouse shipping order", "945": "945 warehouse shipping advice",
    "997": "997 functional acknowledgment", "999": "999 implementation acknowledgment",
    "204": "204 motor carrier load tender", "214": "214 shipment status",
    "837": "837 health care claim", "835": "835 health care payment",
}

# DTM qualifiers that express when the buyer wants the goods, most specific first.
_REQUESTED_DTM = ("002", "010", "106", "074", "064", "037", "063", "038", "068", "017")
_BUYER_CODES = ("BY", "OB")
_SUPPLIER_CODES = ("SE", "SU", "VN")
_SHIP_TO_CODES = ("ST",)
_BILL_TO_CODES = ("BT",)


@dataclass(frozen=True)
class X12Delimiters:
    element: str
    component: str
    segment: str
    repetition: str | None = None
    line_break: bool = False  # the inbound put a line break after each terminator


def _find_header(text: str) -> tuple[int, X12Delimiters, list[str], int]:
    """Locate ISA and its delimiters. Returns (start, delimiters, ISA elements, end of ISA)."""
    start = text.find("ISA")
    if start < 0:
        raise EdiError("X12: no ISA interchange header")
    if len(text) < start + 4:
        raise EdiError("X12: ISA header is truncated")
    sep = text[start + 3]
    if sep.isalnum() or sep.isspace():
        raise EdiError(f"X12: {sep!r} after ISA is not an element separator")
    pos = start + 3
    seps = []
    limit = min(len(text), start + 400)  # an ISA is 106 characters; padding may vary a little
    while len(seps) < 16:
        pos = text.find(sep, pos, limit)
        if pos < 0:
            raise EdiError("X12: ISA header is truncated or malformed (fewer than 16 elements)")
        seps.append(pos)
        pos += 1
    last = seps[15]
    if last + 1 >= len(text):
        raise EdiError("X12: ISA header is truncated (no component separator ISA16)")
    component = text[last + 1]
    term_pos = last + 2
    if term_pos >= len(text):
        raise EdiError("X12: interchange ends after the ISA header")
    terminator = text[term_pos]
    line_break = False
    if terminator in "\r\n":
        terminator = "\n"
    else:
        nxt = text[term_pos + 1: term_pos + 3]
        line_break = nxt[:1] in ("\r", "\n")
    if component == sep or terminator == sep or terminator.isalnum() or terminator == " ":
        raise EdiError("X12: ISA header declares clashing or invalid delimiters")
    elements = [text[a + 1: b] for a, b in zip(seps[:-1], seps[1:])]  # ISA01..ISA15
    elements.append(component)
    # The 00402+ repetition separator lives in ISA11; older versions put "U" there.
    rep = elements[10].strip() if len(elements) > 10 else ""
    repetition = rep if len(rep) == 1 and not rep.isalnum() and rep not in (sep, component, terminator) else None
    return start, X12Delimiters(sep, component, terminator, repetition, line_break), elements, term_pos + 1


_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}$")


def tokenize_x12(text: str) -> tuple[X12Delimiters, list[Segment]]:
    """Split an X12 interchange into segments of elements (element 0 is the tag).

    Whitespace around segments is dropped; a segment that ends with a stray component separator
    (seen when a sender uses line breaks as terminators and still writes ``~``) loses it, since a
    trailing empty component carries no data.
    """
    start, d, isa, body_start = _find_header(text)
    segments: list[Segment] = [["ISA", *isa]]
    body = text[body_start:]
    pieces = body.split(d.segment)
    if d.segment != "\n":
        # A terminator forgotten at a line end must not glue two segments together.
        split: list[str] = []
        for p in pieces:
            if "\n" in p.strip():
                split.extend(p.split("\n"))
            else:
                split.append(p)
        pieces = split
    for p in pieces:
        s = p.strip(" \t\r\n\x00\u00a0")
        if not s:
            continue
        while s.endswith(d.component) and d.component not in (" ",):
            s = s[: -len(d.component)].rstrip()
        if not s:
            continue
        parts = s.split(d.element)
        tag = parts[0].strip()
        if not _TAG.match(tag):
            raise EdiError(f"X12: malformed segment {s[:30]!r}")
        parts[0] = tag
        segments.append(parts)
    return d, segments


def _el(seg: Segment, i: int) -> str:
    """Element i of a segment ("" when absent), surrounding spaces removed."""
    return seg[i].strip() if len(seg) > i else ""


def _first_comp(value: str, d: X12Delimiters) -> str:
    return value.split(d.component)[0].strip() if value else ""


@dataclass
class _TransactionSet:
    type: str
    control: str
    segments: list[Segment]
    group: dict[str, Any]


def _structure(segments: list[Segment]) -> tuple[dict[str, Any], list[dict[str, Any]], list[_TransactionSet]]:
    """Walk ISA/GS/ST/SE/GE/IEA. Missing GE/IEA trailers are tolerated; a missing SE is not."""
    isa = segments[0]
    interchange = {
        "isa_sender_qualifier": _el(isa, 5), "isa_sender": _el(isa, 6),
        "isa_receiver_qualifier": _el(isa, 7), "isa_receiver": _el(isa, 8),
        "isa_date": _el(isa, 9), "isa_time": _el(isa, 10), "isa_version": _el(isa, 12),
        "isa_control": _el(isa, 13), "isa_ack_requested": _el(isa, 14), "isa_usage": _el(isa, 15),
    }
    groups: list[dict[str, Any]] = []
    sets: list[_TransactionSet] = []
    group: dict[str, Any] | None = None
    current: _TransactionSet | None = None
    for seg in segments[1:]:
        tag = seg[0]
        if current is not None:
            if tag == "SE":
                current.segments.append(seg)
                sets.append(current)
                current = None
            elif tag in ("ST", "GE", "GS", "IEA", "ISA"):
                raise EdiError(f"X12: transaction set {current.type} {current.control} has no SE trailer")
            else:
                current.segments.append(seg)
            continue
        if tag == "GS":
            group = {
                "functional_id": _el(seg, 1), "gs_sender": _el(seg, 2), "gs_receiver": _el(seg, 3),
                "gs_date": _el(seg, 4), "gs_time": _el(seg, 5), "gs_control": _el(seg, 6),
                "agency": _el(seg, 7), "version": _el(seg, 8), "sets": [],
            }
            groups.append(group)
        elif tag == "ST":
            if group is None:  # an ST without a GS: tolerate, as an anonymous group
                group = {"functional_id": "", "gs_sender": "", "gs_receiver": "", "gs_date": "",
                         "gs_time": "", "gs_control": "", "agency": "", "version": "", "sets": []}
                groups.append(group)
            st_type, st_ctl = _el(seg, 1), _el(seg, 2)
            if not st_type:
                raise EdiError("X12: ST segment without a transaction set identifier")
            current = _TransactionSet(st_type, st_ctl, [seg], group)
            group["sets"].append({"type": st_type, "control": st_ctl})
        elif tag == "GE":
            group = None
        elif tag in ("IEA", "ISA", "TA1"):
            # A second ISA (concatenated interchanges) is read on as more groups of the same file.
            continue
    if current is not None:
        raise EdiError(f"X12: transaction set {current.type} {current.control} is truncated (no SE trailer)")
    return interchange, groups, sets


def _party_name(p: dict[str, Any]) -> str | None:
    return p.get("name") or p.get("id") or None


def _party_address(p: dict[str, Any]) -> str | None:
    return format_address(_party_name(p), [*p.get("n2", []), *p.get("n3", [])],
                          [p.get("city", ""), p.get("state", ""), p.get("zip", ""), p.get("country", "")])


def _terms(seg: Segment) -> str | None:
    """ITD as text: its free-form description, else "3% 45 days, net 46"."""
    desc = _el(seg, 12)
    if desc:
        return desc
    parts = []
    pct, days, net = _el(seg, 3), _el(seg, 5), _el(seg, 7)
    if pct:
        parts.append(f"{pct}% {days} days" if days else f"{pct}%")
    if net:
        parts.append(f"net {net}")
    return ", ".join(parts) or None


def _read_850(ts: _TransactionSet, d: X12Delimiters, interchange: dict[str, Any]) -> OrderDraft:
    order = OrderDraft(extractor="edi-x12", document_kind=DocumentKind.x12)
    parties: dict[str, dict[str, Any]] = {}
    header_dates: dict[str, str] = {}
    header_raw_dates: dict[str, str] = {}
    refs: dict[str, str] = {}
    contacts: list[dict[str, str]] = []
    charges: list[dict[str, Any]] = []
    line_meta: list[dict[str, Any]] = []
    party: dict[str, Any] | None = None
    line: LineDraft | None = None
    lmeta: dict[str, Any] = {}
    after_ctt = False
    currency: str | None = None
    line_currency: str | None = None
    beg: dict[str, str] = {}
    counts: dict[str, str] = {}

    for seg in ts.segments[1:]:
        tag = seg[0]
        if tag == "BEG":
            beg = {"purpose": _el(seg, 1), "type": _el(seg, 2), "po_number": _el(seg, 3),
                   "release": _el(seg, 4), "date": _el(seg, 5), "contract": _el(seg, 6)}
            order.po_number = text_field(_el(seg, 3))
            order.order_date = date_field(_el(seg, 5))
        elif tag == "CUR":
            cur = _el(seg, 2)
            if line is None and not currency:
                currency = cur
            elif line is not None and not line_currency:
                line_currency = cur
        elif tag == "REF":
            target = lmeta.setdefault("refs", {}) if line is not None else (party.setdefault("refs", {}) if party else refs)
            target.setdefault(_el(seg, 1), _el(seg, 2) or _el(seg, 3))
        elif tag == "PER":
            contact = {"function": _el(seg, 1), "name": _el(seg, 2)}
            for i in range(3, len(seg) - 1, 2):
                if _el(seg, i):
                    contact[_el(seg, i)] = _el(seg, i + 1)
            contacts.append(contact)
        elif tag == "DTM":
            qual, raw = _el(seg, 1), _el(seg, 2)
            iso = to_date(raw)
            if line is not None:
                lmeta.setdefault("dates", {}).setdefault(qual, iso or raw)
                if qual in _REQUESTED_DTM and not line.requested_date.present and iso:
                    line.requested_date = Field.exact(iso, raw)
            else:
                header_dates.setdefault(qual, iso or raw)
                if iso:
                    header_raw_dates.setdefault(qual, raw)
        elif tag == "ITD" and line is None:
            terms = _terms(seg)
            if terms and not order.payment_terms.present:
                order.payment_terms = Field.exact(terms, d.element.join(seg))
        elif tag == "N1":
            party = {"code": _el(seg, 1), "name": _el(seg, 2), "id_qualifier": _el(seg, 3),
                     "id": _el(seg, 4), "n2": [], "n3": []}
            if line is None:
                parties.setdefault(party["code"], party)
            else:
                lmeta.setdefault("parties", []).append(party)
        elif tag == "N2" and party is not None:
            party["n2"].extend(x for x in (_el(seg, 1), _el(seg, 2)) if x)
        elif tag == "N3" and party is not None:
            party["n3"].extend(x for x in (_el(seg, 1), _el(seg, 2)) if x)
        elif tag == "N4" and party is not None:
            party.update(city=_el(seg, 1), state=_el(seg, 2), zip=_el(seg, 3), country=_el(seg, 4))
        elif tag == "PO1":
            if line is not None:
                line_meta.append(lmeta)
            party = None
            line, lmeta = _po1(seg, d, len(order.lines) + 1)
            order.lines.append(line)
        elif tag == "PID" and line is not None:
            text = _el(seg, 5)
            if text and not line.description.present and _el(seg, 1) in ("F", "X", ""):
                line.description = Field.exact(text, text)
            elif text:
                lmeta.setdefault("descriptions", []).append(text)
        elif tag == "PO4" and line is not None:
            lmeta["pack"] = {"pack": to_number(_el(seg, 1)), "size": to_number(_el(seg, 2)),
                             "uom": _el(seg, 3), "packaging": _el(seg, 4)}
        elif tag == "SAC":
            amount = to_number(_el(seg, 5))
            charge = {"indicator": _el(seg, 1), "code": _el(seg, 2),
                      # SAC05 is type N2: two implied decimals.
                      "amount": (amount / 100 if isinstance(amount, int) and "." not in _el(seg, 5) else amount),
                      "percent": to_number(_el(seg, 7)), "description": _el(seg, 15)}
            if line is not None and not after_ctt:
                charge["line_no"] = line.line_no.value
            charges.append(charge)
        elif tag == "SCH" and line is not None:
            # A line schedule: quantity, unit and the date it is wanted (SCH05/06).
            iso = to_date(_el(seg, 6))
            if iso and not line.requested_date.present:
                line.requested_date = Field.exact(iso, _el(seg, 6))
            lmeta.setdefault("schedule", []).append({"quantity": to_number(_el(seg, 1)), "uom": _el(seg, 2),
                                                     "qualifier": _el(seg, 5), "date": iso})
        elif tag == "CTT":
            after_ctt = True
            counts = {"lines": _el(seg, 1), "hash": _el(seg, 2)}
        elif tag == "AMT":
            qual, raw = _el(seg, 1), _el(seg, 2)
            if qual in ("TT", "1", "GV"):
                if line is not None and not after_ctt:
                    lmeta.setdefault("amounts", {})[qual] = to_number(raw)
                elif not order.total.present:
                    order.total = num_field(raw)
        elif tag == "SLN" and line is not None:
            # Sub-lines detail a PO1 (assortments, components); the order's lines stay PO1s.
            lmeta.setdefault("sublines", []).append(_el(seg, 1))
    if line is not None:
        line_meta.append(lmeta)

    if not order.po_number.present:
        raise EdiError(f"X12 850 {ts.control}: no BEG segment with a purchase order number")

    for codes, attr in ((_BUYER_CODES, "buyer"), (_SUPPLIER_CODES, "supplier")):
        for code in codes:
            if code in parties and _party_name(parties[code]):
                setattr(order, attr, text_field(_party_name(parties[code])))
                break
    for codes, attr in ((_SHIP_TO_CODES, "ship_to"), (_BILL_TO_CODES, "bill_to")):
        for code in codes:
            if code in parties and _party_address(parties[code]):
                setattr(order, attr, text_field(_party_address(parties[code])))
                break
    if currency or line_currency:
        order.currency = text_field(currency or line_currency)
    for qual in _REQUESTED_DTM:
        if qual in header_raw_dates:
            order.requested_date = Field.exact(header_dates[qual], header_raw_dates[qual])
            break

    group = ts.group
    order.sender = interchange["isa_sender"] or group.get("gs_sender") or None
    pids = {"isa_sender": interchange["isa_sender"], "isa_receiver": interchange["isa_receiver"],
            "gs_sender": group.get("gs_sender", ""), "gs_receiver": group.get("gs_receiver", "")}
    for code, p in parties.items():
        if p.get("id"):
            pids[code] = p["id"]
    order.partner_ids = {k: v for k, v in pids.items() if v}
    order.meta = {
        "syntax": "x12",
        "transaction_set": "850",
        "isa_control": interchange["isa_control"],
        "isa_version": interchange["isa_version"],
        "gs_control": group.get("gs_control", ""),
        "gs_functional_id": group.get("functional_id", ""),
        "gs_version": group.get("version", ""),
        "st_control": ts.control,
        "beg": beg,
        "refs": refs,
        "dates": header_dates,
        "contacts": contacts,
        "parties": parties,
        "charges": charges,
        "counts": counts,
        "lines": line_meta,
    }
    return order


def _po1(seg: Segment, d: X12Delimiters, position: int) -> tuple[LineDraft, dict[str, Any]]:
    """PO101 line no, PO102 qty, PO103 unit, PO104 price, PO106.. qualifier/id pairs."""
    ln = LineDraft()
    raw_no = _el(seg, 1)
    no = to_number(raw_no)
    ln.line_no = Field.exact(no if isinstance(no, int) else position, raw_no or str(position))
    ln.quantity = num_field(_el(seg, 2))
    ln.uom = text_field(_first_comp(_el(seg, 3), d))
    ln.unit_price = num_field(_el(seg, 4))
    ids: dict[str, str] = {}
    first = 6
    if len(seg) % 2 == 1 and len(seg) > 6 and _el(seg, 5) in SKU_PRIORITY:
        # PO105 (price basis) left out without its empty placeholder: the pairs start one early.
        first = 5
    for i in range(first, len(seg) - 1, 2):
        q, v = _el(seg, i), _el(seg, i + 1)
        if q and v and q not in ids:
            ids[q] = v
    ln.product_ids = ids
    q, sku = pick_id(ids, SKU_PRIORITY)
    if sku:
        ln.sku = Field.exact(sku, sku)
    return ln, {"line_no": ln.line_no.value, "price_basis": _el(seg, 5), "sku_qualifier": q}


def read_x12(text: str) -> EdiResult:
    """Read every transaction set of an X12 interchange; 850s become OrderDrafts."""
    d, segments = tokenize_x12(text)
    if len(segments) < 2:
        raise EdiError("X12: interchange holds nothing after the ISA header")
    interchange, groups, sets = _structure(segments)
    if not sets:
        raise EdiError("X12: interchange holds no complete transaction set (ST..SE)")
    result = EdiResult(syntax="x12")
    for ts in sets:
        if ts.type == "850":
            order = _read_850(ts, d, interchange)
            order.document_index = len(result.orders)
            result.orders.append(order)
        else:
            result.non_orders.append(NonOrder(ts.type, ts.control, TRANSACTION_SETS.get(ts.type, f"{ts.type} transaction set")))
    delimiters = {"element": d.element, "component": d.component, "segment": d.segment,
                  "repetition": d.repetition, "line_break": d.line_break}
    result.envelope = {
        "syntax": "x12",
        "sender": interchange["isa_sender"],
        "receiver": interchange["isa_receiver"],
        "control_number": interchange["isa_control"],
        "version": interchange["isa_version"],
        **interchange,
        "groups": groups,
        "delimiters": delimiters,
    }
    for order in result.orders:
        order.meta["delimiters"] = delimiters
    return result
