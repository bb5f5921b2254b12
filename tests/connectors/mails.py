"""Order mails for the connector tests: an X12 850 attachment (exact, no model needed)."""

from __future__ import annotations

import email
import email.policy
import email.utils
from email.message import EmailMessage

__all__ = ["x12_850", "order_mail", "reply_mail", "forward_mail"]


def x12_850(po: str = "PO-77001", qty1: int = 10, qty2: int = 4, control: int = 101) -> str:
    """A small valid X12 850 (two lines) with the given PO number and quantities."""
    total = qty1 * 2.5 + qty2 * 18
    total_s = f"{total:g}"
    return (
        f"ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*SELLERCO       *261130*1200*U*00401*{control:09d}*0*P*:~"
        f"GS*PO*BUYERCO*SELLERCO*20261130*1200*{control}*X*004010~"
        "ST*850*0001~"
        f"BEG*00*SA*{po}**20261128~"
        "CUR*BY*USD~"
        "N1*BY*BUYER COMPANY INC~"
        "N1*ST*BUYER DC 4*92*0004~N3*12 DOCK ROAD~N4*TOLEDO*OH*43601~"
        f"PO1*1*{qty1}*EA*2.5**VN*HX-1420~PID*F****HEX NUT 1/4-20 ZINC~"
        f"PO1*2*{qty2}*BX*18**VN*WSH-0250~PID*F****FLAT WASHER 1/4 BOX OF 100~"
        f"CTT*2~AMT*TT*{total_s}~"
        f"SE*12*0001~GE*1*{control}~IEA*1*{control:09d}~"
    )


def order_mail(po: str = "PO-77001", *, sender: str = "buyer@customer.example", to: str = "orders@example.test",
               message_id: str | None = None, qty1: int = 10, qty2: int = 4, date: str | None = None,
               subject: str | None = None, edi: str | None = None) -> tuple[bytes, str]:
    """(raw bytes, Message-ID) of a customer's mail with an X12 850 attachment."""
    msg = EmailMessage()
    mid = message_id or email.utils.make_msgid("po", domain="customer.example")
    msg["From"] = f"Buyer <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject or f"Purchase order {po}"
    msg["Date"] = date or email.utils.formatdate(localtime=False)
    msg["Message-ID"] = mid
    msg.set_content(f"Hello,\n\nplease find our purchase order {po} attached.\n\nRegards\n")
    msg.add_attachment((edi or x12_850(po, qty1, qty2)).encode(), maintype="application", subtype="edi-x12",
                       filename=f"{po}.edi")
    return msg.as_bytes(), mid


def reply_mail(to_message_id: str, *, sender: str = "buyer@customer.example", text: str = "Line 2 should be 6 boxes.",
               attachment: str | None = None, filename: str = "revised.edi") -> tuple[bytes, str]:
    """A customer's reply threading onto ``to_message_id``, optionally with a new document."""
    msg = EmailMessage()
    mid = email.utils.make_msgid("reply", domain="customer.example")
    msg["From"] = sender
    msg["To"] = "orders@example.test"
    msg["Subject"] = "Re: your order"
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = mid
    msg["In-Reply-To"] = to_message_id
    msg["References"] = to_message_id
    msg.set_content(f"{text}\n\nOn Mon, 30 Nov 2026, Orders wrote:\n> we need your help\n")
    if attachment is not None:
        msg.add_attachment(attachment.encode(), maintype="application", subtype="edi-x12", filename=filename)
    return msg.as_bytes(), mid


def forward_mail(original: bytes, *, sender: str = "colleague@customer.example") -> bytes:
    """A forward of ``original`` as an attached message (message/rfc822), with a new Message-ID."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "orders@example.test"
    msg["Subject"] = "Fwd: purchase order"
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid("fwd", domain="customer.example")
    msg.set_content("Forwarding the order below.\n")
    inner = email.message_from_bytes(original, policy=email.policy.default)
    msg.add_attachment(inner)
    return msg.as_bytes()
