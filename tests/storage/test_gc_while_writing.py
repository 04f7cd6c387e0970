"""`admission gc` racing the transactions that reference objects, on either store: the row
naming an object is written before the object is placed, and the collector deletes only while
it holds the `documents` table against writers (so it is safe from any number of hosts: the
lock is in the database they share)."""

import hashlib
import threading
import uuid
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import select

from app.auth.models import Organisation
from app.context import AppContext
from app.core.config import Settings
from app.core.db import unit_of_work
from app.core.models import utcnow
from app.documents import gc
from app.documents.models import Document
from app.storage.base import EntryKind, StoreEntry
from tests.factories import Api, pdf_bytes

WAIT = 1.5


@pytest.fixture(params=["local", "s3"])
def store_api(request: pytest.FixtureRequest, backend: Settings) -> tuple[Api, AppContext]:
    """The API and its context, with documents on disk or in an S3 bucket."""
    if request.param == "local":
        return request.getfixturevalue("api"), request.getfixturevalue("ctx")
    return request.getfixturevalue("s3_api"), request.getfixturevalue("s3_ctx")


def place_orphan(ctx: AppContext, content: bytes) -> str:
    """An object no row names, as an upload killed between placing it and committing leaves."""
    staged = ctx.store.stage_bytes(content)
    ctx.store.commit(staged)
    return staged.sha256


def collect_in_thread(ctx: AppContext, found: list[gc.Collection]) -> threading.Thread:
    thread = threading.Thread(
        target=lambda: found.append(gc.collect(ctx.engine, ctx.store, min_age=0, now=utcnow()))
    )
    thread.start()
    return thread


class TestARowWrittenBeforeTheCollectorLooksAgain:
    def test_the_collector_waits_for_the_transaction_and_keeps_the_object_it_names(
        self, store_api: tuple[Api, AppContext]
    ) -> None:
        api, ctx = store_api
        case = api.create_case()
        content = pdf_bytes("named by a row not yet committed")
        sha = place_orphan(ctx, content)
        found: list[gc.Collection] = []

        # Another host's upload: its row is written, its transaction not committed yet.
        with unit_of_work(ctx.engine) as session:
            session.add(
                Document(
                    case_id=uuid.UUID(case["id"]),
                    doc_type="provincial_proposal",
                    filename="to-trinh.pdf",
                    content_type="application/pdf",
                    size=len(content),
                    sha256=sha,
                    uploaded_by_org_id=org_id(ctx, "hau-giang"),
                    uploaded_by_role="applicant",
                )
            )
            session.flush()
            collector = collect_in_thread(ctx, found)
            collector.join(WAIT)
            waited = collector.is_alive()
        collector.join(30)

        assert waited
        assert [g.location for g in found[0].files] == []
        assert ctx.store.verify(sha, len(content))


class TestARowWrittenWhileTheCollectorDeletes:
    def test_the_writer_waits_and_puts_the_object_back_from_its_own_upload(
        self, store_api: tuple[Api, AppContext], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        api, ctx = store_api
        case = api.create_case()
        content = pdf_bytes("uploaded again while it is collected")
        sha = place_orphan(ctx, content)
        remove = ctx.store.remove
        answers: list[Response] = []
        upload_waited: list[bool] = []

        def remove_while_uploading(entry: StoreEntry, cutoff: float) -> Any:
            # The collector holds the documents table: the same bytes arrive meanwhile.
            if entry.kind is EntryKind.OBJECT and entry.sha256 == sha:
                uploader = threading.Thread(
                    target=lambda: answers.append(
                        api.upload(case["id"], "provincial_proposal", content=content)
                    )
                )
                uploader.start()
                uploader.join(WAIT)
                upload_waited.append(uploader.is_alive())
                self.uploader = uploader
            return remove(entry, cutoff)

        monkeypatch.setattr(ctx.store, "remove", remove_while_uploading)
        collection = gc.collect(ctx.engine, ctx.store, min_age=0, now=utcnow())
        self.uploader.join(30)

        assert [g.entry.sha256 for g in collection.files] == [sha]  # it was an orphan then
        assert upload_waited == [True]
        assert answers[0].status_code == 201, answers[0].text
        assert ctx.store.verify(sha, len(content))
        download = api.download(case["id"], answers[0].json()["id"])
        assert hashlib.sha256(download.content).hexdigest() == sha


def org_id(ctx: AppContext, slug: str) -> int:
    with unit_of_work(ctx.engine, write=False) as session:
        return int(session.scalar(select(Organisation.id).where(Organisation.slug == slug)))
