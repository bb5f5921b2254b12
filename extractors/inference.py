"""The layout model at inference: ``Document`` -> ``OrderDraft``.

:class:`LayoutExtractor` reads with one model directory (:class:`extractors.serving.ModelDir`:
weights, window settings, calibration, router, learned layouts); everything it uses comes from
:mod:`extractors.serving`, nothing from ``training``. ``default_extractor()`` gives the
process-wide extractor: the live model of the registry under ``<data_dir>/models`` when there is
one (or ``INTAKE_MODEL_DIR``), else the model committed under ``training/default_model``
(:func:`extractors.serving.default_model_dir`). A routed version (a specialist for the corrected
layouts and a fallback for the rest: :mod:`extractors.serving.router`) loads both halves and
picks one per document; ``OrderDraft.model_version`` says which (``<version>/specialist`` or
``<version>/base``). It is loaded once per process (the first call pays ~1 s), guarded by a
lock so worker threads share one copy; the int8 model runs with ``torch.no_grad``, which is
safe to call from several threads. ``INTAKE_MODEL_THREADS`` caps torch's threads;
``INTAKE_MODEL_RELOAD_CHECK_S`` is how often the live pointer is compared (a promoted model is
picked up without a restart).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from extractors.assemble import assemble
from extractors.normalize import detect_locale
from extractors.serving.anchors import apply_layouts
from extractors.serving.features import collate, encode_page, merge_windows
from extractors.serving.load import load_model
from extractors.serving.model_dir import ModelDir, default_model_dir, has_weights
from extractors.serving.router import Router
from intake.core.domain import Document, OrderDraft
from intake.core.errors import ConfigError, ExtractionError, IntakeError
from intake.core.settings import get_settings

__all__ = ["LayoutExtractor", "default_extractor", "reset_default"]

_lock = threading.Lock()
_default: "LayoutExtractor | None" = None


def _softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class LayoutExtractor:
    """A loaded layout model with its tokenizer, window settings and calibration.

    ``model_dir``: a :class:`ModelDir` or the path of one (``ConfigError`` when it holds no model)."""

    def __init__(self, model_dir: ModelDir | Path, quantized: bool = True, threads: int | None = None) -> None:
        self.dir = model_dir if isinstance(model_dir, ModelDir) else ModelDir.open(model_dir)
        self.loaded = load_model(self.dir, quantized=quantized)
        self.max_len = self.dir.max_len
        self.overlap = self.dir.overlap
        self.calibration = self.dir.calibration
        self.version = self.dir.version
        self.id2label = self.loaded.id2label
        self.threads = threads
        self.batch_size = 8
        # A routed version (extractors/serving/router.py): these weights are a specialist for the
        # layouts it was corrected on; every other document is read by the fallback, a plain model.
        self.router: Router | None = None
        self.fallback: "LayoutExtractor | None" = None
        # Layouts learned from corrections (extractors/serving/anchors.py): their documents are
        # read by the captions the corrections showed beside each value.
        self.layouts = list(self.dir.anchors)
        if self.dir.router is not None:
            self.router = Router(self.dir.router.fingerprints, self.dir.router.threshold)
            fb = self.dir.fallback()  # a ModelDir for a routed directory (ConfigError when missing)
            self.fallback = LayoutExtractor(fb, quantized=quantized, threads=threads) if fb is not None else None

    def route(self, doc: Document) -> tuple["LayoutExtractor | None", dict[str, Any]]:
        """For a routed model: ``(the fallback, why)`` when the fallback reads ``doc``, else
        ``(None, why)`` (the specialist, these weights). A plain model: ``(None, {})``."""
        if self.router is None:
            return None, {}
        score, like = self.router.score(doc)
        if score >= self.router.threshold:
            return None, {"model": "specialist", "score": round(score, 3), "like": like}
        return self.fallback, {"model": "base", "score": round(score, 3), "base_version": self.fallback.version
                               if self.fallback is not None else None}

    def page_logits(self, doc: Document) -> list[np.ndarray]:
        """Per page: word logits (n_words x n_labels), before temperature."""
        other, _why = self.route(doc)
        return other.page_logits(doc) if other is not None else self._page_logits(doc)

    def _page_logits(self, doc: Document) -> list[np.ndarray]:
        import torch

        tok = self.loaded.tokenizer
        out: list[np.ndarray] = []
        all_windows = []
        for pi, page in enumerate(doc.pages):
            ws = encode_page(tok, [w.text for w in page.words], [w.box for w in page.words], page.width, page.height,
                             max_len=self.max_len, overlap=self.overlap, page=pi)
            all_windows.append(ws)
        flat = [(pi, w) for pi, ws in enumerate(all_windows) for w in ws if len(doc.pages[pi].words)]
        logits_flat: list[np.ndarray] = []
        with torch.no_grad():
            # Windows of similar length batch together with little padding.
            order = sorted(range(len(flat)), key=lambda i: len(flat[i][1]))
            res: dict[int, np.ndarray] = {}
            for s in range(0, len(order), self.batch_size):
                idx = order[s:s + self.batch_size]
                batch = collate([flat[i][1] for i in idx], tok.pad_token_id, with_labels=False)
                lg = self.loaded.model(**batch).logits.float().numpy()
                for j, i in enumerate(idx):
                    res[i] = lg[j, :len(flat[i][1])]
            logits_flat = [res[i] for i in range(len(flat))]
        k = 0
        for pi, page in enumerate(doc.pages):
            n = len(all_windows[pi]) if page.words else 0
            wl = logits_flat[k:k + n]
            k += n
            out.append(merge_windows(all_windows[pi][:n], wl, len(page.words)) if n else
                       np.zeros((0, len(self.id2label)), dtype=np.float32))
        return out

    def word_probs(self, doc: Document) -> np.ndarray:
        """Calibrated per-word label probabilities for the whole document (pages concatenated)."""
        other, _why = self.route(doc)
        return other.word_probs(doc) if other is not None else self._word_probs(doc)

    def all_layouts(self) -> list[dict[str, Any]]:
        """The learned layouts this model reads, its fallback's included."""
        return list(self.layouts) + (self.fallback.all_layouts() if self.fallback is not None else [])

    def trained_meta(self) -> list[dict[str, Any]]:
        """The manifests of the weights that may read a document (a routed model's fallback too)."""
        return [self.loaded.meta] + (self.fallback.trained_meta() if self.fallback is not None else [])

    def _word_probs(self, doc: Document) -> np.ndarray:
        pages = self._page_logits(doc)
        if not pages:
            return np.zeros((0, len(self.id2label)), dtype=np.float32)
        logits = np.concatenate(pages, axis=0)
        return _softmax(logits / max(1e-3, self.calibration.temperature))

    def extract(self, doc: Document, *, keep_layout: Callable[[dict[str, Any]], bool] | None = None,
                probs: np.ndarray | None = None, skip: Sequence[str] = (), explain: bool = False) -> OrderDraft:
        """The order in ``doc``. Raises ``ExtractionError`` for a document without words.

        ``keep_layout``: read only the learned layouts it accepts (leave-issuer-out evaluation
        leaves out the layouts learned from the issuer it scores). ``probs``: the word
        probabilities :meth:`word_probs` gave for ``doc`` before (benchmarks that re-run the
        checks after the model without running it again). ``skip``: checks of assembly to leave
        out (extractors.assembly.CHECKS; bench/ablation.py). ``explain``: record in
        ``draft.meta["explain"]`` what each step after the model changed (``intake extract --explain``)."""
        if not doc.pages or not any(p.words for p in doc.pages):
            raise ExtractionError(f"{doc.name or doc.kind.value}: no words to read (empty or unreadable document)")
        other, why = self.route(doc)
        if other is not None:
            draft = other.extract(doc, keep_layout=keep_layout, probs=probs, skip=skip, explain=explain)
            # Which model read it: "<routed version>/base" (the fallback's own version in meta).
            draft.model_version = f"{self.version}/base"
            draft.meta["route"] = why
            return draft
        try:
            if self.threads:
                import torch

                torch.set_num_threads(self.threads)
            if probs is None:
                probs = self._word_probs(doc)
            # Words carry their page index; make it the page's position so rows never mix pages.
            words = [w if w.page == pi else w.model_copy(update={"page": pi})
                     for pi, p in enumerate(doc.pages) for w in p.words]
            loc = detect_locale([w.text for w in words], doc.locale)
            trace: list[Any] | None = [] if explain else None
            draft = assemble(words, probs, self.id2label, loc, self.calibration,
                             extractor=f"model:{self.version}",
                             model_version=f"{self.version}/specialist" if why else self.version,
                             skip=skip, trace=trace)
            layouts = [lay for lay in self.layouts if keep_layout is None or keep_layout(lay)]
            if layouts:
                draft = apply_layouts(doc, draft, layouts, loc, trace=trace)
            if trace is not None:
                draft.meta["explain"] = [c.to_json() for c in trace]
        except IntakeError:
            raise
        except (RuntimeError, ValueError, IndexError) as exc:
            raise ExtractionError(f"the layout model failed on {doc.name or 'the document'}: {type(exc).__name__}: {str(exc)[:120]}") from exc
        draft.document_kind = doc.kind
        draft.document_name = doc.name
        draft.meta.setdefault("locale", {"lang": loc.lang, "decimal": loc.decimal, "dayfirst": loc.dayfirst})
        if why:
            draft.meta["route"] = why
        return draft

    __call__ = extract


