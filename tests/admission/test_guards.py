"""Each guard of app/admission/guards.py on its own: a real database, no HTTP."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from app.admission.registry import STEPS
from app.auth.models import Organisation
from app.cases.schemas import Missing
from app.context import AppContext
from app.engine.roles import OrgKind, Role
from app.history import service as history
from tests.admission.factories import (
    MONDAY,
    actor_of,
    check,
    make_case,
    make_consultation,
    make_org,
)

TODAY = MONDAY.date()  # Monday 2 March 2026
YESTERDAY = date(2026, 3, 1)


class TestConsultationsSettled:
    @pytest.fixture
    def mpi(self, session: Session) -> Organisation:
        return make_org(session, "mpi", OrgKind.MINISTRY)

    @pytest.fixture
    def mof(self, session: Session) -> Organisation:
        return make_org(session, "mof", OrgKind.MINISTRY)

    def test_unanswered_consultations_not_yet_overdue_are_missing_one_per_ministry(
        self, session: Session, ctx: AppContext, mpi: Organisation, mof: Organisation
    ) -> None:
        case = make_case(session, ctx, state="consultation")
        make_consultation(session, case, mpi, due_at=date(2026, 3, 16))
        make_consultation(session, case, mof, due_at=TODAY)  # due today: not yet overdue

        missing = STEPS.check("consultations_settled", check(session, ctx, case))

        assert missing == [
            Missing(
                kind="consultation", name=slug, message="has not answered and is not yet overdue"
            )
            for slug in ("mof", "mpi")
        ]

    def test_answered_or_overdue_consultations_are_settled(
        self, session: Session, ctx: AppContext, mpi: Organisation, mof: Organisation
    ) -> None:
        case = make_case(session, ctx, state="consultation")
        make_consultation(session, case, mpi, due_at=date(2026, 3, 16), answered_at=MONDAY)
        make_consultation(session, case, mof, due_at=YESTERDAY)

        assert STEPS.check("consultations_settled", check(session, ctx, case)) == []

    def test_only_the_open_round_of_this_case_counts(
        self, session: Session, ctx: AppContext, mpi: Organisation, mof: Organisation
    ) -> None:
        case = make_case(session, ctx, state="consultation")
        closed = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)
        make_consultation(session, case, mof, due_at=date(2026, 3, 16), closed_at=closed)
        make_consultation(session, case, mpi, round=2, due_at=date(2026, 3, 16))
        other = make_case(session, ctx, state="consultation")
        make_consultation(session, other, mof, due_at=date(2026, 3, 16))

        missing = STEPS.check("consultations_settled", check(session, ctx, case))

        assert [m.name for m in missing] == ["mpi"]

    def test_a_case_with_no_consultation_is_settled(
        self, session: Session, ctx: AppContext
    ) -> None:
        case = make_case(session, ctx, state="ministry_appraisal")
        assert STEPS.check("consultations_settled", check(session, ctx, case)) == []


class TestExtensionAvailable:
    def test_a_clock_never_extended_may_be(self, session: Session, ctx: AppContext) -> None:
        case = make_case(session, ctx, state="council_review", due_at=date(2026, 3, 30))
        assert STEPS.check("extension_available", check(session, ctx, case)) == []

    def test_an_extended_clock_names_the_earlier_extension(
        self, session: Session, ctx: AppContext
    ) -> None:
        council = actor_of(make_org(session, "hdqlc", OrgKind.COUNCIL), Role.COUNCIL)
        extended_at = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)
        case = make_case(
            session,
            ctx,
            state="council_review",
            due_at=date(2026, 4, 3),
            original_due_at=date(2026, 3, 30),
            extended_at=extended_at,
        )
        for seq, (action, at) in enumerate(
            [("extend_deadline", datetime(2026, 1, 5, 3, 0, tzinfo=UTC)), ("accept", MONDAY)], 1
        ):
            history.append(
                session,
                case=case,
                actor=council,
                action=action,
                from_state=None,
                to_state=case.state,
                at=at,
                fields={"original_due_at": f"earlier-{seq}"},
            )
        history.append(
            session,
            case=case,
            actor=council,
            action="extend_deadline",
            from_state="council_review",
            to_state="council_review",
            at=extended_at,
            reason="Cần khảo sát thực tế",
            fields={"original_due_at": "2026-03-30", "new_due_date": "2026-04-03"},
        )

        missing = STEPS.check("extension_available", check(session, ctx, case))

        assert missing == [
            Missing(
                kind="extension",
                name="extend_deadline",
                message=(
                    "the deadline was already extended once in this state: history #3, "
                    f"{extended_at.isoformat()}, by hdqlc (council), from 2026-03-30 to "
                    "2026-04-03: Cần khảo sát thực tế"
                ),
            )
        ]

    def test_an_extension_without_its_history_entry_still_counts(
        self, session: Session, ctx: AppContext
    ) -> None:
        extended_at = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)
        case = make_case(
            session, ctx, state="council_review", due_at=date(2026, 4, 3), extended_at=extended_at
        )

        missing = STEPS.check("extension_available", check(session, ctx, case))

        assert [m.message for m in missing] == [
            f"the deadline was already extended on {extended_at.isoformat()}"
        ]
