"""Outbound EDI acknowledgments for an inbound interchange.

X12: one 997 functional acknowledgment (AK1/AK2/AK5/AK9 for every transaction set of every
functional group) and one 855 purchase order acknowledgment per 850.
EDIFACT: one CONTRL (UCI, one UCM per message) and one ORDRSP per ORDERS.

Envelopes swap sender and receiver and reuse the inbound delimiters. Control numbers are passed
in or derived deterministically from the inbound ones, so acknowledging the same interchange
twice gives the same bytes (the outbox can deduplicate them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from extractors.edi import EdiResult
from intake.core.domain import LineDraft, OrderDraft
from intake.core.errors import EdiError

__all__ = ["acknowledgments", "x12_acknowledgments", "edifact_acknowledgments", "derive_control_number"]

# ACK01 codes a caller may give per line; anything else is refused rather than sent.
X12_LINE_STATUS = {"IA", "IB", "IC", "ID", "IP", "IQ", "IR", "IS", "R1", "R2", "R3", "R4", "R5"}
# ORDRSP LIN action codes (1229): 5 accepted without amendment, 3 changed, 7 not accepted.
EDIFACT_LINE_STATUS = {"5": "5", "3": "3", "7": "7", "IA": "5", "IR": "7", "IC": "3", "IQ": "3", "IP": "3"}


def derive_control_number(*parts: str, digits: int = 9) -> int:
    """A deterministic control number (1..10**digits-1) from the inbound identifiers."""
    h = hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()
    return int(h, 16) % (10**digits - 1) + 1


def acknowledgments(
    result: EdiResult,
    *,
    accepted: bool = True,
    order_lines_status: Mapping[str, Mapping[int, str]] | None = None,
    control_number: int | None = None,
    now: datetime | None = None,
) -> list[tuple[str, bytes]]:
    """The acknowledgment files for one inbound interchange, as (filename, content) pairs.

    ``accepted`` False rejects everything (997 AK5/AK9 "R", 855 BAK02 "RJ", CONTRL UCI 4,
    ORDRSP BGM function 27). ``order_lines_status`` maps a PO number to {line_no: status}, the
    status an X12 ACK01 code ("IA" accepted, "IR" rejected, "IB" backordered...) or an EDIFACT
    LIN action code ("5", "3", "7"); lines not named are accepted. ``control_number`` is the
    first outbound interchange control number (the next files count up from it); by default
    it is derived from the inbound sender and control number. ``now`` stamps the envelopes.
    """
    now = now or datetime.now(timezone.utc)
    statuses = order_lines_status or {}
    if result.syntax == "x12":
        return x12_acknowledgments(result, accepted=accepted, statuses=statuses,
                                   control_number=control_number, now=now)
    if result.syntax == "edifact":
        return edifact_acknowledgments(result, accepted=accepted, statuses=statuses,
                                       control_number=control_number, now=now)
    raise EdiError(f"cannot acknowledge syntax {result.syntax!r}")


def _fmt_num(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6f}".rstrip("0").rstrip(".")
    return str(v)


def _line_status(statuses: Mapping[str, Mapping[int, str]], po: str, ln: LineDraft, default: str) -> str:
    per_order = statuses.get(po, {})
    no = ln.line_no.value
    return per_order.get(no, per_order.get(str(no), default)) if isinstance(no, int) else per_order.get(str(no), default)


# ---------------------------------------------------------------------------------------------
# X12


class _X12Writer:
    def __init__(self, env: dict[str, Any]) -> None:
        d = env["delimiters"]
        self.e, self.c, self.s = d["element"], d["component"], d["segment"]
        self.rep = d.get("repetition")
        self.nl = "\n" if d.get("line_break") and self.s != "\n" else ""
        self.env = env

    def clean(self, v: Any) -> str:
        """A value with every delimiter character removed (X12 has no release character)."""
        text = _fmt_num(v) if not isinstance(v, str) else v
        for ch in {self.e, self.c, self.s, self.rep or "", "\r", "\n"} - {""}:
            text = text.replace(ch, " ")
        return text.strip()

    def seg(self, *elements: Any) -> str:
        parts = [self.clean(x) for x in elements]
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        return self.e.join(parts) + self.s + self.nl

    def interchange(self, control: int, fid: str, gs_control: int, version: str, sets: list[list[str]],
                    now: datetime) -> bytes:
        env = self.env
        # ISA fields are fixed width: pad ids to 15 and keep the inbound version and usage flag.
        isa_version = env.get("isa_version") or "00401"
        rep = self.rep if (self.rep and isa_version >= "00402") else "U"
        isa = self.e.join([
            "ISA", "00", " " * 10, "00", " " * 10,
            (env.get("isa_receiver_qualifier") or "ZZ")[:2].ljust(2), (env.get("isa_receiver") or "")[:15].ljust(15),
            (env.get("isa_sender_qualifier") or "ZZ")[:2].ljust(2), (env.get("isa_sender") or "")[:15].ljust(15),
            now.strftime("%y%m%d"), now.strftime("%H%M"), rep, isa_version, f"{control:09d}",
            "0", (env.get("isa_usage") or "P")[:1], self.c,
        ]) + self.s + self.nl
        group0 = (env.get("groups") or [{}])[0]
        body = [isa, self.seg("GS", fid, group0.get("gs_receiver") or env.get("isa_receiver", ""),
                              group0.get("gs_sender") or env.get("isa_sender", ""),
                              now.strftime("%Y%m%d"), now.strftime("%H%M"), str(gs_control), "X", version)]
        for ts in sets:
            body.extend(ts)
        body.append(self.seg("GE", str(len(sets)), str(gs_control)))
        body.append(self.seg("IEA", "1", f"{control:09d}"))
        return "".join(body).encode("utf-8")

    def transaction(self, st_type: str, st_control: str, segments: list[list[Any]]) -> list[str]:
        out = [self.seg("ST", st_type, st_control)]
        out.extend(self.seg(*s) for s in segments)
        out.append(self.seg("SE", str(len(segments) + 2), st_control))
        return out


def x12_acknowledgments(result: EdiResult, *, accepted: bool, statuses: Mapping[str, Mapping[int, str]],
                        control_number: int | None, now: datetime) -> list[tuple[str, bytes]]:
    """A 997 for the interchange and an 855 per 850 (see :func:`acknowledgments`)."""
    env = result.envelope
    w = _X12Writer(env)
    base = control_number or derive_control_number("x12", env.get("isa_sender", ""), env.get("isa_control", ""))
    files: list[tuple[str, bytes]] = []
    groups = env.get("groups") or []
    version = (groups[0].get("version") if groups else "") or "004010"

    # 997: one transaction set per functional group received.
    sets997: list[list[str]] = []
    for i, g in enumerate(groups, 1):
        code = "A" if accepted else "R"
        segs: list[list[Any]] = [["AK1", g.get("functional_id", ""), g.get("gs_control", "")]]
        for ts in g.get("sets", []):
            segs.append(["AK2", ts["type"], ts["control"]])
            segs.append(["AK5", code])
        n = len(g.get("sets", []))
        segs.append(["AK9", code, str(n), str(n), str(n if accepted else 0)])
        sets997.append(w.transaction("997", f"{i:04d}", segs))
    files.append((f"997_{base:09d}.edi", w.interchange(base, "FA", base % 10**9, version, sets997, now)))

    for k, order in enumerate(result.orders, 1):
        ctl = (base + k) % 10**9 or 1
        po = str(order.po_number.value or "")
        files.append((f"855_{_safe(po) or ctl}_{ctl:09d}.edi",
                      w.interchange(ctl, "PR", ctl, version, [w.transaction("855", "0001", _bak_segments(order, accepted, statuses))], now)))
    return files


def _bak_segments(order: OrderDraft, accepted: bool, statuses: Mapping[str, Mapping[int, str]]) -> list[list[Any]]:
    po = str(order.po_number.value or "")
    po_date = str(order.order_date.value or "").replace("-", "")
    segs: list[list[Any]] = [["BAK", "00", "AC" if accepted else "RJ", po, po_date]]
    if order.currency.present:
        segs.append(["CUR", "BY", order.currency.value])
    for ln in order.lines:
        status = _line_status(statuses, po, ln, "IA" if accepted else "IR")
        if status not in X12_LINE_STATUS:
            raise EdiError(f"unknown X12 line status {status!r} for PO {po} line {ln.line_no.value}")
        pairs: list[Any] = []
        for q, v in list(ln.product_ids.items())[:10]:
            pairs.extend([q, v])
        segs.append(["PO1", ln.line_no.value, ln.quantity.value, ln.uom.value or "EA", ln.unit_price.value,
                     "PE" if ln.unit_price.present else "", *pairs])
        segs.append(["ACK", status, ln.quantity.value, ln.uom.value or "EA"])
    segs.append(["CTT", str(len(order.lines))])
    return segs


def _safe(s: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in s)[:40]


# ---------------------------------------------------------------------------------------------
# EDIFACT


class _EdifactWriter:
    def __init__(self, env: dict[str, Any]) -> None:
        d = env["delimiters"]
        self.c, self.e, self.s = d["component"], d["element"], d["segment"]
        self.r = d.get("release") or "?"
        self.dm = d.get("decimal") or "."
        self.rep = d.get("repetition") or " "
        self.una = bool(d.get("una")) or (self.c, self.e, self.s, self.r) != (":", "+", "'", "?")
        self.nl = "\n" if d.get("line_break") else ""

    def esc(self, v: Any) -> str:
        text = v if isinstance(v, str) else _fmt_num(v)
        if not isinstance(v, str) and self.dm != ".":
            text = text.replace(".", self.dm)
        out = []
        for ch in text.replace("\r", " ").replace("\n", " "):
            if ch in (self.c, self.e, self.s, self.r):
                out.append(self.r)
            out.append(ch)
        return "".join(out)

    def seg(self, tag: str, *elements: Any) -> str:
        parts = [tag]
        for el in elements:
            comps = [self.esc(x) for x in (el if isinstance(el, (list, tuple)) else [el])]
            while len(comps) > 1 and comps[-1] == "":
                comps.pop()
            parts.append(self.c.join(comps))
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        return self.e.join(parts) + self.s + self.nl

    def interchange(self, env: dict[str, Any], control: str, messages: list[list[str]], now: datetime) -> bytes:
        head = ""
        if self.una:
            head = f"UNA{self.c}{self.e}{self.dm}{self.r}{self.rep}{self.s}" + self.nl
        syntax = [env.get("syntax_id") or "UNOC", env.get("syntax_version") or "3"]
        recipient = [env.get("unb_sender", ""), env.get("unb_sender_qualifier", "")]
        sender = [env.get("unb_recipient", ""), env.get("unb_recipient_qualifier", "")]
        body = [head, self.seg("UNB", syntax, sender, recipient, [now.strftime("%y%m%d"), now.strftime("%H%M")], control)]
        for m in messages:
            body.extend(m)
        body.append(self.seg("UNZ", str(len(messages)), control))
        return "".join(body).encode("utf-8")

    def message(self, ref: str, header: list[str], segments: list[list[Any]]) -> list[str]:
        out = [self.seg("UNH", ref, header)]
        out.extend(self.seg(s[0], *s[1:]) for s in segments)
        out.append(self.seg("UNT", str(len(segments) + 2), ref))
        return out


def edifact_acknowledgments(result: EdiResult, *, accepted: bool, statuses: Mapping[str, Mapping[int, str]],
                            control_number: int | None, now: datetime) -> list[tuple[str, bytes]]:
    """A CONTRL for the interchange and an ORDRSP per ORDERS (see :func:`acknowledgments`)."""
    env = result.envelope
    w = _EdifactWriter(env)
    base = control_number or derive_control_number("edifact", env.get("unb_sender", ""), env.get("unb_control", ""))
    files: list[tuple[str, bytes]] = []
    action = "7" if accepted else "4"  # 0083: 7 this level acknowledged, 4 rejected
    segs: list[list[Any]] = [["UCI", env.get("unb_control", ""),
                              [env.get("unb_sender", ""), env.get("unb_sender_qualifier", "")],
                              [env.get("unb_recipient", ""), env.get("unb_recipient_qualifier", "")], action]]
    for m in env.get("messages", []):
        segs.append(["UCM", m["ref"], [m["type"], m["version"], m["release"], m["agency"]], action])
    contrl = w.message("1", ["CONTRL", "D", "3", "UN"], segs)
    files.append((f"CONTRL_{base}.edi", w.interchange(env, str(base), [contrl], now)))

    for k, order in enumerate(result.orders, 1):
        ctl = str(base + k)
        po = str(order.po_number.value or "")
        meta = order.meta
        header = ["ORDRSP", meta.get("version") or "D", meta.get("release") or "96A", meta.get("agency") or "UN"]
        if meta.get("association_code"):
            header.append(meta["association_code"])
        body: list[list[Any]] = [
            ["BGM", "231", f"R{po}"[:35], "29" if accepted else "27"],
            ["DTM", ["137", now.strftime("%Y%m%d"), "102"]],
            ["RFF", ["ON", po]],
        ]
        if order.order_date.present:
            body.append(["DTM", ["171", str(order.order_date.value).replace("-", ""), "102"]])
        for role in ("BY", "SU"):
            if order.partner_ids.get(role):
                body.append(["NAD", role, [order.partner_ids[role], "", "9"]])
        if order.currency.present:
            body.append(["CUX", ["2", order.currency.value, "9"]])
        for ln in order.lines:
            status = _line_status(statuses, po, ln, "5" if accepted else "7")
            code = EDIFACT_LINE_STATUS.get(status)
            if code is None:
                raise EdiError(f"unknown EDIFACT line status {status!r} for PO {po} line {ln.line_no.value}")
            item: list[Any] = [ln.sku.value or ""]
            if ln.sku.present:
                q = next((k2 for k2, v in ln.product_ids.items() if v == ln.sku.value), "")
                item.append(q if q not in ("LIN", "PIA") else "")
            body.append(["LIN", ln.line_no.value, code, item])
            body.append(["QTY", ["21", ln.quantity.value, ln.uom.value or ""]])
            if ln.unit_price.present:
                body.append(["PRI", ["AAA", ln.unit_price.value]])
        body.append(["UNS", "S"])
        body.append(["CNT", ["2", str(len(order.lines))]])
        msg = w.message("1", header, body)
        files.append((f"ORDRSP_{_safe(po) or ctl}_{ctl}.edi", w.interchange(env, ctl, [msg], now)))
    return files
