"""Every reader on small generated inputs: the traps of real order documents, one by one."""

from __future__ import annotations

import json

import pytest

from extractors.email import html_to_text, looks_like_order_text
from extractors.ocr import tesseract_available
from extractors.registry import documents_to_json, documents_to_text, read_bytes, sniff
from extractors.text import layout_text
from intake.core.domain import DocumentKind
from intake.core.errors import LimitExceeded, ReadError
from intake.core.settings import Limits
from tests.bad_inputs.generate import BAD_INPUTS
from tests.extractors import samples

need_tesseract = pytest.mark.skipif(not tesseract_available(), reason="tesseract binary not installed (apt-get install tesseract-ocr)")


def texts(data: bytes, **kw: object) -> list[str]:
    return [w.text for d in read_bytes(data, **kw) for w in d.words]  # type: ignore[arg-type]


# --- PDF ---------------------------------------------------------------------------------

def test_pdf_two_pages_keeps_page_index_and_words() -> None:
    [doc] = read_bytes(samples.pdf_order_two_pages(), filename="po.pdf")
    assert doc.kind == DocumentKind.pdf and doc.name == "po.pdf"
    assert len(doc.pages) == 2
    p1 = [w.text for w in doc.pages[0].words]
    assert p1[:4] == ["PURCHASE", "ORDER", "PO", "Number:"]
    assert "PO-4711" in p1
    assert [w.text for w in doc.pages[1].words][:3] == ["AB-104", "40", "4.50"]
    assert all(w.page == 1 for w in doc.pages[1].words)
    # top-left origin: the title is above (smaller y than) the table
    title = doc.pages[0].words[0]
    row = next(w for w in doc.pages[0].words if w.text == "AB-101")
    assert title.box[1] < row.box[1]
    assert 70 <= row.box[0] <= 74 and row.box[2] > row.box[0]


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_pdf_rotated_pages_give_displayed_boxes(rotation: int) -> None:
    [doc] = read_bytes(samples.pdf_rotated(rotation))
    page = doc.pages[0]
    assert (page.width, page.height) == ((600, 800) if rotation in (0, 180) else (800, 600))
    assert [w.text for w in page.words] == ["Order", "ROT-777", "quantity", "12"]
    xs = [w.box[0] for w in page.words]
    assert xs == sorted(xs)  # reads left to right on the displayed page
    first = page.words[0].box
    assert abs(first[0] - 50) < 2 and 85 < first[3] < 105


def test_pdf_doubled_bold_glyphs_are_kept_once() -> None:
    words = texts(samples.pdf_doubled_bold())
    assert words[:3] == ["Purchase", "Order", "88123"]
    assert "Total" in words and "42.00" in words
    assert "Mississippi" in words  # genuine double letters survive


def test_pdf_text_layer_without_spaces_is_split_by_gaps() -> None:
    words = texts(samples.pdf_spaceless())
    assert ["SKU", "AB-12", "Qty", "25", "Price", "9.90"] == words[-6:]


def test_pdf_clipped_value_reads_on_into_its_hidden_tail_inside_its_cell() -> None:
    doc = read_bytes(samples.pdf_clipped(), "input.pdf")[0]
    words = [w.text for w in doc.words]
    # the value is whole ("long h" + "idden overflow text"), and the next column follows it
    assert words[2:] == ["Widget", "steel", "long", "hidden", "overflow", "text", "7"]
    qty = doc.words[-1]
    tail = doc.words[5:8]
    # the tail's words share the last visible word's box: none reaches into the next column
    assert all(w.box[2] < qty.box[0] for w in tail)
    assert [w.box[0] for w in tail] == sorted(w.box[0] for w in tail)


def test_pdf_text_hidden_by_a_clip_without_visible_start_is_not_read() -> None:
    words = texts(samples.pdf_clipped_away())
    assert "secret" not in words and words[-1] == "7"


def test_pdf_hebrew_in_logical_order() -> None:
    data = samples.pdf_hebrew()
    if data is None:
        pytest.skip("DejaVuSans font not installed")
    words = texts(data)
    assert words == ["הזמנה", "מספר", "176706"]


def test_pdf_page_limit() -> None:
    with pytest.raises(LimitExceeded, match="3 pages"):
        read_bytes(samples.pdf_pages(3), limits=Limits(max_pages=2))


def test_byte_limit() -> None:
    with pytest.raises(LimitExceeded, match="bytes"):
        read_bytes(samples.pdf_pages(1), limits=Limits(max_upload_bytes=100))


