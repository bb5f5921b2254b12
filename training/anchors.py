"""Learning layouts from corrections: where each value sits, named by the caption beside it.

A customer's layout repeats its captions from one order to the next ("Order No:", "Date of
Order:", a "Qty/Article" column heading); the values change. A corrected document (the words
labelled from its true order, training/build_dataset.py) therefore shows, for every value the
CSR confirmed, the caption that leads to it: the words right before it on its row, or the
words right above it (a value under its caption, a number under its column heading).

``learn_layouts`` turns the corrections of a retraining run into such anchors, one set per
layout (the grouping routing uses, :func:`extractors.serving.router.layouts`); with two or more
corrections of a layout an anchor is kept only where they agree, so per-order text never
becomes a caption. ``write_layouts`` puts them in the fine-tuned model's ``layouts.json``;
serving reads documents of a learned layout by them (:mod:`extractors.serving.anchors`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from extractors.geometry import boxed
from extractors.serving.anchors import (
    HEADER_ANCHORED, LINE_ANCHORED, MAX_ABOVE_ROWS, MAX_CAPTION_WORDS, caption_norm, find_caption, line_height, run_around,
    same_row)
from extractors.serving.model_dir import LAYOUTS_FILE
from extractors.serving.router import DEFAULT_THRESHOLD
from extractors.serving.router import layouts as group_layouts
from intake.core.domain import Word
from training.router import corrected_fingerprint

__all__ = ["learn_layouts", "write_layouts"]


def _left_run(words: Sequence[Word], tags: Sequence[str] | None, first: Word) -> list[int]:
    """Indices of the caption right before ``first`` on its row: the untagged words at word
    spacing that end at its nearest left neighbour."""
    row = sorted((i for i, w in enumerate(words) if w is not first and same_row(w, first)
                  and w.box.x1 <= first.box.x0 + 0.5), key=lambda i: words[i].box.x0)
    run: list[int] = []
    for i in reversed(row):
        if tags is not None and tags[i] != "O":
            break
        if run and words[run[0]].box.x0 - words[i].box.x1 > 1.0 * line_height(words[i]):
            break
        run.insert(0, i)
        if len(run) >= MAX_CAPTION_WORDS:
            break
    return run


def _above_run(words: Sequence[Word], tags: Sequence[str] | None, span: Sequence[Word]) -> list[int]:
    """The caption over a value: the nearest row above (within ``MAX_ABOVE_ROWS`` line heights)
    with words overlapping the value's x-range, when those words are untagged."""
    x0, x1 = min(w.box.x0 for w in span), max(w.box.x1 for w in span)
    top, page, h = min(w.box.y0 for w in span), span[0].page, line_height(span[0])
    over = [i for i, w in enumerate(words) if w.page == page and w.box.y1 <= top + 0.5
            and top - w.box.y1 < MAX_ABOVE_ROWS * h and min(x1, w.box.x1) - max(x0, w.box.x0) > 0]
    if not over:
        return []
    nearest = max(words[i].box.y1 for i in over)
    row = [i for i in over if nearest - words[i].box.y1 < 0.5 * h]
    if tags is not None and any(tags[i] != "O" for i in row):
        return []
    run = run_around(words, sorted(row, key=lambda i: words[i].box.x0), gap=0.5)
    if tags is not None:
        run = [i for i in run if tags[i] == "O"]
    return run if len(run) <= MAX_CAPTION_WORDS else []


def _is_caption(ws: Sequence[Word]) -> bool:
    text = " ".join(w.text for w in ws)
    return bool(ws) and sum(c.isalpha() for c in text) >= 2 and sum(c.isdigit() for c in text) <= 2


