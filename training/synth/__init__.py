"""Synthetic purchase-order corpus with exact truth, for training and measuring the layout model.

``generate(n, out, seed)`` writes ``n`` documents named ``syn_000000`` ... in the formats asked
for, each with ``<docfile>.truth.json`` (realdocs truth schema) and ``<docfile>.labels.json``
(word boxes and labels; conventions in :mod:`training.synth.labels`). Same seed, same files.

Layout families are listed in :data:`FAMILIES` (see :mod:`training.synth.families`); families
whose index % 5 == 4 are held out for evaluation (:func:`heldout_families`).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from intake.core.errors import ConfigError
from training.synth.families import (
    FAMILIES, Family, family_names, heldout_families, is_heldout, train_families,
)
from training.synth.generator import Order, build_truth, make_order
from training.synth.labels import LABELS, LabelledPage, labels_doc

__all__ = [
    "FORMATS", "FAMILIES", "Family", "family_names", "train_families", "heldout_families", "is_heldout",
    "LABELS", "generate", "generate_one", "doc_suffix",
]

FORMATS: tuple[str, ...] = ("pdf", "scan", "xlsx", "csv", "email", "free", "freescan", "freertl")
# "free", "freescan": a text PDF or a scan in a layout drawn per document (render_free);
# "freertl": a free layout in a right-to-left language (Hebrew)
_SUFFIX = {"pdf": ".pdf", "scan": ".scan.pdf", "xlsx": ".xlsx", "csv": ".csv", "email": ".eml", "free": ".pdf",
           "freescan": ".scan.pdf", "freertl": ".pdf"}
_SOURCE = {"pdf": "pdf", "scan": "scan", "xlsx": "grid", "csv": "grid", "free": "pdf", "freescan": "scan",
           "freertl": "pdf"}


def doc_suffix(fmt: str) -> str:
    """File suffix of a document of format ``fmt`` (".scan.pdf" for scans)."""
    return _SUFFIX[fmt]


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8")


def generate_one(index: int, seed: int, fmt: str, family: str) -> tuple[bytes, dict, dict]:
    """Make one document: (file bytes, truth, labels). Deterministic in (index, seed, fmt, family)."""
    from training.synth.render_email import build_eml
    from training.synth.render_free import render_free
    from training.synth.render_pdf import render_pdf
    from training.synth.render_scan import render_scan
    from training.synth.render_sheet import render_sheet

    fam = FAMILIES[family]
    r = random.Random(f"synth:{seed}:{index}:{fmt}:{family}")
    name = f"syn_{index:06d}"
    # Scans rasterise every page: cap their length so a corpus stays quick to build.
    order: Order = make_order(r, fam, max_lines=min(fam.max_lines, 25) if fmt in ("scan", "freescan") else None)
    extra: dict[str, Any] = {}
    descriptions = None
    if fmt in ("free", "freescan", "freertl"):
        data, pages, order = render_free(order, fam, r, lang="he" if fmt == "freertl" else None)
        if fmt == "freescan":
            data, pages = render_scan(data, pages, r)
        source = _SOURCE[fmt]
    elif fmt in ("pdf", "scan"):
        data, pages = render_pdf(order, fam, r)
        if fmt == "scan":
            data, pages = render_scan(data, pages, r)
        source = _SOURCE[fmt]
    elif fmt in ("xlsx", "csv"):
        data, pages = render_sheet(order, fam, r, fmt)
        source = "grid"
    elif fmt == "email":
        kind = r.random()
        if kind < 0.6:
            parts = build_eml(order, fam, r, name)
        elif kind < 0.85:
            pdf, pp = render_pdf(order, fam, r)
            parts = build_eml(order, fam, r, name, (f"{name}.pdf", pdf, pp, "pdf"))
        else:
            xl, pp = render_sheet(order, fam, r, "xlsx")
            parts = build_eml(order, fam, r, name, (f"{name}.xlsx", xl, pp, "grid"))
        data, pages, source, descriptions = parts.data, parts.pages, parts.source, parts.descriptions
        extra["attachment"] = parts.attachment
    else:
        raise ConfigError(f"unknown synthetic format {fmt!r}; choose from {', '.join(FORMATS)}")
    truth = build_truth(order, [(w.label, w.line) for p in pages for w in p.words if w.label != "O"], descriptions)
    labels = labels_doc(family, fmt, source, pages, heldout=fam.heldout, **extra)
    return data, truth, labels


def generate(n: int, out: Path, seed: int = 0, formats: list[str] | None = None,
             families: list[str] | None = None, progress: bool = True) -> list[Path]:
    """Write ``n`` synthetic orders under ``out``; return the document paths.

    Document ``i`` is ``out/syn_{i:06d}<suffix>`` with ``<docfile>.truth.json`` and
    ``<docfile>.labels.json`` beside it. Formats rotate through ``formats`` (default all of
    :data:`FORMATS`); the family of each document is drawn from ``families`` (default all).
    Raises ConfigError for an unknown format or family or a negative ``n``.
    """
    fmts = list(formats) if formats is not None else list(FORMATS)
    fams = list(families) if families is not None else family_names()
    bad_f = [f for f in fmts if f not in _SUFFIX]
    if bad_f or not fmts:
        raise ConfigError(f"unknown synthetic format(s) {bad_f or fmts}; choose from {', '.join(FORMATS)}")
    bad = [f for f in fams if f not in FAMILIES]
    if bad or not fams:
        raise ConfigError(f"unknown layout famil(y/ies) {bad or fams}; see training.synth.family_names()")
    if n < 0:
        raise ConfigError(f"n must be >= 0, got {n}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pick = random.Random(f"synth-families:{seed}")
    plan = [(fmts[i % len(fmts)], pick.choice(fams)) for i in range(n)]
    it: Any = range(n)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, total=n, desc="synth", unit="doc")
    paths: list[Path] = []
    for i in it:
        fmt, fam = plan[i]
        data, truth, labels = generate_one(i, seed, fmt, fam)
        path = out / f"syn_{i:06d}{_SUFFIX[fmt]}"
        path.write_bytes(data)
        Path(f"{path}.truth.json").write_bytes(_json(truth))
        Path(f"{path}.labels.json").write_bytes(_json(labels))
        paths.append(path)
    return paths
