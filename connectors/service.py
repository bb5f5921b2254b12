"""The channels that ``intake serve`` runs next to the pipeline workers.

    Channels(settings, pipeline, submit=workers.submit_message).start()
        one MailboxWatcher thread per configured IMAP mailbox (IDLE, reconnect, polling fallback)
        one EdiFolderWatcher thread over INTAKE_EDI_INBOUND_DIR
        one Notifier thread sending customer replies over SMTP

Each part starts only when its settings are there; ``Channels.configured(settings)`` says whether
any is.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

import connectors.models
from connectors.edi_inbound import EdiFolderWatcher
from connectors.imap import MailboxWatcher
from connectors.smtp import Notifier
from intake.core.settings import Settings

__all__ = ["Channels"]

log = logging.getLogger("connectors.service")


class Channels:
    """IMAP watchers, EDI folder watcher and SMTP notifier, started and stopped together."""

    def __init__(self, settings: Settings, pipeline: Any, *, submit: Callable[[str], None] | None = None) -> None:
        self.settings, self.pipeline = settings, pipeline
        imap = settings.imap
        self.mailboxes = [MailboxWatcher(mb, pipeline, submit=submit, idle_timeout_s=imap.idle_timeout_s,
                                         connect_timeout_s=imap.connect_timeout_s, reconnect_max_s=imap.reconnect_max_s)
                          for mb in imap.resolved()]
        ei = settings.edi_inbound
        self.edi = (EdiFolderWatcher(ei.dir, pipeline, stable_s=ei.stable_s, poll_interval_s=ei.poll_interval_s)
                    if ei.dir else None)
        notifier = Notifier(settings, pipeline.sm, pipeline.blobs)
        self.notifier = notifier if notifier.configured else None
        self._notifier_thread: threading.Thread | None = None

    @staticmethod
    def configured(settings: Settings) -> bool:
        """Whether any channel is configured (a mailbox, an EDI folder or an SMTP server)."""
        return bool(settings.imap.resolved() or settings.edi_inbound.dir
                    or (settings.smtp.host and settings.smtp.from_))

    def start(self) -> None:
        if self.notifier is not None:
            self.notifier.scan_events()  # sets the cursor on a first start, before any mail is read
        if self.edi is not None:
            self.edi.root.mkdir(parents=True, exist_ok=True)
            self.edi.start()
        for w in self.mailboxes:
            w.start()
        if self.notifier is not None:
            self._notifier_thread = threading.Thread(target=self.notifier.run_forever,
                                                     args=(self.settings.poll_interval_s,),
                                                     name="smtp-notifier", daemon=True)
            self._notifier_thread.start()
        log.info("channels: %d mailbox(es), EDI folder %s, SMTP %s", len(self.mailboxes),
                 self.edi.root if self.edi else "off", self.settings.smtp.host if self.notifier else "off")

    def stop(self) -> None:
        for w in self.mailboxes:
            w._stop.set()
        if self.edi is not None:
            self.edi._stop.set()
        if self.notifier is not None:
            self.notifier.stop()
        for w in self.mailboxes:
            w.stop()
        if self.edi is not None:
            self.edi.stop()
        if self._notifier_thread is not None:
            self._notifier_thread.join(5)
