"""Layouts learned from corrections (training/anchors.py): the caption beside or over each
corrected value reads the next document of the layout."""

from __future__ import annotations

from typing import Any

from extractors.normalize import Locale
from intake.core.domain import Field, OrderDraft, Word
from extractors.serving.anchors import apply_layouts
from extractors.serving.model_dir import read_layouts
from training.anchors import learn_layouts, write_layouts
from training.build_dataset import LabelledDoc, LabelledPage, as_document

EN = Locale(lang="en", decimal=".")


class _Page:
    """Words of one page with their labels, placed a word every 42 pt."""

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.tags: list[str] = []

    def put(self, text: str, x: float, y: float, tag: str = "O") -> None:
        for i, t in enumerate(text.split()):
            x0 = x + i * 42
            self.words.append(Word(text=t, box=(x0, y, x0 + 38, y + 9), page=0))
            self.tags.append(tag if tag == "O" or i == 0 else "I-" + tag[2:])

    def doc(self, name: str) -> LabelledDoc:
        return LabelledDoc(name, [LabelledPage(600, 800, self.words, self.tags)])


def _order(po: str, day: str, article: str, name: str, qty: tuple[str, ...], price: str,
           ship_note: str = "Sea freight") -> tuple[LabelledDoc, dict[str, Any]]:
    """A one-article apparel order: header captions on the left, the article's code and name in
    the header, its cost and quantity in a small table further down (the quantity printed with a
    space between thousands)."""
    pg = _Page()
    put, words, tags = pg.put, pg.words, pg.tags

    put("Purchase Order Store Copy", 35, 20)
    put("Acme Apparel Group", 35, 35)
    put("Order No:", 35, 60)
    put(po, 160, 60, "B-po_number")
    put("Date of Order:", 35, 75)
    put(day, 160, 75, "B-order_date")
    put("Product No:", 300, 60)
    put(article, 420, 60, "B-sku")
    put("Product Name:", 300, 75)
    put(name, 420, 75, "B-description")
    put("Terms of Delivery according to Incoterms", 35, 100)
    put(ship_note, 35, 112)
    for text, x in (("Article", 35), ("Colour", 90), ("Cost", 200), ("Qty/Article", 250)):
        put(text, x, 200)
    put("275", 35, 212)
    put("Red Dark", 90, 212)
    put(price, 200, 212, "B-unit_price")
    for k, q in enumerate(qty):  # "8 885": two words at a thin space
        words.append(Word(text=q, box=(252 + k * 12, 212, 252 + k * 12 + 10, 221), page=0))
        tags.append("B-quantity" if k == 0 else "I-quantity")
    put("Standard Purchase Conditions apply to this Order", 35, 300)
    truth = {"po_number": po, "order_date": None, "buyer": None, "supplier": None, "ship_to": None,
             "currency": None, "total": None,
             "lines": [{"line_no": 1, "sku": article, "description": name, "quantity": int("".join(qty)),
                        "unit_price": float(price), "uom": None, "amount": None}]}
    return pg.doc(f"po_{po}.pdf"), truth


def test_a_corrected_layout_reads_its_next_document_by_the_captions_it_showed(tmp_path: Any) -> None:
    first, t1 = _order("413075-5832", "10 Sep, 2025", "0685816", "RONNY RG T-SHIRT", ("8", "885"), "1.55")
    t1["order_date"] = "2025-09-10"
    layouts = learn_layouts([first], [t1])
    assert len(layouts) == 1
    lay = layouts[0]
    assert lay["single_item"] and "total" in lay["absent"]
    assert lay["anchors"]["sku"] == {"caption": "product no", "how": "right", "page": 0, "nth": 0, "of": 1}
    assert lay["anchors"]["quantity"]["how"] == "below"  # under its column heading

    write_layouts(tmp_path, layouts)
    assert read_layouts(tmp_path) == layouts

    nxt, _t = _order("448114-5832", "01 Jul, 2025", "1309319", "AUSTIN LO T-SHIRT", ("30", "051"), "1.98")
    doc = as_document(nxt)
    # what a model that never saw the layout read: the option row as an item, a count as the total
    draft = OrderDraft(po_number=Field(value="275", confidence=0.6), total=Field(value=30051.0, confidence=0.9))
    out = apply_layouts(doc, draft, layouts, EN)
    assert out.po_number.value == "448114-5832"
    assert out.order_date.value == "2025-07-01"
    assert not out.total.present  # the corrections said the layout prints no order total
    assert len(out.lines) == 1
    ln = out.lines[0]
    assert (ln.sku.value, ln.description.value, ln.quantity.value, ln.unit_price.value) == \
        ("1309319", "AUSTIN LO T-SHIRT", 30051.0, 1.98)
    assert out.meta["layout"]["learned"] is True


