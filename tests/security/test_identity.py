"""No order is approved on an identity anyone can type (intake/core/identity.py).

Each test sends the demo customer's own order (CUST-1001, EDI id NWFAB001, its ship-to and its
prices: approved on its own when it comes through the customer's EDI folder) through the door
an attacker can use, and checks that it waits for a person with a clear problem, and that the
same order through a channel that proves the sender is approved."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from connectors.edi_inbound import EdiFolderWatcher
from connectors.imap import store_mail
from intake.core.domain import Field, LineDraft, OrderDraft, Origin
from intake.core.identity import aligned, authentication_verdict, known_address
from intake.core.matching import HINT_SCORE, Catalog, match_order
from intake.core.settings import Decision
from intake.entry.api.app import create_app
from intake.service import ledger
from intake.service.catalog import load_catalog
from intake.service.db import unit_of_work
from intake.service.models import MessageRow, OutboxRow
from intake.service.pipeline import Pipeline
from intake.service.validation import decide, validate
from tests.security.trust import AUTHSERV, MASTERS, mailed, northwind_850, pipeline_with_masters

_uid = iter(range(1, 10_000))


def _mail_in(pipe: Pipeline, raw: bytes) -> dict[str, Any]:
    """Through the IMAP connector's own storing and checking (the server side is tested with Dovecot)."""
    res = store_mail(pipe, raw, mailbox="orders", uidvalidity=1, uid=next(_uid))
    assert res.outcome == "ingested", res
    (oid,) = pipe.process_message(res.message_id)  # type: ignore[arg-type]
    return _order(pipe, oid)


def _order(pipe: Pipeline, oid: str) -> dict[str, Any]:
    with pipe.sm() as s:
        row = ledger.get_order(s, oid)
        out = ledger.order_json(ledger.to_order(s, row))
        out["customer_score"] = (row.matched or {}).get("customer_score")
        out["via"] = (row.matched or {}).get("customer_via")
        out["outbox"] = s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.order_id == oid))
        return out


def _codes(order: dict[str, Any]) -> set[str]:
    return {p["code"] for p in order["problems"]}


@pytest.fixture
def pipe(tmp_path: Path) -> Pipeline:
    return pipeline_with_masters(tmp_path)


def test_a_mail_from_a_stranger_with_a_partners_edi_id_waits_for_a_person(pipe: Pipeline) -> None:
    o = _mail_in(pipe, mailed(northwind_850("PO-ATTACK-1"), sender="Orders <orders@stranger.example>"))
    assert o["status"] == "NEEDS_REVIEW" and o["outbox"] == 0, o["status"]
    # named by the printed buyer (0.95) or the file's EDI id (a hint: 0.85), never 1.00 as before
    assert o["customer_id"] == "CUST-1001" and o["customer_score"] < 1.0
    assert {"unverified_partner", "unknown_sender"} <= _codes(o)
    claim = next(p["message"] for p in o["problems"] if p["code"] == "unverified_partner")
    assert "NWFAB001" in claim
    msg = next(p["message"] for p in o["problems"] if p["code"] == "unknown_sender")
    assert "orders@stranger.example" in msg and "CUST-1001" in msg


@pytest.mark.parametrize(("headers", "approved"), [
    ([], False),  # From can be typed by anyone
    ([f"{AUTHSERV}; dkim=pass header.d=northwindfab.com; spf=pass smtp.mailfrom=buyer@northwindfab.com"], True),
    ([f"{AUTHSERV}; dmarc=pass (p=reject) header.from=northwindfab.com"], True),
    ([f"{AUTHSERV}; spf=pass smtp.mailfrom=bounce@mail.northwindfab.com"], True),  # relaxed alignment
    # the attacker writes the header himself, with another server's name
    (["mx.attacker.example; dkim=pass header.d=northwindfab.com"], False),
    # the trusted server's verdict: it passed, but for the attacker's own domain
    ([f"{AUTHSERV}; dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=x@evil.example"], False),
    ([f"{AUTHSERV}; dkim=fail header.d=northwindfab.com; spf=softfail smtp.mailfrom=buyer@northwindfab.com"], False),
    # only the topmost header of the trusted server counts: a forged pass below it does not
    ([f"{AUTHSERV}; dkim=none; spf=fail smtp.mailfrom=buyer@northwindfab.com",
      f"{AUTHSERV}; dkim=pass header.d=northwindfab.com"], False),
])
def test_a_known_sender_counts_only_when_the_receiving_server_authenticated_it(
        pipe: Pipeline, headers: list[str], approved: bool) -> None:
    po = f"PO-AUTH-{zlib.crc32(repr(headers).encode())}"
    o = _mail_in(pipe, mailed(northwind_850(po), sender="Buyer <buyer@northwindfab.com>", auth_results=headers))
    if approved:
        assert o["status"] == "APPROVED" and o["outbox"] == 1, o["problems"]
        assert o["via"] == "email_domain" and o["customer_score"] >= 0.9
    else:
        assert o["status"] == "NEEDS_REVIEW" and o["outbox"] == 0
        assert "unverified_sender" in _codes(o), o["problems"]
    with pipe.sm() as s:  # the verdict is kept on the message, for the CSR
        m = s.scalar(select(MessageRow).where(MessageRow.id == o["message_id"]))
        assert m is not None and m.from_addr == "buyer@northwindfab.com" and m.sender_verified is approved


