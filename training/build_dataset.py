"""Labelled examples for the layout model.

Two sources:

* synthetic documents (``X`` with ``X.labels.json``): the document is read by the same reader
  that production uses (``extractors.registry.read_bytes``) and every word the reader returns
  takes the label of the labelled word it overlaps (box overlap, text as tie-break), so
  training sees exactly the words, boxes and reading order that inference sees;
* a document plus a corrected truth (realdocs ``*.truth.json`` or a CSR correction): the truth's
  values are found among the document's words: exactly, by parsed value for dates and numbers,
  fuzzily (rapidfuzz) where OCR or formatting differ. The learning loop reuses
  :func:`label_from_truth`.

An example is a :class:`LabelledDoc`: pages of words with BIO tags. ``dataset_hash`` fingerprints
a list of examples, stored with every trained model.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from extractors.assembly.captions import CONTACT as _CONTACT, contact_row as _contact_row
from extractors.normalize import Locale, detect_locale, parse_currency, parse_date, parse_number
from extractors.registry import read_bytes
from intake.core.domain import Document, Page, Word
from intake.core.errors import IntakeError
from extractors.serving.features import HEADER_FIELDS, LINE_FIELDS, bio_tags

__all__ = [
    "LabelledPage", "LabelledDoc", "align_labels", "from_synth", "label_from_truth", "from_truth_file",
    "load_labelled_dir", "save_labelled", "dataset_hash", "header_instances",
]


@dataclass
class LabelledPage:
    width: float
    height: float
    words: list[Word]
    tags: list[str]  # BIO tag per word

    def to_json(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height,
                "words": [{"text": w.text, "box": list(w.box), "tag": t} for w, t in zip(self.words, self.tags)]}


@dataclass
class LabelledDoc:
    name: str
    pages: list[LabelledPage]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "meta": self.meta, "pages": [p.to_json() for p in self.pages]}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "LabelledDoc":
        pages = []
        for pi, p in enumerate(obj["pages"]):
            words = [Word(text=w["text"], box=tuple(w["box"]), page=pi) for w in p["words"]]  # type: ignore[arg-type]
            pages.append(LabelledPage(float(p["width"]), float(p["height"]), words, [w["tag"] for w in p["words"]]))
        return cls(str(obj.get("name", "")), pages, dict(obj.get("meta") or {}))


def _area(b: Sequence[float]) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _inter(a: Sequence[float], b: Sequence[float]) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def header_instances(words: Sequence[Word], fields: Sequence[str]) -> list[Any]:
    """A block id per header-field word: a new block at a page change or a vertical jump
    of more than 2.5 word heights from the field's previous word (in reading order)."""
    last: dict[str, Word] = {}
    block: dict[str, int] = {}
    out: list[Any] = []
    for w, f in zip(words, fields):
        if f not in HEADER_FIELDS:
            out.append(None)
            continue
        prev = last.get(f)
        if prev is not None:
            h = max(1.0, prev.box[3] - prev.box[1])
            if prev.page != w.page or w.box[1] - prev.box[3] > 2.5 * h or prev.box[1] - w.box[3] > 2.5 * h:
                block[f] = block.get(f, 0) + 1
        block.setdefault(f, 0)
        last[f] = w
        out.append(block[f])
    return out


def align_labels(words: Sequence[Word], labelled: Sequence[dict[str, Any]]) -> tuple[list[str], list[Any]]:
    """Field and line index for each reader word from the labelled words of the same page.

    A reader word takes the label of the labelled word that covers most of it; a labelled word
    with the same text wins a near tie, and a field label wins over "O" when the reader merged
    a caption and its value into one word.
    """
    fields: list[str] = []
    lines: list[Any] = []
    boxes = [lw["box"] for lw in labelled]
    for w in words:
        best, best_s = None, 0.0
        wa = max(_area(w.box), 1e-6)
        for k, b in enumerate(boxes):
            inter = _inter(w.box, b)
            if inter <= 0:
                continue
            s = inter / min(wa, max(_area(b), 1e-6))
            lw = labelled[k]
            if lw["text"] == w.text:
                s += 1.0
            elif lw["label"] != "O" and lw["text"] and lw["text"] in w.text:
                s += 0.5
            if s > best_s:
                best, best_s = k, s
        if best is None or best_s < 0.3:
            fields.append("O")
            lines.append(None)
        else:
            fields.append(labelled[best]["label"])
            lines.append(labelled[best].get("line"))
    return fields, lines


