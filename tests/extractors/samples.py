"""Small generated sample documents for the reader tests (and the committed fixtures).

Each builder returns bytes made here with reportlab / openpyxl / the stdlib, so the tests
need no binary files and show exactly what every trap looks like. ``python -m
tests.extractors.samples`` writes them under fixtures/orders/read_<case>/ with the words
the reader is expected to find.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEBREW_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _canvas(buf: io.BytesIO, size: tuple[float, float] = (595, 842)):  # type: ignore[no-untyped-def]
    from reportlab.pdfgen import canvas

    return canvas.Canvas(buf, pagesize=size, pageCompression=0)


def pdf_order_two_pages() -> bytes:
    """A PO whose line table continues on page 2."""
    buf = io.BytesIO()
    c = _canvas(buf)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(72, 780, "PURCHASE ORDER")
    c.setFont("Helvetica", 10)
    c.drawString(72, 760, "PO Number: PO-4711")
    c.drawString(72, 745, "Date: 2026-03-01")
    y = 700
    c.drawString(72, y, "Item")
    c.drawString(200, y, "Qty")
    c.drawString(260, y, "Unit Price")
    for i in range(1, 4):
        y -= 16
        c.drawString(72, y, f"AB-{100 + i}")
        c.drawString(200, y, str(10 * i))
        c.drawString(260, y, f"{i}.50")
    c.showPage()
    c.setFont("Helvetica", 10)
    y = 780
    for i in range(4, 6):
        c.drawString(72, y, f"AB-{100 + i}")
        c.drawString(200, y, str(10 * i))
        c.drawString(260, y, f"{i}.50")
        y -= 16
    c.drawString(200, y - 10, "Total: 1,234.50")
    c.showPage()
    c.save()
    return buf.getvalue()


def pdf_rotated(rotation: int = 90) -> bytes:
    """A portrait page with /Rotate whose text is drawn turned so that it reads upright
    when displayed (how scanners and landscape reports store pages)."""
    import pypdfium2 as pdfium

    buf = io.BytesIO()
    c = _canvas(buf, (600, 800))
    c.setFont("Helvetica", 12)
    # (origin, angle) placing the line at about x=50, y=100 of the displayed page
    place = {0: ((50, 700), 0), 90: ((100, 50), 90), 180: ((550, 100), 180), 270: ((500, 750), -90)}
    (x, y), angle = place[rotation]
    c.saveState()
    c.translate(x, y)
    c.rotate(angle)
    c.drawString(0, 0, "Order ROT-777 quantity 12")
    c.restoreState()
    c.showPage()
    c.save()
    pdf = pdfium.PdfDocument(buf.getvalue())
    pdf[0].set_rotation(rotation)
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def pdf_doubled_bold() -> bytes:
    """Fake bold: the heading drawn twice 0.4 pt apart, each glyph twice in the text layer."""
    buf = io.BytesIO()
    c = _canvas(buf)
    c.setFont("Helvetica", 14)
    for dx in (0.0, 0.4):
        c.drawString(72 + dx, 760, "Purchase Order 88123")
    # glyph by glyph doubling, as some generators do: P P u u r r ...
    t = c.beginText(72, 730)
    t.setFont("Helvetica", 12)
    x = 72.0
    from reportlab.pdfbase.pdfmetrics import stringWidth

    for ch in "Total 42.00":
        for dx in (0.0, 0.3):
            t.setTextOrigin(x + dx, 730)
            t.textOut(ch)
        x += stringWidth(ch, "Helvetica", 12)
    c.drawText(t)
    c.drawString(72, 700, "Hello Mississippi")  # real double letters must stay
    c.showPage()
    c.save()
    return buf.getvalue()


def pdf_spaceless() -> bytes:
    """A text layer without space characters: words placed by TJ offsets only."""
    buf = io.BytesIO()
    c = _canvas(buf)
    c.setFont("Helvetica", 10)
    c.drawString(72, 790, "x")  # makes the font resource available
    # -300 thousandths of an em = a 3 pt gap at 10 pt: a visual space, no space char
    c._code.append("BT /F1 10 Tf 1 0 0 1 72 760 Tm [(SKU)-300(AB-12)-300(Qty)-300(25)-300(Price)-300(9.90)] TJ ET")
    c.showPage()
    c.save()
    return buf.getvalue()


def pdf_clipped() -> bytes:
    """A long value clipped by its table cell; the neighbouring column follows right after."""
    buf = io.BytesIO()
    c = _canvas(buf)
    c.setFont("Helvetica", 10)
    c.drawString(72, 760, "Description")
    c.drawString(160, 760, "Qty")
    c.saveState()
    p = c.beginPath()
    p.rect(70, 735, 85, 15)
    c.clipPath(p, stroke=0, fill=0)
    c.drawString(72, 740, "Widget steel long hidden overflow text")
    c.restoreState()
    c.drawString(160, 740, "7")
    c.showPage()
    c.save()
    return buf.getvalue()


def pdf_clipped_away() -> bytes:
    """Text drawn wholly outside its clip path (never shown) beside a visible column."""
    buf = io.BytesIO()
    c = _canvas(buf)
    c.setFont("Helvetica", 10)
    c.drawString(72, 760, "Description")
    c.drawString(160, 760, "Qty")
    c.saveState()
    p = c.beginPath()
    p.rect(70, 735, 40, 15)
    c.clipPath(p, stroke=0, fill=0)
    c.drawString(120, 740, "secret words")
    c.restoreState()
    c.drawString(160, 740, "7")
    c.showPage()
    c.save()
    return buf.getvalue()


def pdf_hebrew() -> bytes | None:
    """Hebrew drawn in visual order (as bidi-aware producers write it); None without a font."""
    if not HEBREW_FONT.exists():
        return None
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVu", str(HEBREW_FONT)))
    buf = io.BytesIO()
    c = _canvas(buf)
    c.setFont("DejaVu", 12)
    logical = "הזמנה מספר"  # "order number"
    c.drawString(300, 760, logical[::-1])  # visual order: reversed
    c.drawString(200, 760, "176706")
    c.showPage()
    c.save()
    return buf.getvalue()


def pdf_pages(n: int) -> bytes:
    buf = io.BytesIO()
    c = _canvas(buf)
    for i in range(n):
        c.drawString(72, 760, f"Page number {i + 1} of the order")
        c.showPage()
    c.save()
    return buf.getvalue()


def pdf_encrypted() -> bytes:
    buf = io.BytesIO()
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(buf, encrypt="secret-password")
    c.drawString(72, 760, "Secret order")
    c.showPage()
    c.save()
    return buf.getvalue()


def png_order() -> bytes:
    """A rendered 'scan' of a short order (PIL text at a readable size)."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (1000, 300), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(HEBREW_FONT), 36) if HEBREW_FONT.exists() else ImageFont.load_default()
    d.text((40, 40), "PURCHASE ORDER 55231", fill=0, font=font)
    d.text((40, 140), "Widget 12 pcs 4.50", fill=0, font=font)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _patch_cached_values(data: bytes, values: dict[str, str]) -> bytes:
    """Write cached formula results, as Excel would (openpyxl writes formulas without them)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                text = body.decode("utf-8")
                for ref, v in values.items():
                    # openpyxl writes <v/>, <v></v> or no <v> at all, depending on whether lxml is installed
                    text = re.sub(rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?', rf"\g<1><v>{v}</v>", text)
                body = text.encode("utf-8")
            dst.writestr(info, body)
    return out.getvalue()


def xlsx_order() -> bytes:
    """Two sheets, a merged title, a date, formulas with cached values, a price format."""
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Order"
    ws["A1"] = "Purchase Order PO-9001"
    ws.merge_cells("A1:D1")
    ws["A2"] = "Date"
    ws["B2"] = dt.datetime(2026, 3, 14)
    ws.append([])
    ws.append(["SKU", "Qty", "Unit Price", "Amount"])
    ws.append(["XK-100", 3, 2.5, "=B5*C5"])
    ws.append(["XK-200", 10, 1.25, "=B6*C6"])
    ws["C5"].number_format = "0.00"
    ws["D5"].number_format = "#,##0.00"
    ws["D6"].number_format = "#,##0.00"
    ws2 = wb.create_sheet("Delivery")
    ws2["A1"] = "Ship to"
    ws2["B1"] = "Main Street 5, Springfield"
    buf = io.BytesIO()
    wb.save(buf)
    return _patch_cached_values(buf.getvalue(), {"D5": "7.5", "D6": "12.5"})


def zip_bomb_xlsx(expanded: int = 5_000_000) -> bytes:
    """A 'workbook' whose one sheet inflates from a few kB to ``expanded`` bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * expanded)
    return out.getvalue()


