"""Hostile files, generated: what an attacker (or a badly broken sender) mails or uploads.

    for name, data in hostile_files(10_000, seed=1): ...

Deterministic for a seed. A mix of: mutations of the committed sample orders and of the named
hostile corpus (byte flips, truncation, splicing, repeated slices), and files built to attack one
reader each: workbooks with huge merged ranges, declared dimensions and odd XML; PDFs with giant
or broken pages and lying streams; images whose headers declare huge sizes or whose data is
cut; mails nested thousands deep, with odd charsets and attachments of all of the above; EDI
with random segments and separators. Most files are small (the service must stay fast on
them); a few are bombs.
"""

from __future__ import annotations

import base64
import contextlib
import io
import random
import re
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["hostile_files", "seeds"]


_VARYING = re.compile(rb"(?im)^(message-id|date):[^\r\n]*")
# what reportlab writes from the clock: dates and the document id (same length, so offsets hold)
_PDF_CLOCK = re.compile(rb"/(?:CreationDate|ModDate) \(D:[^)]*\)|/ID\s*\[<[0-9a-fA-F]+>\s*<[0-9a-fA-F]+>\]")


_ISO_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _zip_steady(data: bytes) -> bytes:
    """The zip rebuilt with every entry dated 1980-01-01 and the ISO times in its parts fixed
    (zipfile and openpyxl stamp both with the clock); a broken zip gets its header dates zeroed."""
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                fixed.compress_type = info.compress_type
                dst.writestr(fixed, _ISO_TIME.sub(b"2000-01-01T00:00:00", src.read(info)))
        return out.getvalue()
    except Exception:  # noqa: BLE001 - a broken zip (that is the point of some seeds): patch in place
        b = bytearray(data)
        for sig, off in ((b"PK\x03\x04", 10), (b"PK\x01\x02", 12)):
            i = b.find(sig)
            while i != -1:
                b[i + off:i + off + 4] = b"\x00\x21\x00\x00"[: len(b[i + off:i + off + 4])]
                i = b.find(sig, i + 4)
        return bytes(b)


def _steady(data: bytes) -> bytes:
    if data.startswith(b"PK"):
        return _zip_steady(data)
    data = _VARYING.sub(rb"\1: fixed", data)
    return _PDF_CLOCK.sub(lambda m: re.sub(rb"[0-9a-fA-F]", b"0", m.group(0)), data)