def _tags(words: Sequence[Word], fields: Sequence[str], lines: Sequence[Any]) -> list[str]:
    hi = header_instances(words, fields)
    inst = [("L", ln) if f in LINE_FIELDS else ("H", h) for f, ln, h in zip(fields, lines, hi)]
    return bio_tags(fields, inst)


def from_synth(path: Path, use_reader: bool = True) -> LabelledDoc:
    """A labelled example from a synthetic document and its ``.labels.json``.

    With ``use_reader`` the words are those the production reader returns for the file (the
    reader's document whose words best match the labels, for an email with an attachment);
    without, the labelled words themselves (no OCR: fast, for smoke tests).
    """
    lab = json.loads(Path(f"{path}.labels.json").read_text())
    lpages = lab["pages"]
    meta = {"family": lab.get("family"), "format": lab.get("format"), "heldout": lab.get("heldout")}
    if not use_reader:
        pages = []
        for pi, p in enumerate(lpages):
            words = [Word(text=w["text"], box=tuple(w["box"]), page=pi) for w in p["words"]]  # type: ignore[arg-type]
            fields = [w["label"] for w in p["words"]]
            lines = [w.get("line") for w in p["words"]]
            pages.append(LabelledPage(p["width"], p["height"], words, _tags(words, fields, lines)))
        return LabelledDoc(path.name, pages, meta)
    docs = [d for d in read_bytes(path.read_bytes(), path.name) if d.pages]
    best: LabelledDoc | None = None
    best_hits = -1
    for d in docs:
        pages = []
        hits = 0
        for pi, pg in enumerate(d.pages):
            lw = lpages[pi]["words"] if pi < len(lpages) else []
            words = [w if w.page == pi else w.model_copy(update={"page": pi}) for w in pg.words]
            fields, lines = align_labels(words, lw)
            hits += sum(1 for w, f in zip(words, fields) if f != "O" and any(x["text"] == w.text for x in lw))
            pages.append(LabelledPage(pg.width, pg.height, words, _tags(words, fields, lines)))
        if hits > best_hits:
            best, best_hits = LabelledDoc(path.name, pages, {**meta, "kind": d.kind.value}), hits
    if best is None:
        raise IntakeError(f"{path.name}: the reader returned no pages")
    return best


# --- from a document and its truth -------------------------------------------------------------

def _norm(s: str) -> str:
    return re.sub(r"[\s,;:]+", " ", s.lower()).strip()


def _num_eq(a: float | None, b: Any) -> bool:
    try:
        return a is not None and b is not None and abs(float(a) - float(b)) < 0.005 + 1e-6 * abs(float(b))
    except (TypeError, ValueError):
        return False


def _find_text_spans(words: Sequence[Word], value: str, used: set[int], max_len: int = 40,
                     fuzzy: float = 90.0) -> list[int]:
    """Indices of the consecutive words (reading order) whose text best equals ``value``."""
    from rapidfuzz import fuzz

    target = _norm(value)
    if not target:
        return []
    n_target = max(1, len(target.split()))
    best: list[int] = []
    best_s = 0.0
    for i in range(len(words)):
        if i in used:
            continue
        first = _norm(words[i].text)
        if not first or (first[:1] != target[:1] and fuzz.partial_ratio(first, target) < 80):
            continue
        text = ""
        for j in range(i, min(len(words), i + max(max_len, n_target + 3))):
            if j in used:
                break
            text = (text + " " + _norm(words[j].text)).strip()
            if len(text) > len(target) * 1.3 + 3:
                break
            s = 100.0 if text == target else fuzz.ratio(text, target)
            if s > best_s:
                best, best_s = list(range(i, j + 1)), s
    return best if best_s >= fuzzy else []


