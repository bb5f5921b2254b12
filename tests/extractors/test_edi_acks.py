"""Outbound acknowledgments: generated, then read back with our own tokenizers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from extractors.edi_acks import acknowledgments
from extractors.edi import NonOrder, parse_edi, read_edi
from extractors.edifact import tokenize_edifact
from extractors.x12 import tokenize_x12
from intake.core.errors import EdiError, NotAnOrder
from tests.conftest import FIXTURES

NOW = datetime(2026, 3, 4, 5, 6, tzinfo=timezone.utc)


def _load(case: str) -> bytes:
    return (FIXTURES / case / "input.edi").read_bytes()


def _segs_x12(content: bytes) -> list[list[str]]:
    return tokenize_x12(content.decode("utf-8"))[1]


def test_x12_997_and_855_round_trip() -> None:
    inbound = parse_edi(_load("edi_x12_850_basic"))
    files = acknowledgments(inbound, now=NOW)
    names = [n for n, _ in files]
    assert names[0].startswith("997_") and names[1].startswith("855_PO-778812_")
    assert len(files) == 2

    ack997 = read_edi(files[0][1])
    assert ack997.syntax == "x12" and not ack997.orders
    assert [n.type for n in ack997.non_orders] == ["997"]
    # Sender and receiver swapped, in the ISA and in the GS.
    assert ack997.envelope["isa_sender"] == "WIDGETCO" and ack997.envelope["isa_receiver"] == "ACMEBUYER"
    assert ack997.envelope["groups"][0]["gs_sender"] == "WIDGETCO"
    segs = _segs_x12(files[0][1])
    assert ["AK1", "PO", "101"] in segs
    assert ["AK2", "850", "0001"] in segs and ["AK5", "A"] in segs
    assert ["AK9", "A", "1", "1", "1"] in segs

    with pytest.raises(NotAnOrder, match="855 purchase order acknowledgment"):
        parse_edi(files[1][1])
    ack855 = read_edi(files[1][1])
    assert ack855.non_orders == [NonOrder("855", "0001", "855 purchase order acknowledgment")]
    segs = _segs_x12(files[1][1])
    assert ["BAK", "00", "AC", "PO-778812", "20250301"] in segs
    acks = [s for s in segs if s[0] == "ACK"]
    assert [a[1] for a in acks] == ["IA", "IA", "IA"]
    po1 = [s for s in segs if s[0] == "PO1"]
    assert po1[1][:5] == ["PO1", "2", "3.5", "LB", "7.25"]
    se = next(s for s in segs if s[0] == "SE")
    st_index = next(i for i, s in enumerate(segs) if s[0] == "ST")
    se_index = segs.index(se)
    assert int(se[1]) == se_index - st_index + 1  # SE01 counts ST..SE


def test_x12_control_numbers_deterministic_or_given() -> None:
    inbound = parse_edi(_load("edi_x12_850_basic"))
    assert acknowledgments(inbound, now=NOW) == acknowledgments(inbound, now=NOW)
    files = acknowledgments(inbound, now=NOW, control_number=42)
    assert read_edi(files[0][1]).envelope["isa_control"] == "000000042"
    assert read_edi(files[1][1]).envelope["isa_control"] == "000000043"


def test_x12_997_covers_every_group_of_a_mixed_interchange() -> None:
    inbound = parse_edi(_load("edi_x12_810_850_bom_nbsp"))
    files = acknowledgments(inbound, now=NOW)
    segs = _segs_x12(files[0][1])
    assert [s for s in segs if s[0] == "AK2"] == [["AK2", "810", "1001"], ["AK2", "850", "2001"]]
    assert [s[1] for s in segs if s[0] == "ST"] == ["997", "997"]
    assert len(files) == 2  # one 855: the 810 gets no purchase-order acknowledgment
    # The inbound's 00501 version carries a repetition separator in ISA11.
    assert read_edi(files[0][1]).envelope["delimiters"]["repetition"] == "^"


def test_x12_rejection_and_line_status() -> None:
    inbound = parse_edi(_load("edi_x12_850_basic"))
    files = acknowledgments(inbound, now=NOW, order_lines_status={"PO-778812": {2: "IR"}})
    acks = [s[1] for s in _segs_x12(files[1][1]) if s[0] == "ACK"]
    assert acks == ["IA", "IR", "IA"]

    rejected = acknowledgments(inbound, now=NOW, accepted=False)
    segs997 = _segs_x12(rejected[0][1])
    assert ["AK5", "R"] in segs997 and ["AK9", "R", "1", "1", "0"] in segs997
    assert ["BAK", "00", "RJ", "PO-778812", "20250301"] in _segs_x12(rejected[1][1])

    with pytest.raises(EdiError, match="unknown X12 line status"):
        acknowledgments(inbound, now=NOW, order_lines_status={"PO-778812": {1: "OK"}})


def test_x12_keeps_inbound_delimiters() -> None:
    inbound = parse_edi(_load("edi_x12_tilde_separator"))
    files = acknowledgments(inbound, now=NOW)
    text = files[1][1].decode()
    assert text.startswith("ISA~00~") and "\nBAK~00~AC~R-5521~19990412\n" in text
    d, segs = tokenize_x12(text)
    assert (d.element, d.segment) == ("~", "\n")
    assert read_edi(files[1][1]).non_orders[0].type == "855"


def test_edifact_contrl_and_ordrsp_round_trip() -> None:
    inbound = parse_edi(_load("edifact_orders_decimal_comma"))
    files = acknowledgments(inbound, now=NOW)
    assert [n.split("_")[0] for n, _ in files] == ["CONTRL", "ORDRSP"]

    contrl = read_edi(files[0][1])
    assert [n.type for n in contrl.non_orders] == ["CONTRL"]
    assert contrl.envelope["unb_sender"] == "5412345000013" and contrl.envelope["unb_recipient"] == "4012345000009"
    _, segs = tokenize_edifact(files[0][1].decode())
    uci = next(s for s in segs if s[0] == "UCI")
    assert uci[1][0] == ["ICR0001"] and uci[1][-1] == ["7"]
    assert ("UCM", [["M1"], ["ORDERS", "D", "01B", "UN"], ["7"]]) in segs

    with pytest.raises(NotAnOrder, match="ORDRSP order response"):
        parse_edi(files[1][1])
    text = files[1][1].decode()
    assert text.startswith("UNA:+,? '")  # the inbound's service string advice, decimal comma included
    assert "RFF+ON:ORD?+2025/17'" in text  # the release character escapes a '+' in the PO number
    d, segs = tokenize_edifact(text)
    assert ("BGM", [["231"], ["RORD+2025/17"], ["29"]]) in segs
    assert ("RFF", [["ON", "ORD+2025/17"]]) in segs
    assert [s[1][0][0] for s in segs if s[0] == "LIN"] == ["1", "2"]
    assert ("QTY", [["21", "12,5", "KGM"]]) in segs
    assert ("PRI", [["AAA", "12,5"]]) in segs
    unh = next(s for s in segs if s[0] == "UNH")
    assert unh[1][1] == ["ORDRSP", "D", "01B", "UN", "EAN010"]


def test_edifact_line_status_and_rejection() -> None:
    inbound = parse_edi(_load("edifact_orders_decimal_comma"))
    files = acknowledgments(inbound, now=NOW, order_lines_status={"ORD+2025/17": {2: "7"}})
    _, segs = tokenize_edifact(files[1][1].decode())
    assert [s[1][1][0] for s in segs if s[0] == "LIN"] == ["5", "7"]
    rejected = acknowledgments(inbound, now=NOW, accepted=False)
    _, segs = tokenize_edifact(rejected[0][1].decode())
    assert next(s for s in segs if s[0] == "UCI")[1][-1] == ["4"]
