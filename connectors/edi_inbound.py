"""EDI folders: one folder per trading partner, watched.

    <dir>/<partner>/in/         the partner (or its VAN/AS2/SFTP gateway) drops files here
    <dir>/<partner>/processed/  stored and read: moved here
    <dir>/<partner>/failed/     could not be read: moved here with <name>.reason.txt
    <dir>/<partner>/out/        our acknowledgments (997/855, CONTRL/ORDRSP) for this partner

A file is taken once its size and modification time have not changed for ``stable_s`` (a
partner may still be writing it). It is stored (content-addressed: the same file again is the
same message), read and moved; a crash before the move finds the file again and the ledger
recognises it. Acknowledgments that the outbox relay has written to ``<data_dir>/outbound`` (rows
in ``outbound_documents``) are copied to the partner's ``out/`` folder.

The folder is the partner's channel: its name is the partner the order comes from
(``trusted_partner``), so name it after one of the customer's EDI ids or its customer id. An
EDI id inside a file is only what the file claims (``intake/core/identity.py``).

Nothing outside the folder is read: a symbolic link (to a file or a folder) is never followed,
and a file larger than ``INTAKE_LIMITS__MAX_UPLOAD_BYTES`` is not read; both are moved to
``failed/`` with the reason (the link itself, not what it points to).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select

from connectors.models import ChannelStateRow
from intake.core.domain import Channel
from intake.service.db import unit_of_work
from intake.service.models import MessageRow, OutboundDocRow

__all__ = ["EdiFolderWatcher", "FileResult", "partner_dirs"]

log = logging.getLogger("connectors.edi_inbound")

_CURSOR = "edi:outbound_documents"
_SKIP = re.compile(r"(^\.|\.(tmp|part|filepart|partial|crdownload|lock|swp)$|~$)", re.I)
SUBDIRS = ("in", "processed", "failed", "out")


def partner_dirs(root: Path) -> list[Path]:
    """The partner folders under ``root``: every real sub-folder not starting with a dot (a
    symbolic link to a folder elsewhere is not one)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if not p.name.startswith(".") and not p.is_symlink() and p.is_dir())


class _Refused(Exception):
    """A file that is not read: it goes to failed/ with this reason."""


@dataclass
class FileResult:
    partner: str
    filename: str
    message_id: str | None
    status: str  # processed | failed | duplicate
    moved_to: Path
    reason: str | None = None


def _unique(path: Path) -> Path:
    """``path``, or ``name.<n>.ext`` when a file of that name is already there."""
    if not path.exists():
        return path
    for n in range(1, 10_000):
        cand = path.with_name(f"{path.stem}.{n}{path.suffix}")
        if not cand.exists():
            return cand
    raise FileExistsError(f"too many files named {path.name} in {path.parent}")


