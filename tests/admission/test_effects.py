"""Each effect of app/admission/effects.py on its own: a real database, no HTTP.

A test builds the `Firing` an effect sees, runs it through the registry (`STEPS.apply`, which
also hands its values on) and looks at the case's columns, the rows written and what the
effect returned for the history entry.
"""

import hashlib
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admission.registry import STEPS
from app.admission.steps import Firing
from app.auth.actor import Actor
from app.auth.models import Organisation
from app.cases.models import Case, DossierCodeSequence
from app.consultations.models import Consultation
from app.context import AppContext
from app.core.errors import Conflict, ValueConflict
from app.deadlines.clock import ClockState
from app.documents.models import Document
from app.engine.definition import ConsultationSpec
from app.engine.roles import OrgKind, Role
from app.engine.workflow import Workflow
from app.events import service as events
from app.letters import service as letters
from tests.admission.factories import (
    MONDAY,
    actor_of,
    check,
    firing,
    make_case,
    make_consultation,
    make_document,
    make_org,
    workflow_of,
)
from tests.factories import Clock

# 20:00 UTC on 13 March is 03:00 on 14 March in Hà Nội: the code follows the Vietnamese date.
EVENING_UTC = datetime(2026, 3, 13, 20, 0, tzinfo=UTC)
# Twenty working days after Monday 2 March 2026 (the council review's deadline).
MARCH_30 = date(2026, 3, 30)


@pytest.fixture
def council(session: Session) -> Actor:
    return actor_of(
        make_org(session, "hdqlc", OrgKind.COUNCIL, "Hội đồng Quản lý Chuỗi"), Role.COUNCIL
    )


@pytest.fixture
def ministry(session: Session) -> Actor:
    return actor_of(make_org(session, "mic", OrgKind.MINISTRY, "Bộ TT&TT"), Role.MINISTRY)


@pytest.fixture
def applicant(session: Session) -> Actor:
    return actor_of(make_org(session, "hau-giang", OrgKind.PROVINCE), Role.APPLICANT)


def documents_of(session: Session, case: Case, doc_type: str) -> list[Document]:
    return list(
        session.scalars(
            select(Document)
            .where(Document.case_id == case.id, Document.doc_type == doc_type)
            .order_by(Document.uploaded_at)
        )
    )


def consultations_of(session: Session, case: Case) -> list[tuple[Consultation, str]]:
    rows = session.execute(
        select(Consultation, Organisation.slug)
        .join(Organisation, Consultation.ministry_org_id == Organisation.id)
        .where(Consultation.case_id == case.id)
        .order_by(Consultation.round, Organisation.slug)
    )
    return [(c, slug) for c, slug in rows]


def clock_columns(case: Case) -> dict[str, Any]:
    return {
        "due_at": case.due_at,
        "original_due_at": case.original_due_at,
        "extended_at": case.extended_at,
        "clock_remaining_days": case.clock_remaining_days,
        "clock_original_remaining_days": case.clock_original_remaining_days,
        "overdue_notified_at": case.overdue_notified_at,
    }


class TestIssueDossierCode:
    def test_the_first_code_of_the_day_is_the_agency_the_local_date_and_number_one(
        self, session: Session, ctx: AppContext, applicant: Actor
    ) -> None:
        ctx.clock = Clock(EVENING_UTC)
        case = make_case(session, ctx, state="submitted")

        recorded = STEPS.apply(
            "issue_dossier_code", firing(session, ctx, applicant, case, "submit")
        )

        assert recorded == {"code": "QTSC-260314-0001"}
        assert case.code == "QTSC-260314-0001"
        sequences = session.scalars(select(DossierCodeSequence)).all()
        assert [(s.agency, s.day, s.last) for s in sequences] == [("QTSC", "260314", 1)]

    def test_dossier_codes_count_per_agency_and_day(
        self, session: Session, ctx: AppContext, applicant: Actor, clock: Clock
    ) -> None:
        def code() -> str | None:
            case = make_case(session, ctx, state="submitted")
            STEPS.apply("issue_dossier_code", firing(session, ctx, applicant, case, "submit"))
            return case.code

        first_day = [code(), code(), code()]
        clock.advance(days=1)
        next_day = code()
        ctx.settings = ctx.settings.model_copy(update={"agency_code": "HDQLC"})
        other_agency = code()

        assert first_day == ["QTSC-260302-0001", "QTSC-260302-0002", "QTSC-260302-0003"]
        assert next_day == "QTSC-260303-0001"
        assert other_agency == "HDQLC-260303-0001"

    def test_a_number_is_never_reused_even_once_its_case_is_gone(
        self, session: Session, ctx: AppContext, applicant: Actor
    ) -> None:
        gone = make_case(session, ctx, state="submitted")
        STEPS.apply("issue_dossier_code", firing(session, ctx, applicant, gone, "submit"))
        session.delete(gone)
        session.flush()

        case = make_case(session, ctx, state="submitted")
        STEPS.apply("issue_dossier_code", firing(session, ctx, applicant, case, "submit"))

        assert case.code == "QTSC-260302-0002"


