"""Page cursors written so that a regular expression says exactly which ones are readable.

A cursor is the sort key of the last row of a page: numbers and a UUID, dot-separated. The
OpenAPI document publishes each cursor's pattern, and every string that matches it is
read, never refused: a moment or a day past the last one Python can represent is read as
that last one (a cursor "after the end of time" simply gives an empty page).

- a moment: microseconds since 0001-01-01T00:00:00Z, 1 to 18 digits;
- a day: days since 0001-01-01, 1 to 7 digits;
- an id: a UUID as 32 lowercase hexadecimal digits.
"""

import re
import uuid
from datetime import UTC, date, datetime, timedelta

MOMENT = "[0-9]{1,18}"
DAY = "[0-9]{1,7}"
ID = "[0-9a-f]{32}"
# A serial number (an event or a delivery id): fits a signed 64-bit column.
SERIAL = "[0-9]{1,18}"

_ORIGIN = datetime(1, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_LAST_MOMENT = (datetime.max.replace(tzinfo=UTC) - _ORIGIN) // _MICROSECOND
_LAST_DAY = date.max.toordinal() - 1


def anchored(*parts: str) -> str:
    """The pattern of a whole cursor made of `parts`, dot-separated."""
    return "^" + r"\.".join(parts) + "$"


def moment(value: datetime) -> str:
    return str((value.astimezone(UTC) - _ORIGIN) // _MICROSECOND)


def read_moment(text: str) -> datetime:
    return _ORIGIN + min(int(text), _LAST_MOMENT) * _MICROSECOND


def day(value: date) -> str:
    return str(value.toordinal() - 1)


def read_day(text: str) -> date:
    return date.fromordinal(min(int(text), _LAST_DAY) + 1)


def ident(value: uuid.UUID) -> str:
    return value.hex


def read_ident(text: str) -> uuid.UUID:
    return uuid.UUID(hex=text)


def match(pattern: str, value: str) -> tuple[str, ...] | None:
    """The dot-separated parts of `value` if it matches `pattern`, else None."""
    if re.fullmatch(pattern, value) is None:
        return None
    return tuple(value.split("."))
