"""Corrections -> labelled examples: the first half of the learning loop.

A corrected order (the realdocs truth schema: what the document really says) is aligned back
onto the words of the document it came from with :func:`training.build_dataset.label_from_truth`
(values found among the words: exactly, by parsed value for numbers and dates, fuzzily where OCR
or formatting differ). The result, a :class:`~training.build_dataset.LabelledDoc`, is stored in
the ``labelled_examples`` table with the document's sha256 (its bytes are in the blob store), the
customer, the model version that read it, and how many of the truth's values were found.

Two ways in, one table:

* ``intake learn FILE TRUTH.json`` (:func:`learn_document`): a document with no order in the
  ledger; its bytes go into the blob store like an ingested message's.
* the review UI: approving an edited order writes a ``training_examples`` row
  (:mod:`intake.corrections`); :func:`sync_training_examples` aligns each new one onto the
  stored message's document, so both paths end in the same labelled examples.

Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from extractors.registry import read_bytes
from extractors.serving.features import HEADER_FIELDS
from extractors.serving.model_dir import MODEL_META, default_model_dir
from intake.service.db import Base
from intake.core.errors import IntakeError, ReadError
from training.build_dataset import LabelledDoc, as_document, label_from_truth

__all__ = [
    "LabelledExampleRow", "load_truth", "validate_truth", "align_document", "learn_document",
    "label_training_example", "sync_training_examples", "labelled_examples", "count_unused", "mark_used",
    "example_of", "document_of", "LEARN_SOURCES",
]

LEARN_SOURCES = ("review_ui", "cli", "labelstudio")
_LINE_VALUE_KEYS = ("sku", "description", "quantity", "uom", "unit_price", "amount")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class LabelledExampleRow(Base):
    """One document with its words labelled from a corrected order (migration 0005)."""

    __tablename__ = "labelled_examples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(512))
    document_index: Mapped[int] = mapped_column(Integer, default=0)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    model_version: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16), default="cli")
    actor: Mapped[str] = mapped_column(String(128), default="")
    truth: Mapped[dict[str, Any]] = mapped_column(JSON)
    example: Mapped[dict[str, Any]] = mapped_column(JSON)  # LabelledDoc.to_json()
    values_total: Mapped[int] = mapped_column(Integer, default=0)
    values_found: Mapped[int] = mapped_column(Integer, default=0)
    training_example_id: Mapped[int | None] = mapped_column(ForeignKey("training_examples.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    used_in_model: Mapped[str | None] = mapped_column(String(128))


# --- truth ----------------------------------------------------------------------------------

def validate_truth(truth: Any, where: str = "truth") -> dict[str, Any]:
    """Check a truth object's shape (realdocs truth schema); returns it with plain lines.

    Raises ``ReadError`` with a one-line reason for anything that is not an order: not an
    object, ``lines`` not a list of objects, or neither a PO number nor a line.
    """
    if not isinstance(truth, dict):
        raise ReadError(f"{where}: expected a JSON object in the truth schema, got {type(truth).__name__}")
    lines = truth.get("lines") or []
    if not isinstance(lines, list) or any(not isinstance(ln, dict) for ln in lines):
        raise ReadError(f"{where}: 'lines' must be a list of objects")
    if not truth.get("po_number") and not lines:
        raise ReadError(f"{where}: no po_number and no lines: nothing to learn from")
    for i, ln in enumerate(lines, 1):
        for k in ("quantity", "unit_price", "amount"):
            v = ln.get(k)
            if v is not None and not isinstance(v, (int, float)):
                try:
                    ln[k] = float(v)
                except (TypeError, ValueError):
                    raise ReadError(f"{where}: line {i} {k} {v!r} is not a number") from None
    return truth


def load_truth(path: Path) -> dict[str, Any]:
    """Read and check a TRUTH.json file."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReadError(f"{path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ReadError(f"{path}: not valid JSON ({str(exc)[:80]})") from exc
    return validate_truth(obj, str(path))


def _values_total(truth: dict[str, Any]) -> int:
    n = sum(1 for f in HEADER_FIELDS if truth.get(f) not in (None, ""))
    for ln in truth.get("lines") or []:
        n += sum(1 for k in _LINE_VALUE_KEYS if ln.get(k) not in (None, ""))
    return n


def _values_found(ex: Any) -> int:
    # One B- tag starts one labelled value (a value split over rows is one B- and some I-).
    return sum(1 for p in ex.pages for t in p.tags if t.startswith("B-"))


# --- alignment ------------------------------------------------------------------------------

def align_document(data: bytes, filename: str | None, truth: dict[str, Any],
                   document_index: int | None = None, limits: Any = None) -> tuple[Any, int, int, int]:
    """Read ``data`` and label the truth's values on its words.

    Returns ``(LabelledDoc, document_index, values_found, values_total)``. Without
    ``document_index`` the message's document on which most values are found wins (a mail
    body or its attachment). Raises ``ReadError`` when nothing readable holds words or no
    truth value is found on any document.
    """
    docs = read_bytes(data, filename, limits) if limits is not None else read_bytes(data, filename)
    cands = [(i, d) for i, d in enumerate(docs) if d.pages and any(p.words for p in d.pages)]
    if document_index is not None:
        cands = [(i, d) for i, d in cands if i == document_index]
    if not cands:
        raise ReadError(f"{filename or 'document'}: no words to label (empty, unreadable or no such document)")
    total = _values_total(truth)
    best: tuple[Any, int, int] | None = None
    for i, d in cands:
        ex = label_from_truth(d, truth)
        found = min(total, _values_found(ex))
        if best is None or found > best[2]:
            best = (ex, i, found)
    assert best is not None
    ex, idx, found = best
    if found == 0:
        raise ReadError(f"{filename or 'document'}: none of the truth's values were found among the document's words")
    ex.name = filename or ex.name
    ex.meta.update({"source": "correction", "document_index": idx,
                    "kind": getattr(docs[idx].kind, "value", str(docs[idx].kind))})  # for layout routing
    return ex, idx, found, total


def _live_version(settings: Any) -> str | None:
    try:
        p = default_model_dir(settings) / MODEL_META
        return str(json.loads(p.read_text()).get("version") or "") or None if p.is_file() else None
    except (OSError, ValueError, IntakeError):
        return None


def learn_document(session: Session, settings: Any, data: bytes, filename: str | None, truth: dict[str, Any], *,
                   customer_id: str | None = None, source: str = "cli", actor: str = "cli",
                   document_index: int | None = None) -> LabelledExampleRow:
    """Record a corrected order for a document that has no order in the ledger.

    The bytes go into the blob store (as an ingested message's would), the truth is aligned onto
    the document's words, and a labelled example is added to the session (not committed).
    """
    from intake.service.blobstore import BlobStore

    if source not in LEARN_SOURCES:
        raise IntakeError(f"unknown example source {source!r}: use one of {', '.join(LEARN_SOURCES)}")
    if not data:
        raise ReadError(f"{filename or 'document'}: empty file: nothing to learn from")
    truth = validate_truth(truth)
    ex, idx, found, total = align_document(data, filename, truth, document_index, settings.limits)
    digest = BlobStore(settings.blob_dir).put(data)
    from intake.service.corrections import truth_from_record

    row = LabelledExampleRow(
        document_sha256=digest, filename=(filename or "")[:512] or None, document_index=idx,
        customer_id=customer_id or truth.get("customer_id") or None, model_version=_live_version(settings),
        source=source, actor=actor, truth=truth_from_record(truth), example=ex.to_json(),
        values_total=total, values_found=found,
    )
    session.add(row)
    session.flush()
    return row


def label_training_example(session: Session, settings: Any, te: Any) -> LabelledExampleRow | None:
    """Align a review-UI training example (``intake.corrections.TrainingExampleRow``) onto the
    stored message's document. Returns None (and stores nothing) when the message bytes are gone
    or no value is found: such an example cannot teach the model anything."""
    from intake.service.blobstore import BlobStore
    from intake.service.models import MessageRow

    blobs = BlobStore(settings.blob_dir)
    if not blobs.exists(te.message_sha256):
        return None
    msg = session.scalar(select(MessageRow).where(MessageRow.sha256 == te.message_sha256))
    filename = msg.filename if msg is not None else None
    try:
        ex, idx, found, total = align_document(blobs.get(te.message_sha256), filename, dict(te.truth),
                                               te.document_index, settings.limits)
    except IntakeError:
        try:  # the document index may be of a different split (mail body vs attachment)
            ex, idx, found, total = align_document(blobs.get(te.message_sha256), filename, dict(te.truth),
                                                   None, settings.limits)
        except IntakeError:
            return None
    row = LabelledExampleRow(
        document_sha256=te.message_sha256, filename=(filename or "")[:512] or None, document_index=idx,
        customer_id=te.customer_id, model_version=te.model_version, source=te.source if te.source in LEARN_SOURCES
        else "review_ui", actor=te.actor or "", truth=dict(te.truth), example=ex.to_json(),
        values_total=total, values_found=found, training_example_id=te.id,
    )
    session.add(row)
    session.flush()
    return row


def sync_training_examples(session: Session, settings: Any) -> int:
    """Label every review-UI training example that has no labelled example yet; returns how many."""
    from intake.service.corrections import TrainingExampleRow

    done = select(LabelledExampleRow.training_example_id).where(LabelledExampleRow.training_example_id.is_not(None))
    todo = list(session.scalars(select(TrainingExampleRow).where(TrainingExampleRow.id.not_in(done))
                                .order_by(TrainingExampleRow.id)))
    n = 0
    for te in todo:
        if label_training_example(session, settings, te) is not None:
            n += 1
    return n


def labelled_examples(session: Session, *, unused_only: bool = False) -> list[LabelledExampleRow]:
    """Labelled examples, oldest first."""
    stmt = select(LabelledExampleRow).order_by(LabelledExampleRow.id)
    if unused_only:
        stmt = stmt.where(LabelledExampleRow.used_in_model.is_(None))
    return list(session.scalars(stmt))


def count_unused(session: Session) -> int:
    """Corrections no model has been trained on yet: labelled examples plus review-UI training
    examples still waiting to be labelled."""
    from intake.service.corrections import TrainingExampleRow

    n = int(session.scalar(select(func.count()).select_from(LabelledExampleRow)
                           .where(LabelledExampleRow.used_in_model.is_(None))) or 0)
    done = select(LabelledExampleRow.training_example_id).where(LabelledExampleRow.training_example_id.is_not(None))
    n += int(session.scalar(select(func.count()).select_from(TrainingExampleRow)
                            .where(TrainingExampleRow.id.not_in(done), TrainingExampleRow.used_in_model.is_(None)))
             or 0)
    return n


def mark_used(session: Session, rows: Sequence[LabelledExampleRow], version: str) -> None:
    """Record that a model version was trained on these examples (and on their review-UI rows)."""
    from intake.service.corrections import TrainingExampleRow

    for r in rows:
        r.used_in_model = version
        if r.training_example_id is not None:
            te = session.get(TrainingExampleRow, r.training_example_id)
            if te is not None:
                te.used_in_model = version
    session.flush()


def example_of(row: LabelledExampleRow) -> Any:
    """The row's ``LabelledDoc`` (with the customer and truth in its meta)."""
    ex = LabelledDoc.from_json(row.example)
    ex.meta.update({"customer_id": row.customer_id, "example_id": row.id})
    return ex


def document_of(example: Any) -> Any:
    """A labelled example's words as the ``Document`` a reader gave (its kind kept, so that a
    routed model fingerprints and routes it as it would the document itself)."""
    from intake.core.domain import DocumentKind

    doc = as_document(example)
    kind = (getattr(example, "meta", None) or {}).get("kind")
    if kind and kind != doc.kind.value:
        try:
            doc = doc.model_copy(update={"kind": DocumentKind(kind)})
        except ValueError:
            pass
    return doc
