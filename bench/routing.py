"""Layout fingerprints: how similar documents of one layout are, against documents of others.

    .venv/bin/python bench/routing.py [--json] [--per-family N] [--formats pdf,xlsx,...] [--seed S]

A routed model (``extractors.serving.router``) sends a document to the retrained specialist when it
holds enough of a corrected layout's template tokens (``Router.score``). This builds the router
exactly as retraining does, from the first ``k`` documents of a layout (k = 1, 2, 3 corrections),
from their fingerprints as corrected documents (the truth aligned onto the words as ``intake
learn`` does, labelled words left out; realdocs without truth: all words), and scores

* the layout's other documents (they should be routed to the specialist), and
* every document of every other layout (they should not: a false route sends a document to a
  model trained for another layout),

on synthetic documents (``N`` per family for each of the 45 families and each format; same
family and format = same layout) and on ``../shared/realdocs/pdf`` (same issuer, the file name
before its first ``_``, = same layout; skipped when the folder is absent). It also prints the
plain pairwise similarity of single documents. Prints both distributions, the routed rates at
candidate thresholds, and the nearest strangers. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

THRESHOLDS = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def _fingerprints(path: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The document's fingerprint as served, and as a corrected document's (its truth aligned
    onto its words the way ``intake learn`` does, labelled words left out; the plain one when
    there is no truth or nothing aligns)."""
    from extractors.registry import read_bytes
    from intake.core.errors import ReadError
    from training.learn import align_document
    from extractors.serving.router import fingerprint
    from training.router import corrected_fingerprint

    docs = [d for d in read_bytes(path.read_bytes(), path.name) if d.pages and d.words]
    if not docs:
        return None
    fp = fingerprint(docs[0], path.name)
    truth = Path(f"{path}.truth.json")
    if not truth.is_file():
        return fp, fp
    try:
        ex, idx, _found, _total = align_document(path.read_bytes(), path.name, json.loads(truth.read_text()), 0)
    except ReadError:
        return fp, fp
    return fp, corrected_fingerprint(ex)


def _routed(items: list[tuple[str, dict[str, Any], dict[str, Any]]], k: int) -> tuple[list[float], list[float], dict[str, float]]:
    """Scores of a router built from the first ``k`` documents of each layout: on that layout's
    other documents (same) and on other layouts' documents (different)."""
    from extractors.serving.router import Router

    by: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for lay, fp, cfp in items:
        by.setdefault(lay, []).append((fp, cfp))
    same, diff = [], []
    stranger: dict[str, float] = {}
    for lay, fps in by.items():
        if len(fps) <= k:
            continue
        r = Router([c for _, c in fps[:k]])
        same.extend(r.score(fp)[0] for fp, _ in fps[k:])
        for other, ofps in by.items():
            if other != lay:
                for fp, _ in ofps:
                    s = r.score(fp)[0]
                    diff.append(s)
                    stranger[lay] = max(stranger.get(lay, 0.0), s)
    return same, diff, stranger


