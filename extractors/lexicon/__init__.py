"""The caption vocabulary of order documents, one data file for every reader and writer of it.

``lexicon.json`` beside this module holds, per field and language, the captions that name a
value ("PO Number", "Bestellnummer", "N° de commande"), the column headings of item tables
("Qty", "Menge", "Prix unitaire"), the captions of party blocks ("Ship To", "Lieferanschrift"),
and word lists the page checks need (summary rows, legal forms, contact rows, sizes...). The
assembly after the model (extractors/assembly), the anchors learned from corrections
(extractors/serving/anchors.py, training/anchors.py) and the synthetic generator read it through :data:`LEXICON`:

* a writer asks for the variants of a field in a language:
  ``LEXICON.variants("po_number", "de")`` -> ``["bestellnummer", "bestell-nr", ...]``;
* a reader asks which field a caption names:
  ``LEXICON.field_of("Prix unitaire", "columns")`` -> ``"unit_price"``;
  ``LEXICON.captions("header")`` gives every caption with its field, tokens and language for
  scanning a row; ``LEXICON.words("summary")`` a word list; ``LEXICON.regex("legal_forms")``
  a pattern that finds any of its words.

Sections: ``header`` (values named by a caption), ``parties`` (address blocks), ``columns``
(item table headings), ``item`` (one item written as captions and values), ``document`` (what
order documents print beside their values: titles, subtotal, tax, freight, carried-forward rows)
and ``words`` (word lists). A variant is kept as printed ("P.O. #"); readers match it in lower
case with single spaces (:func:`norm`), as they normalise what they read. Nothing here names an
issuer: a caption belongs in the lexicon when order documents of many senders print it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from intake.core.errors import ConfigError

__all__ = ["Caption", "Lexicon", "LEXICON", "LEXICON_FILE", "SECTIONS", "norm"]

LEXICON_FILE = Path(__file__).resolve().parent / "lexicon.json"
SECTIONS = ("header", "parties", "columns", "item", "document", "words")
ANY = "any"  # symbols and abbreviations printed in every language


def norm(text: str) -> str:
    """A caption as the lexicon stores it: lower case, single spaces, no colon around it."""
    return " ".join(text.casefold().replace("\u00a0", " ").split()).strip(":").strip()


@dataclass(frozen=True)
class Caption:
    """One caption of a field: its text as matched (:func:`norm`), its words, its language,
    whether it is a caption only when a colon follows it ("Terms:" but not "Terms and
    conditions"), and how it is printed ("P.O. #", "Bestell-Nr.")."""

    field: str
    text: str
    tokens: tuple[str, ...]
    lang: str
    colon: bool = False
    printed: str = ""
    read: bool = True  # False: printed by writers, but readers do not take it for this field


class Lexicon:
    """The lexicon's data with lookups; built once from ``lexicon.json`` and never changed."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.languages: tuple[str, ...] = tuple(data.get("languages") or ())
        self._captions: dict[str, list[Caption]] = {}
        self._fields: dict[str, tuple[str, ...]] = {}
        for section in SECTIONS:
            table = data.get(section) or {}
            if not isinstance(table, dict):
                raise ConfigError(f"lexicon section {section!r} must map a field to its languages")
            caps: list[Caption] = []
            for fld, by_lang in table.items():
                if not isinstance(by_lang, dict):
                    raise ConfigError(f"lexicon {section}.{fld} must map a language to a list of variants")
                for lang, variants in by_lang.items():
                    if lang != ANY and lang not in self.languages:
                        raise ConfigError(f"lexicon {section}.{fld}: language {lang!r} is not among {self.languages}")
                    for v in variants:
                        if isinstance(v, str):
                            printed, colon, read = v, False, True
                        else:
                            printed, colon, read = str(v["text"]), bool(v.get("colon")), bool(v.get("read", True))
                        text = norm(printed) if section != "words" else printed
                        caps.append(Caption(fld, text, tuple(text.split()), lang, colon, printed, read))
            self._captions[section] = caps
            self._fields[section] = tuple(table)
        self._field_of: dict[str, dict[str, str]] = {}
        for section, caps in self._captions.items():
            first: dict[str, str] = {}
            for c in caps:
                if c.read:
                    first.setdefault(c.text, c.field)  # a caption named twice: the field listed first
            self._field_of[section] = first

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> "Lexicon":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"lexicon {path}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise ConfigError(f"lexicon {path} is not JSON: {exc}") from exc
        return cls(data)

    # --- for writers (the synthetic generator) ------------------------------------------------

    def variants(self, field: str, lang: str | None = None, section: str | None = None) -> list[str]:
        """The caption variants of ``field`` in ``lang`` as printed, without a trailing colon
        (every language when None; the language-neutral ones always), in the lexicon's order.
        ``section`` narrows the search (``description`` is both a column heading and an item
        caption); by default the first section that knows the field answers."""
        for sec in ((section,) if section else SECTIONS):
            caps = [c for c in self._captions.get(sec, ()) if c.field == field]
            if caps:
                return [c.printed for c in caps if lang is None or c.lang in (lang, ANY)]
        return []

    def fields(self, section: str) -> tuple[str, ...]:
        """The fields a section holds, in the lexicon's order."""
        return self._fields.get(section, ())

    # --- for readers ----------------------------------------------------------------------------

    def captions(self, section: str, fields: Iterable[str] | None = None) -> list[Caption]:
        """Every caption of ``section`` that readers take for its field (of ``fields`` only,
        when given), field by field in the lexicon's order."""
        caps = [c for c in self._captions.get(section, []) if c.read]
        if fields is None:
            return list(caps)
        want = list(fields)
        return [c for f in want for c in caps if c.field == f]

    def field_of(self, caption: str, section: str = "columns") -> str | None:
        """Which field ``caption`` (as printed) names in ``section``, or None."""
        table = self._field_of.get(section, {})
        text = norm(caption)
        got = table.get(text)
        if got is None and text.endswith(".") and len(text) > 2:
            got = table.get(text.rstrip("."))  # "Article No." as "article no": an abbreviation's stop
        return got

    def words(self, group: str, lang: str | None = None) -> frozenset[str]:
        """A word list of the ``words`` section (lower case), in every language or one."""
        return frozenset(self.word_list(group, lang))

    def word_list(self, group: str, lang: str | None = None) -> list[str]:
        return [c.text for c in self._captions["words"] if c.field == group and (lang is None or c.lang in (lang, ANY))]

    def regex(self, group: str, *, whole: bool = True, start: bool = False, suffix: str = "") -> re.Pattern[str]:
        """A case-insensitive pattern that finds any word of ``group``: as a whole word
        (``whole``; a trailing ``*`` in the data allows any ending), at the start of the text
        only (``start``), followed by ``suffix`` (a regular expression)."""
        alts = []
        for w in sorted(self.word_list(group), key=len, reverse=True):
            if w.endswith("*"):
                alts.append(re.escape(w[:-1]))
            else:
                alts.append(re.escape(w) + (r"\b" if whole else ""))
        body = "(?:" + "|".join(alts) + ")" if alts else "(?!)"
        return re.compile(("^" if start else r"\b") + body + suffix, re.IGNORECASE)


LEXICON = Lexicon.load()
