"""What the order page says about values: dates, plausibility checks, problems in words, and
what an edit does (a date typed half-way, an amount that follows, a customer by name)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from intake.core.domain import Field, LineDraft, MatchedOrder, OrderDraft
from intake.core.matching import Catalog, match_order
from intake.core.settings import Decision
from intake.service.catalog import load_catalog
from intake.service.db import Base, make_engine
from intake.service.masters import MASTER_TABLES, import_masters
from review_ui.checks import date_view, plausible_terms, value_checks
from review_ui.editing import EditError, apply_ops, parse_value
from review_ui.problems import group_problems, queue_groups
from review_ui.views import order_state

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "masters"
TODAY = date(2026, 12, 4)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    eng = make_engine("sqlite://")
    Base.metadata.create_all(eng, tables=[t.__table__ for t in MASTER_TABLES])
    with Session(eng) as s:
        import_masters(s, DEMO, replace=True)
        s.commit()
        return load_catalog(s)


def f(v: object, conf: float = 0.9, raw: str | None = None) -> Field:
    return Field(value=v, raw=raw if raw is not None else (None if v is None else str(v)), confidence=conf)


@pytest.mark.parametrize(("terms", "plausible"), [
    ("Net 30", True), ("2% 10 days, net 30", True), ("60 DAYS", True), ("30 jours fin de mois", True),
    ("N30", True), ("Zahlbar sofort ohne Abzug", True), ("Prepaid", True), ("2/10 n30", True),
    ("558", False), ("Demo", False), ("Junction Moosapet", False), ("Net 558 days", False), ("0439 0142", False),
    ("21g", False),
])
def test_payment_terms_plausibility(terms: str, plausible: bool) -> None:
    ok, why = plausible_terms(terms)
    assert ok is plausible, (terms, why)
    assert ok or why  # a refusal says why


def test_a_date_shows_iso_spelt_out_as_printed_and_its_other_reading() -> None:
    dv = date_view(f("2026-11-09", 0.9, "11/09/2026"), None)
    assert (dv.iso, dv.long, dv.printed, dv.alt, dv.settled) == ("2026-11-09", "Mon 9 Nov 2026", "11/09/2026",
                                                                 "2026-09-11", False)
    assert date_view(f("2026-11-09", 0.9, "11/09/2026"), True).settled  # the document's locale settles it
    assert date_view(f("2026-11-09", 1.0, "11/09/2026"), None).settled  # a person confirmed it
    assert date_view(f("2026-11-28", 1.0, "20261128"), None).alt == ""  # nothing to swap
    assert date_view(f("2026-11-13", 0.9, "13/11/2026"), None).alt == ""  # 13 is no month
    assert date_view(f("2026-09-20", 0.9, "20 Sep 2026"), None).printed == "20 Sep 2026"


def test_checks_question_dates_terms_and_unsure_values() -> None:
    d = OrderDraft(po_number=f("P1", 0.98), order_date=f("2026-11-06", 0.9, "11/06/2026"),
                   requested_date=f("2026-09-20", 0.97, "20 Sep 2026"), payment_terms=f("558", 0.89),
                   buyer=f("Someone", 0.8), lines=[LineDraft(requested_date=f("2026-10-01", 0.95))],
                   meta={"locale": {"dayfirst": None}})
    m = MatchedOrder(draft=d, lines=[], masters_loaded=False)
    checks = value_checks(m, [], Decision(), today=TODAY)
    by = {(c["code"], c["key"]): c for c in checks}
    order = by[("date_order", "h.order_date")]
    assert "after the requested date" in order["message"]
    assert order["fixes"][0]["ops"] == [{"op": "set", "field": "order_date", "value": "2026-06-11"}]
    assert ("implausible_terms", "h.payment_terms") in by
    assert ("low_read", "h.payment_terms") not in by  # said once, with its reason
    assert ("low_read", "h.buyer") in by
    assert ("date_order", "l.0.requested_date") in by  # a line wanted before the order was placed
    # a value a person confirmed is not questioned again
    d.payment_terms = f("558", 1.0)
    d.buyer = f("Someone", 1.0)
    again = {(c["code"], c["key"]) for c in value_checks(m, [], Decision(), today=TODAY)}
    assert ("implausible_terms", "h.payment_terms") not in again and ("low_read", "h.buyer") not in again
    # a year far from today (typed half-way, misread) is questioned
    d.order_date = f("0202-06-11", 0.9)
    assert ("implausible_date", "h.order_date") in {(c["code"], c["key"]) for c in
                                                    value_checks(m, [], Decision(), today=TODAY)}


def test_problems_are_grouped_in_words_with_fixes_and_a_bulk_action(catalog: Catalog) -> None:
    d = OrderDraft(po_number=f("P2", 1.0), order_date=f("2026-06-01", 1.0),
                   lines=[LineDraft(line_no=f(1, 1.0), sku=f("HB-0513-200-G5Z", 1.0), quantity=f(100, 1.0),
                                    unit_price=f(0.42, 1.0), amount=f(42.0, 1.0)),
                          LineDraft(line_no=f(2, 1.0), sku=f("HN-0513-G5Z", 1.0), quantity=f(100, 1.0),
                                    unit_price=f(0.10, 1.0), amount=f(10.0, 1.0))])
    m = match_order(d, catalog, sender="buyer@northwindfab.com")
    from intake.service.validation import validate

    problems = [p.model_dump(mode="json") for p in validate(m, catalog, settings=Decision(), today=TODAY)]
    assert [p["code"] for p in problems].count("price_mismatch") == 2
    groups = group_problems(problems, [], m, catalog, today=TODAY)
    (price,) = [g for g in groups if g["code"] == "price_mismatch"]
    assert price["title"] == "2 lines: the price differs from the customer's price" and price["count"] == 2
    assert [e["where"] for e in price["entries"]] == ["line 1", "line 2"]
    assert not any(e["message"].startswith("line") for e in price["entries"])
    assert price["bulk"]["label"] == "Accept the customer price for all 2 lines"
    assert price["bulk"]["ops"] == [{"op": "set", "line": 0, "field": "unit_price", "value": 0.38},
                                    {"op": "set", "line": 1, "field": "unit_price", "value": 0.08}]
    chips = queue_groups(problems)
    assert [(c["title"], c["n"]) for c in chips if c["code"] == "price_mismatch"] == [("Price differs", 2)]
    # the whole state of the page, as the template and the script get it
    st = order_state(m, {}, problems, Decision(), catalog=catalog, today=TODAY)
    assert st["customer"]["name"] == "Northwind Fabrication Inc." and st["score"]["score"] is not None
    assert st["header"]["h.order_date"]["date"]["long"] == "Mon 1 Jun 2026"


@pytest.mark.parametrize("typed", ["0002-06-30", "0020-06-30", "203-06-30", "2030-06", "2030-02-30", "30/06/2030"])
def test_a_date_typed_half_way_is_refused(typed: str) -> None:
    with pytest.raises(EditError, match="YYYY-MM-DD"):
        parse_value("requested_date", typed)


def test_a_whole_date_is_taken_in_iso_form() -> None:
    assert parse_value("order_date", "2030-6-3") == "2030-06-03"
    assert parse_value("order_date", "20300603") == "2030-06-03"


def _one_line(amount: float | None) -> MatchedOrder:
    d = OrderDraft(po_number=f("P3", 1.0), lines=[LineDraft(line_no=f(1), sku=f("X-1"), quantity=f(10),
                                                            unit_price=f(2.5), amount=f(amount))])
    return MatchedOrder(draft=d, lines=[], masters_loaded=False)


def test_an_amount_follows_quantity_and_price_only_when_it_added_up() -> None:
    m = _one_line(25.0)
    changes = apply_ops(m, [{"op": "set", "line": 0, "field": "quantity", "value": "12"}], None)
    assert [(c.field, c.old, c.new, c.data["op"]) for c in changes] == [
        ("lines[1].quantity", 10, 12, "set"), ("lines[1].amount", 25.0, 30, "derived")]
    assert m.draft.lines[0].amount.value == 30
    apply_ops(m, [{"op": "set", "line": 0, "field": "unit_price", "value": "2.45"}], None)
    assert m.draft.lines[0].amount.value == 29.4
    # a printed amount that did not add up stays: the CSR is fixing the misread
    m = _one_line(30.0)
    changes = apply_ops(m, [{"op": "set", "line": 0, "field": "quantity", "value": "12"}], None)
    assert [c.field for c in changes] == ["lines[1].quantity"] and m.draft.lines[0].amount.value == 30.0
    # no printed amount: nothing to follow
    m = _one_line(None)
    assert len(apply_ops(m, [{"op": "set", "line": 0, "field": "quantity", "value": "12"}], None)) == 1


def test_a_customer_is_taken_by_its_name_and_a_vague_name_is_refused_with_choices(catalog: Catalog) -> None:
    m = _one_line(25.0)
    m.masters_loaded = True
    (c,) = apply_ops(m, [{"op": "set", "field": "customer_id", "value": "Harbor Machine Works LLC"}], catalog)
    assert (c.field, c.new, m.customer_id) == ("customer_id", "CUST-1002", "CUST-1002")
    with pytest.raises(EditError, match="no customer named"):
        apply_ops(m, [{"op": "set", "field": "customer_id", "value": "Nobody Such"}], catalog)
    with pytest.raises(EditError, match="is not one customer: pick one of"):
        apply_ops(m, [{"op": "set", "field": "customer_id", "value": "fab"}], catalog)
    assert m.customer_id == "CUST-1002"
