"""Budgets before work: a document's cost is checked before anything big is allocated, and the
readers run in processes with a memory and a time limit, so one document cannot take the service.

Memory bound stated here: a reader process peaks under ``BOUND_MB`` on each hostile case below
(figures and the 10,000-file fuzz run: ``bench/hostile.py``)."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from extractors.ocr import tesseract_available
from extractors.pool import last_peak_mb, read_isolated
from extractors.registry import read_bytes
from extractors.spreadsheet import XlsxReader
from intake.service import ledger
from intake.core.errors import LimitExceeded
from intake.service.pipeline import Pipeline
from intake.core.settings import Limits, Settings

BOUND_MB = 600
ROOT = Path(__file__).resolve().parents[2]
_CT = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
       'spreadsheetml.sheet.main+xml"/></Types>')
_WB = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
       'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
       '</sheets></workbook>')


def xlsx(sheet_xml: str, *, target: str = "worksheets/sheet1.xml") -> bytes:
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="{target}"/></Relationships>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/" + target, sheet_xml)
    return buf.getvalue()


def merged_bomb() -> bytes:
    """The issue's workbook: one merged range A3:XFD1048576 (17 billion cells) in about a kilobyte."""
    return xlsx('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>PO 7</t></is>'
                '</c></row></sheetData><mergeCells count="1"><mergeCell ref="A3:XFD1048576"/></mergeCells></worksheet>')


def many_cells(n: int) -> str:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>1</v></c></row>' for r in range(1, n // 2 + 1))
    return f'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>{rows}' \
           '</x:sheetData></x:worksheet>'.replace("<row", "<x:row").replace("</row", "</x:row") \
           .replace("<c ", "<x:c ").replace("</c>", "</x:c>").replace("<v>", "<x:v>").replace("</v>", "</x:v>")


