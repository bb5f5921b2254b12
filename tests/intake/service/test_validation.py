"""Validation problems and the auto-approve decision."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from intake.core.domain import Field, LineDraft, MatchedOrder, OrderDraft, Origin, Problem
from intake.core.matching import Catalog, match_order
from intake.core.settings import Decision
from intake.service.catalog import load_catalog
from intake.service.db import Base, make_engine
from intake.service.masters import MASTER_TABLES, import_masters
from intake.service.validation import decide, validate

ROOT = Path(__file__).resolve().parents[3]
TODAY = date(2026, 10, 1)
SETTINGS = Decision()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    eng = make_engine("sqlite://")
    Base.metadata.create_all(eng, tables=[t.__table__ for t in MASTER_TABLES])
    with Session(eng) as s:
        import_masters(s, ROOT / "fixtures" / "masters", replace=True)
        cat = load_catalog(s)
    eng.dispose()
    return cat


def ln(no: int, *, sku: str | None = None, desc: str | None = None, qty: float | None = 1, uom: str | None = None,
       price: float | None = None, amount: float | None = None, conf: float = 1.0) -> LineDraft:
    def f(v: object) -> Field:
        return Field(value=v, raw=None if v is None else str(v), confidence=conf)

    return LineDraft(line_no=f(no), sku=f(sku), description=f(desc), quantity=f(qty), uom=f(uom),
                     unit_price=f(price), amount=f(amount))


def order(*lines: LineDraft, po: str = "PO-1", total: float | None = None, requested: str | None = None,
          order_date: str = "2026-09-30", sender: str = "buyer@northwindfab.com") -> OrderDraft:
    return OrderDraft(po_number=Field.exact(po), total=Field.exact(total), requested_date=Field.exact(requested),
                      order_date=Field.exact(order_date), lines=list(lines), sender=sender)


def run(catalog: Catalog | None, draft: OrderDraft, existing=None) -> tuple[MatchedOrder, list[Problem], bool]:  # type: ignore[no-untyped-def]
    # a mail whose sender the receiving server authenticated (identity rules: tests/security/test_identity.py)
    origin = Origin(channel="imap", mail=True, sender=draft.sender, sender_verified=True)
    m = match_order(draft, catalog or Catalog(), origin=origin)
    probs = validate(m, catalog, settings=SETTINGS, today=TODAY, existing_po=existing)
    return m, probs, decide(m, probs, SETTINGS)


def codes(probs: list[Problem]) -> set[str]:
    return {p.code for p in probs}


def test_clean_order_is_approved(catalog: Catalog) -> None:
    # 2 boxes of 50 at the customer's price 0.38/EA = 19.00 per box; 100 nuts at 0.08
    draft = order(ln(1, sku="NW-778812", qty=2, uom="BX", price=19.0, amount=38.0),
                  ln(2, sku="NW-778900", qty=100, uom="EA", price=0.08, amount=8.0),
                  total=46.0, requested="2026-10-15")
    m, probs, ok = run(catalog, draft, existing=lambda c, p: False)
    assert probs == [] and ok
    assert m.lines[0].quantity == 100 and m.lines[0].unit_price == pytest.approx(0.38)


def test_price_against_customer_price_then_list_price(catalog: Catalog) -> None:
    # customer price 0.38 (list 0.42): 0.42 is off for this customer
    _, probs, ok = run(catalog, order(ln(1, sku="HB-0513-200-G5Z", qty=100, price=0.42)))
    assert codes(probs) == {"price_mismatch"} and "customer price 0.38" in probs[0].message and not ok
    # no customer price for the 3" bolt: list price 0.55 applies, 0.56 is within 2 %
    _, probs, _ = run(catalog, order(ln(1, sku="HB-0513-300-G5Z", qty=100, price=0.56)))
    assert probs == []
    # the customer price is valid from 2026-07-01 for CUST-1004 only: an order dated June uses the list price
    d = order(ln(1, sku="GSD-PAPER-A4", qty=5, price=3.95), sender="x@greenfield-sd.org", order_date="2026-06-15")
    _, probs, _ = run(catalog, d)
    assert codes(probs) == {"price_mismatch"} and "list price 4.20" in probs[0].message
    d = order(ln(1, sku="GSD-PAPER-A4", qty=5, price=3.95), sender="x@greenfield-sd.org", order_date="2026-08-15")
    assert run(catalog, d)[1] == []


def test_amounts_total_min_qty_dates(catalog: Catalog) -> None:
    draft = order(ln(1, sku="HN-0513-G5Z", qty=10, price=0.08, amount=8.0),  # 10 x 0.08 = 0.80
                  total=99.0, requested="2026-09-01")
    _, probs, ok = run(catalog, draft)
    assert codes(probs) == {"amount_mismatch", "total_mismatch", "below_min_qty", "date_in_past"}
    assert not ok
    below = next(p for p in probs if p.code == "below_min_qty")
    assert below.line == 1 and "minimum order quantity 100" in below.message


def test_uom_problems(catalog: Catalog) -> None:
    _, probs, ok = run(catalog, order(ln(1, sku="HN-0513-G5Z", qty=1, uom="wheelbarrow")))
    assert "uom_unknown" in codes(probs) and not ok
    _, probs, _ = run(catalog, order(ln(1, sku="HN-0513-G5Z", qty=1, uom="KG")))
    assert "uom_unknown" in codes(probs) and "cannot convert KG" in probs[0].message
    _, probs, _ = run(catalog, order(ln(1, sku="HN-0513-G5Z", qty=1, uom="case")))  # CA=1000
    assert probs == []


def test_duplicate_po_uses_the_callback(catalog: Catalog) -> None:
    seen: list[tuple[str | None, str]] = []

    def existing(cid: str | None, po: str) -> bool:
        seen.append((cid, po))
        return po == "PO-7"

    _, probs, ok = run(catalog, order(ln(1, sku="NW-778812", qty=100, price=0.38), po="PO-7"), existing)
    assert codes(probs) == {"duplicate_po"} and not ok
    assert seen == [("CUST-1001", "PO-7")]


def test_discontinued_unknown_and_ambiguous(catalog: Catalog) -> None:
    draft = order(ln(1, sku="AN-038-WDG", qty=1),
                  ln(2, desc="garden hose 25 m green", qty=1),
                  ln(3, desc="hex bolt 1/2-13 zinc", qty=100))
    m, probs, ok = run(catalog, draft)
    by_line = {p.line: p for p in probs}
    assert by_line[1].code == "discontinued" and "replaced by AN-038-WDG2" in by_line[1].message
    assert by_line[2].code == "unknown_sku"
    assert by_line[3].code in ("ambiguous_sku", "low_match_score")
    assert not ok and m.lines[2].score < SETTINGS.min_line_match_score


def test_unknown_customer_blocks_approval(catalog: Catalog) -> None:
    _, probs, ok = run(catalog, order(ln(1, sku="HN-0513-G5Z", qty=100), sender="someone@unknown.example"))
    assert codes(probs) == {"unknown_customer"} and not ok


def test_low_extraction_confidence_blocks_approval(catalog: Catalog) -> None:
    _, probs, ok = run(catalog, order(ln(1, sku="NW-778900", qty=100, conf=0.5)))
    assert probs == [] and not ok


def test_without_master_data_only_the_document_is_checked() -> None:
    draft = order(ln(1, sku="ANY-1", qty=2, price=5.0, amount=10.0), total=10.0, requested="2026-12-01")
    m, probs, ok = run(None, draft)
    assert not m.masters_loaded and probs == [] and ok
    bad = order(ln(1, sku="ANY-1", qty=2, price=5.0, amount=11.0), total=10.0)
    _, probs, ok = run(None, bad)
    assert codes(probs) == {"amount_mismatch", "total_mismatch"} and not ok
    _, probs, ok = run(None, order())
    assert codes(probs) == {"no_lines"} and not ok


def test_warning_does_not_block() -> None:
    m, probs, ok = run(None, order(ln(1, sku="ANY-1", qty=2, uom="wheelbarrows")))
    assert [(p.code, p.severity) for p in probs] == [("uom_unknown", "warning")] and ok


# ---------------------------------------------------------------- order history: qty_outlier


@pytest.mark.parametrize(("qty", "past", "flagged"), [
    (10, [2, 1, 2, 1, 1, 1], True),  # a typo for 1: far above max(3 x 1, 2 x 2)
    (4, [2, 1, 2, 1, 1, 1], False),  # 2 x the largest: a big order, not an odd one
    (5, [2, 1, 2, 1, 1, 1], False),  # = 2.5 x the largest: not above it
    (6, [2, 1, 2, 1, 1, 1], True),
    (340, [51, 42, 51, 17, 42, 26], True),
    (99, [132, 50, 66, 66, 132, 50], False),  # a customer whose orders vary a lot
    (199, [50, 50, 66, 66, 132], False),  # above 3 x median (198) but not above 2.5 x the largest (330)
    (331, [50, 50, 66, 66, 132], True),
    (1000, [10, 12], False),  # fewer than 3 past orders: no judgement
    (1000, [], False),
])
def test_qty_outlier_rule(qty: float, past: list[float], flagged: bool) -> None:
    from intake.service.validation import qty_outlier

    assert qty_outlier(qty, past) is flagged


@pytest.fixture(scope="module")
def history_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    import shutil

    folder = tmp_path_factory.mktemp("h") / "masters"
    shutil.copytree(ROOT / "fixtures" / "masters", folder)
    # CUST-1001 bought 1/2-13 nuts four times (EA): median 250, largest 400 -> above 1000 is odd
    (folder / "order_history.csv").write_text(
        "customer_id,sku,quantity,order_date\n"
        "CUST-1001,HN-0513-G5Z,200,2026-03-01\nCUST-1001,HN-0513-G5Z,300,2026-04-01\n"
        "CUST-1001,HN-0513-G5Z,200,2026-05-01\nCUST-1001,HN-0513-G5Z,400,2026-06-01\n"
        "CUST-1001,FW-050-ZP,100,\nCUST-1001,FW-050-ZP,100,\n", encoding="utf-8")
    eng = make_engine("sqlite://")
    Base.metadata.create_all(eng, tables=[t.__table__ for t in MASTER_TABLES])
    with Session(eng) as s:
        import_masters(s, folder, replace=True)
        cat = load_catalog(s)
    eng.dispose()
    return cat


def test_qty_outlier_sends_the_order_to_review(history_catalog: Catalog) -> None:
    # the usual quantity: approved as before
    m, probs, ok = run(history_catalog, order(ln(1, sku="NW-778900", qty=300, price=0.08)))
    assert probs == [] and ok
    # 1000 is exactly 2.5 x the largest past order: still usual
    _, probs, ok = run(history_catalog, order(ln(1, sku="NW-778900", qty=1000, price=0.08)))
    assert probs == [] and ok
    # 3000: a warning that names the history, and the order goes to a person
    _, probs, ok = run(history_catalog, order(ln(1, sku="NW-778900", qty=3000, price=0.08)))
    assert [(p.code, p.severity, p.line, p.field) for p in probs] == [("qty_outlier", "warning", 1, "quantity")]
    assert "median 250" in probs[0].message and "4 past orders" in probs[0].message and not ok
    # judged in the product's unit: 20 boxes of 100 = 2000 EA
    m, probs, ok = run(history_catalog, order(ln(1, sku="NW-778900", qty=20, uom="BX", price=8.0)))
    assert m.lines[0].quantity == 2000 and {p.code for p in probs} == {"qty_outlier"} and not ok
    # two past orders of the washers: too few to judge
    _, probs, ok = run(history_catalog, order(ln(1, sku="NW-778950", qty=5000, price=0.04)))
    assert "qty_outlier" not in {p.code for p in probs}
    # another customer's habits do not count
    d = order(ln(1, sku="HN-0513-G5Z", qty=3000, price=0.09), sender="buyer@hmw-purchasing.com")
    assert "qty_outlier" not in {p.code for p in run(history_catalog, d)[1]}


def test_qty_outlier_counts_the_ledgers_approved_orders(tmp_path: Path) -> None:
    import uuid

    import intake.service.models  # noqa: F401 - the ledger tables
    from intake.service.models import MessageRow, OrderRow

    eng = make_engine(f"sqlite:///{tmp_path / 'l.db'}")
    Base.metadata.create_all(eng)
    with Session(eng) as s:
        import_masters(s, ROOT / "fixtures" / "masters")
        s.commit()
        cat = load_catalog(s)
        for i, q in enumerate((20, 30, 25)):
            mid = str(uuid.uuid4())
            s.add(MessageRow(id=mid, sha256=uuid.uuid4().hex * 2, size=1))
            s.flush()
            s.add(OrderRow(id=str(uuid.uuid4()), message_id=mid, status="APPROVED", customer_id="CUST-1004",
                           po_number=f"G-{i}", record={"lines": [{"sku": "BP-BLU-12", "quantity": q}]}))
        s.commit()
    d = order(ln(1, sku="GSD-PEN-BLUE", qty=200), sender="x@greenfield-sd.org", po="G-9")
    _, probs, ok = run(cat, d)
    assert {p.code for p in probs} == {"qty_outlier"} and not ok
    _, probs, ok = run(cat, order(ln(1, sku="GSD-PEN-BLUE", qty=40), sender="x@greenfield-sd.org", po="G-9"))
    assert probs == [] and ok
    eng.dispose()


def test_decision_score_is_the_weakest_score_and_names_what_is_missing(catalog: Catalog) -> None:
    from intake.service.decide import decision_score

    d = OrderDraft(po_number=Field(value="PO-1", confidence=0.98),
                   lines=[LineDraft(sku=Field(value="HB-0513-200-G5Z", confidence=0.95),
                                    quantity=Field(value=100, confidence=0.93)),
                          LineDraft(description=Field(value="something nobody sells", confidence=0.97),
                                    quantity=Field(value=1, confidence=0.97))])
    m = match_order(d, catalog, sender="buyer@northwindfab.com")
    ds = decision_score(m)
    assert ds.read == 0.93 and ds.customer == m.customer_score and ds.customer is not None
    assert ds.products == m.lines[0].score and m.lines[1].sku is None
    assert ds.score == min(0.93, ds.customer, ds.products)
    assert ds.missing == ("1 product",)
    # nobody identified: no customer score at all, not a 0 that hides how well it was read
    stranger = match_order(d, catalog, sender="someone@unknown.example")
    s2 = decision_score(stranger)
    assert stranger.customer_id is None and s2.customer is None and "customer" in s2.missing
    assert s2.score is not None and s2.score > 0
    # without master data the score is the reading alone
    plain = MatchedOrder(draft=d, lines=[], masters_loaded=False)
    assert decision_score(plain).score == 0.93 and decision_score(plain).missing == ()