CSV_SAMPLES: dict[str, bytes] = {
    "bom_utf8": "\ufeffSKU,Qty,Price\nAB-1,2,3.50\nAB-2,4,1.25\n".encode("utf-8"),
    "semicolon_decimal_comma": "Artikel;Menge;Preis\nX-1;5;12,50\nX-2;1;3,99\n".encode("utf-8"),
    "crlf": b"SKU,Qty,Price\r\nAB-1,2,3.50\r\n\r\nAB-2,4,1.25\r\nTotal,,12.00\r\n",
    "quoted_commas": b'SKU,Description,Qty\nAB-1,"Bolt, steel, M8",100\nAB-2,"Nut, ""hex""",50\n',
    "latin1": "Artikel;Beschreibung;Menge\nM-1;Größe Ä;3\nM-2;Café crème;4\n".encode("latin-1"),
    "tab": b"SKU\tQty\tPrice\nAB-1\t2\t3.50\nAB-2\t4\t1.25\n",
    "pipe": b"SKU|Qty|Price\nAB-1|2|3.50\nAB-2|4|1.25\n",
}


def eml_with_pdf() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Buyer <buyer@example.com>"
    msg["To"] = "orders@example.org"
    msg["Subject"] = "Order PO-4711"
    msg["Message-ID"] = "<m1@example.com>"
    msg["Date"] = "Mon, 02 Mar 2026 10:00:00 +0100"
    msg.set_content("Hello,\n\nplease find our order attached.\n\nRegards")
    msg.add_attachment(pdf_order_two_pages(), maintype="application", subtype="pdf", filename="po-4711.pdf")
    return msg.as_bytes()


