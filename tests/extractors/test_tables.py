"""Item-table headers: which column each caption names."""

from __future__ import annotations

from extractors.assembly.tables import header_cells
from extractors.geometry import boxed
from intake.core.domain import Word

H = 10.0  # caption height in points


def _row(*cells: tuple[float, str]) -> list[Word]:
    """Words of one header row: each (x0, text) at 6 points per character."""
    return boxed([Word(text=t, box=(x, 100.0, x + 6.0 * len(t), 100.0 + H)) for x, t in cells])


def _fields(ws: list[Word]) -> list[str | None]:
    return [f for _a, _b, f in header_cells(ws)]


def test_words_at_word_spacing_are_one_caption_and_columns_closer_than_an_em_stand_apart() -> None:
    # "Item code" at word spacing (3 pt); "Colour" 7 pt after it (under an em): its own column,
    # not part of the code's caption (which would put the colours into the item codes)
    ws = _row((50, "Item"), (77, "code"), (108, "Colour"), (250, "Qty"))
    assert _fields(ws) == ["sku", None, "quantity"]


def test_a_barcode_column_yields_the_item_code_to_another_code_column() -> None:
    ws = _row((50, "Code"), (120, "EAN"), (180, "Description"), (320, "Qty"))
    assert _fields(ws) == ["sku", None, "description", "quantity"]
    # alone, the barcode column is where the code is
    ws = _row((120, "EAN"), (180, "Description"), (320, "Qty"))
    assert _fields(ws) == ["sku", "description", "quantity"]


def test_a_caption_named_by_its_first_word_yields_to_a_column_its_whole_caption_names() -> None:
    # "Item weight" reads as a code column by its first word; beside "Item code" it is not one
    ws = _row((50, "Item"), (77, "code"), (130, "Item"), (157, "weight"), (230, "Description"), (380, "Qty"))
    assert _fields(ws) == ["sku", None, "description", "quantity"]
    # alone, its first word still names the column ("Prix unit.")
    ws = _row((50, "Prix"), (77, "unit."), (130, "Description"), (280, "Qté"))
    assert _fields(ws) == ["unit_price", "description", "quantity"]
