"""Documents that must be new, not merely on file.

A transition's `fresh_documents` must have been uploaded after the case last entered its
state, and after the transition last fired during this visit: a second site visit needs the
minutes of that visit, not the first one's. `fresh_documents_requested_by` names the action
(a supplement request) whose `supplement_documents` listed types that must have been uploaded
after it asked for them. What is not new enough is reported like a missing document, with a
message saying what it was uploaded before and when.
"""

from dataclasses import dataclass
from datetime import datetime

from app.admission.steps import Check
from app.cases.schemas import Missing
from app.documents.repository import DocumentRepository
from app.engine.definition import REQUESTED_DOCUMENTS_FIELD, TransitionSpec
from app.history.repository import HistoryRepository


@dataclass(frozen=True)
class Mark:
    """The moment documents must be newer than, and what happened then (for the message)."""

    at: datetime
    event: str


def stale(check: Check, spec: TransitionSpec) -> list[Missing]:
    """The fresh documents `spec` needs that are absent, or were uploaded before their mark."""
    wanted: list[tuple[str, Mark]] = []
    if spec.fresh_documents:
        mark = visit_mark(check, spec)
        wanted += [(doc, mark) for doc in spec.fresh_documents]
    if spec.fresh_documents_requested_by is not None:
        wanted += requested(check, spec.fresh_documents_requested_by)
    if not wanted:
        return []
    uploaded = DocumentRepository(check.session).current_uploaded_at(check.case.id)
    missing = []
    for doc, mark in wanted:
        at = uploaded.get(doc)
        if at is None:
            message = f"not uploaded since {mark.event}"
        elif at <= mark.at:
            message = f"uploaded {_shown(check, at)}, before {mark.event}: upload a new one"
        else:
            continue
        missing.append(Missing(kind="document", name=doc, message=message))
    return missing


def visit_mark(check: Check, spec: TransitionSpec) -> Mark:
    """When the case entered its state, or when `spec` last fired in this visit if later."""
    case = check.case
    entered = case.state_entered_at
    last = HistoryRepository(check.session).latest_of(case.id, spec.action)
    if last is not None and last.to_state == case.state and last.at >= entered:
        return Mark(last.at, f"the last {spec.action} ({_shown(check, last.at)})")
    return Mark(entered, f"the case entered {case.state} ({_shown(check, entered)})")


def requested(check: Check, action: str) -> list[tuple[str, Mark]]:
    """The types the `action` that brought the case into this state asked for, with its mark."""
    case = check.case
    entry = HistoryRepository(check.session).latest_of(case.id, action)
    if entry is None or entry.to_state != case.state or entry.at < case.state_entered_at:
        return []
    mark = Mark(entry.at, f"the {action} of {_shown(check, entry.at)} that asked for it")
    names = entry.fields.get(REQUESTED_DOCUMENTS_FIELD) or []
    return [(str(doc), mark) for doc in names]


def _shown(check: Check, moment: datetime) -> str:
    """A moment as the people of the service read it: local time, to the minute."""
    return moment.astimezone(check.ctx.zone).strftime("%Y-%m-%d %H:%M")
