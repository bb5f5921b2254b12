"""Write an order as an XLSX workbook (openpyxl) or a CSV file, with grid-convention labels.

The sheet holds header rows (caption | value), the address blocks, then the line table and
the totals. Some families write numbers and dates as typed cells, others as locale text; CSVs
always hold text and use ";" where the decimal separator is a comma.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime
from typing import Any

from training.synth.families import NUMBER_STYLES, Family
from training.synth.generator import Order, fmt_date, fmt_number, fmt_qty
from training.synth.labels import LabelledPage, LabelledWord, cell_text, grid_words

__all__ = ["render_sheet", "sheet_rows"]

Cell = tuple[Any, str, "int | None"]  # (value, label, line)
_LINE_LABELS = {"line_no", "sku", "description", "quantity", "uom", "unit_price", "amount"}


def sheet_rows(order: Order, fam: Family, typed: bool) -> list[list[Cell]]:
    """The grid of cells (value, label, line) for ``order``; ``typed`` keeps numbers/dates typed."""
    f, o = fam, order
    E: Cell = ("", "O", None)
    rows: list[list[Cell]] = [[(f.label("title"), "O", None)], []]
    if f.logo:
        rows.insert(0, [(o.buyer.name, "buyer", None)])
    meta: list[tuple[str, Any, str]] = [("po_number", o.po_number, "po_number")]
    meta.append(("order_date", o.order_date if typed else fmt_date(o.order_date, f.date_style, f.lang), "order_date"))
    if f.show_requested:
        meta.append(("requested_date", o.requested_date if typed else fmt_date(o.requested_date, f.date_style, f.lang),
                     "requested_date"))
    if f.show_terms:
        meta.append(("payment_terms", o.payment_terms, "payment_terms"))
    meta.append(("currency", o.currency, "currency"))
    for key, val, lab in meta:
        if typed and key == "po_number" and o.po_number.isdigit() and len(o.po_number) < 15:
            val = int(o.po_number)  # an all-digit PO number typed into Excel becomes a number
        rows.append([(f.label(key), "O", None), (val, lab, None)])
    rows.append([])
    blocks = [("buyer", o.buyer), ("supplier", o.supplier)]
    if f.show_ship_to:
        blocks.append(("ship_to", o.ship_to))
    if f.show_bill_to:
        blocks.append(("bill_to", o.bill_to))
    one_cell = f.index % 2 == 0
    for key, party in blocks:
        if one_cell:
            rows.append([(f.label(key), "O", None), (party.joined(), key, None)])
        else:
            for i, ln in enumerate(party.lines):
                rows.append([(f.label(key) if i == 0 else "", "O", None), (ln, key, None)])
    rows.append([])
    cols = list(f.columns)
    rows.append([(f.column_label(c), "O", None) for c in cols])
    for i, ln in enumerate(o.lines):
        row: list[Cell] = []
        for c in cols:
            lab = c if c in _LINE_LABELS else "O"
            line = i if lab != "O" else None
            if c == "line_no":
                v: Any = ln.line_no if typed else str(ln.line_no)
            elif c == "sku":
                v = ln.sku
            elif c == "cust_part":
                v = ln.cust_part
            elif c == "description":
                v = ln.description
            elif c == "quantity":
                v = ln.quantity if typed else fmt_qty(ln.quantity, f)
            elif c == "uom":
                v = ln.uom
            elif c == "unit_price":
                v = ln.unit_price if typed else fmt_number(ln.unit_price, f.number_style, ln.price_decimals)
            elif c == "discount_pct":
                v = (ln.discount_pct or 0.0) if typed else fmt_number(ln.discount_pct or 0, f.number_style, 1)
            else:
                v = ln.amount if typed else fmt_number(ln.amount, f.number_style, 2)
            row.append((v, lab, line))
        rows.append(row)
    if "amount" in cols:
        rows.append([])
        ai = cols.index("amount")
        pad: list[Cell] = [E] * (ai - 1)

        def money(label: str, v: float, lab: str = "O") -> None:
            rows.append(pad + [(label, "O", None), (v if typed else fmt_number(v, f.number_style, 2), lab, None)])
        if f.freight or f.order_discount or f.tax:
            money(f.label("subtotal"), o.subtotal)
        if f.order_discount:
            money(f.label("discount"), -o.order_discount)
        if f.freight:
            money(f.label("freight"), o.freight)
        if f.tax:
            money(f"{f.label('tax')} {fmt_number(o.tax_rate, f.number_style, 0)}%", o.tax)
        money(f.label("total"), o.total, "total")
    if o.notes:
        rows.append([])
        rows.append([(f.label("notes"), "O", None), (o.notes, "O", None)])
    # Ragged rows whose first cell was a placeholder stay as written.
    return rows


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry times and core-property dates, so a seed gives the same bytes."""
    import re
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0)), body,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _number_format(value: Any, label: str) -> str:
    """Money amounts show two decimals as accountants type them; prices and quantities keep
    every digit they have ("General"), since a fixed format would hide a fourth decimal."""
    if isinstance(value, float) and label in ("amount", "total"):
        return "#,##0.00"
    if isinstance(value, date):
        return "yyyy-mm-dd"
    return "General"


def render_sheet(order: Order, fam: Family, r: random.Random, fmt: str) -> tuple[bytes, list[LabelledPage]]:
    """Write ``order`` as ``fmt`` ("xlsx" or "csv"); return the bytes and the grid labels."""
    typed = fmt == "xlsx" and fam.index % 3 != 2
    rows = sheet_rows(order, fam, typed)
    if fmt == "csv":
        text_rows = [[cell_text(v) for v, _, _ in row] for row in rows]
        # Excel pads every record to the used width (trailing delimiters, blank rows as
        # ",,,,"): do the same, as most exported order CSVs look like that.
        ncols = max(len(rw) for rw in text_rows)
        text_rows = [rw + [""] * (ncols - len(rw)) for rw in text_rows]
        delim = ";" if NUMBER_STYLES[fam.number_style][1] == "," else ","
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delim, lineterminator="\r\n")
        for rw in text_rows:
            w.writerow(rw)
        data = buf.getvalue().encode("utf-8-sig" if fam.index % 4 == 0 else "utf-8")
    elif fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = {"en": "Order", "de": "Bestellung", "fr": "Commande", "es": "Pedido", "nl": "Order"}[fam.lang]
        for ri, row in enumerate(rows, 1):
            for ci, (v, _, _) in enumerate(row, 1):
                if v == "" or v is None:
                    continue
                cell = ws.cell(row=ri, column=ci, value=v)
                cell.number_format = _number_format(v, row[ci - 1][1])
        fixed = datetime(2026, 1, 1)
        wb.properties.created = fixed
        wb.properties.modified = fixed
        buf2 = io.BytesIO()
        wb.save(buf2)
        data = _fixed_zip(buf2.getvalue())
        text_rows = [[cell_text(v, _number_format(v, lab)) for v, lab, _ in row] for row in rows]
    else:
        raise ValueError(f"not a sheet format: {fmt}")
    width, height, words = grid_words(text_rows)
    labelled = []
    for text, box, ri, ci in words:
        _, lab, line = rows[ri][ci]
        labelled.append(LabelledWord(text, box, lab, line))
    return data, [LabelledPage(width, height, labelled)]