def _find_value(words: Sequence[Word], value: Any, kind: str, loc: Locale, used: set[int],
                near: set[int] | None = None) -> list[int]:
    """Word indices holding ``value`` (a number, date, currency code or text)."""
    if value is None or value == "":
        return []
    cands: list[list[int]] = []
    if kind in ("number", "date", "currency"):
        for i in range(len(words)):
            for k in (1, 2, 3):
                idx = list(range(i, min(len(words), i + k)))
                if any(j in used for j in idx) or len(idx) < k:
                    continue
                t = " ".join(words[j].text for j in idx)
                if kind == "number":
                    ok = _num_eq(parse_number(t, loc), value)
                elif kind == "date":
                    ok = parse_date(t, loc) == value
                else:
                    ok = parse_currency(t) == value and len(t) <= 6
                if ok:
                    cands.append(idx)
                    break
    else:
        span = _find_text_spans(words, str(value), used)
        if span:
            cands.append(span)
    if not cands:
        return []
    if near:
        ys = [(words[j].page, words[j].box[1]) for j in near]

        def dist(c: list[int]) -> float:
            w = words[c[0]]
            return min(abs(w.box[1] - y) + (1e5 if p != w.page else 0) for p, y in ys)
        cands.sort(key=dist)
    return cands[0]


def _block_below(words: Sequence[Word], idx: Sequence[int], used: set[int], max_rows: int = 5) -> list[int]:
    """The address rows under a party's name: rows right below it at line spacing that start at
    the name's left edge, until a gap, a caption ("Ship to:") or a row already labelled."""
    if not idx:
        return []
    name = [words[i] for i in idx]
    page = name[0].page
    x0 = min(w.box[0] for w in name)
    x1 = max(w.box[2] for w in name)
    h = max(1.0, min(w.box[3] - w.box[1] for w in name))
    bottom = max(w.box[3] for w in name)
    out: list[int] = []
    for _ in range(max_rows):
        row = [i for i, w in enumerate(words) if w.page == page and i not in used and i not in out
               and 0 <= w.box[1] - bottom < 0.9 * h and w.box[0] >= x0 - 1.5 * h and w.box[0] < x1 + 6 * h]
        if not row:
            break
        row.sort(key=lambda i: words[i].box[0])
        if abs(words[row[0]].box[0] - x0) > 1.5 * h or words[row[0]].text.endswith(":"):
            break
        r0 = words[row[0]]
        left = [w for w in words if w.page == page and w.box[2] <= r0.box[0] and r0.box[0] - w.box[2] < 20 * h
                and min(w.box[3], r0.box[3]) - max(w.box[1], r0.box[1]) > 0.5 * h]
        if any(w.text.endswith(":") or _CONTACT.match(w.text) for w in left):
            break  # a caption left of the row ("Option No: 32GPOO", "Phone 040…"): not the party's address
        run = [row[0]]
        for i in row[1:]:
            if words[i].box[0] - words[run[-1]].box[2] > 1.5 * h:
                break
            run.append(i)
        if _contact_row([words[i] for i in run]):
            break  # phone, fax, e-mail: the address has ended
        out.extend(run)
        bottom = max(words[i].box[3] for i in run)
    return out


