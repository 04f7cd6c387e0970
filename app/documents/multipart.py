"""Streams a `multipart/form-data` upload straight into the document store.

Starlette's own form parsing would buffer the whole body before the endpoint runs; here the
file part goes chunk by chunk into the store's staging (a file, or an object store's upload
in parts), so the size limit is enforced while the bytes arrive and memory stays flat
whatever the upload's size. A store whose writes wait on the network is written to from a
worker thread, never from the event loop.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.multipart import MultipartParser, parse_options_header

from app.core.errors import AdmissionError, InvalidInput, UnsupportedType
from app.core.threads import in_worker_thread
from app.storage.base import DocumentStore, StagedFile, StagingWriter

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_FIELD_BYTES = 1024
MAX_PARTS = 4
FILE_FIELD = "file"


@dataclass
class ParsedUpload:
    fields: dict[str, str]
    filename: str | None
    staged: StagedFile


@dataclass
class _State:
    parts: int = 0
    header_field: bytes = b""
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str | None = None
    filename: str | None = None
    value: bytearray = field(default_factory=bytearray)
    writer: StagingWriter | None = None
    # The file part, read to its end, not yet finished.
    complete: StagingWriter | None = None
    staged: StagedFile | None = None
    file_name: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


async def receive_upload(
    content_type: str, body: AsyncIterator[bytes], store: DocumentStore, limit: int
) -> ParsedUpload:
    mime, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise UnsupportedType("the upload must be multipart/form-data with a boundary")
    state = _State()
    parser = MultipartParser(boundary, _callbacks(state, store, limit))
    try:
        async for chunk in body:
            if store.blocking_writes:
                await in_worker_thread(parser.write, chunk)
            else:
                parser.write(chunk)
        if store.blocking_writes:
            await in_worker_thread(parser.finalize)
        else:
            parser.finalize()
        if state.complete is not None:
            state.staged = await in_worker_thread(state.complete.finish)
            state.complete = None
    except AdmissionError:  # too large, malformed fields, the store unavailable
        await _discard(state, store)
        raise
    except Exception as exc:  # the parser's own errors: a malformed body
        await _discard(state, store)
        raise InvalidInput("malformed multipart body", {"body": str(exc)}) from exc
    if state.staged is None:
        await _discard(state, store)
        raise InvalidInput("a file is required", {"file": "missing"})
    return ParsedUpload(fields=state.fields, filename=state.file_name, staged=state.staged)


async def _discard(state: _State, store: DocumentStore) -> None:
    for writer in (state.writer, state.complete):
        if writer is not None:
            await in_worker_thread(writer.discard)
    if state.staged is not None:
        await in_worker_thread(store.discard, state.staged)


def _callbacks(state: _State, store: DocumentStore, limit: int) -> "MultipartCallbacks":
    def on_part_begin() -> None:
        state.parts += 1
        if state.parts > MAX_PARTS:
            raise InvalidInput(f"at most {MAX_PARTS} parts are accepted")
        state.headers, state.name, state.filename = {}, None, None
        state.value = bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        key = state.header_field.lower()
        state.headers[key] = state.headers.get(key, b"") + data[start:end]

    def on_header_end() -> None:
        state.header_field = b""

    def on_headers_finished() -> None:
        disposition = state.headers.get(b"content-disposition", b"")
        _, params = parse_options_header(disposition)
        state.name = params.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = params.get(b"filename")
        state.filename = raw_filename.decode("utf-8", "replace") if raw_filename else None
        if state.name == FILE_FIELD:
            if state.writer is not None or state.complete is not None:
                raise InvalidInput("exactly one file is accepted", {"file": "repeated"})
            state.writer = store.staging(limit)
            state.file_name = state.filename

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state.name == FILE_FIELD and state.writer is not None:
            state.writer.write(data[start:end])
            return
        state.value += data[start:end]
        if len(state.value) > MAX_FIELD_BYTES:
            raise InvalidInput(f"field {state.name!r} is too long", {state.name: "too long"})

    def on_part_end() -> None:
        if state.name == FILE_FIELD and state.writer is not None:
            # Finished (flushed to disk, or its last part sent) once the body is read, off
            # the event loop.
            state.complete = state.writer
            state.writer = None
        elif state.name:
            state.fields[state.name] = state.value.decode("utf-8", "replace").strip()

    return {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