def _pairs(items: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> tuple[list[float], list[float]]:
    from extractors.serving.router import similarity

    same, diff = [], []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            (la, fa, _), (lb, fb, _) = items[i], items[j]
            (same if la == lb else diff).append(similarity(fa, fb))
    return same, diff


def _summary(items: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"documents": len(items), "layouts": len({k for k, _, _ in items})}
    same, diff = _pairs(items)
    out["pairwise"] = {"same": _quantiles(same), "different": _quantiles(diff)}
    for k in (1, 2, 3):
        same, diff, stranger = _routed(items, k)
        worst = sorted(stranger.items(), key=lambda kv: -kv[1])[:5]
        out[f"router_{k}"] = {"same": _quantiles(same), "different": _quantiles(diff), "rates": _rates(same, diff),
                              "nearest_strangers": [{"layout": a, "score": round(v, 3)} for a, v in worst]}
    return out


def _quantiles(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {}
    s = sorted(xs)

    def q(p: float) -> float:
        return round(s[min(len(s) - 1, int(p * (len(s) - 1) + 0.5))], 3)

    return {"n": len(s), "min": round(s[0], 3), "p01": q(0.01), "p05": q(0.05), "median": q(0.5), "p95": q(0.95),
            "p99": q(0.99), "max": round(s[-1], 3)}


def _rates(same: list[float], diff: list[float]) -> list[dict[str, Any]]:
    return [{"threshold": t, "same_routed": round(sum(s >= t for s in same) / max(1, len(same)), 4),
             "different_routed": round(sum(s >= t for s in diff) / max(1, len(diff)), 4)} for t in THRESHOLDS]


def measure(per_family: int, formats: list[str], seed: int, realdocs: Path | None) -> dict[str, Any]:
    from training.synth import family_names, generate

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as tmp:
        for fmt in formats:
            items = []
            for fam in family_names():
                for p in generate(per_family, Path(tmp) / fmt / fam, seed=seed, formats=[fmt], families=[fam],
                                  progress=False):
                    f = _fingerprints(p)
                    if f is not None:
                        items.append((fam, *f))
            out[f"synthetic {fmt}"] = _summary(items)
    if realdocs is not None and realdocs.is_dir():
        from intake.core.errors import IntakeError

        items = []
        for p in sorted(realdocs.iterdir()):
            if p.is_file() and p.suffix.lower() == ".pdf":
                try:
                    f = _fingerprints(p)
                except IntakeError as exc:
                    sys.stderr.write(f"skipped {p.name}: {exc.reason}\n")
                    continue
                if f is not None:
                    items.append((p.name.split("_")[0], *f))
        out["realdocs pdf"] = _summary(items)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--per-family", type=int, default=6)
    ap.add_argument("--formats", default="pdf,xlsx,email")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--realdocs", type=Path, default=ROOT.parent / "shared" / "realdocs" / "pdf")
    a = ap.parse_args(argv)
    from extractors.serving.router import DEFAULT_THRESHOLD

    res = measure(a.per_family, [f.strip() for f in a.formats.split(",") if f.strip()], a.seed, a.realdocs)
    if a.json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
        return res
    for name, r in res.items():
        sys.stdout.write(f"{name}: {r['documents']} documents, {r['layouts']} layouts\n")
        for k, q in r["pairwise"].items():
            if q:
                sys.stdout.write(f"  one document vs one, {k:<9} layout ({q['n']:>5} pairs): min {q['min']:.2f} "
                                 f"median {q['median']:.2f} p99 {q['p99']:.2f} max {q['max']:.2f}\n")
        for kk in (1, 2, 3):
            rr = r[f"router_{kk}"]
            if not rr["same"]:
                continue
            s_, d_ = rr["same"], rr["different"]
            sys.stdout.write(f"  router from {kk} correction(s): same layout min {s_['min']:.2f} p05 {s_['p05']:.2f} "
                             f"median {s_['median']:.2f} | other layouts median {d_['median']:.2f} "
                             f"p99 {d_['p99']:.2f} max {d_['max']:.2f}\n")
            sys.stdout.write("    threshold " + " ".join(f"{t['threshold']:>5.2f}" for t in rr["rates"]) + "\n")
            sys.stdout.write("    same      " + " ".join(f"{t['same_routed']:>5.2f}" for t in rr["rates"]) + "\n")
            sys.stdout.write("    different " + " ".join(f"{t['different_routed']:>5.3f}"[:5] for t in rr["rates"])
                             + f"   (default threshold {DEFAULT_THRESHOLD})\n")
            sys.stdout.write("    nearest strangers: " + ", ".join(f"{x['layout']} {x['score']:.2f}"
                                                              for x in rr["nearest_strangers"][:3]) + "\n")
    return res


if __name__ == "__main__":
    main()
