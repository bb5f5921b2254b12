"""Every route refuses strangers; the queue, the edits and the decisions work over HTTP."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Mount

from intake.service import ledger
from intake.service.corrections import TrainingExampleRow
from intake.service.models import OrderEventRow
from tests.intake.dbutil import database_url
from tests.review_ui.conftest import PASSWORD, SECRET, ingest, login, make_app
from tests.review_ui.test_browser import X12_PAST

PUBLIC = {("GET", "/health"), ("GET", "/review/login"), ("POST", "/review/login")}


def all_routes(routes: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(full path, route) of every route, through included routers (FastAPI keeps them nested)."""
    out: list[tuple[str, Any]] = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            ctx = getattr(r, "include_context", None)
            out += all_routes(list(inner.routes), prefix + (getattr(ctx, "prefix", "") or ""))
        elif hasattr(r, "path"):
            out.append((prefix + r.path, r))
    return out


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


def test_every_route_refuses_anonymous_callers(app: Any, client: TestClient) -> None:
    order_id = ingest(app)
    with app.state.services.pipeline.sm() as s:
        message_id = ledger.get_order(s, order_id).message_id
    values = {"order_id": order_id, "message_id": message_id, "name": "ada", "doc_index": "0", "page": "0",
              "outbox_id": "1", "ack_id": "1"}
    walked = 0
    for full, route in all_routes(list(app.routes)):
        if isinstance(route, Mount):
            assert full == "/review/static"  # CSS, JS and an icon: no data behind it
            continue
        if not isinstance(route, APIRoute) and not hasattr(route, "methods"):
            continue
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            path = _fill(full, values)
            r = client.request(method, path)
            walked += 1
            if (method, full) in PUBLIC:
                assert r.status_code in (200, 403), (method, path, r.status_code)  # login without its token: 403
                assert "PO-REVIEW-1" not in r.text
                continue
            assert "PO-REVIEW-1" not in r.text and order_id not in r.text.replace(path, ""), (method, path)
            if r.status_code == 303:
                assert r.headers["location"].startswith("/review/login"), (method, path, r.headers["location"])
            else:
                assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
    assert walked >= 40  # the API, the review pages, the JSON endpoints and the admin pages
    # the static files are only the UI's own assets
    assert client.get("/review/static/review.css").status_code == 200
    assert client.get("/review/static/../app.py").status_code == 404


def test_queue_counts_filters_and_next(app: Any, client: TestClient) -> None:
    first = ingest(app)
    second = ingest(app, X12_PAST.replace("PO-REVIEW-1", "PO-REVIEW-2"), "b.edi")
    bad = ingest(app, "ISA*00*broken", "bad.edi")
    login(client)
    q = client.get("/review")
    assert q.status_code == 200
    assert re.search(r'id="tab-review">\s*<span class="n">2<', q.text)
    assert re.search(r'id="tab-failed">\s*<span class="n">1<', q.text)
    assert q.text.index("PO-REVIEW-1") < q.text.index("PO-REVIEW-2")  # oldest first by default
    newest = client.get("/review?sort=newest").text
    assert newest.index("PO-REVIEW-2") < newest.index("PO-REVIEW-1")
    assert "PO-REVIEW-1" not in client.get("/review?problem=unknown_sku").text
    assert "PO-REVIEW-1" in client.get("/review?problem=date_in_past").text
    assert "PO-REVIEW-1" not in client.get("/review?channel=imap").text
    failed = client.get("/review?tab=failed").text
    assert bad in failed and "PO-REVIEW-1" not in failed
    # the next order opens with one request: the oldest, then the one after it
    r = client.get("/review/next")
    assert r.status_code == 303 and r.headers["location"].startswith(f"/review/orders/{first}")
    r = client.get(f"/review/next?after={first}")
    assert r.headers["location"].startswith(f"/review/orders/{second}")
    page = client.get(f"/review/orders/{first}")
    assert page.status_code == 200 and "date_in_past" in page.text
    failed_page = client.get(f"/review/orders/{bad}")
    assert failed_page.status_code == 200 and "Why it failed" in failed_page.text  # a FAILED order shows its reason
    csrf = re.search(r'csrf-token" content="([^"]+)"', failed_page.text).group(1)  # type: ignore[union-attr]
    r = client.post(f"/review/orders/{bad}/rerun", data={"csrf_token": csrf})  # read again from the stored bytes
    assert r.status_code == 303 and r.headers["location"].startswith("/review/orders/")
    again = r.headers["location"].split("/review/orders/")[1].split("?")[0]
    assert again != bad
    with app.state.services.pipeline.sm() as s:
        assert ledger.get_order(s, bad).status == "REJECTED"  # superseded by the re-run
        assert ledger.get_order(s, again).status == "FAILED"  # the same bytes fail the same way


