"""The review UI's pages and its small JSON API (all under /review, all behind a login).

    GET  /                               the sign-in page, or the queue when signed in
    GET  /review/login  POST /review/login  POST /review/logout
    GET  /review                         the queue (tabs: review, held, failed; filters; counts)
    GET  /review/next                    open the next order of the queue
    GET  /review/orders/{id}             the order beside its document
    GET  /review/orders/{id}/pages/{doc}/{page}.png
    POST /review/orders/{id}/approve | reject | hold | release | rerun     (forms, CSRF)
    POST /review/api/orders/{id}/edit    JSON edits -> corrections, re-validated state (CSRF header)
    GET  /review/api/orders/{id}/state   the order's current values, version and who changed it last
    POST /review/api/orders/{id}/presence   "I have it open" (every few seconds; {"leave": true} at the end)
    GET  /review/api/catalog/search      products for the picker
    GET  /review/api/customers/search    customers by name or id for the customer field
    GET  /review/dashboard               charts
    GET  /review/admin/{users,webhooks,settings,models} and their POSTs (admins only)
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timezone
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from intake.core.errors import IntakeError, NotFound
from intake.service import ledger
from intake.service.models import MessageRow, OrderRow
from intake.service.users import SESSION_MAX, Identity, authenticate, create_session, end_session
from review_ui import presence, work
from review_ui.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    clear_session_cookie,
    identity_of,
    new_login_token,
    require_user,
    safe_next,
    set_login_csrf,
    set_session_cookie,
)
from review_ui.dashboard import build_dashboard
from review_ui.editing import load_matched
from review_ui.problems import TITLES as PROBLEM_TITLES
from review_ui.views import HEADER_LABELS, LINE_COLUMNS, order_state, outcome_view, webhook_configured

__all__ = ["router", "start", "ui_of"]

router = APIRouter(prefix="/review", include_in_schema=False)
start = APIRouter(include_in_schema=False)  # the service's own address


@start.get("/")
def start_page(request: Request) -> RedirectResponse:
    """A newcomer opening the service's address lands on the review UI (its sign-in page first)."""
    return RedirectResponse("/review" if identity_of(request) is not None else "/review/login?next=%2Freview",
                            status_code=303)

User = Annotated[Identity, Depends(require_user)]
CsrfUser = Annotated[Identity, Depends(check_csrf)]


def ui_of(request: Request) -> Any:
    return request.app.state.review_ui


def actor_of(ident: Identity) -> str:
    """How a person appears in the history (the API's ``require_key`` uses the same form)."""
    return f"user:{ident.name}"


def _session(request: Request):  # type: ignore[no-untyped-def]
    sm = ui_of(request).services.pipeline.sm
    s = sm()
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


DB = Annotated[Session, Depends(_session)]


