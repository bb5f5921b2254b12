"""Draw an order as a text-layer PDF with reportlab and record every word's box and label.

Words are drawn with the canvas (no flowables) so each word's box is known exactly:
x extents from ``pdfmetrics.stringWidth``, ``top = baseline - size * (1 + descent)`` with the
font's descent as pdfminer (and so pdfplumber) uses it, ``bottom = top + size``; these agree
with ``pdfplumber.Page.extract_words()``.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from typing import Callable

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas

from training.synth import vocab
from training.synth.families import Family
from training.synth.generator import Order, Party, fmt_date, fmt_money, fmt_number, fmt_qty
from training.synth.labels import LabelledPage, LabelledWord

__all__ = ["render_pdf", "Seg"]

# pdfminer's descents (per 1000 em) for the standard fonts: the word box bottom sits here.
_DESCENT = {"Helvetica": -207, "Times": -217, "Courier": -194}
_BOLD = {"Helvetica": "Helvetica-Bold", "Times-Roman": "Times-Bold", "Courier": "Courier-Bold"}

Seg = tuple[str, str, "int | None"]  # (text, label, line index)


def _descent(font: str) -> float:
    for k, v in _DESCENT.items():
        if font.startswith(k):
            return v / 1000.0
    try:  # a registered TrueType font (the right-to-left documents use one)
        from reportlab.pdfbase import pdfmetrics

        return pdfmetrics.getFont(font).face.descent / 1000.0
    except (KeyError, AttributeError):
        return -0.2


def _bidi(ch: str) -> str:
    import unicodedata

    return unicodedata.bidirectional(ch)


def _is_ltr_word(word: str) -> bool:
    """A word with a Latin letter: it keeps its left-to-right order inside a right-to-left line."""
    return any(_bidi(ch) == "L" for ch in word)


def visual(word: str) -> str:
    """A word in the order a right-to-left text layer stores it (the inverse of the PDF reader's
    ``_logical``): reversed, with left-to-right runs (digits, Latin) kept as they are."""
    if not any(_bidi(ch) in ("R", "AL") for ch in word):
        return word
    rev = word[::-1]
    out: list[str] = []
    run: list[str] = []
    for ch in rev:
        if _bidi(ch) in ("L", "EN", "AN") or (run and ch in ".,:/-"):
            run.append(ch)
        else:
            if run:
                out.append("".join(reversed(run)))
                run = []
            out.append(ch)
    if run:
        out.append("".join(reversed(run)))
    return "".join(out)


@dataclass
class _Page:
    ops: list[Callable[[rl_canvas.Canvas], None]] = field(default_factory=list)
    words: list[LabelledWord] = field(default_factory=list)


class _Writer:
    """Buffers drawing operations per page so that page counts are known before drawing."""

    def __init__(self, width: float, height: float, rtl: bool = False) -> None:
        self.W, self.H = width, height
        # Right to left: the page is laid out as if left to right and then mirrored; each word is
        # drawn alone in visual order, and a run of Latin words keeps its left-to-right order.
        self.rtl = rtl
        self.pages: list[_Page] = []
        self.new_page()

    @property
    def page(self) -> _Page:
        return self.pages[-1]

    def new_page(self) -> None:
        self.pages.append(_Page())

    def width(self, text: str, font: str, size: float) -> float:
        return stringWidth(text, font, size)

    def text(self, x: float, top: float, segs: list[Seg], font: str, size: float,
             align: str = "left", max_width: float | None = None) -> tuple[float, float, float]:
        """Draw segments (joined by one space) with their top at ``top``.

        Returns (x0, x1, size actually used). ``max_width`` shrinks the font to fit.
        """
        segs = [s for s in segs if s[0]]
        full = " ".join(s[0] for s in segs)
        if not full:
            return x, x, size
        w = stringWidth(full, font, size)
        if max_width is not None and w > max_width:
            size = max(4.0, size * max_width / w * 0.98)
            w = stringWidth(full, font, size)
        if align == "right":
            x = x - w
        elif align == "center":
            x = x - w / 2
        baseline = top + size * (1 + _descent(font))
        y = self.H - baseline
        placed: list[list] = []
        pos = 0
        for text, label, line in segs:
            for word in text.split():
                k = full.index(word, pos)
                x0 = x + stringWidth(full[:k], font, size)
                x1 = x0 + stringWidth(word, font, size)
                placed.append([word, x0, x1, label, line])
                pos = k + len(word)
        if not self.rtl:
            self.page.ops.append(lambda c, f=font, s=size, xx=x, yy=y, t=full: (c.setFont(f, s), c.drawString(xx, yy, t)))
        else:
            for pw in placed:
                pw[1], pw[2] = self.W - pw[2], self.W - pw[1]
            i = 0
            while i < len(placed):  # runs of Latin words read left to right inside the mirrored line
                if not _is_ltr_word(placed[i][0]):
                    i += 1
                    continue
                j = i
                while j < len(placed) and _is_ltr_word(placed[j][0]):
                    j += 1
                xx = min(pw[1] for pw in placed[i:j])
                space = stringWidth(" ", font, size)
                for pw in placed[i:j]:
                    wdt = pw[2] - pw[1]
                    pw[1], pw[2] = xx, xx + wdt
                    xx += wdt + space
                i = j
            for pw in placed:
                self.page.ops.append(lambda c, f=font, s=size, xx=pw[1], yy=y, t=visual(pw[0]):
                                     (c.setFont(f, s), c.drawString(xx, yy, t)))
        for word, x0, x1, label, line in placed:
            self.page.words.append(LabelledWord(word, (x0, top, x1, top + size), label, line))
        return x, x + w, size

    def hline(self, x0: float, x1: float, y: float, width: float = 0.6) -> None:
        if self.rtl:
            x0, x1 = self.W - x1, self.W - x0
        self.page.ops.append(lambda c: (c.setLineWidth(width), c.line(x0, self.H - y, x1, self.H - y)))

    def vline(self, x: float, y0: float, y1: float, width: float = 0.6) -> None:
        if self.rtl:
            x = self.W - x
        self.page.ops.append(lambda c: (c.setLineWidth(width), c.line(x, self.H - y0, x, self.H - y1)))

    def rect(self, x: float, top: float, w: float, h: float, fill: float | None = None, stroke: bool = True) -> None:
        if self.rtl:
            x = self.W - x - w
        def op(c: rl_canvas.Canvas) -> None:
            c.setLineWidth(0.6)
            if fill is not None:
                c.setFillGray(fill)
            c.rect(x, self.H - top - h, w, h, stroke=1 if stroke else 0, fill=1 if fill is not None else 0)
            c.setFillGray(0)
        self.page.ops.append(op)

    def render(self) -> bytes:
        buf = io.BytesIO()
        c = rl_canvas.Canvas(buf, pagesize=(self.W, self.H), invariant=1)
        c.setTitle("Purchase order")
        for p in self.pages:
            for op in p.ops:
                op(c)
            c.showPage()
        c.save()
        return buf.getvalue()


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap of ``text`` into lines no wider than ``width``."""
    lines: list[str] = []
    cur = ""
    for w in text.split():
        cand = f"{cur} {w}" if cur else w
        if cur and stringWidth(cand, font, size) > width:
            lines.append(cur)
            cur = w
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines


