"""The audit trail: append-only entries, hash-chained per case, so tampering shows."""

import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from app.context import AppContext
from app.core.db import unit_of_work
from app.history.chain import GENESIS, compute_hash
from app.history.models import AuditEntry
from tests.factories import Api

ENTRY_FIELDS = {
    "seq",
    "action",
    "from_state",
    "to_state",
    "actor",
    "at",
    "comment",
    "reason",
    "prev_hash",
    "hash",
}


def reviewed_case(api: Api) -> dict[str, Any]:
    """A case with five entries: create, submit, accept, record_site_visit, request_supplement."""
    case = api.case_in_council_review()
    assert api.upload(case["id"], "site_visit_minutes", "council").status_code == 201
    api.advance(case["id"], "record_site_visit", "council", comment="Khảo sát ngày 4/5/2023")
    return api.advance(case["id"], "request_supplement", "council", reason="Thiếu quy hoạch")


def tamper(ctx: AppContext, case_id: str, seq: int, values: dict[str, Any]) -> None:
    table = AuditEntry.__table__
    with ctx.engine.begin() as conn:
        result = conn.execute(
            update(table)
            .where(table.c.case_id == uuid.UUID(case_id), table.c.seq == seq)
            .values(**values)
        )
        assert result.rowcount == 1


def remove(ctx: AppContext, case_id: str, seq: int) -> None:
    table = AuditEntry.__table__
    with ctx.engine.begin() as conn:
        result = conn.execute(
            delete(table).where(table.c.case_id == uuid.UUID(case_id), table.c.seq == seq)
        )
        assert result.rowcount == 1


class TestHistoryEntries:
    def test_each_entry_has_the_fields_of_the_contract(self, api: Api) -> None:
        case = reviewed_case(api)
        history = api.history(case["id"])
        assert [e["action"] for e in history] == [
            "create",
            "submit",
            "accept",
            "record_site_visit",
            "request_supplement",
        ]
        for entry in history:
            assert set(entry) >= ENTRY_FIELDS
            assert set(entry["actor"]) >= {"org", "role"}
            assert datetime.fromisoformat(entry["at"]).utcoffset() is not None

    def test_entries_say_who_did_what_from_where_to_where(self, api: Api) -> None:
        case = reviewed_case(api)
        rows = [
            (e["seq"], e["action"], e["from_state"], e["to_state"], e["actor"]["org"])
            for e in api.history(case["id"])
        ]
        roles = {e["actor"]["org"]: e["actor"]["role"] for e in api.history(case["id"])}
        assert roles == {"hau-giang": "applicant", "hdqlc": "council"}
        assert rows == [
            (1, "create", None, "draft", "hau-giang"),
            (2, "submit", "draft", "submitted", "hau-giang"),
            (3, "accept", "submitted", "council_review", "hdqlc"),
            (4, "record_site_visit", "council_review", "council_review", "hdqlc"),
            (5, "request_supplement", "council_review", "supplement_requested", "hdqlc"),
        ]  # fmt: skip

    def test_comments_and_reasons_are_kept_on_their_entries(self, api: Api) -> None:
        case = reviewed_case(api)
        history = api.history(case["id"])
        assert (history[3]["comment"], history[3]["reason"]) == ("Khảo sát ngày 4/5/2023", None)
        assert (history[4]["comment"], history[4]["reason"]) == (None, "Thiếu quy hoạch")

    def test_entries_are_in_time_order(self, api: Api) -> None:
        case = reviewed_case(api)
        times = [datetime.fromisoformat(e["at"]) for e in api.history(case["id"])]
        assert times == sorted(times)

    def test_each_entry_is_chained_to_the_one_before(self, api: Api) -> None:
        case = reviewed_case(api)
        history = api.history(case["id"])
        assert history[0]["prev_hash"] == GENESIS
        for previous, entry in zip(history, history[1:], strict=False):
            assert entry["prev_hash"] == previous["hash"]
        assert len({e["hash"] for e in history}) == len(history)
        assert all(len(e["hash"]) == 64 for e in history)

    def test_a_decision_is_recorded_with_its_number_and_date(self, api: Api) -> None:
        case = api.case_in_pm_review()
        assert api.upload(case["id"], "pm_decision", "government").status_code == 201
        api.advance(
            case["id"],
            "approve",
            "government",
            decision_number="1898/QĐ-TTg",
            decision_date="2019-12-25",
        )
        entry = api.history(case["id"])[-1]
        assert entry["action"] == "approve"
        assert entry["fields"]["decision_number"] == "1898/QĐ-TTg"
        assert entry["fields"]["decision_date"] == "2019-12-25"

    def test_a_refused_transition_leaves_no_entry(self, api: Api) -> None:
        case = api.case_in_council_review()
        before = api.history(case["id"])
        assert api.fire(case["id"], "decline", "council", case["version"]).status_code == 409
        assert api.fire(case["id"], "decline", "council", case["version"] - 1).status_code == 412
        assert api.history(case["id"]) == before

    def test_an_applicant_reads_the_history_of_its_own_case(self, api: Api) -> None:
        case = reviewed_case(api)
        assert api.history(case["id"], "applicant") == api.history(case["id"], "council")


