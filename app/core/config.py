"""Settings read from the environment (and an optional `.env` file)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///./var/admission.db")
    storage_dir: Path = Field(default=Path("./var/documents"))
    workflows_dir: Path = Field(default=PROJECT_ROOT / "workflows")
    calendar_file: Path = Field(default=PROJECT_ROOT / "calendars" / "vietnam.yaml")
    # Fonts embedded in generated letters (receipts, supplement notices): Vietnamese needs Unicode.
    letter_font: Path = Field(default=Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    letter_font_bold: Path = Field(
        default=Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    )
    # How often `serve` looks for cases and consultations that became overdue; 0 turns it off.
    overdue_sweep_seconds: float = Field(default=300.0, ge=0)
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    agency_code: str = Field(default="QTSC", pattern=r"^[A-Z0-9]{2,10}$")
    timezone: str = "Asia/Ho_Chi_Minh"
    sqlite_busy_timeout_ms: int = 15_000
    page_size_default: int = Field(default=50, gt=0)
    page_size_max: int = Field(default=200, gt=0)
    events_max_wait_seconds: float = 30.0
    # Largest JSON (non-upload) request body accepted: above the largest body the OpenAPI
    # document allows (a transition with every text at its maximum length, each character
    # escaped as a UTF-16 surrogate pair, is about 130 KiB).
    max_json_body_bytes: int = Field(default=256 * 1024, gt=0)
    # Failed authentications per client address (per process) before answering 429.
    auth_failure_limit: int = Field(default=20, gt=0)
    auth_failure_window_seconds: int = Field(default=60, gt=0)
    # Key for signing exported audit chain heads (`admission audit export-heads`).
    audit_hmac_key: SecretStr | None = None

    # Idempotency-Key: how long a key and its stored response are kept, and how long a
    # running attempt holds its key before a retry may take over (a crashed process).
    idempotency_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    idempotency_lease_seconds: int = Field(default=120, gt=0)

    # Webhooks: delivery tries before a delivery is dead-lettered; backoff between tries
    # (exponential from the base, capped, with full jitter); time allowed per request.
    webhook_max_attempts: int = Field(default=12, gt=0)
    webhook_backoff_base_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Whether webhook URLs may lead to loopback, private, link-local or other non-public
    # addresses (`app.webhooks.destinations`); only for closed networks and local testing.
    webhook_allow_private_hosts: bool = False
    # Whether `serve` also delivers webhooks (besides any `admission worker` processes),
    # and how often an idle worker looks for new events.
    webhook_delivery_in_serve: bool = True
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    # How long `admission gc` keeps delivered deliveries and removed subscriptions.
    webhook_retention_days: int = Field(default=30, gt=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