class EdiFolderWatcher:
    """Scans every partner's ``in/`` folder; ``scan_once()`` is one pass, ``run_forever()`` the loop."""

    def __init__(self, root: Path, pipeline: Any, *, stable_s: float = 0.5, poll_interval_s: float = 1.0,
                 outbound_dir: Path | None = None, on_file: Callable[[FileResult], None] | None = None) -> None:
        self.root, self.pipeline = Path(root), pipeline
        self.stable_s, self.poll_interval_s = stable_s, poll_interval_s
        self.outbound_dir = outbound_dir or pipeline.settings.outbound_dir
        self.on_file = on_file
        self._seen: dict[Path, tuple[int, int, float]] = {}  # path -> (size, mtime_ns, unchanged since)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _ready(self, path: Path, now: float) -> bool:
        try:
            st = path.stat()
        except FileNotFoundError:
            self._seen.pop(path, None)
            return False
        sig = (st.st_size, st.st_mtime_ns)
        prev = self._seen.get(path)
        if prev is None or prev[:2] != sig:
            self._seen[path] = (*sig, now)
            return False
        return now - prev[2] >= self.stable_s and st.st_size > 0

    def scan_once(self) -> list[FileResult]:
        """Take every stable file of every partner, then copy new acknowledgments out."""
        out: list[FileResult] = []
        now = time.monotonic()
        for pdir in partner_dirs(self.root):
            for sub in SUBDIRS:
                p = pdir / sub
                if p.is_symlink():
                    log.warning("EDI folder %s is a symbolic link: not followed, partner %s skipped", p, pdir.name)
                    break
                p.mkdir(exist_ok=True)
            else:
                for f in sorted((pdir / "in").iterdir()):
                    if _SKIP.search(f.name):
                        continue
                    if f.is_symlink():
                        out.append(self._refuse(pdir.name, f, "a symbolic link: links are not followed out of the "
                                                               "partner's folder; put the file itself in in/"))
                        continue
                    if not f.is_file() or not self._ready(f, now):
                        continue
                    self._seen.pop(f, None)
                    try:
                        out.append(self._take(pdir.name, f))
                    except _Refused as exc:
                        out.append(self._refuse(pdir.name, f, str(exc)))
                    except OSError as exc:  # vanished or unreadable: try again on the next pass
                        log.warning("EDI file %s: %s", f, exc)
        self.copy_acknowledgments()
        return out

    def _read(self, f: Path) -> bytes:
        """The file's bytes, opened without following a link, and never more than the limit."""
        limit = self.pipeline.settings.limits.max_upload_bytes
        fd = os.open(f, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise _Refused("not a regular file")
            if st.st_size > limit:
                raise _Refused(f"the file has {st.st_size} bytes, more than the limit of {limit} (not read)")
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise _Refused(f"the file grew past the limit of {limit} bytes while it was read")
        return data

    def _refuse(self, partner: str, f: Path, reason: str) -> FileResult:
        """Move ``f`` (a link itself, never its target) to failed/ with the reason; not stored."""
        self._seen.pop(f, None)
        dest = _unique(f.parent.parent / "failed" / f.name)
        os.rename(f, dest)  # renames a link, not what it points to
        dest.with_name(dest.name + ".reason.txt").write_text(f"{reason}\nnot stored\n", encoding="utf-8")
        log.warning("EDI %s/%s: FAILED: %s", partner, f.name, reason)
        result = FileResult(partner, f.name, None, "failed", dest, reason)
        if self.on_file is not None:
            self.on_file(result)
        return result

    def _take(self, partner: str, f: Path) -> FileResult:
        data = self._read(f)
        pipe = self.pipeline
        # the folder is the partner's own channel: it proves the partner (an id in the file only claims one)
        res = pipe.ingest(data, filename=f.name, channel=Channel.edi_folder, sender=partner, trusted_partner=partner)
        pipe.process_message(res.message_id)  # read now: the file's fate depends on it
        with pipe.sm() as s:
            m = s.get(MessageRow, res.message_id)
            status, reason = (m.status, m.reason) if m is not None else ("FAILED", "message vanished")
        pdir = f.parent.parent
        if status == "FAILED":
            dest = _unique(pdir / "failed" / f.name)
            shutil.move(str(f), dest)
            dest.with_name(dest.name + ".reason.txt").write_text(f"{reason}\nmessage {res.message_id}\n", encoding="utf-8")
            result = FileResult(partner, f.name, res.message_id, "failed", dest, reason)
        else:
            dest = _unique(pdir / "processed" / f.name)
            shutil.move(str(f), dest)
            why = None
            if res.duplicate:
                why = f"the same file was already received as message {res.message_id}"
                dest.with_name(dest.name + ".reason.txt").write_text(why + "\n", encoding="utf-8")
            result = FileResult(partner, f.name, res.message_id, "duplicate" if res.duplicate else "processed", dest, why)
        log.info("EDI %s/%s: %s (message %s)", partner, f.name, result.status, res.message_id)
        if self.on_file is not None:
            self.on_file(result)
        return result

    def copy_acknowledgments(self) -> int:
        """Copy acknowledgments of folder-received messages to ``<partner>/out``. Returns how many."""
        n = 0
        with unit_of_work(self.pipeline.sm) as s:
            cur = s.get(ChannelStateRow, _CURSOR)
            if cur is None:
                cur = ChannelStateRow(key=_CURSOR, uidvalidity=0, last_uid=0)
                s.add(cur)
            rows = s.execute(select(OutboundDocRow, MessageRow.sender).join(MessageRow, MessageRow.id == OutboundDocRow.message_id)
                             .where(OutboundDocRow.id > cur.last_uid).order_by(OutboundDocRow.id).limit(500)).all()
            for doc, sender in rows:
                if doc.status != "written":
                    break  # the relay has not written it yet: copied on a later pass, in order
                cur.last_uid = doc.id
                partner = doc.partner or sender
                m = s.get(MessageRow, doc.message_id)
                if m is None or m.channel != Channel.edi_folder.value or not partner:
                    continue
                pdir = self.root / partner
                if pdir.is_symlink() or not pdir.is_dir() or (pdir / "out").is_symlink():
                    continue  # nothing is written through a link out of the partner's folder
                src = self.outbound_dir / doc.filename
                if not src.is_file():
                    log.warning("acknowledgment %s is missing from %s", doc.filename, self.outbound_dir)
                    continue
                (pdir / "out").mkdir(exist_ok=True)
                dest = pdir / "out" / doc.filename
                tmp = dest.with_name("." + dest.name + ".tmp")  # the partner's gateway never sees half a file
                shutil.copyfile(src, tmp)
                os.replace(tmp, dest)
                n += 1
        return n

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan_once()
            except Exception:  # the database is away, a folder is unreadable: try again
                log.exception("EDI folder scan failed; retrying")
            self._stop.wait(self.poll_interval_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="edi-inbound", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
