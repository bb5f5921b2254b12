"""Orders for the review-UI tests, as a CSR meets them: mails read by the model with field
confidences between 0.89 and 0.98, matched to master data, some with wrong values.

The model is not run: the draft (what it read, with its confidences and the text as printed)
is written as extraction would, and the pipeline's own match and decide stages take it from
there. So the queue, the problems and the decision score are the real ones, and the tests do
not depend on a model's exact numbers.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from intake.service import ledger
from intake.service.blobstore import sha256_hex
from intake.service.db import unit_of_work
from intake.core.domain import Channel, Field, LineDraft, OrderDraft, RawMessage
from intake.service.masters import import_dir
from intake.service.models import MessageRow
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from intake.core.states import OrderStatus

__all__ = ["masters_dir", "seed_orders", "Seeded", "mail"]

FIXTURE_MASTERS = Path(__file__).resolve().parents[2] / "fixtures" / "masters"
# the customer prices the seeded orders are checked against (no validity window: the tests do
# not age); the rest of the master data is the demo's
PRICES = "customer_id,sku,unit_price,currency,valid_from,valid_to\n" \
         "CUST-1001,HB-0513-200-G5Z,0.38,USD,,\nCUST-1001,HN-0513-G5Z,0.08,USD,,\n"


def masters_dir(tmp: Path) -> Path:
    out = tmp / "masters"
    shutil.copytree(FIXTURE_MASTERS, out)
    (out / "prices.csv").write_text(PRICES, encoding="utf-8")
    return out


def mail(sender: str, subject: str, body: str) -> bytes:
    return (f"From: {sender}\r\nTo: orders@seller.example\r\nSubject: {subject}\r\n"
            "Date: Fri, 06 Nov 2026 09:12:00 +0000\r\nMessage-ID: <" + sha256_hex(body.encode())[:16] +
            "@test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()


def _f(value: Any, conf: float, raw: str | None = None) -> Field:
    return Field(value=value, raw=raw if raw is not None else (None if value is None else str(value)), confidence=conf)


def _line(no: int, sku: str, desc: str, qty: float, uom: str, price: float, amount: float | None, conf: float,
          req: str | None = None) -> LineDraft:
    return LineDraft(line_no=_f(no, conf), sku=_f(sku, conf), description=_f(desc, conf), quantity=_f(qty, conf),
                     uom=_f(uom, conf), unit_price=_f(price, conf),
                     amount=_f(amount, conf) if amount is not None else Field(),
                     requested_date=_f(req, conf) if req else Field())


@dataclass
class Seeded:
    northwind: str  # CUST-1001 by its mail domain; 2 prices off; payment terms "558"; dates out of order
    stranger: str  # nobody in the master data; payment terms "Demo"; read at 94 % and better
    long_lines: str  # long descriptions and per-line dates: the widest lines table; line 2 read at 86 %


def _store(pipe: Pipeline, data: bytes, filename: str, draft: OrderDraft) -> str:
    digest = pipe.blobs.put(data)
    raw = RawMessage(sha256=digest, size=len(data), filename=filename, content_type="message/rfc822",
                     channel=Channel.upload, received_at=datetime.now(timezone.utc))
    with unit_of_work(pipe.sm) as s:
        msg, _ = ledger.record_message(s, raw)
        s.get(MessageRow, msg.id).status = "PROCESSED"  # type: ignore[union-attr]
        o = ledger.create_order(s, msg, 0, OrderStatus.RECEIVED, actor="pipeline", reason="message stored",
                                po_number=draft.po_number.value, extractor=draft.extractor,
                                draft=draft.model_dump(mode="json"), confidence=0.0)
        ledger.transition(s, o, OrderStatus.EXTRACTED, actor="pipeline", reason="read by the test's model stand-in")
        oid = o.id
    pipe.match_order(oid)
    pipe.decide(oid)
    return oid


def seed_orders(settings: Settings, masters: Path) -> Seeded:
    """Import the master data and store the three orders (before ``intake serve`` starts)."""
    pipe = Pipeline(settings)
    with unit_of_work(pipe.sm) as s:
        import_dir(s, masters)
    pipe.invalidate_catalog()
    locale = {"locale": {"lang": "en", "decimal": ".", "dayfirst": None}}

    nw = OrderDraft(
        po_number=_f("NW-5521", 0.98), order_date=_f("2026-11-06", 0.9, "11/06/2026"),
        requested_date=_f("2026-09-20", 0.97, "20 Sep 2026"), buyer=_f("Northwind Fabrication", 0.95),
        currency=_f("USD", 0.96), payment_terms=_f("558", 0.89), total=_f(52.0, 0.96, "52.00"),
        lines=[_line(1, "HB-0513-200-G5Z", "Hex bolt 1/2-13 x 2 Grade 5 zinc", 100, "EA", 0.42, 42.0, 0.95),
               _line(2, "HN-0513-G5Z", "Hex nut 1/2-13 Grade 5 zinc", 100, "EA", 0.10, 10.0, 0.92)],
        extractor="model:test", model_version="test", sender="buyer@northwindfab.com", meta=dict(locale),
    )
    body = ("PURCHASE ORDER NW-5521\nDate: 11/06/2026\nDelivery: 20 Sep 2026\nTerms: 558\n\n"
            "1  HB-0513-200-G5Z  Hex bolt 1/2-13 x 2 Grade 5 zinc  100 EA  0.42  42.00\n"
            "2  HN-0513-G5Z  Hex nut 1/2-13 Grade 5 zinc  100 EA  0.10  10.00\n\nTotal 52.00\n")
    northwind = _store(pipe, mail("Nora Buyer <buyer@northwindfab.com>", "PO NW-5521 for the Dayton plant", body),
                       "nw-5521.eml", nw)

    st = OrderDraft(
        po_number=_f("ZX-778", 0.97), order_date=_f("2026-10-02", 0.96, "2 Oct 2026"),
        payment_terms=_f("Demo", 0.89), buyer=_f("Zephyr Widgets", 0.94),
        lines=[_line(1, "ZW-1", "Widget, blue", 4, "EA", 3.5, 14.0, 0.94),
               _line(2, "ZW-2", "Widget, red", 2, "EA", 3.5, 7.0, 0.96)],
        extractor="model:test", model_version="test", sender="orders@zephyr-widgets.example", meta=dict(locale),
    )
    body2 = "Order ZX-778\n2 Oct 2026\nPayment: Demo\n\nZW-1 Widget, blue 4 x 3.50\nZW-2 Widget, red 2 x 3.50\n"
    stranger = _store(pipe, mail("Zephyr Widgets <orders@zephyr-widgets.example>", "Order ZX-778", body2),
                      "zx-778.eml", st)

    long_desc = ("Hex bolt 1/2-13 x 2 inch, Grade 5, zinc plated, box of fifty, for the north plant assembly "
                 "line, deliver to dock 4 before noon")
    ll = OrderDraft(
        po_number=_f("NW-5600", 0.98), order_date=_f("2026-11-02", 0.95), currency=_f("USD", 0.97),
        lines=[_line(i, "HB-0513-200-G5Z", long_desc + f" (batch {i})", 50 * i, "EA", 0.38, 19.0 * i,
                     0.97 if i != 2 else 0.86, req="2030-01-15") for i in range(1, 4)],
        extractor="model:test", model_version="test", sender="buyer@northwindfab.com", meta=dict(locale),
    )
    body3 = "PO NW-5600\n" + "\n".join(f"{i} HB-0513-200-G5Z {long_desc} {50 * i} EA 0.38" for i in range(1, 4))
    long_lines = _store(pipe, mail("Nora Buyer <buyer@northwindfab.com>", "PO NW-5600", body3), "nw-5600.eml", ll)
    pipe.sm.kw["bind"].dispose()
    return Seeded(northwind=northwind, stranger=stranger, long_lines=long_lines)
