"""`intake serve` as a real process: upload, signed webhook within 30 s, kill -9 and restart."""

from __future__ import annotations

import base64
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import REALDOCS
from tests.intake.service.test_pipeline import X12_850

SECRET = "whsec_" + base64.b64encode(b"serve-test-secret-0123456789abcd").decode()
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A real HTTP webhook receiver that verifies Standard Webhooks signatures."""

    def __init__(self, port: int) -> None:
        self.port, self.received, self.bad = port, [], 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                try:
                    payload = Webhook(SECRET).verify(body, {k.lower(): v for k, v in self.headers.items()})
                except Exception:
                    outer.bad += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                outer.received.append((self.headers["webhook-id"], payload))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _env(tmp_path: Path, hook_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(INTAKE_DATA_DIR=str(tmp_path / "data"), INTAKE_WEBHOOK_URL=f"http://127.0.0.1:{hook_port}/hook",
               INTAKE_WEBHOOK_SECRET=SECRET, INTAKE_WEBHOOK_BACKOFF_BASE_S="0.2", INTAKE_WEBHOOK_BACKOFF_MAX_S="1",
               INTAKE_WEBHOOK_MAX_ATTEMPTS="1000", INTAKE_POLL_INTERVAL_S="0.2", HF_HUB_OFFLINE="1")
    env.pop("INTAKE_DATABASE_URL", None)
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "intake", *args], env=env, capture_output=True, text=True, timeout=120)


def _start(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    p = subprocess.Popen([sys.executable, "-m", "intake", "serve", "--port", str(port)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return p
        except httpx.HTTPError:
            pass
        if p.poll() is not None:
            raise RuntimeError("intake serve exited early")
        time.sleep(0.2)
    p.kill()
    raise RuntimeError("intake serve did not come up")


def _wait(cond, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return False


def _sample_850() -> tuple[bytes, str]:
    f = REALDOCS / "edi_x12" / "brianhughes_sample_850.edi"
    if f.is_file():
        return f.read_bytes(), json.loads((REALDOCS / "edi_x12" / "brianhughes_sample_850.edi.truth.json").read_text())["po_number"]
    return X12_850.encode(), "PO-77001"


def test_serve_delivers_a_signed_webhook_and_refuses_anonymous(tmp_path: Path) -> None:
    hook_port, port = free_port(), free_port()
    rec = Receiver(hook_port)
    env = _env(tmp_path, hook_port)
    created = _cli(env, "apikey", "create", "ci")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    server = _start(env, port)
    try:
        data, po = _sample_850()
        anon = httpx.post(f"http://127.0.0.1:{port}/api/v1/messages", files={"file": ("po.edi", data)})
        assert anon.status_code == 401
        t0 = time.time()
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/messages", files={"file": ("po.edi", data)},
                       headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert r.status_code == 202, r.text
        assert _wait(lambda: rec.received, 30), "no webhook within 30 s"
        assert time.time() - t0 < 30
        (wid, payload), = rec.received
        assert payload["po_number"] == po and payload["id"] == r.json()["order_ids"][0]
        assert rec.bad == 0
    finally:
        server.terminate()
        server.wait(10)
        rec.close()


def test_kill_9_between_stages_delivers_every_order_once(tmp_path: Path) -> None:
    hook_port, port = free_port(), free_port()
    env = _env(tmp_path, hook_port)
    key = _cli(env, "apikey", "create", "ci").stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {key}"}
    server = _start(env, port)  # the receiver is down: orders get approved but not delivered
    docs = [X12_850.replace("PO-77001", f"PO-K{i}").encode() for i in range(4)]
    ids: list[str] = []
    try:
        for i, d in enumerate(docs[:2]):
            ids += httpx.post(f"http://127.0.0.1:{port}/api/v1/messages", files={"file": (f"{i}.edi", d)},
                              headers=auth, timeout=30).json()["order_ids"]
        # two more only stored: the server dies before reading them
        for i, d in enumerate(docs[2:], 2):
            httpx.post(f"http://127.0.0.1:{port}/api/v1/messages?wait=false", files={"file": (f"{i}.edi", d)},
                       headers=auth, timeout=30)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        rec = Receiver(hook_port)
        server = _start(env, port)
        assert _wait(lambda: len(rec.received) >= 4, 45), f"only {len(rec.received)} webhook(s) after restart"
        time.sleep(1.0)
        wids = [w for w, _ in rec.received]
        pos = sorted(p["po_number"] for _, p in rec.received)
        assert pos == ["PO-K0", "PO-K1", "PO-K2", "PO-K3"], pos
        assert len(set(wids)) == len(wids) == 4
        listing = httpx.get(f"http://127.0.0.1:{port}/api/v1/orders", headers=auth).json()
        assert {o["status"] for o in listing["orders"]} == {"DELIVERED"} and listing["total"] == 4
        rec.close()
    finally:
        server.terminate()
        server.wait(10)
