"""A case as its reader sees it: its fields and the actions the reader may take now."""

import uuid
from datetime import date

from sqlalchemy.orm import Session

from app.access import CaseRecord
from app.admission import lifecycle
from app.admission.labels import labelled_actions
from app.auth.actor import Actor
from app.cases.schemas import CaseOut
from app.cases.views import clock_of, summary
from app.context import AppContext
from app.core.cache import BodyCache
from app.core.i18n import DEFAULT as DEFAULT_LANG
from app.core.i18n import Lang


def detail(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    record: CaseRecord,
    present: set[str] | None = None,
    lang: Lang = DEFAULT_LANG,
) -> CaseOut:
    """The case read; `present` saves reading the documents on file when the caller has them.
    What the actions lack is labelled in `lang`."""
    case = record.case
    return CaseOut(
        **summary(record, ctx.today(), ctx.calendar).model_dump(),
        area_m2=case.area_m2,
        address=case.address,
        investor=case.investor,
        received_at=case.received_at,
        state_entered_at=case.state_entered_at,
        clock=clock_of(record, ctx.calendar),
        allowed_actions=labelled_actions(
            lifecycle.allowed_actions(session, ctx, actor, record, present),
            lang,
            ctx.workflows,
            record.workflow,
        ),
    )


def kept_key(case_id: uuid.UUID, version: int, actor: Actor, today: date, lang: Lang) -> str:
    """What a kept case read is kept under (see `detail_json`)."""
    return f"{case_id}:{version}:{actor.org_id}:{actor.role.value}:{today.isoformat()}:{lang}"


def detail_json(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    record: CaseRecord,
    kept: BodyCache,
    lang: Lang = DEFAULT_LANG,
) -> bytes:
    """The case read as JSON, kept by case, version, reader, day and language.

    Everything the read shows is the case's own rows at one version (every change of what it
    shows moves the version: transitions, edits, uploads, answers, extensions), the reader's
    organisation and role, and the day (days in state, overdue, what is due). So a body kept
    under those is exactly the one that would be built now, in any process.
    """
    case = record.case
    key = kept_key(case.id, case.version, actor, ctx.today(), lang)
    body = kept.get(key)
    if body is None:
        body = detail(session, ctx, actor, record, lang=lang).model_dump_json().encode()
        kept.put(key, body)
    return body
