"""UN/EDIFACT interchanges: a small tokenizer (UNA, release character) and the ORDERS reader.

A hand-written tokenizer rather than pydifact: it must honour every UNA service string advice
(including a decimal comma and an unusual release character), tolerate a missing UNZ and line
breaks between segments, and never raise anything but :class:`~intake.errors.EdiError`.
Directories D96A to D03B and EANCOM subsets share the segments read here.
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

__all__ = ["EdifactDelimiters", "tokenize_edifact", "read_edifact", "MESSAGE_TYPES", "PIA_PRIORITY"]

Element = list[str]  # components
Segment = tuple[str, list[Element]]  # (tag, elements after the tag)

MESSAGE_TYPES: dict[str, str] = {
    "ORDERS": "ORDERS purchase order", "ORDRSP": "ORDRSP order response",
    "ORDCHG": "ORDCHG order change", "INVOIC": "INVOIC invoice", "DESADV": "DESADV despatch advice",
    "RECADV": "RECADV receiving advice", "REMADV": "REMADV remittance advice",
    "PRICAT": "PRICAT price catalogue", "INVRPT": "INVRPT inventory report",
    "SLSRPT": "SLSRPT sales report", "CONTRL": "CONTRL syntax acknowledgment",
    "APERAK": "APERAK application error acknowledgment", "DELFOR": "DELFOR delivery schedule",
    "DELJIT": "DELJIT just-in-time delivery", "IFTMIN": "IFTMIN transport instruction",
    "PARTIN": "PARTIN party information", "QUOTES": "QUOTES quote", "REQOTE": "REQOTE request for quote",
    "PAYMUL": "PAYMUL multiple payment order", "COPARN": "COPARN container announcement",
}

# A line's sku: the LIN item number; without one, the PIA ids in this order of type codes.
PIA_PRIORITY: tuple[str, ...] = ("SA", "MF", "VN", "BP", "IN", "SRS", "EN", "UP", "IB", "GB", "SRV")
# DTM qualifiers for the date the buyer wants the goods, most specific first.
_REQUESTED_DTM = ("2", "10", "69", "64", "63", "17", "200")
_TOTAL_MOA = ("86", "128", "79")


@dataclass(frozen=True)
class EdifactDelimiters:
    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"
    repetition: str = " "
    segment: str = "'"
    una: bool = False  # the inbound carried a UNA
    line_break: bool = False  # the inbound put a line break after each terminator


def _delimiters(text: str) -> tuple[EdifactDelimiters, int]:
    """The UNA service string advice (or the defaults) and where the segments start."""
    if text.startswith("UNA"):
        if len(text) < 9:
            raise EdiError("EDIFACT: UNA service string advice is truncated")
        c, e, dm, r, rep, s = text[3:9]
        if len({c, e, s}) < 3 or any(ch.isalnum() for ch in (c, e, s)):
            raise EdiError("EDIFACT: UNA declares clashing or invalid delimiters")
        release = "" if r == " " else r
        rest = text[9:10]
        d = EdifactDelimiters(c, e, dm if dm in ".," else ".", release, rep, s, True, rest in ("\r", "\n"))
        return d, 9
    i = text.find("'")
    return EdifactDelimiters(line_break=text[i + 1: i + 2] in ("\r", "\n") if i >= 0 else False), 0


_TAG = re.compile(r"[A-Z][A-Z0-9]{2}$")


def tokenize_edifact(text: str) -> tuple[EdifactDelimiters, list[Segment]]:
    """Split EDIFACT text into (tag, elements of components), honouring the release character."""
    text = text.lstrip(" \t\r\n\x00\ufeff\u00a0")
    d, pos = _delimiters(text)
    segments: list[Segment] = []
    elements: list[Element] = []
    comps: list[str] = []
    buf: list[str] = []
    n = len(text)
    i = pos
    while i < n:
        ch = text[i]
        if d.release and ch == d.release:
            if i + 1 < n:
                buf.append(text[i + 1])
            i += 2
            continue
        if ch == d.component:
            comps.append("".join(buf))
            buf = []
        elif ch == d.element:
            comps.append("".join(buf))
            elements.append(comps)
            comps, buf = [], []
        elif ch == d.segment:
            comps.append("".join(buf))
            elements.append(comps)
            segments.append(_make_segment(elements))
            elements, comps, buf = [], [], []
        elif ch in "\r\n" and not elements and not comps and not buf:
            pass  # line breaks between segments
        else:
            buf.append(ch)
        i += 1
    tail = "".join(buf).strip()
    if elements or comps or tail:
        raise EdiError("EDIFACT: interchange ends inside a segment (truncated, no segment terminator)")
    return d, segments


def _make_segment(elements: list[Element]) -> Segment:
    tag = elements[0][0].strip(" \t\r\n\x00\u00a0") if elements and elements[0] else ""
    if not _TAG.match(tag):
        raise EdiError(f"EDIFACT: malformed segment tag {tag[:20]!r}")
    return tag, elements[1:]


def _c(seg: Segment, el: int, comp: int = 0) -> str:
    """Component ``comp`` of element ``el`` (1-based like the standard), "" when absent."""
    elements = seg[1]
    if len(elements) < el or el < 1:
        return ""
    e = elements[el - 1]
    return e[comp].strip() if len(e) > comp else ""


def _texts(seg: Segment, el: int) -> list[str]:
    elements = seg[1]
    if len(elements) < el:
        return []
    return [c.strip() for c in elements[el - 1] if c.strip()]


@dataclass
class _Message:
    ref: str
    type: str
    header: list[str]  # the S009 components: type, version, release, agency, association code
    segments: list[Segment]
    group: dict[str, Any] | None


def _structure(segments: list[Segment]) -> tuple[dict[str, Any], list[_Message]]:
    interchange: dict[str, Any] = {}
    messages: list[_Message] = []
    group: dict[str, Any] | None = None
    current: _Message | None = None
    for seg in segments:
        tag = seg[0]
        if current is not None:
            current.segments.append(seg)
            if tag == "UNT":
                messages.append(current)
                current = None
            elif tag in ("UNH", "UNZ", "UNE", "UNG", "UNB"):
                raise EdiError(f"EDIFACT: message {current.type} {current.ref} has no UNT trailer")
            continue
        if tag == "UNB":
            interchange = {
                "syntax_id": _c(seg, 1), "syntax_version": _c(seg, 1, 1),
                "unb_sender": _c(seg, 2), "unb_sender_qualifier": _c(seg, 2, 1),
                "unb_sender_routing": _c(seg, 2, 2),
                "unb_recipient": _c(seg, 3), "unb_recipient_qualifier": _c(seg, 3, 1),
                "unb_recipient_routing": _c(seg, 3, 2),
                "unb_date": _c(seg, 4), "unb_time": _c(seg, 4, 1), "unb_control": _c(seg, 5),
                "application_reference": _c(seg, 7), "ack_requested": _c(seg, 9),
                "test_indicator": _c(seg, 11),
            }
        elif tag == "UNG":
            group = {"type": _c(seg, 1), "sender": _c(seg, 2), "recipient": _c(seg, 3),
                     "control": _c(seg, 5), "agency": _c(seg, 6), "version": ":".join(_texts(seg, 7))}
        elif tag == "UNE":
            group = None
        elif tag == "UNH":
            ref = _c(seg, 1)
            header = [_c(seg, 2, k) for k in range(5)]
            if not header[0]:
                raise EdiError("EDIFACT: UNH without a message type")
            current = _Message(ref, header[0], header, [seg], group)
    if current is not None:
        raise EdiError(f"EDIFACT: message {current.type} {current.ref} is truncated (no UNT trailer)")
    return interchange, messages


def _nad(seg: Segment) -> dict[str, Any]:
    """NAD: qualifier, party id (C082), name and address (C058), name (C080), street (C059),
    city, country sub-entity (C819), postcode, country."""
    c058 = _texts(seg, 3)
    c080 = _texts(seg, 4)
    name = " ".join(c080) if c080 else (c058[0] if c058 else "")
    lines = (c058 if c080 else c058[1:]) + _texts(seg, 5)
    return {
        "code": _c(seg, 1), "id": _c(seg, 2), "id_agency": _c(seg, 2, 2), "name": name,
        "lines": lines, "city": _c(seg, 6), "region": _c(seg, 7), "postcode": _c(seg, 8),
        "country": _c(seg, 9),
    }


def _party_name(p: dict[str, Any]) -> str | None:
    return p.get("name") or p.get("id") or None


def _party_address(p: dict[str, Any]) -> str | None:
    return format_address(_party_name(p), p.get("lines", []),
                          [p.get("city", ""), p.get("region", ""), p.get("postcode", ""), p.get("country", "")])


def _dtm(seg: Segment) -> tuple[str, str, str | None]:
    """(qualifier, raw value, ISO date or None) of a DTM; formats 102, 203, 101, 718, 204..."""
    qual, raw, fmt = _c(seg, 1), _c(seg, 1, 1), _c(seg, 1, 2)
    # 102 CCYYMMDD, 203 CCYYMMDDHHMM, 204 ..SS, 101 YYMMDD, 718 CCYYMMDD-CCYYMMDD (its start);
    # other formats (weeks, months, durations) are not calendar dates.
    if fmt not in ("102", "203", "204", "101", "718", ""):
        return qual, raw, None
    iso = to_date(raw)
    if fmt == "101" and len(raw) != 6:
        iso = None
    return qual, raw, iso


def _read_orders(msg: _Message, d: EdifactDelimiters, interchange: dict[str, Any]) -> OrderDraft:
    order = OrderDraft(extractor="edi-edifact", document_kind=DocumentKind.edifact)
    dm = d.decimal
    parties: dict[str, dict[str, Any]] = {}
    refs: dict[str, str] = {}
    dates: dict[str, str] = {}
    header_requested: dict[str, tuple[str, str]] = {}
    totals: dict[str, str] = {}
    line_meta: list[dict[str, Any]] = []
    bgm: dict[str, str] = {}
    counts: dict[str, str] = {}
    line: LineDraft | None = None
    lmeta: dict[str, Any] = {}
    # The segment group the last segment opened: a DTM after RFF dates the reference, a QTY
    # after LOC is a split delivery, not the ordered quantity.
    context = ""
    in_summary = False
    quantities: dict[str, tuple[str, str]] = {}
    prices: dict[str, str] = {}
    pia: list[tuple[str, str, str]] = []  # (function, type, id)
    lin_id: tuple[str, str] = ("", "")

    def close_line() -> None:
        if line is None:
            return
        for q in ("21", "1", "47", "46", "12"):
            if q in quantities:
                raw, uom = quantities[q]
                line.quantity = num_field(raw, dm)
                if uom:
                    line.uom = Field.exact(uom, uom)
                break
        for q in ("AAA", "AAB"):
            if q in prices:
                line.unit_price = num_field(prices[q], dm)
                break
        else:
            if prices:
                line.unit_price = num_field(next(iter(prices.values())), dm)
        ids: dict[str, str] = {}
        if lin_id[0]:
            ids[lin_id[1] or "LIN"] = lin_id[0]
        for _fn, typ, pid in pia:
            ids.setdefault(typ or "PIA", pid)
        line.product_ids = ids
        sku = lin_id[0]
        if not sku:
            fives = {typ or "PIA": pid for fn, typ, pid in pia if fn == "5"}
            _q, sku = pick_id(fives, PIA_PRIORITY)
            if not sku:
                _q, sku = pick_id({typ or "PIA": pid for _f, typ, pid in pia}, PIA_PRIORITY)
        if sku:
            line.sku = Field.exact(sku, sku)
        lmeta["prices"] = dict(prices)
        lmeta["quantities"] = {k: v[0] for k, v in quantities.items()}
        line_meta.append(dict(lmeta))

    for seg in msg.segments[1:]:
        tag = seg[0]
        if tag == "BGM":
            bgm = {"document_code": _c(seg, 1), "document_number": _c(seg, 2), "function": _c(seg, 3),
                   "response_type": _c(seg, 4)}
            order.po_number = text_field(_c(seg, 2))
        elif tag == "DTM":
            qual, raw, iso = _dtm(seg)
            if line is not None and not in_summary:
                if context in ("", "LIN", "LOC", "QTY") and qual in _REQUESTED_DTM and iso \
                        and not line.requested_date.present:
                    line.requested_date = Field.exact(iso, raw)
                lmeta.setdefault("dates", {}).setdefault(qual, iso or raw)
            elif context in ("", "BGM", "DTM"):
                dates.setdefault(qual, iso or raw)
                if qual == "137" and not order.order_date.present:
                    order.order_date = date_field(raw) if iso else Field(value=None, raw=raw)
                elif qual in _REQUESTED_DTM and iso:
                    header_requested.setdefault(qual, (iso, raw))
            continue  # a DTM does not open a group
        elif tag == "RFF":
            if line is None:
                refs.setdefault(_c(seg, 1), _c(seg, 1, 1))
            else:
                lmeta.setdefault("refs", {}).setdefault(_c(seg, 1), _c(seg, 1, 1))
        elif tag == "NAD":
            p = _nad(seg)
            if line is None:
                parties.setdefault(p["code"], p)
            else:
                lmeta.setdefault("parties", []).append(p)
        elif tag == "CUX" and line is None and not order.currency.present:
            cur = ""
            for e in seg[1]:
                if len(e) > 1 and e[0].strip() == "2" and e[1].strip():
                    cur = e[1].strip()
                    break
            cur = cur or _c(seg, 1, 1)
            if cur:
                order.currency = Field.exact(cur, cur)
        elif tag == "PAT" and line is None and not order.payment_terms.present:
            terms = _payment_terms(seg)
            if terms:
                order.payment_terms = Field.exact(terms, terms)
        elif tag == "FTX" and line is not None and _c(seg, 1) in ("AAA", "AFM") and not lmeta.get("ftx"):
            lmeta["ftx"] = " ".join(_texts(seg, 4))
        elif tag == "LIN":
            close_line()
            line = LineDraft()
            lmeta = {}
            quantities, prices, pia = {}, {}, []
            raw_no = _c(seg, 1)
            no = to_number(raw_no)
            pos = len(order.lines) + 1
            line.line_no = Field.exact(no if isinstance(no, int) else pos, raw_no or str(pos))
            lin_id = (_c(seg, 3), _c(seg, 3, 1))
            lmeta["line_no"] = line.line_no.value
            order.lines.append(line)
        elif tag == "PIA" and line is not None:
            for e in seg[1][1:]:
                if e and e[0].strip():
                    pia.append((_c(seg, 1), e[1].strip() if len(e) > 1 else "", e[0].strip()))
        elif tag == "IMD" and line is not None:
            text = " ".join(t for t in (_c(seg, 3, 3), _c(seg, 3, 4)) if t)
            if text and not line.description.present:
                line.description = Field.exact(text, text)
            elif text:
                lmeta.setdefault("descriptions", []).append(text)
        elif tag == "QTY" and line is not None and not in_summary:
            if context not in ("LOC", "PAC", "SCC", "QVR"):
                quantities.setdefault(_c(seg, 1), (_c(seg, 1, 1), _c(seg, 1, 2)))
            else:
                lmeta.setdefault("split_quantities", []).append(_c(seg, 1, 1))
            continue  # a QTY keeps the group the LOC opened
        elif tag == "PRI" and line is not None:
            prices.setdefault(_c(seg, 1), _c(seg, 1, 1))
        elif tag == "MOA":
            qual, raw = _c(seg, 1), _c(seg, 1, 1)
            if line is not None and not in_summary and qual == "203" and not line.amount.present:
                line.amount = num_field(raw, dm)
            elif (line is None or in_summary) and qual in _TOTAL_MOA:
                totals.setdefault(qual, raw)
        elif tag == "UNS":
            close_line()
            line = None
            in_summary = True
        elif tag == "CNT":
            counts[_c(seg, 1)] = _c(seg, 1, 1)
        context = tag
    if line is not None:
        close_line()
    for ln, meta in zip(order.lines, line_meta):
        if not ln.description.present and meta.get("ftx"):
            ln.description = Field.exact(meta["ftx"], meta["ftx"])

    if not order.po_number.present:
        raise EdiError(f"EDIFACT ORDERS {msg.ref}: no BGM document number")
    for q in _TOTAL_MOA:
        if q in totals:
            order.total = num_field(totals[q], dm)
            break
    for q in _REQUESTED_DTM:
        if q in header_requested:
            iso, raw = header_requested[q]
            order.requested_date = Field.exact(iso, raw)
            break
    for codes, attr in ((("BY", "OB"), "buyer"), (("SU", "SE"), "supplier")):
        for code in codes:
            if code in parties and _party_name(parties[code]):
                setattr(order, attr, text_field(_party_name(parties[code])))
                break
    for codes, attr in ((("DP", "ST"), "ship_to"), (("IV",), "bill_to")):
        for code in codes:
            if code in parties and _party_address(parties[code]):
                setattr(order, attr, text_field(_party_address(parties[code])))
                break

    order.sender = interchange.get("unb_sender") or None
    pids = {"unb_sender": interchange.get("unb_sender", ""), "unb_recipient": interchange.get("unb_recipient", "")}
    for code, p in parties.items():
        if p.get("id"):
            pids[code] = p["id"]
    order.partner_ids = {k: v for k, v in pids.items() if v}
    order.meta = {
        "syntax": "edifact",
        "message_type": msg.type,
        "unb_control": interchange.get("unb_control", ""),
        "unh_ref": msg.ref,
        "version": msg.header[1],
        "release": msg.header[2],
        "agency": msg.header[3],
        "association_code": msg.header[4],
        "bgm": bgm,
        "refs": refs,
        "dates": dates,
        "parties": parties,
        "totals": totals,
        "counts": counts,
        "lines": line_meta,
        "group": msg.group,
    }
    return order


def _payment_terms(seg: Segment) -> str | None:
    """PAT as text: "net 30 days" style from the C112 terms/time information."""
    number, unit = _c(seg, 3, 3), _c(seg, 3, 2)
    units = {"D": "days", "WK": "weeks", "M": "months", "CD": "days", "MON": "months"}
    if number:
        return f"net {number} {units.get(unit, unit).strip()}".strip()
    text = " ".join(_texts(seg, 2)[2:])
    return text or None


def read_edifact(text: str) -> EdiResult:
    """Read every message of an EDIFACT interchange; ORDERS messages become OrderDrafts."""
    d, segments = tokenize_edifact(text)
    if not segments:
        raise EdiError("EDIFACT: no segments")
    interchange, messages = _structure(segments)
    if not messages:
        raise EdiError("EDIFACT: interchange holds no complete message (UNH..UNT)")
    result = EdiResult(syntax="edifact")
    for msg in messages:
        if msg.type == "ORDERS":
            order = _read_orders(msg, d, interchange)
            order.document_index = len(result.orders)
            result.orders.append(order)
        else:
            result.non_orders.append(NonOrder(msg.type, msg.ref, MESSAGE_TYPES.get(msg.type, f"{msg.type} message")))
    delimiters = {"component": d.component, "element": d.element, "decimal": d.decimal,
                  "release": d.release, "repetition": d.repetition, "segment": d.segment,
                  "una": d.una, "line_break": d.line_break}
    result.envelope = {
        "syntax": "edifact",
        "sender": interchange.get("unb_sender", ""),
        "receiver": interchange.get("unb_recipient", ""),
        "control_number": interchange.get("unb_control", ""),
        "version": interchange.get("syntax_version", ""),
        **interchange,
        "messages": [{"type": m.type, "ref": m.ref, "version": m.header[1], "release": m.header[2],
                      "agency": m.header[3], "association_code": m.header[4]} for m in messages],
        "delimiters": delimiters,
    }
    for order in result.orders:
        order.meta["delimiters"] = delimiters
    return result
