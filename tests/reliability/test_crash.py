"""SIGKILL of the server mid-load (DESIGN §4, reliability): nothing acknowledged is lost or
doubled, every chain verifies, every case's state is explained by its history, every document
is on disk with its SHA-256, and `admission gc` removes what the crash left behind.

A smaller load than bench/crash_bench.py, which runs the same scenario for longer.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.context import AppContext
from tests.reliability.crash import CrashScenario, Load
from tests.reliability.servers import Server

CI_LOAD = Load(clients=4, cases_per_client=2, acked_per_cycle=120, cycle_timeout=90)


@pytest.fixture
def server(ctx: AppContext, tmp_path: Path) -> Iterator[Server]:
    server = Server(ctx.settings.database_url, ctx.settings.storage_dir, tmp_path, "crash")
    server.start()
    yield server
    server.stop()


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
