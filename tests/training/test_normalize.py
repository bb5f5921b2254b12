"""Normalisation of printed values: locale numbers, dates, currencies, units."""

from __future__ import annotations

import pytest

from extractors.normalize import Locale, detect_locale, normalize_uom, parse_currency, parse_date, parse_number


@pytest.mark.parametrize("text,locale,expected", [
    ("1,234.56", None, 1234.56),
    ("1.234,56", None, 1234.56),
    ("1 234,56", None, 1234.56),
    ("1\u202f234,56", None, 1234.56),
    ("1'234.56", None, 1234.56),
    ("1.234", Locale("de"), 1234.0),
    ("1.234", Locale("en"), 1.234),
    ("1,234", Locale("en", decimal="."), 1234.0),
    ("20,000", Locale("de", decimal=","), 20.0),
    ("0,750", None, 0.75),
    ("1.234.567", None, 1234567.0),
    ("(12.00)", None, -12.0),
    ("12.00-", None, -12.0),
    ("€ 1.234,50", None, 1234.5),
    ("USD 1,000.00", None, 1000.0),
    ("7", None, 7.0),
])
def test_numbers_by_locale(text: str, locale: Locale | None, expected: float) -> None:
    assert parse_number(text, locale) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["abc", "", "PO-123", "12/03/2026", None])
def test_not_numbers(text: str | None) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize("text,locale,expected", [
    ("2026-04-03", None, "2026-04-03"),
    ("03.04.2026", None, "2026-04-03"),
    ("03/04/2026", Locale("en"), "2026-03-04"),
    ("03/04/2026", Locale("fr"), "2026-04-03"),
    ("03/04/2026", Locale("en", dayfirst=True), "2026-04-03"),
    ("13/04/2026", Locale("en"), "2026-04-13"),
    ("04-03-26", Locale("nl"), "2026-03-04"),
    ("3 avril 2026", None, "2026-04-03"),
    ("12. März 2026", None, "2026-03-12"),
    ("Apr 3, 2026", None, "2026-04-03"),
    ("April 3rd, 2026", None, "2026-04-03"),
    ("3 de abril de 2026", None, "2026-04-03"),
    ("3 maart 2026", None, "2026-03-03"),
    ("1 décembre 2025", None, "2025-12-01"),
    ("03-Apr-26", None, "2026-04-03"),
])
def test_dates_to_iso(text: str, locale: Locale | None, expected: str) -> None:
    assert parse_date(text, locale) == expected


@pytest.mark.parametrize("text", ["Net 30", "31/02/2026", "hello world", "", "2026"])
def test_not_dates(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize("text,code", [
    ("€", "EUR"), ("EUR", "EUR"), ("US$", "USD"), ("$", "USD"), ("£", "GBP"), ("CHF", "CHF"),
    ("Fr.", "CHF"), ("zł", "PLN"), ("1.234,50 €", "EUR"), ("Währung: EUR", "EUR"), ("euros", "EUR"),
])
def test_currencies(text: str, code: str) -> None:
    assert parse_currency(text) == code


def test_no_currency() -> None:
    assert parse_currency("Net 30 days") is None
    assert parse_currency("") is None


@pytest.mark.parametrize("text,code", [("Stück", "EA"), ("pcs", "EA"), ("EA", "EA"), ("kg", "KG"), ("box", "BX")])
def test_units(text: str, code: str) -> None:
    assert normalize_uom(text) == code


def test_detect_locale_from_words() -> None:
    de = detect_locale("Bestellung Bestelldatum 12.03.2026 Menge Einzelpreis 1.234,56 99,00".split())
    assert (de.lang, de.decimal, de.dayfirst) == ("de", ",", True)
    en = detect_locale("Purchase Order Date 03/14/2026 Qty Price 1,234.56 9.99".split())
    assert (en.lang, en.decimal, en.dayfirst) == ("en", ".", False)
    assert detect_locale(["x"], hint="fr").lang == "fr"