def huge_page_pdf(side: int = 14400) -> bytes:
    """A few hundred bytes: one page of 200 x 200 inches (the PDF maximum)."""
    objs = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
            f"<</Type/Page/Parent 2 0 R/MediaBox[0 0 {side} {side}]/Contents 4 0 R>>".encode()]
    content = b"BT /F1 12 Tf 72 72 Td (PO 1) Tj ET"
    objs.append(b"<</Length %d>>stream\n" % len(content) + content + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(out.tell())
        out.write(b"%d 0 obj" % i + o + b"endobj\n")
    x = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offs:
        out.write(b"%010d 00000 n \n" % o)
    out.write(b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x))
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width x height`` pixels in a few dozen bytes (its data is missing)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))
    ihdr = struct.pack("!IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def text_scan(width: int, height: int, lines: int = 30) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=max(12, height // (lines * 3)))
    for i in range(lines):
        draw.text((width // 20, height // 20 + i * height // (lines + 2)), f"PO 4711 line {i} HEX BOLT qty {i * 3}",
                  fill=0, font=font)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def test_merged_ranges_and_cell_counts_are_checked_before_openpyxl_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    def no_load(*_a: Any, **_k: Any) -> None:
        raise AssertionError("openpyxl was asked to load a workbook that is over the budget")

    monkeypatch.setattr(openpyxl, "load_workbook", no_load)
    with pytest.raises(LimitExceeded, match=r"merged ranges cover more than 100000 cells .*17179836416 cells"):
        XlsxReader().read(merged_bomb(), Limits())
    with pytest.raises(LimitExceeded, match=r"more than 1000 cells"):
        XlsxReader().read(xlsx(many_cells(1200)), Limits(max_cells=1000))  # namespace prefixes counted too
    # a sheet hidden at another path than xl/worksheets/ is checked as well
    with pytest.raises(LimitExceeded, match="merged ranges"):
        XlsxReader().read(xlsx(merged_bomb_sheet(), target="elsewhere/s.xml"), Limits())


def merged_bomb_sheet() -> str:
    with zipfile.ZipFile(io.BytesIO(merged_bomb())) as z:
        return z.read("xl/worksheets/sheet1.xml").decode()


def test_a_workbook_within_the_budget_still_reads() -> None:
    docs = XlsxReader().read(xlsx(many_cells(400)), Limits(max_cells=1000))
    assert len(docs[0].pages[0].words) == 400


def test_the_merged_range_bomb_fails_with_its_reason_in_a_bounded_reader(tmp_path: Path) -> None:
    pipe = Pipeline(Settings(data_dir=tmp_path / "data"))
    res = pipe.ingest(merged_bomb(), filename="order.xlsx")
    (oid,) = pipe.process_message(res.message_id)
    with pipe.sm() as s:
        o = ledger.get_order(s, oid)
        assert o.status == "FAILED" and "merged ranges cover more than" in (o.reason or "")
    peak = last_peak_mb()
    assert peak is not None and peak < BOUND_MB, peak  # it was 1.5 GB and more before the check


def test_a_page_image_of_a_huge_pdf_page_is_scaled_to_the_render_budget(tmp_path: Path) -> None:
    """What a CSR's browser asks for: the 750-byte PDF's page as a PNG. Measured in a child process."""
    data = huge_page_pdf()
    assert len(data) < 750
    pdf = tmp_path / "huge.pdf"
    pdf.write_bytes(data)
    # VmHWM, not ru_maxrss: that one keeps the parent's size across fork and exec
    code = ("import io; from PIL import Image; from extractors.render import _pdf_page_png;"
            f"png=_pdf_page_png(open({str(pdf)!r},'rb').read(),0,16_000_000); im=Image.open(io.BytesIO(png));"
            "hwm=[int(x.split()[1])//1024 for x in open('/proc/self/status') if x.startswith('VmHWM')][0];"
            "print(im.size[0],im.size[1],hwm)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-500:]
    w, h, peak_mb = (int(v) for v in out.stdout.split())
    assert w * h <= 16_000_000 and w == h == 4000  # 20000 x 20000 at 100 dpi before: 3.4 GB
    assert peak_mb < BOUND_MB, peak_mb


def test_an_image_declaring_too_many_pixels_is_refused_before_it_is_decoded() -> None:
    pytest.importorskip("PIL")
    if not tesseract_available():
        pytest.skip("Tesseract is not installed (make install)")
    with pytest.raises(LimitExceeded, match="too large to decode|more than the limit"):
        read_bytes(png_header_only(60_000, 60_000), "x.png", Limits())


def test_ocr_reads_a_huge_scan_scaled_to_the_page_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 7000 x 7000 scan reaches Tesseract at 12 MP, not 49 MP, and its words keep the scan's coordinates."""
    import pytesseract

    seen: list[tuple[int, int]] = []

    def fake(image: Any, **kw: Any) -> dict[str, list[Any]]:
        seen.append(image.size)
        w, h = image.size
        return {"text": ["PO", "4711"], "left": [w // 2, w // 2 + 100], "top": [h // 2] * 2, "width": [80, 90],
                "height": [30, 30], "conf": ["95", "91"]}

    if not tesseract_available():
        pytest.skip("Tesseract is not installed (make install)")
    monkeypatch.setattr(pytesseract, "image_to_data", fake)
    docs = read_bytes(text_scan(7000, 7000, lines=5), "scan.png", Limits())
    (w, h), = seen
    assert w * h <= 12_000_000 and w == h
    page = docs[0].pages[0]
    assert (page.width, page.height) == (7000, 7000)
    assert page.words[0].box[0] == pytest.approx(3500, abs=3)  # mapped back to the scan's pixels
    # the whole message has an OCR budget: a TIFF of many big pages stops when it is spent
    from PIL import Image

    frames = [Image.new("L", (3000, 3000), 255) for _ in range(4)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    seen.clear()
    with pytest.raises(LimitExceeded, match="OCR of page 3 would pass the message's budget"):
        read_bytes(buf.getvalue(), "multi.tif", Limits(max_ocr_pixels_per_message=20_000_000))
    assert len(seen) == 2


@pytest.mark.slow
def test_the_issues_7000_pixel_scan_through_the_bounded_reader() -> None:
    if not tesseract_available():
        pytest.skip("Tesseract is not installed (make install)")
    docs = read_isolated(text_scan(7000, 7000), "scan.png", Limits())
    words = [w.text for p in docs[0].pages for w in p.words]
    assert "4711" in words and docs[0].pages[0].width == 7000
    peak = last_peak_mb()
    assert peak is not None and peak < BOUND_MB, peak  # 900 MB before


def _noise_png(side: int = 4000) -> bytes:
    import random

    from PIL import Image, ImageDraw

    rnd = random.Random(7)
    im = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(im)
    for _ in range(side * 8):
        x, y = rnd.randrange(side), rnd.randrange(side)
        draw.rectangle((x, y, x + rnd.randrange(2, 9), y + rnd.randrange(2, 15)), fill=rnd.randrange(120))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def test_a_reader_that_takes_too_long_or_dies_is_stopped_and_the_next_document_reads() -> None:
    if not tesseract_available():
        pytest.skip("Tesseract is not installed (make install)")
    fast = Limits(reader_timeout_s=1.5, reader_processes=1)
    with pytest.raises(LimitExceeded, match=r"took longer than 1.5 s"):
        read_isolated(_noise_png(), "noise.png", fast)
    csv = b"sku;qty\nHX-1;4\nHX-2;5\n"
    assert read_isolated(csv, "po.csv", fast)[0].pages[0].words  # a fresh worker took over
    # a document that needs more memory than the reader's cap fails with the reason, the service stays
    from PIL import Image

    big = Image.new("RGB", (7900, 7900), "white")  # 62 MP: under the pixel limit, 187 MB decoded
    buf = io.BytesIO()
    big.save(buf, "PNG")
    del big
    capped = Limits(reader_memory_mb=360, reader_processes=1)
    with pytest.raises(LimitExceeded, match="more memory"):
        read_isolated(buf.getvalue(), "scan.png", capped)
    assert read_isolated(csv, "po.csv", capped)[0].pages[0].words
    # a reader killed from outside (the kernel's OOM killer, say): the document fails with why
    import os
    import signal
    import threading
    import time

    slow = Limits(reader_timeout_s=120, reader_processes=1, reader_memory_mb=2047)
    read_isolated(csv, "po.csv", slow)  # its worker is up
    got: list[BaseException] = []

    def read() -> None:
        try:
            read_isolated(_noise_png(), "noise.png", slow)
        except BaseException as exc:  # noqa: BLE001 - what the reader answered is checked below
            got.append(exc)

    t = threading.Thread(target=read)
    t.start()
    time.sleep(1.5)
    workers = [int(d) for d in os.listdir("/proc") if d.isdigit() and _is_reader_of(int(d), os.getpid(), "2047")]
    assert len(workers) == 1, workers
    os.kill(workers[0], signal.SIGKILL)
    t.join(60)
    assert len(got) == 1 and isinstance(got[0], LimitExceeded) and "killed (SIGKILL)" in got[0].reason, got
    assert read_isolated(csv, "po.csv", slow)[0].pages[0].words  # and a new reader takes over


def _is_reader_of(pid: int, parent: int, memory: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().split(b"\0")
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return ppid == parent and b"extractors.pool" in cmd and memory.encode() in cmd


def test_a_page_of_more_words_than_the_model_budget_fails_before_the_model_runs(tmp_path: Path) -> None:
    import random

    r = random.Random(1)
    words = ["HX-1420", "4", "EA", "2.50", "bolt", "Qty", "PO", "12.00", "total"]
    text = "\n".join(" ".join(r.choice(words) for _ in range(30)) for _ in range(500))  # 15,000 words, one page
    pipe = Pipeline(Settings(data_dir=tmp_path / "data"))
    calls: list[Any] = []
    pipe.model_extract = lambda doc: calls.append(doc)  # type: ignore[assignment,func-returns-value]
    (oid,) = pipe.process_message(pipe.ingest(text.encode(), filename="po.txt").message_id)
    with pipe.sm() as s:
        o = ledger.get_order(s, oid)
        assert o.status == "FAILED" and "page 1 has 15000 words, more than the limit of 10000" in (o.reason or "")
    assert calls == []  # it took a minute of CPU in the model and line assembly before
