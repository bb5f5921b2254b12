"""Orders typed into a mail body: item lines read by their grammar (extractors/typed.py)."""

from __future__ import annotations

import pytest

from extractors.text import layout_text
from extractors.typed import parse_header, parse_items, refine
from intake.core.domain import DocumentKind, Field, LineDraft, OrderDraft


def _items(text: str) -> list[tuple]:
    return [(t.quantity, t.unit, t.code, t.price, t.description) for t in parse_items(text)]


@pytest.mark.parametrize("text, want", [
    ("Hi team,\nCan we order:\n25 MAT-1349 Copy paper A4 80g, ream\n3 ART-6192 env DL white, bx 500\nThanks,\nEmma\n",
     [(25, None, "MAT-1349", None, "Copy paper A4 80g, ream"), (3, None, "ART-6192", None, "env DL white, bx 500")]),
    ("Bonjour,\nMerci de nous livrer :\nclasseur a levier A4 dos 50mm noir : 22\nCF226A TONER LASER HP 26 A NOIRE : 1\n"
     "Cordialement,\nSophie Martin\n",
     [(22, None, None, None, "classeur a levier A4 dos 50mm noir"), (1, None, None, None, "CF226A TONER LASER HP 26 A NOIRE")]),
    ("Order below please:\n- 2 x Ref 286309 Bic Cristal Fine\n- 510 x printer paper A3 80gsm wht, ream\n",
     [(2, None, "286309", None, "Bic Cristal Fine"), (510, None, None, None, "printer paper A3 80gsm wht, ream")]),
    ("207a toner cartridge cyan - qty 2\nbattery D, x2 - qty 3\n",
     [(2, None, None, None, "207a toner cartridge cyan"), (3, None, None, None, "battery D, x2")]),
    ("D0944056        120 pce     Drive belt\nC3872028         12 pièce   Spring pin\n",
     [(120, "pce", "D0944056", None, "Drive belt"), (12, "pièce", "C3872028", None, "Spring pin")]),
    ("Pedido n.º PO887600\n50,000 caja Dark chocolate 70% (ref. EVY-370)\n6,000 ud Oat drink barista (ref. FFR-641)\n",
     [(50, "caja", "EVY-370", None, "Dark chocolate 70%"), (6, "ud", "FFR-641", None, "Oat drink barista")]),
    ("12 x XFP-RED-0065 Espresso beans à 49,82 l'unité\n24 x KHP-BLU-0460 Notebook A5 à 20,84 l'unité\n",
     [(12, None, "XFP-RED-0065", 49.82, "Espresso beans"), (24, None, "KHP-BLU-0460", 20.84, "Notebook A5")]),
])
def test_item_lines(text: str, want: list[tuple]) -> None:
    assert _items(text) == want


def test_a_number_in_the_wording_is_not_the_quantity_and_a_mixed_block_keeps_its_words() -> None:
    got = _items("10 Pencil HB Staedtler Noris, x12\n10 12a toner cartridge black\n6 Logitech K120 keyboard\n")
    assert got == [(10, None, None, None, "Pencil HB Staedtler Noris, x12"),
                   (10, None, None, None, "12a toner cartridge black"),
                   (6, None, None, None, "Logitech K120 keyboard")]


def test_addresses_signatures_captions_and_quotes_are_not_items() -> None:
    text = ("Hello,\nplease find our order attached.\nNotre n° de commande : 137624\n"
            "> 5 boxes of pens\nRegards,\nJulia Müller\n19 rue de la République\n12253 Lille\nTel. +33 1 23 45 67\n")
    assert parse_items(text) == []


def test_header_captions() -> None:
    h = parse_header("Bestell-Nr.: PO-2025-07548\nBitte liefern bis 08.07.2025\n")
    assert h["po_number"][0] == "PO-2025-07548" and h["requested_date"][0] == "2025-07-08"
    h = parse_header("Bon de commande n° HAM/2026/671\nLivraison souhaitee le 03/10/2026.\n")
    assert h["po_number"][0] == "HAM/2026/671" and h["requested_date"][0] == "2026-10-03"


def test_refine_replaces_cut_short_model_lines_and_points_at_the_row() -> None:
    doc = layout_text("Commande :\nbaton de colle uhu 21g : 9\nmemoire usb Kingston 32 Go : 3\n", kind=DocumentKind.email_body)
    model = OrderDraft(lines=[LineDraft(description=Field(value="baton", confidence=0.7),
                                        quantity=Field(value=21.0, confidence=0.7))])
    d = refine(doc, model)
    assert [(ln.quantity.value, ln.description.value) for ln in d.lines] == [
        (9, "baton de colle uhu 21g"), (3, "memoire usb Kingston 32 Go")]
    assert d.lines[0].quantity.source and d.lines[0].quantity.source[0].box[1] == 12  # the second text row
    assert all(0.8 < ln.quantity.confidence < 1 for ln in d.lines)


def test_refine_leaves_pdfs_alone() -> None:
    doc = layout_text("5 x widgets\n6 x gadgets\n", kind=DocumentKind.pdf)
    model = OrderDraft()
    assert refine(doc, model).lines == []


@pytest.mark.parametrize("text, want", [
    ("5 x pens\nThanks,\nEmma\nBrightside Dental Group\n", "Brightside Dental Group"),
    ("Cordialement,\nSophie Martin\nEcole Les Tilleuls\n12 rue des Lilas\n", "Ecole Les Tilleuls"),
    ("Saludos,\nJames Taylor\nBrightline Foods S.A.\nAvenida de la Industria 138\nTel. +41 596 2912224\n", "Brightline Foods S.A."),
    ("Regards,\nJohn Miller\n", None),
    ("no sign-off here\nJohn Miller\nAcme Ltd\n", None),
])
def test_the_senders_company_from_the_signature(text: str, want: str | None) -> None:
    from extractors.typed import signature_company

    got = signature_company(text)
    assert (got[0] if got else None) == want
