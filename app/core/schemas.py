from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator


def _date_text(value: Any) -> Any:
    # Pydantic would also read a number as a Unix time; the API takes dates as text only.
    if not isinstance(value, str | date):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_date_text)]


# A text the API takes: anything but NUL (U+0000), which PostgreSQL cannot store.
TEXT = "^[^\\x00]*$"
# Unicode White_Space, spelled out: `\s` is not the same set in every regular-expression
# dialect that reads the OpenAPI document.
_WHITE = "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
# A text that is not blank either: one character at least is not white space.
NOT_BLANK = f"^[^\\x00]*[^\\x00{_WHITE}][^\\x00]*$"
# The characters pydantic's own stripping removed (Unicode White_Space): what is stripped.
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)


def _stripped(value: Any) -> Any:
    # Plain texts only: a StrEnum member stays the member it is.
    if type(value) is str:
        return value.strip(_WHITE_SPACE)
    if isinstance(value, list):
        return [_stripped(item) for item in value]
    return value


# Marks a value as one of a vocabulary of the loaded workflow files (app/engine/vocabulary.py):
# the OpenAPI document replaces the mark by the vocabulary's `enum` (app/api/openapi.py).
VOCABULARY = "x-vocabulary"


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are refused, never silently dropped.

    Texts are stored without the white space around them, stripped once the value has met
    its constraints as sent (so that `maxLength` in the document means what it says); a
    text that must not be blank says so with the `NOT_BLANK` pattern.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _strip_white_space(cls, value: Any) -> Any:
        return _stripped(value)


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