def render(request: Request, template: str, ctx: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    ui = ui_of(request)
    ident = identity_of(request)
    # the notices after a redirect travel in the URL: short, and always shown as text
    base = {"request": request, "me": ident, "csrf": ident.csrf if ident else "",
            "flash": request.query_params.get("msg", "")[:300], "flash_error": request.query_params.get("err", "")[:300]}
    html = ui.templates.get_template(template).render({**base, **ctx})
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def _redirect(url: str, **params: str) -> RedirectResponse:
    q = {k: v for k, v in params.items() if v}
    return RedirectResponse(url + (("&" if "?" in url else "?") + urlencode(q) if q else ""), status_code=303)


# --- login ---------------------------------------------------------------------------------

def _login_page(request: Request, nxt: str, error: str = "", name: str = "", status_code: int = 200) -> HTMLResponse:
    token = new_login_token()
    resp = render(request, "login.html", {"next": safe_next(nxt), "error": error, "name": name, "login_csrf": token},
                  status_code=status_code)
    set_login_csrf(resp, request, token)
    return resp


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:  # noqa: A002
    if identity_of(request) is not None:
        return _redirect(safe_next(next))
    return _login_page(request, next)


@router.post("/login")
def login(request: Request, name: Annotated[str, Form(max_length=200)] = "",
          password: Annotated[str, Form(max_length=1000)] = "", csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "") -> Response:  # noqa: A002
    ui = ui_of(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not csrf_token or not secrets.compare_digest(cookie.encode(), csrf_token.encode()):
        return _login_page(request, next, "Your sign-in form expired: please try again.", name, 403)
    client = request.client.host if request.client else "-"
    keys = (f"name:{name.strip().lower()}", f"ip:{client}")
    wait = ui.throttle.retry_after(*keys)
    if wait > 0:
        resp = _login_page(request, next, f"Too many failed attempts: try again in {int(wait) + 1} s.", name, 429)
        resp.headers["Retry-After"] = str(int(wait) + 1)
        return resp
    with ui.services.pipeline.sm() as s:
        user = authenticate(s, name, password)
        if user is None:
            s.commit()
            ui.throttle.fail(*keys)
            return _login_page(request, next, "Wrong name or password, or the account is disabled.", name, 401)
        token, _ident = create_session(s, user)
        s.commit()
    ui.throttle.clear(*keys)
    resp = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(resp, request, token, int(SESSION_MAX.total_seconds()))
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/review/login")
    return resp


@router.post("/logout")
def logout(request: Request, ident: CsrfUser) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    with ui_of(request).services.pipeline.sm() as s:
        end_session(s, token)
        s.commit()
    resp = RedirectResponse("/review/login?msg=" + "Signed+out.", status_code=303)
    clear_session_cookie(resp, request)
    return resp


# --- queue ---------------------------------------------------------------------------------

def _filters(tab: str = "review", customer: str = "", channel: str = "", problem: str = "", max_conf: str = "",
             sort: str = "oldest") -> work.QueueFilters:
    return work.QueueFilters(tab=tab, customer=customer, channel=channel, problem=problem, max_conf=max_conf,
                             sort=sort).normalized()


Filters = Annotated[work.QueueFilters, Depends(_filters)]


@router.get("")
def queue_page(request: Request, ident: User, db: DB, f: Filters) -> HTMLResponse:
    pipe = ui_of(request).services.pipeline
    view = work.queue(db, f, catalog=pipe.catalog(), blobs=pipe.blobs)
    return render(request, "queue.html", {"view": view, "f": f, "fq": urlencode(f.query()),
                                          "now": datetime.now(timezone.utc), "titles": PROBLEM_TITLES,
                                          "me_name": ident.name})


@router.get("/next")
def next_order(request: Request, ident: User, db: DB, f: Filters, after: str = "",
               msg: Annotated[str, Query(max_length=300)] = "") -> RedirectResponse:
    """Open the next order of this queue view; a message from the last decision travels along."""
    oid = work.next_order_id(db, f, after or None)
    q = urlencode(f.query())
    if oid is None:
        note = (msg + " " if msg else "") + "The queue is empty: nothing left to review."
        return _redirect("/review" + (f"?{q}" if q else ""), msg=note)
    return _redirect(f"/review/orders/{oid}" + (f"?{q}" if q else ""), msg=msg)


@router.get("/")
def queue_slash(ident: User) -> RedirectResponse:
    return RedirectResponse("/review", status_code=303)


# --- the order page --------------------------------------------------------------------------

def _doc_index(row: OrderRow) -> int:
    d = row.draft or {}
    try:
        return int(d.get("document_index", row.document_index) or 0)
    except (TypeError, ValueError):
        return 0


def _state_of(ui: Any, row: OrderRow) -> dict[str, Any] | None:
    if not (row.draft or row.matched):
        return None
    m = load_matched(row.record, row.matched, row.draft)
    return order_state(m, row.record or {}, list(row.problems or []), ui.services.settings.decision,
                       catalog=ui.services.pipeline.catalog(), today=ui.services.pipeline.today())


def _mail_meta(request: Request, msg: MessageRow | None, doc: Any) -> dict[str, str]:
    """From, To, Subject and Date of the mail the order came in (row, else the stored mail)."""
    if msg is None:
        return {}
    meta = dict(getattr(doc, "meta", {}) or {}) if doc is not None else {}
    hdr = work.mail_headers(ui_of(request).services.pipeline.blobs, msg)
    out = {k: (meta.get(k) or hdr.get(k) or "") for k in ("from", "to", "subject", "date")}
    out["from"] = msg.sender or out["from"]
    out["subject"] = msg.subject or out["subject"]
    return {k: str(v) for k, v in out.items() if v}


@router.get("/orders/{order_id}")
def order_page(request: Request, order_id: str, ident: User, db: DB, f: Filters) -> HTMLResponse:
    ui = ui_of(request)
    try:
        row = ledger.get_order(db, order_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=exc.reason) from None
    msg = db.get(MessageRow, row.message_id)
    order = ledger.to_order(db, row)
    doc_index = _doc_index(row)
    doc = ui.renderer.document(msg.sha256, msg.filename, doc_index) if msg is not None else None
    editable = row.status == "NEEDS_REVIEW" and bool(row.draft or row.matched)
    state = _state_of(ui, row)
    pages = [{"index": p.index if p.index is not None else i, "w": p.width, "h": p.height, "n": i}
             for i, p in enumerate(doc.pages)] if doc is not None else []
    text = None
    if doc is not None and (not pages or doc.kind.value in ("email_body", "text", "x12", "edifact")):
        text = doc.text
        if doc.kind.value == "x12" and text and "\n" not in text.strip():
            term = text.strip()[105] if len(text.strip()) > 105 else "~"
            text = text.replace(term, term + "\n")
        elif doc.kind.value == "edifact" and text and "\n" not in text.strip():
            text = text.replace("'", "'\n")
    held = work.is_held(db, row.id)
    if editable:
        presence.touch(db, row.id, ident.name)
    others = presence.viewers(db, row.id, besides=ident.name) if row.status == "NEEDS_REVIEW" else []
    page_data = {
        "order_id": row.id, "version": row.version, "editable": editable, "status": row.status,
        "me": ident.name, "heartbeat_s": presence.HEARTBEAT_S,
        "pages": [{"w": p["w"], "h": p["h"]} for p in pages],
        "sources": {} if state is None else {
            **{k: v["sources"] for k, v in state["header"].items() if v["sources"]},
            **{c["key"]: c["sources"] for ln in state["lines"] for c in ln["cells"].values() if c["sources"]},
        },
        "candidates": {} if state is None else {str(ln["index"]): ln["candidates"] for ln in state["lines"]},
        "blocking": 0 if state is None else state["blocking"],
        "next_url": "/review/next?" + urlencode({**f.query(), "after": row.id}),
        "others": [v.to_json() for v in others],
        "labels": {**{f"h.{k}": v for k, v in HEADER_LABELS.items()}, "h.customer_id": "Customer"},
    }
    return render(request, "order.html", {
        "row": row, "order": order, "msg": msg, "doc": doc, "doc_index": doc_index, "pages": pages, "text": text,
        "state": state, "editable": editable, "held": held, "header_labels": HEADER_LABELS,
        "line_columns": LINE_COLUMNS, "page_data": page_data, "fq": urlencode(f.query()),
        "cols": [c for c in LINE_COLUMNS if c[0] != "requested_date" or (state is not None and state["line_dates"])],
        "history": list(reversed(order.history)), "mail": _mail_meta(request, msg, doc),
        "threshold": ui.services.settings.decision.min_field_confidence, "others": others,
        "outcome": outcome_view(db, row, ui.services.settings),
    })


@router.get("/orders/{order_id}/pages/{doc_index}/{page}.png")
def page_image(request: Request, order_id: str, doc_index: Annotated[int, Path(ge=0, le=10_000)],
               page: Annotated[int, Path(ge=0, le=100_000)], ident: User, db: DB) -> FileResponse:
    row = ledger.get_order(db, order_id)
    msg = db.get(MessageRow, row.message_id)
    if msg is None or doc_index != _doc_index(row):
        raise NotFound("no such page")
    path = ui_of(request).renderer.page_png(msg.sha256, msg.filename, doc_index, page)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


# --- decisions (forms) -------------------------------------------------------------------------

def _back(order_id: str, fq: str, **params: str) -> RedirectResponse:
    return _redirect(f"/review/orders/{order_id}" + (f"?{fq}" if fq else ""), **params)


def _after(request: Request, order_id: str, fq: str, msg: str) -> RedirectResponse:
    """After a decision: straight to the next order of the same queue view."""
    return _redirect("/review/next?" + (fq + "&" if fq else "") + urlencode({"after": order_id}), msg=msg)


@router.post("/orders/{order_id}/approve")
def approve(request: Request, order_id: str, ident: CsrfUser, version: Annotated[int, Form()],
            reason: Annotated[str, Form()] = "", override: Annotated[str, Form()] = "",
            fq: Annotated[str, Form()] = "") -> RedirectResponse:
    ui = ui_of(request)
    try:
        with ui.services.pipeline.sm() as s:
            row, corrected = work.approve(s, ui.services.pipeline, order_id, version, actor_of(ident), reason=reason,
                                          override=override in ("1", "on", "true"))
            po = row.po_number
            s.commit()
    except IntakeError as exc:
        return _back(order_id, fq, err=exc.reason)
    if corrected:
        ui.services.pipeline.invalidate_catalog()  # learned cross-references take effect now
    name = f"PO {po}" if po else f"order {order_id[:8]}"
    if webhook_configured(ui.services.settings):
        note = f"Approved {name}: it is on its way to the order system."
    else:
        note = (f"Approved {name}. No webhook is configured, so it is not sent anywhere: it stays in the ledger as "
                "approved (GET /api/v1/orders).")
    return _after(request, order_id, fq, note)


@router.post("/orders/{order_id}/reject")
def reject(request: Request, order_id: str, ident: CsrfUser, reason: Annotated[str, Form()] = "",
           fq: Annotated[str, Form()] = "") -> RedirectResponse:
    ui = ui_of(request)
    try:
        with ui.services.pipeline.sm() as s:
            row = work.reject(s, order_id, actor_of(ident), reason)
            po = row.po_number
            s.commit()
    except IntakeError as exc:
        return _back(order_id, fq, err=exc.reason)
    return _after(request, order_id, fq, f"Rejected PO {po or order_id[:8]}.")


@router.post("/orders/{order_id}/hold")
def hold(request: Request, order_id: str, ident: CsrfUser, reason: Annotated[str, Form()] = "",
         fq: Annotated[str, Form()] = "") -> RedirectResponse:
    ui = ui_of(request)
    try:
        with ui.services.pipeline.sm() as s:
            work.hold(s, order_id, actor_of(ident), reason)
            s.commit()
    except IntakeError as exc:
        return _back(order_id, fq, err=exc.reason)
    return _after(request, order_id, fq, "Order put on hold: find it in the Held tab.")


@router.post("/orders/{order_id}/release")
def release(request: Request, order_id: str, ident: CsrfUser, fq: Annotated[str, Form()] = "") -> RedirectResponse:
    with ui_of(request).services.pipeline.sm() as s:
        work.release(s, order_id, actor_of(ident))
        s.commit()
    return _back(order_id, fq, msg="Released from hold: the order is back in the queue.")


@router.post("/orders/{order_id}/rerun")
def rerun(request: Request, order_id: str, ident: CsrfUser) -> RedirectResponse:
    ui = ui_of(request)
    try:
        ids = ui.services.pipeline.rerun(order_id, actor=actor_of(ident))
    except IntakeError as exc:
        return _back(order_id, "", err=exc.reason)
    if ui.services.workers is not None:
        for oid in ids:
            ui.services.workers.submit_order(oid)
    target = ids[0] if ids else order_id
    return _redirect(f"/review/orders/{target}", msg="Read again from the stored message.")


# --- JSON: edits and pickers ----------------------------------------------------------------------

def state_payload(request: Request, session: Session, row: OrderRow, me: str) -> dict[str, Any]:
    """What the order page needs after an edit or to catch up: values, problems, version, who."""
    ui = ui_of(request)
    state = _state_of(ui, row) or {}
    tpl = ui.templates
    macros = tpl.get_template("_order_parts.html").module
    html = {
        "problems": str(macros.problems_box(state, row.status == "NEEDS_REVIEW")) if state else "",
        "notes": {k: str(macros.field_note(v)) for k, v in (state.get("header") or {}).items()},
        "score": str(macros.score(state.get("score") or {})) if state else "",
    }
    others = presence.viewers(session, row.id, besides=me)
    return {"version": row.version, "status": row.status, "confidence": row.confidence, **state, "html": html,
            "last_change": presence.last_change(session, row.id), "others": [v.to_json() for v in others]}


@router.post("/api/orders/{order_id}/edit")
async def edit(request: Request, order_id: str, ident: CsrfUser) -> JSONResponse:
    """Apply edits ``{"version": N, "ops": [...]}``; answers the re-validated state.

    409 when someone saved the order since version N: the answer names who and when, and
    carries the order's current values, so the page can keep the typed value and say why.
    """
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "bad_request", "detail": "the body must be JSON"}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"error": "bad_request", "detail": "the body must be a JSON object"}, status_code=400)
    version = body.get("version")
    ops = body.get("ops")
    if not isinstance(version, int) or isinstance(version, bool):
        return JSONResponse({"error": "bad_request", "detail": "version (an integer) is required"}, status_code=400)
    from starlette.concurrency import run_in_threadpool

    ui = ui_of(request)

    def do() -> dict[str, Any]:
        with ui.services.pipeline.sm() as s:
            row, ev, changes = work.save_edits(s, ui.services.pipeline, order_id, version, ops, actor_of(ident))
            presence.touch(s, row.id, ident.name)
            out = {"changed": len(changes),
                   "corrections": [{"field": c.field, "old": c.old, "new": c.new, "op": c.data.get("op")}
                                   for c in changes],
                   **state_payload(request, s, row, ident.name)}
            s.commit()
            return out

    def stale(reason: str) -> dict[str, Any]:
        with ui.services.pipeline.sm() as s:
            row = ledger.get_order(s, order_id)
            return {"error": "stale_version", "detail": reason, **state_payload(request, s, row, ident.name)}

    try:
        out = await run_in_threadpool(do)
    except work.StaleVersion as exc:
        return JSONResponse(await run_in_threadpool(stale, exc.reason), status_code=409)
    except NotFound as exc:
        return JSONResponse({"error": exc.code, "detail": exc.reason}, status_code=404)
    except IntakeError as exc:
        return JSONResponse({"error": exc.code, "detail": exc.reason}, status_code=422)
    return JSONResponse(out)