def test_anchors_keep_only_what_every_correction_of_the_layout_agrees_on() -> None:
    a, ta = _order("1001", "01 Jul, 2025", "111", "A", ("10",), "2.00")
    b, tb = _order("1002", "02 Jul, 2025", "222", "B", ("20",), "3.00")
    # the second correction labelled the order number under another caption
    i = b.pages[0].tags.index("B-po_number")
    b.pages[0].tags[i] = "O"
    j = next(k for k, w in enumerate(b.pages[0].words) if w.text == "Date")
    b.pages[0].tags[j] = "B-po_number"
    lay = learn_layouts([a, b], [ta, tb])
    assert len(lay) == 1 and "po_number" not in lay[0]["anchors"] and "sku" in lay[0]["anchors"]


def test_a_document_of_another_layout_is_left_as_the_model_read_it() -> None:
    first, t1 = _order("413075-5832", "10 Sep, 2025", "0685816", "RONNY", ("8", "885"), "1.55")
    layouts = learn_layouts([first], [t1])
    other = LabelledDoc("invoice.pdf", [LabelledPage(600, 800, [
        Word(text=t, box=(35 + 45 * k, 60, 75 + 45 * k, 69), page=0)
        for k, t in enumerate("Invoice Number Customer Reference Shipping Method Delivery Carrier Payment "
                              "Remittance Bank Account Order No: 555".split())], ["O"] * 16)])
    draft = OrderDraft(po_number=Field(value="INV-9", confidence=0.8))
    out = apply_layouts(as_document(other), draft, layouts, EN)
    assert out.po_number.value == "INV-9" and "layout" not in out.meta


def _invoice_like(po: str, net: str, gross: str, lines: int) -> tuple[LabelledDoc, dict[str, Any]]:
    """A table of items under column headings and two "Total" rows (net, then with tax)."""
    pg = _Page()
    put, words, tags = pg.put, pg.words, pg.tags

    put("Purchase Order from Northwind Trading Company Limited", 35, 20)
    put("PO #", 35, 50)
    put(po, 120, 50, "B-po_number")
    put("Please deliver the following goods within the agreed delivery window", 35, 70)
    for text, x in (("Part No.", 35), ("Description", 150), ("Qty", 350), ("Price", 420)):
        put(text, x, 100)
    for k in range(lines):
        put(f"AB-{100 + k}", 35, 112 + 12 * k, "B-sku")
        put(f"Widget {k}", 150, 112 + 12 * k, "B-description")
        put(str(2 + k), 350, 112 + 12 * k, "B-quantity")
        put("5.00", 420, 112 + 12 * k, "B-unit_price")
    y = 130 + 12 * lines
    put("Total", 300, y)
    put(net, 420, y)
    put("VAT 20%", 300, y + 12)
    put("Total", 300, y + 24)
    put(gross, 420, y + 24, "B-total")
    truth = {"po_number": po, "total": float(gross),
             "lines": [{"sku": f"AB-{100 + k}", "quantity": 2 + k, "unit_price": 5.0} for k in range(lines)]}
    return pg.doc(f"po_{po}.pdf"), truth


def test_a_table_order_of_one_line_is_no_one_article_layout_and_the_last_total_stays_the_last() -> None:
    first, t1 = _invoice_like("7001", "10.00", "12.00", 1)
    lay = learn_layouts([first], [t1])[0]
    assert not lay["single_item"]  # its one line stood in a table under column headings
    assert lay["anchors"]["total"]["nth"] == 1 and lay["anchors"]["total"]["of"] == 2
    nxt, _ = _invoice_like("7002", "35.00", "42.00", 3)
    draft = OrderDraft(total=Field(value=35.0, confidence=0.7))
    out = apply_layouts(as_document(nxt), draft, [lay], EN)
    assert out.po_number.value == "7002"
    assert out.total.value == 42.0  # the grand total, printed after the net one
    assert out.lines == []  # the model's lines are left alone


def test_a_value_beside_its_caption_ends_where_a_caption_the_lexicon_knows_starts() -> None:
    from extractors.assembly.engine import Change

    def order(supplier: str, words_after: str) -> tuple[LabelledDoc, dict[str, Any]]:
        pg = _Page()
        pg.put("Purchase Order", 35, 20)
        pg.put("Order No:", 35, 60)
        pg.put("PO-7788", 160, 60, "B-po_number")
        pg.put("Supplier:", 35, 80)
        pg.put(supplier, 160, 80, "B-supplier")
        # the supplier's name runs on into the next caption of the row, no colon between
        pg.put(words_after, 160 + 42 * len(supplier.split()), 80)
        pg.put("Please deliver within the agreed window to the usual address", 35, 120)
        return pg.doc("po.pdf"), {"po_number": "PO-7788", "supplier": supplier, "lines": []}

    first, t1 = order("Acme Tools Ltd", "")
    lay = learn_layouts([first], [t1])
    assert lay[0]["anchors"]["supplier"]["caption"] == "supplier"
    nxt, _ = order("Northwind Trading", "Order Date 12.03.2026")
    trace: list[Change] = []
    out = apply_layouts(as_document(nxt), OrderDraft(), lay, EN, trace=trace)
    assert out.supplier.value == "Northwind Trading"
    assert any(c.step == "learned_layout" and c.target == "supplier" and c.after.startswith("Northwind Trading")
               for c in trace)
