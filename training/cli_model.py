"""``intake train`` and ``intake eval``: the model's commands, added to the lead's typer app by
``register(app)``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

__all__ = ["register", "train_command", "eval_command"]


def _emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def _fail(reason: str) -> None:
    sys.stderr.write("error: " + " ".join(str(reason).split()) + "\n")
    raise typer.Exit(1)


def train_command(
    config: Annotated[Optional[Path], typer.Option("--config", help="training/configs/NAME.json")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="write the model here instead of the registry")] = None,
) -> None:
    """Fine-tune the layout model on the synthetic corpus and the labelled corrections."""
    from intake.core.errors import IntakeError
    from training.finetune import main

    try:
        meta = main(config, out)
    except IntakeError as exc:
        _fail(exc.reason)
        return
    keys = ("version", "registered_version", "dataset_hash", "train_documents", "steps", "first_loss",
            "final_loss", "train_seconds", "calibration", "metrics_heldout_families")
    summary = {k: meta.get(k) for k in keys if k in meta}
    mh = summary.get("metrics_heldout_families")
    if isinstance(mh, dict):
        summary["metrics_heldout_families"] = {"header_f1": mh["header"]["f1"], "line_f1": mh["lines"]["f1"],
                                               "documents": mh["documents"]}
    summary["out"] = str(out) if out else None
    _emit(summary)


def eval_command(
    folder: Annotated[Path, typer.Argument(help="a folder of documents with .truth.json beside them")],
    as_json: Annotated[bool, typer.Option("--json", help="print the full metrics as JSON")] = False,
    model: Annotated[Optional[Path], typer.Option("--model", help="a model directory (default: the live one)")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="report folder (default: <data_dir>/reports/eval-<time>)")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="score only the first N documents")] = None,
    skip_trained: Annotated[bool, typer.Option("--skip-trained", help="leave out documents the model was trained on")] = False,
    leave_issuer_out: Annotated[bool, typer.Option(
        "--leave-issuer-out", help="score each issuer with a model and learned layouts fitted without it")] = False,
    split: Annotated[Optional[Path], typer.Option(
        "--split", help="issuer split file (default: bench/splits/realdocs_issuers.json; else the name's prefix)")] = None,
) -> None:
    """Score extraction on every document in FOLDER that has a truth file; write a report with charts."""
    from extractors.inference import LayoutExtractor
    from extractors.serving import default_model_dir
    from intake.core.errors import IntakeError
    from intake.core.settings import get_settings
    from training.evaluate import evaluate_dir, write_report

    if not folder.is_dir():
        _fail(f"{folder} is not a folder")
    if leave_issuer_out:
        _leave_issuer_out(folder, model, split, as_json, report)
        return
    try:
        settings = get_settings()
        path = model or default_model_dir(settings)
        ex = LayoutExtractor(path)
        skip = set(ex.loaded.meta.get("trained_on_files") or []) if skip_trained else set()
        scores = evaluate_dir(folder, ex.extract, limit=limit, progress=not as_json, skip=skip)
    except IntakeError as exc:
        _fail(exc.reason)
        return
    m = scores.metrics()
    m["model"] = {"path": str(path), "version": ex.version}
    m["folder"] = str(folder)
    m["per_document"] = scores.per_doc
    out = report or (Path(settings.data_dir) / "reports" / time.strftime("eval-%Y%m%d-%H%M%S"))
    files = write_report(m, out, title=folder.name)
    if as_json:
        _emit({**m, "report": [str(f) for f in files]})
        return
    lines = [f"{m['documents']} documents, {m['docs_per_second'] or 0:.2f} docs/s, model {ex.version}",
             f"header  P {m['header']['precision']:.3f}  R {m['header']['recall']:.3f}  F1 {m['header']['f1']:.3f}",
             f"lines   P {m['lines']['precision']:.3f}  R {m['lines']['recall']:.3f}  F1 {m['lines']['f1']:.3f}"
             f"  ({m['lines']['right']} right of {m['lines']['truth']} true, {m['lines']['predicted']} predicted)"]
    for k, v in m["fields"].items():
        lines.append(f"  {k:<15} P {v['precision']:.3f}  R {v['recall']:.3f}  F1 {v['f1']:.3f}  (n={v['support']})")
    lines.append(f"calibration ECE {m['calibration']['ece']:.3f} over {m['calibration']['n']} values")
    lines.append(f"report: {out}")
    sys.stdout.write("\n".join(lines) + "\n")


def _leave_issuer_out(folder: Path, model: Optional[Path], split: Optional[Path], as_json: bool,
                      report: Optional[Path]) -> None:
    """``intake eval --leave-issuer-out``: training/leave_issuer_out.py."""
    from extractors.inference import LayoutExtractor
    from extractors.serving import default_model_dir
    from intake.core.errors import IntakeError
    from intake.core.settings import get_settings
    from training.leave_issuer_out import (
        DEFAULT_SPLIT, IssuerSplit, extractor_scorer, format_report, leave_issuer_out, seen_files)

    try:
        settings = get_settings()
        path = model or default_model_dir(settings)
        sp = IssuerSplit.load(split if split is not None else (DEFAULT_SPLIT if DEFAULT_SPLIT.is_file() else None))
        ex = LayoutExtractor(path)
        seen: set[str] = set()
        hows = []
        for meta in ex.trained_meta():
            names, how = seen_files(meta, folder)
            seen |= names
            hows.append(how)
        r = leave_issuer_out(folder, extractor_scorer(ex.extract), sp, seen=seen, seen_how="; ".join(sorted(set(hows))),
                             layouts=ex.all_layouts(), progress=not as_json)
    except IntakeError as exc:
        _fail(exc.reason)
        return
    r["model"] = {"path": str(path), "version": ex.version}
    if report is not None:
        from training.evaluate import write_report

        write_report({**r["leave_issuer_out"], "protocol": r}, report, title=f"{folder.name} leave-issuer-out")
    if as_json:
        _emit(r)
        return
    sys.stdout.write(f"model {ex.version}\n" + format_report(r) + "\n")


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``eval`` to ``app``."""
    app.command("train")(train_command)
    app.command("eval")(eval_command)


if __name__ == "__main__":  # `python -m training.cli_model train|eval ...` until the lead's CLI has them
    _app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    register(_app)
    _app()
