"""Cases: creating, reading, listing and editing dossiers."""

import uuid

from sqlalchemy.orm import Session

from app.access import CaseRecord, ListedCase, check_version, load, save
from app.auth.actor import Actor
from app.auth.repository import OrganisationRepository
from app.cases.models import Case
from app.cases.repository import CaseFilters, CaseRepository, Cursor
from app.cases.schemas import CaseCreate, CaseUpdate
from app.context import AppContext
from app.core import cursors
from app.core.errors import (
    ActionNotAllowedNow,
    Conflict,
    Forbidden,
    InvalidInput,
    ValueConflict,
)
from app.core.text import fold
from app.engine.roles import Role
from app.events.service import emit
from app.history import actions
from app.history import service as history


def applicant_province(session: Session, actor: Actor, named: str | None) -> str:
    """The province of the actor's organisation, which its dossiers take.

    A request may name it (written with or without diacritics, in any case); naming another
    province is refused.
    """
    org = OrganisationRepository(session).by_id(actor.org_id)
    province = org.province if org is not None else None
    if province is None:
        raise Conflict(
            f"organisation {actor.org_slug!r} has no province on record; an operator records it"
            " with `admission org set-province`",
            {"province": "not recorded for the organisation"},
        )
    if named is not None and fold(named) != fold(province):
        raise ValueConflict(
            f"{actor.org_slug!r} files dossiers for {province}, not for {named!r}",
            {"province": f"must be {province}, the applicant organisation's province"},
        )
    return province


def create(session: Session, ctx: AppContext, actor: Actor, data: CaseCreate) -> CaseRecord:
    if actor.role is not Role.APPLICANT:
        raise Forbidden("only an applicant province creates cases")
    key = data.workflow or ctx.default_workflow()
    if key is None:
        raise InvalidInput("name the workflow: no default is set", {"workflow": "required"})
    workflow = ctx.workflows.latest(key)
    if workflow is None:
        raise InvalidInput(f"unknown workflow {key!r}", {"workflow": "unknown"})
    if data.workflow_version is not None:
        named = ctx.workflows.find(key, data.workflow_version)
        if named is None:
            raise ValueConflict(
                f"workflow {key!r} has no version {data.workflow_version} loaded",
                {"workflow_version": f"not loaded; the latest is {workflow.version}"},
            )
        workflow = named
    province = applicant_province(session, actor, data.province)
    now = ctx.now()
    case = Case(
        id=uuid.uuid4(),
        workflow_key=workflow.key,
        workflow_version=workflow.version,
        state=workflow.definition.initial,
        version=1,
        applicant_org_id=actor.org_id,
        state_entered_at=now,
        created_at=now,
        updated_at=now,
        province=province,
        **data.model_dump(exclude={"workflow", "workflow_version", "province"}),
    )
    case.refresh_search_text()
    history.append(
        session,
        case=case,
        actor=actor,
        action=actions.CREATE,
        from_state=None,
        to_state=case.state,
        at=now,
    )
    CaseRepository(session).add(case)
    emit(session, "case.created", case.id, {"state": case.state, "version": case.version}, at=now)
    return CaseRecord(case, actor.org_slug, workflow)


def update(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    case_id: uuid.UUID,
    expected_version: int,
    data: CaseUpdate,
) -> CaseRecord:
    record = load(session, ctx, actor, case_id)
    case = record.case
    check_version(case, expected_version)
    if actor.role is not Role.APPLICANT:
        raise Forbidden("only the applicant edits its dossier")
    if not record.workflow.definition.states[case.state].editable:
        raise ActionNotAllowedNow(
            f"the dossier cannot be edited in state {case.state!r}", {"state": case.state}
        )
    # CaseUpdate has refused an empty edit and a null where a case must have a value.
    changes = data.model_dump(exclude_unset=True)
    if "province" in changes:
        changes["province"] = applicant_province(session, actor, changes["province"])
    for name, value in changes.items():
        setattr(case, name, value)
    now = ctx.now()
    history.append(
        session,
        case=case,
        actor=actor,
        action=actions.EDIT,
        from_state=case.state,
        to_state=case.state,
        at=now,
        fields={"changed": sorted(changes)},
    )
    save(session, case, now)
    emit(
        session,
        "case.updated",
        case.id,
        {"version": case.version, "changed": sorted(changes)},
        at=now,
    )
    return record


# The case list's `next_cursor`: the last case's creation moment and id.
CURSOR_PATTERN = cursors.anchored(cursors.MOMENT, cursors.ID)


def encode_cursor(case: Case) -> str:
    return f"{cursors.moment(case.created_at)}.{cursors.ident(case.id)}"


def decode_cursor(value: str) -> Cursor:
    parts = cursors.match(CURSOR_PATTERN, value)
    if parts is None:
        raise InvalidInput("invalid cursor", {"cursor": "invalid"})
    created, case_id = parts
    return Cursor(cursors.read_moment(created), cursors.read_ident(case_id))


def list_page(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    filters: CaseFilters,
    cursor: str | None,
    limit: int,
) -> tuple[list[ListedCase], str | None]:
    after = decode_cursor(cursor) if cursor else None
    rows = CaseRepository(session).page(actor, filters, after, limit + 1)
    records = [
        ListedCase(case, slug, ctx.workflows.find(case.workflow_key, case.workflow_version))
        for case, slug in rows[:limit]
    ]
    next_cursor = encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return records, next_cursor


def search_words(q: str | None) -> tuple[str, ...]:
    return tuple(fold(q).split()) if q else ()
