"""The caption lexicon (extractors/lexicon): one data file read by assembly, anchors and the
synthetic generator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors.lexicon import LEXICON, LEXICON_FILE, Lexicon, norm
from intake.core.errors import ConfigError

REQUIRED_LANGS = ("en", "de", "fr", "es", "it", "nl", "pt")


def test_every_field_and_column_has_captions_in_every_supported_language() -> None:
    assert set(REQUIRED_LANGS) <= set(LEXICON.languages)
    for section, fields in (("header", ("po_number", "order_date", "total", "payment_terms")),
                            ("parties", ("ship_to", "bill_to", "supplier", "buyer")),
                            ("columns", ("quantity", "unit_price", "amount", "sku", "description"))):
        for f in fields:
            for lang in REQUIRED_LANGS:
                assert LEXICON.variants(f, lang, section), f"no {section} caption for {f} in {lang}"


def test_a_writer_gets_the_variants_of_a_field_in_a_language_as_printed() -> None:
    de = LEXICON.variants("po_number", "de")
    assert "bestellnummer" in [v.casefold() for v in de]
    assert not any(v.endswith(":") for v in de)
    assert "Unsere Bestellnr." in de  # printed as the generator prints it, case kept
    # a field in several sections: the section picks which
    assert LEXICON.variants("description", "en", "columns") != LEXICON.variants("description", "en", "item")
    # language-neutral symbols come with every language
    assert "#" in LEXICON.variants("line_no", "fr", "columns")
    assert LEXICON.variants("no_such_field", "en") == []


def test_a_reader_asks_which_field_a_caption_names() -> None:
    assert LEXICON.field_of("Prix unitaire", "columns") == "unit_price"
    assert LEXICON.field_of("  QUANTIDADE: ", "columns") == "quantity"
    assert LEXICON.field_of("Lieferanschrift", "parties") == "ship_to"
    assert LEXICON.field_of("Bestellnummer", "header") == "po_number"
    assert LEXICON.field_of("Banana", "columns") is None
    assert norm(" P.O.\u00a0Number: ") == "p.o. number"


def test_captions_carry_their_colon_rule_and_word_lists_compile() -> None:
    terms = {c.text: c for c in LEXICON.captions("header", ["payment_terms"])}
    assert terms["terms"].colon and not terms["payment terms"].colon
    assert LEXICON.regex("legal_forms", suffix=r"\.?").search("Northwind Trading GmbH.")
    assert not LEXICON.regex("legal_forms").search("Gmbhx Road")
    total_row = LEXICON.regex("total_row", start=True)
    assert total_row.match("Grandtotal") and total_row.match("Subtotal:") and not total_row.match("Totally")


def test_a_broken_lexicon_is_refused_with_its_reason(tmp_path: Path) -> None:
    p = tmp_path / "lexicon.json"
    data = json.loads(LEXICON_FILE.read_text())
    data["columns"]["quantity"]["xx"] = ["qty"]
    p.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="language 'xx'"):
        Lexicon.load(p)
    p.write_text("{not json")
    with pytest.raises(ConfigError, match="not JSON"):
        Lexicon.load(p)


def test_no_caption_is_listed_twice_for_two_fields_of_one_section() -> None:
    for section in ("header", "parties", "columns"):
        seen: dict[str, str] = {}
        for c in LEXICON.captions(section):
            assert seen.setdefault(c.text, c.field) == c.field, f"{section}: {c.text!r} names {seen[c.text]} and {c.field}"


def test_a_caption_writers_print_for_two_fields_is_read_as_one() -> None:
    # "Item" heads line numbers in some generated layouts and codes in others: a writer may print
    # it for either, a reader takes it for the one field it names in real documents
    assert "Item" in LEXICON.variants("line_no", "en", "columns")
    assert LEXICON.field_of("Item", "columns") == "sku"
    assert all(c.field == "sku" for c in LEXICON.captions("columns") if c.text == "item")


def test_the_generators_item_column_captions_are_read_as_the_field_it_prints_them_for() -> None:
    # one vocabulary: a column caption the synthetic generator prints for a code, wording,
    # quantity, price or amount column is read as that column by the page checks
    from training.synth import free_vocab

    unread = [(lang, f, label) for lang, by_field in free_vocab.COLUMN_LABELS_EXTRA.items()
              for f, labels in by_field.items() if f in ("sku", "description", "quantity", "unit_price", "amount")
              for label in labels if LEXICON.field_of(label, "columns") != f]
    # "Details" alone names no column; "Artikel" is both a code and a wording column in German
    assert set(unread) <= {("en", "description", "Details"), ("de", "sku", "Artikel")}, unread


def test_an_abbreviations_stop_does_not_hide_a_caption() -> None:
    assert LEXICON.field_of("Article No.", "columns") == "sku"
    assert LEXICON.field_of("Article No", "columns") == "sku"
    assert LEXICON.field_of("Qty.", "columns") == "quantity"
