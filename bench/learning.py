"""Learning curve: how fast a layout the model has never seen is learned from corrections.

    .venv/bin/python bench/learning.py [--json] [--model DIR] [--families N|NAME,...]
                                       [--eval-docs N] [--steps N] [--chart FILE] [--no-frozen]
                                       [--folder DIR] [--corrected 1,3,5]

For each layout family held out of training (``training.synth.heldout_families()``), PDFs are
generated; the first 5 are the "corrected" documents, the rest are the evaluation documents.
With ``--folder DIR`` the families are real: the layouts among DIR's documents with truth (grouped
by layout fingerprint, as routing groups them) that have at least 3 documents the model was not
trained on; the first 1 and 2 (by name) are corrected, the rest evaluated.
Field (header) and line F1 on the evaluation documents are measured with the model as it is,
then after fine-tuning it (``training.retrain.fine_tune``: the same training as
``intake train --from-corrections``, from the same base model each time) on 1, 3 and 5 corrected
documents. Corrections are made the way a CSR's are: the document's truth is aligned onto the
words the reader returns (``training.learn.align_document``), not taken from the generator's
labels. Each candidate is also scored on the frozen set, as the promotion gate would, and so is
the *routed* system retraining falls back to when the candidate is worse there
(``extractors.serving.router``: the candidate reads documents whose layout matches the corrected ones,
the base model the rest), on the layout's documents and on the frozen set. Retraining time is
the fine-tune alone (load, windows, training, save) with 2 threads.

Writes a PNG chart (line F1 and field F1 against the number of corrected documents, and the
retraining time). Prints figures; asserts nothing. Targets (issue 6): line F1 >= 0.95 after at
most 3 corrected documents, retraining <= 300 s on 2 cores, no candidate worse on the frozen set.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")

STEPS_K = (1, 3, 5)


def _eval(model: Path, folder: Path) -> dict[str, Any]:
    from extractors.inference import LayoutExtractor
    from training.evaluate import evaluate_dir
    from training.retrain import summary_of

    return summary_of(evaluate_dir(folder, LayoutExtractor(model).extract).metrics())


def run_family(fam: str, base: Path, work: Path, cfg: Any, replay: list[Any], eval_docs: int, seed: int,
               frozen: list[Path] | None, frozen_base: dict[str, Any] | None, say: Any,
               ks: tuple[int, ...] = STEPS_K) -> dict[str, Any]:
    """The curve of one synthetic family: before, and after each number of corrected documents."""
    from training.synth import generate

    d = work / fam
    paths = generate(max(ks) + eval_docs, d / "all", seed=seed, formats=["pdf"], families=[fam], progress=False)
    return curve(fam, paths[:max(ks)], paths[max(ks):], base, d, cfg, replay, frozen, frozen_base, say, ks)


def real_families(folder: Path, skip: set[str], min_docs: int = 3) -> list[tuple[str, list[Path]]]:
    """Layouts among the documents with truth in ``folder``: documents grouped by their layout
    fingerprint (``extractors.serving.router.layouts``, the grouping routing uses), families of at least
    ``min_docs`` documents, documents the base model was trained on left out."""
    from extractors.registry import read_bytes
    from training.evaluate import truth_documents
    from extractors.serving.router import fingerprint, layouts

    fps = []
    for p in truth_documents(folder):
        if p.name in skip:
            continue
        try:
            docs = [d for d in read_bytes(p.read_bytes(), p.name) if d.pages and d.words]
        except Exception:  # noqa: BLE001 - a benchmark leaves out what it cannot read
            continue
        if docs:
            fps.append(fingerprint(docs[0], p.name))
    out = []
    for lay in layouts(fps):
        names = sorted(lay["documents"])
        if len(names) >= min_docs:
            out.append((f"{Path(names[0]).stem}+{len(names) - 1}", [folder / n for n in names]))
    return out


def curve(fam: str, corrected: list[Path], evaluated: list[Path], base: Path, d: Path, cfg: Any,
          replay: list[Any], frozen: list[Path] | None, frozen_base: dict[str, Any] | None, say: Any,
          ks: tuple[int, ...]) -> dict[str, Any]:
    """Field and line F1 on ``evaluated`` before, and after fine-tuning on the first k of
    ``corrected`` (each k in ``ks``), with the routed system and the frozen-set gate beside them."""
    from training.learn import align_document
    from training.gate import frozen_gate
    from training.retrain import build_routed, evaluate_model, fine_tune
    from training.router import corrected_fingerprint

    ev = d / "eval"
    ev.mkdir(parents=True, exist_ok=True)
    for p in evaluated:
        for suf in ("", ".truth.json"):
            shutil.copyfile(f"{p}{suf}", ev / f"{p.name}{suf}")
    corrections = []
    for p in corrected:
        truth = json.loads(Path(f"{p}.truth.json").read_text())
        ex, _idx, found, total = align_document(p.read_bytes(), p.name, truth)
        corrections.append((ex, found, total, truth))
    points = [{"corrected": 0, **_eval(base, ev), "train_seconds": 0.0}]
    say(f"{fam}: before: field F1 {points[0]['header_f1']:.3f} line F1 {points[0]['line_f1']:.3f}")
    for k in ks:
        out = d / f"model-{k}"
        t0 = time.time()
        meta = fine_tune(base, [c[0] for c in corrections[:k]], replay, out, cfg,
                         truths=[c[3] for c in corrections[:k]])
        secs = time.time() - t0
        pt: dict[str, Any] = {"corrected": k, **_eval(out, ev), "train_seconds": round(secs, 1),
                              "steps": meta["steps"]}
        routed = d / f"routed-{k}"
        build_routed(out, routed, [corrected_fingerprint(c[0]) for c in corrections[:k]], cfg.route_threshold,
                     base, json.loads((base / "intake_model.json").read_text()).get("version", base.name))
        rt = _eval(routed, ev)
        pt["routed"] = {"header_f1": rt["header_f1"], "line_f1": rt["line_f1"]}
        if frozen is not None and frozen_base is not None:
            fz = evaluate_model(out, frozen)
            g = frozen_gate(frozen_base, fz, cfg.tolerance)
            ok, why = g.passed, g.reasons
            pt["frozen"] = fz
            pt["frozen_not_worse"] = ok
            pt["frozen_reasons"] = why
            rfz = evaluate_model(routed, frozen)
            rg = frozen_gate(frozen_base, rfz, cfg.tolerance)
            r_ok, r_why = rg.passed, rg.reasons
            pt["routed"].update({"frozen": rfz, "frozen_not_worse": r_ok, "frozen_reasons": r_why})
        points.append(pt)
        fz_txt = "" if "frozen" not in pt else (
            f"; frozen line F1 {_first(frozen_base)['line_f1']:.3f} -> candidate {_first(pt['frozen'])['line_f1']:.3f} "
            f"routed {_first(pt['routed']['frozen'])['line_f1']:.3f}; not worse: candidate {pt['frozen_not_worse']} "
            f"routed {pt['routed']['frozen_not_worse']}")
        say(f"{fam}: after {k}: field F1 {pt['header_f1']:.3f} line F1 {pt['line_f1']:.3f} "
            f"(routed {rt['header_f1']:.3f} / {rt['line_f1']:.3f}) ({secs:.0f} s, {meta['steps']} steps){fz_txt}")
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(routed, ignore_errors=True)
    return {"family": fam, "eval_documents": len(evaluated), "corrected_files": [p.name for p in corrected],
            "eval_files": [p.name for p in evaluated],
            "alignment": [{"found": f, "total": t} for _, f, t, _ in corrections], "points": points}


def _first(frozen: dict[str, Any] | None) -> dict[str, Any]:
    """The figures of the synthetic frozen folder (the first)."""
    return next(iter((frozen or {}).values()), {"header_f1": 0.0, "line_f1": 0.0})


def chart(result: dict[str, Any], path: Path) -> Path:
    """Line and field F1 against corrected documents per family (and their mean), plus time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [2, 1]})
    ks = [0, *result["ks"]]
    for fr in result["families"]:
        ys = [p["line_f1"] for p in fr["points"]]
        ax.plot(ks, ys, "o-", alpha=0.45, label=f"{fr['family']} lines")
    mean = result["mean"]
    ax.plot(ks, [m["line_f1"] for m in mean], "o-", color="black", linewidth=2.5, label="mean line F1")
    ax.plot(ks, [m["header_f1"] for m in mean], "s--", color="#dd8452", linewidth=2, label="mean field F1")
    ax.plot(ks, [m.get("routed_line_f1", m["line_f1"]) for m in mean], "d:", color="#55a868", linewidth=2,
            label="mean line F1, routed")
    ax.axhline(0.95, color="grey", linestyle=":", label="target 0.95")
    ax.set_xticks(ks)
    ax.set_xlabel("corrected documents of the new layout")
    ax.set_ylabel("F1 on the layout's other documents")
    ax.set_ylim(0, 1.05)
    ax.set_title("Learning a layout the model has never seen")
    ax.legend(fontsize=7, loc="lower right")
    ax2.bar([str(k) for k in result["ks"]], [m["train_seconds"] for m in mean[1:]], color="#4c72b0")
    ax2.axhline(300, color="grey", linestyle=":", label="target 300 s")
    ax2.set_xlabel("corrected documents")
    ax2.set_ylabel("retraining seconds (2 threads)")
    ax2.set_title("Retraining time")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--model", type=Path, default=None, help="base model directory (default: the live/default one)")
    ap.add_argument("--families", default="2", help="how many held-out families, or comma-separated names")
    ap.add_argument("--eval-docs", type=int, default=6, help="evaluation documents per family")
    ap.add_argument("--steps", type=int, default=None, help="training steps per retraining (default: the retraining config's)")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--chart", type=Path, default=None, help="PNG to write (default: <data_dir>/reports/learning-<time>.png)")
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    ap.add_argument("--no-frozen", action="store_true", help="skip scoring each candidate on the frozen set")
    ap.add_argument("--corrected", default=None,
                    help="numbers of corrected documents to retrain with (default 1,3,5; with --folder 1,2)")
    ap.add_argument("--folder", type=Path, default=None,
                    help="real documents with truth (e.g. ../shared/realdocs/pdf): their layouts of 3 or more "
                         "documents the model was not trained on are the families")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(2)
    from extractors.serving import default_model_dir
    from intake.core.settings import get_settings
    from extractors.serving import general_model_dir
    from training.retrain import evaluate_model, frozen_dirs, load_retrain_config, replay_examples
    from training.synth import heldout_families

    settings = get_settings()
    data_dir = Path(settings.data_dir)
    base = general_model_dir(args.model or default_model_dir(settings))  # a routed live model: its general one
    default_ks = "1,2" if args.folder else ",".join(map(str, STEPS_K))
    ks = tuple(sorted({int(x) for x in (args.corrected or default_ks).split(",") if x.strip()}))
    cfg = load_retrain_config(None, steps=args.steps)
    if cfg.refit_all and cfg.max_minutes:
        # As in `intake train --from-corrections`: with a refit the model that serves trains for
        # half the run's budget (the judged fine-tune had the other half).
        from dataclasses import replace

        cfg = replace(cfg, max_minutes=cfg.max_minutes / 2)
    real: list[tuple[str, list[Path]]] = []
    fams: list[str] = []
    if args.folder:
        if not args.folder.is_dir():
            sys.stderr.write(f"error: {args.folder} is not a folder of documents with truth\n")
            raise SystemExit(2)
        trained = set(json.loads((base / "intake_model.json").read_text()).get("trained_on_files") or [])
        real = [(n, ps) for n, ps in real_families(args.folder, trained, max(ks) + 1)]
        if not real:
            sys.stderr.write(f"error: no layout in {args.folder} has {max(ks) + 1} or more documents with truth "
                             "that the model was not trained on\n")
            raise SystemExit(2)
    else:
        held = heldout_families()
        fams = held[: int(args.families)] if args.families.isdigit() else [f.strip() for f in args.families.split(",") if f.strip()]
        unknown = [f for f in fams if f not in held]
        if unknown:
            sys.stderr.write(f"error: not held-out families: {', '.join(unknown)} (choose from {', '.join(held)})\n")
            raise SystemExit(2)

    def say(m: str) -> None:
        if not args.json:
            sys.stdout.write(m + "\n")
            sys.stdout.flush()

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-learning-"))
    t0 = time.time()
    replay = replay_examples(data_dir, cfg)
    frozen = None if args.no_frozen else frozen_dirs(data_dir, cfg)
    frozen_base = None if frozen is None else evaluate_model(base, frozen, data_dir / "models" / "frozen" / "scores.json")
    say(f"base model {base} ({json.loads((base / 'intake_model.json').read_text()).get('version', base.name)}); "
        f"{len(replay)} replay documents; steps {cfg.steps} (budget {cfg.max_minutes} min)")
    if real:
        say("real layouts: " + "; ".join(f"{n}: {', '.join(p.name for p in ps)}" for n, ps in real))
        families = [curve(n, ps[:max(ks)], ps[max(ks):], base, work / n, cfg, replay, frozen, frozen_base, say, ks)
                    for n, ps in real]
    else:
        families = [run_family(f, base, work, cfg, replay, args.eval_docs, args.seed, frozen, frozen_base, say, ks)
                    for f in fams]
    mean = []
    for i, k in enumerate((0, *ks)):
        pts = [fr["points"][i] for fr in families]
        m = {"corrected": k, "header_f1": round(sum(p["header_f1"] for p in pts) / len(pts), 4),
             "line_f1": round(sum(p["line_f1"] for p in pts) / len(pts), 4),
             "train_seconds": round(max(p["train_seconds"] for p in pts), 1)}
        if k:
            m["routed_header_f1"] = round(sum(p["routed"]["header_f1"] for p in pts) / len(pts), 4)
            m["routed_line_f1"] = round(sum(p["routed"]["line_f1"] for p in pts) / len(pts), 4)
        mean.append(m)
    reach = next((m["corrected"] for m in mean if m["line_f1"] >= 0.95), None)
    result: dict[str, Any] = {
        "base_model": str(base), "ks": list(ks), "families": families, "mean": mean, "frozen_base": frozen_base,
        "targets": {
            "corrected_docs_to_line_f1_0.95": reach,
            "line_f1_0.95_within_3": reach is not None and reach <= 3,
            "max_retrain_seconds": max(m["train_seconds"] for m in mean),
            "retrain_within_300_s": max(m["train_seconds"] for m in mean) <= 300,
            "candidates_not_worse_on_frozen": None if frozen is None else
            sum(1 for fr in families for p in fr["points"][1:] if p.get("frozen_not_worse")),
            "candidates": sum(len(fr["points"]) - 1 for fr in families),
            "routed_not_worse_on_frozen": None if frozen is None else
            sum(1 for fr in families for p in fr["points"][1:] if p["routed"].get("frozen_not_worse")),
        },
        "seconds": round(time.time() - t0, 1), "threads": 2, "cpu_count": os.cpu_count(),
    }
    out = args.chart or (data_dir / "reports" / time.strftime("learning-%Y%m%d-%H%M%S.png"))
    result["chart"] = str(chart(result, out))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    else:
        say("corrected  field F1  line F1  routed field/line F1  retrain s (mean over " + str(len(families)) + " families)")
        for m in mean:
            rt = (f"{m['routed_header_f1']:.3f} / {m['routed_line_f1']:.3f}" if "routed_line_f1" in m else
                  "      -      ")
            say(f"{m['corrected']:>9}  {m['header_f1']:.3f}     {m['line_f1']:.3f}    {rt}        {m['train_seconds']:.0f}")
        t = result["targets"]
        say(f"line F1 >= 0.95 after {t['corrected_docs_to_line_f1_0.95']} corrected document(s); "
            f"slowest retraining {t['max_retrain_seconds']:.0f} s; "
            + ("" if t["candidates_not_worse_on_frozen"] is None else
               f"{t['candidates_not_worse_on_frozen']} of {t['candidates']} candidates and "
               f"{t['routed_not_worse_on_frozen']} routed systems not worse on the frozen set; ")
            + f"chart {result['chart']}")
    return result


if __name__ == "__main__":
    main()
