from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _date_text(value: Any) -> Any:
    # Pydantic would also read a number as a Unix time; the API takes dates as text only.
    if not isinstance(value, str | date):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_date_text)]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are refused, never silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Localised(BaseModel):
    vi: str
    en: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every error response: `{"error": {"code", "message", "details"}}`."""

    error: ErrorDetail