def test_a_reply_to_or_display_name_does_not_change_who_sent_it(pipe: Pipeline) -> None:
    # From is the attacker; Reply-To and the display name claim the customer
    raw = mailed(northwind_850("PO-ATTACK-2"), sender='"buyer@northwindfab.com" <x@evil.example>',
                 reply_to="buyer@northwindfab.com",
                 auth_results=[f"{AUTHSERV}; dkim=pass header.d=evil.example"])
    o = _mail_in(pipe, raw)
    assert o["status"] == "NEEDS_REVIEW" and "unknown_sender" in _codes(o)


def test_typed_headers_and_domains_are_hints_never_enough_to_approve() -> None:
    from sqlalchemy.orm import Session

    from intake.service.db import Base, make_engine

    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        import_dir_session(s)
        catalog = load_catalog(s)
    line = LineDraft(line_no=Field.exact(1), sku=Field.exact("HN-0513-G5Z"), quantity=Field.exact(100),
                     unit_price=Field.exact(0.09))
    draft = OrderDraft(po_number=Field.exact("H-1"), lines=[line])  # no name printed: the header alone
    settings = Decision()
    for origin in (Origin(channel="upload", sender="HARBORMW"),  # X-Intake-Sender: an EDI id
                   Origin(channel="upload", sender="buyer@hmw-purchasing.com"),  # X-Intake-Sender: an address
                   Origin(channel="imap", mail=True, sender="buyer@hmw-purchasing.com")):  # an unauthenticated From
        m = match_order(draft, catalog, origin=origin)
        assert m.customer_id == "CUST-1002" and m.customer_score <= HINT_SCORE < settings.min_customer_score
        probs = validate(m, catalog, settings=settings, today=__import__("datetime").date(2026, 12, 1))
        assert "unverified_sender" in {p.code for p in probs}, (origin, probs)
        # even an admin who lowers the threshold below the hint's score gets no approval
        lowered = settings.model_copy(update={"min_customer_score": 0.5})
        assert not decide(m, validate(m, catalog, settings=lowered, today=__import__("datetime").date(2026, 12, 1)),
                          lowered)
    # the same id proven by its channel is evidence
    m = match_order(draft, catalog, origin=Origin(channel="edi_folder", trusted_partner="HARBORMW"))
    assert (m.customer_id, m.customer_via, m.customer_score) == ("CUST-1002", "edi_channel", 1.0)


def import_dir_session(s: Any) -> None:
    from intake.service.masters import import_dir

    import_dir(s, MASTERS)
    s.commit()


def _folder(pipe: Pipeline, tmp_path: Path, partner: str, name: str, data: bytes) -> dict[str, Any]:
    root = tmp_path / "edi"
    (root / partner / "in").mkdir(parents=True, exist_ok=True)
    f = root / partner / "in" / name
    f.write_bytes(data)
    import os
    import time

    os.utime(f, (time.time() - 10, time.time() - 10))
    w = EdiFolderWatcher(root, pipe, stable_s=0.0)
    got = w.scan_once() + w.scan_once()
    (res,) = got
    with pipe.sm() as s:
        (oid,) = ledger.message_order_ids(s, res.message_id)  # type: ignore[arg-type]
    pipe.advance(oid)
    return _order(pipe, oid)


def test_the_partners_own_folder_proves_it_and_the_same_order_is_approved(pipe: Pipeline, tmp_path: Path) -> None:
    o = _folder(pipe, tmp_path, "NWFAB001", "po.x12", northwind_850("PO-FOLDER-1"))
    assert o["status"] == "APPROVED" and o["outbox"] == 1, o["problems"]
    assert (o["customer_id"], o["via"], o["customer_score"]) == ("CUST-1001", "edi_channel", 1.0)