@router.get("/api/orders/{order_id}/state")
def order_state_json(request: Request, order_id: str, ident: User, db: DB) -> JSONResponse:
    """The order as it is now (after someone else's save, say)."""
    try:
        row = ledger.get_order(db, order_id)
    except NotFound as exc:
        return JSONResponse({"error": exc.code, "detail": exc.reason}, status_code=404)
    return JSONResponse(state_payload(request, db, row, ident.name))


@router.post("/api/orders/{order_id}/presence")
async def order_presence(request: Request, order_id: str, ident: CsrfUser) -> JSONResponse:
    """The order page's heartbeat: marks the reader present; answers who else is, and the version."""
    try:
        body = await request.json()
    except ValueError:
        body = {}
    leaving = isinstance(body, dict) and body.get("leave") is True
    from starlette.concurrency import run_in_threadpool

    def do() -> dict[str, Any]:
        with ui_of(request).services.pipeline.sm() as s:
            row = ledger.get_order(s, order_id)
            if leaving:
                presence.leave(s, row.id, ident.name)
            elif row.status == "NEEDS_REVIEW":
                presence.touch(s, row.id, ident.name)
            out = {"version": row.version, "status": row.status,
                   "others": [v.to_json() for v in presence.viewers(s, row.id, besides=ident.name)],
                   "last_change": presence.last_change(s, row.id)}
            s.commit()
            return out

    try:
        return JSONResponse(await run_in_threadpool(do))
    except NotFound as exc:
        return JSONResponse({"error": exc.code, "detail": exc.reason}, status_code=404)


