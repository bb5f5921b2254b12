"""Ablation of the checks after the model: each named step of assembly switched off in turn,
scored leave-issuer-out (bench/eval.py's protocol) and on the held-out synthetic families.

    .venv/bin/python bench/ablation.py [--json] [--model DIR] [--folder DIR] [--split FILE]
                                       [--synth N] [--no-synth] [--only STEP,...]

For each check (extractors.assembly.CHECKS) it prints how much the figures change when the
check is left out: a positive delta means the check earns its place (the figure drops without
it), and which unseen issuers it helps or hurts (a check that helps one issuer only was likely
written for that issuer's documents). Reading and the model pass are cached (bench/_corpus.py),
so each run re-runs only the checks. Prints figures, asserts nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _figures(res: dict) -> dict:
    out: dict = {}
    rd = res.get("realdocs") or {}
    if "leave_issuer_out" in rd:
        lio = rd["leave_issuer_out"]
        out["lio_header_f1"] = lio["header"]["f1"]
        out["lio_line_f1"] = lio["lines"]["f1"]
        out["issuers"] = {k: (v["header_f1"], v["lines_right"]) for k, v in rd["issuers"].items() if not v["seen_by_model"]}
        seen = rd["seen_by_model"]
        out["seen_header_f1"] = seen["header"]["f1"] if seen["documents"] else None
        out["seen_line_f1"] = seen["lines"]["f1"] if seen["documents"] else None
    m = res.get("synth_heldout")
    if m:
        out["synth_header_f1"] = m["header"]["f1"]
        out["synth_line_f1"] = m["lines"]["f1"]
    return out


def main() -> None:
    from bench import _corpus
    from bench.eval import parser, run
    from extractors.assembly import CHECKS

    ap = parser(__doc__)
    ap.add_argument("--only", default="", help="comma-separated checks to ablate (default: all)")
    args = ap.parse_args()
    args.cache = args.cache or _corpus.DEFAULT_CACHE
    checks = [c for c in args.only.split(",") if c] or list(CHECKS)
    t0 = time.perf_counter()
    base = _figures(run(args))
    rows = []
    for c in checks:
        f = _figures(run(args, {"skip": (c,)}))
        row: dict = {"check": c}
        for k in ("lio_header_f1", "lio_line_f1", "seen_header_f1", "seen_line_f1", "synth_header_f1", "synth_line_f1"):
            if base.get(k) is not None and f.get(k) is not None:
                row[k] = round(base[k] - f[k], 4)  # what the check adds
        helped, hurt = [], []
        for iss, (h, lr) in (base.get("issuers") or {}).items():
            h2, lr2 = f["issuers"][iss]
            dh, dl = h - h2, lr - lr2
            if dh > 1e-9 or dl > 0:
                helped.append(f"{iss}({dh:+.2f}h,{dl:+d}l)")
            elif dh < -1e-9 or dl < 0:
                hurt.append(f"{iss}({dh:+.2f}h,{dl:+d}l)")
        row["helps"], row["hurts"] = helped, hurt
        rows.append(row)
    res = {"baseline": {k: v for k, v in base.items() if k != "issuers"}, "checks": rows,
           "seconds": round(time.perf_counter() - t0, 1)}
    if args.json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
        return
    b = res["baseline"]
    lines = [f"baseline: leave-issuer-out header F1 {b.get('lio_header_f1', float('nan')):.3f}, line F1 "
             f"{b.get('lio_line_f1', float('nan')):.3f}; held-out synthetic header F1 "
             f"{b.get('synth_header_f1', float('nan')):.3f}, line F1 {b.get('synth_line_f1', float('nan')):.3f}",
             "what each check adds (figure with it minus figure without it):",
             f"{'check':<26}{'LIO hdr':>9}{'LIO line':>9}{'seen hdr':>9}{'seen ln':>9}{'syn hdr':>9}{'syn line':>9}"
             "  unseen issuers helped / hurt"]

    def fmt(v: object) -> str:
        return f"{v:+.3f}" if isinstance(v, float) else "    -"

    for r in rows:
        lines.append(f"{r['check']:<26}{fmt(r.get('lio_header_f1')):>9}{fmt(r.get('lio_line_f1')):>9}"
                     f"{fmt(r.get('seen_header_f1')):>9}{fmt(r.get('seen_line_f1')):>9}"
                     f"{fmt(r.get('synth_header_f1')):>9}{fmt(r.get('synth_line_f1')):>9}"
                     f"  {' '.join(r['helps']) or '-'} / {' '.join(r['hurts']) or '-'}")
    lines.append(f"({res['seconds']} s)")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
