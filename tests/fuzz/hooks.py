"""Schemathesis hooks: what a well-behaved client of this API does that a schema cannot say.

Loaded by `schemathesis.toml` (so by `schemathesis run` started in the repository) and by
tests/fuzz. No check is turned off here: these only shape what is sent.
"""

import io
import uuid
import zipfile
from typing import Any

import schemathesis
from hypothesis import strategies as st

from app.documents import sniff
from app.idempotency.service import HEADER, MAX_KEY_LENGTH, parse_key

# Room for the suffix that makes a key unique: "." and 32 hexadecimal digits.
_SUFFIX = 33


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """A fresh `Idempotency-Key` for every request meant to be valid, as the header's
    contract asks of a client.

    A key sent again with another request is refused (422 `idempotency_key_reused`), and a
    key sent again with the same request gets the first response back (a subscription
    deleted since then stays deleted): that is the point of the header, but generated keys
    repeat ("0", "A", ...). Requests meant to be refused are sent as drawn: their refusal is
    what is under test. Retries are tested in tests/idempotency.
    """
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == HEADER and isinstance(value, str) and parse_key(value) is not None:
            headers[name] = f"{value[: MAX_KEY_LENGTH - _SUFFIX]}.{uuid.uuid4().hex}"


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    """Drop a case meant to be valid whose form body names a value its schema does not list.

    Schemathesis' coverage phase builds one multipart body from the media types of
    `encoding.contentType` and fills the other required parts with "", whatever their
    schema (an upload's `doc_type` is an enum): such a case is not valid, though marked so.
    """
    if case.meta is None or case.meta.generation.mode.is_negative:
        return True
    if not isinstance(case.body, dict) or case.media_type != "multipart/form-data":
        return True
    body = case.operation.get_body_for_media_type(case.media_type)
    properties = body.form_properties if body is not None else {}
    return all(
        value in properties[name]["enum"]
        for name, value in case.body.items()
        if isinstance(properties.get(name), dict) and "enum" in properties[name]
    )


# The file types an upload takes (`encoding.file.contentType`): their signature, then any
# bytes; DOCX and XLSX are ZIP archives holding the parts that name them.
def _office(part: str) -> st.SearchStrategy[bytes]:
    def archive(text: bytes) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("[Content_Types].xml", b"<Types/>")
            z.writestr(part, text)
        return buffer.getvalue()

    return st.binary(max_size=64).map(archive)


def _signed(signature: bytes) -> st.SearchStrategy[bytes]:
    return st.binary(max_size=256).map(lambda rest: signature + rest)


for kind, strategy in {
    sniff.PDF: _signed(b"%PDF-1.7\n"),
    sniff.PNG: _signed(b"\x89PNG\r\n\x1a\n"),
    sniff.JPEG: _signed(b"\xff\xd8\xff"),
    sniff.DOCX: _office("word/document.xml"),
    sniff.XLSX: _office("xl/workbook.xml"),
}.items():
    schemathesis.openapi.media_type(kind.content_type, strategy)