class TestRecordReceipt:
    def test_record_receipt_sets_received_at_to_the_moment_of_the_transition(
        self, session: Session, ctx: AppContext, council: Actor
    ) -> None:
        case = make_case(session, ctx, state="council_review")
        assert case.received_at is None
        f = firing(session, ctx, council, case, "accept")

        recorded = STEPS.apply("record_receipt", f)

        assert case.received_at == f.now
        assert recorded == {"received_at": f.now.isoformat()}
        assert f.handed_on == {"received_at": f.now.isoformat()}


class TestOpenConsultations:
    @pytest.fixture
    def consulted(self, session: Session) -> list[Organisation]:
        return [make_org(session, slug, OrgKind.MINISTRY) for slug in ("mpi", "mof")]

    def test_one_consultation_per_ministry_is_opened_due_in_the_workflow_s_working_days(
        self, session: Session, ctx: AppContext, ministry: Actor, consulted: list[Organisation]
    ) -> None:
        case = make_case(session, ctx, state="consultation")
        f = firing(session, ctx, ministry, case, "open_consultation", ministries=["mpi", "mof"])

        recorded = STEPS.apply("open_consultations", f)

        # Ten working days after Monday 2 March: 3–6 (4), 9–13 (9), Monday 16 March.
        assert recorded == {
            "ministries": [
                {"ministry": "mpi", "due_at": "2026-03-16", "working_days": 10},
                {"ministry": "mof", "due_at": "2026-03-16", "working_days": 10},
            ],
            "consultation_due_at": "2026-03-16",
        }
        opened = consultations_of(session, case)
        assert [(slug, c.round, c.due_at) for c, slug in opened] == [
            ("mof", 1, date(2026, 3, 16)),
            ("mpi", 1, date(2026, 3, 16)),
        ]
        assert all(c.opened_at == f.now and c.answered_at is None for c, _ in opened)
        assert all(c.closed_at is None for c, _ in opened)

    def test_each_ministry_may_have_its_own_working_days_or_due_date(
        self, session: Session, ctx: AppContext, ministry: Actor, consulted: list[Organisation]
    ) -> None:
        make_org(session, "mod", OrgKind.MINISTRY)
        case = make_case(session, ctx, state="consultation", due_at=date(2026, 3, 16))
        asked = [
            "mpi",
            {"ministry": "mof", "working_days": 15},
            {"ministry": "mod", "due_date": "2026-03-20"},
        ]
        f = firing(session, ctx, ministry, case, "open_consultation", ministries=asked)

        recorded = STEPS.apply("open_consultations", f)

        assert recorded["ministries"] == [
            {"ministry": "mpi", "due_at": "2026-03-16", "working_days": 10},
            {"ministry": "mof", "due_at": "2026-03-23", "working_days": 15},
            {"ministry": "mod", "due_at": "2026-03-20", "working_days": 14},
        ]
        due = {slug: c.due_at for c, slug in consultations_of(session, case)}
        assert due == {
            "mpi": date(2026, 3, 16),
            "mof": date(2026, 3, 23),
            "mod": date(2026, 3, 20),
        }
        # The stage lasts as long as its last ministry has.
        assert recorded["consultation_due_at"] == "2026-03-23"
        assert case.due_at == date(2026, 3, 23)
        assert case.original_due_at is None
        assert case.extended_at is None

    def test_a_shorter_deadline_for_one_ministry_leaves_the_case_s_due_date(
        self, session: Session, ctx: AppContext, ministry: Actor, consulted: list[Organisation]
    ) -> None:
        case = make_case(session, ctx, state="consultation", due_at=date(2026, 3, 16))
        asked = [{"ministry": "mpi", "working_days": 5}]
        f = firing(session, ctx, ministry, case, "open_consultation", ministries=asked)

        recorded = STEPS.apply("open_consultations", f)

        assert recorded["consultation_due_at"] == "2026-03-09"
        assert case.due_at == date(2026, 3, 16)

    @pytest.mark.parametrize(
        ("due_date", "problem"),
        [
            pytest.param("2026-03-21", "due_date 2026-03-21 is not a working day", id="saturday"),
            pytest.param("2026-03-02", "due_date 2026-03-02 is not after today", id="today"),
            pytest.param("2026-02-27", "due_date 2026-02-27 is not after today", id="past"),
        ],
    )
    def test_a_ministry_s_due_date_that_is_no_later_working_day_is_refused_and_nothing_opened(
        self,
        session: Session,
        ctx: AppContext,
        ministry: Actor,
        consulted: list[Organisation],
        due_date: str,
        problem: str,
    ) -> None:
        case = make_case(session, ctx, state="consultation", due_at=date(2026, 3, 16))
        asked = ["mpi", {"ministry": "mof", "due_date": due_date}]
        f = firing(session, ctx, ministry, case, "open_consultation", ministries=asked)

        with pytest.raises(ValueConflict) as refused:
            STEPS.apply("open_consultations", f)

        assert refused.value.details == {"ministries": {"mof": problem}}
        assert consultations_of(session, case) == []
        assert case.due_at == date(2026, 3, 16)

    def test_the_due_date_follows_the_workflow_file_or_ten_working_days_without_one(
        self, session: Session, ctx: AppContext, ministry: Actor, consulted: list[Organisation]
    ) -> None:
        definition = workflow_of(ctx, make_case(session, ctx)).definition
        three_days = Workflow(
            definition.model_copy(
                update={
                    "consultation": ConsultationSpec(
                        deadline_working_days=3, opinion_document="ministry_opinion"
                    )
                }
            ),
            "three-days",
        )
        unsaid = Workflow(definition.model_copy(update={"consultation": None}), "unsaid")

        due = {}
        for workflow in (three_days, unsaid):
            case = make_case(session, ctx, state="consultation")
            f = firing(
                session,
                ctx,
                ministry,
                case,
                "open_consultation",
                workflow=workflow,
                ministries=["mpi"],
            )
            due[workflow.source] = STEPS.apply("open_consultations", f)["consultation_due_at"]

        assert due == {"three-days": "2026-03-05", "unsaid": "2026-03-16"}

    def test_a_new_opening_is_the_next_round(
        self, session: Session, ctx: AppContext, ministry: Actor, consulted: list[Organisation]
    ) -> None:
        case = make_case(session, ctx, state="consultation")
        make_consultation(session, case, consulted[0], due_at=date(2026, 2, 20), closed_at=MONDAY)

        STEPS.apply(
            "open_consultations",
            firing(session, ctx, ministry, case, "open_consultation", ministries=["mpi"]),
        )

        assert [(slug, c.round) for c, slug in consultations_of(session, case)] == [
            ("mpi", 1),
            ("mpi", 2),
        ]

    @pytest.mark.parametrize(
        ("ministries", "details"),
        [
            pytest.param(["mpi", "moh"], {"ministries": ["moh"]}, id="unknown"),
            pytest.param(["mpi", "mpi"], {"ministries": "duplicates"}, id="duplicate"),
            pytest.param(["mpi", "hau-giang"], {"ministries": ["hau-giang"]}, id="province"),
            pytest.param(["mpi", "mic"], {"ministries": ["mic"]}, id="itself"),
        ],
    )
    def test_unknown_duplicate_or_non_ministry_slugs_are_refused_and_nothing_is_opened(
        self,
        session: Session,
        ctx: AppContext,
        ministry: Actor,
        applicant: Actor,
        consulted: list[Organisation],
        ministries: list[str],
        details: dict[str, Any],
    ) -> None:
        case = make_case(session, ctx, state="consultation")
        f = firing(session, ctx, ministry, case, "open_consultation", ministries=ministries)

        with pytest.raises(ValueConflict) as refused:
            STEPS.apply("open_consultations", f)

        assert refused.value.details == details
        assert consultations_of(session, case) == []
        assert f.handed_on == {}