@router.get("/api/catalog/search")
def catalog_search(request: Request, ident: User, q: Annotated[str, Query(max_length=200)] = "",
                   limit: Annotated[int, Query(ge=1, le=25)] = 10) -> dict[str, Any]:
    """Products for the picker: an exact or prefix SKU first, then the best description matches."""
    catalog = ui_of(request).services.pipeline.catalog()
    q = q.strip()
    if not q or catalog is None or catalog.empty:
        return {"results": [], "masters_loaded": bool(catalog is not None and not catalog.empty)}
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    qu = q.upper()
    for p in catalog.all_products():
        sku = p.sku
        if sku.upper() == qu or (len(qu) >= 2 and sku.upper().startswith(qu)):
            out.append({"sku": sku, "description": p.description, "score": 1.0 if sku.upper() == qu else 0.9,
                        "via": "sku", "uom": p.uom})
            seen.add(sku)
            if len(out) >= limit:
                break
    out.sort(key=lambda c: -c["score"])
    for c in catalog.search(q, limit=limit):
        if c.sku in seen:
            continue
        p = catalog.product(c.sku)
        out.append({"sku": c.sku, "description": c.description, "score": c.score, "via": c.via,
                    "uom": p.uom if p is not None else None})
        seen.add(c.sku)
    return {"results": out[:limit], "masters_loaded": True}


@router.get("/api/customers/search")
def customer_search(request: Request, ident: User, q: Annotated[str, Query(max_length=200)] = "",
                    limit: Annotated[int, Query(ge=1, le=25)] = 10) -> dict[str, Any]:
    """Customers by id, name or alias (typos forgiven), best first."""
    catalog = ui_of(request).services.pipeline.catalog()
    if catalog is None or catalog.empty or not q.strip():
        return {"results": [], "masters_loaded": bool(catalog is not None and not catalog.empty)}
    return {"results": [{"customer_id": c.customer_id, "name": c.name, "score": score}
                        for c, score in catalog.search_customers(q, limit=limit)], "masters_loaded": True}


# --- dashboard --------------------------------------------------------------------------------

@router.get("/dashboard")
def dashboard(request: Request, ident: User, db: DB, days: Annotated[int, Query(ge=1, le=365)] = 14) -> HTMLResponse:
    data = build_dashboard(db, days=days, today=date.today())
    catalog = ui_of(request).services.pipeline.catalog()
    names = {c.customer_id: c.name for c in (catalog.all_customers() if catalog is not None else [])}
    return render(request, "dashboard.html", {"d": data, "days": days, "names": names})

