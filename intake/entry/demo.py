"""``intake demo``: the embedded setup with demo data, so a newcomer sees the whole loop.

- the ledger on SQLite under the data directory, migrated;
- the demo master data (fixtures/masters) imported when no master data is loaded;
- an API key (kept in ``<data>/demo-api-key.txt``) and, when no webhook URL is configured, a
  built-in receiver at ``/demo/webhooks`` that verifies every signature, so the loop closes;
- the committed sample orders (fixtures/orders/*/input.*) ingested once.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from collections import deque
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from extractors.edi import parse_edi, sniff_edi
from intake.core.domain import Channel
from intake.core.errors import IntakeError, NotFound
from intake.core.settings import Settings
from intake.entry.api.routes import Read
from intake.service import ledger
from intake.service.db import unit_of_work
from intake.service.masters import import_dir, is_empty
from intake.service.pipeline import Pipeline
from intake.service.users import add_user, get_user, set_password

__all__ = ["prepare_demo", "demo_router", "ROOT"]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"

_received: deque[dict[str, Any]] = deque(maxlen=200)


def _secret_file(settings: Settings, name: str, make: Any) -> str:
    p = settings.data_dir / name
    if p.is_file():
        return p.read_text().strip()
    value = make()
    p.write_text(value + "\n")
    os.chmod(p, 0o600)
    return value


def prepare_demo(settings: Settings, *, host: str, port: int) -> dict[str, Any]:
    """Make the data directory ready for a demo run; returns what to print."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not settings.webhook_url:
        settings.webhook_url = f"http://127.0.0.1:{port}/demo/webhooks"
        secret = _secret_file(settings, "demo-webhook-secret.txt",
                              lambda: "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode())
        from pydantic import SecretStr

        settings.webhook_secret = SecretStr(secret)
    pipe = Pipeline(settings)
    info: dict[str, Any] = {"url": f"http://{host}:{port}", "webhook_url": settings.webhook_url}
    key_file = settings.data_dir / "demo-api-key.txt"
    if key_file.is_file():
        key = key_file.read_text().strip()
    else:
        with unit_of_work(pipe.sm) as s:
            key = ledger.create_api_key(s, "demo")
        key_file.write_text(key + "\n")
        os.chmod(key_file, 0o600)
    info["api_key"] = key
    info.update(_demo_csr(settings, pipe, host=host, port=port))

    masters_dir = FIXTURES / "masters"
    if masters_dir.is_dir():
        with unit_of_work(pipe.sm) as s:
            if is_empty(s):
                import_dir(s, masters_dir)
                info["masters"] = str(masters_dir)
    marker = settings.data_dir / ".demo-ingested"
    if not marker.exists():
        n = 0
        for f in sorted((FIXTURES / "orders").glob("*/input.*")):
            data = f.read_bytes()
            res = pipe.ingest(data, filename=f.name, channel=Channel.demo, trusted_partner=_edi_partner(data))
            if not res.duplicate:
                pipe.process_message(res.message_id)
                n += 1
        marker.write_text(str(n))
        info["ingested"] = n
    return info


def _edi_partner(data: bytes) -> str | None:
    """The demo plays each EDI partner's own channel (its folder) for the partner's sample files."""
    if not sniff_edi(data):
        return None
    try:
        orders = parse_edi(data).orders
    except IntakeError:
        return None
    return orders[0].sender if orders else None


def _demo_csr(settings: Settings, pipe: Any, *, host: str, port: int) -> dict[str, str]:
    """Demo logins for the review UI: a CSR and an admin, each with its own random password (kept
    in ``<data>/demo-<name>-password.txt``, mode 600, and printed by the banner)."""
    passwords: dict[str, str] = {}
    with unit_of_work(pipe.sm) as s:
        for name in ("csr", "admin"):  # the admin also sees users, webhooks, thresholds and models
            fresh = not (settings.data_dir / f"demo-{name}-password.txt").is_file()
            passwords[name] = _secret_file(settings, f"demo-{name}-password.txt",
                                           lambda: "demo-" + secrets.token_urlsafe(12))
            try:
                get_user(s, name)
                if fresh:  # a data folder from before per-user passwords: the printed one must work
                    set_password(s, name, passwords[name])
            except NotFound:
                add_user(s, name, name, passwords[name])
    return {"review_url": f"http://{host}:{port}/review",
            "csr_login": f"csr / {passwords['csr']}", "admin_login": f"admin / {passwords['admin']}"}


def demo_router(settings: Settings) -> APIRouter:
    """A webhook receiver for the demo: verifies signatures and keeps the last deliveries."""
    from standardwebhooks.webhooks import Webhook

    router = APIRouter(prefix="/demo", tags=["demo"])

    @router.post("/webhooks", include_in_schema=False)
    async def receive(request: Request) -> JSONResponse:
        body = (await request.body()).decode()
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        try:
            payload = Webhook(secret).verify(body, dict(request.headers))
        except Exception as exc:
            return JSONResponse({"error": "bad_signature", "detail": str(exc)}, status_code=400)
        _received.appendleft({"webhook_id": request.headers.get("webhook-id"), "order_id": payload.get("id"),
                              "po_number": payload.get("po_number"), "lines": len(payload.get("lines", []))})
        return JSONResponse({"ok": True})

    @router.get("/webhooks", dependencies=[Read])
    def received() -> dict[str, Any]:
        """What the demo receiver got (signatures verified)."""
        return {"received": list(_received)}

    return router


def print_banner(info: dict[str, Any]) -> None:
    w = sys.stdout.write
    w("\n=== order intake demo ===\n")
    w(f"  service      {info['url']}   (health: {info['url']}/health)\n")
    w(f"  API docs     {info['url']}/docs   (send the API key as 'Authorization: Bearer <key>')\n")
    w(f"  API key      {info['api_key']}\n")
    w(f"  orders       curl -H 'Authorization: Bearer {info['api_key']}' {info['url']}/api/v1/orders\n")
    w(f"  upload       curl -H 'Authorization: Bearer {info['api_key']}' -F file=@fixtures/orders/<case>/input.edi "
      f"{info['url']}/api/v1/messages\n")
    w(f"  webhooks     {info['webhook_url']}  (received: GET {info['url']}/demo/webhooks)\n")
    for k in ("review_url", "csr_login", "admin_login"):
        if k in info:
            w(f"  {k:<12} {info[k]}\n")
    if info.get("ingested") is not None:
        w(f"  demo orders  {info['ingested']} sample file(s) ingested from fixtures/orders\n")
    w("\n")
    sys.stdout.flush()
