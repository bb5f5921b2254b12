"""Assembly of labelled words into an OrderDraft: header spans, rows, wrapped descriptions,
tables continued across pages."""

from __future__ import annotations

import numpy as np
import pytest

from extractors.assemble import assemble, visual_rows
from extractors.normalize import Locale
from intake.core.domain import Word
from extractors.serving.features import ID2LABEL, LABEL2ID


class Sheet:
    """Words with the tag a perfect model would give them (probability 0.9 on the tag)."""

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.tags: list[str] = []

    def put(self, text: str, x: float, y: float, tag: str = "O", page: int = 0) -> None:
        for i, t in enumerate(text.split()):
            x0 = x + i * 40
            self.words.append(Word(text=t, box=(x0, y, x0 + 35, y + 9), page=page))
            self.tags.append(tag if i == 0 or tag == "O" else "I-" + tag[2:])

    def word(self, text: str, x: float, y: float, tag: str = "O", conf: float | None = None) -> None:
        """One word, as given (OCR words carry a ``conf``)."""
        self.words.append(Word(text=text, box=(x, y, x + 35, y + 9), page=0, conf=conf))
        self.tags.append(tag)

    def probs(self) -> np.ndarray:
        p = np.full((len(self.words), len(ID2LABEL)), 0.1 / (len(ID2LABEL) - 1))
        for k, t in enumerate(self.tags):
            p[k, LABEL2ID[t]] = 0.9
        return p


def test_header_fields_and_multiline_block() -> None:
    s = Sheet()
    s.put("Purchase Order", 300, 20)
    s.put("PO No:", 300, 40)
    s.put("4500012345", 360, 40, "B-po_number")
    s.put("Date:", 300, 55)
    s.put("12.03.2026", 360, 55, "B-order_date")
    s.put("Ship to:", 20, 100)
    s.put("Acme Warehouse", 20, 115, "B-ship_to")
    s.put("Dock 4", 20, 127, "I-ship_to")
    s.put("Berlin", 20, 139, "I-ship_to")
    s.put("Total EUR", 300, 400)
    s.put("1.234,50", 400, 400, "B-total")
    s.put("EUR", 460, 400, "B-currency")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("de", decimal=","))
    assert d.po_number.value == "4500012345"
    assert d.order_date.value == "2026-03-12"
    assert d.ship_to.value == "Acme Warehouse, Dock 4, Berlin"
    assert d.total.value == pytest.approx(1234.5)
    assert d.currency.value == "EUR"
    assert 0.0 < d.po_number.confidence <= 1.0
    assert d.po_number.source and d.po_number.source[0].box[0] == 360
    assert not d.buyer.present


def _row(s: Sheet, y: float, sku: str, desc: str, qty: str, price: str, amount: str, page: int = 0,
         first: bool = True) -> None:
    s.put(sku, 20, y, "B-sku", page)
    s.put(desc, 120, y, "B-description" if first else "I-description", page)
    s.put(qty, 400, y, "B-quantity", page)
    s.put(price, 450, y, "B-unit_price", page)
    s.put(amount, 510, y, "B-amount", page)


def test_lines_with_wrapped_description_and_page_break() -> None:
    s = Sheet()
    s.put("Item Description Qty Price Amount", 20, 180)  # table header: O
    _row(s, 200, "AB-100", "Steel bolt", "10", "1.50", "15.00")
    s.put("zinc plated", 120, 212, "I-description")  # wrapped description
    _row(s, 230, "AB-200", "Nut", "5", "0.20", "1.00")
    s.put("Carried forward 16.00", 300, 700)  # carried total: O
    s.put("Item Description Qty Price Amount", 20, 40, page=1)  # repeated header on page 2
    s.put("Brought forward 16.00", 300, 55, page=1)
    _row(s, 80, "CD-300", "Washer", "100", "0.05", "5.00", page=1)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en", decimal="."))
    assert [ln.sku.value for ln in d.lines] == ["AB-100", "AB-200", "CD-300"]
    assert d.lines[0].description.value == "Steel bolt zinc plated"
    assert [ln.quantity.value for ln in d.lines] == [10, 5, 100]
    assert d.lines[2].unit_price.value == pytest.approx(0.05)
    assert all(0 < ln.confidence <= 1 for ln in d.lines)


def test_carried_total_tagged_as_amount_is_dropped() -> None:
    s = Sheet()
    _row(s, 200, "AB-100", "Steel bolt", "10", "1.50", "15.00")
    _row(s, 220, "AB-200", "Nut", "5", "0.20", "1.00")
    s.put("16.00", 510, 700, "B-amount")  # a model that tagged the carried total
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en", decimal="."))
    assert len(d.lines) == 2


def test_visual_rows_group_by_vertical_overlap() -> None:
    w = [Word(text="a", box=(0, 10, 5, 20)), Word(text="b", box=(50, 11, 60, 21)),
         Word(text="c", box=(0, 30, 5, 40)), Word(text="d", box=(0, 10, 5, 20), page=1)]
    assert visual_rows(w) == [[0, 1], [2], [3]]


def test_mismatched_probabilities_are_refused() -> None:
    with pytest.raises(ValueError):
        assemble([Word(text="a", box=(0, 0, 1, 1))], np.zeros((2, len(ID2LABEL))), ID2LABEL)


def test_two_columns_tagged_as_one_number_keep_the_likelier() -> None:
    s = Sheet()
    _row(s, 200, "AB-100", "Steel bolt", "10", "1.50", "15.00")
    # The model also tags the amount column as a unit price, less surely.
    k = len(s.words) - 1
    s.tags[k] = "B-unit_price"
    p = s.probs()
    p[k, LABEL2ID["B-unit_price"]] = 0.5
    d = assemble(s.words, p, ID2LABEL, Locale("en", decimal="."))
    assert d.lines[0].unit_price.value == pytest.approx(1.5)


def test_number_split_by_thin_space_is_one_value() -> None:
    s = Sheet()
    s.words.append(Word(text="1", box=(400, 500, 405, 509)))
    s.tags.append("B-total")
    s.words.append(Word(text="234,50", box=(407, 500, 430, 509)))
    s.tags.append("I-total")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("fr", decimal=","))
    assert d.total.value == pytest.approx(1234.5)


def test_side_by_side_party_blocks_are_not_mixed() -> None:
    # Three address blocks in three columns; the model tags some words of the middle block
    # with its neighbour's field. Each block must come out whole, one field per block.
    s = Sheet()
    blocks = {"buyer": (40, ["Brightline Corp", "72 Harbor Way", "Springfield"]),
              "supplier": (220, ["Polaris Foods", "192 Commerce Drive", "Austin"]),
              "ship_to": (400, ["Falcon Supply", "80 Parkway", "Columbus"])}
    for f, (x, rows) in blocks.items():
        for r, text in enumerate(rows):
            s.put(text, x, 140 + 12 * r, ("B-" if r == 0 else "I-") + f)
    wrong = [k for k, w in enumerate(s.words) if w.text in ("Commerce", "Drive", "Austin")]
    for k in wrong:
        s.tags[k] = "I-ship_to"  # mistaken for the ship-to
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en"))
    # parties are named by name; the block, row by row, stays in raw for matching and review
    assert d.buyer.value == "Brightline Corp" and d.buyer.raw.split("\n") == ["Brightline Corp", "72 Harbor Way", "Springfield"]
    assert d.supplier.value == "Polaris Foods" and d.supplier.raw.split("\n") == ["Polaris Foods", "192 Commerce Drive", "Austin"]
    assert d.ship_to.value == "Falcon Supply, 80 Parkway, Columbus"


def test_a_code_wrapped_in_its_cell_is_joined() -> None:
    s = Sheet()
    s.put("ES1323-", 20, 110, "B-sku")
    s.put("Valve", 100, 110, "B-description")
    s.put("4", 300, 110, "B-quantity")
    s.put("9.90", 400, 110, "B-unit_price")
    s.put("XOP-9791", 20, 121)  # the rest of the code, one row down in the same cell, untagged
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.lines[0].sku.value == "ES1323-XOP-9791"


def test_a_description_keeps_its_brand_and_its_numbers() -> None:
    s = Sheet()
    for k, (brand, rest, size, qty) in enumerate([("Esselte", "arch file", "50mm", "26"), ("Leitz", "lever file", "80mm", "16"),
                                                   ("Bic", "ballpen blue", "0.7", "3")]):
        y = 110 + k * 15
        s.put(brand, 20, y)  # the model left the brand untagged
        s.put(rest, 60, y, "B-description")
        s.put(size, 140, y, "B-quantity")  # and took a number in the wording for the quantity
        s.put(qty, 300, y, "B-quantity")
        s.put("2.50", 400, y, "B-unit_price")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [ln.description.value for ln in d.lines] == [
        "Esselte arch file 50mm", "Leitz lever file 80mm", "Bic ballpen blue 0.7"]
    assert [ln.quantity.value for ln in d.lines] == [26, 16, 3]


def test_captions_name_the_order_number_date_and_total_the_model_missed_or_mistook() -> None:
    s = Sheet()
    s.put("Incoterms", 300, 20, "B-po_number")  # the model's wrong order number
    s.put("Order", 20, 20)
    s.put("N°", 60, 20)
    s.put("SO008", 100, 20)
    s.put("PO Date", 20, 40)
    s.put("11.12.2025", 20, 52)  # the value under its caption
    s.put("Grand Total", 20, 200)
    s.put("1,857.00", 300, 200)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.po_number.value == "SO008" and 0.8 < d.po_number.confidence < 0.95
    assert d.order_date.value == "2025-12-11"
    assert d.total.value == 1857.0


