"""Routed models: a retrained "specialist" for the layouts it was corrected on, the general
model for everything else (the way per-customer models work in document-AI products).

When a model fine-tuned on a customer's corrections learns their layout but loses a little on
other layouts (the frozen set), it can still be promoted as a *routed* version: its directory
in the registry holds the specialist's weights (so it loads and lists like any version) plus
``router.json``::

    {"kind": "routed", "threshold": 0.75, "measure": "overlap",
     "fallback": {"version": "base-...", "path": "/abs/path/of/the/general/model"},
     "fingerprints": [{"name": "po_1.pdf", "kind": "pdf", "tokens": [...]}, ...]}

A document goes to the specialist when its layout fingerprint is at least ``threshold``
similar to one of the corrected documents', else to the fallback (the general model). The
fallback is named by registry version (resolved beside the routed version, so it survives a
rollback and a moved data directory) with its absolute path as a second way to find it; it is
always a plain model, never another routed one: a newer specialist is trained on all the
corrections and its router holds all their fingerprints, so routes merge instead of chaining.

Fingerprint: the casefolded alphabetic tokens (3 letters or more) of the document's first
page, each with the fifth of the page width where it starts: captions, column headings, the
issuer's name and address, which a layout repeats from one order to the next. Amounts, dates,
item codes and quantities are not letters and are left out; so are, in a corrected document,
the words its correction labels (parties, descriptions: the order's content, not its layout).
The corrected documents are grouped into layouts (similar fingerprints); a layout's *template*
is the tokens its documents share, so what per-order text is left falls away as more documents
of the layout are corrected. A document is routed to the specialist when it holds at least
``threshold`` of one template's tokens; documents of different kinds (a PDF and a spreadsheet)
never match, and mail bodies are never routed.

The default threshold, 0.7, is measured (``.venv/bin/python bench/routing.py``): with 3
corrected documents of a layout, 100% of the layout's other synthetic PDFs and spreadsheets
reach it; no synthetic PDF of another layout and no real PDF of another issuer does, and 0.4%
of other layouts' spreadsheets do; with 1 correction, 46% of synthetic PDFs of the layout and
80% of real same-issuer PDFs reach it.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

__all__ = ["DEFAULT_THRESHOLD", "UNROUTED_KINDS", "fingerprint", "similarity", "layouts", "containment", "Router"]

DEFAULT_THRESHOLD = 0.7  # measured: bench/routing.py
CLUSTER_LINK = 0.4  # corrected documents this similar are taken for one layout
MIN_TEMPLATE = 12
X_BINS = 5
# Free text has no layout to recognise: on synthetic mails the same family matched less often than
# other families did (bench/routing.py), so mail bodies and text files always go to the fallback.
UNROUTED_KINDS = frozenset({"email_body", "text"})
_TOKEN = re.compile(r"[^\W\d_]{3,}")


def fingerprint(doc: Any, name: str = "", tags: Sequence[str] | None = None) -> dict[str, Any]:
    """The layout fingerprint of a ``Document`` (or anything with ``pages`` of ``words``): its
    kind and the tokens of its first page, each with the fifth of the page width it starts in.

    ``tags``: a corrected document's labels for the words of that page; words labelled with a
    field (the parties, the lines' descriptions...) are the order's content, not its layout,
    and are left out, so a layout is recognised from one or two corrected documents."""
    pages = getattr(doc, "pages", None) or []
    first = next((p for p in pages if getattr(p, "words", None)), None)
    toks: set[str] = set()
    if first is not None:
        width = float(getattr(first, "width", 0) or 0) or max((w.box[2] for w in first.words), default=1.0) or 1.0
        for i, w in enumerate(first.words):
            if tags is not None and i < len(tags) and tags[i] != "O":
                continue
            col = min(X_BINS - 1, max(0, int(X_BINS * float(w.box[0]) / width)))
            toks.update(f"{m.group(0).casefold()}@{col}" for m in _TOKEN.finditer(str(w.text)))
    kind = getattr(doc, "kind", None)
    kind = getattr(kind, "value", kind)
    return {"name": name or str(getattr(doc, "name", "") or ""), "kind": str(kind or ""), "tokens": sorted(toks)}


def similarity(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Overlap coefficient of two fingerprints' tokens (0 for different kinds or empty ones)."""
    if a.get("kind") != b.get("kind"):
        return 0.0
    ta, tb = set(a.get("tokens") or ()), set(b.get("tokens") or ())
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / min(len(ta), len(tb))


def layouts(fingerprints: Sequence[dict[str, Any]], link: float = CLUSTER_LINK) -> list[dict[str, Any]]:
    """The corrected documents grouped into layouts (single link at ``link`` similarity), each
    with its template: the tokens (nearly) all of its documents share (captions and headings stay, the
    parties, descriptions and other per-order text fall away). A one-document layout's template
    is its whole fingerprint; a template of fewer than ``MIN_TEMPLATE`` tokens (documents that
    share little) is not trusted and its documents stand alone, and a document with fewer
    tokens than that is no layout at all (a short mail): nothing is routed by it."""
    fps = [f for f in fingerprints if f.get("kind") not in UNROUTED_KINDS]
    parent = list(range(len(fps)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(fps)):
        for j in range(i + 1, len(fps)):
            if similarity(fps[i], fps[j]) >= link:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(fps)):
        groups.setdefault(find(i), []).append(i)
    out = []
    for members in groups.values():
        docs = [fps[i] for i in members]
        if len(docs) > 1:
            need = max(2, len(docs) - len(docs) // 4)  # all of 2 or 3, 3 of 4, 4 of 5...
            count: dict[str, int] = {}
            for d in docs:
                for t in set(d.get("tokens") or ()):
                    count[t] = count.get(t, 0) + 1
            template = sorted(t for t, c in count.items() if c >= need)
            if len(template) >= MIN_TEMPLATE:
                out.append({"kind": docs[0].get("kind", ""), "documents": [d.get("name") for d in docs],
                            "tokens": template})
                continue
        out.extend({"kind": d.get("kind", ""), "documents": [d.get("name")], "tokens": list(d.get("tokens") or [])}
                   for d in docs if len(d.get("tokens") or ()) >= MIN_TEMPLATE)
    return out


def containment(layout: dict[str, Any], fp: dict[str, Any]) -> float:
    """The share of a layout's template tokens that a document's fingerprint has (0 for another kind)."""
    if layout.get("kind") != fp.get("kind") or fp.get("kind") in UNROUTED_KINDS:
        return 0.0
    t = set(layout.get("tokens") or ())
    if not t:
        return 0.0
    return len(t & set(fp.get("tokens") or ())) / len(t)


class Router:
    """Which half of a routed model reads a document: the specialist when the document has at
    least ``threshold`` of one corrected layout's template tokens."""

    def __init__(self, fingerprints: Sequence[dict[str, Any]], threshold: float = DEFAULT_THRESHOLD) -> None:
        self.fingerprints = list(fingerprints)
        self.threshold = float(threshold)
        self.layouts = layouts(self.fingerprints)

    def score(self, doc: Any) -> tuple[float, str | None]:
        """The best match of ``doc`` (a ``Document`` or a fingerprint) among the corrected layouts,
        and the first corrected document of that layout."""
        fp = doc if isinstance(doc, dict) else fingerprint(doc)
        best, who = 0.0, None
        for lay in self.layouts:
            s = containment(lay, fp)
            if s > best:
                best, who = s, (lay["documents"] or [None])[0]
        return best, who

    def to_specialist(self, doc: Any) -> bool:
        return self.score(doc)[0] >= self.threshold