class TestCloseConsultations:
    def test_close_consultations_closes_the_open_round_answered_or_not(
        self, session: Session, ctx: AppContext, ministry: Actor
    ) -> None:
        mpi, mof, moh = (make_org(session, s, OrgKind.MINISTRY) for s in ("mpi", "mof", "moh"))
        case = make_case(session, ctx, state="ministry_appraisal")
        earlier = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
        make_consultation(session, case, moh, due_at=date(2026, 2, 16), closed_at=earlier)
        make_consultation(session, case, mpi, round=2, due_at=date(2026, 3, 16), answered_at=MONDAY)
        make_consultation(session, case, mof, round=2, due_at=date(2026, 3, 16))
        other = make_case(session, ctx, state="consultation")
        make_consultation(session, other, mpi, due_at=date(2026, 3, 16))
        f = firing(session, ctx, ministry, case, "close_consultation")

        recorded = STEPS.apply("close_consultations", f)

        assert recorded == {
            "closed_consultations": [
                {"ministry": "mof", "outcome": "closed_before_due", "due_at": "2026-03-16"},
                {
                    "ministry": "mpi",
                    "outcome": "answered",
                    "due_at": "2026-03-16",
                    "verdict": "agree",
                    "answered_at": MONDAY.isoformat(),
                },
            ]
        }
        closed = {(c.round, slug): c.closed_at for c, slug in consultations_of(session, case)}
        assert closed == {(1, "moh"): earlier, (2, "mof"): f.now, (2, "mpi"): f.now}
        assert [c.closed_at for c, _ in consultations_of(session, other)] == [None]

    def test_every_ministry_is_recorded_answered_overdue_or_closed_before_its_due_date(
        self, session: Session, ctx: AppContext, ministry: Actor
    ) -> None:
        mpi, mof, mod = (make_org(session, s, OrgKind.MINISTRY) for s in ("mpi", "mof", "mod"))
        case = make_case(session, ctx, state="consultation")
        late_answer = datetime(2026, 2, 27, 2, 0, tzinfo=UTC)
        make_consultation(session, case, mpi, due_at=date(2026, 2, 20), answered_at=late_answer)
        make_consultation(session, case, mof, due_at=date(2026, 2, 25))
        make_consultation(session, case, mod, due_at=date(2026, 3, 2))  # due today

        recorded = STEPS.apply(
            "close_consultations", firing(session, ctx, ministry, case, "close_consultation")
        )

        outcomes = {e["ministry"]: e for e in recorded["closed_consultations"]}
        assert outcomes["mpi"]["outcome"] == "answered"
        assert outcomes["mpi"]["verdict"] == "agree"
        assert outcomes["mof"] == {
            "ministry": "mof",
            "outcome": "overdue_unanswered",
            "due_at": "2026-02-25",
            "overdue_days": 5,
        }
        assert outcomes["mod"] == {
            "ministry": "mod",
            "outcome": "closed_before_due",
            "due_at": "2026-03-02",
        }

    def test_with_no_open_round_nothing_is_closed(
        self, session: Session, ctx: AppContext, ministry: Actor
    ) -> None:
        case = make_case(session, ctx, state="ministry_appraisal")
        recorded = STEPS.apply(
            "close_consultations", firing(session, ctx, ministry, case, "close_consultation")
        )
        assert recorded == {"closed_consultations": []}