def test_a_caption_followed_by_a_separate_colon_still_names_its_value() -> None:
    s = Sheet()
    s.put("N° de commande", 20, 20)
    s.put(":", 140, 20)
    s.put("2026/4353", 200, 20, "B-order_date")  # the model took the order number for a date
    s.put("Date de commande", 20, 32)
    s.put(":", 140, 32)
    s.put("10/07/2026", 200, 32, "B-requested_date")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="fr", decimal=",", dayfirst=True))
    assert d.po_number.value == "2026/4353"
    assert d.order_date.value == "2026-07-10"


def test_currency_and_payment_terms_captions() -> None:
    s = Sheet()
    s.put("Terms:", 20, 20)
    s.put("Net", 100, 20)
    s.put("45", 140, 20, "B-payment_terms")  # the model took half the terms
    s.put("Währung:", 20, 32)
    s.put("PLN", 100, 32, "B-payment_terms")  # ... and the currency for terms
    s.put("Pago:", 300, 20)
    s.put("Terms and conditions apply", 20, 300)  # a sentence, not a caption
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.payment_terms.value == "Net 45" and d.currency.value == "PLN"

    s = Sheet()
    s.put("Sofort ohne Abzug", 20, 20, "B-bill_to")  # terms under their caption, read as a party
    s.put("Zahlungsbedingungen:", 20, 8)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="de", decimal=",", dayfirst=True))
    assert d.payment_terms.value == "Sofort ohne Abzug"
    assert not d.bill_to.present

    s = Sheet()
    s.put("Terms and conditions apply", 20, 300)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.payment_terms.present


def test_a_caption_above_a_block_names_the_party() -> None:
    s = Sheet()
    s.put("Ship", 20, 20)
    s.put("to:", 60, 20)
    s.put("Acme", 20, 32, "B-supplier")  # the model read the delivery block as the supplier
    s.put("Berlin", 20, 43, "I-supplier")
    s.put("Vendor:", 300, 20)
    s.put("Widgets", 300, 32, "B-ship_to")
    s.put("Bremen", 300, 43, "I-ship_to")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.ship_to.value == "Acme, Berlin"
    assert d.supplier.value == "Widgets"


def test_a_caption_left_of_a_block_reads_the_block_whole() -> None:
    s = Sheet()
    s.put("Ship To", 20, 20)
    s.put("Avenue Supermarts Ltd.", 120, 20, "B-ship_to")  # the model tagged the first row only
    s.put("PSR DMart", 120, 32)
    s.put("Village Adjacent To Hero", 120, 44)
    s.word("Honda", 280, 44, "B-buyer")  # ... and a word of the block as the buyer
    s.put("Hyderabad 500072", 120, 56)
    s.put("Phone", 20, 68)  # the caption column's next caption ends the block
    s.put("040 23866770", 120, 68)
    s.put("Vendor", 500, 20)
    s.put("SRI SAI GOPAL ENTERPRISES", 580, 20, "B-ship_to")  # the vendor block read as the ship-to
    s.put("EAST MAREDPALLY", 580, 32, "I-ship_to")
    s.put("Email", 500, 44)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.ship_to.value == "Avenue Supermarts Ltd., PSR DMart, Village Adjacent To Hero Honda, Hyderabad 500072"
    assert d.supplier.value == "SRI SAI GOPAL ENTERPRISES"
    assert d.buyer.value == "Avenue Supermarts Ltd."  # the goods go to the buyer


def test_a_caption_over_a_block_beats_a_far_word_on_its_row_and_roles_follow_the_addressee() -> None:
    s = Sheet()
    s.put("YourCompany", 20, 5)
    s.put("1725 Slough Ave.", 20, 17, "B-buyer")  # the seller's street line read as the buyer
    s.put("Invoice and shipping address:", 20, 40)
    s.put("Axelor", 400, 40, "B-supplier")  # the window address, read as the supplier
    s.put("12 rue Albert", 400, 52, "I-supplier")
    s.put("Axelor", 20, 52)
    s.put("12 rue Albert Einstein", 20, 64)
    s.put("77420 Champs", 20, 76)
    s.put("+33 1 64 61 04 01", 20, 88)  # a phone row ends the address
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.ship_to.value == "Axelor, 12 rue Albert Einstein, 77420 Champs"
    assert d.bill_to.value == d.ship_to.value
    # the supplier named like the addressee is the buyer; the street line's name is the supplier
    assert d.buyer.value == "Axelor"
    assert d.supplier.value == "YourCompany"


def test_party_captions_that_name_no_block() -> None:
    s = Sheet()
    s.put("Buyer:", 20, 20)
    s.put("Lauren Payne", 100, 20)  # a purchasing agent, not the buying company
    s.put("Vendor", 20, 32)
    s.put("07821490", 100, 32)  # the vendor's number
    s.put("Our customer service", 20, 300)  # a caption word inside a phrase
    s.put("desk", 20, 312)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.buyer.present and not d.supplier.present

    s = Sheet()
    s.put("Lieferadresse:", 0, 0)
    s.put("Orion Components GmbH", 0, 12, "B-ship_to")
    s.put("Bahnhofstrasse 58", 0, 24, "I-ship_to")
    s.put("1625 Zürich", 0, 36, "I-ship_to")
    s.put("Mit freundlichen Grüßen", 0, 60)  # after a blank line: not the address
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="de", decimal=","))
    assert d.ship_to.value == "Orion Components GmbH, Bahnhofstrasse 58, 1625 Zürich"


def test_header_numbers_taken_for_items_are_no_lines() -> None:
    s = Sheet()
    s.put("Phone", 20, 20)
    s.word("0000000000", 120, 20, "B-sku")  # a placeholder phone number taken for a code
    s.word("11.12.2025", 400, 20, "B-amount")  # ... and a date for an amount
    s.put("FSSAI No", 20, 32)
    s.word("13620014000545", 120, 32, "B-sku")  # a licence number and a buyer code taken for an item
    s.put("Buyer", 20, 44)
    s.word("100", 60, 44, "B-quantity")
    for k, (sku, qty, price, amount) in enumerate([("8908009082084", "72", "84.97", "6117.84"),
                                                    ("8908009082299", "120", "37.49", "4498.80")]):
        y = 100 + 15 * k
        s.word(sku, 20, y, "B-sku")
        s.word(qty, 300, y, "B-quantity")
        s.word(price, 400, y, "B-unit_price")
        s.word(amount, 500, y, "B-amount")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value) for ln in d.lines] == [("8908009082084", 72), ("8908009082299", 120)]


def test_a_line_that_does_not_add_up_takes_the_numbers_in_the_other_lines_columns() -> None:
    s = Sheet()
    for k, (no, qty, bprice, price, mrp, amount, tags) in enumerate([
            ("1", "72", "80.90", "84.97", "299.00", "6117.84", ("O", "B-quantity", "O", "B-unit_price", "O", "B-amount")),
            # the serial number taken for the quantity, the list price and the MRP for price and amount
            ("2", "120", "35.70", "37.49", "119.00", "4498.80", ("B-quantity", "O", "B-unit_price", "O", "B-amount", "O"))]):
        y = 100 + 15 * k
        for text, x, tag in zip((no, qty, bprice, price, mrp, amount), (20, 100, 200, 300, 400, 500), tags):
            s.word(text, x, y, tag)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.quantity.value, ln.unit_price.value, ln.amount.value) for ln in d.lines] == [
        (72, 84.97, 6117.84), (120, 37.49, 4498.8)]


def test_one_item_named_by_captions_is_the_line() -> None:
    s = Sheet()
    s.put("Purchase Order for Submersible Pump", 20, 10)
    s.put("Product Name:", 20, 40)
    s.put("Submersible Borewell Pump X250", 120, 40)
    s.put("Quantity:", 20, 52)
    s.put("150 Units", 120, 52)
    s.put("Due Date:", 20, 64)
    s.put("25 November 2025", 120, 64)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.description.value, ln.quantity.value, ln.uom.value) for ln in d.lines] == [
        ("Submersible Borewell Pump X250", 150, "EA")]
    assert d.lines[0].confidence < 0.9  # read by captions alone: a CSR confirms it


def test_the_bracketed_erp_code_wins_over_a_code_in_the_wording() -> None:
    s = Sheet()
    s.word("[MBi9]", 20, 100, "B-description")
    s.word("Motherboard", 60, 100, "I-description")
    s.word("I9P57", 100, 100, "B-sku")  # part of the product's name, taken for its code
    s.word("5.000", 300, 100, "B-quantity")
    s.word("1500.00", 400, 100, "B-unit_price")
    s.word("7500.00", 500, 100, "B-amount")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert (d.lines[0].sku.value, d.lines[0].description.value) == ("MBi9", "Motherboard I9P57")


