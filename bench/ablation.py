"""Ablation of the checks after the model: each named step of assembly switched off in turn,
scored leave-issuer-out (bench/eval.py's protocol) and on the held-out synthetic families.

    .venv/bin/python bench/ablation.py [--json] [--model DIR] [--folder DIR] [--split FILE]
                                       [--synth N] [--no-synth] [--only STEP,...]

For each check (extractors.assembly.CHECKS) it prints how much the figures change when the
check is left out: a positive delta means the check earns its place (the figure drops without
it), and which unseen issuers it helps or hurts. A check whose whole gain is on one issuer was
likely written for that issuer's documents: the *conservative* leave-issuer-out figure reads each
issuer without the checks that help it alone. Reading and the model pass are cached
(bench/_corpus.py), so each run re-runs only the checks. Prints figures, asserts nothing.
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
        out["issuers"] = {k: (v["header_f1"], v["line_f1"]) for k, v in rd["issuers"].items() if not v["seen_by_model"]}
        out["lio_ece"] = lio["calibration"]["ece"]
        seen = rd["seen_by_model"]
        out["seen_header_f1"] = seen["header"]["f1"] if seen["documents"] else None
        out["seen_line_f1"] = seen["lines"]["f1"] if seen["documents"] else None
    m = res.get("synth_heldout")
    if m:
        out["synth_header_f1"] = m["header"]["f1"]
        out["synth_line_f1"] = m["lines"]["f1"]
        out["synth_ece"] = m["calibration"]["ece"]
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
        for k in ("lio_header_f1", "lio_line_f1", "seen_header_f1", "seen_line_f1", "synth_header_f1", "synth_line_f1",
                  "lio_ece", "synth_ece"):
            if base.get(k) is not None and f.get(k) is not None:
                row[k] = round(base[k] - f[k], 4)  # what the check adds (for ECE: a positive delta is worse)
        helped, hurt = [], []
        for iss, (h, lf) in (base.get("issuers") or {}).items():
            h2, lf2 = f["issuers"][iss]
            dh, dl = h - h2, lf - lf2
            if dh > 1e-9 or dl > 1e-9:
                helped.append(iss)
            if dh < -1e-9 or dl < -1e-9:
                hurt.append(iss)
        row["helps"], row["hurts"] = helped, hurt
        rows.append(row)
    # Conservative leave-issuer-out: a check whose whole gain is on one unseen issuer (nothing on
    # other issuers, the seen ones or the synthetic families) was likely written for that issuer's
    # documents; it is left out while that issuer is read.
    tol = 1e-9
    single: dict[str, list[str]] = {}
    for r in rows:
        general = any(r.get(k, 0) > tol for k in ("seen_header_f1", "seen_line_f1", "synth_header_f1", "synth_line_f1"))
        if len(r["helps"]) == 1 and not general:
            single.setdefault(r["helps"][0], []).append(r["check"])
    cons = _figures(run(args, skip_for=single)) if single else base
    res = {"baseline": {k: v for k, v in base.items() if k != "issuers"}, "checks": rows,
           "conservative": {"lio_header_f1": cons.get("lio_header_f1"), "lio_line_f1": cons.get("lio_line_f1"),
                            "left_out_for": single},
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
             f"{'syn ECE':>9}  unseen issuers helped / hurt"]

    def fmt(v: object) -> str:
        return f"{v:+.3f}" if isinstance(v, float) else "    -"

    for r in rows:
        lines.append(f"{r['check']:<26}{fmt(r.get('lio_header_f1')):>9}{fmt(r.get('lio_line_f1')):>9}"
                     f"{fmt(r.get('seen_header_f1')):>9}{fmt(r.get('seen_line_f1')):>9}"
                     f"{fmt(r.get('synth_header_f1')):>9}{fmt(r.get('synth_line_f1')):>9}{fmt(r.get('synth_ece')):>9}"
                     f"  {' '.join(r['helps']) or '-'} / {' '.join(r['hurts']) or '-'}")
    c = res["conservative"]
    lines.append(f"conservative leave-issuer-out (each issuer read without the checks that help it alone): header F1 "
                 f"{c['lio_header_f1']:.3f}, line F1 {c['lio_line_f1']:.3f}; left out: "
                 + ("; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(c["left_out_for"].items())) or "none"))
    lines.append(f"({res['seconds']} s)")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