def eml_html_only() -> bytes:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.org"
    msg["Subject"] = "Order"
    msg["Message-ID"] = "<m2@example.com>"
    html = (
        "<html><head><style>td{color:red}</style><script>alert('x');var q=1;</script></head><body>"
        "<p>Please deliver:</p><table><tr><th>SKU</th><th>Qty</th><th>Price</th></tr>"
        "<tr><td>ZZ-10</td><td>4</td><td>9.99</td></tr><tr><td>ZZ-11</td><td>2</td><td>5.00</td></tr></table>"
        "<p>Thanks &amp; regards</p></body></html>"
    )
    msg.set_content(html, subtype="html")
    return msg.as_bytes()


def eml_forward() -> bytes:
    inner = EmailMessage()
    inner["From"] = "original@customer.com"
    inner["To"] = "sales@example.org"
    inner["Subject"] = "PO 5555"
    inner["Message-ID"] = "<inner@customer.com>"
    inner.set_content("Order 5555\nSKU QQ-1 qty 3 price 2.00\n")
    inner.add_attachment(CSV_SAMPLES["bom_utf8"], maintype="text", subtype="csv", filename="lines.csv")
    outer = EmailMessage()
    outer["From"] = "sales@example.org"
    outer["To"] = "orders@example.org"
    outer["Subject"] = "Fwd: PO 5555"
    outer["Message-ID"] = "<outer@example.org>"
    outer.set_content("FYI, see the forwarded order.")
    outer.add_attachment(inner)
    return outer.as_bytes()


def eml_bad_charset() -> bytes:
    body = "Bestellung: 3 Stück Größe M à 4,50 €".encode("utf-8")
    head = (
        b"From: a@b.de\r\nTo: c@d.de\r\nSubject: Bestellung\r\nMessage-ID: <bad@b.de>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"x-unknown-8bit-nonsense\"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head + body + b"\r\n"


def eml_utf8_declared_latin1() -> bytes:
    body = "Menge: 2 Stück, Preis 3,00 €".encode("utf-8")
    head = (
        b"From: a@b.de\r\nTo: c@d.de\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head + body


def eml_nested(depth: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "x@example.com"
    msg["Subject"] = "level 0"
    msg.set_content("innermost 1 pcs AB-1 2.00")
    for level in range(1, depth + 1):
        outer = EmailMessage()
        outer["From"] = "x@example.com"
        outer["Subject"] = f"level {level}"
        outer.set_content(f"wrapper {level}")
        outer.add_attachment(msg)
        msg = outer
    return msg.as_bytes()


def write_fixtures() -> list[Path]:
    """Write the samples under fixtures/orders/read_<case>/ with their expected words."""
    from extractors.registry import read_bytes

    cases: dict[str, tuple[str, bytes | None]] = {
        "read_pdf_two_pages": ("input.pdf", pdf_order_two_pages()),
        "read_pdf_rotated": ("input.pdf", pdf_rotated(90)),
        "read_pdf_doubled_bold": ("input.pdf", pdf_doubled_bold()),
        "read_pdf_spaceless": ("input.pdf", pdf_spaceless()),
        "read_pdf_clipped": ("input.pdf", pdf_clipped()),
        "read_pdf_hebrew": ("input.pdf", pdf_hebrew()),
        "read_xlsx_order": ("input.xlsx", xlsx_order()),
        "read_csv_semicolon": ("input.csv", CSV_SAMPLES["semicolon_decimal_comma"]),
        "read_csv_latin1": ("input.csv", CSV_SAMPLES["latin1"]),
        "read_eml_pdf": ("input.eml", eml_with_pdf()),
        "read_eml_html": ("input.eml", eml_html_only()),
        "read_eml_forward": ("input.eml", eml_forward()),
    }
    written: list[Path] = []
    for case, (fname, data) in cases.items():
        if data is None:
            continue
        folder = ROOT / "fixtures" / "orders" / case
        folder.mkdir(parents=True, exist_ok=True)
        (folder / fname).write_bytes(data)
        docs = read_bytes(data, filename=fname)
        expected = {
            "documents": [
                {"kind": d.kind.value, "pages": len(d.pages), "words": [w.text for w in d.words]} for d in docs
            ]
        }
        (folder / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(folder)
    return written


if __name__ == "__main__":
    for path in write_fixtures():
        sys.stdout.write(f"{path}\n")