def test_a_colour_by_size_matrix_gives_one_line_per_colour() -> None:
    s = Sheet()
    s.word("Article", 300, 10)
    s.word("No.", 340, 10)
    s.word("145308843", 380, 10, "B-po_number")
    s.word("Color", 20, 50)
    for k, size in enumerate(["S", "M", "L", "XL", "XXL"]):
        s.word(size, 120 + 40 * k, 50)
    s.word("Total", 330, 50)
    s.word("Qty.", 370, 50)
    grid = [("MITTELGRAU", "(20)", ["157", "522", "584", "384", "249"], "1,896"),
            ("LAVENDER", "(540)", ["133", "362", "414", "270", "182"], "1,361")]
    for r, (colour, code, cells, total) in enumerate(grid):
        y = 65 + 13 * r
        s.word(colour, 20, y, "B-description")
        s.word(code, 75, y)
        for k, v in enumerate(cells):  # the model reads a matrix as scattered quantities and prices
            s.word(v, 120 + 40 * k, y, ["B-quantity", "B-unit_price", "B-amount", "O", "B-sku"][k])
        s.word(total, 360, y, "B-amount")
    s.word("290", 120, 95)  # the sums under the matrix: no colour, no line
    s.word("3,257", 360, 95, "B-total")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.description.value, ln.quantity.value) for ln in d.lines] == [
        ("145308843", "MITTELGRAU (20)", 1896), ("145308843", "LAVENDER (540)", 1361)]
    assert not d.total.present  # the sums row counts pieces
    assert all(ln.confidence < 0.9 for ln in d.lines)


def test_a_share_is_no_total_and_a_name_no_order_number() -> None:
    s = Sheet()
    s.put("Customer Name:", 20, 20)
    s.word("John", 150, 20, "B-po_number")
    s.put("Total:", 20, 200)
    s.word("1,250.00", 150, 200, "B-total")
    s.word("100%", 250, 200)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.po_number.present
    assert d.total.value == 1250.0


def test_lines_without_a_code_take_the_article_the_order_is_for() -> None:
    s = Sheet()
    s.put("Product No:", 300, 10)
    s.word("0570002", 400, 10)
    s.word("Blue", 20, 100, "B-description")
    s.word("1.73", 300, 100, "B-unit_price")
    s.word("11", 400, 100)  # "11 317": the model tagged the thousands' group only
    s.word("317", 438, 100, "B-quantity")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value, ln.unit_price.value) for ln in d.lines] == [("0570002", 11317, 1.73)]


def test_rows_far_above_the_first_item_or_on_another_page_are_not_part_of_it() -> None:
    s = Sheet()
    s.put("Order", 20, 10)
    s.word("B-4295", 20, 22, "B-sku", )  # the order sheet's id, on its own page, read as a code
    s.words[-1] = s.words[-1].model_copy(update={"page": 0})
    s.words.append(Word(text="Y500", box=(54, 12, 78, 24), page=1))
    s.tags.append("B-sku")
    s.words.append(Word(text="29", box=(186, 12, 198, 24), page=1))
    s.tags.append("B-quantity")
    s.words.append(Word(text="8.29", box=(216, 12, 240, 24), page=1))
    s.tags.append("B-unit_price")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value) for ln in d.lines] == [("Y500", 29)]


def test_the_upper_part_of_a_wrapped_code_read_as_a_number_is_the_item_code() -> None:
    s = Sheet()
    s.word("Toner", 20, 100, "B-description")
    s.word("LW.165.642", 100, 100, "B-sku")
    s.word("86", 300, 100, "B-quantity")
    s.word("3.76", 400, 100, "B-unit_price")
    s.word("Marker", 20, 130, "B-description")
    s.word("2923.661.", 100, 130, "B-quantity")  # a code wrapped in its cell, its upper part read as a number
    s.word("100", 300, 130, "B-quantity")
    s.word("38.31", 400, 130, "B-unit_price")
    s.word("371-LZ74", 100, 141)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.uom.value, ln.quantity.value) for ln in d.lines] == [
        ("LW.165.642", None, 86), ("2923.661.371-LZ74", None, 100)]


def test_a_hebrew_row_reads_right_to_left() -> None:
    s = Sheet()
    s.word("ירושלים", 20, 20, "I-ship_to")
    s.word("שאול", 60, 20, "I-ship_to")
    s.word("24", 100, 20, "I-ship_to")
    s.word("כנפי", 140, 20, "B-ship_to")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.ship_to.value == "כנפי 24 שאול ירושלים"


def test_another_date_is_not_the_order_date() -> None:
    s = Sheet()
    s.put("Launch Date:", 20, 20)
    s.put("12 Mar 2027", 120, 20)
    s.put("Date generated:", 20, 300)
    s.put("21 April 2026", 140, 300)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.order_date.value == "2026-04-21"


def test_two_column_captions_printed_close_together_are_two_columns() -> None:
    s = Sheet()
    for text, x in (("Product", 31), ("Code", 61), ("Product", 91), ("Name", 121), ("Qty", 244)):
        s.word(text, x, 90)  # 35 wide at 30 apart: one run of words to the eye
    for k, (code, num, name, qty) in enumerate([("CFT", "0167", "Coffee table", "9"), ("LVS", "0439", "Loveseat", "2")]):
        y = 110 + 15 * k
        s.word(code, 31, y, "B-description")
        s.word(num, 68, y, "I-description")
        s.word(name, 120, y, "I-description")
        s.word(qty, 244, y, "B-quantity")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.description.value, ln.quantity.value) for ln in d.lines] == [
        ("CFT 0167", "Coffee table", 9), ("LVS 0439", "Loveseat", 2)]


def test_a_total_of_pieces_is_no_order_total() -> None:
    s = Sheet()
    s.word("Blue", 20, 100, "B-description")
    s.word("ABC-1", 100, 100, "B-sku")
    s.word("1.73", 300, 100, "B-unit_price")
    s.word("11317", 400, 100, "B-quantity")
    s.word("Total:", 300, 130)
    s.word("11", 400, 130)
    s.word("317", 438, 130, "B-total")  # the pieces of the table above, thousands set apart
    s.word("100%", 500, 130)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.lines[0].quantity.value == 11317 and not d.total.present


def test_on_a_scan_a_party_caption_only_fills_a_gap() -> None:
    s = Sheet()
    s.word("Ship", 20, 20, conf=0.9)
    s.word("to:", 60, 20, conf=0.9)
    s.word("Acme", 20, 32, "B-ship_to", conf=0.9)
    s.word("Berlin", 20, 44, conf=0.9)
    s.word("Vendor:", 300, 20, conf=0.9)
    s.word("Widgets", 300, 32, conf=0.9)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.ship_to.value == "Acme"  # OCR rows can interleave: the model's read stands
    assert d.supplier.value == "Widgets"


def test_the_table_header_settles_a_tie_and_an_untagged_wording_with_a_bracketed_code() -> None:
    s = Sheet()
    s.put("Description", 20, 90)
    s.put("Quantity", 300, 90)
    s.put("Unit Price", 400, 90)
    s.put("Amount", 520, 90)
    rows = [("[PROD_DEL02] Datacard", "6.000", "90.00", "540.00", "B-quantity"),
            ("[MBi9] Motherboard", "5.000", "1500.00", "7500.00", "B-unit_price"),
            ("[E-COM07] iPad", "7.000", "330.00", "2310.00", "B-quantity"),
            ("[E-COM09] iMac", "1.000", "1799.00", "1799.00", "B-unit_price")]
    for k, (desc, qty, price, amount, price_tag) in enumerate(rows):
        y = 110 + k * 15
        s.put(desc, 20, y)  # wording and code left untagged
        s.put(qty, 300, y, "B-quantity")
        s.put(price, 400, y, price_tag)  # the price column: half "quantity", half "unit price"
        s.put(amount, 520, y, "B-amount")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.description.value, ln.quantity.value, ln.unit_price.value) for ln in d.lines] == [
        ("PROD_DEL02", "Datacard", 6, 90), ("MBi9", "Motherboard", 5, 1500),
        ("E-COM07", "iPad", 7, 330), ("E-COM09", "iMac", 1, 1799)]


def test_a_table_header_the_service_reads_assigns_every_item_row() -> None:
    s = Sheet()
    s.put("Size", 20, 90)
    s.put("Barcode", 100, 90, "B-description")  # the model took the header for values
    s.put("Cost", 200, 90)
    s.put("Retail", 280, 90)
    s.put("Order Qty", 360, 90, "B-sku")
    rows = [("3-4Y", "5078912340011", "5.85", "8.00", "95"), ("4-5Y", "5078912340028", "5.85", "8.00", "130"),
            ("5-6Y", "5078912340035", "5.85", "10.00", "210")]
    tagsets = [("O", "B-sku", "O", "B-quantity", "B-quantity"), ("O", "O", "O", "B-amount", "O"),
               ("O", "B-sku", "B-unit_price", "O", "O")]
    for k, (row, tg) in enumerate(zip(rows, tagsets)):
        y = 110 + k * 15
        for text, x, tag in zip(row, (20, 100, 200, 280, 360), tg):
            s.put(text, x, y, tag)
    s.put("TOTALS", 20, 160)
    s.put("435", 360, 160, "B-quantity")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value, ln.unit_price.value) for ln in d.lines] == [
        ("5078912340011", 95, 5.85), ("5078912340028", 130, 5.85), ("5078912340035", 210, 5.85)]


def test_a_number_with_thin_space_thousands_is_one_number() -> None:
    s = Sheet()
    s.put("SQ0047509", 20, 110, "B-sku")
    s.put("T-shirt", 100, 110, "B-description")
    s.put("1.98", 200, 110, "B-unit_price")
    s.words.append(Word(text="30", box=(300, 110, 310, 119), page=0))
    s.tags.append("B-quantity")
    s.words.append(Word(text="051", box=(313, 110, 328, 119), page=0))  # untagged thousands group
    s.tags.append("O")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.lines[0].quantity.value == 30051


