"""The CSR's loop in a real browser: Chromium (Debian's) driven by Playwright against a real
``intake serve`` process and a real webhook receiver.

Log in, open the queue, open the order with one key, correct a header field and a line, approve,
and see the signed webhook carry the corrected values. Screenshots are saved under
``artifacts/review_ui/`` (gitignored).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.intake.entry.test_serve import Receiver, _cli, _env, _start, _wait, free_port

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "review_ui"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]

# An X12 850 whose requested delivery date (DTM*002) is long past: it must go to review.
X12_PAST = (
    "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*SELLERCO       *261130*1200*U*00401*000000201*0*P*:~"
    "GS*PO*BUYERCO*SELLERCO*20261130*1200*201*X*004010~"
    "ST*850*0001~"
    "BEG*00*SA*PO-REVIEW-1**20261128~"
    "CUR*BY*USD~"
    "DTM*002*20200115~"
    "N1*BY*BUYER COMPANY INC~"
    "N1*ST*BUYER DC 4*92*0004~N3*12 DOCK ROAD~N4*TOLEDO*OH*43601~"
    "PO1*1*10*EA*2.5**VN*HX-1420~PID*F****HEX NUT 1/4-20 ZINC~"
    "PO1*2*4*BX*18**VN*WSH-0250~PID*F****FLAT WASHER 1/4 BOX OF 100~"
    "CTT*2~AMT*TT*97~"
    "SE*13*0001~GE*1*201~IEA*1*000000201~"
)


def _playwright():  # type: ignore[no-untyped-def]
    if not CHROMIUM.is_file():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (make install / apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed")
    return sync_playwright, expect


def test_csr_corrects_and_approves_in_a_browser(tmp_path: Path) -> None:
    # waits go through Playwright's own expect(): the page's CSP forbids evaluating strings
    sync_playwright, expect = _playwright()
    hook_port, port = free_port(), free_port()
    rec = Receiver(hook_port)
    env = _env(tmp_path, hook_port)
    added = _cli(env, "users", "add", "carla", "--role", "csr", "--password", "carla-secret-1")
    assert added.returncode == 0, added.stderr
    po_file = tmp_path / "po.edi"
    po_file.write_text(X12_PAST)
    ingested = _cli(env, "ingest", str(po_file))
    assert "NEEDS_REVIEW" in ingested.stdout and "in the past" in ingested.stdout, ingested.stdout + ingested.stderr
    order_id = ingested.stdout.split()[0]

    server = _start(env, port)
    base = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            page.goto(base + "/review")
            assert "/review/login" in page.url  # anonymous: sent to sign in
            page.fill("#name", "carla")
            page.fill("#password", "carla-secret-1")
            page.click("button[type=submit]")
            page.wait_for_url(base + "/review")
            assert page.locator("#tab-review .n").inner_text() == "1"
            assert "PO-REVIEW-1" in page.locator("#queue").inner_text()
            page.screenshot(path=str(ARTIFACTS / "queue.png"))

            page.keyboard.press("n")  # the next order opens with one key
            page.wait_for_url(f"**/review/orders/{order_id}*")
            expect(page.locator('#problems li.group[data-code="date_in_past"]')).to_contain_text("in the past")

            # correct the header: the requested date
            field = page.locator('input[data-key="h.requested_date"]')
            field.fill("2030-06-30")
            field.press("Enter")
            expect(page.locator('#problems li.group[data-code="date_in_past"]')).to_have_count(0)
            expect(page.locator("#order-version")).to_have_text("2")

            # correct a line: 10 -> 12 nuts
            qty = page.locator('input[data-key="l.0.quantity"]')
            assert qty.input_value() == "10"
            qty.fill("12")
            qty.press("Tab")
            expect(page.locator("#order-version")).to_have_text("3")
            # 12 x 2.50 no longer adds up to the printed total 97: validation says so as you edit
            expect(page.locator('#problems li.group[data-code="total_mismatch"]')).to_contain_text("does not match")
            total = page.locator('input[data-key="h.total"]')
            total.fill("102")
            total.press("Enter")
            expect(page.locator("#order-version")).to_have_text("4")
            expect(page.locator("#problems-box")).to_contain_text("ready to approve")
            page.screenshot(path=str(ARTIFACTS / "order.png"), full_page=True)

            page.keyboard.press("a")  # approve
            page.wait_for_url("**/review?**")
            assert "Approved PO PO-REVIEW-1" in page.locator(".flash.ok").inner_text()
            page.screenshot(path=str(ARTIFACTS / "after-approve.png"))
            assert not errors, errors
            browser.close()

        assert _wait(lambda: rec.received, 30), "no webhook within 30 s of the approval"
        (wid, payload), = rec.received
        assert payload["id"] == order_id and payload["po_number"] == "PO-REVIEW-1"
        assert payload["requested_date"] == "2030-06-30"
        assert payload["lines"][0]["quantity"] == 12 and payload["total"] == 102
        assert wid == f"msg_{order_id}_v4" and payload["version"] == 4
        history = payload["history"]
        corrections = [h for h in history if h["kind"] == "correction"]
        assert {c["data"]["field"] for c in corrections} == {"requested_date", "lines[1].quantity", "total"}
        assert all(c["actor"] == "user:carla" for c in corrections)
        approved = [h for h in history if h.get("to_status") == "APPROVED"]
        assert approved and approved[0]["actor"] == "user:carla"

        with sqlite3.connect(tmp_path / "data" / "intake.db") as db:
            (truth, source), = db.execute("SELECT truth, source FROM training_examples WHERE order_id = ?", (order_id,))
        truth = json.loads(truth)
        assert source == "review_ui" and truth["total"] == 102 and truth["lines"][0]["quantity"] == 12
        assert httpx.get(base + "/api/v1/orders").status_code == 401  # the API stays closed without a session
    finally:
        server.terminate()
        server.wait(10)
        rec.close()
        for png in ARTIFACTS.glob("*.png"):
            shutil.copy(png, tmp_path / png.name)
        time.sleep(0)
