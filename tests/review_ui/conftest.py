"""Fixtures of the review-UI tests: an app in-process over a fresh ledger, users, a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from intake.entry.api.app import create_app
from intake.service.db import unit_of_work
from intake.core.domain import Channel
from intake.core.settings import Settings
from intake.service.users import add_user
from tests.intake.dbutil import database_url
from tests.review_ui.test_browser import X12_PAST

SECRET = "whsec_" + "cmV2aWV3LXVpLXRlc3Qtc2VjcmV0LTEyMzQ1Njc4"
PASSWORD = "correct-horse-1"


def make_app(settings: Settings) -> Any:
    return create_app(settings, start_workers=False)


@pytest.fixture(params=["sqlite"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    with database_url(request.param, tmp_path) as url:
        yield Settings(data_dir=tmp_path / "data", database_url=url, webhook_url="http://127.0.0.1:9/hook",
                       webhook_secret=SECRET)


@pytest.fixture
def app(settings: Settings) -> Any:
    application = make_app(settings)
    with unit_of_work(application.state.services.pipeline.sm) as s:
        add_user(s, "carla", "csr", PASSWORD)
        add_user(s, "ada", "admin", PASSWORD)
    return application


def ingest(app: Any, text: str = X12_PAST, name: str = "po.edi") -> str:
    """Store and process one document; returns the id of its (first) order."""
    pipe = app.state.services.pipeline
    res = pipe.ingest(text.encode(), filename=name, channel=Channel.upload)
    ids = pipe.process_message(res.message_id)
    return ids[0]


def login(client: TestClient, name: str = "carla", password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token (from the page's meta tag)."""
    page = client.get("/review/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/review/login", data={"name": name, "password": password, "csrf_token": token, "next": "/review"})
    assert r.status_code == 303 and r.headers["location"] == "/review", r.text
    q = client.get("/review")
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', q.text).group(1)  # type: ignore[union-attr]


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c
