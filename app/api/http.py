"""Small HTTP helpers shared by endpoints: entity tags and preconditions."""

from typing import Annotated

from fastapi import Header, Response
from pydantic import BaseModel

from app.core.errors import PreconditionRequired, VersionMismatch

IfMatch = Annotated[str | None, Header(description='The case version read, as `"<version>"`.')]


def etag(version: int) -> str:
    return f'"{version}"'


def version_from_if_match(header: str | None) -> int:
    """The case version a client claims to have read; 428 without one, 412 if unreadable."""
    if header is None or not header.strip():
        raise PreconditionRequired('this request needs an If-Match header: If-Match: "<version>"')
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise VersionMismatch(f"If-Match {header!r} is not a case version", {"if_match": header})
    return int(value)


def optional_version_from_if_match(header: str | None) -> int | None:
    """As `version_from_if_match`, where the header may be left out (None then)."""
    if header is None or not header.strip():
        return None
    return version_from_if_match(header)


def json_response(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """`model` as a JSON response, serialised by the endpoint itself: a plain (threaded)
    endpoint whose model the framework serialises afterwards pays one more thread hop."""
    return Response(
        model.model_dump_json().encode(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )
