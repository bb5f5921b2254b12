"""Settings: one class, read from ``INTAKE_*`` environment variables or ``.env``.

Build it once (``get_settings()``) and pass it in. Nested groups use ``__``:
``INTAKE_LIMITS__MAX_PAGES=50``.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, Field as PField, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["Settings", "Limits", "Decision", "Identity", "ImapMailbox", "ImapSettings", "SmtpSettings",
           "EdiInboundSettings", "get_settings"]


class Limits(BaseModel):
    max_upload_bytes: int = 25 * 1024 * 1024
    max_pages: int = 200
    max_uncompressed_bytes: int = 200 * 1024 * 1024  # XLSX/zip expansion
    max_mime_depth: int = 10
    max_attachments: int = 50
    max_edi_segments: int = 50_000  # about 10,000 order lines; parsing cost grows with it
    # budgets checked before the work: what a document may cost before anything big is allocated
    max_cells: int = 1_000_000  # spreadsheet cells (counted in the sheet XML before openpyxl loads it)
    max_merged_cells: int = 100_000  # cells covered by merged ranges (openpyxl makes an object for each)
    max_image_pixels: int = 64_000_000  # decoded pixels of one image (a 600 dpi A4 scan is 35 MP)
    max_words_per_page: int = 10_000  # words the layout model and line assembly read on one page (a dense
    # real page has under 2,000; their cost grows faster than the words)
    max_words_per_document: int = 50_000
    max_render_pixels: int = 16_000_000  # a page image shown to a CSR (scaled down to fit)
    max_ocr_pixels_per_page: int = 12_000_000  # a page is scaled down to this before OCR (A3 at 250 dpi)
    max_ocr_pixels_per_message: int = 300_000_000  # OCR of all pages of a message together (~35 A4 pages)
    ocr_page_timeout_s: float = 60.0  # Tesseract on one page (noise can keep it busy for minutes)
    ocr_dpi: int = 300
    ocr_languages: str = "eng+deu+fra"
    # readers run in separate processes with these limits, so one document cannot take the service
    reader_isolation: str = "process"  # process | inline (inline: in this process, no limits)
    reader_processes: int = 2
    reader_memory_mb: int = 2048  # address-space limit of a reader process (RLIMIT_AS)
    reader_timeout_s: float = 180.0
    max_read_attempts: int = 3  # a message whose reading stopped the process this often ends FAILED
    read_lease_s: float = 300.0  # a read holding its message longer is presumed dead (a crash) and retried


class Decision(BaseModel):
    """Thresholds of the decision stage."""

    min_field_confidence: float = 0.90
    min_line_confidence: float = 0.90
    min_customer_score: float = 0.90
    min_line_match_score: float = 0.90
    price_tolerance: float = 0.02  # relative
    amount_tolerance: float = 0.01  # absolute per line, plus rounding


class Identity(BaseModel):
    """Who sent an order: what counts as proof (``INTAKE_IDENTITY__*``).

    A mail's From/Reply-To and any header a sender can type are hints. The receiving mail
    server's verdict (an ``Authentication-Results`` header, RFC 8601) counts as evidence only
    when its authserv-id is listed here: the server must remove such headers that arrive from
    outside with its own id (Postfix with OpenDMARC/rspamd, Exchange and Gmail do).
    """

    trusted_authserv_ids: str = ""  # comma-separated, e.g. "mx.seller.example"
    hint_score: float = 0.85  # the highest customer score a typed identity (From, header, EDI id in a mail) gets

    @property
    def authserv_ids(self) -> list[str]:
        return [x.strip().lower() for x in self.trusted_authserv_ids.split(",") if x.strip()]


class ImapMailbox(BaseModel):
    """One watched IMAP mailbox (folder). Missing connection values come from the ``imap`` group."""

    name: str | None = None  # the bookkeeping key; default user@host:port/folder
    host: str | None = None
    port: int | None = None  # default 993 with ssl, else 143
    user: str | None = None
    password: SecretStr | None = None
    folder: str | None = None
    ssl: bool | None = None  # IMAPS (TLS from the first byte)
    starttls: bool | None = None  # upgrade a plain connection with STARTTLS
    ca_file: Path | None = None  # trust this CA/certificate (self-signed servers)
    tls_verify: bool | None = None
    move_to: str | None = None  # move stored mail here; None: flag it \Seen + keyword
    keyword: str | None = None
    idle: bool | None = None
    poll_interval_s: float | None = None


class ImapSettings(BaseModel):
    """IMAP intake: ``INTAKE_IMAP_HOST``... for one mailbox, ``mailboxes`` for several.

    ``mailboxes`` comes from ``INTAKE_IMAP__MAILBOXES`` (JSON) or the JSON config file
    (``INTAKE_CONFIG_FILE``: ``{"imap": {"mailboxes": [{...}, ...]}}``); each entry inherits
    the values it does not set from this group.
    """

    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: SecretStr | None = None
    folder: str = "INBOX"
    ssl: bool = True
    starttls: bool = False
    ca_file: Path | None = None
    tls_verify: bool = True
    move_to: str | None = None
    keyword: str = "$Intake"
    idle: bool = True
    poll_interval_s: float = 30.0  # polling fallback without IDLE, and the IDLE refresh check
    idle_timeout_s: float = 300.0  # re-issue IDLE this often (RFC 2177: under 29; NAT boxes drop idle flows)
    connect_timeout_s: float = 30.0
    reconnect_max_s: float = 60.0
    mailboxes: list[ImapMailbox] = []

    def resolved(self) -> list[ImapMailbox]:
        """Every configured mailbox with the group's defaults filled in (empty if none)."""
        entries = list(self.mailboxes)
        if self.host and not any(m.host in (None, self.host) and (m.folder or self.folder) == self.folder
                                 and (m.user or self.user) == self.user for m in entries):
            entries.insert(0, ImapMailbox())
        out = []
        for m in entries:
            vals = {k: (getattr(m, k) if getattr(m, k) is not None else getattr(self, k, None))
                    for k in ImapMailbox.model_fields}
            if not vals["host"]:
                continue
            if vals["port"] is None:
                vals["port"] = 993 if vals["ssl"] else 143
            if not vals["name"]:
                vals["name"] = f"{vals['user'] or ''}@{vals['host']}:{vals['port']}/{vals['folder']}"
            out.append(ImapMailbox(**vals))
        return out