def test_a_quotation_is_addressed_to_the_buyer() -> None:
    s = Sheet()
    s.put("Quotation", 20, 10)
    s.put("Delta PC", 20, 30, "B-supplier")  # the addressee, which on a purchase order is the supplier
    s.put("Fremont", 20, 41, "I-supplier")
    s.put("YourCompany", 300, 30, "B-buyer")
    # a model unsure of the roles read it as a purchase order: buyer and supplier swap
    unsure = s.probs()
    for k, t in enumerate(s.tags):
        if t != "O":
            unsure[k] = 0.5 / (len(ID2LABEL) - 1)
            unsure[k, LABEL2ID[t]] = 0.5
    d = assemble(s.words, unsure, ID2LABEL, Locale(lang="en", decimal="."))
    assert d.buyer.value == "Delta PC" and d.supplier.value == "YourCompany"
    assert d.meta["document_type"] == "sales"
    # a model sure of both roles read the sales layout as such (it learnt seller-issued documents)
    sure = Sheet()
    sure.put("Quotation", 20, 10)
    sure.put("Delta PC", 20, 30, "B-buyer")
    sure.put("Fremont", 20, 41, "I-buyer")
    sure.put("YourCompany", 300, 30, "B-supplier")
    p = sure.probs()
    for k, t in enumerate(sure.tags):
        if t != "O":
            p[k] = 0.0
            p[k, LABEL2ID[t]] = 1.0
    d = assemble(sure.words, p, ID2LABEL, Locale(lang="en", decimal="."))
    assert d.buyer.value == "Delta PC" and d.supplier.value == "YourCompany"
    assert d.meta["document_type"] == "sales"


def test_rows_of_a_skewed_scan_follow_the_slope() -> None:
    # OCR words (conf set) of a page fed 1.4 degrees askew: the right end of each row sits 10 pt
    # lower than its left end, a whole row's height.
    s = Sheet()
    for k, (sku, qty, price, amount) in enumerate([("A1001", "2", "5.00", "10.00"), ("A1002", "3", "4.00", "12.00"),
                                                   ("A1003", "4", "2.50", "10.00")]):
        y = 100 + 14 * k
        for x, text, tag in ((20, sku, "B-sku"), (80, "Widget", "B-description"), (120, "small", "I-description"),
                             (160, "blue", "I-description"), (200, "metal", "I-description"),
                             (240, "pack", "I-description"), (300, qty, "B-quantity"),
                             (360, price, "B-unit_price"), (420, amount, "B-amount")):
            s.word(text, x, y + 0.025 * x, tag, conf=0.9)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    got = [(ln.sku.value, ln.quantity.value, ln.unit_price.value, ln.amount.value) for ln in d.lines]
    assert got == [("A1001", 2, 5.0, 10.0), ("A1002", 3, 4.0, 12.0), ("A1003", 4, 2.5, 10.0)]


def test_a_scanned_code_one_confusable_character_off_its_column_shape_is_read_by_the_shape() -> None:
    def sheet(conf: float | None) -> Sheet:
        s = Sheet()
        for k, code in enumerate(["G1901530", "K1288247", "H0957977", "12744610", "$5025480"]):
            y = 100 + 14 * k
            for x, text, tag in ((20, code, "B-sku"), (100, "Bolt", "B-description"), (300, "2", "B-quantity"),
                                 (360, "1.50", "B-unit_price"), (420, "3.00", "B-amount")):
                s.word(text, x, y, tag, conf=conf)
        return s

    s = sheet(0.9)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [ln.sku.value for ln in d.lines] == ["G1901530", "K1288247", "H0957977", "I2744610", "S5025480"]
    s = sheet(None)  # a text layer is read as printed
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [ln.sku.value for ln in d.lines][3:] == ["12744610", "$5025480"]


def test_at_a_price_of_one_the_quantity_equal_to_the_amount_is_found() -> None:
    s = Sheet()
    s.put("GAE-61156", 20, 100, "B-sku")
    s.put("Gear motor", 100, 100, "B-description")
    s.put("10.00", 300, 100, "B-line_no")  # the model mistook the quantity
    s.put("1.00", 360, 100, "B-unit_price")
    s.put("10.00", 420, 100, "B-amount")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.lines[0].quantity.value == 10


def test_the_rows_of_the_table_foot_are_not_items() -> None:
    s = Sheet()
    s.put("Shipping box", 100, 100, "B-description")  # an item (no code) that begins like a summary word
    s.put("2", 300, 100, "B-quantity")
    s.put("5.00", 360, 100, "B-unit_price")
    s.put("10.00", 420, 100, "B-amount")
    s.put("Zwischensumme", 100, 114, "B-description")
    s.put("10.00", 420, 114, "B-amount")
    s.put("MwSt.", 100, 128, "B-description")
    s.put("19", 300, 128, "B-quantity")
    s.put("1.90", 420, 128, "B-amount")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="de", decimal="."))
    assert [ln.description.value for ln in d.lines] == ["Shipping box"]


def test_on_a_scan_arithmetic_repairs_what_ocr_misread() -> None:
    s = Sheet()
    rows = [("MW.750.964", "25°.", "24.61", "615.25"),  # a degree sign stuck to the quantity
            ("BC.214.337", "2500", "7.12", "2'800.00"),  # 1 read as 7 in the price
            ("BY.513.906", "1000", "$5.73", "55'730.00"),  # 5 read as $
            ("QJ.946.232", "214", "13.14", "2'811.96")]  # right as printed
    for k, (sku, qty, price, amount) in enumerate(rows):
        y = 100 + 14 * k
        for x, text, tag in ((20, sku, "B-sku"), (100, "Gloves", "B-description"), (300, qty, "B-quantity"),
                             (360, price, "B-unit_price"), (420, amount, "B-amount")):
            s.word(text, x, y, tag, conf=0.8)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    got = [(ln.quantity.value, ln.unit_price.value, ln.amount.value) for ln in d.lines]
    assert got == [(25, 24.61, 615.25), (2500, 1.12, 2800.0), (1000, 55.73, 55730.0), (214, 13.14, 2811.96)]
    assert d.lines[1].unit_price.confidence < 0.9  # a repaired value is not trusted as a printed one


def test_the_one_currency_a_document_names_anywhere() -> None:
    s = Sheet()
    s.put("Amount in words RUPEES TWENTY ONE THOUSAND ONLY", 20, 300)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.currency.value == "INR" and d.currency.confidence < 0.9
    s.put("ALL prices in USD", 20, 320)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.currency.present  # two currencies named: none is guessed ("ALL" is no currency here)


def test_qualified_and_counting_captions_do_not_override_the_model() -> None:
    s = Sheet()
    s.put("711472-0", 300, 20, "B-po_number")  # the model read the order number
    s.put("Bulk Order Number:", 20, 40)  # another number of the kind
    s.put("316867-0", 160, 40)
    s.put("Total Units:", 20, 200)  # a count, not the order's total
    s.put("3,500", 100, 200)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.po_number.value == "711472-0"
    assert not d.total.present


def test_a_date_centred_under_its_caption() -> None:
    s = Sheet()
    s.put("Vendor", 20, 20)
    s.put("PO Date", 200, 20)
    s.put("INF01", 20, 32)
    for x, t in ((180, "Jun"), (204, "29,"), (228, "2026")):  # "Jun" starts left of the caption
        s.words.append(Word(text=t, box=(x, 32, x + 22, 41), page=0))
        s.tags.append("O")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.order_date.value == "2026-06-29"


def test_a_window_address_read_from_its_street_line_is_still_the_addressee() -> None:
    s = Sheet()
    s.put("YourCompany", 20, 5)
    s.put("1725 Slough Ave.", 20, 17, "B-buyer")
    s.put("Invoice and shipping address:", 20, 40)
    s.put("Axelor", 400, 40)
    s.put("12 rue Albert", 400, 52, "B-supplier")  # the window address read from its street line
    s.put("Axelor", 20, 52)
    s.put("12 rue Albert Einstein", 20, 64)
    s.put("77420 Champs", 20, 76)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    # named "Axelor" first, then found to be the addressee: the buyer of a sales order
    assert d.buyer.value == "Axelor"
    assert d.supplier.value == "YourCompany"


def test_the_value_of_another_key_of_the_header_grid_is_no_party() -> None:
    s = Sheet()
    s.put("Purchase Order", 20, 5)
    s.put("Department", 20, 30)
    s.put("432 BOYS 3-16", 140, 30, "B-buyer")
    s.put("Category", 20, 42)
    s.put("432004 HOODIES & SWEAT", 140, 42)
    s.tags[-3:-1] = ["B-ship_to", "I-ship_to"]  # "HOODIES &" read as the ship-to
    s.put("Factory", 20, 54, "B-supplier")  # the caption itself read as the supplier
    s.put("41098223", 140, 54)
    s.put("Ship to:", 20, 80)
    s.put("Acme Kids Ltd", 140, 80, "B-bill_to")  # beside a party caption: kept
    s.put("12 Harbour Road", 140, 92, "I-bill_to")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.supplier.present
    assert d.ship_to.value == "Acme Kids Ltd, 12 Harbour Road"
    assert d.buyer.value == "Acme Kids Ltd"  # the delivery company, not the department


