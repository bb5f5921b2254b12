"""Labelled words -> ``OrderDraft``: the model's word labels read into an order, then checked
against what the page itself says, as a small rule engine of named steps.

Modules, by concern:

* ``engine``: steps, the per-document context, the trace of what each step changed;
* ``tagging``: the model's reading of each word, values built from tagged words;
* ``captions``: values and party blocks named by their caption (the lexicon's captions);
* ``header``: the best span per header field and the checks of header values;
* ``parties``: party blocks, roles and names;
* ``tables``: item tables (column headers, a table's extent and foot, wrapped codes, descriptions);
* ``lines``: item rows into lines, arithmetic, summary rows, scans, line confidence;
* ``special``: colour-by-size matrices, one item written as captions, one-article orders.

Geometry (boxes, rows, skew) lives in extractors/geometry.py, the caption vocabulary in
extractors/lexicon. :data:`STEPS` lists every step in the order it runs; ``assemble(...,
skip=...)`` leaves checks out by name (bench/ablation.py) and ``trace=[]`` records each change
(``intake extract --explain``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from extractors.assembly import header, lines, parties, special, tables
from extractors.assembly.engine import Calibrator, Change, Context, Step, run_steps
from extractors.assembly.tagging import (
    HEADER_FIELDS, LINE_FIELDS, MULTILINE_FIELDS, WordTag, tag_words,
)
from extractors.geometry import Sheet
from extractors.normalize import Locale, detect_locale
from intake.core.domain import OrderDraft, Word

__all__ = ["assemble", "STEPS", "CHECKS", "Step", "Change", "WordTag", "tag_words", "HEADER_FIELDS", "LINE_FIELDS",
           "MULTILINE_FIELDS"]

STEPS: tuple[Step, ...] = tuple(
    parties.STEPS_BLOCKS + header.STEPS_SPANS + header.STEPS + parties.STEPS + header.STEPS_CURRENCY
    + tables.STEPS + lines.STEPS_READ + special.STEPS_ITEM + lines.STEPS_CHECK + lines.STEPS_SCAN
    + lines.STEPS_CONFIDENCE + header.STEPS_TOTAL + lines.STEPS_REPAIRED + special.STEPS)
CHECKS: tuple[str, ...] = tuple(s.name for s in STEPS if not s.core)  # the steps that can be switched off


def assemble(
    words: Sequence[Word],
    probs: np.ndarray,
    id2label: dict[int, str],
    locale: Locale | None = None,
    calibrator: Calibrator | None = None,
    extractor: str = "model",
    model_version: str | None = None,
    *,
    skip: Sequence[str] = (),
    trace: list[Change] | None = None,
) -> OrderDraft:
    """The order the labelled words spell. ``probs`` holds per-word label probabilities.

    ``skip``: checks (names in :data:`CHECKS`) to leave out; ``trace``: a list that receives
    every change each step made."""
    if len(words) != len(probs):
        raise ValueError(f"{len(words)} words but {len(probs)} probability rows")
    unknown = set(skip) - set(CHECKS)
    if unknown:
        raise ValueError(f"no such check: {', '.join(sorted(unknown))} (checks: {', '.join(CHECKS)})")
    sheet = Sheet(words)
    loc = locale or detect_locale([w.text for w in sheet.words])
    ctx = Context(sheet=sheet, probs=probs, id2label=id2label, loc=loc, calibrator=calibrator,
                  draft=OrderDraft(extractor=extractor, model_version=model_version))
    ctx.tags = tag_words(sheet.words, probs, id2label)
    run_steps(STEPS, ctx, frozenset(skip), trace)
    return ctx.draft
