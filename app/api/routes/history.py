import uuid

from fastapi import APIRouter

from app import access
from app.api.deps import Context, CurrentActor, DbSession
from app.history import service
from app.history.schemas import (
    ActorRef,
    HistoryEntryOut,
    HistoryOut,
    UserRef,
    VerificationOut,
)

router = APIRouter(prefix="/api/v1/cases/{case_id}/history", tags=["history"])


@router.get("")
def read_history(
    case_id: uuid.UUID, session: DbSession, ctx: Context, actor: CurrentActor
) -> HistoryOut:
    """Every recorded step of the case, oldest first, with its hash chain.

    A consulted ministry does not see the other ministries' entries, nor their names."""
    record = access.load(session, ctx, actor, case_id)
    return HistoryOut(
        items=[
            HistoryEntryOut(
                seq=e.seq,
                action=e.action,
                from_state=e.from_state,
                to_state=e.to_state,
                actor=ActorRef(
                    org=e.actor_org,
                    role=e.actor_role,
                    user=UserRef(id=e.actor_user_id, name=e.actor_user_name or "")
                    if e.actor_user_id is not None
                    else None,
                ),
                at=e.at,
                comment=e.comment,
                reason=e.reason,
                fields=e.fields or {},
                prev_hash=e.prev_hash,
                hash=e.hash,
                redacted=e.redacted,
            )
            for e in service.for_reader(session, actor, record.workflow, case_id)
        ]
    )


@router.get("/verify")
def verify_history(
    case_id: uuid.UUID, session: DbSession, ctx: Context, actor: CurrentActor
) -> VerificationOut:
    """Recompute the case's hash chain, compare it with the head the case records, and report
    the first entry that does not verify (a changed, reordered or missing one, newest included)."""
    record = access.load(session, ctx, actor, case_id)
    result = service.verify(session, record.case)
    return VerificationOut(
        valid=result.valid, entries=result.entries, first_bad_seq=result.first_bad_seq
    )
