"""The API docs in a real browser (Debian's Chromium via Playwright) against a real `intake serve`:
an admin signed in to the review UI opens /docs, the Swagger UI renders the API, and not one
request leaves this server (its files come from a pinned PyPI package, not a CDN)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.intake.entry.test_serve import _cli, _env, _start, free_port
from tests.review_ui.test_browser import CHROMIUM, LAUNCH_ARGS, _playwright

pytestmark = pytest.mark.slow


def test_the_swagger_ui_renders_from_this_server_only(tmp_path: Path) -> None:
    sync_playwright, expect = _playwright()
    port = free_port()
    env = _env(tmp_path, free_port())
    added = _cli(env, "users", "add", "ada", "--role", "admin", "--password", "ada-secret-12")
    assert added.returncode == 0, added.stderr
    server = _start(env, port)
    base = f"http://127.0.0.1:{port}"
    hosts: set[str] = set()
    errors: list[str] = []
    failed: list[tuple[int, str]] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
            page = browser.new_page()
            page.on("request", lambda r: hosts.add(urlparse(r.url).netloc) if r.url.startswith("http") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error"
                    and not m.text.startswith("Failed to load resource") else None)  # (responses: below)
            page.on("response", lambda r: failed.append((r.status, urlparse(r.url).path)) if r.status >= 400 else None)
            page.goto(base + "/docs")
            assert page.locator("body").inner_text().strip().startswith("{")  # 401 JSON: not signed in
            page.goto(base + "/review/login?next=/review")
            page.fill("#name", "ada")
            page.fill("#password", "ada-secret-12")
            page.click("button[type=submit]")
            page.wait_for_url(base + "/review")
            page.goto(base + "/docs")
            expect(page.locator(".swagger-ui .info .title")).to_contain_text("Order intake")
            expect(page.locator(".swagger-ui")).to_contain_text("/api/v1/messages")
            browser.close()
    finally:
        server.terminate()
        server.wait(15)
    assert hosts == {f"127.0.0.1:{port}"}, hosts  # nothing from a CDN
    assert not errors, errors  # no CSP violation, no script error
    # only the page asked for before signing in was refused (and the browser's own favicon guess)
    assert set(failed) <= {(401, "/docs"), (404, "/favicon.ico")} and (401, "/docs") in failed, failed