class TestPauseClock:
    def test_pause_clock_stops_the_clock_keeping_the_working_days_left(
        self, session: Session, ctx: AppContext, council: Actor, clock: Clock
    ) -> None:
        case = make_case(session, ctx, state="council_review", due_at=MARCH_30)
        clock.advance(days=7)  # Monday 9 March: 10–13, 16–20, 23–27, 30 March are left.
        f = firing(session, ctx, council, case, "request_supplement", reason="Thiếu hồ sơ")

        recorded = STEPS.apply("pause_clock", f)

        paused = {"paused": True, "due_at_before": "2026-03-30", "remaining_working_days": 15}
        assert recorded == {"clock": paused}
        assert f.handed_on == {"clock": paused}
        assert clock_columns(case) == {
            "due_at": None,
            "original_due_at": None,
            "extended_at": None,
            "clock_remaining_days": 15,
            "clock_original_remaining_days": None,
            "overdue_notified_at": None,
        }

    def test_an_extended_clock_keeps_both_its_days_left_and_its_used_extension(
        self, session: Session, ctx: AppContext, council: Actor, clock: Clock
    ) -> None:
        extended_at = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)
        case = make_case(
            session,
            ctx,
            state="council_review",
            due_at=date(2026, 4, 3),
            original_due_at=MARCH_30,
            extended_at=extended_at,
        )
        clock.advance(days=7)

        STEPS.apply(
            "pause_clock", firing(session, ctx, council, case, "request_supplement", reason="x")
        )

        assert clock_columns(case) == {
            "due_at": None,
            "original_due_at": None,
            "extended_at": extended_at,
            "clock_remaining_days": 19,
            "clock_original_remaining_days": 15,
            "overdue_notified_at": None,
        }

    def test_a_late_clock_keeps_its_negative_days_and_the_sweep_s_notice(
        self, session: Session, ctx: AppContext, council: Actor, clock: Clock
    ) -> None:
        notified = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
        case = make_case(
            session, ctx, state="council_review", due_at=MONDAY.date(), overdue_notified_at=notified
        )
        clock.advance(days=7)  # five working days late: 3–6 and 9 March

        recorded = STEPS.apply(
            "pause_clock", firing(session, ctx, council, case, "request_supplement", reason="x")
        )

        assert recorded["clock"]["remaining_working_days"] == -5
        assert case.clock_remaining_days == -5
        assert case.overdue_notified_at == notified

    def test_without_a_running_clock_nothing_is_paused(
        self, session: Session, ctx: AppContext, council: Actor
    ) -> None:
        case = make_case(session, ctx, state="council_review")
        f = firing(session, ctx, council, case, "request_supplement", reason="x")

        assert STEPS.apply("pause_clock", f) == {"clock": {"paused": False}}
        assert case.clock_remaining_days is None
        assert f.handed_on == {"clock": {"paused": False}}

    def test_pause_clock_reads_the_clock_before_the_transition_not_the_case_as_entered(
        self, session: Session, ctx: AppContext, council: Actor, clock: Clock
    ) -> None:
        """Entering the new state resets the case's clock before the effects run."""
        case = make_case(session, ctx, state="council_review", due_at=MARCH_30)
        before = ClockState.of(case)
        case.state, case.due_at = "supplement_requested", None
        clock.advance(days=7)

        f = firing(
            session, ctx, council, case, "request_supplement", reason="x", clock_before=before
        )

        assert STEPS.apply("pause_clock", f)["clock"]["remaining_working_days"] == 15