def test_a_code_after_another_key_is_no_order_number_and_order_no_with_a_stop_is_a_caption() -> None:
    s = Sheet()
    s.put("Brand", 20, 20)
    s.put("MC NEAL", 120, 20)
    s.put("Article No.", 300, 20)
    s.put("145308843", 400, 20, "B-po_number")  # the article's number read as the order's
    s.put("SAP Order No.", 20, 32)
    s.put("4501704248,", 160, 32)  # the first of a list of order numbers
    s.put("4501704258,", 200, 32)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.po_number.value == "4501704248"


def test_a_total_of_pieces_is_no_order_total_beside_a_line_without_a_quantity() -> None:
    s = Sheet()
    s.word("Blue", 20, 100, "B-description")
    s.word("ABC-1", 100, 100, "B-sku")
    s.word("1.98", 300, 100, "B-unit_price")
    s.word("30051", 400, 100, "B-quantity")
    s.word("ABC-1", 100, 300, "B-sku")  # a price on a detail page, no quantity read
    s.word("2.04", 300, 300, "B-unit_price")
    s.word("Total:", 300, 130)
    s.word("30051", 400, 130, "B-total")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.total.present


def test_a_house_number_after_an_address_caption_is_no_order_number() -> None:
    s = Sheet()
    s.put("Customer Name:", 20, 20)
    s.put("John Smith", 150, 20, "B-buyer")
    s.put("Address:", 20, 40)
    s.put("123", 150, 40, "B-po_number")
    s.put("Maple Street, Springfield", 190, 40)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.po_number.present  # better none than the street number


def test_an_item_whose_quantity_happens_to_be_a_sum_of_others_is_kept() -> None:
    s = Sheet()
    for k, (desc, q) in enumerate((("Rapid staples", "7"), ("Eraser Staedtler", "4"), ("HP 207A toner", "2"),
                                   ("Brother TN-243M", "2"), ("Clairefontaine A3 paper", "8"))):
        s.put(desc, 20, 100 + 14 * k, "B-description")
        s.put(q, 300, 100 + 14 * k, "B-quantity")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [ln.quantity.value for ln in d.lines] == [7, 4, 2, 2, 8]  # 8 = 4 + 2 + 2, and still an item


def test_item_blocks_with_the_code_on_a_row_above_the_numbers() -> None:
    s = Sheet()
    for k, (code, desc, qty, price, amount) in enumerate((("AB-100", "Steel bolt", "10", "1.50", "15.00"),
                                                          ("AB-200", "Hex nut", "5", "0.20", "1.00"),
                                                          ("AB-300", "Washer", "100", "0.05", "5.00"))):
        y = 200 + 24 * k
        s.put(code, 20, y, "B-sku")
        s.put(desc, 20, y + 11, "B-description")
        s.put(qty, 400, y + 11, "B-quantity")
        s.put(price, 450, y + 11, "B-unit_price")
        s.put(amount, 510, y + 11, "B-amount")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en", decimal="."))
    assert [(ln.sku.value, ln.description.value, ln.quantity.value) for ln in d.lines] == [
        ("AB-100", "Steel bolt", 10), ("AB-200", "Hex nut", 5), ("AB-300", "Washer", 100)]
    # without the check, each code is read with the item above it
    off = assemble(s.words, s.probs(), ID2LABEL, Locale("en", decimal="."), skip=["item_blocks"])
    assert [ln.sku.value for ln in off.lines] != ["AB-100", "AB-200", "AB-300"]


def test_item_blocks_of_three_rows_and_a_code_under_its_numbers() -> None:
    s = Sheet()
    for k, (code, desc, qty) in enumerate((("AB-100", "Steel bolt zinc", "10"), ("AB-200", "Hex nut", "5"))):
        y = 200 + 36 * k
        s.put(code, 20, y, "B-sku")
        s.put(desc, 20, y + 11, "B-description")
        s.put(qty, 400, y + 22, "B-quantity")
        s.put("2.00", 450, y + 22, "B-unit_price")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en", decimal="."))
    assert [(ln.sku.value, ln.description.value, ln.quantity.value) for ln in d.lines] == [
        ("AB-100", "Steel bolt zinc", 10), ("AB-200", "Hex nut", 5)]
    # a code printed under its item's numbers stays with that item
    s = Sheet()
    for k, (code, qty) in enumerate((("AB-100", "10"), ("AB-200", "5"))):
        y = 200 + 30 * k
        s.put("Bolt", 20, y, "B-description")
        s.put(qty, 400, y, "B-quantity")
        s.put("2.00", 450, y, "B-unit_price")
        s.put(code, 20, y + 11, "B-sku")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value) for ln in d.lines] == [("AB-100", 10), ("AB-200", 5)]


def test_a_table_goes_on_under_its_columns_on_a_page_without_a_header() -> None:
    s = Sheet()
    s.put("Code", 20, 180)
    s.put("Description", 120, 180)
    s.put("Qty", 400, 180)
    s.put("Price", 450, 180)
    s.put("Amount", 510, 180)
    _row(s, 200, "AB-100", "Steel bolt", "10", "1.50", "15.00")
    _row(s, 220, "AB-200", "Hex nut", "5", "0.20", "1.00")
    s.put("Page 2 of 2", 250, 30, page=1)
    # page 2 repeats no header, and the model read the one row's quantity as a price
    s.put("AB-300", 20, 80, "B-sku", page=1)
    s.put("Washer", 120, 80, "B-description", page=1)
    s.put("100", 400, 80, "B-unit_price", page=1)
    s.put("0.05", 450, 80, "B-unit_price", page=1)
    s.put("5.00", 510, 80, "B-amount", page=1)
    loc = Locale("en", decimal=".")
    d = assemble(s.words, s.probs(), ID2LABEL, loc)
    assert [(ln.sku.value, ln.quantity.value, ln.unit_price.value) for ln in d.lines] == [
        ("AB-100", 10, 1.5), ("AB-200", 5, 0.2), ("AB-300", 100, 0.05)]
    off = assemble(s.words, s.probs(), ID2LABEL, loc, skip=["tables_continue", "arithmetic_row", "arithmetic_columns"])
    assert off.lines[2].quantity.value != 100
    # a page that prints its own header is read by it
    s.put("Code Description", 20, 60, page=1)
    s.put("Price", 400, 60, page=1)  # a header without a quantity column is not one the service reads
    assert assemble(s.words, s.probs(), ID2LABEL, loc).lines[2].quantity.value == 100


def test_right_to_left_caption_names_the_value_left_of_it() -> None:
    """In a Hebrew row the value follows its caption in reading order: it stands to its left."""
    s = Sheet()
    s.word("07/01/2026", 300, 40)
    s.word('תאריך', 400, 40)
    s.word('ההצעה:', 360, 40)  # drawn left of "תאריך": read after it
    s.word("PQ26000005", 300, 60)
    s.word("מספר", 360, 60)
    s.word("מחיר", 400, 60)
    s.word("הצעת", 440, 60)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en", dayfirst=True))
    assert d.po_number.value == "PQ26000005"
    assert d.order_date.value == "2026-01-07"


def test_right_to_left_column_captions_of_two_words_are_read_from_their_right_end() -> None:
    """"מחיר נטו" (net price) is printed with "נטו" left of "מחיר"; the table's columns are found."""
    s = Sheet()
    # header row, right to left: quantity | item name | item code | net price | total
    for text, x in (('סה"כ', 20), ("נטו", 80), ("מחיר", 110), ("פריט", 170), ("מפתח", 200), ("פריט", 300),
                    ("שם", 330), ("כמות", 420)):
        s.word(text, x, 100)
    # an item the model read with the quantity taken for a line number
    s.word("250.00", 20, 120, "B-amount")
    s.word("25.00", 100, 120, "B-quantity")
    s.word("106017", 180, 120, "B-sku")
    s.word("מקלחת", 300, 120, "B-description")
    s.word("10", 420, 120, "B-line_no")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en"))
    assert len(d.lines) == 1
    ln = d.lines[0]
    assert (ln.quantity.value, ln.unit_price.value, ln.amount.value, ln.sku.value) == (10, 25.0, 250.0, "106017")


def test_short_numbers_the_model_reads_as_line_numbers_stay_under_an_item_column() -> None:
    """"Item" heads line numbers as often as codes: 10, 20 under it stay line numbers when the
    model read them so, and the code printed beside them is the item's."""
    s = Sheet()
    s.put("Item", 20, 100)
    s.put("Material", 80, 100)
    s.put("Quantity", 300, 100)
    s.put("Price", 380, 100)
    s.put("Amount", 460, 100)
    for y, no, code in ((120, "10", "XPSN22506B"), (140, "20", "XPSN22510B")):
        s.word(no, 20, y, "B-line_no")
        s.word(code, 80, y, "B-sku")
        s.word("15", 300, y, "B-quantity")
        s.word("856.00", 380, y, "B-unit_price")
        s.word("12840.00", 460, y, "B-amount")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en"))
    assert [ln.sku.value for ln in d.lines] == ["XPSN22506B", "XPSN22510B"]
    assert [ln.line_no.value for ln in d.lines] == [10, 20]


def test_hebrew_documents_write_the_day_first() -> None:
    from extractors.normalize import detect_locale

    assert detect_locale(["הזמנה", "תאריך", "11/01/2026", "מחיר"]).dayfirst is True
    assert detect_locale(["Order", "Date", "11/01/2026", "Price"]).dayfirst is None