def _anchor_of(words: Sequence[Word], tags: Sequence[str], span: list[int]) -> dict[str, Any] | None:
    ws = [words[i] for i in span]
    found = None
    left = _left_run(words, tags, ws[0])
    if left and _is_caption([words[i] for i in left]):
        found = (left, "right")
    else:
        above = _above_run(words, tags, ws)
        if above and _is_caption([words[i] for i in above]):
            found = (above, "below")
    if found is None:
        return None
    cap, how = found
    a: dict[str, Any] = {"caption": caption_norm(" ".join(words[i].text for i in cap)), "how": how, "page": ws[0].page}
    # which of the places the caption is printed leads to the value ("Total" over the net amount,
    # "Total" again before the grand total): counted in reading order
    places = find_caption(words, a["caption"])
    nth = next((k for k, pl in enumerate(places) if cap[0] in pl), 0)
    a.update({"nth": nth, "of": len(places)})
    return a


def _spans(tags: Sequence[str], field: str) -> list[list[int]]:
    out: list[list[int]] = []
    for i, t in enumerate(tags):
        if t == f"B-{field}":
            out.append([i])
        elif t == f"I-{field}" and out and out[-1][-1] == i - 1:
            out[-1].append(i)
    return out


def _example_anchors(example: Any, truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Field -> anchor for one corrected document (the first labelled span of each field)."""
    words: list[Word] = []
    tags: list[str] = []
    for pi, p in enumerate(example.pages):
        words.extend(w if w.page == pi else w.model_copy(update={"page": pi}) for w in p.words)
        tags.extend(p.tags)
    words = boxed(words)
    out: dict[str, dict[str, Any]] = {}
    fields = [f for f in HEADER_ANCHORED if truth.get(f) not in (None, "")]
    lines = truth.get("lines") or []
    if len(lines) == 1:
        fields += [f for f in LINE_ANCHORED if lines[0].get(f) not in (None, "")]
    for f in fields:
        spans = _spans(tags, f)
        for sp in spans[:1]:
            a = _anchor_of(words, tags, sp)
            if a is not None:
                out[f] = a
    return out


def learn_layouts(examples: Sequence[Any], truths: Sequence[dict[str, Any]],
                  threshold: float | None = None) -> list[dict[str, Any]]:
    """The anchors of each layout among the corrected ``examples`` (with their ``truths``).

    A layout is a group of corrected documents with similar fingerprints; its entry holds its
    fingerprints, its anchors (kept where every correction of the layout that shows the field
    agrees), and whether its orders are of one article."""
    if not examples:
        return []
    fps = [corrected_fingerprint(e) for e in examples]
    keyed = [{**fp, "name": f"{i}"} for i, fp in enumerate(fps)]  # names may repeat: group by index
    out = []
    for lay in group_layouts(keyed):
        idx = [int(n) for n in lay.get("documents") or []]
        if not idx:
            continue
        per = [_example_anchors(examples[i], truths[i]) for i in idx]
        anchors: dict[str, dict[str, Any]] = {}
        for f in list(HEADER_ANCHORED) + list(LINE_ANCHORED):
            seen = [p[f] for p in per if f in p]
            if not seen:
                continue
            first = seen[0]
            if all(s["caption"] == first["caption"] and s["how"] == first["how"] for s in seen):
                anchors[f] = first
        # what every correction of the layout says it does not print (no ship-to, no total)
        absent = [f for f in HEADER_ANCHORED + ("ship_to", "bill_to")
                  if all(f in truths[i] and truths[i][f] in (None, "") for i in idx)]
        # one article named in the header (its code or name beside a caption), on every correction
        single = all(len(truths[i].get("lines") or []) == 1 for i in idx) and any(
            anchors.get(f, {}).get("how") == "right" for f in ("sku", "description"))
        if not single:
            anchors = {f: a for f, a in anchors.items() if f in HEADER_ANCHORED}
        if anchors:
            out.append({"fingerprints": [fps[i] for i in idx],
                        "anchors": anchors, "single_item": single, "absent": absent,
                        "threshold": float(threshold if threshold is not None else DEFAULT_THRESHOLD)})
    return out


def write_layouts(model_dir: Path, layouts: list[dict[str, Any]]) -> Path | None:
    p = Path(model_dir) / LAYOUTS_FILE
    if not layouts:
        p.unlink(missing_ok=True)
        return None
    p.write_text(json.dumps({"layouts": layouts}, indent=1, sort_keys=True))
    return p