class TestResumeClock:
    def test_resume_clock_starts_again_with_the_working_days_it_had_left(
        self, session: Session, ctx: AppContext, applicant: Actor, clock: Clock
    ) -> None:
        notified = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
        case = make_case(
            session,
            ctx,
            state="council_review",
            clock_remaining_days=15,
            overdue_notified_at=notified,
        )
        clock.advance(days=21)  # Monday 23 March

        recorded = STEPS.apply("resume_clock", firing(session, ctx, applicant, case, "resubmit"))

        # 15 working days after Monday 23 March: 24–27 (4), 30/3–3/4 (9), 6–10/4 (14), 13/4.
        resumed = {"resumed": True, "remaining_working_days": 15, "due_at": "2026-04-13"}
        assert recorded == {"clock": resumed}
        assert clock_columns(case) == {
            "due_at": date(2026, 4, 13),
            "original_due_at": None,
            "extended_at": None,
            "clock_remaining_days": None,
            "clock_original_remaining_days": None,
            # No longer late: the sweep may announce this clock when it runs out.
            "overdue_notified_at": None,
        }

    def test_pause_then_resume_keeps_the_working_days_left_and_the_used_extension(
        self, session: Session, ctx: AppContext, council: Actor, applicant: Actor, clock: Clock
    ) -> None:
        extended_at = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)
        case = make_case(
            session,
            ctx,
            state="council_review",
            due_at=date(2026, 4, 3),
            original_due_at=MARCH_30,
            extended_at=extended_at,
        )
        clock.advance(days=7)
        STEPS.apply(
            "pause_clock", firing(session, ctx, council, case, "request_supplement", reason="x")
        )
        clock.advance(days=14)  # Monday 23 March

        STEPS.apply("resume_clock", firing(session, ctx, applicant, case, "resubmit"))

        today = ctx.today()
        assert case.due_at is not None
        assert ctx.calendar.working_days_between(today, case.due_at) == 19
        assert case.original_due_at is not None
        assert ctx.calendar.working_days_between(today, case.original_due_at) == 15
        assert case.extended_at == extended_at
        assert case.clock_remaining_days is None
        assert case.clock_original_remaining_days is None

    def test_a_clock_still_late_on_resuming_keeps_the_sweep_s_notice(
        self, session: Session, ctx: AppContext, applicant: Actor
    ) -> None:
        notified = datetime(2026, 2, 27, 1, 0, tzinfo=UTC)
        case = make_case(
            session,
            ctx,
            state="council_review",
            clock_remaining_days=-2,
            overdue_notified_at=notified,
        )

        STEPS.apply("resume_clock", firing(session, ctx, applicant, case, "resubmit"))

        assert case.due_at == date(2026, 2, 26)  # two working days before Monday 2 March
        assert case.overdue_notified_at == notified

    def test_without_a_stopped_clock_nothing_is_resumed(
        self, session: Session, ctx: AppContext, applicant: Actor
    ) -> None:
        case = make_case(session, ctx, state="council_review", due_at=MARCH_30)
        before = clock_columns(case)

        assert STEPS.apply("resume_clock", firing(session, ctx, applicant, case, "resubmit")) == {
            "clock": {"resumed": False}
        }
        assert clock_columns(case) == before


