"""The PDF reader's page geometry."""

from __future__ import annotations

from extractors.pdf import PdfReader
from intake.core.settings import Limits


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (numbered from 1) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_page_whose_boxes_are_indirect_objects_keeps_its_top() -> None:
    # An A4 page that inherits its MediaBox and CropBox from its page tree node, as references to
    # arrays (as some ERPs write them): the letterhead in the top 50 points is read, at its place.
    content = b"BT /F1 12 Tf 72 820 Td (Northwind Letterhead) Tj ET BT /F1 12 Tf 72 400 Td (Body text) Tj ET"
    pdf = _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox 4 0 R /CropBox 4 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R "
        b"/Resources << /Font << /F1 6 0 R >> >> >>",
        b"[0 0 595 842]",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])
    doc = PdfReader().read(pdf, Limits(), "indirect.pdf")[0]
    page = doc.pages[0]
    assert (round(page.width), round(page.height)) == (595, 842)
    words = {w.text: w for w in page.words}
    assert "Northwind" in words and "Letterhead" in words
    assert 10 < words["Northwind"].box[1] < 25  # 842 - 820 - ascent: near the top, not cut off
    assert 430 < words["Body"].box[1] < 445


def test_a_soft_hyphen_the_page_draws_is_a_hyphen() -> None:
    # "CFT\xad0167": the text layer maps the drawn hyphen to a soft hyphen (its ToUnicode map),
    # the page shows CFT-0167
    content = b"BT /F1 12 Tf 72 700 Td (CFT\xad0167 Sofa) Tj ET"
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Soft def "
            b"1 begincodespacerange <00> <FF> endcodespacerange "
            b"1 beginbfrange <20> <7E> <0020> endbfrange 1 beginbfchar <AD> <00AD> endbfchar "
            b"endcmap CMapName currentdict /CMap defineresource pop end end")
    pdf = _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /ToUnicode 6 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ])
    doc = PdfReader().read(pdf, Limits(), "soft.pdf")[0]
    assert [w.text for w in doc.pages[0].words] == ["CFT-0167", "Sofa"]
