"""Mail latency: from the IMAP APPEND of an emailed PO to the signed webhook's arrival.

Starts a real Dovecot (loopback, STARTTLS), a real webhook receiver and a real ``intake serve``
watching the mailbox with IDLE, then appends N order mails (default 100) at a fixed rate
(default 1 per second) from another IMAP connection and prints p50, p95 and max.

    python bench/mail_latency.py [-n 100] [--rate 1.0] [--format auto|edi|pdf] [--json]

The attachment is an X12 850 (parsed exactly) unless the layout model is installed
(``extractors.inference.default_extractor`` loads), in which case ``auto`` uses a generated PDF
PO; the output says which. Needs root and dovecot-imapd (``make install``).
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import http.server
import io
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.connectors.dovecot import Dovecot, dovecot_available, free_port  # noqa: E402
from tests.connectors.mails import x12_850  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"bench-mail-latency-secret-01234").decode()


class Hooks:
    """A webhook receiver that verifies signatures and stamps each arrival."""

    def __init__(self, port: int) -> None:
        from standardwebhooks.webhooks import Webhook

        self.arrived: dict[str, float] = {}
        self.bad = 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                now = time.time()
                try:
                    payload = Webhook(SECRET).verify(body, {k.lower(): v for k, v in self.headers.items()})
                except Exception:
                    outer.bad += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                outer.arrived.setdefault(str(payload.get("po_number")), now)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _model_works() -> bool:
    try:
        from extractors.inference import default_extractor

        default_extractor()
        return True
    except Exception:
        return False


def _pdf_po(po: str) -> bytes:
    """A one-page PDF purchase order with a text layer (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    y = 800
    for line in ("BUYER COMPANY INC", "12 Dock Road, Toledo OH 43601", "", "PURCHASE ORDER",
                 f"PO Number: {po}", "Order Date: 2026-11-28", "Currency: USD", "",
                 "Line  Item       Description                  Qty  UOM  Unit Price  Amount",
                 "1     HX-1420    HEX NUT 1/4-20 ZINC           10  EA   2.50        25.00",
                 "2     WSH-0250   FLAT WASHER 1/4 BOX OF 100     4  BX   18.00       72.00",
                 "", "Total: 97.00 USD"):
        c.drawString(50, y, line)
        y -= 16
    c.showPage()
    c.save()
    return buf.getvalue()


def _mail(po: str, fmt: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Buyer <buyer@customer.example>"
    msg["To"] = "orders@example.test"
    msg["Subject"] = f"Purchase order {po}"
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid("bench", domain="customer.example")
    msg.set_content(f"Please find our purchase order {po} attached.\n")
    if fmt == "pdf":
        msg.add_attachment(_pdf_po(po), maintype="application", subtype="pdf", filename=f"{po}.pdf")
    else:
        msg.add_attachment(x12_850(po).encode(), maintype="application", subtype="edi-x12", filename=f"{po}.edi")
    return msg.as_bytes()


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def run(n: int, rate: float, fmt: str, poll_interval: float, settle: float) -> dict[str, Any]:
    import httpx
    from imapclient import IMAPClient

    why = dovecot_available()
    if why:
        raise SystemExit(f"cannot run: {why}")
    if fmt == "auto":
        fmt = "pdf" if _model_works() else "edi"
    dove = Dovecot().start()
    hook_port, port = free_port(), free_port()
    hooks = Hooks(hook_port)
    data = Path(tempfile.mkdtemp(prefix="intake-bench-mail-"))
    env = dict(os.environ)
    env.update(dove.env(ssl=False, starttls=True))
    env.update(INTAKE_DATA_DIR=str(data), INTAKE_WEBHOOK_URL=f"http://127.0.0.1:{hook_port}/hook",
               INTAKE_WEBHOOK_SECRET=SECRET, INTAKE_POLL_INTERVAL_S=str(poll_interval), HF_HUB_OFFLINE="1",
               INTAKE_WEBHOOK_BACKOFF_BASE_S="0.2", INTAKE_WEBHOOK_BACKOFF_MAX_S="1")
    env.pop("INTAKE_DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "intake", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(ROOT))
    appended: dict[str, float] = {}
    try:
        deadline = time.time() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.time() > deadline:
                raise SystemExit("intake serve did not come up")
            time.sleep(0.2)
        time.sleep(1.5)  # the watcher connects and enters IDLE
        client = IMAPClient(dove.host, dove.ssl_port, ssl=True,
                            ssl_context=ssl.create_default_context(cafile=str(dove.cert)))
        client.login(dove.user, dove.password)
        mails = [(f"PO-BENCH-{i:04d}", _mail(f"PO-BENCH-{i:04d}", fmt)) for i in range(n)]
        t_start = time.time()
        for i, (po, raw) in enumerate(mails):
            target = t_start + i / rate
            time.sleep(max(0.0, target - time.time()))
            appended[po] = time.time()
            client.append("INBOX", raw)
        end = time.time() + settle
        while time.time() < end and len(hooks.arrived) < n:
            time.sleep(0.1)
        client.logout()
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        hooks.close()
        dove.stop()
    lat = [hooks.arrived[po] - t for po, t in appended.items() if po in hooks.arrived]
    return {
        "benchmark": "mail_latency", "attachment": "X12 850 (EDI)" if fmt == "edi" else "PDF (layout model)",
        "messages": n, "rate_per_s": rate, "delivered": len(lat), "bad_signatures": hooks.bad,
        "p50_s": round(statistics.median(lat), 3) if lat else None,
        "p95_s": round(_pct(lat, 95), 3) if lat else None,
        "max_s": round(max(lat), 3) if lat else None, "mean_s": round(statistics.fmean(lat), 3) if lat else None,
        "poll_interval_s": poll_interval, "cpus": os.cpu_count(), "python": platform.python_version(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100, help="messages (default 100)")
    ap.add_argument("--rate", type=float, default=1.0, help="messages per second (default 1)")
    ap.add_argument("--format", choices=("auto", "edi", "pdf"), default="auto",
                    help="attachment: pdf when the layout model works (auto), else an X12 850")
    ap.add_argument("--poll-interval", type=float, default=0.5, help="INTAKE_POLL_INTERVAL_S of the server (default 0.5)")
    ap.add_argument("--settle", type=float, default=30.0, help="seconds to wait for the last webhooks")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args()
    res = run(a.n, a.rate, a.format, a.poll_interval, a.settle)
    if a.json:
        sys.stdout.write(json.dumps(res) + "\n")
        return
    sys.stdout.write(
        f"mail latency (APPEND -> webhook), {res['attachment']}, {res['messages']} mails at {res['rate_per_s']}/s, "
        f"{res['cpus']} CPUs\n"
        f"  delivered {res['delivered']}/{res['messages']}   p50 {res['p50_s']} s   p95 {res['p95_s']} s   "
        f"max {res['max_s']} s   mean {res['mean_s']} s   (target p95 <= 3 s)\n")


if __name__ == "__main__":
    main()