class TestVerify:
    def test_an_untouched_chain_verifies(self, api: Api) -> None:
        case = reviewed_case(api)
        assert api.verify(case["id"]) == {"valid": True, "entries": 5, "first_bad_seq": None}

    @pytest.mark.parametrize(
        ("seq", "values"),
        [
            (5, {"reason": "Hồ sơ đã đủ"}),
            (3, {"actor_org": "hau-giang"}),
            (1, {"to_state": "submitted"}),
            (4, {"comment": None}),
            (2, {"fields": {"code": "QTSC-000000-0000"}}),
        ],
        ids=["reason", "actor", "to-state", "comment", "fields"],
    )
    def test_a_modified_row_is_found_at_its_seq(
        self, api: Api, ctx: AppContext, seq: int, values: dict[str, Any]
    ) -> None:
        case = reviewed_case(api)
        tamper(ctx, case["id"], seq, values)
        assert api.verify(case["id"]) == {"valid": False, "entries": 5, "first_bad_seq": seq}

    def test_a_deleted_middle_row_is_found_at_the_row_after_it(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = reviewed_case(api)
        remove(ctx, case["id"], 3)
        assert api.verify(case["id"]) == {"valid": False, "entries": 4, "first_bad_seq": 4}

    def test_a_deleted_first_row_is_found(self, api: Api, ctx: AppContext) -> None:
        case = reviewed_case(api)
        remove(ctx, case["id"], 1)
        assert api.verify(case["id"]) == {"valid": False, "entries": 4, "first_bad_seq": 2}

    def test_a_row_rewritten_with_a_fresh_hash_breaks_the_link_to_the_next(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = reviewed_case(api)
        with unit_of_work(ctx.engine) as session:
            entry = session.scalars(
                select(AuditEntry).where(
                    AuditEntry.case_id == uuid.UUID(case["id"]), AuditEntry.seq == 3
                )
            ).one()
            entry.actor_org = "someone-else"
            entry.hash = compute_hash(entry, entry.prev_hash)
        assert api.verify(case["id"]) == {"valid": False, "entries": 5, "first_bad_seq": 4}

    def test_a_renumbered_row_is_found(self, api: Api, ctx: AppContext) -> None:
        case = reviewed_case(api)
        tamper(ctx, case["id"], 5, {"seq": 6})
        assert api.verify(case["id"])["first_bad_seq"] == 6

    def test_tampering_with_one_case_does_not_taint_another(
        self, api: Api, ctx: AppContext
    ) -> None:
        tampered, intact = reviewed_case(api), reviewed_case(api)
        tamper(ctx, tampered["id"], 2, {"reason": "x"})
        assert api.verify(tampered["id"])["valid"] is False
        assert api.verify(intact["id"]) == {"valid": True, "entries": 5, "first_bad_seq": None}

    def test_the_chain_keeps_verifying_as_it_grows(self, api: Api) -> None:
        case = api.create_case()
        assert api.verify(case["id"]) == {"valid": True, "entries": 1, "first_bad_seq": None}
        for n, investor in enumerate(["Một", "Hai", "Ba"], start=2):
            assert api.patch(case["id"], investor=investor).status_code == 200
            assert api.verify(case["id"]) == {"valid": True, "entries": n, "first_bad_seq": None}
