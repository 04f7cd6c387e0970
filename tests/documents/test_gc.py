"""`admission gc`: files no document row references, stale staging files, expired idempotency
keys; young files spared, referenced ones never touched."""

import hashlib
import os
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from app.auth.models import Organisation
from app.cli import main
from app.context import AppContext
from app.core.config import get_settings
from app.core.db import unit_of_work
from app.core.models import utcnow
from app.documents import gc
from app.idempotency.models import IdempotencyKey
from app.storage.local import StagedFile
from tests.factories import Api, pdf_bytes

HOUR = 3600


def run_gc(ctx: AppContext, *args: str) -> Result:
    env = {
        "DATABASE_URL": ctx.settings.database_url,
        "STORAGE_DIR": str(ctx.settings.storage_dir),
    }
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["gc", *args], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result


def last_line(result: Result) -> str:
    return result.output.splitlines()[-1]


def age(path: Path, seconds: float) -> Path:
    """Make the file look last written `seconds` ago."""
    at = time.time() - seconds
    os.utime(path, (at, at))
    return path


def orphan(ctx: AppContext, content: bytes, seconds_old: float) -> Path:
    """A stored file as an upload killed between its move and its commit leaves it."""
    path = ctx.store.path_for(hashlib.sha256(content).hexdigest())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return age(path, seconds_old)


def staging(ctx: AppContext, content: bytes, seconds_old: float) -> Path:
    path = ctx.store.tmp_dir / f"{uuid.uuid4().hex}.part"
    path.write_bytes(content)
    return age(path, seconds_old)


def uploaded(api: Api, ctx: AppContext, case_id: str, doc_type: str, seconds_old: float) -> Path:
    response = api.upload(case_id, doc_type)
    assert response.status_code == 201, response.text
    return age(ctx.store.path_for(response.json()["sha256"]), seconds_old)


