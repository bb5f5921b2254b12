"""Benchmark the layout model: time per page (median, p95) and peak memory, on 2 threads.

    .venv/bin/python bench/extract.py [--json] [--model DIR] [--docs N] [--folder DIR]

Pages come from synthetic PDFs (generated into a temp folder) or from a folder of documents.
Model time is the layout model alone (tokenisation, windows, the int8 forward pass, the merge
and the checks after it); the checks (assembly, captions, learned layouts) are also timed on
their own. Reading the PDF is the readers' benchmark. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _cpu() -> str:
    """The machine, in words: CPU model and the cores this process may use."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model or 'unknown CPU'}, {len(os.sched_getaffinity(0))} cores available"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--model", type=Path, default=None, help="model directory (default: the live/default one)")
    ap.add_argument("--docs", type=int, default=12, help="synthetic PDFs to generate")
    ap.add_argument("--folder", type=Path, default=None, help="benchmark the documents in this folder instead")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from extractors.inference import LayoutExtractor
    from extractors.serving import default_model_dir
    from extractors.registry import read_bytes
    from intake.core.domain import Document, Page
    from training.synth import generate

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    path = args.model or default_model_dir()
    t0 = time.perf_counter()
    ex = LayoutExtractor(path)
    load_s = time.perf_counter() - t0
    if args.folder:
        files = [p for p in sorted(args.folder.iterdir()) if p.is_file() and not p.name.endswith(".json")]
    else:
        tmp = Path(tempfile.mkdtemp(prefix="bench-extract-"))
        files = generate(args.docs, tmp, seed=77, formats=["pdf"], progress=False)
    pages: list[Document] = []
    for f in files:
        try:
            docs = read_bytes(f.read_bytes(), f.name)
        except Exception:  # noqa: BLE001 - a benchmark skips what it cannot read
            continue
        for d in docs:
            for p in d.pages:
                if p.words:
                    pages.append(Document(kind=d.kind, name=d.name, pages=[Page(index=0, width=p.width, height=p.height,
                                                                                 words=[w.model_copy(update={"page": 0}) for w in p.words])]))
    if not pages:
        sys.stderr.write("no pages to benchmark\n")
        raise SystemExit(1)
    ex.extract(pages[0])  # warm-up
    times = []
    checks = []
    words = []
    for doc in pages:
        t = time.perf_counter()
        probs = ex.word_probs(doc)
        t1 = time.perf_counter()
        ex.extract(doc, probs=probs)  # the checks after the model: assembly, captions, layouts
        t2 = time.perf_counter()
        times.append((t2 - t) * 1000)
        checks.append((t2 - t1) * 1000)
        words.append(len(doc.pages[0].words))
    times.sort()
    checks.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res = {
        "model": str(path), "version": ex.version, "threads": args.threads, "pages": len(times),
        "words_per_page_median": statistics.median(words), "ms_per_page_median": round(statistics.median(times), 1),
        "ms_per_page_p95": round(p95, 1), "ms_per_page_max": round(times[-1], 1), "model_load_s": round(load_s, 2),
        "checks_ms_per_page_median": round(statistics.median(checks), 1),
        "checks_ms_per_page_p95": round(checks[min(len(checks) - 1, int(round(0.95 * (len(checks) - 1))))], 1),
        "checks_share_of_median": round(statistics.median(checks) / max(1e-9, statistics.median(times)), 3),
        "cpu": _cpu(),
        "peak_rss_mb": round(peak_mb, 1), "rss_before_load_mb": round(rss0 / 1024, 1),
    }
    if args.json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
    else:
        sys.stdout.write(
            f"{res['pages']} pages ({res['words_per_page_median']} words median), {args.threads} threads: "
            f"median {res['ms_per_page_median']} ms/page, p95 {res['ms_per_page_p95']} ms/page "
            f"(checks after the model: median {res['checks_ms_per_page_median']} ms, p95 {res['checks_ms_per_page_p95']} ms), "
            f"peak RSS {res['peak_rss_mb']} MB, load {res['model_load_s']} s\n")


if __name__ == "__main__":
    main()