def label_from_truth(doc: Document, truth: dict[str, Any]) -> LabelledDoc:
    """Find the truth's values among ``doc``'s words and label them (a correction -> an example).

    Header values are searched over the whole document; multi-line blocks ("a, b, c") part by
    part. Each line is anchored by its item code or description, and its numbers are searched
    on that row first. Values not found stay unlabelled: a partial example is still useful.
    """
    words = [w if w.page == pi else w.model_copy(update={"page": pi}) for pi, p in enumerate(doc.pages) for w in p.words]
    loc = detect_locale([w.text for w in words], doc.locale)
    fields = ["O"] * len(words)
    lines: list[Any] = [None] * len(words)
    used: set[int] = set()

    def mark(idx: Iterable[int], f: str, line: int | None = None) -> None:
        for j in idx:
            fields[j] = f
            lines[j] = line
            used.add(j)

    kinds = {"order_date": "date", "requested_date": "date", "total": "number", "currency": "currency"}
    named: list[tuple[str, list[int]]] = []
    for f in HEADER_FIELDS:
        v = truth.get(f)
        if v is None or v == "":
            continue
        if f in ("buyer", "supplier", "ship_to", "bill_to") and isinstance(v, str) and ", " in v:
            for part in v.split(", "):
                mark(_find_value(words, part, "text", loc, used), f)
        elif f in ("buyer", "supplier") and isinstance(v, str):
            # A party named by its name (the truth schema): the model reads the whole block
            # (name and the address under it), as the synthetic labels teach it.
            idx = _find_value(words, v, "text", loc, used)
            mark(idx, f)
            named.append((f, idx))
        else:
            mark(_find_value(words, v, kinds.get(f, "text"), loc, used), f)
    for f, idx in named:  # after every other header value has taken its words
        mark(_block_below(words, idx, used), f)
    for li, ln in enumerate(truth.get("lines") or []):
        anchor: list[int] = []
        for f in ("sku", "description"):
            if ln.get(f):
                idx = _find_value(words, ln[f], "text", loc, used)
                if idx:
                    mark(idx, f, li)
                    anchor = anchor or idx
        near = set(anchor) if anchor else None
        for f, kind in (("quantity", "number"), ("unit_price", "number"), ("amount", "number"), ("uom", "text"),
                        ("line_no", "number")):
            v = ln.get(f)
            if v is None or (f == "line_no" and not near):
                continue
            idx = _find_value(words, v, kind, loc, used, near)
            if idx and near:
                # Only accept a line's numbers on (or right next to) its anchor's rows, except in
                # an order for one article, whose code and name can head the page over a table of
                # its quantity and price: there a distinctive number (a fraction, or 100 and more)
                # is its own wherever it stands.
                a = words[next(iter(near))]
                w = words[idx[0]]
                far = w.page != a.page or abs(w.box[1] - a.box[1]) > 3 * max(1.0, a.box[3] - a.box[1])
                distinct = kind == "number" and isinstance(v, (int, float)) and (abs(v) >= 100 or float(v) != int(v))
                if far and not (len(truth.get("lines") or []) == 1 and f in ("quantity", "unit_price", "amount")
                                and distinct):
                    continue
            mark(idx, f, li)
    pages: list[LabelledPage] = []
    k = 0
    for pi, p in enumerate(doc.pages):
        n = len(p.words)
        pw = words[k:k + n]
        pages.append(LabelledPage(p.width, p.height, pw, _tags(pw, fields[k:k + n], lines[k:k + n])))
        k += n
    return LabelledDoc(doc.name or "", pages, {"source": "truth"})


def from_truth_file(path: Path) -> LabelledDoc | None:
    """A labelled example from a document file with ``<file>.truth.json`` beside it."""
    truth = json.loads(Path(f"{path}.truth.json").read_text())
    docs = [d for d in read_bytes(path.read_bytes(), path.name) if d.pages and d.words]
    if not docs:
        return None
    return label_from_truth(docs[0], truth)


def save_labelled(doc: LabelledDoc, folder: Path) -> Path:
    """Write an example as ``<folder>/<name>.labelled.json`` (the learning loop's format)."""
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", doc.name or "doc")
    out = folder / f"{safe}.labelled.json"
    out.write_text(json.dumps(doc.to_json()))
    return out


def load_labelled_dir(folder: Path) -> list[LabelledDoc]:
    """Every ``*.labelled.json`` example in ``folder`` (corrections made by CSRs)."""
    if not folder.is_dir():
        return []
    return [LabelledDoc.from_json(json.loads(p.read_text())) for p in sorted(folder.glob("*.labelled.json"))]


def dataset_hash(docs: Sequence[LabelledDoc]) -> str:
    """sha256 over every example's words, boxes and tags (order matters)."""
    h = hashlib.sha256()
    for d in docs:
        for p in d.pages:
            for w, t in zip(p.words, p.tags):
                h.update(f"{w.text}\x1f{w.box}\x1f{t}\x1e".encode())
        h.update(b"\x1d")
    return h.hexdigest()


def as_document(doc: LabelledDoc) -> Document:
    """The example's words as a ``Document`` (for evaluating what a model reads on it)."""
    from intake.core.domain import DocumentKind

    return Document(kind=DocumentKind.pdf, name=doc.name,
                    pages=[Page(index=i, width=p.width, height=p.height, words=p.words) for i, p in enumerate(doc.pages)])