class TestExtendDeadline:
    def extend(
        self, session: Session, ctx: AppContext, actor: Actor, case: Case, new_due: date
    ) -> tuple[Firing, dict[str, Any]]:
        f = firing(
            session,
            ctx,
            actor,
            case,
            "extend_deadline",
            reason="Cần khảo sát thêm",
            new_due_date=new_due,
        )
        return f, dict(STEPS.apply("extend_deadline", f))

    def test_extend_deadline_moves_the_due_date_and_keeps_the_original(
        self, session: Session, ctx: AppContext, council: Actor
    ) -> None:
        notified = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
        case = make_case(
            session, ctx, state="council_review", due_at=MARCH_30, overdue_notified_at=notified
        )

        f, recorded = self.extend(session, ctx, council, case, date(2026, 4, 3))

        assert recorded == {"original_due_at": "2026-03-30", "extension_working_days": 4}
        assert f.handed_on == recorded
        assert clock_columns(case) == {
            "due_at": date(2026, 4, 3),
            "original_due_at": MARCH_30,
            "extended_at": f.now,
            "clock_remaining_days": None,
            "clock_original_remaining_days": None,
            "overdue_notified_at": None,
        }

    def test_the_due_date_moves_once_then_extension_available_refuses(
        self, session: Session, ctx: AppContext, council: Actor
    ) -> None:
        case = make_case(session, ctx, state="council_review", due_at=MARCH_30)
        assert STEPS.check("extension_available", check(session, ctx, case)) == []

        self.extend(session, ctx, council, case, date(2026, 4, 3))

        missing = STEPS.check("extension_available", check(session, ctx, case))
        assert [(m.kind, m.name) for m in missing] == [("extension", "extend_deadline")]

    def test_a_date_beyond_the_calendar_s_years_is_extended_with_a_warning(
        self, session: Session, ctx: AppContext, council: Actor
    ) -> None:
        case = make_case(session, ctx, state="pm_review", due_at=date(2027, 12, 29))

        _, recorded = self.extend(session, ctx, council, case, date(2028, 1, 5))

        assert "2023–2027" in recorded["calendar_warning"]
        assert case.due_at == date(2028, 1, 5)

    @pytest.mark.parametrize(
        ("due_at", "new_due", "details"),
        [
            pytest.param(
                MARCH_30, date(2026, 4, 4), {"new_due_date": "not a working day"}, id="saturday"
            ),
            pytest.param(
                MARCH_30, MARCH_30, {"new_due_date": "not after the current due date"}, id="same"
            ),
            pytest.param(
                MARCH_30,
                date(2026, 3, 27),
                {"new_due_date": "not after the current due date"},
                id="earlier",
            ),
            # Already late on 2 March: a date after the due date that has passed is refused.
            pytest.param(
                date(2026, 2, 25),
                date(2026, 2, 27),
                {"new_due_date": "not in the future"},
                id="past",
            ),
            pytest.param(None, date(2026, 4, 3), {"due_at": None}, id="no-deadline"),
        ],
    )
    def test_a_non_working_day_an_earlier_date_or_no_deadline_is_refused_and_nothing_changes(
        self,
        session: Session,
        ctx: AppContext,
        council: Actor,
        due_at: date | None,
        new_due: date,
        details: dict[str, Any],
    ) -> None:
        case = make_case(session, ctx, state="council_review", due_at=due_at)
        before = clock_columns(case)

        with pytest.raises(Conflict) as refused:
            self.extend(session, ctx, council, case, new_due)

        assert refused.value.details == details
        assert clock_columns(case) == before