def _edit(client: TestClient, csrf: str, order_id: str, version: int, *ops: dict[str, Any]) -> Any:
    return client.post(f"/review/api/orders/{order_id}/edit", json={"version": version, "ops": list(ops)},
                       headers={"X-CSRF-Token": csrf})


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_edit_correct_approve_delivers_corrected_order(db: str, tmp_path: Path) -> None:
    from intake.service.db import unit_of_work
    from intake.core.settings import Settings
    from intake.service.users import add_user

    with database_url(db, tmp_path) as url:
        settings = Settings(data_dir=tmp_path / "data", database_url=url, webhook_url="http://127.0.0.1:9/hook",
                            webhook_secret=SECRET)
        app = make_app(settings)
        with unit_of_work(app.state.services.pipeline.sm) as s:
            add_user(s, "carla", "csr", PASSWORD)
        with TestClient(app, follow_redirects=False) as client:
            _edit_flow(app, client)
        app.state.services.pipeline.sm.kw["bind"].dispose()


def _edit_flow(app: Any, client: TestClient) -> None:
    oid = ingest(app)
    csrf = login(client)
    # header fix: the date is in the past
    r = _edit(client, csrf, oid, 1, {"op": "set", "field": "requested_date", "value": "2031-02-03"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 2 and body["changed"] == 1
    assert "date_in_past" not in {p["code"] for p in body["problems"]}
    # a stale version is refused, nothing changes
    r = _edit(client, csrf, oid, 1, {"op": "set", "field": "po_number", "value": "X"})
    assert r.status_code == 409
    # a bad value gets a one-line reason
    r = _edit(client, csrf, oid, 2, {"op": "set", "line": 0, "field": "quantity", "value": "a dozen"})
    assert r.status_code == 422 and "not a number" in r.json()["detail"]
    # lines: change, split, add, delete
    r = _edit(client, csrf, oid, 2, {"op": "set", "line": 0, "field": "quantity", "value": "12"},
              {"op": "split_line", "line": 1, "quantity": "1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 3 and len(body["lines"]) == 3
    assert [ln["cells"]["quantity"]["value"] for ln in body["lines"]] == ["12", "3", "1"]
    assert "total_mismatch" in {p["code"] for p in body["problems"]}  # 12 x 2.5 + 4 x 18 != 97
    r = _edit(client, csrf, oid, 3, {"op": "add_line"}, {"op": "delete_line", "line": 3},
              {"op": "set", "field": "total", "value": "102"}, {"op": "set", "line": 0, "field": "sku",
                                                                 "value": "NUT-14-20"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 4 and len(body["lines"]) == 3
    assert body["lines"][0]["product"]["sku"] == "NUT-14-20" and body["lines"][0]["product"]["via"] == "csr"
    assert not [p for p in body["problems"] if p["severity"] == "error"], body["problems"]

    # approve: the record the webhook carries is the corrected one
    r = client.post(f"/review/orders/{oid}/approve", data={"csrf_token": csrf, "version": "4"})
    assert r.status_code == 303 and "/review/next" in r.headers["location"], r.headers
    with app.state.services.pipeline.sm() as s:
        row = ledger.get_order(s, oid)
        assert row.status == "APPROVED" and row.version == 4
        (ob,) = ledger.outbox_rows(s, order_id=oid)
        payload = json.loads(ob.payload)
        assert ob.webhook_id == f"msg_{oid}_v4"
        assert payload["requested_date"] == "2031-02-03" and payload["total"] == 102
        assert [(ln["sku"], ln["quantity"]) for ln in payload["lines"]] == [("NUT-14-20", 12), ("WSH-0250", 3),
                                                                            ("WSH-0250", 1)]
        fields = [e.data["field"] for e in s.scalars(select(OrderEventRow).where(
            OrderEventRow.order_id == oid, OrderEventRow.kind == "correction").order_by(OrderEventRow.id))]
        assert fields == ["requested_date", "lines[1].quantity", "lines[2].quantity", "lines[4]", "lines[4]",
                          "total", "lines[1].sku"]
        (ex,) = s.scalars(select(TrainingExampleRow).where(TrainingExampleRow.order_id == oid))
        assert ex.source == "review_ui" and ex.actor == "user:carla" and ex.used_in_model is None
        assert ex.truth["total"] == 102 and [ln["quantity"] for ln in ex.truth["lines"]] == [12, 3, 1]
        assert ex.truth["lines"][0]["sku"] == "HX-1420"  # truth is what the document says, not our SKU
        assert set(ex.truth) == {"po_number", "order_date", "buyer", "supplier", "ship_to", "currency", "total",
                                 "lines"}
    # an approved order cannot be edited any more
    assert _edit(client, csrf, oid, 4, {"op": "set", "field": "total", "value": "1"}).status_code == 422


def test_approve_with_open_problems_needs_override_and_reject_needs_reason(app: Any, client: TestClient) -> None:
    oid = ingest(app)
    csrf = login(client)
    r = client.post(f"/review/orders/{oid}/approve", data={"csrf_token": csrf, "version": "1"})
    assert r.status_code == 303 and "err=" in r.headers["location"]  # date_in_past still open
    r = client.post(f"/review/orders/{oid}/reject", data={"csrf_token": csrf, "reason": "  "})
    assert "err=" in r.headers["location"]
    r = client.post(f"/review/orders/{oid}/hold", data={"csrf_token": csrf, "reason": "asked the buyer"})
    assert r.status_code == 303
    assert re.search(r'id="tab-held">\s*<span class="n">1<', client.get("/review").text)
    client.post(f"/review/orders/{oid}/release", data={"csrf_token": csrf})
    r = client.post(f"/review/orders/{oid}/approve", data={"csrf_token": csrf, "version": "1", "override": "1"})
    assert "err=" not in r.headers["location"]
    with app.state.services.pipeline.sm() as s:
        row = ledger.get_order(s, oid)
        assert row.status == "APPROVED"
        reasons = [h.reason for h in ledger.order_history(s, oid) if h.to_status == "APPROVED"]
        assert "despite 1 problem" in reasons[0]
        assert not s.scalars(select(TrainingExampleRow)).all()  # nothing was corrected: no example
    other = ingest(app, X12_PAST.replace("PO-REVIEW-1", "PO-REVIEW-9"), "c.edi")
    r = client.post(f"/review/orders/{other}/reject", data={"csrf_token": csrf, "reason": "customer cancelled"})
    assert "err=" not in r.headers["location"]
    with app.state.services.pipeline.sm() as s:
        assert ledger.get_order(s, other).status == "REJECTED"


def test_page_images_search_dashboard_and_admin(app: Any, client: TestClient) -> None:

    oid = ingest(app)
    login(client)
    dash = client.get("/review/dashboard")
    assert dash.status_code == 200 and "<svg" in dash.text and "Touchless" in dash.text
    assert client.get("/review/admin/users").status_code == 403  # a CSR is no admin
    assert client.post("/review/admin/users", data={"name": "x", "password": "y" * 9}).status_code == 403
    client.post("/review/logout", data={"csrf_token": client.get("/review").text.split('csrf-token" content="')[1]
                                        .split('"')[0]})
    csrf = login(client, "ada")
    users = client.get("/review/admin/users")
    assert users.status_code == 200 and "carla" in users.text
    r = client.post("/review/admin/users", data={"csrf_token": csrf, "name": "newbie", "role": "csr",
                                                 "password": "long-enough-1"})
    assert "msg=" in r.headers["location"]
    r = client.post("/review/admin/users/newbie/disable", data={"csrf_token": csrf})
    assert "msg=" in r.headers["location"]
    assert client.get("/review/admin/webhooks").status_code == 200
    assert client.get("/review/admin/models").status_code == 200
    r = client.post("/review/admin/settings", data={"csrf_token": csrf, "min_line_match_score": "0.8"})
    assert "msg=" in r.headers["location"]
    assert app.state.services.settings.decision.min_line_match_score == 0.8
    saved = json.loads((app.state.services.settings.data_dir / "decision.json").read_text())
    assert saved["min_line_match_score"] == 0.8
    assert client.get(f"/review/orders/{oid}").status_code == 200


def _oracle_extractor(truth: dict[str, Any]) -> Any:
    """Stands in for the layout model (not what these tests are about): the truth's PO number and
    lines, each PO number placed where its word is on the page, with a middling confidence."""
    from intake.core.domain import Document, Field, LineDraft, OrderDraft, SourceRef

    def extract(doc: Document) -> OrderDraft:
        po = str(truth["po_number"])
        src = [SourceRef(page=w.page, box=w.box) for w in doc.words if w.text.strip(":#") == po][:1]
        lines = [LineDraft(line_no=Field(value=ln["line_no"], confidence=0.7), sku=Field(value=ln["sku"], confidence=0.7),
                           description=Field(value=ln["description"], confidence=0.7),
                           quantity=Field(value=ln["quantity"], confidence=0.7),
                           unit_price=Field(value=ln["unit_price"], confidence=0.7)) for ln in truth["lines"]]
        return OrderDraft(po_number=Field(value=po, confidence=0.5, source=src), lines=lines, extractor="oracle")

    return extract


@pytest.mark.parametrize("fmt", ["pdf", "email"])
def test_document_pages_render_beside_fields_with_source_boxes(fmt: str, app: Any, client: TestClient,
                                                               tmp_path: Path) -> None:
    import io

    from PIL import Image

    from training.synth import generate

    (path,) = generate(1, tmp_path / "synth", seed=3, formats=[fmt])
    path = Path(path)
    truth = json.loads(Path(str(path) + ".truth.json").read_text())
    pipe = app.state.services.pipeline
    pipe.model_extract = _oracle_extractor(truth)
    res = pipe.ingest(path.read_bytes(), filename=path.name)
    (oid,) = pipe.process_message(res.message_id)
    login(client)
    page = client.get(f"/review/orders/{oid}")
    assert page.status_code == 200
    data = json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page.text,
                                re.S).group(1))  # type: ignore[union-attr]
    (src,) = data["sources"]["h.po_number"]
    w, h = data["pages"][src["page"]]["w"], data["pages"][src["page"]]["h"]
    x0, y0, x1, y1 = src["box"]
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h  # a box inside the page, in page units
    assert 'class="field low' in page.text  # the PO number read at 0.5 stands out
    doc_index = re.search(rf'/review/orders/{oid}/pages/(\d+)/0\.png', page.text).group(1)  # type: ignore[union-attr]
    img = client.get(f"/review/orders/{oid}/pages/{doc_index}/{src['page']}.png")
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    im = Image.open(io.BytesIO(img.content))
    # the image spans exactly the page, so the box scales onto it by proportion
    assert abs(im.size[0] / im.size[1] - w / h) < 0.02
    if fmt == "pdf":
        assert abs(im.size[0] - w * 100 / 72) <= 1  # 100 dpi
    cached = list((app.state.services.settings.data_dir / "pages").rglob(f"{doc_index}-{src['page']}.png"))
    assert cached, "page images are cached under <data_dir>/pages/<sha>/"
    # the word under the box is dark ink on the rendered page (the highlight lands on the value)
    sx, sy = im.size[0] / w, im.size[1] / h
    crop = im.convert("L").crop((int(x0 * sx), int(y0 * sy), int(x1 * sx) + 1, int(y1 * sy) + 1))
    assert crop.getextrema()[0] < 128  # the darkest pixel of the "L" crop
    assert client.get(f"/review/orders/{oid}/pages/{doc_index}/99.png").status_code == 404


def test_csr_product_pick_becomes_a_learned_cross_reference(app: Any, client: TestClient) -> None:
    from intake.service.masters import LearnedXrefRow, import_dir

    root = Path(__file__).resolve().parents[2]
    pipe = app.state.services.pipeline
    with pipe.sm() as s:
        import_dir(s, root / "fixtures" / "masters")
        s.commit()
    pipe.invalidate_catalog()
    oid = ingest(app, (root / "fixtures" / "orders" / "edi_x12_850_basic" / "input.edi").read_text(), "basic.edi")
    csrf = login(client)
    page = client.get(f"/review/orders/{oid}").text
    data = json.loads(re.search(r'id="page-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    cands = data["candidates"]["0"]
    assert len(cands) >= 2  # matching's top candidates come first in the picker
    found = client.get("/review/api/catalog/search", params={"q": "ballpoint pen black"}).json()["results"]
    assert found and found[0]["sku"] == "BP-BLK-12"
    assert client.get("/review/api/catalog/search", params={"q": "BP-BLK-12"}).json()["results"][0]["via"] == "sku"
    cust = client.get("/review/api/customers/search", params={"q": "northwind"}).json()["results"]
    assert cust[0]["customer_id"] == "CUST-1001"
    r = _edit(client, csrf, oid, 1, {"op": "set", "field": "customer_id", "value": "CUST-1001"},
              {"op": "set", "line": 0, "field": "sku", "value": "BP-BLK-12"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["header"]["h.customer_id"]["value"] == "CUST-1001"
    assert body["lines"][0]["product"]["sku"] == "BP-BLK-12" and body["lines"][0]["product"]["via"] == "csr"
    assert "unknown_customer" not in {p["code"] for p in body["problems"]}
    r = _edit(client, csrf, oid, 2, {"op": "set", "line": 0, "field": "sku", "value": "NO-SUCH-SKU"})
    assert r.status_code == 422 and "not in the catalog" in r.json()["detail"]
    r = client.post(f"/review/orders/{oid}/approve", data={"csrf_token": csrf, "version": "2", "override": "1"})
    assert "err=" not in r.headers["location"], r.headers["location"]
    with pipe.sm() as s:
        rows = s.query(LearnedXrefRow).all()
        assert [(x.customer_id, x.sku) for x in rows] == [("CUST-1001", "BP-BLK-12")]
        (ob,) = ledger.outbox_rows(s, order_id=oid)
        assert json.loads(ob.payload)["lines"][0]["sku"] == "BP-BLK-12"


# --- issue 18: what the pages and the JSON say ------------------------------------------------------

def test_the_service_address_opens_the_review_ui(app: Any, client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/review/login")
    login(client)
    r = client.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/review"


def test_a_date_typed_half_way_is_refused_and_leaves_no_correction(app: Any, client: TestClient) -> None:
    oid = ingest(app)
    csrf = login(client)
    for typed in ("0002-06-30", "0020-06-30", "2030-06"):
        r = _edit(client, csrf, oid, 1, {"op": "set", "field": "requested_date", "value": typed})
        assert r.status_code == 422 and "YYYY-MM-DD" in r.json()["detail"], r.text
    # the same value again is no correction either
    r = _edit(client, csrf, oid, 1, {"op": "set", "field": "requested_date", "value": "2020-01-15"})
    assert r.status_code == 200 and r.json()["changed"] == 0 and r.json()["version"] == 1
    with app.state.services.pipeline.sm() as s:
        assert not s.scalars(select(OrderEventRow).where(OrderEventRow.kind == "correction")).all()
        assert ledger.get_order(s, oid).version == 1


def test_a_refused_save_says_who_changed_the_order_and_what_it_holds_now(app: Any, client: TestClient) -> None:
    oid = ingest(app)
    csrf = login(client)
    assert _edit(client, csrf, oid, 1, {"op": "set", "field": "payment_terms", "value": "Net 30"}).status_code == 200
    r = _edit(client, csrf, oid, 1, {"op": "set", "field": "payment_terms", "value": "Net 45"})
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "stale_version" and body["version"] == 2
    assert body["last_change"]["actor"] == "carla" and body["last_change"]["field"] == "payment_terms"
    assert body["header"]["h.payment_terms"]["value"] == "Net 30"  # what the page must show beside the typed value
    state = client.get(f"/review/api/orders/{oid}/state").json()
    assert state["version"] == 2 and "problems" in state["html"]


def test_presence_shows_who_has_an_order_open_and_since_when(app: Any, client: TestClient, settings: Any) -> None:
    oid = ingest(app)
    login(client)
    assert client.get(f"/review/orders/{oid}").status_code == 200  # carla opens it
    with TestClient(app, follow_redirects=False) as other:
        csrf_ada = login(other, "ada")
        page = other.get(f"/review/orders/{oid}").text
        assert re.search(r"<b>carla</b> has had this order open since \d\d:\d\d", page)
        r = other.post(f"/review/api/orders/{oid}/presence", json={}, headers={"X-CSRF-Token": csrf_ada})
        assert [v["name"] for v in r.json()["others"]] == ["carla"] and r.json()["version"] == 1
        assert "open: carla" in other.get("/review").text
        carla_csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/review").text).group(1)  # type: ignore[union-attr]
        client.post(f"/review/api/orders/{oid}/presence", json={"leave": True}, headers={"X-CSRF-Token": carla_csrf})
        r = other.post(f"/review/api/orders/{oid}/presence", json={}, headers={"X-CSRF-Token": csrf_ada})
        assert r.json()["others"] == []


def test_approval_says_where_the_order_goes_with_and_without_a_webhook(tmp_path: Path, app: Any,
                                                                       client: TestClient) -> None:
    from intake.service.db import unit_of_work
    from intake.core.settings import Settings
    from intake.service.users import add_user

    oid = ingest(app)
    csrf = login(client)
    r = client.post(f"/review/orders/{oid}/approve", data={"csrf_token": csrf, "version": "1", "override": "1"})
    assert "on+its+way+to+the+order+system" in r.headers["location"]
    page = client.get(f"/review/orders/{oid}").text
    assert "Approved by carla" in page and "On its way to the order system" in page
    assert "ready to approve" not in page and 'id="approve"' not in page

    with database_url("sqlite", tmp_path / "nohook") as url:
        bare = make_app(Settings(data_dir=tmp_path / "nohook" / "data", database_url=url))
        with unit_of_work(bare.state.services.pipeline.sm) as s:
            add_user(s, "carla", "csr", PASSWORD)
        with TestClient(bare, follow_redirects=False) as c2:
            oid2 = ingest(bare)
            csrf2 = login(c2)
            r = c2.post(f"/review/orders/{oid2}/approve", data={"csrf_token": csrf2, "version": "1", "override": "1"})
            assert "No+webhook+is+configured" in r.headers["location"] and "on+its+way" not in r.headers["location"]
            page = c2.get(f"/review/orders/{oid2}").text
            assert "No webhook is configured" in page and "On its way" not in page
        bare.state.services.pipeline.sm.kw["bind"].dispose()


def test_customer_search_finds_names(app: Any, client: TestClient) -> None:
    from intake.service.masters import import_dir

    root = Path(__file__).resolve().parents[2]
    with app.state.services.pipeline.sm() as s:
        import_dir(s, root / "fixtures" / "masters")
        s.commit()
    app.state.services.pipeline.invalidate_catalog()
    login(client)
    r = client.get("/review/api/customers/search", params={"q": "harbor"})
    assert r.status_code == 200 and r.json()["results"][0]["name"] == "Harbor Machine Works LLC"
    assert client.get("/review/api/customers/search", params={"q": "Northwnd"}).json()["results"][0][
        "customer_id"] == "CUST-1001"
