"""``intake mail ...``: poll the configured mailboxes once, send a test mail, show the bookkeeping."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

import connectors.models
from connectors.imap import MailboxWatcher
from connectors.models import ChannelStateRow, OutgoingMailRow
from connectors.smtp import Notifier
from intake.core.errors import ConfigError

__all__ = ["mail_app"]

mail_app = typer.Typer(no_args_is_help=True, help="Mail channels: IMAP intake and SMTP replies.")


def _pipeline() -> Any:
    from intake.entry.bootstrap import build_pipeline, load_settings  # start-up time: the service stack

    return build_pipeline(load_settings())


@mail_app.command("poll")
def poll(process: Annotated[bool, typer.Option(help="also read the stored mails now")] = True) -> None:
    """Store every new mail of every configured mailbox once (no IDLE), then exit."""
    pipe = _pipeline()
    boxes = pipe.settings.imap.resolved()
    if not boxes:
        raise ConfigError("no IMAP mailbox configured (set INTAKE_IMAP_HOST, or imap.mailboxes in INTAKE_CONFIG_FILE)")
    for mb in boxes:
        w = MailboxWatcher(mb, pipe, connect_timeout_s=pipe.settings.imap.connect_timeout_s)
        try:
            results = w.poll_once()
        except ConfigError:
            raise
        except Exception as exc:  # the server's own words, one line
            raise ConfigError(f"mailbox {w.key}: {type(exc).__name__}: {exc}") from exc
        for r in results:
            if process and r.new_message and r.message_id:
                pipe.process_message(r.message_id)
            sys.stdout.write(f"{w.key}\t{r.outcome}\t{r.message_id or '-'}\t{r.reason or ''}\n")
        sys.stdout.write(f"{w.key}: {len(results)} mail(s)\n")


@mail_app.command("test-send")
def test_send(to: Annotated[str, typer.Argument(help="recipient address")]) -> None:
    """Send a test mail through the configured SMTP server."""
    pipe = _pipeline()
    mid = Notifier(pipe.settings, pipe.sm, pipe.blobs).send_test(to)
    sys.stdout.write(f"sent {mid} to {to}\n")


@mail_app.command("status")
def status() -> None:
    """Mailbox cursors (UIDVALIDITY, last UID) and reply counts by status, as JSON."""
    from sqlalchemy import func, select

    pipe = _pipeline()
    with pipe.sm() as s:
        cursors = [{"key": r.key, "uidvalidity": r.uidvalidity, "last": r.last_uid, "updated_at": str(r.updated_at)}
                   for r in s.scalars(select(ChannelStateRow).order_by(ChannelStateRow.key))]
        replies = dict(s.execute(select(OutgoingMailRow.status, func.count()).group_by(OutgoingMailRow.status)).all())
    sys.stdout.write(json.dumps({"cursors": cursors, "replies": replies}, indent=2) + "\n")
