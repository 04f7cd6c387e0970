"""Building the portal-status view of a case from its record, documents and history."""

import uuid
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app import access
from app.auth.actor import Actor
from app.auth.repository import OrganisationRepository
from app.context import AppContext
from app.documents.repository import DocumentRepository
from app.engine.roles import Role
from app.history import actions
from app.history import service as history_service
from app.history.service import Line
from app.portal.schemas import PortalDocument, PortalResult, PortalStatus, PortalSupplement

# The portal's end of the working day, for promised dates given as a day.
END_OF_DAY = time(17, 0)


def portal_time(value: datetime | date | str | None, zone: ZoneInfo) -> str | None:
    """`yyyyMMddHHmmss` in local time; a bare date is that day at the end of office hours."""
    if value is None:
        return None
    if isinstance(value, str):
        value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y%m%d%H%M%S")
    return datetime.combine(value, END_OF_DAY).strftime("%Y%m%d%H%M%S")


def build(session: Session, ctx: AppContext, actor: Actor, case_id: uuid.UUID) -> PortalStatus:
    record = access.load(session, ctx, actor, case_id)
    case, definition = record.case, record.workflow.definition
    state = definition.states[case.state]
    types = definition.document_types
    orgs = OrganisationRepository(session)
    applicant = orgs.by_id(case.applicant_org_id)
    # What the caller may read of the case: a consulted ministry's view leaves out the
    # other ministries and the documents not shared with it (app.access).
    history = history_service.for_reader(session, actor, record.workflow, case.id)
    visible = access.visible_documents(actor, ctx.workflows)
    documents = [
        doc
        for doc, _ in DocumentRepository(session).for_case(case.id, visible)
        if doc.superseded_at is None and doc.rejected_at is None and doc.doc_type in types
    ]

    def url(doc_id: uuid.UUID) -> str:
        return f"/api/v1/cases/{case.id}/documents/{doc_id}/content"

    submitted = [
        PortalDocument(
            document_id=doc.id,
            filename=doc.filename,
            doc_type=doc.doc_type,
            label=types[doc.doc_type].label.vi,
            sha256=doc.sha256,
            url=url(doc.id),
        )
        for doc in documents
        if doc.uploaded_by_role == Role.APPLICANT.value and not types[doc.doc_type].generated
    ]
    results = [
        PortalResult(
            document_id=doc.id,
            label=types[doc.doc_type].label.vi,
            doc_type=doc.doc_type,
            url=url(doc.id),
        )
        for doc in documents
        if types[doc.doc_type].result
    ]
    supplements = _supplements(history, lambda slug: _name(orgs, slug), types, ctx.zone)
    promised: Any = case.due_at
    if promised is None and case.clock_remaining_days is not None and supplements:
        # While the clock is stopped the last promise stands until the dossier comes back.
        promised = supplements[-1].old_promised
    else:
        promised = portal_time(promised, ctx.zone)
    return PortalStatus(
        case_id=case.id,
        dossier_code=case.code,
        status_code=state.portal_code,
        status_label=state.label.vi,
        procedure=definition.title.vi,
        applicant=applicant.name if applicant else record.applicant_slug,
        applicant_unit=case.applicant_name,
        province=case.province,
        receipt_date=portal_time(case.received_at, ctx.zone),
        promised_return_date=promised,
        handling_unit=_handling_unit(history, lambda slug: _name(orgs, slug)),
        submitted=submitted,
        supplements=supplements,
        results=results,
    )


def _name(orgs: OrganisationRepository, slug: str) -> str:
    org = orgs.by_slug(slug)
    return org.name if org else slug


def _handling_unit(history: list[Line], name: Any) -> str | None:
    """The agency that last moved the dossier (the one holding it); none before intake.

    Uploads and consultation answers are recorded too, but they do not hand the dossier on.
    """
    for entry in reversed(history):
        if entry.actor_role != Role.APPLICANT.value and entry.action not in actions.RECORDS:
            return str(name(entry.actor_org))
    return None


def _supplements(
    history: list[Line], name: Any, types: dict[str, Any], zone: ZoneInfo
) -> list[PortalSupplement]:
    """Each supplement request with the resubmission that answered it, and the promised dates
    before the clock stopped and after it started again."""
    found: list[PortalSupplement] = []
    pending: dict[str, Any] | None = None
    for entry in history:
        if entry.action == "request_supplement":
            clock = entry.fields.get("clock", {})
            pending = {
                "seq": entry.seq,
                "requested_by": name(entry.actor_org),
                "content": entry.reason or "",
                "documents": [
                    types[d].label.vi if d in types else d
                    for d in entry.fields.get("supplement_documents", [])
                ],
                "requested_at": portal_time(entry.at, zone),
                "resubmitted_at": None,
                "old_promised": portal_time(clock.get("due_at_before"), zone),
                "new_promised": None,
            }
            found.append(PortalSupplement(**pending))
        elif entry.action == "resubmit" and pending is not None:
            clock = entry.fields.get("clock", {})
            pending["resubmitted_at"] = portal_time(entry.at, zone)
            pending["new_promised"] = portal_time(clock.get("due_at"), zone)
            found[-1] = PortalSupplement(**pending)
            pending = None
    return found
