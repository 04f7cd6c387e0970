"""Settings read from the environment (and an optional `.env` file)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///./var/admission.db")
    # PostgreSQL connections each process keeps open, and how many more it may open at a
    # peak: a host holds up to (pool + overflow) × its processes. Keep the pool at or above
    # the requests a process serves at once: a connection opened for a peak is closed again
    # when given back. (SQLite keeps as many, and opens more rather than wait.)
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=20, ge=0)
    storage_dir: Path = Field(default=Path("./var/documents"))
    # Where documents' bytes live: `s3://bucket/prefix` for an S3-compatible object store
    # (what several API hosts share), or `file:///path` or a plain path for a local
    # directory. Unset: the local directory STORAGE_DIR.
    storage_url: str | None = None
    # An S3-compatible store other than AWS (MinIO, Ceph, ...), addressed path-style; the
    # credentials are the usual AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables.
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    # Size of the parts an upload is sent in (one part per upload is held in memory; S3
    # takes parts of 5 MiB at least), and connections to the store per process.
    s3_part_bytes: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024)
    s3_max_connections: int = Field(default=32, gt=0)
    workflows_dir: Path = Field(default=PROJECT_ROOT / "workflows")
    # The workflow key a new case takes when its request names none (when it is not loaded
    # and the directory holds a single workflow key, that one).
    default_workflow: str = "qtsc-chain-admission"
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
    # FULL: a commit survives a power cut. NORMAL (with the WAL journal): it survives the
    # process being killed, and the last commits may be lost if the machine itself stops.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
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
    # People's browser sessions: ended after this long without a request, and in any case
    # this long after sign-in. Failed sign-ins: per account before it waits, and how long;
    # per client address (per process) within a window, before answering 429.
    session_idle_minutes: int = Field(default=60, gt=0)
    session_absolute_hours: int = Field(default=12, gt=0)
    signin_account_limit: int = Field(default=5, gt=0)
    signin_lock_minutes: int = Field(default=15, gt=0)
    signin_address_limit: int = Field(default=20, gt=0)
    signin_address_window_seconds: int = Field(default=900, gt=0)
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

    @field_validator("storage_url")
    @classmethod
    def _storage_url(cls, value: str | None) -> str | None:
        return check_storage_url(value) if value else None


def check_storage_url(value: str) -> str:
    """`value` if it names a document store the service has, else ValueError saying why."""
    parts = urlsplit(value)
    if parts.scheme == "s3" and not parts.netloc:
        raise ValueError("an s3:// storage URL names its bucket: s3://bucket/prefix")
    if parts.scheme not in ("", "s3", "file"):
        raise ValueError("the storage URL is s3://bucket/prefix, file:///path or a path")
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
