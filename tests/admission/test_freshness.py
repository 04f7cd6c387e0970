"""The rule behind `fresh_documents` and `fresh_documents_requested_by` (real database, no HTTP).

Rows are put in place through the models with the moments that matter (when the case entered
its state, when each document was uploaded, when the action last fired) and
`freshness.stale` is asked what the transition still lacks.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.admission import freshness
from app.auth.actor import Actor
from app.cases.models import Case
from app.context import AppContext
from app.engine.definition import TransitionSpec
from app.engine.roles import OrgKind, Role
from app.history import service as history
from tests.admission.factories import (
    MONDAY,
    actor_of,
    check,
    make_case,
    make_document,
    make_org,
    workflow_of,
)

LATER = MONDAY + timedelta(days=1)


def council(session: Session) -> Actor:
    return actor_of(make_org(session, "hdqlc", OrgKind.COUNCIL), Role.COUNCIL)


def spec_of(ctx: AppContext, case: Case, action: str) -> TransitionSpec:
    spec = workflow_of(ctx, case).transition(case.state, action)
    assert spec is not None
    return spec


def stale(session: Session, ctx: AppContext, case: Case, action: str) -> dict[str, str]:
    missing = freshness.stale(check(session, ctx, case), spec_of(ctx, case, action))
    assert {m.kind for m in missing} <= {"document"}
    return {m.name: m.message or "" for m in missing}


def fired(
    session: Session, case: Case, actor: Actor, action: str, at: datetime, **fields: Any
) -> None:
    history.append(
        session,
        case=case,
        actor=actor,
        action=action,
        from_state=case.state,
        to_state=case.state,
        at=at,
        fields=fields,
    )


class TestSinceTheStateWasEntered:
    def test_a_document_uploaded_at_the_very_moment_the_case_entered_is_not_new(
        self, session: Session, ctx: AppContext
    ) -> None:
        case = make_case(session, ctx, state="council_review", state_entered_at=MONDAY)
        make_document(session, case, "site_visit_minutes", council(session), uploaded_at=MONDAY)

        assert stale(session, ctx, case, "record_site_visit") == {
            "site_visit_minutes": "uploaded 2026-03-02 09:00, before the case entered "
            "council_review (2026-03-02 09:00): upload a new one"
        }

    def test_a_document_uploaded_a_moment_after_the_case_entered_is_new(
        self, session: Session, ctx: AppContext
    ) -> None:
        case = make_case(session, ctx, state="council_review", state_entered_at=MONDAY)
        uploaded_at = MONDAY + timedelta(microseconds=1)
        make_document(
            session, case, "site_visit_minutes", council(session), uploaded_at=uploaded_at
        )

        assert stale(session, ctx, case, "record_site_visit") == {}

    def test_after_a_site_visit_the_mark_is_the_visit_not_the_entry(
        self, session: Session, ctx: AppContext
    ) -> None:
        hdqlc = council(session)
        case = make_case(session, ctx, state="council_review", state_entered_at=MONDAY)
        make_document(
            session, case, "site_visit_minutes", hdqlc, uploaded_at=MONDAY + timedelta(hours=1)
        )
        fired(session, case, hdqlc, "record_site_visit", LATER)

        assert stale(session, ctx, case, "record_site_visit") == {
            "site_visit_minutes": "uploaded 2026-03-02 10:00, before the last record_site_visit "
            "(2026-03-03 09:00): upload a new one"
        }

    def test_a_visit_of_an_earlier_stay_in_the_state_does_not_move_the_mark(
        self, session: Session, ctx: AppContext
    ) -> None:
        hdqlc = council(session)
        case = make_case(session, ctx, state="council_review", state_entered_at=LATER)
        fired(session, case, hdqlc, "record_site_visit", MONDAY)
        make_document(
            session, case, "site_visit_minutes", hdqlc, uploaded_at=LATER + timedelta(hours=1)
        )

        assert stale(session, ctx, case, "record_site_visit") == {}

    def test_a_superseded_version_does_not_count_and_none_at_all_is_not_uploaded(
        self, session: Session, ctx: AppContext
    ) -> None:
        case = make_case(session, ctx, state="council_review", state_entered_at=MONDAY)
        make_document(
            session,
            case,
            "site_visit_minutes",
            council(session),
            uploaded_at=LATER,
            superseded_at=LATER,
        )

        assert stale(session, ctx, case, "record_site_visit") == {
            "site_visit_minutes": "not uploaded since the case entered council_review "
            "(2026-03-02 09:00)"
        }

    def test_a_transition_without_fresh_documents_reads_nothing(
        self, session: Session, ctx: AppContext
    ) -> None:
        case = make_case(session, ctx, state="council_review")
        assert stale(session, ctx, case, "propose_to_ministry") == {}


class TestSinceTheRequest:
    def supplement_case(self, session: Session, ctx: AppContext, *documents: str) -> Case:
        """A case the council asked, on Monday, to supply `documents` again."""
        applicant = make_org(session, "hau-giang")
        case = make_case(
            session,
            ctx,
            state="supplement_requested",
            applicant=applicant,
            state_entered_at=MONDAY,
            return_state="council_review",
        )
        history.append(
            session,
            case=case,
            actor=council(session),
            action="request_supplement",
            from_state="council_review",
            to_state="supplement_requested",
            at=MONDAY,
            reason="Bổ sung",
            fields={"supplement_documents": list(documents)},
        )
        return case

    def test_only_documents_uploaded_after_the_request_count(
        self, session: Session, ctx: AppContext
    ) -> None:
        case = self.supplement_case(session, ctx, "site_documents", "investment_plan")
        province = actor_of(make_org(session), Role.APPLICANT)
        make_document(session, case, "site_documents", province, uploaded_at=LATER)
        make_document(session, case, "investment_plan", province, uploaded_at=MONDAY)

        assert stale(session, ctx, case, "resubmit") == {
            "investment_plan": "uploaded 2026-03-02 09:00, before the request_supplement of "
            "2026-03-02 09:00 that asked for it: upload a new one"
        }

    def test_a_request_that_named_no_documents_asks_for_none(
        self, session: Session, ctx: AppContext
    ) -> None:
        case = self.supplement_case(session, ctx)
        assert stale(session, ctx, case, "resubmit") == {}

    def test_a_request_from_before_the_case_entered_its_state_asks_for_nothing(
        self, session: Session, ctx: AppContext
    ) -> None:
        case = self.supplement_case(session, ctx, "investment_plan")
        assert list(stale(session, ctx, case, "resubmit")) == ["investment_plan"]
        # As if the case had come into the supplement state again some other way since.
        case.state_entered_at = LATER

        assert stale(session, ctx, case, "resubmit") == {}

    def test_the_case_id_is_what_is_read(self, session: Session, ctx: AppContext) -> None:
        asked = self.supplement_case(session, ctx, "investment_plan")
        other = make_case(
            session, ctx, state="supplement_requested", state_entered_at=MONDAY, id=uuid.uuid4()
        )
        assert list(stale(session, ctx, asked, "resubmit")) == ["investment_plan"]
        assert stale(session, ctx, other, "resubmit") == {}
