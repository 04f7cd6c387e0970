"""The overdue sweep: announce each case and consultation whose deadline has passed, once.

Reads show `overdue` from the due date at any moment; the sweep is what tells the outside
world (one `case.overdue` event per clock that ran out, for webhooks and the change feed).
It marks each row with a conditional UPDATE (`... WHERE overdue_notified_at IS NULL`), so two
sweepers running at once (two API processes, or `admission sweep` beside `serve`) announce
each one only once: on PostgreSQL the second UPDATE waits for the first and then matches nothing.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Update, select, update
from sqlalchemy.orm import Session

from app.auth.models import Organisation
from app.cases.models import Case
from app.consultations.models import Consultation
from app.context import AppContext
from app.core.db import unit_of_work
from app.deadlines import clock
from app.events.service import emit

OVERDUE_EVENT = "case.overdue"

log = logging.getLogger("admission.deadlines")


@dataclass(frozen=True)
class SweepResult:
    cases: int
    consultations: int


def sweep(ctx: AppContext) -> SweepResult:
    """Mark and announce what became overdue since the last sweep, in one transaction."""
    with unit_of_work(ctx.engine) as session:
        return sweep_in(session, ctx)


def sweep_in(session: Session, ctx: AppContext) -> SweepResult:
    today = ctx.today()
    return SweepResult(
        cases=_cases(session, ctx, today), consultations=_consultations(session, ctx, today)
    )


def _cases(session: Session, ctx: AppContext, today: date) -> int:
    late = session.execute(
        select(Case.id, Case.state, Case.due_at, Case.code)
        .where(Case.due_at < today, Case.overdue_notified_at.is_(None))
        # One order for every sweeper, so that concurrent ones take row locks alike.
        .order_by(Case.id)
    ).all()
    return sum(
        _announce_once(
            session,
            ctx,
            update(Case).where(
                Case.id == case_id,
                Case.due_at == due_at,
                Case.overdue_notified_at.is_(None),
            ),
            case_id,
            {"subject": "case", "code": code, "state": state, **_lateness(due_at, today, ctx)},
        )
        for case_id, state, due_at, code in late
        if due_at is not None  # always, by the query; said again for the type checker
    )


def _consultations(session: Session, ctx: AppContext, today: date) -> int:
    late = session.execute(
        select(Consultation.id, Consultation.case_id, Consultation.due_at, Organisation.slug)
        .join(Organisation, Consultation.ministry_org_id == Organisation.id)
        .where(
            Consultation.due_at < today,
            Consultation.answered_at.is_(None),
            Consultation.closed_at.is_(None),
            Consultation.overdue_notified_at.is_(None),
        )
        .order_by(Consultation.id)
    ).all()
    return sum(
        _announce_once(
            session,
            ctx,
            update(Consultation).where(
                Consultation.id == consultation_id,
                Consultation.answered_at.is_(None),
                Consultation.closed_at.is_(None),
                Consultation.overdue_notified_at.is_(None),
            ),
            case_id,
            {
                "subject": "consultation",
                "consultation_id": str(consultation_id),
                "ministry": ministry,
                **_lateness(due_at, today, ctx),
            },
        )
        for consultation_id, case_id, due_at, ministry in late
    )


def _announce_once(
    session: Session, ctx: AppContext, mark: Update, case_id: uuid.UUID, data: dict[str, object]
) -> bool:
    """Mark the row as announced and emit its event, unless a concurrent sweeper (or a
    change to the row) got there first: `mark` matches only a row still to announce."""
    now = ctx.now()
    marked = session.execute(
        mark.values(overdue_notified_at=now).execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        return False
    emit(session, OVERDUE_EVENT, case_id, data, at=now)
    return True


def _lateness(due_at: date, today: date, ctx: AppContext) -> dict[str, object]:
    return {
        "due_at": due_at.isoformat(),
        "overdue_days": clock.overdue_days(due_at, today),
        "overdue_working_days": clock.overdue_working_days(due_at, today, ctx.calendar),
    }


async def run_periodically(ctx: AppContext, interval: float) -> None:
    """The sweep inside `serve`: every `interval` seconds, in a worker thread, until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            result = await asyncio.to_thread(sweep, ctx)
        except Exception:  # a failed sweep is retried at the next interval
            log.exception("overdue sweep failed")
            continue
        if result.cases or result.consultations:
            log.info(
                "overdue sweep: %d cases, %d consultations announced",
                result.cases,
                result.consultations,
            )
