"""Labelled words -> ``OrderDraft``: the entry point of assembly, kept where callers import it.

The steps live in the ``extractors.assembly`` package (header, parties, tables, lines, special
layouts), geometry in extractors/geometry.py, the caption vocabulary in extractors/lexicon.
"""

from __future__ import annotations

from typing import Sequence

from extractors.assembly import CHECKS, HEADER_FIELDS, LINE_FIELDS, MULTILINE_FIELDS, STEPS, WordTag, assemble, tag_words
from extractors.geometry import visual_rows as _visual_rows
from intake.core.domain import Word

__all__ = ["WordTag", "tag_words", "visual_rows", "assemble", "HEADER_FIELDS", "LINE_FIELDS", "MULTILINE_FIELDS",
           "STEPS", "CHECKS"]


def visual_rows(words: Sequence[Word], skew: dict[int, float] | None = None) -> list[list[int]]:
    """Indices of ``words`` grouped into visual rows (extractors/geometry.py)."""
    return _visual_rows(words, skew)
