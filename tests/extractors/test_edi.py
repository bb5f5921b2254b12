"""EDI extraction: golden fixtures, the real-document truths, and robustness properties."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from extractors.edi import EdiResult, NonOrder, parse_edi, read_edi, sniff_edi
from extractors.edifact import tokenize_edifact
from extractors.x12 import tokenize_x12
from intake.core.domain import TRUTH_HEADER_KEYS, TRUTH_LINE_KEYS, DocumentKind, OrderDraft
from intake.core.errors import EdiError, EmptyDocument, IntakeError, NotAnOrder
from tests.conftest import FIXTURES, need_realdocs

GOLDEN = sorted(p for p in FIXTURES.glob("edi*") if p.is_dir())
REGEN = os.environ.get("INTAKE_REGEN_GOLDEN") == "1"


def snapshot(data: bytes) -> dict[str, Any]:
    """What a golden file pins down: every order's values, ids and envelope, or the error."""
    try:
        result = read_edi(data)
    except IntakeError as err:
        return {"error": type(err).__name__, "reason": str(err)}
    out: dict[str, Any] = {
        "syntax": result.syntax,
        "non_orders": [list(n) for n in result.non_orders],
        "envelope": {k: result.envelope.get(k) for k in ("sender", "receiver", "control_number", "version")},
        "orders": [],
    }
    if not result.orders:
        try:
            parse_edi(data)
        except NotAnOrder as err:
            out["not_an_order"] = str(err)
    for order in result.orders:
        t = order.to_truth()
        t.pop("confidence")
        t["extractor"] = order.extractor
        t["sender"] = order.sender
        t["partner_ids"] = order.partner_ids
        for tl, ln in zip(t["lines"], order.lines):
            tl["product_ids"] = ln.product_ids
            tl["requested_date"] = ln.requested_date.value
        out["orders"].append(t)
    return out


def test_regen_flag_is_off() -> None:
    """Golden files are rewritten only on purpose, never by a forgotten environment variable."""
    assert not REGEN, "INTAKE_REGEN_GOLDEN=1 is set: golden files were rewritten; unset it and rerun"


@pytest.mark.parametrize("case", GOLDEN, ids=lambda p: p.name)
def test_golden(case: Path) -> None:
    got = snapshot((case / "input.edi").read_bytes())
    expected_path = case / "expected.json"
    if REGEN:
        expected_path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(expected_path.read_text(encoding="utf-8"))


def test_every_value_is_exact() -> None:
    result = parse_edi((FIXTURES / "edi_x12_850_basic" / "input.edi").read_bytes())
    order = result.orders[0]
    assert order.document_kind is DocumentKind.x12 and order.extractor == "edi-x12"
    for name in OrderDraft.HEADER_FIELDS:
        f = getattr(order, name)
        assert f.present and f.confidence == 1.0, name
    for ln in order.lines:
        assert ln.confidence == 1.0
        assert isinstance(ln.line_no.value, int)
    assert order.meta["isa_control"] == "000000101"
    assert order.meta["gs_control"] == "101"
    assert order.meta["st_control"] == "0001"
    assert order.meta["beg"]["po_number"] == "PO-778812"
    assert order.meta["charges"] == [{"indicator": "C", "code": "D240", "amount": 15.0, "percent": None,
                                      "description": "", "line_no": 2}]
    assert order.meta["lines"][0]["pack"] == {"pack": 12, "size": 1, "uom": "EA", "packaging": ""}


def test_edifact_meta_for_acknowledgments() -> None:
    result = parse_edi((FIXTURES / "edifact_orders_decimal_comma" / "input.edi").read_bytes())
    order = result.orders[0]
    assert order.document_kind is DocumentKind.edifact and order.extractor == "edi-edifact"
    assert order.meta["unb_control"] == "ICR0001"
    assert order.meta["unh_ref"] == "M1"
    assert (order.meta["version"], order.meta["release"], order.meta["association_code"]) == ("D", "01B", "EAN010")
    assert result.envelope["delimiters"]["decimal"] == ","
    assert order.lines[0].unit_price.value == 12.5 and order.lines[0].quantity.value == 12.5


# ---------------------------------------------------------------------------------------------
# Sniffing and errors


@pytest.mark.parametrize(("data", "kind"), [
    (b"ISA*00*", "x12"),
    (b"\xef\xbb\xbf\r\n  ISA~00~", "x12"),
    (b"UNA:+.? 'UNB+UNOC:3", "edifact"),
    (b"\nUNB+UNOA:1+X", "edifact"),
    (b"%PDF-1.7", None),
    (b"ISAAC NEWTON", None),
    (b"", None),
])
def test_sniff(data: bytes, kind: str | None) -> None:
    assert sniff_edi(data) == kind


def test_empty_input() -> None:
    with pytest.raises(EmptyDocument):
        parse_edi(b"")
    with pytest.raises(EmptyDocument):
        parse_edi(b"\xef\xbb\xbf \r\n")


def test_not_edi() -> None:
    with pytest.raises(EdiError, match="not an EDI interchange"):
        parse_edi(b"Hello, please send 10 widgets")


def test_truncated_x12_is_an_edi_error() -> None:
    data = (FIXTURES / "edi_x12_850_basic" / "input.edi").read_bytes()
    cut = data[: data.index(b"PO1*2")]
    with pytest.raises(EdiError, match="no SE trailer") as err:
        parse_edi(cut)
    assert not isinstance(err.value, NotAnOrder)
    with pytest.raises(EdiError, match="ISA header"):
        parse_edi(data[:60])