def test_tables_beside_a_block_of_captioned_values_read_their_own_rows_only() -> None:
    # Two packs, each a block of captioned values on the left ("Pack code: 900001", "Total
    # Packs: 30") beside a small table with its own header and an uncaptioned foot row of sums.
    # The model took block values, the pack titles and the sums for line values.
    s = Sheet()

    def pack(y: float, title: str, code: str, rows: list[tuple[str, str, str, str, str]], foot: tuple[str, str],
             dx: float = 0.0) -> None:
        s.put(title.split()[0], 20, y, "B-description")
        s.word(title.split()[1], 60, y, "B-quantity")
        s.put("Pack code:", 20, y + 20)
        s.word(code, 110, y + 20, "B-sku")
        for text, x in (("Colour", 250), ("Size", 330), ("SKU", 400), ("Ratio", 470), ("Units", 540)):
            s.word(text, x, y + 20)
        block = [("Ship by:", "Yes", "O"), ("Total Packs:", "30", "B-quantity"), ("Unit Cost:", "", "O")]
        yy = y + 35
        for k, (colour, size, sku, ratio, units) in enumerate(rows):
            cap, val, tag = block[k]
            s.put(cap, 20, yy)
            if val:
                s.word(val, 110, yy, tag)
            s.word(colour, 250, yy, "B-description")
            s.word(size, 330, yy)
            s.word(sku, 400, yy, "B-sku" if k else "O")
            s.word(ratio, 470, yy, "B-quantity")
            s.word(units, 540 + dx, yy, "B-unit_price" if k == 0 else "B-quantity")
            yy += 15
        s.word(foot[0], 470, yy, "B-quantity")
        s.word(foot[1], 540 + dx, yy, "B-amount")
        s.put("Online:", 20, yy + 15)
        s.word("No", 110, yy + 15)

    pack(40, "Pack 1", "900001", [("BLUE", "S", "700101", "1", "30"), ("BLUE", "M", "700102", "2", "60")], ("3", "90"))
    # the second table's units stand right of their caption's end (right-aligned past it)
    pack(200, "Pack 2", "900002", [("RED", "L", "700103", "2", "40")], ("2", "40"), dx=50)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value) for ln in d.lines] == [
        ("700101", 30), ("700102", 60), ("700103", 40)]


def test_the_first_words_of_a_name_the_model_left_out_join_it() -> None:
    # "NORTHWIND | TRADING FZ LLC": the model tags the name from its second word; the word before
    # it at word spacing joins. A label with a colon and a caption do not.
    s = Sheet()
    s.put("Vendor:", 20, 60)
    s.put("NORTHWIND", 60, 60)
    s.put("TRADING FZ LLC", 100, 60, "B-supplier")
    s.put("PO Box 1234", 60, 72, "I-supplier")
    s.put("Ship to", 320, 60)
    s.put("Dock 7, Harbour Road", 400, 60, "B-ship_to")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en"))
    assert d.supplier.value == "NORTHWIND TRADING FZ LLC"
    assert d.ship_to.value.startswith("Dock 7")


def test_a_purchase_order_is_headed_with_its_buyers_name() -> None:
    # No buyer read: the name the first page is headed with (under its title row) is the buyer
    s = Sheet()
    s.put("PURCHASE ORDER", 300, 10)
    s.put("Northwind Traders", 20, 30)
    s.put("Order No:", 300, 60)
    s.put("PO-7781", 380, 60, "B-po_number")
    for k in range(20):
        s.put(f"Note row {k}", 20, 100 + 20 * k)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en"))
    assert d.buyer.value == "Northwind Traders" and d.buyer.confidence <= 0.5

    # The goods go to the letterhead's company, and the block read as the buyer is another
    # company: that one is the supplier, the letterhead's company the buyer
    s = Sheet()
    s.put("PURCHASE ORDER", 300, 10)
    s.put("Northwind Traders LLC", 20, 30)
    s.put("Lingo Supply INC", 20, 120, "B-buyer")
    s.put("12 Market Street", 20, 132, "I-buyer")
    s.put("Delivery Address", 300, 108)
    s.put("Northwind Traders LLC", 300, 120, "B-ship_to")
    s.put("4 Dock Road", 300, 132, "I-ship_to")
    for k in range(20):
        s.put(f"Note row {k}", 20, 200 + 20 * k)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en"))
    assert d.buyer.value == "Northwind Traders LLC"
    assert d.supplier.value == "Lingo Supply INC"


def test_a_party_read_as_a_street_line_gives_way_to_the_captioned_name() -> None:
    # The model is sure of "123 Maple Street" as the buyer; the form names the customer by caption
    s = Sheet()
    s.put("Order Form", 20, 10)
    s.put("Customer Name:", 20, 40)
    s.put("John Smith", 140, 40)
    s.put("Address:", 20, 70)
    s.put("123 Maple Street, Springfield", 140, 70, "B-buyer")
    p = s.probs()
    for k, t in enumerate(s.tags):
        if t.endswith("buyer"):
            p[k] = 0.0
            p[k, LABEL2ID[t]] = 1.0
    d = assemble(s.words, p, ID2LABEL, Locale("en"))
    assert d.buyer.value == "John Smith"


def test_a_whole_number_under_a_quantity_caption_is_no_order_total() -> None:
    # A delivery schedule (date | quantity) whose "Total:" counts pieces; the model read it as
    # the order total. No lines share its sum (the schedule's rows are no items).
    def doc(total: str, caption: str, currency: str | None = None) -> Sheet:
        s = Sheet()
        s.word("Delivery", 20, 80)
        s.word(caption, 400, 80)
        for k, (d, q) in enumerate((("21 Jul", "4886"), ("28 Jul", "4661"))):
            s.put(d, 20, 100 + 15 * k)
            s.word(q, 400, 100 + 15 * k)
        s.word("Total:", 300, 140)
        s.word(total, 400, 140, "B-total")
        if currency:
            s.word(currency, 440, 140)
        return s

    d = assemble(doc("9547", "Quantity").words, doc("9547", "Quantity").probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.total.present
    # money: under an amount caption, with cents, or with a currency on its row
    for s in (doc("9547", "Amount"), doc("9547.00", "Quantity"), doc("9547", "Quantity", "USD")):
        d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
        assert d.total.value == 9547


def test_a_number_after_another_keys_caption_is_no_line_value() -> None:
    # "Article Number: 1100438910" in the header grid, taken for a quantity; "Qty: 3" stays one
    s = Sheet()
    s.put("Ref:", 20, 40)
    s.word("BFLH2207", 120, 40, "B-sku")
    s.put("Article Number:", 180, 40)
    s.word("1100438910", 260, 40, "B-quantity")  # in the quantities' column
    s.put("Widget blue", 20, 100, "B-description")
    s.word("W-100", 120, 100, "B-sku")
    s.word("Qty:", 220, 100)
    s.word("3", 260, 100, "B-quantity")
    s.word("4.50", 320, 100, "B-unit_price")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value) for ln in d.lines] == [("W-100", 3)]


def test_a_table_whose_next_page_starts_with_its_total_row_ends_there() -> None:
    # The items run to the end of page 1; page 2 opens with the total row. Reading the table
    # on the next page stops at once (it once read that page again and again, for ever).
    import signal

    s = Sheet()
    for text, x in (("Code", 20), ("Description", 120), ("Qty", 400), ("Price", 450), ("Amount", 510)):
        s.word(text, x, 100)
    for k in range(3):
        s.word(f"AB-{k}", 20, 120 + 15 * k, "B-sku")
        s.word("Bolt", 120, 120 + 15 * k, "B-description")
        s.word("2", 400, 120 + 15 * k, "B-quantity")
        s.word("1.50", 450, 120 + 15 * k, "B-unit_price")
        s.word("3.00", 510, 120 + 15 * k, "B-amount")
    s.words.append(Word(text="Total", box=(20, 40, 55, 49), page=1))
    s.tags.append("O")
    s.words.append(Word(text="9.00", box=(510, 40, 545, 49), page=1))
    s.tags.append("B-total")

    def hung(*_a: object) -> None:
        raise TimeoutError("assembly did not finish")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert [ln.sku.value for ln in d.lines] == ["AB-0", "AB-1", "AB-2"]
    assert d.total.value == 9.0


def test_an_item_whose_values_are_stacked_is_one_line() -> None:
    # "1. Steel bracket" / "Sku - 86422702" / "Qty - 6 st" / "Price - 2,18", item after item
    s = Sheet()
    y = 100
    for n, (desc, sku, qty, price) in enumerate((("Steel bracket", "86422702", "6", "2.18"),
                                                  ("Nitrile gloves", "03518301", "500", "35.12")), 1):
        s.word(f"{n}.", 20, y, "B-line_no")
        s.put(desc, 40, y, "B-description")
        s.put("Sku -", 40, y + 12)
        s.word(sku, 120, y + 12, "B-sku")
        s.put("Qty -", 40, y + 24)
        s.word(qty, 120, y + 24, "B-quantity")
        s.put("Price -", 40, y + 36)
        s.word(price, 120, y + 36, "B-unit_price")
        y += 60
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value, ln.unit_price.value) for ln in d.lines] == [
        ("86422702", 6, 2.18), ("03518301", 500, 35.12)]