def default_extractor() -> Callable[[Document], OrderDraft]:
    """The process-wide extractor (loaded once, thread-safe)."""
    global _default
    with _lock:
        if _default is not None and _live_changed(_default):
            _default = None  # a newer model was promoted (or rolled back): load it, no restart
        if _default is None:
            settings = get_settings()
            path = default_model_dir(settings)
            if not has_weights(path):
                raise ConfigError(f"no layout model at {path}: train one with `intake train` or reinstall the package")
            _default = LayoutExtractor(path, threads=settings.model_threads or None)
        return _default.extract


def reset_default() -> None:
    """Forget the loaded model (after a promotion), so the next call loads the new live one."""
    global _default
    with _lock:
        _default = None


# --- picking up a promoted model without a restart (the learning loop, training/retrain.py) ---

_last_check = 0.0


def _live_changed(current: "LayoutExtractor") -> bool:
    """Whether the model to serve is no longer the loaded one (checked at most every
    ``settings.model_reload_check_s`` seconds: one small file read). Called with ``_lock`` held."""
    global _last_check
    settings = get_settings()
    now = time.monotonic()
    if now - _last_check < settings.model_reload_check_s:
        return False
    _last_check = now
    try:
        want = default_model_dir(settings)
    except (IntakeError, OSError, ValueError):
        return False  # a half-written or unreadable pointer: keep serving the loaded model
    try:
        return want.resolve() != Path(current.dir.path).resolve() and has_weights(want)
    except OSError:
        return False