class TestUnreferencedAndStagingFiles:
    def test_old_orphans_go_young_ones_stay_and_referenced_files_are_never_touched(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        referenced = uploaded(api, ctx, case["id"], "provincial_proposal", 2 * HOUR)
        old_orphan = orphan(ctx, pdf_bytes("old"), 2 * HOUR)
        young_orphan = orphan(ctx, pdf_bytes("young"), 60)
        old_part = staging(ctx, b"x" * 100, 2 * HOUR)
        young_part = staging(ctx, b"y" * 10, 60)
        removed_bytes = old_orphan.stat().st_size + 100

        result = run_gc(ctx)

        assert last_line(result) == (
            f"removed 2 files (1 unreferenced, 1 staging), {removed_bytes} bytes; "
            "0 expired idempotency keys; forgot 0 finished webhook deliveries and 0 removed "
            "subscriptions"
        )
        assert not old_orphan.exists()
        assert not old_part.exists()
        assert referenced.exists()
        assert young_orphan.exists()
        assert young_part.exists()

        result = run_gc(ctx, "--min-age", "0")

        assert last_line(result).startswith("removed 2 files (1 unreferenced, 1 staging)")
        assert not young_orphan.exists()
        assert not young_part.exists()
        assert referenced.exists()
        download = api.download(case["id"], api.documents(case["id"])[0]["id"])
        assert download.status_code == 200

    def test_a_file_referenced_only_by_a_superseded_version_stays(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        first = uploaded(api, ctx, case["id"], "site_documents", 2 * HOUR)
        second = uploaded(api, ctx, case["id"], "site_documents", 2 * HOUR)

        result = run_gc(ctx, "--min-age", "0")

        assert last_line(result).startswith("removed 0 files")
        assert first.exists()
        assert second.exists()
        assert [d["superseded"] for d in api.documents(case["id"])] == [True, False]

    def test_an_orphan_whose_bytes_are_uploaded_again_becomes_referenced_and_stays(
        self, api: Api, ctx: AppContext
    ) -> None:
        content = pdf_bytes("retried")
        path = orphan(ctx, content, 2 * HOUR)
        case = api.create_case()

        response = api.upload(case["id"], "membership_scheme", content=content)

        assert response.status_code == 201, response.text
        assert response.json()["sha256"] == path.name
        # Reused bytes are young again, so even a scan made before the row commits spares them.
        assert time.time() - path.stat().st_mtime < HOUR
        run_gc(ctx, "--min-age", "0")
        assert path.read_bytes() == content

    def test_files_that_are_not_at_a_content_address_are_left_alone(self, ctx: AppContext) -> None:
        content = pdf_bytes("misplaced")
        digest = hashlib.sha256(content).hexdigest()
        strangers = [
            ctx.store.root / "README",
            ctx.store.root / "ab" / "cd" / digest,  # a hash under the wrong prefix
            ctx.store.root / digest[:2] / digest[2:4] / "notes.txt",
            ctx.store.tmp_dir / "upload.tmp",
        ]
        for path in strangers:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            age(path, 2 * HOUR)

        result = run_gc(ctx, "--min-age", "0")

        assert last_line(result).startswith("removed 0 files")
        assert all(p.exists() for p in strangers)

    def test_a_dry_run_lists_what_would_go_and_removes_nothing(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        referenced = uploaded(api, ctx, case["id"], "provincial_proposal", 2 * HOUR)
        old_orphan = orphan(ctx, pdf_bytes("old"), 2 * HOUR)
        old_part = staging(ctx, b"z" * 7, 2 * HOUR)

        result = run_gc(ctx, "--dry-run")

        lines = result.output.splitlines()
        assert sorted(lines[:-1]) == sorted(
            [
                f"would remove unreferenced {old_orphan} ({old_orphan.stat().st_size} bytes)",
                f"would remove staging {old_part} (7 bytes)",
            ]
        )
        assert lines[-1].startswith("would remove 2 files (1 unreferenced, 1 staging)")
        assert old_orphan.exists()
        assert old_part.exists()
        assert referenced.exists()


def add_key(
    ctx: AppContext, key: str, *, expires_in: timedelta, locked_for: timedelta | None
) -> None:
    now = utcnow()
    with unit_of_work(ctx.engine) as session:
        org_id = session.scalar(select(Organisation.id).where(Organisation.slug == "hau-giang"))
        assert org_id is not None
        session.add(
            IdempotencyKey(
                organisation_id=org_id,
                key=key,
                fingerprint="0" * 64,
                method="POST",
                path="/api/v1/cases",
                attempt=uuid.uuid4(),
                locked_until=None if locked_for is None else now + locked_for,
                completed_at=None if locked_for is not None else now,
                status_code=None if locked_for is not None else 201,
                response_headers={},
                response_body=b"{}",
                created_at=now - timedelta(days=2),
                expires_at=now + expires_in,
            )
        )


def keys(ctx: AppContext) -> set[str]:
    with unit_of_work(ctx.engine, write=False) as session:
        return set(session.scalars(select(IdempotencyKey.key)))


class TestExpiredIdempotencyKeys:
    def test_expired_keys_go_and_live_or_leased_ones_stay(self, api: Api, ctx: AppContext) -> None:
        add_key(ctx, "expired", expires_in=timedelta(hours=-1), locked_for=None)
        add_key(ctx, "expired-lease-over", expires_in=timedelta(hours=-1), locked_for=-timedelta(1))
        add_key(ctx, "live", expires_in=timedelta(hours=1), locked_for=None)
        # Past its expiry but still held by an attempt: left to that attempt.
        add_key(ctx, "running", expires_in=timedelta(seconds=-1), locked_for=timedelta(minutes=2))

        dry = run_gc(ctx, "--dry-run")

        assert "; 2 expired idempotency keys;" in last_line(dry)
        assert len(keys(ctx)) == 4

        result = run_gc(ctx)

        assert "; 2 expired idempotency keys;" in last_line(result)
        assert keys(ctx) == {"live", "running"}
        assert "; 0 expired idempotency keys;" in last_line(run_gc(ctx))


class CollectorDuringCommit:
    """Runs the collector (min-age 0) from inside the store's commit, i.e. while the request
    that put the file there has not committed yet, and notes whether it had to wait."""

    def __init__(self, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ctx = ctx
        self.commit = ctx.store.commit
        self.placed: list[Path] = []
        self.waited: list[bool] = []
        self.threads: list[threading.Thread] = []
        self.collections: list[gc.Collection] = []
        monkeypatch.setattr(ctx.store, "commit", self)

    def __call__(self, staged: StagedFile) -> Path:
        final = self.commit(staged)
        self.placed.append(final)
        collector = threading.Thread(target=self.collect)
        collector.start()
        # The collector must wait for this transaction: had it not, it would be done by now.
        collector.join(timeout=1.5)
        self.waited.append(collector.is_alive())
        self.threads.append(collector)
        return final

    def collect(self) -> None:
        self.collections.append(
            gc.collect(self.ctx.engine, self.ctx.store, min_age=0, now=utcnow())
        )

    def finish(self) -> None:
        for thread in self.threads:
            thread.join(timeout=30)


class TestCollectingWhileTheServiceWrites:
    def test_an_uploaded_file_not_yet_committed_is_waited_for_and_kept(
        self, api: Api, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        case = api.create_case()
        during = CollectorDuringCommit(ctx, monkeypatch)

        response = api.upload(case["id"], "provincial_proposal")
        monkeypatch.undo()
        during.finish()

        assert response.status_code == 201, response.text
        assert during.waited == [True]
        assert [c.files for c in during.collections] == [[]]
        assert during.placed == [ctx.store.path_for(response.json()["sha256"])]
        assert during.placed[0].is_file()

    def test_a_letter_not_yet_committed_is_waited_for_and_kept(
        self, api: Api, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        case = api.case_in_council_review()
        during = CollectorDuringCommit(ctx, monkeypatch)

        answer = api.advance(case["id"], "request_supplement", "council", reason="Thiếu bản đồ")
        monkeypatch.undo()
        during.finish()

        assert answer["state"] == "supplement_requested"
        assert during.waited == [True]
        assert [c.files for c in during.collections] == [[]]
        notice = next(d for d in api.documents(case["id"]) if d["doc_type"] == "supplement_notice")
        assert during.placed == [ctx.store.path_for(notice["sha256"])]
        assert api.download(case["id"], notice["id"]).status_code == 200