def test_codes_in_the_wording_column_and_long_line_numbers_under_an_item_caption() -> None:
    # "Item No. | Item / Description | Pcs | Rate": the first column holds SAP-style line numbers
    # (00010), the code is printed in the wording's cell above the description
    s = Sheet()
    for text, x in (("Item No.", 20), ("Description", 120), ("Pcs", 400), ("Rate", 460)):
        s.word(text, x, 80)
    for k, (no, code, desc, qty, rate) in enumerate((("00010", "T0627370", "Beanie hat", "250", "9.03"),
                                                     ("00020", "K4110195", "Marker black", "25", "17.89"))):
        y = 100 + 30 * k
        s.word(no, 20, y, "B-line_no")
        s.word(code, 120, y, "B-sku")
        s.word(qty, 400, y, "B-quantity")
        s.word(rate, 460, y, "B-unit_price")
        s.put(desc, 120, y + 12, "B-description")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value) for ln in d.lines] == [("T0627370", 250), ("K4110195", 25)]


def test_a_customer_article_number_inside_an_item_block_is_not_the_orders_article() -> None:
    s = Sheet()
    s.put("Steel bracket", 20, 100, "B-description")
    s.word("6", 300, 100, "B-quantity")
    s.word("2.18", 360, 100, "B-unit_price")
    s.put("Article No.", 40, 112)
    s.word("DCX/84-45/713", 120, 112)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.lines and not d.lines[0].sku.present
    # printed in the header, above the lines, it names the order's article
    s2 = Sheet()
    s2.put("Article No.", 20, 40)
    s2.word("10045678", 120, 40)
    s2.put("Steel bracket", 20, 100, "B-description")
    s2.word("6", 300, 100, "B-quantity")
    s2.word("2.18", 360, 100, "B-unit_price")
    d = assemble(s2.words, s2.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.lines[0].sku.value == "10045678"


def test_a_mails_greeting_does_not_join_the_name_after_it() -> None:
    s = Sheet()
    s.word("Hi", 20, 40)
    s.put("Atlas Trading Inc.", 60, 40, "B-supplier")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale("en"))
    assert d.supplier.value == "Atlas Trading Inc."


def test_on_a_scan_codes_of_two_shapes_as_common_are_left_as_read() -> None:
    # three codes read "letter + 7 digits", three "8 digits": no shape to read by, whatever the
    # order the shapes are counted in
    s = Sheet()
    codes = ["Z8303571", "28303572", "U6220220", "57641238", "T8765698", "06894112"]
    for k, code in enumerate(codes):
        y = 100 + 14 * k
        for x, text, tag in ((20, code, "B-sku"), (100, "Bolt", "B-description"), (300, "2", "B-quantity"),
                             (360, "1.50", "B-unit_price"), (420, "3.00", "B-amount")):
            s.word(text, x, y, tag, conf=0.9)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [ln.sku.value for ln in d.lines] == codes


def test_an_item_printed_as_captions_and_values_on_one_row_is_read_by_its_captions() -> None:
    s = Sheet()
    s.put("1. Steel bracket", 20, 100, "B-description")
    s.put("Sku -", 40, 112)
    s.word("86422702", 120, 112, "B-sku")
    s.put("Qty -", 40, 124)
    s.word("6", 120, 124, "B-quantity")
    s.put("2. Green tea bags", 20, 150, "B-description")
    for text, x in (("Sku", 40), ("-", 80), ("57425523", 100), ("Qty", 180), ("-", 220), ("30", 240),
                    ("Price", 300), ("-", 340), ("10.37", 360)):
        s.word(text, x, 162)  # the model tagged nothing on this row
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value) for ln in d.lines] == [("86422702", 6), ("57425523", 30)]
    assert d.lines[1].unit_price.value == 10.37


def test_the_code_under_the_next_items_wording_belongs_to_that_item() -> None:
    # item 1 on one row after its wording; item 2's wording, then its code on a row of its own,
    # then its numbers: the code is item 2's, not more of item 1
    s = Sheet()
    s.put("Canned chickpeas", 40, 100, "B-description")
    s.word("BH.921.424", 40, 112, "B-sku")
    s.word("50", 200, 112, "B-quantity")
    s.word("7.84", 300, 112, "B-unit_price")
    s.put("Lever arch file", 40, 130, "B-description")
    s.word("HV.601.888", 40, 142, "B-sku")
    s.word("100", 200, 154, "B-quantity")
    s.word("21.25", 300, 166, "B-unit_price")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert [(ln.sku.value, ln.quantity.value, ln.unit_price.value) for ln in d.lines] == [
        ("BH.921.424", 50, 7.84), ("HV.601.888", 100, 21.25)]


def test_a_party_row_goes_on_past_the_last_word_the_model_tagged() -> None:
    s = Sheet()
    s.put("DP world Unit 11", 20, 110, "B-ship_to")
    s.word("Jebel", 20, 121, "I-ship_to")
    s.word("Ali", 60, 121)  # the model stopped before the row's end
    s.word("Free", 100, 121)
    s.word("Zone", 140, 121)
    s.word("Tel:", 400, 121)  # another key, far off: not the party's
    s.word("DUBAI", 20, 132, "I-ship_to")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.ship_to.value == "DP world Unit 11, Jebel Ali Free Zone, DUBAI"
    # a run of untagged words that ends at another field's word is left as the model read it
    s2 = Sheet()
    s2.put("ACME Trading", 20, 110, "B-buyer")
    s2.word("Order", 100, 121)
    s2.word("4711", 140, 121, "B-po_number")
    s2.word("Main", 20, 121, "I-buyer")
    s2.word("Street", 60, 121, "I-buyer")
    d = assemble(s2.words, s2.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert "Order" not in str(d.buyer.value)


def test_the_total_of_one_section_is_not_the_order_total() -> None:
    def sheet(grand: bool) -> Sheet:
        s = Sheet()
        for k, (sku, qty) in enumerate((("A-1", "10"), ("A-2", "20"))):
            s.word(sku, 20, 100 + 12 * k, "B-sku")
            s.word(qty, 200, 100 + 12 * k, "B-quantity")
            s.word("5.00", 300, 100 + 12 * k, "B-unit_price")
        s.word("TOTALS", 20, 130)
        s.word("150.00", 300, 130)
        for k, (sku, qty) in enumerate((("B-1", "30"), ("B-2", "40"))):
            s.word(sku, 20, 200 + 12 * k, "B-sku")
            s.word(qty, 200, 200 + 12 * k, "B-quantity")
            s.word("5.00", 300, 200 + 12 * k, "B-unit_price")
        s.word("TOTALS", 20, 230)
        s.word("350.00", 300, 230, "B-total")
        if grand:
            s.word("Grand", 20, 260)
            s.word("total", 60, 260)
            s.word("500.00", 300, 260, "B-total")
        return s

    s = sheet(grand=False)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert len(d.lines) == 4 and not d.total.present  # 350 is the second delivery's, the order's is not printed
    s = sheet(grand=True)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.total.value == 500.0
    # a subtotal before the total is another caption: the total stands
    s = Sheet()
    s.word("A-1", 20, 100, "B-sku")
    s.word("10", 200, 100, "B-quantity")
    s.word("5.00", 300, 100, "B-unit_price")
    s.word("Sub", 20, 130)
    s.word("Total:", 60, 130)
    s.word("50.00", 300, 130)
    s.word("Total:", 60, 142)
    s.word("60.00", 300, 142, "B-total")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.total.value == 60.0


def test_a_count_right_aligned_under_a_quantity_caption_is_no_total() -> None:
    s = Sheet()

    def word(text: str, x0: float, x1: float, y: float, tag: str = "O") -> None:
        s.words.append(Word(text=text, box=(x0, y, x1, y + 9), page=0))
        s.tags.append(tag)

    word("Markets", 20, 50, 80)
    word("Quantity", 450, 480, 80)  # a left-aligned caption over right-aligned numbers
    word("%", 510, 517, 80)
    word("BR", 20, 32, 92)
    word("312", 486, 500, 92)
    word("Total:", 420, 440, 104)
    word("8", 480, 484, 104)
    word("885", 486, 500, 104, "B-total")
    word("Blue", 20, 40, 140, "B-description")
    word("1.55", 450, 466, 140, "B-unit_price")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.total.present


def test_a_hebrew_title_reads_right_to_left_and_shekels_name_the_currency() -> None:
    s = Sheet()
    s.word("PQ26000005", 100, 10)
    s.word("מספר", 150, 10)
    s.word("מחיר", 190, 10)  # "הצעת מחיר" (price quote), its words printed right to left
    s.word("הצעת", 230, 10)
    s.word("שטובה", 300, 30, "B-supplier")  # the addressee, which on a purchase order is the supplier
    s.word("אדיר", 300, 200, "B-buyer")
    s.word('ש"ח', 100, 300)
    s.word("324.50", 140, 300)
    unsure = s.probs()
    for k, t in enumerate(s.tags):
        if t != "O":
            unsure[k] = 0.5 / (len(ID2LABEL) - 1)
            unsure[k, LABEL2ID[t]] = 0.5
    d = assemble(s.words, unsure, ID2LABEL, Locale(lang="he", decimal="."))
    assert d.meta.get("document_type") == "sales"
    assert d.buyer.value == "שטובה" and d.supplier.value == "אדיר"
    assert d.currency.value == "ILS"


def test_a_row_of_captions_each_with_its_value_is_an_item_not_a_table_header() -> None:
    s = Sheet()

    def row(y: float, cells: list[tuple[str, float, float, str]]) -> None:
        for text, x0, x1, tag in cells:
            s.words.append(Word(text=text, box=(x0, y, x1, y + 11), page=0))
            s.tags.append(tag)

    row(245, [("Nitrile", 50, 78, "B-description"), ("gloves", 80, 109, "I-description")])
    row(258, [("Artikelnummer:", 60, 124, "O"), ("22013710", 127, 167, "B-sku"), ("Hoeveelheid:", 181, 234, "O"),
              ("15", 237, 247, "B-quantity"), ("Eenheidsprijs:", 261, 318, "O"), ("23,06", 321, 343, "B-unit_price"),
              ("Bedrag:", 357, 389, "O"), ("345,90", 391, 419, "B-amount")])
    # the next item's wording ends in a number under the caption "Hoeveelheid:" above, and its
    # values are stacked on rows of their own
    row(280, [("Tomato", 50, 83, "B-description"), ("passata", 86, 120, "I-description"), ("x", 169, 174, "I-description"),
              ("24", 176, 186, "I-description")])
    for k, (cap, x1, val, tag) in enumerate((("Artikelnummer:", 124, "66923399", "B-sku"), ("Hoeveelheid:", 113, "4", "B-quantity"),
                                            ("Eenheidsprijs:", 117, "6,23", "B-unit_price"), ("Bedrag:", 92, "24,92", "B-amount"))):
        row(294 + 13.5 * k, [(cap, 60, x1, "O"), (val, x1 + 2.5, x1 + 2.5 + 8 * len(val), tag)])
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="nl", decimal=","))
    assert [(ln.sku.value, ln.quantity.value, ln.unit_price.value) for ln in d.lines] == [
        ("22013710", 15, 23.06), ("66923399", 4, 6.23)]
    assert all(":" not in str(ln.description.value) for ln in d.lines)


