"""Which cases an actor may see, what of them it may read, and loading one of them.

Every domain that works on a case (documents, consultations, history, letters, events,
webhooks, the pipeline, the portal status, the dashboard) asks this module, so that "not
yours" answers 404 the same way everywhere, as if the case did not exist, and so that a
change of a case always moves its version.

Within a case it may see, every role reads everything, except a consulted ministry
(DESIGN §2): it reads the dossier it is asked about and the Council's proposal (the
workflow file's `consultation.shared_documents`) and what it uploaded itself (its opinion),
and nothing of another ministry: no opinion, verdict, event or name. The rule is written
once below, as SQL conditions for documents and events and as a filter for history entries.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    SQLColumnExpression,
    and_,
    bindparam,
    exists,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.auth.actor import Actor
from app.auth.models import Organisation
from app.cases.models import Case
from app.consultations.models import Consultation
from app.context import AppContext
from app.core.errors import NotFound, VersionMismatch
from app.documents.models import Document
from app.engine.roles import Role
from app.engine.workflow import Workflow
from app.events.models import Event

# History fields that list consulted ministries, by slug or as objects with a `ministry`:
# a consulted ministry finds only itself in them.
MINISTRY_LISTS = ("ministries", "closed_consultations")


def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Case` restricting rows to those the actor may see."""
    return _visible_to(actor.role, actor.org_id)


def _visible_to(role: Role, org_id: Any) -> ColumnElement[bool]:
    if role is Role.APPLICANT:
        return Case.applicant_org_id == org_id
    if role is Role.CONSULTED:
        return exists(
            select(Consultation.id).where(
                Consultation.case_id == Case.id, Consultation.ministry_org_id == org_id
            )
        )
    return true()


# Per role, built once: the read on every case request.
_VISIBLE_VERSION = {
    role: select(Case.version).where(
        Case.id == bindparam("case_id"), _visible_to(role, bindparam("org_id"))
    )
    for role in Role
}


def visible_version(connection: Connection, actor: Actor, case_id: uuid.UUID) -> int | None:
    """The version case `case_id` is at, if the actor may see it (one indexed read)."""
    statement = _VISIBLE_VERSION[actor.role]
    version = connection.execute(statement, {"case_id": case_id, "org_id": actor.org_id}).scalar()
    return int(version) if version is not None else None


def shared_documents(workflow: Workflow) -> tuple[str, ...]:
    """The document types a consulted ministry reads besides its own uploads."""
    spec = workflow.definition.consultation
    return spec.shared_documents if spec else ()


def readable_types(actor: Actor, workflow: Workflow) -> set[str]:
    """The document types of the workflow the actor may read some of (a checklist's rows):
    for a consulted ministry, those shared with it and those it uploads itself."""
    types = workflow.definition.document_types
    if actor.role is not Role.CONSULTED:
        return set(types)
    return {
        name
        for name, spec in types.items()
        if name in shared_documents(workflow) or actor.role in spec.uploaded_by
    }


def _shared(
    workflows: Iterable[Workflow], doc_type: SQLColumnExpression[Any]
) -> ColumnElement[bool]:
    """`doc_type` is shared with consulted ministries by the workflow of the case (`Case`
    must be in the query). A case whose workflow is not loaded shares nothing."""
    return or_(
        false(),
        *(
            and_(
                Case.workflow_key == workflow.key,
                Case.workflow_version == workflow.version,
                doc_type.in_(types),
            )
            for workflow in workflows
            if (types := shared_documents(workflow))
        ),
    )


def visible_documents(actor: Actor, workflows: Iterable[Workflow]) -> ColumnElement[bool]:
    """A WHERE clause on `Document`, its `Case` joined, restricting rows to those the actor
    may list and download (on a case it may see)."""
    if actor.role is not Role.CONSULTED:
        return true()
    return or_(Document.uploaded_by_org_id == actor.org_id, _shared(workflows, Document.doc_type))


