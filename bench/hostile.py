"""Hostile-input benchmark: N generated hostile files (fuzz/hostile_gen.py) uploaded to a real
`intake serve`; counts outcomes, crashes, time and the peak memory of the service's processes.

    python bench/hostile.py [-n 10000] [--seed 1] [--clients 2] [--json]
    python bench/hostile.py --cases [--json]      # the issue's named cases, one process each

A crash is: a 5xx or a dropped connection, the server process gone, an answer that is neither
202 (stored; PROCESSED or FAILED with a one-line reason) nor 413/415 (refused at the door with a
reason), a FAILED reason that is an internal error (an exception our code did not expect) or
spans lines, or a file that was accepted but is not in the ledger. After the run the service
must still answer /health and turn a normal X12 850 into an order.

Memory: the service's process tree (the server, its reader processes, Tesseract) is sampled
every 0.2 s from /proc; the figures are the largest sum over the tree and the largest single
process.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from fuzz.hostile_gen import hostile_files  # noqa: E402
from intake.service.blobstore import sha256_hex  # noqa: E402
from tests.scale import harness as h  # noqa: E402


class TreeMemory:
    """Samples the RSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.max_total_mb = 0.0
        self.max_single_mb = 0.0
        self.max_processes = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree(root: int) -> dict[int, float]:
        parents: dict[int, int] = {}
        rss: dict[int, float] = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat", encoding="ascii", errors="replace") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parents[int(d)] = int(fields[1])
                rss[int(d)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            except (OSError, IndexError, ValueError):
                continue
        tree, todo = {}, [root]
        while todo:
            p = todo.pop()
            if p in rss:
                tree[p] = rss[p]
            todo.extend(c for c, par in parents.items() if par == p and c not in tree)
        return tree

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            t = self._tree(self.pid)
            if t:
                self.max_total_mb = max(self.max_total_mb, sum(t.values()))
                self.max_single_mb = max(self.max_single_mb, max(t.values()))
                self.max_processes = max(self.max_processes, len(t))

    def start(self) -> "TreeMemory":
        self._t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._t.join(2)


def _check(name: str, r: httpx.Response) -> tuple[str, str | None]:
    """(outcome, crash reason or None)."""
    if r.status_code in (413, 415):
        try:
            detail = r.json().get("detail", "")
        except ValueError:
            detail = r.text
        return str(r.status_code), None if detail and "\n" not in str(detail) else f"{name}: refusal without a reason"
    if r.status_code != 202:
        return f"http_{r.status_code}", f"{name}: HTTP {r.status_code}: {r.text[:200]}"
    body = r.json()
    status, reason = body.get("status"), body.get("reason") or ""
    if status == "FAILED":
        if not reason or "\n" in reason or "Traceback" in reason or reason.startswith("internal error"):
            return "FAILED_internal", f"{name}: {reason[:300]!r}"
        return "FAILED", None
    if status == "PROCESSED":
        return "PROCESSED", None
    return str(status), f"{name}: ended {status} ({reason[:200]})"


def run_fuzz(n: int, seed: int, clients: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="intake-hostile-"))
    env = h.base_env(tmp, f"sqlite:///{tmp / 'ledger.db'}", None, "http://127.0.0.1:9/hook")
    key = h.api_key(env)
    auth = {"Authorization": f"Bearer {key}"}
    port = h.free_port()
    server = h.start_serve(env, port, log=tmp / "serve.log")
    base = f"http://127.0.0.1:{port}"
    mem = TreeMemory(server.pid).start()
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    crashes: list[str] = []
    accepted: dict[str, str] = {}  # sha256 -> name, of every file the service stored
    slowest: list[tuple[float, str]] = []
    lock = threading.Lock()
    client = httpx.Client(timeout=600)

    def one(item: tuple[str, bytes]) -> None:
        name, data = item
        t = time.perf_counter()
        try:
            r = client.post(f"{base}/api/v1/messages", files={"file": (name, data)}, headers=auth)
            outcome, crash = _check(name, r)
        except httpx.HTTPError as exc:
            outcome, crash = "connection_error", f"{name}: {type(exc).__name__}: {exc}"
        dt = time.perf_counter() - t
        with lock:
            outcomes[outcome] += 1
            kinds[name.split("-", 1)[1]] += 1
            if crash:
                crashes.append(crash)
            if outcome in ("PROCESSED", "FAILED", "FAILED_internal"):
                accepted[sha256_hex(data)] = name
            slowest.append((dt, name))
            slowest.sort(reverse=True)
            del slowest[5:]

    t0 = time.perf_counter()
    done = 0
    try:
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            batch: list[Any] = []
            for item in hostile_files(n, seed):
                batch.append(pool.submit(one, item))
                if len(batch) >= clients * 4:
                    for f in batch:
                        f.result()
                    done += len(batch)
                    batch = []
                    if server.poll() is not None:
                        crashes.append(f"the server died after {done} files (exit {server.returncode})")
                        break
                    if done % 500 == 0:
                        sys.stderr.write(f"  {done}/{n} files, {len(crashes)} crash(es), "
                                         f"{time.perf_counter() - t0:.0f} s\n")
            for f in batch:
                f.result()
        elapsed = time.perf_counter() - t0
        alive = server.poll() is None
        health = httpx.get(f"{base}/health", timeout=10).status_code if alive else None
        after = httpx.post(f"{base}/api/v1/messages", files={"file": ("po.edi", h.x12_order("PO-AFTER-FUZZ", 7))},
                           headers=auth, timeout=60).json() if alive else {}
    finally:
        mem.stop()
        h.stop(server)
        client.close()
    with sqlite3.connect(tmp / "ledger.db") as db:
        stored = {r[0] for r in db.execute("SELECT sha256 FROM messages")}
        failed_without_reason = db.execute(
            "SELECT count(*) FROM messages WHERE status = 'FAILED' AND (reason IS NULL OR reason = '')").fetchone()[0]
        stuck = db.execute("SELECT count(*) FROM messages WHERE status IN ('STORED', 'RECEIVED')").fetchone()[0]
    lost = [name for sha, name in accepted.items() if sha not in stored]
    crashes += [f"{name}: accepted but not in the ledger" for name in lost]
    if failed_without_reason:
        crashes.append(f"{failed_without_reason} FAILED message(s) without a reason")
    return {
        "files": sum(outcomes.values()), "seed": seed, "clients": clients, "seconds": round(elapsed, 1),
        "files_per_s": round(sum(outcomes.values()) / elapsed, 2), "outcomes": dict(outcomes), "kinds": dict(kinds),
        "crashes": len(crashes), "crash_examples": crashes[:20], "stored_messages": len(stored),
        "lost": len(lost), "left_unread": stuck,
        "peak_tree_mb": round(mem.max_total_mb, 1), "peak_process_mb": round(mem.max_single_mb, 1),
        "max_processes": mem.max_processes,
        "service_up": bool(alive and health == 200 and after.get("status") == "PROCESSED"),
        "slowest": [(round(dt, 2), nm) for dt, nm in slowest],
        "machine": f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, {platform.python_version()}",
    }