def test_a_ship_to_of_one_word_is_a_fragment_not_an_address() -> None:
    s = Sheet()
    s.put("SELLER: Hennes GBC AB", 20, 100)
    s.put("Samuelsgatan 46A", 20, 112)
    s.put("SE-106 38", 20, 124)
    s.word("Stockholm", 110, 124, "I-ship_to")  # one word of another block, tagged on its own
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.ship_to.present
    s = Sheet()
    s.put("Kerkstraat 6", 20, 112, "B-ship_to")
    s.put("Rotterdam", 20, 124, "I-ship_to")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.ship_to.value == "Kerkstraat 6, Rotterdam"


def test_on_a_scan_an_item_row_whose_quantity_ocr_lost_takes_amount_over_price() -> None:
    s = Sheet()
    for x, text in ((20, "Pos."), (60, "Code"), (140, "Libellé"), (300, "QTE"), (360, "Prix"), (440, "Total")):
        s.word(text, x, 80, conf=0.9)
    rows = [("1", "N4528665", "Rain", "", "68,89", "688,90"),  # the quantity column came out empty
            ("2", "M8022025", "Gloves", "120", "4,19", "502,80"),
            ("3", "D7747729", "Beans", "", "4,49", "100,00")]  # 100 / 4.49 is no whole number: not an item
    for k, (pos, sku, desc, qty, price, amount) in enumerate(rows):
        y = 100 + 14 * k
        s.word(pos, 20, y, "B-unit_price" if not qty else "B-line_no", conf=0.8)  # the model took the position for a price
        s.word(sku, 60, y, "B-sku", conf=0.8)
        s.word(desc, 140, y, "B-description", conf=0.8)
        if qty:
            s.word(qty, 300, y, "B-quantity", conf=0.8)
        s.word(price, 360, y, conf=0.8)
        s.word(amount, 440, y, conf=0.8)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="fr", decimal=","))
    got = {ln.sku.value: (ln.quantity.value, ln.unit_price.value, ln.amount.value) for ln in d.lines}
    assert got["N4528665"] == (10, 68.89, 688.9) and got["M8022025"] == (120, 4.19, 502.8)
    assert got.get("D7747729", (None,))[0] is None
    lost = next(ln for ln in d.lines if ln.sku.value == "N4528665")
    assert lost.quantity.confidence < 0.9 and lost.quantity.source == []  # derived, for a CSR to confirm


def test_items_of_captions_and_values_then_stacked_blocks_each_starting_with_their_code() -> None:
    s = Sheet()

    def row(y: float, cells: list[tuple[str, str]]) -> None:
        x = 40.0
        for text, tag in cells:
            s.words.append(Word(text=text, box=(x, y, x + 6 * len(text), y + 9), page=0))
            s.tags.append(tag)
            x += 6 * len(text) + 4

    # one item on one row, its captions set off by dashes (a row of captions, but no table header)
    row(240, [("REF", "O"), ("-", "O"), ("A1146817", "B-sku"), ("Désignation", "O"), ("-", "O"),
              ("Whiteboard", "B-description"), ("marker", "I-description"), ("Qté", "O"), ("-", "O"),
              ("48", "B-quantity"), ("PU", "O"), ("-", "O"), ("6,39", "B-unit_price"), ("Total", "O"), ("ligne", "O"),
              ("-", "O"), ("306,72", "B-amount")])
    # then items stacked on rows of their own, each block starting with its code
    y = 260.0
    for sku, desc, qty, price, amount in (("X9735267", "Gear", "6", "3,40", "20,40"),
                                          ("C4912675", "Stapler", "5", "6,993", "34,97"),
                                          ("A9023452", "Seeds", "15", "15,89", "238,35")):
        row(y, [("REF", "O"), ("-", "O"), (sku, "B-sku")])
        row(y + 10, [("Désignation", "O"), ("-", "O"), (desc, "B-description")])
        row(y + 20, [("Qté", "O"), ("-", "O"), (qty, "B-quantity")])
        row(y + 30, [("PU", "O"), ("-", "O"), (price, "B-unit_price")])
        row(y + 40, [("Total", "O"), ("ligne", "O"), ("-", "O"), (amount, "B-amount")])
        y += 57
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="fr", decimal=","))
    assert [(ln.sku.value, ln.quantity.value, ln.unit_price.value) for ln in d.lines] == [
        ("A1146817", 48, 6.39), ("X9735267", 6, 3.4), ("C4912675", 5, 6.993), ("A9023452", 15, 15.89)]


def _sure_of(s: Sheet, field: str) -> np.ndarray:
    """The sheet's probabilities, with the model certain of the words tagged ``field``."""
    p = s.probs()
    for k, t in enumerate(s.tags):
        if t.endswith(field):
            p[k] = 0.0
            p[k, LABEL2ID[t]] = 1.0
    return p


def test_a_buyer_read_in_a_one_row_delivery_place_is_no_name() -> None:
    # "Delivery Location: Coimbatore, Tamil Nadu" read as the buyer: a place, not the name of
    # the company the goods go to
    s = Sheet()
    s.put("Delivery Location:", 20, 100)
    s.put("Coimbatore, Tamil Nadu", 180, 100, "B-buyer")
    d = assemble(s.words, _sure_of(s, "buyer"), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.ship_to.value == "Coimbatore, Tamil Nadu" and not d.buyer.present
    # a delivery block of several rows is headed by the buyer's name
    s = Sheet()
    s.put("Delivery Location:", 20, 100)
    s.put("Northwind Traders", 180, 100, "B-buyer")
    s.put("12 Harbour Road", 180, 112, "I-buyer")
    s.put("Leeds", 180, 124, "I-buyer")
    d = assemble(s.words, _sure_of(s, "buyer"), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.buyer.value == "Northwind Traders" and d.ship_to.value == "Northwind Traders, 12 Harbour Road, Leeds"


def test_a_post_box_is_no_name() -> None:
    s = Sheet()
    s.put("Purchase Order", 300, 10)
    s.put("PO BOX 3425 RHODES NSW 2138", 20, 40, "B-buyer")  # the name is only in a logo
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.buyer.present
    s = Sheet()
    s.put("Purchase Order", 300, 10)
    s.put("Northwind Traders", 20, 30)
    s.put("Postfach 10 20 30", 20, 40, "B-buyer")
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="de", decimal=","))
    assert d.buyer.value == "Northwind Traders"


def test_a_ship_to_read_inside_a_later_pages_buyer_block_is_not_the_ship_to() -> None:
    s = Sheet()
    s.put("BUYER: Acme Retail Ltd", 20, 100)
    s.put("Via Roma 1", 60, 112)
    for page, name in ((1, "Acme Retail Private Limited"), ):
        s.put(f"BUYER: {name}", 20, 100, page=page)
        s.put("A Wing, 2nd floor", 60, 112, "B-ship_to", page=page)
        s.put("New Delhi 110017", 60, 124, "B-ship_to", page=page)
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.ship_to.present


def test_a_party_printed_at_word_spacing_after_another_keys_caption_is_no_party() -> None:
    s = Sheet()

    def row(y: float, cells: list[tuple[str, str]]) -> None:
        x = 200.0
        for text, tag in cells:
            s.words.append(Word(text=text, box=(x, y, x + 6 * len(text), y + 9), page=0))
            s.tags.append(tag)
            x += 6 * len(text) + 4  # word spacing: the caption is in the value's own run

    row(100, [("Forwarder:", "O"), ("CEVA", "B-ship_to"), ("Logistics", "I-ship_to")])
    row(112, [("Currency:", "O"), ("USD", "B-currency")])
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert not d.ship_to.present and d.currency.value == "USD"
    s = Sheet()
    row(100, [("Ship", "O"), ("to:", "O"), ("CEVA", "B-ship_to"), ("Logistics", "I-ship_to")])
    d = assemble(s.words, s.probs(), ID2LABEL, Locale(lang="en", decimal="."))
    assert d.ship_to.value == "CEVA Logistics"
