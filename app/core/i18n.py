"""The language of a request's words: Vietnamese unless `Accept-Language` prefers English."""

from typing import Literal

Lang = Literal["vi", "en"]
DEFAULT: Lang = "vi"


def negotiate(accept_language: str | None) -> Lang:
    """The first of vi and en the header ranks highest (RFC 9110 §12.5.4); vi by default."""
    if not accept_language:
        return DEFAULT
    best: tuple[float, int, Lang] | None = None
    for order, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("vi", "en") or quality <= 0:
            continue
        candidate = (quality, -order, primary)
        if best is None or candidate > best:
            best = (quality, -order, "vi" if primary == "vi" else "en")
    return best[2] if best else DEFAULT