# --- the named cases ------------------------------------------------------------------------

_CASE = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from tests.hostile.test_budgets import merged_bomb, huge_page_pdf, text_scan
from intake.core.settings import Limits
case = {case!r}
hwm = lambda: [int(x.split()[1]) / 1024 for x in open('/proc/self/status') if x.startswith('VmHWM')][0]
t = time.perf_counter(); out = {{}}
try:
    if case == 'xlsx_merged_range':
        from extractors.pool import read_isolated, last_peak_mb
        try:
            read_isolated(merged_bomb(), 'x.xlsx', Limits(reader_processes=1)); out['result'] = 'read'
        except Exception as e:
            out['result'] = type(e).__name__ + ': ' + str(e)[:120]
        out['reader_peak_mb'] = last_peak_mb()
    elif case == 'xlsx_merged_range_unbounded':  # what the reader did before: openpyxl loads it
        import io, resource, openpyxl
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        try:
            openpyxl.load_workbook(io.BytesIO(merged_bomb())); out['result'] = 'loaded'
        except MemoryError:
            out['result'] = 'MemoryError at the 4 GB cap'
    elif case == 'pdf_huge_page_render':
        from extractors.render import _pdf_page_png
        from PIL import Image; import io
        png = _pdf_page_png(huge_page_pdf(), 0, Limits().max_render_pixels)
        out['result'] = 'x'.join(map(str, Image.open(io.BytesIO(png)).size))
    elif case == 'pdf_huge_page_render_unbounded':
        import pypdfium2 as pdfium, io
        pg = pdfium.PdfDocument(huge_page_pdf())[0]
        img = pg.render(scale=100 / 72).to_pil(); b = io.BytesIO(); img.save(b, 'PNG')
        out['result'] = 'x'.join(map(str, img.size))
    elif case == 'png_7000_ocr':
        from extractors.pool import read_isolated, last_peak_mb
        docs = read_isolated(text_scan(7000, 7000), 'scan.png', Limits(reader_processes=1))
        out['result'] = f"{{sum(len(p.words) for p in docs[0].pages)}} words"
        out['reader_peak_mb'] = last_peak_mb()
    elif case == 'png_7000_ocr_unbounded':  # what the reader did before: the whole image to Tesseract, in RGB
        import io, pytesseract
        from PIL import Image
        im = Image.open(io.BytesIO(text_scan(7000, 7000))).convert('RGB')
        d = pytesseract.image_to_data(im, lang='eng+deu+fra', output_type=pytesseract.Output.DICT, config='--psm 3')
        out['result'] = f"{{sum(1 for w in d['text'] if w.strip())}} words"
