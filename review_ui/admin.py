"""Admin pages: users, webhooks (dead letters), decision thresholds and models.

Threshold changes apply at once to the running service (the pipeline reads
``settings.decision`` at every decision) and are saved to ``<data_dir>/decision.json``, which
the review UI applies at start, on top of the environment's values.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse

from intake.core.errors import IntakeError
from intake.core.settings import Decision, Settings
from intake.service import ledger, outbox
from intake.service.corrections import count_examples
from intake.service.users import ROLES, Identity, add_user, list_users, set_disabled, set_password, set_role
from review_ui.auth import check_csrf, require_admin
from review_ui.routes import DB, _redirect, render, ui_of
from training.registry import Registry

__all__ = ["router", "load_decision_overrides", "DECISION_FILE"]

log = logging.getLogger("review_ui.admin")
router = APIRouter(prefix="/review/admin", include_in_schema=False)
DECISION_FILE = "decision.json"

Admin = Annotated[Identity, Depends(require_admin)]


async def _csrf_admin(request: Request) -> Identity:
    ident = await check_csrf(request)
    return require_admin(request) and ident


CsrfAdmin = Annotated[Identity, Depends(_csrf_admin)]


def load_decision_overrides(settings: Settings) -> None:
    """Apply thresholds an admin saved (``<data_dir>/decision.json``) to ``settings.decision``."""
    p = settings.data_dir / DECISION_FILE
    if not p.is_file():
        return
    try:
        saved = json.loads(p.read_text(encoding="utf-8"))
        merged = {**settings.decision.model_dump(), **{k: v for k, v in saved.items() if k in Decision.model_fields}}
        settings.decision = Decision.model_validate(merged)
    except (ValueError, OSError) as exc:
        log.warning("ignoring %s: %s", p, exc)


# --- users ---------------------------------------------------------------------------------------

@router.get("/users")
def users_page(request: Request, ident: Admin, db: DB) -> HTMLResponse:
    return render(request, "admin_users.html", {"users": list_users(db), "roles": ROLES, "tab": "users"})


def _user_action(request: Request, fn: Any, msg: str) -> RedirectResponse:
    try:
        with ui_of(request).services.pipeline.sm() as s:
            fn(s)
            s.commit()
    except IntakeError as exc:
        return _redirect("/review/admin/users", err=exc.reason)
    return _redirect("/review/admin/users", msg=msg)


@router.post("/users")
def users_add(request: Request, ident: CsrfAdmin, name: Annotated[str, Form()] = "",
              role: Annotated[str, Form()] = "csr", password: Annotated[str, Form()] = "") -> RedirectResponse:
    return _user_action(request, lambda s: add_user(s, name, role, password), f"User {name} added.")


@router.post("/users/{name}/disable")
def users_disable(request: Request, name: str, ident: CsrfAdmin) -> RedirectResponse:
    if name == ident.name:
        return _redirect("/review/admin/users", err="You cannot disable yourself.")
    return _user_action(request, lambda s: set_disabled(s, name, True), f"User {name} disabled.")


@router.post("/users/{name}/enable")
def users_enable(request: Request, name: str, ident: CsrfAdmin) -> RedirectResponse:
    return _user_action(request, lambda s: set_disabled(s, name, False), f"User {name} enabled.")


@router.post("/users/{name}/password")
def users_password(request: Request, name: str, ident: CsrfAdmin,
                   password: Annotated[str, Form()] = "") -> RedirectResponse:
    return _user_action(request, lambda s: set_password(s, name, password), f"Password of {name} changed.")


@router.post("/users/{name}/role")
def users_role(request: Request, name: str, ident: CsrfAdmin, role: Annotated[str, Form()] = "") -> RedirectResponse:
    if name == ident.name and role != "admin":
        return _redirect("/review/admin/users", err="You cannot take away your own admin role.")
    return _user_action(request, lambda s: set_role(s, name, role), f"{name} is now {role}.")


# --- webhooks ------------------------------------------------------------------------------------

@router.get("/webhooks")
def webhooks_page(request: Request, ident: Admin, db: DB, status: str = "") -> HTMLResponse:
    status = status if status in ("pending", "sent", "dead") else ""
    rows = ledger.outbox_rows(db, status=status or None)
    rows = list(reversed(rows))[:300]
    counts: dict[str, int] = {}
    for r in ledger.outbox_rows(db):
        counts[r.status] = counts.get(r.status, 0) + 1
    settings = ui_of(request).services.settings
    return render(request, "admin_webhooks.html", {
        "rows": [outbox.outbox_json(r) for r in rows], "status": status, "counts": counts, "tab": "webhooks",
        "webhook_url": settings.webhook_url, "max_attempts": settings.webhook_max_attempts,
    })


@router.post("/webhooks/{outbox_id}/redrive")
def webhooks_redrive(request: Request, outbox_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)], ident: CsrfAdmin) -> RedirectResponse:
    try:
        with ui_of(request).services.pipeline.sm() as s:
            outbox.redrive(s, outbox_id, actor=f"user:{ident.name}")
            s.commit()
    except IntakeError as exc:
        return _redirect("/review/admin/webhooks", err=exc.reason)
    return _redirect("/review/admin/webhooks", msg=f"Delivery {outbox_id} is back in line.")


# --- thresholds ----------------------------------------------------------------------------------

_THRESHOLDS = {
    "min_field_confidence": "Lowest extraction confidence of a header field to approve on its own",
    "min_line_confidence": "Lowest extraction confidence of a line to approve on its own",
    "min_customer_score": "Lowest customer match score to approve on its own",
    "min_line_match_score": "Lowest product match score to approve on its own",
    "price_tolerance": "Relative difference from the expected price that is still fine",
    "amount_tolerance": "Absolute difference per line (quantity x price vs amount) that is still fine",
}


@router.get("/settings")
def settings_page(request: Request, ident: Admin) -> HTMLResponse:
    s = ui_of(request).services.settings
    return render(request, "admin_settings.html", {
        "values": s.decision.model_dump(), "labels": _THRESHOLDS, "tab": "settings",
        "file": str(s.data_dir / DECISION_FILE)})


@router.post("/settings")
async def settings_save(request: Request, ident: CsrfAdmin) -> RedirectResponse:
    form = await request.form()
    s = ui_of(request).services.settings
    new: dict[str, float] = {}
    for k in _THRESHOLDS:
        raw = form.get(k)
        if not isinstance(raw, str) or not raw.strip():
            continue
        try:
            v = float(raw.replace(",", "."))
        except ValueError:
            return _redirect("/review/admin/settings", err=f"{k}: {raw!r} is not a number")
        if not 0.0 <= v <= (1.0 if k.startswith("min_") or k == "price_tolerance" else 1000.0):
            return _redirect("/review/admin/settings", err=f"{k}: {v} is out of range")
        new[k] = v
    merged = Decision.model_validate({**s.decision.model_dump(), **new})
    p: Path = s.data_dir / DECISION_FILE
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged.model_dump(), indent=2), encoding="utf-8")
    tmp.replace(p)
    s.decision = merged  # the pipeline reads it at the next decision
    return _redirect("/review/admin/settings", msg="Thresholds saved; they apply to the next decisions.")


# --- models --------------------------------------------------------------------------------------

def _registry(settings: Settings) -> Any:
    return Registry(settings.registry_dir)


@router.get("/models")
def models_page(request: Request, ident: Admin) -> HTMLResponse:
    settings = ui_of(request).services.settings
    reg = _registry(settings)
    versions: list[dict[str, Any]] = []
    live = None
    error = ""
    if reg is not None:
        try:
            versions = list(reg.versions())
            live = reg.live()
        except Exception as exc:  # a half-written registry must not break the page
            error = f"{type(exc).__name__}: {exc}"
    examples = 0
    with ui_of(request).services.pipeline.sm() as s:
        examples = count_examples(s)
    return render(request, "admin_models.html", {
        "available": reg is not None, "versions": versions, "live": live, "error": error, "tab": "models",
        "registry_dir": str(settings.registry_dir), "examples": examples})


@router.post("/models/promote")
def models_promote(request: Request, ident: CsrfAdmin, version: Annotated[str, Form()] = "") -> RedirectResponse:
    reg = _registry(ui_of(request).services.settings)
    if reg is None:
        return _redirect("/review/admin/models", err="No model registry in this installation.")
    try:
        reg.promote(version, reason=f"promoted by {ident.name} in the review UI")
    except Exception as exc:
        return _redirect("/review/admin/models", err=f"{exc}")
    return _redirect("/review/admin/models", msg=f"Model {version} is live (restart the service to load it).")


@router.post("/models/rollback")
def models_rollback(request: Request, ident: CsrfAdmin) -> RedirectResponse:
    reg = _registry(ui_of(request).services.settings)
    if reg is None:
        return _redirect("/review/admin/models", err="No model registry in this installation.")
    try:
        v = reg.rollback()
    except Exception as exc:
        return _redirect("/review/admin/models", err=f"{exc}")
    return _redirect("/review/admin/models", msg=f"Rolled back: {v} is live (restart the service to load it).")
