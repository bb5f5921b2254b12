"""Document dispatch: one stored message's bytes -> the reader its content needs -> documents
-> order drafts.

The content is sniffed once (``registry.sniff``: magic bytes, zip directory, mail headers, EDI
envelopes; the file name only names documents). An EDI interchange is parsed exactly here,
without the model; every other kind is read by its reader in a bounded worker process
(``pool.read_isolated``, told the sniffed kind so it does not sniff again), and each document
then goes through the layout model (``inference.default_extractor`` unless one is given). EDI
attachments of a mail come back from the reader as EDI documents and are parsed like a file.

Raises only named ``IntakeError``s, each with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr

from extractors.base import short_reason
from extractors.coverage import uncovered_rows
from extractors.edi import EdiResult, decode_edi, parse_edi
from extractors.email import looks_like_order_text
from extractors.inference import default_extractor
from extractors.pool import read_isolated
from extractors.registry import sniff
from extractors.typed import TEXT_KINDS, parse_items, refine
from extractors.x12 import _find_header
from intake.core.domain import Document, DocumentKind, OrderDraft
from intake.core.errors import CorruptDocument, IntakeError, LimitExceeded, ReadError, UnsupportedContentType
from intake.core.settings import Limits

__all__ = ["EDI_KINDS", "Extracted", "edi_drafts", "extract_drafts", "read_message_bytes"]

EDI_KINDS = frozenset({"x12", "edifact"})

ModelExtract = Callable[[Document], OrderDraft]


@dataclass
class Extracted:
    """What one message held: its sniffed kind, its order drafts and its parsed interchanges
    (what EDI acknowledgments are written from)."""

    kind: str
    drafts: list[OrderDraft] = field(default_factory=list)
    edi: list[EdiResult] = field(default_factory=list)


def edi_drafts(data: bytes, limits: Limits | None = None) -> tuple[list[OrderDraft], EdiResult]:
    """Parse an EDI interchange (its segment count checked against ``limits`` first)."""
    if limits is not None:
        _check_edi_segments(data, limits.max_edi_segments)
    result = parse_edi(data)
    return list(result.orders), result


def _check_edi_segments(data: bytes, limit: int) -> None:
    """Refuse an interchange with more segments than the limit before parsing it: a 10 MB 850
    with 300 000 lines took 23 s and 2 GB to parse. Counting the declared terminator is cheap."""
    try:
        text = decode_edi(data)
        head = text.lstrip()[:400]
        if "ISA" in head:
            terminator = _find_header(text)[1].segment
        elif head.startswith("UNA") and len(head) > 8:
            terminator = head[8]
        else:
            terminator = "'"
    except IntakeError:
        return  # a broken header: the parser says what is wrong with it
    n = text.count(terminator)
    if n > limit:
        raise LimitExceeded(f"the EDI interchange has {n} segments, more than the limit of {limit}")


def read_message_bytes(data: bytes, filename: str | None, limits: Limits) -> tuple[str, list[Document]]:
    """(sniffed kind, documents) of a message that is not EDI itself; the EDI kinds come back
    with no documents (``extract_drafts`` parses them)."""
    if not data:
        raise ReadError("empty file: nothing to read")
    if len(data) > limits.max_upload_bytes:
        raise LimitExceeded(f"file of {len(data)} bytes is larger than the limit of {limits.max_upload_bytes}")
    try:
        kind = sniff(data)
    except IntakeError:
        raise
    except Exception as exc:  # the sniffer must not crash the service on hostile bytes
        raise CorruptDocument(f"the input could not be recognised: {short_reason(exc)}") from None
    if kind in EDI_KINDS:
        return kind, []
    # in a worker process with a memory and a time limit (Limits.reader_*): one document cannot take the service
    return kind, read_isolated(data, filename, limits, kind=kind)


def extract_drafts(data: bytes, filename: str | None, limits: Limits, *,
                   model_extract: ModelExtract | None = None) -> Extracted:
    """Read ``data`` and extract every order in it.

    Raises a named IntakeError with a one-line reason when nothing could be read or found.
    """
    kind, docs = read_message_bytes(data, filename, limits)
    if kind in EDI_KINDS:
        drafts, res = edi_drafts(data, limits)
        return Extracted(kind, drafts, [res])
    out = Extracted(kind)
    body_docs: list[tuple[int, Document]] = []
    errors: list[str] = []
    for idx, doc in enumerate(docs):
        if doc.kind in (DocumentKind.x12, DocumentKind.edifact):
            try:
                d, res = edi_drafts((doc.text or "").encode("utf-8"), limits)
            except IntakeError as exc:
                errors.append(f"{doc.name or doc.kind.value}: {exc.reason}")
                continue
            for dr in d:
                dr.document_index = idx
            out.drafts.extend(d)
            out.edi.append(res)
            continue
        if doc.meta.get("part") == "body":
            body_docs.append((idx, doc))  # a mail body is read only when no attachment held an order
            continue
        try:
            out.drafts.extend(_model_drafts(doc, idx, model_extract, limits=limits))
        except IntakeError as exc:
            errors.append(f"{doc.name or doc.kind.value}: {exc.reason}")
    if not out.drafts:
        for idx, doc in body_docs:
            try:
                out.drafts.extend(_model_drafts(doc, idx, model_extract, body=True, limits=limits))
            except IntakeError as exc:
                errors.append(f"mail body: {exc.reason}")
    if not out.drafts:
        if errors:
            raise ReadError("; ".join(errors))
        raise UnsupportedContentType("no purchase order found in this message")
    return out


def _check_words(doc: Document, limits: Limits | None) -> None:
    """The model's budget, checked before it runs: a page or document of more words than the
    limits is refused (a 77 KB text of 18,000 words on one page took a minute of CPU)."""
    if limits is None:
        return
    for p in doc.pages:
        if len(p.words) > limits.max_words_per_page:
            raise LimitExceeded(f"page {p.index + 1} has {len(p.words)} words, more than the limit of "
                                f"{limits.max_words_per_page} a page may have to be read")
    total = sum(len(p.words) for p in doc.pages)
    if total > limits.max_words_per_document:
        raise LimitExceeded(f"the document has {total} words, more than the limit of {limits.max_words_per_document}")


def _model_drafts(doc: Document, idx: int, model_extract: ModelExtract | None,
                  body: bool = False, limits: Limits | None = None) -> list[OrderDraft]:
    if body:
        text = doc.text or " ".join(w.text for w in doc.words)
        if not looks_like_order_text(text) and not parse_items(text):
            return []
    if not doc.words:
        return []
    _check_words(doc, limits)
    if model_extract is None:
        model_extract = default_extractor()
    draft = model_extract(doc)
    if doc.kind in TEXT_KINDS:
        draft = refine(doc, draft)  # typed item lines read by their grammar (extractors/typed.py)
    if not draft.sender and doc.meta.get("from"):
        # a mail's own sender (an .eml uploaded or forwarded in): who the order is from
        addr = parseaddr(str(doc.meta["from"]))[1]
        if "@" in addr:
            draft.sender = addr.lower()
    missed = uncovered_rows(doc, draft)
    if missed:
        draft.meta["uncovered_rows"] = missed
    draft.document_index = idx
    draft.document_kind = doc.kind
    draft.document_name = doc.name
    if not draft.po_number.present and not draft.lines:
        return []
    return [draft]