def test_a_file_in_one_partners_folder_claiming_another_partner_is_flagged(pipe: Pipeline, tmp_path: Path) -> None:
    o = _folder(pipe, tmp_path, "HARBORMW", "po.x12", northwind_850("PO-FOLDER-2"))
    assert o["status"] == "NEEDS_REVIEW" and o["outbox"] == 0
    assert o["customer_id"] == "CUST-1002"  # the channel's partner, not the one the file names
    msg = next(p["message"] for p in o["problems"] if p["code"] == "partner_mismatch")
    assert "NWFAB001" in msg and "HARBORMW" in msg


@pytest.mark.parametrize(("ship", "ok"), [
    ({"ship_code": None, "ship_name": "RECEIVING", "street": "1 HARBOUR ROAD", "city": "LAGOS", "postal": "99999"}, False),
    # the customer's name with another street number: not its address
    ({"ship_code": None, "street": "1300 INDUSTRIAL PKWY"}, False),
    # its plant with another postal code
    ({"ship_code": None, "postal": "10001"}, False),
    # its warehouse 2, printed as an address without the code: one of its ship-tos
    ({"ship_code": None, "ship_name": "NORTHWIND WAREHOUSE 2", "street": "88 COMMERCE DRIVE", "city": "SPRINGFIELD",
      "postal": "45502"}, True),
])
def test_a_ship_to_that_is_none_of_the_customers_goes_to_review(pipe: Pipeline, tmp_path: Path,
                                                                ship: dict[str, Any], ok: bool) -> None:
    po = f"PO-SHIP-{zlib.crc32(repr(sorted(ship.items())).encode())}"
    o = _folder(pipe, tmp_path, "NWFAB001", f"{po}.x12", northwind_850(po, **ship))
    if ok:
        assert o["status"] == "APPROVED", o["problems"]
    else:
        assert o["status"] == "NEEDS_REVIEW" and o["outbox"] == 0
        assert "unknown_ship_to" in _codes(o), o["problems"]


def test_an_upload_key_bound_to_the_partner_is_its_channel_an_unbound_one_is_not(tmp_path: Path) -> None:
    pipe = pipeline_with_masters(tmp_path)
    app = create_app(pipe.settings, start_workers=False)
    app.state.services.pipeline = pipe
    with unit_of_work(pipe.sm) as s:
        bound = ledger.create_api_key(s, "nwf-as2", scopes=("ingest", "read"), partner="NWFAB001")
        plain = ledger.create_api_key(s, "erp", scopes=("ingest", "read"))
    with TestClient(app) as c:
        def up(key: str, po: str, **headers: str) -> dict[str, Any]:
            r = c.post("/api/v1/messages", files={"file": ("po.edi", northwind_850(po))},
                       headers={"Authorization": f"Bearer {key}", **headers})
            assert r.status_code == 202, r.text
            (oid,) = r.json()["order_ids"]
            pipe.advance(oid)
            return _order(pipe, oid)

        o = up(plain, "PO-UP-1", **{"X-Intake-Sender": "NWFAB001"})
        assert o["status"] == "NEEDS_REVIEW" and "unverified_partner" in _codes(o)
        o = up(bound, "PO-UP-2")
        assert o["status"] == "APPROVED" and o["via"] == "edi_channel", o["problems"]


def test_authentication_results_parsing() -> None:
    ids = [AUTHSERV]
    v = authentication_verdict([f"{AUTHSERV} 1; dkim=pass (2048-bit key) header.d=Example.COM header.s=s1; "
                                "spf=pass smtp.mailfrom=example.com"], "a@example.com", ids)
    assert v.verified and "dkim=pass example.com" in (v.summary or "").lower()
    assert not authentication_verdict([f"{AUTHSERV}; dkim=pass header.d=example.com"], "a@example.com", []).verified
    assert not authentication_verdict([f"{AUTHSERV}; none"], "a@example.com", ids).verified
    # a signature of a whole TLD or a shared suffix aligns with nobody
    assert not authentication_verdict([f"{AUTHSERV}; dkim=pass header.d=com"], "a@example.com", ids).verified
    assert not aligned("co.uk", "shop.co.uk") and aligned("shop.co.uk", "mail.shop.co.uk")
    assert aligned("mail.example.com", "example.com") and not aligned("example.com.evil.test", "example.com")
    assert known_address(["northwindfab.com"], "J <j@mail.northwindfab.com>") == "domain"
    assert known_address(["buyer@x.test"], "buyer@x.test") == "address"
    assert known_address(["x.test"], "buyer@notx.test") is None
