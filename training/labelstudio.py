"""Label Studio as a second labelling path (label-studio-sdk 2.x).

``export_documents``: creates (or updates) a project whose labelling interface is the OCR-style
one: page images with a rectangle label per order field (``RectangleLabels``) and a text box per
region (``TextArea perRegion``) holding the value. Every page of every document becomes a task;
the page image is the review UI's rendering (``extractors.render.Renderer``: the PDF page or the
words drawn where they sit), sent inline as a data URL so the Label Studio server needs no
access to our files. The current model's reading is attached as a prediction
(pre-annotation): one region per run of words the model gave the same field, so an annotator
corrects rather than draws.

``import_annotations``: every finished (submitted, not skipped) annotation of a document's pages
becomes a labelled example: each word whose centre lies in a region takes the region's field;
line items are the rows of line-field regions (regions that overlap vertically are one line).
The truth (realdocs schema) is rebuilt from the regions' texts. Examples go into the same
``labelled_examples`` table as CSR corrections (source ``labelstudio``), once per annotation.
"""

from __future__ import annotations

import base64
import re
import uuid
import weakref
from pathlib import Path
from typing import Any, Sequence

from intake.core.errors import ConfigError, IntakeError, NotFound

__all__ = ["label_config", "client", "find_or_create_project", "predictions_for", "export_documents",
           "import_annotations", "annotation_to_example", "FROM_NAME", "TEXT_NAME"]

FROM_NAME = "label"
TEXT_NAME = "transcription"
TO_NAME = "image"


def label_config() -> str:
    """The labelling interface: page image, a rectangle label per field, a value per region."""
    from extractors.serving.features import FIELDS

    labels = "\n".join(f'    <Label value="{f}"/>' for f in FIELDS)
    return (f'<View>\n  <Image name="{TO_NAME}" value="$image" zoom="true" zoomControl="true"/>\n'
            f'  <RectangleLabels name="{FROM_NAME}" toName="{TO_NAME}">\n{labels}\n  </RectangleLabels>\n'
            f'  <TextArea name="{TEXT_NAME}" toName="{TO_NAME}" editable="true" perRegion="true" required="false" '
            f'maxSubmissions="1" rows="1" placeholder="value as printed"/>\n</View>')


def client(url: str, token: str) -> Any:
    """A label-studio-sdk client; ``ConfigError`` when the SDK or a token is missing."""
    if not token:
        raise ConfigError("a Label Studio API token is needed: --token or INTAKE_LABEL_STUDIO_TOKEN")
    try:
        from label_studio_sdk import LabelStudio
    except ImportError as exc:
        raise ConfigError("label-studio-sdk is not installed: pip install label-studio-sdk==2.0.19") from exc
    import httpx

    http = httpx.Client(timeout=60, follow_redirects=True)
    ls = LabelStudio(base_url=url.rstrip("/"), api_key=token, httpx_client=http)
    weakref.finalize(ls, http.close)  # its connections close with the client, not left to the collector
    return ls


def _call(what: str, fn: Any, *args: Any, **kw: Any) -> Any:
    """Run an SDK call; a refused or unreachable server becomes one named error."""
    try:
        return fn(*args, **kw)
    except IntakeError:
        raise
    except Exception as exc:  # httpx / ApiError: anything the server or network says
        status = getattr(exc, "status_code", None)
        body = str(getattr(exc, "body", "") or exc)
        raise ConfigError(f"Label Studio {what} failed{f' ({status})' if status else ''}: {' '.join(body.split())[:160]}") from exc


def find_or_create_project(ls: Any, title: str) -> int:
    """The id of the project called ``title`` (its labelling interface brought up to date), or a new one."""
    cfg = label_config()
    found = [p for p in _call("project list", lambda: list(ls.projects.list(title=title))) if p.title == title]
    if found:
        pid = int(found[0].id)
        if (getattr(found[0], "label_config", None) or "").strip() != cfg.strip():
            _call("project update", ls.projects.update, id=pid, label_config=cfg)
        return pid
    p = _call("project create", ls.projects.create, title=title, label_config=cfg,
              description="Purchase-order fields for the layout model (order intake)")
    return int(p.id)