class TestIssueReceipt:
    def test_issue_receipt_files_the_receipt_with_the_case_listing_what_was_received(
        self, session: Session, ctx: AppContext, council: Actor, applicant: Actor
    ) -> None:
        org = session.get(Organisation, applicant.org_id)
        case = make_case(
            session,
            ctx,
            state="council_review",
            applicant=org,
            code="QTSC-260302-0001",
            due_at=MARCH_30,
        )
        site = make_document(session, case, "site_documents", applicant, filename="mat-bang.pdf")
        proposal = make_document(
            session, case, "provincial_proposal", applicant, filename="to-trinh.pdf"
        )
        make_document(
            session, case, "site_documents", applicant, filename="old.pdf", superseded_at=MONDAY
        )
        make_document(session, case, letters.SUPPLEMENT_NOTICE, council)
        f = firing(session, ctx, council, case, "accept")

        recorded = STEPS.apply("issue_receipt", f)

        [filed] = documents_of(session, case, letters.RECEIPT)
        receipt = recorded[letters.RECEIPT]
        assert receipt["document_id"] == str(filed.id)
        assert receipt["sha256"] == filed.sha256
        assert f.handed_on == {letters.RECEIPT: receipt}
        assert (filed.uploaded_by_org_id, filed.uploaded_by_role) == (council.org_id, "council")
        assert filed.filename == "intake_receipt-QTSC-260302-0001-20260302.pdf"
        assert filed.content_type == "application/pdf"
        content = ctx.store.path_for(filed.sha256).read_bytes()
        assert content.startswith(b"%PDF-")
        assert hashlib.sha256(content).hexdigest() == filed.sha256
        data = receipt["input"]
        assert data["code"] == "QTSC-260302-0001"
        assert data["receiving_unit"] == "Hội đồng Quản lý Chuỗi"
        assert data["received_at"] == f.now.isoformat()
        assert data["promised_date"] == "2026-03-30"
        assert data["deadline_working_days"] == 20
        # The checklist's order; no superseded file, no letter.
        assert [(d["doc_type"], d["filename"], d["sha256_prefix"]) for d in data["documents"]] == [
            ("provincial_proposal", "to-trinh.pdf", proposal.sha256[:16]),
            ("site_documents", "mat-bang.pdf", site.sha256[:16]),
        ]
        [event] = [e for e in events.pending(session) if e["case_id"] == case.id]
        assert (event["type"], event["data"]["document_id"]) == ("document.uploaded", str(filed.id))


