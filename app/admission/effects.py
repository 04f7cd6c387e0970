"""The effects a workflow file may name, each declared once with what it needs and hands on.

An effect runs after the transition's checks passed, inside the request's transaction, in the
order the workflow file lists it; what it returns goes into the transition's history entry.
"""

from typing import Any

from app.admission.steps import STEPS, Firing
from app.cases.repository import CaseRepository
from app.consultations import service as consultations
from app.deadlines import clock
from app.letters import service as letters

# Working days a consulted ministry has when the workflow file does not say (Decree 154/2013).
DEFAULT_CONSULTATION_DAYS = 10


@STEPS.effect("issue_dossier_code", provides=("code",))
def issue_dossier_code(f: Firing) -> dict[str, Any]:
    """The dossier code `<agency>-<yymmdd>-<daily number>`, never reused."""
    agency = f.ctx.settings.agency_code
    day = f.ctx.today().strftime("%y%m%d")
    number = CaseRepository(f.session).next_code_number(agency, day)
    f.case.code = f"{agency}-{day}-{number:04d}"
    return {"code": f.case.code}


@STEPS.effect("record_receipt", provides=("received_at",))
def record_receipt(f: Firing) -> dict[str, Any]:
    """The moment the dossier was received (the receipt's date)."""
    f.case.received_at = f.now
    return {"received_at": f.now.isoformat()}


@STEPS.effect(
    "open_consultations",
    fields=("ministries",),
    provides=("ministries", "consultation_due_at"),
)
def open_consultations(f: Firing) -> dict[str, Any]:
    """One consultation per ministry named in the request, each with its own due date (the
    request's working days or date for it, else the workflow file's working days).

    The case's own due date is kept no earlier than the last ministry's. Recorded: each
    ministry with its due date and working days, and the round's last due date."""
    spec = f.workflow.definition.consultation
    days = spec.deadline_working_days if spec else DEFAULT_CONSULTATION_DAYS
    today = f.ctx.today()
    planned = consultations.plan_round(
        f.session, f.actor, f.request.ministries or [], today, f.ctx.calendar, days
    )
    consultations.open_round(f.session, f.case.id, planned, f.now)
    last = max(p.due_at for p in planned)
    clock.reach(f.case, last)
    return {
        "ministries": [p.recorded() for p in planned],
        "consultation_due_at": last.isoformat(),
    }


@STEPS.effect("close_consultations", provides=("closed_consultations",))
def close_consultations(f: Firing) -> dict[str, Any]:
    """Close the open round, answered or not, recording every ministry with its outcome:
    answered (with its verdict), overdue without an answer, or closed before its due date
    without one."""
    closed = consultations.close_round(f.session, f.case.id, f.now, f.ctx.today())
    return {"closed_consultations": closed}


@STEPS.effect("pause_clock", provides=("clock",))
def pause_clock(f: Firing) -> dict[str, Any]:
    """Stop the clock while a supplement is outstanding, keeping the working days left."""
    return {"clock": clock.pause(f.case, f.clock_before, f.ctx.today(), f.ctx.calendar)}


@STEPS.effect("resume_clock", provides=("clock",))
def resume_clock(f: Firing) -> dict[str, Any]:
    """Start the stopped clock again with the working days it had left."""
    return {"clock": clock.resume(f.case, f.clock_before, f.ctx.today(), f.ctx.calendar)}


@STEPS.effect(
    "extend_deadline",
    fields=("new_due_date",),
    provides=("original_due_at", "extension_working_days", "calendar_warning"),
)
def extend_deadline(f: Firing) -> dict[str, Any]:
    """Move the state's due date later, once per state visit (the guard checks the once)."""
    assert f.request.new_due_date is not None  # a required field of the action
    return clock.extend(f.case, f.request.new_due_date, f.now, f.ctx.today(), f.ctx.calendar)


@STEPS.effect("issue_receipt", documents=(letters.RECEIPT,), provides=(letters.RECEIPT,))
def issue_receipt(f: Firing) -> dict[str, Any]:
    """The intake receipt with the promised date, filed with the case."""
    receipt = letters.issue_receipt(f.session, f.ctx, f.actor, f.case, f.workflow, f.now)
    return {letters.RECEIPT: receipt}


@STEPS.effect(
    "issue_supplement_notice",
    fields=("reason", "supplement_documents"),
    documents=(letters.SUPPLEMENT_NOTICE,),
    needs=("clock",),
    provides=(letters.SUPPLEMENT_NOTICE,),
)
def issue_supplement_notice(f: Firing) -> dict[str, Any]:
    """The notice listing what to supply or correct, why, and where the clock stopped."""
    notice = letters.issue_supplement_notice(
        f.session,
        f.ctx,
        f.actor,
        f.case,
        f.workflow,
        f.now,
        reason=f.request.reason or "",
        documents=f.request.supplement_documents or [],
        clock=f.handed_on["clock"],
    )
    return {letters.SUPPLEMENT_NOTICE: notice}
