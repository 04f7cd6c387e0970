"""SIGKILL of the server mid-load (DESIGN §4, reliability): nothing acknowledged is lost or
doubled, every chain verifies, every case's state is explained by its history, every document
is on disk with its SHA-256, and `admission gc` removes what the crash left behind.

A smaller load than bench/crash_bench.py, which runs the same scenario for longer.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.context import AppContext
from tests.reliability.crash import CrashScenario, Findings, Load, store_env
from tests.reliability.servers import Server
from tests.s3 import S3Server

CI_LOAD = Load(clients=4, cases_per_client=2, acked_per_cycle=120, cycle_timeout=90)
# On the S3 store the slow upload must have sent a whole part (5 MiB) before it shows there.
S3_LOAD = Load(
    clients=3,
    cases_per_client=2,
    acked_per_cycle=60,
    cycle_timeout=90,
    slow_max=6 * 1024 * 1024,
    slow_seen_at=5 * 1024 * 1024,
)


@pytest.fixture
def server(ctx: AppContext, tmp_path: Path) -> Iterator[Server]:
    server = Server(ctx.settings.database_url, ctx.settings.storage_dir, tmp_path, "crash")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_server_process(s3_ctx: AppContext, s3_server: S3Server, tmp_path: Path) -> Iterator[Server]:
    if s3_ctx.engine.dialect.name != "postgresql":
        pytest.skip("the S3 store is for several hosts, which share a PostgreSQL database")
    env = {**s3_server.env(), **store_env(s3_ctx)}
    server = Server(
        s3_ctx.settings.database_url, s3_ctx.settings.storage_dir, tmp_path, "crash-s3", env=env
    )
    server.start()
    yield server
    server.stop()


def assert_sound(findings: Findings, load: Load) -> None:
    assert findings.unexpected == []
    assert findings.acked >= load.acked_per_cycle
    assert findings.uploads_acked > 0
    assert findings.retried == findings.lost
    assert findings.retry_problems == []
    assert findings.missing == []
    assert findings.duplicates == []
    assert findings.found == findings.acked_total
    assert findings.unexplained == []
    assert findings.chains_valid == findings.cases
    assert findings.document_problems == []
    assert findings.slow_upload_staged
    assert findings.orphans_staging >= 1
    assert findings.store_problems == []
    assert findings.sound


class TestKillingTheServerMidLoad:
    def test_what_was_acknowledged_survives_once_and_gc_leaves_exactly_the_referenced_files(
        self, ctx: AppContext, server: Server
    ) -> None:
        scenario = CrashScenario(ctx, server, CI_LOAD)
        scenario.prepare()

        findings = scenario.cycle(1)

        print(f"{ctx.engine.dialect.name}: {findings}")
        assert findings.unexpected == []
        assert findings.acked >= CI_LOAD.acked_per_cycle
        assert findings.uploads_acked > 0
        # Each transition left unanswered by the kill, sent again with its Idempotency-Key,
        # was replayed if it had committed and run if not.
        assert findings.retried == findings.lost
        assert findings.retry_problems == []
        assert findings.missing == []
        assert findings.duplicates == []
        assert findings.found == findings.acked_total
        assert findings.unexplained == []
        assert findings.chains_valid == findings.cases
        assert findings.document_problems == []
        # The large upload was streaming when the process died: its staging file stayed.
        assert findings.slow_upload_staged
        assert findings.orphans_staging >= 1
        assert findings.store_problems == []
        assert findings.sound


class TestKillingTheServerMidLoadOnTheS3Store:
    def test_no_committed_row_lacks_its_object_and_gc_leaves_exactly_the_referenced_ones(
        self, s3_ctx: AppContext, s3_server_process: Server
    ) -> None:
        scenario = CrashScenario(s3_ctx, s3_server_process, S3_LOAD)
        scenario.prepare()

        findings = scenario.cycle(1)

        print(f"{s3_ctx.engine.dialect.name} on S3: {findings}")
        # Every document row's object is in the bucket with its SHA-256 (document_problems);
        # the large upload cut off mid-way left an unfinished multipart upload, which gc
        # aborted with the objects no row names (store_problems).
        assert_sound(findings, S3_LOAD)
