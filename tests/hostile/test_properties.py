"""Property-based tests (hypothesis) over the EDI parsers and the spreadsheet readers.

Two kinds of property: (1) whatever the bytes, only a named IntakeError with a one-line reason
escapes; (2) a valid 850 generated from random values parses back to exactly those values.
"""

from __future__ import annotations

import io
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from extractors.edi import parse_edi
from extractors.spreadsheet import CsvReader, XlsxReader
from intake.core.errors import IntakeError
from intake.core.settings import Limits

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMITS = Limits()


def _only_named_errors(fn, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except IntakeError as exc:
        assert exc.reason and "\n" not in exc.reason, repr(exc.reason)


# --- EDI ----------------------------------------------------------------------------------------

X12_HEAD = ("ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*SELLERCO       *261130*1200*U*00401*000000101*0*P*:~"
            "GS*PO*BUYERCO*SELLERCO*20261130*1200*101*X*004010~")
EDIFACT_HEAD = "UNA:+.? 'UNB+UNOC:3+BUYER:14+SELLER:14+261130:1200+42'UNH+1+ORDERS:D:96A:UN'"

code = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=15).filter(
    lambda s: s.strip("-") == s)
line = st.tuples(code, st.integers(1, 1_000_000), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"),
                                                              places=2))


def x12_850(po: str, lines: list[tuple[str, int, Decimal]]) -> bytes:
    body = [f"ST*850*0001", f"BEG*00*SA*{po}**20261128", "CUR*BY*USD"]
    for i, (sku, qty, price) in enumerate(lines, 1):
        body.append(f"PO1*{i}*{qty}*EA*{price}**VN*{sku}")
    body.append(f"CTT*{len(lines)}")
    body.append(f"SE*{len(body) + 1}*0001")
    return (X12_HEAD + "~".join(body) + "~GE*1*101~IEA*1*000000101~").encode()


@FAST
@given(po=code, lines=st.lists(line, min_size=1, max_size=20))
def test_a_generated_850_parses_back_to_its_values(po: str, lines: list[tuple[str, int, Decimal]]) -> None:
    order, = parse_edi(x12_850(po, lines)).orders
    assert order.po_number.value == po
    got = [(ln.sku.value, ln.quantity.value, Decimal(str(ln.unit_price.value))) for ln in order.lines]
    assert got == [(sku, qty, price) for sku, qty, price in lines]


@FAST
@given(st.binary(max_size=2000))
def test_parse_edi_on_any_bytes_raises_only_named_errors(data: bytes) -> None:
    _only_named_errors(parse_edi, data)


@FAST
@given(head=st.sampled_from([X12_HEAD, EDIFACT_HEAD]),
       body=st.text(alphabet=st.sampled_from(list("*~:+'?^|\n\r UNHSTBEGPO1LINQTYPRI0123456789.,-ÄéZ")), max_size=600))
def test_parse_edi_on_envelopes_with_random_segments_raises_only_named_errors(head: str, body: str) -> None:
    for enc in ("utf-8", "latin-1"):
        _only_named_errors(parse_edi, (head + body).encode(enc, errors="replace"))


@FAST
@given(po=code, lines=st.lists(line, min_size=1, max_size=5), cut=st.integers(0, 400), junk=st.binary(max_size=30))
def test_a_truncated_or_spliced_850_raises_only_named_errors(po: str, lines: list[tuple[str, int, Decimal]],
                                                             cut: int, junk: bytes) -> None:
    data = x12_850(po, lines)
    cut = min(cut, len(data))
    _only_named_errors(parse_edi, data[:cut])
    _only_named_errors(parse_edi, data[:cut] + junk + data[cut:])


# --- spreadsheets -----------------------------------------------------------------------------------

@FAST
@given(st.binary(max_size=3000))
def test_csv_reader_on_any_bytes_raises_only_named_errors(data: bytes) -> None:
    _only_named_errors(CsvReader().read, data, LIMITS, "x.csv")


@FAST
@given(rows=st.lists(st.lists(st.text(max_size=20), max_size=6), max_size=12),
       delim=st.sampled_from([",", ";", "\t", "|"]),
       enc=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "shift_jis"]))
def test_csv_reader_on_any_table_in_any_encoding_raises_only_named_errors(rows: list[list[str]], delim: str,
                                                                         enc: str) -> None:
    text = "\n".join(delim.join(r) for r in rows)
    data = text.encode(enc, errors="replace")
    _only_named_errors(CsvReader().read, data, LIMITS, "x.csv")


@FAST
@given(st.binary(max_size=3000))
def test_xlsx_reader_on_any_bytes_raises_only_named_errors(data: bytes) -> None:
    _only_named_errors(XlsxReader().read, data, LIMITS, "x.xlsx")


cell = st.one_of(st.none(), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False, width=32),
                 st.text(max_size=30).filter(lambda s: not s.startswith("=")), st.booleans(),
                 st.dates(), st.datetimes())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, max_size=6), max_size=10))
def test_xlsx_reader_on_any_workbook_raises_only_named_errors_and_keeps_plain_values(rows: list[list[object]]) -> None:
    import openpyxl
    from openpyxl.utils.exceptions import IllegalCharacterError

    wb = openpyxl.Workbook()
    ws = wb.active
    try:
        for r in rows:
            ws.append(r)
    except IllegalCharacterError:
        assume(False)  # openpyxl itself refuses control characters in cells
    buf = io.BytesIO()
    wb.save(buf)
    try:
        docs = XlsxReader().read(buf.getvalue(), LIMITS, "x.xlsx")
    except IntakeError as exc:
        assert exc.reason and "\n" not in exc.reason
        return
    words = " ".join(w.text for p in docs[0].pages for w in p.words)
    for r in rows:
        for v in r:
            if isinstance(v, int) and not isinstance(v, bool) and abs(v) < 10**9:
                assert str(abs(v)) in words.replace(",", "").replace(" ", ""), (v, words[:200])
