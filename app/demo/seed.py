"""`admission seed --demo`: the demo Chain, loaded through the real services in one transaction.

Every dossier is created and moved by the organisation that would act, so its history, hash
chain, events, dossier code and consultations are the ones the service itself produces. The
application clock is set to each step's date while it is replayed, then given back.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app import access
from app.admission import lifecycle
from app.admission.steps import Check
from app.auth.actor import Actor
from app.auth.repository import OrganisationRepository
from app.auth.service import create_organisation, issue_token, set_province
from app.cases import service as cases
from app.cases.repository import CaseRepository
from app.consultations import service as consultations
from app.consultations.repository import ConsultationRepository
from app.consultations.schemas import AnswerRequest
from app.context import AppContext
from app.core.db import unit_of_work
from app.core.errors import Conflict
from app.demo.chain import (
    CASES,
    ORGANISATIONS,
    VIETNAM,
    Act,
    Answer,
    DaysAgo,
    DemoCase,
    File,
    Moment,
)
from app.demo.pdf import placeholder_pdf
from app.demo.people import DemoPerson, ensure_people
from app.documents import service as documents
from app.documents.repository import DocumentRepository

TOKEN_LABEL = "demo"


@dataclass
class ReplayClock:
    """Stands in for the wall clock while past steps are replayed at their own dates."""

    moment: datetime

    def __call__(self) -> datetime:
        return self.moment


@contextmanager
def replaying_clock(ctx: AppContext) -> Iterator[ReplayClock]:
    """Give `ctx` a clock the caller sets; the original one is back afterwards, whatever happens."""
    original = ctx.clock
    clock = ReplayClock(original())
    ctx.clock = clock
    try:
        yield clock
    finally:
        ctx.clock = original


def seed_demo(
    ctx: AppContext, people: list[tuple[DemoPerson, str]] | None = None
) -> list[tuple[str, str, str]]:
    """Load the demo Chain unless it is there already; return a fresh (slug, role, token) each.

    With `people`, the demo officials are made too (or given fresh one-time passwords), and
    each is added to it with their password."""
    today = ctx.today()
    with replaying_clock(ctx) as clock, unit_of_work(ctx.engine) as session:
        actors = ensure_organisations(session)
        player = Player(session, ctx, clock, actors, today)
        repo = CaseRepository(session)
        for demo in CASES:
            if demo.data.applicant_name not in repo.applicant_names(actors[demo.applicant].org_id):
                player.play(demo)
        if people is not None:
            people.extend(ensure_people(session))
        return [
            (org.slug, org.role.value, _issue(session, org.slug, org.role.value))
            for org in ORGANISATIONS
        ]


def _issue(session: Session, slug: str, role: str) -> str:
    """A new demo token for the organisation; only its clear text is returned."""
    _, clear = issue_token(session, org_slug=slug, role=role, label=TOKEN_LABEL)
    return clear


def ensure_organisations(session: Session) -> dict[str, Actor]:
    """Create the demo organisations that are missing; each one's actor in its demo role."""
    repo = OrganisationRepository(session)
    actors: dict[str, Actor] = {}
    for demo in ORGANISATIONS:
        org = repo.by_slug(demo.slug)
        if org is None:
            org = create_organisation(
                session,
                slug=demo.slug,
                name=demo.name,
                kind=demo.kind.value,
                province=demo.province,
            )
        elif org.kind != demo.kind.value:
            raise Conflict(
                f"organisation {demo.slug!r} exists as a {org.kind}, the demo needs a {demo.kind}"
            )
        elif demo.province and org.province is None:
            # Loaded before organisations kept their province.
            set_province(session, slug=demo.slug, province=demo.province)
        actors[demo.slug] = Actor(org_id=org.id, org_slug=org.slug, role=demo.role)
    return actors


class Player:
    """Replays demo dossiers step by step, each step done by its organisation at its date."""

    def __init__(
        self,
        session: Session,
        ctx: AppContext,
        clock: ReplayClock,
        actors: dict[str, Actor],
        today: date,
    ) -> None:
        self.session = session
        self.ctx = ctx
        self.clock = clock
        self.actors = actors
        self.today = today

    def play(self, demo: DemoCase) -> None:
        """Create the dossier as its applicant, then take each of its steps in order."""
        self.clock.moment = self.moment(demo.created)
        record = cases.create(self.session, self.ctx, self.actors[demo.applicant], demo.data)
        for step in demo.steps:
            self.clock.moment = self.moment(step.at)
            actor = self.actors[step.by]
            if isinstance(step, Act):
                self.act(record, actor, step)
            elif isinstance(step, Answer):
                self.answer(record, actor, step)
            else:
                self.file(record, actor, step)

    def moment(self, at: Moment) -> datetime:
        """The UTC instant a step's date stands for."""
        if isinstance(at, DaysAgo):
            day = self.today - timedelta(days=at.days)
            at = datetime.combine(day, time(at.hour), tzinfo=VIETNAM)
        return at.astimezone(UTC)

    def act(self, record: access.CaseRecord, actor: Actor, step: Act) -> None:
        """Fire the transition, first filing the actor's own documents that it still lacks."""
        for doc_type in self.lacking_documents(record, actor, step.request.action):
            self.put_document(record, actor, doc_type)
        # A step that does not fit the workflow fails here, with the service's own error.
        case = record.case
        lifecycle.fire(self.session, self.ctx, actor, case.id, case.version, step.request)

    def lacking_documents(self, record: access.CaseRecord, actor: Actor, action: str) -> list[str]:
        """Documents `action` needs that the case lacks (or holds only in a version that is not
        new enough) and that `actor` is the one to file."""
        spec = record.workflow.transition(record.case.state, action)
        if spec is None:
            return []
        present = DocumentRepository(self.session).current_types(record.case.id)
        types = record.workflow.definition.document_types
        check = Check(self.session, self.ctx, record.case)
        return [
            m.name
            for m in lifecycle.lacking(check, spec, present)
            if m.kind == "document" and actor.role in types[m.name].uploaded_by
        ]

    def answer(self, record: access.CaseRecord, actor: Actor, step: Answer) -> None:
        """File the ministry's opinion document, then answer its open consultation."""
        spec = record.workflow.definition.consultation
        self.put_document(record, actor, spec.opinion_document if spec else "ministry_opinion")
        consultation = ConsultationRepository(self.session).open_for(record.case.id, actor.org_id)
        if consultation is None:
            raise Conflict(f"{actor.org_slug} has no open consultation to answer")
        consultations.answer(
            self.session,
            self.ctx,
            actor,
            record.case.id,
            consultation.id,
            record.case.version,
            AnswerRequest(verdict=step.verdict, comment=step.comment),
        )

    def file(self, record: access.CaseRecord, actor: Actor, step: File) -> None:
        """File documents without acting on the case."""
        for doc_type in step.documents:
            self.put_document(record, actor, doc_type)

    def put_document(self, record: access.CaseRecord, actor: Actor, doc_type: str) -> None:
        """File a generated placeholder PDF titled with the document type's Vietnamese label."""
        label = record.workflow.definition.document_types[doc_type].label.vi
        content = placeholder_pdf(label, record.case.applicant_name, created=self.clock.moment)
        documents.store_generated(
            self.session, self.ctx, actor, record.case.id, doc_type, f"{doc_type}.pdf", content
        )
