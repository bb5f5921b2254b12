"""Settings: one class, read from ``INTAKE_*`` environment variables or ``.env``.

Build it once (``get_settings()``) and pass it in. Nested groups use ``__``:
``INTAKE_LIMITS__MAX_PAGES=50``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import BaseModel, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "Limits", "Decision", "get_settings"]


class Limits(BaseModel):
    max_upload_bytes: int = 25 * 1024 * 1024
    max_pages: int = 200
    max_uncompressed_bytes: int = 200 * 1024 * 1024  # XLSX/zip expansion
    max_mime_depth: int = 10
    max_attachments: int = 50
    max_edi_segments: int = 200_000
    ocr_dpi: int = 300
    ocr_languages: str = "eng+deu+fra"


class Decision(BaseModel):
    """Thresholds of the decision stage."""

    min_field_confidence: float = 0.90
    min_line_confidence: float = 0.90
    min_customer_score: float = 0.90
    min_line_match_score: float = 0.90
    price_tolerance: float = 0.02  # relative
    amount_tolerance: float = 0.01  # absolute per line, plus rounding


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

    model_dir: Path | None = None  # default: the live model of the registry, else the packaged one
    encoder: str = "all-MiniLM-L6-v2"

    limits: Limits = Limits()
    decision: Decision = Decision()

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