# --- spreadsheets ------------------------------------------------------------------------

def test_xlsx_sheets_merged_cells_formulas_dates() -> None:
    [doc] = read_bytes(samples.xlsx_order())
    assert doc.kind == DocumentKind.xlsx and doc.meta["sheets"] == ["Order", "Delivery"]
    assert len(doc.pages) == 2
    p1 = [w.text for w in doc.pages[0].words]
    assert p1[:3] == ["Purchase", "Order", "PO-9001"]
    assert "2026-03-14" in p1
    assert p1[-8:] == ["XK-100", "3", "2.50", "7.50", "XK-200", "10", "1.25", "12.50"]
    assert [w.text for w in doc.pages[1].words][:2] == ["Ship", "to"]
    # grid: row index * 12, columns left to right
    row = [w for w in doc.pages[0].words if w.box[1] == 4 * 12]
    assert [w.text for w in row] == ["XK-100", "3", "2.50", "7.50"]
    assert [w.box[0] for w in row] == sorted(w.box[0] for w in row)


@pytest.mark.parametrize(
    ("case", "row"),
    [
        ("bom_utf8", ["AB-1", "2", "3.50"]),
        ("semicolon_decimal_comma", ["X-1", "5", "12,50"]),
        ("crlf", ["AB-2", "4", "1.25"]),
        ("quoted_commas", ["AB-1", "Bolt,", "steel,", "M8", "100"]),
        ("latin1", ["M-2", "Café", "crème", "4"]),
        ("tab", ["AB-1", "2", "3.50"]),
        ("pipe", ["AB-1", "2", "3.50"]),
    ],
)
def test_csv_variants(case: str, row: list[str]) -> None:
    data = samples.CSV_SAMPLES[case]
    assert sniff(data) == "csv"
    [doc] = read_bytes(data)
    assert doc.kind == DocumentKind.csv
    words = [w.text for w in doc.words]
    i = words.index(row[0])
    assert words[i : i + len(row)] == row
    assert "\ufeff" not in words[0]


def test_csv_blank_row_keeps_its_place() -> None:
    [doc] = read_bytes(samples.CSV_SAMPLES["crlf"])
    ys = sorted({w.box[1] for w in doc.words})
    assert ys == [0, 12, 36, 48]  # row 2 is blank


# --- email -------------------------------------------------------------------------------

def test_email_body_then_pdf_attachment_with_meta() -> None:
    docs = read_bytes(samples.eml_with_pdf())
    assert [d.kind for d in docs] == [DocumentKind.email_body, DocumentKind.pdf]
    body, pdf = docs
    assert body.meta["part"] == "body" and pdf.meta["part"] == "attachment"
    assert pdf.meta["filename"] == "po-4711.pdf" and pdf.name == "po-4711.pdf"
    for d in docs:
        assert d.meta["from"] == "Buyer <buyer@example.com>"
        assert d.meta["subject"] == "Order PO-4711" and d.meta["message_id"] == "<m1@example.com>"
        assert set(d.meta) >= {"from", "to", "subject", "message_id", "in_reply_to", "date", "part", "filename"}
    assert not looks_like_order_text(body.text or "")
    assert "AB-105" in [w.text for w in pdf.words]


def test_email_html_only_drops_script_and_keeps_rows() -> None:
    [doc] = read_bytes(samples.eml_html_only())
    assert doc.kind == DocumentKind.email_body
    lines = (doc.text or "").splitlines()
    assert "alert" not in (doc.text or "") and "color" not in (doc.text or "")
    assert "ZZ-10\t4\t9.99" in lines
    assert "Thanks & regards" in lines
    assert looks_like_order_text(doc.text or "")


def test_email_forward_nested_message_and_its_attachment() -> None:
    docs = read_bytes(samples.eml_forward())
    kinds = [d.kind for d in docs]
    assert kinds == [DocumentKind.email_body, DocumentKind.email_body, DocumentKind.csv]
    assert docs[1].meta["from"] == "original@customer.com"
    assert docs[2].meta["filename"] == "lines.csv" and docs[2].meta["message_id"] == "<inner@customer.com>"


def test_email_bad_charset_label_is_detected() -> None:
    [doc] = read_bytes(samples.eml_bad_charset())
    assert "Stück" in (doc.text or "") and "Größe" in (doc.text or "")


def test_email_utf8_declared_latin1() -> None:
    [doc] = read_bytes(samples.eml_utf8_declared_latin1())
    assert "Stück" in [w.text.rstrip(",") for w in doc.words]


