"""Reader benchmark: pages per second, median and p95 ms per page, and peak memory for each
format, on the committed fixtures (fixtures/orders/read_* and other fixtures' inputs) and on
../shared/realdocs when present. One thread: set before numpy/pdfium/tesseract start.

    python bench/readers.py [--json] [--no-ocr] [--repeat N]
"""

from __future__ import annotations

import os

# one thread everywhere (Tesseract uses OpenMP, BLAS libraries their own pools)
for _var in ("OMP_THREAD_LIMIT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.registry import read_bytes, sniff  # noqa: E402
from intake.core.errors import ReadError  # noqa: E402
from intake.core.settings import Limits  # noqa: E402

REALDOCS = Path(os.environ.get("INTAKE_REALDOCS", ROOT.parent / "shared" / "realdocs"))


def _files() -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for p in sorted((ROOT / "fixtures" / "orders").rglob("input.*")):
        out.append(("fixtures", p))
    if REALDOCS.is_dir():
        for p in sorted(REALDOCS.rglob("*")):
            if p.is_file() and not p.name.endswith((".json", ".md", ".tsv")):
                out.append(("realdocs", p))
    return out


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def run(no_ocr: bool, repeat: int) -> dict[str, object]:
    """Read every file: once under tracemalloc (warm-up and peak memory), then ``repeat``
    timed reads without it (tracing slows Python several times). OCR documents are timed
    once: Tesseract's time is outside Python and dominates."""
    limits = Limits()
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    refused: list[str] = []
    for source, path in _files():
        data = path.read_bytes()
        try:
            kind = sniff(data)
        except ReadError as exc:
            refused.append(f"{path.name}: {exc}")
            continue
        tracemalloc.start()
        t0 = time.perf_counter()
        try:
            docs = read_bytes(data, filename=path.name, limits=limits)
        except ReadError as exc:
            tracemalloc.stop()
            refused.append(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        first = time.perf_counter() - t0
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        ocr = any(d.meta.get("ocr_pages") for d in docs)
        if no_ocr and ocr:
            continue
        times = [first] if ocr else []
        for _ in range(0 if ocr else repeat):
            t0 = time.perf_counter()
            read_bytes(data, filename=path.name, limits=limits)
            times.append(time.perf_counter() - t0)
        label = kind + ("+ocr" if ocr else "")
        n_pages = max(1, sum(len(d.pages) for d in docs))
        g = groups.setdefault((source, label), {"page_ms": [], "secs": [], "pages": [], "peak": []})
        for dt in times:
            g["page_ms"].extend([1000 * dt / n_pages] * n_pages)
            g["secs"].append(dt)
            g["pages"].append(n_pages)
        g["peak"].append(peak / 2**20)
    rows = []
    for (source, label), g in sorted(groups.items()):
        total_s = sum(g["secs"])
        rows.append({
            "source": source,
            "format": label,
            "files": len(g["peak"]),
            "pages": int(sum(g["pages"]) * len(g["peak"]) / max(len(g["secs"]), 1)),
            "pages_per_s": round(sum(g["pages"]) / total_s, 1) if total_s else None,
            "median_ms_per_page": round(statistics.median(g["page_ms"]), 2),
            "p95_ms_per_page": round(_pct(g["page_ms"], 0.95), 2),
            "peak_heap_mb": round(max(g["peak"]), 1),
        })
    return {
        "rows": rows,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "refused": refused,
        "realdocs": str(REALDOCS) if REALDOCS.is_dir() else None,
        "threads": 1,
        "repeat": repeat,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--no-ocr", action="store_true", help="leave out documents that need OCR")
    ap.add_argument("--repeat", type=int, default=3, help="reads per file (OCR files are slow: use 1)")
    args = ap.parse_args(argv)
    if not REALDOCS.is_dir():
        sys.stderr.write(f"realdocs not found at {REALDOCS}: measuring the committed fixtures only\n")
    res = run(args.no_ocr, max(1, args.repeat))
    if args.json:
        sys.stdout.write(json.dumps(res, indent=1) + "\n")
        return 0
    out = [f"{'source':9} {'format':10} {'files':>5} {'pages':>5} {'pages/s':>8} {'median ms':>10} {'p95 ms':>9} {'peak MB':>8}"]
    for r in res["rows"]:  # type: ignore[union-attr]
        out.append(
            f"{r['source']:9} {r['format']:10} {r['files']:>5} {r['pages']:>5} {r['pages_per_s']!s:>8} "
            f"{r['median_ms_per_page']:>10} {r['p95_ms_per_page']:>9} {r['peak_heap_mb']:>8}"
        )
    out.append(f"peak MB: Python heap of one read (tracemalloc); max RSS {res['max_rss_mb']} MB; one thread")
    for line in res["refused"]:  # type: ignore[union-attr]
        out.append(f"refused: {line}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
