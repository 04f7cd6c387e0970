"""Small HTTP helpers shared by endpoints: entity tags and preconditions."""

import re
from typing import Annotated

from fastapi import Header, Response
from pydantic import BaseModel

from app.core.errors import InvalidInput, PreconditionRequired

# A case's ETag as a client sends it back: `"<version>"`, weak (`W/"<version>"`) or bare
# digits.
IF_MATCH_PATTERN = r'^(?:W/)?(?:"[0-9]{1,18}"|[0-9]{1,18})$'
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
# Marks the schema of a header the OpenAPI document must call required, although the
# endpoint reads it as optional to answer 428 (RFC 6585), not 422, when it is missing or
# empty (see app/api/openapi.py). The pattern is checked by `version_from_if_match`, after
# the body (a malformed form or JSON body is told so first).
REQUIRED_HEADER = "x-required-header"

_DESCRIPTION = 'The case version read, as its ETag gives it: `"<version>"`.'
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description=_DESCRIPTION + " Required: 428 without it, 412 when the case has moved on.",
        json_schema_extra={"pattern": IF_MATCH_PATTERN, REQUIRED_HEADER: True},
    ),
]
OptionalIfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description=_DESCRIPTION + " Optional: when given, 412 if the case has moved on.",
        json_schema_extra={"pattern": IF_MATCH_PATTERN},
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


def version_from_if_match(header: str | None) -> int:
    """The case version a client claims to have read; 428 without one, 422 if malformed."""
    if header is None or not header.strip():
        raise PreconditionRequired('this request needs an If-Match header: If-Match: "<version>"')
    if _IF_MATCH.fullmatch(header) is None:
        raise InvalidInput(
            f'If-Match {header!r} is not a case ETag ("<version>")',
            [{"field": "header.if-match", "problem": "malformed"}],
        )
    return int(header.removeprefix("W/").strip('"'))


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