class SmtpSettings(BaseModel):
    """Replies to customers: ``INTAKE_SMTP_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_FROM``..."""

    host: str | None = None
    port: int | None = None  # default 465 with ssl, 587 with starttls, else 25
    user: str | None = None
    password: SecretStr | None = None
    from_: str | None = PField(default=None, validation_alias=AliasChoices("from_", "from"))  # INTAKE_SMTP_FROM
    starttls: bool = False
    ssl: bool = False
    ca_file: Path | None = None
    tls_verify: bool = True
    timeout_s: float = 30.0
    max_attempts: int = 8
    send_received: bool = True  # acknowledgment when an order is received
    send_approved: bool = True  # acknowledgment with the confirmed lines when it is approved

    @property
    def effective_port(self) -> int:
        return self.port or (465 if self.ssl else 587 if self.starttls else 25)


class EdiInboundSettings(BaseModel):
    """EDI folders: ``INTAKE_EDI_INBOUND_DIR`` holds one folder per trading partner
    (``<dir>/<partner>/in``, ``processed``, ``failed``, ``out``)."""

    dir: Path | None = None
    poll_interval_s: float = 1.0
    stable_s: float = 0.5  # a file is taken once its size and mtime stayed this long


# Flat names that the issue uses (INTAKE_IMAP_HOST...) for the nested groups (INTAKE_IMAP__HOST).
_FLAT_GROUPS = ("imap", "smtp", "edi_inbound")


class _FlatGroupSource(PydanticBaseSettingsSource):
    """``INTAKE_<GROUP>_<KEY>`` -> ``{group: {key: value}}`` for the channel groups, and the JSON
    config file named by ``INTAKE_CONFIG_FILE`` (lowest priority)."""

    def __init__(self, settings_cls: type[BaseSettings], *, config_file: bool) -> None:
        super().__init__(settings_cls)
        self.config_file = config_file

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        env: dict[str, str] = {}
        env_file = self.config.get("env_file")
        if isinstance(env_file, (str, Path)) and Path(env_file).is_file():
            from dotenv import dotenv_values

            env.update({k.upper(): v for k, v in dotenv_values(env_file).items() if v is not None})
        env.update({k.upper(): v for k, v in os.environ.items()})
        if self.config_file:
            path = env.get("INTAKE_CONFIG_FILE")
            if not path:
                return {}
            try:
                data = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValueError(f"INTAKE_CONFIG_FILE {path}: {exc}") from exc
            if not isinstance(data, dict):
                raise ValueError(f"INTAKE_CONFIG_FILE {path}: expected a JSON object")
            return data
        out: dict[str, Any] = {}
        for group in _FLAT_GROUPS:
            prefix = f"INTAKE_{group.upper()}_"
            for key, value in env.items():
                rest = key[len(prefix):]
                if key.startswith(prefix) and rest and not rest.startswith("_"):
                    name = rest.lower()
                    if name == "mailboxes":
                        value = json.loads(value)
                    out.setdefault(group, {})[name] = value
        return out


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INTAKE_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    data_dir: Path = Path("./data")
    database_url: str | None = None  # default: sqlite under data_dir
    env: str = "dev"  # dev | prod

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None  # whsec_<base64>
    webhook_max_attempts: int = 8
    webhook_backoff_base_s: float = 1.0
    webhook_backoff_max_s: float = 300.0
    webhook_timeout_s: float = 10.0
    webhook_allowed_hosts: str = "127.0.0.1,localhost,::1"  # allow-list; "*" allows any public host

    workers: int = 2  # in-process pipeline workers in `intake serve`
    poll_interval_s: float = 0.5

    # scale-out (intake/entry/tasks.py): with a broker, `intake serve` enqueues Celery tasks that
    # `intake worker` processes run; without one, the in-process threads above do the work
    broker_url: str | None = None  # INTAKE_BROKER_URL, e.g. redis://127.0.0.1:6379/0
    sweep_interval_s: float = 5.0  # how often pending work is re-enqueued (nothing stays stuck)
    log_format: str = "json"  # INTAKE_LOG_FORMAT: json (one object per line) | text
    log_level: str = "WARNING"  # INTAKE_LOG_LEVEL of the command line and the service
    debug: bool = False  # INTAKE_DEBUG=1: the command line shows the traceback of an internal error
    worker_preload_model: bool = True  # INTAKE_WORKER_PRELOAD_MODEL=0: pool processes load the model on first use

    model_dir: Path | None = None  # default: the live model of the registry, else the packaged one
    model_threads: int = 0  # INTAKE_MODEL_THREADS: torch threads of the layout model (0: torch's default)
    model_reload_check_s: float = 2.0  # INTAKE_MODEL_RELOAD_CHECK_S: how often serving compares the live pointer
    # the learning loop (training/background.py): retrain after this many new corrections (0: never)
    retrain_after: int = 3  # INTAKE_RETRAIN_AFTER
    retrain_check_s: float = 30.0  # INTAKE_RETRAIN_CHECK_S: how often `intake serve` counts them
    retrain_config: Path | None = None  # INTAKE_RETRAIN_CONFIG: JSON settings of the background retraining
    encoder: str = "all-MiniLM-L6-v2"

    limits: Limits = Limits()
    decision: Decision = Decision()
    identity: Identity = Identity()

    # channels (connectors/): flat INTAKE_IMAP_HOST or nested INTAKE_IMAP__HOST both work
    imap: ImapSettings = ImapSettings()
    smtp: SmtpSettings = SmtpSettings()
    edi_inbound: EdiInboundSettings = EdiInboundSettings()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # earlier wins: explicit values, nested env, .env, the flat channel names, the config file
        return (init_settings, env_settings, dotenv_settings, _FlatGroupSource(settings_cls, config_file=False),
                _FlatGroupSource(settings_cls, config_file=True), file_secret_settings)

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and v.get_secret_value() and not v.get_secret_value().startswith("whsec_"):
            raise ValueError("INTAKE_WEBHOOK_SECRET must look like whsec_<base64>")
        return v

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'intake.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def outbound_dir(self) -> Path:
        return self.data_dir / "outbound"

    @property
    def registry_dir(self) -> Path:
        return self.data_dir / "models"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
