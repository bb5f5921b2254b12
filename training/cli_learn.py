"""The learning loop's commands, added to the typer app by ``register(app)``:

* ``intake learn FILE TRUTH.json``: record a corrected order for a document;
* ``intake train [--from-corrections]``: ``training.cli_model``'s ``train`` (a model from the
  synthetic corpus) or, with ``--from-corrections``, retraining from the live model;
* ``intake eval`` (``training.cli_model``'s, registered here with ``train``);
* ``intake model list | promote VERSION | rollback``;
* ``intake labelstudio export | import``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

__all__ = ["register", "learn_command", "train_command", "model_app", "labelstudio_app"]

model_app = typer.Typer(help="The model registry: list versions, promote one, roll back.", no_args_is_help=True)
labelstudio_app = typer.Typer(help="Label Studio as a second labelling path.", no_args_is_help=True)


def _emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def _fail(reason: str) -> None:
    sys.stderr.write("error: " + " ".join(str(reason).split()) + "\n")
    raise typer.Exit(1)


def _settings() -> Any:
    from intake.core.settings import get_settings

    s = get_settings()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    return s


def _sm(settings: Any) -> Any:
    from intake.service.db import make_engine, make_sessionmaker
    from intake.service.migrate import upgrade

    engine = make_engine(settings.db_url)
    upgrade(engine)
    return make_sessionmaker(engine)


def learn_command(
    file: Annotated[Path, typer.Argument(help="the document (PDF, spreadsheet, mail...)")],
    truth: Annotated[Path, typer.Argument(help="the corrected order, realdocs truth schema (JSON)")],
    customer: Annotated[Optional[str], typer.Option("--customer", help="the customer id the order belongs to")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Record the corrected order for a document as a labelled example (as a CSR's correction would)."""
    from intake.service.db import unit_of_work
    from intake.core.errors import IntakeError
    from training.learn import count_unused, learn_document, load_truth

    try:
        t = load_truth(truth)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise IntakeError(f"{file}: {exc.strerror or exc}") from exc
        s = _settings()
        with unit_of_work(_sm(s)) as session:
            row = learn_document(session, s, data, file.name, t, customer_id=customer, source="cli", actor="cli")
            res = {"example_id": row.id, "document": file.name, "sha256": row.document_sha256,
                   "document_index": row.document_index, "customer_id": row.customer_id,
                   "model_version": row.model_version, "values_found": row.values_found,
                   "values_total": row.values_total, "not_yet_trained_on": count_unused(session)}
    except IntakeError as exc:
        _fail(exc.reason)
        return
    if as_json:
        _emit(res)
        return
    sys.stdout.write(f"example {res['example_id']}: {res['values_found']} of {res['values_total']} values found on "
                     f"{file.name}; {res['not_yet_trained_on']} correction(s) not yet trained on "
                     "(`intake train --from-corrections`)\n")


def train_command(
    config: Annotated[Optional[Path], typer.Option("--config", help="training/configs/NAME.json (or a retraining config with --from-corrections)")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="write the model here instead of the registry")] = None,
    from_corrections: Annotated[bool, typer.Option("--from-corrections", help="fine-tune the live model on the corrections; promote it if not worse")] = False,
    steps: Annotated[Optional[int], typer.Option("--steps", help="with --from-corrections: training steps")] = None,
    no_promote: Annotated[bool, typer.Option("--no-promote", help="with --from-corrections: register the candidate only")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="with --from-corrections: print the full report as JSON")] = False,
) -> None:
    """Fine-tune the layout model (on the synthetic corpus, or from the corrections)."""
    if not from_corrections:
        from training.cli_model import train_command as base_train

        base_train(config=config, out=out)
        return
    from intake.core.errors import IntakeError
    from training.retrain import load_retrain_config, retrain

    try:
        cfg = load_retrain_config(config, steps=steps)
        rep = retrain(_settings(), cfg, promote=not no_promote,
                      log=(lambda m: sys.stderr.write(m + "\n")) if not as_json else None)
    except IntakeError as exc:
        _fail(exc.reason)
        return
    if as_json:
        _emit(rep.to_json())
        return
    sys.stdout.write(rep.format() + "\n")