class TestIssueSupplementNotice:
    def request(
        self, session: Session, ctx: AppContext, actor: Actor, case: Case, **fields: Any
    ) -> Firing:
        return firing(
            session, ctx, actor, case, "request_supplement", reason="Thiếu hồ sơ mặt bằng", **fields
        )

    def test_the_notice_is_filed_with_the_case_and_reads_the_clock_pause_clock_handed_on(
        self, session: Session, ctx: AppContext, council: Actor, clock: Clock
    ) -> None:
        received = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
        case = make_case(
            session,
            ctx,
            state="supplement_requested",
            code="QTSC-260302-0001",
            received_at=received,
            due_at=MARCH_30,
        )
        clock.advance(days=7)
        f = self.request(session, ctx, council, case, supplement_documents=["site_documents"])

        STEPS.apply("pause_clock", f)
        recorded = STEPS.apply("issue_supplement_notice", f)

        [filed] = documents_of(session, case, letters.SUPPLEMENT_NOTICE)
        notice = recorded[letters.SUPPLEMENT_NOTICE]
        assert notice["document_id"] == str(filed.id)
        assert notice["sha256"] == filed.sha256
        assert ctx.store.path_for(filed.sha256).read_bytes().startswith(b"%PDF-")
        assert (filed.uploaded_by_org_id, filed.uploaded_by_role) == (council.org_id, "council")
        data = notice["input"]
        assert data["due_at_before"] == "2026-03-30"
        assert data["remaining_working_days"] == 15
        assert data["reason"] == "Thiếu hồ sơ mặt bằng"
        assert data["items"] == [{"doc_type": "site_documents", "label": "Hồ sơ mặt bằng, quỹ đất"}]
        assert data["sequence"] == 1
        assert data["requesting_unit"] == "Hội đồng Quản lý Chuỗi"
        assert data["requested_at"] == f.now.isoformat()
        assert data["received_at"] == received.isoformat()

    def test_a_later_notice_is_numbered_after_the_earlier_ones(
        self, session: Session, ctx: AppContext, council: Actor, ministry: Actor
    ) -> None:
        case = make_case(session, ctx, state="supplement_requested")
        make_document(session, case, letters.SUPPLEMENT_NOTICE, council)
        f = self.request(session, ctx, ministry, case)
        f.handed_on["clock"] = {"paused": False}

        notice = STEPS.apply("issue_supplement_notice", f)[letters.SUPPLEMENT_NOTICE]

        assert notice["input"]["sequence"] == 2
        assert notice["input"]["due_at_before"] is None
        assert notice["input"]["requesting_unit"] == "Bộ TT&TT"
        assert len(documents_of(session, case, letters.SUPPLEMENT_NOTICE)) == 2

    def test_run_before_pause_clock_it_refuses_and_files_nothing(
        self, session: Session, ctx: AppContext, council: Actor
    ) -> None:
        case = make_case(session, ctx, state="supplement_requested", due_at=MARCH_30)

        with pytest.raises(RuntimeError, match="'clock'"):
            STEPS.apply("issue_supplement_notice", self.request(session, ctx, council, case))

        assert documents_of(session, case, letters.SUPPLEMENT_NOTICE) == []

    @pytest.mark.parametrize(
        ("asked", "details"),
        [
            pytest.param(
                ["site_documents", "feasibility_study"], ["feasibility_study"], id="unknown"
            ),
            pytest.param([letters.RECEIPT], [letters.RECEIPT], id="letter"),
            pytest.param(["site_documents", "site_documents"], "duplicates", id="duplicate"),
        ],
    )
    def test_document_types_outside_the_checklist_are_refused_and_nothing_is_filed(
        self,
        session: Session,
        ctx: AppContext,
        council: Actor,
        asked: list[str],
        details: Any,
    ) -> None:
        case = make_case(session, ctx, state="supplement_requested", due_at=MARCH_30)
        f = self.request(session, ctx, council, case, supplement_documents=asked)
        STEPS.apply("pause_clock", f)

        with pytest.raises(ValueConflict) as refused:
            STEPS.apply("issue_supplement_notice", f)

        assert refused.value.details == {"supplement_documents": details}
        assert documents_of(session, case, letters.SUPPLEMENT_NOTICE) == []
