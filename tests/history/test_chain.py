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


# The entries of `reviewed_case`, by seq: every upload is a change of the case too.
REVIEWED = [
    "create",
    *["upload_document"] * 6,
    "submit",
    "accept",
    "upload_document",
    "record_site_visit",
    "request_supplement",
]
NEWEST = len(REVIEWED)


def seq_of(action: str) -> int:
    """The seq of the first entry of `action` in `reviewed_case`."""
    return REVIEWED.index(action) + 1


def reviewed_case(api: Api) -> dict[str, Any]:
    """A case with twelve entries: create, six uploads, submit, accept, the site visit's
    minutes uploaded, record_site_visit, request_supplement."""
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


def rehash(ctx: AppContext, case_id: str, seq: int, **values: Any) -> None:
    """Change an entry and give it the hash its new content has (its link back stays)."""
    with unit_of_work(ctx.engine) as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.case_id == uuid.UUID(case_id), AuditEntry.seq == seq
            )
        ).one()
        for name, value in values.items():
            setattr(entry, name, value)
        entry.hash = compute_hash(entry, entry.prev_hash)


def swap_contents(ctx: AppContext, case_id: str, a: int, b: int) -> None:
    """Exchange everything but the id and seq of two entries: the rows are reordered."""
    table = AuditEntry.__table__
    moved = [c for c in table.columns if c.name not in ("id", "seq", "case_id")]
    with ctx.engine.begin() as conn:
        rows = {
            seq: conn.execute(
                select(*moved).where(table.c.case_id == uuid.UUID(case_id), table.c.seq == seq)
            ).one()
            for seq in (a, b)
        }
        for seq, other in ((a, b), (b, a)):
            conn.execute(
                update(table)
                .where(table.c.case_id == uuid.UUID(case_id), table.c.seq == seq)
                .values(**dict(zip([c.name for c in moved], rows[other], strict=True)))
            )


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
        assert [e["action"] for e in history] == REVIEWED
        for entry in history:
            assert set(entry) >= ENTRY_FIELDS
            assert set(entry["actor"]) >= {"org", "role"}
            assert datetime.fromisoformat(entry["at"]).utcoffset() is not None

    def test_entries_say_who_did_what_from_where_to_where(self, api: Api) -> None:
        case = reviewed_case(api)
        rows = [
            (e["seq"], e["action"], e["from_state"], e["to_state"], e["actor"]["org"])
            for e in api.history(case["id"])
            if e["action"] != "upload_document"
        ]
        roles = {e["actor"]["org"]: e["actor"]["role"] for e in api.history(case["id"])}
        assert roles == {"hau-giang": "applicant", "hdqlc": "council"}
        assert rows == [
            (1, "create", None, "draft", "hau-giang"),
            (8, "submit", "draft", "submitted", "hau-giang"),
            (9, "accept", "submitted", "council_review", "hdqlc"),
            (11, "record_site_visit", "council_review", "council_review", "hdqlc"),
            (12, "request_supplement", "council_review", "supplement_requested", "hdqlc"),
        ]  # fmt: skip

    def test_comments_and_reasons_are_kept_on_their_entries(self, api: Api) -> None:
        case = reviewed_case(api)
        visit, request = (api.history(case["id"])[seq_of(a) - 1] for a in REVIEWED[-2:])
        assert (visit["comment"], visit["reason"]) == ("Khảo sát ngày 4/5/2023", None)
        assert (request["comment"], request["reason"]) == (None, "Thiếu quy hoạch")

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
        assert api.verify(case["id"]) == {"valid": True, "entries": 12, "first_bad_seq": None}

    @pytest.mark.parametrize(
        ("seq", "values"),
        [
            (seq_of("request_supplement"), {"reason": "Hồ sơ đã đủ"}),
            (seq_of("accept"), {"actor_org": "hau-giang"}),
            (1, {"to_state": "submitted"}),
            (seq_of("record_site_visit"), {"comment": None}),
            (seq_of("submit"), {"fields": {"code": "QTSC-000000-0000"}}),
            (2, {"fields": {"doc_type": "site_documents"}}),
        ],
        ids=["reason", "actor", "to-state", "comment", "fields", "upload"],
    )
    def test_a_modified_row_is_found_at_its_seq(
        self, api: Api, ctx: AppContext, seq: int, values: dict[str, Any]
    ) -> None:
        case = reviewed_case(api)
        tamper(ctx, case["id"], seq, values)
        assert api.verify(case["id"]) == {"valid": False, "entries": 12, "first_bad_seq": seq}

    def test_a_deleted_middle_row_is_found_at_the_row_after_it(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = reviewed_case(api)
        remove(ctx, case["id"], seq_of("accept"))
        after = seq_of("accept") + 1
        assert api.verify(case["id"]) == {"valid": False, "entries": 11, "first_bad_seq": after}

    def test_a_deleted_first_row_is_found(self, api: Api, ctx: AppContext) -> None:
        case = reviewed_case(api)
        remove(ctx, case["id"], 1)
        assert api.verify(case["id"]) == {"valid": False, "entries": 11, "first_bad_seq": 2}

    def test_a_deleted_newest_row_is_found_at_its_seq(self, api: Api, ctx: AppContext) -> None:
        case = reviewed_case(api)
        remove(ctx, case["id"], NEWEST)
        assert api.verify(case["id"]) == {
            "valid": False,
            "entries": NEWEST - 1,
            "first_bad_seq": NEWEST,
        }

    def test_the_newest_rows_deleted_are_found_at_the_first_of_them(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = reviewed_case(api)
        for seq in (NEWEST, NEWEST - 1, NEWEST - 2):
            remove(ctx, case["id"], seq)
        assert api.verify(case["id"])["first_bad_seq"] == NEWEST - 2

    def test_a_whole_history_deleted_is_found(self, api: Api, ctx: AppContext) -> None:
        case = reviewed_case(api)
        with ctx.engine.begin() as conn:
            conn.execute(delete(AuditEntry).where(AuditEntry.case_id == uuid.UUID(case["id"])))
        assert api.verify(case["id"]) == {"valid": False, "entries": 0, "first_bad_seq": 1}

    def test_a_deletion_stays_visible_after_the_case_moves_on(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = reviewed_case(api)
        remove(ctx, case["id"], NEWEST)
        api.advance(case["id"], "resubmit", "applicant")
        # The next entry follows the head the case recorded, not the newest row left.
        assert api.history(case["id"])[-1]["seq"] == NEWEST + 1
        assert api.verify(case["id"])["valid"] is False

    def test_reordered_rows_are_found_at_the_first_of_them(self, api: Api, ctx: AppContext) -> None:
        case = reviewed_case(api)
        swap_contents(ctx, case["id"], seq_of("submit"), seq_of("accept"))
        assert api.verify(case["id"]) == {
            "valid": False,
            "entries": NEWEST,
            "first_bad_seq": seq_of("submit"),
        }

    def test_a_newest_row_rewritten_with_a_fresh_hash_is_found(
        self, api: Api, ctx: AppContext
    ) -> None:
        # Nothing links to the newest entry: only the head the case records can tell.
        case = reviewed_case(api)
        rehash(ctx, case["id"], NEWEST, reason="Hồ sơ đã đủ")
        assert api.verify(case["id"]) == {
            "valid": False,
            "entries": NEWEST,
            "first_bad_seq": NEWEST,
        }

    def test_a_row_added_at_the_end_is_found(self, api: Api, ctx: AppContext) -> None:
        case = reviewed_case(api)
        newest = api.history(case["id"])[-1]
        with unit_of_work(ctx.engine) as session:
            extra = AuditEntry(
                case_id=uuid.UUID(case["id"]),
                seq=NEWEST + 1,
                action="withdraw",
                from_state="supplement_requested",
                to_state="withdrawn",
                actor_org="hau-giang",
                actor_role="applicant",
                at=datetime.fromisoformat(newest["at"]),
                comment=None,
                reason="thêm vào",
                fields={},
                prev_hash=newest["hash"],
            )
            extra.hash = compute_hash(extra, extra.prev_hash)
            session.add(extra)
        assert api.verify(case["id"])["first_bad_seq"] == NEWEST + 1

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
        assert api.verify(case["id"]) == {"valid": False, "entries": 12, "first_bad_seq": 4}

    def test_a_renumbered_row_is_found(self, api: Api, ctx: AppContext) -> None:
        case = reviewed_case(api)
        tamper(ctx, case["id"], NEWEST, {"seq": NEWEST + 1})
        assert api.verify(case["id"])["first_bad_seq"] == NEWEST + 1

    def test_tampering_with_one_case_does_not_taint_another(
        self, api: Api, ctx: AppContext
    ) -> None:
        tampered, intact = reviewed_case(api), reviewed_case(api)
        tamper(ctx, tampered["id"], 2, {"reason": "x"})
        assert api.verify(tampered["id"])["valid"] is False
        assert api.verify(intact["id"]) == {"valid": True, "entries": 12, "first_bad_seq": None}

    def test_the_chain_keeps_verifying_as_it_grows(self, api: Api) -> None:
        case = api.create_case()
        assert api.verify(case["id"]) == {"valid": True, "entries": 1, "first_bad_seq": None}
        for n, investor in enumerate(["Một", "Hai", "Ba"], start=2):
            assert api.patch(case["id"], investor=investor).status_code == 200
            assert api.verify(case["id"]) == {"valid": True, "entries": n, "first_bad_seq": None}
