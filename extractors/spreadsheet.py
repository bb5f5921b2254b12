"""Spreadsheet readers: XLSX (openpyxl) and CSV, laid out as words on a grid.

Each sheet becomes a page. A cell's text is split into words; x comes from the column
(every column as wide as its longest text, in characters * 6 units), y from the row
(row index * 12). Merged cells give their value once, boxed across the merged width.
Formulas give their cached values (``data_only=True``), dates are ISO strings.

An XLSX is a zip: its directory is checked for bombs (total expanded size, compression
ratio, number of entries) before openpyxl inflates anything. Then each sheet's XML is streamed
through once (``check_sheets``), still before openpyxl: its declared dimension, the number of
cells and the cells covered by merged ranges must fit ``Limits.max_cells`` and
``Limits.max_merged_cells`` (openpyxl makes an object for every cell of a merged range: one
range A3:XFD1048576 in a 5 KB file would take gigabytes).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from typing import Any

from extractors.base import CHAR_WIDTH, LINE_HEIGHT, short_reason
from intake.core.domain import Document, DocumentKind, Page, Word
from intake.core.errors import CorruptDocument, EmptyDocument, EncryptedDocument, LimitExceeded
from intake.core.settings import Limits

__all__ = [
    "XlsxReader",
    "CsvReader",
    "grid_page",
    "check_zip",
    "decode_text",
    "sniff_delimiter",
    "format_cell",
    "check_sheets",
    "SheetStats",
]

MAX_ZIP_ENTRIES = 10_000
MAX_RATIO = 200  # an XML part compresses ~10-30x; hundreds is a bomb
MAX_COLS, MAX_ROWS = 16_384, 1_048_576  # Excel's grid
_COL_GAP = 2  # blank characters between two columns
_TOKEN = re.compile(r"\S+")


def check_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """Open a zip and refuse bombs by its directory alone (nothing is inflated here)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise CorruptDocument(f"the spreadsheet is not a readable zip: {short_reason(exc)}") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise LimitExceeded(f"the zip has {len(infos)} entries, more than {MAX_ZIP_ENTRIES}")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise LimitExceeded(
            f"the zip expands to {total} bytes, more than the limit of {limits.max_uncompressed_bytes}"
        )
    for info in infos:
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise LimitExceeded(
                f"zip entry {info.filename!r} expands {info.file_size // max(info.compress_size, 1)}x: a zip bomb"
            )
        if info.flag_bits & 0x1:
            raise EncryptedDocument("the zip entries are encrypted")
    return zf


