"""Settings read from the environment (and an optional `.env` file)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///./var/admission.db")
    storage_dir: Path = Field(default=Path("./var/documents"))
    workflows_dir: Path = Field(default=PROJECT_ROOT / "workflows")
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    agency_code: str = Field(default="QTSC", pattern=r"^[A-Z0-9]{2,10}$")
    timezone: str = "Asia/Ho_Chi_Minh"
    sqlite_busy_timeout_ms: int = 15_000
    page_size_default: int = Field(default=50, gt=0)
    page_size_max: int = Field(default=200, gt=0)
    events_max_wait_seconds: float = 30.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