@model_app.command("list")
def model_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every registered model version with its metrics; the live one is marked."""
    from training.registry import Registry

    s = _settings()
    reg = Registry(s.registry_dir)
    live = reg.live()
    rows = []
    for m in reg.versions():
        fz = m.get("metrics_frozen") or {}
        first = next(iter(fz.values()), None)
        mh = m.get("metrics_heldout_families") or {}
        rows.append({"version": m["version"], "live": m["version"] == live, "parent": m.get("parent"),
                     "kind": m.get("kind", "train"), "created_at": m.get("created_at"),
                     "dataset_hash": (m.get("dataset_hash") or "")[:16], "corrections": m.get("corrections"),
                     "frozen_header_f1": first["header_f1"] if first else None,
                     "frozen_line_f1": first["line_f1"] if first else None,
                     "heldout_line_f1": (mh.get("lines") or {}).get("f1"),
                     "promoted_by_gate": (m.get("gate") or {}).get("promoted"),
                     "fallback": ((m.get("router") or {}).get("fallback") or {}).get("version"),
                     "learned_layouts": len(m.get("learned_layouts") or [])})
    if as_json:
        _emit({"live": live, "versions": rows})
        return
    if not rows:
        sys.stdout.write(f"no model versions in {reg.root} (the packaged model is in use)\n")
        return
    for r in rows:
        f = (f"frozen F1 {r['frozen_header_f1']:.3f}/{r['frozen_line_f1']:.3f}" if r["frozen_header_f1"] is not None
             else "")
        sys.stdout.write(f"{'*' if r['live'] else ' '} {r['version']:<28} {r['kind']:<8} {r['created_at'] or '':<21} "
                         f"{('corrections ' + str(r['corrections'])) if r['corrections'] else '':<15} {f}"
                         + (f"  layouts learned: {r['learned_layouts']}" if r["learned_layouts"] else "")
                         + (f"  (other layouts: {r['fallback']})" if r["fallback"] else "") + "\n")


@model_app.command("promote")
def model_promote(version: str) -> None:
    """Make VERSION the live model (picked up by running services within seconds)."""
    from intake.core.errors import IntakeError
    from training.registry import Registry

    from training.retrain import ensure_baseline

    s = _settings()
    reg = Registry(s.registry_dir)
    try:
        reg.path(version)
        if s.model_dir is None:
            ensure_baseline(reg)  # so that `intake model rollback` can return to the packaged model
        reg.promote(version, reason="promoted by hand")
    except IntakeError as exc:
        _fail(exc.reason)
    sys.stdout.write(f"live model: {version}\n")


@model_app.command("rollback")
def model_rollback() -> None:
    """Make the previously live model live again."""
    from intake.core.errors import IntakeError
    from training.registry import Registry

    reg = Registry(_settings().registry_dir)
    try:
        v = reg.rollback()
    except IntakeError as exc:
        _fail(exc.reason)
        return
    sys.stdout.write(f"live model: {v}\n")


@labelstudio_app.command("export")
def ls_export(
    files: Annotated[list[Path], typer.Argument(help="documents to label")],
    url: Annotated[str, typer.Option("--url", envvar="INTAKE_LABEL_STUDIO_URL")] = "http://127.0.0.1:8080",
    token: Annotated[Optional[str], typer.Option("--token", envvar="INTAKE_LABEL_STUDIO_TOKEN")] = None,
    project: Annotated[str, typer.Option("--project", help="project title (created when missing)")] = "Order intake",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create or update a Label Studio project and add FILES as tasks with the model's pre-annotations."""
    from intake.core.errors import IntakeError
    from training.labelstudio import export_documents

    try:
        res = export_documents(_settings(), files, url=url, token=token or "", title=project)
    except IntakeError as exc:
        _fail(exc.reason)
        return
    if as_json:
        _emit(res)
    else:
        sys.stdout.write(f"project {res['project_id']} ({project}): {len(res['tasks'])} task(s) added; "
                         f"{res['pages']} page image(s) under {res['image_dir']}\n")


@labelstudio_app.command("import")
def ls_import(
    url: Annotated[str, typer.Option("--url", envvar="INTAKE_LABEL_STUDIO_URL")] = "http://127.0.0.1:8080",
    token: Annotated[Optional[str], typer.Option("--token", envvar="INTAKE_LABEL_STUDIO_TOKEN")] = None,
    project: Annotated[str, typer.Option("--project")] = "Order intake",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Pull finished annotations back as labelled examples."""
    from intake.core.errors import IntakeError
    from training.labelstudio import import_annotations

    try:
        res = import_annotations(_settings(), url=url, token=token or "", title=project)
    except IntakeError as exc:
        _fail(exc.reason)
        return
    if as_json:
        _emit(res)
    else:
        sys.stdout.write(f"{res['imported']} annotation(s) imported as labelled examples, "
                         f"{res['skipped']} already imported or unfinished\n")


def register(app: typer.Typer) -> None:
    """Add ``learn``, ``train`` (with ``--from-corrections``), ``eval``, ``model`` and ``labelstudio``."""
    from training.cli_model import eval_command

    app.command("learn")(learn_command)
    app.command("train")(train_command)
    app.command("eval")(eval_command)
    app.add_typer(model_app, name="model")
    app.add_typer(labelstudio_app, name="labelstudio")