def test_truncated_edifact_is_an_edi_error() -> None:
    data = (FIXTURES / "edifact_orders_decimal_comma" / "input.edi").read_bytes()
    with pytest.raises(EdiError, match="truncated"):
        parse_edi(data[: data.index(b"LIN+2") + 3])
    with pytest.raises(EdiError, match="no UNT trailer"):
        parse_edi(data[: data.index(b"UNS+S")] + b"UNZ+1+ICR0001'")


def test_no_order_reason_names_what_is_there() -> None:
    with pytest.raises(NotAnOrder, match=r"^X12 interchange holds 810 invoice\(s\), no 850 purchase order$"):
        parse_edi((FIXTURES / "edi_x12_810_only" / "input.edi").read_bytes())
    result = read_edi((FIXTURES / "edi_x12_810_only" / "input.edi").read_bytes())
    assert result.non_orders == [NonOrder("810", "0001", "810 invoice")]


def test_segments_separated_by_newlines_only() -> None:
    data = (FIXTURES / "edi_x12_tilde_separator" / "input.edi").read_bytes()
    d, segs = tokenize_x12(data.decode())
    assert (d.element, d.segment) == ("~", "\n")
    assert [s[0] for s in segs][:4] == ["ISA", "GS", "ST", "BEG"]


def test_edifact_release_character() -> None:
    d, segs = tokenize_edifact("UNA:+.? 'BGM+220+A?+B?:C??D?'E'")
    assert segs == [("BGM", [["220"], ["A+B:C?D'E"]])]


# ---------------------------------------------------------------------------------------------
# Real documents (../shared/realdocs): truths and "never another exception"


def _truth_files() -> list[Path]:
    from tests.conftest import REALDOCS

    return sorted([*REALDOCS.glob("edi_x12/*.truth.json"), *REALDOCS.glob("edifact/*.truth.json")])


def _real_files() -> list[Path]:
    from tests.conftest import REALDOCS

    return sorted(p for d in ("edi_x12", "edifact") for p in (REALDOCS / d).glob("*")
                  if p.is_file() and not p.name.endswith(".json"))


@pytest.mark.realdocs
@pytest.mark.parametrize("truth_path", _truth_files() or [None], ids=lambda p: p.name if p else "none")
def test_realdocs_truth(truth_path: Path | None) -> None:
    need_realdocs()
    if truth_path is None:
        pytest.skip("no EDI truth files in realdocs")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    doc = truth_path.with_name(truth_path.name[: -len(".truth.json")])
    result = parse_edi(doc.read_bytes())
    got = result.orders[0].to_truth()
    for key in TRUTH_HEADER_KEYS:
        assert got[key] == truth[key], key
    assert len(got["lines"]) == len(truth["lines"])
    for gl, tl, ln in zip(got["lines"], truth["lines"], result.orders[0].lines):
        for key in TRUTH_LINE_KEYS:
            assert gl[key] == tl[key], (tl["line_no"], key)
        if "product_ids" in tl:
            assert ln.product_ids == tl["product_ids"]


@pytest.mark.realdocs
@pytest.mark.parametrize("path", _real_files() or [None], ids=lambda p: p.name if p else "none")
def test_realdocs_never_raise_anything_else(path: Path | None) -> None:
    need_realdocs()
    if path is None:
        pytest.skip("no EDI files in realdocs")
    try:
        result = parse_edi(path.read_bytes())
    except NotAnOrder as err:
        assert "no 850" in str(err) or "no ORDERS" in str(err)
        return
    except EdiError:
        return
    assert isinstance(result, EdiResult) and result.orders
    for order in result.orders:
        assert order.po_number.present
        assert order.sender


# ---------------------------------------------------------------------------------------------
# Properties: arbitrary and mutated input only ever raises intake errors


def _assert_only_intake_errors(data: bytes) -> None:
    try:
        parse_edi(data)
    except IntakeError as err:
        assert "\n" not in str(err)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _assert_only_intake_errors(data)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_after_header(tail: bytes) -> None:
    for head in (b"ISA*00*", b"UNA:+.? '", b"UNB+UNOC:3+"):
        _assert_only_intake_errors(head + tail)


_SAMPLES = [(FIXTURES / c / "input.edi").read_bytes() for c in
            ("edi_x12_850_basic", "edi_x12_tilde_separator", "edi_x12_810_850_bom_nbsp",
             "edifact_orders_decimal_comma", "edifact_orders_utf8_as_latin1")]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(_SAMPLES))), st.randoms(use_true_random=False),
       st.lists(st.sampled_from(["delete", "insert", "replace", "dup", "cut"]), min_size=1, max_size=4))
def test_mutated_real_segments(which: int, rnd: random.Random, ops: list[str]) -> None:
    data = bytearray(_SAMPLES[which])
    alphabet = b"*~:+'?>^\r\n 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\xa0\xc3\xff"
    for op in ops:
        if not data:
            break
        i = rnd.randrange(len(data))
        if op == "delete":
            del data[i: i + rnd.randint(1, 8)]
        elif op == "insert":
            data[i:i] = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(1, 6)))
        elif op == "replace":
            data[i] = rnd.choice(alphabet)
        elif op == "dup":
            j = min(len(data), i + rnd.randint(1, 40))
            data[j:j] = data[i:j]
        else:
            data = data[:i]
    _assert_only_intake_errors(bytes(data))
