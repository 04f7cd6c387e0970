"""Two actors acting on one case at once cannot both win (DESIGN §6)."""

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from httpx import Response

from app import access
from app.context import AppContext
from tests.factories import SUBMIT_DOCUMENTS, Api

BARRIER_TIMEOUT = 10


def at_once(calls: list[Callable[[], Response]]) -> list[Response]:
    """Run the calls in threads released together, and return their responses in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Response]) -> Response:
        barrier.wait(timeout=BARRIER_TIMEOUT)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [f.result(timeout=60) for f in futures]


def assert_chain_intact(api: Api, case_id: str) -> list[dict[str, Any]]:
    history = api.history(case_id)
    seqs = [e["seq"] for e in history]
    assert seqs == list(range(1, len(history) + 1))
    assert api.verify(case_id)["valid"] is True
    return history


def fire_with(api: Api, case_id: str, version: int, action: str, **fields: Any) -> Any:
    return lambda: api.fire(case_id, action, "council", version, **fields)


@pytest.fixture
def rounds(is_postgres: bool) -> int:
    # PostgreSQL runs the requests truly in parallel: repeat to give the race a real chance.
    return 10 if is_postgres else 3


class TestConcurrentTransitions:
    def test_two_councils_accepting_at_once_one_wins_and_one_is_told_the_case_moved(
        self, api: Api
    ) -> None:
        case = api.submitted_case()
        before = len(api.history(case["id"]))

        responses = at_once([fire_with(api, case["id"], case["version"], "accept")] * 2)

        statuses = sorted(r.status_code for r in responses)
        assert statuses[0] == 200
        assert statuses[1] in (409, 412), [r.text for r in responses]
        after = api.read(case["id"])
        assert after["state"] == "council_review"
        assert after["version"] == case["version"] + 1
        history = assert_chain_intact(api, case["id"])
        assert len(history) == before + 1
        assert [e["action"] for e in history].count("accept") == 1

    def test_repeated_races_on_one_case_always_leave_exactly_one_winner(
        self, api: Api, rounds: int
    ) -> None:
        case = api.case_in_council_review()
        assert api.upload(case["id"], "site_visit_minutes", "council").status_code == 201
        version = api.read(case["id"])["version"]
        entries = len(api.history(case["id"]))

        for _ in range(rounds):
            responses = at_once(
                [fire_with(api, case["id"], version, "record_site_visit", comment=f"visit {i}")
                 for i in range(2)]
            )  # fmt: skip
            statuses = Counter(r.status_code for r in responses)
            assert statuses == Counter({200: 1, 412: 1}), [r.text for r in responses]
            winner = next(r for r in responses if r.status_code == 200).json()
            assert winner["version"] == version + 1
            version, entries = version + 1, entries + 1
            assert api.read(case["id"])["version"] == version
            assert len(assert_chain_intact(api, case["id"])) == entries

    def test_competing_actions_leave_the_state_of_the_one_that_won(self, api: Api) -> None:
        case = api.case_in_council_review()
        assert api.upload(case["id"], "council_proposal", "council").status_code == 201
        version = api.read(case["id"])["version"]

        responses = at_once(
            [
                fire_with(api, case["id"], version, "propose_to_ministry"),
                fire_with(api, case["id"], version, "decline", reason="Chưa đủ tiêu chí"),
            ]
        )

        winners = [r.json() for r in responses if r.status_code == 200]
        assert len(winners) == 1, [r.text for r in responses]
        after = api.read(case["id"])
        assert after["state"] == winners[0]["state"]
        assert after["version"] == version + 1
        assert assert_chain_intact(api, case["id"])[-1]["to_state"] == after["state"]

    def test_both_past_the_version_check_the_database_still_lets_only_one_write(
        self, api: Api, is_postgres: bool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite serialises write transactions from their first statement")
        case = api.submitted_case()
        both_checked = threading.Barrier(2)
        check_version = access.check_version
        passed: list[int] = []

        def check_then_wait(case_row: Any, expected: int) -> None:
            check_version(case_row, expected)
            both_checked.wait(timeout=BARRIER_TIMEOUT)
            passed.append(expected)

        monkeypatch.setattr(access, "check_version", check_then_wait)
        responses = at_once([fire_with(api, case["id"], case["version"], "accept")] * 2)
        monkeypatch.undo()

        assert passed == [case["version"]] * 2
        assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
        assert api.read(case["id"])["version"] == case["version"] + 1
        assert [e["action"] for e in assert_chain_intact(api, case["id"])] == [
            "create",
            *["upload_document"] * len(SUBMIT_DOCUMENTS),
            "submit",
            "accept",
        ]


class TestConcurrentUploads:
    def test_uploads_of_one_type_at_once_all_succeed_and_leave_one_current_version(
        self, api: Api
    ) -> None:
        case = api.create_case()
        uploads = 4

        responses = at_once([lambda: api.upload(case["id"], "provincial_proposal")] * uploads)

        assert [r.status_code for r in responses] == [201] * uploads, [r.text for r in responses]
        documents = api.documents(case["id"])
        assert {d["id"] for d in documents} == {r.json()["id"] for r in responses}
        current = [d for d in documents if not d["superseded"]]
        assert len(current) == 1
        superseded_by = Counter(d["superseded_by"] for d in documents if d["superseded"])
        # The versions form one line: each superseded by a different, later upload.
        assert sorted(superseded_by.values()) == [1] * (uploads - 1)
        assert current[0]["id"] not in {d["id"] for d in documents if d["superseded"]}
        assert api.read(case["id"])["version"] == case["version"] + uploads

    def test_uploads_of_every_type_at_once_leave_one_current_version_each(
        self, api: Api, rounds: int
    ) -> None:
        case = api.create_case()
        per_type = 2 if rounds > 3 else 1
        calls = [
            (lambda t=doc_type: api.upload(case["id"], t))
            for doc_type in SUBMIT_DOCUMENTS
            for _ in range(per_type)
        ]

        responses = at_once(calls)

        assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
        documents = api.documents(case["id"])
        assert len(documents) == len(calls)
        current = Counter(d["doc_type"] for d in documents if not d["superseded"])
        assert current == Counter(SUBMIT_DOCUMENTS)
        submitted = api.advance(case["id"], "submit", "applicant")
        assert submitted["version"] == case["version"] + len(calls) + 1


class TestConcurrentSubmissions:
    def test_dossiers_submitted_at_once_get_distinct_consecutive_codes(
        self, api: Api, ctx: AppContext
    ) -> None:
        drafts = []
        for _ in range(4):
            case = api.create_case()
            for doc_type in SUBMIT_DOCUMENTS:
                assert api.upload(case["id"], doc_type).status_code == 201
            drafts.append(api.read(case["id"], "applicant"))

        responses = at_once(
            [(lambda c=c: api.fire(c["id"], "submit", "applicant", c["version"])) for c in drafts]
        )

        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
        day = ctx.today().strftime("%y%m%d")
        codes = sorted(r.json()["code"] for r in responses)
        assert codes == [f"QTSC-{day}-{n:04d}" for n in range(1, 5)]
