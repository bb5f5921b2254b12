"""Builders for the trust tests: the demo customer's X12 850 with the parts an attacker changes,
mails around it, and a pipeline over a fresh SQLite ledger with the demo master data."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from pathlib import Path

from intake.service.db import unit_of_work
from intake.service.masters import import_dir
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MASTERS = ROOT / "fixtures" / "masters"
AUTHSERV = "mx.seller.test"  # the receiving server these tests trust


def northwind_850(po: str, *, sender_id: str = "NWFAB001", ship_code: str | None = "NWF-MAIN",
                  ship_name: str = "NORTHWIND FABRICATION MAIN PLANT", street: str = "1200 INDUSTRIAL PKWY",
                  city: str = "DAYTON", postal: str = "45414", control: int = 4711) -> bytes:
    """The demo customer's (CUST-1001) order: two lines at its prices, requested in the future."""
    st = f"N1*ST*{ship_name}" + (f"*92*{ship_code}" if ship_code else "")
    isa_id = f"{sender_id:<15}"
    return (
        f"ISA*00*          *00*          *ZZ*{isa_id}*ZZ*SELLER01       *261201*0815*U*00401*{control:09d}*0*P*>~"
        f"GS*PO*{sender_id}*SELLER01*20261201*0815*{control}*X*004010~ST*850*0001~BEG*00*SA*{po}**20261201~"
        "CUR*BY*USD~DTM*002*20991215~"
        f"N1*BY*NORTHWIND FABRICATION INC*92*{sender_id}~{st}~N3*{street}~N4*{city}*OH*{postal}*US~"
        "PO1*1*200*EA*0.38**BP*NW-778812*VN*HB-0513-200-G5Z~PID*F****HEX BOLT 1/2-13 X 2 GR5 ZP~"
        "PO1*2*200*EA*0.08**BP*NW-778900~PID*F****HEX NUT 1/2-13 GR5 ZP~CTT*2~AMT*TT*92~"
        f"SE*16*0001~GE*1*{control}~IEA*1*{control:09d}~"
    ).encode()


def mailed(edi: bytes, *, sender: str, auth_results: list[str] | None = None, subject: str = "PO",
           reply_to: str | None = None) -> bytes:
    """A mail carrying ``edi`` as an attachment; ``auth_results`` are Authentication-Results
    headers, topmost first (as a receiving server prepends its own)."""
    msg = EmailMessage()
    for h in auth_results or []:
        msg["Authentication-Results"] = h
    msg["From"] = sender
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["To"] = "orders@seller.test"
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid("po", domain="example.test")
    msg.set_content("Our order is attached.\n")
    msg.add_attachment(edi, maintype="application", subtype="edi-x12", filename="po.edi")
    return msg.as_bytes()


def pipeline_with_masters(tmp_path: Path, **settings: object) -> Pipeline:
    import connectors.models  # noqa: F401  (channel tables)

    base: dict[str, object] = {"data_dir": tmp_path / "data", "database_url": f"sqlite:///{tmp_path / 'ledger.db'}",
                               "webhook_url": "http://127.0.0.1:9/hook",
                               "identity": {"trusted_authserv_ids": AUTHSERV}}
    base.update(settings)
    pipe = Pipeline(Settings(**base))  # type: ignore[arg-type]
    with unit_of_work(pipe.sm) as s:
        import_dir(s, MASTERS)
    return pipe