def _split_code(code: str) -> list[str]:
    """Split a long item code at a separator near its middle, the way narrow columns wrap it."""
    if len(code) <= 12:
        return [code]
    cuts = [i for i, ch in enumerate(code) if ch in "-." and 2 < i < len(code) - 2]
    if not cuts:
        return [code]
    i = min(cuts, key=lambda k: abs(k - len(code) / 2))
    return [code[: i + 1], code[i + 1:]]


_NUMERIC = {"line_no", "quantity", "unit_price", "discount_pct", "amount"}


class _OrderPdf:
    def __init__(self, order: Order, fam: Family, r: random.Random) -> None:
        self.o, self.f, self.r = order, fam, r
        size = LETTER if fam.page_size == "Letter" else A4
        self.w = _Writer(*size)
        self.font = fam.font
        self.bold = _BOLD[fam.font]
        self.fs = fam.font_size
        self.M = 40.0
        self.L, self.R = self.M, self.w.W - self.M
        self.bottom_limit = self.w.H - 58
        self.lang = fam.lang

    # ----- header -------------------------------------------------------------------------
    def block(self, x: float, top: float, width: float, caption: str | None, party: Party, label: str,
              boxed: bool = False, name_bold: bool = True) -> float:
        """A caption and a multi-line party block; returns the bottom y."""
        y = top
        pad = 4.0 if boxed else 0.0
        if caption:
            self.w.text(x + pad, y + pad, [(caption, "O", None)], self.bold, self.fs, max_width=width - 2 * pad)
            y += self.fs * 1.35
        for i, ln in enumerate(party.lines):
            font = self.bold if (i == 0 and name_bold) else self.font
            self.w.text(x + pad, y + pad, [(ln, label, None)], font, self.fs, max_width=width - 2 * pad)
            y += self.fs * 1.3
        if boxed:
            self.w.rect(x, top, width, y - top + 2 * pad)
            y += 2 * pad
        return y

    def meta_items(self) -> list[tuple[str, str, str]]:
        f, o = self.f, self.o
        items = [("po_number", o.po_number, "po_number"),
                 ("order_date", fmt_date(o.order_date, f.date_style, f.lang), "order_date")]
        if f.show_requested:
            items.append(("requested_date", fmt_date(o.requested_date, f.date_style, f.lang), "requested_date"))
        if f.show_terms:
            items.append(("payment_terms", o.payment_terms, "payment_terms"))
        if f.currency_style in ("code_field", "code_both"):
            items.append(("currency", o.currency, "currency"))
        return items

    def meta_rows(self, x: float, top: float, width: float, boxed: bool = False) -> float:
        items = self.meta_items()
        caps = [self.f.label(k) for k, _, _ in items]
        capw = max(stringWidth(c, self.bold, self.fs) for c in caps) + 8
        pad = 4.0 if boxed else 0.0
        y = top + pad
        for cap, (_, val, lab) in zip(caps, items):
            self.w.text(x + pad, y, [(cap, "O", None)], self.bold, self.fs)
            self.w.text(x + pad + capw, y, [(val, lab, None)], self.font, self.fs, max_width=width - capw - 2 * pad)
            y += self.fs * 1.45
        if boxed:
            self.w.rect(x, top, width, y - top + pad)
            y += pad
        return y

    def meta_band(self, top: float) -> float:
        """Captions in one row and values under them, in boxed cells across the page."""
        items = self.meta_items()
        cw = (self.R - self.L) / len(items)
        h = self.fs * 3.2
        for i, (k, val, lab) in enumerate(items):
            x = self.L + i * cw
            self.w.rect(x, top, cw, h)
            self.w.text(x + 4, top + 3, [(self.f.label(k), "O", None)], self.bold, self.fs - 1, max_width=cw - 8)
            self.w.text(x + 4, top + 3 + self.fs * 1.4, [(val, lab, None)], self.font, self.fs, max_width=cw - 8)
        return top + h

    def title(self, x: float, top: float, align: str = "left") -> float:
        self.w.text(x, top, [(self.f.label("title"), "O", None)], self.bold, 15, align=align)
        return top + 22

    def letterhead(self, x: float, top: float, align: str = "left") -> float:
        """The buyer's name drawn big and bold (a logo made of text) with its address below."""
        o = self.o
        width = (self.R - self.L) * 0.55
        self.w.text(x, top, [(o.buyer.name, "buyer", None)], self.bold, 20, align=align, max_width=width)
        y = top + 26
        for ln in o.buyer.address:
            self.w.text(x, y, [(ln, "buyer", None)], self.font, self.fs - 0.5, align=align, max_width=width)
            y += (self.fs - 0.5) * 1.3
        return y + 4

    def header(self) -> float:
        f, o = self.f, self.o
        L, R = self.L, self.R
        full = R - L
        y = self.M
        blocks: list[tuple[str, Party, str]] = []
        if not f.logo:
            blocks.append(("buyer", o.buyer, "buyer"))
        blocks.append(("supplier", o.supplier, "supplier"))
        if f.show_ship_to:
            blocks.append(("ship_to", o.ship_to, "ship_to"))
        if f.show_bill_to:
            blocks.append(("bill_to", o.bill_to, "bill_to"))
        boxed = f.header_layout == "boxed"
        lay = f.header_layout
        if lay in ("left", "top"):
            y = self.letterhead(L, y) if f.logo else y
            if lay == "left":
                y = self.title(L, y + 4)
                y = self.meta_rows(L, y, full * 0.6) + 10
            else:
                self.title(R, self.M, align="right")
                y = max(y, self.M + 26)
                y = self.meta_band(y) + 12
            y = self.block_row(blocks, y, boxed=False)
        elif lay == "right":
            ly = self.letterhead(L, y) if f.logo else y
            ty = self.title(R, y, align="right")
            my = self.meta_rows(L + full * 0.55, ty + 2, full * 0.45)
            y = max(ly, my) + 12
            y = self.block_row(blocks, y, boxed=False)
        elif lay == "twocol":
            y = self.letterhead(L, y) if f.logo else y
            y = self.title(L, y + 2) + 4
            col = full / 2 - 10
            ly, ry = y, self.meta_rows(L + full / 2 + 10, y, col) + 10
            for i, (k, p, lab) in enumerate(blocks):
                if i % 2 == 0:
                    ly = self.block(L, ly, col, f.label(k), p, lab) + 10
                else:
                    ry = self.block(L + full / 2 + 10, ry, col, f.label(k), p, lab) + 10
            y = max(ly, ry)
        else:  # boxed
            ly = self.letterhead(L, y) if f.logo else y
            ty = self.title(R, y, align="right")
            my = self.meta_rows(L + full * 0.5, ty + 2, full * 0.5, boxed=True)
            y = max(ly, my) + 12
            y = self.block_row(blocks, y, boxed=True)
        return y + 8

    def block_row(self, blocks: list[tuple[str, Party, str]], y: float, boxed: bool) -> float:
        full = self.R - self.L
        per_row = 3 if len(blocks) >= 3 else max(1, len(blocks))
        per_row = min(per_row, 3)
        gap = 14.0
        bw = (full - gap * (per_row - 1)) / per_row
        bottom = y
        for i, (k, p, lab) in enumerate(blocks):
            if i and i % per_row == 0:
                y = bottom + 10
            x = self.L + (i % per_row) * (bw + gap)
            bottom = max(bottom, self.block(x, y, bw, self.f.label(k), p, lab, boxed=boxed))
        return bottom

    # ----- table --------------------------------------------------------------------------
    def cell_values(self, i: int) -> dict[str, str]:
        ln, f = self.o.lines[i], self.f
        disc = ""
        if ln.discount_pct:
            disc = fmt_number(ln.discount_pct, f.number_style, 0 if float(ln.discount_pct).is_integer() else 1)
        return {
            "line_no": str(ln.line_no), "sku": ln.sku, "cust_part": ln.cust_part,
            "description": ln.description, "quantity": fmt_qty(ln.quantity, f), "uom": ln.uom,
            "unit_price": fmt_number(ln.unit_price, f.number_style, ln.price_decimals),
            "discount_pct": disc, "amount": fmt_number(ln.amount, f.number_style, 2),
        }

    def layout_columns(self, size: float) -> dict[str, float] | None:
        cols = self.f.columns
        widths: dict[str, float] = {}
        for c in cols:
            if c == "description":
                continue
            hw = stringWidth(self.f.column_label(c), self.bold, size)
            vals = []
            for i in range(len(self.o.lines)):
                v = self.cell_values(i)[c]
                if c == "sku" and self.f.wrap_codes:
                    vals.extend(_split_code(v))
                else:
                    vals.append(v)
            vw = max((stringWidth(v, self.font, size) for v in vals), default=0)
            widths[c] = max(hw, vw) + 12
        rest = (self.R - self.L) - sum(widths.values())
        if rest < 150:
            return None
        widths["description"] = rest
        return widths

    def table(self, y: float) -> float:
        f, o = self.f, self.o
        size = self.fs
        widths = self.layout_columns(size)
        while widths is None and size > 6:
            size -= 0.5
            widths = self.layout_columns(size)
        if widths is None:
            widths = self.layout_columns(size) or {c: (self.R - self.L) / len(f.columns) for c in f.columns}
        self.tsize = size
        xs: dict[str, float] = {}
        x = self.L
        for c in f.columns:
            xs[c] = x
            x += widths[c]
        lead = size * 1.25
        amount_col = "amount" if "amount" in f.columns else f.columns[-1]

        def header_row(y: float) -> float:
            h = size + 8
            if f.table_style == "zebra":
                self.w.rect(self.L, y, self.R - self.L, h, fill=0.82, stroke=False)
            for c in f.columns:
                cap = f.column_label(c)
                if c in _NUMERIC:
                    self.w.text(xs[c] + widths[c] - 5, y + 4, [(cap, "O", None)], self.bold, size, align="right")
                else:
                    self.w.text(xs[c] + 5, y + 4, [(cap, "O", None)], self.bold, size)
            if f.table_style in ("ruled", "grid", "hrule", "plain"):
                self.w.hline(self.L, self.R, y)
                self.w.hline(self.L, self.R, y + h)
            if f.table_style == "grid":
                self.grid_v(xs, widths, y, y + h)
            return y + h

        def money_row(y: float, caption: str, value: float) -> float:
            self.w.text(xs[amount_col] - 8, y + 3, [(caption, "O", None)], self.bold, size, align="right")
            self.w.text(xs[amount_col] + widths[amount_col] - 5, y + 3,
                        [(fmt_number(value, f.number_style, 2), "O", None)], self.bold, size, align="right")
            return y + size + 8

        y = header_row(y)
        running = 0.0
        for i, ln in enumerate(o.lines):
            vals = self.cell_values(i)
            cell_lines: dict[str, list[str]] = {}
            for c in f.columns:
                if c == "description":
                    cell_lines[c] = _wrap(vals[c], self.font, size, widths[c] - 10)
                elif c == "sku" and f.wrap_codes:
                    cell_lines[c] = _split_code(vals[c])
                else:
                    cell_lines[c] = [vals[c]] if vals[c] else []
            nl = max(len(v) for v in cell_lines.values())
            h = nl * lead + 6
            reserve = (size + 8) if f.carried else 0
            if y + h > self.bottom_limit - reserve:
                if f.carried:
                    money_row(y, f.label("carried"), running)
                self.w.new_page()
                y = self.continuation_header()
                if f.repeat_header:
                    y = header_row(y)
                if f.carried:
                    y = money_row(y, f.label("brought"), running)
            if f.table_style == "zebra" and i % 2 == 1:
                self.w.rect(self.L, y, self.R - self.L, h, fill=0.93, stroke=False)
            for c in f.columns:
                label = c if c in ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount") else "O"
                line = i if label != "O" else None
                for k, txt in enumerate(cell_lines[c]):
                    top = y + 3 + k * lead
                    if c in _NUMERIC:
                        self.w.text(xs[c] + widths[c] - 5, top, [(txt, label, line)], self.font, size, align="right")
                    else:
                        self.w.text(xs[c] + 5, top, [(txt, label, line)], self.font, size)
            if f.table_style in ("ruled", "grid"):
                self.w.hline(self.L, self.R, y + h)
            if f.table_style == "grid":
                self.grid_v(xs, widths, y, y + h)
            y += h
            running += ln.amount
        if f.table_style in ("hrule", "zebra"):
            self.w.hline(self.L, self.R, y + 1)
        self.xs, self.widths, self.amount_col = xs, widths, amount_col
        return y + 6

    def grid_v(self, xs: dict[str, float], widths: dict[str, float], y0: float, y1: float) -> None:
        for c in self.f.columns:
            self.w.vline(xs[c], y0, y1)
        self.w.vline(self.R, y0, y1)

    def continuation_header(self) -> float:
        """Top of a following page: the PO number again (a value, so labelled)."""
        y = self.M
        self.w.text(self.L, y, [(self.f.label("po_number"), "O", None), (self.o.po_number, "po_number", None)],
                    self.bold, self.fs)
        return y + self.fs * 2.5

    # ----- totals, notes, footer ----------------------------------------------------------
    def totals(self, y: float) -> float:
        f, o = self.f, self.o
        if "amount" not in f.columns:
            return y
        size = self.tsize
        rows: list[tuple[str, str]] = []
        extras = f.freight or f.order_discount or f.tax
        if extras:
            rows.append((f.label("subtotal"), fmt_number(o.subtotal, f.number_style)))
        if f.order_discount:
            rows.append((f.label("discount"), fmt_number(-o.order_discount, f.number_style)))
        if f.freight:
            rows.append((f.label("freight"), fmt_number(o.freight, f.number_style)))
        if f.tax:
            rate = fmt_number(o.tax_rate, f.number_style, 0)
            rows.append((f"{f.label('tax')} {rate}%", fmt_number(o.tax, f.number_style)))
        need = (len(rows) + 1) * (size + 8) + 10
        if y + need > self.bottom_limit:
            self.w.new_page()
            y = self.continuation_header()
        xr = self.xs[self.amount_col] + self.widths[self.amount_col] - 5
        xcap = min(self.xs[self.amount_col] - 10, self.R - 150)
        for cap, val in rows:
            self.w.text(xcap, y + 3, [(cap, "O", None)], self.font, size, align="right")
            self.w.text(xr, y + 3, [(val, "O", None)], self.font, size, align="right")
            y += size + 7
        self.w.hline(xcap - 80, self.R, y + 1)
        style = f.currency_style
        cur = o.currency if style != "code_field" else None
        money = fmt_money(o.total, f.number_style, cur, symbol=style == "symbol_total")
        num = fmt_number(o.total, f.number_style, 2)
        segs: list = []
        if cur is None:
            segs = [(num, "total", None)]
        else:
            i = money.index(num)
            before, after = money[:i].strip(), money[i + len(num):].strip()
            if before and not money[:i].endswith(" "):
                # symbol glued to the number: one word, it is the total as a reader sees it
                segs = [(money, "total", None)]
            else:
                segs = ([(before, "currency", None)] if before else []) + [(num, "total", None)] + \
                       ([(after, "currency", None)] if after else [])
        self.w.text(xcap, y + 5, [(f.label("total"), "O", None)], self.bold, size + 1, align="right")
        self.w.text(xr, y + 5, segs, self.bold, size + 1, align="right")
        return y + size + 20

    def notes(self, y: float) -> float:
        if not self.o.notes:
            return y
        if y + 30 > self.bottom_limit:
            self.w.new_page()
            y = self.continuation_header()
        self.w.text(self.L, y, [(self.f.label("notes"), "O", None)], self.bold, self.fs)
        self.w.text(self.L, y + self.fs * 1.4, [(self.o.notes, "O", None)], self.font, self.fs,
                    max_width=self.R - self.L)
        return y + self.fs * 3

    def terms_page(self) -> None:
        self.w.new_page()
        y = self.M
        self.w.text(self.L, y, [(self.f.label("terms_title"), "O", None)], self.bold, 12)
        y += 24
        sents = vocab.TERMS_SENTENCES[self.lang]
        for n in range(8):
            para = f"{n + 1}. " + " ".join(self.r.sample(sents, k=min(3, len(sents))))
            for ln in _wrap(para, self.font, 8, self.R - self.L):
                self.w.text(self.L, y, [(ln, "O", None)], self.font, 8)
                y += 10.5
            y += 6
            if y > self.bottom_limit - 60:
                break

    def footers(self) -> None:
        n = len(self.w.pages)
        of = self.f.label("of")
        reg = None
        if self.f.index % 3 != 1:
            reg = f"{self.o.buyer.name} - {self.o.buyer.address[-1]}"
        for i, p in enumerate(self.w.pages):
            self.w.pages, keep = self.w.pages[: i + 1], self.w.pages
            self.w.text(self.w.W / 2, self.w.H - 40, [(f"{self.f.label('page')} {i + 1} {of} {n}", "O", None)],
                        self.font, 7.5, align="center")
            if reg:
                self.w.text(self.L, self.w.H - 28, [(reg, "O", None)], self.font, 6.5, max_width=self.R - self.L)
            self.w.pages = keep

    def draw(self) -> tuple[bytes, list[LabelledPage]]:
        y = self.header()
        y = self.table(y)
        y = self.totals(y)
        self.notes(y)
        if self.f.terms_page:
            self.terms_page()
        self.footers()
        data = self.w.render()
        pages = [LabelledPage(self.w.W, self.w.H, p.words) for p in self.w.pages]
        return data, pages


def render_pdf(order: Order, fam: Family, r: random.Random) -> tuple[bytes, list[LabelledPage]]:
    """Draw ``order`` in family ``fam``; return the PDF bytes and the labelled words per page."""
    return _OrderPdf(order, fam, r).draw()