except Exception as e:
    out['result'] = type(e).__name__ + ': ' + str(e)[:160]
out['seconds'] = round(time.perf_counter() - t, 2)
out['process_peak_mb'] = round(hwm(), 1)
import resource
out['children_peak_mb'] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
print(json.dumps(out))
"""

CASES = ["xlsx_merged_range", "pdf_huge_page_render", "png_7000_ocr"]


def run_cases(unbounded: bool) -> list[dict[str, Any]]:
    out = []
    names = [c for base in CASES for c in ([base, base + "_unbounded"] if unbounded else [base])]
    for case in names:
        code = _CASE.format(root=str(ROOT), case=case)
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=ROOT)
        try:
            res = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = {"result": f"the process ended with {p.returncode}: {p.stderr.strip()[-200:]}"}
        out.append({"case": case, **res})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10_000, help="hostile files to send")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clients", type=int, default=2, help="concurrent uploaders")
    ap.add_argument("--cases", action="store_true", help="measure the issue's named cases instead")
    ap.add_argument("--unbounded", action="store_true", help="with --cases: also the library calls the old readers made")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.cases:
        rows = run_cases(args.unbounded)
        if args.json:
            sys.stdout.write(json.dumps({"cases": rows}, indent=2) + "\n")
            return
        sys.stdout.write(f"{'case':<34} {'seconds':>8} {'peak MB':>8} {'reader MB':>9}  result\n")
        for r in rows:
            peak = max(r.get("process_peak_mb") or 0, r.get("children_peak_mb") or 0)
            sys.stdout.write(f"{r['case']:<34} {r.get('seconds', ''):>8} {peak:>8} {r.get('reader_peak_mb') or '':>9}  "
                             f"{r['result']}\n")
        return
    res = run_fuzz(args.n, args.seed, args.clients)
    if args.json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
    else:
        w = sys.stdout.write
        w(f"hostile files      {res['files']} (seed {res['seed']}, {res['clients']} clients)\n")
        w(f"time               {res['seconds']} s ({res['files_per_s']} files/s)\n")
        w(f"outcomes           {json.dumps(res['outcomes'])}\n")
        w(f"crashes            {res['crashes']}\n")
        for c in res["crash_examples"]:
            w(f"  {c}\n")
        w(f"stored / lost      {res['stored_messages']} messages / {res['lost']} lost; {res['left_unread']} left unread\n")
        w(f"peak memory        {res['peak_tree_mb']} MB (service and its readers together), "
          f"{res['peak_process_mb']} MB (largest process), up to {res['max_processes']} processes\n")
        w(f"service up after   {res['service_up']}\n")
        w(f"slowest            {res['slowest']}\n")
        w(f"({res['machine']})\n")
    sys.exit(1 if res["crashes"] or not res["service_up"] else 0)


if __name__ == "__main__":
    main()