def visible_events(actor: Actor, workflows: Iterable[Workflow]) -> ColumnElement[bool]:
    """A WHERE clause on `Event`, its `Case` joined, restricting rows to those the actor may
    read (on a case it may see): the feed, its stream, webhooks, the pipeline's tag.

    An event about one ministry's consultation names it in `data.ministry`; one about a
    document names its `data.doc_type` and `data.uploaded_by` (organisation slug).
    """
    if actor.role is not Role.CONSULTED:
        return true()
    ministry = Event.data["ministry"].as_string()
    doc_type = Event.data["doc_type"].as_string()
    uploader = Event.data["uploaded_by"].as_string()
    return and_(
        or_(ministry.is_(None), ministry == actor.org_slug),
        or_(doc_type.is_(None), uploader == actor.org_slug, _shared(workflows, doc_type)),
    )


def readable_fields(
    actor: Actor, workflow: Workflow, *, by_org: str, by_role: str, fields: dict[str, Any]
) -> dict[str, Any] | None:
    """What of one history entry the actor may read: its fields, narrowed where they name
    other ministries; None when the whole entry is another ministry's (its answer, its
    upload) or concerns a document the actor may not read.

    The chain's hashes cover the stored fields, so an entry whose fields were narrowed
    cannot be recomputed by its reader; `verify` checks the stored chain for everyone.
    """
    if actor.role is not Role.CONSULTED:
        return fields
    if by_role == Role.CONSULTED.value and by_org != actor.org_slug:
        return None
    if fields.get("ministry", actor.org_slug) != actor.org_slug:
        return None
    doc_type = fields.get("doc_type")
    if (
        doc_type is not None
        and by_org != actor.org_slug
        and doc_type not in shared_documents(workflow)
    ):
        return None
    narrowed = dict(fields)
    for name in MINISTRY_LISTS:
        listed = fields.get(name)
        if isinstance(listed, list):
            narrowed[name] = [item for item in listed if _ministry_of(item) == actor.org_slug]
    return narrowed


def _ministry_of(item: Any) -> Any:
    return item.get("ministry") if isinstance(item, dict) else item


@dataclass
class ListedCase:
    """A case as lists show it, with its applicant's slug and its workflow version, None when
    that version is not loaded (lists then show what the row has: see cases.views.summary)."""

    case: Case
    applicant_slug: str
    workflow: Workflow | None


@dataclass
class CaseRecord(ListedCase):
    """A case together with what is needed to show and change it: its workflow is loaded."""

    workflow: Workflow


def find_visible(
    session: Session, actor: Actor, case_id: uuid.UUID, *, lock: bool = False
) -> tuple[Case, str] | None:
    """The case with its applicant organisation's slug, if the actor may see it.

    With `lock`, the case's row is held until the transaction ends (PostgreSQL; SQLite
    write transactions are serialised already), so concurrent writers queue up.
    """
    query = (
        select(Case, Organisation.slug)
        .join(Organisation, Case.applicant_org_id == Organisation.id)
        .where(Case.id == case_id, visible_cases(actor))
    )
    if lock:
        query = query.with_for_update(of=Case)
    row = session.execute(query).first()
    return (row[0], row[1]) if row else None


def load(
    session: Session, ctx: AppContext, actor: Actor, case_id: uuid.UUID, *, lock: bool = False
) -> CaseRecord:
    """The visible case `case_id`, or 404; 503 if its workflow version is not loaded."""
    found = find_visible(session, actor, case_id, lock=lock)
    if found is None:
        raise NotFound("no such case")
    case, slug = found
    # WorkflowUnavailable (503) when the case's version is not loaded: nothing about the case
    # (its actions, requirements, document types) can be worked out without it.
    return CaseRecord(case, slug, ctx.workflows.get(case.workflow_key, case.workflow_version))


def check_version(case: Case, expected: int) -> None:
    """412 unless the client read the version the case is at."""
    if case.version != expected:
        raise VersionMismatch(
            f"the case is at version {case.version}, not {expected}",
            {"current_version": case.version},
        )


def save(session: Session, case: Case, now: datetime) -> None:
    """Write the case as its next version; a concurrent writer makes this fail with 412."""
    case.version += 1
    case.updated_at = now
    case.refresh_search_text()
    try:
        session.flush()
    except StaleDataError:
        raise VersionMismatch("the case was changed by someone else; read it again") from None