def test_looks_like_order_text() -> None:
    assert looks_like_order_text("Please send 10 pcs of AB-100 at 4.50 EUR and 5 pcs AB-200 at 3.00")
    assert not looks_like_order_text("Hi, please find attached our purchase order. Best regards, Anna")


def test_html_to_text_entities_and_pre() -> None:
    assert html_to_text("<p>a&nbsp;b &lt;c&gt;</p><pre>x  y</pre>") == "a b <c>\n\nx  y"


# --- text layout -------------------------------------------------------------------------

def test_layout_text_grid_and_tabs() -> None:
    doc = layout_text("ab  cd\n\tx")
    w = doc.words
    assert [x.text for x in w] == ["ab", "cd", "x"]
    assert w[0].box == (0.0, 0.0, 12.0, 12.0)
    assert w[1].box == (24.0, 0.0, 36.0, 12.0)
    assert w[2].box == (48.0, 12.0, 54.0, 24.0)  # tab -> column 8


# --- OCR ---------------------------------------------------------------------------------

@need_tesseract
def test_png_is_read_by_ocr_with_confidence() -> None:
    [doc] = read_bytes(samples.png_order(), limits=Limits(ocr_languages="eng"))
    assert doc.kind == DocumentKind.scan
    words = [w.text for w in doc.words]
    assert "55231" in words and "ORDER" in words
    assert all(w.conf is not None and 0 <= w.conf <= 1 for w in doc.words)


@need_tesseract
def test_scanned_pdf_page_goes_to_ocr_in_points() -> None:
    import io

    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(500, 150))
    c.drawImage(ImageReader(io.BytesIO(samples.png_order())), 0, 0, width=500, height=150)
    c.showPage()
    c.save()
    [doc] = read_bytes(buf.getvalue(), limits=Limits(ocr_languages="eng", ocr_dpi=200))
    assert doc.kind == DocumentKind.scan and doc.meta["ocr_pages"] == [0]
    w = next(w for w in doc.words if w.text == "55231")
    assert 0 < w.box[0] < w.box[2] <= 500 and 0 < w.box[1] < w.box[3] <= 150


# --- EDI, sniffing, bad input ------------------------------------------------------------

def test_edi_is_recognised_by_content() -> None:
    x12 = b"\xef\xbb\xbf  ISA*00*          *00*          *ZZ*A*ZZ*B*260101*1200*U*00401*000000001*0*P*>~"
    [doc] = read_bytes(x12, filename="order.txt")
    assert doc.kind == DocumentKind.x12 and doc.pages == [] and (doc.text or "").lstrip().startswith("ISA")
    [doc] = read_bytes(b"UNA:+.? 'UNB+UNOC:3+S+R+260101:1200+1'", filename="x.pdf")
    assert doc.kind == DocumentKind.edifact


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.4\n", "pdf"),
        (b"\x89PNG\r\n\x1a\nxxxx", "png"),
        (b"\xff\xd8\xff\xe0", "jpeg"),
        (b"II*\x00abc", "tiff"),
        (b"From: a@b.c\nSubject: hi\n\nbody", "eml"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "html"),
        (b"Dear sir, we would like to order some goods.\nThanks.", "text"),
    ],
)
def test_sniff(data: bytes, kind: str) -> None:
    assert sniff(data) == kind


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_raise_named_errors(case: str) -> None:
    make, error = BAD_INPUTS[case]
    with pytest.raises(error) as info:
        read_bytes(make(), limits=Limits(max_mime_depth=10))
    assert "\n" not in str(info.value) and str(info.value)


def test_json_and_text_rendering() -> None:
    docs = read_bytes(samples.pdf_order_two_pages(), filename="po.pdf")
    js = documents_to_json(docs)
    json.dumps(js)
    d = js["documents"][0]
    assert d["kind"] == "pdf" and d["name"] == "po.pdf" and len(d["pages"]) == 2
    w = d["pages"][0]["words"][0]
    assert w["text"] == "PURCHASE" and len(w["box"]) == 4
    text = documents_to_text(docs)
    assert "-- page 2" in text and "AB-104 40 4.50" in text.splitlines()


def test_unexpected_errors_never_escape() -> None:
    # a PDF header followed by a broken xref and objects, and a page without contents: no words
    # to read, which is a ReadError with a one-line reason, never pdfium's own exception
    data = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/Contents 4 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"
    with pytest.raises(ReadError) as exc:
        read_bytes(data)
    assert exc.value.reason and "\n" not in exc.value.reason
