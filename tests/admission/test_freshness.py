"""The rule behind `fresh_documents` and `fresh_documents_requested_by`, without HTTP.

Each test sets a case up through the API, then moves the moments that matter (when the case
entered its state, when a document was uploaded) straight in the database and asks
`freshness.stale` what the transition still lacks.
"""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.admission import freshness
from app.admission.steps import Check
from app.cases.models import Case
from app.context import AppContext
from app.core.db import unit_of_work
from app.documents.models import Document
from app.engine.definition import TransitionSpec
from tests.factories import Api

MOMENT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def spec_of(ctx: AppContext, state: str, action: str) -> TransitionSpec:
    spec = ctx.workflows.get("qtsc-chain-admission", 1).transition(state, action)
    assert spec is not None
    return spec


def stale_names(ctx: AppContext, case_id: str, state: str, action: str) -> list[str]:
    with unit_of_work(ctx.engine, write=False) as session:
        case = session.get(Case, uuid.UUID(case_id))
        assert case is not None
        missing = freshness.stale(Check(session, ctx, case), spec_of(ctx, state, action))
        return [m.name for m in missing]


def set_times(
    ctx: AppContext, case_id: str, *, entered: datetime, uploaded: dict[str, datetime]
) -> None:
    cid = uuid.UUID(case_id)
    with unit_of_work(ctx.engine) as session:
        session.execute(update(Case).where(Case.id == cid).values(state_entered_at=entered))
        for doc_type, at in uploaded.items():
            session.execute(
                update(Document)
                .where(Document.case_id == cid, Document.doc_type == doc_type)
                .values(uploaded_at=at)
            )


class TestSinceTheStateWasEntered:
    def test_a_document_uploaded_at_the_very_moment_the_case_entered_is_not_new(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.case_in_council_review()
        assert api.upload(case["id"], "site_visit_minutes", "council").status_code == 201
        set_times(ctx, case["id"], entered=MOMENT, uploaded={"site_visit_minutes": MOMENT})
        assert stale_names(ctx, case["id"], "council_review", "record_site_visit") == [
            "site_visit_minutes"
        ]

        set_times(
            ctx,
            case["id"],
            entered=MOMENT,
            uploaded={"site_visit_minutes": MOMENT + timedelta(microseconds=1)},
        )
        assert stale_names(ctx, case["id"], "council_review", "record_site_visit") == []

    def test_a_rejected_new_version_does_not_count(self, api: Api, ctx: AppContext) -> None:
        case = api.case_in_council_review()
        assert api.upload(case["id"], "site_visit_minutes", "council").status_code == 201
        assert stale_names(ctx, case["id"], "council_review", "record_site_visit") == []
        with unit_of_work(ctx.engine) as session:
            session.execute(
                update(Document)
                .where(Document.doc_type == "site_visit_minutes")
                .values(rejected_at=datetime.now(UTC), rejection_reason="Không rõ chữ ký")
            )
        assert stale_names(ctx, case["id"], "council_review", "record_site_visit") == [
            "site_visit_minutes"
        ]

    def test_a_transition_without_fresh_documents_reads_nothing(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.case_in_council_review()
        assert stale_names(ctx, case["id"], "council_review", "propose_to_ministry") == []


class TestSinceTheRequest:
    def test_only_documents_uploaded_after_the_request_count(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.case_in_council_review()
        api.advance(
            case["id"],
            "request_supplement",
            "council",
            reason="Bổ sung",
            supplement_documents=["site_documents", "investment_plan"],
        )
        assert api.upload(case["id"], "site_documents").status_code == 201

        assert stale_names(ctx, case["id"], "supplement_requested", "resubmit") == [
            "investment_plan"
        ]

    def test_a_request_from_before_the_case_entered_its_state_asks_for_nothing(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.case_in_council_review()
        api.advance(
            case["id"],
            "request_supplement",
            "council",
            reason="Bổ sung",
            supplement_documents=["investment_plan"],
        )
        assert stale_names(ctx, case["id"], "supplement_requested", "resubmit") == [
            "investment_plan"
        ]
        with unit_of_work(ctx.engine, write=False) as session:
            entered = session.scalar(select(Case.state_entered_at))
        assert entered is not None
        # As if the case had come into the supplement state again some other way since.
        set_times(ctx, case["id"], entered=entered + timedelta(seconds=1), uploaded={})

        assert stale_names(ctx, case["id"], "supplement_requested", "resubmit") == []
