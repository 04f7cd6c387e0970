"""Many clients racing on one case through real server processes: one winner per version.

On PostgreSQL two `admission serve` processes share the database, so no lock inside one
process can be what keeps two transitions from both winning: the version in the UPDATE's
WHERE and the unique (case_id, seq) of the history do. On SQLite one process serialises
the writes, and waiting for the lock must never reach a client as an error.
"""

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from app import access
from app.cases.models import Case
from app.context import AppContext
from app.core.db import unit_of_work
from app.core.errors import VersionMismatch
from app.events.models import Event
from app.history.actions import CREATE, EDIT, RECORDS
from app.history.chain import GENESIS
from app.history.models import AuditEntry
from tests.factories import Api
from tests.reliability.servers import Server, serving

CLIENTS = 12
ROUNDS = 12
LOSING = {409, 412}
NOT_TRANSITIONS = {CREATE, EDIT, *RECORDS}


@pytest.fixture
def servers(ctx: AppContext, tmp_path: Path) -> Iterator[list[Server]]:
    count = 2 if ctx.engine.dialect.name == "postgresql" else 1
    with serving(ctx.settings.database_url, ctx.settings.storage_dir, tmp_path, count) as started:
        yield started


@dataclass
class Tally:
    races: int = 0
    double_wins: int = 0
    no_wins: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    winners: list[str] = field(default_factory=list)

    def line(self, backend: str, servers: int) -> str:
        return (
            f"{backend}: {self.races} races of {CLIENTS} clients on {servers} server process(es): "
            f"{self.double_wins} double wins, {self.no_wins} without a winner, "
            f"statuses {dict(sorted(self.statuses.items()))}"
        )


def next_moves(state: str) -> list[tuple[str, dict[str, Any]]]:
    """The actions the clients fire from `state`, one per client, all at the same version."""
    if state == "supplement_requested":
        return [("applicant", {"action": "resubmit"})] * CLIENTS
    assert state == "council_review", state
    visit = ("council", {"action": "record_site_visit"})
    supplement = ("council", {"action": "request_supplement", "reason": "Thiếu quy hoạch"})
    return [visit if i % 2 else supplement for i in range(CLIENTS)]


def race(
    clients: list[httpx.Client],
    api: Api,
    case_id: str,
    version: int,
    moves: list[tuple[str, dict[str, Any]]],
    label: str,
) -> list[tuple[str, httpx.Response]]:
    """Every client fires its move at once with If-Match `version`; their comments and answers."""
    barrier = threading.Barrier(len(clients))

    def fire(i: int) -> tuple[str, httpx.Response]:
        who, body = moves[i]
        comment = f"{label}-{i}-{uuid.uuid4().hex[:8]}"
        headers = api.headers(who, version)
        barrier.wait(timeout=30)
        response = clients[i].post(
            f"/api/v1/cases/{case_id}/transitions",
            json={**body, "comment": comment},
            headers=headers,
        )
        return comment, response

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return list(pool.map(fire, range(len(clients))))


class TestRacingTransitionsThroughServerProcesses:
    def test_each_version_has_exactly_one_winner_and_the_history_no_gap_or_duplicate(
        self, api: Api, ctx: AppContext, servers: list[Server]
    ) -> None:
        case = api.case_in_council_review()
        assert api.upload(case["id"], "site_visit_minutes", "council").status_code == 201
        start = api.read(case["id"])
        entries_before = len(api.history(case["id"]))
        clients = [
            httpx.Client(base_url=servers[i % len(servers)].url, timeout=60) for i in range(CLIENTS)
        ]
        tally = Tally()
        try:
            for client in clients:  # open every connection before the first race
                assert client.get("/healthz").status_code == 200
            version, state = start["version"], start["state"]
            for n in range(ROUNDS):
                answers = race(clients, api, case["id"], version, next_moves(state), f"r{n}")
                tally.races += 1
                tally.statuses.update(r.status_code for _, r in answers)
                won = [(c, r) for c, r in answers if r.status_code == 200]
                tally.double_wins += len(won) > 1
                tally.no_wins += not won
                if len(won) != 1:
                    break
                comment, response = won[0]
                tally.winners.append(comment)
                assert response.json()["version"] == version + 1
                version, state = version + 1, response.json()["state"]
        finally:
            for client in clients:
                client.close()
        print(tally.line(ctx.engine.dialect.name, len(servers)))

        assert tally.double_wins == 0
        assert tally.no_wins == 0
        assert tally.races == ROUNDS
        assert set(tally.statuses) <= {200} | LOSING, tally.statuses
        assert tally.statuses[200] == ROUNDS
        for server in servers:
            log = server.log()
            assert "database is locked" not in log
            assert "Traceback" not in log

        after = api.read(case["id"])
        assert after["version"] == start["version"] + ROUNDS
        history = api.history(case["id"])
        assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
        assert len(history) == entries_before + ROUNDS
        assert [e["comment"] for e in history[entries_before:]] == tally.winners
        assert history[-1]["to_state"] == after["state"]
        with httpx.Client(base_url=servers[-1].url) as client:
            verified = client.get(
                f"/api/v1/cases/{case['id']}/history/verify", headers=api.headers("council")
            )
        assert verified.json() == {"valid": True, "entries": len(history), "first_bad_seq": None}

        case_id = uuid.UUID(case["id"])
        with unit_of_work(ctx.engine, write=False) as session:
            seqs = list(
                session.scalars(
                    select(AuditEntry.seq).where(AuditEntry.case_id == case_id).order_by("seq")
                )
            )
            stored_version = session.scalar(select(Case.version).where(Case.id == case_id))
            transitioned = session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.case_id == case_id, Event.type == "case.transitioned")
            )
        assert seqs == list(range(1, len(history) + 1))
        assert stored_version == after["version"]
        assert transitioned == sum(1 for e in history if e["action"] not in NOT_TRANSITIONS)


class TestTheDatabaseItselfGuards:
    def test_a_second_history_entry_with_the_same_seq_is_refused(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        entry = {
            "case_id": uuid.UUID(case["id"]),
            "seq": 1,
            "action": "create",
            "from_state": None,
            "to_state": "draft",
            "actor_org": "hau-giang",
            "actor_role": "applicant",
            "at": ctx.now(),
            "fields": {},
            "prev_hash": GENESIS,
            "hash": "f" * 64,
        }
        with pytest.raises(IntegrityError), ctx.engine.begin() as connection:
            connection.execute(insert(AuditEntry), entry)

    def test_a_write_based_on_a_stale_version_changes_no_row_and_is_a_412(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        case_id = uuid.UUID(case["id"])
        with unit_of_work(ctx.engine, write=False) as session:
            stale = session.get(Case, case_id)
        assert stale is not None
        assert api.patch(case["id"], investor="Quỹ đầu tư").status_code == 200

        stale.investor = "Nhà đầu tư khác"

        def write_stale() -> None:
            with unit_of_work(ctx.engine) as session:
                session.add(stale)
                access.save(session, stale, ctx.now() + timedelta(seconds=1))

        with pytest.raises(VersionMismatch):
            write_stale()

        current = api.read(case["id"], "applicant")
        assert current["version"] == case["version"] + 1
        assert current["investor"] == "Quỹ đầu tư"