@contextlib.contextmanager
def _fixed_global_random(seed: int) -> Iterator[None]:
    """The email package draws MIME boundaries from the global random: fixed while generating."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def seeds() -> list[tuple[str, bytes]]:
    """The committed sample orders and the named hostile corpus (small entries only); the same
    bytes at every call (Message-IDs and dates, which hold the time, are fixed)."""
    out = [(f"{p.parent.name}{p.suffix}", p.read_bytes()) for p in sorted((ROOT / "fixtures" / "orders").glob("*/input.*"))]
    try:
        from tests.hostile.corpus import HOSTILE

        made: list[tuple[str, bytes, Callable[[], bytes]]] = []
        with _fixed_global_random(0):
            for name, gen in sorted(HOSTILE.items()):
                if name in ("x12_huge", "zip_bomb_500mb", "mail_with_zip_bomb"):
                    continue  # big to build, and their cases are tested on their own
                data = _steady(gen())
                if len(data) <= 2_000_000:
                    made.append((name, data, gen))
        time.sleep(2.1)  # a second later (zip dates have a 2 s step): a seed that changed holds the clock
        with _fixed_global_random(0):
            out += [(name, data) for name, data, gen in made if _steady(gen()) == data]
    except ImportError:  # outside the repository's tests: the fixtures alone
        pass
    return out


# --- mutations ---------------------------------------------------------------------------------

def _flip(r: random.Random, d: bytes) -> bytes:
    b = bytearray(d)
    for _ in range(r.randint(1, max(1, len(b) // 200))):
        if b:
            b[r.randrange(len(b))] = r.randrange(256)
    return bytes(b)


def _truncate(r: random.Random, d: bytes) -> bytes:
    return d[: r.randrange(max(1, len(d)))]


def _insert(r: random.Random, d: bytes) -> bytes:
    i = r.randrange(len(d) + 1)
    junk = r.choice([r.randbytes(r.randint(1, 64)), b"\x00" * r.randint(1, 4096), b"%" * 100, b"<<" * 500,
                     b"--", b"\r\n\r\n", b"=?utf-8?b?", "é€\u202e".encode()])
    return d[:i] + junk + d[i:]


def _repeat(r: random.Random, d: bytes) -> bytes:
    if len(d) < 4:
        return d * 3
    i = r.randrange(len(d) - 1)
    j = min(len(d), i + r.randint(1, 200))
    return d[:j] + d[i:j] * r.randint(2, 300) + d[j:]


def _splice(r: random.Random, d: bytes, other: bytes) -> bytes:
    return d[: r.randrange(len(d) + 1)] + other[r.randrange(len(other) + 1):]


def mutate(r: random.Random, d: bytes, pool: list[tuple[str, bytes]]) -> bytes:
    for _ in range(r.randint(1, 3)):
        op = r.randrange(5)
        if op == 0:
            d = _flip(r, d)
        elif op == 1:
            d = _truncate(r, d)
        elif op == 2:
            d = _insert(r, d)
        elif op == 3:
            d = _repeat(r, d)
        else:
            d = _splice(r, d, r.choice(pool)[1])
    return d or b"\x00"


# --- built to attack one reader -------------------------------------------------------------------

_CT = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
       'spreadsheetml.sheet.main+xml"/></Types>')
_WB = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
       'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
       '</sheets></workbook>')


def _col(n: int) -> str:
    s = ""
    while n:
        n, rem = divmod(n - 1, 26)
        s = chr(65 + rem) + s
    return s


def xlsx(r: random.Random) -> bytes:
    big = r.random() < 0.3
    max_c, max_r = (16384, 1048576) if big else (30, 200)
    def ref() -> str:
        return f"{_col(r.randint(1, max_c))}{r.randint(1, max_r)}"
    cells = "".join(f'<row r="{i}">' + "".join(
        f'<c r="{_col(c)}{i}" t="inlineStr"><is><t>{r.choice(["PO", "Qty", "HX-1", "4", "1e308", "&amp;", "=A1"])}'
        f'</t></is></c>' for c in range(1, r.randint(1, 8))) + "</row>" for i in range(1, r.randint(1, 40)))
    merges = "".join(f'<mergeCell ref="{ref()}:{ref()}"/>' for _ in range(r.randint(0, 6)))
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<dimension ref="A1:{ref()}"/><sheetData>{cells}</sheetData>'
             + (f'<mergeCells count="9">{merges}</mergeCells>' if merges else "") + "</worksheet>")
    if r.random() < 0.2:
        sheet = sheet[: r.randrange(len(sheet))]  # cut XML
    target = r.choice(["worksheets/sheet1.xml", "worksheets/sheet1.xml", "elsewhere/s.xml", "../../evil.xml"])
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="{target}"/></Relationships>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("[Content_Types].xml", _CT), ("xl/workbook.xml", _WB), ("xl/_rels/workbook.xml.rels", rels),
                           ("xl/" + target.replace("../", ""), sheet)):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
    return buf.getvalue()


def pdf(r: random.Random) -> bytes:
    side = r.choice([0, 1, 72, 612, 14400, 200000, -500, 1e30])
    w, h = (side, r.choice([side, 792, 3])) if r.random() < 0.7 else (612, 792)
    ops = r.choice([b"BT /F1 12 Tf 72 72 Td (PO 4711 HEX BOLT 12 x 0.38) Tj ET",
                    b"q 10000 0 0 10000 0 0 cm /Im1 Do Q", b"BT " * 5000, b"1 0 0 1 0 0 cm " * 2000,
                    r.randbytes(200)])
    flt = r.choice([b"", b"/Filter/FlateDecode", b"/Filter/LZWDecode", b"/Filter[/FlateDecode/ASCIIHexDecode]"])
    length = r.choice([len(ops), 0, 99999999])
    image = (b"<</Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceGray/BitsPerComponent 8"
             b"/Length 10>>stream\n0123456789\nendstream" % (r.choice([1, 50000, 100000]), r.choice([1, 50000])))
    objs = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count %d>>" % r.choice([1, 1, 0, 9999]),
            (f"<</Type/Page/Parent 2 0 R/MediaBox[0 0 {w} {h}]/Contents 4 0 R/Resources<</XObject<</Im1 5 0 R>>>>"
             f"/Rotate {r.choice([0, 90, 45, 270])}>>").encode(),
            b"<</Length %d%s>>stream\n" % (length, flt) + ops + b"\nendstream", image]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(out.tell())
        out.write(b"%d 0 obj" % i + o + b"endobj\n")
    x = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offs:
        out.write(b"%010d 00000 n \n" % (o if r.random() < 0.9 else r.randrange(10**9)))
    out.write(b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x))
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))


def image(r: random.Random) -> bytes:
    kind = r.randrange(4)
    if kind == 0:  # a PNG whose header declares a huge (or zero) size
        w, h = r.choice([(0, 0), (1, 1), (60000, 60000), (2**31 - 1, 1), (7000, 7000), (100, 100)])
        ihdr = struct.pack("!IIBBBBB", w, h, r.choice([1, 8, 16]), r.choice([0, 2, 3, 6]), 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(r.randbytes(64))) \
            + _png_chunk(b"IEND", b"")
    from PIL import Image, ImageDraw

    w, h = r.randint(1, 400), r.randint(1, 400)
    im = Image.new(r.choice(["L", "RGB", "1", "P"]), (w, h), "white" if r.random() < 0.5 else "black")
    if r.random() < 0.5:
        ImageDraw.Draw(im).text((2, 2), "PO 4711 qty 12", fill="black" if im.mode != "1" else 0)
    buf = io.BytesIO()
    fmt = ["PNG", "JPEG", "TIFF", "PNG"][kind]
    if fmt == "JPEG" and im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    im.save(buf, fmt)
    data = buf.getvalue()
    return data[: r.randrange(8, len(data) + 1)] if r.random() < 0.3 else data


def mail(r: random.Random, attachments: list[bytes]) -> bytes:
    if r.random() < 0.25:  # multipart nested deep, built as text
        depth = r.choice([50, 500, 1200, 5000])
        head = b"From: x@example.com\r\nTo: orders@seller.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
        parts = b"".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode() for i in range(depth))
        return head + parts + b"Content-Type: text/plain\r\n\r\nhello\r\n" + b"".join(
            f"\r\n--b{i}--\r\n".encode() for i in reversed(range(depth)))
    msg = EmailMessage()
    msg["From"] = r.choice(["buyer@northwindfab.com", "=?utf-8?b?" + base64.b64encode("Käufer".encode()).decode() + "?= <a@b.c>",
                            "no-at-sign", "\"x\" <<<@>>>", "a@" + "b" * 300 + ".com"])
    msg["To"] = "orders@seller.test"
    msg["Subject"] = r.choice(["PO 4711", "=?x-unknown?q?junk?=", "Re: " * 200, "\u202e gro.live"])
    if r.random() < 0.3:
        msg["Authentication-Results"] = r.choice(["mx.seller.test; dkim=pass header.d=northwindfab.com",
                                                  ";;;", "x" * 2000, "mx.seller.test; dkim=pass header.d="])
    body = r.choice(["10 x HX-1420 at 2.50", "<html><script>alert(1)</script><p>order</p></html>", "\x00\x01" * 50,
                     "Grüße " * 100])
    charset = r.choice(["utf-8", "us-ascii", "x-unknown", "utf-16", "iso-2022-jp"])
    try:
        msg.set_content(body, subtype=r.choice(["plain", "html"]), charset=charset)
    except (LookupError, UnicodeError):
        msg.set_content(body)
    for _ in range(r.randint(0, 3)):
        att = r.choice(attachments) if attachments else r.randbytes(100)
        msg.add_attachment(att[:500_000], maintype=r.choice(["application", "image", "message", "text"]),
                           subtype=r.choice(["pdf", "octet-stream", "png", "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                             "edi-x12"]),
                           filename=r.choice(["po.pdf", "po.xlsx", "../../etc/passwd", "a" * 300, None]))
    data = msg.as_bytes()
    return mutate(r, data, [("m", data)]) if r.random() < 0.3 else data


def edi(r: random.Random) -> bytes:
    el, seg = r.choice([("*", "~"), ("|", "\n"), ("*", "'"), ("\x1d", "\x1c")])
    if r.random() < 0.5:
        head = (f"ISA{el}00{el}          {el}00{el}          {el}ZZ{el}NWFAB001       {el}ZZ{el}SELLER01       "
                f"{el}261201{el}0815{el}U{el}00401{el}000004711{el}0{el}P{el}>{seg}")
    else:
        head = "UNA:+.? 'UNB+UNOC:3+BUYER:14+SELLER:14+261130:1200+42'UNH+1+ORDERS:D:96A:UN'"
    names = ["GS", "ST", "BEG", "PO1", "PID", "N1", "N3", "N4", "CTT", "SE", "GE", "IEA", "DTM", "CUR", "UNH", "BGM",
             "LIN", "QTY", "PRI", "NAD", "UNT", "UNZ", "AMT"]
    body = "".join(r.choice(names) + el + el.join(r.choice(["", "1", "99999999999", "-1", "1e9", "EA", "X" * 300,
                                                              "NaN", "0.0000001"]) for _ in range(r.randint(0, 12))) + seg
                   for _ in range(r.randint(1, 400)))
    return (head + body).encode("utf-8", "replace")


def text(r: random.Random) -> bytes:
    rows = [r.choice([";", ",", "\t", "|"]).join(r.choice(["HX-1", "4", "", "\"", "\"a\"\"b\"", "é", "\u0000", "9" * 400])
                                                 for _ in range(r.randint(1, 30))) for _ in range(r.randint(1, 300))]
    enc = r.choice(["utf-8", "utf-16", "latin-1", "utf-32"])
    return "\n".join(rows).encode(enc, "replace")


def hostile_files(n: int, seed: int = 1) -> Iterator[tuple[str, bytes]]:
    """``n`` (name, bytes) hostile files, the same for the same seed."""
    with _fixed_global_random(seed):
        yield from _generate(n, seed)


def _generate(n: int, seed: int) -> Iterator[tuple[str, bytes]]:
    r = random.Random(seed)
    pool = seeds()
    made: list[bytes] = []
    gens: list[tuple[float, Callable[[], bytes], str]] = [
        (0.38, lambda: mutate(r, r.choice(pool)[1], pool), "mutated"),
        (0.10, lambda: xlsx(r), "xlsx"),
        (0.10, lambda: pdf(r), "pdf"),
        (0.10, lambda: image(r), "image"),
        (0.14, lambda: mail(r, made[-50:]), "mail"),
        (0.10, lambda: edi(r), "edi"),
        (0.04, lambda: text(r), "text"),
        (0.04, lambda: r.choice(pool)[1], "seed"),
    ]
    total = sum(w for w, _, _ in gens)
    for i in range(n):
        x = r.random() * total
        for w, gen, kind in gens:
            x -= w
            if x <= 0:
                break
        try:
            data = gen()
        except (ValueError, OSError, struct.error, OverflowError):
            data = r.randbytes(r.randint(1, 500))
            kind = "random"
        if len(made) < 1000 or r.random() < 0.05:
            made.append(data)
        yield f"{i:05d}-{kind}", data
