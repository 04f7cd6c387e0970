"""Client-supplied file names are labels only: cleaned for display, never used as paths."""

import unicodedata
from urllib.parse import quote

MAX_LENGTH = 200
FALLBACK = "document"


def clean_filename(raw: str | None) -> str:
    if not raw:
        return FALLBACK
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    # Drop control characters and bidirectional overrides (category Cc/Cf), keep letters and emoji.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf"})
    name = name.strip().lstrip(".")
    if len(name) > MAX_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        keep = suffix if dot and len(suffix) <= 10 else ""
        name = name[: MAX_LENGTH - len(keep) - 1] + ("." + keep if keep else "")
    return name or FALLBACK


def content_disposition(filename: str) -> str:
    """An RFC 6266 attachment header with an ASCII fallback and the UTF-8 name."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = (
        "".join(ch for ch in ascii_name if ch.isprintable() and ch not in '"\\;') or FALLBACK
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