_TAG = rb"<(?:[A-Za-z_][\w.-]*:)?"
_CELL = re.compile(_TAG + rb"c[\s/>]")
_MERGE = re.compile(_TAG + rb"mergeCell\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_DIMENSION = re.compile(_TAG + rb"dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?$")
_CHUNK = 1 << 20
_NOT_SHEETS = ("[content_types]", "docprops/", "xl/theme/", "xl/styles", "xl/sharedstrings", "xl/drawings/",
               "xl/charts/", "xl/workbook.xml", "xl/calcchain", "xl/externallinks/", "customxml/")


def _range(ref: str) -> tuple[int, int, int, int] | None:
    """(min_col, min_row, max_col, max_row) of an A1 range, clamped to the grid; None if unreadable."""
    m = _REF.match(ref.strip())
    if not m:
        return None

    def col(letters: str) -> int:
        n = 0
        for ch in letters.upper():
            n = n * 26 + ord(ch) - 64
        return n

    c1, r1 = col(m.group(1)), int(m.group(2))
    c2, r2 = (col(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    c1, c2 = sorted((min(max(c1, 1), MAX_COLS), min(max(c2, 1), MAX_COLS)))
    r1, r2 = sorted((min(max(r1, 1), MAX_ROWS), min(max(r2, 1), MAX_ROWS)))
    return c1, r1, c2, r2


class SheetStats:
    """What one sheet's XML declares, counted without building it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cells = 0
        self.merged_cells = 0
        self.merges = 0
        self.dimension: str | None = None
        self.declared_cells = 0  # the area of the declared dimension

    def feed(self, part: bytes) -> None:
        self.cells += len(_CELL.findall(part))
        for ref in _MERGE.findall(part):
            rng = _range(ref.decode("ascii", "replace"))
            if rng is not None:
                self.merges += 1
                self.merged_cells += (rng[2] - rng[0] + 1) * (rng[3] - rng[1] + 1)
        if self.dimension is None:
            m = _DIMENSION.search(part)
            if m:
                self.dimension = m.group(1).decode("ascii", "replace")[:40]
                rng = _range(self.dimension)
                if rng is not None:
                    self.declared_cells = (rng[2] - rng[0] + 1) * (rng[3] - rng[1] + 1)


def check_sheets(zf: zipfile.ZipFile, limits: Limits) -> list[SheetStats]:
    """Stream every worksheet's XML once (bounded memory: 1 MB at a time) and refuse, before
    openpyxl builds anything, a workbook with more cells or merged cells than the limits."""
    out: list[SheetStats] = []
    cells = merged = 0
    for info in zf.infolist():
        name = info.filename
        # a sheet may live anywhere its relationship points: every XML part but the known others
        if not name.lower().endswith(".xml") or name.lower().startswith(_NOT_SHEETS):
            continue
        st = SheetStats(name)
        try:
            with zf.open(info) as fh:
                tail = b""
                while True:
                    chunk = fh.read(_CHUNK)
                    buf = tail + chunk
                    if not chunk:
                        st.feed(buf)
                        break
                    cut = buf.rfind(b"<")
                    if cut <= 0 or len(buf) - cut > _CHUNK:  # no tag boundary to keep: take it all
                        cut = len(buf)
                    st.feed(buf[:cut])
                    tail = buf[cut:]
                    if st.cells + cells > limits.max_cells or st.merged_cells + merged > limits.max_merged_cells:
                        break
        except Exception as exc:  # zlib.error, BadZipFile, CRC errors...: a broken part is a broken file
            raise CorruptDocument(f"the spreadsheet is not a readable zip: {short_reason(exc)}") from None
        cells += st.cells
        merged += st.merged_cells
        out.append(st)
        sheet = name.rsplit("/", 1)[-1]
        if cells > limits.max_cells:
            dim = f" (declared range {st.dimension})" if st.dimension else ""
            raise LimitExceeded(f"the workbook has more than {limits.max_cells} cells{dim}: {sheet} alone has {st.cells}")
        if merged > limits.max_merged_cells:
            raise LimitExceeded(f"the workbook's merged ranges cover more than {limits.max_merged_cells} cells "
                                f"({sheet}: {st.merges} range(s), {st.merged_cells} cells)")
    return out


def _decimals(number_format: str) -> int | None:
    """Decimal places of an Excel number format such as ``#,##0.00``; None if not fixed."""
    fmt = number_format.split(";")[0]
    m = re.search(r"0\.(0+)", fmt)
    if m:
        return len(m.group(1))
    if re.search(r"(^|[^.])0(?![.0])", fmt) and "." not in fmt:
        return 0
    return None


def format_cell(value: Any, number_format: str = "General") -> str:
    """A cell value as text: ISO dates, numbers without float noise, fixed decimals kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and "%" in (number_format or ""):
            d = _decimals(number_format.replace("%", "")) or 0
            return f"{value * 100:.{d}f}%"
        d = _decimals(number_format or "General")
        if d is not None and isinstance(value, (int, float)):
            return f"{value:.{d}f}"
        if isinstance(value, float):
            if value.is_integer() and abs(value) < 1e15:
                return str(int(value))
            return repr(round(value, 10)).rstrip("0").rstrip(".") if "e" not in repr(value) else repr(value)
        return str(value)
    return str(value)


def grid_page(cells: dict[tuple[int, int], tuple[str, int]], index: int) -> Page:
    """Lay cells out on a grid page.

    ``cells`` maps (row, col), 0-based, to (text, span): span is how many columns a merged
    cell covers. Columns are as wide as their longest text (a merged value does not widen
    its first column). Rows keep their index, so blank rows stay visible as gaps.
    """
    if not cells:
        return Page(index=index, width=CHAR_WIDTH, height=LINE_HEIGHT, words=[])
    n_cols = max(c + span for (_, c), (_, span) in cells.items())
    n_rows = max(r for r, _ in cells) + 1
    widths = [1] * n_cols
    for (_, c), (text, span) in cells.items():
        if span == 1:
            widths[c] = max(widths[c], len(text))
    xs = [0.0] * (n_cols + 1)
    for c in range(n_cols):
        xs[c + 1] = xs[c] + (widths[c] + _COL_GAP) * CHAR_WIDTH
    words: list[Word] = []
    for (r, c), (text, span) in sorted(cells.items()):
        y0 = r * LINE_HEIGHT
        x_cell = xs[c]
        for m in _TOKEN.finditer(text):
            words.append(
                Word(
                    text=m.group(),
                    box=(x_cell + m.start() * CHAR_WIDTH, y0, x_cell + m.end() * CHAR_WIDTH, y0 + LINE_HEIGHT),
                    page=index,
                )
            )
    width = max(xs[-1], max((w.box[2] for w in words), default=0.0))
    return Page(index=index, width=width, height=n_rows * LINE_HEIGHT, words=words)


def _cell_text(text: str) -> str:
    # a cell with line breaks is one grid cell: keep its words on the row
    return " ".join(text.split())


class XlsxReader:
    """XLSX workbooks: every sheet a page, cached formula values, merged cells, ISO dates."""

    name = "xlsx"
    content_types = ("xlsx",)

    def is_available(self) -> bool:
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            return False
        return True

    def read(self, data: bytes, limits: Limits, name: str | None = None) -> list[Document]:
        """Read all sheets; LimitExceeded for zip bombs, CorruptDocument for broken files."""
        import warnings

        import openpyxl

        zf = check_zip(data, limits)
        try:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                raise CorruptDocument("the zip holds no xl/workbook.xml: not an XLSX workbook")
            check_sheets(zf, limits)  # cells and merged ranges, before openpyxl allocates any
        finally:
            zf.close()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
                wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=False)
        except Exception as exc:  # openpyxl raises KeyError, ValueError, XML errors...
            raise CorruptDocument(f"the XLSX could not be read: {short_reason(exc)}") from None
        pages: list[Page] = []
        sheet_names: list[str] = []
        try:
            if len(wb.worksheets) > limits.max_pages:
                raise LimitExceeded(f"the workbook has {len(wb.worksheets)} sheets, more than {limits.max_pages}")
            total = 0
            for i, ws in enumerate(wb.worksheets):
                sheet_names.append(ws.title)
                merged: dict[tuple[int, int], int] = {}
                hidden: set[tuple[int, int]] = set()
                for rng in ws.merged_cells.ranges:
                    merged[(rng.min_row, rng.min_col)] = rng.max_col - rng.min_col + 1
                    for r in range(rng.min_row, rng.max_row + 1):
                        for c in range(rng.min_col, rng.max_col + 1):
                            if (r, c) != (rng.min_row, rng.min_col):
                                hidden.add((r, c))
                # only the cells that exist: iter_rows would create every empty cell of a
                # sheet whose formatting reaches row 1,048,576
                existing = ws._cells  # openpyxl's cell store, stable since 2.x
                total += len(existing)
                if total > limits.max_cells:
                    raise LimitExceeded(f"the workbook has more than {limits.max_cells} cells")
                min_r = min((r for r, _ in existing), default=1)
                min_c = min((c for _, c in existing), default=1)
                cells: dict[tuple[int, int], tuple[str, int]] = {}
                for (r, c), cell in existing.items():
                    if (r, c) in hidden or cell.value is None:
                        continue
                    text = _cell_text(format_cell(cell.value, cell.number_format or "General"))
                    if text:
                        cells[(r - min_r, c - min_c)] = (text, merged.get((r, c), 1))
                pages.append(grid_page(cells, i))
        finally:
            wb.close()
        if not any(p.words for p in pages):
            raise EmptyDocument("the workbook has no values in any sheet")
        return [Document(kind=DocumentKind.xlsx, name=name, pages=pages, meta={"sheets": sheet_names})]


_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_LATIN = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1", "ascii", "us-ascii", "cp1252", "windows-1252"}


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode text bytes: BOM first, then the declared charset, UTF-8, charset-normalizer.

    A declared single-byte charset (Latin-1, ASCII, cp1252) loses to valid UTF-8 with
    multi-byte sequences: files labelled Latin-1 that are really UTF-8 are common. Returns
    (text, encoding used).
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc
    label = (declared or "").strip().lower() or None
    if label:
        try:
            codecs.lookup(label)
        except LookupError:
            label = None  # a bad charset label: detect instead
    if label and label.replace("_", "-") not in _LATIN:
        try:
            return data.decode(label), label
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if label:
        return data.decode(label, errors="replace"), label
    try:
        from charset_normalizer import from_bytes

        results = from_bytes(data[:200_000])
        # short Western texts fit several single-byte code pages equally well; cp1252
        # (a superset of Latin-1) is by far the most common of them in order documents
        if any(r.encoding in ("cp1252", "latin_1", "iso8859_15") for r in results):
            return data.decode("cp1252", errors="replace"), "cp1252"
        best = results.best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace"), best.encoding
    except Exception:  # detection is best effort; cp1252 below always decodes
        pass
    return data.decode("cp1252", errors="replace"), "cp1252"


def sniff_delimiter(text: str) -> str:
    """The field delimiter among , ; TAB | (csv.Sniffer, then the most consistent count)."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        pass
    best, best_score = ",", -1.0
    for d in (",", ";", "\t", "|"):
        counts = [_count_outside_quotes(ln, d) for ln in lines]
        if not counts or max(counts) == 0:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) + (0.01 * mode if mode else 0)
        if mode and score > best_score:
            best, best_score = d, score
    return best


def _count_outside_quotes(line: str, delim: str) -> int:
    n, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delim and not quoted:
            n += 1
    return n


class CsvReader:
    """CSV (any common encoding and delimiter) laid out on a grid page."""

    name = "csv"
    content_types = ("csv",)

    def is_available(self) -> bool:
        return True

    def read(self, data: bytes, limits: Limits, name: str | None = None) -> list[Document]:
        """Read all rows; blank rows keep their place, quoted delimiters stay in the cell."""
        text, encoding = decode_text(data)
        text = text.lstrip("\ufeff")
        if not text.strip():
            raise EmptyDocument("the CSV file is empty")
        delim = sniff_delimiter(text)
        cells: dict[tuple[int, int], tuple[str, int]] = {}
        try:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"', skipinitialspace=False)
            for r, row in enumerate(reader):
                for c, value in enumerate(row):
                    value = _cell_text(value)
                    if value:
                        cells[(r, c)] = (value, 1)
                if len(cells) > limits.max_cells:
                    raise LimitExceeded(f"the CSV has more than {limits.max_cells} cells")
        except csv.Error as exc:
            raise CorruptDocument(f"the CSV could not be parsed: {short_reason(exc)}") from None
        if not cells:
            raise EmptyDocument("the CSV has no values")
        page = grid_page(cells, 0)
        return [
            Document(kind=DocumentKind.csv, name=name, pages=[page], text=text,
                     meta={"encoding": encoding, "delimiter": delim})
        ]
