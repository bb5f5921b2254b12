"""Extraction accuracy as a user meets it: leave-issuer-out on real documents, and the held-out
synthetic layout families.

    .venv/bin/python bench/eval.py [--json] [--model DIR] [--folder DIR] [--split FILE]
                                   [--synth N] [--synth-seed S] [--no-synth] [--cache DIR] [--dump FILE]

* Real documents (default ``../shared/realdocs/pdf``, every PDF with a truth file): scored by
  the leave-issuer-out protocol of ``intake eval --leave-issuer-out`` (training/leave_issuer_out.py):
  issuers the model was trained on are reported apart, learned layouts of an issuer are left
  out while it is read. Skipped with a reason when the folder is absent.
* Held-out synthetic families: ``--synth`` documents (default 120) of the families the trainer
  never trains on, seed 2001 and the model's formats, as the trainer's own report.

Reading and the model pass are cached under ``--cache`` (keyed by file and model version), so a
second run only re-runs the checks after the model. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REALDOCS = ROOT.parent / "shared" / "realdocs" / "pdf"


def run(args: argparse.Namespace, extract_kw: dict | None = None, skip_for: dict | None = None) -> dict:
    """The figures for ``args``; ``extract_kw`` goes to every ``LayoutExtractor.extract`` call;
    ``skip_for`` maps an issuer to more checks to leave out while that issuer is read."""
    import torch

    torch.set_num_threads(args.threads)
    from bench import _corpus
    from extractors.inference import LayoutExtractor
    from extractors.serving import default_model_dir
    from training.evaluate import Scores
    from training.leave_issuer_out import DEFAULT_SPLIT, IssuerSplit, leave_issuer_out, seen_files

    kw = dict(extract_kw or {})
    drafts: dict | None = {} if getattr(args, "dump", None) else None
    path = args.model or default_model_dir()
    ex = LayoutExtractor(path)
    cache = None if args.no_cache else args.cache
    res: dict = {"model": {"path": str(path), "version": ex.version}}
    if args.folder.is_dir():
        from training.evaluate import truth_documents

        split = IssuerSplit.load(args.split or (DEFAULT_SPLIT if DEFAULT_SPLIT.is_file() else None))
        entries = {e.path: e for e in _corpus.load(truth_documents(args.folder), ex, cache, progress=not args.json)}
        seen: set[str] = set()
        hows = []
        for meta in ex.trained_meta():
            names, how = seen_files(meta, args.folder)
            seen |= names
            hows.append(how)
        t0 = time.perf_counter()

        def score_doc(p: Path, keep, sc: Scores) -> dict:
            more = (skip_for or {}).get(split.issuer_of(p.name), ())
            kw2 = {**kw, "skip": tuple(kw.get("skip", ())) + tuple(more)} if more else kw
            return _corpus.score(entries[p], ex.extract, sc, drafts, keep_layout=keep, **kw2)

        res["realdocs"] = leave_issuer_out(args.folder, score_doc, split, seen=seen, seen_how="; ".join(sorted(set(hows))),
                                           layouts=ex.all_layouts())
        res["realdocs"]["checks_seconds"] = round(time.perf_counter() - t0, 2)
    else:
        res["realdocs"] = {"skipped": f"{args.folder} is absent (real documents are not shipped with the project)"}
    if not args.no_synth and args.synth > 0:
        paths = _corpus.heldout_synth(args.synth, args.synth_seed, _corpus.model_formats(ex), args.cache)
        entries_s = _corpus.load(paths, ex, cache, progress=not args.json)
        sc = Scores()
        t0 = time.perf_counter()
        for e in entries_s:
            _corpus.score(e, ex.extract, sc, drafts, **kw)
        m = sc.metrics()
        m["checks_seconds"] = round(time.perf_counter() - t0, 2)
        m["seed"] = args.synth_seed
        res["synth_heldout"] = m
    if drafts is not None:
        args.dump.write_text(json.dumps(drafts, indent=1, sort_keys=True, default=str))
    return res


def summary(res: dict) -> str:
    from training.leave_issuer_out import format_report

    out = [f"model {res['model']['version']}"]
    rd = res.get("realdocs") or {}
    if "skipped" in rd:
        out.append(f"real documents: skipped: {rd['skipped']}")
    elif rd:
        out.append(format_report(rd))
    m = res.get("synth_heldout")
    if m:
        out.append(f"held-out synthetic families ({m['documents']} documents, seed {m['seed']}): header F1 "
                   f"{m['header']['f1']:.3f}, line F1 {m['lines']['f1']:.3f} ({m['lines']['right']}/"
                   f"{m['lines']['truth']} right, {m['lines']['predicted']} predicted), ECE {m['calibration']['ece']:.3f}")
    return "\n".join(out)


def parser(doc: str | None = None) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=(doc or __doc__ or "").splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--model", type=Path, default=None, help="model directory (default: the live/default one)")
    ap.add_argument("--folder", type=Path, default=REALDOCS, help="real documents with truth files")
    ap.add_argument("--split", type=Path, default=None, help="issuer split file (default bench/splits/realdocs_issuers.json)")
    ap.add_argument("--synth", type=int, default=120, help="held-out synthetic documents (0: none)")
    ap.add_argument("--synth-seed", type=int, default=2001)
    ap.add_argument("--no-synth", action="store_true", help="real documents only")
    ap.add_argument("--cache", type=Path, default=None, help="cache folder (default /tmp/intake-bench-cache)")
    ap.add_argument("--no-cache", action="store_true", help="read and run the model afresh, keep nothing")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dump", type=Path, default=None, help="write every document's order (truth schema) to this JSON file")
    return ap


def main() -> None:
    args = parser().parse_args()
    from bench import _corpus

    args.cache = args.cache or _corpus.DEFAULT_CACHE
    res = run(args)
    if args.json:
        sys.stdout.write(json.dumps(res, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(summary(res) + "\n")


if __name__ == "__main__":
    main()