def _pct(box: Sequence[float], width: float, height: float) -> dict[str, float]:
    x0, y0, x1, y1 = box
    w, h = max(width, 1e-6), max(height, 1e-6)
    return {"x": 100.0 * x0 / w, "y": 100.0 * y0 / h, "width": 100.0 * max(0.0, x1 - x0) / w,
            "height": 100.0 * max(0.0, y1 - y0) / h, "rotation": 0}


def _region(box: Sequence[float], field: str, text: str, width: float, height: float, img: tuple[int, int]
            ) -> list[dict[str, Any]]:
    rid = uuid.uuid4().hex[:10]
    geo = _pct(box, width, height)
    common = {"id": rid, "to_name": TO_NAME, "original_width": img[0], "original_height": img[1], "image_rotation": 0}
    return [{**common, "from_name": FROM_NAME, "type": "rectanglelabels", "value": {**geo, "rectanglelabels": [field]}},
            {**common, "from_name": TEXT_NAME, "type": "textarea", "value": {**geo, "text": [text]}}]


def predictions_for(page: Any, tags: Sequence[str], img: tuple[int, int]) -> list[dict[str, Any]]:
    """Regions for one page from per-word BIO tags: a ``B-`` word starts a region, following
    ``I-`` words of the same field on the same row extend it."""
    from extractors.serving.features import field_of

    out: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None

    def flush() -> None:
        if cur is not None:
            out.extend(_region(cur["box"], cur["field"], " ".join(cur["texts"]), page.width, page.height, img))

    for w, t in zip(page.words, tags):
        f = field_of(t)
        if f is None:
            flush()
            cur = None
            continue
        same_row = cur is not None and not (w.box[1] > cur["box"][3] or w.box[3] < cur["box"][1])
        if cur is not None and t.startswith("I-") and cur["field"] == f and same_row:
            b = cur["box"]
            cur["box"] = (min(b[0], w.box[0]), min(b[1], w.box[1]), max(b[2], w.box[2]), max(b[3], w.box[3]))
            cur["texts"].append(w.text)
            continue
        flush()
        cur = {"field": f, "box": tuple(w.box), "texts": [w.text]}
    flush()
    return out


def _model_tags(doc: Any) -> tuple[list[list[str]], str]:
    """Per page, the current model's tag for every word, and the model's version."""
    from extractors.inference import default_extractor

    extract = default_extractor()
    ex = getattr(extract, "__self__", None)
    probs = ex.word_probs(doc)
    labels = [ex.id2label[int(i)] for i in probs.argmax(axis=1)] if len(probs) else []
    out, k = [], 0
    for p in doc.pages:
        out.append(labels[k:k + len(p.words)])
        k += len(p.words)
    return out, ex.version


def _data_url(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def export_documents(settings: Any, files: Sequence[Path], *, url: str, token: str, title: str = "Order intake",
                     with_predictions: bool = True) -> dict[str, Any]:
    """Add each file's pages as tasks (with the model's pre-annotations) to the project ``title``."""
    from PIL import Image

    from extractors.registry import read_bytes
    from intake.service.blobstore import BlobStore
    from extractors.render import Renderer

    ls = client(url, token)
    pid = find_or_create_project(ls, title)
    blobs = BlobStore(settings.blob_dir)
    renderer = Renderer(Path(settings.data_dir), blobs, settings.limits)
    tasks: list[int] = []
    pages = 0
    image_dir = Path(settings.data_dir) / "pages"
    for f in files:
        try:
            data = Path(f).read_bytes()
        except OSError as exc:
            raise IntakeError(f"{f}: {exc.strerror or exc}") from exc
        sha = blobs.put(data)
        docs = read_bytes(data, Path(f).name, settings.limits)
        for di, doc in enumerate(docs):
            if not doc.pages or not any(p.words for p in doc.pages):
                continue
            tags, version = _model_tags(doc) if with_predictions else ([[] for _ in doc.pages], None)
            for pi, page in enumerate(doc.pages):
                if not page.words:
                    continue
                png = renderer.page_png(sha, Path(f).name, di, pi)
                with Image.open(png) as im:
                    size = im.size
                data_obj = {"image": _data_url(png), "document_sha256": sha, "filename": Path(f).name,
                            "document_index": di, "page": pi, "pages": len(doc.pages)}
                task = _call("task create", ls.tasks.create, project=pid, data=data_obj)
                tid = int(task.id)
                tasks.append(tid)
                pages += 1
                if with_predictions and tags[pi]:
                    _call("prediction create", ls.predictions.create, task=tid, model_version=version or "live",
                          result=predictions_for(page, tags[pi], size), score=0.5)
    return {"project_id": pid, "tasks": tasks, "pages": pages, "image_dir": str(image_dir)}


# --- import -----------------------------------------------------------------------------------

def _regions(result: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rectangle regions with their label and text, from an annotation's result list."""
    by_id: dict[str, dict[str, Any]] = {}
    for r in result:
        v = r.get("value") or {}
        reg = by_id.setdefault(str(r.get("id")), {"field": None, "text": None, "geo": None})
        if r.get("type") == "rectanglelabels" and v.get("rectanglelabels"):
            reg["field"] = v["rectanglelabels"][0]
            reg["geo"] = v
        elif r.get("type") == "textarea" and v.get("text"):
            reg["text"] = " ".join(v["text"]) if isinstance(v["text"], list) else str(v["text"])
            reg["geo"] = reg["geo"] or v
    return [r for r in by_id.values() if r["field"] and r["geo"]]


def annotation_to_example(doc: Any, page_results: dict[int, Sequence[dict[str, Any]]]) -> tuple[Any, dict[str, Any]]:
    """A ``LabelledDoc`` and a truth from the annotated pages of ``doc``.

    A word takes the field of the region holding its centre; line-field regions are grouped into
    lines by vertical overlap, top to bottom, page after page.
    """
    from extractors.normalize import detect_locale, parse_date, parse_number
    from training.build_dataset import LabelledDoc, LabelledPage, _tags
    from extractors.serving.features import FIELDS, HEADER_FIELDS, LINE_FIELDS

    words_all = [w.text for p in doc.pages for w in p.words]
    loc = detect_locale(words_all, doc.locale)
    truth: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    pages = []
    for pi, page in enumerate(doc.pages):
        regs = [r for r in _regions(page_results.get(pi) or []) if r["field"] in FIELDS]
        boxes = []
        for r in regs:
            g = r["geo"]
            x0, y0 = g["x"] * page.width / 100, g["y"] * page.height / 100
            boxes.append((x0, y0, x0 + g["width"] * page.width / 100, y0 + g["height"] * page.height / 100))
        # Line-field regions -> lines: a region overlapping a line's vertical span joins it.
        order = sorted((i for i, r in enumerate(regs) if r["field"] in LINE_FIELDS), key=lambda i: boxes[i][1])
        line_of: dict[int, int] = {}
        spans: list[list[float]] = []
        for i in order:
            y0, y1 = boxes[i][1], boxes[i][3]
            hit = next((k for k, s in enumerate(spans) if not (y0 >= s[1] or y1 <= s[0])), None)
            if hit is None or (regs[i]["field"] in [regs[j]["field"] for j, k2 in line_of.items() if k2 == hit]
                               and regs[i]["field"] != "description"):
                spans.append([y0, y1])
                hit = len(spans) - 1
            else:
                spans[hit] = [min(spans[hit][0], y0), max(spans[hit][1], y1)]
            line_of[i] = hit
        base = len(lines)
        lines.extend({} for _ in spans)
        fields, line_ids = [], []
        for w in page.words:
            cx, cy = (w.box[0] + w.box[2]) / 2, (w.box[1] + w.box[3]) / 2
            k = next((i for i, b in enumerate(boxes) if b[0] <= cx <= b[2] and b[1] <= cy <= b[3]), None)
            fields.append(regs[k]["field"] if k is not None else "O")
            line_ids.append(base + line_of[k] if k is not None and k in line_of else None)
        for i, r in enumerate(regs):
            inside = [w.text for w in page.words
                      if boxes[i][0] <= (w.box[0] + w.box[2]) / 2 <= boxes[i][2]
                      and boxes[i][1] <= (w.box[1] + w.box[3]) / 2 <= boxes[i][3]]
            text = (r["text"] or " ".join(inside)).strip()
            f = r["field"]
            val: Any = text
            if f in ("quantity", "unit_price", "amount", "total", "line_no"):
                val = parse_number(text, loc)
            elif f in ("order_date", "requested_date"):
                d = parse_date(text, loc)
                val = d if d is not None else text
            if f in HEADER_FIELDS:
                if f in truth and isinstance(truth[f], str) and isinstance(val, str):
                    truth[f] = truth[f] + ", " + val  # an address over several regions
                else:
                    truth.setdefault(f, val)
            else:
                ln = lines[base + line_of[i]]
                ln[f] = (ln[f] + " " + val) if f == "description" and f in ln and isinstance(val, str) else val
        pages.append(LabelledPage(page.width, page.height, list(page.words), _tags(page.words, fields, line_ids)))
    truth["lines"] = [ln for ln in lines if ln]
    return LabelledDoc(doc.name or "", pages, {"source": "labelstudio"}), truth


def import_annotations(settings: Any, *, url: str, token: str, title: str = "Order intake",
                       customer_id: str | None = None) -> dict[str, Any]:
    """Turn every finished, not yet imported annotation of the project into a labelled example."""
    from extractors.registry import read_bytes
    from intake.service.blobstore import BlobStore
    from intake.service.corrections import truth_from_record
    from intake.service.db import make_engine, make_sessionmaker, unit_of_work
    from intake.service.migrate import upgrade
    from training.learn import LabelledExampleRow, _values_found, _values_total

    ls = client(url, token)
    found = [p for p in _call("project list", lambda: list(ls.projects.list(title=title))) if p.title == title]
    if not found:
        raise NotFound(f"no Label Studio project called {title!r}: run `intake labelstudio export` first")
    pid = int(found[0].id)
    # Group the project's tasks by document; a document is imported when each of its pages has
    # a submitted annotation.
    docs: dict[tuple[str, int], dict[str, Any]] = {}
    for t in _call("task list", lambda: list(ls.tasks.list(project=pid, fields="all"))):
        d = t.data or {}
        sha = str(d.get("document_sha256") or "")
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            continue
        key = (sha, int(d.get("document_index") or 0))
        e = docs.setdefault(key, {"filename": d.get("filename"), "pages": int(d.get("pages") or 1), "results": {},
                                  "annotations": []})
        anns = [a for a in _call("annotation list", ls.annotations.list, id=int(t.id)) if not a.was_cancelled]
        if anns:
            a = max(anns, key=lambda a: (a.updated_at or a.created_at, a.id))
            e["results"][int(d.get("page") or 0)] = list(a.result or [])
            e["annotations"].append(int(a.id))
    blobs = BlobStore(settings.blob_dir)
    engine = make_engine(settings.db_url)
    upgrade(engine)
    imported = skipped = 0
    ids: list[int] = []
    try:
        with unit_of_work(make_sessionmaker(engine)) as s:
            seen: set[int] = set()
            for r in s.query(LabelledExampleRow).filter(LabelledExampleRow.source == "labelstudio"):
                seen.update(int(x) for x in ((r.example.get("meta") or {}).get("labelstudio_annotations") or []))
            for (sha, di), e in docs.items():
                if len(e["results"]) < e["pages"] or (set(e["annotations"]) & seen):
                    skipped += 1
                    continue
                if not blobs.exists(sha):
                    skipped += 1
                    continue
                rd = read_bytes(blobs.get(sha), e["filename"], settings.limits)
                if not 0 <= di < len(rd):
                    skipped += 1
                    continue
                ex, truth = annotation_to_example(rd[di], e["results"])
                ex.name = e["filename"] or sha[:12]
                ex.meta.update({"labelstudio_project": pid, "labelstudio_annotations": sorted(e["annotations"]),
                                "document_index": di})
                row = LabelledExampleRow(
                    document_sha256=sha, filename=(e["filename"] or "")[:512] or None, document_index=di,
                    customer_id=customer_id, model_version=None, source="labelstudio", actor="labelstudio",
                    truth=truth_from_record(truth), example=ex.to_json(), values_total=_values_total(truth),
                    values_found=min(_values_total(truth), _values_found(ex)),
                )
                s.add(row)
                s.flush()
                ids.append(row.id)
                imported += 1
    finally:
        engine.dispose()
    return {"project_id": pid, "imported": imported, "skipped": skipped, "example_ids": ids}
